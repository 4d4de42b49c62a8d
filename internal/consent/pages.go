package consent

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sync"
	"time"
)

// PagesKey is where the site build publishes the list of its pages, in the site bucket.
const PagesKey = "pages.json"

// Source reads a file of the published site.
type Source interface {
	Get(ctx context.Context, key string) ([]byte, error)
}

// SitePages is the list of the site's pages ({"paths": [...]}, sorted), read from the published
// site and kept for TTL: the page-view counter counts only these, so it holds nothing a client
// made up.
type SitePages struct {
	Source Source
	TTL    time.Duration
	Now    func() time.Time

	mu      sync.Mutex
	paths   []string
	fetched time.Time
}

// Has reports whether path is a page of the site.
func (s *SitePages) Has(ctx context.Context, path string) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.fetched.IsZero() || s.Now().Sub(s.fetched) >= s.TTL {
		b, err := s.Source.Get(ctx, PagesKey)
		if err != nil {
			return false, fmt.Errorf("read the site's pages: %w", err)
		}
		var doc struct {
			Paths []string `json:"paths"`
		}
		if err := json.Unmarshal(b, &doc); err != nil {
			return false, fmt.Errorf("%s: %w", PagesKey, err)
		}
		slices.Sort(doc.Paths)
		s.paths, s.fetched = doc.Paths, s.Now()
	}
	_, found := slices.BinarySearch(s.paths, path)
	return found, nil
}
