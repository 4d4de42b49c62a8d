package requests

import (
	"context"
	"slices"
	"time"

	"github.com/privacyportal/portal/internal/privacy"
	"github.com/privacyportal/portal/internal/web"
)

// View is a request as its requester sees it.
type View struct {
	ID       string       `json:"id"`
	Type     string       `json:"type"`
	Status   string       `json:"status"`
	Received time.Time    `json:"received"`
	Due      time.Time    `json:"due"`
	Steps    []StepView   `json:"steps"`
	Refusal  *RefusalView `json:"refusal,omitempty"`
	Outcome  string       `json:"outcome,omitempty"`
	Repeat   bool         `json:"repeat,omitempty"`
	Export   *ExportView  `json:"export,omitempty"`
	Details  string       `json:"details,omitempty"`
	Ground   string       `json:"ground,omitempty"`
	Third    string       `json:"thirdParty,omitempty"`
	// Erasure is the erasure a deletion or cancellation asked for, once it began.
	Erasure *ErasureView `json:"erasure,omitempty"`
}

// StepView is one step of a request.
type StepView struct {
	Status string    `json:"status"`
	At     time.Time `json:"at"`
}

// RefusalView is why a request was refused.
type RefusalView struct {
	Ground string `json:"ground"`
	Reason string `json:"reason"`
}

// ExportView says whether a copy's archive is ready, and until when its link works.
type ExportView struct {
	Ready     bool      `json:"ready"`
	ExpiresAt time.Time `json:"expiresAt,omitzero"`
}

func viewOf(r Record) View {
	v := View{
		ID: ID(r.Subject, r.ID), Type: string(r.Type), Status: string(r.Status), Received: r.Received, Due: r.Due,
		Outcome: r.Outcome, Repeat: r.Repeat, Details: r.Details, Ground: string(r.Ground), Third: r.ThirdParty,
		Steps: []StepView{},
	}
	for _, s := range r.Steps {
		v.Steps = append(v.Steps, StepView{Status: string(s.Status), At: s.At})
	}
	if r.Refusal != nil {
		v.Refusal = &RefusalView{Ground: string(r.Refusal.Ground), Reason: r.Refusal.Reason}
	}
	if Exported(r.Type) {
		v.Export = &ExportView{Ready: r.Export.Key != "", ExpiresAt: r.Export.ExpiresAt}
	}
	return v
}

// Tracker shows requests to their requesters.
type Tracker struct {
	*Env
	Store Store
}

var errNoRequest = privacy.Errorf(privacy.NotFound, "No such request, or this link is not valid.")

// Status shows a request by its status link. A token is checked before anything is read: one
// that does not match the ID is not found, and reads nothing.
func (s *Tracker) Status(ctx context.Context, id, token string) (View, error) {
	subject, rid, ok := SplitID(id)
	if !ok || !s.validToken(subject, rid, linkStatus, token) {
		return View{}, errNoRequest
	}
	r, err := s.Store.Request(ctx, subject, rid)
	if privacy.ErrorCode(err) == privacy.NotFound {
		// Erased with everything else of its subject: its tombstone says how it ended.
		t, err := s.tombstoneOf(ctx, s.Store, subject, rid)
		if privacy.ErrorCode(err) == privacy.NotFound {
			return View{}, errNoRequest
		}
		if err != nil {
			return View{}, err
		}
		return erasureView(subject, t), nil
	}
	if err != nil {
		return View{}, err
	}
	return viewOf(expired(r, s.Now(), s.Config.CodeTTL)), nil
}

// List shows a signed-in person their requests, newest first.
func (s *Tracker) List(ctx context.Context, c web.Caller) ([]View, error) {
	rs, err := s.Store.Requests(ctx, c.Subject)
	if err != nil {
		return nil, err
	}
	out := []View{}
	for _, r := range slices.Backward(rs) {
		out = append(out, viewOf(expired(r, s.Now(), s.Config.CodeTTL)))
	}
	return out, nil
}

// expired shows an unproved request past its code's life as expired: nothing was done for it.
func expired(r Record, now time.Time, codeTTL time.Duration) Record {
	if r.Status == privacy.RequestReceived && now.After(r.Received.Add(codeTTL)) {
		r.Status = privacy.RequestExpired
	}
	return r
}
