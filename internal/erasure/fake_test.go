package erasure_test

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/privacyportal/portal/internal/consent"
	"github.com/privacyportal/portal/internal/erasure"
	"github.com/privacyportal/portal/internal/jobs"
	"github.com/privacyportal/portal/internal/mail"
	"github.com/privacyportal/portal/internal/privacy"
	"github.com/privacyportal/portal/internal/requests"
)

var ctx = context.Background()

const siteURL = "https://portal.example.com"

var (
	testKey  = []byte(strings.Repeat("k", 32))
	testNow  = time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	errFault = errors.New("injected fault")
)

// faults fails chosen calls and keeps the order of the writes. Every fake names its calls
// ("CloseAccount", "exports.Delete", "Mail.Enqueue"...); the nth call of an operation set in
// at fails once, with errFault.
type faults struct {
	mu     sync.Mutex
	calls  map[string]int
	at     map[string]int
	writes []string
}

func newFaults() *faults { return &faults{calls: map[string]int{}, at: map[string]int{}} }

func (f *faults) hit(op string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls[op]++
	if n, ok := f.at[op]; ok && f.calls[op] == n {
		delete(f.at, op)
		return fmt.Errorf("%s: %w", op, errFault)
	}
	return nil
}

// failAt makes the nth call of op (counted from now on) fail once.
func (f *faults) failAt(op string, n int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.at[op] = f.calls[op] + n
}

func (f *faults) wrote(what string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.writes = append(f.writes, what)
}

func (f *faults) written() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.writes)
}

func (f *faults) counts() map[string]int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return maps.Clone(f.calls)
}

// Look-up places, as the fake keys them: place + "|" + key.
const (
	emailLookup    = "email look-up"
	pendingLookup  = "pending registration"
	usernameLookup = "username look-up"
)

// store is an in-memory fake of erasure.Store and erasure.NoticeStore (our own interfaces)
// with the contract their comments state: PutTombstone is conditional (privacy.ErrStale when
// there is one), SaveTombstone writes over one (privacy.NotFound when none, as the adapter),
// ForgetNotice is privacy.ErrStale without a notice, EraseSubject deletes the partition and
// only the look-ups that name the subject (look-ups first, as the adapter), CountItems counts
// the partition by kind and Remains names the places that still hold something.
type store struct {
	f          *faults
	mu         sync.Mutex
	tombstones map[string]privacy.Tombstone
	puts       []privacy.Tombstone // every tombstone PutTombstone wrote, as written
	accounts   map[privacy.SubjectID]privacy.Account
	requests   map[privacy.SubjectID][]requests.Record
	audit      map[privacy.SubjectID][]privacy.AuditEntry
	// items is each partition, as the kinds of its items.
	items   map[privacy.SubjectID][]string
	lookups map[string]privacy.SubjectID
	// lingering are places Remains reports, once EraseSubject ran for the subject, whatever is
	// left: for that many more calls (< 0: for ever), as an index slow to catch up, or a
	// partition a delete does not empty.
	lingering map[string]int
	erased    map[privacy.SubjectID]bool
	// searches counts the calls of Remains after EraseSubject: the verification's.
	searches int
}

var (
	_ erasure.Store       = (*store)(nil)
	_ erasure.NoticeStore = (*store)(nil)
	_ erasure.Objects     = (*bucket)(nil)
	_ erasure.Sender      = (*sender)(nil)
	_ jobs.Queue          = (*queue)(nil)
)

func newStore(f *faults) *store {
	return &store{
		f: f, tombstones: map[string]privacy.Tombstone{}, accounts: map[privacy.SubjectID]privacy.Account{},
		requests: map[privacy.SubjectID][]requests.Record{}, audit: map[privacy.SubjectID][]privacy.AuditEntry{},
		items: map[privacy.SubjectID][]string{}, lookups: map[string]privacy.SubjectID{}, lingering: map[string]int{},
		erased: map[privacy.SubjectID]bool{},
	}
}

var (
	errNoTombstone = privacy.Errorf(privacy.NotFound, "no such tombstone")
	errNoAccount   = privacy.Errorf(privacy.NotFound, "no such account")
	errNoRequest   = privacy.Errorf(privacy.NotFound, "no such request")
)

func cloneTombstone(t privacy.Tombstone) privacy.Tombstone {
	t.Items = maps.Clone(t.Items)
	t.RecipientsTold = slices.Clone(t.RecipientsTold)
	t.Found = slices.Clone(t.Found)
	if t.Notice != nil {
		n := *t.Notice
		n.Independent = slices.Clone(n.Independent)
		t.Notice = &n
	}
	return t
}

func (m *store) Tombstone(_ context.Context, request string) (privacy.Tombstone, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := m.f.hit("Tombstone"); err != nil {
		return privacy.Tombstone{}, err
	}
	t, ok := m.tombstones[request]
	if !ok {
		return privacy.Tombstone{}, errNoTombstone
	}
	return cloneTombstone(t), nil
}

func (m *store) PutTombstone(_ context.Context, t privacy.Tombstone) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := m.f.hit("PutTombstone"); err != nil {
		return err
	}
	if _, ok := m.tombstones[t.Request]; ok {
		return privacy.ErrStale
	}
	m.tombstones[t.Request] = cloneTombstone(t)
	m.puts = append(m.puts, cloneTombstone(t))
	m.f.wrote("PutTombstone")
	return nil
}

func (m *store) SaveTombstone(_ context.Context, t privacy.Tombstone) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := m.f.hit("SaveTombstone"); err != nil {
		return err
	}
	if _, ok := m.tombstones[t.Request]; !ok {
		return errNoTombstone
	}
	m.tombstones[t.Request] = cloneTombstone(t)
	m.f.wrote("SaveTombstone")
	return nil
}

func (m *store) ForgetNotice(_ context.Context, request string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := m.f.hit("ForgetNotice"); err != nil {
		return err
	}
	t, ok := m.tombstones[request]
	if !ok || t.Notice == nil {
		return privacy.ErrStale
	}
	t.Notice = nil
	m.tombstones[request] = t
	m.f.wrote("ForgetNotice")
	return nil
}

func (m *store) Request(_ context.Context, subject privacy.SubjectID, id string) (requests.Record, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := m.f.hit("Request"); err != nil {
		return requests.Record{}, err
	}
	for _, r := range m.requests[subject] {
		if r.ID == id {
			return r, nil
		}
	}
	return requests.Record{}, errNoRequest
}

func (m *store) Requests(_ context.Context, subject privacy.SubjectID) ([]requests.Record, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := m.f.hit("Requests"); err != nil {
		return nil, err
	}
	return slices.Clone(m.requests[subject]), nil
}

func (m *store) Account(_ context.Context, id privacy.SubjectID) (privacy.Account, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := m.f.hit("Account"); err != nil {
		return privacy.Account{}, err
	}
	a, ok := m.accounts[id]
	if !ok {
		return privacy.Account{}, errNoAccount
	}
	return a, nil
}

func (m *store) AuditTrail(_ context.Context, id privacy.SubjectID) ([]privacy.AuditEntry, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := m.f.hit("AuditTrail"); err != nil {
		return nil, err
	}
	return slices.Clone(m.audit[id]), nil
}

func (m *store) CloseAccount(_ context.Context, id privacy.SubjectID) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := m.f.hit("CloseAccount"); err != nil {
		return err
	}
	a, ok := m.accounts[id]
	if !ok {
		return errNoAccount
	}
	a.Status = privacy.StatusErasing
	m.accounts[id] = a
	m.f.wrote("CloseAccount")
	return nil
}

func (m *store) CountItems(_ context.Context, id privacy.SubjectID) (map[string]int, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := m.f.hit("CountItems"); err != nil {
		return nil, err
	}
	out := map[string]int{}
	for _, kind := range m.items[id] {
		out[kind]++
	}
	return out, nil
}

// lookupPlaces are the look-ups a subject's keys can name, as Remains names them.
func lookupPlaces(emailKey, usernameKey string) [][2]string {
	var out [][2]string
	if emailKey != "" {
		out = append(out, [2]string{emailLookup, emailLookup + "|" + emailKey}, [2]string{pendingLookup, pendingLookup + "|" + emailKey})
	}
	if usernameKey != "" {
		out = append(out, [2]string{usernameLookup, usernameLookup + "|" + usernameKey})
	}
	return out
}

// EraseSubject deletes the look-ups that name the subject, then the partition. The call
// "EraseSubject midway" fails it after it deleted the look-ups and half the items, as a
// Lambda timing out in the middle of the adapter's pages.
func (m *store) EraseSubject(_ context.Context, id privacy.SubjectID, emailKey, usernameKey string) (items, lookups int, err error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := m.f.hit("EraseSubject"); err != nil {
		return 0, 0, err
	}
	for _, l := range lookupPlaces(emailKey, usernameKey) {
		if owner, ok := m.lookups[l[1]]; ok && owner == id {
			delete(m.lookups, l[1])
			lookups++
		}
	}
	m.f.wrote("EraseSubject")
	m.erased[id] = true
	all := m.items[id]
	if err := m.f.hit("EraseSubject midway"); err != nil {
		half := len(all) / 2
		m.items[id] = all[half:]
		return half, lookups, err
	}
	delete(m.items, id)
	delete(m.accounts, id)
	delete(m.requests, id)
	delete(m.audit, id)
	return len(all), lookups, nil
}

func (m *store) Remains(_ context.Context, id privacy.SubjectID, emailKey, usernameKey string) ([]string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := m.f.hit("Remains"); err != nil {
		return nil, err
	}
	if m.erased[id] {
		m.searches++
	}
	var found []string
	if len(m.items[id]) > 0 {
		found = append(found, "partition")
	}
	for _, l := range lookupPlaces(emailKey, usernameKey) {
		if m.lookups[l[1]] == id {
			found = append(found, l[0])
		}
	}
	for _, place := range slices.Sorted(maps.Keys(m.lingering)) {
		n := m.lingering[place]
		if !m.erased[id] || n == 0 || slices.Contains(found, place) {
			continue
		}
		found = append(found, place)
		if n > 0 {
			m.lingering[place] = n - 1
		}
	}
	return found, nil
}

func (m *store) linger(place string, calls int) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.lingering[place] = calls
}

func (m *store) tombstone(tb testing.TB, request string) privacy.Tombstone {
	tb.Helper()
	m.mu.Lock()
	defer m.mu.Unlock()
	t, ok := m.tombstones[request]
	if !ok {
		tb.Fatalf("no tombstone for request %s", request)
	}
	return cloneTombstone(t)
}

func (m *store) tombstoneCount() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.tombstones)
}

// holds reports whether anything of the subject is left: items, an account, requests, look-ups.
func (m *store) holds(id privacy.SubjectID) []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []string
	if len(m.items[id]) > 0 {
		out = append(out, fmt.Sprintf("%d items", len(m.items[id])))
	}
	if _, ok := m.accounts[id]; ok {
		out = append(out, "account")
	}
	if len(m.requests[id]) > 0 {
		out = append(out, "requests")
	}
	for _, k := range slices.Sorted(maps.Keys(m.lookups)) {
		if m.lookups[k] == id {
			out = append(out, k)
		}
	}
	return out
}

// bucket is a fake erasure.Objects. Keys in stuck are not deleted by Delete (which succeeds),
// as an object a delete did not reach.
type bucket struct {
	name    string
	f       *faults
	mu      sync.Mutex
	objects map[string][]byte
	stuck   map[string]bool
}

func newBucket(name string, f *faults) *bucket {
	return &bucket{name: name, f: f, objects: map[string][]byte{}, stuck: map[string]bool{}}
}

func (b *bucket) List(_ context.Context, prefix string) ([]string, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if err := b.f.hit(b.name + ".List"); err != nil {
		return nil, err
	}
	var out []string
	for _, k := range slices.Sorted(maps.Keys(b.objects)) {
		if strings.HasPrefix(k, prefix) {
			out = append(out, k)
		}
	}
	return out, nil
}

func (b *bucket) Exists(_ context.Context, key string) (bool, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if err := b.f.hit(b.name + ".Exists"); err != nil {
		return false, err
	}
	_, ok := b.objects[key]
	return ok, nil
}

func (b *bucket) Delete(_ context.Context, key string) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if err := b.f.hit(b.name + ".Delete"); err != nil {
		return err
	}
	if !b.stuck[key] {
		delete(b.objects, key)
	}
	b.f.wrote(b.name + ".Delete " + key)
	return nil
}

func (b *bucket) Put(_ context.Context, key string, body []byte) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if err := b.f.hit(b.name + ".Put"); err != nil {
		return err
	}
	b.objects[key] = slices.Clone(body)
	b.f.wrote(b.name + ".Put " + key)
	return nil
}

func (b *bucket) put(key, body string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.objects[key] = []byte(body)
}

func (b *bucket) get(key string) ([]byte, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	body, ok := b.objects[key]
	return body, ok
}

func (b *bucket) keys() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return slices.Sorted(maps.Keys(b.objects))
}

// queue is a recording jobs.Queue: the mail worker's.
type queue struct {
	f    *faults
	mu   sync.Mutex
	jobs []jobs.Job
}

func (q *queue) Enqueue(_ context.Context, j jobs.Job) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	if err := q.f.hit("Mail.Enqueue"); err != nil {
		return err
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

func (q *queue) len() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return len(q.jobs)
}

// sender is a fake Sender: it renders each mail (so a mail with a hole fails) and keeps it.
type sender struct {
	f    *faults
	mu   sync.Mutex
	sent []mail.Message
}

var testOperator = mail.Operator{Name: "Example Co.", Contact: "privacy@example.com", SiteURL: siteURL}

func (s *sender) Send(_ context.Context, m mail.Message) error {
	if _, err := mail.Render(testOperator, m); err != nil {
		return err
	}
	if err := s.f.hit("Send"); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sent = append(s.sent, m)
	return nil
}

func (s *sender) mails() []mail.Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.sent)
}

// world is an Eraser and a Notifier on fakes, as the erasure and mail functions wire them.
type world struct {
	keys     *privacy.Keyed
	f        *faults
	store    *store
	exports  *bucket
	outbox   *bucket
	mail     *queue
	sender   *sender
	env      *requests.Env
	eraser   *erasure.Eraser
	notifier *erasure.Notifier
}

const backupDays = 35

func newWorld(tb testing.TB) *world {
	tb.Helper()
	keys, err := privacy.NewKeyed(testKey)
	if err != nil {
		tb.Fatal(err)
	}
	f := newFaults()
	w := &world{keys: keys, f: f, store: newStore(f), exports: newBucket("exports", f), outbox: newBucket("outbox", f),
		mail: &queue{f: f}, sender: &sender{f: f}}
	now := func() time.Time { return testNow }
	w.env = &requests.Env{Keys: keys, Now: now, Config: requests.Config{SiteURL: siteURL, ResponseDays: 30}}
	w.eraser = &erasure.Eraser{
		Keys: keys, Store: w.store, Exports: w.exports, Outbox: w.outbox, Mail: w.mail, Requests: w.env, Now: now,
		Config: erasure.Config{TombstoneRetention: 400 * 24 * time.Hour},
	}
	w.notifier = &erasure.Notifier{Store: w.store, Sender: w.sender, SiteURL: func() string { return siteURL }, BackupDays: backupDays}
	return w
}

// person is a subject the tests erase, and what identifies them.
type person struct {
	id                    privacy.SubjectID
	email, name, username string
	emailKey, usernameKey string
}

// addAccount adds an active account with its look-ups and a few items of its partition.
func (w *world) addAccount(tb testing.TB, email, name, username, locale string) person {
	tb.Helper()
	p := person{id: privacy.NewSubjectID(), email: email, name: name, username: username,
		emailKey: w.keys.EmailKey(email), usernameKey: w.keys.UsernameKey(username)}
	m := w.store
	m.mu.Lock()
	defer m.mu.Unlock()
	m.accounts[p.id] = privacy.Account{SubjectID: p.id, Status: privacy.StatusActive, EmailVerified: true,
		Profile:  privacy.Profile{Name: name, Email: email, Username: username, Locale: locale, AgeGroup: privacy.AgeAdult},
		EmailKey: p.emailKey, UsernameKey: p.usernameKey}
	m.items[p.id] = append(m.items[p.id], "profile", "consent", "consent", "session")
	m.lookups[emailLookup+"|"+p.emailKey] = p.id
	m.lookups[usernameLookup+"|"+p.usernameKey] = p.id
	return p
}

// addRequest adds a request to a subject's partition.
func (w *world) addRequest(subject privacy.SubjectID, r requests.Record) requests.Record {
	if r.ID == "" {
		r.ID = privacy.NewID()
	}
	r.Subject = subject
	if r.Locale == "" {
		r.Locale = privacy.LocaleEnglish
	}
	if r.Received.IsZero() {
		r.Received = testNow.Add(-48 * time.Hour)
		r.Due = privacy.DueDateIn(r.Received, 30)
	}
	m := w.store
	m.mu.Lock()
	defer m.mu.Unlock()
	m.requests[subject] = append(m.requests[subject], r)
	m.items[subject] = append(m.items[subject], "request")
	return r
}

// erasureRequest adds a request of the type, in progress (as requests.Env.erase leaves it),
// and returns it with its erasure job.
func (w *world) erasureRequest(p person, typ privacy.RequestType, locale string) (requests.Record, jobs.Job) {
	r := requests.Record{Request: privacy.Request{Type: typ, Status: privacy.RequestInProgress, Email: p.email, Locale: locale}}
	if typ == privacy.RequestDeletion {
		r.Ground = privacy.GroundLeftService
	}
	r = w.addRequest(p.id, r)
	return r, jobs.Job{Kind: requests.JobErase, Subject: p.id, Request: r.ID, At: testNow}
}

// disclosureKey is where a recipient collects what is disclosed to it about a person, as
// consent.Discloser writes it.
func (w *world) disclosureKey(recipient string, id privacy.SubjectID) (key, pseudonym string) {
	pseudonym = w.keys.Hash(privacy.DomainPseudonym, recipient+"|"+string(id))
	return recipient + "/" + pseudonym + ".json", pseudonym
}

// disclose records a disclosure in the audit trail, as consent.Discloser does; uncollected
// leaves its object in the outbox.
func (w *world) disclose(p person, recipient string, uncollected bool) {
	m := w.store
	m.mu.Lock()
	m.audit[p.id] = append(m.audit[p.id], privacy.AuditEntry{
		At: testNow.Add(-time.Hour), Action: consent.ActionDisclosed, Fields: []string{"recipient:" + recipient, "email", "name"}, ID: privacy.NewID(),
	})
	m.items[p.id] = append(m.items[p.id], "audit")
	m.mu.Unlock()
	if uncollected {
		key, _ := w.disclosureKey(recipient, p.id)
		w.outbox.put(key, fmt.Sprintf(`{"subject":%q,"fields":{"email":%q,"name":%q}}`, p.id, p.email, p.name))
	}
}

func (w *world) archive(p person, name string) string {
	key := requests.ArchivePrefix(p.id) + name + ".zip"
	w.exports.put(key, "PK archive of "+p.name)
	return key
}

// notify runs every queued job through the Notifier, as the mail function would.
func (w *world) notify(tb testing.TB) {
	tb.Helper()
	for _, j := range w.mail.take() {
		if !w.notifier.Handles(j.Kind) {
			tb.Fatalf("job %s on the mail queue is not the Notifier's", j.Kind)
		}
		if err := w.notifier.Do(ctx, j); err != nil {
			tb.Fatalf("notify %s: %v", j.Request, err)
		}
	}
}

// recipientIDs are the catalogue's recipients, sorted.
func recipientIDs(tb testing.TB) []string {
	tb.Helper()
	var out []string
	for _, p := range privacy.Catalogue().Purposes {
		if p.Recipient != nil && !slices.Contains(out, p.Recipient.ID) {
			out = append(out, p.Recipient.ID)
		}
	}
	if len(out) < 2 {
		tb.Fatalf("the catalogue has %d recipients; these tests need two", len(out))
	}
	slices.Sort(out)
	return out
}

func recipientName(tb testing.TB, id, locale string) string {
	tb.Helper()
	for _, p := range privacy.Catalogue().Purposes {
		if p.Recipient != nil && p.Recipient.ID == id {
			return p.Recipient.Name[locale]
		}
	}
	tb.Fatalf("no recipient %s in the catalogue", id)
	return ""
}
