// Package status answers GET /api/status: the build version and the privacy policy version in
// force, read from the metadata the site build publishes (policy/versions.json).
package status

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/privacyportal/portal/functions/internal/apigw"
	"github.com/privacyportal/portal/functions/internal/policy"
	"github.com/privacyportal/portal/functions/internal/privacy"
)

// VersionsKey is where the site build publishes its policy metadata, in the site bucket.
const VersionsKey = "policy/versions.json"

// Source reads an object of the published site.
type Source interface {
	Get(ctx context.Context, key string) ([]byte, error)
}

// Service serves the status endpoint.
type Service struct {
	Source  Source
	Version string
	Now     func() time.Time
	// TTL is how long the policy metadata is cached in memory; a new policy version is
	// published days before it takes effect, so minutes are plenty.
	TTL time.Duration

	mu      sync.Mutex
	catalog policy.Catalog
	fetched time.Time
}

// PolicyVersion is a policy version as the API shows it.
type PolicyVersion struct {
	ID        string `json:"id"`
	Published string `json:"published"`
	Effective string `json:"effective"`
	URL       string `json:"url"`
}

// Status is the response body.
type Status struct {
	Version string          `json:"version"`
	Policy  PolicyVersion   `json:"policy"`
	Pending []PolicyVersion `json:"pending"`
}

// Handle answers GET /api/status.
func (s *Service) Handle(ctx context.Context, req *apigw.Request) (apigw.Response, error) {
	if req.HTTPMethod != http.MethodGet && req.HTTPMethod != http.MethodHead {
		return apigw.Response{}, &privacy.Error{Code: privacy.NotAllowed, Message: "GET, HEAD"}
	}
	cat, err := s.load(ctx)
	if err != nil {
		return apigw.Response{}, err
	}
	now := s.Now()
	v, err := cat.InForce(now)
	if err != nil {
		return apigw.Response{}, fmt.Errorf("policy in force: %w", err)
	}
	st := Status{Version: s.Version, Policy: view(v), Pending: []PolicyVersion{}}
	for _, p := range cat.Pending(now) {
		st.Pending = append(st.Pending, view(p))
	}
	resp, err := apigw.JSON(http.StatusOK, st)
	resp.Headers["Cache-Control"] = "no-cache"
	return resp, err
}

func view(v policy.Version) PolicyVersion {
	return PolicyVersion{ID: v.ID, Published: v.Published.String(), Effective: v.Effective.String(), URL: v.URL}
}

func (s *Service) load(ctx context.Context) (policy.Catalog, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.fetched.IsZero() && s.Now().Sub(s.fetched) < s.TTL {
		return s.catalog, nil
	}
	data, err := s.Source.Get(ctx, VersionsKey)
	if err != nil {
		return policy.Catalog{}, fmt.Errorf("read policy metadata: %w", err)
	}
	cat, err := policy.Parse(data)
	if err != nil {
		return policy.Catalog{}, fmt.Errorf("parse policy metadata: %w", err)
	}
	s.catalog, s.fetched = cat, s.Now()
	return cat, nil
}
