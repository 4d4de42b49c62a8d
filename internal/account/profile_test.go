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

func TestP15_GetShowsEverythingHeld(t *testing.T) {
	w := newWorld(t)
	in := adult("ada@example.com", "ada")
	in.Optional, in.Consents = map[string]string{"mobile": "+44 20 7946 0000"}, []string{"profile.mobile"}
	id, code, _ := w.mustRegister(t, in)
	w.mustVerify(t, "ada@example.com", code)
	first := w.mustSignIn(t, "ada")
	w.clock.Advance(time.Minute)
	w.mustSignIn(t, "ada")
	if _, err := w.profile.Update(ctx, first, account.UpdateInput{Email: ptr("new@example.com"), CurrentPassword: goodPassword}); err != nil {
		t.Fatal(err)
	}
	v, err := w.profile.Get(ctx, first)
	if err != nil {
		t.Fatal(err)
	}
	if v.SubjectID != string(id) || v.Status != "active" || v.Profile.Email != "ada@example.com" || v.PendingEmail != "new@example.com" {
		t.Errorf("view = %+v", v)
	}
	if o := v.Optional["mobile"]; o.Value != "+44 20 7946 0000" || o.PolicyVersion != "1.0" {
		t.Errorf("optional = %+v", v.Optional)
	}
	if len(v.Consents) != 2 || v.Consents[0].Action != "accept" || v.Consents[1].Action != "grant" || v.Consents[1].Source != "register" {
		t.Errorf("consents = %+v, want the policy accepted and the mobile number's consent, at registration", v.Consents)
	}
	if len(v.Sessions) != 2 || !v.Sessions[0].Current || v.Sessions[1].Current {
		t.Errorf("sessions = %+v, want the older one current", v.Sessions)
	}
	var actions []string
	for _, a := range v.Audit {
		actions = append(actions, a.Action)
	}
	if strings.Join(actions, ",") != "account.registered,email.verified,email.change_requested" {
		t.Errorf("audit = %v", actions)
	}
	if v.Audit[0].Fields[0] != "ageGroup" {
		t.Errorf("audit fields are not sorted: %v", v.Audit[0].Fields)
	}

	cid, _ := w.registerChild(t, "tim@example.com", "tim", "parent@example.com")
	cv, err := w.profile.Get(ctx, account.Caller{Subject: cid})
	if err != nil || cv.Guardian == nil || cv.Guardian.Email != "parent@example.com" {
		t.Errorf("a child's pending guardian: %+v %v", cv.Guardian, err)
	}
}

func TestP16_UpdateValidatesAuditsAndChangesOnlyWhatChanged(t *testing.T) {
	w := newWorld(t)
	w.mustActive(t, "grace@example.com", "grace")
	id, c := w.mustActive(t, "ada@example.com", "ada")
	tests := []struct {
		name   string
		in     account.UpdateInput
		field  string   // a refusal's field
		fields []string // else the audit entry's fields ("" for no change)
	}{
		{"a new name", account.UpdateInput{Name: ptr("  Augusta Ada King ")}, "", []string{"name"}},
		{"the same name", account.UpdateInput{Name: ptr("Augusta Ada King")}, "", nil},
		{"a new username without the password", account.UpdateInput{Username: ptr("ada_k")}, "currentPassword", nil},
		{"a new username with a wrong password", account.UpdateInput{Username: ptr("ada_k"), CurrentPassword: "wrong"}, "currentPassword", nil},
		{"a new username", account.UpdateInput{Username: ptr("ada_k"), CurrentPassword: goodPassword}, "", []string{"username"}},
		{"a new language", account.UpdateInput{Locale: ptr("zh-CN")}, "", []string{"locale"}},
		{"an empty name", account.UpdateInput{Name: ptr(" ")}, "name", nil},
		{"a bad username", account.UpdateInput{Username: ptr("a b")}, "username", nil},
		{"a taken username", account.UpdateInput{Username: ptr("GRACE"), CurrentPassword: goodPassword}, "username", nil},
		{"an unknown language", account.UpdateInput{Locale: ptr("fr")}, "locale", nil},
		{"a bad address", account.UpdateInput{Email: ptr("nope")}, "email", nil},
		{"an optional value without consent", account.UpdateInput{Optional: map[string]*string{"company": ptr("Acme")}}, "company", nil},
		{"a valid name with a taken username", account.UpdateInput{Name: ptr("Someone"), Username: ptr("grace"), CurrentPassword: goodPassword}, "username", nil},
		{"a name with a link", account.UpdateInput{Name: ptr("Win at https://evil.example")}, "name", nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			before := len(w.store.audit[id])
			v, err := w.profile.Update(ctx, c, tc.in)
			if tc.field != "" {
				wantField(t, tc.name, err, tc.field)
				if len(w.store.audit[id]) != before {
					t.Error("a refused change was audited")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			au := w.store.audit[id]
			switch {
			case tc.fields == nil && len(au) != before:
				t.Errorf("no change was audited: %+v", au[len(au)-1])
			case tc.fields != nil && (len(au) != before+1 || strings.Join(au[len(au)-1].Fields, ",") != strings.Join(tc.fields, ",")):
				t.Errorf("audit = %+v, want fields %v", au[len(au)-1], tc.fields)
			}
			if v.SubjectID != string(id) {
				t.Errorf("view = %+v", v)
			}
		})
	}
	a, _ := w.store.Account(ctx, id)
	if a.Profile.Name != "Augusta Ada King" || a.Profile.Username != "ada_k" || a.Profile.Locale != "zh-CN" {
		t.Errorf("account = %+v", a.Profile)
	}
	if _, err := w.store.SubjectByUsername(ctx, w.env.Keys.UsernameKey("ada")); err == nil {
		t.Error("the old username still signs in")
	}
}

func TestP02_OptionalValuesComeAndGoWithTheirConsent(t *testing.T) {
	w := newWorld(t)
	id, c := w.mustActive(t, "ada@example.com", "ada")
	if _, err := w.profile.Update(ctx, c, account.UpdateInput{Optional: map[string]*string{"mobile": ptr("+44 20 7946 0001")}, Consents: []string{"profile.mobile"}}); err != nil {
		t.Fatal(err)
	}
	added := w.clock.Now()
	w.clock.Advance(time.Hour)
	// A new value under a consent already given keeps the consent's date.
	if _, err := w.profile.Update(ctx, c, account.UpdateInput{Optional: map[string]*string{"mobile": ptr("+44 20 7946 0002")}}); err != nil {
		t.Fatal(err)
	}
	if o := w.store.optional[id]["mobile"]; o.Value != "+44 20 7946 0002" || !o.ConsentedAt.Equal(added) {
		t.Errorf("mobile = %+v, want the new value under the consent of %v", o, added)
	}
	if _, err := w.profile.Update(ctx, c, account.UpdateInput{Optional: map[string]*string{"mobile": ptr("")}}); err != nil {
		t.Fatal(err)
	}
	if _, ok := w.store.optional[id]["mobile"]; ok {
		t.Error("an emptied value is still stored")
	}
	ledger := decisions(w.store.consents[id])
	if len(ledger) != 2 || !ledger[0].Granted || ledger[1].Granted || ledger[1].Source != privacy.SourceAccount {
		t.Errorf("ledger = %+v, want the grant then a withdrawal from the account page", ledger)
	}
	wantField(t, "the value again without consent", func() error {
		_, err := w.profile.Update(ctx, c, account.UpdateInput{Optional: map[string]*string{"mobile": ptr("+44 20 7946 0003")}})
		return err
	}(), "mobile")
	// A consent given again for a value being set dates the value anew.
	w.clock.Advance(time.Hour)
	if _, err := w.profile.Update(ctx, c, account.UpdateInput{Optional: map[string]*string{"mobile": ptr("+44 20 7946 0003")}, Consents: []string{"profile.mobile"}}); err != nil {
		t.Fatal(err)
	}
	if o := w.store.optional[id]["mobile"]; !o.ConsentedAt.Equal(w.clock.Now()) {
		t.Errorf("mobile consented at %v, want now", o.ConsentedAt)
	}
}

func TestP16_EmailChangeIsVerifiedAtTheNewAddress(t *testing.T) {
	w := newWorld(t)
	id, c := w.mustActive(t, "ada@example.com", "ada")
	v, err := w.profile.Update(ctx, c, account.UpdateInput{Email: ptr("New@Example.com"), CurrentPassword: goodPassword})
	if err != nil {
		t.Fatal(err)
	}
	w.drain(t)
	if v.Profile.Email != "ada@example.com" || v.PendingEmail != "New@example.com" {
		t.Errorf("after asking: email %q, pending %q", v.Profile.Email, v.PendingEmail)
	}
	codes := w.box.to("new@example.com", mail.EmailChangeVerify)
	notices := w.box.to("ada@example.com", mail.EmailChangeNotice)
	if len(codes) != 1 || len(notices) != 1 || notices[0].Data.Code != "" {
		t.Fatalf("mails: %+v to the new address, %+v to the old", codes, notices)
	}
	code := codes[0].Data.Code
	wrong := "000000"
	if code == wrong {
		wrong = "111111"
	}
	pe := wantField(t, "a wrong code", func() error {
		_, err := w.profile.ConfirmEmail(ctx, c, account.ConfirmEmailInput{Code: wrong})
		return err
	}(), "code")
	if !strings.Contains(pe.Message, "4 more") {
		t.Errorf("a wrong code says %q", pe.Message)
	}
	wantField(t, "a malformed code", func() error {
		_, err := w.profile.ConfirmEmail(ctx, c, account.ConfirmEmailInput{Code: "12"})
		return err
	}(), "code")
	v, err = w.profile.ConfirmEmail(ctx, c, account.ConfirmEmailInput{Code: code})
	if err != nil {
		t.Fatal(err)
	}
	if v.Profile.Email != "New@example.com" || v.PendingEmail != "" {
		t.Errorf("after confirming: email %q, pending %q", v.Profile.Email, v.PendingEmail)
	}
	if got, _ := w.store.SubjectByEmail(ctx, w.env.Keys.EmailKey("new@example.com")); got != id {
		t.Error("the new address does not sign in")
	}
	if _, err := w.store.SubjectByEmail(ctx, w.env.Keys.EmailKey("ada@example.com")); err == nil {
		t.Error("the old address still signs in")
	}
	wantField(t, "the code again", func() error {
		_, err := w.profile.ConfirmEmail(ctx, c, account.ConfirmEmailInput{Code: code})
		return err
	}(), "code")
}

func TestEmailChangeCodesDieAndTakenAddressesAreRefused(t *testing.T) {
	w := newWorld(t)
	w.mustActive(t, "grace@example.com", "grace")
	_, c := w.mustActive(t, "ada@example.com", "ada")
	confirm := func(code string) error {
		_, err := w.profile.ConfirmEmail(ctx, c, account.ConfirmEmailInput{Code: code})
		return err
	}
	wantField(t, "confirming with nothing pending", confirm("123456"), "code")
	if _, err := w.profile.Update(ctx, c, account.UpdateInput{Email: ptr("grace@example.com"), CurrentPassword: goodPassword}); err != nil {
		t.Fatal(err)
	}
	w.drain(t)
	code := w.box.to("grace@example.com", mail.EmailChangeVerify)[0].Data.Code
	wantField(t, "an address that has an account", confirm(code), "email")

	if _, err := w.profile.Update(ctx, c, account.UpdateInput{Email: ptr("third@example.com"), CurrentPassword: goodPassword}); err != nil {
		t.Fatal(err)
	}
	w.drain(t)
	code = w.box.to("third@example.com", mail.EmailChangeVerify)[0].Data.Code
	bad := "000000"
	if code == bad {
		bad = "111111"
	}
	for range privacy.MaxCodeAttempts - 1 {
		_ = confirm(bad)
	}
	if pe := wantField(t, "the last wrong code", confirm(bad), "code"); !strings.Contains(pe.Message, "Too many") {
		t.Errorf("the last wrong code says %q", pe.Message)
	}
	wantField(t, "the right code after 5 wrong ones", confirm(code), "code")

	if _, err := w.profile.Update(ctx, c, account.UpdateInput{Email: ptr("fourth@example.com"), CurrentPassword: goodPassword}); err != nil {
		t.Fatal(err)
	}
	w.drain(t)
	w.clock.Advance(16 * time.Minute)
	wantField(t, "an expired code", confirm(w.box.to("fourth@example.com", mail.EmailChangeVerify)[0].Data.Code), "code")
}

func TestEmailChangesAreLimitedPerAccountAndRecipient(t *testing.T) {
	w := newWorld(t)
	_, c := w.mustActive(t, "ada@example.com", "ada")
	var err error
	for range account.DefaultLimits.EmailChangePerAccount.N + 1 {
		_, err = w.profile.Update(ctx, c, account.UpdateInput{Email: ptr("target@example.com"), CurrentPassword: goodPassword})
	}
	wantCode(t, "one change too many", err, privacy.RateLimited, "")
	w2 := newWorld(t)
	for i := range account.DefaultLimits.MailPerRecipient.N + 1 {
		_, c := w2.mustActive(t, "u"+string(rune('a'+i))+"@example.com", "user"+string(rune('a'+i)))
		// Plus-tags and dots reach one mailbox, and count as one.
		_, err = w2.profile.Update(ctx, c, account.UpdateInput{Email: ptr([]string{"Victim@example.com", "vic.tim@example.com", "victim+x@example.com"}[i%3]), CurrentPassword: goodPassword})
	}
	w2.drain(t)
	wantCode(t, "one mail too many to one recipient", err, privacy.RateLimited, "")
	n := 0
	for _, addr := range []string{"victim@example.com", "vic.tim@example.com", "victim+x@example.com"} {
		n += len(w2.box.to(addr, mail.EmailChangeVerify))
	}
	if n != account.DefaultLimits.MailPerRecipient.N {
		t.Errorf("%d codes to the mailbox, want %d", n, account.DefaultLimits.MailPerRecipient.N)
	}
}

func TestUpdateReportsAConcurrentChangeAsAConflict(t *testing.T) {
	w := newWorld(t)
	_, c := w.mustActive(t, "ada@example.com", "ada")
	w.store.fail["Update"] = privacy.ErrStale
	_, err := w.profile.Update(ctx, c, account.UpdateInput{Name: ptr("Someone")})
	wantCode(t, "a stale update", err, privacy.Conflict, "")
	boom := errors.New("table unavailable")
	w.store.fail["Update"] = boom
	if _, err := w.profile.Update(ctx, c, account.UpdateInput{Name: ptr("Someone")}); !errors.Is(err, boom) {
		t.Errorf("err = %v, want the store's", err)
	}
	if _, err := w.profile.Get(ctx, account.Caller{Subject: "nobody"}); privacy.ErrorCode(err) != privacy.NotFound {
		t.Errorf("the account of no one: %v", err)
	}
}
