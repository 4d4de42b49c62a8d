package strength

import (
	"strings"
	"unicode/utf8"

	"github.com/privacyportal/portal/internal/password"
)

// keyboardLines are runs of neighbouring keys, each read both ways: rows and columns of the
// QWERTY, AZERTY and QWERTZ layouts, the zigzags between two rows that keyboard walks favour
// ("1q2w3e4r"), and the numeric keypad's columns (its rows are sequences). Each line holds a
// character at most once. A constant table: nothing is built at init.
var keyboardLines = [...]string{
	"`1234567890-=", "qwertyuiop[]\\", "asdfghjkl;'", "zxcvbnm,./", // QWERTY rows
	"azertyuiop", "qsdfghjklm", "wxcvbn", // AZERTY rows
	"qwertzuiop", "yxcvbnm", // QWERTZ rows
	"1qaz", "2wsx", "3edc", "4rfv", "5tgb", "6yhn", "7ujm", "8ik,", "9ol.", "0p;/", // QWERTY columns
	"1q2w3e4r5t6y7u8i9o0p", "qawsedrftgyhujikolp;", "azsxdcfvgbhnjmk,l.", // zigzags
	"147", "258", "369", // keypad columns
}

// minRunLen is the shortest run (repeat, sequence, keyboard run) counted as one: two
// neighbouring keys or letters happen by chance in too many good passwords.
const minRunLen = 3

// freeRunesPer is how many characters of a simple pattern may be outside runs: one in
// freeRunesPer, so "a!!!!!!!!!" and "xqwertyuiop" are patterns. More would catch random
// passwords: with two at any length, a trial refused 1 in 700 random 10-character passwords
// of printable ASCII (two characters and a run of three and a run of five, say); with one in
// eight, 1 in 4,000 of ten random digits and none of 20,000 of 12 characters or more.
const freeRunesPer = 8

// minPatternCore is the shortest core judged as a pattern once the digits and symbols around it
// are set aside: a core of three letters says too little to refuse what surrounds it.
const minPatternCore = 4

// isPattern reports whether low, a password in lower case, is a simple pattern: itself or one
// of its cores (see cores). Look-alikes are not folded here: folding 1, l, | and ! alike would
// turn random symbols into repeats, and the look-alike walks people do use ("qw3rty") are on
// the common-password list, which is folded.
func isPattern(low []rune) bool {
	var coreBuf [maxCores][2]int
	for _, c := range cores(low, &coreBuf) {
		core := low[c[0]:c[1]]
		if len(core) < minPatternCore && len(core) < len(low) {
			continue
		}
		if simple(core) {
			return true
		}
	}
	return false
}

// simple reports whether s repeats a block shorter than password.MinLen ("abcabcabcabc",
// "passpasspa"), or is made of runs of at least minRunLen, with one character in freeRunesPer
// besides ("aaaaaaaaaa", "qwertyuiop123", "1qaz2wsx3edc", "x1234567890").
func simple(s []rune) bool {
	return shortPeriod(s) || coveredByRuns(s)
}

// shortPeriod reports whether s is a block repeated (the last copy possibly cut short) whose
// length is below password.MinLen and at most half of s: the repeats add nothing an attacker
// must guess. It computes the smallest period with the KMP failure function, in O(len(s)).
func shortPeriod(s []rune) bool {
	n := len(s)
	if n < 2 {
		return n == 1
	}
	var failBuf [password.MaxLen]int
	fail := failBuf[:n]
	k := 0
	for i := 1; i < n; i++ {
		for k > 0 && s[i] != s[k] {
			k = fail[k-1]
		}
		if s[i] == s[k] {
			k++
		}
		fail[i] = k
	}
	period := n - fail[n-1]
	return period < password.MinLen && 2*period <= n
}

// coveredByRuns reports whether s splits into runs of at least minRunLen characters and at
// most len(s)/freeRunesPer characters besides. best[j] is the fewest characters outside runs in a
// split of s[:j]; any piece of at least minRunLen at the start of a run is itself a run, so
// reach[i], the end of the longest run starting at i, says which pieces start at i. O(len(s)^2).
func coveredByRuns(s []rune) bool {
	n := len(s)
	var reachBuf, bestBuf [password.MaxLen + 1]int
	reach, best := reachBuf[:n], bestBuf[:n+1]
	for i := range s {
		reach[i] = runEnd(s, i)
	}
	for j := 1; j <= n; j++ {
		best[j] = best[j-1] + 1
		for i := 0; i+minRunLen <= j; i++ {
			if reach[i] >= j && best[i] < best[j] {
				best[j] = best[i]
			}
		}
	}
	return best[n] <= n/freeRunesPer
}

// runEnd returns the end of the longest run of at least minRunLen characters that starts at
// s[i], or i when there is none: one character repeated, a sequence of code points with a step
// of 1 or -1 (any script) or 2 or -2 (ASCII letters and digits: "acegi", "13579"), or
// neighbouring keys of a keyboard line, either way.
func runEnd(s []rune, i int) int {
	best := i
	if end := sameEnd(s, i); end-i >= minRunLen {
		best = max(best, end)
	}
	for _, step := range [...]rune{1, -1, 2, -2} {
		if end := stepEnd(s, i, step); end-i >= minRunLen {
			best = max(best, end)
		}
	}
	if s[i] < utf8.RuneSelf {
		for _, line := range keyboardLines {
			at := strings.IndexByte(line, byte(s[i]))
			if at < 0 {
				continue
			}
			for _, dir := range [...]int{1, -1} {
				end := i + 1
				for p := at + dir; end < len(s) && p >= 0 && p < len(line) && s[end] == rune(line[p]); p += dir {
					end++
				}
				if end-i >= minRunLen {
					best = max(best, end)
				}
			}
		}
	}
	return best
}

// sameEnd returns the end of the run of s[i] repeated from i.
func sameEnd(s []rune, i int) int {
	end := i + 1
	for end < len(s) && s[end] == s[i] {
		end++
	}
	return end
}

// stepEnd returns the end of the sequence from s[i] that goes up by step each character.
func stepEnd(s []rune, i int, step rune) int {
	if (step == 2 || step == -2) && !isASCIIAlnum(s[i]) {
		return i + 1
	}
	end := i + 1
	for end < len(s) && s[end]-s[end-1] == step && (step == 1 || step == -1 || isASCIIAlnum(s[end])) {
		end++
	}
	return end
}

func isASCIIAlnum(r rune) bool {
	return 'a' <= r && r <= 'z' || '0' <= r && r <= '9'
}
