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

const newPassword = "violet kettle harbor lantern"

func TestP13_ChangePasswordNeedsTheCurrentOneAndSignsEveryoneElseOut(t *testing.T) {
	w := newWorld(t)
	id, c := w.mustActive(t, "ada@example.com", "ada")
	other := w.mustSignIn(t, "ada")
	tests := []struct {
		name  string
		in    account.ChangePasswordInput
		field string
	}{
		{"no current password", account.ChangePasswordInput{NewPassword: newPassword}, "currentPassword"},
		{"a wrong current password", account.ChangePasswordInput{CurrentPassword: "wrong", NewPassword: newPassword}, "currentPassword"},
		{"a weak new password", account.ChangePasswordInput{CurrentPassword: goodPassword, NewPassword: "password1234"}, "newPassword"},
		{"the name as password", account.ChangePasswordInput{CurrentPassword: goodPassword, NewPassword: "Ada Lovelace!!"}, "newPassword"},
		{"the same password", account.ChangePasswordInput{CurrentPassword: goodPassword, NewPassword: goodPassword}, "newPassword"},
	}
	for _, tc := range tests {
		wantField(t, tc.name, w.passwords.Change(ctx, c, tc.in), tc.field)
	}
	if err := w.passwords.Change(ctx, c, account.ChangePasswordInput{CurrentPassword: goodPassword, NewPassword: newPassword}); err != nil {
		t.Fatal(err)
	}
	if _, err := w.sessions.Authenticate(ctx, "x"); err == nil {
		t.Fatal("nonsense authenticates")
	}
	if _, ok := w.store.sessions[id][other.TokenHash]; ok {
		t.Error("another session survived the change")
	}
	if _, ok := w.store.sessions[id][c.TokenHash]; !ok {
		t.Error("the changing session was signed out")
	}
	w.drain(t)
	if n := len(w.box.to("ada@example.com", mail.PasswordChanged)); n != 1 {
		t.Errorf("%d notices, want 1", n)
	}
	if _, err := w.sessions.SignIn(ctx, account.SignInInput{Login: "ada", Password: goodPassword}, clientIP); privacy.ErrorCode(err) != privacy.Unauthorized {
		t.Errorf("the old password: %v", err)
	}
	if _, err := w.sessions.SignIn(ctx, account.SignInInput{Login: "ada", Password: newPassword}, clientIP); err != nil {
		t.Errorf("the new password: %v", err)
	}
	if au := w.store.audit[id]; au[len(au)-1].Action != "password.changed" {
		t.Errorf("audit = %+v", au)
	}
	var err error
	for range account.DefaultLimits.PasswordChecksPerAccount.N {
		err = w.passwords.Change(ctx, c, account.ChangePasswordInput{CurrentPassword: "guess", NewPassword: newPassword + "!"})
	}
	wantCode(t, "guessing the current password", err, privacy.RateLimited, "")
}

func TestP13_ResetByMailedCodeAnswersAlikeForEveryAddress(t *testing.T) {
	w := newWorld(t)
	id, c := w.mustActive(t, "ada@example.com", "ada")
	w.mustRegister(t, adult("pending@example.com", "pending"))
	for _, email := range []string{"ada@example.com", "nobody@example.com", "pending@example.com"} {
		if err := w.passwords.RequestReset(ctx, account.ResetRequestInput{Email: email}, clientIP); err != nil {
			t.Errorf("ask for %s: %v", email, err)
		}
	}
	if n := len(w.jobs.jobs); n != 3 {
		t.Errorf("%d jobs, want one for every address alike", n)
	}
	w.drain(t)
	if n := len(w.box.to("nobody@example.com", "")) + len(w.box.to("pending@example.com", mail.PasswordReset)); n != 0 {
		t.Errorf("%d reset mails to addresses no account proved", n)
	}
	resets := w.box.to("ada@example.com", mail.PasswordReset)
	if len(resets) != 1 || !strings.Contains(resets[0].Data.Link, "/reset/#token="+string(id)+".") {
		t.Fatalf("reset mails = %+v", resets)
	}
	code := resets[0].Data.Code
	wrong := strings.Repeat(string(rune('0'+(code[0]-'0'+1)%10)), 6)
	unknown := wantField(t, "a code for no account", w.passwords.Reset(ctx, account.ResetInput{Email: "nobody@example.com", Code: code, NewPassword: newPassword}, clientIP), "code")
	pe := wantField(t, "a wrong code", w.passwords.Reset(ctx, account.ResetInput{Email: "ada@example.com", Code: wrong, NewPassword: newPassword}, clientIP), "code")
	if pe.Message != unknown.Message {
		t.Errorf("a wrong code says %q, an unknown address %q", pe.Message, unknown.Message)
	}
	wantField(t, "a weak new password", w.passwords.Reset(ctx, account.ResetInput{Email: "ada@example.com", Code: code, NewPassword: "qwertyuiop123"}, clientIP), "newPassword")
	if err := w.passwords.Reset(ctx, account.ResetInput{Email: "ada@example.com", Code: code, NewPassword: newPassword}, clientIP); err != nil {
		t.Fatal(err)
	}
	if _, err := w.sessions.Authenticate(ctx, string(id)+".x"); err == nil {
		t.Fatal("a forged session authenticates")
	}
	if len(w.store.sessions[id]) != 0 {
		t.Error("sessions survived a reset")
	}
	_ = c
	wantField(t, "the code again", w.passwords.Reset(ctx, account.ResetInput{Email: "ada@example.com", Code: code, NewPassword: newPassword + " two"}, clientIP), "code")
	w.drain(t)
	if n := len(w.box.to("ada@example.com", mail.PasswordChanged)); n != 1 {
		t.Errorf("%d notices, want 1", n)
	}
	if _, err := w.sessions.SignIn(ctx, account.SignInInput{Login: "ada", Password: newPassword}, clientIP); err != nil {
		t.Errorf("the new password: %v", err)
	}
	if au := w.store.audit[id]; au[len(au)-1].Action != "password.reset" {
		t.Errorf("audit = %+v", au)
	}
}

func TestP13_ResetByLinkAndItsRefusals(t *testing.T) {
	w := newWorld(t)
	id, _ := w.mustActive(t, "ada@example.com", "ada")
	if err := w.passwords.RequestReset(ctx, account.ResetRequestInput{Email: "Ada@example.com"}, clientIP); err != nil {
		t.Fatal(err)
	}
	w.drain(t)
	_, token, _ := strings.Cut(w.box.to("ada@example.com", mail.PasswordReset)[0].Data.Link, "#token=")
	tests := []struct {
		name  string
		in    account.ResetInput
		field string
	}{
		{"a malformed token", account.ResetInput{Token: "x", NewPassword: newPassword}, "token"},
		{"a forged token", account.ResetInput{Token: string(id) + ".forged", NewPassword: newPassword}, "token"},
		{"no address", account.ResetInput{Code: "123456", NewPassword: newPassword}, "email"},
		{"a short code", account.ResetInput{Email: "ada@example.com", Code: "1", NewPassword: newPassword}, "code"},
		{"no new password", account.ResetInput{Token: token}, "newPassword"},
	}
	for _, tc := range tests {
		wantField(t, tc.name, w.passwords.Reset(ctx, tc.in, clientIP), tc.field)
	}
	w.clock.Advance(16 * time.Minute)
	wantField(t, "an expired link", w.passwords.Reset(ctx, account.ResetInput{Token: token, NewPassword: newPassword}, clientIP), "token")
	if err := w.passwords.RequestReset(ctx, account.ResetRequestInput{Email: "ada@example.com"}, clientIP); err != nil {
		t.Fatal(err)
	}
	w.drain(t)
	ms := w.box.to("ada@example.com", mail.PasswordReset)
	_, token, _ = strings.Cut(ms[len(ms)-1].Data.Link, "#token=")
	if err := w.passwords.Reset(ctx, account.ResetInput{Token: token, NewPassword: newPassword}, clientIP); err != nil {
		t.Fatalf("reset by link: %v", err)
	}
	var err error
	for range account.DefaultLimits.ResetPerEmail.N + 1 {
		err = w.passwords.RequestReset(ctx, account.ResetRequestInput{Email: "ada+x@example.com"}, clientIP)
	}
	wantCode(t, "one reset mail too many", err, privacy.RateLimited, "")
	boom := errors.New("table unavailable")
	w.store.fail["AddressOwners"] = boom
	if err := w.passwords.Reset(ctx, account.ResetInput{Email: "grace@example.com", Code: "123456", NewPassword: newPassword}, "198.51.100.3"); !errors.Is(err, boom) {
		t.Errorf("err = %v, want the store's", err)
	}
}

// The worker finds out what a job still calls for, and does nothing for what no longer applies.
func TestMailWorkerDoesNothingForWhatNoLongerApplies(t *testing.T) {
	w := newWorld(t)
	gone := privacy.NewSubjectID()
	for _, j := range []account.Job{
		{Kind: account.JobRegistered, Subject: gone}, {Kind: account.JobGuardianRequest, Subject: gone},
		{Kind: account.JobGuardianDecided, Subject: gone}, {Kind: account.JobEmailChange, Subject: gone},
		{Kind: account.JobPasswordChanged, Subject: gone}, {Kind: account.JobResend, EmailKey: "nobody"},
		{Kind: account.JobPasswordReset, EmailKey: "nobody"},
	} {
		if err := w.worker.Do(ctx, j); err != nil {
			t.Errorf("%s for no one: %v", j.Kind, err)
		}
	}
	if w.box.count() != 0 {
		t.Errorf("%d mails for subjects that are gone", w.box.count())
	}
	if err := w.worker.Do(ctx, account.Job{Kind: "nonsense"}); err == nil {
		t.Error("an unknown job was done")
	}
	for _, j := range []account.Job{{Kind: account.JobRegistered}, {Kind: account.JobResend}, {Kind: "nonsense", Subject: "x"}} {
		if err := w.worker.Do(ctx, j); err == nil {
			t.Errorf("Do(%+v) accepted it", j)
		}
	}
	if !w.worker.Handles(account.JobResend) || w.worker.Handles("consent_receipt") {
		t.Error("Handles does not tell the account's jobs from others")
	}
	boom := errors.New("mail service unavailable")
	w.mustRegister(t, adult("ada@example.com", "ada"))
	w.box.fail = boom
	if err := w.verify.Resend(ctx, account.ResendInput{Email: "ada@example.com"}, clientIP); err != nil {
		t.Fatal(err)
	}
	for _, j := range w.jobs.take() {
		if err := w.worker.Do(ctx, j); !errors.Is(err, boom) {
			t.Errorf("a send failure is %v, want it passed on for the queue to retry", err)
		}
	}
}
