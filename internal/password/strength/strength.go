// Package strength is the guessability half of the password rule (promise P13), with the
// length limits of package password. It is its own package because zxcvbn builds its
// dictionaries at init (~20 ms and ~10 MB): only the function that registers accounts imports
// it, so no other function's cold start pays for it.
package strength

import (
	"strings"
	"unicode/utf8"

	"github.com/trustelem/zxcvbn"

	"github.com/privacyportal/portal/internal/password"
	"github.com/privacyportal/portal/internal/privacy"
)

// MinScore is the lowest acceptable zxcvbn score (0-4): 3 is "safely unguessable: moderate
// protection from offline slow-hash scenario".
const MinScore = 3

// Validate applies the password rule (promise P13). userInputs (name, e-mail,
// username) count as words an attacker knows.
func Validate(field, pw string, userInputs ...string) error {
	n := utf8.RuneCountInString(pw)
	switch {
	case pw == "":
		return privacy.FieldError(field, "is required")
	case !utf8.ValidString(pw):
		return privacy.FieldError(field, "is not valid text")
	case n < password.MinLen:
		return privacy.FieldError(field, "must be at least %d characters long", password.MinLen)
	case len(pw) > password.MaxLen:
		return privacy.FieldError(field, "must be at most %d bytes long", password.MaxLen)
	}
	var inputs []string
	for _, in := range userInputs {
		if in = strings.TrimSpace(in); in != "" {
			inputs = append(inputs, in)
			if at := strings.IndexByte(in, '@'); at > 0 {
				inputs = append(inputs, in[:at])
			}
		}
	}
	if zxcvbn.PasswordStrength(pw, inputs).Score < MinScore {
		return privacy.FieldError(field, "is too easy to guess: avoid common passwords, names, dates and keyboard patterns; a few unrelated words work well")
	}
	return nil
}
