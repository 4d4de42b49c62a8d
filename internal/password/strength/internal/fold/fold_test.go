package fold_test

import (
	"testing"

	"github.com/privacyportal/portal/internal/password/strength/internal/fold"
)

func TestP13_Fold(t *testing.T) {
	tests := []struct{ a, b string }{
		{"Password", "password"},
		{"P@ssw0rd", "password"},
		{"p4$$w0rd", "password"},
		{"hel1o", "hello"},
		{"HELL0!", "helloi"},
		{"7r0ub4dor", "troubador"},
		{"ЖУК", "жук"},
	}
	for _, tc := range tests {
		t.Run(tc.a, func(t *testing.T) {
			if fold.String(tc.a) != fold.String(tc.b) {
				t.Errorf("%q and %q fold to different keys", tc.a, tc.b)
			}
		})
	}
	if fold.String("password") == fold.String("passwords") {
		t.Error("different words fold to one key")
	}
}

// Key runs for every core of every password checked: it must not allocate.
func TestP13_KeyDoesNotAllocate(t *testing.T) {
	rs := []rune("春眠不觉晓处处闻啼鸟夜来风雨声花落知多少 correct horse battery staple")
	if n := testing.AllocsPerRun(100, func() { fold.Key(rs) }); n != 0 {
		t.Errorf("Key allocates %v times", n)
	}
}

func BenchmarkKey(b *testing.B) {
	rs := []rune("password")
	for b.Loop() {
		fold.Key(rs)
	}
}
