package account

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/privacyportal/portal/internal/mail"
	"github.com/privacyportal/portal/internal/password"
	"github.com/privacyportal/portal/internal/privacy"
)

// RegisterInput is the registration form (docs/api.md).
type RegisterInput struct {
	Name          string   `json:"name"`
	Email         string   `json:"email"`
	Username      string   `json:"username"`
	Password      string   `json:"password"`
	AgeGroup      string   `json:"ageGroup"`
	Locale        string   `json:"locale"`
	GuardianEmail string   `json:"guardianEmail"`
	Mobile        string   `json:"mobile"`
	JobPosition   string   `json:"jobPosition"`
	Company       string   `json:"company"`
	Education     string   `json:"education"`
	Consents      []string `json:"consents"`
}

func (in RegisterInput) optional() map[string]string {
	return map[string]string{"mobile": in.Mobile, "jobPosition": in.JobPosition, "company": in.Company, "education": in.Education}
}

// validate checks the form field by field, in the order the form shows them.
func (in *RegisterInput) validate(passwordRule func(field, pw string, userInputs ...string) error) error {
	in.Name = strings.TrimSpace(in.Name)
	in.Email = privacy.NormalizeEmail(in.Email)
	in.Username = strings.TrimSpace(in.Username)
	in.GuardianEmail = privacy.NormalizeEmail(in.GuardianEmail)
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
	return validateConsents(in.Consents, in.optional(), nil)
}

// validateConsents checks that consents name optional-field purposes, and that every
// optional value comes with its consent (given now, or already, in granted).
func validateConsents(consents []string, values map[string]string, granted map[string]bool) error {
	seen := map[string]bool{}
	for _, c := range consents {
		if seen[c] {
			return privacy.FieldError("consents", "names %q twice", c)
		}
		seen[c] = true
		if !slices.ContainsFunc(privacy.OptionalFields, func(f privacy.OptionalField) bool { return f.Purpose.ID == c }) {
			return privacy.FieldError("consents", "%q is not a consent this form can give", c)
		}
	}
	for _, f := range privacy.OptionalFields {
		v := values[f.Key]
		if err := privacy.ValidateOptional(f, v); err != nil {
			return err
		}
		if v != "" && !slices.Contains(consents, f.Purpose.ID) && !granted[f.Purpose.ID] {
			return privacy.FieldError(f.Key, "is stored only with your consent: tick its box, or leave it empty")
		}
	}
	return nil
}

// Register creates an account, or, when the address already has one, mails its owner
// instead. Both answer alike, so the form cannot tell whether an address is registered.
func (s *Service) Register(ctx context.Context, in RegisterInput, clientIP string) error {
	if err := s.limit(ctx, "register-ip", clientIP, s.Limits.RegisterPerIP); err != nil {
		return err
	}
	if err := in.validate(s.PasswordRule); err != nil {
		return err
	}
	if err := s.limit(ctx, "register-email", privacy.CanonicalEmail(in.Email), s.Limits.RegisterPerEmail); err != nil {
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
		Optional:  map[string]privacy.OptionalValue{},
	}
	a.Status = privacy.DeriveStatus(a.Profile.AgeGroup, false, false)
	fields := []string{"name", "email", "username", "password", "ageGroup", "locale"}
	for _, f := range privacy.OptionalFields {
		if v := in.optional()[f.Key]; v != "" {
			a.Optional[f.Key] = privacy.OptionalValue{Value: v, ConsentedAt: now, PolicyVersion: version}
			fields = append(fields, f.Key)
		}
	}
	for _, c := range in.Consents {
		a.Consents = append(a.Consents, privacy.ConsentEntry{Purpose: c, Granted: true, At: now, PolicyVersion: version, Source: "register"})
	}
	a.Audit = []privacy.AuditEntry{s.audit(actionRegistered, fields...)}
	v, code, token := s.newVerification(id, privacy.VerifyEmail)
	reg := privacy.Registration{
		Account: a, EmailKey: s.emailKey(in.Email), UsernameKey: s.usernameKey(in.Username),
		PasswordHash: password.Hash(in.Password, s.Config.Argon2), Verification: v,
		SweepAt: now.Add(s.Config.PendingFor),
	}
	var guardianToken string
	if a.Profile.AgeGroup == privacy.AgeChild {
		// Anyone can name a guardian: each address gets only a few such mails a day.
		if err := s.limit(ctx, "mail-to", privacy.CanonicalEmail(in.GuardianEmail), s.Limits.MailPerRecipient); err != nil {
			return err
		}
		guardianToken = privacy.NewToken()
		reg.Guardian = &privacy.GuardianRequest{
			Email: in.GuardianEmail, TokenHash: s.secretHash(domainToken, id, "guardian", guardianToken), ExpiresAt: reg.SweepAt,
		}
	}

	switch err := s.Store.Register(ctx, reg); {
	case errors.Is(err, privacy.ErrEmailTaken):
		// Hold the username as a new account would have, so a later attempt with it answers
		// alike whether or not this address had an account.
		if err := s.Store.ReserveUsername(ctx, reg.UsernameKey, reg.SweepAt, now); err != nil {
			return err
		}
		return s.alreadyRegistered(ctx, in.Email)
	case errors.Is(err, privacy.ErrUsernameTaken):
		return privacy.FieldError("username", "is taken: choose another")
	case err != nil:
		return fmt.Errorf("register: %w", err)
	}
	logged("account registered", id)

	if err := s.send(ctx, mail.Message{To: in.Email, Locale: in.Locale, Kind: mail.VerifyEmail, Data: mail.Data{
		Name: in.Name, Code: code, Link: s.verifyLink(in.Locale, token), Minutes: s.codeMinutes(),
	}}); err != nil {
		return err
	}
	if reg.Guardian != nil {
		if err := s.send(ctx, mail.Message{To: in.GuardianEmail, Locale: in.Locale, Kind: mail.GuardianConsent, Data: mail.Data{
			ChildName: in.Name, Link: s.Config.SiteURL + sitePath(in.Locale, "/guardian/") + "#token=" + string(id) + "." + guardianToken,
			Days: int(s.Config.PendingFor.Hours() / 24),
		}}); err != nil {
			return err
		}
	}
	return nil
}

// alreadyRegistered mails the owner of an address that someone tried to register again.
func (s *Service) alreadyRegistered(ctx context.Context, email string) error {
	id, err := s.Store.SubjectByEmail(ctx, s.emailKey(email))
	if err != nil {
		return fmt.Errorf("look up existing account: %w", err)
	}
	rec, err := s.Store.Login(ctx, id, s.Now())
	if err != nil {
		return fmt.Errorf("read existing account: %w", err)
	}
	p := rec.Account.Profile
	logged("registration attempt for an existing address", id)
	return s.send(ctx, mail.Message{To: p.Email, Locale: p.Locale, Kind: mail.AlreadyRegistered, Data: mail.Data{
		Name: p.Name, SignInLink: s.Config.SiteURL + sitePath(p.Locale, "/signin/"),
	}})
}
