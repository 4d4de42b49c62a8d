package consent_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/privacyportal/portal/internal/consent"
	"github.com/privacyportal/portal/internal/jobs"
	"github.com/privacyportal/portal/internal/mail"
	"github.com/privacyportal/portal/internal/policy"
	"github.com/privacyportal/portal/internal/privacy"
	"github.com/privacyportal/portal/internal/web"
)

var ctx = context.Background()

// memStore is an in-memory fake of the consent package's store interfaces (our own, not an
// AWS API), with the adapter's rules: entries only added, nothing added to an account being
// erased, an unsubscribe link used once.
type memStore struct {
	mu        sync.Mutex
	accounts  map[privacy.SubjectID]privacy.Account
	ledgers   map[privacy.SubjectID][]privacy.ConsentEntry
	used      map[string]bool
	views     map[string]int
	campaigns map[string]consent.Campaign
	audit     map[privacy.SubjectID][]privacy.AuditEntry
	appends   int
}

func newMemStore() *memStore {
	return &memStore{accounts: map[privacy.SubjectID]privacy.Account{}, ledgers: map[privacy.SubjectID][]privacy.ConsentEntry{},
		used: map[string]bool{}, views: map[string]int{}, campaigns: map[string]consent.Campaign{}, audit: map[privacy.SubjectID][]privacy.AuditEntry{}}
}

var errGone = privacy.Errorf(privacy.NotFound, "no such account")

func (m *memStore) Account(_ context.Context, id privacy.SubjectID) (privacy.Account, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	a, ok := m.accounts[id]
	if !ok {
		return a, errGone
	}
	return a, nil
}

func (m *memStore) Ledger(_ context.Context, id privacy.SubjectID) ([]privacy.ConsentEntry, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]privacy.ConsentEntry(nil), m.ledgers[id]...), nil
}

func (m *memStore) live(id privacy.SubjectID) bool {
	a, ok := m.accounts[id]
	return ok && a.Status != privacy.StatusErasing
}

func (m *memStore) AppendConsents(_ context.Context, id privacy.SubjectID, entries []privacy.ConsentEntry) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if !m.live(id) {
		return errGone
	}
	m.appends++
	m.ledgers[id] = append(m.ledgers[id], entries...)
	return nil
}

func (m *memStore) Unsubscribe(_ context.Context, id privacy.SubjectID, delivery string, e privacy.ConsentEntry) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if !m.live(id) {
		return errGone
	}
	if m.used[string(id)+delivery] {
		return privacy.ErrStale
	}
	m.used[string(id)+delivery] = true
	m.appends++
	m.ledgers[id] = append(m.ledgers[id], e)
	return nil
}

func (m *memStore) AddAudit(_ context.Context, id privacy.SubjectID, e privacy.AuditEntry) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if !m.live(id) {
		return errGone
	}
	for _, old := range m.audit[id] {
		if e.ID != "" && old.ID == e.ID {
			return privacy.ErrStale
		}
	}
	m.audit[id] = append(m.audit[id], e)
	return nil
}

// bucket is a fake outbox (our own interface, not S3's API).
type bucket struct {
	mu      sync.Mutex
	objects map[string][]byte
}

func (b *bucket) Put(_ context.Context, key string, body []byte) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.objects[key] = body
	return nil
}

func (b *bucket) Delete(_ context.Context, key string) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	delete(b.objects, key)
	return nil
}

func (m *memStore) CountPageView(_ context.Context, day, path string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.views[day+path]++
	return nil
}

func (m *memStore) MarketingContent(_ context.Context, id string) (consent.Campaign, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	c, ok := m.campaigns[id]
	if !ok {
		return c, privacy.Errorf(privacy.NotFound, "no such campaign")
	}
	return c, nil
}

type queue struct {
	mu   sync.Mutex
	jobs []jobs.Job
}

func (q *queue) Enqueue(_ context.Context, j jobs.Job) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.jobs = append(q.jobs, j)
	return nil
}

type outbox struct {
	mu   sync.Mutex
	sent []mail.Message
}

func (o *outbox) Send(_ context.Context, m mail.Message) error {
	if _, err := mail.Render(mail.Operator{Name: "Example Co.", Contact: "privacy@example.com", SiteURL: "https://portal.example.com"}, m); err != nil {
		return err
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	o.sent = append(o.sent, m)
	return nil
}

type fixedPolicy struct{}

var inForce = policy.Version{ID: "1.1", SHA256: map[string]string{"en": strings.Repeat("e", 64), "zh-cn": strings.Repeat("c", 64)}}

func (fixedPolicy) InForce(context.Context) (policy.Version, error) { return inForce, nil }

// world is the consent centre on fakes, with one active account that accepted policy 1.0.
type world struct {
	store   *memStore
	jobs    *queue
	box     *outbox
	env     *consent.Env
	centre  *consent.Centre
	unsub   *consent.Unsubscriber
	counter *consent.Analytics
	worker  *consent.Worker
	handler *consent.Handler
	outbox  *bucket
	now     time.Time
	ada     web.Caller
}

func newWorld(t *testing.T) *world {
	t.Helper()
	keys, err := privacy.NewKeyed([]byte(strings.Repeat("k", 32)))
	if err != nil {
		t.Fatal(err)
	}
	w := &world{store: newMemStore(), jobs: &queue{}, box: &outbox{}, now: time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)}
	w.env = &consent.Env{Keys: keys, Policies: fixedPolicy{}, Jobs: w.jobs, Now: func() time.Time { return w.now },
		Operator: consent.Operator{Name: "Example Co.", Contact: "privacy@example.com", SiteURL: "https://portal.example.com", Jurisdiction: "eu-west-1"}}
	w.centre = &consent.Centre{Env: w.env, Store: w.store}
	w.unsub = &consent.Unsubscriber{Env: w.env, Store: w.store}
	w.counter = &consent.Analytics{Env: w.env, Counter: w.store, Ledgers: w.store}
	w.outbox = &bucket{objects: map[string][]byte{}}
	w.worker = &consent.Worker{Env: w.env, Store: w.store, Sender: w.box,
		Discloser: &consent.Discloser{Env: w.env, Store: w.store, Outbox: w.outbox}}
	w.handler = &consent.Handler{Centre: w.centre, Unsubscriber: w.unsub, Analytics: w.counter,
		Guard: web.Guard{SiteURL: "https://portal.example.com", Sessions: sessions{}}}
	w.ada = w.addAccount("ada@example.com", "en")
	return w
}

// addAccount adds an active account that registered under policy 1.0.
func (w *world) addAccount(email, locale string) web.Caller {
	id := privacy.NewSubjectID()
	w.store.accounts[id] = privacy.Account{SubjectID: id, Status: privacy.StatusActive,
		Profile: privacy.Profile{Name: "Ada Lovelace", Email: email, Username: "ada", Locale: locale}}
	w.store.ledgers[id] = []privacy.ConsentEntry{privacy.Accept(privacy.PolicyRef{Version: "1.0"}, privacy.SourceRegistration, w.now.Add(-48*time.Hour))}
	return web.Caller{Subject: id}
}

// sessions authenticates the cookie "s-<subject>".
type sessions struct{}

func (sessions) Authenticate(_ context.Context, cookie string) (web.Caller, error) {
	id, ok := strings.CutPrefix(cookie, "s-")
	if !ok {
		return web.Caller{}, privacy.Errorf(privacy.Unauthorized, "Sign in first.")
	}
	return web.Caller{Subject: privacy.SubjectID(id)}, nil
}

// drain does every queued job with the worker.
func (w *world) drain(t *testing.T) {
	t.Helper()
	for {
		w.jobs.mu.Lock()
		if len(w.jobs.jobs) == 0 {
			w.jobs.mu.Unlock()
			return
		}
		j := w.jobs.jobs[0]
		w.jobs.jobs = w.jobs.jobs[1:]
		w.jobs.mu.Unlock()
		if !w.worker.Handles(j.Kind) {
			t.Fatalf("job %s is not the consent worker's", j.Kind)
		}
		if err := w.worker.Do(ctx, j); err != nil {
			t.Fatalf("job %s: %v", j.Kind, err)
		}
	}
}

func wantField(t *testing.T, what string, err error, field string) {
	t.Helper()
	var e *privacy.Error
	if !errors.As(err, &e) || e.Code != privacy.Invalid || e.Field != field {
		t.Fatalf("%s: err = %v, want a 400 on %s", what, err, field)
	}
}

func jobsMarketing(id privacy.SubjectID, campaign string) jobs.Job {
	return jobs.Job{Kind: consent.JobMarketing, Subject: id, Campaign: campaign}
}

func jobKind(s string) jobs.Kind { return jobs.Kind(s) }
