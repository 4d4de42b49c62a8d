package requests_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/privacyportal/portal/internal/jobs"
	"github.com/privacyportal/portal/internal/mail"
	"github.com/privacyportal/portal/internal/privacy"
	"github.com/privacyportal/portal/internal/requests"
)

// proved files a proved request of ada's (a signed-in one) and returns its ID, with the jobs
// filing queued taken off the queues.
func (w *world) proved(tb testing.TB, in requests.FileInput) string {
	tb.Helper()
	c := w.addAccount(tb, "ada@example.com", "Ada Lovelace", "en")
	id := w.fileSignedIn(tb, c, in)
	w.drain(tb)
	w.work.take()
	return id
}

func TestP16_OperatorStepsAreKeptAndMailed(t *testing.T) {
	w := newWorld(t)
	id := w.proved(t, requests.FileInput{Type: "correction", Details: "My name is spelt Lovelace."})
	s, rid := split(t, id)

	w.clock.Advance(time.Hour)
	started := w.clock.Now()
	v, err := w.operator.Start(ctx, id)
	if err != nil || v.Status != "in_progress" {
		t.Fatalf("start: %+v, %v", v, err)
	}
	if got := w.jobs.kinds(); !slices.Equal(got, []jobs.Kind{requests.JobUpdated}) {
		t.Errorf("start queued %v, want %s", got, requests.JobUpdated)
	}
	w.drain(t)
	// Starting again changes nothing and tells nobody.
	if v, err := w.operator.Start(ctx, id); err != nil || v.Status != "in_progress" {
		t.Errorf("start again: %+v, %v", v, err)
	}
	if w.jobs.len() != 0 {
		t.Errorf("starting a started request queued %v", w.jobs.kinds())
	}

	w.clock.Advance(time.Hour)
	done := w.clock.Now()
	v, err = w.operator.Complete(ctx, id, "  We corrected the spelling of your name.  ")
	if err != nil || v.Status != "completed" || v.Outcome != "We corrected the spelling of your name." {
		t.Fatalf("complete: %+v, %v", v, err)
	}
	r := w.store.record(t, s, rid)
	wantSteps := []privacy.RequestStep{
		{Status: privacy.RequestReceived, At: started.Add(-time.Hour)}, {Status: privacy.RequestVerified, At: started.Add(-time.Hour)},
		{Status: privacy.RequestInProgress, At: started}, {Status: privacy.RequestCompleted, At: done},
	}
	if !slices.Equal(r.Steps, wantSteps) || r.Outcome != "We corrected the spelling of your name." {
		t.Errorf("stored steps %v outcome %q", r.Steps, r.Outcome)
	}
	w.drain(t)
	updates := w.box.to("ada@example.com", mail.RequestUpdate)
	if len(updates) != 2 {
		t.Fatalf("%d update mails, want 2", len(updates))
	}
	for i, want := range []string{"in_progress", "completed"} {
		d := updates[i].Data
		if d.Status != want || d.RequestID != id || d.RequestType != "correction" || d.Name != "Ada Lovelace" {
			t.Errorf("update %d: %+v", i, d)
		}
		if gotID, token := fragmentLink(t, d.Link, "/requests/status/"); gotID != id {
			t.Errorf("update %d links to %s", i, gotID)
		} else if _, err := w.tracker.Status(ctx, gotID, token); err != nil {
			t.Errorf("update %d status link: %v", i, err)
		}
	}
	if updates[1].Data.Outcome != "We corrected the spelling of your name." {
		t.Errorf("completion mail outcome %q", updates[1].Data.Outcome)
	}
}

func TestP23_CompleteNeedsAnOutcome(t *testing.T) {
	w := newWorld(t)
	id := w.proved(t, requests.FileInput{Type: "contact", Details: "Who is your officer?"})
	before := w.stored(t, id)
	_, err := w.operator.Complete(ctx, id, " \n ")
	wantField(t, "complete without outcome", err, "outcome")
	if after := w.stored(t, id); after.Version != before.Version || after.Status != privacy.RequestVerified {
		t.Errorf("a refused completion changed the request: %s v%d", after.Status, after.Version)
	}
	if w.jobs.len() != 0 {
		t.Errorf("a refused completion queued %v", w.jobs.kinds())
	}
}

func TestP23_CompleteLeavesExportsAndErasuresToTheirWorkers(t *testing.T) {
	for _, in := range []requests.FileInput{
		{Type: "access"}, {Type: "copy", Password: goodPassword},
		{Type: "deletion", Ground: "no_consent", Password: goodPassword}, {Type: "deletion", Ground: "unlawful_processing", Password: goodPassword},
	} {
		t.Run(in.Type+in.Ground, func(t *testing.T) {
			w := newWorld(t)
			id := w.proved(t, in)
			if _, err := w.operator.Start(ctx, id); err != nil {
				t.Fatal(err)
			}
			w.jobs.take()
			before := w.stored(t, id)
			_, err := w.operator.Complete(ctx, id, "Done by hand.")
			wantCode(t, "complete "+in.Type, err, privacy.Conflict, "")
			if after := w.stored(t, id); after.Version != before.Version || after.Status != privacy.RequestInProgress {
				t.Errorf("a refused completion changed the request: %s v%d", after.Status, after.Version)
			}
			if w.jobs.len() != 0 {
				t.Errorf("a refused completion queued %v", w.jobs.kinds())
			}
		})
	}
}

func TestP23_RefuseNamesAGroundAndAReason(t *testing.T) {
	for _, g := range privacy.RefusalGrounds {
		t.Run(string(g), func(t *testing.T) {
			w := newWorld(t)
			id := w.proved(t, requests.FileInput{Type: "correction", Details: "Change my name to Countess."})
			v, err := w.operator.Refuse(ctx, id, g, "  We explain why, plainly.  ")
			if err != nil || v.Status != "refused" || v.Refusal == nil || v.Refusal.Ground != string(g) || v.Refusal.Reason != "We explain why, plainly." {
				t.Fatalf("refuse: %+v, %v", v, err)
			}
			r := w.stored(t, id)
			if last := r.Steps[len(r.Steps)-1]; last.Status != privacy.RequestRefused || !last.At.Equal(w.clock.Now()) {
				t.Errorf("last step %+v", last)
			}
			w.drain(t)
			ms := w.box.to("ada@example.com", mail.RequestUpdate)
			if len(ms) != 1 {
				t.Fatalf("%d update mails, want 1", len(ms))
			}
			d := ms[0].Data
			if d.Status != "refused" || d.RefusalGround != string(g) || d.RefusalReason != "We explain why, plainly." ||
				!strings.HasPrefix(d.ComplaintLink, siteURL+"/requests/") || !strings.Contains(d.ComplaintLink, "type=complaint") {
				t.Errorf("refusal mail %+v", d)
			}
		})
	}
}

func TestP23_RefuseNeedsAValidGroundAndAReason(t *testing.T) {
	tests := []struct {
		name   string
		ground privacy.RefusalGround
		reason string
		field  string
	}{
		{"unknown ground", "we_are_busy", "Sorry.", "ground"},
		{"no ground", "", "Sorry.", "ground"},
		{"a deletion ground", privacy.RefusalGround(privacy.GroundNoConsent), "Sorry.", "ground"},
		{"no reason", privacy.RefuseRepeated, "  ", "reason"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w := newWorld(t)
			id := w.proved(t, requests.FileInput{Type: "access"})
			before := w.stored(t, id)
			_, err := w.operator.Refuse(ctx, id, tc.ground, tc.reason)
			wantField(t, "refuse", err, tc.field)
			if after := w.stored(t, id); after.Version != before.Version || after.Refusal != nil {
				t.Errorf("a refused refusal changed the request")
			}
			if w.jobs.len() != 0 {
				t.Errorf("queued %v", w.jobs.kinds())
			}
		})
	}
}

func TestP23_ClosedOrUnprovedRequestsDoNotMove(t *testing.T) {
	w := newWorld(t)
	ada := w.addAccount(t, "ada@example.com", "Ada Lovelace", "en")
	completed := w.fileSignedIn(t, ada, requests.FileInput{Type: "contact", Details: "Hello?"})
	if _, err := w.operator.Complete(ctx, completed, "Hello."); err != nil {
		t.Fatal(err)
	}
	refused := w.fileSignedIn(t, ada, requests.FileInput{Type: "contact", Details: "Hello again?"})
	if _, err := w.operator.Refuse(ctx, refused, privacy.RefuseAbuse, "You sent this a thousand times."); err != nil {
		t.Fatal(err)
	}
	unproved := w.file(t, requests.FileInput{Type: "correction", Email: "grace@example.com", Details: "Fix it."})
	w.jobs.take()
	w.work.take()
	moves := map[string]func(id string) error{
		"start":    func(id string) error { _, err := w.operator.Start(ctx, id); return err },
		"complete": func(id string) error { _, err := w.operator.Complete(ctx, id, "Done."); return err },
		"refuse": func(id string) error {
			_, err := w.operator.Refuse(ctx, id, privacy.RefuseImpractical, "No.")
			return err
		},
	}
	for name, move := range moves {
		for what, id := range map[string]string{"completed": completed, "refused": refused, "unproved": unproved} {
			t.Run(name+" "+what, func(t *testing.T) {
				before := w.stored(t, id)
				wantCode(t, name, move(id), privacy.Conflict, "")
				if after := w.stored(t, id); after.Version != before.Version || after.Status != before.Status {
					t.Errorf("%s moved a %s request to %s", name, what, after.Status)
				}
			})
		}
		t.Run(name+" unknown", func(t *testing.T) {
			wantCode(t, name, move(requests.ID(ada.Subject, privacy.NewID())), privacy.NotFound, "")
		})
		t.Run(name+" malformed", func(t *testing.T) {
			wantField(t, name, move("no-dot-here"), "id")
		})
	}
	if w.jobs.len() != 0 {
		t.Errorf("moves that failed queued %v", w.jobs.kinds())
	}
}

func TestP22_ExplainComposesFromRecordedDecisions(t *testing.T) {
	w := newWorld(t)
	ada := w.addAccount(t, "ada@example.com", "Ada Lovelace", "en")
	for range 3 {
		w.fileSignedIn(t, ada, requests.FileInput{Type: "access"})
	}
	id := w.fileSignedIn(t, ada, requests.FileInput{Type: "explanation", Details: "Why was my third request flagged?"})
	w.drain(t)
	w.work.take()

	c, err := w.operator.Show(ctx, id)
	if err != nil || c.Account == nil || c.Account.Profile.Email != "ada@example.com" || len(c.Decisions) != 1 {
		t.Fatalf("show: %+v, %v", c, err)
	}
	v, err := w.operator.Explain(ctx, id, "  If you want a fourth copy this year, write to us and we will waive the fee.  ")
	if err != nil || v.Status != "completed" {
		t.Fatalf("explain: %+v, %v", v, err)
	}
	d := w.store.decisions[ada.Subject][0]
	for _, want := range []string{
		"request.repeat", d.LogicVersion, d.Outcome, "type = access", "free = 2", "windowDays = 365",
		d.At.UTC().Format("2 January 2006 15:04 UTC"), "If you want a fourth copy this year, write to us and we will waive the fee.",
	} {
		if !strings.Contains(v.Outcome, want) {
			t.Errorf("explanation lacks %q:\n%s", want, v.Outcome)
		}
	}
	if !strings.HasSuffix(v.Outcome, "waive the fee.") {
		t.Errorf("the operator's words do not come last:\n%s", v.Outcome)
	}
	w.drain(t)
	if ms := w.box.to("ada@example.com", mail.RequestUpdate); len(ms) != 1 || ms[0].Data.Outcome != v.Outcome {
		t.Errorf("the explanation was not mailed: %+v", ms)
	}

	// Explain answers only explanation requests.
	access := w.fileSignedIn(t, ada, requests.FileInput{Type: "contact", Details: "Hi"})
	_, err = w.operator.Explain(ctx, access, "")
	wantCode(t, "explain a contact request", err, privacy.Conflict, "")
}

func TestP22_ExplainSaysWhenNothingWasDecided(t *testing.T) {
	w := newWorld(t)
	id := w.proved(t, requests.FileInput{Type: "explanation", Details: "Did a machine decide about me?"})
	v, err := w.operator.Explain(ctx, id, "")
	if err != nil || !strings.HasPrefix(v.Outcome, "No automated decision about you is on record") {
		t.Fatalf("explain: %q, %v", v.Outcome, err)
	}
}

func TestP23_QueueListsOpenRequestsByDueDate(t *testing.T) {
	w := newWorld(t)
	ada := w.addAccount(t, "ada@example.com", "Ada Lovelace", "en")
	first := w.fileSignedIn(t, ada, requests.FileInput{Type: "contact", Details: "First"})
	w.clock.Advance(24 * time.Hour)
	visitor, _ := w.proveVisitor(t, requests.FileInput{Type: "complaint", Email: "grace@example.com", Details: "Second"})
	w.clock.Advance(24 * time.Hour)
	third := w.fileSignedIn(t, ada, requests.FileInput{Type: "correction", Details: "Third"})
	closed := w.fileSignedIn(t, ada, requests.FileInput{Type: "contact", Details: "Closed"})
	if _, err := w.operator.Complete(ctx, closed, "Answered."); err != nil {
		t.Fatal(err)
	}
	w.file(t, requests.FileInput{Type: "access", Email: "alan@example.com"}) // unproved
	if _, err := w.operator.Start(ctx, visitor); err != nil {
		t.Fatal(err)
	}

	q, err := w.operator.Queue(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, v := range q {
		got = append(got, v.ID)
	}
	if want := []string{first, visitor, third}; !slices.Equal(got, want) {
		t.Errorf("queue %v, want %v", got, want)
	}
	for i := 1; i < len(q); i++ {
		if q[i].Due.Before(q[i-1].Due) {
			t.Errorf("queue out of due order at %d", i)
		}
	}
	c, err := w.operator.Show(ctx, visitor)
	if err != nil || c.Account != nil || c.Request.Details != "Second" {
		t.Errorf("show a visitor's request: %+v, %v", c, err)
	}
}
