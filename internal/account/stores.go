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

// RegistrationStore is what registration needs.
type RegistrationStore interface {
	// Register writes a new account and its look-ups at once: privacy.ErrUsernameTaken when
	// the username is taken (reported first, whatever the address), privacy.ErrEmailTaken
	// when the address has an account.
	Register(ctx context.Context, r privacy.Registration) error
	// ReserveUsername holds a free username until a time without giving it to anyone.
	ReserveUsername(ctx context.Context, usernameKey string, until, now time.Time) error
	SubjectByEmail(ctx context.Context, emailKey string) (privacy.SubjectID, error)
	Account(ctx context.Context, id privacy.SubjectID) (privacy.Account, error)
}

// VerificationStore is what verifying an address and re-sending codes need.
type VerificationStore interface {
	SubjectByEmail(ctx context.Context, emailKey string) (privacy.SubjectID, error)
	Account(ctx context.Context, id privacy.SubjectID) (privacy.Account, error)
	Verification(ctx context.Context, id privacy.SubjectID, kind privacy.VerificationKind) (privacy.Verification, error)
	// FailVerification counts a wrong code and returns the attempts so far (ErrStale once
	// the verification is dead or gone).
	FailVerification(ctx context.Context, id privacy.SubjectID, kind privacy.VerificationKind) (int, error)
	// PutVerification replaces a verification: a new code, whose attempts start again.
	PutVerification(ctx context.Context, id privacy.SubjectID, v privacy.Verification) error
	// VerifyEmail consumes v and marks the address verified with the status derived from
	// guardianConfirmed as read (privacy.ErrChanged if that changed since).
	VerifyEmail(ctx context.Context, id privacy.SubjectID, v privacy.Verification, guardianConfirmed bool, status privacy.AccountStatus, audit privacy.AuditEntry) error
}

// SessionStore is what signing in and out needs.
type SessionStore interface {
	SubjectByEmail(ctx context.Context, emailKey string) (privacy.SubjectID, error)
	SubjectByUsername(ctx context.Context, usernameKey string) (privacy.SubjectID, error)
	Login(ctx context.Context, id privacy.SubjectID) (privacy.Login, error)
	PutSession(ctx context.Context, id privacy.SubjectID, s privacy.Session) error
	// Session returns a live session, or privacy.ErrStale when it is gone or expired.
	Session(ctx context.Context, id privacy.SubjectID, tokenHash string, now time.Time) (privacy.Session, error)
	DeleteSession(ctx context.Context, id privacy.SubjectID, tokenHash string) error
	DeleteSessions(ctx context.Context, id privacy.SubjectID) error
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

// GuardianStore is what a guardian's decision needs.
type GuardianStore interface {
	Account(ctx context.Context, id privacy.SubjectID) (privacy.Account, error)
	Guardian(ctx context.Context, id privacy.SubjectID) (privacy.GuardianRequest, error)
	// ConfirmGuardian consumes the request (ErrStale if used or wrong) and records the
	// guardian's consent, with the status derived from emailVerified as read (ErrChanged).
	ConfirmGuardian(ctx context.Context, id privacy.SubjectID, tokenHash string, emailVerified bool, status privacy.AccountStatus, consent privacy.ConsentEntry, audit privacy.AuditEntry) error
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
