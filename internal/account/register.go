package account

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/privacyportal/portal/internal/password"
	"github.com/privacyportal/portal/internal/privacy"
)

// Registrar creates accounts (P01, P02, P24).
type Registrar struct {
	*Env
	Store RegistrationStore
}

// validate checks the form field by field, in the order the form shows them.
func (in *RegisterInput) validate(passwordRule func(field, pw string, userInputs ...string) error) error {
	in.Name = strings.TrimSpace(in.Name)
	in.Email = privacy.NormalizeEmail(in.Email)
	in.Username = strings.TrimSpace(in.Username)
	in.GuardianEmail = privacy.NormalizeEmail(in.GuardianEmail)
	in.Optional = trimmed(in.Optional)
	if in.Locale == "" {
		in.Locale = privacy.LocaleEnglish
	}
	if err := privacy.ValidateName("name", in.Name); err != nil {
		return err
	}
	if err := privacy.ValidateEmail("email", in.Email); err != nil {
		return err
	}
	if err := privacy.ValidateUsername("username", in.Username); err != nil {
		return err
	}
	if passwordRule == nil {
		return fmt.Errorf("register: no password rule configured")
	}
	if err := passwordRule("password", in.Password, in.Name, in.Email, in.Username); err != nil {
		return err
	}
	switch privacy.AgeGroup(in.AgeGroup) {
	case privacy.AgeAdult:
		if in.GuardianEmail != "" {
			return privacy.FieldError("guardianEmail", "is only for people under 14")
		}
	case privacy.AgeChild:
		if in.GuardianEmail == "" {
			return privacy.FieldError("guardianEmail", "is required under 14: a parent or guardian must agree first")
		}
		if err := privacy.ValidateEmail("guardianEmail", in.GuardianEmail); err != nil {
			return err
		}
		if privacy.MailboxKey(in.GuardianEmail) == privacy.MailboxKey(in.Email) {
			return privacy.FieldError("guardianEmail", "must be your parent's or guardian's address, not your own")
		}
	case "":
		return privacy.FieldError("ageGroup", "is required: tell us whether you are 14 or older")
	default:
		return privacy.FieldError("ageGroup", `must be "14+" or "under14"`)
	}
	if err := privacy.ValidateLocale("locale", in.Locale); err != nil {
		return err
	}
	return privacy.ValidateOptional(in.Consents, in.Optional, nil)
}

// Register writes a registration and hands its mail to the worker. It does the same work, and
// answers alike, whether or not the address belongs to an account or to another registration:
// the worker, off the request's path, mails the code, or tells the address's owner that
// someone tried. A registration that was never verified does not hold its address: a new one
// replaces it, so whoever registers an address first cannot keep its owner out, and proving
// the address needs the password of the registration the code was mailed for.
func (s *Registrar) Register(ctx context.Context, in RegisterInput, clientIP string) error {
	if err := s.Limiter.Allow(ctx, "register-ip", clientIP, s.Limits.RegisterPerIP); err != nil {
		return err
	}
	if err := in.validate(s.PasswordRule); err != nil {
		return err
	}
	if err := s.Limiter.Allow(ctx, "register-email", privacy.MailboxKey(in.Email), s.Limits.RegisterPerEmail); err != nil {
		return err
	}
	if in.GuardianEmail != "" {
		// Anyone can name a guardian: each mailbox gets only a few such mails a day.
		if err := s.Limiter.Allow(ctx, "mail-to", privacy.MailboxKey(in.GuardianEmail), s.Limits.MailPerRecipient); err != nil {
			return err
		}
	}
	version, err := s.policyRef(ctx, in.Locale)
	if err != nil {
		return err
	}
	now := s.Now()
	id := privacy.NewSubjectID()
	a := privacy.Account{
		SubjectID: id,
		Profile: privacy.Profile{
			Name: in.Name, Email: in.Email, Username: in.Username, Locale: in.Locale, AgeGroup: privacy.AgeGroup(in.AgeGroup),
		},
		CreatedAt: now,
		EmailKey:  s.Keys.EmailKey(in.Email), UsernameKey: s.Keys.UsernameKey(in.Username),
	}
	a.Status = privacy.DeriveStatus(a.Profile.AgeGroup, false, false)
	reg := privacy.Registration{Account: a, Optional: map[string]privacy.OptionalValue{}, SweepAt: now.Add(s.Config.PendingFor)}
	fields := []string{"name", "email", "username", "password", "ageGroup", "locale"}
	for _, f := range privacy.Catalogue().OptionalFields {
		if v := in.Optional[f.Key]; v != "" {
			reg.Optional[f.Key] = privacy.OptionalValue{Value: v, ConsentedAt: now, PolicyVersion: version.Version}
			fields = append(fields, f.Key)
		}
	}
	// Registering accepts the policy in force (P25); the consents given with it follow.
	reg.Consents = append(reg.Consents, privacy.Accept(version, privacy.SourceRegistration, now))
	for _, c := range in.Consents {
		reg.Consents = append(reg.Consents, privacy.Grant(c, privacy.SourceRegistration, version, now))
	}
	reg.Audit = s.audit(actionRegistered, fields...)
	reg.PasswordHash = password.Hash(in.Password, s.Config.Argon2)
	if a.Profile.AgeGroup == privacy.AgeChild {
		reg.Guardian = &privacy.GuardianRequest{Email: in.GuardianEmail}
		reg.Decisions = append(reg.Decisions, privacy.Decision{
			At: now, Name: privacy.DecisionGuardianRequired, LogicVersion: privacy.GuardianLogicVersion,
			Inputs:  map[string]string{"ageGroup": string(a.Profile.AgeGroup), "pendingDays": fmt.Sprint(int(s.Config.PendingFor.Hours() / 24))},
			Outcome: "the account stays pending until a guardian confirms it, and is deleted if none does in time",
		})
	}
	// A registration of the same address written meanwhile makes the write fail: read again
	// and replace that one.
	for attempt := 0; ; attempt++ {
		owners, err := s.Store.AddressOwners(ctx, a.EmailKey)
		if err != nil {
			return err
		}
		reg.Replaces = owners.Pending
		err = s.Store.Register(ctx, reg)
		switch {
		case err == nil:
			logged("registration written", id)
			return s.enqueue(ctx, Job{Kind: JobRegistered, Subject: id, Superseded: reg.Replaces})
		case errors.Is(err, privacy.ErrUsernameTaken):
			return privacy.FieldError("username", "is taken: choose another")
		case errors.Is(err, privacy.ErrChanged) && attempt < 3:
			continue
		case errors.Is(err, privacy.ErrChanged):
			return privacy.Errorf(privacy.Conflict, "Someone else is registering this address right now. Please try again.")
		default:
			return fmt.Errorf("register: %w", err)
		}
	}
}
