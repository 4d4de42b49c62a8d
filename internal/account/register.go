package account

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/privacyportal/portal/internal/mail"
	"github.com/privacyportal/portal/internal/password"
	"github.com/privacyportal/portal/internal/privacy"
)

// Registrar creates accounts (P01, P02, P24).
type Registrar struct {
	*Env
	Store RegistrationStore
	// PasswordRule checks a new password (strength.Validate).
	PasswordRule func(field, pw string, userInputs ...string) error
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
		if privacy.CanonicalEmail(in.GuardianEmail) == privacy.CanonicalEmail(in.Email) {
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

// Register creates an account, or, when the address already has one, mails its owner
// instead. Both answer alike, so the form cannot tell whether an address is registered.
func (s *Registrar) Register(ctx context.Context, in RegisterInput, clientIP string) error {
	if err := s.Limiter.Allow(ctx, "register-ip", clientIP, s.Limits.RegisterPerIP); err != nil {
		return err
	}
	if err := in.validate(s.PasswordRule); err != nil {
		return err
	}
	if err := s.Limiter.Allow(ctx, "register-email", privacy.CanonicalEmail(in.Email), s.Limits.RegisterPerEmail); err != nil {
		return err
	}
	version, err := s.policyVersion(ctx)
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
			reg.Optional[f.Key] = privacy.OptionalValue{Value: v, ConsentedAt: now, PolicyVersion: version}
			fields = append(fields, f.Key)
		}
	}
	for _, c := range in.Consents {
		reg.Consents = append(reg.Consents, privacy.Grant(c, privacy.SourceRegistration, version, now))
	}
	reg.Audit = s.audit(actionRegistered, fields...)
	v, code, token := s.newVerification(id, privacy.VerifyEmail)
	reg.Verification = v
	reg.PasswordHash = password.Hash(in.Password, s.Config.Argon2)
	var guardianToken string
	if a.Profile.AgeGroup == privacy.AgeChild {
		// Anyone can name a guardian: each address gets only a few such mails a day.
		if err := s.Limiter.Allow(ctx, "mail-to", privacy.CanonicalEmail(in.GuardianEmail), s.Limits.MailPerRecipient); err != nil {
			return err
		}
		guardianToken = privacy.NewToken()
		reg.Guardian = &privacy.GuardianRequest{
			Email: in.GuardianEmail, TokenHash: s.Keys.SecretHash(privacy.DomainToken, id, "guardian", guardianToken), ExpiresAt: reg.SweepAt,
		}
	}

	switch err := s.Store.Register(ctx, reg); {
	case errors.Is(err, privacy.ErrUsernameTaken):
		return privacy.FieldError("username", "is taken: choose another")
	case errors.Is(err, privacy.ErrEmailTaken):
		// Hold the username as a new account would have, so a later attempt with it answers
		// alike whether or not this address had an account.
		if err := s.Store.ReserveUsername(ctx, a.UsernameKey, reg.SweepAt, now); err != nil {
			return err
		}
		return s.alreadyRegistered(ctx, a.EmailKey)
	case err != nil:
		return fmt.Errorf("register: %w", err)
	}
	logged("account registered", id)

	if err := s.send(ctx, mail.Message{To: in.Email, Locale: in.Locale, Kind: mail.VerifyEmail, Data: mail.Data{
		Name: in.Name, Code: code, Link: s.link(in.Locale, "/verify/", token), Minutes: s.codeMinutes(),
	}}); err != nil {
		return err
	}
	if reg.Guardian != nil {
		if err := s.send(ctx, mail.Message{To: in.GuardianEmail, Locale: in.Locale, Kind: mail.GuardianConsent, Data: mail.Data{
			ChildName: in.Name, Link: s.link(in.Locale, "/guardian/", string(id)+"."+guardianToken),
			Days: int(s.Config.PendingFor.Hours() / 24),
		}}); err != nil {
			return err
		}
	}
	return nil
}

// alreadyRegistered mails the owner of an address that someone tried to register again.
func (s *Registrar) alreadyRegistered(ctx context.Context, emailKey string) error {
	id, err := s.Store.SubjectByEmail(ctx, emailKey)
	if err != nil {
		return fmt.Errorf("look up existing account: %w", err)
	}
	a, err := s.Store.Account(ctx, id)
	if err != nil {
		return fmt.Errorf("read existing account: %w", err)
	}
	p := a.Profile
	logged("registration attempt for an existing address", id)
	return s.send(ctx, mail.Message{To: p.Email, Locale: p.Locale, Kind: mail.AlreadyRegistered, Data: mail.Data{
		Name: p.Name, SignInLink: s.Config.SiteURL + privacy.LocalePath(p.Locale, "/signin/"),
	}})
}
