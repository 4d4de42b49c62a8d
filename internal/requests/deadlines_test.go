package requests_test

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/privacyportal/portal/internal/jobs"
	"github.com/privacyportal/portal/internal/mail"
	"github.com/privacyportal/portal/internal/requests"
)

const day = 24 * time.Hour

func (w *world) check(tb testing.TB) requests.Figures {
	tb.Helper()
	f, err := w.deadlines.Check(ctx)
	if err != nil {
		tb.Fatalf("check: %v", err)
	}
	return f
}

func TestP23_RemindersAtSevenThreeAndOneDaysLeftEachOnce(t *testing.T) {
	w := newWorld(t)
	id := w.proved(t, requests.FileInput{Type: "correction", Details: "Fix my name."})
	due := w.stored(t, id).Due
	steps := []struct {
		at                      time.Time
		reminders, newlyOverdue int
		reminded                []string
		overdue                 bool
	}{
		{due.Add(-8 * day), 0, 0, nil, false},
		{due.Add(-7 * day), 1, 0, []string{"7"}, false},
		{due.Add(-5 * day), 0, 0, []string{"7"}, false},
		{due.Add(-3 * day), 1, 0, []string{"7", "3"}, false},
		{due.Add(-36 * time.Hour), 0, 0, []string{"7", "3"}, false},
		{due.Add(-day), 1, 0, []string{"7", "3", "1"}, false},
		{due.Add(-time.Minute), 0, 0, []string{"7", "3", "1"}, false},
		{due, 0, 1, []string{"7", "3", "1"}, true},
		{due.Add(5 * day), 0, 0, []string{"7", "3", "1"}, true},
	}
	for _, st := range steps {
		t.Run(fmt.Sprint(due.Sub(st.at)), func(t *testing.T) {
			w.clock.t = st.at
			for run := range 2 { // the second run at the same time finds everything marked
				f := w.check(t)
				wantR, wantO := st.reminders, st.newlyOverdue
				if run == 1 {
					wantR, wantO = 0, 0
				}
				if f.Reminders != wantR || f.NewlyOverdue != wantO || f.Open != 1 {
					t.Errorf("run %d: figures %+v, want %d reminders, %d newly overdue", run+1, f, wantR, wantO)
				}
				var want []jobs.Job
				if wantR+wantO > 0 {
					want = []jobs.Job{{Kind: requests.JobDeadlines, At: st.at}}
				}
				if got := w.jobs.take(); !sameJobs(got, want) {
					t.Errorf("run %d queued %+v, want %+v", run+1, got, want)
				}
			}
			r := w.stored(t, id)
			if !slices.Equal(r.Reminded, st.reminded) || r.Overdue != st.overdue {
				t.Errorf("marked %v overdue=%v, want %v %v", r.Reminded, r.Overdue, st.reminded, st.overdue)
			}
		})
	}
}

func TestP23_ClosedRequestsAreNotReminded(t *testing.T) {
	w := newWorld(t)
	id := w.proved(t, requests.FileInput{Type: "contact", Details: "Hi"})
	due := w.stored(t, id).Due
	if _, err := w.operator.Complete(ctx, id, "Hello."); err != nil {
		t.Fatal(err)
	}
	w.jobs.take()
	w.clock.t = due.Add(day)
	if f := w.check(t); f != (requests.Figures{}) {
		t.Errorf("figures %+v for a closed request, want none", f)
	}
	if w.jobs.len() != 0 {
		t.Errorf("queued %v", w.jobs.kinds())
	}
}

func TestP23_DeadlineFiguresByAge(t *testing.T) {
	w := newWorld(t)
	ada := w.addAccount(t, "ada@example.com", "Ada Lovelace", "en")
	start := w.clock.Now()
	for _, ago := range []int{40, 25, 21, 20, 7, 6, 0} {
		w.clock.t = start.Add(-time.Duration(ago) * day)
		w.fileSignedIn(t, ada, requests.FileInput{Type: "contact", Details: fmt.Sprint(ago, " days ago")})
	}
	w.clock.t = start
	closed := w.fileSignedIn(t, ada, requests.FileInput{Type: "contact", Details: "closed"})
	if _, err := w.operator.Complete(ctx, closed, "Done."); err != nil {
		t.Fatal(err)
	}
	w.file(t, requests.FileInput{Type: "access", Email: "grace@example.com"}) // unproved: not open
	f := w.check(t)
	// Ages under 7 days: 6 and 0; 7 to 20: 20 and 7; 21 and more: 40, 25, 21. With 30 days to
	// answer, the one of 40 days is overdue (and gets the "1" reminder), the one of 25 has 5
	// days left (the "7" reminder), the one of 21 has 9 (none yet).
	want := requests.Figures{Open: 7, Overdue: 1, ByAge: [3]int{2, 2, 3}, Reminders: 2, NewlyOverdue: 1}
	if f != want {
		t.Errorf("figures %+v, want %+v", f, want)
	}
}

func TestP23_DigestListsOnlyDueSoonAndOverdueWithoutPersonalData(t *testing.T) {
	w := newWorld(t)
	ada := w.addAccount(t, "ada@example.com", "Ada Lovelace", "en")
	start := w.clock.Now()
	ids := map[int]string{}
	for _, ago := range []int{35, 25, 10} { // overdue 5 days, 5 days left, 20 days left
		w.clock.t = start.Add(-time.Duration(ago) * day)
		ids[ago] = w.fileSignedIn(t, ada, requests.FileInput{Type: "correction", Details: "Secret detail Brewster " + fmt.Sprint(ago)})
	}
	visitor, _ := w.proveVisitor(t, requests.FileInput{Type: "complaint", Email: "grace@example.com", Details: "Brewster again"})
	w.clock.t = start
	w.jobs.take()
	w.box.sent = nil
	f := w.check(t)
	if f.Reminders+f.NewlyOverdue == 0 || w.jobs.len() != 1 {
		t.Fatalf("figures %+v, jobs %v", f, w.jobs.kinds())
	}
	w.drain(t)
	ms := w.box.ofKind(mail.OperatorDigest)
	if len(ms) != 1 || ms[0].To != operatorMail || w.box.count() != 1 {
		t.Fatalf("mails %+v, want one digest to the operator", w.box.sent)
	}
	var got []string
	for _, r := range ms[0].Data.Requests {
		got = append(got, r.ID)
	}
	if want := []string{ids[35], ids[25]}; !slices.Equal(got, want) {
		t.Errorf("digest lists %v, want the overdue then the due-soon %v (not %s, not %s)", got, want, ids[10], visitor)
	}
	r0, r1 := ms[0].Data.Requests[0], ms[0].Data.Requests[1]
	if !r0.Overdue || r0.DaysLeft != 0 || r1.Overdue || r1.DaysLeft != 5 || r0.Type != "correction" {
		t.Errorf("digest entries %+v %+v", r0, r1)
	}
	b, _ := json.Marshal(ms[0].Data)
	for _, personal := range []string{"ada@example.com", "grace@example.com", "Ada", "Lovelace", "Brewster"} {
		if strings.Contains(string(b), personal) {
			t.Errorf("the digest holds %q: %s", personal, b)
		}
	}
}

func TestP23_DigestMailsNothingWithoutAnOperatorOrAnythingDue(t *testing.T) {
	w := newWorld(t)
	w.proved(t, requests.FileInput{Type: "contact", Details: "Hi"}) // 30 days left
	w.box.sent = nil                                                // its receipt
	if err := w.worker.Do(ctx, jobs.Job{Kind: requests.JobDeadlines}); err != nil {
		t.Fatal(err)
	}
	if n := w.box.count(); n != 0 {
		t.Errorf("%d mails with nothing due", n)
	}
	w.clock.Advance(29 * day)
	w.env.Config.OperatorEmail = ""
	if err := w.worker.Do(ctx, jobs.Job{Kind: requests.JobDeadlines}); err != nil {
		t.Fatal(err)
	}
	if n := w.box.count(); n != 0 {
		t.Errorf("%d mails with no operator address", n)
	}
	w.env.Config.OperatorEmail = operatorMail
	if err := w.worker.Do(ctx, jobs.Job{Kind: requests.JobDeadlines}); err != nil {
		t.Fatal(err)
	}
	if n := len(w.box.to(operatorMail, mail.OperatorDigest)); n != 1 {
		t.Errorf("%d digests with a request due tomorrow and an operator, want 1", n)
	}
}
