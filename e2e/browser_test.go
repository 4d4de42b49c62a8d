package e2e

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/privacyportal/portal/infra/portaltest"
)

// consoleLog collects what the page reports to the console: CSP violations, failed loads and
// script errors all land there.
type consoleLog struct {
	mu   sync.Mutex
	msgs []chromedp.ConsoleMessage
}

func watchConsole(ctx context.Context) *consoleLog {
	l := &consoleLog{}
	msgs := chromedp.Console(ctx)
	go func() {
		for m, err := range msgs {
			if err != nil {
				return
			}
			l.mu.Lock()
			l.msgs = append(l.msgs, m)
			l.mu.Unlock()
		}
	}()
	return l
}

// errors returns the problems the console reported. Chromium also logs every 4xx answer to a
// fetch as "Failed to load resource"; those are answers the page handles (a 401 when signed
// out, a 400 naming a field), not problems, so they are left out.
func (l *consoleLog) errors() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []string
	for _, m := range l.msgs {
		if strings.HasPrefix(m.Text, "Failed to load resource: the server responded with a status of 4") {
			continue
		}
		if m.Type == chromedp.ConsoleError || m.Type == chromedp.ConsoleException || m.Type == chromedp.ConsoleWarning {
			out = append(out, string(m.Type)+": "+m.Text)
		}
	}
	return out
}

// run runs one browser action that returns a value, failing the test on error.
func run[T any](t *testing.T, ctx context.Context, a chromedp.Action[T]) T {
	t.Helper()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// TestBrowserReadsThePolicyInBothLanguages: a visitor opens the current policy in Chromium,
// sees the version in force with its dates, switches to Chinese with the language link, and
// can reach the content from the keyboard. Nothing on the way trips the CSP.
func TestBrowserReadsThePolicyInBothLanguages(t *testing.T) {
	cloud := portaltest.Cloud(t)
	want := inForce(t, cloud.SiteDir)
	base := portaltest.URL(t)
	ctx := portaltest.Browser(t)
	ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	console := watchConsole(ctx)

	if err := chromedp.Do(ctx, chromedp.Navigate(base+"/policy/"), chromedp.WaitVisible(chromedp.CSS("h1"))); err != nil {
		t.Fatal(err)
	}
	if lang := run(t, ctx, chromedp.Evaluate[string]("document.documentElement.lang")); lang != "en" {
		t.Errorf("lang = %q, want en", lang)
	}
	if h1 := run(t, ctx, chromedp.Text(chromedp.CSS("h1"))); !strings.Contains(h1, "Privacy policy") {
		t.Errorf("h1 = %q", h1)
	}
	body := run(t, ctx, chromedp.Text(chromedp.CSS("main")))
	if !strings.Contains(body, want.ID) {
		t.Errorf("the page does not show version %s", want.ID)
	}
	dates := run(t, ctx, chromedp.Evaluate[[]string](
		`[...document.querySelectorAll("main time")].map(e => e.getAttribute("datetime"))`))
	if !contains(dates, want.Published) || !contains(dates, want.Effective) {
		t.Errorf("dates on the page %v, want published %s and effective %s", dates, want.Published, want.Effective)
	}
	shot(t, ctx, "policy-en.png")

	// Keyboard: the first Tab lands on the skip link.
	if err := chromedp.Do(ctx, chromedp.KeyEvent(kb.Tab)); err != nil {
		t.Fatal(err)
	}
	focused := run(t, ctx, chromedp.Evaluate[string](`document.activeElement.getAttribute("href") || ""`))
	if focused != "#main" {
		t.Errorf("first Tab focuses %q, want the skip link to #main", focused)
	}

	// Switch language with the visible link, as a person would.
	if err := chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS(`a[hreflang="zh-CN"]`)),
		chromedp.WaitVisible(chromedp.CSS(`html[lang="zh-CN"] h1`)),
	); err != nil {
		t.Fatal(err)
	}
	loc := run(t, ctx, chromedp.Location())
	if !strings.HasSuffix(loc, "/zh/policy/") {
		t.Errorf("language link went to %s, want /zh/policy/", loc)
	}
	if h1 := run(t, ctx, chromedp.Text(chromedp.CSS("h1"))); !strings.Contains(h1, "隐私政策") {
		t.Errorf("Chinese h1 = %q", h1)
	}
	zhBody := run(t, ctx, chromedp.Text(chromedp.CSS("main")))
	if !strings.Contains(zhBody, want.ID) {
		t.Errorf("the Chinese page does not show version %s", want.ID)
	}
	shot(t, ctx, "policy-zh.png")

	// Every version is listed, in both languages.
	for _, p := range []string{"/policy/versions/", "/zh/policy/versions/"} {
		if err := chromedp.Do(ctx, chromedp.Navigate(base+p)); err != nil {
			t.Fatal(err)
		}
		links := run(t, ctx, chromedp.Evaluate[[]string](`[...document.querySelectorAll("main a")].map(a => a.pathname)`))
		if !contains(links, want.URL) && !contains(links, "/zh"+want.URL) {
			t.Errorf("%s links %v, want a link to version %s", p, links, want.ID)
		}
	}

	time.Sleep(200 * time.Millisecond) // let late console events arrive
	if errs := console.errors(); len(errs) > 0 {
		t.Errorf("console reported problems (CSP violations, failed loads, script errors):\n%s", strings.Join(errs, "\n"))
	}
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// shot saves a screenshot when SCREENSHOT_DIR is set, for a person to look at.
func shot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	dir := os.Getenv("SCREENSHOT_DIR")
	if dir == "" {
		return
	}
	b, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	if err != nil {
		t.Logf("screenshot: %v", err)
		return
	}
	_ = os.WriteFile(filepath.Join(dir, name), b, 0o644)
}
