package strength

import (
	_ "embed" // breached.bin
	"unicode"

	"github.com/privacyportal/portal/internal/password"
	"github.com/privacyportal/portal/internal/password/strength/internal/fold"
)

// breached holds the common passwords (ASVS 6.2.4, 6.2.12): the sorted, distinct fold.KeyLen-byte
// keys (fold.Key) of the folded entries of zxcvbn's "passwords" list, which ranks the 47,023
// passwords seen at least 11 times in Xato's corpus of 10 million breached passwords;
// internal/breachgen says where exactly it comes from and how breached.bin is made. The file
// is embedded, so it is a read-only string in the binary (~230 KB) searched in place: no
// package init, no heap. A key is a truncated hash rather than the password so the data stays
// a fixed-width array that binary search needs no index for.
//
//go:generate go run ./internal/breachgen -out breached.bin
//go:embed breached.bin
var breached string

// minCommonRunes is the shortest core looked up: the list has no shorter entries.
const minCommonRunes = 3

// isCommon reports whether low, a password in lower case, is on the common-password list:
// itself or one of its cores (see cores), folded, and also without the spaces and the
// . - _ separators in it ("pass word" is "password").
func isCommon(low []rune) bool {
	var coreBuf [maxCores][2]int
	var f, g [password.MaxLen]rune
	for _, c := range cores(low, &coreBuf) {
		core := low[c[0]:c[1]]
		if len(core) < minCommonRunes {
			continue
		}
		folded, joined := f[:0], g[:0]
		for _, r := range core {
			r = fold.Rune(r)
			folded = append(folded, r)
			if !isSeparator(r) {
				joined = append(joined, r)
			}
		}
		if listed(folded) || len(joined) != len(folded) && len(joined) >= minCommonRunes && listed(joined) {
			return true
		}
	}
	return false
}

// isSeparator reports whether r is set aside between the words of a common password.
func isSeparator(r rune) bool {
	return r == '.' || r == '-' || r == '_' || unicode.IsSpace(r)
}

// listed reports whether the key of folded is in breached, by binary search.
func listed(folded []rune) bool {
	k := fold.Key(folded)
	lo, hi := 0, len(breached)/fold.KeyLen
	for lo < hi {
		mid := int(uint(lo+hi) >> 1)
		switch compareKey(breached[mid*fold.KeyLen:(mid+1)*fold.KeyLen], &k) {
		case 0:
			return true
		case -1:
			lo = mid + 1
		default:
			hi = mid
		}
	}
	return false
}

// compareKey compares a key of breached with k, as bytes.Compare does.
func compareKey(s string, k *[fold.KeyLen]byte) int {
	for i := range fold.KeyLen {
		switch {
		case s[i] < k[i]:
			return -1
		case s[i] > k[i]:
			return 1
		}
	}
	return 0
}
