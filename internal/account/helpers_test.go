package account_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/privacyportal/portal/internal/account"
	"github.com/privacyportal/portal/internal/mail"
	"github.com/privacyportal/portal/internal/privacy"
)

const (
	goodPassword = "correct horse battery staple"
	clientIP     = "198.51.100.7"
)

var ctx = context.Background()

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

func adult(email, username string) account.RegisterInput {
	return account.RegisterInput{Name: "Ada Lovelace", Email: email, Username: username, Password: goodPassword, AgeGroup: "14+"}
}

func child(email, username, guardian string) account.RegisterInput {
	in := adult(email, username)
	in.Name, in.AgeGroup, in.GuardianEmail = "Timmy Tester", "under14", guardian
	return in
}

// mustRegister registers in and returns the subject with the code and link token mailed.
func (w *world) mustRegister(tb testing.TB, in account.RegisterInput) (id privacy.SubjectID, code, token string) {
	tb.Helper()
	if err := w.register.Register(ctx, in, clientIP); err != nil {
		tb.Fatalf("register %s: %v", in.Email, err)
	}
	w.drain(tb)
	code, token = w.lastCode(tb, privacy.NormalizeEmail(in.Email))
	sid, _, _ := strings.Cut(token, ".")
	return privacy.SubjectID(sid), code, token
}

// lastCode returns the code and link token of the latest verification mail to addr.
func (w *world) lastCode(tb testing.TB, addr string) (code, token string) {
	tb.Helper()
	ms := w.box.to(addr, mail.VerifyEmail)
	if len(ms) == 0 {
		tb.Fatalf("no verification mail to %s", addr)
	}
	m := ms[len(ms)-1]
	_, token, _ = strings.Cut(m.Data.Link, "#token=")
	return m.Data.Code, token
}

// mustActive registers an adult, verifies the address and signs in.
func (w *world) mustActive(tb testing.TB, email, username string) (privacy.SubjectID, account.Caller) {
	tb.Helper()
	id, code, _ := w.mustRegister(tb, adult(email, username))
	w.mustVerify(tb, email, code)
	return id, w.mustSignIn(tb, username)
}

// mustVerify proves an address with its code and the registration's password, and runs the
// jobs that queues (a child's guardian request).
func (w *world) mustVerify(tb testing.TB, email, code string) {
	tb.Helper()
	if err := w.verify.Verify(ctx, account.VerifyInput{Email: email, Code: code, Password: goodPassword}, clientIP); err != nil {
		tb.Fatalf("verify %s: %v", email, err)
	}
	w.drain(tb)
}

func (w *world) mustSignIn(tb testing.TB, login string) account.Caller {
	tb.Helper()
	out, err := w.sessions.SignIn(ctx, account.SignInInput{Login: login, Password: goodPassword}, clientIP)
	if err != nil {
		tb.Fatalf("sign in %s: %v", login, err)
	}
	c, err := w.sessions.Authenticate(ctx, out.Cookie)
	if err != nil {
		tb.Fatalf("authenticate: %v", err)
	}
	return c
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

func ptr(s string) *string { return &s }

// decisions are a ledger's grants and withdrawals, without its policy acceptances.
func decisions(ledger []privacy.ConsentEntry) []privacy.ConsentEntry {
	var out []privacy.ConsentEntry
	for _, e := range ledger {
		if e.ActionOf() != privacy.ActionAccept {
			out = append(out, e)
		}
	}
	return out
}
