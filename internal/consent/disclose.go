package consent

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/privacyportal/portal/internal/jobs"
	"github.com/privacyportal/portal/internal/privacy"
)

// JobDisclose: a person granted a sharing or transfer purpose (Job.Purpose); what its
// recipient receives is disclosed to it now.
const JobDisclose jobs.Kind = "disclose"

// Outbox is where a recipient collects what is disclosed to it (an S3 bucket).
type Outbox interface {
	Put(ctx context.Context, key string, body []byte) error
}

// DiscloseStore is what a disclosure reads and records.
type DiscloseStore interface {
	Account(ctx context.Context, id privacy.SubjectID) (privacy.Account, error)
	Ledger(ctx context.Context, id privacy.SubjectID) ([]privacy.ConsentEntry, error)
	// AddAudit adds an entry to a live account's audit trail (privacy.NotFound otherwise).
	AddAudit(ctx context.Context, id privacy.SubjectID, e privacy.AuditEntry) error
}

// Discloser gives a recipient of the catalogue (an affiliate, a partner, a processor abroad)
// the fields its purpose names, only with the person's consent to that purpose, and records
// each disclosure in the person's audit trail (P10). A transfer abroad is de-identified first:
// the recipient gets a pseudonym of its own for the person, never their name, address or
// subject ID (P04).
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
	Subject     string            `json:"subject,omitempty"`
	Pseudonym   string            `json:"pseudonym,omitempty"`
	Recipient   string            `json:"recipient"`
	Purpose     string            `json:"purpose"`
	Fields      map[string]string `json:"fields"`
	DisclosedAt time.Time         `json:"disclosedAt"`
}

// Disclose discloses a person's data for a purpose to its recipient, if the ledger allows it.
func (d *Discloser) Disclose(ctx context.Context, id privacy.SubjectID, purpose string) error {
	p, ok := privacy.Catalogue().Purpose(purpose)
	if !ok || p.Recipient == nil {
		return fmt.Errorf("disclose: %q is not a purpose with a recipient", purpose)
	}
	a, err := d.Store.Account(ctx, id)
	if err != nil {
		return err
	}
	ledger, err := d.Store.Ledger(ctx, id)
	if err != nil {
		return err
	}
	if a.Status == privacy.StatusErasing || !privacy.Allowed(ledger, purpose) {
		return ErrNoConsent
	}
	r := p.Recipient
	now := d.Now()
	out := Disclosure{Recipient: r.ID, Purpose: p.ID, Fields: map[string]string{}, DisclosedAt: now}
	if p.Category == privacy.CategoryTransfer {
		// De-identified: a pseudonym only this recipient sees, and no direct identifier (the
		// catalogue refuses a transfer of name or e-mail).
		out.Pseudonym = d.Keys.Hash(privacy.DomainPseudonym, r.ID+"|"+string(id))
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
	key := fmt.Sprintf("%s/%s/%s.json", r.ID, now.UTC().Format("2006-01-02"), privacy.NewID())
	if err := d.Outbox.Put(ctx, key, body); err != nil {
		return err
	}
	if err := d.Store.AddAudit(ctx, id, privacy.AuditEntry{At: now, Action: ActionDisclosed, Fields: append([]string{"recipient:" + r.ID}, r.Fields...)}); err != nil {
		return err
	}
	logged("data disclosed to "+r.ID, id)
	return nil
}

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
		return a.CreatedAt.UTC().Format(time.RFC3339)
	}
	return ""
}
