package e2e

import (
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/privacyportal/portal/internal/dynamodb"
	"github.com/privacyportal/portal/internal/privacy"
)

func TestP15_AccountPageShowsEverythingHeld(t *testing.T) {
	p := newPerson("p15")
	v, id := mustActive(t, p, map[string]any{
		"mobile": "+44 20 7946 0003", "company": "Analytical Engines Ltd",
		"consents": []string{"profile.mobile", "profile.company"},
	})
	wantStatus(t, "second sign-in", newVisitor(t).signIn(p.Username, p.Password), http.StatusOK)
	wantStatus(t, "edit", v.patch(map[string]any{"name": "Ada King", "company": ""}), http.StatusOK)
	newEmail := uniq("p15new") + "@example.com"
	wantStatus(t, "change e-mail", v.patch(map[string]any{"email": newEmail, "currentPassword": p.Password}), http.StatusOK)
	waitMail(t, newEmail, kindNewEmailVerify, 1) // the worker has made the code by then

	a := v.account()
	items := partitionOf(t, id)
	count := map[dynamodb.Kind]int{}
	for _, it := range items {
		k := kindOf(it)
		count[k]++
		switch k {
		case dynamodb.KindProfile:
			got := []string{a.SubjectID, a.Status, dynamodb.Timestamp(a.CreatedAt), a.Profile.Name, a.Profile.Email, a.Profile.Username, a.Profile.Locale, a.Profile.AgeGroup}
			held := []string{attr(it, "subjectId"), attr(it, "status"), attr(it, "createdAt"), attr(it, "name"), attr(it, "email"), attr(it, "username"), attr(it, "locale"), attr(it, "ageGroup")}
			if !slices.Equal(got, held) {
				t.Errorf("profile shown %q, held %q", got, held)
			}
			if attr(it, "pendingEmail") != a.PendingEmail {
				t.Errorf("pending e-mail shown %q, held %q", a.PendingEmail, attr(it, "pendingEmail"))
			}
		case dynamodb.KindCredential:
			// The password hash is held but is a secret: the page never shows it (P13).
		case dynamodb.KindOptional:
			field := dynamodb.SuffixOf(attr(it, "SK"))
			o, ok := a.Optional[field]
			if !ok || o.Value != attr(it, "value") || o.PolicyVersion != attr(it, "policyVersion") || dynamodb.Timestamp(o.ConsentedAt) != attr(it, "consentedAt") {
				t.Errorf("optional %s held %q, shown %+v", field, attr(it, "value"), o)
			}
		case dynamodb.KindConsent:
			if !slices.ContainsFunc(a.Consents, func(c consentRow) bool {
				return c.Purpose == attr(it, "purpose") && strconv.FormatBool(c.Granted) == orFalse(attr(it, "granted")) &&
					dynamodb.Timestamp(c.At) == attr(it, "consentedAt")
			}) {
				t.Errorf("consent %s held but not shown", attr(it, "SK"))
			}
		case dynamodb.KindSession:
			exp, _ := strconv.ParseInt(attr(it, "expiresAt"), 10, 64)
			if !slices.ContainsFunc(a.Sessions, func(s struct {
				CreatedAt time.Time `json:"createdAt"`
				ExpiresAt time.Time `json:"expiresAt"`
				Current   bool      `json:"current"`
			}) bool {
				return dynamodb.Timestamp(s.CreatedAt) == attr(it, "createdAt") && s.ExpiresAt.Unix() == exp
			}) {
				t.Errorf("session created %s held but not shown", attr(it, "createdAt"))
			}
		case dynamodb.KindAudit:
			if !slices.ContainsFunc(a.Audit, func(e struct {
				At     time.Time `json:"at"`
				Action string    `json:"action"`
				Fields []string  `json:"fields"`
			}) bool {
				return e.Action == attr(it, "action") && dynamodb.Timestamp(e.At) == attr(it, "createdAt")
			}) {
				t.Errorf("audit entry %s (%s) held but not shown", attr(it, "SK"), attr(it, "action"))
			}
		case dynamodb.KindVerification:
			if attr(it, "SK") != dynamodb.SortKey(dynamodb.KindVerification, string(privacy.VerifyNewEmail)) || attr(it, "newEmail") != a.PendingEmail {
				t.Errorf("verification %s for %q held; page shows pending e-mail %q", attr(it, "SK"), attr(it, "newEmail"), a.PendingEmail)
			}
		default:
			t.Errorf("item %s is held but the account page has no place for it", attr(it, "SK"))
		}
	}
	// And nothing is shown that is not held, nor held twice and shown once.
	for kind, shown := range map[dynamodb.Kind]int{dynamodb.KindOptional: len(a.Optional), dynamodb.KindConsent: len(a.Consents), dynamodb.KindSession: len(a.Sessions), dynamodb.KindAudit: len(a.Audit)} {
		if count[kind] != shown {
			t.Errorf("%d %s items held, %d shown", count[kind], kind, shown)
		}
	}
	// What this account did must all be there.
	if a.PendingEmail != newEmail || len(a.Optional) != 1 || len(a.Sessions) != 2 || len(a.decisions()) != 3 {
		t.Errorf("pendingEmail %q, optional %v, %d sessions, %d consents; want %s, mobile only, 2, 3",
			a.PendingEmail, a.Optional, len(a.Sessions), len(a.decisions()), newEmail)
	}
	for _, action := range []string{"account.registered", "email.verified", "profile.updated", "email.change_requested"} {
		if !a.hasAudit(action) {
			t.Errorf("audit has no %s entry: %+v", action, a.Audit)
		}
	}
	if current := slices.IndexFunc(a.Sessions, func(s struct {
		CreatedAt time.Time `json:"createdAt"`
		ExpiresAt time.Time `json:"expiresAt"`
		Current   bool      `json:"current"`
	}) bool {
		return s.Current
	}); current < 0 || a.Sessions[current].CreatedAt.After(a.Sessions[1-current].CreatedAt) {
		t.Errorf("sessions = %+v, want the first one marked current", a.Sessions)
	}

	t.Run("not signed in", func(t *testing.T) {
		for name, cookie := range map[string]string{
			"no cookie":         "",
			"forged cookie":     id + ".forged",
			"malformed cookie":  "nonsense",
			"another's subject": "aaaaaaaaaaaaaaaaaaaaaaaaaa." + strings.SplitN(v.cookie, ".", 2)[1],
		} {
			t.Run(name, func(t *testing.T) {
				o := newVisitor(t)
				o.cookie = cookie
				r := o.do("GET", "/api/account", nil)
				wantStatus(t, "GET /api/account", r, http.StatusUnauthorized)
				r.problem(t)
				if strings.Contains(string(r.Body), p.Username) {
					t.Errorf("401 body shows account data: %s", r.Body)
				}
			})
		}
	})
}

func orFalse(s string) string {
	if s == "" {
		return "false"
	}
	return s
}

func TestP16_CorrectionIsValidatedAuditedAndEmailChangeVerified(t *testing.T) {
	p := newPerson("p16")
	v, _ := mustActive(t, p, nil)

	t.Run("name and username", func(t *testing.T) {
		r := v.patch(map[string]any{"name": "  Augusta Ada King  "})
		wantStatus(t, "new name", r, http.StatusOK)
		a := decodeAccount(t, r)
		if a.Profile.Name != "Augusta Ada King" || !a.hasAudit("profile.updated", "name") {
			t.Errorf("name = %q, audit = %+v", a.Profile.Name, a.Audit)
		}

		newUsername := uniq("p16u")
		wantField(t, "new username without the password", v.patch(map[string]any{"username": newUsername}), "currentPassword")
		r = v.patch(map[string]any{"username": newUsername, "currentPassword": p.Password})
		wantStatus(t, "new username", r, http.StatusOK)
		if a := decodeAccount(t, r); a.Profile.Username != newUsername || !a.hasAudit("profile.updated", "username") {
			t.Errorf("username = %q, audit = %+v", a.Profile.Username, a.Audit)
		}
		wantStatus(t, "sign in with the new username", newVisitor(t).signIn(newUsername, p.Password), http.StatusOK)
		wantStatus(t, "sign in with the old username", newVisitor(t).signIn(p.Username, p.Password), http.StatusUnauthorized)
		p.Username = newUsername
	})

	t.Run("invalid corrections change nothing", func(t *testing.T) {
		other := newPerson("p16")
		mustActive(t, other, nil)
		before := v.account()
		tests := []struct {
			name  string
			body  map[string]any
			field string
		}{
			{"empty name", map[string]any{"name": "  "}, "name"},
			{"name too long", map[string]any{"name": strings.Repeat("a", 101)}, "name"},
			{"name with a control character", map[string]any{"name": "Ada\u0007"}, "name"},
			{"username too short", map[string]any{"username": "ab"}, "username"},
			{"username with a space", map[string]any{"username": "ada lovelace"}, "username"},
			{"username with @", map[string]any{"username": "ada@home"}, "username"},
			{"username taken", map[string]any{"username": other.Username, "currentPassword": p.Password}, "username"},
			{"username taken, other case", map[string]any{"username": strings.ToUpper(other.Username), "currentPassword": p.Password}, "username"},
			{"not an e-mail address", map[string]any{"email": "not-an-address"}, "email"},
			{"a new address without the password", map[string]any{"email": uniq("p16x") + "@example.com"}, "currentPassword"},
			{"a new address with a wrong password", map[string]any{"email": uniq("p16x") + "@example.com", "currentPassword": "wrong"}, "currentPassword"},
			{"a name with a link", map[string]any{"name": "Visit www.example.com"}, "name"},
			{"unknown locale", map[string]any{"locale": "fr"}, "locale"},
			{"unknown field", map[string]any{"nationality": "GB"}, "nationality"},
			{"a valid name with a taken username", map[string]any{"name": "Someone New", "username": other.Username, "currentPassword": p.Password}, "username"},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				wantField(t, tc.name, v.patch(tc.body), tc.field)
			})
		}
		after := v.account()
		if after.Profile != before.Profile || len(after.Audit) != len(before.Audit) || after.PendingEmail != "" {
			t.Errorf("refused corrections changed the account:\nbefore %+v\nafter  %+v", before, after)
		}
		// Taken at registration too, whatever the case.
		q := newPerson("p16")
		q.Username = strings.ToUpper(other.Username)
		wantField(t, "register with a taken username", newVisitor(t).register(q.form(nil)), "username")
	})

	t.Run("e-mail change is verified at the new address", func(t *testing.T) {
		oldEmail := p.Email
		newEmail := uniq("p16new") + "@example.com"
		r := v.patch(map[string]any{"email": newEmail, "currentPassword": p.Password})
		wantStatus(t, "change e-mail", r, http.StatusOK)
		a := decodeAccount(t, r)
		if a.Profile.Email != oldEmail || a.PendingEmail != newEmail || !a.hasAudit("email.change_requested", "pendingEmail") {
			t.Errorf("email %q, pending %q, audit %+v", a.Profile.Email, a.PendingEmail, a.Audit)
		}
		code := codeIn(t, waitMail(t, newEmail, kindNewEmailVerify, 1))
		notice := waitMail(t, oldEmail, kindNewEmailNotice, 1)
		if codeRE.MatchString(notice.Body.Text) || strings.Contains(notice.Body.Text, code) {
			t.Errorf("the notice to the old address carries the code:\n%s", notice.Body.Text)
		}

		wantStatus(t, "old address before confirming", newVisitor(t).signIn(oldEmail, p.Password), http.StatusOK)
		wantStatus(t, "new address before confirming", newVisitor(t).signIn(newEmail, p.Password), http.StatusUnauthorized)

		wrong := "000000"
		if code == wrong {
			wrong = "111111"
		}
		pr := wantField(t, "wrong code", v.do("POST", "/api/account/email", map[string]string{"code": wrong}), "code")
		if !strings.Contains(pr.Detail, "4 more") {
			t.Errorf("detail = %q, want 4 attempts left", pr.Detail)
		}
		wantStatus(t, "confirm without a session", newVisitor(t).do("POST", "/api/account/email", map[string]string{"code": code}), http.StatusUnauthorized)

		r = v.do("POST", "/api/account/email", map[string]string{"code": code})
		wantStatus(t, "confirm", r, http.StatusOK)
		a = decodeAccount(t, r)
		if a.Profile.Email != newEmail || a.PendingEmail != "" || !a.hasAudit("email.changed", "email") {
			t.Errorf("email %q, pending %q, audit %+v", a.Profile.Email, a.PendingEmail, a.Audit)
		}
		wantStatus(t, "code reused", v.do("POST", "/api/account/email", map[string]string{"code": code}), http.StatusBadRequest)

		wantStatus(t, "new address after confirming", newVisitor(t).signIn(newEmail, p.Password), http.StatusOK)
		wantStatus(t, "old address after confirming", newVisitor(t).signIn(oldEmail, p.Password), http.StatusUnauthorized)

		// The old address is free: registering it is a new account, not "already registered".
		q := newPerson("p16")
		q.Email = oldEmail
		wantStatus(t, "register the old address", newVisitor(t).register(q.form(nil)), http.StatusAccepted)
		waitMail(t, oldEmail, kindVerify, 2)
		if got := mailsTo(allMail(t), oldEmail, kindAlready); len(got) != 0 {
			t.Error("the old address still counts as registered")
		}
	})

	t.Run("changing to a taken address is refused at confirmation", func(t *testing.T) {
		other := newPerson("p16")
		mustActive(t, other, nil)
		wantStatus(t, "change to a taken address", v.patch(map[string]any{"email": other.Email, "currentPassword": p.Password}), http.StatusOK)
		code := codeIn(t, waitMail(t, other.Email, kindNewEmailVerify, 1))
		wantField(t, "confirm a taken address", v.do("POST", "/api/account/email", map[string]string{"code": code}), "email")
		wantStatus(t, "the other account still signs in", newVisitor(t).signIn(other.Email, other.Password), http.StatusOK)
	})
}

func TestAccountSessionsSignOutAndEverywhere(t *testing.T) {
	p := newPerson("sess")
	a, _ := mustActive(t, p, nil)
	b := newVisitor(t)
	r := b.signIn(p.Email, p.Password)
	wantStatus(t, "second sign-in", r, http.StatusOK)
	if got := strings.TrimSpace(string(r.Body)); got != `{"status":"signed_in"}` {
		t.Errorf("body = %s", got)
	}
	c := sessionCookie(t, r)
	if !c.HttpOnly || !c.Secure || c.SameSite != http.SameSiteStrictMode || c.Path != "/" || c.Domain != "" || !strings.HasPrefix(c.Name, "__Host-") {
		t.Errorf("session cookie %q: want __Host-, HttpOnly, Secure, SameSite=Strict, Path=/, no Domain", r.Header.Get("Set-Cookie"))
	}
	if c.MaxAge < 3600 || c.MaxAge > 720*3600 {
		t.Errorf("session cookie Max-Age = %d, want the session's lifetime in seconds", c.MaxAge)
	}
	if a.cookie == b.cookie {
		t.Fatal("two sign-ins got the same session")
	}
	if got := a.account(); len(got.Sessions) != 2 {
		t.Fatalf("%d sessions shown, want 2", len(got.Sessions))
	}
	b.account()

	// A cross-site page cannot sign anyone out (nor change anything).
	evil := *a
	evil.origin = "https://evil.example"
	wantStatus(t, "sign out from another site", evil.do("DELETE", "/api/session", nil), http.StatusForbidden)
	wantStatus(t, "edit from another site", evil.patch(map[string]any{"name": "Mallory"}), http.StatusForbidden)
	same := *a
	same.origin = a.base
	wantStatus(t, "GET from the portal's own page", same.do("GET", "/api/account", nil), http.StatusOK)
	a.account()

	r = a.do("DELETE", "/api/session", nil)
	wantStatus(t, "sign out", r, http.StatusNoContent)
	if c := sessionCookie(t, r); c == nil || c.MaxAge >= 0 || c.Value != "" {
		t.Errorf("sign-out Set-Cookie %q does not clear the cookie", r.Header.Get("Set-Cookie"))
	}
	wantStatus(t, "the signed-out session", a.do("GET", "/api/account", nil), http.StatusUnauthorized)
	if got := b.account(); len(got.Sessions) != 1 || !got.Sessions[0].Current {
		t.Errorf("sessions after one sign-out = %+v, want just the current one", got.Sessions)
	}
	wantStatus(t, "sign out again", a.do("DELETE", "/api/session", nil), http.StatusNoContent)

	c1 := newVisitor(t)
	wantStatus(t, "third sign-in", c1.signIn(p.Username, p.Password), http.StatusOK)
	wantStatus(t, "sign out everywhere", b.do("DELETE", "/api/sessions", nil), http.StatusNoContent)
	wantStatus(t, "the session that signed out everywhere", b.do("GET", "/api/account", nil), http.StatusUnauthorized)
	wantStatus(t, "another session after sign-out everywhere", c1.do("GET", "/api/account", nil), http.StatusUnauthorized)
	wantStatus(t, "edit after sign-out everywhere", c1.patch(map[string]any{"name": "Mallory"}), http.StatusUnauthorized)

	// Signing in again works, with a fresh session and only that one.
	wantStatus(t, "sign in again", a.signIn(p.Email, p.Password), http.StatusOK)
	if got := a.account(); len(got.Sessions) != 1 || got.Profile.Name != p.Name {
		t.Errorf("after signing in again: %d sessions, name %q", len(got.Sessions), got.Profile.Name)
	}
}

func TestAccountSignInIsRateLimitedPerLogin(t *testing.T) {
	p := newPerson("rate")
	mustActive(t, p, nil)
	v := newVisitor(t)
	// The limit is 10 attempts per login in a fixed 15-minute window; attempts that straddle
	// a window's end may take up to twice as many.
	const limit, window = 10, 15 * time.Minute
	start := time.Now()
	var r reply
	attempts := 0
	for attempts < 2*limit+1 {
		attempts++
		r = v.signIn(p.Username, "wrong "+goodPassword)
		if r.Status == http.StatusTooManyRequests {
			break
		}
		wantStatus(t, "wrong password", r, http.StatusUnauthorized)
	}
	wantStatus(t, "too many sign-ins", r, http.StatusTooManyRequests)
	if start.Truncate(window).Equal(time.Now().Truncate(window)) && attempts != limit+1 {
		t.Errorf("first 429 at attempt %d, want %d", attempts, limit+1)
	}
	secs, err := strconv.Atoi(r.Header.Get("Retry-After"))
	if err != nil || secs <= 0 || secs > int(window.Seconds())+1 {
		t.Errorf("Retry-After = %q, want seconds until the window ends", r.Header.Get("Retry-After"))
	}
	pr := r.problem(t)
	if pr.Status != http.StatusTooManyRequests || !strings.Contains(pr.Detail, "minutes") {
		t.Errorf("problem = %+v", pr)
	}
	// From the guessing client, the right password does not get through while it is limited,
	// nor the same login in other letters.
	wantStatus(t, "right password while limited", v.signIn(p.Username, p.Password), http.StatusTooManyRequests)
	wantStatus(t, "upper-case login while limited", v.signIn(strings.ToUpper(p.Username), p.Password), http.StatusTooManyRequests)
	// The limit is per login and client address: someone guessing from one place cannot lock
	// the person out everywhere else.
	wantStatus(t, "the owner from another address", newVisitor(t).signIn(p.Username, p.Password), http.StatusOK)
	// Another login from the same address is not affected, nor the same account by e-mail.
	wantStatus(t, "another login from the same address", v.signIn(uniq("nobody"), goodPassword), http.StatusUnauthorized)
	wantStatus(t, "the account by e-mail", v.signIn(p.Email, p.Password), http.StatusOK)
}
