package e2e

import (
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
)

// TestAccountNoEnumerationByTakenUsername: registering a known-taken username together with
// an address answers alike whether or not the address has an account; and so does a second
// attempt with a fresh username after a first attempt with the address (the first one holds
// the username either way).
func TestAccountNoEnumerationByTakenUsername(t *testing.T) {
	owner := newPerson("enum")
	mustActive(t, owner, nil)
	prober := newPerson("enum")
	mustActive(t, prober, nil)
	probe := func(email string) reply {
		q := newPerson("enum")
		q.Email, q.Username = email, prober.Username
		return newVisitor(t).register(q.form(nil))
	}
	known, unknown := probe(owner.Email), probe(uniq("nobody")+"@example.com")
	if known.Status != unknown.Status || known.problem(t).Detail != unknown.problem(t).Detail {
		t.Errorf("registered address: %s; new address: %s; want the same answer", known, unknown)
	}
	wantField(t, "taken username", known, "username")

	fresh := uniq("u")
	first := func(email string) {
		q := newPerson("enum")
		q.Email, q.Username = email, fresh
		wantStatus(t, "first attempt", newVisitor(t).register(q.form(nil)), http.StatusAccepted)
	}
	second := func() reply {
		q := newPerson("enum")
		q.Username = fresh
		return newVisitor(t).register(q.form(nil))
	}
	first(owner.Email)
	afterKnown := second()
	fresh = uniq("u")
	first(uniq("new") + "@example.com")
	afterNew := second()
	if afterKnown.Status != afterNew.Status {
		t.Errorf("after an attempt with a registered address: %s; with a new one: %s", afterKnown, afterNew)
	}
}

// TestP16_ConcurrentUsernameChangesLeaveOneUsername: two renames at once cannot both win.
func TestP16_ConcurrentUsernameChangesLeaveOneUsername(t *testing.T) {
	for range 4 {
		p := newPerson("rename")
		v, id := mustActive(t, p, nil)
		u1, u2 := uniq("ra"), uniq("rb")
		var wg sync.WaitGroup
		var r1, r2 reply
		wg.Go(func() { r1 = v.patch(map[string]any{"username": u1, "currentPassword": p.Password}) })
		wg.Go(func() { r2 = v.patch(map[string]any{"username": u2, "currentPassword": p.Password}) })
		wg.Wait()
		for _, r := range []reply{r1, r2} {
			if r.Status != http.StatusOK && r.Status != http.StatusConflict {
				t.Fatalf("rename: %s", r)
			}
		}
		held := attr(profileOf(partitionOf(t, id)), "username")
		s1 := newVisitor(t).signIn(u1, p.Password).Status
		s2 := newVisitor(t).signIn(u2, p.Password).Status
		s0 := newVisitor(t).signIn(p.Username, p.Password).Status
		ok := 0
		for _, st := range []int{s0, s1, s2} {
			if st == http.StatusOK {
				ok++
			}
		}
		if ok != 1 {
			t.Errorf("profile holds %s; sign-in as old %d, %s %d, %s %d: want exactly one username to work", held, s0, u1, s1, u2, s2)
		}
	}
}

// TestAccountEmailChangesAreRateLimited: a signed-in person cannot mail codes to an address of
// their choosing without end, nor guess at them without end.
func TestAccountEmailChangesAreRateLimited(t *testing.T) {
	p := newPerson("flood")
	v, _ := mustActive(t, p, nil)
	target := uniq("victim") + "@example.com"
	limited := false
	for range 8 {
		if r := v.patch(map[string]any{"email": target, "currentPassword": p.Password}); r.Status == http.StatusTooManyRequests {
			limited = true
			break
		}
	}
	if !limited {
		t.Error("8 e-mail changes in a row were all accepted")
	}
	if n := len(mailsTo(allMail(t), target, kindNewEmailVerify)); n > 5 {
		t.Errorf("%d codes mailed to one address, want at most 5 an hour", n)
	}
	guessed := false
	for range 15 {
		if r := v.do("POST", "/api/account/email", map[string]string{"code": "000001"}); r.Status == http.StatusTooManyRequests {
			guessed = true
			break
		}
	}
	if !guessed {
		t.Error("15 guesses at the new address's code were all answered")
	}
}

// TestAccountChineseMailLinksToChinesePages: a person who registered in Chinese gets links to
// the Chinese pages.
func TestAccountChineseMailLinksToChinesePages(t *testing.T) {
	q := newPerson("zh")
	wantStatus(t, "register", newVisitor(t).register(q.form(map[string]any{"locale": "zh-CN"})), http.StatusAccepted)
	m := waitMail(t, q.Email, "", 1) // any subject: it is in Chinese
	if !strings.Contains(m.Body.Text, "/zh/verify/#token=") {
		t.Errorf("Chinese verification mail links elsewhere:\n%s", m.Body.Text)
	}
}

// TestAccountClientAddressCannotBeChosen: a client that sends its own X-Forwarded-For or
// CloudFront-Viewer-Address on every request is still one client to the rate limits.
func TestAccountClientAddressCannotBeChosen(t *testing.T) {
	p := newPerson("spoof")
	mustActive(t, p, nil)
	v := newVisitor(t)
	n := 0
	v.header = func(h http.Header) {
		n++
		h.Set("X-Forwarded-For", fmt.Sprintf("203.0.113.%d", n))
		h.Set("CloudFront-Viewer-Address", fmt.Sprintf("198.51.100.%d:443", n))
	}
	for i := range 10 {
		wantStatus(t, fmt.Sprintf("wrong password %d", i+1), v.signIn(p.Username, "wrong "+goodPassword), http.StatusUnauthorized)
	}
	wantStatus(t, "11th try with yet another made-up address", v.signIn(p.Username, "wrong "+goodPassword), http.StatusTooManyRequests)
}
