package account

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/privacyportal/portal/internal/privacy"
)

// JobKind says what a job asks the mail worker to do.
type JobKind string

// Jobs. Each names what to look at (a subject, or the keyed hash of an address someone typed)
// and never an address, a name or a secret: the queue and its dead-letter queue hold nothing
// personal, and a job for a subject erased meanwhile finds nothing and sends nothing.
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

// Job is one unit of work for the mail worker.
type Job struct {
	Kind    JobKind           `json:"kind"`
	Subject privacy.SubjectID `json:"subject,omitempty"`
	// EmailKey is the look-up key of an address a request named, when the request could not
	// tell (or must not show, by its timing) whose it is.
	EmailKey string `json:"emailKey,omitempty"`
	// Superseded is a pending registration the new one replaced, for the worker to delete.
	Superseded privacy.SubjectID `json:"superseded,omitempty"`
	At         time.Time         `json:"at"`
}

// Jobs is where the account functions put work for the mail worker (an SQS queue).
type Jobs interface {
	Enqueue(ctx context.Context, j Job) error
}

// ParseJob reads a job from a queue message body.
func ParseJob(body string) (Job, error) {
	var j Job
	if err := json.Unmarshal([]byte(body), &j); err != nil {
		return Job{}, fmt.Errorf("job: %w", err)
	}
	switch j.Kind {
	case JobRegistered, JobGuardianRequest, JobGuardianDecided, JobEmailChange, JobPasswordChanged:
		if j.Subject == "" {
			return Job{}, fmt.Errorf("job %s: no subject", j.Kind)
		}
	case JobResend, JobPasswordReset:
		if j.EmailKey == "" {
			return Job{}, fmt.Errorf("job %s: no address key", j.Kind)
		}
	default:
		return Job{}, fmt.Errorf("job: unknown kind %q", j.Kind)
	}
	return j, nil
}

func (e *Env) enqueue(ctx context.Context, j Job) error {
	j.At = e.Now()
	if err := e.Jobs.Enqueue(ctx, j); err != nil {
		return fmt.Errorf("enqueue %s job: %w", j.Kind, err)
	}
	return nil
}
