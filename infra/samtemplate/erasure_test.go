package samtemplate_test

import (
	"os"
	"strings"
	"testing"

	"github.com/privacyportal/portal/internal/metrics"
)

// TestP17_ErasureRunsFromItsOwnQueueAndAlarms: the erasure worker takes one job at a time from
// its own queue, whose visibility timeout outlasts six of its runs (so a slow erasure is not
// handed to a second worker), and an erasure whose verification found data left, or a job
// dead-lettered, raises an alarm the operator sees on the dashboard too.
func TestP17_ErasureRunsFromItsOwnQueueAndAlarms(t *testing.T) {
	st, n := mustLoad(t, nil)
	fn := st.Properties("ErasureFunction")
	if fn == nil {
		t.Fatal("no ErasureFunction")
	}
	ev := dig(fn, "Events", "Jobs", "Properties")
	if got, want := str(dig(ev, "Queue")), n.arn(st, "ErasureQueue"); got != want {
		t.Errorf("ErasureFunction's queue = %q, want ErasureQueue (%q)", got, want)
	}
	if b := num(dig(ev, "BatchSize")); b != 1 {
		t.Errorf("BatchSize = %v, want 1 (one subject per invocation)", b)
	}
	if !strings.Contains(strings.Join(strs(dig(ev, "FunctionResponseTypes")), ","), "ReportBatchItemFailures") {
		t.Error("the erasure's event source does not report batch item failures")
	}
	timeout, visibility := num(dig(fn, "Timeout")), num(dig(st.Properties("ErasureQueue"), "VisibilityTimeout"))
	if timeout < 60 || visibility < 6*timeout {
		t.Errorf("timeout %v s, queue visibility %v s: want at least a minute and six times that", timeout, visibility)
	}
	if got, want := str(dig(st.Properties("ErasureQueue"), "RedrivePolicy", "deadLetterTargetArn")), n.arn(st, "ErasureDeadLetterQueue"); got != want {
		t.Errorf("ErasureQueue redrives to %q, want ErasureDeadLetterQueue", got)
	}

	alarm := st.Properties("ErasureFailedAlarm")
	if str(dig(alarm, "Namespace")) != metrics.Namespace || str(dig(alarm, "MetricName")) != "ErasuresFailed" {
		t.Errorf("ErasureFailedAlarm watches %v %v, want %s ErasuresFailed", dig(alarm, "Namespace"), dig(alarm, "MetricName"), metrics.Namespace)
	}
	dims := list(dig(alarm, "Dimensions"))
	if len(dims) != 1 || str(dig(dims[0], "Name")) != metrics.Dimension || str(dig(dims[0], "Value")) != "erasure" {
		t.Errorf("ErasureFailedAlarm dimensions %v, want %s=erasure", dims, metrics.Dimension)
	}
	dlq := st.Properties("ErasureDeadLetterAlarm")
	if d := list(dig(dlq, "Dimensions")); len(d) != 1 || str(dig(d[0], "Value")) != n.Attr("ErasureDeadLetterQueue", "AWS::SQS::Queue", "QueueName") {
		t.Errorf("ErasureDeadLetterAlarm dimensions %v, want the erasure dead-letter queue's name", d)
	}
	// The worker emits what the alarm and the dashboard read.
	src, err := os.ReadFile("../../functions/erasure/main.go")
	if err != nil {
		t.Fatal(err)
	}
	body := str(dig(st.Properties("RequestsDashboard"), "DashboardBody"))
	for _, m := range []string{"ErasuresDone", "ErasuresFailed"} {
		if !strings.Contains(string(src), `"`+m+`"`) {
			t.Errorf("the erasure worker emits no %s", m)
		}
		if !strings.Contains(body, `"`+m+`"`) {
			t.Errorf("the dashboard does not show %s", m)
		}
	}
}
