package main

import (
	"bytes"
	"os"
	"testing"

	"github.com/privacyportal/portal/internal/password/strength/internal/fold"
)

// The committed data is what the generator makes of its pinned source: nobody edited it by
// hand, and nobody changed the generator, the folding or the source without regenerating it.
// The source comes through the go command: from the module cache, or else the Go module proxy.
func TestP13_CommittedDataMatchesPinnedSource(t *testing.T) {
	want, err := generate()
	if err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile("../../breached.bin")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("breached.bin (%d bytes) is not what the generator makes (%d bytes): run go generate ./internal/password/strength", len(got), len(want))
	}
}

func TestP13_Build(t *testing.T) {
	key := func(s string) string { k := fold.String(s); return string(k[:]) }
	tests := []struct {
		name    string
		src     string
		n       int
		keys    []string // the entries whose keys the data holds, in any order
		wantErr bool
	}{
		{"one entry", "password 20785\n", 1, []string{"password"}, false},
		{"entries folding alike are one key", "password 20785\npassw0rd 500\nPassword 3\n", 3, []string{"password"}, false},
		{"entries too short to look up are left out", "ab 99\nabc 98\n", 2, []string{"abc"}, false},
		{"no final newline", "dragon 12\nmonkey 11", 2, []string{"dragon", "monkey"}, false},
		{"a line without a count", "password\n", 0, nil, true},
		{"a line with a space in the password", "pass word 12\n", 0, nil, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			data, n, err := build([]byte(tc.src))
			if (err != nil) != tc.wantErr {
				t.Fatalf("build(%q) error = %v, want an error: %v", tc.src, err, tc.wantErr)
			}
			if err != nil {
				return
			}
			if n != tc.n {
				t.Errorf("build(%q) read %d entries, want %d", tc.src, n, tc.n)
			}
			if len(data) != len(tc.keys)*fold.KeyLen {
				t.Fatalf("build(%q) made %d bytes, want %d keys", tc.src, len(data), len(tc.keys))
			}
			for _, e := range tc.keys {
				if !bytes.Contains(data, []byte(key(e))) {
					t.Errorf("build(%q) has no key for %q", tc.src, e)
				}
			}
			for i := fold.KeyLen; i < len(data); i += fold.KeyLen {
				if bytes.Compare(data[i-fold.KeyLen:i], data[i:i+fold.KeyLen]) >= 0 {
					t.Errorf("build(%q): keys not sorted and distinct", tc.src)
				}
			}
		})
	}
}
