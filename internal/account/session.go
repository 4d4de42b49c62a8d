package account

import (
	"cmp"
	"context"
	"errors"
	"strings"

	"github.com/privacyportal/portal/internal/password"
	"github.com/privacyportal/portal/internal/privacy"
	"github.com/privacyportal/portal/internal/web"
)

// SessionManager signs people in and out and tells who a request comes from.
type SessionManager struct {
	*Env
	Store SessionStore
}

// SignInInput is the sign-in form: an e-mail address or a username, and the password.
type SignInInput struct {
	Login    string `json:"login"`
	Password string `json:"password"`
}

// Problem types of the two sign-in refusals a page must tell apart.
const (
	ProblemUnverified      = "/api/problems/email-unverified"
	ProblemGuardianPending = "/api/problems/guardian-pending"
)

var errSignIn = privacy.Errorf(privacy.Unauthorized, "The e-mail/username or password is not right.")

// SignedIn is a new session: Cookie is what the browser keeps ("<subject>.<token>").
type SignedIn struct {
	Cookie  string
	Session privacy.Session
}

// SignIn checks a login and password and opens a session. Failures never say which part was
// wrong, and an unknown login costs the same password hashing as a known one.
func (s *SessionManager) SignIn(ctx context.Context, in SignInInput, clientIP string) (SignedIn, error) {
	if err := s.Limiter.Allow(ctx, "signin-ip", clientIP, s.Limits.SignInPerIP); err != nil {
		return SignedIn{}, err
	}
	login := strings.TrimSpace(in.Login)
	if login == "" {
		return SignedIn{}, privacy.FieldError("login", "is required: your e-mail address or username")
	}
	if in.Password == "" {
		return SignedIn{}, privacy.FieldError("password", "is required")
	}
	if len(login) > 254 || len(in.Password) > password.MaxBytes {
		return SignedIn{}, errSignIn
	}
	// Per login and client address: guessing from one place is slow, and nobody can lock
	// a person out from one place either.
	if err := s.Limiter.Allow(ctx, "signin-login", strings.ToLower(login)+"|"+clientIP, s.Limits.SignInPerLogin); err != nil {
		return SignedIn{}, err
	}
	var id privacy.SubjectID
	var emailKey string
	if strings.Contains(login, "@") {
		emailKey = s.Keys.EmailKey(login)
		owners, err := s.Store.AddressOwners(ctx, emailKey)
		if err != nil {
			return SignedIn{}, err
		}
		// The account that proved the address; else the registration waiting to prove it, so
		// that its owner, with its password, is told to verify first.
		id = cmp.Or(owners.Owner, owners.Pending)
	} else {
		var err error
		if id, err = s.Store.SubjectByUsername(ctx, s.Keys.UsernameKey(login)); err != nil && !isNotFound(err) {
			return SignedIn{}, err
		}
	}
	// All attempts on one account, from anywhere, by e-mail or username alike; a login with no
	// account is counted the same way, so the limit cannot tell which logins exist.
	bucket := "login:" + strings.ToLower(login)
	if id != "" {
		bucket = string(id)
	}
	if err := s.Limiter.Allow(ctx, "signin-account", bucket, s.Limits.SignInPerAccount); err != nil {
		return SignedIn{}, err
	}
	if id == "" {
		id = privacy.NewSubjectID() // nobody's: the same read and hash as for an account
	}
	rec, err := s.Store.Login(ctx, id)
	if err != nil && !isNotFound(err) {
		return SignedIn{}, err
	}
	if !checkPassword(in.Password, rec.PasswordHash) {
		return SignedIn{}, errSignIn
	}
	// The password is right: from here on the answer may say what the account needs.
	a := rec.Account
	switch a.Status {
	case privacy.StatusUnverified:
		// A new code at most as often as "send a new code" allows: each one mails the address.
		err := s.Limiter.Allow(ctx, "resend-email", privacy.MailboxKey(a.Profile.Email), s.Limits.ResendPerEmail)
		if err == nil {
			err = s.enqueue(ctx, Job{Kind: JobResend, EmailKey: a.EmailKey})
		}
		msg := "Verify your e-mail address first: we have sent you a new code."
		switch {
		case privacy.ErrorCode(err) == privacy.RateLimited:
			msg = "Verify your e-mail address first, with the latest code we sent you."
		case err != nil:
			return SignedIn{}, err
		}
		return SignedIn{}, &privacy.Error{Code: privacy.Forbidden, Type: ProblemUnverified, Message: msg}
	case privacy.StatusPending:
		return SignedIn{}, &privacy.Error{Code: privacy.Forbidden, Type: ProblemGuardianPending, Message: "Your account is waiting for your parent or guardian to agree. We have mailed them."}
	case privacy.StatusActive:
	default: // being erased
		return SignedIn{}, errSignIn
	}
	if emailKey != "" && emailKey != a.EmailKey {
		return SignedIn{}, errSignIn
	}
	if password.NeedsRehash(rec.PasswordHash) {
		// Made with weaker parameters than today's: stronger now, while the password is at hand.
		// A failure here costs nothing but the upgrade, so it does not fail the sign-in.
		if err := s.Store.Rehash(ctx, id, rec.PasswordHash, password.Hash(in.Password, s.Config.Argon2)); err != nil {
			logged("password rehash failed", id, "err", err)
		}
	}
	token := privacy.NewToken()
	now := s.Now()
	sess := privacy.Session{TokenHash: s.Keys.SessionHash(token), CreatedAt: now, ExpiresAt: now.Add(s.Config.SessionTTL)}
	if err := s.Store.PutSession(ctx, id, sess); err != nil {
		return SignedIn{}, err
	}
	logged("signed in", id)
	return SignedIn{Cookie: string(id) + "." + token, Session: sess}, nil
}

// Caller is a signed-in request's subject and session.
type Caller = web.Caller

// Authenticate turns a session cookie into its caller; a missing, forged, revoked or expired
// session is Unauthorized.
func (s *SessionManager) Authenticate(ctx context.Context, cookie string) (Caller, error) {
	id, token, ok := splitToken(cookie)
	if !ok {
		return Caller{}, privacy.Errorf(privacy.Unauthorized, "Sign in first.")
	}
	h := s.Keys.SessionHash(token)
	if _, err := s.Store.Session(ctx, id, h, s.Now()); err != nil {
		if errors.Is(err, privacy.ErrStale) {
			return Caller{}, privacy.Errorf(privacy.Unauthorized, "Your session has ended. Sign in again.")
		}
		return Caller{}, err
	}
	return Caller{Subject: id, TokenHash: h}, nil
}

// SignOut revokes the caller's session.
func (s *SessionManager) SignOut(ctx context.Context, c Caller) error {
	return s.Store.DeleteSession(ctx, c.Subject, c.TokenHash)
}

// SignOutEverywhere revokes every session of the caller.
func (s *SessionManager) SignOutEverywhere(ctx context.Context, c Caller) error {
	logged("signed out everywhere", c.Subject)
	return s.Store.DeleteSessions(ctx, c.Subject, "")
}
