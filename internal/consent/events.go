package consent

import (
	"context"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/privacyportal/portal/internal/privacy"
	"github.com/privacyportal/portal/internal/web"
)

// PageViews counts page views: one counter per day and path, nothing about the visitor.
type PageViews interface {
	CountPageView(ctx context.Context, day, path string) error
}

// LedgerReader reads a subject's ledger.
type LedgerReader interface {
	Ledger(ctx context.Context, id privacy.SubjectID) ([]privacy.ConsentEntry, error)
}

// Analytics is the first-party page-view counter (P06, P09): the only analytics the portal has.
type Analytics struct {
	*Env
	Counter PageViews
	Ledgers LedgerReader
}

// EventInput is POST /api/events.
type EventInput struct {
	Type string `json:"type"`
	Path string `json:"path"`
}

// Visitor is what is known of who sent an event: their session, if signed in, and otherwise
// the cookie banner's choice of categories.
type Visitor struct {
	Caller           *web.Caller
	BannerCategories []string
}

// Count counts a page view if the visitor consented to analytics: a signed-in visitor by their
// ledger, anyone else by the banner's choice; never with a GPC or DNT signal. It reports
// whether it counted. Invalid input is an error; a refusal is not (the answer is the same).
func (s *Analytics) Count(ctx context.Context, in EventInput, v Visitor, sig web.Signals) (bool, error) {
	if in.Type != "pageview" {
		return false, privacy.FieldError("type", `must be "pageview"`)
	}
	if !strings.HasPrefix(in.Path, "/") || len(in.Path) > 200 || !utf8.ValidString(in.Path) || strings.ContainsAny(in.Path, "?#\x00") {
		return false, privacy.FieldError("path", "must be a path of this site (starting with /, without query or fragment, at most 200 characters)")
	}
	if sig.Any() {
		return false, nil
	}
	if v.Caller != nil {
		ledger, err := s.Ledgers.Ledger(ctx, v.Caller.Subject)
		if err != nil {
			return false, err
		}
		if !privacy.Allowed(ledger, "analytics") {
			return false, nil
		}
	} else if !slices.Contains(v.BannerCategories, "analytics") {
		return false, nil
	}
	return true, s.Counter.CountPageView(ctx, s.Now().UTC().Format("2006-01-02"), in.Path)
}
