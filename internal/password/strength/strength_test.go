package strength_test

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/privacyportal/portal/internal/password"
	"github.com/privacyportal/portal/internal/password/strength"
	"github.com/privacyportal/portal/internal/privacy"
)

// chinese64 is a passphrase of 64 Chinese characters: 192 bytes, as ASVS 6.2.9 must accept.
const chinese64 = "春眠不觉晓处处闻啼鸟夜来风雨声花落知多少床前明月光疑是地上霜举头望明月低头思故乡白日依山尽黄河入海流欲穷千里目更上一层楼红豆生南"

// ada is a person as the registration form has them: name, e-mail address, username.
var ada = []string{"Ada Lovelace", "ada@example.com", "ada.lovelace1815"}

// The refusals' reasons, as the callers and the end-to-end tests look for them.
const (
	required = "required"
	tooShort = "at least 10"
	tooLong  = "at most 128"
	easy     = "too easy to guess"
	common   = "data breaches"
	pattern  = "simple pattern"
	personal = "your name, e-mail address or username"
	service  = "name of this service"
)

func TestP13_PasswordRule(t *testing.T) {
	tests := []struct {
		name, password string
		inputs         []string
		ok             bool
		detail         string
	}{
		// Accepted: passphrases and random passwords, in any script (ASVS 6.2.5, 6.2.9).
		{"four random words", "correct horse battery staple", nil, true, ""},
		{"four random words, with the person's details", "correct horse battery staple", ada, true, ""},
		{"words and random characters", "violet kettle 1x9k2m3p4q harbor lantern", ada, true, ""},
		{"another passphrase", "another pass phrase entirely", nil, true, ""},
		{"long random", "vT7#qL2m!xR9zW", nil, true, ""},
		{"ten random characters", "k7#Qm2!xZp", nil, true, ""},
		{"Chinese passphrase", "我的密码是长城和黄河2026", nil, true, ""},
		{"64 Chinese characters, 192 bytes", chinese64, ada, true, ""},
		{"emoji and words", "🐴🔋📎✅ staple the horse", nil, true, ""},
		{"a name inside a long passphrase", "ada loves violet kettles", ada, true, ""},
		{"the name's letters inside other words", "canada radar station", ada, true, ""},
		{"the service's word inside a long passphrase", "privacy is a kettle of violets", nil, true, ""},
		{"128 characters", strings.Repeat("violet kettle harbor lantern 1x9k2m3p4q ", 4)[:password.MaxLen], nil, true, ""},

		// Length, counted in characters (ASVS 6.2.1, 6.2.9).
		{"empty", "", nil, false, required},
		{"too short", "aB3$dE6", nil, false, tooShort},
		{"nine characters", "Tr0ub4dor", nil, false, tooShort},
		{"nine Chinese characters, 27 bytes", "春眠不觉晓处处闻啼", nil, false, tooShort},
		{"too long", strings.Repeat("x7!", 50), nil, false, tooLong},
		{"140 characters", strings.Repeat("horse battery ", 10), nil, false, tooLong},
		{"129 Chinese characters", strings.Repeat("长", password.MaxLen+1), nil, false, tooLong},
		{"not UTF-8", "correct horse \xff battery", nil, false, "not valid text"},

		// Common and breached passwords, folded and with digits and symbols around them (6.2.4, 6.2.12).
		{"a listed password with digits", "password1234", nil, false, common},
		{"the same with a capital and a symbol", "Password1234!", nil, false, common},
		{"look-alike substitutions", "P@ssw0rd2024!", nil, false, common},
		{"symbols before", "!!sunshine2024", nil, false, common},
		{"a look-alike digit next to the added ones", "hell0123456", nil, false, common},
		{"a listed phrase with spaces", "i love you 123", nil, false, common},
		{"a listed password as it is", "1qaz2wsx3edc", nil, false, common},
		{"a listed keyboard walk with digits", "qwertyuiop123", nil, false, easy},

		// Trivial patterns (NIST SP 800-63B 5.1.1.2).
		{"repeated", "aaaaaaaaaaaaaaaa", nil, false, pattern},
		{"a repeated block", "abcabcabcabc", nil, false, pattern},
		{"a repeated word", "correctcorrect", nil, false, pattern},
		{"descending digits", "9876543210", nil, false, pattern},
		{"every other digit", "2468024680", nil, false, pattern},
		{"a sequence with random digits after", "abcdefgh83920174", nil, false, pattern},
		{"keyboard rows joined", "zxcvbnmasdfghj", nil, false, pattern},
		{"one character besides a sequence", "x1234567890", nil, false, pattern},

		// Context-specific words (6.1.2, 6.2.11).
		{"the username", "ada.lovelace1815", ada, false, personal},
		{"the username with a symbol", "ada.lovelace1815!", ada, false, personal},
		{"the e-mail address", "ada@example.com", ada, false, personal},
		{"the name without spaces and a year", "AdaLovelace1843", ada, false, personal},
		{"the name in look-alikes", "4d4 l0v3l4c3 ~~", ada, false, personal},
		{"the e-mail's local part", "grace.hopper@navy", []string{"Grace", "grace.hopper@example.com", "gh"}, false, personal},
		{"the domain's name", "example!82*n", []string{"Ada", "ada@example.com", "ada"}, false, personal},
		{"the name and a common word", "lovelace sunshine", ada, false, personal},
		{"another word passed in", "harbormaster1999", []string{"Ada", "ada@example.com", "ada", "harbormaster"}, false, personal},
		{"the service's words", "privacyportal2024", nil, false, service},
		{"the service's words spaced", "My Privacy Portal!", nil, false, service},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := strength.Validate("password", tc.password, tc.inputs...)
			if (err == nil) != tc.ok {
				t.Fatalf("Validate(%q) = %v, want ok=%v", tc.password, err, tc.ok)
			}
			if err == nil {
				return
			}
			if !strings.Contains(err.Error(), tc.detail) {
				t.Errorf("error %q does not explain %q", err, tc.detail)
			}
			if code := privacy.ErrorCode(err); code != privacy.Invalid {
				t.Errorf("error code %q, want %q", code, privacy.Invalid)
			}
		})
	}
}

// A refusal names the kind of weakness, never what was typed or the person's details: the
// message goes back to the browser and may be logged.
func TestP13_RefusalsRepeatNothingTyped(t *testing.T) {
	for _, pw := range []string{"ada.lovelace1815!", "password1234", "qwertyuiop123", "lovelace sunshine", "privacyportal2024"} {
		err := strength.Validate("password", pw, ada...)
		if err == nil {
			t.Fatalf("Validate(%q) accepted it", pw)
		}
		for _, secret := range append([]string{pw, "lovelace", "ada@", "1815"}, ada...) {
			if strings.Contains(strings.ToLower(err.Error()), strings.ToLower(secret)) {
				t.Errorf("refusal of %q repeats %q: %q", pw, secret, err)
			}
		}
	}
}

// Validate never panics, and whatever it accepts is within the length limits and valid text.
func FuzzValidate(f *testing.F) {
	for _, s := range []string{"correct horse battery staple", "Password1234!", chinese64, "qwertyuiop123",
		"ada.lovelace1815!", "\xff\xfe", "aaaaaaaaaa", "!!!!!!!!!!!!", "1234567890", "a1!A", "🐴🔋📎✅🐴🔋📎✅🐴🔋"} {
		f.Add(s, "Ada Lovelace", "ada@example.com")
	}
	f.Fuzz(func(t *testing.T, pw, name, email string) {
		err := strength.Validate("password", pw, name, email, "")
		if err != nil {
			return
		}
		n := utf8.RuneCountInString(pw)
		if !utf8.ValidString(pw) || n < password.MinLen || n > password.MaxLen || len(pw) > password.MaxBytes {
			t.Errorf("Validate accepted %q (%d characters, %d bytes)", pw, n, len(pw))
		}
	})
}

func BenchmarkValidate(b *testing.B) {
	cases := []struct{ name, pw string }{
		{"passphrase", "correct horse battery staple"},
		{"common", "Password1234!"},
		{"pattern", "abcdefgh83920174"},
		{"personal", "ada.lovelace1815!"},
		{"chinese64", chinese64},
		{"longest", strings.Repeat("violet kettle harbor lantern 1x9k2m3p4q ", 4)[:password.MaxLen]},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				_ = strength.Validate("password", c.pw, ada...)
			}
		})
	}
}
