package notices

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/privacyportal/portal/internal/jobs"
	"github.com/privacyportal/portal/internal/mail"
	"github.com/privacyportal/portal/internal/privacy"
)

// OperatorStore is what the operator's side of campaigns reads and writes.
type OperatorStore interface {
	CampaignStore
	ActiveAccounts(ctx context.Context, cursor string, limit int) ([]privacy.SubjectID, string, error)
	Holds(ctx context.Context, id privacy.SubjectID, field string) (bool, error)
	Account(ctx context.Context, id privacy.SubjectID) (privacy.Account, error)
	// IndexActiveAccounts puts every active account missing from the active accounts' index
	// into it, and says how many it indexed and how many changed meanwhile and were left.
	IndexActiveAccounts(ctx context.Context) (indexed, left int, err error)
}

// Content is where a marketing campaign's text is kept for the consent worker's rule (the
// consent.Campaign item).
type Content interface {
	PutMarketingContent(ctx context.Context, id string, title privacy.Text, paragraphs map[string][]string) error
}

// Site is where public notices are published (the site bucket).
type Site interface {
	Put(ctx context.Context, key string, body []byte) error
	Get(ctx context.Context, key string) ([]byte, error)
}

// Operator is the operator's work on campaigns (portalctl drives it).
type Operator struct {
	Store   OperatorStore
	Content Content
	// Plans is the planner's queue.
	Plans jobs.Queue
	Site  Site
	Now   func() time.Time
	// SiteURL and Operator are what a preview renders with.
	SiteURL  string
	Operator mail.Operator
}

// IndexAccounts puts into the active accounts' index (whom a notice to everyone, or to everyone
// holding a kind of data, goes to) every active account activated before the index existed.
// Run once on a table older than campaigns, before its first such notice; again, it does
// nothing.
func (o *Operator) IndexAccounts(ctx context.Context) (indexed, left int, err error) {
	return o.Store.IndexActiveAccounts(ctx)
}

// Create writes a new campaign, as a draft, once it is valid.
func (o *Operator) Create(ctx context.Context, c Campaign) (Campaign, error) {
	if c.ID == "" {
		c.ID = privacy.NewID()
	}
	c.Created, c.State = o.Now(), StateDraft
	c.Planned, c.Cursor, c.Started, c.PlannedAt, c.Published, c.Withdrawn = 0, "", time.Time{}, time.Time{}, time.Time{}, time.Time{}
	if err := c.Validate(o.Now()); err != nil {
		return Campaign{}, err
	}
	if c.Kind == KindMarketing {
		if err := o.Content.PutMarketingContent(ctx, c.ID, c.Title, c.Paragraphs); err != nil {
			return Campaign{}, err
		}
	}
	if err := o.Store.PutCampaign(ctx, c); err != nil {
		if errors.Is(err, privacy.ErrStale) {
			return Campaign{}, privacy.Errorf(privacy.Conflict, "A campaign %s exists already.", c.ID)
		}
		return Campaign{}, err
	}
	return c, nil
}

// Preview is what a campaign will send: its mail rendered in each language, for a sample
// reader, and how many people it goes to today.
type Preview struct {
	Campaign   Campaign
	Mails      map[string]mail.Rendered
	Recipients int
	// ConsentDecides says the count is an upper bound: marketing goes only to those whose
	// ledger grants it when it is sent.
	ConsentDecides bool
}

// Preview renders a campaign and counts its audience.
func (o *Operator) Preview(ctx context.Context, id string) (Preview, error) {
	c, err := o.campaign(ctx, id)
	if err != nil {
		return Preview{}, err
	}
	p := Preview{Campaign: c, Mails: map[string]mail.Rendered{}, ConsentDecides: c.Kind == KindMarketing}
	s := &Sender{SiteURL: func() string { return o.SiteURL }}
	for _, l := range locales {
		sample := privacy.Account{SubjectID: "preview", Status: privacy.StatusActive, Profile: privacy.Profile{
			Name: "Ada Lovelace", Email: "reader@example.com", Locale: l,
		}}
		var m mail.Message
		if c.Kind == KindMarketing {
			// Rendered for a sample reader as if they had consented: the sender's way reads
			// their ledger, and the preview has no store to read it from.
			m, _, err = previewMarketing{c}.MarketingMessage(ctx, sample, nil, c.ID)
		} else {
			m, _, err = s.message(ctx, c, sample)
		}
		if err != nil {
			return Preview{}, err
		}
		r, err := mail.Render(o.Operator, m)
		if err != nil {
			return Preview{}, fmt.Errorf("preview in %s: %w", l, err)
		}
		p.Mails[l] = r
	}
	if p.Recipients, err = o.count(ctx, c); err != nil {
		return Preview{}, err
	}
	return p, nil
}

// previewMarketing renders a marketing campaign as its readers will get it, with a sample
// unsubscribe link.
type previewMarketing struct{ c Campaign }

func (pm previewMarketing) MarketingMessage(_ context.Context, a privacy.Account, _ []privacy.ConsentEntry, _ string) (mail.Message, bool, error) {
	p := a.Profile
	return mail.Message{
		To: p.Email, Locale: p.Locale, Kind: mail.Marketing, Campaign: pm.c.ID, Unsubscribe: "https://example.com/api/unsubscribe?token=preview",
		Data: mail.Data{
			Name: p.Name, Title: In(pm.c.Title, p.Locale), Paragraphs: paragraphsIn(pm.c.Paragraphs, p.Locale),
			UnsubscribeLink: "https://example.com/unsubscribe/?token=preview", PreferencesLink: "https://example.com/consent/",
		},
	}, true, nil
}

func paragraphsIn(ps map[string][]string, locale string) []string {
	if v := ps[locale]; len(v) > 0 {
		return v
	}
	return ps[privacy.LocaleEnglish]
}

// count is how many people a campaign goes to today.
func (o *Operator) count(ctx context.Context, c Campaign) (int, error) {
	n := 0
	for {
		ids, next, err := page(ctx, o.Store, c)
		if err != nil {
			return 0, err
		}
		n += len(ids)
		if next == "" {
			return n, nil
		}
		c.Cursor = next
	}
}

// Start starts a draft: the planner writes its deliveries and the sender sends them. Starting
// one that started already is refused and changes nothing.
func (o *Operator) Start(ctx context.Context, id string) (Campaign, error) {
	c, err := o.campaign(ctx, id)
	if err != nil {
		return Campaign{}, err
	}
	if c.State != StateDraft {
		return Campaign{}, privacy.Errorf(privacy.Conflict, "Campaign %s was started already (%s).", id, c.State)
	}
	if err := c.Validate(o.Now()); err != nil {
		return Campaign{}, err
	}
	started := c
	started.State, started.Started = StatePlanning, o.Now()
	switch err := o.Store.SaveCampaign(ctx, started); {
	case errors.Is(err, privacy.ErrStale):
		return Campaign{}, privacy.Errorf(privacy.Conflict, "Campaign %s was started already.", id)
	case err != nil:
		return Campaign{}, err
	}
	started.Version++
	if err := o.Plans.Enqueue(ctx, jobs.Job{Kind: JobPlan, Campaign: id, At: o.Now()}); err != nil {
		return started, fmt.Errorf("campaign %s is started, but its planning could not be queued (start it again with the planner's queue up): %w", id, err)
	}
	return started, nil
}

// Progress reads where a campaign's sending stands.
func (o *Operator) Progress(ctx context.Context, id string) (Progress, error) {
	c, err := o.campaign(ctx, id)
	if err != nil {
		return Progress{}, err
	}
	n, err := o.Store.Counts(ctx, id)
	if err != nil {
		return Progress{}, err
	}
	return Progress{Campaign: c, Counts: n}, nil
}

func (o *Operator) campaign(ctx context.Context, id string) (Campaign, error) {
	c, err := o.Store.Campaign(ctx, id)
	if privacy.ErrorCode(err) == privacy.NotFound {
		return Campaign{}, privacy.Errorf(privacy.NotFound, "No campaign %s.", id)
	}
	return c, err
}

// PublicNotice is a breach notice as the site shows it (notices/<id>.json).
type PublicNotice struct {
	ID         string              `json:"id"`
	Kind       Kind                `json:"kind"`
	Title      privacy.Text        `json:"title"`
	Published  time.Time           `json:"published"`
	Incident   privacy.Text        `json:"incident"`
	Impact     privacy.Text        `json:"impact"`
	Measures   privacy.Text        `json:"measures"`
	SelfHelp   privacy.Text        `json:"selfHelp"`
	Remedies   privacy.Text        `json:"remedies"`
	Contact    string              `json:"contact"`
	DataKinds  privacy.Text        `json:"-"`
	Kinds      []string            `json:"dataKinds"`
	KindNames  map[string][]string `json:"dataKindNames"`
	People     int                 `json:"people"`
	Records    int                 `json:"records"`
	Occurred   time.Time           `json:"occurred,omitzero"`
	Discovered time.Time           `json:"discovered"`
}

// NoticeIndex is the site's list of public notices (notices/index.json).
type NoticeIndex struct {
	Notices []NoticeEntry `json:"notices"`
}

// NoticeEntry is one public notice in the index.
type NoticeEntry struct {
	ID        string       `json:"id"`
	Title     privacy.Text `json:"title"`
	Published time.Time    `json:"published"`
	Active    bool         `json:"active"`
}

// Site keys of public notices.
const noticeIndexKey = "notices/index.json"

func noticeKey(id string) string { return "notices/" + id + ".json" }

// Publish puts a breach notice on the site, for the people individual notice cannot reach
// (P14): its page, and a link from the home page while it is active.
func (o *Operator) Publish(ctx context.Context, id string) (Campaign, error) {
	c, err := o.campaign(ctx, id)
	if err != nil {
		return Campaign{}, err
	}
	if c.Kind != KindBreach {
		return Campaign{}, privacy.Errorf(privacy.Conflict, "Campaign %s is a %s campaign: only breach notices are published.", id, c.Kind)
	}
	now := o.Now()
	b := c.Breach
	n := PublicNotice{
		ID: c.ID, Kind: c.Kind, Title: c.Title, Published: now, Incident: b.Incident, Impact: b.Impact, Measures: b.Measures,
		SelfHelp: b.SelfHelp, Remedies: b.Remedies, Contact: b.Contact, Kinds: b.DataKinds, People: b.People,
		Records: b.Records, Occurred: b.Occurred, Discovered: b.Discovered, KindNames: map[string][]string{},
	}
	if !c.Published.IsZero() {
		n.Published = c.Published
	}
	for _, l := range locales {
		n.KindNames[l] = DataKindNames(b.DataKinds, l)
	}
	body, err := json.Marshal(n)
	if err != nil {
		return Campaign{}, err
	}
	if err := o.Site.Put(ctx, noticeKey(c.ID), body); err != nil {
		return Campaign{}, err
	}
	if err := o.index(ctx, NoticeEntry{ID: c.ID, Title: c.Title, Published: n.Published, Active: true}); err != nil {
		return Campaign{}, err
	}
	return o.mark(ctx, c, func(c *Campaign) { c.Published, c.Withdrawn = n.Published, time.Time{} })
}

// Withdraw stops the home page linking a public notice; its page stays readable.
func (o *Operator) Withdraw(ctx context.Context, id string) (Campaign, error) {
	c, err := o.campaign(ctx, id)
	if err != nil {
		return Campaign{}, err
	}
	if c.Published.IsZero() {
		return Campaign{}, privacy.Errorf(privacy.Conflict, "Campaign %s has no public notice.", id)
	}
	if err := o.index(ctx, NoticeEntry{ID: c.ID, Title: c.Title, Published: c.Published}); err != nil {
		return Campaign{}, err
	}
	return o.mark(ctx, c, func(c *Campaign) { c.Withdrawn = o.Now() })
}

// index writes e into the site's notice index, replacing its earlier entry.
func (o *Operator) index(ctx context.Context, e NoticeEntry) error {
	var idx NoticeIndex
	switch b, err := o.Site.Get(ctx, noticeIndexKey); {
	case privacy.ErrorCode(err) == privacy.NotFound:
	case err != nil:
		return err
	default:
		if err := json.Unmarshal(b, &idx); err != nil {
			return fmt.Errorf("the site's notice index: %w", err)
		}
	}
	kept := idx.Notices[:0]
	for _, n := range idx.Notices {
		if n.ID != e.ID {
			kept = append(kept, n)
		}
	}
	idx.Notices = append([]NoticeEntry{e}, kept...)
	body, err := json.Marshal(idx)
	if err != nil {
		return err
	}
	return o.Site.Put(ctx, noticeIndexKey, body)
}

// mark saves a change to a campaign in whatever state it is.
func (o *Operator) mark(ctx context.Context, c Campaign, change func(*Campaign)) (Campaign, error) {
	for range 3 {
		updated := c
		change(&updated)
		switch err := o.Store.SaveCampaign(ctx, updated); {
		case errors.Is(err, privacy.ErrStale):
			if c, err = o.campaign(ctx, c.ID); err != nil {
				return Campaign{}, err
			}
			continue
		case err != nil:
			return Campaign{}, err
		}
		updated.Version++
		return updated, nil
	}
	return Campaign{}, privacy.Errorf(privacy.Conflict, "Campaign %s keeps changing: try again.", c.ID)
}
