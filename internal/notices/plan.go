package notices

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/privacyportal/portal/internal/jobs"
	"github.com/privacyportal/portal/internal/privacy"
)

// CampaignStore is what the operator's side of campaigns reads and writes.
type CampaignStore interface {
	// PutCampaign writes a new campaign (privacy.ErrStale if its ID is taken).
	PutCampaign(ctx context.Context, c Campaign) error
	// Campaign reads one (privacy.NotFound if there is none).
	Campaign(ctx context.Context, id string) (Campaign, error)
	// SaveCampaign writes a campaign read at c.Version (privacy.ErrStale if it changed since).
	SaveCampaign(ctx context.Context, c Campaign) error
	// Counts reads a campaign's delivery counters.
	Counts(ctx context.Context, id string) (Counts, error)
}

// PlanStore is what the planner reads and writes.
type PlanStore interface {
	Campaign(ctx context.Context, id string) (Campaign, error)
	SaveCampaign(ctx context.Context, c Campaign) error
	// ActiveAccounts lists up to limit active accounts after cursor ("" to begin), and the
	// cursor to go on from ("" when there are no more).
	ActiveAccounts(ctx context.Context, cursor string, limit int) ([]privacy.SubjectID, string, error)
	// Holds reports whether a subject's account is active and holds an optional field.
	Holds(ctx context.Context, id privacy.SubjectID, field string) (bool, error)
	// Account reads an account (privacy.NotFound when there is none).
	Account(ctx context.Context, id privacy.SubjectID) (privacy.Account, error)
	// PutDeliveries writes a pending delivery of the campaign for each subject that has none
	// yet (and whose account is live), and returns how many of ids have a delivery now:
	// written by this call or by an earlier one. A page planned again (after a failure
	// between its deliveries and its save) so counts the same, and Planned stays exact.
	PutDeliveries(ctx context.Context, campaign string, ids []privacy.SubjectID) (int, error)
}

// PageSize is how many recipients the planner reads, writes and hands over at a time.
const PageSize = 500

// Planner writes a started campaign's deliveries and hands the sender its batches. It goes a
// page at a time and records where it is after each, so a planner that dies goes on from the
// last page (whose deliveries it writes once, and whose batches the sender takes once).
type Planner struct {
	Store PlanStore
	// Sends is the sender's queue.
	Sends jobs.Queue
	Now   func() time.Time
}

// Plan plans one campaign. A campaign not being planned (a draft, or planned already) is left
// as it is.
func (p *Planner) Plan(ctx context.Context, id string) (Campaign, error) {
	c, err := p.Store.Campaign(ctx, id)
	if err != nil {
		return Campaign{}, err
	}
	for c.State == StatePlanning {
		ids, next, err := page(ctx, p.Store, c)
		if err != nil {
			return c, err
		}
		n, err := p.Store.PutDeliveries(ctx, c.ID, ids)
		if err != nil {
			return c, err
		}
		for i := 0; i < len(ids); i += BatchSize {
			batch := ids[i:min(len(ids), i+BatchSize)]
			if err := p.Sends.Enqueue(ctx, jobs.Job{Kind: JobBatch, Campaign: c.ID, Subjects: batch, At: p.Now()}); err != nil {
				return c, fmt.Errorf("enqueue a batch: %w", err)
			}
		}
		updated := c
		updated.Planned += n
		updated.Cursor = next
		if next == "" {
			updated.State, updated.PlannedAt = StateSending, p.Now()
		}
		switch err := p.Store.SaveCampaign(ctx, updated); {
		case errors.Is(err, privacy.ErrStale):
			// Changed meanwhile (the operator published it, or another planner went on):
			// read it again and go on from where it says.
			if c, err = p.Store.Campaign(ctx, id); err != nil {
				return c, err
			}
			continue
		case err != nil:
			return c, err
		}
		updated.Version++
		c = updated
	}
	slog.Info("campaign planned", "campaign", c.ID, "recipients", c.Planned)
	return c, nil
}

// audienceStore is what finding a campaign's recipients reads.
type audienceStore interface {
	ActiveAccounts(ctx context.Context, cursor string, limit int) ([]privacy.SubjectID, string, error)
	Holds(ctx context.Context, id privacy.SubjectID, field string) (bool, error)
	Account(ctx context.Context, id privacy.SubjectID) (privacy.Account, error)
}

// page is the next page of a campaign's recipients, and the cursor after it.
func page(ctx context.Context, st audienceStore, c Campaign) ([]privacy.SubjectID, string, error) {
	a := c.Audience
	if len(a.Subjects) > 0 {
		// A named list: the cursor is how far along it the planner is.
		from := 0
		if c.Cursor != "" {
			fmt.Sscan(c.Cursor, &from)
		}
		to := min(len(a.Subjects), from+PageSize)
		var ids []privacy.SubjectID
		for _, id := range a.Subjects[from:to] {
			acc, err := st.Account(ctx, id)
			if privacy.ErrorCode(err) == privacy.NotFound || (err == nil && acc.Status != privacy.StatusActive) {
				continue // erased meanwhile, or never active: nothing to tell
			}
			if err != nil {
				return nil, "", err
			}
			ids = append(ids, id)
		}
		next := ""
		if to < len(a.Subjects) {
			next = fmt.Sprint(to)
		}
		return ids, next, nil
	}
	ids, next, err := st.ActiveAccounts(ctx, c.Cursor, PageSize)
	if err != nil || a.Holding == "" {
		return ids, next, err
	}
	held := ids[:0]
	for _, id := range ids {
		ok, err := st.Holds(ctx, id, a.Holding)
		if err != nil {
			return nil, "", err
		}
		if ok {
			held = append(held, id)
		}
	}
	return held, next, nil
}
