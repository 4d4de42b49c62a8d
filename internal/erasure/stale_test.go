package erasure_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/privacyportal/portal/internal/erasure"
	"github.com/privacyportal/portal/internal/privacy"
)

// noticeIndex holds tombstones' notices by request, with their erasures' start times.
type noticeIndex struct {
	started map[string]time.Time
	forgot  []string
	fail    error
}

func (s *noticeIndex) NoticesBefore(_ context.Context, before time.Time) ([]string, error) {
	var out []string
	for r, at := range s.started {
		if at.Before(before) {
			out = append(out, r)
		}
	}
	slices.Sort(out)
	return out, nil
}

func (s *noticeIndex) ForgetNotice(_ context.Context, r string) error {
	if s.fail != nil {
		return s.fail
	}
	if _, ok := s.started[r]; !ok {
		return privacy.ErrStale
	}
	delete(s.started, r)
	s.forgot = append(s.forgot, r)
	return nil
}

func TestP12_StaleNoticesAreDroppedAndFreshOnesKept(t *testing.T) {
	now := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
	s := &noticeIndex{started: map[string]time.Time{
		"old":   now.Add(-erasure.NoticeLife - time.Minute),
		"older": now.Add(-30 * 24 * time.Hour),
		"fresh": now.Add(-erasure.NoticeLife + time.Minute),
	}}
	n, err := erasure.ForgetStaleNotices(context.Background(), s, now)
	if err != nil || n != 2 || !slices.Equal(s.forgot, []string{"old", "older"}) {
		t.Errorf("dropped %d %v (%v), want old and older", n, s.forgot, err)
	}
	if _, ok := s.started["fresh"]; !ok {
		t.Error("a notice whose mail may still go was dropped")
	}
	// Run again: nothing more to drop.
	if n, err := erasure.ForgetStaleNotices(context.Background(), s, now); n != 0 || err != nil {
		t.Errorf("the second run dropped %d (%v)", n, err)
	}
	s.started["late"] = now.Add(-erasure.NoticeLife - time.Hour)
	s.fail = errors.New("throttled")
	if _, err := erasure.ForgetStaleNotices(context.Background(), s, now); err == nil {
		t.Error("a store failure was not reported")
	}
}
