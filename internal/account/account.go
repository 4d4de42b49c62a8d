// Package account is registration, e-mail verification, sign-in and sessions, the account page
// (access and correction), e-mail changes, guardians' decisions for children, and the sweep of
// accounts that never became active: promises P01, P02, P13, P15, P16 and P24.
//
// Each part is its own service with the few store methods it uses (stores.go), so a function
// links, and a test fakes, only what its part needs. The DynamoDB adapter implements them all.
package account

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/privacyportal/portal/internal/mail"
	"github.com/privacyportal/portal/internal/password"
	"github.com/privacyportal/portal/internal/policy"
	"github.com/privacyportal/portal/internal/privacy"
	"github.com/privacyportal/portal/internal/ratelimit"
)

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
}

// Limits are the rate limits, per client address and per account identifier.
type Limits struct {
	RegisterPerIP, RegisterPerEmail ratelimit.Limit
	SignInPerIP, SignInPerLogin     ratelimit.Limit
	// SignInPerAccount bounds all sign-in attempts on one account from anywhere; per-login
	// limits are per client address, so nobody can lock a person out from one address.
	SignInPerAccount            ratelimit.Limit
	VerifyPerIP, ResendPerEmail ratelimit.Limit
	// EmailChangePerAccount bounds new-address codes (each mails someone) and
	// ConfirmPerAccount the guesses at them.
	EmailChangePerAccount, ConfirmPerAccount ratelimit.Limit
	// MailPerRecipient bounds mail a stranger can make the portal send to an address they
	// name (a guardian, a new address); WrongCodesPerAccount bounds guesses across re-sent
	// codes, whose attempt counts start again.
	MailPerRecipient, WrongCodesPerAccount ratelimit.Limit
}

// DefaultLimits fit a person's pace and stop scripted guessing.
var DefaultLimits = Limits{
	RegisterPerIP:    ratelimit.Limit{N: 30, Window: time.Hour},
	RegisterPerEmail: ratelimit.Limit{N: 5, Window: time.Hour},
	SignInPerIP:      ratelimit.Limit{N: 60, Window: 15 * time.Minute},
	SignInPerLogin:   ratelimit.Limit{N: 10, Window: 15 * time.Minute},
	SignInPerAccount: ratelimit.Limit{N: 100, Window: 15 * time.Minute},
	VerifyPerIP:      ratelimit.Limit{N: 60, Window: 15 * time.Minute},
	ResendPerEmail:   ratelimit.Limit{N: 5, Window: time.Hour},

	EmailChangePerAccount: ratelimit.Limit{N: 5, Window: time.Hour},
	ConfirmPerAccount:     ratelimit.Limit{N: 10, Window: time.Hour},
	MailPerRecipient:      ratelimit.Limit{N: 5, Window: 24 * time.Hour},
	WrongCodesPerAccount:  ratelimit.Limit{N: 20, Window: 24 * time.Hour},
}

// Env is what the account services share: keys, limits, mail, the policy in force, the clock
// and the settings.
type Env struct {
	Keys     *privacy.Keyed
	Limiter  *ratelimit.Limiter
	Limits   Limits
	Mail     Mailer
	Policies Policies
	Now      func() time.Time
	Config   Config
}

func (e *Env) policyVersion(ctx context.Context) (string, error) {
	v, err := e.Policies.InForce(ctx)
	if err != nil {
		return "", fmt.Errorf("policy in force: %w", err)
	}
	return v.ID, nil
}

// newVerification makes a code and a link token; only their keyed hashes are kept.
func (e *Env) newVerification(id privacy.SubjectID, kind privacy.VerificationKind) (v privacy.Verification, code, token string) {
	code = privacy.NewCode()
	secret := privacy.NewToken()
	v = privacy.Verification{
		Kind:      kind,
		CodeHash:  e.Keys.SecretHash(privacy.DomainCode, id, string(kind), code),
		TokenHash: e.Keys.SecretHash(privacy.DomainToken, id, string(kind), secret),
		ExpiresAt: e.Now().Add(e.Config.CodeTTL),
	}
	// The token travels in the URL fragment, which browsers never send to a server, so it
	// cannot end up in an access log.
	return v, code, string(id) + "." + secret
}

// link is a page of the site in the person's language, with a token in its fragment.
func (e *Env) link(locale, page, token string) string {
	return e.Config.SiteURL + privacy.LocalePath(locale, page) + "#token=" + token
}

// codeMinutes is how long a mailed code works, as the mail says it.
func (e *Env) codeMinutes() int { return int(e.Config.CodeTTL.Minutes()) }

func (e *Env) send(ctx context.Context, m mail.Message) error {
	if err := e.Mail.Send(ctx, m); err != nil {
		return fmt.Errorf("send %s mail: %w", m.Kind, err)
	}
	return nil
}

func (e *Env) audit(action string, fields ...string) privacy.AuditEntry {
	return privacy.AuditEntry{At: e.Now(), Action: action, Fields: fields}
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
