package account

import (
	"context"
	"errors"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/privacyportal/portal/internal/privacy"
)

// ProfileManager is the account page: everything held (P15) and corrections (P16).
type ProfileManager struct {
	*Env
	Store ProfileStore
}

// View is the account page's data: everything the portal holds about the person (P15).
type View struct {
	SubjectID    string                  `json:"subjectId"`
	Status       string                  `json:"status"`
	CreatedAt    time.Time               `json:"createdAt"`
	Profile      ProfileView             `json:"profile"`
	Optional     map[string]OptionalView `json:"optional"`
	PendingEmail string                  `json:"pendingEmail,omitempty"`
	// Guardian is the guardian's address, held while their decision is pending.
	Guardian *GuardianView `json:"guardian,omitempty"`
	Consents []ConsentView `json:"consents"`
	Sessions []SessionView `json:"sessions"`
	Audit    []AuditView   `json:"audit"`
	// Requests are the person's data-subject requests, newest first; Decisions the automated
	// decisions recorded about them, oldest first (P22).
	Requests  []RequestView  `json:"requests"`
	Decisions []DecisionView `json:"decisions"`
}

// RequestView is one of the person's data-subject requests, as the account page lists it (the
// requests page shows it in full).
type RequestView struct {
	ID       string    `json:"id"`
	Type     string    `json:"type"`
	Status   string    `json:"status"`
	Received time.Time `json:"received"`
	Due      time.Time `json:"due"`
}

// DecisionView is an automated decision, with what it looked at.
type DecisionView struct {
	At           time.Time         `json:"at"`
	Name         string            `json:"name"`
	LogicVersion string            `json:"logicVersion"`
	Inputs       map[string]string `json:"inputs"`
	Outcome      string            `json:"outcome"`
}

// GuardianView is a pending request for a guardian's consent.
type GuardianView struct {
	Email     string    `json:"email"`
	ExpiresAt time.Time `json:"expiresAt"`
}

// ProfileView is the registration data.
type ProfileView struct {
	Name     string `json:"name"`
	Email    string `json:"email"`
	Username string `json:"username"`
	Locale   string `json:"locale"`
	AgeGroup string `json:"ageGroup"`
}

// OptionalView is an optional field with the consent it is kept under.
type OptionalView struct {
	Value         string    `json:"value"`
	ConsentedAt   time.Time `json:"consentedAt"`
	PolicyVersion string    `json:"policyVersion"`
}

// ConsentView is one consent ledger entry.
type ConsentView struct {
	Purpose       string    `json:"purpose"`
	Action        string    `json:"action"`
	Granted       bool      `json:"granted"`
	At            time.Time `json:"at"`
	PolicyVersion string    `json:"policyVersion"`
	Source        string    `json:"source,omitempty"`
}

// SessionView is a signed-in browser, without its token.
type SessionView struct {
	CreatedAt time.Time `json:"createdAt"`
	ExpiresAt time.Time `json:"expiresAt"`
	Current   bool      `json:"current"`
}

// AuditView is one change to the account.
type AuditView struct {
	At     time.Time `json:"at"`
	Action string    `json:"action"`
	Fields []string  `json:"fields"`
}

// Get returns everything held about the caller.
func (s *ProfileManager) Get(ctx context.Context, c Caller) (View, error) {
	rec, err := s.Store.Record(ctx, c.Subject, s.Now())
	if err != nil {
		return View{}, err
	}
	a := rec.Account
	v := View{
		SubjectID: string(a.SubjectID), Status: string(a.Status), CreatedAt: a.CreatedAt,
		Profile: ProfileView{
			Name: a.Profile.Name, Email: a.Profile.Email, Username: a.Profile.Username,
			Locale: a.Profile.Locale, AgeGroup: string(a.Profile.AgeGroup),
		},
		Optional:     map[string]OptionalView{},
		PendingEmail: a.PendingEmail,
		Consents:     []ConsentView{},
		Sessions:     []SessionView{},
		Audit:        []AuditView{},
		Requests:     []RequestView{},
		Decisions:    []DecisionView{},
	}
	for k, o := range rec.Optional {
		v.Optional[k] = OptionalView(o)
	}
	if g := rec.Guardian; g != nil && g.Decision == "" {
		v.Guardian = &GuardianView{Email: g.Email, ExpiresAt: g.ExpiresAt}
	}
	for _, e := range rec.Consents {
		v.Consents = append(v.Consents, ConsentView{Purpose: e.Purpose, Action: string(e.ActionOf()), Granted: e.Granted, At: e.At, PolicyVersion: e.Version(), Source: string(e.Source)})
	}
	sort.SliceStable(v.Consents, func(i, j int) bool { return v.Consents[i].At.Before(v.Consents[j].At) })
	for _, se := range rec.Sessions {
		v.Sessions = append(v.Sessions, SessionView{CreatedAt: se.CreatedAt, ExpiresAt: se.ExpiresAt, Current: se.TokenHash == c.TokenHash})
	}
	sort.SliceStable(v.Sessions, func(i, j int) bool { return v.Sessions[i].CreatedAt.Before(v.Sessions[j].CreatedAt) })
	for _, e := range rec.Audit {
		f := slices.Clone(e.Fields)
		if f == nil {
			f = []string{}
		}
		sort.Strings(f)
		v.Audit = append(v.Audit, AuditView{At: e.At, Action: e.Action, Fields: f})
	}
	sort.SliceStable(v.Audit, func(i, j int) bool { return v.Audit[i].At.Before(v.Audit[j].At) })
	for _, r := range rec.Requests {
		v.Requests = append(v.Requests, RequestView{ID: r.PublicID(), Type: string(r.Type), Status: string(r.Status), Received: r.Received, Due: r.Due})
	}
	sort.SliceStable(v.Requests, func(i, j int) bool { return v.Requests[i].Received.After(v.Requests[j].Received) })
	for _, d := range rec.Decisions {
		v.Decisions = append(v.Decisions, DecisionView{At: d.At, Name: d.Name, LogicVersion: d.LogicVersion, Inputs: d.Inputs, Outcome: d.Outcome})
	}
	sort.SliceStable(v.Decisions, func(i, j int) bool { return v.Decisions[i].At.Before(v.Decisions[j].At) })
	return v, nil
}

// Update corrects the caller's data (P16). Every change is validated and audited in the
// subject's partition; a new e-mail address takes effect only once verified.
func (s *ProfileManager) Update(ctx context.Context, c Caller, in UpdateInput) (View, error) {
	ed, err := s.Store.Editable(ctx, c.Subject)
	if err != nil {
		return View{}, err
	}
	a := ed.Account
	now := s.Now()
	var ch privacy.AccountChange
	var fields []string
	if in.Name != nil && strings.TrimSpace(*in.Name) != a.Profile.Name {
		name := strings.TrimSpace(*in.Name)
		if err := privacy.ValidateName("name", name); err != nil {
			return View{}, err
		}
		ch.Name = &name
		fields = append(fields, "name")
	}
	if in.Username != nil && strings.TrimSpace(*in.Username) != a.Profile.Username {
		u := strings.TrimSpace(*in.Username)
		if err := privacy.ValidateUsername("username", u); err != nil {
			return View{}, err
		}
		ch.Username, ch.UsernameKey, ch.OldUsernameKey = &u, s.Keys.UsernameKey(u), a.UsernameKey
		fields = append(fields, "username")
	}
	newEmail := ""
	if in.Email != nil && privacy.CanonicalEmail(*in.Email) != privacy.CanonicalEmail(a.Profile.Email) {
		newEmail = privacy.NormalizeEmail(*in.Email)
		if err := privacy.ValidateEmail("email", newEmail); err != nil {
			return View{}, err
		}
	}
	if ch.Username != nil || newEmail != "" {
		if err := s.checkCurrentPassword(ctx, c, in.CurrentPassword, ed.PasswordHash); err != nil {
			return View{}, err
		}
	}
	if in.Locale != nil && *in.Locale != a.Profile.Locale {
		if err := privacy.ValidateLocale("locale", *in.Locale); err != nil {
			return View{}, err
		}
		ch.Locale = in.Locale
		fields = append(fields, "locale")
	}

	// Optional fields: a value needs its consent (given before, or now); "" deletes the value
	// and withdraws the consent to keep it.
	granted := privacy.ConsentState(ed.Consents)
	values := map[string]string{}
	for k, v := range in.Optional {
		if v != nil {
			values[k] = strings.TrimSpace(*v)
		}
	}
	if err := privacy.ValidateOptional(in.Consents, values, granted); err != nil {
		return View{}, err
	}
	var version privacy.PolicyRef
	needVersion := len(in.Consents) > 0
	for k, v := range values {
		if _, had := ed.Optional[k]; v != "" || had {
			needVersion = true
		}
	}
	if needVersion {
		if version, err = s.policyRef(ctx, a.Profile.Locale); err != nil {
			return View{}, err
		}
	}
	for _, p := range in.Consents {
		if !granted[p] {
			ch.Consents = append(ch.Consents, privacy.Grant(p, privacy.SourceAccount, version, now))
			fields = append(fields, "consent:"+p)
		}
	}
	for _, f := range privacy.Catalogue().OptionalFields {
		v, set := values[f.Key]
		if !set {
			continue
		}
		old, had := ed.Optional[f.Key]
		switch {
		case v == "" && had:
			ch.DeleteOptional = append(ch.DeleteOptional, f.Key)
			ch.Consents = append(ch.Consents, privacy.Withdraw(f.Purpose, privacy.SourceAccount, version, now))
			fields = append(fields, f.Key, "consent:"+f.Purpose)
		case v != "" && (!had || v != old.Value):
			if ch.SetOptional == nil {
				ch.SetOptional = map[string]privacy.OptionalValue{}
			}
			consentedAt := old.ConsentedAt
			if !had || slices.Contains(in.Consents, f.Purpose) {
				consentedAt = now
			}
			ch.SetOptional[f.Key] = privacy.OptionalValue{Value: v, ConsentedAt: consentedAt, PolicyVersion: version.Version}
			fields = append(fields, f.Key)
		}
	}

	if newEmail != "" {
		// Each change mails a code to an address of the caller's choosing: limited per account
		// and per mailbox named.
		if err := s.Limiter.Allow(ctx, "email-change", string(c.Subject), s.Limits.EmailChangePerAccount); err != nil {
			return View{}, err
		}
		if err := s.Limiter.Allow(ctx, "mail-to", privacy.MailboxKey(newEmail), s.Limits.MailPerRecipient); err != nil {
			return View{}, err
		}
		ch.PendingEmail = &newEmail
		fields = append(fields, "pendingEmail")
	}
	if len(fields) == 0 {
		return s.Get(ctx, c)
	}
	action := actionProfileUpdated
	if newEmail != "" && len(fields) == 1 {
		action = actionEmailRequested
	}
	ch.Audit = s.audit(action, fields...)
	if err := s.Store.Update(ctx, c.Subject, ch); err != nil {
		switch {
		case errors.Is(err, privacy.ErrUsernameTaken):
			return View{}, privacy.FieldError("username", "is taken: choose another")
		case errors.Is(err, privacy.ErrStale):
			return View{}, privacy.Errorf(privacy.Conflict, "Your account changed while you were editing it. Reload and try again.")
		}
		return View{}, err
	}
	logged("account updated", c.Subject, "fields", len(fields))
	if newEmail != "" {
		if err := s.enqueue(ctx, Job{Kind: JobEmailChange, Subject: c.Subject}); err != nil {
			return View{}, err
		}
	}
	return s.Get(ctx, c)
}

// checkCurrentPassword checks the password a change that could take the account over needs,
// at most PasswordChecksPerAccount times an hour.
func (s *ProfileManager) checkCurrentPassword(ctx context.Context, c Caller, pw, hash string) error {
	if pw == "" {
		return privacy.FieldError("currentPassword", "is required to change your e-mail address or username")
	}
	if err := s.Limiter.Allow(ctx, "password-check", string(c.Subject), s.Limits.PasswordChecksPerAccount); err != nil {
		return err
	}
	if !checkPassword(pw, hash) {
		return privacy.FieldError("currentPassword", "is not right")
	}
	return nil
}

// ConfirmEmailInput confirms a pending e-mail change.
type ConfirmEmailInput struct {
	Code string `json:"code"`
}

// ConfirmEmail makes a pending new address the account's address, once its code is right.
func (s *ProfileManager) ConfirmEmail(ctx context.Context, c Caller, in ConfirmEmailInput) (View, error) {
	code := strings.TrimSpace(in.Code)
	if !validCode(code) {
		return View{}, privacy.FieldError("code", "is the 6-digit number from the mail")
	}
	if err := s.Limiter.Allow(ctx, "email-confirm", string(c.Subject), s.Limits.ConfirmPerAccount); err != nil {
		return View{}, err
	}
	if err := s.Limiter.Allow(ctx, "email-confirm-day", string(c.Subject), s.Limits.ConfirmPerAccountDaily); err != nil {
		return View{}, err
	}
	a, err := s.Store.Account(ctx, c.Subject)
	if err != nil {
		return View{}, err
	}
	v, err := s.Store.Verification(ctx, c.Subject, privacy.VerifyNewEmail)
	if isNotFound(err) {
		return View{}, errInvalidCode
	}
	if err != nil {
		return View{}, err
	}
	if !v.Usable(s.Now()) {
		return View{}, errInvalidCode
	}
	if !privacy.Equal(s.Keys.SecretHash(privacy.DomainCode, c.Subject, string(privacy.VerifyNewEmail), code), v.CodeHash) {
		n, err := s.Store.FailVerification(ctx, c.Subject, privacy.VerifyNewEmail)
		if err != nil && !errors.Is(err, privacy.ErrStale) {
			return View{}, err
		}
		if left := privacy.MaxCodeAttempts - n; left > 0 {
			return View{}, privacy.FieldError("code", "The code is not right. You can try %d more times.", left)
		}
		return View{}, privacy.FieldError("code", "Too many wrong codes: change the address again to get a new code.")
	}
	switch err := s.Store.ConfirmNewEmail(ctx, c.Subject, v, a.EmailKey, s.audit(actionEmailChanged, "email")); {
	case errors.Is(err, privacy.ErrEmailTaken):
		return View{}, privacy.FieldError("email", "That address already has an account.")
	case errors.Is(err, privacy.ErrStale):
		return View{}, errInvalidCode
	case err != nil:
		return View{}, err
	}
	logged("e-mail changed", c.Subject)
	return s.Get(ctx, c)
}
