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

func TestP01_RegisterStoresTheFourAnswersAndMailsACode(t *testing.T) {
	tests := []struct {
		name       string
		in         account.RegisterInput
		wantStatus privacy.AccountStatus
		optional   []string
	}{
		{"adult", adult("ada@example.com", "ada"), privacy.StatusUnverified, nil},
		{"adult in Chinese with optional fields", func() account.RegisterInput {
			in := adult("  Li@Example.COM ", "li_lei")
			in.Locale = privacy.LocaleChinese
			in.Optional = map[string]string{"mobile": " +86 138 0000 0000 ", "company": "Acme"}
			in.Consents = []string{"profile.mobile", "profile.company"}
			return in
		}(), privacy.StatusUnverified, []string{"company", "mobile"}},
		{"child", child("tim@example.com", "tim", "parent@example.com"), privacy.StatusUnverified, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w := newWorld(t)
			id, code, token := w.mustRegister(t, tc.in)
			if tc.in.GuardianEmail != "" {
				if n := len(w.box.to(tc.in.GuardianEmail, "")); n != 0 {
					t.Errorf("the guardian got %d mails before the child proved their address", n)
				}
				w.mustVerify(t, tc.in.Email, code)
			}
			a, err := w.store.Account(ctx, id)
			if err != nil {
				t.Fatal(err)
			}
			email := privacy.NormalizeEmail(tc.in.Email)
			if a.Profile.Email != email || a.Profile.Username != tc.in.Username || (tc.in.GuardianEmail == "" && (a.Status != tc.wantStatus || a.EmailVerified)) {
				t.Errorf("account = %+v", a)
			}
			if a.EmailKey != w.env.Keys.EmailKey(tc.in.Email) || a.UsernameKey != w.env.Keys.UsernameKey(strings.ToUpper(tc.in.Username)) {
				t.Error("look-up keys are not the keyed hashes of the canonical address and username")
			}
			if h := w.store.passwords[id]; !strings.HasPrefix(h, "$argon2id$") || strings.Contains(h, goodPassword) {
				t.Errorf("password stored as %q", h)
			}
			var got []string
			for k, v := range w.store.optional[id] {
				got = append(got, k)
				if v.PolicyVersion != "1.0" || !v.ConsentedAt.Equal(w.clock.Now()) || strings.TrimSpace(v.Value) != v.Value {
					t.Errorf("optional %s = %+v", k, v)
				}
			}
			if strings.Join(sortedCopy(got), ",") != strings.Join(tc.optional, ",") {
				t.Errorf("optional fields stored: %v, want %v", got, tc.optional)
			}
			ledger := w.store.consents[id]
			if len(ledger) == 0 || ledger[0].ActionOf() != privacy.ActionAccept || ledger[0].Version() != "1.0" || ledger[0].Source != privacy.SourceRegistration {
				t.Errorf("ledger = %+v, want the policy in force accepted first", ledger)
			}
			for _, c := range decisions(ledger) {
				if !c.Granted || c.Source != privacy.SourceRegistration || c.Version() != "1.0" {
					t.Errorf("consent entry %+v", c)
				}
			}
			if len(decisions(ledger)) != len(tc.optional) {
				t.Errorf("%d consent entries, want one per optional field", len(decisions(ledger)))
			}
			if au := w.store.audit[id]; len(au) < 1 || au[0].Action != "account.registered" {
				t.Errorf("audit = %+v", au)
			}
			if len(code) != 6 || !strings.HasPrefix(token, string(id)+".") {
				t.Errorf("mailed code %q, token %q", code, token)
			}
			m := w.box.to(email, mail.VerifyEmail)[0]
			wantLink := "https://portal.example.com" + privacy.LocalePath(a.Profile.Locale, "/verify/") + "#token="
			if !strings.HasPrefix(m.Data.Link, wantLink) || m.Locale != a.Profile.Locale || m.Data.Minutes != 15 || m.Data.Name != "" {
				t.Errorf("verification mail %+v, want a link starting %s and no name", m, wantLink)
			}
			if tc.in.GuardianEmail == "" {
				v := w.store.verifies[id][privacy.VerifyEmail]
				if v.CodeHash == "" || strings.Contains(v.CodeHash, code) || !v.ExpiresAt.Equal(w.clock.Now().Add(15*time.Minute)) {
					t.Errorf("verification stored as %+v", v)
				}
			}
			if tc.in.GuardianEmail != "" {
				g := w.box.to(tc.in.GuardianEmail, mail.GuardianConsent)
				if len(g) != 1 || g[0].Data.ChildName != tc.in.Name || !strings.Contains(g[0].Data.Link, "/guardian/#token="+string(id)+".") || g[0].Data.Days != 7 {
					t.Errorf("guardian mail %+v", g)
				}
				if w.store.guardians[id].Email != tc.in.GuardianEmail || w.store.guardians[id].TokenHash == "" {
					t.Errorf("guardian request %+v", w.store.guardians[id])
				}
			}
			if due := w.store.sweepAt[id]; !due.Equal(w.clock.Now().Add(7 * 24 * time.Hour)) {
				t.Errorf("sweep deadline %v", due)
			}
		})
	}
}

func sortedCopy(s []string) []string {
	out := append([]string(nil), s...)
	for i := range out {
		for j := i + 1; j < len(out); j++ {
			if out[j] < out[i] {
				out[i], out[j] = out[j], out[i]
			}
		}
	}
	return out
}

func TestP01_RegisterRefusesBadFormsByFieldAndChangesNothing(t *testing.T) {
	tests := []struct {
		name  string
		edit  func(*account.RegisterInput)
		field string
	}{
		{"no name", func(in *account.RegisterInput) { in.Name = "  " }, "name"},
		{"a name that is a link", func(in *account.RegisterInput) { in.Name = "Cheap pills at pills.example" }, "name"},
		{"a Unicode local part", func(in *account.RegisterInput) { in.Email = "adá@example.com" }, "email"},
		{"not an address", func(in *account.RegisterInput) { in.Email = "ada" }, "email"},
		{"a username with a space", func(in *account.RegisterInput) { in.Username = "ada lovelace" }, "username"},
		{"a weak password", func(in *account.RegisterInput) { in.Password = "password1234" }, "password"},
		{"no age group", func(in *account.RegisterInput) { in.AgeGroup = "" }, "ageGroup"},
		{"an age instead of the group", func(in *account.RegisterInput) { in.AgeGroup = "12" }, "ageGroup"},
		{"an adult with a guardian", func(in *account.RegisterInput) { in.GuardianEmail = "p@example.com" }, "guardianEmail"},
		{"a child without a guardian", func(in *account.RegisterInput) { in.AgeGroup = "under14" }, "guardianEmail"},
		{"a child as their own guardian", func(in *account.RegisterInput) {
			in.AgeGroup, in.GuardianEmail = "under14", "ADA@example.com"
		}, "guardianEmail"},
		{"a guardian that is not an address", func(in *account.RegisterInput) { in.AgeGroup, in.GuardianEmail = "under14", "mum" }, "guardianEmail"},
		{"an unknown language", func(in *account.RegisterInput) { in.Locale = "fr" }, "locale"},
		{"an optional field without consent", func(in *account.RegisterInput) { in.Optional = map[string]string{"education": "PhD"} }, "education"},
		{"a consent that is not a field's", func(in *account.RegisterInput) { in.Consents = []string{"marketing"} }, "consents"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w := newWorld(t)
			in := adult("ada@example.com", "ada")
			tc.edit(&in)
			wantField(t, "register", w.register.Register(ctx, in, clientIP), tc.field)
			if n := w.store.totalWrites(); n != 0 || len(w.store.accounts) != 0 || len(w.jobs.jobs) != 0 {
				t.Errorf("a refused registration wrote %v and queued %d mails", w.store.writes, len(w.jobs.jobs))
			}
		})
	}
}

func TestRegisterATakenAddressMailsItsOwnerAndAnswersAlike(t *testing.T) {
	w := newWorld(t)
	owner, _ := w.mustActive(t, "ada@example.com", "ada")
	other := adult("Ada@Example.com", "mallory")
	other.Name = "Mallory"
	if err := w.register.Register(ctx, other, clientIP); err != nil {
		t.Fatalf("registering a taken address: %v, want the answer a new address gets", err)
	}
	w.drain(t)
	if len(w.store.accounts) != 1 {
		t.Errorf("%d accounts, want the owner's only", len(w.store.accounts))
	}
	notice := w.box.to("ada@example.com", mail.AlreadyRegistered)
	if len(notice) != 1 || notice[0].Data.Name != "Ada Lovelace" || !strings.HasSuffix(notice[0].Data.SignInLink, "/signin/") {
		t.Errorf("notice = %+v: want one, with the owner's name, not the attempt's", notice)
	}
	if n := len(w.box.to("ada@example.com", mail.VerifyEmail)); n != 1 {
		t.Errorf("%d verification mails, want only the owner's own", n)
	}
	// The attempt held its username as a new account would: a later attempt with it is told
	// it is taken, whether or not the address had an account.
	wantField(t, "the held username", w.register.Register(ctx, adult("new@example.com", "mallory"), clientIP), "username")
	if _, err := w.store.Account(ctx, owner); err != nil {
		t.Error(err)
	}
}

func TestRegisterRefusesATakenUsernameWhateverTheAddress(t *testing.T) {
	w := newWorld(t)
	w.mustActive(t, "ada@example.com", "ada")
	for _, email := range []string{"ada@example.com", "grace@example.com"} {
		wantField(t, "taken username with "+email, w.register.Register(ctx, adult(email, "ADA"), clientIP), "username")
	}
}

func TestRegisterIsRateLimitedPerClientAndPerAddress(t *testing.T) {
	w := newWorld(t)
	w.env.Limits.RegisterPerIP.N, w.env.Limits.RegisterPerEmail.N = 3, 2
	for i, want := range []privacy.Code{"", "", privacy.RateLimited} {
		err := w.register.Register(ctx, adult("same@example.com", "u"+string(rune('a'+i))+"x"), "203.0.113.1")
		if want == "" && err != nil {
			t.Fatalf("attempt %d: %v", i+1, err)
		}
		if want != "" {
			wantCode(t, "third attempt for one address", err, want, "")
		}
	}
	wantCode(t, "fourth attempt from one client", w.register.Register(ctx, adult("x@example.com", "xxx"), "203.0.113.1"), privacy.RateLimited, "")
	if err := w.register.Register(ctx, adult("y@example.com", "yyy"), "203.0.113.2"); err != nil {
		t.Errorf("another client: %v", err)
	}
}

func TestRegisterPassesOnFailuresAndKeepsNothingHalfDone(t *testing.T) {
	boom := errors.New("table unavailable")
	t.Run("store", func(t *testing.T) {
		w := newWorld(t)
		w.store.fail["Register"] = boom
		if err := w.register.Register(ctx, adult("ada@example.com", "ada"), clientIP); !errors.Is(err, boom) {
			t.Errorf("err = %v, want the store's", err)
		}
		if w.box.count() != 0 {
			t.Error("mail sent for an account that was not stored")
		}
	})
	t.Run("policy", func(t *testing.T) {
		w := newWorld(t)
		w.env.Policies = fixedPolicy{err: boom}
		if err := w.register.Register(ctx, adult("ada@example.com", "ada"), clientIP); !errors.Is(err, boom) {
			t.Errorf("err = %v, want the policy loader's", err)
		}
	})
	t.Run("queue", func(t *testing.T) {
		w := newWorld(t)
		w.jobs.fail = boom
		if err := w.register.Register(ctx, adult("ada@example.com", "ada"), clientIP); !errors.Is(err, boom) {
			t.Errorf("err = %v, want the queue's", err)
		}
		// The account is kept: a new code can be asked for.
		if len(w.store.accounts) != 1 {
			t.Error("the account was not kept when its mail failed")
		}
	})
	t.Run("no password rule", func(t *testing.T) {
		w := newWorld(t)
		w.env.PasswordRule = nil
		if err := w.register.Register(ctx, adult("ada@example.com", "ada"), clientIP); err == nil || privacy.ErrorCode(err) != privacy.Internal {
			t.Errorf("err = %v, want an internal error", err)
		}
	})
}
