package samtemplate_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/privacyportal/portal/internal/notices"
)

// TestP14_TheSendersShareTheAccountsRate: the campaign senders' pace is the account's only if
// the number of invocations running is fixed and known to each: the SQS event's
// MaximumConcurrency (what caps Lambda's pollers, which do not heed reserved concurrency), the
// reserved concurrency (so nothing else takes those slots, and no poller is throttled) and
// NOTICE_SENDERS are one number; the senders are given SesSendRate; an invocation's batches fit
// its timeout at the least rate; and each queue's visibility timeout outlasts six runs of its
// consumer, so a slow batch is not handed to a second run meanwhile.
func TestP14_TheSendersShareTheAccountsRate(t *testing.T) {
	st, n := mustLoad(t, map[string]string{"SesSendRate": "37"})
	sender := st.Properties("NoticeSenderFunction")
	reserved := num(dig(sender, "ReservedConcurrentExecutions"))
	batches := dig(sender, "Events", "Batches", "Properties")
	maxConc := num(dig(batches, "ScalingConfig", "MaximumConcurrency"))
	if maxConc < 2 || reserved != maxConc {
		t.Errorf("NoticeSenderFunction: ReservedConcurrentExecutions %v, MaximumConcurrency %v; want one number, at least 2", reserved, maxConc)
	}
	for _, f := range st.Functions {
		if f.LogicalID != "NoticeSenderFunction" {
			continue
		}
		if got := f.Env["SES_SEND_RATE"]; got != "37" {
			t.Errorf("the sender's SES_SEND_RATE = %q, want the SesSendRate parameter", got)
		}
		if got := f.Env["NOTICE_SENDERS"]; got != fmt.Sprint(maxConc) {
			t.Errorf("the sender's NOTICE_SENDERS = %q, want its MaximumConcurrency %v", got, maxConc)
		}
		if events := len(f.Events); events != 1 {
			t.Errorf("the sender has %d event sources, want one: their pollers would add up past its reserved concurrency", events)
		}
	}
	// At the least SesSendRate, an invocation's share sends a whole BatchSize of batches within
	// four fifths of its timeout.
	least := num(dig(st.Raw["Parameters"], "SesSendRate", "MinValue"))
	perInvocation := least / maxConc
	mails := num(dig(batches, "BatchSize")) * notices.BatchSize
	if took, timeout := mails/perInvocation, num(dig(sender, "Timeout")); took > 0.8*timeout {
		t.Errorf("%v mails at %v a second take %v s, past 4/5 of the sender's %v s timeout", mails, perInvocation, took, timeout)
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
