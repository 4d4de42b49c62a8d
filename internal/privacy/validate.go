package privacy

import (
	"net/mail"
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"
)

// NormalizeEmail trims an address and lower-cases its domain. The local part keeps its case
// for display, but look-ups use CanonicalEmail.
func NormalizeEmail(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.LastIndexByte(s, '@'); i >= 0 {
		s = s[:i] + "@" + strings.ToLower(s[i+1:])
	}
	return s
}

// CanonicalEmail is the form two addresses are compared in: the whole address lower-cased.
func CanonicalEmail(s string) string { return strings.ToLower(NormalizeEmail(s)) }

// ValidateEmail checks a bare e-mail address (no display name).
func ValidateEmail(field, s string) error {
	if s == "" {
		return FieldError(field, "is required")
	}
	if len(s) > 254 {
		return FieldError(field, "is too long (at most 254 characters)")
	}
	a, err := mail.ParseAddress(s)
	if err != nil || a.Address != s || a.Name != "" || !strings.Contains(s[strings.LastIndexByte(s, '@'):], ".") {
		return FieldError(field, "is not an e-mail address (like name@example.com)")
	}
	return nil
}

// ValidateName checks a person's name: any script, 1-100 characters, no control characters.
func ValidateName(field, s string) error {
	if strings.TrimSpace(s) == "" {
		return FieldError(field, "is required")
	}
	return validateText(field, s, 100)
}

func validateText(field, s string, max int) error {
	if !utf8.ValidString(s) {
		return FieldError(field, "is not valid text")
	}
	if n := utf8.RuneCountInString(s); n > max {
		return FieldError(field, "is too long (at most %d characters)", max)
	}
	for _, r := range s {
		if unicode.IsControl(r) {
			return FieldError(field, "contains a control character")
		}
	}
	return nil
}

var usernameRE = regexp.MustCompile(`^[a-zA-Z0-9][a-zA-Z0-9._-]{2,31}$`)

// ValidateUsername checks a username: 3-32 letters, digits, '.', '_' or '-', starting with a
// letter or digit. Usernames are unique regardless of case.
func ValidateUsername(field, s string) error {
	if s == "" {
		return FieldError(field, "is required")
	}
	if !usernameRE.MatchString(s) {
		return FieldError(field, "must be 3 to 32 letters, digits, dots, dashes or underscores, starting with a letter or digit")
	}
	if strings.Contains(s, "@") {
		return FieldError(field, "cannot contain @")
	}
	return nil
}

// Validate checks a value of the field ("" means remove it): plain text of at most MaxLen
// characters, matching Pattern when the field has one.
func (f OptionalField) Validate(value string) error {
	if value == "" {
		return nil
	}
	if err := validateText(f.Key, value, f.MaxLen); err != nil {
		return err
	}
	if f.re != nil && !f.re.MatchString(value) {
		return FieldError(f.Key, "%s", f.Invalid[LocaleEnglish])
	}
	return nil
}

// ValidateLocale checks a mail language.
func ValidateLocale(field, s string) error {
	if s != LocaleEnglish && s != LocaleChinese {
		return FieldError(field, "must be %q or %q", LocaleEnglish, LocaleChinese)
	}
	return nil
}
