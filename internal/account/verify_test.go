package account_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/privacyportal/portal/internal/account"
	"github.com/privacyportal/portal/internal/mail"
	"github.com/privacyportal/portal/internal/privacy"
)

func TestVerifyByCodeOrLinkWithThePasswordActivatesOnce(t *testing.T) {
	for _, byLink := range []bool{false, true} {
		name := map[bool]string{false: "code", true: "link"}[byLink]
		t.Run(name, func(t *testing.T) {
			w := newWorld(t)
			id, code, token := w.mustRegister(t, adult("ada@example.com", "ada"))
			in := account.VerifyInput{Email: " ada@EXAMPLE.com ", Code: " " + code + " ", Password: goodPassword}
			if byLink {
				in = account.VerifyInput{Token: token, Password: goodPassword}
			}
			if err := w.verify.Verify(ctx, in, clientIP); err != nil {
				t.Fatalf("verify: %v", err)
			}
			a, _ := w.store.Account(ctx, id)
			if !a.EmailVerified || a.Status != privacy.StatusActive {
				t.Errorf("after verifying: %+v", a)
			}
			if owners, _ := w.store.AddressOwners(ctx, a.EmailKey); owners.Owner != id || owners.Pending != "" {
				t.Errorf("the address's owners are %+v, want this account alone", owners)
			}
			if _, due := w.store.sweepAt[id]; due {
				t.Error("an active account is still due for the sweep")
			}
			if au := w.store.audit[id]; len(au) != 2 || au[1].Action != "email.verified" {
				t.Errorf("audit = %+v", au)
			}
			if err := w.verify.Verify(ctx, in, clientIP); err == nil {
				t.Error("the same secret verified twice")
			}
		})
	}
}

// TestP11_ProvingAnAddressActivatesOnlyTheOwnersCredentials is the pre-registration takeover:
// a stranger registers someone's address with the stranger's password and never verifies; the
// owner then registers. The owner's registration replaces the stranger's, the codes of either
// prove nothing without the password of the registration they were mailed for, and the
// stranger never gets in.
func TestP11_ProvingAnAddressActivatesOnlyTheOwnersCredentials(t *testing.T) {
	w := newWorld(t)
	stranger := adult("victim@example.com", "mallory")
	stranger.Name, stranger.Password = "Mallory", "stranger's own pass phrase"
	sid, strangersCode, strangersToken := w.mustRegister(t, stranger)

	owner := adult("Victim@example.com", "victim")
	oid, ownersCode, _ := w.mustRegister(t, owner)
	if _, err := w.store.Account(ctx, sid); privacy.ErrorCode(err) != privacy.NotFound {
		t.Errorf("the stranger's registration survived the owner's: %v", err)
	}
	if _, err := w.store.SubjectByUsername(ctx, w.env.Keys.UsernameKey("mallory")); privacy.ErrorCode(err) != privacy.NotFound {
		t.Error("the replaced registration still holds its username")
	}
	// The codes the owner received: the stranger's (mailed first) and the owner's own. The
	// stranger's code proves nothing with either password; the owner's works only with the
	// owner's password.
	for _, try := range []account.VerifyInput{
		{Email: owner.Email, Code: strangersCode, Password: owner.Password},
		{Email: owner.Email, Code: strangersCode, Password: stranger.Password},
		{Token: strangersToken, Password: stranger.Password},
		{Email: owner.Email, Code: ownersCode, Password: stranger.Password},
	} {
		if err := w.verify.Verify(ctx, try, clientIP); err == nil {
			t.Fatalf("verified with %+v", try)
		}
	}
	if err := w.verify.Verify(ctx, account.VerifyInput{Email: owner.Email, Code: ownersCode, Password: owner.Password}, clientIP); err != nil {
		// The wrong tries above counted against the code; a new one is at hand.
		if err := w.verify.Resend(ctx, account.ResendInput{Email: owner.Email}, clientIP); err != nil {
			t.Fatal(err)
		}
		w.drain(t)
		code, _ := w.lastCode(t, "Victim@example.com")
		w.mustVerify(t, owner.Email, code)
	}
	if _, err := w.sessions.SignIn(ctx, account.SignInInput{Login: "victim@example.com", Password: stranger.Password}, clientIP); privacy.ErrorCode(err) != privacy.Unauthorized {
		t.Errorf("the stranger's password signs in: %v", err)
	}
	if _, err := w.sessions.SignIn(ctx, account.SignInInput{Login: "mallory", Password: stranger.Password}, clientIP); privacy.ErrorCode(err) != privacy.Unauthorized {
		t.Errorf("the stranger's username signs in: %v", err)
	}
	c := w.mustSignIn(t, "victim@example.com")
	if c.Subject != oid {
		t.Errorf("signed in to %s, want the owner's registration %s", c.Subject, oid)
	}
}

// A registration never verified does not keep its address from its owner, however often a
// stranger registers it: each registration replaces the one before.
func TestRegistrationsOfOneAddressReplaceEachOther(t *testing.T) {
	w := newWorld(t)
	for _, u := range []string{"first", "second", "third"} {
		if err := w.register.Register(ctx, adult("ada@example.com", u), clientIP); err != nil {
			t.Fatal(err)
		}
	}
	w.drain(t)
	owners, _ := w.store.AddressOwners(ctx, w.env.Keys.EmailKey("ada@example.com"))
	if owners.Pending == "" || len(w.store.accounts) != 1 {
		t.Fatalf("owners %+v, %d accounts; want the last registration alone", owners, len(w.store.accounts))
	}
	if a, _ := w.store.Account(ctx, owners.Pending); a.Profile.Username != "third" {
		t.Errorf("the registration left is %q's, want the last one's", a.Profile.Username)
	}
	// Only the last registration's code was mailed: the earlier ones were replaced before the
	// worker came to them.
	if n := len(w.box.to("ada@example.com", mail.VerifyEmail)); n != 1 {
		t.Errorf("%d codes mailed, want 1", n)
	}
}

func TestVerifyAnswersAlikeForWrongCodesPasswordsAndAddresses(t *testing.T) {
	w := newWorld(t)
	id, code, _ := w.mustRegister(t, adult("ada@example.com", "ada"))
	wrong := strings.Repeat(string(rune('0'+(code[0]-'0'+1)%10)), 6)
	tries := []account.VerifyInput{
		{Email: "nobody@example.com", Code: code, Password: goodPassword},
		{Email: "ada@example.com", Code: wrong, Password: goodPassword},
		{Email: "ada@example.com", Code: code, Password: "not the password at all"},
	}
	var first string
	for _, in := range tries {
		pe := wantField(t, "a wrong try", w.verify.Verify(ctx, in, clientIP), "code")
		if first == "" {
			first = pe.Message
		} else if pe.Message != first {
			t.Errorf("%+v says %q; the first wrong try was told %q", in, pe.Message, first)
		}
	}
	if n := w.store.verifies[id][privacy.VerifyEmail].Attempts; n != 2 {
		t.Errorf("%d attempts counted, want the wrong code's and the wrong password's", n)
	}
	for range privacy.MaxCodeAttempts - 2 {
		_ = w.verify.Verify(ctx, tries[1], clientIP)
	}
	wantField(t, "the right code and password after 5 wrong tries", w.verify.Verify(ctx, account.VerifyInput{Email: "ada@example.com", Code: code, Password: goodPassword}, clientIP), "code")

	if err := w.verify.Resend(ctx, account.ResendInput{Email: "ada@example.com"}, clientIP); err != nil {
		t.Fatal(err)
	}
	w.drain(t)
	fresh, _ := w.lastCode(t, "ada@example.com")
	w.clock.Advance(15*time.Minute + time.Second)
	wantField(t, "an expired code", w.verify.Verify(ctx, account.VerifyInput{Email: "ada@example.com", Code: fresh, Password: goodPassword}, clientIP), "code")
	if a, _ := w.store.Account(ctx, id); a.EmailVerified {
		t.Error("an expired code verified the address")
	}
}

// The wrong-code limits are counted before the code is compared, per address across re-sent
// codes and per client: once reached, even the right code is refused.
func TestVerifyCountsAttemptsBeforeComparing(t *testing.T) {
	w := newWorld(t)
	w.env.Limits.CodesPerAddress.N = 7
	w.env.Limits.ResendPerEmail.N = 100
	w.mustRegister(t, adult("ada@example.com", "ada"))
	for i := range 7 {
		if i%privacy.MaxCodeAttempts == 0 {
			if err := w.verify.Resend(ctx, account.ResendInput{Email: "ada@example.com"}, clientIP); err != nil {
				t.Fatal(err)
			}
			w.drain(t)
		}
		_ = w.verify.Verify(ctx, account.VerifyInput{Email: "ada@example.com", Code: "000000", Password: goodPassword}, "203.0.113."+string(rune('1'+i)))
	}
	if err := w.verify.Resend(ctx, account.ResendInput{Email: "ada@example.com"}, clientIP); err != nil {
		t.Fatal(err)
	}
	w.drain(t)
	code, _ := w.lastCode(t, "ada@example.com")
	wantCode(t, "the right code after the day's attempts", w.verify.Verify(ctx, account.VerifyInput{Email: "A.da+x@example.com", Code: code, Password: goodPassword}, "198.51.100.99"), privacy.RateLimited, "")

	w2 := newWorld(t)
	w2.env.Limits.CodesPerClient.N = 3
	var err error
	for range 4 {
		err = w2.verify.Verify(ctx, account.VerifyInput{Email: "someone@example.com", Code: "123456", Password: "x"}, "203.0.113.1")
	}
	wantCode(t, "a client's fourth attempt", err, privacy.RateLimited, "")
}

func TestVerifyRefusesMalformedInputByField(t *testing.T) {
	tests := []struct {
		name  string
		in    account.VerifyInput
		field string
	}{
		{"no address", account.VerifyInput{Code: "123456", Password: "x"}, "email"},
		{"not an address", account.VerifyInput{Email: "ada", Code: "123456", Password: "x"}, "email"},
		{"a short code", account.VerifyInput{Email: "ada@example.com", Code: "12345", Password: "x"}, "code"},
		{"letters", account.VerifyInput{Email: "ada@example.com", Code: "12345a", Password: "x"}, "code"},
		{"no password", account.VerifyInput{Email: "ada@example.com", Code: "123456"}, "password"},
		{"a token without a secret", account.VerifyInput{Token: "abc", Password: "x"}, "token"},
		{"a forged token", account.VerifyInput{Token: "abc.def", Password: "x"}, "token"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w := newWorld(t)
			wantField(t, tc.name, w.verify.Verify(ctx, tc.in, clientIP), tc.field)
			if w.store.totalWrites() != 0 || len(w.jobs.jobs) != 0 {
				t.Errorf("wrote %v, queued %d", w.store.writes, len(w.jobs.jobs))
			}
		})
	}
}

func TestResendMailsOnlyWaitingRegistrationsAndAnswersAlike(t *testing.T) {
	w := newWorld(t)
	_, first, _ := w.mustRegister(t, adult("ada@example.com", "ada"))
	w.mustActive(t, "grace@example.com", "grace")
	for _, email := range []string{"nobody@example.com", "grace@example.com", "ada@example.com"} {
		if err := w.verify.Resend(ctx, account.ResendInput{Email: email}, clientIP); err != nil {
			t.Errorf("resend to %s: %v", email, err)
		}
	}
	if n := len(w.jobs.jobs); n != 3 {
		t.Errorf("%d jobs queued, want one for every address alike", n)
	}
	w.drain(t)
	if n := len(w.box.to("nobody@example.com", "")); n != 0 {
		t.Errorf("%d mails to an address without an account", n)
	}
	if n := len(w.box.to("grace@example.com", mail.VerifyEmail)); n != 1 {
		t.Errorf("%d codes to a verified address, want only its first", n)
	}
	second, _ := w.lastCode(t, "ada@example.com")
	if first != second { // equal one time in a million
		wantField(t, "the replaced code", w.verify.Verify(ctx, account.VerifyInput{Email: "ada@example.com", Code: first, Password: goodPassword}, clientIP), "code")
	}
	w.mustVerify(t, "ada@example.com", second)
	wantField(t, "resend to no address", w.verify.Resend(ctx, account.ResendInput{Email: "x"}, clientIP), "email")
}

func TestResendIsLimitedPerMailbox(t *testing.T) {
	w := newWorld(t)
	w.mustRegister(t, adult("ada@example.com", "ada"))
	var err error
	for i := range account.DefaultLimits.ResendPerEmail.N + 1 {
		// Plus-tags and dots reach one mailbox, and count as one.
		err = w.verify.Resend(ctx, account.ResendInput{Email: []string{"Ada@example.com", "a.da@example.com", "ada+1@example.com"}[i%3]}, clientIP)
	}
	wantCode(t, "one resend too many", err, privacy.RateLimited, "")
}

// TestP24_GuardianIsAskedOnlyOnceTheChildProvedTheirAddress: naming someone's address as a
// child's and a prober's own as the guardian shows nothing, because the guardian is mailed
// only after the child's address is proved.
func TestP24_GuardianIsAskedOnlyOnceTheChildProvedTheirAddress(t *testing.T) {
	w := newWorld(t)
	w.mustActive(t, "known@example.com", "known")
	for _, email := range []string{"known@example.com", "unknown@example.com"} {
		if err := w.register.Register(ctx, child(email, "kid"+email[:3], "prober@example.com"), clientIP); err != nil {
			t.Fatal(err)
		}
	}
	w.drain(t)
	if n := len(w.box.to("prober@example.com", "")); n != 0 {
		t.Fatalf("the guardian got %d mails before any child proved their address", n)
	}
	id, code, _ := w.mustRegister(t, child("tim@example.com", "tim", "parent@example.com"))
	if n := len(w.box.to("parent@example.com", "")); n != 0 {
		t.Fatal("the guardian was mailed before the child verified")
	}
	w.mustVerify(t, "tim@example.com", code)
	if a, _ := w.store.Account(ctx, id); a.Status != privacy.StatusPending {
		t.Errorf("a verified child is %s, want pending", a.Status)
	}
	g := w.box.to("parent@example.com", mail.GuardianConsent)
	if len(g) != 1 || g[0].Data.ChildName != "Timmy Tester" || !strings.Contains(g[0].Data.Link, "/guardian/#token="+string(id)+".") {
		t.Errorf("guardian mail = %+v", g)
	}
}

func TestVerifyPassesOnStoreFailures(t *testing.T) {
	w := newWorld(t)
	_, code, _ := w.mustRegister(t, adult("ada@example.com", "ada"))
	boom := errors.New("table unavailable")
	w.store.fail["VerifyEmail"] = boom
	if err := w.verify.Verify(ctx, account.VerifyInput{Email: "ada@example.com", Code: code, Password: goodPassword}, clientIP); !errors.Is(err, boom) {
		t.Errorf("err = %v, want the store's", err)
	}
	w.store.fail["AddressOwners"] = boom
	if err := w.verify.Verify(ctx, account.VerifyInput{Email: "ada@example.com", Code: code, Password: goodPassword}, clientIP); !errors.Is(err, boom) {
		t.Errorf("err = %v, want the store's", err)
	}
	w.store.fail = map[string]error{}
	w.jobs.fail = boom
	if err := w.verify.Resend(ctx, account.ResendInput{Email: "ada@example.com"}, clientIP); !errors.Is(err, boom) {
		t.Errorf("resend err = %v, want the queue's", err)
	}
}
