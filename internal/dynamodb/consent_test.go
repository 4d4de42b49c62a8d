package dynamodb_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/privacyportal/portal/internal/consent"
	"github.com/privacyportal/portal/internal/privacy"
)

func TestP18_TheLedgerOnlyGrowsAndKeepsEverythingItWasGiven(t *testing.T) {
	ctx := context.Background()
	st := newStore()
	r := registration(uniqueName("ledger")+"@example.com", uniqueName("ledger"))
	mustRegister(t, st, r)
	id := r.Account.SubjectID
	ref := privacy.PolicyRef{Version: "1.1", SHA256: strings.Repeat("c", 64)}
	now := time.Now().UTC()
	g := privacy.Grant("marketing", privacy.SourceForm, ref, now)
	g.ReceiptID, g.Signals = "r1", []privacy.Source{privacy.SourceGPC}
	w := privacy.Withdraw("analytics", privacy.SourceForm, ref, now)
	w.ReceiptID = "r1"
	if err := st.AppendConsents(ctx, id, []privacy.ConsentEntry{g, w}); err != nil {
		t.Fatal(err)
	}
	acc := privacy.Accept(ref, privacy.SourcePolicy, now.Add(time.Second))
	if err := st.AppendConsents(ctx, id, []privacy.ConsentEntry{acc}); err != nil {
		t.Fatal(err)
	}
	ledger, err := st.Ledger(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if len(ledger) != 4 {
		t.Fatalf("ledger has %d entries, want the registration's and three more: %+v", len(ledger), ledger)
	}
	got := ledger[1]
	if got.Purpose != "marketing" || got.ActionOf() != privacy.ActionGrant || got.Policy != ref || got.Source != privacy.SourceForm ||
		got.ReceiptID != "r1" || len(got.Signals) != 1 || got.Signals[0] != privacy.SourceGPC || !got.At.Equal(now) {
		t.Errorf("entry read back as %+v", got)
	}
	if ledger[2].ActionOf() != privacy.ActionWithdraw || ledger[3].ActionOf() != privacy.ActionAccept || privacy.AcceptedPolicy(ledger) != "1.1" {
		t.Errorf("ledger = %+v", ledger)
	}

	// Nothing is added to an account being erased.
	if err := st.MarkErasing(ctx, id); err != nil {
		t.Fatal(err)
	}
	if err := st.AppendConsents(ctx, id, []privacy.ConsentEntry{g}); privacy.ErrorCode(err) != privacy.NotFound {
		t.Errorf("append to an account being erased: %v, want not found", err)
	}
}

func TestP19_AnUnsubscribeLinkWorksOnce(t *testing.T) {
	ctx := context.Background()
	st := newStore()
	r := registration(uniqueName("unsub")+"@example.com", uniqueName("unsub"))
	mustRegister(t, st, r)
	id := r.Account.SubjectID
	w := privacy.Withdraw("marketing", privacy.SourceUnsubscribe, privacy.PolicyRef{Version: "1.1"}, time.Now())
	if err := st.Unsubscribe(ctx, id, "campaign-1", w); err != nil {
		t.Fatal(err)
	}
	w.At = w.At.Add(time.Second)
	if err := st.Unsubscribe(ctx, id, "campaign-1", w); !errors.Is(err, privacy.ErrStale) {
		t.Errorf("the same link again: %v, want ErrStale", err)
	}
	if err := st.Unsubscribe(ctx, id, "campaign-2", w); err != nil {
		t.Errorf("another campaign's link: %v", err)
	}
	ledger, _ := st.Ledger(ctx, id)
	if n := len(ledger); n != 3 {
		t.Errorf("ledger has %d entries, want the registration's and two withdrawals", n)
	}
	if _, err := st.DeleteSubject(ctx, id); err != nil {
		t.Fatal(err)
	}
	if n := partitionSize(t, id); n != 0 {
		t.Errorf("%d items left after erasure (used links included)", n)
	}
}

func TestPageViewsAndCampaigns(t *testing.T) {
	ctx := context.Background()
	st := newStore()
	path := "/" + uniqueName("page") + "/"
	for range 3 {
		if err := st.CountPageView(ctx, "2026-11-30", path); err != nil {
			t.Fatal(err)
		}
	}
	if n, err := st.PageViews(ctx, "2026-11-30", path); err != nil || n != 3 {
		t.Errorf("views = %d, %v; want 3", n, err)
	}
	if n, _ := st.PageViews(ctx, "2026-12-01", path); n != 0 {
		t.Errorf("another day's views = %d", n)
	}
	c := consent.Campaign{ID: uniqueName("c"), Title: privacy.Text{"en": "News", "zh-CN": "新闻"}, Paragraphs: map[string][]string{"en": {"a", "b"}}}
	if err := st.PutMarketingContent(ctx, c.ID, c.Title, c.Paragraphs); err != nil {
		t.Fatal(err)
	}
	got, err := st.MarketingContent(ctx, c.ID)
	if err != nil || got.Title["zh-CN"] != "新闻" || len(got.Paragraphs["en"]) != 2 {
		t.Errorf("campaign = %+v, %v", got, err)
	}
	if _, err := st.MarketingContent(ctx, "nope"); privacy.ErrorCode(err) != privacy.NotFound {
		t.Errorf("no campaign: %v", err)
	}
}

// uniqueName is a name no other test or run uses.
func uniqueName(prefix string) string { return prefix + privacy.NewID()[:10] }
