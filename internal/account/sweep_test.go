package account_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/privacyportal/portal/internal/account"
	"github.com/privacyportal/portal/internal/privacy"
)

func TestP24_SweepDeletesAccountsThatNeverBecameActive(t *testing.T) {
	w := newWorld(t)
	unverified, _, _ := w.mustRegister(t, adult("ada@example.com", "ada"))
	pending, _ := w.registerChild(t, "tim@example.com", "tim", "parent@example.com")
	active, _ := w.mustActive(t, "grace@example.com", "grace")
	if n, err := w.sweeper.Sweep(ctx); err != nil || n != 0 {
		t.Fatalf("sweep before the deadline: %d, %v", n, err)
	}
	w.clock.Advance(7 * 24 * time.Hour)
	late, _, _ := w.mustRegister(t, adult("late@example.com", "late"))
	n, err := w.sweeper.Sweep(ctx)
	if err != nil || n != 2 {
		t.Fatalf("sweep: deleted %d, %v; want the unverified and the pending account", n, err)
	}
	for _, id := range []privacy.SubjectID{unverified, pending} {
		if _, err := w.store.Account(ctx, id); privacy.ErrorCode(err) != privacy.NotFound {
			t.Errorf("%s survived the sweep", id)
		}
	}
	for _, id := range []privacy.SubjectID{active, late} {
		if _, err := w.store.Account(ctx, id); err != nil {
			t.Errorf("%s was swept: %v", id, err)
		}
	}
	// The addresses and usernames are free again.
	w.mustRegister(t, adult("ada@example.com", "ada"))
}

// activatingStore activates an account between the sweeper's read and its claim.
type activatingStore struct{ *memStore }

func (s activatingStore) MarkErasing(ctx context.Context, id privacy.SubjectID) error {
	s.mu.Lock()
	a := s.accounts[id]
	a.Status = privacy.StatusActive
	s.accounts[id] = a
	s.mu.Unlock()
	return s.memStore.MarkErasing(ctx, id)
}

func TestSweepLeavesAnAccountActivatedMeanwhile(t *testing.T) {
	w := newWorld(t)
	id, _, _ := w.mustRegister(t, adult("ada@example.com", "ada"))
	w.clock.Advance(8 * 24 * time.Hour)
	s := &account.Sweeper{Store: activatingStore{w.store}, Now: w.clock.Now}
	if n, err := s.Sweep(ctx); err != nil || n != 0 {
		t.Errorf("sweep: %d, %v; want nothing deleted", n, err)
	}
	if _, err := w.store.Account(ctx, id); err != nil {
		t.Errorf("an account activated during the sweep was deleted: %v", err)
	}
}

func TestSweepPassesOnStoreFailures(t *testing.T) {
	boom := errors.New("table unavailable")
	for _, op := range []string{"DueForSweep", "Account", "MarkErasing", "DeleteSubject"} {
		t.Run(op, func(t *testing.T) {
			w := newWorld(t)
			w.mustRegister(t, adult("ada@example.com", "ada"))
			w.clock.Advance(8 * 24 * time.Hour)
			w.store.fail[op] = boom
			if _, err := w.sweeper.Sweep(ctx); !errors.Is(err, boom) {
				t.Errorf("err = %v, want the store's", err)
			}
		})
	}
}
