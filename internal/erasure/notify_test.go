package erasure_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/privacyportal/portal/internal/erasure"
	"github.com/privacyportal/portal/internal/jobs"
	"github.com/privacyportal/portal/internal/privacy"
	"github.com/privacyportal/portal/internal/requests"
)

// erased runs the scene's erasure and returns its outcome job, not yet done.
func (w *world) erased(tb testing.TB) (scene, jobs.Job) {
	tb.Helper()
	s := w.scene(tb)
	if _, err := w.eraser.Erase(ctx, s.job); err != nil {
		tb.Fatalf("erase: %v", err)
	}
	js := w.mail.take()
	if len(js) != 1 {
		tb.Fatalf("mail jobs %+v, want one", js)
	}
	return s, js[0]
}

func TestP17_NotifierMailsTheOutcomeOnce(t *testing.T) {
	w := newWorld(t)
	s, job := w.erased(t)
	if !w.notifier.Handles(erasure.JobErased) || w.notifier.Handles(requests.JobUpdated) || w.notifier.Handles(requests.JobErase) {
		t.Error("the Notifier handles other kinds than erased")
	}
	for range 3 {
		if err := w.notifier.Do(ctx, job); err != nil {
			t.Fatal(err)
		}
	}
	ms := w.sender.mails()
	if len(ms) != 1 {
		t.Fatalf("%d mails, want 1", len(ms))
	}
	if e := ms[0].Data.Erasure; e.BackupDays != backupDays || ms[0].Data.Link != siteURL+w.env.StatusPath(s.request.Request) {
		t.Errorf("mail data %+v, erasure %+v: want BackupDays %d and the status link", ms[0].Data, e, backupDays)
	}
	if w.store.tombstone(t, s.request.ID).Notice != nil {
		t.Error("the notice is kept after the mail")
	}
}

func TestP17_NotifierMailsNothingForAnErasureNotDone(t *testing.T) {
	tests := []struct {
		name  string
		state privacy.ErasureState
	}{
		{"running", privacy.ErasureRunning},
		{"failed", privacy.ErasureFailed},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w := newWorld(t)
			s, job := w.erased(t)
			st := w.store.tombstones[s.request.ID]
			st.State = tc.state
			w.store.tombstones[s.request.ID] = st
			if err := w.notifier.Do(ctx, job); err != nil {
				t.Fatal(err)
			}
			if n := len(w.sender.mails()); n != 0 {
				t.Errorf("%d mails for an erasure %s", n, tc.state)
			}
			if w.store.tombstone(t, s.request.ID).Notice == nil {
				t.Error("the notice went without a mail")
			}
		})
	}
	t.Run("no tombstone", func(t *testing.T) {
		w := newWorld(t)
		if err := w.notifier.Do(ctx, jobs.Job{Kind: erasure.JobErased, Request: privacy.NewID()}); err != nil || len(w.sender.mails()) != 0 {
			t.Errorf("notify without a tombstone: %v, %d mails", err, len(w.sender.mails()))
		}
	})
}

func TestP17_NotifierFailuresKeepTheNoticeForTheRetry(t *testing.T) {
	for _, op := range []string{"Tombstone", "Send", "ForgetNotice"} {
		t.Run(op, func(t *testing.T) {
			w := newWorld(t)
			s, job := w.erased(t)
			w.f.failAt(op, 1)
			if err := w.notifier.Do(ctx, job); !errors.Is(err, errFault) {
				t.Fatalf("notify: %v, want the fault", err)
			}
			if w.store.tombstone(t, s.request.ID).Notice == nil {
				t.Fatal("the notice went although the job failed")
			}
			if err := w.notifier.Do(ctx, job); err != nil {
				t.Fatal(err)
			}
			if w.store.tombstone(t, s.request.ID).Notice != nil {
				t.Error("the notice is kept after the retry")
			}
			// A failure after the send sends again on the retry: once at least, never none.
			if n := len(w.sender.mails()); n < 1 || (op != "ForgetNotice" && n != 1) {
				t.Errorf("%d mails", n)
			}
		})
	}
}

// staleStore's ForgetNotice finds the notice gone, as when two deliveries of a job race.
type staleStore struct{ *store }

func (staleStore) ForgetNotice(context.Context, string) error { return privacy.ErrStale }

func TestP17_NotifierThatFindsTheNoticeForgottenMeanwhileSucceeds(t *testing.T) {
	w := newWorld(t)
	_, job := w.erased(t)
	w.notifier.Store = staleStore{w.store}
	if err := w.notifier.Do(ctx, job); err != nil {
		t.Errorf("notify: %v", err)
	}
}

func TestP17_NotifierNamesARecipientTheCatalogueNoLongerHasByItsID(t *testing.T) {
	w := newWorld(t)
	s, job := w.erased(t)
	st := w.store.tombstones[s.request.ID]
	st.RecipientsTold = []string{"gone-partner"}
	w.store.tombstones[s.request.ID] = st
	if err := w.notifier.Do(ctx, job); err != nil {
		t.Fatal(err)
	}
	if ms := w.sender.mails(); len(ms) != 1 || len(ms[0].Data.Erasure.RecipientsTold) != 1 || ms[0].Data.Erasure.RecipientsTold[0] != "gone-partner" {
		t.Errorf("mails %+v", ms)
	}
}

func TestP11_ErasureLogsNameNoPerson(t *testing.T) {
	w := newWorld(t)
	s, job := w.erased(t)
	if err := w.notifier.Do(ctx, job); err != nil {
		t.Fatal(err)
	}
	wantNoPerson(t, "logs", strings.ReplaceAll(logs.String(), string(s.ada.id), ""), s.ada)
}

// logs is everything the package logged during the tests (TestMain sends slog there).
var logs = &lockedBuffer{}

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func TestMain(m *testing.M) {
	slog.SetDefault(slog.New(slog.NewJSONHandler(logs, nil)))
	os.Exit(m.Run())
}
