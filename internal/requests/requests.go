// Package requests is data-subject requests (promises P15, P16, P21, P22, P23, P26): one intake
// for visitors (an address proved by a mailed code) and signed-in people, proof before any work,
// a due date on every request, its steps kept in the person's partition and mailed to them, a
// status link, repeat detection, refusals on the policy's grounds, the operator's work on them
// (the Operator service, which portalctl drives), and the export of a copy.
package requests

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/privacyportal/portal/internal/jobs"
	"github.com/privacyportal/portal/internal/password"
	"github.com/privacyportal/portal/internal/privacy"
	"github.com/privacyportal/portal/internal/ratelimit"
	"github.com/privacyportal/portal/internal/web"
)

// Jobs the requests feature hands to workers.
const (
	// JobReceived: a visitor filed a request; the mail worker mails the code that proves the
	// address (Job.Subject is the requester's partition, Job.Request the request).
	JobReceived jobs.Kind = "request_received"
	// JobVerified: a request was proved; the mail worker mails its receipt, with the status link.
	JobVerified jobs.Kind = "request_verified"
	// JobUpdated: a request moved on (in progress, completed, refused); the requester is told.
	JobUpdated jobs.Kind = "request_updated"
	// JobExport: a proved access or copy request; the export worker writes the archive (on
	// the job queue, Env.Work).
	JobExport jobs.Kind = "export"
	// JobExportReady: the archive is written; the mail worker mails its single-use link.
	JobExportReady jobs.Kind = "export_ready"
	// JobShare: the requester confirmed that the third party they named gets the copy.
	JobShare jobs.Kind = "export_share"
	// JobDeadlines: the daily look at due dates; the mail worker mails the operator a digest.
	JobDeadlines jobs.Kind = "request_deadlines"
)

// Config is the requests feature's settings.
type Config struct {
	// ResponseDays is how long a request may take (30, P23).
	ResponseDays int
	// CodeTTL is how long an intake's code works; an unproved request expires with it.
	CodeTTL time.Duration
	// Repeats flags repeated requests of one type (P23).
	Repeats privacy.Repeats
	// ExportLinkTTL is how long an export's mailed link works (its archive expires with the
	// bucket's lifecycle, ExportRetentionDays); PresignTTL how long the URL it redirects to.
	ExportLinkTTL, PresignTTL time.Duration
	// SiteURL is the portal's origin, for links in mail.
	SiteURL string
	// Operator is where the operator is told about due dates.
	OperatorEmail string
}

// Limits bound what strangers can make the intake do.
type Limits struct {
	IntakePerIP, CodesPerMailbox, VerifyPerIP, CodesPerClient ratelimit.Limit
}

// DefaultLimits fit a person's pace.
var DefaultLimits = Limits{
	IntakePerIP:     ratelimit.Limit{N: 20, Window: time.Hour},
	CodesPerMailbox: ratelimit.Limit{N: 5, Window: 24 * time.Hour},
	VerifyPerIP:     ratelimit.Limit{N: 60, Window: 15 * time.Minute},
	CodesPerClient:  ratelimit.Limit{N: 20, Window: 24 * time.Hour},
}

// Env is what the requests services share.
type Env struct {
	Keys    *privacy.Keyed
	Limiter *ratelimit.Limiter
	Limits  Limits
	// Jobs is the mail worker's queue; Work the job queue the export worker takes its work
	// from, Erase the erasure worker's.
	Jobs, Work, Erase jobs.Queue
	Now               func() time.Time
	Config            Config
}

func (e *Env) enqueue(ctx context.Context, j jobs.Job) error {
	q := e.Jobs
	switch j.Kind {
	case JobExport:
		q = e.Work
	case JobErase:
		q = e.Erase
	}
	j.At = e.Now()
	if err := q.Enqueue(ctx, j); err != nil {
		return fmt.Errorf("enqueue %s job: %w", j.Kind, err)
	}
	return nil
}

// ID is a request's public ID (privacy.RequestID).
func ID(subject privacy.SubjectID, request string) string { return privacy.RequestID(subject, request) }

// SplitID splits a public request ID.
func SplitID(id string) (privacy.SubjectID, string, bool) {
	s, r, ok := strings.Cut(id, ".")
	if !ok || s == "" || r == "" || len(s) > 64 || len(r) > 64 || strings.Contains(r, ".") {
		return "", "", false
	}
	return privacy.SubjectID(s), r, true
}

// Record is a request as the store keeps it: the request and the hashes of its links.
type Record struct {
	privacy.Request
	// Version is the item's version: every write says which it read, and fails on another.
	Version int
	// Export is the archive of an access or copy request, once written.
	Export ExportState
	// Reminded are the reminders already in an operator digest ("7", "3", "1" days left).
	Reminded []string
	// Overdue is set when the due date passed with the request still open.
	Overdue bool
}

// ExportState is where an archive stands. Its links' tokens are keyed hashes of the request
// (Env.token), so a retried mail carries the same link; single use is the state's.
type ExportState struct {
	// Key is the archive's object key in the exports bucket; Bytes its size; Items how many
	// items it holds.
	Key   string
	Bytes int64
	Items int
	// ExpiresAt is when its links stop working.
	ExpiresAt time.Time
	// Mailed says the requester's link went out, Used that it was followed; ShareMailed that
	// the confirmation for the third party went out.
	Mailed, Used, ShareMailed bool
	// Shared says the requester confirmed that the third party they named gets the copy;
	// ThirdPartyMailed and ThirdPartyUsed are the third party's link.
	Shared, ThirdPartyMailed, ThirdPartyUsed bool
}

// Ref names an open request in the operator's queue: IDs, type and dates, all the index holds.
type Ref struct {
	Subject       privacy.SubjectID
	Request       string
	Type          privacy.RequestType
	Received, Due time.Time
}

// Store is what the requests feature reads and writes.
type Store interface {
	AddressOwners(ctx context.Context, emailKey string) (privacy.AddressOwners, error)
	Account(ctx context.Context, id privacy.SubjectID) (privacy.Account, error)
	Login(ctx context.Context, id privacy.SubjectID) (privacy.Login, error)
	PutVerification(ctx context.Context, id privacy.SubjectID, v privacy.Verification) error
	Verification(ctx context.Context, id privacy.SubjectID, kind privacy.VerificationKind) (privacy.Verification, error)
	FailVerification(ctx context.Context, id privacy.SubjectID, kind privacy.VerificationKind) (int, error)

	// PutRequest writes a new request: a visitor's, unproved, in a partition of its own; a
	// signed-in person's, proved, in their live account's, with the automated decision made
	// about it (d, if any).
	PutRequest(ctx context.Context, r Record, d *privacy.Decision) error
	// Request reads one request (privacy.NotFound when there is none).
	Request(ctx context.Context, subject privacy.SubjectID, id string) (Record, error)
	// Requests reads a subject's requests, oldest first.
	Requests(ctx context.Context, subject privacy.SubjectID) ([]Record, error)
	// SaveRequest writes a request read at version r.Version (privacy.ErrStale if it changed).
	SaveRequest(ctx context.Context, r Record) error
	// MoveRequest proves a visitor's request: it is written, as r, to r.Subject's partition
	// (with the decision made about it, d, if any), and the unproved one (in from, with its
	// code) is deleted, in one transaction; privacy.ErrStale if the unproved one changed or
	// was proved meanwhile.
	MoveRequest(ctx context.Context, from privacy.SubjectID, r Record, d *privacy.Decision) error
	// OpenRequests lists the open requests by due date (the operator's queue).
	OpenRequests(ctx context.Context) ([]Ref, error)
	// Decisions reads a subject's automated decisions.
	Decisions(ctx context.Context, id privacy.SubjectID) ([]privacy.Decision, error)

	// CloseAccount stops an account before its erasure: no sign-in, no activation, every
	// session revoked (privacy.NotFound if there is none).
	CloseAccount(ctx context.Context, id privacy.SubjectID) error
	// Tombstone reads what is left of an erased subject's request (privacy.NotFound if none).
	Tombstone(ctx context.Context, request string) (privacy.Tombstone, error)
}

// Intake files and proves requests.
type Intake struct {
	*Env
	Store Store
}

// FileInput is POST /api/requests.
type FileInput struct {
	Type       string `json:"type"`
	Email      string `json:"email"`
	Details    string `json:"details"`
	Ground     string `json:"ground"`
	ThirdParty string `json:"thirdParty"`
	Password   string `json:"password"`
	Locale     string `json:"locale"`
}

// MaxDetails bounds a request's details.
const MaxDetails = 2000

// validate checks a request's fields; signedIn says whether it comes with a session.
func (in *FileInput) validate(signedIn bool) error {
	t := privacy.RequestType(in.Type)
	if in.Type == "" {
		return privacy.FieldError("type", "is required: say what you are asking for")
	}
	if !t.Valid() {
		return privacy.FieldError("type", "%q is not a kind of request this portal takes", in.Type)
	}
	in.Email = privacy.NormalizeEmail(in.Email)
	switch {
	case signedIn && in.Email != "":
		return privacy.FieldError("email", "is your account's address when you are signed in; leave it out")
	case !signedIn:
		if err := privacy.ValidateEmail("email", in.Email); err != nil {
			return err
		}
	}
	in.Details = strings.TrimSpace(in.Details)
	if t.NeedsDetails() && in.Details == "" {
		return privacy.FieldError("details", "is required: say what the request is about")
	}
	if err := privacy.ValidateParagraphs("details", in.Details, MaxDetails); err != nil {
		return err
	}
	switch g := privacy.DeletionGround(in.Ground); {
	case t == privacy.RequestDeletion && !g.Valid():
		return privacy.FieldError("ground", "is required for a deletion: one of the five grounds")
	case t != privacy.RequestDeletion && in.Ground != "":
		return privacy.FieldError("ground", "is only for deletion requests")
	}
	in.ThirdParty = privacy.NormalizeEmail(in.ThirdParty)
	if in.ThirdParty != "" {
		if t != privacy.RequestCopy {
			return privacy.FieldError("thirdParty", "is only for copy requests")
		}
		if err := privacy.ValidateEmail("thirdParty", in.ThirdParty); err != nil {
			return err
		}
	}
	if in.Locale == "" {
		in.Locale = privacy.LocaleEnglish
	}
	if err := privacy.ValidateLocale("locale", in.Locale); err != nil {
		return err
	}
	if signedIn && t.NeedsPassword() && in.Password == "" {
		return privacy.FieldError("password", "is required for this request: enter your password again")
	}
	if !signedIn && in.Password != "" {
		return privacy.FieldError("password", "is only asked of signed-in people")
	}
	return nil
}

// FiledErasing is a filed request's status when its erasure started at once: the account (if
// any) is closed, its sessions revoked, and the outcome comes by mail.
const FiledErasing = "erasing"

// Filed is what filing a request answers.
type Filed struct {
	Status  string `json:"status"`
	Request string `json:"request"`
}

// File files a request. A visitor's is written to a partition of its own, with nothing read
// about the address (so the answer and the work are the same whoever it belongs to), and the
// mail worker mails the code that proves it. A signed-in person's is proved by the session
// (and the password, for the requests that end the account or hand its data out).
func (s *Intake) File(ctx context.Context, in FileInput, caller *web.Caller, clientIP string) (Filed, error) {
	if err := s.Limiter.Allow(ctx, "request-ip", clientIP, s.Limits.IntakePerIP); err != nil {
		return Filed{}, err
	}
	if err := in.validate(caller != nil); err != nil {
		return Filed{}, err
	}
	now := s.Now()
	r := Record{Request: privacy.Request{
		ID: privacy.NewID(), Type: privacy.RequestType(in.Type), Locale: in.Locale, Received: now,
		Due: privacy.DueDateIn(now, s.Config.ResponseDays), Details: in.Details, Ground: privacy.DeletionGround(in.Ground),
		ThirdParty: in.ThirdParty,
	}}
	if caller != nil {
		return s.fileSignedIn(ctx, r, in, *caller)
	}
	if err := s.Limiter.Allow(ctx, "request-mailbox", privacy.MailboxKey(in.Email), s.Limits.CodesPerMailbox); err != nil {
		return Filed{}, err
	}
	r.Subject, r.Email, r.Status = privacy.NewSubjectID(), in.Email, privacy.RequestReceived
	r.Steps = []privacy.RequestStep{{Status: privacy.RequestReceived, At: now}}
	if err := s.Store.PutRequest(ctx, r, nil); err != nil {
		return Filed{}, err
	}
	logged("request filed", r.Subject)
	if err := s.enqueue(ctx, jobs.Job{Kind: JobReceived, Subject: r.Subject, Request: r.ID}); err != nil {
		return Filed{}, err
	}
	return Filed{Status: "check_email", Request: ID(r.Subject, r.ID)}, nil
}

func (s *Intake) fileSignedIn(ctx context.Context, r Record, in FileInput, c web.Caller) (Filed, error) {
	login, err := s.Store.Login(ctx, c.Subject)
	if err != nil {
		return Filed{}, err
	}
	if r.Type.NeedsPassword() && !password.Check(in.Password, login.PasswordHash) {
		return Filed{}, privacy.FieldError("password", "is not right")
	}
	p := login.Account.Profile
	r.Subject, r.Email, r.Locale = c.Subject, p.Email, p.Locale
	r.Status = privacy.RequestVerified
	r.Steps = []privacy.RequestStep{{Status: privacy.RequestReceived, At: r.Received}, {Status: privacy.RequestVerified, At: r.Received}}
	d, err := s.flagRepeat(ctx, &r)
	if err != nil {
		return Filed{}, err
	}
	if err := s.Store.PutRequest(ctx, r, d); err != nil {
		return Filed{}, err
	}
	logged("request filed and proved by the session", r.Subject)
	if ErasesAtOnce(r.Request) {
		if _, err := s.erase(ctx, s.Store, r); err != nil {
			return Filed{}, err
		}
		return Filed{Status: FiledErasing, Request: ID(r.Subject, r.ID)}, nil
	}
	if err := s.proved(ctx, r); err != nil {
		return Filed{}, err
	}
	return Filed{Status: "verified", Request: ID(r.Subject, r.ID)}, nil
}

// flagRepeat flags a request that repeats earlier ones beyond the free count, and returns the
// automated decision to record with it (P22, P23); none when it is not a repeat.
func (s *Intake) flagRepeat(ctx context.Context, r *Record) (*privacy.Decision, error) {
	earlier, err := s.Store.Requests(ctx, r.Subject)
	if err != nil {
		return nil, err
	}
	var prev []privacy.Request
	for _, q := range earlier {
		if q.ID != r.ID {
			prev = append(prev, q.Request)
		}
	}
	r.Repeat = s.Config.Repeats.IsRepeat(prev, r.Type, r.Received)
	if !r.Repeat {
		return nil, nil
	}
	return &privacy.Decision{
		At: r.Received, Name: DecisionRepeat, LogicVersion: RepeatLogicVersion,
		Inputs: map[string]string{
			"type": string(r.Type), "earlierOfTheType": fmt.Sprint(s.Config.Repeats.Counted(prev, r.Type, r.Received)),
			"windowDays": fmt.Sprint(int(s.Config.Repeats.Window.Hours() / 24)), "free": fmt.Sprint(s.Config.Repeats.Free),
		},
		Outcome: "flagged as a repeat for the operator to decide (a fee notice or a refusal)",
	}, nil
}

// The repeat rule, as an automated decision.
const (
	DecisionRepeat     = "request.repeat"
	RepeatLogicVersion = "repeats-1"
)

// Exported reports whether a request of the type is answered with an archive of the person's
// data: a copy (P21), and access, whose answer is all the data held (P15).
func Exported(t privacy.RequestType) bool {
	return t == privacy.RequestCopy || t == privacy.RequestAccess
}

// proved hands a proved request to the workers: its receipt, and for access or a copy, the
// export.
func (s *Intake) proved(ctx context.Context, r Record) error {
	if err := s.enqueue(ctx, jobs.Job{Kind: JobVerified, Subject: r.Subject, Request: r.ID}); err != nil {
		return err
	}
	if Exported(r.Type) {
		return s.enqueue(ctx, jobs.Job{Kind: JobExport, Subject: r.Subject, Request: r.ID})
	}
	return nil
}

// VerifyInput is POST /api/requests/{id}/verify.
type VerifyInput struct {
	Code string `json:"code"`
}

var errBadCode = privacy.FieldError("code", "The code is not right or has expired. A code works once, for a limited time, and stops working after 5 wrong tries: file the request again for a new one.")

// Verify proves a visitor's request with the mailed code. Limits are counted before anything
// is compared, and an ID of nobody answers as a wrong code does, after the same reads. A request
// for an address an account has proved moves to that account's partition; any other stays in
// its own.
func (s *Intake) Verify(ctx context.Context, id string, in VerifyInput, clientIP string) error {
	if err := s.Limiter.Allow(ctx, "request-verify-ip", clientIP, s.Limits.VerifyPerIP); err != nil {
		return err
	}
	code := strings.TrimSpace(in.Code)
	if len(code) != 6 || strings.Trim(code, "0123456789") != "" {
		return privacy.FieldError("code", "is the 6-digit number from the mail")
	}
	if err := s.Limiter.Allow(ctx, "request-code-client", clientIP, s.Limits.CodesPerClient); err != nil {
		return err
	}
	subject, rid, ok := SplitID(id)
	if !ok {
		subject, rid = privacy.NewSubjectID(), privacy.NewID()
	}
	r, err := s.Store.Request(ctx, subject, rid)
	if err != nil && privacy.ErrorCode(err) != privacy.NotFound {
		return err
	}
	v, verr := s.Store.Verification(ctx, subject, privacy.VerifyRequest)
	if verr != nil && privacy.ErrorCode(verr) != privacy.NotFound {
		return verr
	}
	match := verr == nil && v.Usable(s.Now()) && privacy.Equal(s.Keys.SecretHash(privacy.DomainCode, subject, string(privacy.VerifyRequest)+"|"+rid, code), v.CodeHash)
	if err != nil || !match || r.Status != privacy.RequestReceived {
		if _, ferr := s.Store.FailVerification(ctx, subject, privacy.VerifyRequest); ferr != nil && !isStale(ferr) {
			return ferr
		}
		return errBadCode
	}
	now := s.Now()
	final := r
	owners, err := s.Store.AddressOwners(ctx, s.Keys.EmailKey(r.Email))
	if err != nil {
		return err
	}
	if owners.Owner != "" {
		final.Subject = owners.Owner
		if a, err := s.Store.Account(ctx, owners.Owner); err == nil {
			final.Email = a.Profile.Email
		}
	}
	final.Status = privacy.RequestVerified
	final.Steps = append(final.Steps, privacy.RequestStep{Status: privacy.RequestVerified, At: now})
	d, err := s.flagRepeat(ctx, &final)
	if err != nil {
		return err
	}
	switch err := s.Store.MoveRequest(ctx, subject, final, d); {
	case isStale(err):
		return errBadCode
	case err != nil:
		return err
	}
	logged("request proved", final.Subject)
	if ErasesAtOnce(final.Request) {
		_, err := s.erase(ctx, s.Store, final)
		return err
	}
	return s.proved(ctx, final)
}

// Link purposes: each names one link's token in its keyed hash, so a token made for one link
// opens nothing else.
const (
	linkStatus     = "request-status"
	linkExport     = "export"
	linkShare      = "export-share"
	linkThirdParty = "export-third-party"
)

// token is the secret of one of a request's links: a keyed hash of the request and the link's
// purpose. It needs no storing, a retried mail carries the same link, and it dies with the
// request (and the hash key).
func (e *Env) token(subject privacy.SubjectID, request, purpose string) string {
	return e.Keys.SecretHash(privacy.DomainToken, subject, purpose, request)
}

// validToken compares a token from a link with the one the request's link carries, in
// constant time.
func (e *Env) validToken(subject privacy.SubjectID, request, purpose, token string) bool {
	return len(token) == 64 && privacy.Equal(e.token(subject, request, purpose), token)
}

func isStale(err error) bool { return errors.Is(err, privacy.ErrStale) }

// logged writes an event about a subject: its ID only, never personal data.
func logged(msg string, id privacy.SubjectID) {
	slog.Info(msg, "subject", string(id))
}

// errUnchanged, from an update's change, ends the update with nothing written.
var errUnchanged = errors.New("unchanged")

// update reads a request, applies change and writes it back, reading again if it changed
// meanwhile. A change that returns errUnchanged writes nothing (update returns nil and the
// request as read); any other error is returned as is.
func update(ctx context.Context, store Store, subject privacy.SubjectID, id string, change func(*Record) error) (Record, error) {
	for range 3 {
		r, err := store.Request(ctx, subject, id)
		if err != nil {
			return Record{}, err
		}
		switch err := change(&r); {
		case errors.Is(err, errUnchanged):
			return r, nil
		case err != nil:
			return Record{}, err
		}
		switch err := store.SaveRequest(ctx, r); {
		case isStale(err):
			continue
		case err != nil:
			return Record{}, err
		}
		r.Version++
		return r, nil
	}
	return Record{}, privacy.Errorf(privacy.Conflict, "The request keeps changing: try again.")
}
