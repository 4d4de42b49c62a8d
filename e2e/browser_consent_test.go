package e2e

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"github.com/privacyportal/portal/infra/portaltest"
)

// consentBrowser starts Chromium for the banner's tests. The banner shows itself to automated
// browsers as to people (site/assets/js/cookie-banner.js), so nothing is disguised; gpc turns
// Global Privacy Control on, in the page and on every request, as a browser with the setting
// does.
func consentBrowser(t *testing.T, gpc bool) context.Context {
	t.Helper()
	ctx := portaltest.Browser(t)
	if !gpc {
		return ctx
	}
	script := `Object.defineProperty(Navigator.prototype, "globalPrivacyControl", {get: () => true});`
	err := chromedp.Do(ctx, chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
		if _, err := chromedp.Call(ctx, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: script}); err != nil {
			return err
		}
		if _, err := chromedp.Call(ctx, network.Enable, network.EnableParams{}); err != nil {
			return err
		}
		_, err := chromedp.Call(ctx, network.SetExtraHTTPHeaders, network.SetExtraHTTPHeadersParams{Headers: network.Headers{"Sec-GPC": "1"}})
		return err
	}))
	if err != nil {
		t.Fatal(err)
	}
	return ctx
}

// bannerShown waits until the cookie banner is shown (visible and opaque, should it ever fade
// in: a click before a transition ends can miss).
func bannerShown() chromedp.Action[chromedp.Void] {
	return waitFor(`(function () {
		var b = document.getElementById("cookie-banner-accept");
		if (!b || !document.documentElement.classList.contains("show--consent")) return false;
		var m = b.closest(".cm") || b;
		var s = getComputedStyle(m);
		return s.visibility === "visible" && s.opacity === "1";
	})()`)
}

// bannerGone waits until a choice closed the banner and was kept (the cc_cookie cookie).
func bannerGone() chromedp.Action[chromedp.Void] {
	return waitFor(`!document.documentElement.classList.contains("show--consent") && document.cookie.indexOf("cc_cookie=") >= 0`)
}

func pageViews(t *testing.T, path string) int {
	t.Helper()
	n, err := store(t).PageViews(context.Background(), time.Now().UTC().Format("2006-01-02"), path)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// TestBrowserP09_GPCKeepsAnalyticsOffAndNothingIsCounted: a visitor whose browser sends Global
// Privacy Control sees the banner say so with analytics off, and their page views are not
// counted; a visitor without it who allows analytics is counted (P06, P07, P09).
func TestBrowserP09_GPCKeepsAnalyticsOffAndNothingIsCounted(t *testing.T) {
	base := portaltest.URL(t)
	const path = "/policy/versions/"
	before := pageViews(t, path)

	ctx := consentBrowser(t, true)
	ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	console := watchConsole(ctx)
	do(t, ctx, "open the versions page with GPC", chromedp.Navigate(base+path), bannerShown())
	signal := run(t, ctx, chromedp.Text(chromedp.ID("cookie-banner-signal")))
	if !strings.Contains(signal, "Global Privacy Control") {
		t.Errorf("the banner's signal note says %q", signal)
	}
	shot(t, ctx, "banner-gpc.png")
	do(t, ctx, "essential only", chromedp.Click(chromedp.ID("cookie-banner-reject")), bannerGone())
	do(t, ctx, "read another page", chromedp.Navigate(base+path), chromedp.WaitReady(chromedp.ID("footer-cookies-link")))
	if on := run(t, ctx, chromedp.Evaluate[bool](`document.querySelector('script[src$="/js/analytics.js"]') !== null`)); on {
		t.Error("the analytics script loaded with GPC on")
	}
	time.Sleep(500 * time.Millisecond)
	if n := pageViews(t, path); n != before {
		t.Errorf("%d page views counted for a visitor with GPC", n-before)
	}
	if errs := console.errors(); len(errs) > 0 {
		t.Errorf("console reported problems:\n%s", strings.Join(errs, "\n"))
	}

	// Without the signal, allowing analytics counts the next page view.
	other := consentBrowser(t, false)
	other, cancel2 := context.WithTimeout(other, 60*time.Second)
	defer cancel2()
	do(t, other, "open the versions page", chromedp.Navigate(base+path), bannerShown())
	do(t, other, "allow analytics", chromedp.Click(chromedp.ID("cookie-banner-accept")), bannerGone())
	do(t, other, "read the page again", chromedp.Navigate(base+path), chromedp.WaitReady(chromedp.ID("footer-cookies-link")))
	deadline := time.Now().Add(10 * time.Second)
	for pageViews(t, path) <= before && time.Now().Before(deadline) {
		time.Sleep(200 * time.Millisecond)
	}
	if n := pageViews(t, path); n <= before {
		t.Error("a visitor who allowed analytics was not counted: the counter does not work, so the test above proves nothing")
	}
}

// TestBrowserP18_ConsentCentreGrantsAndWithdraws: a signed-in person grants marketing in the
// consent centre, then withdraws it; two receipts come by mail and the ledger shows both
// entries, in order (P18, P19).
func TestBrowserP18_ConsentCentreGrantsAndWithdraws(t *testing.T) {
	base := portaltest.URL(t)
	p := newPerson("brconsent")
	mustActive(t, p, nil)
	ctx := portaltest.Browser(t)
	ctx, cancel := context.WithTimeout(ctx, 90*time.Second)
	defer cancel()
	console := watchConsole(ctx)

	do(t, ctx, "sign in", chromedp.Navigate(base+"/signin/"), chromedp.WaitEnabled(chromedp.ID("signin-submit")),
		typeInto("signin-login", p.Username), typeInto("signin-password", p.Password), chromedp.Click(chromedp.ID("signin-submit")),
		chromedp.WaitVisible(chromedp.ID("account-profile-data")))
	do(t, ctx, "open the consent centre", chromedp.Click(chromedp.ID("account-consent-link")), chromedp.WaitVisible(chromedp.ID("consent-toggle-marketing")))
	save := func(what string) {
		do(t, ctx, what, chromedp.Click(chromedp.ID("consent-toggle-marketing")), chromedp.Click(chromedp.ID("consent-save")),
			waitFor(`document.getElementById("consent-receipt-link") && !document.getElementById("consent-receipt-link").hidden && document.getElementById("consent-save-status").textContent.trim() !== ""`))
	}
	save("grant marketing")
	first := run(t, ctx, chromedp.AttributeValue(chromedp.ID("consent-receipt-link"), "href")).Value
	do(t, ctx, "reload", chromedp.Reload(), chromedp.WaitVisible(chromedp.ID("consent-toggle-marketing")))
	if on := run(t, ctx, chromedp.Evaluate[bool](`document.getElementById("consent-toggle-marketing").checked`)); !on {
		t.Fatal("marketing is not on after saving and reloading")
	}
	save("withdraw marketing")
	second := run(t, ctx, chromedp.AttributeValue(chromedp.ID("consent-receipt-link"), "href")).Value
	if first == second {
		t.Error("the two changes show the same receipt")
	}
	shot(t, ctx, "consent-centre.png")

	rows := run(t, ctx, chromedp.Evaluate[[]string](`Array.from(document.querySelectorAll("#consent-ledger-table tbody tr")).map(r => r.textContent)`))
	var marketing []string
	for _, r := range rows {
		if strings.Contains(r, "News and offers") {
			marketing = append(marketing, r)
		}
	}
	if len(marketing) != 2 || !strings.Contains(marketing[0], "Given") || !strings.Contains(marketing[1], "Withdrawn") {
		t.Errorf("the ledger's marketing rows, in order: %q; want the grant, then the withdrawal", marketing)
	}
	waitMails(t, p.Email, kindReceipt, 2)
	if errs := console.errors(); len(errs) > 0 {
		t.Errorf("console reported problems:\n%s", strings.Join(errs, "\n"))
	}
}

// TestBrowserP19_UnsubscribeFromAMarketingMail: the unsubscribe link of a marketing mail opens
// a page that changes nothing until the person clicks once (P19).
func TestBrowserP19_UnsubscribeFromAMarketingMail(t *testing.T) {
	p := newPerson("brunsub")
	v, id := mustActive(t, p, nil)
	v.choose(map[string]bool{"marketing": true})
	m := waitMail(t, p.Email, sendCampaign(t, id), 1)
	page := unsubscribeLinkRE.FindString(m.Body.Text)
	if page == "" {
		t.Fatalf("no unsubscribe link in the mail:\n%s", m.Body.Text)
	}

	ctx := portaltest.Browser(t)
	ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	console := watchConsole(ctx)
	do(t, ctx, "open the link", chromedp.Navigate(page), chromedp.WaitEnabled(chromedp.ID("unsubscribe-submit")))
	if !v.consent().granted("marketing") {
		t.Fatal("opening the unsubscribe page withdrew marketing")
	}
	do(t, ctx, "unsubscribe", chromedp.Click(chromedp.ID("unsubscribe-submit")),
		waitFor(`document.getElementById("unsubscribe-status").textContent.trim() !== ""`))
	if c := v.consent(); c.granted("marketing") || c.purpose("marketing").Source != "unsubscribe" {
		t.Errorf("after the click: %+v", c.purpose("marketing"))
	}
	status := run(t, ctx, chromedp.Text(chromedp.ID("unsubscribe-status")))
	do(t, ctx, "the link again", chromedp.Reload(), chromedp.WaitEnabled(chromedp.ID("unsubscribe-submit")), chromedp.Click(chromedp.ID("unsubscribe-submit")),
		waitFor(fmt.Sprintf(`document.getElementById("unsubscribe-status").textContent.trim() !== "" && document.getElementById("unsubscribe-status").textContent !== %q`, status)))
	if again := run(t, ctx, chromedp.Text(chromedp.ID("unsubscribe-status"))); again == status {
		t.Errorf("the used link says the same as the first time: %q", again)
	}
	if errs := console.errors(); len(errs) > 0 {
		t.Errorf("console reported problems:\n%s", strings.Join(errs, "\n"))
	}
}

var unsubscribeLinkRE = regexp.MustCompile(`https?://\S+/unsubscribe/\?token=[A-Za-z0-9%._-]+`)

// TestBrowserP25_SignInAsksToAcceptTheNewPolicy: a person who accepted 1.0 is shown, when they
// sign in, that 1.1 is in force, with a link to what changed, and accepts it (P25).
func TestBrowserP25_SignInAsksToAcceptTheNewPolicy(t *testing.T) {
	base := portaltest.URL(t)
	p := newPerson("braccept")
	v, id := mustActive(t, p, nil)
	acceptedOnly(t, id, "1.0")
	ctx := portaltest.Browser(t)
	ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	do(t, ctx, "sign in", chromedp.Navigate(base+"/signin/"), chromedp.WaitEnabled(chromedp.ID("signin-submit")),
		typeInto("signin-login", p.Email), typeInto("signin-password", p.Password), chromedp.Click(chromedp.ID("signin-submit")),
		chromedp.WaitVisible(chromedp.ID("policy-prompt")))
	text := run(t, ctx, chromedp.Text(chromedp.ID("policy-prompt-text")))
	href := run(t, ctx, chromedp.AttributeValue(chromedp.ID("policy-prompt-link"), "href")).Value
	if !strings.Contains(text, "1.1") || !strings.Contains(href, "/policy/1.1/") {
		t.Errorf("the prompt says %q and links %q; want version 1.1 and its page", text, href)
	}
	shot(t, ctx, "policy-prompt.png")
	do(t, ctx, "accept", chromedp.Click(chromedp.ID("policy-accept")), chromedp.WaitNotVisible(chromedp.ID("policy-prompt")))
	if c := v.consent(); c.Policy.MustAccept || c.Policy.Accepted != "1.1" {
		t.Errorf("after accepting: %+v", c.Policy)
	}
	do(t, ctx, "sign in again", chromedp.Reload(), chromedp.WaitVisible(chromedp.ID("account-profile-data")))
	if shown := run(t, ctx, chromedp.Evaluate[bool](`!document.getElementById("policy-prompt").hidden && document.getElementById("policy-prompt").offsetParent !== null`)); shown {
		t.Error("the prompt is shown again after accepting")
	}
}

// TestBrowserP07_TheSiteWorksWithCookiesBlocked: with cookies blocked, the policy reads in
// both languages, the banner still offers its choice without errors, and the cookie page says
// which cookies the portal can set (P07).
func TestBrowserP07_TheSiteWorksWithCookiesBlocked(t *testing.T) {
	base := portaltest.URL(t)
	ctx := portaltest.Browser(t)
	ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	console := watchConsole(ctx)
	err := chromedp.Do(ctx, chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
		_, err := chromedp.Call(ctx, emulation.SetDocumentCookieDisabled, emulation.SetDocumentCookieDisabledParams{Disabled: true})
		return err
	}))
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"/policy/", "/zh/policy/", "/policy/versions/"} {
		do(t, ctx, "read "+p, chromedp.Navigate(base+p), chromedp.WaitVisible(chromedp.CSS("main h1")))
	}
	do(t, ctx, "the banner's choice", bannerShown(), chromedp.Click(chromedp.ID("cookie-banner-reject")),
		waitFor(`!document.documentElement.classList.contains("show--consent")`))
	do(t, ctx, "the cookie page", chromedp.Navigate(base+"/cookies/"), chromedp.WaitVisible(chromedp.ID("cookies-row-session")),
		chromedp.WaitVisible(chromedp.ID("cookies-row-choice")))
	if errs := console.errors(); len(errs) > 0 {
		t.Errorf("console reported problems with cookies blocked:\n%s", strings.Join(errs, "\n"))
	}
}
