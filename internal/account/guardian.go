package account

import (
	"context"
	"errors"

	"github.com/privacyportal/portal/internal/mail"
	"github.com/privacyportal/portal/internal/privacy"
)

// GuardianInput is a guardian's decision on a child's account.
type GuardianInput struct {
	Token    string `json:"token"`
	Decision string `json:"decision"`
}

var errGuardianLink = privacy.FieldError("token", "This link is not valid any more: the request was already answered, or it expired.")

// Guardian records a guardian's decision (P24): confirming activates the child's account (once
// the child's address is verified); refusing deletes everything at once.
func (s *Service) Guardian(ctx context.Context, in GuardianInput, clientIP string) (confirmed bool, err error) {
	if err := s.limit(ctx, "verify-ip", clientIP, s.Limits.VerifyPerIP); err != nil {
		return false, err
	}
	if in.Decision != "confirm" && in.Decision != "refuse" {
		return false, privacy.FieldError("decision", `must be "confirm" or "refuse"`)
	}
	id, secret, ok := splitToken(in.Token)
	if !ok {
		return false, errGuardianLink
	}
	rec, err := s.Store.Record(ctx, id, s.Now())
	if isNotFound(err) {
		return false, errGuardianLink
	}
	if err != nil {
		return false, err
	}
	g := rec.Guardian
	hash := s.secretHash(domainToken, id, "guardian", secret)
	if g == nil || !privacy.Equal(hash, g.TokenHash) || !s.Now().Before(g.ExpiresAt) || rec.Account.Status == privacy.StatusErasing {
		return false, errGuardianLink
	}
	a := rec.Account
	decision := mail.Message{To: g.Email, Locale: a.Profile.Locale, Kind: mail.GuardianDecision, Data: mail.Data{ChildName: a.Profile.Name}}
	if in.Decision == "refuse" {
		if _, err := s.Store.DeleteSubject(ctx, id); err != nil {
			return false, err
		}
		logged("guardian refused: account deleted", id)
		return false, s.send(ctx, decision)
	}
	version, err := s.policyVersion(ctx)
	if err != nil {
		return false, err
	}
	consent := privacy.ConsentEntry{Purpose: privacy.PurposeService.ID, Granted: true, At: s.Now(), PolicyVersion: version, Source: "guardian"}
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
		rec, err = s.Store.Record(ctx, id, s.Now())
		if isNotFound(err) || (err == nil && rec.Account.Status == privacy.StatusErasing) {
			return false, errGuardianLink
		}
		if err != nil {
			return false, err
		}
		a = rec.Account
	}
	switch {
	case errors.Is(err, privacy.ErrStale):
		return false, errGuardianLink
	case errors.Is(err, privacy.ErrChanged):
		return false, privacy.Errorf(privacy.Conflict, "The account changed while we recorded your decision. Please try again.")
	case err != nil:
		return false, err
	}
	decision.Data.Confirmed = true
	return true, s.send(ctx, decision)
}

// Sweep deletes accounts that did not become active in time: unverified registrations, and
// children's accounts no guardian confirmed (P24). It returns how many it deleted.
func (s *Service) Sweep(ctx context.Context) (int, error) {
	deleted := 0
	for {
		ids, err := s.Store.DueForSweep(ctx, s.Now(), 100)
		if err != nil {
			return deleted, err
		}
		if len(ids) == 0 {
			return deleted, nil
		}
		progress := false
		for _, id := range ids {
			rec, err := s.Store.Record(ctx, id, s.Now())
			if isNotFound(err) {
				continue
			}
			if err != nil {
				return deleted, err
			}
			if rec.Account.Status == privacy.StatusActive {
				continue
			}
			// Claim it first: a verification landing between the read and the delete would
			// otherwise activate an account that is then deleted.
			switch err := s.Store.MarkErasing(ctx, id); {
			case errors.Is(err, privacy.ErrStale):
				continue
			case err != nil:
				return deleted, err
			}
			if _, err := s.Store.DeleteSubject(ctx, id); err != nil {
				return deleted, err
			}
			logged("sweeper deleted an account that never became active", id)
			deleted++
			progress = true
		}
		if !progress {
			return deleted, nil
		}
	}
}
