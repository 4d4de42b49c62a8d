package e2e

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/privacyportal/portal/infra/portaltest"
	"github.com/privacyportal/portal/internal/dynamodb"
	"github.com/privacyportal/portal/internal/privacy"
)

// assertNothingStored checks that a refused registration left no trace of p: no profile with
// its address or username, no mail, no look-up (sign-in answers 401, not 403), and the
// address registers afterwards as a new one (a code, not an "already registered" notice).
func assertNothingStored(t *testing.T, p person) {
	t.Helper()
	if got := profilesWith(t, "email", p.Email); len(got) != 0 {
		t.Errorf("a refused registration stored %d profiles for its address", len(got))
	}
	if got := profilesWith(t, "username", p.Username); len(got) != 0 {
		t.Errorf("a refused registration stored %d profiles for its username", len(got))
	}
	if got := mailsTo(allMail(t), p.Email, ""); len(got) != 0 {
		t.Errorf("a refused registration sent %d mails, first %q", len(got), got[0].Subject)
	}
	v := newVisitor(t)
	wantStatus(t, "sign in after a refused registration", v.signIn(p.Email, p.Password), http.StatusUnauthorized)
	wantStatus(t, "sign in by username after a refused registration", v.signIn(p.Username, p.Password), http.StatusUnauthorized)
	wantStatus(t, "register after a refused registration", v.register(p.form(nil)), http.StatusAccepted)
	waitMail(t, p.Email, kindVerify, 1)
	if got := mailsTo(allMail(t), p.Email, kindAlready); len(got) != 0 {
		t.Errorf("the address counts as registered after a refused registration: %q", got[0].Subject)
	}
}

func TestP01_RegistrationRequiresOnlyNameEmailUsernamePassword(t *testing.T) {
	for _, field := range []string{"name", "email", "username", "password"} {
		t.Run("without "+field, func(t *testing.T) {
			p := newPerson("p01")
			v := newVisitor(t)
			for _, missing := range []any{nil, "", "   "} {
				r := v.register(p.form(map[string]any{field: missing}))
				pr := wantField(t, "register without "+field, r, field)
				if !strings.Contains(pr.Detail, "required") && missing != "   " {
					t.Errorf("detail %q does not say the field is required", pr.Detail)
				}
			}
			assertNothingStored(t, p)
		})
	}

	// Anything beyond the four answers, the age question and the optional fields is refused
	// by name, not silently dropped or stored.
	for _, field := range []string{"nationality", "dateOfBirth", "gender", "idNumber", "address"} {
		t.Run("unknown field "+field, func(t *testing.T) {
			p := newPerson("p01")
			r := newVisitor(t).register(p.form(map[string]any{field: "anything"}))
			wantField(t, "register with "+field, r, field)
			assertNothingStored(t, p)
		})
	}

	t.Run("the four and the age question", func(t *testing.T) {
		p := newPerson("p01")
		v := newVisitor(t)
		r := v.register(p.form(nil))
		wantStatus(t, "register", r, http.StatusAccepted)
		if got := strings.TrimSpace(string(r.Body)); got != `{"status":"check_email"}` {
			t.Errorf("body = %s, want {\"status\":\"check_email\"}", got)
		}
		m := waitMail(t, p.Email, kindVerify, 1)
		wantStatus(t, "verify", v.do("POST", "/api/verify", p.verifyBody(codeIn(t, m))), http.StatusOK)
		wantStatus(t, "sign in", v.signIn(p.Username, p.Password), http.StatusOK)
		a := v.account()
		if a.Profile.Name != p.Name || a.Profile.Email != p.Email || a.Profile.Username != p.Username || a.Profile.AgeGroup != "14+" || a.Profile.Locale != "en" {
			t.Errorf("profile = %+v", a.Profile)
		}
		if len(a.Optional) != 0 {
			t.Errorf("optional = %v, want none", a.Optional)
		}
		// Only the profile (the four answers, the age group, the language), the password
		// hash and the bookkeeping of the account itself (the policy accepted, the audit trail,
		// the session) are stored.
		for _, it := range partitionOf(t, a.SubjectID) {
			switch {
			case kindOf(it) == dynamodb.KindProfile, kindOf(it) == dynamodb.KindCredential, kindOf(it) == dynamodb.KindAudit, kindOf(it) == dynamodb.KindSession:
			case kindOf(it) == dynamodb.KindConsent && attr(it, "purpose") == privacy.PurposePolicy && attr(it, "action") == "accept":
			default:
				t.Errorf("an account without optional data holds a %s item", attr(it, "SK"))
			}
		}
	})

	// The age question (P24) is the one other answer the form needs; docs/api.md lists it
	// beside the four, not among the optional fields.
	t.Run("the four without the age question", func(t *testing.T) {
		p := newPerson("p01")
		wantField(t, "register without ageGroup", newVisitor(t).register(p.form(map[string]any{"ageGroup": nil})), "ageGroup")
		assertNothingStored(t, p)
	})
}

// optionalFields are the optional profile fields with their consent purposes.
var optionalFields = []struct{ key, purpose, value string }{
	{"mobile", "profile.mobile", "+44 20 7946 0000"},
	{"jobPosition", "profile.job", "Analyst"},
	{"company", "profile.company", "Analytical Engines Ltd"},
	{"education", "profile.education", "Self-taught mathematics"},
}

func TestP02_OptionalFieldsNeedTheirOwnConsentAndGateNothing(t *testing.T) {
	version := inForce(t, portaltest.Cloud(t).SiteDir).ID

	for i, f := range optionalFields {
		other := optionalFields[(i+1)%len(optionalFields)]
		t.Run(f.key+" without its consent", func(t *testing.T) {
			p := newPerson("p02")
			v := newVisitor(t)
			for _, consents := range [][]string{nil, {}, {other.purpose}} {
				r := v.register(p.form(map[string]any{f.key: f.value, "consents": consents}))
				pr := wantField(t, "register "+f.key+" with consents "+strings.Join(consents, ","), r, f.key)
				if !strings.Contains(pr.Detail, "consent") {
					t.Errorf("detail %q does not mention consent", pr.Detail)
				}
			}
			assertNothingStored(t, p)
		})
	}

	t.Run("a consent that is not an optional field's", func(t *testing.T) {
		p := newPerson("p02")
		wantField(t, "register with consents [marketing]", newVisitor(t).register(p.form(map[string]any{"consents": []string{"marketing"}})), "consents")
		assertNothingStored(t, p)
	})

	t.Run("with their consents they are shown with the consent", func(t *testing.T) {
		p := newPerson("p02")
		extra := map[string]any{}
		var consents []string
		for _, f := range optionalFields {
			extra[f.key] = f.value
			consents = append(consents, f.purpose)
		}
		extra["consents"] = consents
		before := time.Now().Add(-time.Minute)
		v, id := mustActive(t, p, extra)
		a := v.account()
		for _, f := range optionalFields {
			o, ok := a.Optional[f.key]
			switch {
			case !ok:
				t.Errorf("optional %s not shown: %v", f.key, a.Optional)
			case o.Value != f.value:
				t.Errorf("optional %s = %q, want %q", f.key, o.Value, f.value)
			case o.ConsentedAt.Before(before) || o.ConsentedAt.After(time.Now().Add(time.Minute)):
				t.Errorf("optional %s consentedAt = %v, want about now", f.key, o.ConsentedAt)
			case o.PolicyVersion != version:
				t.Errorf("optional %s policyVersion = %q, want %q (in force)", f.key, o.PolicyVersion, version)
			}
			found := false
			for _, c := range a.Consents {
				if c.Purpose == f.purpose && c.Granted && c.PolicyVersion == version && c.Source == "register" && !c.At.Before(before) {
					found = true
				}
			}
			if !found {
				t.Errorf("no consent entry granting %s at registration: %+v", f.purpose, a.Consents)
			}
			if itemOf(partitionOf(t, id), dynamodb.SortKey(dynamodb.KindOptional, f.key)) == nil {
				t.Errorf("no OPTIONAL#%s item", f.key)
			}
		}
	})

	t.Run("an account without them can do everything", func(t *testing.T) {
		p := newPerson("p02")
		v, _ := mustActive(t, p, nil)
		a := v.account()
		if len(a.Optional) != 0 || len(a.decisions()) != 0 {
			t.Errorf("optional = %v, consents = %v; want none", a.Optional, a.decisions())
		}
		r := v.patch(map[string]any{"name": "Augusta Ada King", "locale": "zh-CN"})
		wantStatus(t, "edit without optional fields", r, http.StatusOK)
		if a := decodeAccount(t, r); a.Profile.Name != "Augusta Ada King" || a.Profile.Locale != "zh-CN" {
			t.Errorf("after edit: profile = %+v", a.Profile)
		}
		wantStatus(t, "sign out", v.do("DELETE", "/api/session", nil), http.StatusNoContent)
		wantStatus(t, "sign in again", v.signIn(p.Username, p.Password), http.StatusOK)
		v.account()
	})

	t.Run("added later with consent, emptied to withdraw", func(t *testing.T) {
		p := newPerson("p02")
		v, id := mustActive(t, p, nil)

		wantField(t, "add mobile without consent", v.patch(map[string]any{"mobile": "+44 20 7946 0001"}), "mobile")
		if a := v.account(); len(a.Optional) != 0 || len(a.decisions()) != 0 {
			t.Fatalf("a refused change was stored: optional = %v, consents = %v", a.Optional, a.decisions())
		}

		r := v.patch(map[string]any{"mobile": "+44 20 7946 0001", "consents": []string{"profile.mobile"}})
		wantStatus(t, "add mobile with consent", r, http.StatusOK)
		a := decodeAccount(t, r)
		if a.Optional["mobile"].Value != "+44 20 7946 0001" || a.Optional["mobile"].PolicyVersion != version {
			t.Errorf("mobile = %+v", a.Optional["mobile"])
		}
		if d := a.decisions(); len(d) != 1 || d[0] != "profile.mobile:grant" || a.Consents[len(a.Consents)-1].Source != "account" {
			t.Errorf("consents = %+v, want one grant of profile.mobile from the account page", a.Consents)
		}

		r = v.patch(map[string]any{"mobile": ""})
		wantStatus(t, "empty mobile", r, http.StatusOK)
		a = decodeAccount(t, r)
		if _, ok := a.Optional["mobile"]; ok {
			t.Errorf("mobile still shown after emptying it: %+v", a.Optional)
		}
		if itemOf(partitionOf(t, id), dynamodb.SortKey(dynamodb.KindOptional, "mobile")) != nil {
			t.Error("the mobile item is still stored after emptying it")
		}
		if d := a.decisions(); len(d) != 2 || d[0] != "profile.mobile:grant" || d[1] != "profile.mobile:withdraw" || a.Consents[2].PolicyVersion != version {
			t.Errorf("consents = %+v, want the grant then a withdrawal of profile.mobile", a.Consents)
		}
		if !a.hasAudit("profile.updated", "mobile", "consent:profile.mobile") {
			t.Errorf("no audit entry for the withdrawal: %+v", a.Audit)
		}
		// The withdrawal holds: the field needs a fresh consent again.
		wantField(t, "re-add mobile without consent", v.patch(map[string]any{"mobile": "+44 20 7946 0001"}), "mobile")
	})
}

func TestP13_PasswordsAreStrongHashedAndNeverReturned(t *testing.T) {
	t.Run("weak passwords are refused with a reason", func(t *testing.T) {
		p := newPerson("p13")
		tests := []struct {
			name, password, reason string
		}{
			{"empty", "", "required"},
			{"short", "Tr0ub4dor", "at least 10"},
			{"common", "password1234", "too easy to guess"},
			{"keyboard pattern", "qwertyuiop123", "too easy to guess"},
			{"contains the username", p.Username + "!", "too easy to guess"},
			{"the e-mail address", p.Email, "too easy to guess"},
			{"too long", strings.Repeat("horse battery ", 10), "at most 128"},
		}
		v := newVisitor(t)
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				q := p
				q.Password = tc.password
				pr := wantField(t, "register with a "+tc.name+" password", v.register(q.form(nil)), "password")
				if !strings.Contains(pr.Detail, tc.reason) {
					t.Errorf("detail = %q, want it to say %q", pr.Detail, tc.reason)
				}
			})
		}
		assertNothingStored(t, p)
	})

	t.Run("stored as salted argon2id, never returned, mailed or logged", func(t *testing.T) {
		// A password of its own, so finding it anywhere means this test leaked it.
		secret := "violet kettle " + uniq("") + " harbor lantern"
		p1, p2 := newPerson("p13"), newPerson("p13")
		p1.Password, p2.Password = secret, secret
		v1, id1 := mustActive(t, p1, map[string]any{"mobile": "+44 20 7946 0002", "consents": []string{"profile.mobile"}})
		_, id2 := mustActive(t, p2, nil)

		// Use the account the ways that touch the password or send mail.
		wantStatus(t, "wrong password", newVisitor(t).signIn(p1.Email, secret+"x"), http.StatusUnauthorized)
		wantStatus(t, "second sign-in", newVisitor(t).signIn(p1.Username, secret), http.StatusOK)
		wantStatus(t, "edit", v1.patch(map[string]any{"name": "Ada King", "email": uniq("p13new") + "@example.com", "currentPassword": secret}), http.StatusOK)
		r := v1.do("GET", "/api/account", nil)
		wantStatus(t, "GET /api/account", r, http.StatusOK)
		// (The audit trail may name the field "password"; it must never hold its value.)
		for _, s := range []string{secret, "argon2", "passwordHash", "credential"} {
			if strings.Contains(strings.ToLower(string(r.Body)), strings.ToLower(s)) {
				t.Errorf("GET /api/account contains %q: %s", s, r.Body)
			}
		}

		h1 := attr(itemOf(partitionOf(t, id1), string(dynamodb.KindCredential)), "passwordHash")
		h2 := attr(itemOf(partitionOf(t, id2), string(dynamodb.KindCredential)), "passwordHash")
		for _, h := range []string{h1, h2} {
			if !strings.HasPrefix(h, "$argon2id$v=19$") || len(strings.Split(h, "$")) != 6 {
				t.Errorf("stored hash %q is not a PHC argon2id hash", h)
			}
		}
		if h1 == h2 {
			t.Error("two accounts with the same password have the same hash: no salt")
		}

		var leaks []string
		scanTable(t, func(it ddbItem) {
			if strings.Contains(itemText(it), secret) {
				leaks = append(leaks, attr(it, "PK")+" "+attr(it, "SK"))
			}
		})
		if len(leaks) > 0 {
			t.Errorf("the plaintext password is stored in %v", leaks)
		}
		for _, m := range allMail(t) {
			if strings.Contains(m.Subject+m.Body.Text+m.Body.HTML, secret) {
				t.Errorf("mail %q to %v contains the password", m.Subject, m.Destination.To)
			}
		}
		if log := cloudLog(t); log == "" {
			t.Log("the local cloud's log is not this process's: skipping the log check")
		} else if strings.Contains(log, secret) {
			t.Error("the local cloud's log (functions' output) contains the password")
		}
	})
}

func TestAccountNoEnumeration(t *testing.T) {
	p := newPerson("enum")
	mustActive(t, p, nil)
	pending := newPerson("enum")
	wantStatus(t, "a registration left unverified", newVisitor(t).register(pending.form(nil)), http.StatusAccepted)
	waitMail(t, pending.Email, kindVerify, 1)

	t.Run("registering a taken address answers like a new one", func(t *testing.T) {
		again := p
		again.Username = uniq("enum")
		again.Name = "Someone Else"
		again.Password = "another pass phrase entirely"
		r := newVisitor(t).register(again.form(nil))
		fresh := newVisitor(t).register(newPerson("enum").form(nil))
		if r.Status != fresh.Status || string(r.Body) != string(fresh.Body) {
			t.Errorf("taken address: %s; new address: %s", r, fresh)
		}
		if r.Header.Get("Content-Type") != fresh.Header.Get("Content-Type") {
			t.Errorf("Content-Type %q vs %q", r.Header.Get("Content-Type"), fresh.Header.Get("Content-Type"))
		}
		notice := waitMail(t, p.Email, kindAlready, 1)
		if codeRE.MatchString(notice.Body.Text) || verifyRE.MatchString(notice.Body.Text) {
			t.Errorf("the notice carries a code or link:\n%s", notice.Body.Text)
		}
		if !strings.Contains(notice.Body.Text, "/signin/") {
			t.Errorf("the notice does not point to sign-in:\n%s", notice.Body.Text)
		}
		if got := mailsTo(allMail(t), p.Email, kindVerify); len(got) != 1 {
			t.Errorf("%d verification mails to the address, want 1", len(got))
		}
		// The attempt is written like any registration (the same work on the request's path);
		// the worker then retires it.
		eventually(t, func() error {
			if got := profilesWith(t, "username", again.Username); len(got) != 0 {
				return fmt.Errorf("the second registration of an address still has a profile")
			}
			return nil
		})
		wantStatus(t, "the owner signs in with their own password", newVisitor(t).signIn(p.Email, p.Password), http.StatusOK)
		wantStatus(t, "the attempt's password", newVisitor(t).signIn(p.Email, again.Password), http.StatusUnauthorized)
	})

	t.Run("sign-in never says which part is wrong", func(t *testing.T) {
		v, _ := mustActive(t, newPerson("enum"), nil)
		a := v.account()
		tests := []struct{ name, login, password string }{
			{"unknown e-mail", uniq("nobody") + "@example.com", goodPassword},
			{"unknown username", uniq("nobody"), goodPassword},
			{"wrong password for an e-mail", a.Profile.Email, "wrong " + goodPassword},
			{"wrong password for a username", a.Profile.Username, "wrong " + goodPassword},
			{"wrong password for an unverified account", pending.Email, "wrong " + goodPassword},
		}
		var ref reply
		var refProblem problem
		for i, tc := range tests {
			r := newVisitor(t).signIn(tc.login, tc.password)
			wantStatus(t, tc.name, r, http.StatusUnauthorized)
			pr := r.problem(t)
			if sessionCookie(t, r) != nil {
				t.Errorf("%s: a failed sign-in sets a session cookie", tc.name)
			}
			// "instance" is the request's own ID, different for every request by design.
			pr.Instance = ""
			if i == 0 {
				ref, refProblem = r, pr
				if pr.Detail != "The e-mail/username or password is not right." {
					t.Errorf("detail = %q", pr.Detail)
				}
				continue
			}
			if pr != refProblem || r.Header.Get("Content-Type") != ref.Header.Get("Content-Type") {
				t.Errorf("%s: %s; %s: %s", tests[0].name, ref, tc.name, r)
			}
		}
	})
}

func TestAccountVerificationCodesAreSingleUseAndLimited(t *testing.T) {
	t.Run("wrong codes count down, then the code is dead", func(t *testing.T) {
		p := newPerson("code")
		v := newVisitor(t)
		wantStatus(t, "register", v.register(p.form(nil)), http.StatusAccepted)
		code := codeIn(t, waitMail(t, p.Email, kindVerify, 1))
		wrong := func(i int) string { // a 6-digit code that is not the right one
			return strings.Repeat(string(rune('0'+(int(code[0]-'0')+1+i)%10)), 6)
		}
		// The answer to a wrong code is the same whether or not the address has a pending
		// registration (no count of tries left), so the form cannot find registrations.
		unknown := wantField(t, "code for an unknown address", v.do("POST", "/api/verify", map[string]string{"email": uniq("nobody") + "@example.com", "code": "123456", "password": p.Password}), "code")
		for i := range 5 {
			pr := wantField(t, "wrong code", v.do("POST", "/api/verify", p.verifyBody(wrong(i))), "code")
			if pr.Detail != unknown.Detail {
				t.Errorf("attempt %d: detail %q differs from an unknown address's %q", i+1, pr.Detail, unknown.Detail)
			}
			if !strings.Contains(pr.Detail, "new code") {
				t.Errorf("wrong code: detail = %q, want it to say how to get a new code", pr.Detail)
			}
		}
		pr := wantField(t, "right code after 5 wrong ones", v.do("POST", "/api/verify", p.verifyBody(code)), "code")
		if !strings.Contains(pr.Detail, "new code") {
			t.Errorf("dead code: detail = %q, want it to ask for a new code", pr.Detail)
		}
		wantStatus(t, "sign in unverified", v.signIn(p.Email, p.Password), http.StatusForbidden)

		// Signing in unverified mailed a fresh code; a resend mails another. Only the newest
		// works. (The mail worker made them; which came last is the one it stored last, which
		// the mailbox's order need not show: one of the two works, once, the other not at all.)
		wantStatus(t, "resend", v.do("POST", "/api/verify/resend", map[string]string{"email": p.Email}), http.StatusAccepted)
		mails := waitMails(t, p.Email, kindVerify, 3)
		a, b := codeIn(t, mails[1]), codeIn(t, mails[2])
		newest := b
		if r := v.do("POST", "/api/verify", p.verifyBody(b)); r.Status != http.StatusOK {
			wantField(t, "one of the two new codes", r, "code")
			newest = a
			wantStatus(t, "the other new code", v.do("POST", "/api/verify", p.verifyBody(a)), http.StatusOK)
		}
		wantStatus(t, "code reused", v.do("POST", "/api/verify", p.verifyBody(newest)), http.StatusBadRequest)
		wantStatus(t, "sign in", v.signIn(p.Email, p.Password), http.StatusOK)
		if a := v.account(); a.Status != "active" || !a.hasAudit("email.verified", "email") {
			t.Errorf("status = %q, audit = %+v", a.Status, a.Audit)
		}
		// A verified address gets no more codes.
		wantStatus(t, "resend when verified", v.do("POST", "/api/verify/resend", map[string]string{"email": p.Email}), http.StatusAccepted)
		waitSettled(t)
		if got := mailsTo(allMail(t), p.Email, kindVerify); len(got) != 3 {
			t.Errorf("%d verification mails after resending to a verified address, want 3", len(got))
		}
	})

	t.Run("the link works once", func(t *testing.T) {
		p := newPerson("link")
		v := newVisitor(t)
		wantStatus(t, "register", v.register(p.form(nil)), http.StatusAccepted)
		m := waitMail(t, p.Email, kindVerify, 1)
		token := tokenIn(t, m, verifyRE)
		forged := token[:len(token)-2] + map[bool]string{true: "AA", false: "BB"}[!strings.HasSuffix(token, "AA")]
		wantStatus(t, "forged token", v.do("POST", "/api/verify", map[string]string{"token": forged, "password": p.Password}), http.StatusBadRequest)
		r := v.do("POST", "/api/verify", map[string]string{"token": token, "password": p.Password})
		wantStatus(t, "token", r, http.StatusOK)
		if got := strings.TrimSpace(string(r.Body)); got != `{"status":"verified"}` {
			t.Errorf("body = %s", got)
		}
		wantStatus(t, "token again", v.do("POST", "/api/verify", map[string]string{"token": token, "password": p.Password}), http.StatusBadRequest)
		wantStatus(t, "the mailed code after the link", v.do("POST", "/api/verify", p.verifyBody(codeIn(t, m))), http.StatusBadRequest)
		wantStatus(t, "sign in", v.signIn(p.Email, p.Password), http.StatusOK)
	})

	t.Run("a code for an unknown address is refused", func(t *testing.T) {
		v := newVisitor(t)
		pr := wantField(t, "unknown address", v.do("POST", "/api/verify", map[string]string{"email": uniq("nobody") + "@example.com", "code": "123456", "password": goodPassword}), "code")
		if pr.Detail == "" {
			t.Error("no detail")
		}
		wantStatus(t, "resend to an unknown address", v.do("POST", "/api/verify/resend", map[string]string{"email": uniq("nobody") + "@example.com"}), http.StatusAccepted)
	})
}
