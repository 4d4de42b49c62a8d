package account

import (
	"context"
	"fmt"

	"github.com/privacyportal/portal/internal/jobs"
)

// JobKind says what a job asks the mail worker to do.
type JobKind = jobs.Kind

// Job is one unit of work for the mail worker.
type Job = jobs.Job

// Jobs is where the account functions put work for the mail worker (an SQS queue).
type Jobs = jobs.Queue

// The account's jobs. Each names what to look at (a subject, or the keyed hash of an address
// someone typed) and never an address, a name or a secret (see package jobs).
const (
	// JobRegistered: a registration was written. The worker mails its code, or, if the address
	// is proved by an account already, tells that account's owner and retires the attempt.
	JobRegistered JobKind = "registered"
	// JobResend: someone asked for a new code for EmailKey.
	JobResend JobKind = "resend"
	// JobGuardianRequest: a child proved their address; their guardian is asked now.
	JobGuardianRequest JobKind = "guardian_request"
	// JobGuardianDecided: a guardian answered; the worker tells them, and completes a refusal.
	JobGuardianDecided JobKind = "guardian_decided"
	// JobEmailChange: a person asked to change their address; the new one gets a code and the
	// old one a notice.
	JobEmailChange JobKind = "email_change"
	// JobPasswordReset: someone asked to reset the password of the account of EmailKey.
	JobPasswordReset JobKind = "password_reset"
	// JobPasswordChanged: a password was changed or reset; the account's address is told.
	JobPasswordChanged JobKind = "password_changed"
)

// needsSubject tells, for each of the account's jobs, whether it names a subject (or else the
// look-up key of an address).
var needsSubject = map[JobKind]bool{
	JobRegistered: true, JobGuardianRequest: true, JobGuardianDecided: true, JobEmailChange: true, JobPasswordChanged: true,
	JobResend: false, JobPasswordReset: false,
}

// checkJob checks that a job is one of the account's and carries what its kind needs.
func checkJob(j Job) error {
	subject, ok := needsSubject[j.Kind]
	switch {
	case !ok:
		return fmt.Errorf("job: unknown kind %q", j.Kind)
	case subject && j.Subject == "":
		return fmt.Errorf("job %s: no subject", j.Kind)
	case !subject && j.EmailKey == "":
		return fmt.Errorf("job %s: no address key", j.Kind)
	}
	return nil
}

// Handles reports whether a job's kind is one of the account's.
func (w *MailWorker) Handles(k JobKind) bool {
	_, ok := needsSubject[k]
	return ok
}

func (e *Env) enqueue(ctx context.Context, j Job) error {
	j.At = e.Now()
	if err := e.Jobs.Enqueue(ctx, j); err != nil {
		return fmt.Errorf("enqueue %s job: %w", j.Kind, err)
	}
	return nil
}
