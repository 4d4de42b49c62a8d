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
	VerifyReset    VerificationKind = "reset"    // a password reset, mailed to the account's address
	VerifyRequest  VerificationKind = "request"  // a data-subject request, mailed to the address it names
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

// GuardianRequest is a request for a guardian's consent (promise P24): the guardian's address,
// and, once it is mailed, its link's token (hashed) and expiry. After the guardian decides, it
// holds the decision until the mail that confirms it is sent, and then it is deleted.
type GuardianRequest struct {
	Email     string
	TokenHash string
	ExpiresAt time.Time
	Decision  GuardianDecision
}

// GuardianDecision is a guardian's answer.
type GuardianDecision string

// Guardians' answers; "" while none is given.
const (
	GuardianConfirmed GuardianDecision = "confirmed"
	GuardianRefused   GuardianDecision = "refused"
)

// AddressOwners says who an address belongs to, by its look-up key: the account that proved
// it (Owner), and the registration waiting for it to be proved (Pending), either or both "".
// An address belongs to an account only once it is proved: until then any number of people
// may register it, each registration replacing the one before, and only the code mailed to
// the address, entered with the password of the registration it was made for, proves it.
type AddressOwners struct {
	Owner   SubjectID
	Pending SubjectID
}

// Pending is what proving a registration's address needs: the account, its password hash and
// its verification (nil when none was mailed yet, or it was used).
type Pending struct {
	Account      Account
	PasswordHash string
	Verification *Verification
}

// Registration is a new account as it is written: everything in one transaction.
type Registration struct {
	// Account carries the keys of the look-up items (keyed hashes of the canonical e-mail
	// address and of the lower-cased username).
	Account      Account
	PasswordHash string
	// Guardian holds the guardian's address; the request is mailed, with its token, only once
	// the child has proved their own address.
	Guardian *GuardianRequest
	Optional map[string]OptionalValue
	Consents []ConsentEntry
	Audit    AuditEntry
	// SweepAt is when the account is deleted if it is not active by then.
	SweepAt time.Time
	// Replaces is the pending registration of the same address this one replaces, if any, as
	// read before: the write fails with ErrChanged if the address has another by now.
	Replaces SubjectID
	// Decisions are the automated decisions the registration made about the person (P22).
	Decisions []Decision
}

// The age rule (P24), as an automated decision (P22): under 14, the account waits for a
// guardian.
const (
	DecisionGuardianRequired = "account.guardian_required"
	GuardianLogicVersion     = "age-1"
)

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
