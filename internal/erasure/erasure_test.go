package erasure_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/url"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/privacyportal/portal/internal/erasure"
	"github.com/privacyportal/portal/internal/jobs"
	"github.com/privacyportal/portal/internal/mail"
	"github.com/privacyportal/portal/internal/privacy"
	"github.com/privacyportal/portal/internal/requests"
)

// scene is Ada, who cancels her account, and Bob, who stays: everything of Ada's goes,
// nothing of Bob's.
type scene struct {
	ada, bob  person
	request   requests.Record
	job       jobs.Job
	archives  []string
	bobKeys   []string // Bob's objects, in either bucket
	bobsClaim string   // a look-up under Ada's address key that names Bob
}

func (w *world) scene(tb testing.TB) scene {
	tb.Helper()
	recipients := recipientIDs(tb)
	s := scene{
		ada: w.addAccount(tb, "ada@example.com", "Ada Lovelace", "countess", privacy.LocaleEnglish),
		bob: w.addAccount(tb, "bob@example.com", "Bob Babbage", "engines", privacy.LocaleEnglish),
	}
	// An old copy of Ada's data went to her bank, at her request: the outcome mail names it.
	w.addRequest(s.ada.id, requests.Record{
		Request: privacy.Request{Type: privacy.RequestCopy, Status: privacy.RequestCompleted, Email: s.ada.email, ThirdParty: "bank@example.org"},
		Export:  requests.ExportState{Key: requests.ArchivePrefix(s.ada.id) + "old.zip", Shared: true},
	})
	s.request, s.job = w.erasureRequest(s.ada, privacy.RequestCancellation, privacy.LocaleEnglish)
	// Both recipients received Ada's data; one has not collected its latest object yet.
	w.disclose(s.ada, recipients[0], false)
	w.disclose(s.ada, recipients[1], true)
	w.disclose(s.ada, recipients[1], true) // a second disclosure to the same recipient
	// An audit entry of another action that happens to carry a recipient field tells no one.
	w.store.mu.Lock()
	w.store.audit[s.ada.id] = append(w.store.audit[s.ada.id], privacy.AuditEntry{At: testNow, Action: "profile.updated", Fields: []string{"recipient:nobody"}})
	w.store.items[s.ada.id] = append(w.store.items[s.ada.id], "audit")
	// Ada's address is in a pending registration of Bob's: not hers to delete.
	s.bobsClaim = pendingLookup + "|" + s.ada.emailKey
	w.store.lookups[s.bobsClaim] = s.bob.id
	w.store.mu.Unlock()
	s.archives = []string{w.archive(s.ada, "r1"), w.archive(s.ada, "r2")}

	w.disclose(s.bob, recipients[1], true)
	bobDisclosure, _ := w.disclosureKey(recipients[1], s.bob.id)
	s.bobKeys = []string{w.archive(s.bob, "r9"), bobDisclosure}
	return s
}

// wantCounts are what the scene's erasure finds: Ada's items by kind, her objects (two
// archives, one uncollected disclosure) and look-ups (address and username).
var wantItems = map[string]int{"profile": 1, "consent": 2, "session": 1, "request": 2, "audit": 4}

const wantObjects, wantLookups = 3, 2

func TestP20_CancellationErasesEverythingAndLeavesATombstoneThatNamesNoOne(t *testing.T) {
	w := newWorld(t)
	s := w.scene(t)
	recipients := recipientIDs(t)

	got, err := w.eraser.Erase(ctx, s.job)
	if err != nil {
		t.Fatalf("erase: %v", err)
	}

	// The tombstone comes first, before anything is closed or deleted, and holds what the
	// erasure found.
	writes := w.f.written()
	if len(writes) == 0 || writes[0] != "PutTombstone" {
		t.Fatalf("writes %v, want the tombstone first", writes)
	}
	first := w.store.puts[0]
	if first.State != privacy.ErasureRunning || !maps.Equal(first.Items, wantItems) || first.Notice == nil {
		t.Errorf("first tombstone: %s with items %v, notice %v; want erasing, %v, a notice", first.State, first.Items, first.Notice, wantItems)
	}
	if !slices.Equal(first.RecipientsTold, recipients) {
		t.Errorf("recipients to tell %v, want %v (the audit trail's disclosures)", first.RecipientsTold, recipients)
	}
	if want := w.keys.Hash(privacy.DomainTombstone, string(s.ada.id)); first.SubjectHash != want {
		t.Errorf("subject hash %q, want the keyed hash of the subject", first.SubjectHash)
	}
	if want := testNow.Add(400 * 24 * time.Hour); !first.ExpiresAt.Equal(want) {
		t.Errorf("expires %v, want %v", first.ExpiresAt, want)
	}
	n := first.Notice
	if n.Email != s.ada.email || n.EmailKey != s.ada.emailKey || n.UsernameKey != s.ada.usernameKey ||
		n.RequestID != requests.ID(s.ada.id, s.request.ID) || n.StatusPath != w.env.StatusPath(s.request.Request) {
		t.Errorf("notice %+v, want Ada's address, keys, request ID and status path", n)
	}
	if !slices.Equal(n.Independent, []string{"bank@example.org"}) {
		t.Errorf("independent third parties %v, want the bank", n.Independent)
	}

	// The result.
	if got.State != privacy.ErasureDone || !got.Verified || len(got.Found) != 0 {
		t.Errorf("erased: %s, verified %v, found %v", got.State, got.Verified, got.Found)
	}
	if !maps.Equal(got.Items, wantItems) || got.Objects != wantObjects || got.Lookups != wantLookups {
		t.Errorf("counts: items %v, objects %d, look-ups %d; want %v, %d, %d", got.Items, got.Objects, got.Lookups, wantItems, wantObjects, wantLookups)
	}
	if !got.Erased.Equal(testNow) || !got.Started.Equal(testNow) {
		t.Errorf("started %v, erased %v, want %v", got.Started, got.Erased, testNow)
	}
	if stored := w.store.tombstone(t, s.request.ID); stored.State != privacy.ErasureDone || stored.Objects != wantObjects || stored.Lookups != wantLookups {
		t.Errorf("stored tombstone %+v", stored)
	}
	if left := w.store.holds(s.ada.id); len(left) != 0 {
		t.Errorf("Ada's data left in the table: %v", left)
	}
	if left := w.store.holds(s.bob.id); !slices.Contains(left, "account") || !slices.Contains(left, s.bobsClaim) {
		t.Errorf("Bob's data was touched: he holds %v", left)
	}
	for _, k := range append(slices.Clone(s.archives), disclosureOf(w, recipients[1], s.ada.id)) {
		if _, ok := w.exports.get(k); ok {
			t.Errorf("archive %s is left", k)
		}
		if _, ok := w.outbox.get(k); ok {
			t.Errorf("disclosure %s is left", k)
		}
	}
	for _, k := range s.bobKeys {
		_, inExports := w.exports.get(k)
		_, inOutbox := w.outbox.get(k)
		if !inExports && !inOutbox {
			t.Errorf("Bob's object %s was deleted", k)
		}
	}

	// Each recipient finds an instruction to delete, which names Ada only by its pseudonym.
	for _, r := range recipients {
		object, pseudonym := w.disclosureKey(r, s.ada.id)
		key := r + "/erasures/" + pseudonym + ".json"
		body, ok := w.outbox.get(key)
		if !ok {
			t.Errorf("no instruction for %s at %s; outbox holds %v", r, key, w.outbox.keys())
			continue
		}
		var in erasure.Instruction
		if err := json.Unmarshal(body, &in); err != nil {
			t.Fatal(err)
		}
		if want := (erasure.Instruction{Instruction: "erase", Recipient: r, Object: object, Requested: "2026-03-02"}); in != want {
			t.Errorf("instruction %+v, want %+v", in, want)
		}
		wantNoPerson(t, "instruction to "+r, string(body), s.ada)
	}

	// One outcome mail is queued; the job names the request only.
	js := w.mail.take()
	if len(js) != 1 || !reflect.DeepEqual(js[0], jobs.Job{Kind: erasure.JobErased, Request: s.request.ID, At: testNow}) {
		t.Fatalf("mail jobs %+v, want one %s for the request", js, erasure.JobErased)
	}
	if err := w.notifier.Do(ctx, js[0]); err != nil {
		t.Fatal(err)
	}
	ms := w.sender.mails()
	if len(ms) != 1 || ms[0].To != s.ada.email || ms[0].Kind != mail.ErasureDone {
		t.Fatalf("mails %+v, want one erasure_done to Ada", ms)
	}
	d := ms[0].Data
	if d.RequestType != "cancellation" || d.RequestID != requests.ID(s.ada.id, s.request.ID) || !d.At.Equal(testNow) ||
		d.Link != siteURL+w.env.StatusPath(s.request.Request) || d.Name != "" {
		t.Errorf("mail data %+v", d)
	}
	wantErasure := mail.Erasure{Items: 10, Objects: wantObjects, BackupDays: backupDays, Verified: true}
	if e := d.Erasure; e == nil || e.Items != wantErasure.Items || e.Objects != wantErasure.Objects || e.BackupDays != backupDays || !e.Verified ||
		len(e.RecipientsTold) != len(recipients) || !slices.Equal(e.Independent, []string{"bank@example.org"}) {
		t.Errorf("mail erasure %+v, want %+v with %d recipients and the bank", e, wantErasure, len(recipients))
	}
	wantStatusLinkWorks(t, w, d.Link, s.ada.id, s.request.ID)

	// What is left identifies no one.
	final := w.store.tombstone(t, s.request.ID)
	if final.Notice != nil {
		t.Errorf("the notice is still in the tombstone after the mail: %+v", final.Notice)
	}
	body, err := json.Marshal(final)
	if err != nil {
		t.Fatal(err)
	}
	wantNoPerson(t, "final tombstone", string(body), s.ada)
}

func disclosureOf(w *world, recipient string, id privacy.SubjectID) string {
	k, _ := w.disclosureKey(recipient, id)
	return k
}

// wantNoPerson fails if text holds anything that identifies p: their ID, address, name,
// username or look-up keys.
func wantNoPerson(tb testing.TB, what, text string, p person) {
	tb.Helper()
	lower := strings.ToLower(text)
	for _, s := range []string{string(p.id), p.email, p.name, p.username, p.emailKey, p.usernameKey, strings.Fields(p.name)[1]} {
		if strings.Contains(lower, strings.ToLower(s)) {
			tb.Errorf("%s holds %q: %s", what, s, text)
		}
	}
}

// wantStatusLinkWorks checks that a mailed status link names the request, with a token in its
// fragment.
func wantStatusLinkWorks(tb testing.TB, w *world, link string, subject privacy.SubjectID, request string) {
	tb.Helper()
	u, err := url.Parse(link)
	if err != nil || u.Scheme+"://"+u.Host != siteURL || !strings.HasSuffix(u.Path, "/requests/status/") {
		tb.Fatalf("status link %q is not the site's status page", link)
	}
	q, err := url.ParseQuery(u.Fragment)
	if err != nil || q.Get("id") != requests.ID(subject, request) || len(q.Get("token")) != 64 {
		tb.Errorf("status link %q does not carry the request's ID and a token", link)
	}
}

// outcome is what a tombstone says, for comparing runs.
func outcome(t privacy.Tombstone) string {
	return fmt.Sprintf("%s verified=%v items=%v objects=%d lookups=%d told=%v found=%v", t.State, t.Verified, t.Items, t.Objects, t.Lookups, t.RecipientsTold, t.Found)
}

func TestP17_ErasureResumesAfterAFailureAtAnyStep(t *testing.T) {
	// A clean run gives what every interrupted one must end with, and counts the calls of
	// each operation: each one of them fails in turn below.
	clean := newWorld(t)
	cs := clean.scene(t)
	want, err := clean.eraser.Erase(ctx, cs.job)
	if err != nil {
		t.Fatal(err)
	}
	if want.Objects != wantObjects || want.Lookups != wantLookups {
		t.Fatalf("clean run: %s", outcome(want))
	}
	wantOutbox := len(clean.outbox.keys())
	calls := clean.f.counts()
	delete(calls, "EraseSubject midway")
	type fault struct {
		op string
		n  int
	}
	faults := []fault{{"EraseSubject midway", 1}}
	for _, op := range slices.Sorted(maps.Keys(calls)) {
		for n := 1; n <= calls[op]; n++ {
			faults = append(faults, fault{op, n})
		}
	}
	for _, op := range []string{"CloseAccount", "exports.List", "exports.Delete", "outbox.Exists", "outbox.Delete", "outbox.Put", "SaveTombstone", "Mail.Enqueue"} {
		if calls[op] == 0 {
			t.Fatalf("a clean run never calls %s: %v", op, calls)
		}
	}
	for _, fc := range faults {
		t.Run(fmt.Sprintf("%s#%d", fc.op, fc.n), func(t *testing.T) {
			w := newWorld(t)
			s := w.scene(t)
			w.f.failAt(fc.op, fc.n)
			if _, err := w.eraser.Erase(ctx, s.job); !errors.Is(err, errFault) {
				t.Fatalf("first attempt: %v, want the injected fault", err)
			}
			got, err := w.eraser.Erase(ctx, s.job)
			if err != nil {
				t.Fatalf("retry: %v", err)
			}
			if outcome(got) != outcome(want) {
				t.Errorf("after a retry:\n got %s\nwant %s", outcome(got), outcome(want))
			}
			if stored := w.store.tombstone(t, s.request.ID); outcome(stored) != outcome(want) {
				t.Errorf("stored after a retry:\n got %s\nwant %s", outcome(stored), outcome(want))
			}
			if left := w.store.holds(s.ada.id); len(left) != 0 {
				t.Errorf("Ada's data left: %v", left)
			}
			if n := len(w.outbox.keys()); n != wantOutbox {
				t.Errorf("outbox holds %d objects, want %d as after a clean run: %v", n, wantOutbox, w.outbox.keys())
			}
			// The queue may deliver the job once more: still one mail.
			if _, err := w.eraser.Erase(ctx, s.job); err != nil {
				t.Fatalf("job delivered again: %v", err)
			}
			w.notify(t)
			if ms := w.sender.mails(); len(ms) != 1 || ms[0].Data.Erasure.Objects != wantObjects || ms[0].Data.Erasure.Items != want.ItemsRemoved() {
				t.Errorf("mails %+v, want one outcome with the clean run's counts", ms)
			}
			final := w.store.tombstone(t, s.request.ID)
			if final.Notice != nil {
				t.Error("the notice is left after the mail")
			}
			body, err := json.Marshal(final)
			if err != nil {
				t.Fatal(err)
			}
			wantNoPerson(t, "final tombstone", string(body), s.ada)
		})
	}
}

func TestP17_JobWithNothingToEraseDoesNothing(t *testing.T) {
	tests := []struct {
		name string
		edit func(*requests.Record)
	}{
		{"request gone", nil},
		{"request only proved", func(r *requests.Record) { r.Status = privacy.RequestVerified }},
		{"request completed", func(r *requests.Record) { r.Status = privacy.RequestCompleted }},
		{"request refused", func(r *requests.Record) { r.Status = privacy.RequestRefused }},
		{"an access request", func(r *requests.Record) { r.Type = privacy.RequestAccess }},
		{"a copy request", func(r *requests.Record) { r.Type = privacy.RequestCopy }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w := newWorld(t)
			ada := w.addAccount(t, "ada@example.com", "Ada Lovelace", "countess", privacy.LocaleEnglish)
			archive := w.archive(ada, "r1")
			job := jobs.Job{Kind: requests.JobErase, Subject: ada.id, Request: privacy.NewID()}
			if tc.edit != nil {
				r := requests.Record{Request: privacy.Request{ID: job.Request, Type: privacy.RequestDeletion, Status: privacy.RequestInProgress, Email: ada.email}}
				tc.edit(&r)
				w.addRequest(ada.id, r)
			}
			got, err := w.eraser.Erase(ctx, job)
			if err != nil {
				t.Fatalf("erase: %v", err)
			}
			if got.Request != "" || w.store.tombstoneCount() != 0 {
				t.Errorf("a job with nothing to do left a tombstone: %+v", got)
			}
			if writes := w.f.written(); len(writes) != 0 {
				t.Errorf("a job with nothing to do wrote %v", writes)
			}
			if _, ok := w.exports.get(archive); !ok || len(w.store.holds(ada.id)) == 0 {
				t.Error("a job with nothing to do deleted something")
			}
			if w.mail.len() != 0 {
				t.Error("a job with nothing to do queued mail")
			}
		})
	}
}

func TestP17_EraseRefusesJobsThatAreNotErasures(t *testing.T) {
	w := newWorld(t)
	ada := w.addAccount(t, "ada@example.com", "Ada Lovelace", "countess", privacy.LocaleEnglish)
	for _, j := range []jobs.Job{
		{Kind: requests.JobExport, Subject: ada.id, Request: "r"},
		{Kind: requests.JobErase, Request: "r"},
		{Kind: requests.JobErase, Subject: ada.id},
	} {
		if _, err := w.eraser.Erase(ctx, j); err == nil {
			t.Errorf("erase %+v: no error", j)
		}
	}
	if writes := w.f.written(); len(writes) != 0 || len(w.store.holds(ada.id)) == 0 {
		t.Errorf("refused jobs wrote %v", writes)
	}
}

func TestP17_JobWhoseTombstoneIsAnotherSubjectsErasesNothing(t *testing.T) {
	w := newWorld(t)
	s := w.scene(t)
	// Bob's tombstone under Ada's request's ID: a forged or mixed-up job.
	w.store.tombstones[s.request.ID] = privacy.Tombstone{
		Request: s.request.ID, SubjectHash: w.keys.Hash(privacy.DomainTombstone, string(s.bob.id)), State: privacy.ErasureRunning,
	}
	if _, err := w.eraser.Erase(ctx, s.job); err == nil {
		t.Fatal("erase with another subject's tombstone: no error")
	}
	if writes := w.f.written(); len(writes) != 0 {
		t.Errorf("wrote %v", writes)
	}
	if len(w.store.holds(s.ada.id)) == 0 || len(w.exports.keys()) != 3 {
		t.Error("something of Ada's was deleted")
	}
	if w.mail.len() != 0 {
		t.Error("mail queued")
	}
}

func TestP17_AttemptThatLosesTheRaceCarriesOnFromTheOtherTombstone(t *testing.T) {
	w := newWorld(t)
	s := w.scene(t)
	// Another attempt wrote the tombstone between this one's read and its write: its counts
	// are the erasure's.
	other := privacy.Tombstone{
		Request: s.request.ID, Type: privacy.RequestCancellation, SubjectHash: w.keys.Hash(privacy.DomainTombstone, string(s.ada.id)),
		Started: testNow, State: privacy.ErasureRunning, Items: map[string]int{"profile": 1, "other": 7}, Objects: wantObjects, Lookups: wantLookups,
		RecipientsTold: recipientIDs(t), Notice: &privacy.ErasureNotice{Email: s.ada.email, Locale: privacy.LocaleEnglish,
			StatusPath: w.env.StatusPath(s.request.Request), RequestID: requests.ID(s.ada.id, s.request.ID), EmailKey: s.ada.emailKey, UsernameKey: s.ada.usernameKey},
	}
	w.store.tombstones[s.request.ID] = other
	w.eraser.Store = &racingStore{store: w.store, request: s.request.ID}
	got, err := w.eraser.Erase(ctx, s.job)
	if err != nil {
		t.Fatal(err)
	}
	if got.State != privacy.ErasureDone || !maps.Equal(got.Items, other.Items) || len(w.store.puts) != 0 {
		t.Errorf("after losing the race: %s, %d tombstones written", outcome(got), len(w.store.puts))
	}
	if left := w.store.holds(s.ada.id); len(left) != 0 {
		t.Errorf("Ada's data left: %v", left)
	}
}

// racingStore answers the first read of a tombstone with none, as if another attempt wrote it
// just after.
type racingStore struct {
	*store
	request string
	raced   bool
}

func (r *racingStore) Tombstone(ctx context.Context, request string) (privacy.Tombstone, error) {
	if !r.raced && request == r.request {
		r.raced = true
		return privacy.Tombstone{}, errNoTombstone
	}
	return r.store.Tombstone(ctx, request)
}

func TestP17_VerificationThatFindsDataLeftFailsTheErasure(t *testing.T) {
	tests := []struct {
		name  string
		setup func(*world, scene)
		want  []string
	}{
		{"partition", func(w *world, _ scene) { w.store.linger("partition", -1) }, []string{"partition"}},
		{"exports bucket", func(w *world, s scene) { w.exports.stuck[s.archives[0]] = true }, []string{"exports bucket"}},
		{"outbox", func(w *world, s scene) {
			w.outbox.stuck[disclosureOf(w, recipientIDs(t)[1], s.ada.id)] = true
		}, []string{"outbox of " + recipientIDs(t)[1]}},
		{"an index past the settle time", func(w *world, _ scene) { w.store.linger("open-requests index", -1) }, []string{"open-requests index"}},
		{"an index and the partition", func(w *world, _ scene) {
			w.store.linger("partition", -1)
			w.store.linger("sweep index", -1)
		}, []string{"partition", "sweep index"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w := newWorld(t)
			w.eraser.Config.Settle = 150 * time.Millisecond
			s := w.scene(t)
			tc.setup(w, s)
			got, err := w.eraser.Erase(ctx, s.job)
			if !errors.Is(err, erasure.ErrLeft) {
				t.Fatalf("erase: %v, want ErrLeft", err)
			}
			stored := w.store.tombstone(t, s.request.ID)
			for _, tb := range []privacy.Tombstone{got, stored} {
				if tb.State != privacy.ErasureFailed || tb.Verified || !slices.Equal(tb.Found, tc.want) {
					t.Errorf("tombstone %s, verified %v, found %v; want failed, unverified, %v", tb.State, tb.Verified, tb.Found, tc.want)
				}
			}
			if stored.Notice == nil {
				t.Error("the notice is gone while the erasure is unfinished")
			}
			if w.mail.len() != 0 {
				t.Errorf("an erasure that left data queued its outcome mail")
			}
			// The Notifier mails nothing for a failed erasure, even when asked.
			if err := w.notifier.Do(ctx, jobs.Job{Kind: erasure.JobErased, Request: s.request.ID}); err != nil || len(w.sender.mails()) != 0 {
				t.Errorf("notifier on a failed erasure: %v, %d mails", err, len(w.sender.mails()))
			}

			// Once what was left can go, the job's retry finishes it, with one mail.
			clear(w.store.lingering)
			clear(w.exports.stuck)
			clear(w.outbox.stuck)
			got, err = w.eraser.Erase(ctx, s.job)
			if err != nil || got.State != privacy.ErasureDone || !got.Verified || len(got.Found) != 0 {
				t.Fatalf("retry: %s, verified %v, found %v, %v", got.State, got.Verified, got.Found, err)
			}
			if got.Objects != wantObjects || got.Lookups != wantLookups {
				t.Errorf("retry counts: %s", outcome(got))
			}
			w.notify(t)
			if n := len(w.sender.mails()); n != 1 {
				t.Errorf("%d outcome mails, want 1", n)
			}
		})
	}
}

func TestP17_VerificationWaitsForIndexesWithinTheSettleTime(t *testing.T) {
	tests := []struct {
		name     string
		settle   time.Duration
		place    string
		lingers  int
		verified bool
		searches int
	}{
		{"open-requests index catches up", time.Second, "open-requests index", 1, true, 2},
		{"sweep index catches up after two looks", time.Second, "sweep index", 2, true, 3},
		{"no settle time: no second look", 0, "open-requests index", 1, false, 1},
		{"never catches up", 150 * time.Millisecond, "sweep index", -1, false, 2},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w := newWorld(t)
			w.eraser.Config.Settle = tc.settle
			s := w.scene(t)
			w.store.linger(tc.place, tc.lingers)
			got, err := w.eraser.Erase(ctx, s.job)
			if searches := w.store.searches; searches != tc.searches {
				t.Errorf("searched %d times, want %d", searches, tc.searches)
			}
			if got.Verified != tc.verified {
				t.Errorf("verified %v, want %v (found %v)", got.Verified, tc.verified, got.Found)
			}
			if tc.verified {
				if err != nil || got.State != privacy.ErasureDone || w.mail.len() != 1 {
					t.Errorf("erase: %s, %v, %d mail jobs", got.State, err, w.mail.len())
				}
				return
			}
			if !errors.Is(err, erasure.ErrLeft) || got.State != privacy.ErasureFailed || !slices.Equal(got.Found, []string{tc.place}) || w.mail.len() != 0 {
				t.Errorf("erase: %s, found %v, %v, %d mail jobs", got.State, got.Found, err, w.mail.len())
			}
		})
	}
}

func TestP17_VisitorWithoutAnAccountIsErasedAndAnsweredAtTheRequestsAddress(t *testing.T) {
	w := newWorld(t)
	visitor := person{id: privacy.NewSubjectID(), email: "grace@example.com", name: "Grace Hopper", username: "grace"}
	visitor.emailKey = w.keys.EmailKey(visitor.email)
	r, job := w.erasureRequest(visitor, privacy.RequestDeletion, privacy.LocaleChinese)
	archive := w.archive(visitor, "r1")

	got, err := w.eraser.Erase(ctx, job)
	if err != nil {
		t.Fatalf("erase: %v", err)
	}
	if got.State != privacy.ErasureDone || !got.Verified || got.ItemsRemoved() != 1 || got.Objects != 1 || got.Lookups != 0 {
		t.Errorf("erased: %s", outcome(got))
	}
	if got.Type != privacy.RequestDeletion || got.Ground != privacy.GroundLeftService {
		t.Errorf("tombstone of a %s on %q, want the deletion's type and ground", got.Type, got.Ground)
	}
	first := w.store.puts[0]
	if n := first.Notice; n == nil || n.Email != visitor.email || n.Locale != privacy.LocaleChinese || n.EmailKey != visitor.emailKey || n.UsernameKey != "" {
		t.Errorf("notice %+v, want the request's address and language", n)
	}
	if _, ok := w.exports.get(archive); ok || len(w.store.holds(visitor.id)) != 0 {
		t.Error("the visitor's data is left")
	}
	w.notify(t)
	ms := w.sender.mails()
	if len(ms) != 1 || ms[0].To != visitor.email || ms[0].Locale != privacy.LocaleChinese || ms[0].Data.RequestType != "deletion" {
		t.Fatalf("mails %+v, want one to the visitor in Chinese", ms)
	}
	if e := ms[0].Data.Erasure; len(e.RecipientsTold) != 0 || len(e.Independent) != 0 {
		t.Errorf("erasure %+v, want no one told", e)
	}
	wantStatusLinkWorks(t, w, ms[0].Data.Link, visitor.id, r.ID)
}

func TestP17_IndependentThirdPartiesAreNamedAndRecipientsToldByName(t *testing.T) {
	for _, locale := range []string{privacy.LocaleEnglish, privacy.LocaleChinese} {
		t.Run(locale, func(t *testing.T) {
			w := newWorld(t)
			ada := w.addAccount(t, "ada@example.com", "Ada Lovelace", "countess", locale)
			for _, c := range []struct {
				third  string
				shared bool
			}{
				{"bank@example.org", true},
				{"insurer@example.org", false}, // she never confirmed: it got nothing
				{"bank@example.org", true},     // named once
				{"", false},
				{"notary@example.org", true},
			} {
				w.addRequest(ada.id, requests.Record{
					Request: privacy.Request{Type: privacy.RequestCopy, Status: privacy.RequestCompleted, Email: ada.email, ThirdParty: c.third},
					Export:  requests.ExportState{Shared: c.shared},
				})
			}
			recipients := recipientIDs(t)
			for _, r := range slices.Backward(recipients) {
				w.disclose(ada, r, false)
			}
			_, job := w.erasureRequest(ada, privacy.RequestDeletion, locale)
			got, err := w.eraser.Erase(ctx, job)
			if err != nil {
				t.Fatal(err)
			}
			wantIndependent := []string{"bank@example.org", "notary@example.org"}
			if n := w.store.puts[0].Notice; !slices.Equal(n.Independent, wantIndependent) {
				t.Errorf("independent %v, want %v", n.Independent, wantIndependent)
			}
			if !slices.Equal(got.RecipientsTold, recipients) {
				t.Errorf("told %v, want %v", got.RecipientsTold, recipients)
			}
			w.notify(t)
			ms := w.sender.mails()
			if len(ms) != 1 {
				t.Fatalf("%d mails, want 1", len(ms))
			}
			var wantNames []string
			for _, r := range recipients {
				wantNames = append(wantNames, recipientName(t, r, locale))
			}
			e := ms[0].Data.Erasure
			if !slices.Equal(e.RecipientsTold, wantNames) || !slices.Equal(e.Independent, wantIndependent) || ms[0].Locale != locale {
				t.Errorf("mail in %s tells %v and names %v; want %v and %v", ms[0].Locale, e.RecipientsTold, e.Independent, wantNames, wantIndependent)
			}
		})
	}
}

// lateStore writes an archive of the subject just after the tombstone, as an export that
// finished while the erasure began.
type lateStore struct {
	*store
	late func()
}

func (l lateStore) PutTombstone(ctx context.Context, t privacy.Tombstone) error {
	err := l.store.PutTombstone(ctx, t)
	l.late()
	return err
}

func TestP17_ArchiveWrittenAfterTheErasureBeganIsDeletedAndCounted(t *testing.T) {
	w := newWorld(t)
	s := w.scene(t)
	var late string
	w.eraser.Store = lateStore{store: w.store, late: func() { late = w.archive(s.ada, "late") }}
	got, err := w.eraser.Erase(ctx, s.job)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := w.exports.get(late); ok {
		t.Error("the late archive is left")
	}
	if got.Objects != wantObjects+1 || w.store.tombstone(t, s.request.ID).Objects != wantObjects+1 {
		t.Errorf("objects %d, want %d", got.Objects, wantObjects+1)
	}
}

func TestP17_VerificationStopsWaitingWhenTheJobIsCancelled(t *testing.T) {
	w := newWorld(t)
	w.eraser.Config.Settle = time.Hour
	s := w.scene(t)
	w.store.linger("open-requests index", -1)
	c, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()
	if _, err := w.eraser.Erase(c, s.job); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("erase: %v, want the context's error", err)
	}
	if st := w.store.tombstone(t, s.request.ID); st.State != privacy.ErasureRunning || w.mail.len() != 0 {
		t.Errorf("tombstone %s, %d mail jobs: want it still running, no mail", st.State, w.mail.len())
	}
	w.store.linger("open-requests index", 0)
	if got, err := w.eraser.Erase(ctx, s.job); err != nil || got.State != privacy.ErasureDone {
		t.Errorf("retry: %s, %v", got.State, err)
	}
}
