// Package consent is the consent centre (promises P05-P10, P18, P19, P25): the ledger's view
// and changes, receipts, policy acceptance, the browser's privacy signals, the one-click
// unsubscribe of marketing mail, the first-party page-view counter, and the mail of all these.
// Every use of personal data for a purpose that needs consent asks privacy.Allowed.
package consent

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/privacyportal/portal/internal/jobs"
	"github.com/privacyportal/portal/internal/policy"
	"github.com/privacyportal/portal/internal/privacy"
	"github.com/privacyportal/portal/internal/ratelimit"
	"github.com/privacyportal/portal/internal/web"
)

// Job kinds the consent centre hands to the mail worker.
const (
	// JobReceipt: a change was made; its receipt (Job.Receipt) is mailed to the subject.
	JobReceipt jobs.Kind = "consent_receipt"
	// JobMarketing: a campaign's (Job.Campaign) marketing mail to one subject, if they agreed.
	JobMarketing jobs.Kind = "marketing"
)

// Policies tells which policy version is in force.
type Policies interface {
	InForce(ctx context.Context) (policy.Version, error)
}

// Operator is who runs the portal, as receipts and mail name it.
type Operator struct {
	Name, Contact, SiteURL string
	// Jurisdiction is where the operator answers for the processing (receipts name it).
	Jurisdiction string
}

// Env is what the consent services share.
type Env struct {
	Keys     *privacy.Keyed
	Policies Policies
	Jobs     jobs.Queue
	Now      func() time.Time
	Operator Operator
	// Limiter bounds consent changes per account (ChangesPerAccount): each one writes to the
	// ledger, mails a receipt and may disclose to a recipient. Nil means no limit.
	Limiter *ratelimit.Limiter
}

// ChangesPerAccount bounds the consent changes one account may make.
var ChangesPerAccount = ratelimit.Limit{N: 30, Window: time.Hour}

func (e *Env) policyRef(ctx context.Context, locale string) (privacy.PolicyRef, error) {
	v, err := e.Policies.InForce(ctx)
	if err != nil {
		return privacy.PolicyRef{}, fmt.Errorf("policy in force: %w", err)
	}
	return v.Ref(locale), nil
}

func (e *Env) enqueue(ctx context.Context, j jobs.Job) error {
	j.At = e.Now()
	if err := e.Jobs.Enqueue(ctx, j); err != nil {
		return fmt.Errorf("enqueue %s job: %w", j.Kind, err)
	}
	return nil
}

// signalSources are the ledger sources of a request's signals, GPC first.
func signalSources(sig web.Signals) []privacy.Source {
	var out []privacy.Source
	if sig.GPC {
		out = append(out, privacy.SourceGPC)
	}
	if sig.DNT {
		out = append(out, privacy.SourceDNT)
	}
	return out
}

// Store is what the consent centre reads and writes.
type Store interface {
	Account(ctx context.Context, id privacy.SubjectID) (privacy.Account, error)
	// Ledger returns a subject's consent ledger, oldest first.
	Ledger(ctx context.Context, id privacy.SubjectID) ([]privacy.ConsentEntry, error)
	// AppendConsents adds entries to the ledger of an account that exists and is not being
	// erased (privacy.NotFound otherwise).
	AppendConsents(ctx context.Context, id privacy.SubjectID, entries []privacy.ConsentEntry) error
}

// Centre is the consent centre of a signed-in person.
type Centre struct {
	*Env
	Store Store
}

// PurposeView is one purpose's state for the person.
type PurposeView struct {
	ID        string    `json:"id"`
	Granted   bool      `json:"granted"`
	Essential bool      `json:"essential"`
	New       bool      `json:"new"`
	Since     string    `json:"since"`
	ChangedAt time.Time `json:"changedAt,omitzero"`
	Source    string    `json:"source,omitempty"`
	// Signal names the browser signal that withdrew the purpose, while that is why it is off.
	Signal string `json:"signal,omitempty"`
}

// PolicyView is the policy in force and the version the person accepted.
type PolicyView struct {
	InForce    string `json:"inForce"`
	SHA256     string `json:"sha256"`
	Accepted   string `json:"accepted"`
	MustAccept bool   `json:"mustAccept"`
}

// EntryView is one ledger entry.
type EntryView struct {
	At            time.Time `json:"at"`
	Purpose       string    `json:"purpose"`
	Action        string    `json:"action"`
	PolicyVersion string    `json:"policyVersion"`
	PolicySHA256  string    `json:"policySha256,omitempty"`
	Source        string    `json:"source"`
	ReceiptID     string    `json:"receiptId,omitempty"`
	Signals       []string  `json:"signals"`
}

// ReceiptRef names a receipt.
type ReceiptRef struct {
	ID string    `json:"id"`
	At time.Time `json:"at"`
}

// View is GET /api/consent.
type View struct {
	Purposes []PurposeView `json:"purposes"`
	Signals  web.Signals   `json:"signals"`
	Policy   PolicyView    `json:"policy"`
	Ledger   []EntryView   `json:"ledger"`
	Receipts []ReceiptRef  `json:"receipts"`
	// Receipt is the receipt of the change just made (PUT), null when nothing changed.
	Receipt *ReceiptRef `json:"receipt"`
}

// read reads the account and its ledger, and records what the request's signals withdraw.
func (s *Centre) read(ctx context.Context, c web.Caller, sig web.Signals) (privacy.Account, []privacy.ConsentEntry, privacy.PolicyRef, error) {
	a, err := s.Store.Account(ctx, c.Subject)
	if err != nil {
		return a, nil, privacy.PolicyRef{}, err
	}
	ledger, err := s.Store.Ledger(ctx, c.Subject)
	if err != nil {
		return a, nil, privacy.PolicyRef{}, err
	}
	ref, err := s.policyRef(ctx, a.Profile.Locale)
	if err != nil {
		return a, nil, ref, err
	}
	if w := privacy.SignalWithdrawals(ledger, signalSources(sig), ref, s.Now()); len(w) > 0 {
		if err := s.Store.AppendConsents(ctx, c.Subject, w); err != nil {
			return a, nil, ref, err
		}
		ledger = append(ledger, w...)
		logged("browser signal withdrew consents", c.Subject)
	}
	return a, ledger, ref, nil
}

// View is the person's consent centre.
func (s *Centre) View(ctx context.Context, c web.Caller, sig web.Signals) (View, error) {
	_, ledger, ref, err := s.read(ctx, c, sig)
	if err != nil {
		return View{}, err
	}
	return view(ledger, ref, sig), nil
}

func view(ledger []privacy.ConsentEntry, ref privacy.PolicyRef, sig web.Signals) View {
	v := View{Signals: sig, Ledger: []EntryView{}, Receipts: []ReceiptRef{}, Purposes: []PurposeView{}}
	last := map[string]privacy.ConsentEntry{}
	for _, e := range ledger {
		if e.ActionOf() != privacy.ActionAccept {
			last[e.Purpose] = e
		}
		ev := EntryView{
			At: e.At, Purpose: e.Purpose, Action: string(e.ActionOf()), PolicyVersion: e.Version(),
			PolicySHA256: e.Policy.SHA256, Source: string(e.Source), ReceiptID: e.ReceiptID, Signals: []string{},
		}
		for _, sg := range e.Signals {
			ev.Signals = append(ev.Signals, string(sg))
		}
		v.Ledger = append(v.Ledger, ev)
		if e.ReceiptID != "" && !slices.ContainsFunc(v.Receipts, func(r ReceiptRef) bool { return r.ID == e.ReceiptID }) {
			v.Receipts = append(v.Receipts, ReceiptRef{ID: e.ReceiptID, At: e.At})
		}
	}
	state := privacy.ConsentState(ledger)
	for _, p := range privacy.Catalogue().Purposes {
		pv := PurposeView{ID: p.ID, Essential: p.Essential, Granted: p.Essential || state[p.ID], Since: p.Since, New: privacy.IsNew(ledger, p)}
		if e, ok := last[p.ID]; ok {
			pv.ChangedAt, pv.Source = e.At, string(e.Source)
			if !pv.Granted && (e.Source == privacy.SourceGPC || e.Source == privacy.SourceDNT) {
				pv.Signal = string(e.Source)
			}
		}
		v.Purposes = append(v.Purposes, pv)
	}
	accepted := privacy.AcceptedPolicy(ledger)
	v.Policy = PolicyView{InForce: ref.Version, SHA256: ref.SHA256, Accepted: accepted,
		MustAccept: accepted == "" || privacy.CompareVersions(accepted, ref.Version) < 0}
	return v
}

// UpdateInput is PUT /api/consent.
type UpdateInput struct {
	Choices map[string]bool `json:"choices"`
	Source  string          `json:"source"`
}

// Update records the person's choices: one ledger entry per change, under one receipt, which
// is mailed. Nothing is written when a choice is invalid, or when nothing changes.
func (s *Centre) Update(ctx context.Context, c web.Caller, in UpdateInput, sig web.Signals) (View, error) {
	src := privacy.Source(in.Source)
	if src != privacy.SourceForm && src != privacy.SourceBanner {
		return View{}, privacy.FieldError("source", `must be "form" or "banner"`)
	}
	// Checked before anything is read or written: a refused change leaves the ledger as it
	// was, signal withdrawals included.
	if err := privacy.ValidateChoices(in.Choices, src); err != nil {
		return View{}, err
	}
	if s.Limiter != nil {
		if err := s.Limiter.Allow(ctx, "consent-change", string(c.Subject), ChangesPerAccount); err != nil {
			return View{}, err
		}
	}
	_, ledger, ref, err := s.read(ctx, c, sig)
	if err != nil {
		return View{}, err
	}
	changes, err := privacy.Changes(ledger, in.Choices, src, signalSources(sig), ref, s.Now())
	if err != nil {
		return View{}, err
	}
	var receipt *ReceiptRef
	if len(changes) > 0 {
		r := ReceiptRef{ID: privacy.NewID(), At: changes[0].At}
		for i := range changes {
			changes[i].ReceiptID = r.ID
		}
		if err := s.Store.AppendConsents(ctx, c.Subject, changes); err != nil {
			return View{}, err
		}
		ledger = append(ledger, changes...)
		receipt = &r
		logged("consent changed", c.Subject)
		if err := s.enqueue(ctx, jobs.Job{Kind: JobReceipt, Subject: c.Subject, Receipt: r.ID}); err != nil {
			return View{}, err
		}
		for _, e := range changes {
			if p, _ := privacy.Catalogue().Purpose(e.Purpose); p.Recipient != nil {
				kind := JobRecall
				if e.ActionOf() == privacy.ActionGrant {
					kind = JobDisclose
				}
				if err := s.enqueue(ctx, jobs.Job{Kind: kind, Subject: c.Subject, Purpose: p.ID, Receipt: r.ID}); err != nil {
					return View{}, err
				}
			}
		}
	}
	v := view(ledger, ref, sig)
	v.Receipt = receipt
	return v, nil
}

// AcceptInput is POST /api/consent/policy.
type AcceptInput struct {
	Version string `json:"version"`
}

// AcceptPolicy records that the person accepted the version in force (P25).
func (s *Centre) AcceptPolicy(ctx context.Context, c web.Caller, in AcceptInput, sig web.Signals) (View, error) {
	v, err := s.Policies.InForce(ctx)
	if err != nil {
		return View{}, fmt.Errorf("policy in force: %w", err)
	}
	if in.Version != v.ID {
		return View{}, privacy.FieldError("version", "must be the version in force, %s", v.ID)
	}
	_, ledger, ref, err := s.read(ctx, c, sig)
	if err != nil {
		return View{}, err
	}
	if privacy.AcceptedPolicy(ledger) != ref.Version {
		e := privacy.Accept(ref, privacy.SourcePolicy, s.Now())
		if err := s.Store.AppendConsents(ctx, c.Subject, []privacy.ConsentEntry{e}); err != nil {
			return View{}, err
		}
		ledger = append(ledger, e)
		logged("policy accepted", c.Subject)
	}
	return view(ledger, ref, sig), nil
}

// logged writes an event about a subject: its ID only, never personal data.
func logged(msg string, id privacy.SubjectID) {
	slog.Info(msg, "subject", string(id))
}
