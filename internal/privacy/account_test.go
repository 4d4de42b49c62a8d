package privacy_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/privacyportal/portal/internal/privacy"
)

func TestValidateEmail(t *testing.T) {
	for s, ok := range map[string]bool{
		"ada@example.com": true, "a.b+tag@sub.example.org": true, "ada@xn--fsqu00a.xn--fiqs8s": true,
		"": false, "ada": false, "ada@localhost": false, "Ada <ada@example.com>": false,
		"ada@example.com\r\nBcc: x@y.z": false, "a@b@example.com": false, " ada@example.com": false,
		"张三@example.com": false, "ada@例子.中国": false, // not normalized: the domain is not ASCII yet
	} {
		if err := privacy.ValidateEmail("email", s); (err == nil) != ok {
			t.Errorf("ValidateEmail(%q) = %v, want ok=%v", s, err, ok)
		}
	}
}

func TestP11_AddressesAreCanonicalAndSafe(t *testing.T) {
	tests := []struct {
		name, in, normalized, canonical, mailbox string
		valid                                    bool
	}{
		{"plain", "  Ada@Example.COM ", "Ada@example.com", "ada@example.com", "ada@example.com", true},
		{"Kelvin sign", "\u212Aate@example.com", "Kate@example.com", "kate@example.com", "kate@example.com", true},
		{"fullwidth letters", "ａｄａ@ｅｘａｍｐｌｅ.com", "ada@example.com", "ada@example.com", "ada@example.com", true},
		{"Unicode domain", "ada@例子.中国", "ada@xn--fsqu00a.xn--fiqs8s", "ada@xn--fsqu00a.xn--fiqs8s", "ada@xn--fsqu00a.xn--fiqs8s", true},
		{"composed accent in the domain", "ada@caf\u00e9.example", "ada@xn--caf-dma.example", "ada@xn--caf-dma.example", "ada@xn--caf-dma.example", true},
		{"decomposed accent in the domain", "ada@cafe\u0301.example", "ada@xn--caf-dma.example", "ada@xn--caf-dma.example", "ada@xn--caf-dma.example", true},
		{"plus tag and dots", "A.da+news@example.com", "A.da+news@example.com", "a.da+news@example.com", "ada@example.com", true},
		{"a Unicode local part", "ad\u00e1@example.com", "ad\u00e1@example.com", "ad\u00e1@example.com", "ad\u00e1@example.com", false},
		{"a decomposed local part", "ada\u0301@example.com", "ad\u00e1@example.com", "ad\u00e1@example.com", "ad\u00e1@example.com", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			n := privacy.NormalizeEmail(tc.in)
			if n != tc.normalized || privacy.CanonicalEmail(tc.in) != tc.canonical || privacy.MailboxKey(tc.in) != tc.mailbox {
				t.Errorf("normalized %q canonical %q mailbox %q; want %q %q %q", n, privacy.CanonicalEmail(tc.in), privacy.MailboxKey(tc.in), tc.normalized, tc.canonical, tc.mailbox)
			}
			if err := privacy.ValidateEmail("email", n); (err == nil) != tc.valid {
				t.Errorf("ValidateEmail(%q) = %v, want valid=%v", n, err, tc.valid)
			}
		})
	}
	k, _ := privacy.NewKeyed([]byte(strings.Repeat("k", 32)))
	if k.EmailKey("\u212Aate@example.com") != k.EmailKey("kate@example.com") {
		t.Error("the Kelvin-sign spelling has a look-up key of its own")
	}
	if k.EmailKey("ada@caf\u00e9.example") != k.EmailKey("ada@cafe\u0301.example") {
		t.Error("NFC and NFD spellings have look-up keys of their own")
	}
}

func TestValidateUsernameAndName(t *testing.T) {
	for s, ok := range map[string]bool{"ada": true, "Ada_L-1815.x": true, "ab": false, "_ada": false, "ada lovelace": false, "ada@x": false, strings.Repeat("a", 33): false} {
		if err := privacy.ValidateUsername("username", s); (err == nil) != ok {
			t.Errorf("ValidateUsername(%q) = %v, want ok=%v", s, err, ok)
		}
	}
	for s, ok := range map[string]bool{
		"Ada Lovelace": true, "李小龙": true, "J. R. R. Tolkien": true, "O'Brien-Smith": true,
		"  ": false, "a\x00b": false, strings.Repeat("名", 101): false,
		"Win at https://evil.example": false, "see www.evil": false, "evil.com": false, "mail me@x": false,
		"ｅｖｉｌ．ｃｏｍ": false, "bit.ly/x": false, "javascript:alert(1)": false,
	} {
		if err := privacy.ValidateName("name", s); (err == nil) != ok {
			t.Errorf("ValidateName(%q) = %v, want ok=%v", s, err, ok)
		}
	}
}

func TestP02_OptionalFieldsEachHaveTheirOwnPurpose(t *testing.T) {
	cat := privacy.Catalogue()
	seen := map[string]bool{}
	for _, f := range cat.OptionalFields {
		p, ok := cat.Purpose(f.Purpose)
		if !ok || p.Essential || p.LegalBasis != privacy.BasisConsent || seen[f.Purpose] {
			t.Errorf("optional field %s has purpose %+v: want its own, on consent, not essential", f.Key, p)
		}
		seen[f.Purpose] = true
	}
	mobile, ok := cat.OptionalField("mobile")
	if !ok {
		t.Fatal("no mobile field")
	}
	if err := mobile.Validate("not a phone"); err == nil {
		t.Error("a mobile number of letters was accepted")
	}
	if err := mobile.Validate("+86 138 0000 0000"); err != nil {
		t.Errorf("a real mobile number was refused: %v", err)
	}
}

func TestP02_OptionalValuesNeedTheirConsent(t *testing.T) {
	tests := []struct {
		name     string
		consents []string
		values   map[string]string
		granted  map[string]bool
		field    string // "" when valid
	}{
		{"nothing", nil, nil, nil, ""},
		{"value with its consent now", []string{"profile.mobile"}, map[string]string{"mobile": "+44 20 7946 0000"}, nil, ""},
		{"value with its consent given before", nil, map[string]string{"mobile": "+44 20 7946 0000"}, map[string]bool{"profile.mobile": true}, ""},
		{"value without consent", nil, map[string]string{"company": "Acme"}, nil, "company"},
		{"value with another field's consent", []string{"profile.mobile"}, map[string]string{"company": "Acme"}, nil, "company"},
		{"value whose consent was withdrawn", nil, map[string]string{"company": "Acme"}, map[string]bool{"profile.company": false}, "company"},
		{"removing a value needs no consent", nil, map[string]string{"company": ""}, nil, ""},
		{"a consent that is not an optional field's", []string{"marketing"}, nil, nil, "consents"},
		{"an unknown consent", []string{"everything"}, nil, nil, "consents"},
		{"a consent twice", []string{"profile.mobile", "profile.mobile"}, map[string]string{"mobile": "+44 20 7946 0000"}, nil, "consents"},
		{"an invalid value with its consent", []string{"profile.mobile"}, map[string]string{"mobile": "call me"}, nil, "mobile"},
		{"a value too long", []string{"profile.job"}, map[string]string{"jobPosition": strings.Repeat("x", 101)}, nil, "jobPosition"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := privacy.ValidateOptional(tc.consents, tc.values, tc.granted)
			var pe *privacy.Error
			switch {
			case tc.field == "" && err != nil:
				t.Errorf("err = %v, want none", err)
			case tc.field != "" && (!errors.As(err, &pe) || pe.Field != tc.field):
				t.Errorf("err = %v, want a field error on %s", err, tc.field)
			}
		})
	}
}

func TestP18_ConsentStateIsTheLatestEntry(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	ledger := []privacy.ConsentEntry{
		{Purpose: "marketing", Granted: true, At: t0},
		{Purpose: "profile.mobile", Granted: true, At: t0},
		{Purpose: "marketing", Granted: false, At: t0.Add(time.Hour)},
	}
	got := privacy.ConsentState(ledger)
	if got["marketing"] || !got["profile.mobile"] || got["analytics"] {
		t.Errorf("state = %v: want marketing withdrawn, mobile granted, analytics never granted", got)
	}
}

func TestKeyedHashSeparatesDomains(t *testing.T) {
	k, err := privacy.NewKeyed([]byte(strings.Repeat("k", 32)))
	if err != nil {
		t.Fatal(err)
	}
	if k.Hash(privacy.DomainEmail, "a@b.c") == k.Hash(privacy.DomainCode, "a@b.c") {
		t.Error("the same input hashes alike in two domains")
	}
	if !privacy.Equal(k.EmailKey("A@B.c "), k.EmailKey("a@b.c")) {
		t.Error("a hash is not stable")
	}
	if _, err := privacy.NewKeyed([]byte("short")); err == nil {
		t.Error("a short key was accepted")
	}
	loads := 0
	lazy := privacy.NewLazyKeyed(func(context.Context) ([]byte, error) {
		loads++
		if loads == 1 {
			return nil, errors.New("kms unavailable")
		}
		return []byte(strings.Repeat("k", 32)), nil
	})
	if err := lazy.Ready(context.Background()); err == nil {
		t.Error("a failed load made the key ready")
	}
	if err := lazy.Ready(context.Background()); err != nil || lazy.Hash(privacy.DomainEmail, "a@b.c") != k.Hash(privacy.DomainEmail, "a@b.c") {
		t.Errorf("the second load: %v", err)
	}
	if err := lazy.Ready(context.Background()); err != nil || loads != 2 {
		t.Errorf("a ready key was loaded again: %d loads, %v", loads, err)
	}
	if c := privacy.NewCode(); len(c) != 6 || strings.Trim(c, "0123456789") != "" {
		t.Errorf("code %q is not 6 digits", c)
	}
}
