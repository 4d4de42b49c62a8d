// Package account is registration, e-mail verification, sign-in, sessions, the account page
// (access and correction), e-mail changes and the guardian's consent for children: promises
// P01, P02, P13, P15, P16 and P24.
package account

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/privacyportal/portal/internal/mail"
	"github.com/privacyportal/portal/internal/password"
	"github.com/privacyportal/portal/internal/policy"
	"github.com/privacyportal/portal/internal/privacy"
)

// Store is where accounts live (implemented by the dynamodb package).
type Store interface {
	Register(ctx context.Context, r privacy.Registration) error
	ReserveUsername(ctx context.Context, usernameKey string, until, now time.Time) error
	SubjectByEmail(ctx context.Context, emailKey string) (privacy.SubjectID, error)
	SubjectByUsername(ctx context.Context, usernameKey string) (privacy.SubjectID, error)
	Record(ctx context.Context, id privacy.SubjectID, now time.Time) (privacy.Record, error)
	Login(ctx context.Context, id privacy.SubjectID, now time.Time) (privacy.Record, error)
	FailVerification(ctx context.Context, id privacy.SubjectID, kind privacy.VerificationKind) (int, error)
	PutVerification(ctx context.Context, id privacy.SubjectID, v privacy.Verification) error
	VerifyEmail(ctx context.Context, id privacy.SubjectID, v privacy.Verification, guardianConfirmed bool, status privacy.AccountStatus, audit privacy.AuditEntry) error
	ConfirmGuardian(ctx context.Context, id privacy.SubjectID, tokenHash string, emailVerified bool, status privacy.AccountStatus, consent privacy.ConsentEntry, audit privacy.AuditEntry) error
	PutSession(ctx context.Context, id privacy.SubjectID, s privacy.Session) error
	Session(ctx context.Context, id privacy.SubjectID, tokenHash string, now time.Time) (privacy.Session, error)
	DeleteSession(ctx context.Context, id privacy.SubjectID, tokenHash string) error
	DeleteSessions(ctx context.Context, id privacy.SubjectID) error
	Update(ctx context.Context, id privacy.SubjectID, c privacy.AccountChange) error
	ConfirmNewEmail(ctx context.Context, id privacy.SubjectID, v privacy.Verification, oldEmailKey string, audit privacy.AuditEntry) error
	DeleteSubject(ctx context.Context, id privacy.SubjectID) (int, error)
	MarkErasing(ctx context.Context, id privacy.SubjectID) error
	DueForSweep(ctx context.Context, now time.Time, limit int32) ([]privacy.SubjectID, error)
	Hit(ctx context.Context, bucket string, limit int, window time.Duration, now time.Time) (bool, time.Duration, error)
}

// Mailer sends the portal's mail.
type Mailer interface {
	Send(ctx context.Context, m mail.Message) error
}

// Policies tells which policy version is in force, for consent records.
type Policies interface {
	InForce(ctx context.Context) (policy.Version, error)
}

// Config holds the account settings, from the template's parameters.
type Config struct {
	// SiteURL is the portal's origin (https://portal.example.com): mailed links start with it,
	// and state-changing requests must come from it.
	SiteURL string
	// CodeTTL is how long a mailed code or link works.
	CodeTTL time.Duration
	// SessionTTL is how long a sign-in lasts.
	SessionTTL time.Duration
	// PendingFor is how long an account may stay unverified or wait for a guardian before it
	// is deleted.
	PendingFor time.Duration
	Argon2     password.Argon2Params
	// OriginSecret, when set, must arrive in the X-Origin-Verify header, which CloudFront adds
	// to every request it forwards: the API answers only requests that came through the
	// portal's own address, so the viewer address CloudFront reports can be trusted.
	OriginSecret string
}

// Limit is a fixed-window rate limit.
type Limit struct {
	N      int
	Window time.Duration
}

// Limits are the rate limits, per client address and per account identifier.
type Limits struct {
	RegisterPerIP, RegisterPerEmail Limit
	SignInPerIP, SignInPerLogin     Limit
	// SignInPerAccount bounds all sign-in attempts on one account from anywhere; per-login
	// limits are per client address, so nobody can lock a person out from one address.
	SignInPerAccount            Limit
	VerifyPerIP, ResendPerEmail Limit
	// EmailChangePerAccount bounds new-address codes (each mails someone) and
	// ConfirmPerAccount the guesses at them.
	EmailChangePerAccount, ConfirmPerAccount Limit
	// MailPerRecipient bounds mail a stranger can make the portal send to an address they
	// name (a guardian, a new address); WrongCodesPerAccount bounds guesses across re-sent
	// codes, whose attempt counts start again.
	MailPerRecipient, WrongCodesPerAccount Limit
}

// DefaultLimits fit a person's pace and stop scripted guessing.
var DefaultLimits = Limits{
	RegisterPerIP:    Limit{N: 30, Window: time.Hour},
	RegisterPerEmail: Limit{N: 5, Window: time.Hour},
	SignInPerIP:      Limit{N: 60, Window: 15 * time.Minute},
	SignInPerLogin:   Limit{N: 10, Window: 15 * time.Minute},
	SignInPerAccount: Limit{N: 100, Window: 15 * time.Minute},
	VerifyPerIP:      Limit{N: 60, Window: 15 * time.Minute},
	ResendPerEmail:   Limit{N: 5, Window: time.Hour},

	EmailChangePerAccount: Limit{N: 5, Window: time.Hour},
	ConfirmPerAccount:     Limit{N: 10, Window: time.Hour},
	MailPerRecipient:      Limit{N: 5, Window: 24 * time.Hour},
	WrongCodesPerAccount:  Limit{N: 20, Window: 24 * time.Hour},
}

// Service carries out account operations.
type Service struct {
	Store    Store
	Mail     Mailer
	Policies Policies
	Keys     *privacy.Keyed
	Now      func() time.Time
	Config   Config
	Limits   Limits
	// PasswordRule checks a new password (strength.Validate). Only the function that
	// registers accounts sets it: the checker's dictionaries cost ~20 ms of cold start.
	PasswordRule func(field, pw string, userInputs ...string) error
}

// Hash domains: each kind of secret or look-up key is hashed in its own domain.
const (
	domainEmail    = "email"
	domainUsername = "username"
	domainCode     = "code"
	domainToken    = "token"
	domainSession  = "session"
	domainRate     = "rate"
)

func (s *Service) emailKey(email string) string {
	return s.Keys.Hash(domainEmail, privacy.CanonicalEmail(email))
}
func (s *Service) usernameKey(u string) string {
	return s.Keys.Hash(domainUsername, strings.ToLower(u))
}

// secretHash binds a code or token to its subject and purpose.
func (s *Service) secretHash(domain string, id privacy.SubjectID, kind, secret string) string {
	return s.Keys.Hash(domain, string(id)+"|"+kind+"|"+secret)
}

// limit enforces one rate limit; the key is hashed, never stored as given.
func (s *Service) limit(ctx context.Context, scope, key string, l Limit) error {
	if l.N <= 0 || key == "" {
		return nil
	}
	ok, retry, err := s.Store.Hit(ctx, scope+"#"+s.Keys.Hash(domainRate, scope+"|"+key), l.N, l.Window, s.Now())
	if err != nil {
		return err
	}
	if !ok {
		secs := int(retry.Seconds()) + 1
		return &privacy.Error{Code: privacy.RateLimited, RetryAfterSeconds: secs,
			Message: fmt.Sprintf("Too many attempts. Please wait %d minutes and try again.", (secs+59)/60)}
	}
	return nil
}

func (s *Service) policyVersion(ctx context.Context) (string, error) {
	v, err := s.Policies.InForce(ctx)
	if err != nil {
		return "", fmt.Errorf("policy in force: %w", err)
	}
	return v.ID, nil
}

// newVerification makes a code and a link token; only their hashes are kept.
func (s *Service) newVerification(id privacy.SubjectID, kind privacy.VerificationKind) (v privacy.Verification, code, token string) {
	code = privacy.NewCode()
	secret := privacy.NewToken()
	v = privacy.Verification{
		Kind:      kind,
		CodeHash:  s.secretHash(domainCode, id, string(kind), code),
		TokenHash: s.secretHash(domainToken, id, string(kind), secret),
		ExpiresAt: s.Now().Add(s.Config.CodeTTL),
	}
	// The token travels in the URL fragment, which browsers never send to a server, so it
	// cannot end up in an access log.
	return v, code, string(id) + "." + secret
}

// verifyLink is the mailed link for a verification token, on the page in the person's language.
func (s *Service) verifyLink(locale, token string) string {
	return s.Config.SiteURL + sitePath(locale, "/verify/") + "#token=" + token
}

func sitePath(locale, p string) string {
	if locale == privacy.LocaleChinese {
		return "/zh" + p
	}
	return p
}

// codeMinutes is how long a mailed code works, as the mail says it.
func (s *Service) codeMinutes() int { return int(s.Config.CodeTTL.Minutes()) }

func (s *Service) send(ctx context.Context, m mail.Message) error {
	if err := s.Mail.Send(ctx, m); err != nil {
		return fmt.Errorf("send %s mail: %w", m.Kind, err)
	}
	return nil
}

// logged notes that something happened to a subject, by ID only: never an address or name.
func logged(msg string, id privacy.SubjectID, args ...any) {
	slog.Info(msg, append([]any{"subject", string(id)}, args...)...)
}

var (
	errInvalidCode = privacy.FieldError("code", "The code is not right or has expired. A code works once, for a limited time, and stops working after 5 wrong tries: check the latest mail, or ask for a new code.")
	errInvalidLink = privacy.FieldError("token", "This link is not valid any more: it was used already or expired. Ask for a new code.")
)

// isNotFound reports a privacy.NotFound error.
func isNotFound(err error) bool { return privacy.ErrorCode(err) == privacy.NotFound }

// Audit actions.
const (
	actionRegistered       = "account.registered"
	actionEmailVerified    = "email.verified"
	actionGuardianConfirms = "guardian.confirmed"
	actionProfileUpdated   = "profile.updated"
	actionEmailRequested   = "email.change_requested"
	actionEmailChanged     = "email.changed"
)

func (s *Service) audit(action string, fields ...string) privacy.AuditEntry {
	return privacy.AuditEntry{At: s.Now(), Action: action, Fields: fields}
}
