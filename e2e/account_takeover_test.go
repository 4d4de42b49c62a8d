package e2e

import (
	"fmt"
	"net/http"
	"testing"
)

// TestP11_ProvingAnAddressActivatesOnlyTheOwnersCredentials is the pre-registration
// takeover, tried as a stranger would: they register the victim's address with a password of
// their own and never verify it. The owner then registers; the owner's registration replaces
// the stranger's, and proving the address activates the owner's password only. The
// stranger's code (mailed to the owner) activates nothing, with either password.
func TestP11_ProvingAnAddressActivatesOnlyTheOwnersCredentials(t *testing.T) {
	owner := newPerson("victim")
	stranger := newPerson("squat")
	stranger.Email, stranger.Password = owner.Email, "the strangers own pass phrase"

	wantStatus(t, "the stranger registers the owner's address", newVisitor(t).register(stranger.form(nil)), http.StatusAccepted)
	strangers := waitMail(t, owner.Email, kindVerify, 1)
	strangerID := subjectOfToken(tokenIn(t, strangers, verifyRE))

	v := newVisitor(t)
	wantStatus(t, "the owner registers", v.register(owner.form(nil)), http.StatusAccepted)
	owners := waitMail(t, owner.Email, kindVerify, 2)
	ownerID := subjectOfToken(tokenIn(t, owners, verifyRE))
	if ownerID == strangerID {
		t.Fatal("the owner's code is for the stranger's registration")
	}
	if got := mailsTo(allMail(t), owner.Email, kindAlready); len(got) != 0 {
		t.Errorf("the owner was told the address is registered: %d notices", len(got))
	}

	// The stranger's code, with the stranger's password or the owner's: nothing.
	strangerCode := codeIn(t, strangers)
	if strangerCode != codeIn(t, owners) {
		wantField(t, "the stranger's code, the stranger's password", newVisitor(t).do("POST", "/api/verify", stranger.verifyBody(strangerCode)), "code")
		wantField(t, "the stranger's code, the owner's password", v.do("POST", "/api/verify", owner.verifyBody(strangerCode)), "code")
	}
	wantField(t, "the stranger's link", newVisitor(t).do("POST", "/api/verify", map[string]string{"token": tokenIn(t, strangers, verifyRE), "password": stranger.Password}), "token")
	// The owner's code with the stranger's password activates nothing either.
	wantField(t, "the owner's code, the stranger's password", newVisitor(t).do("POST", "/api/verify", stranger.verifyBody(codeIn(t, owners))), "code")

	wantStatus(t, "the owner proves the address", v.do("POST", "/api/verify", owner.verifyBody(codeIn(t, owners))), http.StatusOK)
	wantStatus(t, "the owner signs in", v.signIn(owner.Email, owner.Password), http.StatusOK)
	if a := v.account(); a.Profile.Username != owner.Username || a.Status != "active" {
		t.Errorf("the owner's account: username %q, status %q", a.Profile.Username, a.Status)
	}
	wantStatus(t, "the stranger signs in by address", newVisitor(t).signIn(owner.Email, stranger.Password), http.StatusUnauthorized)
	wantStatus(t, "the stranger signs in by username", newVisitor(t).signIn(stranger.Username, stranger.Password), http.StatusUnauthorized)

	// The replaced registration is gone, username and all.
	waitErased(t, strangerID, nil)
	again := newPerson("squat")
	again.Username = stranger.Username
	wantStatus(t, "the stranger's username is free again", newVisitor(t).register(again.form(nil)), http.StatusAccepted)
}

// TestP11_AStrangersRegistrationDoesNotBlockTheOwner: whoever registers an address first
// does not hold it; once the owner proved it, a stranger's later registration changes
// nothing and the owner is told.
func TestP11_AStrangersRegistrationDoesNotBlockTheOwner(t *testing.T) {
	owner := newPerson("block")
	for i := range 3 {
		s := newPerson("squat")
		s.Email, s.Password = owner.Email, fmt.Sprintf("squatter pass phrase %d", i)
		wantStatus(t, "a stranger registers the address", newVisitor(t).register(s.form(nil)), http.StatusAccepted)
	}
	v, _ := mustActiveAfter(t, owner, 3)
	later := newPerson("squat")
	later.Email, later.Password = owner.Email, "a later squatter pass phrase"
	wantStatus(t, "a stranger registers the owned address", newVisitor(t).register(later.form(nil)), http.StatusAccepted)
	waitMail(t, owner.Email, kindAlready, 1)
	wantStatus(t, "the owner's session", v.do("GET", "/api/account", nil), http.StatusOK)
	wantStatus(t, "the owner signs in", newVisitor(t).signIn(owner.Email, owner.Password), http.StatusOK)
	wantStatus(t, "the stranger signs in", newVisitor(t).signIn(owner.Email, later.Password), http.StatusUnauthorized)
}

// mustActiveAfter is mustActive for an address that others registered n times before.
func mustActiveAfter(tb testing.TB, p person, n int) (*visitor, string) {
	tb.Helper()
	v := newVisitor(tb)
	wantStatus(tb, "register", v.register(p.form(nil)), http.StatusAccepted)
	profiles := profilesWith(tb, "username", p.Username)
	if len(profiles) != 1 {
		tb.Fatalf("%d registrations with the username, want 1", len(profiles))
	}
	id := attr(profiles[0], "PK")[len("SUBJECT#"):]
	// The worker mails a code for each registration still pending when it runs: the owner's
	// is the one whose link names the owner's registration.
	var code string
	eventually(tb, func() error {
		for _, m := range mailsTo(allMail(tb), p.Email, kindVerify) {
			if subjectOfToken(tokenIn(tb, m, verifyRE)) == id {
				code = codeIn(tb, m)
				return nil
			}
		}
		return fmt.Errorf("no verification mail for the owner's registration after %d others", n)
	})
	wantStatus(tb, "verify", v.do("POST", "/api/verify", p.verifyBody(code)), http.StatusOK)
	wantStatus(tb, "sign in", v.signIn(p.Email, p.Password), http.StatusOK)
	return v, id
}
