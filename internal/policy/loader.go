package policy

import (
	"context"
	"fmt"
	"sync"
	"time"
)

// VersionsKey is where the site build publishes the catalog, in the site bucket.
const VersionsKey = "policy/versions.json"

// Source reads a file of the published site.
type Source interface {
	Get(ctx context.Context, key string) ([]byte, error)
}

// Loader reads the published catalog and keeps it for TTL: a new version is published days
// before it takes effect, so a cache of minutes never misses a change of the version in force.
type Loader struct {
	Source Source
	TTL    time.Duration
	Now    func() time.Time

	mu      sync.Mutex
	catalog Catalog
	fetched time.Time
}

// Catalog returns the published catalog.
func (l *Loader) Catalog(ctx context.Context) (Catalog, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.fetched.IsZero() && l.Now().Sub(l.fetched) < l.TTL {
		return l.catalog, nil
	}
	data, err := l.Source.Get(ctx, VersionsKey)
	if err != nil {
		return Catalog{}, fmt.Errorf("read policy metadata: %w", err)
	}
	cat, err := Parse(data)
	if err != nil {
		return Catalog{}, fmt.Errorf("parse policy metadata: %w", err)
	}
	l.catalog, l.fetched = cat, l.Now()
	return cat, nil
}

// InForce returns the version in force now.
func (l *Loader) InForce(ctx context.Context) (Version, error) {
	cat, err := l.Catalog(ctx)
	if err != nil {
		return Version{}, err
	}
	return cat.InForce(l.Now())
}
