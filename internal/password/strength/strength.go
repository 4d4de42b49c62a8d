// Package strength is the guessability half of the password rule (promise P13); package
// password holds the length limits and the hashing. It follows OWASP ASVS 5.0 chapter V6
// (Authentication) at level 2:
//
//   - 6.2.1: at least password.MinLen (10) characters, counted as Unicode code points. ASVS asks
//     for 8 at least and strongly recommends 15.
//   - 6.2.9: up to password.MaxLen (128) characters are accepted, so 64 characters in any
//     script always are (64 Chinese characters are 192 bytes). Nothing longer is hashed:
//     password.MaxBytes bounds the bytes any accepted password can have.
//   - 6.2.5: no composition rules: no character class is required or forbidden.
//   - 6.2.8: the rule only judges; the password is hashed exactly as received, never trimmed,
//     truncated or case-folded.
//   - 6.2.4 and 6.2.12: refused when it is one of the 47,023 passwords most often seen in data
//     breaches (the Xato corpus list that zxcvbn ships; see breached.go), also with letters
//     swapped for look-alike digits and symbols ("P@ssw0rd") and with digits and symbols added
//     before or after ("Password1234!").
//   - 6.1.2 and 6.2.11: refused when it is built on context-specific words: the person's name,
//     e-mail address (its local part and domain name too) and username, and the service's own
//     words, the documented list ServiceWords. "Built on" means that once those words are set
//     aside, what is left is shorter than 8 characters, a common password or a simple pattern.
//   - Trivial patterns, which NIST SP 800-63B section 5.1.1.2 (the source of ASVS 6.2) lists as
//     "repetitive or sequential characters" to refuse: one character or a short block repeated,
//     ascending or descending sequences (abcd, 9876, 2468), and runs along a keyboard (qwerty
//     rows and columns, azerty, qwertz, the numeric keypad), alone, joined together, or with
//     digits and symbols around them ("qwertyuiop123").
//
// A refusal says which of these it is, in plain words, and never repeats what was typed.
//
// The rule costs nothing at package init: the common-password data is a file embedded at
// build time and searched in place, and every other table is a constant. (The zxcvbn
// estimator it replaces built its dictionaries at init, ~20 ms and ~10 MB of every cold start
// of the function that imported it.)
package strength

import (
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/privacyportal/portal/internal/password"
	"github.com/privacyportal/portal/internal/password/strength/internal/fold"
	"github.com/privacyportal/portal/internal/privacy"
)

// ServiceWords are the words of the service itself that a password may not be built on (ASVS
// 6.1.2 asks for this list to be documented). A person's own words come with each call.
var ServiceWords = []string{"privacy", "portal"}

// The refusals. Each says why, in words a person can act on, and gives the same advice.
const (
	advice      = "; a few unrelated words work well"
	msgCommon   = "is too easy to guess: it is one of the passwords most often found in data breaches, perhaps with letters swapped for look-alike digits or symbols, or with digits or symbols added" + advice
	msgPattern  = "is too easy to guess: it is a simple pattern, such as a repeated character, a sequence like abcd or 4321, or a row of keys like qwerty" + advice
	msgPersonal = "is too easy to guess: it is built on your name, e-mail address or username" + advice
	msgService  = "is too easy to guess: it is built on the name of this service" + advice
)

// Validate applies the password rule (promise P13) to pw, a new password for the form field
// field. userInputs are words an attacker may know about the person: their name, e-mail
// address and username, and any other (a previous e-mail address, say); empty ones are
// ignored. The error is a privacy.FieldError saying why pw is refused.
func Validate(field, pw string, userInputs ...string) error {
	n := utf8.RuneCountInString(pw)
	switch {
	case pw == "":
		return privacy.FieldError(field, "is required")
	case !utf8.ValidString(pw):
		return privacy.FieldError(field, "is not valid text")
	case n < password.MinLen:
		return privacy.FieldError(field, "must be at least %d characters long", password.MinLen)
	case n > password.MaxLen:
		return privacy.FieldError(field, "must be at most %d characters long", password.MaxLen)
	}
	// MaxLen runes in lower case; on the stack, as every rune slice below.
	var buf [password.MaxLen]rune
	low := buf[:0]
	for _, r := range pw {
		low = append(low, unicode.ToLower(r))
	}
	switch judge(low) {
	case common:
		return privacy.FieldError(field, msgCommon)
	case pattern:
		return privacy.FieldError(field, msgPattern)
	}
	if builtOn(low, contextWords(userInputs)) {
		return privacy.FieldError(field, msgPersonal)
	}
	// With the person's words too: "ada privacy portal" is built on both.
	if builtOn(low, contextWords(slices.Concat(userInputs, ServiceWords))) {
		return privacy.FieldError(field, msgService)
	}
	return nil
}

// verdict is what judge finds.
type verdict int

const (
	fine verdict = iota
	common
	pattern
)

// judge applies the checks that need no context to low, a password in lower case.
func judge(low []rune) verdict {
	if isCommon(low) {
		return common
	}
	if isPattern(low) {
		return pattern
	}
	return fine
}

// maxCores bounds the cores of one password: up to maxKept+2 starts times as many ends.
const (
	maxKept  = 4
	maxCores = (maxKept + 2) * (maxKept + 2)
)

// cores returns the [start, end) bounds of the parts of s that the checks look at: s itself,
// and s without the digits, symbols and spaces before its first letter and after its last
// ("Password1234!" is "password"). As the runes next to the letters may be look-alikes
// ("hell0123" is "hello" and 123), up to maxKept of them are also kept on either side. A
// string without letters has only itself.
func cores(s []rune, dst *[maxCores][2]int) [][2]int {
	out := dst[:0]
	n := len(s)
	lead := 0
	for lead < n && !unicode.IsLetter(s[lead]) {
		lead++
	}
	if lead == n {
		return append(out, [2]int{0, n})
	}
	trail := 0
	for !unicode.IsLetter(s[n-1-trail]) {
		trail++
	}
	var startsBuf, endsBuf [maxKept + 2]int
	starts, ends := startsBuf[:0], endsBuf[:0]
	for k := 0; k <= maxKept && k <= lead; k++ {
		starts = append(starts, lead-k)
	}
	if lead > maxKept {
		starts = append(starts, 0)
	}
	for k := 0; k <= maxKept && k <= trail; k++ {
		ends = append(ends, n-trail+k)
	}
	if trail > maxKept {
		ends = append(ends, n)
	}
	for _, a := range starts {
		for _, b := range ends {
			out = append(out, [2]int{a, b})
		}
	}
	return out
}

// minContextRunes is the length a context word must have to count: shorter words (Al, Li, the
// "co" of a .co.uk address) are parts of too many unrelated words. A word with letters beyond
// ASCII needs only minContextRunesWider: a Chinese name is often two characters.
const (
	minContextRunes      = 3
	minContextRunesWider = 2
)

// contextWords returns the words of inputs that a password may not be built on, folded (see
// package fold) and longest first: each input whole, the parts of it between spaces and
// punctuation, and for an e-mail address its local part and the labels of its domain but the
// last (for ada@mail.example.org: ada, mail and example; org, com and the like say nothing
// about the person and are parts of many words).
func contextWords(inputs []string) [][]rune {
	var words [][]rune
	add := func(w string) {
		rs := []rune(w)
		ascii := true
		for i, r := range rs {
			rs[i] = fold.Rune(r)
			ascii = ascii && r < utf8.RuneSelf
		}
		if len(rs) < minContextRunes && (ascii || len(rs) < minContextRunesWider) {
			return
		}
		for _, have := range words {
			if slices.Equal(have, rs) {
				return
			}
		}
		words = append(words, rs)
	}
	notWordRune := func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) }
	for _, in := range inputs {
		in = strings.ToLower(strings.TrimSpace(in))
		if in == "" {
			continue
		}
		add(in)
		local, domain, isEmail := strings.Cut(in, "@")
		if !isEmail {
			for _, part := range strings.FieldsFunc(in, notWordRune) {
				add(part)
			}
			continue
		}
		add(local)
		for _, part := range strings.FieldsFunc(local, notWordRune) {
			add(part)
		}
		labels := strings.Split(domain, ".")
		for _, label := range labels[:max(len(labels)-1, 1)] {
			add(label)
		}
	}
	slices.SortStableFunc(words, func(a, b []rune) int { return len(b) - len(a) })
	return words
}

// minRest is how long a password must still be once context words are set aside: ASVS 6.2.1's
// minimum of 8. Not password.MinLen: a name of three letters is part of too many words
// ("ada" of "canada" and "radar"), and passwords near the minimum length would be refused for it.
const minRest = 8

// builtOn reports whether low (a password in lower case) is built on words (from
// contextWords): whether, once every occurrence of the words is set aside, longest first and
// matched after folding, what is left is shorter than minRest or fails judge.
func builtOn(low []rune, words [][]rune) bool {
	var foldedBuf, restBuf [password.MaxLen]rune
	var taken [password.MaxLen]bool
	folded := foldedBuf[:0]
	for _, r := range low {
		folded = append(folded, fold.Rune(r))
	}
	found := false
	for _, w := range words {
		for i := 0; i+len(w) <= len(folded); {
			if slices.Equal(folded[i:i+len(w)], w) && !slices.Contains(taken[i:i+len(w)], true) {
				for k := i; k < i+len(w); k++ {
					taken[k] = true
				}
				found = true
				i += len(w)
				continue
			}
			i++
		}
	}
	if !found {
		return false
	}
	rest := restBuf[:0]
	for i, r := range low {
		if !taken[i] {
			rest = append(rest, r)
		}
	}
	return len(rest) < minRest || judge(rest) != fine
}
