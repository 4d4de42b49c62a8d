package strength

import (
	"strings"
	"testing"

	"github.com/privacyportal/portal/internal/password/strength/internal/fold"
)

// wantBreachedKeys is how many keys internal/breachgen makes of its pinned source: 47,023
// entries less those that fold to the same key ("password" and "passw0rd"). Its own test
// rebuilds breached.bin from the source; this one needs no download.
const wantBreachedKeys = 46472

func TestP13_BreachedDataIsSortedDistinctKeys(t *testing.T) {
	if len(breached)%fold.KeyLen != 0 {
		t.Fatalf("breached.bin has %d bytes, not a whole number of %d-byte keys", len(breached), fold.KeyLen)
	}
	if n := len(breached) / fold.KeyLen; n != wantBreachedKeys {
		t.Errorf("breached.bin has %d keys, want %d", n, wantBreachedKeys)
	}
	for i := fold.KeyLen; i < len(breached); i += fold.KeyLen {
		if prev, cur := breached[i-fold.KeyLen:i], breached[i:i+fold.KeyLen]; prev >= cur {
			t.Fatalf("key %d (%x) is not above key %d (%x): binary search needs them sorted and distinct", i/fold.KeyLen, cur, i/fold.KeyLen-1, prev)
		}
	}
}

// Entries from the top, the middle and the end of the source list are found, as they are
// and folded; words that are not on it are not.
func TestP13_BreachedLookup(t *testing.T) {
	tests := []struct {
		word   string
		listed bool
	}{
		{"123456", true},   // rank 1
		{"password", true}, // rank 2
		{"P@SSW0RD", true}, // rank 2, folded
		{"trustno1", true}, // rank 38
		{"1qaz2wsx", true},
		{"horsesho", true}, // rank 18,700
		{"xpcrew", true},   // the last line
		{"correct horse battery staple", false},
		{"violetkettle", false},
		{"长城和黄河", false},
	}
	for _, tc := range tests {
		t.Run(tc.word, func(t *testing.T) {
			rs := []rune(strings.ToLower(tc.word))
			for i, r := range rs {
				rs[i] = fold.Rune(r)
			}
			if got := listed(rs); got != tc.listed {
				t.Errorf("listed(%q) = %v, want %v", tc.word, got, tc.listed)
			}
		})
	}
}

func TestP13_Cores(t *testing.T) {
	tests := []struct {
		in   string
		want []string // the distinct cores
	}{
		{"password", []string{"password"}},
		{"password1234!", []string{"password", "password1", "password12", "password123", "password1234", "password1234!"}},
		{"!!ab!!", []string{"ab", "ab!", "ab!!", "!ab", "!ab!", "!ab!!", "!!ab", "!!ab!", "!!ab!!"}},
		{"1234567890", []string{"1234567890"}},
		{"123456ab", []string{"ab", "6ab", "56ab", "456ab", "3456ab", "123456ab"}},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			s := []rune(tc.in)
			var buf [maxCores][2]int
			got := map[string]bool{}
			for _, c := range cores(s, &buf) {
				got[string(s[c[0]:c[1]])] = true
			}
			if len(got) != len(tc.want) {
				t.Errorf("cores(%q) = %v, want %q", tc.in, got, tc.want)
			}
			for _, w := range tc.want {
				if !got[w] {
					t.Errorf("cores(%q) = %v, has no %q", tc.in, got, w)
				}
			}
		})
	}
}

func TestP13_SimplePatterns(t *testing.T) {
	tests := []struct {
		s      string
		simple bool
	}{
		{"aaaa", true},
		{"abcd", true},
		{"dcba", true},
		{"acegikmo", true},
		{"qwerty", true},
		{"ytrewq", true},
		{"1qaz2wsx", true},
		{"qawsedrf", true},
		{"azertyuiop", true},
		{"147258369", true},
		{"passpasspa", true},
		{"x1234567890", true},
		{"ab", false},
		{"abcq", false},
		{"correct horse", false},
		{"k7#qm2!xzp", false},
		{"violetkettle", false},
		{"一丁丂七丄丅", true},
		{"春眠不觉晓处处闻啼鸟", false},
	}
	for _, tc := range tests {
		t.Run(tc.s, func(t *testing.T) {
			if got := simple([]rune(tc.s)); got != tc.simple {
				t.Errorf("simple(%q) = %v, want %v", tc.s, got, tc.simple)
			}
		})
	}
}

func TestP13_ContextWords(t *testing.T) {
	got := map[string]bool{}
	for _, w := range contextWords([]string{" Ada  Lovelace ", "Ada.King+news@Mail.Example.ORG", "li", "王伟", ""}) {
		got[string(w)] = true
	}
	// contextWords folds the words, as passwords are folded before they are matched.
	folded := func(s string) string {
		rs := []rune(s)
		for i, r := range rs {
			rs[i] = fold.Rune(r)
		}
		return string(rs)
	}
	for _, w := range []string{"ada  lovelace", "ada", "lovelace", "ada.king+news@mail.example.org", "ada.king+news",
		"king", "news", "mail", "example", "王伟"} {
		if !got[folded(w)] {
			t.Errorf("contextWords has no %q: %v", w, got)
		}
	}
	for _, w := range []string{"org", "li", ""} {
		if got[folded(w)] {
			t.Errorf("contextWords has %q, too short or too common to count: %v", w, got)
		}
	}
}
