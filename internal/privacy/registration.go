package privacy

import (
	"errors"
	"time"
)

// Errors a store reports for registrations and changes that collide with another account.
var (
	ErrEmailTaken    = errors.New("e-mail address already has an account")
	ErrUsernameTaken = errors.New("username already taken")
	// ErrStale means a conditional change found the item changed or gone (a used code, a
	// revoked session): the caller treats the request as invalid.
	ErrStale = errors.New("item changed or gone")
	// ErrChanged means the account changed between a read and a conditional write that
	// depended on it: the caller reads again and retries.
	ErrChanged = errors.New("account changed meanwhile")
)

// VerificationKind says what a code verifies.
type VerificationKind string

// Verification kinds.
const (
	VerifyEmail    VerificationKind = "email"    // the address an account registered with
	VerifyNewEmail VerificationKind = "newemail" // a new address, before it replaces the old
)

// MaxCodeAttempts is how many wrong codes kill a verification.
const MaxCodeAttempts = 5

// Verification is a pending e-mail verification: a code and a link token, stored as keyed
// hashes, single use, expiring.
type Verification struct {
	Kind        VerificationKind
	CodeHash    string
	TokenHash   string
	Attempts    int
	ExpiresAt   time.Time
	NewEmail    string // for VerifyNewEmail
	NewEmailKey string
}

// Usable reports whether the verification can still be tried at now.
func (v Verification) Usable(now time.Time) bool {
	return v.CodeHash != "" && v.Attempts < MaxCodeAttempts && now.Before(v.ExpiresAt)
}

// GuardianRequest is a pending request for a guardian's consent (promise P24).
type GuardianRequest struct {
	Email     string
	TokenHash string
	ExpiresAt time.Time
}

// Registration is a new account as it is written: everything in one transaction.
type Registration struct {
	// Account carries the keys of the look-up items (keyed hashes of the canonical e-mail
	// address and of the lower-cased username).
	Account      Account
	PasswordHash string
	Verification Verification
	Guardian     *GuardianRequest
	Optional     map[string]OptionalValue
	Consents     []ConsentEntry
	Audit        AuditEntry
	// SweepAt is when the account is deleted if it is not active by then.
	SweepAt time.Time
}

// DeriveStatus is an account's status from its facts.
func DeriveStatus(age AgeGroup, emailVerified, guardianConfirmed bool) AccountStatus {
	switch {
	case !emailVerified:
		return StatusUnverified
	case age == AgeChild && !guardianConfirmed:
		return StatusPending
	}
	return StatusActive
}

// AccountChange is one update of an account, written atomically with its audit entry.
type AccountChange struct {
	Name, Locale, Username, PendingEmail *string
	UsernameKey, OldUsernameKey          string
	SetOptional                          map[string]OptionalValue
	DeleteOptional                       []string
	Consents                             []ConsentEntry
	Verification                         *Verification
	Audit                                AuditEntry
}
