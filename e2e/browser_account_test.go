package e2e

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/privacyportal/portal/infra/portaltest"
)

var (
	sixDigitCode = regexp.MustCompile(`\b\d{6}\b`)
	linkInMail   = regexp.MustCompile(`https?://\S+#token=\S+`)
)

// waitFor polls a JavaScript condition until it is true. A poll that the page cuts short by
// navigating (a form that opens the next page) starts again on the new page.
func waitFor(expr string) chromedp.Action[chromedp.Void] {
	return func(ctx context.Context, t *chromedp.Target) (chromedp.Void, error) {
		deadline := time.Now().Add(15 * time.Second)
		for {
			_, err := chromedp.Poll[bool](expr, chromedp.WithPollingTimeout(time.Until(deadline)))(ctx, t)
			if err == nil || time.Now().After(deadline) || ctx.Err() != nil {
				return chromedp.Void{}, err
			}
			time.Sleep(100 * time.Millisecond) // navigated mid-poll: wait for the new page
		}
	}
}

// typeInto clears a field and types into it, as a person would.
func typeInto(id, text string) chromedp.Action[chromedp.Void] {
	return chromedp.Steps(chromedp.Clear(chromedp.ID(id)), chromedp.SendKeys(chromedp.ID(id), text))
}

func do(t *testing.T, ctx context.Context, what string, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	if err := chromedp.Do(ctx, steps...); err != nil {
		shot(t, ctx, "failed-"+strings.ReplaceAll(what, " ", "-")+".png")
		t.Fatalf("%s: %v", what, err)
	}
}

// registerInBrowser fills in the register page as a person would and waits for the "check
// your e-mail" step. A guardian address means the person answers that they are under 14.
func registerInBrowser(t *testing.T, ctx context.Context, base, name, email, username, password, guardian string) {
	t.Helper()
	steps := []chromedp.Action[chromedp.Void]{
		chromedp.Navigate(base + "/register/"),
		chromedp.WaitEnabled(chromedp.ID("register-submit")),
		typeInto("register-name", name),
		typeInto("register-email", email),
		typeInto("register-username", username),
		typeInto("register-password", password),
	}
	if guardian == "" {
		steps = append(steps, chromedp.Click(chromedp.ID("register-age-yes")))
	} else {
		steps = append(steps, chromedp.Click(chromedp.ID("register-age-no")),
			chromedp.WaitVisible(chromedp.ID("register-guardian-email")),
			typeInto("register-guardian-email", guardian))
	}
	steps = append(steps, chromedp.Click(chromedp.ID("register-submit")), chromedp.WaitVisible(chromedp.ID("verify-section")))
	do(t, ctx, "register "+name, steps...)
}

// TestBrowserAccountLifecycle: a person registers in Chromium, reads the code from their mail,
// verifies, signs in, sees and corrects their profile, and signs out (P01, P15, P16).
func TestBrowserAccountLifecycle(t *testing.T) {
	base := portaltest.URL(t)
	mb := portaltest.NewMailbox(t)
	ctx := portaltest.Browser(t)
	ctx, cancel := context.WithTimeout(ctx, 90*time.Second)
	defer cancel()
	console := watchConsole(ctx)

	n := time.Now().UnixNano()
	email := fmt.Sprintf("browser-%d@example.com", n)
	username := fmt.Sprintf("br%d", n%1_000_000_000)
	password := "correct horse battery staple"

	registerInBrowser(t, ctx, base, "Ada Lovelace", email, username, password, "")
	shot(t, ctx, "register-check-email.png")

	// The person opens the mailed link (in the same browser, as from a webmail tab) and is
	// asked for the password they chose, nothing else.
	m := mb.Wait(t, email, mailWait, nil)
	link := linkInMail.FindString(m.Body.Text)
	if !strings.Contains(link, "/verify/#token=") {
		t.Fatalf("no verification link in the mail:\n%s", m.Body.Text)
	}
	do(t, ctx, "verify by the link", chromedp.Navigate(link), chromedp.WaitVisible(chromedp.ID("verify-password")),
		typeInto("verify-password", password), chromedp.Click(chromedp.ID("verify-submit")),
		chromedp.WaitVisible(chromedp.ID("verify-done")))

	do(t, ctx, "sign in", chromedp.Navigate(base+"/signin/"),
		chromedp.WaitEnabled(chromedp.ID("signin-submit")),
		typeInto("signin-login", username),
		typeInto("signin-password", password),
		chromedp.Click(chromedp.ID("signin-submit")),
		chromedp.WaitVisible(chromedp.ID("account-profile-data")),
	)
	profile := run(t, ctx, chromedp.Text(chromedp.ID("account-profile-data")))
	for _, want := range []string{"Ada Lovelace", email, username} {
		if !strings.Contains(profile, want) {
			t.Errorf("the account page does not show %q:\n%s", want, profile)
		}
	}
	sessions := run(t, ctx, chromedp.Text(chromedp.ID("account-sessions")))
	if strings.TrimSpace(sessions) == "" {
		t.Error("the account page shows no sessions")
	}
	shot(t, ctx, "account.png")

	// Correct the name, as a person would, then see it after a reload.
	do(t, ctx, "correct the name", typeInto("account-name", "Augusta Ada King"), chromedp.Click(chromedp.ID("account-save")),
		waitFor(`document.getElementById("account-profile-data").textContent.includes("Augusta Ada King")`))
	do(t, ctx, "reload", chromedp.Reload(), chromedp.WaitVisible(chromedp.ID("account-profile-data")))
	if p := run(t, ctx, chromedp.Text(chromedp.ID("account-profile-data"))); !strings.Contains(p, "Augusta Ada King") {
		t.Errorf("after reload the profile shows:\n%s", p)
	}
	audit := run(t, ctx, chromedp.Text(chromedp.ID("account-audit-table")))
	if strings.Count(audit, "\n") < 2 || !strings.Contains(audit, "Name") {
		t.Errorf("the account history does not show the correction of the name:\n%s", audit)
	}

	// Change the password on the account page: it needs the current one.
	const newPassword = "violet tractor hums at dawn"
	do(t, ctx, "change the password", typeInto("account-password-current", password), typeInto("account-password-new", newPassword),
		chromedp.Click(chromedp.ID("account-password-submit")),
		waitFor(`/[^…\s]\s*$/.test(document.getElementById("account-password-status").textContent)`))
	if got := mb.Wait(t, email, mailWait, func(m portaltest.Mail) bool { return strings.HasPrefix(m.Subject, kindPasswordChanged) }); got.Subject == "" {
		t.Error("no mail about the changed password")
	}
	password = newPassword

	do(t, ctx, "sign out", chromedp.Click(chromedp.ID("account-signout")), chromedp.WaitVisible(chromedp.ID("account-signed-out")))
	status := run(t, ctx, chromedp.Evaluate[int](`fetch("/api/account", {credentials: "same-origin"}).then(r => r.status)`, chromedp.EvalAwaitPromise))
	if status != 401 {
		t.Errorf("after sign-out GET /api/account = %d, want 401", status)
	}
	if errs := console.errors(); len(errs) > 0 {
		t.Errorf("console reported problems:\n%s", strings.Join(errs, "\n"))
	}
}

// TestBrowserChildNeedsGuardian: a child registers; the guardian opens the link from their
// mail and confirms; then the child can sign in (P24).
func TestBrowserChildNeedsGuardian(t *testing.T) {
	base := portaltest.URL(t)
	mb := portaltest.NewMailbox(t)
	ctx := portaltest.Browser(t)
	ctx, cancel := context.WithTimeout(ctx, 90*time.Second)
	defer cancel()

	n := time.Now().UnixNano()
	email := fmt.Sprintf("child-%d@example.com", n)
	guardian := fmt.Sprintf("guardian-%d@example.com", n)
	username := fmt.Sprintf("ch%d", n%1_000_000_000)
	password := "purple elephant walks quietly"

	registerInBrowser(t, ctx, base, "Tom", email, username, password, guardian)
	code := sixDigitCode.FindString(mb.Wait(t, email, mailWait, nil).Body.Text)
	do(t, ctx, "child verifies", typeInto("verify-code", code), chromedp.Click(chromedp.ID("verify-submit")),
		chromedp.WaitVisible(chromedp.ID("verify-done")))

	signIn := func(what string) string {
		do(t, ctx, what, chromedp.Navigate(base+"/signin/"), chromedp.WaitEnabled(chromedp.ID("signin-submit")),
			typeInto("signin-login", email), typeInto("signin-password", password), chromedp.Click(chromedp.ID("signin-submit")),
			// Done when the account page opens, or the status shows an answer (not "Sending…").
			waitFor(`location.pathname.endsWith("/account/") || /[^…\s]\s*$/.test(document.getElementById("signin-status").textContent)`))
		return run(t, ctx, chromedp.Location())
	}
	if loc := signIn("sign in before the guardian agrees"); strings.HasSuffix(loc, "/account/") {
		t.Fatal("a child signed in before the guardian agreed")
	}
	if msg := run(t, ctx, chromedp.Text(chromedp.ID("signin-status"))); !strings.Contains(strings.ToLower(msg), "guardian") {
		t.Errorf("sign-in says %q, want it to mention the guardian", msg)
	}

	gm := mb.Wait(t, guardian, mailWait, nil)
	link := linkInMail.FindString(gm.Body.Text)
	if !strings.Contains(link, "/guardian/#token=") {
		t.Fatalf("no guardian link in:\n%s", gm.Body.Text)
	}
	if strings.Contains(gm.Body.Text, email) || strings.Contains(gm.Body.Text, username) {
		t.Error("the guardian's mail shows the child's address or username; it should name the child only")
	}
	do(t, ctx, "guardian confirms", chromedp.Navigate(link), chromedp.WaitEnabled(chromedp.ID("guardian-confirm")),
		chromedp.Click(chromedp.ID("guardian-confirm")), chromedp.WaitVisible(chromedp.ID("guardian-result")))
	shot(t, ctx, "guardian-confirmed.png")

	if loc := signIn("sign in after the guardian agreed"); !strings.HasSuffix(loc, "/account/") {
		t.Errorf("after the guardian agreed, sign-in went to %s", loc)
	}
}

// TestBrowserForgottenPassword: from the sign-in page a person asks for a reset, opens the
// mailed link, chooses a new password and signs in with it (P13).
func TestBrowserForgottenPassword(t *testing.T) {
	base := portaltest.URL(t)
	mb := portaltest.NewMailbox(t)
	p := newPerson("brreset")
	mustActive(t, p, nil)
	ctx := portaltest.Browser(t)
	ctx, cancel := context.WithTimeout(ctx, 90*time.Second)
	defer cancel()
	console := watchConsole(ctx)

	do(t, ctx, "ask for a reset", chromedp.Navigate(base+"/signin/"), chromedp.WaitVisible(chromedp.ID("signin-reset-link")),
		chromedp.Click(chromedp.ID("signin-reset-link")), chromedp.WaitEnabled(chromedp.ID("reset-request-submit")),
		typeInto("reset-email", p.Email), chromedp.Click(chromedp.ID("reset-request-submit")),
		chromedp.WaitVisible(chromedp.ID("reset-section")))
	m := mb.Wait(t, p.Email, mailWait, func(m portaltest.Mail) bool { return strings.HasPrefix(m.Subject, kindReset) })
	link := linkInMail.FindString(m.Body.Text)
	if !strings.Contains(link, "/reset/#token=") {
		t.Fatalf("no reset link in the mail:\n%s", m.Body.Text)
	}
	const newPassword = "orange kettle sings twice"
	do(t, ctx, "choose a new password", chromedp.Navigate(link), chromedp.WaitVisible(chromedp.ID("reset-new-password")),
		typeInto("reset-new-password", newPassword), chromedp.Click(chromedp.ID("reset-submit")),
		chromedp.WaitVisible(chromedp.ID("reset-done")))
	shot(t, ctx, "reset-done.png")
	do(t, ctx, "sign in with it", chromedp.Click(chromedp.ID("reset-signin")), chromedp.WaitEnabled(chromedp.ID("signin-submit")),
		typeInto("signin-login", p.Username), typeInto("signin-password", newPassword), chromedp.Click(chromedp.ID("signin-submit")),
		chromedp.WaitVisible(chromedp.ID("account-profile-data")))
	if errs := console.errors(); len(errs) > 0 {
		t.Errorf("console reported problems:\n%s", strings.Join(errs, "\n"))
	}
}
