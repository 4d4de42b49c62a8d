package requests_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/privacyportal/portal/internal/jobs"
	"github.com/privacyportal/portal/internal/mail"
	"github.com/privacyportal/portal/internal/privacy"
	"github.com/privacyportal/portal/internal/requests"
)

func TestP23_CodeMailCarriesACodeThatVerifyAccepts(t *testing.T) {
	w := newWorld(t)
	id := w.file(t, requests.FileInput{Type: "correction", Email: "grace@example.com", Details: "Click https://evil.example to win", Locale: "zh-CN"})
	w.clock.Advance(time.Minute)
	w.drain(t)
	ms := w.box.to("grace@example.com", "")
	if len(ms) != 1 || ms[0].Kind != mail.RequestCode {
		t.Fatalf("mails %+v, want one request code", ms)
	}
	m := ms[0]
	if len(m.Data.Code) != 6 || strings.Trim(m.Data.Code, "0123456789") != "" {
		t.Errorf("code %q is not 6 digits", m.Data.Code)
	}
	if m.Locale != "zh-CN" || m.Data.RequestType != "correction" || m.Data.Minutes != 14 {
		t.Errorf("code mail %s, type %q, %d minutes; want zh-CN, correction, 14", m.Locale, m.Data.RequestType, m.Data.Minutes)
	}
	// The address has not asked for mail from whoever typed it: nothing they typed is in it.
	b, _ := json.Marshal(m)
	if strings.Contains(string(b), "evil.example") {
		t.Errorf("the code mail carries the requester's words: %s", b)
	}
	if v, ok := w.store.verification(w.stored(t, id).Subject); !ok || v.CodeHash == "" || strings.Contains(v.CodeHash, m.Data.Code) {
		t.Errorf("stored verification %+v, want the code's keyed hash", v)
	}
	if err := w.intake.Verify(ctx, id, requests.VerifyInput{Code: m.Data.Code}, clientIP); err != nil {
		t.Fatalf("verify with the mailed code: %v", err)
	}
}

func TestP23_RetriedCodeJobMailsACodeThatReplacesTheFirst(t *testing.T) {
	w := newWorld(t)
	id := w.file(t, requests.FileInput{Type: "access", Email: "grace@example.com"})
	job := w.jobs.take()[0]
	for range 2 {
		if err := w.worker.Do(ctx, job); err != nil {
			t.Fatal(err)
		}
	}
	ms := w.box.to("grace@example.com", mail.RequestCode)
	if len(ms) != 2 {
		t.Fatalf("%d code mails, want 2", len(ms))
	}
	first, second := ms[0].Data.Code, ms[1].Data.Code
	if first != second {
		wantField(t, "the replaced code", w.intake.Verify(ctx, id, requests.VerifyInput{Code: first}, clientIP), "code")
	}
	if err := w.intake.Verify(ctx, id, requests.VerifyInput{Code: second}, clientIP); err != nil {
		t.Errorf("the latest code: %v", err)
	}
	// Once proved, the job mails no more codes.
	if err := w.worker.Do(ctx, job); err != nil {
		t.Fatal(err)
	}
	if n := len(w.box.to("grace@example.com", mail.RequestCode)); n != 2 {
		t.Errorf("%d code mails after proof, want still 2", n)
	}
}

func TestP23_CodeJobAfterTheCodesLifeMailsNothing(t *testing.T) {
	w := newWorld(t)
	w.file(t, requests.FileInput{Type: "access", Email: "grace@example.com"})
	w.clock.Advance(w.env.Config.CodeTTL)
	w.drain(t)
	if n := w.box.count(); n != 0 {
		t.Errorf("%d mails for a request past its code's life", n)
	}
}

func TestP23_ReceiptCarriesAStatusLinkTheTrackerAccepts(t *testing.T) {
	for _, locale := range []string{"en", "zh-CN"} {
		t.Run(locale, func(t *testing.T) {
			w := newWorld(t)
			id, _ := w.proveVisitor(t, requests.FileInput{Type: "contact", Email: "grace@example.com", Details: "Hello", Locale: locale})
			ms := w.box.to("grace@example.com", mail.RequestReceipt)
			if len(ms) != 1 {
				t.Fatalf("%d receipts, want 1", len(ms))
			}
			d := ms[0].Data
			r := w.stored(t, id)
			if d.RequestID != id || d.RequestType != "contact" || !d.Due.Equal(r.Due) || !d.Received.Equal(r.Received) || d.Repeat || ms[0].Locale != locale {
				t.Errorf("receipt %+v", d)
			}
			page := "/requests/status/"
			if locale == "zh-CN" {
				page = "/zh/requests/status/"
			}
			if !strings.HasPrefix(d.Link, siteURL+page+"#") {
				t.Errorf("status link %q is not %s with its secret in the fragment", d.Link, page)
			}
			gotID, token := fragmentLink(t, d.Link, page)
			v, err := w.tracker.Status(ctx, gotID, token)
			if err != nil || v.ID != id || v.Status != "verified" || v.Type != "contact" || len(v.Steps) != 2 {
				t.Errorf("status: %+v, %v", v, err)
			}
		})
	}
}

func TestP21_ExportReadyMailsOnce(t *testing.T) {
	w := newWorld(t)
	e := w.readyExport(t, requests.FileInput{Type: "access"})
	s, rid := split(t, e.id)
	if err := w.worker.Do(ctx, jobs.Job{Kind: requests.JobExportReady, Subject: s, Request: rid}); err != nil {
		t.Fatal(err)
	}
	ms := w.box.ofKind(mail.ExportReady)
	if len(ms) != 1 {
		t.Fatalf("%d export mails, want 1", len(ms))
	}
	d := ms[0].Data
	if ms[0].To != "ada@example.com" || d.Name != "Ada Lovelace" || d.Days != 7 || !strings.Contains(d.RequestsLink, "type=access") {
		t.Errorf("export mail %+v", ms[0])
	}
	if n := len(w.box.ofKind(mail.ExportShareConfirm)); n != 0 {
		t.Errorf("%d share confirmations with no third party", n)
	}
	if !w.stored(t, e.id).Export.Mailed {
		t.Error("the export mail is not marked sent")
	}
}

func TestP21_ExportReadyWithAThirdPartyAsksTheRequesterToConfirm(t *testing.T) {
	w := newWorld(t)
	e := w.readyExport(t, requests.FileInput{Type: "copy", Password: goodPassword, ThirdParty: "bank@example.org"})
	ms := w.box.ofKind(mail.ExportShareConfirm)
	if len(ms) != 1 || ms[0].To != "ada@example.com" || ms[0].Data.ThirdParty != "bank@example.org" {
		t.Fatalf("share confirmations %+v", ms)
	}
	if n := len(w.box.to("bank@example.org", "")); n != 0 {
		t.Errorf("the third party was mailed %d times before the requester confirmed", n)
	}
	if err := w.exports.Share(ctx, e.id, requests.ShareInput{Token: e.share}); err != nil {
		t.Fatalf("share with the mailed link: %v", err)
	}
	w.drain(t)
	if n := len(w.box.to("bank@example.org", mail.ExportThirdParty)); n != 1 {
		t.Errorf("%d mails to the third party, want 1", n)
	}
}

// The export mail goes out once (P21): a job retried because the confirmation mail after it
// failed must not mail the download link a second time.
func TestP21_ExportReadyMailsOnceWhenTheConfirmationFails(t *testing.T) {
	w := newWorld(t)
	ada := w.addAccount(t, "ada@example.com", "Ada Lovelace", "en")
	w.fileSignedIn(t, ada, requests.FileInput{Type: "copy", Password: goodPassword, ThirdParty: "bank@example.org"})
	w.drain(t)
	w.runExports(t)
	job := w.jobs.take()[0]
	w.box.failKind, w.box.failures = mail.ExportShareConfirm, 1
	if err := w.worker.Do(ctx, job); err == nil {
		t.Fatal("a failed confirmation mail was not reported")
	}
	if err := w.worker.Do(ctx, job); err != nil { // the queue tries again
		t.Fatal(err)
	}
	if n := len(w.box.ofKind(mail.ExportShareConfirm)); n != 1 {
		t.Errorf("%d confirmations, want 1", n)
	}
	if n := len(w.box.ofKind(mail.ExportReady)); n != 1 {
		t.Errorf("%d export mails, want 1: the retry mailed the download link again", n)
	}
}

func TestP21_ShareMailsTheThirdPartyOnceAndOnlyWhenConfirmed(t *testing.T) {
	w := newWorld(t)
	e := w.readyExport(t, requests.FileInput{Type: "copy", Password: goodPassword, ThirdParty: "bank@example.org"})
	s, rid := split(t, e.id)
	job := jobs.Job{Kind: requests.JobShare, Subject: s, Request: rid}
	// A share job the requester never confirmed (a forged or stale message) mails nobody.
	if err := w.worker.Do(ctx, job); err != nil {
		t.Fatal(err)
	}
	if n := len(w.box.to("bank@example.org", "")); n != 0 {
		t.Fatalf("%d mails to an unconfirmed third party", n)
	}
	if err := w.exports.Share(ctx, e.id, requests.ShareInput{Token: e.share}); err != nil {
		t.Fatal(err)
	}
	w.jobs.take()
	for range 3 {
		if err := w.worker.Do(ctx, job); err != nil {
			t.Fatal(err)
		}
	}
	if n := len(w.box.to("bank@example.org", mail.ExportThirdParty)); n != 1 {
		t.Errorf("%d mails to the third party, want 1", n)
	}
}

func TestP21_ThirdPartyOfAVisitorKnowsWhoAsked(t *testing.T) {
	w := newWorld(t)
	id, _ := w.proveVisitor(t, requests.FileInput{Type: "copy", Email: "grace@example.com", ThirdParty: "bank@example.org"})
	w.runExports(t)
	w.drain(t)
	confirm := w.box.to("grace@example.com", mail.ExportShareConfirm)
	if len(confirm) != 1 {
		t.Fatalf("%d confirmations", len(confirm))
	}
	_, token := fragmentLink(t, confirm[0].Data.Link, "/requests/share/")
	if err := w.exports.Share(ctx, id, requests.ShareInput{Token: token}); err != nil {
		t.Fatal(err)
	}
	w.drain(t)
	ms := w.box.to("bank@example.org", mail.ExportThirdParty)
	if len(ms) != 1 || ms[0].Data.RequesterName != "grace@example.com" {
		t.Errorf("third-party mail %+v, want it to name the requester's address", ms)
	}
}

func TestWorkerDoesNothingForRequestsThatAreGoneOrMoved(t *testing.T) {
	w := newWorld(t)
	ada := w.addAccount(t, "ada@example.com", "Ada Lovelace", "en")
	gone := privacy.NewID()
	for _, k := range []jobs.Kind{requests.JobReceived, requests.JobVerified, requests.JobUpdated, requests.JobExportReady, requests.JobShare} {
		if !w.worker.Handles(k) {
			t.Errorf("the worker does not handle %s", k)
		}
		if err := w.worker.Do(ctx, jobs.Job{Kind: k, Subject: ada.Subject, Request: gone}); err != nil {
			t.Errorf("%s for a request that is gone: %v", k, err)
		}
		if err := w.worker.Do(ctx, jobs.Job{Kind: k}); err == nil {
			t.Errorf("%s naming no request was taken", k)
		}
	}
	if w.worker.Handles(requests.JobExport) || w.worker.Handles("verify_email") {
		t.Error("the mail worker claims jobs that are not its own")
	}
	// A proved request's code job, and an unproved request's receipt, mail nothing.
	proved := w.fileSignedIn(t, ada, requests.FileInput{Type: "contact", Details: "Hi"})
	unproved := w.file(t, requests.FileInput{Type: "contact", Email: "grace@example.com", Details: "Hi"})
	w.jobs.take()
	ps, pr := split(t, proved)
	us, ur := split(t, unproved)
	for _, j := range []jobs.Job{
		{Kind: requests.JobReceived, Subject: ps, Request: pr}, {Kind: requests.JobVerified, Subject: us, Request: ur},
		{Kind: requests.JobUpdated, Subject: ps, Request: pr}, {Kind: requests.JobExportReady, Subject: ps, Request: pr},
	} {
		if err := w.worker.Do(ctx, j); err != nil {
			t.Errorf("%s: %v", j.Kind, err)
		}
	}
	if n := w.box.count(); n != 0 {
		t.Errorf("%d mails for jobs whose request does not call for them", n)
	}
}
