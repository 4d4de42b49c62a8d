package e2e

import (
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/privacyportal/portal/infra/portaltest"
)

type policyVersion struct {
	ID        string `json:"id"`
	Published string `json:"published"`
	Effective string `json:"effective"`
	URL       string `json:"url"`
}

// inForce reads the built site's versions.json and picks the version in force today, the
// newest whose effective date has come: what the status endpoint must report.
func inForce(t *testing.T, siteDir string) policyVersion {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(siteDir, "policy", "versions.json"))
	if err != nil {
		t.Fatal(err)
	}
	var cat struct{ Versions []policyVersion }
	if err := json.Unmarshal(b, &cat); err != nil {
		t.Fatal(err)
	}
	today := time.Now().UTC().Format(time.DateOnly)
	var best policyVersion
	for _, v := range cat.Versions {
		if v.Effective <= today && v.Effective > best.Effective {
			best = v
		}
	}
	if best.ID == "" {
		t.Fatalf("no policy version in force in %s", b)
	}
	return best
}

func get(t *testing.T, c *http.Client, url string) (*http.Response, []byte) {
	t.Helper()
	resp, err := c.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, b
}

// TestP25_StatusReportsThePolicyInForce goes visitor -> gateway -> RIE -> the status
// function's real binary -> S3 (the published versions.json) and back.
func TestP25_StatusReportsThePolicyInForce(t *testing.T) {
	cloud := portaltest.Cloud(t)
	want := inForce(t, cloud.SiteDir)

	resp, b := get(t, portaltest.Client(t), portaltest.URL(t)+"/api/status")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /api/status = %d %s", resp.StatusCode, b)
	}
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("Content-Type = %q", ct)
	}
	var got struct {
		Version string          `json:"version"`
		Policy  policyVersion   `json:"policy"`
		Pending []policyVersion `json:"pending"`
	}
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatalf("status body %s: %v", b, err)
	}
	// The local cloud stamps its builds "test": this answer came from the binary it built.
	if got.Version != "test" {
		t.Errorf("version = %q, want the stamped build version %q", got.Version, "test")
	}
	if got.Policy != want {
		t.Errorf("policy = %+v, want %+v (from the published versions.json)", got.Policy, want)
	}
	if got.Pending == nil {
		t.Error("pending is null; want a list (empty when no update is pending)")
	}
	// The policy it names is a page a visitor can open.
	if resp, _ := get(t, portaltest.Client(t), portaltest.URL(t)+got.Policy.URL); resp.StatusCode != http.StatusOK {
		t.Errorf("GET %s = %d", got.Policy.URL, resp.StatusCode)
	}
}

// TestP11_ResponsesCarryTheSecurityHeaders: the local gateway applies the template's
// CloudFront response headers policy to the site and the API alike.
func TestP11_ResponsesCarryTheSecurityHeaders(t *testing.T) {
	base := portaltest.URL(t)
	for _, path := range []string{"/", "/policy/", "/zh/policy/", "/api/status", "/api/nothing"} {
		t.Run(path, func(t *testing.T) {
			resp, _ := get(t, portaltest.Client(t), base+path)
			for header, want := range map[string]string{
				"Content-Security-Policy":   "frame-ancestors 'none'",
				"Strict-Transport-Security": "max-age=63072000",
				"X-Content-Type-Options":    "nosniff",
				"X-Frame-Options":           "DENY",
				"Referrer-Policy":           "no-referrer",
			} {
				if got := resp.Header.Get(header); !strings.Contains(got, want) {
					t.Errorf("%s = %q, want it to contain %q", header, got, want)
				}
			}
			if csp := resp.Header.Get("Content-Security-Policy"); strings.Contains(csp, "unsafe-inline") {
				t.Errorf("CSP allows inline code: %s", csp)
			}
		})
	}
}
