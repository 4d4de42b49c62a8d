package dynamodb_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"testing"
	"time"

	ddb "github.com/aws/aws-sdk-go-v2/service/dynamodb"

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
		Consents:     []privacy.ConsentEntry{privacy.Grant("profile.mobile", privacy.SourceRegistration, "1.0", now)},
		Audit:        privacy.AuditEntry{At: now, Action: "account.registered", Fields: []string{"name", "email"}},
		PasswordHash: "$argon2id$test",
		Verification: privacy.Verification{Kind: privacy.VerifyEmail, CodeHash: "code", TokenHash: "token", ExpiresAt: now.Add(time.Hour)},
		SweepAt:      now.Add(time.Hour),
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

func TestRegisterKeepsAddressesAndUsernamesUniqueUnderConcurrency(t *testing.T) {
	st := newStore()
	ctx := context.Background()
	email := fmt.Sprintf("race-%d@example.com", time.Now().UnixNano())
	const n = 24
	var wg sync.WaitGroup
	results := make(chan error, n)
	for i := range n {
		wg.Go(func() {
			results <- st.Register(ctx, registration(email, fmt.Sprintf("racer%d-%d", i, time.Now().UnixNano())))
		})
	}
	wg.Wait()
	close(results)
	ok, taken := 0, 0
	for err := range results {
		switch {
		case err == nil:
			ok++
		case errors.Is(err, privacy.ErrEmailTaken):
			taken++
		default:
			t.Errorf("unexpected error: %v", err)
		}
	}
	if ok != 1 || taken != n-1 {
		t.Errorf("%d registrations of one address: %d succeeded, %d refused as taken; want 1 and %d", n, ok, taken, n-1)
	}
	user := fmt.Sprintf("same%d", time.Now().UnixNano())
	if err := st.Register(ctx, registration("one-"+user+"@example.com", user)); err != nil {
		t.Fatal(err)
	}
	if err := st.Register(ctx, registration("two-"+user+"@example.com", user)); !errors.Is(err, privacy.ErrUsernameTaken) {
		t.Errorf("second account with the username: %v, want ErrUsernameTaken", err)
	}
	// A taken username is reported even when the address is taken too: otherwise "username
	// taken" would only ever appear for new addresses, and tell which ones have accounts.
	if err := st.Register(ctx, registration(email, user)); !errors.Is(err, privacy.ErrUsernameTaken) {
		t.Errorf("taken address and taken username: %v, want ErrUsernameTaken", err)
	}
}

func TestDeleteSubjectLeavesNothing(t *testing.T) {
	st := newStore()
	ctx := context.Background()
	email := fmt.Sprintf("gone-%d@example.com", time.Now().UnixNano())
	r := registration(email, fmt.Sprintf("gone%d", time.Now().UnixNano()))
	r.Guardian = &privacy.GuardianRequest{Email: "parent@example.com", TokenHash: "g", ExpiresAt: time.Now().Add(time.Hour)}
	if err := st.Register(ctx, r); err != nil {
		t.Fatal(err)
	}
	id := r.Account.SubjectID
	if err := st.PutSession(ctx, id, privacy.Session{TokenHash: "s1", CreatedAt: time.Now(), ExpiresAt: time.Now().Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	if n := partitionSize(t, id); n < 7 {
		t.Fatalf("partition has %d items before erasure, want profile, credential, verification, guardian, optional, consent, audit, session", n)
	}
	deleted, err := st.DeleteSubject(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if n := partitionSize(t, id); n != 0 {
		t.Errorf("%d items left in the partition", n)
	}
	if _, err := st.SubjectByEmail(ctx, r.Account.EmailKey); privacy.ErrorCode(err) != privacy.NotFound {
		t.Errorf("e-mail look-up survives: %v", err)
	}
	if _, err := st.SubjectByUsername(ctx, r.Account.UsernameKey); privacy.ErrorCode(err) != privacy.NotFound {
		t.Errorf("username look-up survives: %v", err)
	}
	if deleted < 10 {
		t.Errorf("deleted %d items, want the partition and both look-ups", deleted)
	}
	if err := st.Register(ctx, registration(email, r.Account.Profile.Username)); err != nil {
		t.Errorf("the address and username cannot be used again after erasure: %v", err)
	}
}

func TestVerificationAttemptsStopAtTheLimitAndCodesWorkOnce(t *testing.T) {
	st := newStore()
	ctx := context.Background()
	r := registration(fmt.Sprintf("v-%d@example.com", time.Now().UnixNano()), fmt.Sprintf("v%d", time.Now().UnixNano()))
	if err := st.Register(ctx, r); err != nil {
		t.Fatal(err)
	}
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
	if err := st.VerifyEmail(ctx, id, r.Verification, false, privacy.StatusActive, audit); !errors.Is(err, privacy.ErrStale) {
		t.Errorf("a code past the attempt limit verified: %v", err)
	}

	// A fresh code works exactly once, even when two requests race with it.
	if err := st.PutVerification(ctx, id, r.Verification); err != nil {
		t.Fatal(err)
	}
	errs := make(chan error, 2)
	for range 2 {
		wg.Go(func() { errs <- st.VerifyEmail(ctx, id, r.Verification, false, privacy.StatusActive, audit) })
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
	for i := range 8 {
		r := registration(fmt.Sprintf("race%d-%d@example.com", i, time.Now().UnixNano()), fmt.Sprintf("race%d-%d", i, time.Now().UnixNano()))
		r.Account.Profile.AgeGroup = privacy.AgeChild
		r.Guardian = &privacy.GuardianRequest{Email: "p@example.com", TokenHash: "g", ExpiresAt: time.Now().Add(time.Hour)}
		if err := st.Register(ctx, r); err != nil {
			t.Fatal(err)
		}
		id := r.Account.SubjectID
		audit := privacy.AuditEntry{At: time.Now(), Action: "x"}
		// Both sides read the account before either writes: each derives "pending".
		var wg sync.WaitGroup
		var verr, gerr error
		wg.Go(func() { verr = st.VerifyEmail(ctx, id, r.Verification, false, privacy.StatusPending, audit) })
		wg.Go(func() {
			gerr = st.ConfirmGuardian(ctx, id, "g", false, privacy.StatusPending, privacy.Grant(privacy.PurposeService, privacy.SourceGuardian, "1.0", time.Now()), audit)
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
	if err := st.Register(ctx, r); err != nil {
		t.Fatal(err)
	}
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

func TestUsernameReservationsHoldUntilTheyExpire(t *testing.T) {
	st := newStore()
	ctx := context.Background()
	now := time.Now()
	user := fmt.Sprintf("held%d", now.UnixNano())
	r := registration(fmt.Sprintf("held-%d@example.com", now.UnixNano()), user)
	if err := st.ReserveUsername(ctx, r.Account.UsernameKey, now.Add(time.Hour), now); err != nil {
		t.Fatal(err)
	}
	if _, err := st.SubjectByUsername(ctx, r.Account.UsernameKey); privacy.ErrorCode(err) != privacy.NotFound {
		t.Errorf("a reservation resolves to an account: %v", err)
	}
	if err := st.Register(ctx, r); !errors.Is(err, privacy.ErrUsernameTaken) {
		t.Errorf("registering a reserved username: %v, want ErrUsernameTaken", err)
	}
	// Once a reservation has expired (DynamoDB Local never deletes it), the name is free.
	old := fmt.Sprintf("old%d", now.UnixNano())
	freed := registration(fmt.Sprintf("freed-%d@example.com", now.UnixNano()), old)
	if err := st.ReserveUsername(ctx, freed.Account.UsernameKey, now.Add(-time.Minute), now.Add(-2*time.Hour)); err != nil {
		t.Fatal(err)
	}
	if err := st.Register(ctx, freed); err != nil {
		t.Errorf("registering a username whose reservation expired: %v", err)
	}
	if id, err := st.SubjectByUsername(ctx, freed.Account.UsernameKey); err != nil || id != freed.Account.SubjectID {
		t.Errorf("the freed username now resolves to %q, %v", id, err)
	}
}

func TestMarkErasingStopsActivation(t *testing.T) {
	st := newStore()
	ctx := context.Background()
	r := registration(fmt.Sprintf("er-%d@example.com", time.Now().UnixNano()), fmt.Sprintf("er%d", time.Now().UnixNano()))
	if err := st.Register(ctx, r); err != nil {
		t.Fatal(err)
	}
	id := r.Account.SubjectID
	if err := st.MarkErasing(ctx, id); err != nil {
		t.Fatal(err)
	}
	audit := privacy.AuditEntry{At: time.Now(), Action: "email.verified"}
	if err := st.VerifyEmail(ctx, id, r.Verification, false, privacy.StatusActive, audit); !errors.Is(err, privacy.ErrChanged) {
		t.Errorf("verifying an account being erased: %v, want ErrChanged", err)
	}
	// An active account cannot be claimed for erasure.
	r2 := registration(fmt.Sprintf("er2-%d@example.com", time.Now().UnixNano()), fmt.Sprintf("erb%d", time.Now().UnixNano()))
	if err := st.Register(ctx, r2); err != nil {
		t.Fatal(err)
	}
	if err := st.VerifyEmail(ctx, r2.Account.SubjectID, r2.Verification, false, privacy.StatusActive, audit); err != nil {
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
	q.conds = append(q.conds, *in.KeyConditionExpression)
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
	if err := st.Register(ctx, r); err != nil {
		t.Fatal(err)
	}
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
	if ed.Account.Profile.Email != r.Account.Profile.Email || ed.Optional["mobile"].Value != "+1 555 0100" || len(ed.Consents) != 1 || !ed.Consents[0].Granted {
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
		if c == "PK = :pk" {
			t.Errorf("a read took the whole partition (%d queries: %q)", len(q.conds), q.conds)
		}
	}
	if len(q.conds) != 3 {
		t.Errorf("%d queries, want 2 for the correction and 1 for the sign-in: %q", len(q.conds), q.conds)
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
	if err := st.Register(ctx, r); err != nil {
		t.Fatal(err)
	}
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
