// Package password hashes passwords with argon2id and holds the length limits of the password
// rule (promise P13). The guessability half of the rule is in password/strength.
package password

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"strings"
	"sync"

	"golang.org/x/crypto/argon2"
)

// Length limits of the password rule, in characters (Unicode code points, as ASVS 5.0 counts
// them: 6.2.9 asks that 64 characters be accepted, and 64 Chinese characters are 192 bytes).
// MinLen is ASVS 6.2.1's 8 and then some; MaxLen leaves room for long passphrases.
const (
	MinLen = 10
	MaxLen = 128
)

// MaxBytes bounds the bytes of any password the rule accepts (MaxLen characters of at most 4
// bytes each in UTF-8), and so the input of Hash and Check. A caller can refuse a longer
// password with len() before any other work, as sign-in does: it cannot be anyone's password.
const MaxBytes = 4 * MaxLen

// Argon2Params are the argon2id cost parameters.
type Argon2Params struct {
	Memory  uint32 // KiB
	Time    uint32 // passes
	Threads uint8  // lanes
}

// DefaultArgon2 is the cost new password hashes are made with: 32 MiB and 2 passes, 1.7 times
// the memory-passes of OWASP's minimum for argon2id (19 MiB and 2 passes, the former default),
// and more memory, which is what makes guessing on GPUs dear. BenchmarkCheck on a 2-core Xeon,
// with go test -run '^$' -bench Check -benchtime 40x -count 3 ./internal/password, gave
// medians of 26 ms for 19 MiB/t=2, 37 ms for 46 MiB/t=1, about 44 ms for 32 MiB/t=2, 64 ms
// for 32 MiB/t=3, 100 ms for 64 MiB/t=2 and 145 ms for 64 MiB/t=3 (the same with -cpu 1).
// 32 MiB/t=3 put a sign-in through the local cloud at 79-96 ms p50 on a busy machine, too
// close to the 100 ms a sign-in must stay under; t=2 leaves room (make bench reports the
// figure). One lane: a Lambda of 1024 MB has about half a core, so more lanes would only
// queue. Hashes made with older parameters still verify; NeedsRehash tells sign-in to
// upgrade them.
var DefaultArgon2 = Argon2Params{Memory: 32 * 1024, Time: 2, Threads: 1}

// Salt and key lengths of Hash, in bytes: RFC 9106's recommended 128-bit salt and 256-bit tag.
const (
	saltLen = 16
	keyLen  = 32
)

// Hash returns a PHC-format argon2id hash of password with a random salt
// ($argon2id$v=19$m=...,t=...,p=...$salt$hash).
func Hash(password string, p Argon2Params) string {
	salt := make([]byte, saltLen)
	_, _ = rand.Read(salt)
	sum := argon2.IDKey([]byte(password), salt, p.Time, p.Memory, p.Threads, keyLen)
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, p.Memory, p.Time, p.Threads,
		base64.RawStdEncoding.EncodeToString(salt), base64.RawStdEncoding.EncodeToString(sum))
}

// Check reports whether password matches encoded, a hash made by Hash. The cost parameters
// are read from encoded, so hashes made with older parameters keep working (see NeedsRehash).
// A password longer than MaxBytes matches nothing: the rule never accepted one.
func Check(password, encoded string) bool {
	p, salt, want, ok := parse(encoded)
	if !ok || len(password) > MaxBytes {
		return false
	}
	got := argon2.IDKey([]byte(password), salt, p.Time, p.Memory, p.Threads, uint32(len(want)))
	return subtle.ConstantTimeCompare(got, want) == 1
}

// NeedsRehash reports whether encoded was made with a lower cost than DefaultArgon2 (less
// memory or fewer passes), with a shorter salt or key than Hash makes, or is not a hash Check
// can read. Sign-in calls it after a successful Check and then stores Hash of the password it
// has in hand, so hashes move to the current cost as people sign in (ASVS 11.4.2: parameters
// that follow current guidance). Lanes are not compared: they change how the work is spread,
// not how much memory and time an attacker needs per guess.
func NeedsRehash(encoded string) bool {
	p, salt, want, ok := parse(encoded)
	return !ok || p.Memory < DefaultArgon2.Memory || p.Time < DefaultArgon2.Time ||
		len(salt) < saltLen || len(want) < keyLen
}

// parse splits a PHC-format argon2id hash ($argon2id$v=19$m=...,t=...,p=...$salt$hash).
func parse(encoded string) (p Argon2Params, salt, hash []byte, ok bool) {
	parts := strings.Split(encoded, "$")
	if len(parts) != 6 || parts[0] != "" || parts[1] != "argon2id" {
		return p, nil, nil, false
	}
	var v int
	if _, err := fmt.Sscanf(parts[2], "v=%d", &v); err != nil || v != argon2.Version {
		return p, nil, nil, false
	}
	// argon2.IDKey panics on no passes or no lanes, so such a hash is malformed here.
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &p.Memory, &p.Time, &p.Threads); err != nil || p.Time < 1 || p.Threads < 1 {
		return p, nil, nil, false
	}
	salt, err := base64.RawStdEncoding.DecodeString(parts[4])
	if err != nil {
		return p, nil, nil, false
	}
	hash, err = base64.RawStdEncoding.DecodeString(parts[5])
	if err != nil || len(hash) == 0 {
		return p, nil, nil, false
	}
	return p, salt, hash, true
}

// DummyHash is checked against when a login names no account, so a sign-in for an unknown
// account costs as much time as one for a real account (no enumeration by timing). It is made
// on first use, not at init, to keep cold starts of functions that never sign anyone in fast.
var DummyHash = sync.OnceValue(func() string { return Hash("no account has this password", DefaultArgon2) })
