package e2e

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/privacyportal/portal/internal/account"
)

// TestP11_RequestsMustBeTheSitesOwn: the API takes bodies as JSON only, writes only from the
// portal's own pages (Origin), and one session cookie.
func TestP11_RequestsMustBeTheSitesOwn(t *testing.T) {
	p := newPerson("rules")
	v, _ := mustActive(t, p, nil)

	t.Run("a body that is not declared JSON", func(t *testing.T) {
		for _, ct := range []string{"", "text/plain", "application/x-www-form-urlencoded"} {
			q := newPerson("rules")
			w := newVisitor(t)
			w.header = func(h http.Header) {
				if ct == "" {
					h.Del("Content-Type")
				} else {
					h.Set("Content-Type", ct)
				}
			}
			r := w.register(q.form(nil))
			wantStatus(t, "Content-Type "+ct, r, http.StatusUnsupportedMediaType)
			if pr := r.problem(t); pr.Field != "Content-Type" {
				t.Errorf("Content-Type %q: problem names %q, want Content-Type", ct, pr.Field)
			}
			assertNothingStored(t, q)
		}
	})

	t.Run("a write from another origin or none", func(t *testing.T) {
		for _, origin := range []string{"-", "https://evil.example", "null"} {
			q := newPerson("rules")
			w := newVisitor(t)
			w.origin = origin
			wantStatus(t, "register from origin "+origin, w.register(q.form(nil)), http.StatusForbidden)
			assertNothingStored(t, q)
			v.origin = origin
			wantStatus(t, "edit from origin "+origin, v.patch(map[string]any{"name": "Eve"}), http.StatusForbidden)
			v.origin = ""
		}
		if a := v.account(); a.Profile.Name != p.Name {
			t.Errorf("name = %q after refused edits", a.Profile.Name)
		}
	})

	t.Run("two session cookies", func(t *testing.T) {
		stranger, _ := mustActive(t, newPerson("rules"), nil)
		w := newVisitor(t)
		w.header = func(h http.Header) {
			h.Set("Cookie", account.CookieName+"="+stranger.cookie+"; "+account.CookieName+"="+v.cookie)
		}
		wantStatus(t, "two session cookies", w.do("GET", "/api/account", nil), http.StatusUnauthorized)
		w.header = func(h http.Header) { h.Set("Cookie", "session="+v.cookie) }
		wantStatus(t, "the cookie without its __Host- prefix", w.do("GET", "/api/account", nil), http.StatusUnauthorized)
	})
}

// TestP11_LimitsPerRecipientCountOneMailbox: a+1@, a+2@ and a.b@ reach one mailbox, so the
// limits on mail a stranger can have sent to an address count them as one.
func TestP11_LimitsPerRecipientCountOneMailbox(t *testing.T) {
	box := uniq("box")
	variants := []string{box, box + "+1", box + "+news", box[:2] + "." + box[2:], strings.ToUpper(box) + "+x", box + "+6"}
	var last reply
	for i, local := range variants {
		q := newPerson("box")
		q.Email = local + "@example.com"
		last = newVisitor(t).register(q.form(nil))
		if i < len(variants)-1 {
			wantStatus(t, "registration "+q.Email, last, http.StatusAccepted)
		}
	}
	wantStatus(t, fmt.Sprintf("registration %d of one mailbox", len(variants)), last, http.StatusTooManyRequests)

	t.Run("guardian addresses", func(t *testing.T) {
		parent := uniq("parent")
		var last reply
		for i := range 6 {
			q := newPerson("kid")
			last = newVisitor(t).register(q.form(map[string]any{"ageGroup": "under14", "guardianEmail": fmt.Sprintf("%s+%d@example.com", parent, i)}))
			if i < 5 {
				wantStatus(t, "a child naming the guardian", last, http.StatusAccepted)
			}
		}
		wantStatus(t, "the sixth child naming one guardian mailbox", last, http.StatusTooManyRequests)
	})
}

// TestP11_AddressesAreCanonical: one mailbox is one account however its address is spelt:
// compatibility characters (the Kelvin sign is a K), composed and decomposed accents in the
// domain, which is kept in its ASCII (punycode) form; a local part that is not ASCII is refused.
func TestP11_AddressesAreCanonical(t *testing.T) {
	t.Run("the Kelvin sign", func(t *testing.T) {
		u := uniq("ate")
		p := newPerson("kelvin")
		p.Email = "\u212A" + u + "@example.com"
		plain := "K" + u + "@example.com"
		v := newVisitor(t)
		wantStatus(t, "register", v.register(p.form(nil)), http.StatusAccepted)
		m := waitMail(t, plain, kindVerify, 1)
		wantStatus(t, "verify with the plain spelling", v.do("POST", "/api/verify", map[string]string{"email": strings.ToLower(plain), "code": codeIn(t, m), "password": p.Password}), http.StatusOK)
		wantStatus(t, "sign in with the Kelvin sign", v.signIn(p.Email, p.Password), http.StatusOK)
		if got := v.account().Profile.Email; got != plain {
			t.Errorf("the account's address is %q, want %q", got, plain)
		}
		again := newPerson("kelvin")
		again.Email = strings.ToLower(plain)
		wantStatus(t, "register the plain spelling", newVisitor(t).register(again.form(nil)), http.StatusAccepted)
		waitMail(t, plain, kindAlready, 1)
	})

	t.Run("composed and decomposed", func(t *testing.T) {
		u := uniq("nfc")
		nfc, nfd := u+"@b\u00fccher.example", u+"@bu\u0308cher.example"
		ascii := u + "@xn--bcher-kva.example"
		p := newPerson("nfc")
		p.Email = nfc
		v := newVisitor(t)
		wantStatus(t, "register (NFC)", v.register(p.form(nil)), http.StatusAccepted)
		m := waitMail(t, ascii, kindVerify, 1)
		wantStatus(t, "verify (NFD)", v.do("POST", "/api/verify", map[string]string{"email": nfd, "code": codeIn(t, m), "password": p.Password}), http.StatusOK)
		wantStatus(t, "sign in (NFD)", v.signIn(nfd, p.Password), http.StatusOK)
		if got := v.account().Profile.Email; got != ascii {
			t.Errorf("the account's address is %q, want %q", got, ascii)
		}
		q := newPerson("nfd")
		q.Email = nfd
		wantStatus(t, "register (NFD)", newVisitor(t).register(q.form(nil)), http.StatusAccepted)
		waitMail(t, ascii, kindAlready, 1)
		if n := len(profilesWith(t, "email", ascii)); n != 1 {
			t.Errorf("%d accounts for one address", n)
		}
	})

	t.Run("a local part that is not ASCII", func(t *testing.T) {
		p := newPerson("idn")
		p.Email = "j\u00fcrgen" + uniq("") + "@example.com"
		wantField(t, "register", newVisitor(t).register(p.form(nil)), "email")
		if got := profilesWith(t, "username", p.Username); len(got) != 0 {
			t.Error("a refused registration stored a profile")
		}
	})
}

// TestAccountCodeAttemptsAreCountedBeforeComparing: the daily cap on attempts at an
// address's codes is checked before the code is, and carries across re-sent codes: past it,
// even the right code is refused.
func TestAccountCodeAttemptsAreCountedBeforeComparing(t *testing.T) {
	p := newPerson("guess")
	v := newVisitor(t)
	wantStatus(t, "register", v.register(p.form(nil)), http.StatusAccepted)
	mails := 1
	code := codeIn(t, waitMail(t, p.Email, kindVerify, mails))
	const perCode, daily = 5, 20
	for attempt := 1; attempt <= daily; attempt++ {
		wantField(t, fmt.Sprintf("guess %d", attempt), v.do("POST", "/api/verify", p.verifyBody(wrongCode(code))), "code")
		if attempt%perCode == 0 {
			// The code is dead: have a new one sent, as a guesser would.
			wantStatus(t, "resend", v.do("POST", "/api/verify/resend", map[string]string{"email": p.Email}), http.StatusAccepted)
			mails++
			code = codeIn(t, waitMail(t, p.Email, kindVerify, mails))
		}
	}
	wantStatus(t, "the right code past the daily cap", v.do("POST", "/api/verify", p.verifyBody(code)), http.StatusTooManyRequests)
	wantStatus(t, "the right code from another client", newVisitor(t).do("POST", "/api/verify", p.verifyBody(code)), http.StatusTooManyRequests)
	wantStatus(t, "sign in", newVisitor(t).signIn(p.Email, p.Password), http.StatusForbidden)
}
