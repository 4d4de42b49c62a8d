// Package keyring gives the functions the portal's hash key (the key of every keyed hash:
// look-up keys of addresses and usernames, codes, tokens, sessions, rate-limit keys) without
// it ever being readable from a function's configuration or the table: KMS generates it as a
// data key, the table keeps only its encrypted form, and a function decrypts it with KMS at
// its first request. Whoever can read the table, or the functions' settings
// (lambda:GetFunctionConfiguration), learns nothing of it; only a role allowed kms:Decrypt on
// the portal's key, with the key's encryption context, can use it.
package keyring

import (
	"context"
	"errors"
	"fmt"

	"github.com/privacyportal/portal/internal/privacy"
)

// HashKeyName names the hash key's stored ciphertext.
const HashKeyName = "hash"

// DataKeys is a key-management service: it makes data keys and decrypts them (KMS).
type DataKeys interface {
	// Generate returns a new 256-bit data key, in plain and encrypted.
	Generate(ctx context.Context, name string) (plain, ciphertext []byte, err error)
	Decrypt(ctx context.Context, name string, ciphertext []byte) ([]byte, error)
}

// Ciphertexts is where encrypted data keys are kept (the table).
type Ciphertexts interface {
	// DataKey returns a stored ciphertext (privacy.NotFound when there is none).
	DataKey(ctx context.Context, name string) ([]byte, error)
	// PutDataKey stores a ciphertext unless one is stored already (privacy.ErrStale then).
	PutDataKey(ctx context.Context, name string, ciphertext []byte) error
}

// Load returns the plain data key called name: the stored one, decrypted, or, the first time
// any function asks, a new one, stored encrypted. When two functions make one at once, the
// first stored wins and the other uses it, so every function hashes with the same key.
func Load(ctx context.Context, keys DataKeys, store Ciphertexts, name string) ([]byte, error) {
	for range 2 {
		ct, err := store.DataKey(ctx, name)
		if err == nil {
			plain, err := keys.Decrypt(ctx, name, ct)
			if err != nil {
				return nil, fmt.Errorf("decrypt %s key: %w", name, err)
			}
			return plain, nil
		}
		if privacy.ErrorCode(err) != privacy.NotFound {
			return nil, fmt.Errorf("read %s key: %w", name, err)
		}
		plain, ct, err := keys.Generate(ctx, name)
		if err != nil {
			return nil, fmt.Errorf("generate %s key: %w", name, err)
		}
		switch err := store.PutDataKey(ctx, name, ct); {
		case err == nil:
			return plain, nil
		case !errors.Is(err, privacy.ErrStale):
			return nil, fmt.Errorf("store %s key: %w", name, err)
		}
		// Another function stored one first: read and use that one.
	}
	return nil, fmt.Errorf("%s key: stored and gone again", name)
}
