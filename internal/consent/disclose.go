package consent

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/privacyportal/portal/internal/jobs"
	"github.com/privacyportal/portal/internal/privacy"
)

// Jobs of disclosures, named by Job.Purpose (a sharing or transfer purpose).
const (
	// JobDisclose: a person granted the purpose; its recipient is given what it receives.
	// Job.Receipt names the change, so a retried job records the disclosure once.
	JobDisclose jobs.Kind = "disclose"
	// JobRecall: a person withdrew it; what the recipient has not collected yet is taken back.
	JobRecall jobs.Kind = "recall"
)

// Outbox is where a recipient collects what is disclosed to it (an S3 bucket).
type Outbox interface {
	Put(ctx context.Context, key string, body []byte) error
	Delete(ctx context.Context, key string) error
}

// DiscloseStore is what a disclosure reads and records.
type DiscloseStore interface {
	Account(ctx context.Context, id privacy.SubjectID) (privacy.Account, error)
	Ledger(ctx context.Context, id privacy.SubjectID) ([]privacy.ConsentEntry, error)
	// AddAudit adds an entry to a live account's audit trail (privacy.NotFound otherwise); an
	// entry with an ID written before is privacy.ErrStale.
	AddAudit(ctx context.Context, id privacy.SubjectID, e privacy.AuditEntry) error
}

// Discloser gives a recipient of the catalogue (an affiliate, a partner, a processor abroad)
// the fields its purpose names, only with the person's consent to that purpose, and records
// each disclosure in the person's audit trail before it is made (P10). A transfer abroad is
// de-identified first: the recipient gets a pseudonym of its own for the person, never their
// name, address or subject ID, and dates no finer than a month (P04). A recipient holds one
// object per person, under a key only the portal can make: a new grant replaces it, and a
// withdrawal deletes it if the recipient has not collected it yet.
type Discloser struct {
	*Env
	Store  DiscloseStore
	Outbox Outbox
}

// ErrNoConsent is a disclosure the ledger does not allow.
var ErrNoConsent = privacy.Errorf(privacy.Forbidden, "The person has not consented to this disclosure.")

// ActionDisclosed is the audit action of a disclosure; its fields are the recipient's ID and
// the fields disclosed.
const ActionDisclosed = "data.disclosed"

// Disclosure is what a recipient receives.
type Disclosure struct {
	// Subject is the person's ID inside the home region; a transfer carries Pseudonym instead.
	Subject   string            `json:"subject,omitempty"`
	Pseudonym string            `json:"pseudonym,omitempty"`
	Recipient string            `json:"recipient"`
	Purpose   string            `json:"purpose"`
	Fields    map[string]string `json:"fields"`
	// Disclosed is the day, no finer: a time to the second would let the recipient of a
	// transfer match it with another recipient's copy, made at the same moment.
	Disclosed string `json:"disclosed"`
}

// recipientOf returns a purpose's recipient, or an error for a purpose without one.
func recipientOf(purpose string) (privacy.Purpose, error) {
	p, ok := privacy.Catalogue().Purpose(purpose)
	if !ok || p.Recipient == nil {
		return p, fmt.Errorf("disclose: %q is not a purpose with a recipient", purpose)
	}
	return p, nil
}

// objectKey is where a recipient finds what is disclosed to it about a person: a keyed hash,
// which is also the person's pseudonym for a transfer.
func (d *Discloser) objectKey(r *privacy.Recipient, id privacy.SubjectID) (key, pseudonym string) {
	return DisclosureKey(d.Keys, r, id)
}

// DisclosureKey is where a recipient collects what is disclosed to it about a person, and the
// person's pseudonym for it (a keyed hash): erasure deletes what waits there uncollected.
func DisclosureKey(keys *privacy.Keyed, r *privacy.Recipient, id privacy.SubjectID) (key, pseudonym string) {
	pseudonym = keys.Hash(privacy.DomainPseudonym, r.ID+"|"+string(id))
	return r.ID + "/" + pseudonym + ".json", pseudonym
}

// Disclose discloses a person's data for a purpose to its recipient, if the ledger allows it.
// ref names the change that granted it and at is when it was made: a retried job records the
// disclosure once and writes the same object.
func (d *Discloser) Disclose(ctx context.Context, id privacy.SubjectID, purpose, ref string, at time.Time) error {
	p, err := recipientOf(purpose)
	if err != nil {
		return err
	}
	a, err := d.Store.Account(ctx, id)
	if err != nil {
		return err
	}
	ledger, err := d.Store.Ledger(ctx, id)
	if err != nil {
		return err
	}
	if a.Status != privacy.StatusActive || !privacy.Allowed(ledger, purpose) {
		return ErrNoConsent
	}
	r := p.Recipient
	key, pseudonym := d.objectKey(r, id)
	out := Disclosure{Recipient: r.ID, Purpose: p.ID, Fields: map[string]string{}, Disclosed: at.UTC().Format("2006-01-02")}
	if p.Category == privacy.CategoryTransfer {
		// De-identified: the catalogue refuses a transfer of name or e-mail.
		out.Pseudonym = pseudonym
	} else {
		out.Subject = string(id)
	}
	for _, f := range r.Fields {
		out.Fields[f] = fieldValue(a, f)
	}
	body, err := json.Marshal(out)
	if err != nil {
		return err
	}
	// Recorded first: a disclosure never happens without its audit entry.
	audit := privacy.AuditEntry{At: at, Action: ActionDisclosed, Fields: append([]string{"recipient:" + r.ID}, r.Fields...), ID: ref}
	if err := d.Store.AddAudit(ctx, id, audit); err != nil && !errors.Is(err, privacy.ErrStale) {
		return err
	}
	if err := d.Outbox.Put(ctx, key, body); err != nil {
		return err
	}
	logged("data disclosed to "+r.ID, id)
	return nil
}

// Recall takes back what a recipient has not collected about a person, once they withdrew the
// purpose. What it collected already stays with it (a withdrawal does not undo the past, P18);
// it may use it no further.
func (d *Discloser) Recall(ctx context.Context, id privacy.SubjectID, purpose string) error {
	p, err := recipientOf(purpose)
	if err != nil {
		return err
	}
	ledger, err := d.Store.Ledger(ctx, id)
	if err != nil {
		return err
	}
	if privacy.Allowed(ledger, purpose) {
		return nil // granted again meanwhile
	}
	key, _ := d.objectKey(p.Recipient, id)
	if err := d.Outbox.Delete(ctx, key); err != nil {
		return err
	}
	logged("disclosure to "+p.Recipient.ID+" recalled", id)
	return nil
}

// fieldValue is a disclosable field of an account. Dates are no finer than a month: enough for
// a recipient's purpose, too coarse to single a person out.
func fieldValue(a privacy.Account, f string) string {
	switch f {
	case "name":
		return a.Profile.Name
	case "email":
		return a.Profile.Email
	case "locale":
		return a.Profile.Locale
	case "ageGroup":
		return string(a.Profile.AgeGroup)
	case "createdAt":
		return a.CreatedAt.UTC().Format("2006-01")
	}
	return ""
}
