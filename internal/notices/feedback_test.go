package notices_test

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"

	"github.com/privacyportal/portal/internal/notices"
	"github.com/privacyportal/portal/internal/privacy"
)

// SES event documents (the configuration set's event destination, through SNS, raw).
const (
	permanentBounce = `{"eventType":"Bounce","bounce":{"bounceType":"Permanent","bounceSubType":"General",
		"bouncedRecipients":[{"emailAddress":" Gone.Reader@EXAMPLE.com ","action":"failed","status":"5.1.1"},{"emailAddress":"second@example.org"}],
		"timestamp":"2026-03-02T10:00:00.000Z","feedbackId":"01"},"mail":{"destination":["Gone.Reader@EXAMPLE.com"]}}`
	complaint = `{"eventType":"Complaint","complaint":{"complainedRecipients":[{"emailAddress":"angry@example.com"}],
		"timestamp":"2026-03-02T10:00:00.000Z","complaintFeedbackType":"abuse"},"mail":{"destination":["angry@example.com"]}}`
	oldBounce = `{"notificationType":"Bounce","bounce":{"bounceType":"Permanent",
		"bouncedRecipients":[{"emailAddress":"legacy@example.com"}],"timestamp":"2026-03-02T10:00:00.000Z"}}`
	transientBounce = `{"eventType":"Bounce","bounce":{"bounceType":"Transient","bounceSubType":"MailboxFull",
		"bouncedRecipients":[{"emailAddress":"full@example.com"}],"timestamp":"2026-03-02T10:00:00.000Z"}}`
	deliveryEvent = `{"eventType":"Delivery","delivery":{"recipients":["fine@example.com"],"timestamp":"2026-03-02T10:00:00.000Z"},
		"mail":{"destination":["fine@example.com"]}}`
)

// TestFeedback: a permanent bounce or a complaint suppresses the address (by the keyed look-up
// key of its normalized form, as accounts hold it); a transient bounce or another event does
// nothing; what is not an SES event is an error. No address is logged.
func TestFeedback(t *testing.T) {
	var logs bytes.Buffer
	prev := slog.Default()
	slog.SetDefault(slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug})))
	t.Cleanup(func() { slog.SetDefault(prev) })

	for _, tc := range []struct {
		name string
		body string
		want map[string]string // address → why
		err  bool
	}{
		{"permanent bounce", permanentBounce, map[string]string{"gone.reader@example.com": "bounce", "second@example.org": "bounce"}, false},
		{"complaint", complaint, map[string]string{"angry@example.com": "complaint"}, false},
		{"SNS notification", oldBounce, map[string]string{"legacy@example.com": "bounce"}, false},
		{"transient bounce", transientBounce, nil, false},
		{"delivery", deliveryEvent, nil, false},
		{"a bounce without its details", `{"eventType":"Bounce"}`, nil, false},
		{"garbage", `not json at all`, nil, true},
		{"a JSON array", `[1,2]`, nil, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st := newMemStore()
			f := &notices.Feedback{Keys: keys, Store: st}
			n, err := f.Take(ctx, tc.body)
			if tc.err != (err != nil) {
				t.Fatalf("Take: %v, want an error: %v", err, tc.err)
			}
			if n != len(tc.want) || len(st.suppressed) != len(tc.want) {
				t.Errorf("%d suppressed (%d stored), want %d", n, len(st.suppressed), len(tc.want))
			}
			for addr, why := range tc.want {
				if got := st.suppressed[keys.EmailKey(addr)]; got != why {
					t.Errorf("%s: suppressed for %q, want %q", addr, got, why)
				}
			}
		})
	}
	for _, addr := range []string{"gone.reader", "Gone.Reader", "second@", "angry@", "legacy@", "full@", "fine@"} {
		if strings.Contains(strings.ToLower(logs.String()), strings.ToLower(addr)) {
			t.Errorf("the log names an address (%s):\n%s", addr, logs.String())
		}
	}
	if !strings.Contains(logs.String(), "addresses suppressed") {
		t.Errorf("nothing logged of the suppressions:\n%s", logs.String())
	}
}

// TestFeedbackSuppressesLaterSends: after a bounce, the campaign mail to that address is not
// sent (the account's look-up key and the bounce's agree, whatever the address's case).
func TestFeedbackSuppressesLaterSends(t *testing.T) {
	st := newMemStore()
	addAccount(st, person{id: "gone", address: "Gone.Reader@example.com"})
	addAccount(st, person{id: "fine"})
	if _, err := (&notices.Feedback{Keys: keys, Store: st}).Take(ctx, permanentBounce); err != nil {
		t.Fatal(err)
	}
	m := newMemMail(t)
	sendAll(t, newSender(st, m), mustPlan(t, st, breachCampaign("c1", notices.Audience{All: true})))
	if got := m.byAddress(); len(got) != 1 || got["fine@example.com"] != 1 {
		t.Errorf("mailed %v, want only fine@example.com", got)
	}
	wantCounts(t, st, "c1", notices.Counts{Sent: 1, Suppressed: 1})
	if st.deliveryStates("c1")[privacy.SubjectID("gone")] != notices.DeliverySuppressed {
		t.Error("the bounced address's delivery is not suppressed")
	}
}
