// Package fold is the one definition, shared by the password rule and the generator of its
// common-password data, of how a string is reduced before it is looked up in that data: lower
// case, with the usual look-alike substitutions undone, hashed and truncated. The rule and the
// generator must fold alike or a listed password would slip through, so neither has a copy.
package fold

import (
	"crypto/sha256"
	"unicode"
	"unicode/utf8"
)

// KeyLen is the width in bytes of a key in the common-password data. 40 bits keep the chance
// that a password which is not on the list collides with one of its ~47,000 entries below
// 1 in 20 million per lookup (47,000 / 2^40), while the data stays ~230 KB.
const KeyLen = 5

// Rune folds one rune: lower case, then the look-alike digits and symbols people put in place
// of letters ("p@ssw0rd", "l33t") back to those letters. 'l' and '1' and '!' all fold to 'i',
// as 1 stands for either letter: folding both sides alike makes "hel1o" match "hello".
// The table is deliberately short: a rune that stands for no one letter stays as it is.
func Rune(r rune) rune {
	switch r = unicode.ToLower(r); r {
	case '4', '@':
		return 'a'
	case '8':
		return 'b'
	case '3':
		return 'e'
	case '1', '!', '|', 'l':
		return 'i'
	case '0':
		return 'o'
	case '5', '$':
		return 's'
	case '7', '+':
		return 't'
	}
	return r
}

// Key returns the lookup key of runes that are already folded: the first KeyLen bytes of the
// SHA-256 of their UTF-8 encoding. It does not allocate for inputs of up to 128 runes.
func Key(folded []rune) [KeyLen]byte {
	var buf [4 * 128]byte
	b := buf[:0]
	for _, r := range folded {
		b = utf8.AppendRune(b, r)
	}
	sum := sha256.Sum256(b)
	var k [KeyLen]byte
	copy(k[:], sum[:KeyLen])
	return k
}

// String folds s and returns its key, for the generator and tests.
func String(s string) [KeyLen]byte {
	rs := []rune(s)
	for i, r := range rs {
		rs[i] = Rune(r)
	}
	return Key(rs)
}
