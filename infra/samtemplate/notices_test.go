package samtemplate_test

import (
	"strings"
	"testing"
)

// TestP14_TheSenderIsOneAtATimeSoTheAccountKeepsItsRate: the campaign sender's pace is the
// account's only if one sender runs at a time (reserved concurrency 1: concurrency and pacing
// designed together), it is given SesSendRate, and each queue's visibility timeout outlasts six
// runs of its consumer, so a slow batch is not handed to a second run meanwhile.
func TestP14_TheSenderIsOneAtATimeSoTheAccountKeepsItsRate(t *testing.T) {
	st, n := mustLoad(t, map[string]string{"SesSendRate": "37"})
	sender := st.Properties("NoticeSenderFunction")
	if r := num(dig(sender, "ReservedConcurrentExecutions")); r != 1 {
		t.Errorf("NoticeSenderFunction ReservedConcurrentExecutions = %v, want 1", r)
	}
	for _, f := range st.Functions {
		if got := f.Env["SES_SEND_RATE"]; f.LogicalID == "NoticeSenderFunction" && got != "37" {
			t.Errorf("the sender's SES_SEND_RATE = %q, want the SesSendRate parameter", got)
		}
	}
	for fn, queue := range map[string]string{"NoticeSenderFunction": "NoticeQueue", "NoticePlannerFunction": "NoticePlanQueue"} {
		p := st.Properties(fn)
		found := false
		for _, ev := range dig(p, "Events").(map[string]any) {
			if str(dig(ev, "Properties", "Queue")) == n.arn(st, queue) {
				found = true
			}
		}
		if !found {
			t.Errorf("%s does not consume %s", fn, queue)
		}
		if v, timeout := num(dig(st.Properties(queue), "VisibilityTimeout")), num(dig(p, "Timeout")); v < 6*timeout {
			t.Errorf("%s visibility %v s, under six times %s's timeout (%v s)", queue, v, fn, timeout)
		}
	}
	// Bounces and complaints of both configuration sets reach the feedback topic.
	for _, id := range []string{"MailFeedbackEvents", "TrackedMailFeedbackEvents"} {
		d := dig(st.Properties(id), "EventDestination")
		types := strings.Join(strs(dig(d, "MatchingEventTypes")), ",")
		if !strings.Contains(types, "bounce") || !strings.Contains(types, "complaint") || str(dig(d, "SnsDestination", "TopicARN")) == "" {
			t.Errorf("%s = %v, want bounces and complaints to the feedback topic", id, d)
		}
	}
}
