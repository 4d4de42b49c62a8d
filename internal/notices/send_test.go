package notices_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/time/rate"

	"github.com/privacyportal/portal/internal/jobs"
	"github.com/privacyportal/portal/internal/mail"
	"github.com/privacyportal/portal/internal/notices"
	"github.com/privacyportal/portal/internal/privacy"
)

var (
	grantMarketing    = privacy.Grant("marketing", privacy.SourceForm, privacy.PolicyRef{Version: "1.1"}, t0.Add(-48*time.Hour))
	withdrawMarketing = privacy.Withdraw("marketing", privacy.SourceUnsubscribe, privacy.PolicyRef{Version: "1.1"}, t0.Add(-24*time.Hour))
)

func wantCounts(tb testing.TB, st *memStore, id string, want notices.Counts) {
	tb.Helper()
	got, _ := st.Counts(ctx, id)
	if got != want {
		tb.Errorf("counts %+v, want %+v", got, want)
	}
}

// TestP14_BreachNoticeInTheReadersLanguage: a breach notice goes to everyone affected,
// whatever their marketing choice, in their language, with the five parts and the contact.
func TestP14_BreachNoticeInTheReadersLanguage(t *testing.T) {
	st := newMemStore()
	addAccount(st, person{id: "en1", ledger: []privacy.ConsentEntry{grantMarketing, withdrawMarketing}})
	addAccount(st, person{id: "zh1", locale: privacy.LocaleChinese, ledger: []privacy.ConsentEntry{withdrawMarketing}})
	addAccount(st, person{id: "none"})
	c := breachCampaign("c1", notices.Audience{All: true})
	m := newMemMail(t)
	sendAll(t, newSender(st, m), mustPlan(t, st, c))

	got := map[string]sent{}
	for _, s := range m.all() {
		got[s.Message.To] = s
	}
	if len(got) != 3 || len(m.all()) != 3 {
		t.Fatalf("mailed %v, want each of 3 once", m.byAddress())
	}
	for _, tc := range []struct {
		to, locale string
	}{
		{"en1@example.com", privacy.LocaleEnglish},
		{"zh1@example.com", privacy.LocaleChinese},
		{"none@example.com", privacy.LocaleEnglish},
	} {
		s := got[tc.to]
		if s.Kind != mail.BreachNotice || s.Locale != tc.locale || s.Unsubscribe != "" {
			t.Errorf("%s: a %s mail in %s with unsubscribe %q; want a breach notice in %s, no unsubscribe", tc.to, s.Kind, s.Locale, s.Unsubscribe, tc.locale)
		}
		if want := c.Title[tc.locale]; s.Subject != want {
			t.Errorf("%s: subject %q, want %q", tc.to, s.Subject, want)
		}
		b := c.Breach
		for name, text := range map[string]privacy.Text{
			"incident": b.Incident, "impact": b.Impact, "measures": b.Measures, "self-help": b.SelfHelp, "remedies": b.Remedies,
		} {
			if !strings.Contains(s.Text, text[tc.locale]) || !strings.Contains(s.HTML, text[tc.locale]) {
				t.Errorf("%s: the mail lacks the %s in %s (%q)", tc.to, name, tc.locale, text[tc.locale])
			}
		}
		if !strings.Contains(s.Text, b.Contact) {
			t.Errorf("%s: the mail lacks the contact", tc.to)
		}
		// The kinds of data, named in the reader's language.
		for _, k := range notices.DataKindNames(b.DataKinds, tc.locale) {
			if !strings.Contains(s.Text, k) {
				t.Errorf("%s: the mail lacks the kind of data %q", tc.to, k)
			}
		}
	}
	if zh := got["zh1@example.com"]; strings.Contains(zh.Text, c.Breach.Incident[privacy.LocaleEnglish]) {
		t.Error("the Chinese reader's mail holds the English text")
	}
	wantCounts(t, st, "c1", notices.Counts{Sent: 3})
}

// TestP14_BreachNoticeLinksThePublicNotice: once the notice is on the site, the mail links it,
// in the reader's language.
func TestP14_BreachNoticeLinksThePublicNotice(t *testing.T) {
	st := newMemStore()
	addAccount(st, person{id: "zh1", locale: privacy.LocaleChinese})
	c := breachCampaign("c1", notices.Audience{All: true})
	c.Published = t0
	m := newMemMail(t)
	sendAll(t, newSender(st, m), mustPlan(t, st, c))
	mails := m.all()
	if len(mails) != 1 {
		t.Fatalf("%d mails", len(mails))
	}
	if want := "https://portal.example/zh/notices/?id=c1"; mails[0].Data.Link != want {
		t.Errorf("link %q, want %q", mails[0].Data.Link, want)
	}
}

// TestP25_PolicyUpdateMail: every active account is told of a new version, with its summary,
// its effective date and the link to what changed, in their language.
func TestP25_PolicyUpdateMail(t *testing.T) {
	st := newMemStore()
	addAccount(st, person{id: "en1"})
	addAccount(st, person{id: "zh1", locale: privacy.LocaleChinese})
	addAccount(st, person{id: "x-unverified", status: privacy.StatusUnverified})
	c := policyCampaign("p1")
	m := newMemMail(t)
	sendAll(t, newSender(st, m), mustPlan(t, st, c))
	mails := m.all()
	if len(mails) != 2 {
		t.Fatalf("mailed %v, want the two active accounts", m.byAddress())
	}
	for _, s := range mails {
		prefix := ""
		if s.Locale == privacy.LocaleChinese {
			prefix = "/zh"
		}
		p := s.Data.Policy
		diff := "https://portal.example" + prefix + "/policy/1.2/#version-diff"
		if s.Kind != mail.PolicyUpdate || p == nil || p.DiffLink != diff || !p.Effective.Equal(c.Policy.Effective) || p.Version != "1.2" {
			t.Fatalf("%s: %s mail with %+v; want a policy update linking %s", s.Message.To, s.Kind, p, diff)
		}
		if !strings.Contains(s.Text, diff) || !strings.Contains(s.Text, c.Policy.Summary[s.Locale]) {
			t.Errorf("%s: the mail lacks the diff link or the summary in %s", s.Message.To, s.Locale)
		}
		effective := map[string]string{privacy.LocaleEnglish: "15 March 2026", privacy.LocaleChinese: "2026年3月15日"}[s.Locale]
		if !strings.Contains(s.Subject, effective) || !strings.Contains(s.Text, effective) {
			t.Errorf("%s: subject %q or text lacks the effective date %s", s.Message.To, s.Subject, effective)
		}
	}
	wantCounts(t, st, "p1", notices.Counts{Sent: 2})
}

// TestP19_MarketingOnlyWithConsent: a marketing campaign reaches only those whose ledger
// grants marketing when it is sent, and each of its mails has one-click unsubscribe (P08).
func TestP19_MarketingOnlyWithConsent(t *testing.T) {
	st := newMemStore()
	addAccount(st, person{id: "granted", ledger: []privacy.ConsentEntry{grantMarketing}})
	addAccount(st, person{id: "withdrawn", ledger: []privacy.ConsentEntry{grantMarketing, withdrawMarketing}})
	addAccount(st, person{id: "never"})
	addAccount(st, person{id: "later", ledger: []privacy.ConsentEntry{grantMarketing}})
	batches := mustPlan(t, st, marketingCampaign("m1"))
	// Withdrawn after planning, before sending: the ledger at send time decides.
	st.mu.Lock()
	st.ledgers["later"] = append(st.ledgers["later"], withdrawMarketing)
	st.mu.Unlock()
	m := newMemMail(t)
	sendAll(t, newSender(st, m), batches)

	mails := m.all()
	if len(mails) != 1 || mails[0].Message.To != "granted@example.com" {
		t.Fatalf("mailed %v, want only granted@example.com", m.byAddress())
	}
	if h := mails[0].Headers; h["List-Unsubscribe-Post"] != "List-Unsubscribe=One-Click" || !strings.Contains(h["List-Unsubscribe"], "https://portal.example/api/unsubscribe?token=") {
		t.Errorf("no one-click unsubscribe: %v", h)
	}
	wantCounts(t, st, "m1", notices.Counts{Sent: 1, Skipped: 3})
	states := st.deliveryStates("m1")
	for _, id := range []privacy.SubjectID{"withdrawn", "never", "later"} {
		if states[id] != notices.DeliverySkipped {
			t.Errorf("%s: delivery %s, want skipped", id, states[id])
		}
	}
}

// TestSendOnce: a batch sent twice (a redelivery), or twice at once by one invocation (the
// same message twice in its event), mails each person once.
func TestSendOnce(t *testing.T) {
	for _, tc := range []struct {
		name string
		send func(t *testing.T, s *notices.Sender, batches []jobs.Job)
	}{
		{"twice in a row", func(t *testing.T, s *notices.Sender, batches []jobs.Job) {
			sendAll(t, s, batches)
			sendAll(t, s, batches)
		}},
		{"concurrently", func(t *testing.T, s *notices.Sender, batches []jobs.Job) {
			var wg sync.WaitGroup
			for range 4 {
				for _, j := range batches {
					wg.Go(func() {
						if err := s.SendBatch(ctx, j); err != nil {
							t.Error(err)
						}
					})
				}
			}
			wg.Wait()
		}},
		{"by the next invocation", func(t *testing.T, s *notices.Sender, batches []jobs.Job) {
			sendAll(t, s, batches)
			next := *s
			next.Owner = privacy.NewID()
			sendAll(t, &next, batches)
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st := newMemStore()
			ids := addAccounts(st, 3*notices.BatchSize+7)
			batches := mustPlan(t, st, breachCampaign("c1", notices.Audience{All: true}))
			m := newMemMail(t)
			tc.send(t, newSender(st, m), batches)
			got := m.byAddress()
			if len(got) != len(ids) || len(m.all()) != len(ids) {
				t.Errorf("%d mails to %d addresses, want %d, each once", len(m.all()), len(got), len(ids))
			}
			wantCounts(t, st, "c1", notices.Counts{Sent: len(ids)})
		})
	}
}

// TestSendAfterASenderDied: the deliveries a sender claimed and never ended (it died
// mid-batch) are not sent again by that sender, and are taken over by the next invocation
// (another owner), which mails them once; what the dead one ended is not sent again.
func TestSendAfterASenderDied(t *testing.T) {
	st := newMemStore()
	ids := addAccounts(st, notices.BatchSize)
	batches := mustPlan(t, st, breachCampaign("c1", notices.Audience{All: true}))
	m := newMemMail(t)
	dead := newSender(st, m)
	// The dead sender mailed the first twenty and had claimed the next ten when it died.
	sendAll(t, dead, []jobs.Job{{Kind: notices.JobBatch, Campaign: "c1", Subjects: ids[:20]}})
	for _, id := range ids[20:30] {
		if ok, _ := st.ClaimDelivery(ctx, "c1", id, dead.Owner); !ok {
			t.Fatal("claim")
		}
	}
	// Its own claims are its own: it does not claim them twice.
	if ok, _ := st.ClaimDelivery(ctx, "c1", ids[20], dead.Owner); ok {
		t.Fatal("a sender claimed its own delivery twice")
	}
	next := newSender(st, m)
	sendAll(t, next, batches)
	sendAll(t, next, batches)
	got := m.byAddress()
	for _, id := range ids {
		if got[string(id)+"@example.com"] != 1 {
			t.Errorf("%s got %d mails, want 1", id, got[string(id)+"@example.com"])
		}
	}
	wantCounts(t, st, "c1", notices.Counts{Sent: len(ids)})
}

// TestSendSkipsAndSuppresses: an account erased or no longer active since planning is
// skipped; an address that bounced or complained is not mailed (suppressed), breach notice
// or not; counts are exact.
func TestSendSkipsAndSuppresses(t *testing.T) {
	st := newMemStore()
	for _, id := range []privacy.SubjectID{"ok1", "ok2", "gone", "erasing", "closed", "bounced"} {
		addAccount(st, person{id: id})
	}
	batches := mustPlan(t, st, breachCampaign("c1", notices.Audience{All: true}))
	st.remove("gone")
	st.setStatus("erasing", privacy.StatusErasing)
	st.setStatus("closed", privacy.StatusUnverified)
	if err := st.Suppress(ctx, keys.EmailKey("Bounced@EXAMPLE.com"), "bounce", t0); err != nil {
		t.Fatal(err)
	}
	m := newMemMail(t)
	sendAll(t, newSender(st, m), batches)
	got := m.byAddress()
	if len(got) != 2 || got["ok1@example.com"] != 1 || got["ok2@example.com"] != 1 {
		t.Errorf("mailed %v, want ok1 and ok2", got)
	}
	wantCounts(t, st, "c1", notices.Counts{Sent: 2, Skipped: 3, Suppressed: 1})
	states := st.deliveryStates("c1")
	if states["bounced"] != notices.DeliverySuppressed || states["gone"] != notices.DeliverySkipped || states["closed"] != notices.DeliverySkipped {
		t.Errorf("states %v", states)
	}
	c := st.campaign(t, "c1")
	n, _ := st.Counts(ctx, "c1")
	if p := (notices.Progress{Campaign: c, Counts: n}); !p.Finished() || n.Done() != c.Planned {
		t.Errorf("not finished: planned %d, done %d", c.Planned, n.Done())
	}
}

// TestSendRetries: throttling and a connection error are retried within Patience; one that
// lasts longer gives the delivery back (pending again) and fails the batch, for the queue to
// bring back; a rejected message fails for good.
func TestSendRetries(t *testing.T) {
	for _, tc := range []struct {
		name     string
		fail     func(m *memMail)
		patience time.Duration
		sent     bool // the mail went in this try
	}{
		{"throttled twice", func(m *memMail) { m.failFirst, m.failErr = 2, errThrottled }, 2 * time.Second, true},
		{"no connection twice", func(m *memMail) { m.failFirst, m.failErr = 2, errConnection }, 2 * time.Second, true},
		{"throttled for 300ms", func(m *memMail) { m.failUntil, m.failErr = time.Now().Add(300*time.Millisecond), errThrottled }, 2 * time.Second, true},
		{"throttled longer than the patience", func(m *memMail) { m.failFirst, m.failErr = 1000, errThrottled }, 500 * time.Millisecond, false},
		{"no connection longer than the patience", func(m *memMail) { m.failUntil, m.failErr = time.Now().Add(time.Hour), errConnection }, 300 * time.Millisecond, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st := newMemStore()
			ids := addAccounts(st, 5)
			batches := mustPlan(t, st, breachCampaign("c1", notices.Audience{All: true}))
			m := newMemMail(t)
			tc.fail(m)
			s := newSender(st, m)
			s.Workers, s.Patience = 1, tc.patience
			err := s.SendBatch(ctx, batches[0])
			if tc.sent {
				if err != nil {
					t.Fatalf("SendBatch: %v", err)
				}
				wantCounts(t, st, "c1", notices.Counts{Sent: len(ids)})
				if len(m.all()) != len(ids) {
					t.Errorf("%d mails, want %d", len(m.all()), len(ids))
				}
				return
			}
			if err == nil {
				t.Fatal("SendBatch succeeded, want an error for the queue to bring the batch back")
			}
			if strings.Contains(err.Error(), "@") {
				t.Errorf("the error names an address: %v", err)
			}
			wantCounts(t, st, "c1", notices.Counts{})
			for id, state := range st.deliveryStates("c1") {
				if state != notices.DeliveryPending {
					t.Errorf("%s: %s, want pending again", id, state)
				}
			}
			// Once SES is back, the batch brought back mails everyone, once.
			m.mu.Lock()
			m.failFirst, m.failUntil = 0, time.Time{}
			m.mu.Unlock()
			if err := s.SendBatch(ctx, batches[0]); err != nil {
				t.Fatal(err)
			}
			if len(m.all()) != len(ids) {
				t.Errorf("%d mails after the retry, want %d", len(m.all()), len(ids))
			}
			wantCounts(t, st, "c1", notices.Counts{Sent: len(ids)})
		})
	}
}

func TestSendRejectedFails(t *testing.T) {
	st := newMemStore()
	addAccounts(st, 4)
	batches := mustPlan(t, st, breachCampaign("c1", notices.Audience{All: true}))
	m := newMemMail(t)
	m.reject["s00002@example.com"] = true
	if err := newSender(st, m).SendBatch(ctx, batches[0]); err != nil {
		t.Fatalf("SendBatch: %v (a refused address is no reason to bring the batch back)", err)
	}
	if got := m.byAddress(); len(got) != 3 || got["s00002@example.com"] != 0 {
		t.Errorf("mailed %v", got)
	}
	if st.deliveryStates("c1")["s00002"] != notices.DeliveryFailed {
		t.Errorf("delivery %s, want failed", st.deliveryStates("c1")["s00002"])
	}
	wantCounts(t, st, "c1", notices.Counts{Sent: 3, Failed: 1})
	m.mu.Lock()
	calls := m.calls
	m.mu.Unlock()
	if calls != 4 {
		t.Errorf("%d sends, want 4: a rejected message is not retried", calls)
	}
}

func TestSendBatchRefusesOtherJobs(t *testing.T) {
	st := newMemStore()
	s := newSender(st, newMemMail(t))
	if err := s.SendBatch(ctx, jobs.Job{Kind: notices.JobPlan, Campaign: "c1"}); err == nil {
		t.Error("a plan job was taken for a batch")
	}
	if err := s.SendBatch(ctx, jobs.Job{Kind: notices.JobBatch}); err == nil {
		t.Error("a batch without a campaign was taken")
	}
	if err := s.SendBatch(ctx, jobs.Job{Kind: notices.JobBatch, Campaign: "nope", Subjects: []privacy.SubjectID{"a"}}); privacy.ErrorCode(err) != privacy.NotFound {
		t.Errorf("a batch of an unknown campaign: %v, want not found", err)
	}
}

// TestSendStoreErrorsGiveBack: a store that fails while a delivery is claimed gives it back.
func TestSendStoreErrorsGiveBack(t *testing.T) {
	st := newMemStore()
	addAccounts(st, 1)
	batches := mustPlan(t, st, marketingCampaign("m1"))
	m := newMemMail(t)
	s := newSender(st, m)
	s.Marketing = failingMarketing{}
	if err := s.SendBatch(ctx, batches[0]); !errors.Is(err, errInjected) {
		t.Fatalf("SendBatch = %v, want the marketing error", err)
	}
	if st.deliveryStates("m1")["s00000"] != notices.DeliveryPending {
		t.Errorf("delivery %s, want pending again", st.deliveryStates("m1")["s00000"])
	}
}

type failingMarketing struct{}

func (failingMarketing) MarketingMessage(_ context.Context, _ privacy.Account, _ []privacy.ConsentEntry, _ string) (mail.Message, bool, error) {
	return mail.Message{}, false, errInjected
}

// TestSendPacing: the sender keeps to its limiter's rate across its workers: 200 mails at
// 200/s with 8 workers take about a second, and no stretch of it goes faster than the rate.
//
// TIMING TEST: it measures wall time, with wide bounds (0.8 s to 2 s; over any half second at
// most the rate plus the burst and a mail per worker) so that a slow or busy machine does not
// make it flaky. Skipped with -short.
func TestSendPacing(t *testing.T) {
	if testing.Short() {
		t.Skip("timing test")
	}
	const perSecond, n = 200, 200
	st := newMemStore()
	addAccounts(st, n)
	batches := mustPlan(t, st, breachCampaign("c1", notices.Audience{All: true}))
	m := newMemMail(t)
	s := newSender(st, m)
	s.Limiter, s.Workers = rate.NewLimiter(perSecond, 1), 8
	start := time.Now()
	sendAll(t, s, batches)
	took := time.Since(start)
	mails := m.all()
	if len(mails) != n {
		t.Fatalf("%d mails, want %d", len(mails), n)
	}
	if took < 800*time.Millisecond || took > 2*time.Second {
		t.Errorf("%d mails at %d/s took %v, want about a second", n, perSecond, took)
	}
	// No half second holds more than the rate allows: its 100, the burst of one, and up to
	// one mail per worker that the scheduler let record its send late (bunched with the next),
	// and a few more for a busy machine.
	const window = 500 * time.Millisecond
	allowed := perSecond/2 + 1 + s.Workers + 4
	for i := range mails {
		j := i
		for j < len(mails) && mails[j].at.Sub(mails[i].at) < window {
			j++
		}
		if in := j - i; in > allowed {
			t.Fatalf("%d mails within %v from mail %d, want at most %d", in, window, i, allowed)
		}
	}
}

// TestSendNotAnsweredIsNeitherRetriedNorLost: a send SES does not answer (it may have taken
// the mail) is not tried again by the sender: the delivery stays claimed and the batch goes
// back. SES's Send event for it ends the delivery as sent, so the sender that takes the batch
// over sends it no second time; without that event it would send it (no one is skipped).
func TestSendNotAnsweredIsNeitherRetriedNorLost(t *testing.T) {
	for _, tc := range []struct {
		name      string
		sendEvent bool
		want      int // mails to the first recipient in the end
	}{
		{"SES took it and said so", true, 1},
		{"SES did not take it", false, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st := newMemStore()
			addAccounts(st, 3)
			batches := mustPlan(t, st, breachCampaign("c1", notices.Audience{All: true}))
			m := newMemMail(t)
			m.failFirst, m.failErr, m.tookAnyway = 1, errNoAnswer, tc.sendEvent
			s := newSender(st, m)
			s.Workers, s.Patience = 1, 2*time.Second
			if err := s.SendBatch(ctx, batches[0]); err == nil {
				t.Fatal("a send with no answer did not send the batch back")
			}
			if m.calls != 1 {
				t.Errorf("%d calls to SES, want 1: a call with no answer is not tried again", m.calls)
			}
			first := batches[0].Subjects[0]
			if got := st.deliveryStates("c1")[first]; got != notices.DeliverySending {
				t.Errorf("the unanswered delivery is %s, want still claimed (sending)", got)
			}
			if tc.sendEvent {
				event := fmt.Sprintf(`{"eventType":"Send","mail":{"messageId":"m1","tags":{"campaign":["c1"],"subject":[%q]}},"send":{}}`, first)
				if _, err := (&notices.Feedback{Keys: keys, Store: st}).Take(ctx, event); err != nil {
					t.Fatal(err)
				}
			}
			next := newSender(st, m)
			next.Owner, next.Workers = "the next run", 1
			if err := next.SendBatch(ctx, batches[0]); err != nil {
				t.Fatalf("the next sender: %v", err)
			}
			to := st.accounts[first].Profile.Email
			if n := m.byAddress()[to]; n != tc.want {
				t.Errorf("%d mails to the first recipient, want %d", n, tc.want)
			}
			wantCounts(t, st, "c1", notices.Counts{Sent: 3})
		})
	}
}
