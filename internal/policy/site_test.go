package policy_test

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/privacyportal/portal/internal/policy"
	"github.com/privacyportal/portal/site"
)

// TestP25_SiteVersionsJSONParses builds the real site and reads its /policy/versions.json with
// Parse, so the generator (site/layouts/policy/list.versionsjson.json) and this reader cannot
// drift apart. It lives here because Go's internal-package rule keeps site/ from importing this
// package; site/site_test.go checks the same file against the Markdown sources.
func TestP25_SiteVersionsJSONParses(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	out := t.TempDir()
	if err := site.Build(ctx, filepath.Join("..", "..", "site"), out, site.Params{}); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(filepath.Join(out, "policy", "versions.json"))
	if err != nil {
		t.Fatal(err)
	}
	c, err := policy.Parse(data)
	if err != nil {
		t.Fatalf("Parse(versions.json): %v\n%s", err, data)
	}
	if len(c.Versions) == 0 {
		t.Fatal("versions.json lists no version")
	}
	for _, v := range c.Versions {
		for _, lang := range []string{"en", "zh-cn"} {
			if v.SHA256[lang] == "" {
				t.Errorf("version %s: no sha256 for %s", v.ID, lang)
			}
			if v.Summary[lang] == "" {
				t.Errorf("version %s: no summary for %s", v.ID, lang)
			}
		}
		if _, err := os.Stat(filepath.Join(out, filepath.FromSlash(v.URL), "index.html")); err != nil {
			t.Errorf("version %s: url %s: %v", v.ID, v.URL, err)
		}
		// During its notice period a version is pending, and in force from its effective date.
		if got := ids(c.Pending(v.Published.Time())); !slices.Contains(got, v.ID) {
			t.Errorf("Pending(%s) = %v, want it to include %s", v.Published, got, v.ID)
		}
		if got, err := c.InForce(v.Effective.Time()); err != nil || got.Effective != v.Effective {
			t.Errorf("InForce(%s) = %s, %v; want a version effective %s", v.Effective, got.ID, err, v.Effective)
		}
	}
	first := c.Versions[0].Effective
	for _, v := range c.Versions {
		if v.Effective.Before(first) {
			first = v.Effective
		}
	}
	if _, err := c.InForce(first.AddDays(-1).Time()); err == nil {
		t.Errorf("InForce before the first effective date = nil error, want ErrNoneInForce")
	}
}

func ids(vs []policy.Version) []string {
	var out []string
	for _, v := range vs {
		out = append(out, v.ID)
	}
	return out
}
