package password_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/privacyportal/portal/internal/password"
)

func TestP13_PasswordHashIsSaltedArgon2id(t *testing.T) {
	p := password.Argon2Params{Memory: 1024, Time: 1, Threads: 1} // cheap for the test
	a := password.Hash("correct horse battery staple", p)
	b := password.Hash("correct horse battery staple", p)
	if !strings.HasPrefix(a, "$argon2id$v=19$m=1024,t=1,p=1$") {
		t.Errorf("hash %q is not PHC argon2id", a)
	}
	if a == b {
		t.Error("two hashes of one password are equal: no salt")
	}
	if strings.Contains(a, "horse") {
		t.Error("the hash contains the password")
	}
	if !password.Check("correct horse battery staple", a) {
		t.Error("the right password does not match")
	}
	for _, wrong := range []string{"correct horse battery stapl", "", "Correct horse battery staple"} {
		if password.Check(wrong, a) {
			t.Errorf("wrong password %q matches", wrong)
		}
	}
	for _, bad := range []string{"", "$argon2id$", "$bcrypt$v=19$m=1,t=1,p=1$AA$AA", a[:len(a)-5] + "!!!!!",
		"x" + a, "$argon2id$v=19$m=1024,t=0,p=1$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAA",
		"$argon2id$v=19$m=1024,t=1,p=0$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAA"} {
		if password.Check("x", bad) {
			t.Errorf("malformed hash %q matched", bad)
		}
	}
}

// Hashes made with other parameters (older defaults, or a cheaper setting) still verify, as
// the parameters are read from the hash: changing DefaultArgon2 locks nobody out.
func TestP13_CheckAcceptsHashesOfOtherParameters(t *testing.T) {
	const pw = "violet kettle harbor lantern"
	tests := []struct {
		name string
		p    password.Argon2Params
	}{
		{"OWASP minimum, the former default", password.Argon2Params{Memory: 19 * 1024, Time: 2, Threads: 1}},
		{"cheap", password.Argon2Params{Memory: 1024, Time: 1, Threads: 1}},
		{"two lanes", password.Argon2Params{Memory: 2048, Time: 1, Threads: 2}},
		{"the default", password.DefaultArgon2},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := password.Hash(pw, tc.p)
			if !password.Check(pw, h) {
				t.Errorf("Check(%q) = false for a hash made with %+v", h, tc.p)
			}
			if password.Check(pw+" ", h) {
				t.Errorf("a wrong password matches a hash made with %+v", tc.p)
			}
		})
	}
}

func TestP13_NeedsRehash(t *testing.T) {
	d := password.DefaultArgon2
	// phc builds a hash string without the cost of hashing: NeedsRehash reads, never computes.
	phc := func(m, tm uint32, p uint8, salt, key string) string {
		return fmt.Sprintf("$argon2id$v=19$m=%d,t=%d,p=%d$%s$%s", m, tm, p, salt, key)
	}
	salt16, key32 := "AAAAAAAAAAAAAAAAAAAAAA", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
	tests := []struct {
		name    string
		encoded string
		want    bool
	}{
		{"the default", phc(d.Memory, d.Time, d.Threads, salt16, key32), false},
		{"more memory", phc(d.Memory*2, d.Time, d.Threads, salt16, key32), false},
		{"more passes", phc(d.Memory, d.Time+1, d.Threads, salt16, key32), false},
		{"other lanes", phc(d.Memory, d.Time, d.Threads+1, salt16, key32), false},
		{"less memory", phc(d.Memory-1024, d.Time, d.Threads, salt16, key32), true},
		{"fewer passes", phc(d.Memory, d.Time-1, d.Threads, salt16, key32), true},
		{"OWASP minimum, the former default", phc(19*1024, 2, 1, salt16, key32), true},
		{"short salt", phc(d.Memory, d.Time, d.Threads, "AAAAAAAAAAA", key32), true},
		{"short key", phc(d.Memory, d.Time, d.Threads, salt16, "AAAAAAAAAAAAAAAAAAAAAA"), true},
		{"malformed", "$argon2id$v=19$m=oops", true},
		{"not argon2id", "$2y$10$abcdefghijklmnopqrstuu", true},
	}
	if d.Time < 2 {
		t.Fatalf("DefaultArgon2 %+v: the cases below need at least 2 passes", d)
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := password.NeedsRehash(tc.encoded); got != tc.want {
				t.Errorf("NeedsRehash(%q) = %v, want %v", tc.encoded, got, tc.want)
			}
		})
	}
	if password.NeedsRehash(password.Hash("x", d)) {
		t.Error("a fresh hash with DefaultArgon2 needs a rehash")
	}
}

// DefaultArgon2 stays at or above OWASP's minimum for argon2id (19 MiB and 2 passes, or the
// equivalent 46 MiB and 1 pass).
func TestP13_DefaultArgon2IsAtLeastOWASPMinimum(t *testing.T) {
	d := password.DefaultArgon2
	if !(d.Memory >= 19*1024 && d.Time >= 2 || d.Memory >= 46*1024 && d.Time >= 1) || d.Threads < 1 {
		t.Errorf("DefaultArgon2 = %+v, below OWASP's minimum", d)
	}
}

func TestP13_CheckRefusesPasswordsOverMaxBytes(t *testing.T) {
	p := password.Argon2Params{Memory: 1024, Time: 1, Threads: 1}
	long := strings.Repeat("长", password.MaxLen) // MaxLen characters, 3 bytes each
	tests := []struct {
		name string
		pw   string
		want bool
	}{
		{"MaxLen characters of three bytes", long, true},
		{"MaxBytes bytes", strings.Repeat("x", password.MaxBytes), true},
		{"one byte over MaxBytes", strings.Repeat("x", password.MaxBytes+1), false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := password.Check(tc.pw, password.Hash(tc.pw, p)); got != tc.want {
				t.Errorf("Check of a %d-byte password = %v, want %v", len(tc.pw), got, tc.want)
			}
		})
	}
}

// argon2Candidates are the parameters DefaultArgon2 was chosen from: OWASP's minimum (the
// former default) and stronger settings, all with one lane as the Lambda has about one core.
var argon2Candidates = []password.Argon2Params{
	{Memory: 19 * 1024, Time: 2, Threads: 1},
	{Memory: 46 * 1024, Time: 1, Threads: 1},
	{Memory: 32 * 1024, Time: 2, Threads: 1},
	{Memory: 32 * 1024, Time: 3, Threads: 1},
	{Memory: 64 * 1024, Time: 2, Threads: 1},
	{Memory: 64 * 1024, Time: 3, Threads: 1},
}

// BenchmarkCheck times a sign-in's password check for each candidate and reports the median
// and 90th percentile besides the mean (go test -run '^$' -bench Check -benchtime 40x
// ./internal/password): DefaultArgon2 is the strongest whose median keeps a sign-in, with its
// few DynamoDB calls, under 100 ms.
func BenchmarkCheck(b *testing.B) {
	const pw = "correct horse battery staple"
	for _, p := range argon2Candidates {
		b.Run(fmt.Sprintf("m=%dMiB,t=%d,p=%d", p.Memory/1024, p.Time, p.Threads), func(b *testing.B) {
			h := password.Hash(pw, p)
			times := make([]time.Duration, 0, b.N)
			for b.Loop() {
				t0 := time.Now()
				if !password.Check(pw, h) {
					b.Fatal("no match")
				}
				times = append(times, time.Since(t0))
			}
			slices.Sort(times)
			b.ReportMetric(float64(times[len(times)/2].Microseconds())/1000, "p50-ms")
			b.ReportMetric(float64(times[len(times)*9/10].Microseconds())/1000, "p90-ms")
		})
	}
}

func BenchmarkHashDefault(b *testing.B) {
	for b.Loop() {
		password.Hash("correct horse battery staple", password.DefaultArgon2)
	}
}
