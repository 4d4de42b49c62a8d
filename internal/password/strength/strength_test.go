package strength_test

import (
	"strings"
	"testing"

	"github.com/privacyportal/portal/internal/password/strength"
)

func TestP13_PasswordRule(t *testing.T) {
	tests := []struct {
		name, password string
		inputs         []string
		ok             bool
		detail         string
	}{
		{"four random words", "correct horse battery staple", nil, true, ""},
		{"long random", "vT7#qL2m!xR9zW", nil, true, ""},
		{"too short", "aB3$dE6", nil, false, "at least 10"},
		{"common password", "password123", nil, false, "too easy"},
		{"keyboard walk", "qwertyuiop123", nil, false, "too easy"},
		{"repeated", "aaaaaaaaaaaaaaaa", nil, false, "too easy"},
		{"the username", "ada.lovelace1815", []string{"Ada Lovelace", "ada@example.com", "ada.lovelace1815"}, false, "too easy"},
		{"the e-mail's local part", "grace.hopper@navy", []string{"Grace", "grace.hopper@example.com", "gh"}, false, "too easy"},
		{"too long", strings.Repeat("x7!", 50), nil, false, "at most 128"},
		{"empty", "", nil, false, "required"},
		{"Chinese passphrase", "我的密码是长城和黄河2026", nil, true, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := strength.Validate("password", tc.password, tc.inputs...)
			if (err == nil) != tc.ok {
				t.Fatalf("ValidatePassword(%q) = %v, want ok=%v", tc.password, err, tc.ok)
			}
			if err != nil && !strings.Contains(err.Error(), tc.detail) {
				t.Errorf("error %q does not explain %q", err, tc.detail)
			}
		})
	}
}
