package ratelimit_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/privacyportal/portal/internal/privacy"
	"github.com/privacyportal/portal/internal/ratelimit"
)

// window is an in-memory Counter: a fixed window per bucket.
type window struct {
	counts  map[string]int
	buckets []string
	fail    error
}

func (w *window) Hit(_ context.Context, bucket string, n int, win time.Duration, now time.Time) (bool, time.Duration, error) {
	if w.fail != nil {
		return false, 0, w.fail
	}
	w.buckets = append(w.buckets, bucket)
	start := now.Truncate(win)
	k := bucket + "@" + start.String()
	if w.counts[k] >= n {
		return false, start.Add(win).Sub(now), nil
	}
	w.counts[k]++
	return true, 0, nil
}

func TestLimiterAllowsNThenTellsHowLongToWait(t *testing.T) {
	keys, err := privacy.NewKeyed([]byte(strings.Repeat("k", 32)))
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 1, 1, 10, 50, 0, 0, time.UTC)
	w := &window{counts: map[string]int{}}
	l := &ratelimit.Limiter{Counter: w, Keys: keys, Now: func() time.Time { return now }}
	lim := ratelimit.Limit{N: 3, Window: time.Hour}
	ctx := context.Background()
	for i := range 3 {
		if err := l.Allow(ctx, "signin", "ada@example.com", lim); err != nil {
			t.Fatalf("attempt %d: %v", i+1, err)
		}
	}
	err = l.Allow(ctx, "signin", "ada@example.com", lim)
	var pe *privacy.Error
	if !errors.As(err, &pe) || pe.Code != privacy.RateLimited || pe.RetryAfterSeconds != 601 || !strings.Contains(pe.Message, "11 minutes") {
		t.Fatalf("4th attempt: %v, want rate limited for the 10 minutes left in the window", err)
	}
	if err := l.Allow(ctx, "signin", "grace@example.com", lim); err != nil {
		t.Errorf("another key is limited too: %v", err)
	}
	if err := l.Allow(ctx, "resend", "ada@example.com", lim); err != nil {
		t.Errorf("another scope is limited too: %v", err)
	}
	for _, b := range w.buckets {
		if strings.Contains(b, "example.com") {
			t.Errorf("bucket %q holds the key as given", b)
		}
	}
	if err := l.Allow(ctx, "x", "", lim); err != nil {
		t.Errorf("empty key: %v", err)
	}
	if err := l.Allow(ctx, "x", "k", ratelimit.Limit{}); err != nil {
		t.Errorf("no limit: %v", err)
	}
	w.fail = errors.New("table unavailable")
	if err := l.Allow(ctx, "signin", "ada@example.com", lim); !errors.Is(err, w.fail) {
		t.Errorf("a counter failure is %v, want it passed on", err)
	}
}
