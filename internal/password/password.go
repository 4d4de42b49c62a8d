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

// Length limits of the password rule: long enough, and not too long to hash.
const (
	MinLen = 10
	MaxLen = 128
)

// Argon2Params are the argon2id cost parameters. The defaults are OWASP's minimum
// recommendation for argon2id (19 MiB, 2 passes, 1 lane).
type Argon2Params struct {
	Memory  uint32 // KiB
	Time    uint32
	Threads uint8
}

// DefaultArgon2 is the cost new password hashes are made with.
var DefaultArgon2 = Argon2Params{Memory: 19 * 1024, Time: 2, Threads: 1}

// Hash returns a PHC-format argon2id hash of password with a random salt
// ($argon2id$v=19$m=...,t=...,p=...$salt$hash).
func Hash(password string, p Argon2Params) string {
	salt := make([]byte, 16)
	_, _ = rand.Read(salt)
	sum := argon2.IDKey([]byte(password), salt, p.Time, p.Memory, p.Threads, 32)
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, p.Memory, p.Time, p.Threads,
		base64.RawStdEncoding.EncodeToString(salt), base64.RawStdEncoding.EncodeToString(sum))
}

// Check reports whether password matches a hash made by Hash.
func Check(password, encoded string) bool {
	parts := strings.Split(encoded, "$")
	if len(parts) != 6 || parts[1] != "argon2id" {
		return false
	}
	var v int
	var p Argon2Params
	if _, err := fmt.Sscanf(parts[2], "v=%d", &v); err != nil || v != argon2.Version {
		return false
	}
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &p.Memory, &p.Time, &p.Threads); err != nil {
		return false
	}
	salt, err := base64.RawStdEncoding.DecodeString(parts[4])
	if err != nil {
		return false
	}
	want, err := base64.RawStdEncoding.DecodeString(parts[5])
	if err != nil || len(want) == 0 {
		return false
	}
	got := argon2.IDKey([]byte(password), salt, p.Time, p.Memory, p.Threads, uint32(len(want)))
	return subtle.ConstantTimeCompare(got, want) == 1
}

// DummyHash is checked against when a login names no account, so a sign-in for an unknown
// account costs as much time as one for a real account (no enumeration by timing). It is made
// on first use, not at init, to keep cold starts of functions that never sign anyone in fast.
var DummyHash = sync.OnceValue(func() string { return Hash("no account has this password", DefaultArgon2) })
