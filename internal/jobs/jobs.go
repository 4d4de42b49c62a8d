// Package jobs is the work the API's functions hand to workers through a queue: a request does
// what must be done before it answers, and leaves the rest (mail above all) to a worker, so that
// it does the same work whoever an address belongs to and a slow service never slows the API.
package jobs

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/privacyportal/portal/internal/privacy"
)

// Kind says what a job asks for. Each feature names its own kinds and its worker does them.
type Kind string

// Job is one unit of work. It names what to look at (a subject, a receipt, the keyed hash of
// an address someone typed) and never an address, a name or a secret: the queue and its
// dead-letter queue hold nothing personal, and a job for a subject erased meanwhile finds
// nothing and does nothing.
type Job struct {
	Kind    Kind              `json:"kind"`
	Subject privacy.SubjectID `json:"subject,omitempty"`
	// EmailKey is the look-up key of an address a request named, when the request could not
	// tell (or must not show, by its timing) whose it is.
	EmailKey string `json:"emailKey,omitempty"`
	// Superseded is a pending registration the new one replaced, for the worker to delete.
	Superseded privacy.SubjectID `json:"superseded,omitempty"`
	// Receipt names a consent receipt in the subject's ledger.
	Receipt string `json:"receipt,omitempty"`
	// Campaign names a campaign (its content is the operator's, not personal).
	Campaign string `json:"campaign,omitempty"`
	// Purpose names a purpose of the catalogue (a disclosure's).
	Purpose string `json:"purpose,omitempty"`
	// Request names a data-subject request of the subject (its id within the subject).
	Request string `json:"request,omitempty"`
	// Subjects are a batch of a campaign's recipients (IDs only).
	Subjects []privacy.SubjectID `json:"subjects,omitempty"`
	At       time.Time           `json:"at"`
}

// Queue is where functions put work for the workers (an SQS queue).
type Queue interface {
	Enqueue(ctx context.Context, j Job) error
}

// Parse reads a job from a queue message body. The worker of its kind checks the rest.
func Parse(body string) (Job, error) {
	var j Job
	if err := json.Unmarshal([]byte(body), &j); err != nil {
		return Job{}, fmt.Errorf("job: %w", err)
	}
	if j.Kind == "" {
		return Job{}, fmt.Errorf("job: no kind")
	}
	return j, nil
}
