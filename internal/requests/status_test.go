package requests_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/privacyportal/portal/internal/privacy"
	"github.com/privacyportal/portal/internal/requests"
)

func TestP23_StatusShowsTheRequestToItsLink(t *testing.T) {
	w := newWorld(t)
	id, token := w.proveVisitor(t, requests.FileInput{Type: "deletion", Email: "grace@example.com", Ground: "no_consent"})
	r := w.stored(t, id)
	v, err := w.tracker.Status(ctx, id, token)
	if err != nil {
		t.Fatal(err)
	}
	want := requests.View{
		ID: id, Type: "deletion", Status: "verified", Received: r.Received, Due: r.Due, Ground: "no_consent",
		Steps: []requests.StepView{{Status: "received", At: r.Steps[0].At}, {Status: "verified", At: r.Steps[1].At}},
	}
	if !viewsEqual(v, want) {
		t.Errorf("status %+v, want %+v", v, want)
	}
	if _, err := w.operator.Refuse(ctx, id, privacy.RefuseCriminal, "The police asked us to keep it."); err != nil {
		t.Fatal(err)
	}
	v, err = w.tracker.Status(ctx, id, token)
	if err != nil || v.Status != "refused" || v.Refusal == nil || v.Refusal.Ground != "criminal_proceedings" || len(v.Steps) != 3 {
		t.Errorf("status after refusal: %+v, %v", v, err)
	}
}

func viewsEqual(a, b requests.View) bool {
	return a.ID == b.ID && a.Type == b.Type && a.Status == b.Status && a.Received.Equal(b.Received) && a.Due.Equal(b.Due) &&
		a.Ground == b.Ground && a.Details == b.Details && a.Third == b.Third && a.Outcome == b.Outcome && a.Repeat == b.Repeat &&
		slices.EqualFunc(a.Steps, b.Steps, func(x, y requests.StepView) bool { return x.Status == y.Status && x.At.Equal(y.At) }) &&
		(a.Refusal == nil) == (b.Refusal == nil) && (a.Export == nil) == (b.Export == nil)
}

func TestP23_StatusRefusesOtherTokensBeforeReading(t *testing.T) {
	w := newWorld(t)
	e := w.readyExport(t, requests.FileInput{Type: "copy", Password: goodPassword, ThirdParty: "bank@example.org"})
	id, token := w.lastStatusLink(t, "ada@example.com")
	if id != e.id {
		t.Fatalf("receipt for %s, want %s", id, e.id)
	}
	other := w.fileSignedIn(t, e.caller, requests.FileInput{Type: "contact", Details: "Hi"})
	w.drain(t)
	otherID, otherToken := w.lastStatusLink(t, "ada@example.com")
	if otherID != other {
		t.Fatalf("receipt for %s, want %s", otherID, other)
	}
	_, rid := split(t, id)
	tests := []struct{ name, id, token string }{
		{"another request's token", id, otherToken},
		{"this token on another request", other, token},
		{"the export link's token", id, e.download},
		{"the share link's token", id, e.share},
		{"garbage", id, "garbage"},
		{"empty", id, ""},
		{"upper case", id, strings.ToUpper(token)},
		{"another subject", requests.ID(privacy.NewSubjectID(), rid), token},
		{"malformed id", "nodot", token},
		{"three parts", id + ".x", token},
	}
	var first error
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w.store.resetCounts()
			_, err := w.tracker.Status(ctx, tc.id, tc.token)
			wantCode(t, "status", err, privacy.NotFound, "")
			if first == nil {
				first = err
			} else if err.Error() != first.Error() {
				t.Errorf("answers differ: %v and %v", err, first)
			}
			if n := w.store.totalReads(); n != 0 {
				t.Errorf("a wrong token read the store %d times", n)
			}
		})
	}
	// A right token of a request that is gone (erased) is not found either, after the read.
	s, r := split(t, other)
	w.store.mu.Lock()
	w.store.requests[s] = slices.DeleteFunc(w.store.requests[s], func(x requests.Record) bool { return x.ID == r })
	w.store.mu.Unlock()
	_, err := w.tracker.Status(ctx, other, otherToken)
	if err == nil || err.Error() != first.Error() {
		t.Errorf("status of an erased request: %v, want %v", err, first)
	}
}

func TestP15_ListShowsTheSignedInPersonsRequestsNewestFirst(t *testing.T) {
	w := newWorld(t)
	ada := w.addAccount(t, "ada@example.com", "Ada Lovelace", "en")
	grace := w.addAccount(t, "grace@example.com", "Grace Hopper", "en")
	var ids []string
	for _, typ := range []string{"access", "correction", "contact"} {
		in := requests.FileInput{Type: typ}
		if typ != "access" {
			in.Details = "About " + typ
		}
		ids = append(ids, w.fileSignedIn(t, ada, in))
		w.clock.Advance(time.Hour)
	}
	w.fileSignedIn(t, grace, requests.FileInput{Type: "access"})
	w.runExports(t)
	vs, err := w.tracker.List(ctx, ada)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, v := range vs {
		got = append(got, v.ID)
	}
	want := slices.Clone(ids)
	slices.Reverse(want)
	if !slices.Equal(got, want) {
		t.Errorf("list %v, want newest first %v", got, want)
	}
	if access := vs[2]; access.Export == nil || !access.Export.Ready || access.Status != "completed" {
		t.Errorf("the access request shows %+v, want its archive ready", access)
	}
	if vs[0].Export != nil || vs[0].Details != "About contact" {
		t.Errorf("the contact request shows %+v", vs[0])
	}
	empty, err := w.tracker.List(ctx, w.addAccount(t, "alan@example.com", "Alan Turing", "en"))
	if err != nil || empty == nil || len(empty) != 0 {
		t.Errorf("list with no requests: %#v, %v; want an empty list", empty, err)
	}
}

func TestP23_UnprovedRequestPastItsCodeShowsAsExpired(t *testing.T) {
	w := newWorld(t)
	ada := w.addAccount(t, "ada@example.com", "Ada Lovelace", "en")
	now := w.clock.Now()
	// An unproved request can be in an account's partition only if one was put there: the
	// list still must not show it as waiting for an answer once its code is dead.
	w.store.put(requests.Record{Request: privacy.Request{ID: privacy.NewID(), Subject: ada.Subject, Type: privacy.RequestAccess,
		Status: privacy.RequestReceived, Email: "ada@example.com", Locale: "en", Received: now, Due: now.AddDate(0, 0, 30)}})
	vs, err := w.tracker.List(ctx, ada)
	if err != nil || len(vs) != 1 || vs[0].Status != "received" {
		t.Fatalf("list %+v, %v", vs, err)
	}
	w.clock.Advance(w.env.Config.CodeTTL + time.Second)
	vs, err = w.tracker.List(ctx, ada)
	if err != nil || len(vs) != 1 || vs[0].Status != "expired" {
		t.Errorf("list after the code's life %+v, %v; want expired", vs, err)
	}
}
