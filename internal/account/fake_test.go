package account_test

import (
	"context"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/privacyportal/portal/internal/account"
	"github.com/privacyportal/portal/internal/mail"
	"github.com/privacyportal/portal/internal/password"
	"github.com/privacyportal/portal/internal/password/strength"
	"github.com/privacyportal/portal/internal/policy"
	"github.com/privacyportal/portal/internal/privacy"
	"github.com/privacyportal/portal/internal/ratelimit"
	"github.com/privacyportal/portal/internal/web"
)

// memStore is an in-memory fake of the account package's store interfaces (our own, not an
// AWS API): the same rules as the DynamoDB adapter (unique look-ups, single-use codes, attempt
// limits, erasure claims), without the emulator, so the services' rules test in milliseconds.
type memStore struct {
	mu        sync.Mutex
	accounts  map[privacy.SubjectID]privacy.Account
	passwords map[privacy.SubjectID]string
	verifies  map[privacy.SubjectID]map[privacy.VerificationKind]privacy.Verification
	guardians map[privacy.SubjectID]privacy.GuardianRequest
	optional  map[privacy.SubjectID]map[string]privacy.OptionalValue
	consents  map[privacy.SubjectID][]privacy.ConsentEntry
	audit     map[privacy.SubjectID][]privacy.AuditEntry
	sessions  map[privacy.SubjectID]map[string]privacy.Session
	sweepAt   map[privacy.SubjectID]time.Time
	emails    map[string]privacy.SubjectID // proved addresses
	pending   map[string]privacy.SubjectID // the registration waiting for each address
	usernames map[string]lookup
	counts    map[string]int
	// writes counts every write, by method name.
	writes map[string]int
	// fail, when set, is returned by the named method instead of doing anything.
	fail map[string]error
}

type lookup struct {
	id    privacy.SubjectID
	until time.Time // a reservation, when id is empty
}

func newMemStore() *memStore {
	return &memStore{
		accounts: map[privacy.SubjectID]privacy.Account{}, passwords: map[privacy.SubjectID]string{},
		verifies: map[privacy.SubjectID]map[privacy.VerificationKind]privacy.Verification{}, guardians: map[privacy.SubjectID]privacy.GuardianRequest{},
		optional: map[privacy.SubjectID]map[string]privacy.OptionalValue{}, consents: map[privacy.SubjectID][]privacy.ConsentEntry{},
		audit: map[privacy.SubjectID][]privacy.AuditEntry{}, sessions: map[privacy.SubjectID]map[string]privacy.Session{},
		sweepAt: map[privacy.SubjectID]time.Time{}, emails: map[string]privacy.SubjectID{}, pending: map[string]privacy.SubjectID{}, usernames: map[string]lookup{},
		counts: map[string]int{}, writes: map[string]int{}, fail: map[string]error{},
	}
}

var errNotFound = privacy.Errorf(privacy.NotFound, "no such account")

func (m *memStore) wrote(op string) error {
	if err := m.fail[op]; err != nil {
		return err
	}
	m.writes[op]++
	return nil
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

func (m *memStore) usernameFree(key string, now time.Time) bool {
	l, ok := m.usernames[key]
	return !ok || (l.id == "" && l.until.Before(now))
}

func (m *memStore) Register(_ context.Context, r privacy.Registration) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	a := r.Account
	switch {
	case m.fail["Register"] != nil:
		return m.fail["Register"]
	case !m.usernameFree(a.UsernameKey, a.CreatedAt):
		return privacy.ErrUsernameTaken
	case m.pending[a.EmailKey] != r.Replaces:
		return privacy.ErrChanged
	case r.Replaces != "" && m.accounts[r.Replaces].Status != privacy.StatusUnverified:
		return privacy.ErrChanged
	}
	m.writes["Register"]++
	id := a.SubjectID
	if r.Replaces != "" {
		old := m.accounts[r.Replaces]
		old.Status = privacy.StatusErasing
		m.accounts[r.Replaces] = old
	}
	m.pending[a.EmailKey] = id
	m.usernames[a.UsernameKey] = lookup{id: id}
	m.accounts[id] = a
	m.passwords[id] = r.PasswordHash
	m.verifies[id] = map[privacy.VerificationKind]privacy.Verification{}
	if r.Guardian != nil {
		m.guardians[id] = *r.Guardian
	}
	m.optional[id] = map[string]privacy.OptionalValue{}
	for k, v := range r.Optional {
		m.optional[id][k] = v
	}
	m.consents[id] = slices.Clone(r.Consents)
	m.audit[id] = []privacy.AuditEntry{r.Audit}
	m.sweepAt[id] = r.SweepAt
	return nil
}

func (m *memStore) AddressOwners(_ context.Context, key string) (privacy.AddressOwners, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := m.fail["AddressOwners"]; err != nil {
		return privacy.AddressOwners{}, err
	}
	return privacy.AddressOwners{Owner: m.emails[key], Pending: m.pending[key]}, nil
}

func (m *memStore) Pending(_ context.Context, id privacy.SubjectID) (privacy.Pending, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	a, ok := m.accounts[id]
	if !ok {
		return privacy.Pending{}, errNotFound
	}
	p := privacy.Pending{Account: a, PasswordHash: m.passwords[id]}
	if v, ok := m.verifies[id][privacy.VerifyEmail]; ok {
		p.Verification = &v
	}
	return p, nil
}

func (m *memStore) Retire(_ context.Context, id privacy.SubjectID, until time.Time) error {
	m.mu.Lock()
	a, ok := m.accounts[id]
	if ok {
		if l := m.usernames[a.UsernameKey]; l.id == id {
			m.usernames[a.UsernameKey] = lookup{until: until}
		}
		if m.pending[a.EmailKey] == id {
			delete(m.pending, a.EmailKey)
		}
	}
	m.writes["Retire"]++
	m.mu.Unlock()
	_, err := m.DeleteSubject(context.Background(), id)
	return err
}

func (m *memStore) SubjectByEmail(_ context.Context, key string) (privacy.SubjectID, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if id := m.emails[key]; id != "" {
		return id, nil
	}
	return "", errNotFound
}

func (m *memStore) SubjectByUsername(_ context.Context, key string) (privacy.SubjectID, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if l := m.usernames[key]; l.id != "" {
		return l.id, nil
	}
	return "", errNotFound
}

func (m *memStore) Account(_ context.Context, id privacy.SubjectID) (privacy.Account, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := m.fail["Account"]; err != nil {
		return privacy.Account{}, err
	}
	a, ok := m.accounts[id]
	if !ok {
		return privacy.Account{}, errNotFound
	}
	return a, nil
}

func (m *memStore) Login(_ context.Context, id privacy.SubjectID) (privacy.Login, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	a, ok := m.accounts[id]
	if !ok {
		return privacy.Login{}, errNotFound
	}
	return privacy.Login{Account: a, PasswordHash: m.passwords[id]}, nil
}

func (m *memStore) Verification(_ context.Context, id privacy.SubjectID, kind privacy.VerificationKind) (privacy.Verification, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	v, ok := m.verifies[id][kind]
	if !ok {
		return privacy.Verification{}, privacy.Errorf(privacy.NotFound, "no pending verification")
	}
	return v, nil
}

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

// consume is the single use of a verification: it must still hold the same code, alive.
func (m *memStore) consume(id privacy.SubjectID, v privacy.Verification) bool {
	cur, ok := m.verifies[id][v.Kind]
	if !ok || cur.CodeHash != v.CodeHash || cur.Attempts >= privacy.MaxCodeAttempts {
		return false
	}
	delete(m.verifies[id], v.Kind)
	return true
}

// settle is the DynamoDB adapter's settle: the other flag must be as read, and the account
// not being erased.
func (m *memStore) settle(id privacy.SubjectID, otherNow, otherRead bool, status privacy.AccountStatus, set func(*privacy.Account)) error {
	a, ok := m.accounts[id]
	if !ok || a.Status == privacy.StatusErasing || otherNow != otherRead {
		return privacy.ErrChanged
	}
	set(&a)
	a.Status = status
	m.accounts[id] = a
	if status == privacy.StatusActive {
		delete(m.sweepAt, id)
	}
	return nil
}

func (m *memStore) VerifyEmail(_ context.Context, id privacy.SubjectID, v privacy.Verification, guardianConfirmed bool, status privacy.AccountStatus, audit privacy.AuditEntry) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := m.wrote("VerifyEmail"); err != nil {
		return err
	}
	cur, ok := m.verifies[id][v.Kind]
	if !ok || cur.CodeHash != v.CodeHash || cur.Attempts >= privacy.MaxCodeAttempts {
		return privacy.ErrStale
	}
	a := m.accounts[id]
	if m.emails[a.EmailKey] != "" {
		return privacy.ErrEmailTaken
	}
	if m.pending[a.EmailKey] != id {
		return privacy.ErrStale
	}
	if err := m.settle(id, a.GuardianConfirmed, guardianConfirmed, status, func(a *privacy.Account) { a.EmailVerified = true }); err != nil {
		return err
	}
	m.consume(id, v)
	m.emails[a.EmailKey] = id
	delete(m.pending, a.EmailKey)
	m.audit[id] = append(m.audit[id], audit)
	return nil
}

func (m *memStore) Guardian(_ context.Context, id privacy.SubjectID) (privacy.GuardianRequest, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	g, ok := m.guardians[id]
	if !ok {
		return privacy.GuardianRequest{}, privacy.Errorf(privacy.NotFound, "no pending guardian request")
	}
	return g, nil
}

func (m *memStore) ConfirmGuardian(_ context.Context, id privacy.SubjectID, tokenHash string, emailVerified bool, status privacy.AccountStatus, consent privacy.ConsentEntry, audit privacy.AuditEntry) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := m.wrote("ConfirmGuardian"); err != nil {
		return err
	}
	g, ok := m.guardians[id]
	if !ok || g.TokenHash == "" || g.TokenHash != tokenHash {
		return privacy.ErrStale
	}
	if err := m.settle(id, m.accounts[id].EmailVerified, emailVerified, status, func(a *privacy.Account) { a.GuardianConfirmed = true }); err != nil {
		return err
	}
	g.TokenHash, g.Decision = "", privacy.GuardianConfirmed
	m.guardians[id] = g
	m.consents[id] = append(m.consents[id], consent)
	m.audit[id] = append(m.audit[id], audit)
	return nil
}

func (m *memStore) RefuseGuardian(_ context.Context, id privacy.SubjectID, tokenHash string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	g, ok := m.guardians[id]
	if !ok || g.TokenHash == "" || g.TokenHash != tokenHash {
		return privacy.ErrStale
	}
	if err := m.wrote("RefuseGuardian"); err != nil {
		return err
	}
	g.TokenHash, g.Decision = "", privacy.GuardianRefused
	m.guardians[id] = g
	a := m.accounts[id]
	a.Status = privacy.StatusErasing
	m.accounts[id] = a
	return nil
}

func (m *memStore) SetGuardianToken(_ context.Context, id privacy.SubjectID, tokenHash string, expires time.Time) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	g, ok := m.guardians[id]
	if !ok || g.Decision != "" {
		return privacy.ErrStale
	}
	m.writes["SetGuardianToken"]++
	g.TokenHash, g.ExpiresAt = tokenHash, expires
	m.guardians[id] = g
	return nil
}

func (m *memStore) DeleteGuardian(_ context.Context, id privacy.SubjectID) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.writes["DeleteGuardian"]++
	delete(m.guardians, id)
	return nil
}

func (m *memStore) Rehash(_ context.Context, id privacy.SubjectID, old, new string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.passwords[id] != old {
		return privacy.ErrStale
	}
	m.writes["Rehash"]++
	m.passwords[id] = new
	return nil
}

func (m *memStore) SetPassword(_ context.Context, id privacy.SubjectID, hash string, consume *privacy.Verification, audit privacy.AuditEntry) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := m.wrote("SetPassword"); err != nil {
		return err
	}
	if consume != nil && !m.consume(id, *consume) {
		return privacy.ErrStale
	}
	m.passwords[id] = hash
	m.audit[id] = append(m.audit[id], audit)
	return nil
}

func (m *memStore) PutSession(_ context.Context, id privacy.SubjectID, s privacy.Session) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := m.wrote("PutSession"); err != nil {
		return err
	}
	if m.sessions[id] == nil {
		m.sessions[id] = map[string]privacy.Session{}
	}
	m.sessions[id][s.TokenHash] = s
	return nil
}

func (m *memStore) Session(_ context.Context, id privacy.SubjectID, hash string, now time.Time) (privacy.Session, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	s, ok := m.sessions[id][hash]
	if !ok || !now.Before(s.ExpiresAt) {
		return privacy.Session{}, privacy.ErrStale
	}
	return s, nil
}

func (m *memStore) DeleteSession(_ context.Context, id privacy.SubjectID, hash string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := m.wrote("DeleteSession"); err != nil {
		return err
	}
	delete(m.sessions[id], hash)
	return nil
}

func (m *memStore) DeleteSessions(_ context.Context, id privacy.SubjectID, keep string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := m.wrote("DeleteSessions"); err != nil {
		return err
	}
	for h := range m.sessions[id] {
		if h != keep {
			delete(m.sessions[id], h)
		}
	}
	return nil
}

func (m *memStore) Record(_ context.Context, id privacy.SubjectID, now time.Time) (privacy.Record, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	a, ok := m.accounts[id]
	if !ok {
		return privacy.Record{}, errNotFound
	}
	r := privacy.Record{Account: a, Optional: map[string]privacy.OptionalValue{}, Consents: slices.Clone(m.consents[id]),
		Audit: slices.Clone(m.audit[id]), Verifications: map[privacy.VerificationKind]privacy.Verification{}}
	for k, v := range m.optional[id] {
		r.Optional[k] = v
	}
	for k, v := range m.verifies[id] {
		r.Verifications[k] = v
	}
	for _, s := range m.sessions[id] {
		if now.Before(s.ExpiresAt) {
			r.Sessions = append(r.Sessions, s)
		}
	}
	if g, ok := m.guardians[id]; ok {
		r.Guardian = &g
	}
	return r, nil
}

func (m *memStore) Editable(ctx context.Context, id privacy.SubjectID) (privacy.Editable, error) {
	r, err := m.Record(ctx, id, time.Time{})
	m.mu.Lock()
	defer m.mu.Unlock()
	return privacy.Editable{Account: r.Account, PasswordHash: m.passwords[id], Optional: r.Optional, Consents: r.Consents}, err
}

func (m *memStore) Update(_ context.Context, id privacy.SubjectID, c privacy.AccountChange) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := m.fail["Update"]; err != nil {
		return err
	}
	a, ok := m.accounts[id]
	if !ok {
		return privacy.ErrStale
	}
	if c.Username != nil && c.UsernameKey != c.OldUsernameKey {
		if !m.usernameFree(c.UsernameKey, c.Audit.At) {
			return privacy.ErrUsernameTaken
		}
		if a.UsernameKey != c.OldUsernameKey {
			return privacy.ErrStale
		}
		delete(m.usernames, c.OldUsernameKey)
		m.usernames[c.UsernameKey] = lookup{id: id}
		a.Profile.Username, a.UsernameKey = *c.Username, c.UsernameKey
	}
	m.writes["Update"]++
	if c.Name != nil {
		a.Profile.Name = *c.Name
	}
	if c.Locale != nil {
		a.Profile.Locale = *c.Locale
	}
	if c.PendingEmail != nil {
		a.PendingEmail = *c.PendingEmail
	}
	m.accounts[id] = a
	for k, v := range c.SetOptional {
		m.optional[id][k] = v
	}
	for _, k := range c.DeleteOptional {
		delete(m.optional[id], k)
	}
	m.consents[id] = append(m.consents[id], c.Consents...)
	if c.Verification != nil {
		m.verifies[id][c.Verification.Kind] = *c.Verification
	}
	m.audit[id] = append(m.audit[id], c.Audit)
	return nil
}

func (m *memStore) ConfirmNewEmail(_ context.Context, id privacy.SubjectID, v privacy.Verification, oldEmailKey string, audit privacy.AuditEntry) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.emails[v.NewEmailKey] != "" {
		return privacy.ErrEmailTaken
	}
	if !m.consume(id, v) {
		return privacy.ErrStale
	}
	m.writes["ConfirmNewEmail"]++
	delete(m.emails, oldEmailKey)
	m.emails[v.NewEmailKey] = id
	a := m.accounts[id]
	a.Profile.Email, a.EmailKey, a.PendingEmail = v.NewEmail, v.NewEmailKey, ""
	m.accounts[id] = a
	m.audit[id] = append(m.audit[id], audit)
	return nil
}

func (m *memStore) DeleteSubject(_ context.Context, id privacy.SubjectID) (int, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := m.wrote("DeleteSubject"); err != nil {
		return 0, err
	}
	a, ok := m.accounts[id]
	if !ok {
		return 0, nil
	}
	// Look-ups go only if they are still this subject's, as in the adapter.
	if m.emails[a.EmailKey] == id {
		delete(m.emails, a.EmailKey)
	}
	if m.pending[a.EmailKey] == id {
		delete(m.pending, a.EmailKey)
	}
	if m.usernames[a.UsernameKey].id == id {
		delete(m.usernames, a.UsernameKey)
	}
	for _, mp := range []any{m.accounts, m.passwords, m.verifies, m.guardians, m.optional, m.consents, m.audit, m.sessions, m.sweepAt} {
		switch mp := mp.(type) {
		case map[privacy.SubjectID]privacy.Account:
			delete(mp, id)
		case map[privacy.SubjectID]string:
			delete(mp, id)
		case map[privacy.SubjectID]map[privacy.VerificationKind]privacy.Verification:
			delete(mp, id)
		case map[privacy.SubjectID]privacy.GuardianRequest:
			delete(mp, id)
		case map[privacy.SubjectID]map[string]privacy.OptionalValue:
			delete(mp, id)
		case map[privacy.SubjectID][]privacy.ConsentEntry:
			delete(mp, id)
		case map[privacy.SubjectID][]privacy.AuditEntry:
			delete(mp, id)
		case map[privacy.SubjectID]map[string]privacy.Session:
			delete(mp, id)
		case map[privacy.SubjectID]time.Time:
			delete(mp, id)
		}
	}
	return 1, nil
}

func (m *memStore) MarkErasing(_ context.Context, id privacy.SubjectID) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	a, ok := m.accounts[id]
	if !ok || a.Status == privacy.StatusActive {
		return privacy.ErrStale
	}
	if err := m.wrote("MarkErasing"); err != nil {
		return err
	}
	a.Status = privacy.StatusErasing
	m.accounts[id] = a
	return nil
}

func (m *memStore) DueForSweep(_ context.Context, now time.Time, limit int32) ([]privacy.SubjectID, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := m.fail["DueForSweep"]; err != nil {
		return nil, err
	}
	var ids []privacy.SubjectID
	for id, at := range m.sweepAt {
		if !at.After(now) && len(ids) < int(limit) {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	return ids, nil
}

// Hit is a fixed window per bucket, as the adapter's.
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

// outbox is a fake Mailer: it renders each mail (so a mail with a hole fails the test) and
// keeps it.
type outbox struct {
	mu   sync.Mutex
	sent []mail.Message
	fail error
}

var testOperator = mail.Operator{Name: "Example Co.", Contact: "privacy@example.com", SiteURL: "https://portal.example.com"}

func (o *outbox) Send(_ context.Context, m mail.Message) error {
	if _, err := mail.Render(testOperator, m); err != nil {
		return err
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.fail != nil {
		return o.fail
	}
	o.sent = append(o.sent, m)
	return nil
}

// to returns the mails of a kind sent to addr.
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

func (o *outbox) count() int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return len(o.sent)
}

type fixedPolicy struct{ err error }

func (p fixedPolicy) InForce(context.Context) (policy.Version, error) {
	return policy.Version{ID: "1.0"}, p.err
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

// queue is a fake of our own Jobs interface: it keeps the jobs for the test to run through
// the mail worker, as SQS hands them to the mail function.
type queue struct {
	mu   sync.Mutex
	jobs []account.Job
	fail error
}

func (q *queue) Enqueue(_ context.Context, j account.Job) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.fail != nil {
		return q.fail
	}
	q.jobs = append(q.jobs, j)
	return nil
}

func (q *queue) take() []account.Job {
	q.mu.Lock()
	defer q.mu.Unlock()
	jobs := q.jobs
	q.jobs = nil
	return jobs
}

// world is every account service on one fake store, as the functions wire them.
type world struct {
	store     *memStore
	box       *outbox
	jobs      *queue
	clock     *clock
	env       *account.Env
	register  *account.Registrar
	verify    *account.Verifier
	sessions  *account.SessionManager
	profile   *account.ProfileManager
	passwords *account.PasswordManager
	guardian  *account.GuardianManager
	worker    *account.MailWorker
	sweeper   *account.Sweeper
	handler   *account.Handler
}

// drain runs every queued job through the mail worker, as the mail function would, until the
// queue is empty (a job may queue none; none queues another today).
func (w *world) drain(tb testing.TB) {
	tb.Helper()
	for {
		jobs := w.jobs.take()
		if len(jobs) == 0 {
			return
		}
		for _, j := range jobs {
			if err := w.worker.Do(ctx, j); err != nil {
				tb.Fatalf("job %s: %v", j.Kind, err)
			}
		}
	}
}

// cheapArgon2 keeps hashing fast in tests: the rules, not the cost, are under test here.
var cheapArgon2 = password.Argon2Params{Memory: 64, Time: 1, Threads: 1}

func newWorld(tb testing.TB) *world {
	tb.Helper()
	keys, err := privacy.NewKeyed([]byte(strings.Repeat("k", 32)))
	if err != nil {
		tb.Fatal(err)
	}
	w := &world{store: newMemStore(), box: &outbox{}, jobs: &queue{}, clock: &clock{t: time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)}}
	w.env = &account.Env{
		Keys: keys, Limits: account.DefaultLimits, Jobs: w.jobs, Policies: fixedPolicy{}, Now: w.clock.Now,
		PasswordRule: strength.Validate,
		Limiter:      &ratelimit.Limiter{Counter: w.store, Keys: keys, Now: w.clock.Now},
		Config: account.Config{
			SiteURL: "https://portal.example.com", CodeTTL: 15 * time.Minute, SessionTTL: 12 * time.Hour,
			PendingFor: 7 * 24 * time.Hour, Argon2: cheapArgon2,
		},
	}
	w.register = &account.Registrar{Env: w.env, Store: w.store}
	w.verify = &account.Verifier{Env: w.env, Store: w.store}
	w.sessions = &account.SessionManager{Env: w.env, Store: w.store}
	w.profile = &account.ProfileManager{Env: w.env, Store: w.store}
	w.passwords = &account.PasswordManager{Env: w.env, Store: w.store}
	w.guardian = &account.GuardianManager{Env: w.env, Store: w.store}
	w.worker = &account.MailWorker{Env: w.env, Store: w.store, Sender: w.box}
	w.sweeper = &account.Sweeper{Store: w.store, Now: w.clock.Now}
	w.handler = &account.Handler{
		Register: w.register, Verify: w.verify, Sessions: w.sessions, Profile: w.profile, Passwords: w.passwords,
		Guardian: w.guardian, Guard: web.Guard{SiteURL: w.env.Config.SiteURL},
	}
	return w
}
