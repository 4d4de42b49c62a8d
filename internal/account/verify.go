package account

import (
	"context"
	"errors"
	"strings"

	"github.com/privacyportal/portal/internal/privacy"
)

// Verifier proves addresses: it checks codes and links, and has new codes sent.
type Verifier struct {
	*Env
	Store VerificationStore
}

// VerifyInput proves an address: the code from the mail with the address, or the mailed
// link's token; either way with the password chosen at registration, so that proving an
// address can only activate the credentials its owner chose (a code mailed for a stranger's
// registration of the same address activates nothing without the stranger's password).
type VerifyInput struct {
	Email    string `json:"email"`
	Code     string `json:"code"`
	Token    string `json:"token"`
	Password string `json:"password"`
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

// mailedSecret is what a form answering a mail carries: the mailed link's subject and secret,
// or the address and the mailed code.
type mailedSecret struct {
	subject privacy.SubjectID // from a link
	secret  string            // from a link
	email   string            // with a code, normalized
	code    string
}

// readMailedSecret checks the form's link, or its address and code, before anything is read.
func readMailedSecret(token, email, code string, badLink error) (mailedSecret, error) {
	if token != "" {
		id, secret, ok := splitToken(token)
		if !ok {
			return mailedSecret{}, badLink
		}
		return mailedSecret{subject: id, secret: secret}, nil
	}
	email = privacy.NormalizeEmail(email)
	if err := privacy.ValidateEmail("email", email); err != nil {
		return mailedSecret{}, err
	}
	code = strings.TrimSpace(code)
	if !validCode(code) {
		return mailedSecret{}, privacy.FieldError("code", "is the 6-digit number from the mail")
	}
	return mailedSecret{email: email, code: code}, nil
}

// matches reports whether m is the secret of v, subject id's verification of a kind. The
// comparison takes the same time whether or not it matches; no verification matches nothing.
func (m mailedSecret) matches(keys *privacy.Keyed, id privacy.SubjectID, kind privacy.VerificationKind, v *privacy.Verification) bool {
	if v == nil {
		return false
	}
	if m.secret != "" {
		return privacy.Equal(keys.SecretHash(privacy.DomainToken, id, string(kind), m.secret), v.TokenHash)
	}
	return privacy.Equal(keys.SecretHash(privacy.DomainCode, id, string(kind), m.code), v.CodeHash)
}

// Verify checks a code (or link) and the password, and marks the address verified. Every limit
// is counted before anything is compared. A registration, an address with none and a wrong
// password answer alike and do the same work (one look-up, one read, one password hash, one
// attempt counted), so the form tells nobody which addresses have registrations.
func (s *Verifier) Verify(ctx context.Context, in VerifyInput, clientIP string) error {
	if err := s.Limiter.Allow(ctx, "verify-ip", clientIP, s.Limits.VerifyPerIP); err != nil {
		return err
	}
	m, err := readMailedSecret(in.Token, in.Email, in.Code, errInvalidLink)
	if err != nil {
		return err
	}
	invalid := errCodeOrPassword
	if m.secret != "" {
		invalid = privacy.FieldError("token", "This link is not valid any more, or the password is not right. A link works once, for a limited time: ask for a new code if it has expired.")
	}
	if in.Password == "" {
		return privacy.FieldError("password", "is required: the password you chose when you registered")
	}
	id, err := s.codeSubject(ctx, s.Store, m, clientIP, func(o privacy.AddressOwners) privacy.SubjectID { return o.Pending })
	if err != nil {
		return err
	}
	for range 3 {
		err := s.verifyOnce(ctx, id, m, in.Password, invalid)
		if !errors.Is(err, privacy.ErrChanged) {
			return err
		}
	}
	return privacy.Errorf(privacy.Conflict, "Your account changed while we checked the code. Please try again.")
}

// verifyOnce reads the registration and consumes its verification; privacy.ErrChanged means a
// guardian's decision landed in between, and the caller tries again with a fresh read.
func (s *Verifier) verifyOnce(ctx context.Context, id privacy.SubjectID, m mailedSecret, pw string, invalid error) error {
	p, err := s.Store.Pending(ctx, id)
	if err != nil && !isNotFound(err) {
		return err
	}
	passwordOK := checkPassword(pw, p.PasswordHash)
	v := p.Verification
	if !m.matches(s.Keys, id, privacy.VerifyEmail, v) || !passwordOK || !v.Usable(s.Now()) || p.Account.Status == privacy.StatusErasing {
		// A wrong password counts against the code too: the code is the address owner's,
		// and guessing passwords with it must end as soon as guessing codes would.
		if _, err := s.Store.FailVerification(ctx, id, privacy.VerifyEmail); err != nil && !errors.Is(err, privacy.ErrStale) {
			return err
		}
		return invalid
	}
	a := p.Account
	status := privacy.DeriveStatus(a.Profile.AgeGroup, true, a.GuardianConfirmed)
	switch err := s.Store.VerifyEmail(ctx, id, *v, a.GuardianConfirmed, status, s.audit(actionEmailVerified, "email")); {
	case errors.Is(err, privacy.ErrStale):
		return invalid
	case errors.Is(err, privacy.ErrEmailTaken):
		return privacy.FieldError("email", "This address has an account already, made meanwhile: sign in to it, or reset its password.")
	case err != nil:
		return err
	}
	logged("e-mail verified", id)
	if status == privacy.StatusPending {
		// Only now that the child has proved their address is their guardian asked: nobody can
		// make the portal mail a guardian for an address they do not hold.
		return s.enqueue(ctx, Job{Kind: JobGuardianRequest, Subject: id})
	}
	return nil
}

// ResendInput asks for a new verification code.
type ResendInput struct {
	Email string `json:"email"`
}

// Resend has a new code mailed for the address's registration, if it has one. It answers
// alike and does the same work for every address: the worker finds out.
func (s *Verifier) Resend(ctx context.Context, in ResendInput, clientIP string) error {
	return s.enqueueForAddress(ctx, JobResend, in.Email, clientIP, "resend-email", s.Limits.ResendPerEmail)
}
