package main

import (
	"bytes"
	"context"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/privacyportal/portal/internal/jobs"
	"github.com/privacyportal/portal/internal/privacy"
	"github.com/privacyportal/portal/internal/requests"
)

// fakeStore keeps requests, accounts and decisions in memory: the part of requests.Store the
// Operator uses (not Tombstone: only the status link reads it). The embedded nil Store makes
// every other method panic.
type fakeStore struct {
	requests.Store
	records   map[string]requests.Record
	accounts  map[privacy.SubjectID]privacy.Account
	decisions map[privacy.SubjectID][]privacy.Decision
	saves     int
	// closed lists the accounts CloseAccount stopped, in order.
	closed []privacy.SubjectID
}

func newFakeStore() *fakeStore {
	return &fakeStore{
		records:   map[string]requests.Record{},
		accounts:  map[privacy.SubjectID]privacy.Account{},
		decisions: map[privacy.SubjectID][]privacy.Decision{},
	}
}

func (s *fakeStore) put(r requests.Record) { s.records[requests.ID(r.Subject, r.ID)] = r }

func (s *fakeStore) get(tb testing.TB, id string) requests.Record {
	tb.Helper()
	r, ok := s.records[id]
	if !ok {
		tb.Fatalf("no request %s in the store", id)
	}
	return r
}

func (s *fakeStore) Request(_ context.Context, subject privacy.SubjectID, id string) (requests.Record, error) {
	r, ok := s.records[requests.ID(subject, id)]
	if !ok {
		return requests.Record{}, privacy.Errorf(privacy.NotFound, "no request")
	}
	r.Steps = slices.Clone(r.Steps)
	return r, nil
}

func (s *fakeStore) SaveRequest(_ context.Context, r requests.Record) error {
	key := requests.ID(r.Subject, r.ID)
	cur, ok := s.records[key]
	if !ok || cur.Version != r.Version {
		return privacy.ErrStale
	}
	r.Version++
	s.records[key] = r
	s.saves++
	return nil
}

// OpenRequests keeps the store's promise: open requests by due date, soonest first.
func (s *fakeStore) OpenRequests(context.Context) ([]requests.Ref, error) {
	var refs []requests.Ref
	for _, r := range s.records {
		if r.Status.Open() {
			refs = append(refs, requests.Ref{Subject: r.Subject, Request: r.ID, Type: r.Type, Received: r.Received, Due: r.Due})
		}
	}
	slices.SortFunc(refs, func(a, b requests.Ref) int { return a.Due.Compare(b.Due) })
	return refs, nil
}

func (s *fakeStore) Account(_ context.Context, id privacy.SubjectID) (privacy.Account, error) {
	a, ok := s.accounts[id]
	if !ok {
		return privacy.Account{}, privacy.Errorf(privacy.NotFound, "no account")
	}
	return a, nil
}

func (s *fakeStore) Decisions(_ context.Context, id privacy.SubjectID) ([]privacy.Decision, error) {
	return s.decisions[id], nil
}

// CloseAccount keeps the store's promise: the account is erasing, privacy.NotFound if there is
// none.
func (s *fakeStore) CloseAccount(_ context.Context, id privacy.SubjectID) error {
	a, ok := s.accounts[id]
	if !ok {
		return privacy.Errorf(privacy.NotFound, "no account")
	}
	a.Status = privacy.StatusErasing
	s.accounts[id] = a
	s.closed = append(s.closed, id)
	return nil
}

// recordingQueue keeps the jobs enqueued.
type recordingQueue struct{ jobs []jobs.Job }

func (q *recordingQueue) Enqueue(_ context.Context, j jobs.Job) error {
	q.jobs = append(q.jobs, j)
	return nil
}

// now is the tests' clock.
var now = time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)

func days(n int) time.Duration { return time.Duration(n) * 24 * time.Hour }

// fixture is a portal with a few requests, and portalctl's dependencies on it.
type fixture struct {
	store     *fakeStore
	mail      *recordingQueue
	erasure   *recordingQueue
	deps      deps
	connected []Config
	env       map[string]string
}

// The fixture's requests.
const (
	overdueID     = "zed.r1"   // a correction, 10 days overdue, account zed
	explanationID = "carol.r3" // an explanation, 2 days left, a repeat, two decisions
	contactID     = "bob.r2"   // a contact from a visitor with no account, 25 days left
	completedID   = "dan.r4"   // answered: not in the queue
	accessID      = "erin.r5"  // access: answered by the export worker
)

func newFixture(tb testing.TB) *fixture {
	tb.Helper()
	f := &fixture{store: newFakeStore(), mail: &recordingQueue{}, erasure: &recordingQueue{}, env: map[string]string{
		envTable: "portal-table", envMailQueue: "http://127.0.0.1:1/queue/mail", envErasureQueue: "http://127.0.0.1:1/queue/erasure",
	}}
	req := func(subject, id string, t privacy.RequestType, received time.Time, due time.Time) requests.Record {
		return requests.Record{Version: 1, Request: privacy.Request{
			ID: id, Subject: privacy.SubjectID(subject), Type: t, Status: privacy.RequestVerified,
			Email: subject + "@example.com", Locale: privacy.LocaleEnglish, Received: received, Due: due,
			Steps: []privacy.RequestStep{{Status: privacy.RequestReceived, At: received}, {Status: privacy.RequestVerified, At: received.Add(time.Minute)}},
		}}
	}
	r := req("zed", "r1", privacy.RequestCorrection, now.Add(-days(40)), now.Add(-days(10)))
	r.Details = "My surname is misspelt."
	f.store.put(r)
	r = req("carol", "r3", privacy.RequestExplanation, now.Add(-days(28)), now.Add(days(2)))
	r.Details, r.Repeat = "Why was my request flagged?", true
	f.store.put(r)
	r = req("bob", "r2", privacy.RequestContact, now.Add(-days(5)), now.Add(days(25)))
	r.Details = "Who is your protection officer?"
	f.store.put(r)
	r = req("dan", "r4", privacy.RequestCorrection, now.Add(-days(20)), now.Add(days(10)))
	r.Status, r.Outcome = privacy.RequestCompleted, "Corrected."
	f.store.put(r)
	f.store.put(req("erin", "r5", privacy.RequestAccess, now.Add(-days(3)), now.Add(days(27))))

	f.store.accounts["zed"] = privacy.Account{SubjectID: "zed", Status: privacy.StatusActive, Profile: privacy.Profile{
		Name: "Zed Zhang", Email: "zed@example.com", Username: "zedz", Locale: privacy.LocaleChinese,
	}}
	f.store.accounts["carol"] = privacy.Account{SubjectID: "carol", Status: privacy.StatusActive, Profile: privacy.Profile{
		Name: "Carol Chen", Email: "carol@example.com", Username: "carolc", Locale: privacy.LocaleEnglish,
	}}
	f.store.decisions["carol"] = []privacy.Decision{
		{At: now.Add(-days(28)), Name: requests.DecisionRepeat, LogicVersion: requests.RepeatLogicVersion,
			Inputs:  map[string]string{"type": "explanation", "earlierOfTheType": "2", "free": "2", "windowDays": "365"},
			Outcome: "flagged as a repeat for the operator to decide (a fee notice or a refusal)"},
		{At: now.Add(-days(100)), Name: "account.guardian_required", LogicVersion: "age-1",
			Inputs: map[string]string{"ageGroup": "under14"}, Outcome: "the account waits for a guardian"},
	}
	f.deps = deps{
		// As connect: the erasure queue only if the configuration names it (a stack named
		// here stands for one without the ErasureQueueURL output).
		Connect: func(_ context.Context, c Config) (*requests.Operator, error) {
			f.connected = append(f.connected, c)
			env := &requests.Env{Jobs: f.mail, Now: func() time.Time { return now }}
			if c.ErasureQueueURL != "" {
				env.Erase = f.erasure
			}
			return &requests.Operator{Env: env, Store: f.store}, nil
		},
		Getenv: func(k string) string { return f.env[k] },
		Stdin:  strings.NewReader(""),
	}
	return f
}

// run runs portalctl on the fixture.
func (f *fixture) run(tb testing.TB, args ...string) (code int, stdout, stderr string) {
	tb.Helper()
	var out, errOut bytes.Buffer
	code = run(context.Background(), args, &out, &errOut, f.deps)
	return code, out.String(), errOut.String()
}

// mustRun runs portalctl and fails unless it exits 0.
func (f *fixture) mustRun(tb testing.TB, args ...string) string {
	tb.Helper()
	code, stdout, stderr := f.run(tb, args...)
	if code != 0 {
		tb.Fatalf("portalctl %s: exit %d, stderr:\n%s", strings.Join(args, " "), code, stderr)
	}
	return stdout
}

// erasable adds a proved request of type t (a deletion or a cancellation, or any other) from
// fay, who has an account, and returns its ID.
func (f *fixture) erasable(t privacy.RequestType) string {
	received := now.Add(-days(2))
	f.store.put(requests.Record{Version: 1, Request: privacy.Request{
		ID: "r6", Subject: "fay", Type: t, Status: privacy.RequestVerified, Ground: privacy.GroundNoConsent,
		Email: "fay@example.com", Locale: privacy.LocaleEnglish, Received: received, Due: received.Add(days(30)),
		Steps: []privacy.RequestStep{{Status: privacy.RequestReceived, At: received}, {Status: privacy.RequestVerified, At: received.Add(time.Minute)}},
	}})
	f.store.accounts["fay"] = privacy.Account{SubjectID: "fay", Status: privacy.StatusActive, Profile: privacy.Profile{
		Name: "Fay Fang", Email: "fay@example.com", Username: "fayf", Locale: privacy.LocaleEnglish,
	}}
	return "fay.r6"
}

// unchanged fails if anything was written, mailed or queued for erasure, or an account closed.
func (f *fixture) unchanged(tb testing.TB) {
	tb.Helper()
	if f.store.saves != 0 || len(f.mail.jobs) != 0 || len(f.erasure.jobs) != 0 || len(f.store.closed) != 0 {
		tb.Errorf("%d writes, jobs %v, erasure jobs %v, accounts closed %v; want nothing changed", f.store.saves, f.mail.jobs, f.erasure.jobs, f.store.closed)
	}
}

// mailed fails unless exactly one request_updated job for id was enqueued.
func (f *fixture) mailed(tb testing.TB, id string) {
	tb.Helper()
	subject, rid, _ := requests.SplitID(id)
	want := jobs.Job{Kind: requests.JobUpdated, Subject: subject, Request: rid, At: now}
	if len(f.mail.jobs) != 1 || !reflect.DeepEqual(f.mail.jobs[0], want) {
		tb.Errorf("jobs = %v, want [%v]", f.mail.jobs, want)
	}
}
