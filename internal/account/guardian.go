package account

import (
	"context"
	"errors"

	"github.com/privacyportal/portal/internal/privacy"
)

// GuardianManager records guardians' decisions on children's accounts (P24).
type GuardianManager struct {
	*Env
	Store GuardianStore
}

// GuardianInput is a guardian's decision on a child's account.
type GuardianInput struct {
	Token    string `json:"token"`
	Decision string `json:"decision"`
}

var errGuardianLink = privacy.FieldError("token", "This link is not valid any more: the request was already answered, or it expired.")

// Decide records a guardian's decision: confirming activates the child's account (once the
// child's address is verified); refusing stops the account at once, and the mail worker, which
// tells the guardian, deletes everything.
func (s *GuardianManager) Decide(ctx context.Context, in GuardianInput, clientIP string) (confirmed bool, err error) {
	if err := s.Limiter.Allow(ctx, "verify-ip", clientIP, s.Limits.VerifyPerIP); err != nil {
		return false, err
	}
	if in.Decision != "confirm" && in.Decision != "refuse" {
		return false, privacy.FieldError("decision", `must be "confirm" or "refuse"`)
	}
	id, secret, ok := splitToken(in.Token)
	if !ok {
		return false, errGuardianLink
	}
	a, err := s.Store.Account(ctx, id)
	if isNotFound(err) {
		return false, errGuardianLink
	}
	if err != nil {
		return false, err
	}
	g, err := s.Store.Guardian(ctx, id)
	if isNotFound(err) {
		return false, errGuardianLink
	}
	if err != nil {
		return false, err
	}
	hash := s.Keys.SecretHash(privacy.DomainToken, id, "guardian", secret)
	if g.TokenHash == "" || !privacy.Equal(hash, g.TokenHash) || !s.Now().Before(g.ExpiresAt) || a.Status == privacy.StatusErasing {
		return false, errGuardianLink
	}
	if in.Decision == "refuse" {
		switch err := s.Store.RefuseGuardian(ctx, id, g.TokenHash); {
		case errors.Is(err, privacy.ErrStale):
			return false, errGuardianLink
		case err != nil:
			return false, err
		}
		logged("guardian refused: account stopped for erasure", id)
		return false, s.enqueue(ctx, Job{Kind: JobGuardianDecided, Subject: id})
	}
	version, err := s.policyRef(ctx, a.Profile.Locale)
	if err != nil {
		return false, err
	}
	consent := privacy.Grant(privacy.PurposeService, privacy.SourceGuardian, version, s.Now())
	for range 3 {
		status := privacy.DeriveStatus(a.Profile.AgeGroup, a.EmailVerified, true)
		err = s.Store.ConfirmGuardian(ctx, id, g.TokenHash, a.EmailVerified, status, consent, s.audit(actionGuardianConfirms))
		if !errors.Is(err, privacy.ErrChanged) {
			if err == nil {
				logged("guardian confirmed", id)
			}
			break
		}
		// The child verified their address in between: read again for the right status. (An
		// account the sweeper is erasing stays changed: the link is dead.)
		a, err = s.Store.Account(ctx, id)
		if isNotFound(err) || (err == nil && a.Status == privacy.StatusErasing) {
			return false, errGuardianLink
		}
		if err != nil {
			return false, err
		}
	}
	switch {
	case errors.Is(err, privacy.ErrStale):
		return false, errGuardianLink
	case errors.Is(err, privacy.ErrChanged):
		return false, privacy.Errorf(privacy.Conflict, "The account changed while we recorded your decision. Please try again.")
	case err != nil:
		return false, err
	}
	return true, s.enqueue(ctx, Job{Kind: JobGuardianDecided, Subject: id})
}
