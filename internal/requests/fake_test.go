package requests_test

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net/url"
	"os"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/privacyportal/portal/internal/export"
	"github.com/privacyportal/portal/internal/jobs"
	"github.com/privacyportal/portal/internal/mail"
	"github.com/privacyportal/portal/internal/password"
	"github.com/privacyportal/portal/internal/privacy"
	"github.com/privacyportal/portal/internal/ratelimit"
	"github.com/privacyportal/portal/internal/requests"
	"github.com/privacyportal/portal/internal/web"
)

var ctx = context.Background()

const (
	goodPassword = "correct horse battery staple"
	clientIP     = "198.51.100.7"
	siteURL      = "https://portal.example.com"
	operatorMail = "dpo@example.com"
)

// cheapArgon2 keeps password checks fast: the rules, not the cost, are under test here.
var cheapArgon2 = password.Argon2Params{Memory: 64, Time: 1, Threads: 1}

// memStore is an in-memory fake of requests.Store (our own interface, not an AWS API) with the
// contract its documentation states and the DynamoDB adapter keeps: a new request is written
// at version 1, every save names the version it read and fails with privacy.ErrStale on
// another, proving a visitor's request moves it (and deletes its code) in one step, and the
// operator's queue holds only open requests, by due date.
type memStore struct {
	mu        sync.Mutex
	accounts  map[privacy.SubjectID]privacy.Account
	passwords map[privacy.SubjectID]string
	owners    map[string]privacy.SubjectID // proved addresses, by look-up key
	verifies  map[privacy.SubjectID]map[privacy.VerificationKind]privacy.Verification
	requests  map[privacy.SubjectID][]requests.Record // in the order written
	decisions map[privacy.SubjectID][]privacy.Decision
	// tombstones are erased subjects' requests, by request ID (written by tests, as the
	// erasure worker would).
	tombstones map[string]privacy.Tombstone
	counts     map[string]int
	// reads and writes count the calls of each method.
	reads, writes map[string]int
	// fail, when set, is returned by the named method instead of doing anything.
	fail map[string]error
}

func newMemStore() *memStore {
	return &memStore{
		accounts: map[privacy.SubjectID]privacy.Account{}, passwords: map[privacy.SubjectID]string{},
		owners: map[string]privacy.SubjectID{}, verifies: map[privacy.SubjectID]map[privacy.VerificationKind]privacy.Verification{},
		requests: map[privacy.SubjectID][]requests.Record{}, decisions: map[privacy.SubjectID][]privacy.Decision{},
		tombstones: map[string]privacy.Tombstone{},
		counts:     map[string]int{}, reads: map[string]int{}, writes: map[string]int{}, fail: map[string]error{},
	}
}

var _ requests.Store = (*memStore)(nil)

var (
	errNoAccount = privacy.Errorf(privacy.NotFound, "no such account")
	errNoRequest = privacy.Errorf(privacy.NotFound, "no such request")
	errTaken     = privacy.Errorf(privacy.Conflict, "This request was filed already.")
)

// read counts a read of op; it returns the failure set for op, if any. Callers hold mu.
func (m *memStore) read(op string) error {
	m.reads[op]++
	return m.fail[op]
}

// wrote counts a write of op, unless op is set to fail. Callers hold mu.
func (m *memStore) wrote(op string) error {
	if err := m.fail[op]; err != nil {
		return err
	}
	m.writes[op]++
	return nil
}

func (m *memStore) totalReads() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	n := 0
	for _, c := range m.reads {
		n += c
	}
	return n
}

func (m *memStore) totalWrites() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	n := 0
	for _, c := range m.writes {
		n += c
	}
	return n
}

// resetCounts forgets the reads and writes so far.
func (m *memStore) resetCounts() {
	m.mu.Lock()
	defer m.mu.Unlock()
	clear(m.reads)
	clear(m.writes)
}

func (m *memStore) live(id privacy.SubjectID) bool {
	a, ok := m.accounts[id]
	return ok && a.Status != privacy.StatusErasing
}

func (m *memStore) find(subject privacy.SubjectID, id string) int {
	return slices.IndexFunc(m.requests[subject], func(r requests.Record) bool { return r.ID == id })
}

func (m *memStore) AddressOwners(_ context.Context, key string) (privacy.AddressOwners, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := m.read("AddressOwners"); err != nil {
		return privacy.AddressOwners{}, err
	}
	return privacy.AddressOwners{Owner: m.owners[key]}, nil
}

func (m *memStore) Account(_ context.Context, id privacy.SubjectID) (privacy.Account, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := m.read("Account"); err != nil {
		return privacy.Account{}, err
	}
	a, ok := m.accounts[id]
	if !ok {
		return privacy.Account{}, errNoAccount
	}
	return a, nil
}

func (m *memStore) Login(_ context.Context, id privacy.SubjectID) (privacy.Login, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := m.read("Login"); err != nil {
		return privacy.Login{}, err
	}
	a, ok := m.accounts[id]
	if !ok {
		return privacy.Login{}, errNoAccount
	}
	return privacy.Login{Account: a, PasswordHash: m.passwords[id]}, nil
}

func (m *memStore) PutVerification(_ context.Context, id privacy.SubjectID, v privacy.Verification) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := m.wrote("PutVerification"); err != nil {
		return err
	}
	if m.verifies[id] == nil {
		m.verifies[id] = map[privacy.VerificationKind]privacy.Verification{}
	}
	m.verifies[id][v.Kind] = v
	return nil
}

func (m *memStore) Verification(_ context.Context, id privacy.SubjectID, kind privacy.VerificationKind) (privacy.Verification, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := m.read("Verification"); err != nil {
		return privacy.Verification{}, err
	}
	v, ok := m.verifies[id][kind]
	if !ok {
		return privacy.Verification{}, privacy.Errorf(privacy.NotFound, "no pending verification")
	}
	return v, nil
}

// FailVerification counts a wrong code: privacy.ErrStale when there is no code or it is dead
// already, as the adapter's conditional update.
func (m *memStore) FailVerification(_ context.Context, id privacy.SubjectID, kind privacy.VerificationKind) (int, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	v, ok := m.verifies[id][kind]
	if !ok || v.Attempts >= privacy.MaxCodeAttempts {
		return privacy.MaxCodeAttempts, privacy.ErrStale
	}
	if err := m.wrote("FailVerification"); err != nil {
		return 0, err
	}
	v.Attempts++
	m.verifies[id][kind] = v
	return v.Attempts, nil
}

func (m *memStore) PutRequest(_ context.Context, r requests.Record, d *privacy.Decision) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := m.fail["PutRequest"]; err != nil {
		return err
	}
	if m.find(r.Subject, r.ID) >= 0 {
		return errTaken
	}
	if r.Status != privacy.RequestReceived && !m.live(r.Subject) {
		return errNoAccount // a proved request goes only into a live account's partition
	}
	m.writes["PutRequest"]++
	r.Version = 1
	m.requests[r.Subject] = append(m.requests[r.Subject], clone(r))
	if d != nil {
		m.decisions[r.Subject] = append(m.decisions[r.Subject], *d)
	}
	return nil
}

func (m *memStore) Request(_ context.Context, subject privacy.SubjectID, id string) (requests.Record, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := m.read("Request"); err != nil {
		return requests.Record{}, err
	}
	i := m.find(subject, id)
	if i < 0 {
		return requests.Record{}, errNoRequest
	}
	return clone(m.requests[subject][i]), nil
}

// Requests returns a subject's requests oldest first, as the interface documents.
func (m *memStore) Requests(_ context.Context, subject privacy.SubjectID) ([]requests.Record, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := m.read("Requests"); err != nil {
		return nil, err
	}
	out := make([]requests.Record, 0, len(m.requests[subject]))
	for _, r := range m.requests[subject] {
		out = append(out, clone(r))
	}
	slices.SortStableFunc(out, func(a, b requests.Record) int { return a.Received.Compare(b.Received) })
	return out, nil
}

func (m *memStore) SaveRequest(_ context.Context, r requests.Record) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := m.fail["SaveRequest"]; err != nil {
		return err
	}
	i := m.find(r.Subject, r.ID)
	if i < 0 || m.requests[r.Subject][i].Version != r.Version {
		return privacy.ErrStale
	}
	m.writes["SaveRequest"]++
	r.Version++
	m.requests[r.Subject][i] = clone(r)
	return nil
}

func (m *memStore) MoveRequest(_ context.Context, from privacy.SubjectID, r requests.Record, d *privacy.Decision) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := m.fail["MoveRequest"]; err != nil {
		return err
	}
	i := m.find(from, r.ID)
	if i < 0 || m.requests[from][i].Version != r.Version || m.requests[from][i].Status != privacy.RequestReceived {
		return privacy.ErrStale
	}
	if r.Subject != from {
		switch {
		case !m.live(r.Subject):
			return errNoAccount
		case m.find(r.Subject, r.ID) >= 0:
			return errTaken
		}
	}
	m.writes["MoveRequest"]++
	m.requests[from] = slices.Delete(m.requests[from], i, i+1)
	r.Version++
	m.requests[r.Subject] = append(m.requests[r.Subject], clone(r))
	if d != nil {
		m.decisions[r.Subject] = append(m.decisions[r.Subject], *d)
	}
	delete(m.verifies[from], privacy.VerifyRequest)
	return nil
}

// OpenRequests lists the open requests by due date (then received, then type), as the
// adapter's index sorts them.
func (m *memStore) OpenRequests(_ context.Context) ([]requests.Ref, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := m.read("OpenRequests"); err != nil {
		return nil, err
	}
	var out []requests.Ref
	for _, rs := range m.requests {
		for _, r := range rs {
			if r.Status.Open() {
				out = append(out, requests.Ref{Subject: r.Subject, Request: r.ID, Type: r.Type, Received: r.Received, Due: r.Due})
			}
		}
	}
	slices.SortFunc(out, func(a, b requests.Ref) int {
		return cmp.Or(a.Due.Compare(b.Due), a.Received.Compare(b.Received), strings.Compare(string(a.Type), string(b.Type)))
	})
	return out, nil
}

func (m *memStore) Decisions(_ context.Context, id privacy.SubjectID) ([]privacy.Decision, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := m.read("Decisions"); err != nil {
		return nil, err
	}
	return slices.Clone(m.decisions[id]), nil
}

// Hit is a fixed window per bucket, as the adapter's.
func (m *memStore) CloseAccount(_ context.Context, id privacy.SubjectID) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := m.wrote("CloseAccount"); err != nil {
		return err
	}
	a, ok := m.accounts[id]
	if !ok {
		return errNoAccount
	}
	a.Status = privacy.StatusErasing
	m.accounts[id] = a
	return nil
}

func (m *memStore) Tombstone(_ context.Context, request string) (privacy.Tombstone, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := m.read("Tombstone"); err != nil {
		return privacy.Tombstone{}, err
	}
	t, ok := m.tombstones[request]
	if !ok {
		return privacy.Tombstone{}, privacy.Errorf(privacy.NotFound, "no such tombstone")
	}
	return t, nil
}

func (m *memStore) Hit(_ context.Context, bucket string, n int, window time.Duration, now time.Time) (bool, time.Duration, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	start := now.Truncate(window)
	k := bucket + "@" + start.String()
	if m.counts[k] >= n {
		return false, start.Add(window).Sub(now), nil
	}
	m.counts[k]++
	return true, 0, nil
}

// record returns a stored request as it is (the test's view of the table).
func (m *memStore) record(tb testing.TB, subject privacy.SubjectID, id string) requests.Record {
	tb.Helper()
	m.mu.Lock()
	defer m.mu.Unlock()
	i := m.find(subject, id)
	if i < 0 {
		tb.Fatalf("no request %s.%s in the store", subject, id)
	}
	return clone(m.requests[subject][i])
}

// all returns every stored request.
func (m *memStore) all() []requests.Record {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []requests.Record
	for _, k := range slices.Sorted(maps.Keys(m.requests)) {
		for _, r := range m.requests[k] {
			out = append(out, clone(r))
		}
	}
	return out
}

// put writes a request as it is, for a test that needs a state the services reach slowly.
func (m *memStore) put(r requests.Record) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if r.Version == 0 {
		r.Version = 1
	}
	m.requests[r.Subject] = append(m.requests[r.Subject], clone(r))
}

func (m *memStore) verification(id privacy.SubjectID) (privacy.Verification, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	v, ok := m.verifies[id][privacy.VerifyRequest]
	return v, ok
}

func clone(r requests.Record) requests.Record {
	r.Steps = slices.Clone(r.Steps)
	r.Reminded = slices.Clone(r.Reminded)
	if r.Refusal != nil {
		f := *r.Refusal
		r.Refusal = &f
	}
	return r
}

// queue is a recording jobs.Queue.
type queue struct {
	mu   sync.Mutex
	jobs []jobs.Job
	fail error
}

func (q *queue) Enqueue(_ context.Context, j jobs.Job) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.fail != nil {
		return q.fail
	}
	q.jobs = append(q.jobs, j)
	return nil
}

func (q *queue) take() []jobs.Job {
	q.mu.Lock()
	defer q.mu.Unlock()
	js := q.jobs
	q.jobs = nil
	return js
}

func (q *queue) kinds() []jobs.Kind {
	q.mu.Lock()
	defer q.mu.Unlock()
	var out []jobs.Kind
	for _, j := range q.jobs {
		out = append(out, j.Kind)
	}
	return out
}

func (q *queue) len() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return len(q.jobs)
}

// outbox is a fake Sender: it renders each mail (so a mail with a hole fails the test) and
// keeps it. failKind, when set, fails the sends of that kind (failures counts down, 0 is for
// ever).
type outbox struct {
	mu       sync.Mutex
	sent     []mail.Message
	failKind mail.Kind
	failures int
}

var testOperator = mail.Operator{Name: "Example Co.", Contact: "privacy@example.com", SiteURL: siteURL}

var errSend = errors.New("ses: throttled")

func (o *outbox) Send(_ context.Context, m mail.Message) error {
	if _, err := mail.Render(testOperator, m); err != nil {
		return err
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.failKind != "" && m.Kind == o.failKind {
		if o.failures--; o.failures == 0 {
			o.failKind = ""
		}
		return errSend
	}
	o.sent = append(o.sent, m)
	return nil
}

// to returns the mails of a kind ("" for any) sent to addr.
func (o *outbox) to(addr string, kind mail.Kind) []mail.Message {
	o.mu.Lock()
	defer o.mu.Unlock()
	var out []mail.Message
	for _, m := range o.sent {
		if strings.EqualFold(m.To, addr) && (kind == "" || m.Kind == kind) {
			out = append(out, m)
		}
	}
	return out
}

func (o *outbox) ofKind(kind mail.Kind) []mail.Message {
	o.mu.Lock()
	defer o.mu.Unlock()
	var out []mail.Message
	for _, m := range o.sent {
		if m.Kind == kind {
			out = append(out, m)
		}
	}
	return out
}

func (o *outbox) count() int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return len(o.sent)
}

// clock is a test's time, moved by hand.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// source is a fake export.Source: a partition's items, in sort-key order, made from what the
// store holds about the subject.
type source struct {
	store *memStore
	reads int
	// during, when set, runs while the partition is being read (an erasure meanwhile).
	during func()
}

func (s *source) Records(_ context.Context, id privacy.SubjectID, fn func(export.Record) error) error {
	s.store.mu.Lock()
	s.reads++
	var items []export.Record
	if a, ok := s.store.accounts[id]; ok {
		items = append(items, export.Record{Kind: "PROFILE", Key: "PROFILE", Fields: map[string]any{
			"name": a.Profile.Name, "email": a.Profile.Email, "username": a.Profile.Username, "locale": a.Profile.Locale,
		}})
	}
	for _, r := range s.store.requests[id] {
		items = append(items, export.Record{Kind: "REQUEST", Key: "REQUEST#" + r.ID, Fields: map[string]any{
			"type": string(r.Type), "status": string(r.Status), "receivedAt": r.Received.Format(time.RFC3339),
		}})
	}
	s.store.mu.Unlock()
	if s.during != nil {
		s.during()
	}
	slices.SortFunc(items, func(a, b export.Record) int { return strings.Compare(a.Key, b.Key) })
	for _, it := range items {
		if err := fn(it); err != nil {
			return err
		}
	}
	return nil
}

// archives is a fake exports bucket: a writer's bytes become an object when it closes.
// failAfter, when > 0, makes the next writer fail once it has taken that many bytes.
type archives struct {
	mu        sync.Mutex
	objects   map[string][]byte
	created   []string
	closed    int
	aborted   int
	failAfter int
}

func (a *archives) Create(_ context.Context, key string) requests.ArchiveWriter {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.created = append(a.created, key)
	w := &archiveWriter{a: a, key: key, failAfter: a.failAfter}
	a.failAfter = 0
	return w
}

func (a *archives) Delete(_ context.Context, key string) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	delete(a.objects, key)
	return nil
}

func (a *archives) objectKeys() []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return slices.Sorted(maps.Keys(a.objects))
}

type archiveWriter struct {
	a         *archives
	key       string
	buf       bytes.Buffer
	failAfter int
	done      bool
}

var errDisk = errors.New("s3: connection reset")

func (w *archiveWriter) Write(p []byte) (int, error) {
	if w.done {
		return 0, io.ErrClosedPipe
	}
	if w.failAfter > 0 && w.buf.Len()+len(p) > w.failAfter {
		return 0, errDisk
	}
	return w.buf.Write(p)
}

func (w *archiveWriter) Close() error {
	if w.done {
		return io.ErrClosedPipe
	}
	w.done = true
	w.a.mu.Lock()
	defer w.a.mu.Unlock()
	w.a.objects[w.key] = bytes.Clone(w.buf.Bytes())
	w.a.closed++
	return nil
}

func (w *archiveWriter) Abort() error {
	w.done = true
	w.a.mu.Lock()
	defer w.a.mu.Unlock()
	w.a.aborted++
	return nil
}

// presigner is a fake Presigner that counts its URLs.
type presigner struct {
	mu   sync.Mutex
	keys []string
}

func (p *presigner) PresignGet(_ context.Context, key string, ttl time.Duration) (string, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.keys = append(p.keys, key)
	return fmt.Sprintf("https://exports.s3.example.com/%s?X-Amz-Expires=%d&X-Amz-Signature=sig", key, int(ttl.Seconds())), nil
}

func (p *presigner) count() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.keys)
}

// sessions authenticates the cookie "s-<subject>".
type sessions struct{}

func (sessions) Authenticate(_ context.Context, cookie string) (web.Caller, error) {
	id, ok := strings.CutPrefix(cookie, "s-")
	if !ok || id == "" {
		return web.Caller{}, privacy.Errorf(privacy.Unauthorized, "Sign in first.")
	}
	return web.Caller{Subject: privacy.SubjectID(id)}, nil
}

// world is every requests service on one fake store, as the functions wire them.
type world struct {
	store     *memStore
	jobs      *queue // the mail worker's
	work      *queue // the export worker's
	erase     *queue // the erasure worker's
	box       *outbox
	clock     *clock
	source    *source
	archives  *archives
	presigner *presigner
	env       *requests.Env
	intake    *requests.Intake
	tracker   *requests.Tracker
	operator  *requests.Operator
	exports   *requests.Exports
	exporter  *requests.Exporter
	worker    *requests.Worker
	deadlines *requests.Deadlines
	handler   *requests.Handler
}

var testKey = []byte(strings.Repeat("k", 32))

func newWorld(tb testing.TB) *world {
	tb.Helper()
	keys, err := privacy.NewKeyed(testKey)
	if err != nil {
		tb.Fatal(err)
	}
	w := &world{store: newMemStore(), jobs: &queue{}, work: &queue{}, erase: &queue{}, box: &outbox{},
		clock: &clock{t: time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)}, archives: &archives{objects: map[string][]byte{}}, presigner: &presigner{}}
	w.source = &source{store: w.store}
	w.env = &requests.Env{
		Keys: keys, Limits: requests.DefaultLimits, Jobs: w.jobs, Work: w.work, Erase: w.erase, Now: w.clock.Now,
		Limiter: &ratelimit.Limiter{Counter: w.store, Keys: keys, Now: w.clock.Now},
		Config: requests.Config{
			ResponseDays: 30, CodeTTL: 15 * time.Minute, Repeats: privacy.Repeats{Window: 365 * 24 * time.Hour, Free: 2},
			ExportLinkTTL: 7 * 24 * time.Hour, PresignTTL: 5 * time.Minute, SiteURL: siteURL, OperatorEmail: operatorMail,
		},
	}
	w.intake = &requests.Intake{Env: w.env, Store: w.store}
	w.tracker = &requests.Tracker{Env: w.env, Store: w.store}
	w.operator = &requests.Operator{Env: w.env, Store: w.store}
	w.exports = &requests.Exports{Env: w.env, Store: w.store, Presigner: w.presigner}
	w.exporter = &requests.Exporter{Env: w.env, Store: w.store, Source: w.source, Archives: w.archives}
	w.worker = &requests.Worker{Env: w.env, Store: w.store, Sender: w.box}
	w.deadlines = &requests.Deadlines{Env: w.env, Store: w.store}
	w.handler = &requests.Handler{Intake: w.intake, Tracker: w.tracker, Exports: w.exports,
		Guard: web.Guard{SiteURL: siteURL, Sessions: sessions{}}}
	return w
}

// addAccount adds an active account whose address is proved, and returns it signed in.
func (w *world) addAccount(tb testing.TB, email, name, locale string) web.Caller {
	tb.Helper()
	id := privacy.NewSubjectID()
	w.store.mu.Lock()
	defer w.store.mu.Unlock()
	w.store.accounts[id] = privacy.Account{SubjectID: id, Status: privacy.StatusActive, EmailVerified: true,
		Profile:  privacy.Profile{Name: name, Email: email, Username: strings.ToLower(strings.Fields(name)[0]), Locale: locale, AgeGroup: privacy.AgeAdult},
		EmailKey: w.env.Keys.EmailKey(email)}
	w.store.passwords[id] = password.Hash(goodPassword, cheapArgon2)
	w.store.owners[w.env.Keys.EmailKey(email)] = id
	return web.Caller{Subject: id}
}

// drain runs every job on the mail worker's queue, as the mail function would, until the
// queue is empty.
func (w *world) drain(tb testing.TB) {
	tb.Helper()
	for {
		js := w.jobs.take()
		if len(js) == 0 {
			return
		}
		for _, j := range js {
			if !w.worker.Handles(j.Kind) {
				tb.Fatalf("job %s is not the requests mail worker's", j.Kind)
			}
			if err := w.worker.Do(ctx, j); err != nil {
				tb.Fatalf("job %s: %v", j.Kind, err)
			}
		}
	}
}

// runExports runs every job on the work queue through the exporter.
func (w *world) runExports(tb testing.TB) {
	tb.Helper()
	for _, j := range w.work.take() {
		if j.Kind != requests.JobExport {
			tb.Fatalf("job %s on the work queue, want only %s", j.Kind, requests.JobExport)
		}
		if _, err := w.exporter.Export(ctx, j); err != nil {
			tb.Fatalf("export: %v", err)
		}
	}
}

// file files a visitor's request and returns its (unproved) public ID.
func (w *world) file(tb testing.TB, in requests.FileInput) string {
	tb.Helper()
	got, err := w.intake.File(ctx, in, nil, clientIP)
	if err != nil {
		tb.Fatalf("file %s: %v", in.Type, err)
	}
	return got.Request
}

// fileSignedIn files a signed-in person's request and returns its public ID.
func (w *world) fileSignedIn(tb testing.TB, c web.Caller, in requests.FileInput) string {
	tb.Helper()
	got, err := w.intake.File(ctx, in, &c, clientIP)
	if err != nil {
		tb.Fatalf("file %s signed in: %v", in.Type, err)
	}
	if got.Status != "verified" {
		tb.Fatalf("signed-in filing answered %q, want verified", got.Status)
	}
	return got.Request
}

// lastCode is the code of the latest request_code mail to addr.
func (w *world) lastCode(tb testing.TB, addr string) string {
	tb.Helper()
	ms := w.box.to(addr, mail.RequestCode)
	if len(ms) == 0 {
		tb.Fatalf("no request code mailed to %s", addr)
	}
	return ms[len(ms)-1].Data.Code
}

// proveVisitor files a visitor's request, mails its code, proves it and mails its receipt;
// it returns the request's final public ID and status token, from the receipt's link.
func (w *world) proveVisitor(tb testing.TB, in requests.FileInput) (id, token string) {
	tb.Helper()
	unproved := w.file(tb, in)
	w.drain(tb)
	if err := w.intake.Verify(ctx, unproved, requests.VerifyInput{Code: w.lastCode(tb, in.Email)}, clientIP); err != nil {
		tb.Fatalf("verify: %v", err)
	}
	w.drain(tb)
	return w.lastStatusLink(tb, in.Email)
}

// lastStatusLink is the ID and token of the status link in the latest receipt to addr.
func (w *world) lastStatusLink(tb testing.TB, addr string) (id, token string) {
	tb.Helper()
	ms := w.box.to(addr, mail.RequestReceipt)
	if len(ms) == 0 {
		tb.Fatalf("no receipt mailed to %s", addr)
	}
	return fragmentLink(tb, ms[len(ms)-1].Data.Link, "/requests/status/")
}

// fragmentLink checks a link to a site page whose id and token ride in the fragment.
func fragmentLink(tb testing.TB, link, page string) (id, token string) {
	tb.Helper()
	u, err := url.Parse(link)
	if err != nil || u.Scheme+"://"+u.Host != siteURL || !strings.HasSuffix(u.Path, page) || u.RawQuery != "" {
		tb.Fatalf("link %q is not the site's %s page with nothing in its query", link, page)
	}
	q, err := url.ParseQuery(u.Fragment)
	if err != nil || q.Get("id") == "" || q.Get("token") == "" {
		tb.Fatalf("link %q has no id and token in its fragment", link)
	}
	return q.Get("id"), q.Get("token")
}

// downloadLink checks an export mail's download link and returns its ID and token.
func downloadLink(tb testing.TB, link string) (id, token string) {
	tb.Helper()
	u, err := url.Parse(link)
	if err != nil || u.Scheme+"://"+u.Host != siteURL {
		tb.Fatalf("download link %q is not on the site", link)
	}
	id, ok := strings.CutPrefix(u.Path, "/api/exports/")
	if !ok || id == "" || u.Query().Get("token") == "" {
		tb.Fatalf("download link %q is not /api/exports/{id}?token=", link)
	}
	return id, u.Query().Get("token")
}

// split splits a public request ID.
func split(tb testing.TB, id string) (privacy.SubjectID, string) {
	tb.Helper()
	s, r, ok := requests.SplitID(id)
	if !ok {
		tb.Fatalf("%q is not a request ID", id)
	}
	return s, r
}

func (w *world) stored(tb testing.TB, id string) requests.Record {
	tb.Helper()
	s, r := split(tb, id)
	return w.store.record(tb, s, r)
}

// wantCode fails unless err is a privacy.Error with the code (and, if given, the field).
func wantCode(tb testing.TB, what string, err error, code privacy.Code, field string) *privacy.Error {
	tb.Helper()
	var pe *privacy.Error
	if !errors.As(err, &pe) || pe.Code != code || (field != "" && pe.Field != field) {
		tb.Fatalf("%s: %v, want %s on %q", what, err, code, field)
	}
	return pe
}

func wantField(tb testing.TB, what string, err error, field string) *privacy.Error {
	tb.Helper()
	return wantCode(tb, what, err, privacy.Invalid, field)
}

func statuses(steps []privacy.RequestStep) []privacy.RequestStatus {
	var out []privacy.RequestStatus
	for _, s := range steps {
		out = append(out, s.Status)
	}
	return out
}

// logs is everything the package logged during the tests (TestMain sends slog there).
var logs = &lockedBuffer{}

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func TestMain(m *testing.M) {
	slog.SetDefault(slog.New(slog.NewJSONHandler(logs, nil)))
	os.Exit(m.Run())
}

// sameJobs reports whether two lists of jobs are equal (a Job holds a slice, so == does not
// compare it); nil and empty are the same.
func sameJobs(a, b []jobs.Job) bool {
	return slices.EqualFunc(a, b, func(x, y jobs.Job) bool { return reflect.DeepEqual(x, y) })
}
