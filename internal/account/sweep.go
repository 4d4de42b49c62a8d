package account

import (
	"context"
	"errors"
	"time"

	"github.com/privacyportal/portal/internal/privacy"
)

// Sweeper deletes accounts that did not become active in time: unverified registrations, and
// children's accounts no guardian confirmed (P24, P12). It needs no mail and no keys.
type Sweeper struct {
	Store SweepStore
	Now   func() time.Time
}

// Sweep deletes every account due, and returns how many it deleted.
func (s *Sweeper) Sweep(ctx context.Context) (int, error) {
	deleted := 0
	for {
		ids, err := s.Store.DueForSweep(ctx, s.Now(), 100)
		if err != nil {
			return deleted, err
		}
		if len(ids) == 0 {
			return deleted, nil
		}
		progress := false
		for _, id := range ids {
			a, err := s.Store.Account(ctx, id)
			if isNotFound(err) {
				continue
			}
			if err != nil {
				return deleted, err
			}
			if a.Status == privacy.StatusActive {
				continue
			}
			// Claim it first: a verification landing between the read and the delete would
			// otherwise activate an account that is then deleted.
			switch err := s.Store.MarkErasing(ctx, id); {
			case errors.Is(err, privacy.ErrStale):
				continue
			case err != nil:
				return deleted, err
			}
			if _, err := s.Store.DeleteSubject(ctx, id); err != nil {
				return deleted, err
			}
			logged("sweeper deleted an account that never became active", id)
			deleted++
			progress = true
		}
		if !progress {
			return deleted, nil
		}
	}
}
