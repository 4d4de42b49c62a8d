package e2e

import (
	"net/http"
	"strings"
	"testing"
)

// TestP13_PasswordChangeNeedsTheCurrentOneAndEndsOtherSessions: someone holding a stolen
// session cannot change the password, and a change signs every other session out and tells
// the account's address.
func TestP13_PasswordChangeNeedsTheCurrentOneAndEndsOtherSessions(t *testing.T) {
	p := newPerson("pwchange")
	v, _ := mustActive(t, p, nil)
	other := newVisitor(t)
	wantStatus(t, "a second session", other.signIn(p.Email, p.Password), http.StatusOK)
	const newPassword = "a brand new pass phrase for the portal"

	wantField(t, "no current password", v.do("POST", "/api/account/password", map[string]string{"newPassword": newPassword}), "currentPassword")
	wantField(t, "a wrong current password", v.do("POST", "/api/account/password", map[string]string{"currentPassword": "wrong " + p.Password, "newPassword": newPassword}), "currentPassword")
	wantField(t, "a weak new password", v.do("POST", "/api/account/password", map[string]string{"currentPassword": p.Password, "newPassword": "password1"}), "newPassword")
	wantField(t, "the username as the new password", v.do("POST", "/api/account/password", map[string]string{"currentPassword": p.Password, "newPassword": p.Username + " " + p.Username}), "newPassword")
	wantStatus(t, "signed out", newVisitor(t).do("POST", "/api/account/password", map[string]string{"currentPassword": p.Password, "newPassword": newPassword}), http.StatusUnauthorized)
	wantStatus(t, "refused changes leave the other session", other.do("GET", "/api/account", nil), http.StatusOK)

	r := v.do("POST", "/api/account/password", map[string]string{"currentPassword": p.Password, "newPassword": newPassword})
	wantStatus(t, "change", r, http.StatusOK)
	if got := strings.TrimSpace(string(r.Body)); got != `{"status":"changed"}` {
		t.Errorf("body = %s", got)
	}
	wantStatus(t, "the session that changed it", v.do("GET", "/api/account", nil), http.StatusOK)
	wantStatus(t, "the other session", other.do("GET", "/api/account", nil), http.StatusUnauthorized)
	wantStatus(t, "the old password", newVisitor(t).signIn(p.Email, p.Password), http.StatusUnauthorized)
	wantStatus(t, "the new password", newVisitor(t).signIn(p.Username, newPassword), http.StatusOK)

	notice := waitMail(t, p.Email, kindPasswordChanged, 1)
	if strings.Contains(notice.Body.Text, newPassword) || !strings.Contains(notice.Body.Text, "/reset/") {
		t.Errorf("the notice should point to the reset page and hold no password:\n%s", notice.Body.Text)
	}
	if a := v.account(); !a.hasAudit("password.changed", "password") {
		t.Errorf("no audit entry for the change: %+v", a.Audit)
	}
}

// TestP13_PasswordResetByMailedCode: a forgotten password is reset with a code mailed to the
// account's proved address; the request answers alike for every address and mails nobody
// else; the reset ends every session, works once and is told to the address.
func TestP13_PasswordResetByMailedCode(t *testing.T) {
	p := newPerson("reset")
	v, _ := mustActive(t, p, nil)
	pending := newPerson("reset")
	wantStatus(t, "a registration never verified", newVisitor(t).register(pending.form(nil)), http.StatusAccepted)
	waitMail(t, pending.Email, kindVerify, 1)
	nobody := uniq("nobody") + "@example.com"

	var answers []reply
	for _, email := range []string{p.Email, nobody, pending.Email} {
		answers = append(answers, newVisitor(t).do("POST", "/api/password/reset", map[string]string{"email": email}))
	}
	for i, r := range answers {
		wantStatus(t, "reset request", r, http.StatusAccepted)
		if string(r.Body) != string(answers[0].Body) {
			t.Errorf("answer %d: %s; for an account: %s", i, r, answers[0])
		}
	}
	m := waitMail(t, p.Email, kindReset, 1)
	code, token := codeIn(t, m), tokenIn(t, m, resetRE)
	waitSettled(t)
	for _, addr := range []string{nobody, pending.Email} {
		if got := mailsTo(allMail(t), addr, kindReset); len(got) != 0 {
			t.Errorf("%s has no account and got a reset mail", addr)
		}
	}

	const newPassword = "reset pass phrase that is long enough"
	confirm := func(body map[string]string) reply {
		return newVisitor(t).do("POST", "/api/password/reset/confirm", body)
	}
	wantField(t, "a wrong code", confirm(map[string]string{"email": p.Email, "code": wrongCode(code), "newPassword": newPassword}), "code")
	wantField(t, "a code for an unknown address", confirm(map[string]string{"email": nobody, "code": code, "newPassword": newPassword}), "code")
	wantField(t, "a weak new password", confirm(map[string]string{"email": p.Email, "code": code, "newPassword": "123456"}), "newPassword")
	wantField(t, "the name as the new password", confirm(map[string]string{"email": p.Email, "code": code, "newPassword": p.Username}), "newPassword")
	wantStatus(t, "still signed in before the reset", v.do("GET", "/api/account", nil), http.StatusOK)

	r := confirm(map[string]string{"email": p.Email, "code": code, "newPassword": newPassword})
	wantStatus(t, "reset", r, http.StatusOK)
	if got := strings.TrimSpace(string(r.Body)); got != `{"status":"reset"}` {
		t.Errorf("body = %s", got)
	}
	wantField(t, "the code again", confirm(map[string]string{"email": p.Email, "code": code, "newPassword": newPassword + " again"}), "code")
	wantField(t, "the link after the code", confirm(map[string]string{"token": token, "newPassword": newPassword + " again"}), "token")
	wantStatus(t, "the session from before the reset", v.do("GET", "/api/account", nil), http.StatusUnauthorized)
	wantStatus(t, "the old password", newVisitor(t).signIn(p.Email, p.Password), http.StatusUnauthorized)
	wantStatus(t, "the new password", newVisitor(t).signIn(p.Email, newPassword), http.StatusOK)
	waitMail(t, p.Email, kindPasswordChanged, 1)

	t.Run("by the mailed link", func(t *testing.T) {
		wantStatus(t, "reset request", newVisitor(t).do("POST", "/api/password/reset", map[string]string{"email": p.Email}), http.StatusAccepted)
		token := tokenIn(t, waitMail(t, p.Email, kindReset, 2), resetRE)
		const linked = "linked reset pass phrase long enough"
		wantStatus(t, "reset by link", confirm(map[string]string{"token": token, "newPassword": linked}), http.StatusOK)
		wantStatus(t, "sign in", newVisitor(t).signIn(p.Username, linked), http.StatusOK)
	})
}

// wrongCode is a 6-digit code that is not c.
func wrongCode(c string) string {
	if c == "000000" {
		return "000001"
	}
	return "000000"
}
