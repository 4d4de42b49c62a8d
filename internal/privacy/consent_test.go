package privacy_test

import (
	"strings"
	"testing"
	"time"

	"github.com/privacyportal/portal/internal/privacy"
)

var (
	t0   = time.Date(2026, 11, 1, 9, 0, 0, 0, time.UTC)
	v10  = privacy.PolicyRef{Version: "1.0", SHA256: strings.Repeat("a", 64)}
	v11  = privacy.PolicyRef{Version: "1.1", SHA256: strings.Repeat("b", 64)}
	gpc  = []privacy.Source{privacy.SourceGPC}
	both = []privacy.Source{privacy.SourceGPC, privacy.SourceDNT}
)

func at(h int) time.Time { return t0.Add(time.Duration(h) * time.Hour) }

func TestP06_OnlyGrantedPurposesAreAllowed(t *testing.T) {
	ledger := []privacy.ConsentEntry{
		privacy.Accept(v10, privacy.SourceRegistration, at(0)),
		privacy.Grant("marketing", privacy.SourceForm, v10, at(1)),
		privacy.Grant("analytics", privacy.SourceForm, v10, at(1)),
		privacy.Withdraw("analytics", privacy.SourceForm, v10, at(2)),
	}
	for purpose, want := range map[string]bool{
		"service": true, "marketing": true, "analytics": false, "email.analytics": false,
		"transfer.crossborder": false, "share.support": false, "no.such.purpose": false, privacy.PurposePolicy: false,
	} {
		if got := privacy.Allowed(ledger, purpose); got != want {
			t.Errorf("Allowed(%q) = %v, want %v", purpose, got, want)
		}
	}
	if privacy.Allowed(nil, "analytics") || !privacy.Allowed(nil, "service") {
		t.Error("an empty ledger must allow the essential purpose only")
	}
}

func TestP06_APurposeAddedLaterIsNewAndNotGranted(t *testing.T) {
	cat := privacy.Catalogue()
	ads, _ := cat.Purpose("ads")
	marketing, _ := cat.Purpose("marketing")
	if ads.Since != "1.1" {
		t.Fatalf("ads since %q; the test needs a purpose added in 1.1", ads.Since)
	}
	accepted10 := []privacy.ConsentEntry{privacy.Accept(v10, privacy.SourceRegistration, at(0))}
	if !privacy.IsNew(accepted10, ads) || privacy.IsNew(accepted10, marketing) {
		t.Error("for a person who accepted 1.0, a 1.1 purpose is new and a 1.0 one is not")
	}
	if privacy.ConsentState(accepted10)["ads"] {
		t.Error("a new purpose starts granted")
	}
	decided := append(accepted10, privacy.Withdraw("ads", privacy.SourceForm, v11, at(1)))
	if privacy.IsNew(decided, ads) {
		t.Error("a purpose the person decided on is not new any more")
	}
	accepted11 := append(accepted10, privacy.Accept(v11, privacy.SourcePolicy, at(2)))
	if privacy.IsNew(accepted11, ads) || privacy.AcceptedPolicy(accepted11) != "1.1" {
		t.Errorf("after accepting 1.1 (accepted %q), a 1.1 purpose is not new", privacy.AcceptedPolicy(accepted11))
	}
	// Ledgers from before acceptances were recorded: the first entry's version.
	old := []privacy.ConsentEntry{{Purpose: "profile.mobile", Granted: true, At: at(0), PolicyVersion: "1.0", Source: privacy.SourceRegistration}}
	if got := privacy.AcceptedPolicy(old); got != "1.0" {
		t.Errorf("AcceptedPolicy of an old ledger = %q", got)
	}
}

func TestP18_ChangesWriteOnlyWhatChangesAndRefuseWhatCannot(t *testing.T) {
	ledger := []privacy.ConsentEntry{privacy.Grant("marketing", privacy.SourceForm, v10, at(0))}
	got, err := privacy.Changes(ledger, map[string]bool{"marketing": true, "analytics": true, "ads": false}, privacy.SourceForm, gpc, v11, at(1))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].Purpose != "analytics" || got[0].ActionOf() != privacy.ActionGrant || got[0].Policy != v11 || len(got[0].Signals) != 1 {
		t.Errorf("changes = %+v, want only the analytics grant, under 1.1, with the GPC signal noted", got)
	}
	got, _ = privacy.Changes(ledger, map[string]bool{"marketing": false}, privacy.SourceForm, nil, v11, at(1))
	if len(got) != 1 || got[0].ActionOf() != privacy.ActionWithdraw {
		t.Errorf("changes = %+v, want the withdrawal", got)
	}
	for name, choices := range map[string]map[string]bool{
		"an unknown purpose":   {"telepathy": true},
		"the essential one":    {"service": false},
		"policy is not chosen": {privacy.PurposePolicy: true},
	} {
		if _, err := privacy.Changes(ledger, choices, privacy.SourceForm, nil, v11, at(1)); privacy.ErrorCode(err) != privacy.Invalid || !strings.Contains(err.Error(), "choices") {
			t.Errorf("%s: err = %v, want a 400 naming choices", name, err)
		}
	}
	// A withdrawal leaves history as it was (the grant is still there) and wins from now on.
	withdrawn := append(ledger, privacy.Withdraw("marketing", privacy.SourceForm, v11, at(2)))
	if privacy.ConsentState(withdrawn)["marketing"] || withdrawn[0].ActionOf() != privacy.ActionGrant {
		t.Error("a withdrawal must win without rewriting the grant")
	}
}

func TestP09_SignalsWithdrawOnceAndAnExplicitLaterChoiceIsHonoured(t *testing.T) {
	ledger := []privacy.ConsentEntry{
		privacy.Grant("analytics", privacy.SourceForm, v10, at(0)),
		privacy.Grant("marketing", privacy.SourceForm, v10, at(0)),
		privacy.Grant("email.analytics", privacy.SourceForm, v10, at(0)),
		privacy.Grant("profile.mobile", privacy.SourceRegistration, v10, at(0)),
		privacy.Grant("transfer.crossborder", privacy.SourceForm, v10, at(0)),
	}
	if got := privacy.SignalWithdrawals(ledger, nil, v11, at(1)); len(got) != 0 {
		t.Errorf("no signal withdrew %+v", got)
	}
	w := privacy.SignalWithdrawals(ledger, both, v11, at(1))
	var ids []string
	for _, e := range w {
		ids = append(ids, e.Purpose)
		if e.ActionOf() != privacy.ActionWithdraw || e.Source != privacy.SourceGPC || len(e.Signals) != 2 {
			t.Errorf("entry %+v, want a withdrawal by GPC noting both signals", e)
		}
	}
	if strings.Join(ids, ",") != "analytics,marketing,email.analytics" {
		t.Errorf("withdrawn %v, want analytics, marketing and tracking only (not profile fields or transfer)", ids)
	}
	ledger = append(ledger, w...)
	if got := privacy.SignalWithdrawals(ledger, gpc, v11, at(2)); len(got) != 0 {
		t.Errorf("the signal withdrew twice: %+v", got)
	}
	// The person turns analytics on again with GPC still on: honoured, not withdrawn again.
	again, err := privacy.Changes(ledger, map[string]bool{"analytics": true}, privacy.SourceForm, gpc, v11, at(3))
	if err != nil {
		t.Fatal(err)
	}
	ledger = append(ledger, again...)
	if got := privacy.SignalWithdrawals(ledger, gpc, v11, at(4)); len(got) != 0 || !privacy.Allowed(ledger, "analytics") {
		t.Errorf("an explicit choice made with GPC on was withdrawn again: %+v", got)
	}
	// A grant made without DNT is withdrawn when DNT appears.
	if got := privacy.SignalWithdrawals(ledger, []privacy.Source{privacy.SourceDNT}, v11, at(5)); len(got) != 1 || got[0].Source != privacy.SourceDNT {
		t.Errorf("DNT after a grant made with GPC only: %+v", got)
	}
}

func TestCompareVersions(t *testing.T) {
	for _, tc := range []struct {
		a, b string
		want int
	}{{"1.0", "1.1", -1}, {"1.10", "1.9", 1}, {"2.0", "1.99", 1}, {"1.1", "1.1", 0}, {"1", "1.0", -1}} {
		if got := privacy.CompareVersions(tc.a, tc.b); got != tc.want {
			t.Errorf("CompareVersions(%q, %q) = %d, want %d", tc.a, tc.b, got, tc.want)
		}
	}
}
