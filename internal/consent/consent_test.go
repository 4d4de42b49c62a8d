package consent_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/privacyportal/portal/internal/consent"
	"github.com/privacyportal/portal/internal/mail"
	"github.com/privacyportal/portal/internal/privacy"
	"github.com/privacyportal/portal/internal/web"
)

func purposeOf(v consent.View, id string) consent.PurposeView {
	for _, p := range v.Purposes {
		if p.ID == id {
			return p
		}
	}
	return consent.PurposeView{}
}

func TestP18_ChangesAreEntriesUnderOneReceiptThatIsMailed(t *testing.T) {
	w := newWorld(t)
	v, err := w.centre.Update(ctx, w.ada, consent.UpdateInput{Choices: map[string]bool{"marketing": true, "analytics": true, "ads": false}, Source: "form"}, web.Signals{})
	if err != nil {
		t.Fatal(err)
	}
	if v.Receipt == nil || !purposeOf(v, "marketing").Granted || !purposeOf(v, "analytics").Granted || purposeOf(v, "ads").Granted {
		t.Fatalf("view = %+v", v)
	}
	ledger := w.store.ledgers[w.ada.Subject]
	if len(ledger) != 3 { // the registration's acceptance and the two grants; "ads: false" changed nothing
		t.Fatalf("ledger = %+v, want two new entries", ledger)
	}
	for _, e := range ledger[1:] {
		if e.ReceiptID != v.Receipt.ID || e.Source != privacy.SourceForm || e.Policy.Version != "1.1" || e.Policy.SHA256 != inForce.SHA256["en"] {
			t.Errorf("entry %+v: want the receipt, the form and policy 1.1 with its hash", e)
		}
	}
	// The same choices again change nothing and make no receipt.
	again, err := w.centre.Update(ctx, w.ada, consent.UpdateInput{Choices: map[string]bool{"marketing": true}, Source: "form"}, web.Signals{})
	if err != nil || again.Receipt != nil || len(w.store.ledgers[w.ada.Subject]) != 3 {
		t.Errorf("unchanged choice: receipt %v, %d entries, %v", again.Receipt, len(w.store.ledgers[w.ada.Subject]), err)
	}
	// Withdrawal: a new entry; the grant stays in the history.
	v, err = w.centre.Update(ctx, w.ada, consent.UpdateInput{Choices: map[string]bool{"marketing": false}, Source: "form"}, web.Signals{})
	if err != nil || purposeOf(v, "marketing").Granted || len(v.Ledger) != 4 || v.Ledger[1].Action != "grant" || v.Ledger[3].Action != "withdraw" {
		t.Fatalf("after withdrawing: %+v, %v", v, err)
	}
	if len(v.Receipts) != 2 {
		t.Errorf("receipts = %+v, want two", v.Receipts)
	}

	w.drain(t)
	if len(w.box.sent) != 2 {
		t.Fatalf("%d receipts mailed, want 2", len(w.box.sent))
	}
	m := w.box.sent[0]
	if m.Kind != mail.ConsentReceipt || m.To != "ada@example.com" || m.Tracked || len(m.Data.Changes) != 2 {
		t.Errorf("receipt mail = %+v", m)
	}
	var r consent.Receipt
	if err := json.Unmarshal(m.Data.Receipt, &r); err != nil {
		t.Fatal(err)
	}
	if r.Version != "KI-CR-v1.1.0" || r.ConsentReceiptID != v.Receipts[0].ID || r.PIIPrincipalID != string(w.ada.Subject) ||
		r.PIIControllers[0].PIIController != "Example Co." || r.Jurisdiction != "eu-west-1" || r.CollectionMethod == "" ||
		!strings.HasSuffix(r.PolicyURL, "/policy/1.1/") || len(r.Services) != 1 || len(r.Services[0].Purposes) != 2 || !r.Services[0].Purposes[0].Granted {
		t.Errorf("receipt = %+v", r)
	}
}

func TestP18_InvalidChoicesWriteNothing(t *testing.T) {
	w := newWorld(t)
	for _, tc := range []struct {
		name  string
		in    consent.UpdateInput
		field string
	}{
		{"an unknown purpose", consent.UpdateInput{Choices: map[string]bool{"telepathy": true}, Source: "form"}, "choices"},
		{"the essential purpose", consent.UpdateInput{Choices: map[string]bool{"service": false}, Source: "form"}, "choices"},
		{"no choice", consent.UpdateInput{Source: "form"}, "choices"},
		{"an unknown source", consent.UpdateInput{Choices: map[string]bool{"marketing": true}, Source: "gpc"}, "source"},
		{"no source", consent.UpdateInput{Choices: map[string]bool{"marketing": true}}, "source"},
	} {
		_, err := w.centre.Update(ctx, w.ada, tc.in, web.Signals{})
		wantField(t, tc.name, err, tc.field)
	}
	if w.store.appends != 0 || len(w.jobs.jobs) != 0 {
		t.Errorf("%d writes and %d jobs after refused changes", w.store.appends, len(w.jobs.jobs))
	}
}

func TestP09_ASignalWithdrawsOnceAndALaterChoiceIsHonoured(t *testing.T) {
	w := newWorld(t)
	if _, err := w.centre.Update(ctx, w.ada, consent.UpdateInput{Choices: map[string]bool{"marketing": true, "analytics": true, "profile.mobile": true}, Source: "form"}, web.Signals{}); err != nil {
		t.Fatal(err)
	}
	gpc := web.Signals{GPC: true}
	v, err := w.centre.View(ctx, w.ada, gpc)
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"marketing", "analytics"} {
		if p := purposeOf(v, id); p.Granted || p.Signal != "gpc" {
			t.Errorf("%s with GPC on: %+v, want withdrawn by the signal", id, p)
		}
	}
	if !purposeOf(v, "profile.mobile").Granted {
		t.Error("GPC withdrew a profile field's consent")
	}
	if !v.Signals.GPC {
		t.Error("the view does not say the request carried GPC")
	}
	n := len(w.store.ledgers[w.ada.Subject])
	if _, err := w.centre.View(ctx, w.ada, gpc); err != nil || len(w.store.ledgers[w.ada.Subject]) != n {
		t.Error("the signal withdrew again")
	}
	v, err = w.centre.Update(ctx, w.ada, consent.UpdateInput{Choices: map[string]bool{"analytics": true}, Source: "form"}, gpc)
	if err != nil || !purposeOf(v, "analytics").Granted {
		t.Fatalf("explicit grant with GPC on: %+v, %v", purposeOf(v, "analytics"), err)
	}
	v, _ = w.centre.View(ctx, w.ada, gpc)
	if !purposeOf(v, "analytics").Granted {
		t.Error("an explicit choice made with GPC on was withdrawn again")
	}
}

func TestP25_AcceptingThePolicyInForce(t *testing.T) {
	w := newWorld(t)
	v, err := w.centre.View(ctx, w.ada, web.Signals{})
	if err != nil {
		t.Fatal(err)
	}
	if !v.Policy.MustAccept || v.Policy.Accepted != "1.0" || v.Policy.InForce != "1.1" {
		t.Fatalf("policy = %+v, want 1.1 to accept", v.Policy)
	}
	if !purposeOf(v, "ads").New || purposeOf(v, "marketing").New {
		t.Error("the purposes added in 1.1 must be new, the others not")
	}
	_, err = w.centre.AcceptPolicy(ctx, w.ada, consent.AcceptInput{Version: "1.0"}, web.Signals{})
	wantField(t, "an old version", err, "version")
	v, err = w.centre.AcceptPolicy(ctx, w.ada, consent.AcceptInput{Version: "1.1"}, web.Signals{})
	if err != nil || v.Policy.MustAccept || v.Policy.Accepted != "1.1" {
		t.Fatalf("after accepting: %+v, %v", v.Policy, err)
	}
	last := w.store.ledgers[w.ada.Subject][len(w.store.ledgers[w.ada.Subject])-1]
	if last.ActionOf() != privacy.ActionAccept || last.Policy.SHA256 != inForce.SHA256["en"] || last.Source != privacy.SourcePolicy {
		t.Errorf("acceptance = %+v", last)
	}
	n := len(w.store.ledgers[w.ada.Subject])
	if _, err := w.centre.AcceptPolicy(ctx, w.ada, consent.AcceptInput{Version: "1.1"}, web.Signals{}); err != nil || len(w.store.ledgers[w.ada.Subject]) != n {
		t.Error("accepting twice wrote twice")
	}
}

func TestReceiptsAreTheirOwnersOnly(t *testing.T) {
	w := newWorld(t)
	v, _ := w.centre.Update(ctx, w.ada, consent.UpdateInput{Choices: map[string]bool{"marketing": true}, Source: "form"}, web.Signals{})
	if r, err := w.centre.Receipt(ctx, w.ada, v.Receipt.ID); err != nil || r.ConsentReceiptID != v.Receipt.ID {
		t.Errorf("own receipt: %+v, %v", r, err)
	}
	eve := w.addAccount("eve@example.com", "en")
	if _, err := w.centre.Receipt(ctx, eve, v.Receipt.ID); privacy.ErrorCode(err) != privacy.NotFound {
		t.Errorf("another's receipt: %v, want not found", err)
	}
}

func TestP19_MarketingMailOnlyWithConsentAndAlwaysWithOneClickUnsubscribe(t *testing.T) {
	w := newWorld(t)
	w.store.campaigns["winter"] = consent.Campaign{ID: "winter", Title: privacy.Text{"en": "Winter news", "zh-CN": "冬季新闻"},
		Paragraphs: map[string][]string{"en": {"Hello."}, "zh-CN": {"你好。"}}}
	job := func(c web.Caller) {
		if err := w.worker.Do(ctx, jobsMarketing(c.Subject, "winter")); err != nil {
			t.Fatal(err)
		}
	}
	job(w.ada)
	if len(w.box.sent) != 0 {
		t.Fatal("marketing mail sent without the marketing consent")
	}
	if _, err := w.centre.Update(ctx, w.ada, consent.UpdateInput{Choices: map[string]bool{"marketing": true}, Source: "form"}, web.Signals{}); err != nil {
		t.Fatal(err)
	}
	w.jobs.jobs = nil
	job(w.ada)
	if len(w.box.sent) != 1 {
		t.Fatalf("%d mails with the consent, want 1", len(w.box.sent))
	}
	m := w.box.sent[0]
	if m.Kind != mail.Marketing || m.Tracked || !strings.Contains(m.Unsubscribe, "/api/unsubscribe?token=") || !strings.Contains(m.Data.UnsubscribeLink, "/unsubscribe/?token=") {
		t.Errorf("marketing mail = %+v", m)
	}

	// P08: tracked only with the e-mail tracking consent.
	if _, err := w.centre.Update(ctx, w.ada, consent.UpdateInput{Choices: map[string]bool{"email.analytics": true}, Source: "form"}, web.Signals{}); err != nil {
		t.Fatal(err)
	}
	job(w.ada)
	if !w.box.sent[1].Tracked {
		t.Error("P08: mail to a person who granted e-mail tracking is not tracked")
	}

	// The link unsubscribes once, without signing in; a forged or used one writes nothing.
	token := tokenOf(t, m.Unsubscribe)
	if err := w.unsub.Unsubscribe(ctx, token); err != nil {
		t.Fatal(err)
	}
	v, _ := w.centre.View(ctx, w.ada, web.Signals{})
	if p := purposeOf(v, "marketing"); p.Granted || p.Source != "unsubscribe" {
		t.Errorf("after unsubscribing: %+v", p)
	}
	n := w.store.appends
	wantField(t, "the link again", w.unsub.Unsubscribe(ctx, token), "token")
	forged := token[:len(token)-1] + map[bool]string{true: "0", false: "1"}[!strings.HasSuffix(token, "0")]
	wantField(t, "a forged link", w.unsub.Unsubscribe(ctx, forged), "token")
	eve := w.addAccount("eve@example.com", "en")
	other := strings.Replace(token, string(w.ada.Subject), string(eve.Subject), 1)
	wantField(t, "the link turned to another subject", w.unsub.Unsubscribe(ctx, other), "token")
	if w.store.appends != n {
		t.Error("a refused unsubscribe wrote something")
	}
	w.box.sent = nil
	job(w.ada)
	if len(w.box.sent) != 0 {
		t.Error("marketing mail after unsubscribing")
	}
}

func TestP06_PageViewsAreCountedOnlyWithTheAnalyticsConsent(t *testing.T) {
	w := newWorld(t)
	day := w.now.Format("2006-01-02")
	count := func(v consent.Visitor, sig web.Signals) int {
		t.Helper()
		before := w.store.views[day+"/policy/"]
		if _, err := w.counter.Count(ctx, consent.EventInput{Type: "pageview", Path: "/policy/"}, v, sig); err != nil {
			t.Fatal(err)
		}
		return w.store.views[day+"/policy/"] - before
	}
	anon := func(c ...string) consent.Visitor { return consent.Visitor{BannerCategories: c} }
	if count(anon("necessary"), web.Signals{}) != 0 || count(anon(), web.Signals{}) != 0 {
		t.Error("counted without the banner's analytics consent")
	}
	if count(anon("necessary", "analytics"), web.Signals{}) != 1 {
		t.Error("not counted with the banner's analytics consent")
	}
	if count(anon("analytics"), web.Signals{GPC: true}) != 0 || count(anon("analytics"), web.Signals{DNT: true}) != 0 {
		t.Error("P09: counted with GPC or DNT on")
	}
	signedIn := consent.Visitor{Caller: &w.ada, BannerCategories: []string{"analytics"}}
	if count(signedIn, web.Signals{}) != 0 {
		t.Error("a signed-in visitor without the analytics consent in the ledger was counted")
	}
	if _, err := w.centre.Update(ctx, w.ada, consent.UpdateInput{Choices: map[string]bool{"analytics": true}, Source: "banner"}, web.Signals{}); err != nil {
		t.Fatal(err)
	}
	if count(signedIn, web.Signals{}) != 1 {
		t.Error("a signed-in visitor with the analytics consent was not counted")
	}
	for _, in := range []consent.EventInput{{Type: "click", Path: "/"}, {Type: "pageview", Path: "policy"}, {Type: "pageview", Path: "/a?email=x"}, {Type: "pageview", Path: "/" + strings.Repeat("a", 300)}} {
		_, err := w.counter.Count(ctx, in, anon("analytics"), web.Signals{})
		if privacy.ErrorCode(err) != privacy.Invalid {
			t.Errorf("event %+v: err = %v, want 400", in, err)
		}
	}
}

func tokenOf(t *testing.T, u string) string {
	t.Helper()
	_, q, ok := strings.Cut(u, "token=")
	if !ok {
		t.Fatalf("no token in %q", u)
	}
	return q
}

func TestWorkerSkipsWhatNoLongerApplies(t *testing.T) {
	w := newWorld(t)
	gone := privacy.NewSubjectID()
	for _, j := range []string{"consent_receipt", "marketing"} {
		job := jobsMarketing(gone, "x")
		job.Kind = jobKind(j)
		if err := w.worker.Do(ctx, job); err != nil {
			t.Errorf("%s for no one: %v", j, err)
		}
	}
	a := w.store.accounts[w.ada.Subject]
	a.Status = privacy.StatusErasing
	w.store.accounts[w.ada.Subject] = a
	if err := w.worker.Do(ctx, jobsMarketing(w.ada.Subject, "x")); err != nil || len(w.box.sent) != 0 {
		t.Errorf("an account being erased got mail: %v", err)
	}
	if !w.worker.Handles("consent_receipt") || !w.worker.Handles("marketing") || w.worker.Handles("registered") {
		t.Error("the consent worker must handle its own jobs and no others")
	}
}

func TestP09_AnExplicitChoiceUnderASignalIsCountedAndOnlyTheSitesPagesAre(t *testing.T) {
	w := newWorld(t)
	day := w.now.Format("2006-01-02")
	count := func(path string, v consent.Visitor, sig web.Signals) int {
		t.Helper()
		before := w.store.views[day+path]
		if _, err := w.counter.Count(ctx, consent.EventInput{Type: "pageview", Path: path}, v, sig); err != nil {
			t.Fatal(err)
		}
		return w.store.views[day+path] - before
	}
	gpc := web.Signals{GPC: true}
	if count("/", consent.Visitor{BannerCategories: []string{"analytics"}, BannerSignal: "gpc"}, gpc) != 1 {
		t.Error("a banner choice made with GPC on was not honoured")
	}
	if count("/", consent.Visitor{BannerCategories: []string{"analytics"}, BannerSignal: "dnt"}, gpc) != 0 {
		t.Error("a choice made under DNT counted under GPC")
	}
	if _, err := w.centre.Update(ctx, w.ada, consent.UpdateInput{Choices: map[string]bool{"analytics": true}, Source: "banner"}, gpc); err != nil {
		t.Fatal(err)
	}
	if count("/", consent.Visitor{Caller: &w.ada}, gpc) != 1 {
		t.Error("a signed-in grant made with GPC on was not honoured")
	}
	w.counter.Pages = sitePages{"/": true, "/policy/": true}
	if count("/alice@example.com/", consent.Visitor{BannerCategories: []string{"analytics"}}, web.Signals{}) != 0 {
		t.Error("a path that is no page of the site was counted")
	}
	if count("/policy/", consent.Visitor{BannerCategories: []string{"analytics"}}, web.Signals{}) != 1 {
		t.Error("a page of the site was not counted")
	}
}

// sitePages is a fixed list of the site's pages.
type sitePages map[string]bool

func (p sitePages) Has(_ context.Context, path string) (bool, error) { return p[path], nil }

func TestP18_TheBannerDecidesOnlyAnalytics(t *testing.T) {
	w := newWorld(t)
	_, err := w.centre.Update(ctx, w.ada, consent.UpdateInput{Choices: map[string]bool{"marketing": true}, Source: "banner"}, web.Signals{})
	wantField(t, "marketing from the banner", err, "choices")
	if w.store.appends != 0 {
		t.Error("a refused banner choice was written")
	}
	// A refused change writes nothing, not even the withdrawals its signal would make.
	if _, err := w.centre.Update(ctx, w.ada, consent.UpdateInput{Choices: map[string]bool{"marketing": true}, Source: "form"}, web.Signals{}); err != nil {
		t.Fatal(err)
	}
	n := len(w.store.ledgers[w.ada.Subject])
	_, err = w.centre.Update(ctx, w.ada, consent.UpdateInput{Choices: map[string]bool{"nope": true}, Source: "form"}, web.Signals{GPC: true})
	wantField(t, "an unknown purpose with GPC on", err, "choices")
	if len(w.store.ledgers[w.ada.Subject]) != n {
		t.Error("a refused change with GPC on wrote the signal's withdrawals")
	}
}
