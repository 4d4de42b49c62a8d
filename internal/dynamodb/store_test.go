package dynamodb_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	ddb "github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/privacyportal/portal/infra/localcloud"
	"github.com/privacyportal/portal/internal/dynamodb"
	"github.com/privacyportal/portal/internal/privacy"
)

var tables *localcloud.Cloud

// TestMain starts DynamoDB Local with the template's table, once for the package.
func TestMain(m *testing.M) {
	_, file, _, _ := runtime.Caller(0)
	root := filepath.Join(filepath.Dir(file), "..", "..")
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	var err error
	tables, err = localcloud.StartServices(ctx, localcloud.Config{Root: root}, "dynamodb")
	cancel()
	if err != nil {
		fmt.Fprintln(os.Stderr, "start DynamoDB Local:", err)
		os.Exit(1)
	}
	code := m.Run()
	tables.Close()
	os.Exit(code)
}

func newStore() *dynamodb.Store {
	return &dynamodb.Store{Client: tables.DynamoDB, Table: tables.Names["PortalTable"]}
}

var seq int64

func registration(email, username string) privacy.Registration {
	seq++
	now := time.Now().UTC()
	id := privacy.NewSubjectID()
	return privacy.Registration{
		Account: privacy.Account{
			SubjectID: id, Status: privacy.StatusUnverified, CreatedAt: now,
			Profile:  privacy.Profile{Name: "Ada", Email: email, Username: username, Locale: "en", AgeGroup: privacy.AgeAdult},
			EmailKey: "e-" + email, UsernameKey: "u-" + username,
		},
		Optional:     map[string]privacy.OptionalValue{"mobile": {Value: "+1 555 0100", ConsentedAt: now, PolicyVersion: "1.0"}},
		Consents:     []privacy.ConsentEntry{privacy.Grant("profile.mobile", privacy.SourceRegistration, privacy.PolicyRef{Version: "1.0"}, now)},
		Audit:        privacy.AuditEntry{At: now, Action: "account.registered", Fields: []string{"name", "email"}},
		PasswordHash: "$argon2id$test",
		SweepAt:      now.Add(time.Hour),
	}
}

// code is the verification the tests mail for a registration.
var code = privacy.Verification{Kind: privacy.VerifyEmail, CodeHash: "code", TokenHash: "token", ExpiresAt: time.Now().Add(time.Hour)}

// mustRegister writes a registration (replacing the address's pending one) with a code.
func mustRegister(t *testing.T, st *dynamodb.Store, r privacy.Registration) {
	t.Helper()
	owners, err := st.AddressOwners(context.Background(), r.Account.EmailKey)
	if err != nil {
		t.Fatal(err)
	}
	r.Replaces = owners.Pending
	if err := st.Register(context.Background(), r); err != nil {
		t.Fatalf("register: %v", err)
	}
	if err := st.PutVerification(context.Background(), r.Account.SubjectID, code); err != nil {
		t.Fatal(err)
	}
}

func partitionSize(t *testing.T, id privacy.SubjectID) int {
	t.Helper()
	items, err := newStore().Partition(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return len(items)
}

func TestRegistrationsOfOneAddressReplaceEachOtherAndUsernamesStayUnique(t *testing.T) {
	st := newStore()
	ctx := context.Background()
	email := fmt.Sprintf("race-%d@example.com", time.Now().UnixNano())
	// Registrations that read "no pending registration" at once: exactly one is written; the
	// others are told the address changed meanwhile, to read again and replace it.
	const n = 16
	var wg sync.WaitGroup
	results := make(chan error, n)
	for i := range n {
		wg.Go(func() {
			results <- st.Register(ctx, registration(email, fmt.Sprintf("racer%d-%d", i, time.Now().UnixNano())))
		})
	}
	wg.Wait()
	close(results)
	ok, changed := 0, 0
	for err := range results {
		switch {
		case err == nil:
			ok++
		case errors.Is(err, privacy.ErrChanged):
			changed++
		default:
			t.Errorf("unexpected error: %v", err)
		}
	}
	if ok != 1 || changed != n-1 {
		t.Errorf("%d registrations of one address at once: %d written, %d told to read again; want 1 and %d", n, ok, changed, n-1)
	}
	key := "e-" + email
	first, _ := st.AddressOwners(ctx, key)
	second := registration(email, fmt.Sprintf("second%d", time.Now().UnixNano()))
	second.Replaces = first.Pending
	if err := st.Register(ctx, second); err != nil {
		t.Fatalf("replacing the pending registration: %v", err)
	}
	if owners, _ := st.AddressOwners(ctx, key); owners.Pending != second.Account.SubjectID || owners.Owner != "" {
		t.Errorf("owners after the replacement: %+v", owners)
	}
	if a, _ := st.Account(ctx, first.Pending); a.Status != privacy.StatusErasing {
		t.Errorf("the replaced registration is %s, want claimed for erasure", a.Status)
	}
	stale := registration(email, fmt.Sprintf("stale%d", time.Now().UnixNano()))
	stale.Replaces = first.Pending
	if err := st.Register(ctx, stale); !errors.Is(err, privacy.ErrChanged) {
		t.Errorf("replacing a registration replaced already: %v, want ErrChanged", err)
	}

	user := fmt.Sprintf("same%d", time.Now().UnixNano())
	mustRegister(t, st, registration("one-"+user+"@example.com", user))
	if err := st.Register(ctx, registration("two-"+user+"@example.com", user)); !errors.Is(err, privacy.ErrUsernameTaken) {
		t.Errorf("second account with the username: %v, want ErrUsernameTaken", err)
	}
	// A taken username is reported first, whatever the address's state.
	r := registration(email, user)
	r.Replaces = second.Account.SubjectID
	if err := st.Register(ctx, r); !errors.Is(err, privacy.ErrUsernameTaken) {
		t.Errorf("taken username on a busy address: %v, want ErrUsernameTaken", err)
	}
}

func TestVerifyingGivesTheAddressToTheAccountOnce(t *testing.T) {
	st := newStore()
	ctx := context.Background()
	email := fmt.Sprintf("own-%d@example.com", time.Now().UnixNano())
	r := registration(email, fmt.Sprintf("own%d", time.Now().UnixNano()))
	mustRegister(t, st, r)
	id := r.Account.SubjectID
	p, err := st.Pending(ctx, id)
	if err != nil || p.PasswordHash != r.PasswordHash || p.Verification == nil || p.Verification.CodeHash != "code" || p.Account.SubjectID != id {
		t.Fatalf("pending = %+v, %v", p, err)
	}
	audit := privacy.AuditEntry{At: time.Now(), Action: "email.verified"}
	if err := st.VerifyEmail(ctx, id, *p.Verification, false, privacy.StatusActive, audit); err != nil {
		t.Fatal(err)
	}
	owners, _ := st.AddressOwners(ctx, r.Account.EmailKey)
	if owners.Owner != id || owners.Pending != "" {
		t.Errorf("owners = %+v, want the account alone", owners)
	}
	// A registration of the address written meanwhile (a stranger's, say) cannot take it.
	late := registration(email, fmt.Sprintf("late%d", time.Now().UnixNano()))
	mustRegister(t, st, late)
	if err := st.VerifyEmail(ctx, late.Account.SubjectID, code, false, privacy.StatusActive, audit); !errors.Is(err, privacy.ErrEmailTaken) {
		t.Errorf("verifying an address another account proved: %v, want ErrEmailTaken", err)
	}
	// Erasing that registration leaves the owner's look-up alone.
	if _, err := st.DeleteSubject(ctx, late.Account.SubjectID); err != nil {
		t.Fatal(err)
	}
	if owners, _ := st.AddressOwners(ctx, r.Account.EmailKey); owners.Owner != id || owners.Pending != "" {
		t.Errorf("owners after erasing the late registration: %+v", owners)
	}
}

func TestDeleteSubjectLeavesNothing(t *testing.T) {
	st := newStore()
	ctx := context.Background()
	email := fmt.Sprintf("gone-%d@example.com", time.Now().UnixNano())
	r := registration(email, fmt.Sprintf("gone%d", time.Now().UnixNano()))
	r.Guardian = &privacy.GuardianRequest{Email: "parent@example.com"}
	mustRegister(t, st, r)
	id := r.Account.SubjectID
	if err := st.PutSession(ctx, id, privacy.Session{TokenHash: "s1", CreatedAt: time.Now(), ExpiresAt: time.Now().Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	if n := partitionSize(t, id); n < 7 {
		t.Fatalf("partition has %d items before erasure, want profile, credential, verification, guardian, optional, consent, audit, session", n)
	}
	if _, err := st.DeleteSubject(ctx, id); err != nil {
		t.Fatal(err)
	}
	if n := partitionSize(t, id); n != 0 {
		t.Errorf("%d items left in the partition", n)
	}
	if owners, _ := st.AddressOwners(ctx, r.Account.EmailKey); owners != (privacy.AddressOwners{}) {
		t.Errorf("the address still names %+v", owners)
	}
	if _, err := st.SubjectByUsername(ctx, r.Account.UsernameKey); privacy.ErrorCode(err) != privacy.NotFound {
		t.Errorf("username look-up survives: %v", err)
	}
	mustRegister(t, st, registration(email, r.Account.Profile.Username))
}

func TestVerificationAttemptsStopAtTheLimitAndCodesWorkOnce(t *testing.T) {
	st := newStore()
	ctx := context.Background()
	r := registration(fmt.Sprintf("v-%d@example.com", time.Now().UnixNano()), fmt.Sprintf("v%d", time.Now().UnixNano()))
	mustRegister(t, st, r)
	id := r.Account.SubjectID
	var wg sync.WaitGroup
	var mu sync.Mutex
	counted, stale := 0, 0
	for range 12 {
		wg.Go(func() {
			_, err := st.FailVerification(ctx, id, privacy.VerifyEmail)
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				counted++
			case errors.Is(err, privacy.ErrStale):
				stale++
			default:
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if counted != privacy.MaxCodeAttempts || stale != 12-privacy.MaxCodeAttempts {
		t.Errorf("12 concurrent wrong codes: %d counted, %d refused; want %d and %d", counted, stale, privacy.MaxCodeAttempts, 12-privacy.MaxCodeAttempts)
	}
	audit := privacy.AuditEntry{At: time.Now(), Action: "email.verified"}
	if err := st.VerifyEmail(ctx, id, code, false, privacy.StatusActive, audit); !errors.Is(err, privacy.ErrStale) {
		t.Errorf("a code past the attempt limit verified: %v", err)
	}
	if _, err := st.FailVerification(ctx, privacy.NewSubjectID(), privacy.VerifyEmail); !errors.Is(err, privacy.ErrStale) {
		t.Errorf("a wrong code for no one: %v, want ErrStale", err)
	}

	// A fresh code works exactly once, even when two requests race with it.
	if err := st.PutVerification(ctx, id, code); err != nil {
		t.Fatal(err)
	}
	errs := make(chan error, 2)
	for range 2 {
		wg.Go(func() { errs <- st.VerifyEmail(ctx, id, code, false, privacy.StatusActive, audit) })
	}
	wg.Wait()
	close(errs)
	ok := 0
	for err := range errs {
		if err == nil {
			ok++
		} else if !errors.Is(err, privacy.ErrStale) {
			t.Error(err)
		}
	}
	if ok != 1 {
		t.Errorf("a code verified %d times, want once", ok)
	}
	rec, err := st.Record(ctx, id, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if !rec.Account.EmailVerified || rec.Account.Status != privacy.StatusActive {
		t.Errorf("after verification: %+v", rec.Account)
	}
	if due, _ := st.DueForSweep(ctx, time.Now().Add(2*time.Hour), 1000); containsID(due, id) {
		t.Error("an active account is still due for the sweeper")
	}
}

func TestVerificationAndGuardianRaceEndActive(t *testing.T) {
	st := newStore()
	ctx := context.Background()
	for i := range 6 {
		r := registration(fmt.Sprintf("race%d-%d@example.com", i, time.Now().UnixNano()), fmt.Sprintf("race%d-%d", i, time.Now().UnixNano()))
		r.Account.Profile.AgeGroup = privacy.AgeChild
		r.Guardian = &privacy.GuardianRequest{Email: "p@example.com"}
		mustRegister(t, st, r)
		id := r.Account.SubjectID
		if err := st.SetGuardianToken(ctx, id, "g", time.Now().Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
		audit := privacy.AuditEntry{At: time.Now(), Action: "x"}
		// Both sides read the account before either writes: each derives "pending".
		var wg sync.WaitGroup
		var verr, gerr error
		wg.Go(func() { verr = st.VerifyEmail(ctx, id, code, false, privacy.StatusPending, audit) })
		wg.Go(func() {
			gerr = st.ConfirmGuardian(ctx, id, "g", false, privacy.StatusPending, privacy.Grant(privacy.PurposeService, privacy.SourceGuardian, privacy.PolicyRef{Version: "1.0"}, time.Now()), audit)
		})
		wg.Wait()
		// Exactly one may land on the stale read; the other must be told the account changed.
		if (verr == nil) == (gerr == nil) {
			t.Fatalf("verify: %v, guardian: %v; want exactly one ErrChanged", verr, gerr)
		}
		for _, err := range []error{verr, gerr} {
			if err != nil && !errors.Is(err, privacy.ErrChanged) {
				t.Fatalf("unexpected %v", err)
			}
		}
	}
}

func TestGuardianRequestsAreArmedDecidedAndForgotten(t *testing.T) {
	st := newStore()
	ctx := context.Background()
	r := registration(fmt.Sprintf("g-%d@example.com", time.Now().UnixNano()), fmt.Sprintf("g%d", time.Now().UnixNano()))
	r.Account.Profile.AgeGroup = privacy.AgeChild
	r.Guardian = &privacy.GuardianRequest{Email: "parent@example.com"}
	mustRegister(t, st, r)
	id := r.Account.SubjectID
	if g, err := st.Guardian(ctx, id); err != nil || g.Email != "parent@example.com" || g.TokenHash != "" || !g.ExpiresAt.IsZero() {
		t.Fatalf("a request not yet mailed: %+v %v", g, err)
	}
	if err := st.RefuseGuardian(ctx, id, ""); !errors.Is(err, privacy.ErrStale) {
		t.Errorf("deciding with no token mailed: %v, want ErrStale", err)
	}
	until := time.Now().Add(time.Hour).Truncate(time.Second)
	if err := st.SetGuardianToken(ctx, id, "tok", until); err != nil {
		t.Fatal(err)
	}
	if err := st.RefuseGuardian(ctx, id, "wrong"); !errors.Is(err, privacy.ErrStale) {
		t.Errorf("a wrong token: %v, want ErrStale", err)
	}
	if err := st.RefuseGuardian(ctx, id, "tok"); err != nil {
		t.Fatal(err)
	}
	g, _ := st.Guardian(ctx, id)
	a, _ := st.Account(ctx, id)
	if g.Decision != privacy.GuardianRefused || g.TokenHash != "" || a.Status != privacy.StatusErasing {
		t.Errorf("after refusing: %+v, status %s", g, a.Status)
	}
	if err := st.RefuseGuardian(ctx, id, "tok"); !errors.Is(err, privacy.ErrStale) {
		t.Errorf("the link used twice: %v, want ErrStale", err)
	}
	if err := st.SetGuardianToken(ctx, id, "again", until); !errors.Is(err, privacy.ErrStale) {
		t.Errorf("arming a decided request: %v, want ErrStale", err)
	}
	if err := st.DeleteGuardian(ctx, id); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Guardian(ctx, id); privacy.ErrorCode(err) != privacy.NotFound {
		t.Errorf("the request after deleting it: %v", err)
	}
}

func TestPasswordsAreReplacedOnceAndSessionsEnd(t *testing.T) {
	st := newStore()
	ctx := context.Background()
	r := registration(fmt.Sprintf("p-%d@example.com", time.Now().UnixNano()), fmt.Sprintf("p%d", time.Now().UnixNano()))
	mustRegister(t, st, r)
	id := r.Account.SubjectID
	if err := st.Rehash(ctx, id, "not the hash", "x"); !errors.Is(err, privacy.ErrStale) {
		t.Errorf("rehashing from a hash that is not there: %v, want ErrStale", err)
	}
	if err := st.Rehash(ctx, id, r.PasswordHash, "$argon2id$stronger"); err != nil {
		t.Fatal(err)
	}
	reset := privacy.Verification{Kind: privacy.VerifyReset, CodeHash: "reset", ExpiresAt: time.Now().Add(time.Hour)}
	if err := st.PutVerification(ctx, id, reset); err != nil {
		t.Fatal(err)
	}
	audit := privacy.AuditEntry{At: time.Now(), Action: "password.reset"}
	if err := st.SetPassword(ctx, id, "$argon2id$new", &reset, audit); err != nil {
		t.Fatal(err)
	}
	if err := st.SetPassword(ctx, id, "$argon2id$newer", &reset, audit); !errors.Is(err, privacy.ErrStale) {
		t.Errorf("a reset code used twice: %v, want ErrStale", err)
	}
	if l, _ := st.Login(ctx, id); l.PasswordHash != "$argon2id$new" {
		t.Errorf("hash = %q", l.PasswordHash)
	}
	for _, h := range []string{"keep", "a", "b"} {
		if err := st.PutSession(ctx, id, privacy.Session{TokenHash: h, CreatedAt: time.Now(), ExpiresAt: time.Now().Add(time.Hour)}); err != nil {
			t.Fatal(err)
		}
	}
	if err := st.DeleteSessions(ctx, id, "keep"); err != nil {
		t.Fatal(err)
	}
	rec, _ := st.Record(ctx, id, time.Now())
	if len(rec.Sessions) != 1 || rec.Sessions[0].TokenHash != "keep" {
		t.Errorf("sessions = %+v, want the kept one alone", rec.Sessions)
	}
}

func containsID(ids []privacy.SubjectID, id privacy.SubjectID) bool {
	for _, x := range ids {
		if x == id {
			return true
		}
	}
	return false
}

func TestP12_ExpiredSessionsAreGoneEvenBeforeTTLDeletion(t *testing.T) {
	st := newStore()
	ctx := context.Background()
	id := privacy.NewSubjectID()
	past := time.Now().Add(-time.Minute)
	if err := st.PutSession(ctx, id, privacy.Session{TokenHash: "old", CreatedAt: past.Add(-time.Hour), ExpiresAt: past}); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Session(ctx, id, "old", time.Now()); !errors.Is(err, privacy.ErrStale) {
		t.Errorf("expired session still valid: %v", err)
	}
}

func TestDueForSweepListsOnlyOverdueAccounts(t *testing.T) {
	st := newStore()
	ctx := context.Background()
	r := registration(fmt.Sprintf("s-%d@example.com", time.Now().UnixNano()), fmt.Sprintf("s%d", time.Now().UnixNano()))
	mustRegister(t, st, r)
	if due, err := st.DueForSweep(ctx, time.Now(), 1000); err != nil || containsID(due, r.Account.SubjectID) {
		t.Errorf("due before its time: %v %v", due, err)
	}
	if due, err := st.DueForSweep(ctx, r.SweepAt.Add(time.Second), 1000); err != nil || !containsID(due, r.Account.SubjectID) {
		t.Errorf("not due after its time: %v %v", due, err)
	}
}

func TestHitEnforcesTheWindow(t *testing.T) {
	st := newStore()
	ctx := context.Background()
	bucket := fmt.Sprintf("test#%d", time.Now().UnixNano())
	now := time.Now()
	for i := range 3 {
		ok, _, err := st.Hit(ctx, bucket, 3, time.Minute, now)
		if err != nil || !ok {
			t.Fatalf("attempt %d refused: %v", i+1, err)
		}
	}
	ok, retry, err := st.Hit(ctx, bucket, 3, time.Minute, now)
	if err != nil || ok || retry <= 0 || retry > time.Minute {
		t.Errorf("4th attempt: ok=%v retry=%v err=%v; want refused with a retry within the window", ok, retry, err)
	}
	if ok, _, _ := st.Hit(ctx, bucket, 3, time.Minute, now.Add(time.Minute)); !ok {
		t.Error("the next window is still refused")
	}
}

// A retired registration keeps only its username, as a reservation that holds until its time
// and then frees the name (DynamoDB Local never deletes it by TTL).
func TestRetiredRegistrationsHoldTheirUsernameUntilTheirTime(t *testing.T) {
	st := newStore()
	ctx := context.Background()
	now := time.Now()
	user := fmt.Sprintf("held%d", now.UnixNano())
	r := registration(fmt.Sprintf("held-%d@example.com", now.UnixNano()), user)
	mustRegister(t, st, r)
	if err := st.Retire(ctx, r.Account.SubjectID, now.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if n := partitionSize(t, r.Account.SubjectID); n != 0 {
		t.Errorf("a retired registration keeps %d items", n)
	}
	if owners, _ := st.AddressOwners(ctx, r.Account.EmailKey); owners.Pending != "" {
		t.Errorf("a retired registration still waits for its address: %+v", owners)
	}
	if _, err := st.SubjectByUsername(ctx, r.Account.UsernameKey); privacy.ErrorCode(err) != privacy.NotFound {
		t.Errorf("a reservation resolves to an account: %v", err)
	}
	if err := st.Register(ctx, registration(fmt.Sprintf("other-%d@example.com", now.UnixNano()), user)); !errors.Is(err, privacy.ErrUsernameTaken) {
		t.Errorf("registering a reserved username: %v, want ErrUsernameTaken", err)
	}
	old := fmt.Sprintf("old%d", now.UnixNano())
	expired := registration(fmt.Sprintf("exp-%d@example.com", now.UnixNano()), old)
	mustRegister(t, st, expired)
	if err := st.Retire(ctx, expired.Account.SubjectID, now.Add(-time.Minute)); err != nil {
		t.Fatal(err)
	}
	freed := registration(fmt.Sprintf("freed-%d@example.com", now.UnixNano()), old)
	if err := st.Register(ctx, freed); err != nil {
		t.Errorf("registering a username whose reservation expired: %v", err)
	}
	if err := st.Retire(ctx, privacy.NewSubjectID(), now); err != nil {
		t.Errorf("retiring no one: %v", err)
	}
}

func TestMarkErasingStopsActivation(t *testing.T) {
	st := newStore()
	ctx := context.Background()
	r := registration(fmt.Sprintf("er-%d@example.com", time.Now().UnixNano()), fmt.Sprintf("er%d", time.Now().UnixNano()))
	mustRegister(t, st, r)
	id := r.Account.SubjectID
	if err := st.MarkErasing(ctx, id); err != nil {
		t.Fatal(err)
	}
	audit := privacy.AuditEntry{At: time.Now(), Action: "email.verified"}
	if err := st.VerifyEmail(ctx, id, code, false, privacy.StatusActive, audit); !errors.Is(err, privacy.ErrChanged) {
		t.Errorf("verifying an account being erased: %v, want ErrChanged", err)
	}
	// An active account cannot be claimed for erasure.
	r2 := registration(fmt.Sprintf("er2-%d@example.com", time.Now().UnixNano()), fmt.Sprintf("erb%d", time.Now().UnixNano()))
	mustRegister(t, st, r2)
	if err := st.VerifyEmail(ctx, r2.Account.SubjectID, code, false, privacy.StatusActive, audit); err != nil {
		t.Fatal(err)
	}
	if err := st.MarkErasing(ctx, r2.Account.SubjectID); !errors.Is(err, privacy.ErrStale) {
		t.Errorf("claiming an active account for erasure: %v, want ErrStale", err)
	}
}

// queries wraps the emulator's client and keeps the key conditions of the queries made.
type queries struct {
	dynamodb.API
	mu    sync.Mutex
	conds []string
}

func (q *queries) Query(ctx context.Context, in *ddb.QueryInput, optFns ...func(*ddb.Options)) (*ddb.QueryOutput, error) {
	q.mu.Lock()
	cond := *in.KeyConditionExpression
	if pk, ok := in.ExpressionAttributeValues[":pk"].(*types.AttributeValueMemberS); ok && strings.HasPrefix(pk.Value, dynamodb.SubjectPK("")) {
		cond += " (a subject's partition)"
	}
	q.conds = append(q.conds, cond)
	q.mu.Unlock()
	return q.API.Query(ctx, in, optFns...)
}

// A correction, a sign-in and a verification read the items they need, not the partition,
// which also holds the audit trail, sessions and (later) requests that grow with the account.
func TestReadsTakeOnlyTheSortKeysTheyNeed(t *testing.T) {
	q := &queries{API: tables.DynamoDB}
	st := &dynamodb.Store{Client: q, Table: tables.Names["PortalTable"]}
	ctx := context.Background()
	r := registration(fmt.Sprintf("rd-%d@example.com", time.Now().UnixNano()), fmt.Sprintf("rd%d", time.Now().UnixNano()))
	mustRegister(t, st, r)
	id := r.Account.SubjectID
	for i := range 3 {
		if err := st.PutSession(ctx, id, privacy.Session{TokenHash: fmt.Sprint("s", i), CreatedAt: time.Now(), ExpiresAt: time.Now().Add(time.Hour)}); err != nil {
			t.Fatal(err)
		}
	}
	ed, err := st.Editable(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if ed.Account.Profile.Email != r.Account.Profile.Email || ed.PasswordHash != r.PasswordHash || ed.Optional["mobile"].Value != "+1 555 0100" || len(ed.Consents) != 1 || !ed.Consents[0].Granted {
		t.Errorf("editable = %+v", ed)
	}
	login, err := st.Login(ctx, id)
	if err != nil || login.PasswordHash != r.PasswordHash || login.Account.SubjectID != id {
		t.Errorf("login = %+v, %v", login, err)
	}
	if v, err := st.Verification(ctx, id, privacy.VerifyEmail); err != nil || v.CodeHash != "code" || v.Attempts != 0 {
		t.Errorf("verification = %+v, %v", v, err)
	}
	if _, err := st.Verification(ctx, id, privacy.VerifyNewEmail); privacy.ErrorCode(err) != privacy.NotFound {
		t.Errorf("a verification never made: %v, want not found", err)
	}
	if _, err := st.Guardian(ctx, id); privacy.ErrorCode(err) != privacy.NotFound {
		t.Errorf("a guardian request never made: %v, want not found", err)
	}
	if _, err := st.Account(ctx, privacy.NewSubjectID()); privacy.ErrorCode(err) != privacy.NotFound {
		t.Errorf("an account never made: %v, want not found", err)
	}
	for _, c := range q.conds {
		if c == "PK = :pk (a subject's partition)" {
			t.Errorf("a read took the whole partition (%d queries: %q)", len(q.conds), q.conds)
		}
	}
	if _, err := st.Pending(ctx, id); err != nil {
		t.Fatal(err)
	}
	if len(q.conds) != 5 {
		t.Errorf("%d queries, want 1 for the address, 2 for the correction, 1 for the sign-in and 1 for the verification: %q", len(q.conds), q.conds)
	}
	// The account page reads it all, by design (P15).
	rec, err := st.Record(ctx, id, time.Now())
	if err != nil || len(rec.Sessions) != 3 || len(rec.Audit) != 1 || rec.Verifications[privacy.VerifyEmail].CodeHash != "code" {
		t.Errorf("record = %+v, %v", rec, err)
	}
}

func TestSetSweepAtBringsAPendingAccountDue(t *testing.T) {
	st := newStore()
	ctx := context.Background()
	r := registration(fmt.Sprintf("due-%d@example.com", time.Now().UnixNano()), fmt.Sprintf("due%d", time.Now().UnixNano()))
	mustRegister(t, st, r)
	id := r.Account.SubjectID
	if err := st.SetSweepAt(ctx, id, time.Now().Add(-time.Minute)); err != nil {
		t.Fatal(err)
	}
	if due, err := st.DueForSweep(ctx, time.Now(), 1000); err != nil || !containsID(due, id) {
		t.Errorf("not due after moving its deadline: %v %v", due, err)
	}
	if err := st.SetSweepAt(ctx, privacy.NewSubjectID(), time.Now()); !errors.Is(err, privacy.ErrStale) {
		t.Errorf("moving the deadline of no account: %v, want ErrStale", err)
	}
}
