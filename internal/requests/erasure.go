package requests

import (
	"context"
	"time"

	"github.com/privacyportal/portal/internal/jobs"
	"github.com/privacyportal/portal/internal/privacy"
)

// JobErase: a cancellation, or a deletion that needs no decision or that the operator decided,
// is under way; the erasure worker erases the subject (on the erasure queue, Env.Erase).
// Job.Subject is whose data goes, Job.Request the request that asked.
const JobErase jobs.Kind = "erase"

// ErasesAtOnce reports whether a proved request is carried out by erasure without a decision:
// a cancellation (P03, P20), and a deletion on the grounds that need none, the person no longer
// using the service and the service having ended (P17). A deletion on another ground waits for
// the operator (Operator.Erase, or a refusal where the law requires keeping the data).
func ErasesAtOnce(r privacy.Request) bool {
	switch r.Type {
	case privacy.RequestCancellation:
		return true
	case privacy.RequestDeletion:
		return r.Ground == privacy.GroundLeftService || r.Ground == privacy.GroundServiceEnded
	}
	return false
}

// Erased reports whether a request is answered by erasure.
func Erased(t privacy.RequestType) bool {
	return t == privacy.RequestDeletion || t == privacy.RequestCancellation
}

// erase starts the erasure a proved request asks for: the account (if the subject has one)
// stops at once, every session revoked and nothing able to activate it again; the request is
// in progress; and the erasure worker gets its job. Each step can be taken again: a retried
// call finishes what an earlier one began.
func (e *Env) erase(ctx context.Context, store Store, r Record) (Record, error) {
	if !r.Status.Open() {
		// Checked before the account is closed: a refused or completed request closes nothing.
		return Record{}, privacy.Errorf(privacy.Conflict, "Request %s is %s: it is not open.", ID(r.Subject, r.ID), r.Status)
	}
	if err := store.CloseAccount(ctx, r.Subject); err != nil && privacy.ErrorCode(err) != privacy.NotFound {
		return Record{}, err
	}
	r, err := update(ctx, store, r.Subject, r.ID, func(r *Record) error {
		if r.Status == privacy.RequestInProgress {
			return errUnchanged
		}
		if !r.Status.Open() {
			return privacy.Errorf(privacy.Conflict, "Request %s is %s: it is not open.", ID(r.Subject, r.ID), r.Status)
		}
		r.Status = privacy.RequestInProgress
		r.Steps = append(r.Steps, privacy.RequestStep{Status: privacy.RequestInProgress, At: e.Now()})
		return nil
	})
	if err != nil {
		return Record{}, err
	}
	logged("erasure started", r.Subject)
	if err := e.enqueue(ctx, jobs.Job{Kind: JobErase, Subject: r.Subject, Request: r.ID}); err != nil {
		return Record{}, err
	}
	return r, nil
}

// Erase carries out a deletion or cancellation request the operator decided to honour.
func (s *Operator) Erase(ctx context.Context, id string) (View, error) {
	r, err := s.request(ctx, id)
	if err != nil {
		return View{}, err
	}
	if !Erased(r.Type) {
		return View{}, privacy.Errorf(privacy.Conflict, "Request %s asks for %s: only deletion and cancellation are answered by erasure.", id, r.Type)
	}
	r, err = s.Env.erase(ctx, s.Store, r)
	if err != nil {
		return View{}, err
	}
	return viewOf(r), nil
}

// erasureView is a request whose subject was erased, from its tombstone: the request itself
// went with everything else.
func erasureView(subject privacy.SubjectID, t privacy.Tombstone) View {
	v := View{
		ID: ID(subject, t.Request), Type: string(t.Type), Status: string(privacy.RequestInProgress), Received: t.Received, Due: t.Due,
		Ground: string(t.Ground),
		Steps: []StepView{
			{Status: string(privacy.RequestReceived), At: t.Received}, {Status: string(privacy.RequestInProgress), At: t.Started},
		},
		Erasure: &ErasureView{
			State: string(t.State), Items: t.ItemsRemoved(), Objects: t.Objects, RecipientsTold: t.RecipientsTold, Verified: t.Verified,
		},
	}
	if v.Erasure.RecipientsTold == nil {
		v.Erasure.RecipientsTold = []string{}
	}
	if t.State == privacy.ErasureDone {
		v.Status = string(privacy.RequestCompleted)
		v.Steps = append(v.Steps, StepView{Status: string(privacy.RequestCompleted), At: t.Erased})
		v.Erasure.ErasedAt = &t.Erased
	}
	return v
}

// ErasureView is where the erasure a request asked for stands.
type ErasureView struct {
	State          string     `json:"state"`
	ErasedAt       *time.Time `json:"erasedAt,omitempty"`
	Items          int        `json:"items"`
	Objects        int        `json:"objects"`
	RecipientsTold []string   `json:"recipientsTold"`
	Verified       bool       `json:"verified"`
}

// tombstoneOf finds the tombstone of a subject's request: it must name the subject (by its
// keyed hash), so a link made for another subject finds nothing.
func (e *Env) tombstoneOf(ctx context.Context, store Store, subject privacy.SubjectID, request string) (privacy.Tombstone, error) {
	t, err := store.Tombstone(ctx, request)
	if err != nil {
		return privacy.Tombstone{}, err
	}
	if !privacy.Equal(t.SubjectHash, e.Keys.Hash(privacy.DomainTombstone, string(subject))) {
		return privacy.Tombstone{}, errNoRequest
	}
	return t, nil
}
