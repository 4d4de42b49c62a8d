package account

import (
	"context"
	"errors"

	"github.com/privacyportal/portal/internal/password"
	"github.com/privacyportal/portal/internal/privacy"
)

// PasswordManager changes passwords (with the current one) and resets forgotten ones (with a
// code mailed to the account's address). Either way every session but the caller's ends, and
// the account's address is told.
type PasswordManager struct {
	*Env
	Store PasswordStore
}

// ChangePasswordInput is the password change form.
type ChangePasswordInput struct {
	CurrentPassword string `json:"currentPassword"`
	NewPassword     string `json:"newPassword"`
}

// Change sets a new password for the signed-in caller, who must know the current one.
func (s *PasswordManager) Change(ctx context.Context, c Caller, in ChangePasswordInput) error {
	if in.CurrentPassword == "" {
		return privacy.FieldError("currentPassword", "is required")
	}
	if err := s.Limiter.Allow(ctx, "password-check", string(c.Subject), s.Limits.PasswordChecksPerAccount); err != nil {
		return err
	}
	login, err := s.Store.Login(ctx, c.Subject)
	if err != nil {
		return err
	}
	if !checkPassword(in.CurrentPassword, login.PasswordHash) {
		return privacy.FieldError("currentPassword", "is not right")
	}
	p := login.Account.Profile
	if err := s.PasswordRule("newPassword", in.NewPassword, p.Name, p.Email, p.Username); err != nil {
		return err
	}
	if in.NewPassword == in.CurrentPassword {
		return privacy.FieldError("newPassword", "is your current password: choose a new one")
	}
	if err := s.Store.SetPassword(ctx, c.Subject, password.Hash(in.NewPassword, s.Config.Argon2), nil, s.audit(actionPasswordChanged, "password")); err != nil {
		return err
	}
	// Whoever else is signed in, perhaps with a stolen session, is signed out now.
	if err := s.Store.DeleteSessions(ctx, c.Subject, c.TokenHash); err != nil {
		return err
	}
	logged("password changed", c.Subject)
	return s.enqueue(ctx, Job{Kind: JobPasswordChanged, Subject: c.Subject})
}

// ResetRequestInput asks for a password reset code.
type ResetRequestInput struct {
	Email string `json:"email"`
}

// RequestReset has a reset code mailed to the address, if an account proved it. It answers
// alike and does the same work for every address: the worker finds out.
func (s *PasswordManager) RequestReset(ctx context.Context, in ResetRequestInput, clientIP string) error {
	return s.enqueueForAddress(ctx, JobPasswordReset, in.Email, clientIP, "reset-email", s.Limits.ResetPerEmail)
}

// ResetInput sets a new password with the mailed code and the address, or the mailed link's
// token.
type ResetInput struct {
	Email       string `json:"email"`
	Code        string `json:"code"`
	Token       string `json:"token"`
	NewPassword string `json:"newPassword"`
}

var errResetCode = privacy.FieldError("code", "The code is not right or has expired. A code works once, for a limited time, and stops working after 5 wrong tries: check the latest mail, or ask for a new code.")

// Reset sets a new password. Limits are counted before anything is compared, and an address
// with no account does the same work (one look-up, one read, one attempt counted) as one with.
func (s *PasswordManager) Reset(ctx context.Context, in ResetInput, clientIP string) error {
	if err := s.Limiter.Allow(ctx, "verify-ip", clientIP, s.Limits.VerifyPerIP); err != nil {
		return err
	}
	errLink := privacy.FieldError("token", "This link is not valid any more: it was used already or expired. Ask for a new code.")
	m, err := readMailedSecret(in.Token, in.Email, in.Code, errLink)
	if err != nil {
		return err
	}
	invalid := errResetCode
	if m.secret != "" {
		invalid = errLink
	}
	// The rule's context words come from the account, which is not read yet: the address
	// stands in for them here, and the rule runs again with the account's below.
	if err := s.PasswordRule("newPassword", in.NewPassword, m.email); err != nil {
		return err
	}
	id, err := s.codeSubject(ctx, s.Store, m, clientIP, func(o privacy.AddressOwners) privacy.SubjectID { return o.Owner })
	if err != nil {
		return err
	}
	v, err := s.Store.Verification(ctx, id, privacy.VerifyReset)
	if err != nil && !isNotFound(err) {
		return err
	}
	if err != nil || !v.Usable(s.Now()) || !m.matches(s.Keys, id, privacy.VerifyReset, &v) {
		if _, err := s.Store.FailVerification(ctx, id, privacy.VerifyReset); err != nil && !errors.Is(err, privacy.ErrStale) {
			return err
		}
		return invalid
	}
	login, err := s.Store.Login(ctx, id)
	if err != nil {
		return err
	}
	p := login.Account.Profile
	if err := s.PasswordRule("newPassword", in.NewPassword, p.Name, p.Email, p.Username); err != nil {
		return err
	}
	switch err := s.Store.SetPassword(ctx, id, password.Hash(in.NewPassword, s.Config.Argon2), &v, s.audit(actionPasswordReset, "password")); {
	case errors.Is(err, privacy.ErrStale):
		return invalid
	case err != nil:
		return err
	}
	// Whoever was signed in, perhaps the person who made the reset needed, is signed out.
	if err := s.Store.DeleteSessions(ctx, id, ""); err != nil {
		return err
	}
	logged("password reset", id)
	return s.enqueue(ctx, Job{Kind: JobPasswordChanged, Subject: id})
}
