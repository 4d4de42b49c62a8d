package notices_test

import (
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/privacyportal/portal/internal/notices"
	"github.com/privacyportal/portal/internal/privacy"
)

// started puts a started (planning) campaign in the store.
func started(tb testing.TB, st *memStore, c notices.Campaign) {
	tb.Helper()
	c.State, c.Started = notices.StatePlanning, t0
	if err := st.PutCampaign(ctx, c); err != nil {
		tb.Fatal(err)
	}
}

func newPlanner(st *memStore, q *memQueue) *notices.Planner {
	return &notices.Planner{Store: st, Sends: q, Now: func() time.Time { return t0 }}
}

// checkPlanned checks a planned campaign: sending, Planned = the recipients, one delivery
// for each of them and no one else, written once, and every recipient in a batch of at most
// BatchSize (a batch may come twice after a retry: the sender mails each person once).
func checkPlanned(tb testing.TB, st *memStore, q *memQueue, id string, want []privacy.SubjectID) {
	tb.Helper()
	c := st.campaign(tb, id)
	if c.State != notices.StateSending || c.Planned != len(want) || c.Cursor != "" || !c.PlannedAt.Equal(t0) {
		tb.Errorf("campaign: state %s, planned %d, cursor %q, planned at %v; want sending, %d, \"\", %v",
			c.State, c.Planned, c.Cursor, c.PlannedAt, len(want), t0)
	}
	states := st.deliveryStates(id)
	var got []privacy.SubjectID
	for s, state := range states {
		got = append(got, s)
		if state != notices.DeliveryPending {
			tb.Errorf("delivery of %s is %s, want pending", s, state)
		}
	}
	if !slices.Equal(sortedIDs(got), sortedIDs(want)) {
		tb.Errorf("deliveries for %d subjects, want %d (%v...)", len(got), len(want), want[:min(3, len(want))])
	}
	if st.created != len(want) {
		tb.Errorf("%d deliveries written, want %d (each once)", st.created, len(want))
	}
	batched := map[privacy.SubjectID]bool{}
	for _, j := range q.all() {
		if j.Kind != notices.JobBatch || j.Campaign != id {
			tb.Errorf("job %s for %s, want a batch of %s", j.Kind, j.Campaign, id)
		}
		if len(j.Subjects) == 0 || len(j.Subjects) > notices.BatchSize {
			tb.Errorf("a batch of %d, want 1 to %d", len(j.Subjects), notices.BatchSize)
		}
		for _, s := range j.Subjects {
			batched[s] = true
		}
	}
	for _, s := range want {
		if !batched[s] {
			tb.Errorf("%s is in no batch", s)
		}
	}
	if len(batched) != len(want) {
		tb.Errorf("%d subjects in batches, want %d", len(batched), len(want))
	}
}

func TestPlanEveryoneAcrossPages(t *testing.T) {
	st := newMemStore()
	ids := addAccounts(st, 2*notices.PageSize+137)
	// Accounts not active are no one's recipients.
	addAccount(st, person{id: "x-unverified", status: privacy.StatusUnverified})
	addAccount(st, person{id: "x-erasing", status: privacy.StatusErasing})
	addAccount(st, person{id: "x-guardian", status: privacy.StatusPending})
	started(t, st, breachCampaign("c1", notices.Audience{All: true}))
	q := &memQueue{}

	c, err := newPlanner(st, q).Plan(ctx, "c1")
	if err != nil {
		t.Fatal(err)
	}
	if c.State != notices.StateSending || c.Planned != len(ids) {
		t.Errorf("Plan returned state %s, planned %d", c.State, c.Planned)
	}
	checkPlanned(t, st, q, "c1", ids)
	// Each page in full batches: 500 = 10×50.
	if got, want := len(q.all()), 10+10+3; got != want {
		t.Errorf("%d batches, want %d", got, want)
	}
}

// TestPlanExactlyFullPages: a last page that is full (the store hands back a cursor) is
// followed by an empty one, and planning still ends.
func TestPlanExactlyFullPages(t *testing.T) {
	st := newMemStore()
	ids := addAccounts(st, 2*notices.PageSize)
	started(t, st, policyCampaign("p1"))
	q := &memQueue{}
	if _, err := newPlanner(st, q).Plan(ctx, "p1"); err != nil {
		t.Fatal(err)
	}
	checkPlanned(t, st, q, "p1", ids)
}

func TestPlanNoRecipients(t *testing.T) {
	st := newMemStore()
	started(t, st, breachCampaign("c1", notices.Audience{Holding: "education"}))
	q := &memQueue{}
	if _, err := newPlanner(st, q).Plan(ctx, "c1"); err != nil {
		t.Fatal(err)
	}
	checkPlanned(t, st, q, "c1", nil)
	if len(q.all()) != 0 {
		t.Errorf("%d batches for no one", len(q.all()))
	}
}

// TestPlanSubjectList: a list of subjects (longer than a page) is planned in its order; those
// unknown, or not active, are skipped.
func TestPlanSubjectList(t *testing.T) {
	st := newMemStore()
	ids := addAccounts(st, notices.PageSize+60)
	addAccount(st, person{id: "x-unverified", status: privacy.StatusUnverified})
	addAccount(st, person{id: "x-erasing", status: privacy.StatusErasing})
	list := slices.Clone(ids)
	slices.Reverse(list)
	list = slices.Insert(list, 3, "x-unknown", "x-unverified")
	list = append(list, "x-erasing", "x-gone")
	started(t, st, breachCampaign("c1", notices.Audience{Subjects: list}))
	q := &memQueue{}

	if _, err := newPlanner(st, q).Plan(ctx, "c1"); err != nil {
		t.Fatal(err)
	}
	checkPlanned(t, st, q, "c1", ids)
	var order []privacy.SubjectID
	for _, j := range q.all() {
		order = append(order, j.Subjects...)
	}
	want := slices.DeleteFunc(slices.Clone(list), func(id privacy.SubjectID) bool { return id[0] == 'x' })
	if !slices.Equal(order, want) {
		t.Errorf("batches are not in the list's order")
	}
}

// TestPlanHolding: everyone holding a kind of data: the active accounts that hold it.
func TestPlanHolding(t *testing.T) {
	st := newMemStore()
	var want []privacy.SubjectID
	for i := range notices.PageSize + 40 {
		id := privacy.SubjectID(fmt.Sprintf("s%05d", i))
		p := person{id: id}
		switch i % 3 {
		case 0:
			p.holds = []string{"mobile"}
			want = append(want, id)
		case 1:
			p.holds = []string{"company", "education"}
		}
		addAccount(st, p)
	}
	addAccount(st, person{id: "x-unverified", status: privacy.StatusUnverified, holds: []string{"mobile"}})
	started(t, st, breachCampaign("c1", notices.Audience{Holding: "mobile"}))
	q := &memQueue{}

	if _, err := newPlanner(st, q).Plan(ctx, "c1"); err != nil {
		t.Fatal(err)
	}
	checkPlanned(t, st, q, "c1", want)
}

// TestPlanResumes: a planner that fails at any step (reading the accounts, writing the
// deliveries, handing over a batch, saving its place) and is run again finishes the campaign
// with each delivery written once and Planned exactly the recipients.
func TestPlanResumes(t *testing.T) {
	for _, tc := range []struct {
		name  string
		fail  func(st *memStore, q *memQueue)
		calls int // how many runs fail
	}{
		{"reading accounts, on the second page", func(st *memStore, _ *memQueue) { st.failAt["ActiveAccounts"] = 2 }, 1},
		{"writing deliveries, halfway", func(st *memStore, _ *memQueue) { st.failNext("PutDeliveries", 1) }, 1},
		{"writing deliveries, twice", func(st *memStore, _ *memQueue) { st.failNext("PutDeliveries", 2) }, 2},
		{"writing deliveries of the last page", func(st *memStore, _ *memQueue) { st.failAt["PutDeliveries"] = 3 }, 1},
		{"handing over the first batch", func(_ *memStore, q *memQueue) { q.failAt = 1 }, 1},
		{"handing over a batch of the second page", func(_ *memStore, q *memQueue) { q.failAt = 14 }, 1},
		{"handing over the last batch", func(_ *memStore, q *memQueue) { q.failAt = 23 }, 1},
		{"saving the first page", func(st *memStore, _ *memQueue) { st.failNext("SaveCampaign", 1) }, 1},
		{"saving the last page", func(st *memStore, _ *memQueue) { st.failAt["SaveCampaign"] = 3 }, 1},
		{"reading the campaign", func(st *memStore, _ *memQueue) { st.failNext("Campaign", 1) }, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st := newMemStore()
			ids := addAccounts(st, 2*notices.PageSize+137)
			started(t, st, breachCampaign("c1", notices.Audience{All: true}))
			q := &memQueue{}
			tc.fail(st, q)
			fails := 0
			for range 5 {
				_, err := newPlanner(st, q).Plan(ctx, "c1")
				if err == nil {
					break
				}
				if !errors.Is(err, errInjected) {
					t.Fatalf("Plan: %v", err)
				}
				fails++
			}
			if fails != tc.calls {
				t.Errorf("%d runs failed, want %d", fails, tc.calls)
			}
			checkPlanned(t, st, q, "c1", ids)
		})
	}
}

// TestPlanOnce: a planned campaign planned again (a redelivered plan job) changes nothing and
// hands over nothing; a draft is not planned.
func TestPlanOnce(t *testing.T) {
	st := newMemStore()
	ids := addAccounts(st, 120)
	started(t, st, breachCampaign("c1", notices.Audience{All: true}))
	q := &memQueue{}
	p := newPlanner(st, q)
	if _, err := p.Plan(ctx, "c1"); err != nil {
		t.Fatal(err)
	}
	before, batches, puts := st.campaign(t, "c1"), len(q.all()), st.calls["PutDeliveries"]
	c, err := p.Plan(ctx, "c1")
	if err != nil {
		t.Fatal(err)
	}
	if c.Version != before.Version || c.Planned != len(ids) || st.campaign(t, "c1").Version != before.Version {
		t.Errorf("a second run changed the campaign: %+v", c)
	}
	if len(q.all()) != batches || st.calls["PutDeliveries"] != puts {
		t.Errorf("a second run handed over %d batches and wrote deliveries %d times", len(q.all())-batches, st.calls["PutDeliveries"]-puts)
	}
	checkPlanned(t, st, q, "c1", ids)

	draft := breachCampaign("c2", notices.Audience{All: true})
	draft.State = notices.StateDraft
	if err := st.PutCampaign(ctx, draft); err != nil {
		t.Fatal(err)
	}
	if c, err := p.Plan(ctx, "c2"); err != nil || c.State != notices.StateDraft || c.Planned != 0 {
		t.Errorf("Plan(draft) = %s %d, %v; want it left a draft", c.State, c.Planned, err)
	}
	if len(st.deliveryStates("c2")) != 0 {
		t.Error("a draft got deliveries")
	}
	if _, err := p.Plan(ctx, "nope"); privacy.ErrorCode(err) != privacy.NotFound {
		t.Errorf("Plan(unknown) = %v, want not found", err)
	}
}

// TestPlanConcurrentPlanners: two planners at once (a plan job delivered twice) write each
// delivery once and count each recipient once.
func TestPlanConcurrentPlanners(t *testing.T) {
	st := newMemStore()
	ids := addAccounts(st, 3*notices.PageSize+5)
	started(t, st, breachCampaign("c1", notices.Audience{All: true}))
	q := &memQueue{}
	var wg sync.WaitGroup
	for range 3 {
		wg.Go(func() {
			if _, err := newPlanner(st, q).Plan(ctx, "c1"); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	checkPlanned(t, st, q, "c1", ids)
}

// TestPlanThenSend: the sender's batches, as the planner hands them over, mail every
// recipient once.
func TestPlanThenSend(t *testing.T) {
	st := newMemStore()
	ids := addAccounts(st, notices.PageSize+1)
	batches := mustPlan(t, st, breachCampaign("c1", notices.Audience{All: true}))
	m := newMemMail(t)
	sendAll(t, newSender(st, m), batches)
	got := m.byAddress()
	for _, id := range ids {
		if got[string(id)+"@example.com"] != 1 {
			t.Fatalf("%s got %d mails, want 1", id, got[string(id)+"@example.com"])
		}
	}
	n, _ := st.Counts(ctx, "c1")
	p := notices.Progress{Campaign: st.campaign(t, "c1"), Counts: n}
	if n.Sent != len(ids) || p.Left() != 0 || !p.Finished() {
		t.Errorf("counts %+v, left %d, finished %v", n, p.Left(), p.Finished())
	}
}
