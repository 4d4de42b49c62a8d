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

// Pages says which paths are pages of the site.
type Pages interface {
	Has(ctx context.Context, path string) (bool, error)
}

// Analytics is the first-party page-view counter (P06, P09): the only analytics the portal has.
type Analytics struct {
	*Env
	Counter PageViews
	Ledgers LedgerReader
	Pages   Pages
}

// EventInput is POST /api/events.
type EventInput struct {
	Type string `json:"type"`
	Path string `json:"path"`
}

// Visitor is what is known of who sent an event: their session, if signed in, and otherwise
// the cookie banner's choice: its categories, and the signal it was made with ("gpc", "dnt").
type Visitor struct {
	Caller           *web.Caller
	BannerCategories []string
	BannerSignal     string
}

// Count counts a page view of one of the site's pages if the visitor consented to analytics:
// a signed-in visitor by their ledger, anyone else by the banner's choice. With a GPC or DNT
// signal it counts only a choice made with that signal on (P09: an explicit choice is
// honoured). It reports whether it counted. Invalid input is an error; a refusal is not (the
// answer is the same).
func (s *Analytics) Count(ctx context.Context, in EventInput, v Visitor, sig web.Signals) (bool, error) {
	if in.Type != "pageview" {
		return false, privacy.FieldError("type", `must be "pageview"`)
	}
	if !strings.HasPrefix(in.Path, "/") || len(in.Path) > 200 || !utf8.ValidString(in.Path) || strings.ContainsAny(in.Path, "?#\x00") {
		return false, privacy.FieldError("path", "must be a path of this site (starting with /, without query or fragment, at most 200 characters)")
	}
	signals := signalSources(sig)
	if v.Caller != nil {
		ledger, err := s.Ledgers.Ledger(ctx, v.Caller.Subject)
		if err != nil {
			return false, err
		}
		if !privacy.AllowedUnder(ledger, "analytics", signals) {
			return false, nil
		}
	} else if !slices.Contains(v.BannerCategories, "analytics") || (len(signals) > 0 && !slices.Contains(signals, privacy.Source(v.BannerSignal))) {
		return false, nil
	}
	if s.Pages != nil {
		known, err := s.Pages.Has(ctx, in.Path)
		if err != nil || !known {
			return false, err
		}
	}
	return true, s.Counter.CountPageView(ctx, s.Now().UTC().Format("2006-01-02"), in.Path)
}
