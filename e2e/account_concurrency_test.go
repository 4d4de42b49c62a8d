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
// limit), every one with its own username, password and client address. Every request must
// get the same 202. An address nobody has proved belongs to no account, so a shared
// address's registrations replace one another: in the end each address has exactly one
// registration, verification mail for it, and no "already registered" notice; the one left
// is proved with its own password and the others' usernames are free again.
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
		for j := range perShared {
			p := newPerson("conc")
			p.Email, p.Password = email, fmt.Sprintf("%s %d", goodPassword, j)
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
			req.Header.Set("Origin", originOf(base))
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

	// The worker mails and removes what was replaced, off the requests' path: wait until each
	// address has one registration left and a verification mail.
	emails := []string{}
	for _, a := range attempts[:unique] {
		emails = append(emails, a.Email)
	}
	emails = append(emails, sharedEmails...)
	var profilesByEmail map[string][]ddbItem
	var mails []portaltest.Mail
	eventually(t, func() error {
		profilesByEmail = map[string][]ddbItem{}
		scanTable(t, func(it ddbItem) {
			if kindOf(it) == dynamodb.KindProfile {
				e := strings.ToLower(attr(it, "email"))
				profilesByEmail[e] = append(profilesByEmail[e], it)
			}
		})
		mails = allMail(t)
		for _, email := range emails {
			if n := len(profilesByEmail[strings.ToLower(email)]); n != 1 {
				return fmt.Errorf("%s: %d registrations", email, n)
			}
			if len(mailsTo(mails, email, kindVerify)) == 0 {
				return fmt.Errorf("%s: no verification mail", email)
			}
		}
		return nil
	})

	for _, a := range attempts[:unique] {
		if got := len(mailsTo(mails, a.Email, kindVerify)); got != 1 {
			t.Errorf("%s: %d verification mails, want 1", a.Email, got)
		}
	}
	for _, email := range emails {
		if got := len(mailsTo(mails, email, kindAlready)); got != 0 {
			t.Errorf("%s: %d already-registered notices for an address no account has", email, got)
		}
	}

	// Each shared address's registration left is the one its code proves, with its own
	// password; every other username of the group is free again.
	for i, email := range sharedEmails {
		group := attempts[unique+i*perShared : unique+(i+1)*perShared]
		left := profilesByEmail[strings.ToLower(email)][0]
		id := strings.TrimPrefix(attr(left, "PK"), "SUBJECT#")
		winner := group[slices.IndexFunc(group, func(g *attempt) bool { return g.Username == attr(left, "username") })]
		var code string
		for _, m := range mailsTo(mails, email, kindVerify) {
			if subjectOfToken(tokenIn(t, m, verifyRE)) == id {
				code = codeIn(t, m)
			}
		}
		if code == "" {
			t.Errorf("%s: no verification mail for the registration left", email)
			continue
		}
		v := newVisitor(t)
		wantStatus(t, "verify "+email, v.do("POST", "/api/verify", winner.verifyBody(code)), http.StatusOK)
		wantStatus(t, "sign in "+email, v.signIn(email, winner.Password), http.StatusOK)
		for _, g := range group {
			if g != winner {
				wantStatus(t, "sign in as a replaced registration", newVisitor(t).signIn(g.Username, g.Password), http.StatusUnauthorized)
			}
		}
		// A replaced registration's username is free again.
		again := newPerson("conc")
		again.Username = group[slices.IndexFunc(group, func(g *attempt) bool { return g != winner })].Username
		wantStatus(t, "register with a replaced registration's username", newVisitor(t).register(again.form(nil)), http.StatusAccepted)
	}
}
