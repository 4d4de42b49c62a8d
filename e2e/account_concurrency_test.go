package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/privacyportal/portal/infra/portaltest"
	"github.com/privacyportal/portal/internal/dynamodb"
)

// TestAccountConcurrentRegistrations sends 200 registrations at once through the gateway:
// 150 for addresses of their own and 50 for 10 shared addresses, 5 each (the per-address
// limit), every one with its own username and client address. Every request must get the
// same 202, each address exactly one account and one verification mail, and every other
// registration of a shared address an "already registered" notice.
func TestAccountConcurrentRegistrations(t *testing.T) {
	const unique, shared, perShared = 150, 10, 5
	type attempt struct {
		person
		ip     string
		status int
		body   string
		err    error
	}
	var attempts []*attempt
	for range unique {
		attempts = append(attempts, &attempt{person: newPerson("conc")})
	}
	var sharedEmails []string
	for range shared {
		email := uniq("concshared") + "@example.com"
		sharedEmails = append(sharedEmails, email)
		for range perShared {
			p := newPerson("conc")
			p.Email = email
			attempts = append(attempts, &attempt{person: p})
		}
	}
	for i, a := range attempts {
		a.ip = fmt.Sprintf("127.200.%d.%d", i/250, 1+i%250)
	}

	base := portaltest.URL(t)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for _, a := range attempts {
		wg.Go(func() {
			body, _ := json.Marshal(a.form(nil))
			req, err := http.NewRequest("POST", base+"/api/register", bytes.NewReader(body))
			if err != nil {
				a.err = err
				return
			}
			req.Header.Set("Content-Type", "application/json")
			client := clientFrom(a.ip, 5*time.Minute) // each attempt is its own client address
			<-start
			resp, err := client.Do(req)
			if err != nil {
				a.err = err
				return
			}
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			a.status, a.body = resp.StatusCode, string(b)
		})
	}
	began := time.Now()
	close(start)
	wg.Wait()
	t.Logf("%d registrations at once took %s", len(attempts), time.Since(began).Round(time.Millisecond))

	statuses := map[int]int{}
	var failures []string
	for _, a := range attempts {
		if a.err != nil {
			failures = append(failures, fmt.Sprintf("%s: %v", a.Email, a.err))
			continue
		}
		statuses[a.status]++
		if a.status != http.StatusAccepted || strings.TrimSpace(a.body) != `{"status":"check_email"}` {
			failures = append(failures, fmt.Sprintf("%s: %d %s", a.Email, a.status, a.body))
		}
	}
	fivexx := 0
	for s, n := range statuses {
		if s >= 500 {
			fivexx += n
		}
	}
	if len(failures) > 0 {
		sort.Strings(failures)
		t.Errorf("%d of %d registrations did not answer 202 check_email (%d were 5xx; statuses %v):\n%s",
			len(failures), len(attempts), fivexx, statuses, strings.Join(failures[:min(20, len(failures))], "\n"))
	}

	// Mail is sent before the answer, so it is all in the mailbox by now; allow the emulator
	// a moment anyway.
	var mails []portaltest.Mail
	deadline := time.Now().Add(20 * time.Second)
	for {
		mails = allMail(t)
		missing := 0
		for _, a := range attempts {
			if len(mailsTo(mails, a.Email, kindVerify)) == 0 {
				missing++
			}
		}
		if missing == 0 || time.Now().After(deadline) {
			break
		}
		time.Sleep(250 * time.Millisecond)
	}

	// Nothing lost, nothing doubled: one verification mail per address, and a notice for every
	// other registration of a shared one.
	for _, a := range attempts[:unique] {
		if got := len(mailsTo(mails, a.Email, kindVerify)); got != 1 {
			t.Errorf("%s: %d verification mails, want 1", a.Email, got)
		}
		if got := len(mailsTo(mails, a.Email, kindAlready)); got != 0 {
			t.Errorf("%s: %d already-registered notices, want 0", a.Email, got)
		}
	}
	for _, email := range sharedEmails {
		if got := len(mailsTo(mails, email, kindVerify)); got != 1 {
			t.Errorf("shared %s: %d verification mails, want 1", email, got)
		}
		if got := len(mailsTo(mails, email, kindAlready)); got != perShared-1 {
			t.Errorf("shared %s: %d already-registered notices, want %d", email, got, perShared-1)
		}
	}

	// The table agrees: one profile per address, one per winning username, none for the
	// usernames of registrations that lost the race, and both look-ups of every account.
	profilesByEmail := map[string][]ddbItem{}
	profilesByUsername := map[string]int{}
	scanTable(t, func(it ddbItem) {
		if kindOf(it) == dynamodb.KindProfile {
			e := strings.ToLower(attr(it, "email"))
			profilesByEmail[e] = append(profilesByEmail[e], it)
			profilesByUsername[strings.ToLower(attr(it, "username"))]++
		}
	})
	emails := []string{}
	for _, a := range attempts[:unique] {
		emails = append(emails, a.Email)
	}
	emails = append(emails, sharedEmails...)
	winners := map[string]string{} // address -> username
	for _, email := range emails {
		ps := profilesByEmail[strings.ToLower(email)]
		if len(ps) != 1 {
			t.Errorf("%s: %d accounts, want 1", email, len(ps))
			continue
		}
		winners[email] = attr(ps[0], "username")
		for _, pk := range lookupsOf(ps[0]) {
			if !lookupExists(t, pk) {
				t.Errorf("%s: look-up %s missing", email, pk)
			}
		}
	}
	for _, a := range attempts {
		want := 0
		if strings.EqualFold(winners[a.Email], a.Username) {
			want = 1
		}
		if got := profilesByUsername[strings.ToLower(a.Username)]; got != want {
			t.Errorf("username %s (address %s): %d profiles, want %d", a.Username, a.Email, got, want)
		}
	}

	// Each shared address's one account works, under the username that won.
	for i, email := range sharedEmails {
		group := attempts[unique+i*perShared : unique+(i+1)*perShared]
		vm := mailsTo(mails, email, kindVerify)
		if len(vm) != 1 {
			continue
		}
		v := newVisitor(t)
		wantStatus(t, "verify "+email, v.do("POST", "/api/verify", map[string]string{"email": email, "code": codeIn(t, vm[0])}), http.StatusOK)
		wantStatus(t, "sign in "+email, v.signIn(email, goodPassword), http.StatusOK)
		a := v.account()
		if !slices.ContainsFunc(group, func(g *attempt) bool { return g.Username == a.Profile.Username }) {
			t.Errorf("%s: account username %q is none of the registrations'", email, a.Profile.Username)
		}
		for _, g := range group {
			if g.Username != a.Profile.Username {
				wantStatus(t, "sign in as a losing username", newVisitor(t).signIn(g.Username, goodPassword), http.StatusUnauthorized)
			}
		}
	}
}
