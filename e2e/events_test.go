package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/privacyportal/portal/infra/localcloud"
	"github.com/privacyportal/portal/infra/portaltest"
)

// TestEventsRoundTripAndInvoke is the golden test over events/: every sample event decodes
// into the aws-lambda-go type its function receives and encodes back without losing a field,
// names a function of the template, and the function built from this tree handles it.
// The same files work with `sam local invoke <Function> -e events/<Function>/<name>.json`.
func TestEventsRoundTripAndInvoke(t *testing.T) {
	cloud := portaltest.Cloud(t)
	files, err := filepath.Glob(filepath.Join(portaltest.Root(), "events", "*", "*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no sample events (%v)", err)
	}
	eventTypes := map[string]string{}
	for _, f := range cloud.Stack.Functions {
		for _, e := range f.Events {
			eventTypes[f.LogicalID] = e.Type
		}
	}
	for _, file := range files {
		fn := filepath.Base(filepath.Dir(file))
		t.Run(fn+"/"+filepath.Base(file), func(t *testing.T) {
			raw, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			var ev any
			switch eventTypes[fn] {
			case "Api":
				ev = &events.APIGatewayProxyRequest{}
			case "SQS":
				ev = &events.SQSEvent{}
			case "Schedule", "ScheduleV2":
				ev = &events.EventBridgeEvent{}
			case "":
				t.Fatalf("events/%s: no function %s with events in template.yaml", fn, fn)
			default:
				t.Fatalf("no event type for %s events", eventTypes[fn])
			}
			dec := json.NewDecoder(bytes.NewReader(raw))
			dec.DisallowUnknownFields()
			if err := dec.Decode(ev); err != nil {
				t.Fatalf("decode: %v", err)
			}
			again, err := json.Marshal(ev)
			if err != nil {
				t.Fatal(err)
			}
			var a, b any
			_ = json.Unmarshal(raw, &a)
			_ = json.Unmarshal(again, &b)
			if path, ok := kept(a, b, "$"); !ok {
				t.Errorf("round trip lost %s:\n was %s\n now %s", path, raw, again)
			}

			out, err := cloud.Invoke(context.Background(), fn, raw)
			// A function with reserved concurrency (the campaign sender) refuses an invoke
			// while its poller runs a batch, as Lambda does: try again.
			for try := 0; localcloud.IsThrottled(err) && try < 50; try++ {
				time.Sleep(200 * time.Millisecond)
				out, err = cloud.Invoke(context.Background(), fn, raw)
			}
			if err != nil {
				t.Fatalf("invoke %s: %v", fn, err)
			}
			if eventTypes[fn] == "Api" {
				var resp events.APIGatewayProxyResponse
				if err := json.Unmarshal(out, &resp); err != nil || resp.StatusCode == 0 || resp.StatusCode >= 500 {
					t.Errorf("response %s (%v)", out, err)
				}
			}
		})
	}
}

// kept reports whether every non-empty value of was survives in now (aws-lambda-go omits
// empty fields when it encodes), and where the first loss is.
func kept(was, now any, path string) (string, bool) {
	switch w := was.(type) {
	case map[string]any:
		n, _ := now.(map[string]any)
		for k, v := range w {
			if p, ok := kept(v, n[k], path+"."+k); !ok {
				return p, false
			}
		}
		return "", true
	case []any:
		n, _ := now.([]any)
		if len(n) != len(w) {
			return path, false
		}
		for i := range w {
			if p, ok := kept(w[i], n[i], path+"["+strconv.Itoa(i)+"]"); !ok {
				return p, false
			}
		}
		return "", true
	}
	if was == nil || was == "" || was == false {
		return "", true
	}
	return path, reflect.DeepEqual(was, now)
}
