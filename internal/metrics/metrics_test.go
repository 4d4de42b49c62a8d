package metrics

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"
)

// The line must be what CloudWatch extracts metrics from: a _aws member naming each metric,
// with its value and the dimension at the root.
func TestEmitWritesEmbeddedMetricFormat(t *testing.T) {
	var b bytes.Buffer
	at := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
	if err := Emit(&b, at, "requests", Count("OverdueRequests", 2), Metric{Name: "ExportBytes", Unit: "Bytes", Value: 512}); err != nil {
		t.Fatal(err)
	}
	var got struct {
		AWS struct {
			Timestamp         int64
			CloudWatchMetrics []struct {
				Namespace  string
				Dimensions [][]string
				Metrics    []struct{ Name, Unit string }
			}
		} `json:"_aws"`
		Feature         string
		OverdueRequests float64
		ExportBytes     float64
	}
	if err := json.Unmarshal(b.Bytes(), &got); err != nil {
		t.Fatalf("not one JSON line: %v: %s", err, b.String())
	}
	d := got.AWS.CloudWatchMetrics
	if got.AWS.Timestamp != at.UnixMilli() || len(d) != 1 || d[0].Namespace != Namespace || len(d[0].Dimensions) != 1 || d[0].Dimensions[0][0] != Dimension {
		t.Fatalf("metadata = %+v", got.AWS)
	}
	if len(d[0].Metrics) != 2 || d[0].Metrics[0].Name != "OverdueRequests" || d[0].Metrics[1].Unit != "Bytes" {
		t.Fatalf("metrics = %+v", d[0].Metrics)
	}
	if got.Feature != "requests" || got.OverdueRequests != 2 || got.ExportBytes != 512 {
		t.Fatalf("values = %+v", got)
	}
	if bytes.Count(b.Bytes(), []byte("\n")) != 1 {
		t.Fatalf("want one line, got %q", b.String())
	}
}
