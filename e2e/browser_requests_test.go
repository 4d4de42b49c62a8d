package e2e

import (
	"archive/zip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/chromedp"

	"github.com/privacyportal/portal/infra/portaltest"
)

// TestBrowserP15_P21_AVisitorGetsACopyOfExactlyTheirData: in Chromium, a person who is not
// signed in asks for a copy of their data on the request page, proves the address with the
// mailed code, follows the link in the export mail and downloads the archive. The archive holds
// exactly what the account page shows, kind by kind, and nothing of anyone else; the link then
// works no more, and leads to the page that offers a new copy.
func TestBrowserP15_P21_AVisitorGetsACopyOfExactlyTheirData(t *testing.T) {
	base := portaltest.URL(t)
	p := newPerson("copy")
	v, id := mustActive(t, p, map[string]any{"mobile": "+44 20 7946 0004", "consents": []string{"profile.mobile"}})
	v.choose(map[string]bool{"marketing": true})
	other := newPerson("copyother")
	mustActive(t, other, nil)

	ctx := portaltest.Browser(t)
	dir := t.TempDir()
	if _, err := chromedp.CallBrowser(ctx, browser.SetDownloadBehavior, browser.SetDownloadBehaviorParams{
		Behavior: browser.SetDownloadBehaviorBehaviorAllow, DownloadPath: dir,
	}); err != nil {
		t.Fatal(err)
	}
	do(t, ctx, "file a copy request",
		chromedp.Navigate(base+"/requests/?type=copy"),
		chromedp.WaitEnabled(chromedp.ID("requests-submit")),
		waitFor(`document.getElementById("requests-type-copy").checked`),
		typeInto("requests-email", p.Email),
		chromedp.Click(chromedp.ID("requests-submit")),
		chromedp.WaitVisible(chromedp.ID("requests-code-section")),
	)
	code := codeIn(t, waitMail(t, p.Email, kindRequestCode, 1))
	do(t, ctx, "prove it with the code",
		typeInto("requests-code", code),
		chromedp.Click(chromedp.ID("requests-code-submit")),
		chromedp.WaitVisible(chromedp.ID("requests-done")),
	)

	ready := waitMail(t, p.Email, kindExportReady, 1)
	link := exportLinkRE.FindStringSubmatch(ready.Body.Text)
	if link == nil {
		t.Fatalf("no download link in:\n%s", ready.Body.Text)
	}
	// Following the link downloads the archive: the page stays where it was.
	run(t, ctx, chromedp.Evaluate[string]("location.href = "+jsString(link[1])))
	file := waitDownload(t, dir)
	z, err := zip.OpenReader(file)
	if err != nil {
		t.Fatalf("the download is not a zip: %v", err)
	}
	defer z.Close()
	d, text := dataOf(t, &z.Reader)

	a := v.account()
	if d.Subject != id {
		t.Fatalf("the archive is of %s, not %s", d.Subject, id)
	}
	profile := d.Items["PROFILE"]
	if len(profile) != 1 || profile[0].Fields["name"] != a.Profile.Name || profile[0].Fields["email"] != a.Profile.Email || profile[0].Fields["username"] != a.Profile.Username {
		t.Errorf("the archive's profile %v is not the account page's %+v", profile, a.Profile)
	}
	shown := map[string]int{
		"PROFILE": 1, "OPTIONAL": len(a.Optional), "CONSENT": len(a.Consents), "SESSION": len(a.Sessions),
		"AUDIT": len(a.Audit), "REQUEST": len(a.Requests), "DECISION": len(a.Decisions),
		// The password's hash is held, and withheld from both (P13): the archive says so.
		"CREDENTIAL": 1,
	}
	for kind, n := range d.Counts {
		if shown[kind] != n {
			t.Errorf("the archive holds %d %s items, the account page shows %d", n, kind, shown[kind])
		}
	}
	for kind, n := range shown {
		if n > 0 && d.Counts[kind] == 0 {
			t.Errorf("the account page shows %d %s, the archive none", n, kind)
		}
	}
	if c := d.Items["CREDENTIAL"]; len(c) != 1 || c[0].Fields["passwordHash"] != nil || !slices.Contains(c[0].Withheld, "passwordHash") {
		t.Errorf("the credential in the archive: %+v", c)
	}
	for _, leak := range []string{other.Email, other.Username, p.Password} { // (both are named alike)
		if strings.Contains(text, leak) {
			t.Errorf("the archive holds %q", leak)
		}
	}
	for _, name := range []string{"data.json", "index.html", "profile.csv", "consent.csv"} {
		if !slices.ContainsFunc(z.File, func(f *zip.File) bool { return f.Name == name }) {
			t.Errorf("the archive has no %s", name)
		}
	}

	// The link works once.
	do(t, ctx, "follow the link again",
		chromedp.Navigate(link[1]),
		chromedp.WaitVisible(chromedp.ID("request-expired-new-copy")),
	)
	if href := run(t, ctx, chromedp.Evaluate[string](`document.getElementById("request-expired-new-copy").href`)); !strings.HasSuffix(href, "/requests/?type=copy") {
		t.Errorf("the expired page offers %s", href)
	}
}

// waitDownload waits for the one file Chromium downloads into dir to be complete.
func waitDownload(t *testing.T, dir string) string {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		entries, _ := os.ReadDir(dir)
		for _, e := range entries {
			if !strings.HasSuffix(e.Name(), ".crdownload") && strings.HasSuffix(e.Name(), ".zip") {
				return filepath.Join(dir, e.Name())
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("no download in %s after 30 s", dir)
	return ""
}

// jsString is s as a JavaScript string literal.
func jsString(s string) string {
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s) + `"`
}
