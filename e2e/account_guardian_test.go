package e2e

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/privacyportal/portal/infra/portaltest"
	"github.com/privacyportal/portal/internal/privacy"
)

// child is an under-14 registration whose address is proved, and the guardian's mail it
// then causes.
type child struct {
	person
	guardian      string
	v             *visitor
	id            string
	gtoken        string
	verifyMail    portaltest.Mail
	guardianMail  portaltest.Mail
	profileBefore ddbItem
}

// registerChild registers p as under 14 with a guardian, proves the child's address with the
// mailed code and the password, and reads the guardian's mail that only then goes out.
func registerChild(t *testing.T, prefix string) *child {
	t.Helper()
	c := &child{person: newPerson(prefix), guardian: uniq(prefix+"parent") + "@example.com", v: newVisitor(t)}
	c.Name = "Timmy Tester"
	wantStatus(t, "register a child", c.v.register(c.form(map[string]any{"ageGroup": "under14", "guardianEmail": c.guardian})), http.StatusAccepted)
	c.verifyMail = waitMail(t, c.Email, kindVerify, 1)
	c.id = subjectOfToken(tokenIn(t, c.verifyMail, verifyRE))
	waitSettled(t)
	if got := mailsTo(allMail(t), c.guardian, ""); len(got) != 0 {
		t.Fatalf("the guardian was mailed before the child proved the address: %q", got[0].Subject)
	}
	wantStatus(t, "child verifies", c.v.do("POST", "/api/verify", c.verifyBody(codeIn(t, c.verifyMail))), http.StatusOK)
	c.guardianMail = waitMail(t, c.guardian, kindGuardianConsent, 1)
	c.gtoken = tokenIn(t, c.guardianMail, guardianRE)
	if got := subjectOfToken(c.gtoken); got != c.id {
		t.Fatalf("the child's link names subject %s, the guardian's %s", c.id, got)
	}
	c.profileBefore = profileOf(partitionOf(t, c.id))
	if c.profileBefore == nil {
		t.Fatal("no PROFILE item for the child")
	}
	return c
}

func (c *child) guardianSays(t *testing.T, decision string) reply {
	t.Helper()
	return newVisitor(t).do("POST", "/api/guardian", map[string]string{"token": c.gtoken, "decision": decision})
}

func TestP24_UnderFourteenNeedsGuardian(t *testing.T) {
	t.Run("the guardian's address is required and is not the child's", func(t *testing.T) {
		p := newPerson("p24")
		v := newVisitor(t)
		for _, tc := range []struct {
			name     string
			guardian any
		}{
			{"missing", nil},
			{"empty", ""},
			{"the child's own", p.Email},
			{"the child's own, other case", strings.ToUpper(p.Email)},
			{"not an address", "mum"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				wantField(t, "under14 with guardianEmail "+tc.name, v.register(p.form(map[string]any{"ageGroup": "under14", "guardianEmail": tc.guardian})), "guardianEmail")
			})
		}
		wantField(t, "14+ with a guardian", v.register(p.form(map[string]any{"guardianEmail": "parent@example.com"})), "guardianEmail")
		wantField(t, "an age instead of the group", v.register(p.form(map[string]any{"ageGroup": "12"})), "ageGroup")
		wantField(t, "a date of birth", v.register(p.form(map[string]any{"dateOfBirth": "2015-01-01"})), "dateOfBirth")
		assertNothingStored(t, p)
	})

	t.Run("the guardian confirms", func(t *testing.T) {
		c := registerChild(t, "p24ok")
		if !strings.Contains(c.guardianMail.Body.Text, c.Name) {
			t.Errorf("the guardian's mail does not name the child:\n%s", c.guardianMail.Body.Text)
		}
		if codeRE.MatchString(c.guardianMail.Body.Text) {
			t.Errorf("the guardian's mail carries the child's code:\n%s", c.guardianMail.Body.Text)
		}
		r := c.v.signIn(c.Email, c.Password)
		wantStatus(t, "verified child signs in before the guardian confirms", r, http.StatusForbidden)
		if pr := r.problem(t); !strings.Contains(pr.Detail, "guardian") {
			t.Errorf("detail = %q, want it to say the account waits for the guardian", pr.Detail)
		}
		if sessionCookie(t, r) != nil {
			t.Error("a pending child got a session cookie")
		}

		wantField(t, "a forged guardian token", newVisitor(t).do("POST", "/api/guardian", map[string]string{"token": c.id + ".forged", "decision": "confirm"}), "token")
		wantField(t, "no decision", newVisitor(t).do("POST", "/api/guardian", map[string]string{"token": c.gtoken}), "decision")
		r = c.guardianSays(t, "confirm")
		wantStatus(t, "guardian confirms", r, http.StatusOK)
		if got := strings.TrimSpace(string(r.Body)); got != `{"status":"confirmed"}` {
			t.Errorf("body = %s", got)
		}
		waitMail(t, c.guardian, kindGuardianOK, 1)
		wantField(t, "the guardian's link again", c.guardianSays(t, "refuse"), "token")

		wantStatus(t, "child signs in after the guardian confirmed", c.v.signIn(c.Username, c.Password), http.StatusOK)
		a := c.v.account()
		if a.Status != "active" || a.Profile.AgeGroup != "under14" {
			t.Errorf("status %q, age group %q", a.Status, a.Profile.AgeGroup)
		}
		found := false
		for _, e := range a.Consents {
			if e.Source == "guardian" && e.Granted && e.Purpose == "service" && e.PolicyVersion != "" {
				found = true
			}
		}
		if !found {
			t.Errorf("no consent given by the guardian in the ledger: %+v", a.Consents)
		}
		if !a.hasAudit("guardian.confirmed") {
			t.Errorf("no audit entry for the guardian's consent: %+v", a.Audit)
		}
		// The age rule decided the account's fate by itself: it is recorded, with what it
		// looked at, for an explanation on request (P22).
		if len(a.Decisions) != 1 || a.Decisions[0].Name != privacy.DecisionGuardianRequired || a.Decisions[0].Inputs["ageGroup"] != "under14" {
			t.Errorf("decisions = %+v, want the age rule's", a.Decisions)
		}
		// An active account is out of the sweep, and among the active accounts campaigns
		// go to (the same index, GSI2, in another partition).
		if pk := attr(profileOf(partitionOf(t, c.id)), "GSI2PK"); pk != "ACCOUNTS" {
			t.Errorf("an active child's account is in GSI2 partition %q, want ACCOUNTS (not the sweep)", pk)
		}
	})

	t.Run("the guardian is not mailed for an address nobody proved", func(t *testing.T) {
		// A stranger names a child's address and a guardian address of their own: the guardian
		// mail goes out only once the address is proved, so it shows the stranger nothing,
		// whether or not the address has an account.
		owner := newPerson("p24own")
		mustActive(t, owner, nil)
		prober := uniq("p24probe") + "@example.com"
		fresh := newPerson("p24new")
		var answers []reply
		for _, email := range []string{owner.Email, fresh.Email} {
			q := newPerson("p24q")
			q.Email = email
			answers = append(answers, newVisitor(t).register(q.form(map[string]any{"ageGroup": "under14", "guardianEmail": prober})))
		}
		if answers[0].Status != http.StatusAccepted || string(answers[0].Body) != string(answers[1].Body) {
			t.Errorf("an address with an account: %s; a new one: %s; want the same 202", answers[0], answers[1])
		}
		waitMail(t, owner.Email, kindAlready, 1)
		waitMail(t, fresh.Email, kindVerify, 1)
		waitSettled(t)
		if got := mailsTo(allMail(t), prober, ""); len(got) != 0 {
			t.Errorf("the prober's guardian address got %d mails (first: %q)", len(got), got[0].Subject)
		}
	})

	t.Run("the guardian refuses", func(t *testing.T) {
		c := registerChild(t, "p24no")
		r := c.guardianSays(t, "refuse")
		wantStatus(t, "guardian refuses", r, http.StatusOK)
		if got := strings.TrimSpace(string(r.Body)); got != `{"status":"refused"}` {
			t.Errorf("body = %s", got)
		}
		// The account is closed at once and erased by the mail worker with the guardian's
		// mail, not at the sweep.
		wantStatus(t, "child signs in after the refusal", c.v.signIn(c.Email, c.Password), http.StatusUnauthorized)
		wantStatus(t, "child signs in by username after the refusal", c.v.signIn(c.Username, c.Password), http.StatusUnauthorized)
		waitMail(t, c.guardian, kindGuardianRefused, 1)
		waitErased(t, c.id, c.profileBefore)
		wantField(t, "the guardian's link after the refusal", c.guardianSays(t, "confirm"), "token")
	})

	t.Run("an account no guardian confirmed is swept", func(t *testing.T) {
		due := registerChild(t, "p24late")
		notDue := registerChild(t, "p24wait")

		// The due date is PendingAccountDays away; move this account's into the past.
		if err := store(t).SetSweepAt(context.Background(), privacy.SubjectID(due.id), time.Now().Add(-time.Hour)); err != nil {
			t.Fatalf("move the due date: %v", err)
		}
		wantStatus(t, "pending child signs in before the sweep", due.v.signIn(due.Email, due.Password), http.StatusForbidden)

		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		if err := portaltest.Cloud(t).FireSchedule(ctx, "SweeperFunction"); err != nil {
			t.Fatalf("sweeper: %v", err)
		}

		assertErased(t, due.id, due.profileBefore)
		wantStatus(t, "swept child signs in", due.v.signIn(due.Email, due.Password), http.StatusUnauthorized)
		wantField(t, "the guardian's link after the sweep", due.guardianSays(t, "confirm"), "token")

		if profileOf(partitionOf(t, notDue.id)) == nil {
			t.Error("the sweep deleted an account that was not yet due")
		}
		wantStatus(t, "a child not yet due is still pending", notDue.guardianSays(t, "confirm"), http.StatusOK)

		// The address is free again: registering it is a new account.
		again := due.person
		again.Username = uniq("p24late")
		wantStatus(t, "register the swept address", newVisitor(t).register(again.form(map[string]any{"ageGroup": "under14", "guardianEmail": due.guardian})), http.StatusAccepted)
		waitMail(t, due.Email, kindVerify, 2)
		if got := mailsTo(allMail(t), due.Email, kindAlready); len(got) != 0 {
			t.Error("the swept address still counts as registered")
		}
	})
}
