package privacy_test

import (
	"strings"
	"testing"
	"time"

	"github.com/privacyportal/portal/internal/privacy"
)

func TestValidateEmail(t *testing.T) {
	for s, ok := range map[string]bool{
		"ada@example.com": true, "a.b+tag@sub.example.org": true, "张三@例子.中国": true,
		"": false, "ada": false, "ada@localhost": false, "Ada <ada@example.com>": false,
		"ada@example.com\r\nBcc: x@y.z": false, "a@b@example.com": false, " ada@example.com": false,
	} {
		if err := privacy.ValidateEmail("email", s); (err == nil) != ok {
			t.Errorf("ValidateEmail(%q) = %v, want ok=%v", s, err, ok)
		}
	}
	if got := privacy.CanonicalEmail("  Ada@Example.COM "); got != "ada@example.com" {
		t.Errorf("CanonicalEmail = %q", got)
	}
}

func TestValidateUsernameAndName(t *testing.T) {
	for s, ok := range map[string]bool{"ada": true, "Ada_L-1815.x": true, "ab": false, "_ada": false, "ada lovelace": false, "ada@x": false, strings.Repeat("a", 33): false} {
		if err := privacy.ValidateUsername("username", s); (err == nil) != ok {
			t.Errorf("ValidateUsername(%q) = %v, want ok=%v", s, err, ok)
		}
	}
	for s, ok := range map[string]bool{"Ada Lovelace": true, "李小龙": true, "  ": false, "a\x00b": false, strings.Repeat("名", 101): false} {
		if err := privacy.ValidateName("name", s); (err == nil) != ok {
			t.Errorf("ValidateName(%q) = %v, want ok=%v", s, err, ok)
		}
	}
}

func TestP02_OptionalFieldsEachHaveTheirOwnPurpose(t *testing.T) {
	seen := map[string]bool{}
	for _, f := range privacy.OptionalFields {
		if f.Purpose.Required || seen[f.Purpose.ID] {
			t.Errorf("optional field %s has purpose %+v: want its own, not required", f.Key, f.Purpose)
		}
		seen[f.Purpose.ID] = true
	}
	if err := privacy.ValidateOptional(privacy.OptionalFields[0], "not a phone"); err == nil {
		t.Error("a mobile number of letters was accepted")
	}
	if err := privacy.ValidateOptional(privacy.OptionalFields[0], "+86 138 0000 0000"); err != nil {
		t.Errorf("a real mobile number was refused: %v", err)
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
	if k.Hash("email", "a@b.c") == k.Hash("code", "a@b.c") {
		t.Error("the same input hashes alike in two domains")
	}
	if !privacy.Equal(k.Hash("email", "a@b.c"), k.Hash("email", "a@b.c")) {
		t.Error("a hash is not stable")
	}
	if _, err := privacy.NewKeyed([]byte("short")); err == nil {
		t.Error("a short key was accepted")
	}
	if c := privacy.NewCode(); len(c) != 6 || strings.Trim(c, "0123456789") != "" {
		t.Errorf("code %q is not 6 digits", c)
	}
}
