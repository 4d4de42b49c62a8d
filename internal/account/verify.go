package account

import (
	"context"
	"errors"
	"strings"

	"github.com/privacyportal/portal/internal/mail"
	"github.com/privacyportal/portal/internal/privacy"
)

// Verifier proves addresses: it checks codes and links, and sends new codes.
type Verifier struct {
	*Env
	Store VerificationStore
}

// VerifyInput verifies an e-mail address with a code, or with the mailed link's token.
type VerifyInput struct {
	Email string `json:"email"`
	Code  string `json:"code"`
	Token string `json:"token"`
}

// splitToken splits "<subject id>.<secret>".
func splitToken(t string) (privacy.SubjectID, string, bool) {
	id, secret, ok := strings.Cut(t, ".")
	if !ok || id == "" || secret == "" || len(id) > 64 || len(secret) > 128 {
		return "", "", false
	}
	return privacy.SubjectID(id), secret, true
}

// validCode reports whether s is a 6-digit code.
func validCode(s string) bool { return len(s) == 6 && strings.Trim(s, "0123456789") == "" }

// Verify checks a code (or link) and marks the address verified. Codes are single use, expire,
// and die after MaxCodeAttempts wrong tries.
func (s *Verifier) Verify(ctx context.Context, in VerifyInput, clientIP string) error {
	if err := s.Limiter.Allow(ctx, "verify-ip", clientIP, s.Limits.VerifyPerIP); err != nil {
		return err
	}
	var id privacy.SubjectID
	var hash string
	switch {
	case in.Token != "":
		var secret string
		var ok bool
		if id, secret, ok = splitToken(in.Token); !ok {
			return errInvalidLink
		}
		hash = s.Keys.SecretHash(privacy.DomainToken, id, string(privacy.VerifyEmail), secret)
	default:
		email := privacy.NormalizeEmail(in.Email)
		if err := privacy.ValidateEmail("email", email); err != nil {
			return err
		}
		in.Code = strings.TrimSpace(in.Code)
		if !validCode(in.Code) {
			return privacy.FieldError("code", "is the 6-digit number from the mail")
		}
		var err error
		id, err = s.Store.SubjectByEmail(ctx, s.Keys.EmailKey(email))
		if isNotFound(err) {
			return errInvalidCode
		}
		if err != nil {
			return err
		}
		hash = s.Keys.SecretHash(privacy.DomainCode, id, string(privacy.VerifyEmail), in.Code)
	}
	for range 3 {
		err := s.verifyOnce(ctx, id, hash, in.Token != "")
		if !errors.Is(err, privacy.ErrChanged) {
			return err
		}
	}
	return privacy.Errorf(privacy.Conflict, "Your account changed while we checked the code. Please try again.")
}

// verifyOnce reads the account and consumes the verification; privacy.ErrChanged means a
// guardian's decision landed in between, and the caller tries again with a fresh read.
func (s *Verifier) verifyOnce(ctx context.Context, id privacy.SubjectID, hash string, byToken bool) error {
	invalid := errInvalidCode
	if byToken {
		invalid = errInvalidLink
	}
	a, err := s.Store.Account(ctx, id)
	if isNotFound(err) {
		return invalid
	}
	if err != nil {
		return err
	}
	v, err := s.Store.Verification(ctx, id, privacy.VerifyEmail)
	if isNotFound(err) {
		return invalid
	}
	if err != nil {
		return err
	}
	if !v.Usable(s.Now()) || a.Status == privacy.StatusErasing {
		return invalid
	}
	if !privacy.Equal(hash, v.CodeHash) && !privacy.Equal(hash, v.TokenHash) {
		if byToken {
			return invalid
		}
		// The answer does not say how many tries are left: an address with no pending code
		// answers exactly the same, so the form cannot be used to find registrations.
		if _, err := s.Store.FailVerification(ctx, id, privacy.VerifyEmail); err != nil && !errors.Is(err, privacy.ErrStale) {
			return err
		}
		// Re-sent codes start their attempt count again; this bounds guesses across them.
		if err := s.Limiter.Allow(ctx, "wrong-codes", string(id), s.Limits.WrongCodesPerAccount); err != nil {
			return err
		}
		return invalid
	}
	status := privacy.DeriveStatus(a.Profile.AgeGroup, true, a.GuardianConfirmed)
	switch err := s.Store.VerifyEmail(ctx, id, v, a.GuardianConfirmed, status, s.audit(actionEmailVerified, "email")); {
	case errors.Is(err, privacy.ErrStale):
		return invalid
	case err != nil:
		return err
	}
	logged("e-mail verified", id)
	return nil
}

// ResendInput asks for a new verification code.
type ResendInput struct {
	Email string `json:"email"`
}

// Resend mails a new code to an unverified account. It answers alike for every address.
func (s *Verifier) Resend(ctx context.Context, in ResendInput, clientIP string) error {
	if err := s.Limiter.Allow(ctx, "verify-ip", clientIP, s.Limits.VerifyPerIP); err != nil {
		return err
	}
	email := privacy.NormalizeEmail(in.Email)
	if err := privacy.ValidateEmail("email", email); err != nil {
		return err
	}
	if err := s.Limiter.Allow(ctx, "resend-email", privacy.CanonicalEmail(email), s.Limits.ResendPerEmail); err != nil {
		return err
	}
	id, err := s.Store.SubjectByEmail(ctx, s.Keys.EmailKey(email))
	if isNotFound(err) {
		return nil
	}
	if err != nil {
		return err
	}
	a, err := s.Store.Account(ctx, id)
	if isNotFound(err) {
		return nil
	}
	if err != nil {
		return err
	}
	if a.EmailVerified {
		return nil
	}
	return s.SendNewCode(ctx, a)
}

// SendNewCode replaces the account's verification with a new code and mails it.
func (s *Verifier) SendNewCode(ctx context.Context, a privacy.Account) error {
	v, code, token := s.newVerification(a.SubjectID, privacy.VerifyEmail)
	if err := s.Store.PutVerification(ctx, a.SubjectID, v); err != nil {
		return err
	}
	return s.send(ctx, mail.Message{To: a.Profile.Email, Locale: a.Profile.Locale, Kind: mail.VerifyEmail, Data: mail.Data{
		Name: a.Profile.Name, Code: code, Link: s.link(a.Profile.Locale, "/verify/", token), Minutes: s.codeMinutes(),
	}})
}
