package requests

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/privacyportal/portal/internal/jobs"
	"github.com/privacyportal/portal/internal/privacy"
)

// Operator is the operator's work on requests (portalctl drives it): the queue by due date,
// one request with what an answer needs, and the steps that answer it. Every step is kept in
// the request (with its time) and mailed to the requester.
type Operator struct {
	*Env
	Store Store
}

// Case is one request with what the operator needs to answer it: the request, the account it
// concerns (empty for a requester with no account) and the automated decisions recorded about
// the subject (for an explanation, P22).
type Case struct {
	Request View
	// Email and Locale are where and in which language the requester is answered: the
	// operator's words go into mail in that language.
	Email, Locale string
	Account       *privacy.Account
	Decisions     []privacy.Decision
}

// Queue lists the open requests by due date, soonest first.
func (s *Operator) Queue(ctx context.Context) ([]View, error) {
	refs, err := s.Store.OpenRequests(ctx)
	if err != nil {
		return nil, err
	}
	out := []View{}
	for _, ref := range refs {
		r, err := s.Store.Request(ctx, ref.Subject, ref.Request)
		if privacy.ErrorCode(err) == privacy.NotFound {
			continue // erased meanwhile
		}
		if err != nil {
			return nil, err
		}
		out = append(out, viewOf(r))
	}
	return out, nil
}

// Show returns one request with what answering it needs.
func (s *Operator) Show(ctx context.Context, id string) (Case, error) {
	r, err := s.request(ctx, id)
	if err != nil {
		return Case{}, err
	}
	c := Case{Request: viewOf(r), Email: r.Email, Locale: r.Locale}
	if a, err := s.Store.Account(ctx, r.Subject); err == nil {
		c.Account = &a
	} else if privacy.ErrorCode(err) != privacy.NotFound {
		return Case{}, err
	}
	if c.Decisions, err = s.Store.Decisions(ctx, r.Subject); err != nil {
		return Case{}, err
	}
	return c, nil
}

func (s *Operator) request(ctx context.Context, id string) (Record, error) {
	subject, rid, ok := SplitID(id)
	if !ok {
		return Record{}, privacy.FieldError("id", "is not a request ID (<subject>.<request>)")
	}
	r, err := s.Store.Request(ctx, subject, rid)
	if privacy.ErrorCode(err) == privacy.NotFound {
		return Record{}, privacy.Errorf(privacy.NotFound, "No request %s.", id)
	}
	return r, err
}

// MaxAnswer bounds an answer (an outcome, a refusal's reason, a remedy): it is kept in the
// request and mailed.
const MaxAnswer = 20000

func groundList() string {
	gs := make([]string, len(privacy.RefusalGrounds))
	for i, g := range privacy.RefusalGrounds {
		gs[i] = string(g)
	}
	return strings.Join(gs, ", ")
}

func answerTooLong(field, s string) error {
	if len([]rune(s)) > MaxAnswer {
		return privacy.FieldError(field, "is too long (at most %d characters)", MaxAnswer)
	}
	return nil
}

// Start marks a request in progress.
func (s *Operator) Start(ctx context.Context, id string) (View, error) {
	return s.step(ctx, id, privacy.RequestInProgress, func(r *Record) error { return nil })
}

// Complete answers a request: outcome says, in plain words, what was done (the correction made,
// the explanation of the decision, the answer to the question).
func (s *Operator) Complete(ctx context.Context, id, outcome string) (View, error) {
	outcome = strings.TrimSpace(outcome)
	if err := answerTooLong("outcome", outcome); err != nil {
		return View{}, err
	}
	return s.step(ctx, id, privacy.RequestCompleted, func(r *Record) error {
		if Exported(r.Type) {
			return privacy.Errorf(privacy.Conflict, "Request %s is answered with its archive: the export worker completes it.", id)
		}
		if r.Type == privacy.RequestDeletion || r.Type == privacy.RequestCancellation {
			return privacy.Errorf(privacy.Conflict, "Request %s is answered by erasing the data: only erasure completes it (portalctl erase, or refuse with a ground).", id)
		}
		if outcome == "" {
			return privacy.FieldError("outcome", "is required: say, in plain words, what was done")
		}
		r.Outcome = outcome
		return nil
	})
}

// Refuse refuses a request on one of the policy's grounds, with a plain reason (P23).
func (s *Operator) Refuse(ctx context.Context, id string, ground privacy.RefusalGround, reason string) (View, error) {
	reason = strings.TrimSpace(reason)
	switch {
	case !ground.Valid():
		return View{}, privacy.FieldError("ground", "must be one of the policy's grounds: %s", groundList())
	case reason == "":
		return View{}, privacy.FieldError("reason", "is required: explain the refusal in plain words")
	}
	if err := answerTooLong("reason", reason); err != nil {
		return View{}, err
	}
	return s.step(ctx, id, privacy.RequestRefused, func(r *Record) error {
		r.Refusal = &privacy.Refusal{Ground: ground, Reason: reason}
		return nil
	})
}

// step moves an open request to status, after change, and tells the requester.
func (s *Operator) step(ctx context.Context, id string, status privacy.RequestStatus, change func(*Record) error) (View, error) {
	subject, rid, ok := SplitID(id)
	if !ok {
		return View{}, privacy.FieldError("id", "is not a request ID (<subject>.<request>)")
	}
	changed := false
	r, err := update(ctx, s.Store, subject, rid, func(r *Record) error {
		changed = false
		if !r.Status.Open() {
			return privacy.Errorf(privacy.Conflict, "Request %s is %s: it is not open.", id, r.Status)
		}
		if status == r.Status {
			return errUnchanged
		}
		if err := change(r); err != nil {
			return err
		}
		r.Status = status
		r.Steps = append(r.Steps, privacy.RequestStep{Status: status, At: s.Now()})
		changed = true
		return nil
	})
	if privacy.ErrorCode(err) == privacy.NotFound {
		return View{}, privacy.Errorf(privacy.NotFound, "No request %s.", id)
	}
	if err != nil {
		return View{}, err
	}
	if !changed {
		return viewOf(r), nil
	}
	logged(fmt.Sprintf("request %s", status), r.Subject)
	if err := s.enqueue(ctx, jobs.Job{Kind: JobUpdated, Subject: r.Subject, Request: r.ID}); err != nil {
		return View{}, err
	}
	return viewOf(r), nil
}

// Explain answers a request for an explanation of an automated decision (P22) from the record:
// each decision recorded about the person, with its inputs and the version of its logic, and
// the operator's own words (the remedy offered, if any) after them.
func (s *Operator) Explain(ctx context.Context, id, remedy string) (View, error) {
	r, err := s.request(ctx, id)
	if err != nil {
		return View{}, err
	}
	if r.Type != privacy.RequestExplanation {
		return View{}, privacy.Errorf(privacy.Conflict, "Request %s is a %s request, not an explanation.", id, r.Type)
	}
	ds, err := s.Store.Decisions(ctx, r.Subject)
	if err != nil {
		return View{}, err
	}
	return s.Complete(ctx, id, Explanation(ds, remedy))
}

// Explanation is the plain answer to an explanation request: every decision recorded, then
// the operator's words.
func Explanation(ds []privacy.Decision, remedy string) string {
	var b strings.Builder
	if len(ds) == 0 {
		b.WriteString("No automated decision about you is on record: nothing about you was decided by an automated process alone.")
	} else {
		b.WriteString("These automated decisions about you are on record:")
	}
	for _, d := range ds {
		keys := slices.Sorted(maps.Keys(d.Inputs))
		inputs := make([]string, 0, len(keys))
		for _, k := range keys {
			inputs = append(inputs, k+" = "+d.Inputs[k])
		}
		fmt.Fprintf(&b, "\n\n%s, %s (logic %s).\nWhat it looked at: %s.\nWhat it decided: %s.",
			d.At.UTC().Format("2 January 2006 15:04 UTC"), d.Name, d.LogicVersion, strings.Join(inputs, "; "), d.Outcome)
	}
	if remedy = strings.TrimSpace(remedy); remedy != "" {
		b.WriteString("\n\n" + remedy)
	}
	return b.String()
}
