package erasure

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/privacyportal/portal/internal/privacy"
)

// ReapplyStore is a table restored from backup (DynamoDB point-in-time recovery makes a new
// table as of a past moment), as Reapply reads and erases it.
type ReapplyStore interface {
	// Subjects lists every subject with a partition in the table (a Scan: restores only).
	Subjects(ctx context.Context) ([]privacy.SubjectID, error)
	Account(ctx context.Context, id privacy.SubjectID) (privacy.Account, error)
	// EraseSubject deletes the subject's partition and the look-ups that name them.
	EraseSubject(ctx context.Context, id privacy.SubjectID, emailKey, usernameKey string) (items, lookups int, err error)
	// Remains names the places of the table that still hold something of the subject.
	Remains(ctx context.Context, id privacy.SubjectID, emailKey, usernameKey string) ([]string, error)
	// PutTombstone writes a new tombstone (privacy.ErrStale if there is one); SaveTombstone
	// writes over it.
	PutTombstone(ctx context.Context, t privacy.Tombstone) error
	SaveTombstone(ctx context.Context, t privacy.Tombstone) error
}

// Reapplied is what Reapply did to a restored table.
type Reapplied struct {
	// Tombstones is how many tombstones it was given: the erasures on record.
	Tombstones int `json:"tombstones"`
	// Subjects is how many subjects the restored table holds; Erased how many of them it
	// erased, with Items partition items and Lookups look-ups.
	Subjects int `json:"subjectsChecked"`
	Erased   int `json:"subjectsErased"`
	Items    int `json:"itemsRemoved"`
	Lookups  int `json:"lookupsRemoved"`
	// Requests are the erasure requests (by their own IDs, which name no one) whose subject the
	// restored table held, and no longer holds.
	Requests []string `json:"requests"`
	// TombstonesWritten is how many tombstones it wrote into the restored table.
	TombstonesWritten int `json:"tombstonesWritten"`
}

// Reapply erases again, from a table restored from backup, every subject erased since the
// moment it was restored to (P17): a restore must not bring back a person who asked to be
// erased. tombstones are the live table's (every erasure within the backup window has one:
// tombstones outlive the backups). Each subject of the restored table is hashed as a tombstone
// keeps it (keys must be the portal's hash key); one that a tombstone names is erased, its
// partition and the look-ups its profile (or, without one, the tombstone's notice) names, and
// the table is searched again for it. Then every tombstone is written into the restored
// table, without its notice (the outcome mail's address, which the live table's mail worker
// uses and drops), so that the restored table, once in service, still answers the requests'
// status links and keeps the proof of the erasures.
//
// Only the table is restored by point-in-time recovery: the buckets (export archives, the
// sharing outbox) are not, so there is nothing to erase again there. Reapply can be run again:
// it finds nothing more to erase, and writes the same tombstones.
func Reapply(ctx context.Context, restored ReapplyStore, tombstones []privacy.Tombstone, keys *privacy.Keyed) (Reapplied, error) {
	done := Reapplied{Tombstones: len(tombstones), Requests: []string{}}
	if len(tombstones) == 0 {
		return done, nil
	}
	erased := map[string][]privacy.Tombstone{}
	for _, t := range tombstones {
		if t.SubjectHash == "" || t.Request == "" {
			return done, fmt.Errorf("reapply: a tombstone without its request or subject hash")
		}
		erased[t.SubjectHash] = append(erased[t.SubjectHash], t)
	}
	subjects, err := restored.Subjects(ctx)
	if err != nil {
		return done, err
	}
	done.Subjects = len(subjects)
	for _, id := range subjects {
		ts, ok := erased[keys.Hash(privacy.DomainTombstone, string(id))]
		if !ok {
			continue
		}
		items, lookups, err := reapplyOne(ctx, restored, id, ts)
		if err != nil {
			return done, fmt.Errorf("reapply the erasure of request %s: %w", ts[0].Request, err)
		}
		done.Erased++
		done.Items += items
		done.Lookups += lookups
		for _, t := range ts {
			done.Requests = append(done.Requests, t.Request)
		}
	}
	slices.Sort(done.Requests)
	for _, t := range tombstones {
		t.Notice = nil
		err := restored.PutTombstone(ctx, t)
		if errors.Is(err, privacy.ErrStale) {
			// The restored table has it as it stood then (an erasure under way at that
			// moment): the live one is what happened since.
			err = restored.SaveTombstone(ctx, t)
		}
		if err != nil {
			return done, fmt.Errorf("write the tombstone of request %s: %w", t.Request, err)
		}
		done.TombstonesWritten++
	}
	return done, nil
}

// reapplyOne erases one subject from the restored table and searches it again.
func reapplyOne(ctx context.Context, restored ReapplyStore, id privacy.SubjectID, ts []privacy.Tombstone) (items, lookups int, err error) {
	emailKey, usernameKey := "", ""
	switch a, err := restored.Account(ctx, id); {
	case err == nil:
		emailKey, usernameKey = a.EmailKey, a.UsernameKey
	case privacy.ErrorCode(err) != privacy.NotFound:
		return 0, 0, err
	default:
		// No profile: the look-ups went before it (EraseSubject deletes the profile last), or
		// the person never had an account. A tombstone whose mail is not sent yet still knows
		// the keys.
		for _, t := range ts {
			if n := t.Notice; n != nil {
				emailKey, usernameKey = n.EmailKey, n.UsernameKey
				break
			}
		}
	}
	if items, lookups, err = restored.EraseSubject(ctx, id, emailKey, usernameKey); err != nil {
		return items, lookups, err
	}
	found, err := restored.Remains(ctx, id, emailKey, usernameKey)
	if err != nil {
		return items, lookups, err
	}
	// The indexes are eventually consistent, and their entries are the partition's items,
	// which the search found gone: only the table's own places count.
	found = slices.DeleteFunc(found, isIndex)
	if len(found) > 0 {
		return items, lookups, fmt.Errorf("%w: %v", ErrLeft, found)
	}
	return items, lookups, nil
}
