// Package ratelimit bounds how often something may happen: sign-ins per client, codes per
// address, mail per recipient. Counters live behind a one-method interface (the DynamoDB
// adapter implements it with expiring items); keys are hashed before they reach it, so a
// counter never holds an address or a client's IP.
package ratelimit

import (
	"context"
	"fmt"
	"time"

	"github.com/privacyportal/portal/internal/privacy"
)

// Counter counts one attempt against a fixed-window limit of n per window: allowed reports
// whether the attempt fits, and retry how long until the window ends when it does not.
type Counter interface {
	Hit(ctx context.Context, bucket string, n int, window time.Duration, now time.Time) (allowed bool, retry time.Duration, err error)
}

// Limit is a fixed-window rate limit: N attempts per Window. A zero N means no limit.
type Limit struct {
	N      int
	Window time.Duration
}

// Limiter enforces limits. Keys are hashed in their scope's domain before they are stored.
type Limiter struct {
	Counter Counter
	Keys    *privacy.Keyed
	Now     func() time.Time
}

// Allow counts one attempt in scope for key and returns a RateLimited error, with the seconds
// to wait, once the limit is reached. An empty key (no client address known) is not limited
// here; callers that need one refuse the request before.
func (l *Limiter) Allow(ctx context.Context, scope, key string, lim Limit) error {
	if lim.N <= 0 || key == "" {
		return nil
	}
	ok, retry, err := l.Counter.Hit(ctx, scope+"#"+l.Keys.Hash(privacy.DomainRate, scope+"|"+key), lim.N, lim.Window, l.Now())
	if err != nil {
		return err
	}
	if !ok {
		secs := int(retry.Seconds()) + 1
		return &privacy.Error{Code: privacy.RateLimited, RetryAfterSeconds: secs,
			Message: fmt.Sprintf("Too many attempts. Please wait %d minutes and try again.", (secs+59)/60)}
	}
	return nil
}
