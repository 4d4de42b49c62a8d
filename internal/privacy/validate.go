package privacy

import (
	"net/mail"
	"regexp"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"golang.org/x/net/idna"
	"golang.org/x/text/unicode/norm"
)

// NormalizeEmail is the form an address is kept and mailed in: trimmed, in Unicode NFKC (so
// that look-alike spellings are one address: the Kelvin sign K is K, a composed and a
// decomposed accent are one letter), with the domain lower-cased and in its ASCII (IDNA,
// punycode) form, which is what mail servers route by. A domain IDNA refuses is left as typed,
// for ValidateEmail to refuse. The local part keeps its case for display; look-ups use
// CanonicalEmail.
func NormalizeEmail(s string) string {
	s = norm.NFKC.String(strings.TrimSpace(s))
	i := strings.LastIndexByte(s, '@')
	if i < 0 {
		return s
	}
	local, domain := s[:i], strings.ToLower(s[i+1:])
	if ascii, err := idna.Lookup.ToASCII(domain); err == nil {
		domain = ascii
	}
	return local + "@" + domain
}

// CanonicalEmail is the form two addresses are compared in: normalized, then lower-cased.
func CanonicalEmail(s string) string { return strings.ToLower(NormalizeEmail(s)) }

// MailboxKey is the mailbox an address most likely reaches, for limits on mail sent to it: the
// canonical address without a +tag and without dots in its local part, so that a+1@, a+2@ and
// a.b@ count as one recipient. It is never used to tell accounts apart.
func MailboxKey(s string) string {
	c := CanonicalEmail(s)
	i := strings.LastIndexByte(c, '@')
	if i < 0 {
		return c
	}
	local, domain := c[:i], c[i:]
	if j := strings.IndexByte(local, '+'); j > 0 {
		local = local[:j]
	}
	return strings.ReplaceAll(local, ".", "") + domain
}

// ValidateEmail checks a normalized bare e-mail address (no display name). The local part
// must be ASCII: the portal's mail goes through SES, which does not send to internationalized
// local parts (RFC 6531), and ASCII leaves no two spellings of one mailbox.
func ValidateEmail(field, s string) error {
	if s == "" {
		return FieldError(field, "is required")
	}
	if len(s) > 254 {
		return FieldError(field, "is too long (at most 254 characters)")
	}
	at := strings.LastIndexByte(s, '@')
	if at > 0 && !isASCII(s[:at]) {
		return FieldError(field, "must be written in plain letters, digits and . _ + - before the @")
	}
	a, err := mail.ParseAddress(s)
	if err != nil || a.Address != s || a.Name != "" || at < 0 || !strings.Contains(s[at:], ".") || !isASCII(s[at:]) {
		return FieldError(field, "is not an e-mail address (like name@example.com)")
	}
	return nil
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x21 || s[i] > 0x7e {
			return false
		}
	}
	return true
}

// ValidateName checks a person's name: any script, 1-100 characters, no control characters,
// and nothing that reads as a web or e-mail address. The portal writes the name in mail (to a
// child's guardian, for one), so a name must not be a way to send a link from the operator's
// domain to someone who never asked for it.
func ValidateName(field, s string) error {
	if strings.TrimSpace(s) == "" {
		return FieldError(field, "is required")
	}
	if err := validateText(field, s, 100); err != nil {
		return err
	}
	if linkLike().MatchString(norm.NFKC.String(s)) {
		return FieldError(field, "must not contain a web or e-mail address")
	}
	return nil
}

// linkLike matches what a mail reader may turn into a link: "://", a scheme readers link,
// "www.", an @, or a domain-like word ("example.com", "bit.ly").
// It is compiled at first use: its Unicode classes cost ~0.3 ms, which every cold start of
// every function that imports this package would pay at init.
var linkLike = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`(?i)://|\b(?:https?|ftp|file|javascript|data|mailto|tel|sms|callto|skype):|www\.|@|[\p{L}\p{N}-]+\.\p{L}{2,}`)
})

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

// ValidateParagraphs checks free text a person writes (a request's details): valid UTF-8, at
// most max characters, and no control characters but line breaks and tabs.
func ValidateParagraphs(field, s string, max int) error {
	return validateText(field, strings.NewReplacer("\r\n", " ", "\n", " ", "\r", " ", "\t", " ").Replace(s), max)
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
