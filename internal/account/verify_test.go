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

func TestVerifyByCodeOrLinkActivatesOnce(t *testing.T) {
	for _, byLink := range []bool{false, true} {
		name := map[bool]string{false: "code", true: "link"}[byLink]
		t.Run(name, func(t *testing.T) {
			w := newWorld(t)
			id, code, token := w.mustRegister(t, adult("ada@example.com", "ada"))
			in := account.VerifyInput{Email: " ada@EXAMPLE.com ", Code: " " + code + " "}
			if byLink {
				in = account.VerifyInput{Token: token}
			}
			if err := w.verify.Verify(ctx, in, clientIP); err != nil {
				t.Fatalf("verify: %v", err)
			}
			a, _ := w.store.Account(ctx, id)
			if !a.EmailVerified || a.Status != privacy.StatusActive {
				t.Errorf("after verifying: %+v", a)
			}
			if _, due := w.store.sweepAt[id]; due {
				t.Error("an active account is still due for the sweep")
			}
			au := w.store.audit[id]
			if len(au) != 2 || au[1].Action != "email.verified" {
				t.Errorf("audit = %+v", au)
			}
			field := map[bool]string{false: "code", true: "token"}[byLink]
			wantField(t, "the same "+name+" again", w.verify.Verify(ctx, in, clientIP), field)
			// The other half of the same mail dies with it.
			other := account.VerifyInput{Token: token}
			if byLink {
				other = account.VerifyInput{Email: "ada@example.com", Code: code}
			}
			if err := w.verify.Verify(ctx, other, clientIP); err == nil {
				t.Error("the mail's other secret still works after one was used")
			}
		})
	}
}

func TestVerifyRefusesWrongExpiredAndDeadCodesAlike(t *testing.T) {
	w := newWorld(t)
	id, code, _ := w.mustRegister(t, adult("ada@example.com", "ada"))
	wrong := strings.Repeat(string(rune('0'+(code[0]-'0'+1)%10)), 6)
	unknown := wantField(t, "a code for an address with no registration",
		w.verify.Verify(ctx, account.VerifyInput{Email: "nobody@example.com", Code: "123456"}, clientIP), "code")
	for i := range privacy.MaxCodeAttempts {
		pe := wantField(t, "a wrong code", w.verify.Verify(ctx, account.VerifyInput{Email: "ada@example.com", Code: wrong}, clientIP), "code")
		if pe.Message != unknown.Message {
			t.Errorf("attempt %d says %q; an unknown address is told %q", i+1, pe.Message, unknown.Message)
		}
	}
	if n := w.store.verifies[id][privacy.VerifyEmail].Attempts; n != privacy.MaxCodeAttempts {
		t.Errorf("%d attempts counted, want %d", n, privacy.MaxCodeAttempts)
	}
	wantField(t, "the right code after 5 wrong ones", w.verify.Verify(ctx, account.VerifyInput{Email: "ada@example.com", Code: code}, clientIP), "code")
	wantField(t, "a sixth wrong code", w.verify.Verify(ctx, account.VerifyInput{Email: "ada@example.com", Code: wrong}, clientIP), "code")

	// A new code works; an expired one does not.
	if err := w.verify.Resend(ctx, account.ResendInput{Email: "ada@example.com"}, clientIP); err != nil {
		t.Fatal(err)
	}
	fresh, _ := w.lastCode(t, "ada@example.com")
	w.clock.Advance(15*time.Minute + time.Second)
	wantField(t, "an expired code", w.verify.Verify(ctx, account.VerifyInput{Email: "ada@example.com", Code: fresh}, clientIP), "code")
	if a, _ := w.store.Account(ctx, id); a.EmailVerified {
		t.Error("an expired code verified the address")
	}
}

func TestVerifyRefusesMalformedInputByField(t *testing.T) {
	tests := []struct {
		name  string
		in    account.VerifyInput
		field string
	}{
		{"no address", account.VerifyInput{Code: "123456"}, "email"},
		{"not an address", account.VerifyInput{Email: "ada", Code: "123456"}, "email"},
		{"a short code", account.VerifyInput{Email: "ada@example.com", Code: "12345"}, "code"},
		{"letters", account.VerifyInput{Email: "ada@example.com", Code: "12345a"}, "code"},
		{"a token without a secret", account.VerifyInput{Token: "abc"}, "token"},
		{"a forged token", account.VerifyInput{Token: "abc.def"}, "token"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w := newWorld(t)
			wantField(t, tc.name, w.verify.Verify(ctx, tc.in, clientIP), tc.field)
			if w.store.totalWrites() != 0 {
				t.Errorf("wrote %v", w.store.writes)
			}
		})
	}
}

func TestVerifyGuessesAreBoundedAcrossResentCodes(t *testing.T) {
	w := newWorld(t)
	w.env.Limits.WrongCodesPerAccount.N = 7
	w.env.Limits.ResendPerEmail.N = 100
	w.mustRegister(t, adult("ada@example.com", "ada"))
	var err error
	guesses := 0
	for guesses < 50 {
		if guesses%privacy.MaxCodeAttempts == 0 {
			if err := w.verify.Resend(ctx, account.ResendInput{Email: "ada@example.com"}, clientIP); err != nil {
				t.Fatal(err)
			}
		}
		guesses++
		if err = w.verify.Verify(ctx, account.VerifyInput{Email: "ada@example.com", Code: "000000"}, "203.0.113."+string(rune('0'+guesses%10))); privacy.ErrorCode(err) == privacy.RateLimited {
			break
		}
	}
	wantCode(t, "guessing across new codes", err, privacy.RateLimited, "")
	if guesses > 8 {
		t.Errorf("%d guesses before the limit, want at most 8", guesses)
	}
}

func TestResendMailsOnlyUnverifiedAccountsAndAnswersAlike(t *testing.T) {
	w := newWorld(t)
	_, first, _ := w.mustRegister(t, adult("ada@example.com", "ada"))
	w.mustActive(t, "grace@example.com", "grace")
	for _, email := range []string{"nobody@example.com", "grace@example.com", "ada@example.com"} {
		if err := w.verify.Resend(ctx, account.ResendInput{Email: email}, clientIP); err != nil {
			t.Errorf("resend to %s: %v", email, err)
		}
	}
	if n := len(w.box.to("nobody@example.com", "")); n != 0 {
		t.Errorf("%d mails to an address without an account", n)
	}
	if n := len(w.box.to("grace@example.com", mail.VerifyEmail)); n != 1 {
		t.Errorf("%d codes to a verified address, want only its first", n)
	}
	second, _ := w.lastCode(t, "ada@example.com")
	if first != second { // equal one time in a million
		wantField(t, "the replaced code", w.verify.Verify(ctx, account.VerifyInput{Email: "ada@example.com", Code: first}, clientIP), "code")
	}
	if err := w.verify.Verify(ctx, account.VerifyInput{Email: "ada@example.com", Code: second}, clientIP); err != nil {
		t.Errorf("the new code: %v", err)
	}
	wantField(t, "resend to no address", w.verify.Resend(ctx, account.ResendInput{Email: "x"}, clientIP), "email")
}

func TestResendIsLimitedPerAddress(t *testing.T) {
	w := newWorld(t)
	w.mustRegister(t, adult("ada@example.com", "ada"))
	var err error
	for range account.DefaultLimits.ResendPerEmail.N + 1 {
		err = w.verify.Resend(ctx, account.ResendInput{Email: "Ada@example.com"}, clientIP)
	}
	wantCode(t, "one resend too many", err, privacy.RateLimited, "")
	if n := len(w.box.to("ada@example.com", mail.VerifyEmail)); n != 1+account.DefaultLimits.ResendPerEmail.N {
		t.Errorf("%d codes mailed, want the first and %d resends", n, account.DefaultLimits.ResendPerEmail.N)
	}
}

func TestVerifyingAChildLeavesItPendingAndAnAccountBeingErasedDead(t *testing.T) {
	w := newWorld(t)
	id, code, _ := w.mustRegister(t, child("tim@example.com", "tim", "parent@example.com"))
	if err := w.verify.Verify(ctx, account.VerifyInput{Email: "tim@example.com", Code: code}, clientIP); err != nil {
		t.Fatal(err)
	}
	if a, _ := w.store.Account(ctx, id); a.Status != privacy.StatusPending {
		t.Errorf("a verified child is %s, want pending", a.Status)
	}
	id2, code2, _ := w.mustRegister(t, adult("ada@example.com", "ada"))
	if err := w.store.MarkErasing(ctx, id2); err != nil {
		t.Fatal(err)
	}
	wantField(t, "a code of an account being erased", w.verify.Verify(ctx, account.VerifyInput{Email: "ada@example.com", Code: code2}, clientIP), "code")
}

func TestVerifyPassesOnStoreFailures(t *testing.T) {
	w := newWorld(t)
	_, code, _ := w.mustRegister(t, adult("ada@example.com", "ada"))
	boom := errors.New("table unavailable")
	w.store.fail["VerifyEmail"] = boom
	if err := w.verify.Verify(ctx, account.VerifyInput{Email: "ada@example.com", Code: code}, clientIP); !errors.Is(err, boom) {
		t.Errorf("err = %v, want the store's", err)
	}
	w.store.fail["Account"] = boom
	if err := w.verify.Resend(ctx, account.ResendInput{Email: "ada@example.com"}, clientIP); !errors.Is(err, boom) {
		t.Errorf("resend err = %v, want the store's", err)
	}
}
