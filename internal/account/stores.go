package account

import (
	"context"
	"time"

	"github.com/privacyportal/portal/internal/privacy"
)

// The stores below are what each service reads and writes, and nothing more. Reads are by
// item, or by the sort-key range a service needs; only the account page (ProfileStore.Record)
// reads the whole partition, because it shows everything held. Not-found is a privacy.NotFound
// error; a conditional write that finds its item used, changed or gone is privacy.ErrStale.

// Owners finds who an address belongs to, by its look-up key.
type Owners interface {
	AddressOwners(ctx context.Context, emailKey string) (privacy.AddressOwners, error)
}

// RegistrationStore is what registration needs.
type RegistrationStore interface {
	Owners
	// Register writes a new registration, with its username and the address's pending
	// registration, replacing r.Replaces: privacy.ErrUsernameTaken when the username is
	// taken, privacy.ErrChanged when the address's pending registration is not r.Replaces
	// any more (or it was verified meanwhile).
	Register(ctx context.Context, r privacy.Registration) error
}

// VerificationStore is what proving an address needs.
type VerificationStore interface {
	Owners
	// Pending reads a registration for verification (privacy.NotFound if there is none).
	Pending(ctx context.Context, id privacy.SubjectID) (privacy.Pending, error)
	// FailVerification counts a wrong code and returns the attempts so far (ErrStale once
	// the verification is dead or gone).
	FailVerification(ctx context.Context, id privacy.SubjectID, kind privacy.VerificationKind) (int, error)
	// VerifyEmail consumes v, makes the address the account's (privacy.ErrEmailTaken if
	// another account proved it first) and marks it verified with the status derived from
	// guardianConfirmed as read (privacy.ErrChanged if that changed since).
	VerifyEmail(ctx context.Context, id privacy.SubjectID, v privacy.Verification, guardianConfirmed bool, status privacy.AccountStatus, audit privacy.AuditEntry) error
}

// SessionStore is what signing in and out needs.
type SessionStore interface {
	Owners
	SubjectByUsername(ctx context.Context, usernameKey string) (privacy.SubjectID, error)
	Login(ctx context.Context, id privacy.SubjectID) (privacy.Login, error)
	// Rehash replaces a password hash with a stronger one of the same password, if it is
	// still old (ErrStale otherwise).
	Rehash(ctx context.Context, id privacy.SubjectID, old, new string) error
	PutSession(ctx context.Context, id privacy.SubjectID, s privacy.Session) error
	// Session returns a live session, or privacy.ErrStale when it is gone or expired.
	Session(ctx context.Context, id privacy.SubjectID, tokenHash string, now time.Time) (privacy.Session, error)
	DeleteSession(ctx context.Context, id privacy.SubjectID, tokenHash string) error
	// DeleteSessions revokes every session of a subject but the one whose hash is keep.
	DeleteSessions(ctx context.Context, id privacy.SubjectID, keep string) error
}

// ProfileStore is what the account page needs: showing everything, and corrections.
type ProfileStore interface {
	Record(ctx context.Context, id privacy.SubjectID, now time.Time) (privacy.Record, error)
	Editable(ctx context.Context, id privacy.SubjectID) (privacy.Editable, error)
	Account(ctx context.Context, id privacy.SubjectID) (privacy.Account, error)
	// Update applies a change with its audit entry at once (privacy.ErrUsernameTaken, or
	// privacy.ErrStale when the account changed since it was read).
	Update(ctx context.Context, id privacy.SubjectID, c privacy.AccountChange) error
	Verification(ctx context.Context, id privacy.SubjectID, kind privacy.VerificationKind) (privacy.Verification, error)
	FailVerification(ctx context.Context, id privacy.SubjectID, kind privacy.VerificationKind) (int, error)
	// ConfirmNewEmail consumes v and moves the account and its look-up to the new address
	// (privacy.ErrEmailTaken when it has an account by now).
	ConfirmNewEmail(ctx context.Context, id privacy.SubjectID, v privacy.Verification, oldEmailKey string, audit privacy.AuditEntry) error
}

// PasswordStore is what changing and resetting a password needs.
type PasswordStore interface {
	Owners
	Login(ctx context.Context, id privacy.SubjectID) (privacy.Login, error)
	Verification(ctx context.Context, id privacy.SubjectID, kind privacy.VerificationKind) (privacy.Verification, error)
	FailVerification(ctx context.Context, id privacy.SubjectID, kind privacy.VerificationKind) (int, error)
	// SetPassword replaces the password hash, consuming consume if it is set (ErrStale when
	// that is used or gone), with its audit entry.
	SetPassword(ctx context.Context, id privacy.SubjectID, hash string, consume *privacy.Verification, audit privacy.AuditEntry) error
	DeleteSessions(ctx context.Context, id privacy.SubjectID, keep string) error
}

// GuardianStore is what a guardian's decision needs.
type GuardianStore interface {
	Account(ctx context.Context, id privacy.SubjectID) (privacy.Account, error)
	Guardian(ctx context.Context, id privacy.SubjectID) (privacy.GuardianRequest, error)
	// ConfirmGuardian consumes the request's token (ErrStale if used or wrong), records the
	// decision and the guardian's consent, with the status derived from emailVerified as read
	// (ErrChanged if that changed since).
	ConfirmGuardian(ctx context.Context, id privacy.SubjectID, tokenHash string, emailVerified bool, status privacy.AccountStatus, consent privacy.ConsentEntry, audit privacy.AuditEntry) error
	// RefuseGuardian consumes the request's token (ErrStale if used or wrong), records the
	// refusal and claims the account for erasure: nothing can use or activate it any more.
	RefuseGuardian(ctx context.Context, id privacy.SubjectID, tokenHash string) error
}

// MailStore is what the mail worker needs.
type MailStore interface {
	Owners
	Account(ctx context.Context, id privacy.SubjectID) (privacy.Account, error)
	PutVerification(ctx context.Context, id privacy.SubjectID, v privacy.Verification) error
	Guardian(ctx context.Context, id privacy.SubjectID) (privacy.GuardianRequest, error)
	// SetGuardianToken arms a child's guardian request with a link's token, if it is not
	// decided yet.
	SetGuardianToken(ctx context.Context, id privacy.SubjectID, tokenHash string, expires time.Time) error
	// DeleteGuardian removes a decided guardian request (the guardian's address with it).
	DeleteGuardian(ctx context.Context, id privacy.SubjectID) error
	// Retire turns a registration of an address another account has proved into nothing but
	// a reservation of its username until a time, so the username answers as it would have.
	Retire(ctx context.Context, id privacy.SubjectID, until time.Time) error
	DeleteSubject(ctx context.Context, id privacy.SubjectID) (int, error)
}

// SweepStore is what the sweep of accounts that never became active needs.
type SweepStore interface {
	DueForSweep(ctx context.Context, now time.Time, limit int32) ([]privacy.SubjectID, error)
	Account(ctx context.Context, id privacy.SubjectID) (privacy.Account, error)
	// MarkErasing claims an account that is not active for deletion (ErrStale if it is
	// active or gone by now); once claimed, nothing can activate it.
	MarkErasing(ctx context.Context, id privacy.SubjectID) error
	DeleteSubject(ctx context.Context, id privacy.SubjectID) (int, error)
}
