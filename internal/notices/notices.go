// Package notices is the operator's mail to many people at once (promises P14, P25, and P08,
// P19 for marketing): breach notices, policy-update notices and marketing campaigns. The
// operator writes a campaign, previews it, and starts it; a planner writes one delivery per
// recipient and hands the sender batches; the sender sends at the account's SES rate and
// records each delivery, so that no one gets a campaign twice and no one is skipped.
package notices

import (
	"slices"
	"strings"
	"time"

	"github.com/privacyportal/portal/internal/jobs"
	"github.com/privacyportal/portal/internal/privacy"
)

// Kind is what a campaign is.
type Kind string

// Campaign kinds.
const (
	// KindBreach tells the people affected by a breach what happened and what to do (P14). It
	// is transactional: it goes whatever their marketing choice.
	KindBreach Kind = "breach"
	// KindPolicyUpdate tells every active account about a new policy version, at least
	// MinNoticeDays before it takes effect (P25).
	KindPolicyUpdate Kind = "policy_update"
	// KindMarketing goes only to people whose ledger grants marketing when it is sent, with
	// one-click unsubscribe (P19, P08).
	KindMarketing Kind = "marketing"
)

// Kinds lists the campaign kinds.
var Kinds = []Kind{KindBreach, KindPolicyUpdate, KindMarketing}

// MaxSubjects bounds a campaign's list of subjects: the campaign is one DynamoDB item (at most
// 400 KB), and a subject ID takes 26 bytes and its list overhead.
const MaxSubjects = 10000

// MinNoticeDays is how long before a policy version takes effect its notice must go (P25).
const MinNoticeDays = 7

// State is where a campaign stands.
type State string

// Campaign states, in order.
const (
	StateDraft    State = "draft"    // written, previewable, nothing sent
	StatePlanning State = "planning" // started: the planner is writing its deliveries
	StateSending  State = "sending"  // every delivery is written; the sender works through them
)

// Breach is a breach notice's content: the five parts of P14 (in both languages) and who to
// contact, what was affected and when.
type Breach struct {
	// Incident is what happened; Impact its likely consequences for the people affected;
	// Measures what was done and will be done; SelfHelp what people can do to protect
	// themselves; Remedies what the operator offers.
	Incident, Impact, Measures, SelfHelp, Remedies privacy.Text
	// DataKinds are the kinds of personal data affected (e.g. "email", "name", "mobile").
	DataKinds []string
	// People and Records are the approximate numbers of people and records affected.
	People, Records int
	// Contact is where people (and the regulator) ask: the protection officer.
	Contact string
	// Occurred and Discovered are when the breach happened (as far as known) and was found.
	Occurred, Discovered time.Time
}

// PolicyUpdate is a policy-update notice's content.
type PolicyUpdate struct {
	Version string
	// Summary is what changes, in both languages.
	Summary              privacy.Text
	Published, Effective time.Time
}

// Audience is who a campaign goes to: everyone (every active account), a list of subjects,
// or everyone holding a kind of data (an optional field of the catalogue). Exactly one.
type Audience struct {
	All      bool                `json:"all,omitempty"`
	Subjects []privacy.SubjectID `json:"subjects,omitempty"`
	Holding  string              `json:"holding,omitempty"`
}

// Campaign is one mailing to many people.
type Campaign struct {
	ID      string
	Kind    Kind
	Created time.Time
	// Title is the subject line, in both languages.
	Title privacy.Text
	// Breach, Policy and Paragraphs are the content of the kind's campaign.
	Breach     *Breach
	Policy     *PolicyUpdate
	Paragraphs map[string][]string
	Audience   Audience
	State      State
	// Started is when the operator started it; Planned how many deliveries the planner has
	// written so far, Cursor where it goes on, and PlannedAt when it wrote the last.
	Started   time.Time
	Planned   int
	Cursor    string
	PlannedAt time.Time
	// Published is when its public notice went on the site (zero: none); Withdrawn when the
	// home page stopped linking it.
	Published, Withdrawn time.Time
	// Version is the item's version: every save says which it read, and fails on another.
	Version int
}

// Delivery states: a delivery is pending until a sender claims it (sending),
// then ends sent, failed (the address refused it), suppressed (it bounced or complained
// before) or skipped (no consent at send time, or the account is gone).
type DeliveryState string

// Delivery states.
const (
	DeliveryPending    DeliveryState = "pending"
	DeliverySending    DeliveryState = "sending"
	DeliverySent       DeliveryState = "sent"
	DeliveryFailed     DeliveryState = "failed"
	DeliverySuppressed DeliveryState = "suppressed"
	DeliverySkipped    DeliveryState = "skipped"
)

// Counts are a campaign's deliveries by how they ended.
type Counts struct {
	Sent, Failed, Suppressed, Skipped int
}

// Done is how many deliveries have ended.
func (c Counts) Done() int { return c.Sent + c.Failed + c.Suppressed + c.Skipped }

// Progress is where a campaign's sending stands.
type Progress struct {
	Campaign Campaign
	Counts   Counts
}

// Left is how many deliveries are still to be sent (of those planned so far).
func (p Progress) Left() int { return max(0, p.Campaign.Planned-p.Counts.Done()) }

// Finished reports whether every recipient was planned and every delivery has ended.
func (p Progress) Finished() bool {
	return p.Campaign.State == StateSending && p.Left() == 0
}

// Jobs of notices.
const (
	// JobPlan: a campaign was started; the planner writes its deliveries (Job.Campaign).
	JobPlan jobs.Kind = "notice_plan"
	// JobBatch: the sender sends a campaign to up to BatchSize subjects (Job.Campaign,
	// Job.Subjects).
	JobBatch jobs.Kind = "notice_batch"
)

// BatchSize is how many recipients one batch names.
const BatchSize = 50

// locales are the languages every text of a campaign must have.
var locales = []string{privacy.LocaleEnglish, privacy.LocaleChinese}

// Validate checks a campaign as the operator wrote it, at now: every field its kind needs, in
// both languages, and an audience of the kind's. Errors name the field.
func (c *Campaign) Validate(now time.Time) error {
	if !slices.Contains(Kinds, c.Kind) {
		return privacy.FieldError("kind", "must be one of breach, policy_update, marketing")
	}
	if err := texts("title", c.Title, 200); err != nil {
		return err
	}
	switch c.Kind {
	case KindBreach:
		if err := c.Breach.validate(now); err != nil {
			return err
		}
		if c.Policy != nil || len(c.Paragraphs) > 0 {
			return privacy.FieldError("breach", "a breach notice has only its breach content")
		}
	case KindPolicyUpdate:
		if err := c.Policy.validate(); err != nil {
			return err
		}
		if c.Breach != nil || len(c.Paragraphs) > 0 {
			return privacy.FieldError("policy", "a policy update has only its policy content")
		}
	case KindMarketing:
		for _, l := range locales {
			ps := c.Paragraphs[l]
			if len(ps) == 0 {
				return privacy.FieldError("paragraphs", "are required in %s", l)
			}
			for _, p := range ps {
				if err := privacy.ValidateParagraphs("paragraphs", p, 5000); err != nil {
					return err
				}
				if strings.TrimSpace(p) == "" {
					return privacy.FieldError("paragraphs", "may not be empty")
				}
			}
		}
		if c.Breach != nil || c.Policy != nil {
			return privacy.FieldError("paragraphs", "a marketing campaign has only its paragraphs")
		}
	}
	return c.Audience.validate(c.Kind)
}

func (b *Breach) validate(now time.Time) error {
	if b == nil {
		return privacy.FieldError("breach", "is required for a breach notice")
	}
	for _, part := range []struct {
		name string
		text privacy.Text
	}{
		{"breach.incident", b.Incident}, {"breach.impact", b.Impact}, {"breach.measures", b.Measures},
		{"breach.selfHelp", b.SelfHelp}, {"breach.remedies", b.Remedies},
	} {
		if err := texts(part.name, part.text, 5000); err != nil {
			return err
		}
	}
	if strings.TrimSpace(b.Contact) == "" {
		return privacy.FieldError("breach.contact", "is required: where people ask about the breach")
	}
	if len(b.DataKinds) == 0 {
		return privacy.FieldError("breach.dataKinds", "is required: which kinds of data were affected")
	}
	for _, k := range b.DataKinds {
		if strings.TrimSpace(k) == "" {
			return privacy.FieldError("breach.dataKinds", "may not hold an empty kind")
		}
	}
	if b.People < 0 || b.Records < 0 {
		return privacy.FieldError("breach.people", "cannot be negative")
	}
	if b.Discovered.IsZero() {
		return privacy.FieldError("breach.discovered", "is required: when the breach was found")
	}
	if b.Discovered.After(now) || b.Occurred.After(b.Discovered) {
		return privacy.FieldError("breach.discovered", "must be in the past, and after the breach occurred")
	}
	return nil
}

func (p *PolicyUpdate) validate() error {
	if p == nil {
		return privacy.FieldError("policy", "is required for a policy update")
	}
	if strings.TrimSpace(p.Version) == "" {
		return privacy.FieldError("policy.version", "is required")
	}
	if err := texts("policy.summary", p.Summary, 5000); err != nil {
		return err
	}
	if p.Published.IsZero() || p.Effective.IsZero() {
		return privacy.FieldError("policy.effective", "and the publication date are required")
	}
	if p.Effective.Before(p.Published.AddDate(0, 0, MinNoticeDays)) {
		return privacy.FieldError("policy.effective", "must be at least %d days after the version is published (P25)", MinNoticeDays)
	}
	return nil
}

func (a Audience) validate(k Kind) error {
	n := 0
	if a.All {
		n++
	}
	if len(a.Subjects) > 0 {
		n++
	}
	if a.Holding != "" {
		n++
	}
	switch {
	case n != 1:
		return privacy.FieldError("audience", "must be exactly one of all, subjects, holding")
	case k != KindBreach && !a.All:
		return privacy.FieldError("audience", "of a %s campaign is every active account (all)", k)
	case a.Holding != "":
		if _, ok := privacy.Catalogue().OptionalField(a.Holding); !ok {
			return privacy.FieldError("audience.holding", "%q is not a kind of data the portal holds", a.Holding)
		}
	}
	if len(a.Subjects) > MaxSubjects {
		return privacy.FieldError("audience.subjects", "names %d subjects; at most %d (a campaign is one item): use holding, or several campaigns", len(a.Subjects), MaxSubjects)
	}
	seen := make(map[privacy.SubjectID]bool, len(a.Subjects))
	for _, s := range a.Subjects {
		if strings.TrimSpace(string(s)) == "" || len(s) > 64 {
			return privacy.FieldError("audience.subjects", "holds an ID that is no subject ID")
		}
		// A subject named twice would be counted twice in Planned (once per page it is on),
		// and the campaign would never look finished.
		if seen[s] {
			return privacy.FieldError("audience.subjects", "names subject %s twice", s)
		}
		seen[s] = true
	}
	return nil
}

// texts checks a text has every language, each at most max runes.
func texts(field string, t privacy.Text, max int) error {
	for _, l := range locales {
		v := strings.TrimSpace(t[l])
		if v == "" {
			return privacy.FieldError(field, "is required in %s", l)
		}
		if err := privacy.ValidateParagraphs(field, v, max); err != nil {
			return err
		}
	}
	return nil
}

// In is a text in a language, English when it has none in that one.
func In(t privacy.Text, locale string) string {
	if v := t[locale]; v != "" {
		return v
	}
	return t[privacy.LocaleEnglish]
}
