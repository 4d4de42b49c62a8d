package privacy

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"math/big"
)

// NewCode returns a random 6-digit verification code.
func NewCode() string {
	n, err := rand.Int(rand.Reader, big.NewInt(1_000_000))
	if err != nil {
		panic(err) // crypto/rand does not fail on supported platforms
	}
	return fmt.Sprintf("%06d", n.Int64())
}

// NewToken returns a random 256-bit token, URL-safe.
func NewToken() string {
	var b [32]byte
	_, _ = rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// Keyed hashes secrets and look-up keys with a server-side key, so a copy of the table alone
// reveals neither codes (6 digits are quickly brute-forced unkeyed) nor e-mail addresses.
type Keyed struct{ key []byte }

// NewKeyed returns a Keyed with the given key (at least 32 bytes).
func NewKeyed(key []byte) (*Keyed, error) {
	if len(key) < 32 {
		return nil, fmt.Errorf("hash key must be at least 32 bytes, got %d", len(key))
	}
	return &Keyed{key: append([]byte(nil), key...)}, nil
}

// Hash returns the hex HMAC-SHA256 of s in a domain (so equal inputs in two domains differ).
func (k *Keyed) Hash(domain, s string) string {
	m := hmac.New(sha256.New, k.key)
	m.Write([]byte(domain))
	m.Write([]byte{0})
	m.Write([]byte(s))
	return hex.EncodeToString(m.Sum(nil))
}

// Equal compares two hashes in constant time.
func Equal(a, b string) bool { return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1 }
