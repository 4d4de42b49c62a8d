package e2e

import (
	"context"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/privacyportal/portal/infra/portaltest"
	"github.com/privacyportal/portal/internal/notices"
)

// TestBrowserP14_APublishedBreachNoticeIsOnTheSiteInBothLanguages: in Chromium, once the
// operator publishes a breach notice, the home page links it in both languages; the notice
// page shows its parts; once withdrawn, the home page links it no more.
func TestBrowserP14_APublishedBreachNoticeIsOnTheSiteInBothLanguages(t *testing.T) {
	base := portaltest.URL(t)
	ctx := context.Background()
	op := campaigns(t)
	title := "Public " + uniq("p")
	c, err := op.Create(ctx, breach(title, notices.Audience{Holding: "mobile"}))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := op.Publish(ctx, c.ID); err != nil {
		t.Fatal(err)
	}
	b := portaltest.Browser(t)
	do(t, b, "the home page links the notice", chromedp.Navigate(base+"/"),
		waitFor(`document.getElementById("home-notices-list") && document.getElementById("home-notices-list").innerText.includes(`+jsString(title)+`)`))
	do(t, b, "open it",
		chromedp.Evaluate[chromedp.Void](`[...document.querySelectorAll("#home-notices-list a")].find(a => a.innerText.includes(`+jsString(title)+`)).click()`),
		waitFor(`document.getElementById("notice-incident") && document.getElementById("notice-incident").innerText.includes("A backup copy")`))
	page := run(t, b, chromedp.Text(chromedp.ID("notice")))
	for _, want := range []string{"unwanted calls", "rotated every key", "wary of calls", "call screening", "dpo@example.com"} {
		if !strings.Contains(page, want) {
			t.Errorf("the notice page does not say %q:\n%s", want, page)
		}
	}
	do(t, b, "the Chinese notice", chromedp.Navigate(base+notices.NoticePath("zh-CN", c.ID)),
		waitFor(`document.getElementById("notice-incident") && document.getElementById("notice-incident").innerText.includes("我们邮件列表的备份副本被泄露")`))
	do(t, b, "the Chinese home page links it", chromedp.Navigate(base+"/zh/"),
		waitFor(`document.getElementById("home-notices-list") && document.getElementById("home-notices-list").innerText.includes("数据泄露通知 `+title+`")`))

	if _, err := op.Withdraw(ctx, c.ID); err != nil {
		t.Fatal(err)
	}
	do(t, b, "withdrawn", chromedp.Navigate(base+"/"), waitFor(`document.readyState === "complete"`))
	if got := run(t, b, chromedp.Evaluate[string](`(document.getElementById("home-notices-list") || {innerText: ""}).innerText`)); strings.Contains(got, title) {
		t.Errorf("the home page still links a withdrawn notice: %q", got)
	}
}
