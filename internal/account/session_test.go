package account_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/privacyportal/portal/internal/account"
	"github.com/privacyportal/portal/internal/mail"
	"github.com/privacyportal/portal/internal/privacy"
)

func TestSignInByAddressOrUsernameOpensASession(t *testing.T) {
	w := newWorld(t)
	id, _ := w.mustActive(t, "ada@example.com", "Ada")
	for _, login := range []string{"ada@example.com", " ADA@example.com ", "ada", "ADA"} {
		out, err := w.sessions.SignIn(ctx, account.SignInInput{Login: login, Password: goodPassword}, clientIP)
		if err != nil {
			t.Fatalf("sign in as %q: %v", login, err)
		}
		if !strings.HasPrefix(out.Cookie, string(id)+".") || !out.Session.ExpiresAt.Equal(w.clock.Now().Add(12*time.Hour)) {
			t.Errorf("session %+v", out)
		}
		if _, ok := w.store.sessions[id][out.Session.TokenHash]; !ok || strings.Contains(out.Session.TokenHash, strings.SplitN(out.Cookie, ".", 2)[1]) {
			t.Error("the session is not stored, or stored with its token")
		}
		c, err := w.sessions.Authenticate(ctx, out.Cookie)
		if err != nil || c.Subject != id {
			t.Errorf("authenticate: %+v %v", c, err)
		}
	}
}

func TestSignInNeverSaysWhichPartIsWrong(t *testing.T) {
	w := newWorld(t)
	w.mustActive(t, "ada@example.com", "ada")
	w.mustRegister(t, adult("unverified@example.com", "unverified"))
	tests := []struct{ name, login, password string }{
		{"unknown address", "nobody@example.com", goodPassword},
		{"unknown username", "nobody", goodPassword},
		{"wrong password", "ada", "wrong " + goodPassword},
		{"wrong password for an unverified account", "unverified@example.com", "wrong " + goodPassword},
		{"a login too long", strings.Repeat("a", 255), goodPassword},
		{"a password too long", "ada", strings.Repeat("p", 200)},
	}
	var first string
	for _, tc := range tests {
		pe := wantCode(t, tc.name, func() error {
			_, err := w.sessions.SignIn(ctx, account.SignInInput{Login: tc.login, Password: tc.password}, clientIP)
			return err
		}(), privacy.Unauthorized, "")
		if first == "" {
			first = pe.Message
		} else if pe.Message != first {
			t.Errorf("%s: %q, want %q", tc.name, pe.Message, first)
		}
	}
	if w.store.writes["PutSession"] != 1 {
		t.Errorf("%d sessions stored, want only the one mustActive opened", w.store.writes["PutSession"])
	}
	wantField(t, "no login", func() error {
		_, err := w.sessions.SignIn(ctx, account.SignInInput{Password: goodPassword}, clientIP)
		return err
	}(), "login")
	wantField(t, "no password", func() error {
		_, err := w.sessions.SignIn(ctx, account.SignInInput{Login: "ada"}, clientIP)
		return err
	}(), "password")
}

func TestSignInTellsWhatAnAccountWithTheRightPasswordNeeds(t *testing.T) {
	w := newWorld(t)
	w.mustRegister(t, adult("ada@example.com", "ada"))
	signIn := func(login string) error {
		_, err := w.sessions.SignIn(ctx, account.SignInInput{Login: login, Password: goodPassword}, clientIP)
		return err
	}
	pe := wantCode(t, "unverified", signIn("ada"), privacy.Forbidden, "")
	if pe.Type != account.ProblemUnverified || !strings.Contains(pe.Message, "sent you a new code") {
		t.Errorf("unverified: %+v", pe)
	}
	wantCode(t, "unverified, by address", signIn("ada@example.com"), privacy.Forbidden, "")
	w.drain(t)
	if n := len(w.box.to("ada@example.com", mail.VerifyEmail)); n != 3 {
		t.Errorf("%d codes mailed, want a new one on sign-in", n)
	}
	for range account.DefaultLimits.ResendPerEmail.N - 2 {
		_ = signIn("ada")
	}
	pe = wantCode(t, "unverified, codes limited", signIn("ada"), privacy.Forbidden, "")
	if !strings.Contains(pe.Message, "latest code") {
		t.Errorf("when no new code goes out: %q", pe.Message)
	}

	cid, _ := w.registerChild(t, "tim@example.com", "tim", "parent@example.com")
	if pe := wantCode(t, "waiting for the guardian", signIn("tim"), privacy.Forbidden, ""); pe.Type != account.ProblemGuardianPending {
		t.Errorf("pending: %+v", pe)
	}
	if err := w.store.MarkErasing(ctx, cid); err != nil {
		t.Fatal(err)
	}
	wantCode(t, "being erased", signIn("tim"), privacy.Unauthorized, "")
}

func TestSignInIsLimitedPerLoginAndClientNotEverywhere(t *testing.T) {
	w := newWorld(t)
	w.mustActive(t, "ada@example.com", "ada")
	var err error
	for range account.DefaultLimits.SignInPerLogin.N + 1 {
		_, err = w.sessions.SignIn(ctx, account.SignInInput{Login: "ada", Password: "wrong"}, "203.0.113.9")
	}
	wantCode(t, "guessing from one client", err, privacy.RateLimited, "")
	if _, err := w.sessions.SignIn(ctx, account.SignInInput{Login: "ADA", Password: goodPassword}, "203.0.113.9"); privacy.ErrorCode(err) != privacy.RateLimited {
		t.Errorf("the right password from the guessing client: %v, want still limited", err)
	}
	if _, err := w.sessions.SignIn(ctx, account.SignInInput{Login: "ada", Password: goodPassword}, "198.51.100.1"); err != nil {
		t.Errorf("the owner elsewhere: %v", err)
	}
}

func TestSessionsEndWhenSignedOutOrExpired(t *testing.T) {
	w := newWorld(t)
	id, a := w.mustActive(t, "ada@example.com", "ada")
	b := w.mustSignIn(t, "ada")
	if err := w.sessions.SignOut(ctx, a); err != nil {
		t.Fatal(err)
	}
	if len(w.store.sessions[id]) != 1 {
		t.Errorf("%d sessions after signing one out, want 1", len(w.store.sessions[id]))
	}
	w.mustSignIn(t, "ada")
	if err := w.sessions.SignOutEverywhere(ctx, b); err != nil {
		t.Fatal(err)
	}
	if len(w.store.sessions[id]) != 0 {
		t.Errorf("%d sessions after signing out everywhere", len(w.store.sessions[id]))
	}

	out, err := w.sessions.SignIn(ctx, account.SignInInput{Login: "ada", Password: goodPassword}, clientIP)
	if err != nil {
		t.Fatal(err)
	}
	w.clock.Advance(12 * time.Hour)
	for name, cookie := range map[string]string{
		"expired": out.Cookie, "malformed": "nonsense", "forged": string(id) + ".forged",
		"another's subject": "aaaaaaaaaaaaaaaaaaaaaaaaaa." + strings.SplitN(out.Cookie, ".", 2)[1], "empty": "",
	} {
		_, err := w.sessions.Authenticate(ctx, cookie)
		wantCode(t, name, err, privacy.Unauthorized, "")
	}
	boom := errors.New("table unavailable")
	w.store.fail["PutSession"] = boom
	if _, err := w.sessions.SignIn(ctx, account.SignInInput{Login: "ada", Password: goodPassword}, clientIP); !errors.Is(err, boom) {
		t.Errorf("err = %v, want the store's", err)
	}
}
