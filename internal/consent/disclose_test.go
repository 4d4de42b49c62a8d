package consent_test

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/privacyportal/portal/internal/consent"
	"github.com/privacyportal/portal/internal/jobs"
	"github.com/privacyportal/portal/internal/web"
)

func (w *world) disclosures(t *testing.T, recipient string) []consent.Disclosure {
	t.Helper()
	var out []consent.Disclosure
	for k, b := range w.outbox.objects {
		if strings.HasPrefix(k, recipient+"/") {
			var d consent.Disclosure
			if err := json.Unmarshal(b, &d); err != nil {
				t.Fatal(err)
			}
			out = append(out, d)
		}
	}
	return out
}

func TestP04_TransferAbroadOnlyWithItsConsentAndDeIdentified(t *testing.T) {
	w := newWorld(t)
	d := w.worker.Discloser
	if err := d.Disclose(ctx, w.ada.Subject, "transfer.crossborder", "r0", w.now); !errors.Is(err, consent.ErrNoConsent) {
		t.Fatalf("a transfer without consent: %v, want refused", err)
	}
	if len(w.outbox.objects) != 0 || len(w.store.audit[w.ada.Subject]) != 0 {
		t.Fatal("a refused transfer wrote something")
	}
	// Granting it in the consent centre hands the transfer to the worker.
	if _, err := w.centre.Update(ctx, w.ada, consent.UpdateInput{Choices: map[string]bool{"transfer.crossborder": true}, Source: "form"}, web.Signals{}); err != nil {
		t.Fatal(err)
	}
	w.drain(t)
	got := w.disclosures(t, "global-support")
	if len(got) != 1 {
		t.Fatalf("%d transfers, want 1", len(got))
	}
	tr := got[0]
	body, _ := json.Marshal(tr)
	if tr.Subject != "" || tr.Pseudonym == "" || strings.Contains(string(body), string(w.ada.Subject)) ||
		strings.Contains(string(body), "ada@example.com") || strings.Contains(string(body), "Ada Lovelace") {
		t.Errorf("the transfer is not de-identified: %s", body)
	}
	if tr.Fields["locale"] != "en" || len(tr.Fields) != 3 || len(tr.Fields["createdAt"]) != len("2006-01") || len(tr.Disclosed) != len("2006-01-02") {
		t.Errorf("fields = %v, disclosed %q; want the catalogue's three, and no date finer than a day", tr.Fields, tr.Disclosed)
	}
	au := w.store.audit[w.ada.Subject]
	if len(au) != 1 || au[0].Action != consent.ActionDisclosed || au[0].Fields[0] != "recipient:global-support" {
		t.Errorf("audit = %+v, want the disclosure recorded", au)
	}
	// Withdrawn: what the recipient has not collected is taken back, and a disclosure job
	// still queued does nothing.
	if _, err := w.centre.Update(ctx, w.ada, consent.UpdateInput{Choices: map[string]bool{"transfer.crossborder": false}, Source: "form"}, web.Signals{}); err != nil {
		t.Fatal(err)
	}
	w.drain(t)
	if n := len(w.disclosures(t, "global-support")); n != 0 {
		t.Errorf("%d transfers still waiting for the recipient after the withdrawal", n)
	}
	if err := w.worker.Do(ctx, jobs.Job{Kind: consent.JobDisclose, Subject: w.ada.Subject, Purpose: "transfer.crossborder", Receipt: "late"}); err != nil {
		t.Fatal(err)
	}
	if len(w.disclosures(t, "global-support")) != 0 || len(w.store.audit[w.ada.Subject]) != 1 {
		t.Error("a transfer went out after the consent was withdrawn")
	}
}

func TestP10_SharingOnlyWithConsentAndEachDisclosureIsAudited(t *testing.T) {
	w := newWorld(t)
	if err := w.worker.Discloser.Disclose(ctx, w.ada.Subject, "share.support", "r0", w.now); !errors.Is(err, consent.ErrNoConsent) {
		t.Fatalf("sharing without consent: %v", err)
	}
	if _, err := w.centre.Update(ctx, w.ada, consent.UpdateInput{Choices: map[string]bool{"share.support": true}, Source: "form"}, web.Signals{}); err != nil {
		t.Fatal(err)
	}
	w.drain(t)
	got := w.disclosures(t, "support-affiliate")
	if len(got) != 1 || got[0].Subject != string(w.ada.Subject) || got[0].Fields["email"] != "ada@example.com" || got[0].Fields["name"] != "Ada Lovelace" {
		t.Fatalf("sharing = %+v", got)
	}
	if _, ok := got[0].Fields["createdAt"]; ok {
		t.Error("the affiliate got a field its purpose does not name")
	}
	if au := w.store.audit[w.ada.Subject]; len(au) != 1 || au[0].Action != consent.ActionDisclosed {
		t.Errorf("audit = %+v", au)
	}
	// A retried job (the same change) records once and writes the same object.
	ledger := w.store.ledgers[w.ada.Subject]
	ref := ledger[len(ledger)-1].ReceiptID
	if err := w.worker.Discloser.Disclose(ctx, w.ada.Subject, "share.support", ref, w.now); err != nil {
		t.Fatal(err)
	}
	if len(w.disclosures(t, "support-affiliate")) != 1 || len(w.store.audit[w.ada.Subject]) != 1 {
		t.Errorf("a retried disclosure: %d objects, %d audit entries; want 1 and 1", len(w.disclosures(t, "support-affiliate")), len(w.store.audit[w.ada.Subject]))
	}
	if err := w.worker.Discloser.Disclose(ctx, w.ada.Subject, "marketing", "r1", w.now); err == nil {
		t.Error("a purpose without a recipient was disclosed")
	}
}
