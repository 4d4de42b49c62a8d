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

// Sender sends the portal's mail. Only the mail worker holds one: a request hands its mail
// to the worker as a Job, so it does the same work whoever the address belongs to, and a slow
// mail service never slows it.
type Sender interface {
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

// Limits are the rate limits. Each is checked before anything is compared or looked up, so a
// limit's answer never depends on whether an account exists. Per-address limits count the
// address's mailbox (privacy.MailboxKey: a+1@ and a.b@ are a@).
type Limits struct {
	RegisterPerIP, RegisterPerEmail ratelimit.Limit
	SignInPerIP, SignInPerLogin     ratelimit.Limit
	// SignInPerAccount bounds all sign-in attempts on one account from anywhere; per-login
	// limits are per client address, so nobody can lock a person out from one address.
	SignInPerAccount ratelimit.Limit
	VerifyPerIP      ratelimit.Limit
	// CodesPerAddress and CodesPerClient bound, per day, every attempt at a mailed code (a
	// verification, a reset), right or wrong, across re-sent codes, whose own attempt counts
	// start again.
	CodesPerAddress, CodesPerClient ratelimit.Limit
	// ResendPerEmail and ResetPerEmail bound the codes a stranger can have mailed to an
	// address.
	ResendPerEmail, ResetPerEmail ratelimit.Limit
	// EmailChangePerAccount bounds new-address codes (each mails someone) and
	// ConfirmPerAccount (per hour and per day) the guesses at them.
	EmailChangePerAccount, ConfirmPerAccount, ConfirmPerAccountDaily ratelimit.Limit
	// PasswordChecksPerAccount bounds guesses at the current password by someone holding a
	// session (a password change, an e-mail or username change).
	PasswordChecksPerAccount ratelimit.Limit
	// MailPerRecipient bounds mail a stranger can make the portal send to an address they
	// name (a guardian, a new address).
	MailPerRecipient ratelimit.Limit
}

// DefaultLimits fit a person's pace and stop scripted guessing.
var DefaultLimits = Limits{
	RegisterPerIP:    ratelimit.Limit{N: 30, Window: time.Hour},
	RegisterPerEmail: ratelimit.Limit{N: 5, Window: time.Hour},
	SignInPerIP:      ratelimit.Limit{N: 60, Window: 15 * time.Minute},
	SignInPerLogin:   ratelimit.Limit{N: 10, Window: 15 * time.Minute},
	SignInPerAccount: ratelimit.Limit{N: 100, Window: 15 * time.Minute},
	VerifyPerIP:      ratelimit.Limit{N: 60, Window: 15 * time.Minute},
	CodesPerAddress:  ratelimit.Limit{N: 20, Window: 24 * time.Hour},
	CodesPerClient:   ratelimit.Limit{N: 100, Window: 24 * time.Hour},
	ResendPerEmail:   ratelimit.Limit{N: 5, Window: time.Hour},
	ResetPerEmail:    ratelimit.Limit{N: 5, Window: time.Hour},

	EmailChangePerAccount:    ratelimit.Limit{N: 5, Window: time.Hour},
	ConfirmPerAccount:        ratelimit.Limit{N: 10, Window: time.Hour},
	ConfirmPerAccountDaily:   ratelimit.Limit{N: 20, Window: 24 * time.Hour},
	PasswordChecksPerAccount: ratelimit.Limit{N: 10, Window: time.Hour},
	MailPerRecipient:         ratelimit.Limit{N: 5, Window: 24 * time.Hour},
}

// Env is what the account services share: keys, limits, the mail worker's queue, the policy
// in force, the password rule, the clock and the settings.
type Env struct {
	Keys     *privacy.Keyed
	Limiter  *ratelimit.Limiter
	Limits   Limits
	Jobs     Jobs
	Policies Policies
	// PasswordRule checks a new password (strength.Validate).
	PasswordRule func(field, pw string, userInputs ...string) error
	Now          func() time.Time
	Config       Config
}

func (e *Env) policyRef(ctx context.Context, locale string) (privacy.PolicyRef, error) {
	v, err := e.Policies.InForce(ctx)
	if err != nil {
		return privacy.PolicyRef{}, fmt.Errorf("policy in force: %w", err)
	}
	return v.Ref(locale), nil
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
	// errCodeOrPassword answers a wrong code and a wrong password alike: which one was wrong
	// is for nobody to learn.
	errCodeOrPassword = privacy.FieldError("code", "The code or the password is not right, or the code has expired. A code works once, for a limited time, and stops working after 5 wrong tries: check the latest mail, or ask for a new code.")
)

// enqueueForAddress hands the worker a job about an address (a new code, a reset code): it
// counts the client's limit and the mailbox's (limit, under name), then queues the job. It
// does the same work for every address and answers alike; the worker finds out whose it is.
func (e *Env) enqueueForAddress(ctx context.Context, kind JobKind, address, clientIP, name string, limit ratelimit.Limit) error {
	if err := e.Limiter.Allow(ctx, "verify-ip", clientIP, e.Limits.VerifyPerIP); err != nil {
		return err
	}
	email := privacy.NormalizeEmail(address)
	if err := privacy.ValidateEmail("email", email); err != nil {
		return err
	}
	if err := e.Limiter.Allow(ctx, name, privacy.MailboxKey(email), limit); err != nil {
		return err
	}
	return e.enqueue(ctx, Job{Kind: kind, EmailKey: e.Keys.EmailKey(email)})
}

// codeSubject counts an attempt at a mailed secret and finds whose it can be, before anything is
// compared. With a code, the attempt counts against the address and the client, and the
// subject is the one pick chooses from the address's owners; with a link, against the client,
// and the subject is the link's. When there is no such subject, it returns a new random one:
// the caller then does the same reads as for a real one, and fails alike.
func (e *Env) codeSubject(ctx context.Context, owners Owners, m mailedSecret, clientIP string, pick func(privacy.AddressOwners) privacy.SubjectID) (privacy.SubjectID, error) {
	id := m.subject
	if m.secret == "" {
		if err := e.limitCodeAttempt(ctx, m.email, clientIP); err != nil {
			return "", err
		}
		o, err := owners.AddressOwners(ctx, e.Keys.EmailKey(m.email))
		if err != nil {
			return "", err
		}
		id = pick(o)
	} else if err := e.Limiter.Allow(ctx, "code-client", clientIP, e.Limits.CodesPerClient); err != nil {
		return "", err
	}
	if id == "" {
		id = privacy.NewSubjectID()
	}
	return id, nil
}

// limitCodeAttempt counts one attempt at a mailed code for an address and a client, before the
// code is compared: guesses are bounded per day whatever the codes re-sent meanwhile.
func (e *Env) limitCodeAttempt(ctx context.Context, email, clientIP string) error {
	if err := e.Limiter.Allow(ctx, "code-address", privacy.MailboxKey(email), e.Limits.CodesPerAddress); err != nil {
		return err
	}
	return e.Limiter.Allow(ctx, "code-client", clientIP, e.Limits.CodesPerClient)
}

// checkPassword compares a password with a stored hash, or with a dummy hash when there is
// none, so that an unknown account costs the same time as a known one.
func checkPassword(pw, hash string) bool {
	if hash == "" {
		password.Check(pw, password.DummyHash())
		return false
	}
	return password.Check(pw, hash)
}

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
	actionPasswordChanged  = "password.changed"
	actionPasswordReset    = "password.reset"
)
