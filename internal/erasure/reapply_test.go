package erasure_test

import (
	"context"
	"errors"
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/privacyportal/portal/internal/erasure"
	"github.com/privacyportal/portal/internal/privacy"
	"github.com/privacyportal/portal/internal/requests"
)

// restored is a table restored from backup: the fake store as it stood at the backup's moment,
// with the Scan of its subjects.
type restored struct {
	*store
}

var _ erasure.ReapplyStore = restored{}

// Subjects lists every subject with something in its partition, as the adapter's Scan.
func (r restored) Subjects(_ context.Context) ([]privacy.SubjectID, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if err := r.f.hit("Subjects"); err != nil {
		return nil, err
	}
	ids := map[privacy.SubjectID]bool{}
	for id, items := range r.items {
		if len(items) > 0 {
			ids[id] = true
		}
	}
	for id := range r.accounts {
		ids[id] = true
	}
	return slices.Sorted(maps.Keys(ids)), nil
}

// backup copies the store as it stands: what point-in-time recovery restores.
func (w *world) backup() restored {
	m := w.store
	m.mu.Lock()
	defer m.mu.Unlock()
	b := newStore(newFaults())
	for k, t := range m.tombstones {
		b.tombstones[k] = cloneTombstone(t)
	}
	maps.Copy(b.accounts, m.accounts)
	for k, v := range m.requests {
		b.requests[k] = slices.Clone(v)
	}
	for k, v := range m.audit {
		b.audit[k] = slices.Clone(v)
	}
	for k, v := range m.items {
		b.items[k] = slices.Clone(v)
	}
	maps.Copy(b.lookups, m.lookups)
	return restored{b}
}

// tombstones are the live table's tombstones, as (*dynamodb.Store).Tombstones reads them.
func (w *world) tombstones() []privacy.Tombstone {
	m := w.store
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []privacy.Tombstone
	for _, k := range slices.Sorted(maps.Keys(m.tombstones)) {
		out = append(out, cloneTombstone(m.tombstones[k]))
	}
	return out
}

func (w *world) mustErase(tb testing.TB, p person, typ privacy.RequestType) requests.Record {
	tb.Helper()
	r, j := w.erasureRequest(p, typ, privacy.LocaleEnglish)
	if _, err := w.eraser.Erase(ctx, j); err != nil {
		tb.Fatalf("erase: %v", err)
	}
	w.notify(tb)
	return r
}

func TestP17_RestoredTableHasTheSubjectsErasedSinceErasedAgain(t *testing.T) {
	w := newWorld(t)
	s := w.scene(t)
	// The backup's moment: Ada and Bob are there. Then Ada cancels her account, and Dan, who
	// registered after the backup, is erased too.
	backup := w.backup()
	if _, err := w.eraser.Erase(ctx, s.job); err != nil {
		t.Fatal(err)
	}
	w.notify(t)
	dan := w.addAccount(t, "dan@example.com", "Dan Dare", "dandare", privacy.LocaleEnglish)
	danRequest := w.mustErase(t, dan, privacy.RequestDeletion)
	if left := backup.holds(s.ada.id); len(left) == 0 {
		t.Fatal("the backup does not hold Ada: the test restores nothing")
	}

	got, err := erasure.Reapply(ctx, backup, w.tombstones(), w.keys)
	if err != nil {
		t.Fatalf("reapply: %v", err)
	}
	want := erasure.Reapplied{Tombstones: 2, Subjects: 2, Erased: 1, Items: 10, Lookups: wantLookups,
		Requests: []string{s.request.ID}, TombstonesWritten: 2}
	if !equalReapplied(got, want) {
		t.Errorf("reapplied %+v, want %+v", got, want)
	}
	if left := backup.holds(s.ada.id); len(left) != 0 {
		t.Errorf("Ada is back after the restore: %v", left)
	}
	if left := backup.holds(s.bob.id); !slices.Contains(left, "account") || !slices.Contains(left, s.bobsClaim) ||
		!slices.Contains(left, usernameLookup+"|"+s.bob.usernameKey) {
		t.Errorf("Bob's data was touched: he holds %v", left)
	}
	// The restored table keeps the proof of both erasures, and no one's address.
	for _, id := range []string{s.request.ID, danRequest.ID} {
		tb := backup.tombstone(t, id)
		if tb.State != privacy.ErasureDone || tb.Notice != nil || tb.SubjectHash != w.store.tombstone(t, id).SubjectHash {
			t.Errorf("restored table's tombstone of %s: %s, notice %v", id, tb.State, tb.Notice)
		}
	}

	// Again: nothing more to erase.
	again, err := erasure.Reapply(ctx, backup, w.tombstones(), w.keys)
	if err != nil {
		t.Fatal(err)
	}
	want = erasure.Reapplied{Tombstones: 2, Subjects: 1, Requests: []string{}, TombstonesWritten: 2}
	if !equalReapplied(again, want) {
		t.Errorf("second run %+v, want %+v", again, want)
	}
	if left := backup.holds(s.bob.id); !slices.Contains(left, "account") {
		t.Errorf("the second run touched Bob: %v", left)
	}
}

func TestP17_ReapplyFinishesAnErasureTheBackupCaughtHalfway(t *testing.T) {
	w := newWorld(t)
	s := w.scene(t)
	// The erasure stops midway (its look-ups and half its items gone), and the backup's moment
	// is then: the restored table holds the tombstone as it stood, with its notice.
	w.f.failAt("EraseSubject midway", 1)
	if _, err := w.eraser.Erase(ctx, s.job); err == nil {
		t.Fatal("the erasure did not stop midway")
	}
	backup := w.backup()
	if _, err := w.eraser.Erase(ctx, s.job); err != nil {
		t.Fatal(err)
	}
	w.notify(t)
	if tb := backup.tombstone(t, s.request.ID); tb.State != privacy.ErasureRunning || tb.Notice == nil {
		t.Fatalf("the backup's tombstone is %s with notice %v: the test meant one under way", tb.State, tb.Notice)
	}

	got, err := erasure.Reapply(ctx, backup, w.tombstones(), w.keys)
	if err != nil {
		t.Fatal(err)
	}
	if got.Erased != 1 || got.Items != 5 || got.Lookups != 0 || !slices.Equal(got.Requests, []string{s.request.ID}) {
		t.Errorf("reapplied %+v, want Ada's 5 items left, no look-ups (they went first)", got)
	}
	if left := backup.holds(s.ada.id); len(left) != 0 {
		t.Errorf("Ada is back after the restore: %v", left)
	}
	if tb := backup.tombstone(t, s.request.ID); tb.State != privacy.ErasureDone || !tb.Verified || tb.Notice != nil {
		t.Errorf("the restored tombstone is %s, verified %v, notice %v; want the live one, without its notice", tb.State, tb.Verified, tb.Notice)
	}
}

func TestP17_ReapplyUsesTheTombstonesLookupKeysWhenTheProfileIsGone(t *testing.T) {
	w := newWorld(t)
	ada := w.addAccount(t, "ada@example.com", "Ada Lovelace", "countess", privacy.LocaleEnglish)
	backup := w.backup()
	// In the backup, Ada's partition holds no profile, but a look-up still names her.
	backup.mu.Lock()
	delete(backup.accounts, ada.id)
	backup.items[ada.id] = []string{"consent", "session"}
	backup.mu.Unlock()
	tb := privacy.Tombstone{Request: "r1", Type: privacy.RequestCancellation, SubjectHash: w.keys.Hash(privacy.DomainTombstone, string(ada.id)),
		State: privacy.ErasureDone, Notice: &privacy.ErasureNotice{Email: ada.email, EmailKey: ada.emailKey, UsernameKey: ada.usernameKey}}

	got, err := erasure.Reapply(ctx, backup, []privacy.Tombstone{tb}, w.keys)
	if err != nil {
		t.Fatal(err)
	}
	if got.Erased != 1 || got.Items != 2 || got.Lookups != 2 {
		t.Errorf("reapplied %+v, want 2 items and both look-ups", got)
	}
	if left := backup.holds(ada.id); len(left) != 0 {
		t.Errorf("Ada is back after the restore: %v", left)
	}
	if written := backup.tombstone(t, "r1"); written.Notice != nil {
		t.Errorf("the tombstone was written with its notice (Ada's address): %+v", written.Notice)
	}
}

func TestP17_ReapplyThatFindsTheSubjectLeftFails(t *testing.T) {
	w := newWorld(t)
	ada := w.addAccount(t, "ada@example.com", "Ada Lovelace", "countess", privacy.LocaleEnglish)
	w.addAccount(t, "bob@example.com", "Bob Babbage", "engines", privacy.LocaleEnglish)
	tb := privacy.Tombstone{Request: "r1", SubjectHash: w.keys.Hash(privacy.DomainTombstone, string(ada.id)), State: privacy.ErasureDone}

	t.Run("an index slow to catch up does not count", func(t *testing.T) {
		backup := w.backup()
		backup.linger("sweep index", -1)
		if got, err := erasure.Reapply(ctx, backup, []privacy.Tombstone{tb}, w.keys); err != nil || got.Erased != 1 {
			t.Errorf("reapply: %+v, %v", got, err)
		}
	})
	t.Run("a partition a delete did not empty", func(t *testing.T) {
		backup := w.backup()
		backup.linger("partition", -1)
		_, err := erasure.Reapply(ctx, backup, []privacy.Tombstone{tb}, w.keys)
		if !errors.Is(err, erasure.ErrLeft) || !strings.Contains(err.Error(), "request r1") || strings.Contains(err.Error(), string(ada.id)) {
			t.Errorf("err = %v, want ErrLeft naming the request, not the subject", err)
		}
	})
}

func TestP17_ReapplyFailuresStopIt(t *testing.T) {
	w := newWorld(t)
	ada := w.addAccount(t, "ada@example.com", "Ada Lovelace", "countess", privacy.LocaleEnglish)
	tbs := []privacy.Tombstone{{Request: "r1", SubjectHash: w.keys.Hash(privacy.DomainTombstone, string(ada.id)), State: privacy.ErasureDone}}
	for _, op := range []string{"Subjects", "Account", "EraseSubject", "Remains", "PutTombstone"} {
		t.Run(op, func(t *testing.T) {
			backup := w.backup()
			backup.f.failAt(op, 1)
			if _, err := erasure.Reapply(ctx, backup, tbs, w.keys); !errors.Is(err, errFault) {
				t.Errorf("err = %v, want the %s failure", err, op)
			}
			// Run again, it finishes.
			if _, err := erasure.Reapply(ctx, backup, tbs, w.keys); err != nil {
				t.Fatal(err)
			}
			if left := backup.holds(ada.id); len(left) != 0 {
				t.Errorf("Ada is back after the restore: %v", left)
			}
		})
	}
	t.Run("a tombstone without its subject hash", func(t *testing.T) {
		if _, err := erasure.Reapply(ctx, w.backup(), []privacy.Tombstone{{Request: "r1"}}, w.keys); err == nil {
			t.Error("reapplied a tombstone that names no subject hash")
		}
	})
}

func TestP17_ReapplyWithoutTombstonesReadsNothing(t *testing.T) {
	w := newWorld(t)
	w.addAccount(t, "ada@example.com", "Ada Lovelace", "countess", privacy.LocaleEnglish)
	backup := w.backup()
	got, err := erasure.Reapply(ctx, backup, nil, w.keys)
	if err != nil || !equalReapplied(got, erasure.Reapplied{Requests: []string{}}) {
		t.Errorf("reapply = %+v, %v", got, err)
	}
	if calls := backup.f.counts(); len(calls) != 0 {
		t.Errorf("calls %v, want none", calls)
	}
}

func equalReapplied(a, b erasure.Reapplied) bool {
	return a.Tombstones == b.Tombstones && a.Subjects == b.Subjects && a.Erased == b.Erased && a.Items == b.Items &&
		a.Lookups == b.Lookups && a.TombstonesWritten == b.TombstonesWritten &&
		slices.Equal(a.Requests, b.Requests) && (a.Requests == nil) == (b.Requests == nil)
}
