package localcloud_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/privacyportal/portal/infra/localcloud"
)

// echoFunction is added to a copy of template.yaml: a function with API, SQS and schedule
// events, and nothing else changed anywhere. Its policy allows the one call it makes. Its
// queue is its own: a queue of the template has its consumer there already (JobQueue's is
// ExportFunction), which would take the test's messages.
const echoFunction = `
  EchoQueue:
    Type: AWS::SQS::Queue
  EchoFunction:
    Type: AWS::Serverless::Function
    Metadata:
      BuildMethod: makefile
    Properties:
      CodeUri: .
      Policies:
        - Statement:
            - Effect: Allow
              Action: dynamodb:PutItem
              Resource: !GetAtt PortalTable.Arn
      Events:
        Post:
          Type: Api
          Properties: { RestApiId: !Ref Api, Path: /api/echo, Method: POST }
        Get:
          Type: Api
          Properties:
            RestApiId: !Ref Api
            Path: /api/echo/{id}
            Method: get
        Panic:
          Type: Api
          Properties: { RestApiId: !Ref Api, Path: /api/echo/panic, Method: GET }
        Slow:
          Type: Api
          Properties: { RestApiId: !Ref Api, Path: /api/echo/slow, Method: GET }
        Jobs:
          Type: SQS
          Properties:
            Queue: !GetAtt EchoQueue.Arn
            BatchSize: 5
            FunctionResponseTypes: [ReportBatchItemFailures]
        Nightly:
          Type: Schedule
          Properties: { Schedule: rate(1 day) }
`

func startEchoCloud(t *testing.T) *localcloud.Cloud {
	t.Helper()
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	tmpl, err := os.ReadFile(filepath.Join(root, "template.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	s := string(tmpl)
	i := strings.Index(s, "\nOutputs:")
	if i < 0 {
		t.Fatal("template.yaml has no Outputs section to insert before")
	}
	path := filepath.Join(t.TempDir(), "template.yaml")
	if err := os.WriteFile(path, []byte(s[:i]+echoFunction+s[i:]), 0o600); err != nil {
		t.Fatal(err)
	}
	logs, err := os.Create(filepath.Join(t.TempDir(), "cloud.log"))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	defer cancel()
	c, err := localcloud.Start(ctx, localcloud.Config{
		Root: root, Template: path, FunctionsDirs: []string{"functions", "internal/testfunctions"},
		Prefix: "lc", Instances: 2, Logs: logs, Version: "test",
	})
	if err != nil {
		t.Fatalf("start: %v", err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			b, _ := os.ReadFile(logs.Name())
			t.Logf("cloud log tail:\n%s", tailString(string(b), 3000))
		}
	})
	return c
}

// running reports whether pid is a live process (a zombie waiting for its reaper is not).
func running(pid int) bool {
	if syscall.Kill(pid, 0) != nil {
		return false
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	rest := string(b[strings.LastIndexByte(string(b), ')')+1:])
	f := strings.Fields(rest)
	return len(f) > 0 && f[0] != "Z"
}

func tailString(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}

type problem struct {
	Status int    `json:"status"`
	Title  string `json:"title"`
	Detail string `json:"detail"`
	Field  string `json:"field"`
}

func do(t *testing.T, method, url, contentType string, body io.Reader) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, url, body)
	if err != nil {
		t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, b
}

// TestAddedFunctionRunsEverywhere adds a function to the template and uses it through every
// path the local cloud offers: API routes, bad input, SQS, schedules; then stops the cloud
// and checks that no process it started is left.
func TestAddedFunctionRunsEverywhere(t *testing.T) {
	c := startEchoCloud(t)
	closed := false
	defer func() {
		if !closed {
			c.Close()
		}
	}()

	t.Run("api routes reach the function", func(t *testing.T) {
		resp, b := do(t, "POST", c.URL+"/api/echo", "application/json", strings.NewReader(`{"message":"hello"}`))
		if resp.StatusCode != 200 || !bytes.Contains(b, []byte(`"hello"`)) {
			t.Fatalf("POST /api/echo = %d %s", resp.StatusCode, b)
		}
		resp, b = do(t, "GET", c.URL+"/api/echo/abc123", "", nil)
		if resp.StatusCode != 200 || !bytes.Contains(b, []byte(`"abc123"`)) {
			t.Fatalf("GET /api/echo/abc123 = %d %s", resp.StatusCode, b)
		}
		if got := resp.Header.Get("Content-Security-Policy"); !strings.Contains(got, "frame-ancestors 'none'") {
			t.Errorf("CSP = %q, want the template's response headers policy", got)
		}
	})

	t.Run("bad input gets a 4xx problem document", func(t *testing.T) {
		huge := bytes.Repeat([]byte("a"), localcloud.MaxPayloadBytes+1)
		big := `{"message":"` + strings.Repeat("a", 70<<10) + `"}`
		tests := []struct {
			name, method, path, ctype, body string
			raw                             []byte
			status                          int
			field                           string
		}{
			{"unknown route", "GET", "/api/nothing-here", "", "", nil, 404, ""},
			{"wrong method", "DELETE", "/api/echo", "", "", nil, 404, ""},
			{"malformed JSON", "POST", "/api/echo", "application/json", `{"message":`, nil, 400, "body"},
			{"not an object", "POST", "/api/echo", "application/json", `["x"]`, nil, 400, "body"},
			{"wrong type", "POST", "/api/echo", "application/json", `{"message":3}`, nil, 400, "message"},
			{"unknown field", "POST", "/api/echo", "application/json", `{"message":"x","admin":true}`, nil, 400, "admin"},
			{"empty body", "POST", "/api/echo", "application/json", ``, nil, 400, "body"},
			{"not JSON content type", "POST", "/api/echo", "text/plain", `{"message":"x"}`, nil, 415, "Content-Type"},
			{"missing field", "POST", "/api/echo", "application/json", `{}`, nil, 400, "message"},
			{"body over the function's limit", "POST", "/api/echo", "application/json", big, nil, 413, ""},
			{"body over API Gateway's limit", "POST", "/api/echo", "application/json", "", huge, 413, ""},
			{"binary garbage", "POST", "/api/echo", "application/json", "", []byte{0xff, 0xfe, 0x00, 0x01}, 400, "body"},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				var body io.Reader = strings.NewReader(tc.body)
				if tc.raw != nil {
					body = bytes.NewReader(tc.raw)
				}
				resp, b := do(t, tc.method, c.URL+tc.path, tc.ctype, body)
				if resp.StatusCode != tc.status {
					t.Fatalf("status = %d, want %d (%s)", resp.StatusCode, tc.status, b)
				}
				if ct := resp.Header.Get("Content-Type"); ct != "application/problem+json" {
					t.Fatalf("Content-Type = %q, want application/problem+json", ct)
				}
				var p problem
				if err := json.Unmarshal(b, &p); err != nil || p.Status != tc.status || p.Title == "" {
					t.Fatalf("problem = %s (%v)", b, err)
				}
				if p.Field != tc.field {
					t.Errorf("field = %q, want %q (%s)", p.Field, tc.field, b)
				}
			})
		}
	})

	t.Run("a panicking handler answers 500 and the function keeps serving", func(t *testing.T) {
		resp, b := do(t, "GET", c.URL+"/api/echo/panic", "", nil)
		if resp.StatusCode != 500 || resp.Header.Get("Content-Type") != "application/problem+json" {
			t.Fatalf("GET /api/echo/panic = %d %s", resp.StatusCode, b)
		}
		if bytes.Contains(b, []byte("asked to panic")) {
			t.Errorf("the panic's message reached the user: %s", b)
		}
		resp, _ = do(t, "GET", c.URL+"/api/echo/after", "", nil)
		if resp.StatusCode != 200 {
			t.Fatalf("after the panic: %d", resp.StatusCode)
		}
	})

	t.Run("concurrent invokes queue for the instances instead of crashing RIE", func(t *testing.T) {
		var wg sync.WaitGroup
		codes := make(chan int, 16)
		for range 16 {
			wg.Go(func() {
				resp, err := http.Get(c.URL + "/api/echo/slow")
				if err != nil {
					codes <- -1
					return
				}
				resp.Body.Close()
				codes <- resp.StatusCode
			})
		}
		wg.Wait()
		close(codes)
		for code := range codes {
			if code != 200 {
				t.Errorf("a concurrent invoke got %d", code)
			}
		}
	})

	table := c.Names["PortalTable"]
	waitItem := func(t *testing.T, pk string) {
		t.Helper()
		deadline := time.Now().Add(20 * time.Second)
		for time.Now().Before(deadline) {
			out, err := c.DynamoDB.GetItem(context.Background(), &dynamodb.GetItemInput{
				TableName: &table,
				Key: map[string]types.AttributeValue{
					"PK": &types.AttributeValueMemberS{Value: pk}, "SK": &types.AttributeValueMemberS{Value: "ECHO"},
				},
			})
			if err != nil {
				t.Fatal(err)
			}
			if out.Item != nil {
				return
			}
			time.Sleep(100 * time.Millisecond)
		}
		t.Fatalf("no item %s: the function did not run", pk)
	}

	t.Run("SQS messages reach the function and failures stay queued", func(t *testing.T) {
		q := c.Names["EchoQueue"]
		for _, body := range []string{"alpha", "fail", "beta"} {
			if _, err := c.SQS.SendMessage(context.Background(), &sqs.SendMessageInput{QueueUrl: &q, MessageBody: aws.String(body)}); err != nil {
				t.Fatal(err)
			}
		}
		waitItem(t, "ECHO#SQS#alpha")
		waitItem(t, "ECHO#SQS#beta")
		// The poller deletes the messages that succeeded once the invoke has returned, a moment
		// after the function wrote its items: wait for that, then only the failure is left.
		var got string
		for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
			out, err := c.SQS.GetQueueAttributes(context.Background(), &sqs.GetQueueAttributesInput{
				QueueUrl: &q, AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameApproximateNumberOfMessagesNotVisible},
			})
			if err != nil {
				t.Fatal(err)
			}
			if got = out.Attributes["ApproximateNumberOfMessagesNotVisible"]; got == "1" {
				break
			}
		}
		if got != "1" {
			t.Errorf("messages in flight = %s, want 1 (the reported failure, kept for redelivery)", got)
		}
	})

	t.Run("scheduled functions fire on demand", func(t *testing.T) {
		if got := c.ScheduledFunctions()["EchoFunction"]; got != "rate(1 day)" {
			t.Errorf("schedule = %q", got)
		}
		resp, b := do(t, "POST", c.URL+"/_local/schedule/EchoFunction", "", nil)
		if resp.StatusCode != http.StatusNoContent {
			t.Fatalf("fire schedule = %d %s", resp.StatusCode, b)
		}
		waitItem(t, "ECHO#SCHEDULE")
		if err := c.FireSchedule(context.Background(), "StatusFunction"); err == nil {
			t.Error("firing a function without a schedule did not fail")
		}
	})

	t.Run("the echo function's policy grants nothing it did not use", func(t *testing.T) {
		if unused := c.UnusedGrants()["EchoFunction"]; len(unused) > 0 {
			t.Errorf("unused grants: %+v", unused)
		}
	})

	t.Run("close leaves no process behind", func(t *testing.T) {
		pids := c.PIDs()
		if len(pids) < 6 {
			t.Fatalf("only %d processes recorded", len(pids))
		}
		c.Close()
		closed = true
		time.Sleep(200 * time.Millisecond)
		for _, pid := range pids {
			if running(pid) {
				t.Errorf("process %d still running after Close", pid)
			}
		}
		if _, err := http.Get(c.URL + "/"); err == nil {
			t.Error("the gateway still answers after Close")
		}
	})
}
