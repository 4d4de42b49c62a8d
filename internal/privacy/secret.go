package privacy

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"math/big"
	"strings"
	"sync"
	"sync/atomic"
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

// HashDomain separates the keyed hashes of different kinds of input, so that equal inputs of
// two kinds (an address and a code, say) never hash alike.
type HashDomain string

// Hash domains: each kind of secret or look-up key is hashed in its own.
const (
	DomainEmail       HashDomain = "email"       // look-up key of a canonical e-mail address
	DomainUsername    HashDomain = "username"    // look-up key of a lower-cased username
	DomainCode        HashDomain = "code"        // a mailed 6-digit code
	DomainToken       HashDomain = "token"       // a mailed link's token
	DomainSession     HashDomain = "session"     // a session cookie's token
	DomainRate        HashDomain = "rate"        // a rate-limit counter's key
	DomainUnsubscribe HashDomain = "unsubscribe" // the signature of a marketing mail's unsubscribe link
	DomainPseudonym   HashDomain = "pseudonym"   // a person's pseudonym for one recipient of a transfer
	DomainTombstone   HashDomain = "tombstone"   // an erased subject's ID, as its tombstone keeps it
)

// Keyed hashes secrets and look-up keys with a server-side key, so a copy of the table alone
// reveals neither codes (6 digits are quickly brute-forced unkeyed) nor e-mail addresses.
type Keyed struct {
	key  atomic.Pointer[[]byte]
	mu   sync.Mutex
	load func(context.Context) ([]byte, error)
}

// NewKeyed returns a Keyed with the given key (at least 32 bytes).
func NewKeyed(key []byte) (*Keyed, error) {
	if err := checkKey(key); err != nil {
		return nil, err
	}
	k := &Keyed{}
	b := append([]byte(nil), key...)
	k.key.Store(&b)
	return k, nil
}

// NewLazyKeyed returns a Keyed whose key load fetches at the first Ready, not at init: a
// function's cold start makes no call for it, and a failure is one request's error, tried
// again at the next.
func NewLazyKeyed(load func(context.Context) ([]byte, error)) *Keyed {
	return &Keyed{load: load}
}

func checkKey(key []byte) error {
	if len(key) < 32 {
		return fmt.Errorf("hash key must be at least 32 bytes, got %d", len(key))
	}
	return nil
}

// Ready makes sure the key is loaded. A function calls it before it serves anything.
func (k *Keyed) Ready(ctx context.Context) error {
	if k.key.Load() != nil {
		return nil
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.key.Load() != nil {
		return nil
	}
	if k.load == nil {
		return errors.New("hash key: nothing to load it from")
	}
	key, err := k.load(ctx)
	if err != nil {
		return fmt.Errorf("load hash key: %w", err)
	}
	if err := checkKey(key); err != nil {
		return err
	}
	k.key.Store(&key)
	return nil
}

// Hash returns the hex HMAC-SHA256 of s in a domain. It panics before Ready: hashing with no
// key would be a bug, never a way to go on.
func (k *Keyed) Hash(domain HashDomain, s string) string {
	key := k.key.Load()
	if key == nil {
		panic("privacy: Keyed.Hash before Ready")
	}
	m := hmac.New(sha256.New, *key)
	m.Write([]byte(domain))
	m.Write([]byte{0})
	m.Write([]byte(s))
	return hex.EncodeToString(m.Sum(nil))
}

// EmailKey is the look-up key of an e-mail address: two spellings of one address (case,
// surrounding space) have one key.
func (k *Keyed) EmailKey(email string) string { return k.Hash(DomainEmail, CanonicalEmail(email)) }

// UsernameKey is the look-up key of a username, which is unique regardless of case.
func (k *Keyed) UsernameKey(username string) string {
	return k.Hash(DomainUsername, strings.ToLower(username))
}

// SecretHash binds a mailed code or token to its subject and to what it is for (a
// verification kind, "guardian"...), so a secret issued for one thing proves nothing else.
func (k *Keyed) SecretHash(domain HashDomain, id SubjectID, purpose, secret string) string {
	return k.Hash(domain, string(id)+"|"+purpose+"|"+secret)
}

// SessionHash is how a session token is stored.
func (k *Keyed) SessionHash(token string) string { return k.Hash(DomainSession, token) }

// Equal compares two hashes in constant time.
func Equal(a, b string) bool { return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1 }
