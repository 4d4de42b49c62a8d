// Package status answers GET /api/status: the build version and the privacy policy version in
// force, read from the metadata the site build publishes (policy/versions.json).
package status

import (
	"context"
	"fmt"
	"net/http"

	"github.com/privacyportal/portal/internal/apigw"
	"github.com/privacyportal/portal/internal/policy"
	"github.com/privacyportal/portal/internal/privacy"
)

// Service serves the status endpoint.
type Service struct {
	Policies *policy.Loader
	Version  string
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
	cat, err := s.Policies.Catalog(ctx)
	if err != nil {
		return apigw.Response{}, err
	}
	now := s.Policies.Now()
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
