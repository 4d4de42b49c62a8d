package requests_test

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/privacyportal/portal/internal/jobs"
	"github.com/privacyportal/portal/internal/privacy"
	"github.com/privacyportal/portal/internal/requests"
)

func (w *world) accountStatus(tb testing.TB, id privacy.SubjectID) privacy.AccountStatus {
	tb.Helper()
	w.store.mu.Lock()
	defer w.store.mu.Unlock()
	a, ok := w.store.accounts[id]
	if !ok {
		tb.Fatalf("no account %s", id)
	}
	return a.Status
}

// wantErasing checks that a request's erasure started: the request in progress, the account
// (if any) closed, and one erasure job for it on the erasure queue.
func (w *world) wantErasing(tb testing.TB, id string, account privacy.SubjectID) {
	tb.Helper()
	s, rid := split(tb, id)
	r := w.store.record(tb, s, rid)
	if r.Status != privacy.RequestInProgress || statuses(r.Steps)[len(r.Steps)-1] != privacy.RequestInProgress {
		tb.Errorf("request %s with steps %v, want in progress", r.Status, statuses(r.Steps))
	}
	if account != "" {
		if got := w.accountStatus(tb, account); got != privacy.StatusErasing {
			tb.Errorf("account %s, want %s", got, privacy.StatusErasing)
		}
	}
	if got := w.erase.take(); !sameJobs(got, []jobs.Job{{Kind: requests.JobErase, Subject: s, Request: rid, At: w.clock.Now()}}) {
		tb.Errorf("erasure jobs %+v, want one %s for %s", got, requests.JobErase, id)
	}
}

func TestP20_SignedInCancellationWithThePasswordClosesTheAccountAtOnce(t *testing.T) {
	w := newWorld(t)
	ada := w.addAccount(t, "ada@example.com", "Ada Lovelace", "en")
	got, err := w.intake.File(ctx, requests.FileInput{Type: "cancellation", Password: goodPassword}, &ada, clientIP)
	if err != nil {
		t.Fatal(err)
	}
	if got.Status != "erasing" {
		t.Errorf("filed %q, want %q", got.Status, requests.FiledErasing)
	}
	if s, _ := split(t, got.Request); s != ada.Subject {
		t.Errorf("filed as %s, want in the account's partition", got.Request)
	}
	w.wantErasing(t, got.Request, ada.Subject)
	if w.jobs.len()+w.work.len() != 0 {
		t.Errorf("queued %v %v, want no receipt and no export: the outcome mail comes after the erasure", w.jobs.kinds(), w.work.kinds())
	}
	r := w.stored(t, got.Request)
	if want := []privacy.RequestStatus{privacy.RequestReceived, privacy.RequestVerified, privacy.RequestInProgress}; !slices.Equal(statuses(r.Steps), want) {
		t.Errorf("steps %v, want %v", statuses(r.Steps), want)
	}
}

func TestP20_ErasureRequestWithTheWrongPasswordClosesNothing(t *testing.T) {
	for _, in := range []requests.FileInput{
		{Type: "cancellation", Password: "not my password at all"},
		{Type: "deletion", Ground: "left_service", Password: "not my password at all"},
	} {
		t.Run(in.Type, func(t *testing.T) {
			w := newWorld(t)
			ada := w.addAccount(t, "ada@example.com", "Ada Lovelace", "en")
			_, err := w.intake.File(ctx, in, &ada, clientIP)
			wantField(t, "wrong password", err, "password")
			if got := w.accountStatus(t, ada.Subject); got != privacy.StatusActive {
				t.Errorf("account %s, want still active", got)
			}
			if n := w.store.writes["CloseAccount"]; n != 0 {
				t.Errorf("%d account closings", n)
			}
			if n := len(w.store.all()); n != 0 {
				t.Errorf("%d requests stored", n)
			}
			if w.erase.len()+w.jobs.len() != 0 {
				t.Errorf("queued %v %v", w.erase.kinds(), w.jobs.kinds())
			}
		})
	}
}

func TestP17_DeletionErasesAtOnceOnlyOnGroundsThatNeedNoDecision(t *testing.T) {
	for _, g := range privacy.DeletionGrounds {
		t.Run(string(g), func(t *testing.T) {
			w := newWorld(t)
			ada := w.addAccount(t, "ada@example.com", "Ada Lovelace", "en")
			got, err := w.intake.File(ctx, requests.FileInput{Type: "deletion", Ground: string(g), Password: goodPassword}, &ada, clientIP)
			if err != nil {
				t.Fatal(err)
			}
			if g == privacy.GroundLeftService || g == privacy.GroundServiceEnded {
				if got.Status != requests.FiledErasing {
					t.Errorf("filed %q, want %q", got.Status, requests.FiledErasing)
				}
				w.wantErasing(t, got.Request, ada.Subject)
				return
			}
			// Any other ground waits for the operator's decision.
			if got.Status != "verified" {
				t.Errorf("filed %q, want verified", got.Status)
			}
			if r := w.stored(t, got.Request); r.Status != privacy.RequestVerified {
				t.Errorf("stored %s, want verified", r.Status)
			}
			if st := w.accountStatus(t, ada.Subject); st != privacy.StatusActive || w.erase.len() != 0 {
				t.Errorf("account %s, erasure jobs %v: want nothing erased before the decision", st, w.erase.kinds())
			}
			if got := w.jobs.kinds(); !slices.Equal(got, []jobs.Kind{requests.JobVerified}) {
				t.Errorf("mail jobs %v, want the receipt", got)
			}
			w.drain(t)

			w.clock.Advance(24 * time.Hour)
			v, err := w.operator.Erase(ctx, got.Request)
			if err != nil || v.Status != string(privacy.RequestInProgress) || v.ID != got.Request {
				t.Fatalf("operator erase: %+v, %v", v, err)
			}
			w.wantErasing(t, got.Request, ada.Subject)
		})
	}
}

func TestP17_OperatorEraseOfAStartedRequestFinishesWhatItBegan(t *testing.T) {
	w := newWorld(t)
	id := w.proved(t, requests.FileInput{Type: "deletion", Ground: "no_consent", Password: goodPassword})
	if _, err := w.operator.Start(ctx, id); err != nil {
		t.Fatal(err)
	}
	before := w.stored(t, id)
	v, err := w.operator.Erase(ctx, id)
	if err != nil || v.Status != string(privacy.RequestInProgress) {
		t.Fatalf("erase: %+v, %v", v, err)
	}
	if after := w.stored(t, id); after.Version != before.Version {
		t.Errorf("a started request was written again (v%d to v%d)", before.Version, after.Version)
	}
	s, _ := split(t, id)
	w.wantErasing(t, id, s)
}

func TestP17_OperatorEraseRefusesOtherRequests(t *testing.T) {
	tests := []struct {
		name string
		in   requests.FileInput
		code privacy.Code
		edit func(*world, string)
	}{
		{"access", requests.FileInput{Type: "access"}, privacy.Conflict, nil},
		{"copy", requests.FileInput{Type: "copy", Password: goodPassword}, privacy.Conflict, nil},
		{"correction", requests.FileInput{Type: "correction", Details: "My name is spelt Lovelace."}, privacy.Conflict, nil},
		{"contact", requests.FileInput{Type: "contact", Details: "Who is your officer?"}, privacy.Conflict, nil},
		{"a refused deletion", requests.FileInput{Type: "deletion", Ground: "no_consent", Password: goodPassword}, privacy.Conflict, func(w *world, id string) {
			if _, err := w.operator.Refuse(ctx, id, privacy.RefuseCriminal, "The police asked us to keep it."); err != nil {
				t.Fatal(err)
			}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w := newWorld(t)
			id := w.proved(t, tc.in)
			if tc.edit != nil {
				tc.edit(w, id)
			}
			w.drain(t)
			before := w.stored(t, id)
			_, err := w.operator.Erase(ctx, id)
			wantCode(t, "erase "+tc.name, err, tc.code, "")
			if after := w.stored(t, id); after.Version != before.Version || after.Status != before.Status {
				t.Errorf("a refused erasure changed the request: %s v%d", after.Status, after.Version)
			}
			if st := w.accountStatus(t, before.Subject); st != privacy.StatusActive || w.erase.len() != 0 {
				t.Errorf("account %s, erasure jobs %v", st, w.erase.kinds())
			}
		})
	}
	t.Run("unknown request", func(t *testing.T) {
		w := newWorld(t)
		_, err := w.operator.Erase(ctx, requests.ID(privacy.NewSubjectID(), privacy.NewID()))
		wantCode(t, "erase nothing", err, privacy.NotFound, "")
		_, err = w.operator.Erase(ctx, "nodot")
		wantField(t, "erase a malformed ID", err, "id")
	})
}

func TestP20_VisitorsProvedCancellationErasesTheAccountOfItsAddress(t *testing.T) {
	w := newWorld(t)
	ada := w.addAccount(t, "ada@example.com", "Ada Lovelace", "en")
	unproved := w.file(t, requests.FileInput{Type: "cancellation", Email: "Ada@Example.com"})
	w.drain(t)
	if err := w.intake.Verify(ctx, unproved, requests.VerifyInput{Code: w.lastCode(t, "ada@example.com")}, clientIP); err != nil {
		t.Fatalf("verify: %v", err)
	}
	_, rid := split(t, unproved)
	w.wantErasing(t, requests.ID(ada.Subject, rid), ada.Subject)
	if w.jobs.len() != 0 {
		t.Errorf("mail jobs %v, want none: the outcome mail comes after the erasure", w.jobs.kinds())
	}
}

func TestP17_VisitorsProvedDeletionWithoutAnAccountErasesItsOwnPartition(t *testing.T) {
	w := newWorld(t)
	unproved := w.file(t, requests.FileInput{Type: "deletion", Ground: "service_ended", Email: "grace@example.com"})
	w.drain(t)
	if err := w.intake.Verify(ctx, unproved, requests.VerifyInput{Code: w.lastCode(t, "grace@example.com")}, clientIP); err != nil {
		t.Fatalf("verify: %v", err)
	}
	w.wantErasing(t, unproved, "")
}

// statusLink is a request's status link's ID and token, as the mail worker makes it.
func (w *world) statusLink(tb testing.TB, id string) (string, string) {
	tb.Helper()
	r := w.stored(tb, id)
	return fragmentLink(tb, w.env.StatusLink(r.Request), "/requests/status/")
}

// eraseByHand does what the erasure worker does to the table: the subject's partition goes,
// and the request's tombstone stays.
func (w *world) eraseByHand(subject privacy.SubjectID, t privacy.Tombstone) {
	w.store.mu.Lock()
	defer w.store.mu.Unlock()
	delete(w.store.requests, subject)
	delete(w.store.accounts, subject)
	w.store.tombstones[t.Request] = t
}

func TestP20_StatusLinkAnswersFromTheTombstoneOnceTheRequestIsErased(t *testing.T) {
	w := newWorld(t)
	ada := w.addAccount(t, "ada@example.com", "Ada Lovelace", "en")
	filed, err := w.intake.File(ctx, requests.FileInput{Type: "cancellation", Password: goodPassword}, &ada, clientIP)
	if err != nil {
		t.Fatal(err)
	}
	id, token := w.statusLink(t, filed.Request)
	if id != filed.Request {
		t.Fatalf("status link for %s, want %s", id, filed.Request)
	}
	r := w.stored(t, id)
	v, err := w.tracker.Status(ctx, id, token)
	if err != nil || v.Status != string(privacy.RequestInProgress) || v.Erasure != nil {
		t.Fatalf("status before the erasure: %+v, %v", v, err)
	}

	started := w.clock.Now().Add(time.Minute)
	erased := started.Add(time.Minute)
	tomb := privacy.Tombstone{
		Request: r.ID, Type: r.Type, SubjectHash: w.env.Keys.Hash(privacy.DomainTombstone, string(ada.Subject)),
		Received: r.Received, Due: r.Due, Started: started, State: privacy.ErasureRunning,
		Items: map[string]int{"profile": 1, "request": 1, "consent": 3}, Objects: 2, Lookups: 2,
	}
	w.eraseByHand(ada.Subject, tomb)
	v, err = w.tracker.Status(ctx, id, token)
	if err != nil {
		t.Fatalf("status while erasing: %v", err)
	}
	if v.ID != id || v.Type != "cancellation" || v.Status != string(privacy.RequestInProgress) || v.Erasure == nil ||
		v.Erasure.State != string(privacy.ErasureRunning) || v.Erasure.ErasedAt != nil || v.Erasure.RecipientsTold == nil {
		t.Errorf("status while erasing: %+v (erasure %+v)", v, v.Erasure)
	}

	tomb.State, tomb.Erased, tomb.Verified, tomb.RecipientsTold = privacy.ErasureDone, erased, true, []string{"support-affiliate"}
	w.eraseByHand(ada.Subject, tomb)
	v, err = w.tracker.Status(ctx, id, token)
	if err != nil {
		t.Fatalf("status once erased: %v", err)
	}
	wantSteps := []requests.StepView{{Status: "received", At: r.Received}, {Status: "in_progress", At: started}, {Status: "completed", At: erased}}
	if !viewsEqual(v, requests.View{ID: id, Type: "cancellation", Status: "completed", Received: r.Received, Due: r.Due, Steps: wantSteps}) {
		t.Errorf("status once erased: %+v", v)
	}
	if e := v.Erasure; e == nil || e.State != "erased" || e.Items != 5 || e.Objects != 2 || !e.Verified ||
		!slices.Equal(e.RecipientsTold, []string{"support-affiliate"}) || e.ErasedAt == nil || !e.ErasedAt.Equal(erased) {
		t.Errorf("erasure view %+v", e)
	}

	// A tombstone that is another subject's answers as no request at all.
	tomb.SubjectHash = w.env.Keys.Hash(privacy.DomainTombstone, string(privacy.NewSubjectID()))
	w.eraseByHand(ada.Subject, tomb)
	_, err = w.tracker.Status(ctx, id, token)
	pe := wantCode(t, "status of another subject's tombstone", err, privacy.NotFound, "")
	_, err = w.tracker.Status(ctx, requests.ID(ada.Subject, privacy.NewID()), token)
	if unknown := wantCode(t, "status of nothing", err, privacy.NotFound, ""); pe.Error() != unknown.Error() {
		t.Errorf("answers differ: %v and %v", pe, unknown)
	}
}

func TestP17_OperatorEraseRetriedAfterAFailureFinishes(t *testing.T) {
	for _, step := range []string{"CloseAccount", "SaveRequest", "erase queue"} {
		t.Run(step, func(t *testing.T) {
			w := newWorld(t)
			id := w.proved(t, requests.FileInput{Type: "deletion", Ground: "no_consent", Password: goodPassword})
			if step == "erase queue" {
				w.erase.fail = errDisk
			} else {
				w.store.fail[step] = errDisk
			}
			if _, err := w.operator.Erase(ctx, id); !errors.Is(err, errDisk) {
				t.Fatalf("erase with %s failing: %v", step, err)
			}
			w.erase.fail = nil
			delete(w.store.fail, step)
			if w.erase.len() != 0 {
				t.Fatalf("a failed erase queued %v", w.erase.kinds())
			}
			if _, err := w.operator.Erase(ctx, id); err != nil {
				t.Fatalf("retry: %v", err)
			}
			s, _ := split(t, id)
			w.wantErasing(t, id, s)
		})
	}
}
