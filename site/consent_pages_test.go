package site_test

import (
	"encoding/json"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/privacyportal/portal/site"
	sitecatalog "github.com/privacyportal/portal/site/catalog"
)

// ---- The consent pages: /consent/, /cookies/, /unsubscribe/, the cookie banner, the policy prompt ----

// consentCatalogue is what the consent pages show of catalog/catalog.json.
type consentCatalogue struct {
	Purposes []struct {
		ID          string            `json:"id"`
		Category    string            `json:"category"`
		Essential   bool              `json:"essential"`
		Name        map[string]string `json:"name"`
		Description map[string]string `json:"description"`
		Recipient   *struct {
			Name        map[string]string `json:"name"`
			Country     string            `json:"country"`
			CountryName map[string]string `json:"countryName"`
			Purpose     map[string]string `json:"purpose"`
		} `json:"recipient"`
	} `json:"purposes"`
}

func parseConsentCatalogue(tb testing.TB) consentCatalogue {
	tb.Helper()
	var c consentCatalogue
	if err := json.Unmarshal([]byte(sitecatalog.JSON), &c); err != nil {
		tb.Fatalf("catalog.json: %v", err)
	}
	return c
}

// The cookie banner's script, as partials/consent/banner.html loads it.
const bannerScript = "/js/cookie-banner.js"

var anyIDRE = regexp.MustCompile(`<([a-zA-Z][a-zA-Z0-9]*)\b[^>]*\sid="([^"]*)"`)

// wantUniqueIDs checks every id on a page, whatever its element.
func wantUniqueIDs(t *testing.T, page, body string) {
	t.Helper()
	seen := map[string]bool{}
	for _, m := range anyIDRE.FindAllStringSubmatch(body, -1) {
		if seen[m[2]] {
			t.Errorf("%s: id %q is used twice", page, m[2])
		}
		seen[m[2]] = true
	}
}

// wantNoInline checks one page for what the CSP refuses (TestSite_NoInlineScriptOrStyle checks
// every page; this names the consent pages' own).
func wantNoInline(t *testing.T, page, body string) {
	t.Helper()
	for _, m := range scriptTagRE.FindAllStringSubmatch(body, -1) {
		if !scriptSrcRE.MatchString(m[1]) || strings.TrimSpace(m[2]) != "" {
			t.Errorf("%s: inline <script>: %.80q", page, m[0])
		}
	}
	for _, re := range []*regexp.Regexp{styleTagRE, styleAttrRE, eventAttrRE, jsURLRE} {
		if m := re.FindString(body); m != "" {
			t.Errorf("%s: %.80q", page, m)
		}
	}
}

// TestConsent_PagesRenderInBothLanguages: /consent/, /cookies/ and /unsubscribe/ exist in both
// languages, with their title, unique ids, no inline script or style, labelled controls, the
// shared scripts then their own (deferred, in order), and the strings their scripts use.
func TestConsent_PagesRenderInBothLanguages(t *testing.T) {
	out := builtSite(t)
	titles := map[string]map[string]string{
		"consent": {"en": "Consent centre", "zh-cn": "同意管理中心"},
		"cookies": {"en": "Cookies", "zh-cn": "Cookie"},
	}
	jsKeys := []string{"jsConsentSaved", "jsConsentReceipt", "jsSignalPurposeGpc", "jsSignalPurposeDnt", "jsCookiesChoiceOn", "jsUnsubscribed", "jsUnsubscribeNoToken"}
	for _, l := range languages {
		ui := uiText(t, l.dir)
		for _, name := range []string{"consent", "cookies", "unsubscribe"} {
			p := loadAccountPage(t, out, l.prefix+"/"+name+"/")
			wantUniqueIDs(t, p.name, p.body)
			wantNoInline(t, p.name, p.body)
			p.wantScripts(t, "strings", "api", "form", name)
			if want := titles[name][l.dir]; want != "" && !strings.Contains(p.body, "<h1>"+want+"</h1>") {
				t.Errorf("%s: no heading %q", p.name, want)
			}
			if !strings.Contains(p.body, `<html lang="`+l.locale+`"`) {
				t.Errorf("%s: not in %s", p.name, l.locale)
			}
			strs := map[string]string{}
			for _, e := range elements(between(t, p.name, p.body, `<template data-ui-strings>`, "</template>"), "span") {
				strs[e.attrs["data-key"]] = e.text
			}
			for _, k := range jsKeys {
				if strs[k] == "" || strs[k] != ui[k] {
					t.Errorf("%s: UI string %s = %q, want %q", p.name, k, strs[k], ui[k])
				}
			}
			if !strings.Contains(p.body, `<template id="ui-strings">`) {
				t.Errorf("%s: no shared UI strings (partials/form/strings.html)", p.name)
			}
		}
	}
	// The translations differ: nothing is left in English on the Chinese pages.
	en, zh := uiText(t, "en"), uiText(t, "zh-cn")
	for _, k := range append(jsKeys, "consentIntro", "cookiesIntro", "unsubscribeQuestion", "signalGpc", "signalDnt", "cookieBannerText", "policyPromptText") {
		if en[k] == "" || zh[k] == "" || en[k] == zh[k] {
			t.Errorf("i18n %s: en %q, zh-cn %q; want both, different", k, en[k], zh[k])
		}
	}
}

// TestConsent_CentreShowsEveryPurposeOfTheCatalogue (P05, P06, P10, P18): one checkbox per
// non-essential purpose, named and described from the catalogue in the page's language, grouped
// by category under its heading; the essential purpose shown as always on, with no control;
// sharing and transfer purposes name their recipient, its country and its purpose.
func TestP05_P06_CentreShowsEveryPurposeOfTheCatalogue(t *testing.T) {
	out := builtSite(t)
	c := parseConsentCatalogue(t)
	for _, l := range languages {
		ui := uiText(t, l.dir)
		p := loadAccountPage(t, out, l.prefix+"/consent/")
		inputs := elements(p.body, "input")
		var controls []element
		for _, e := range inputs {
			if _, ok := e.attrs["data-purpose"]; ok {
				controls = append(controls, e)
			}
		}
		nonEssential := 0
		for _, pu := range c.Purposes {
			slug := strings.ReplaceAll(pu.ID, ".", "-")
			if pu.Essential {
				item := between(t, p.name, p.body, `id="consent-item-`+slug+`"`, "</div>")
				if !strings.Contains(item, pu.Name[l.locale]) || !strings.Contains(item, ui["consentAlwaysOn"]) {
					t.Errorf("%s: essential purpose %s is not shown as always on: %s", p.name, pu.ID, item)
				}
				if strings.Contains(item, "<input") {
					t.Errorf("%s: essential purpose %s has a control", p.name, pu.ID)
				}
				continue
			}
			nonEssential++
			id := "consent-toggle-" + slug
			e, ok := p.byID[id]
			if !ok || e.attrs["type"] != "checkbox" || e.attrs["name"] != "choices" || e.attrs["value"] != pu.ID || e.attrs["data-purpose"] != pu.ID {
				t.Errorf("%s: purpose %s: control #%s = %v, want a checkbox named choices with its id as value and data-purpose", p.name, pu.ID, id, e.attrs)
				continue
			}
			if !strings.HasPrefix(p.labels[id], pu.Name[l.locale]) {
				t.Errorf("%s: #%s is labelled %q, want the catalogue's %s name %q", p.name, id, p.labels[id], l.locale, pu.Name[l.locale])
			}
			if hint := p.byID[id+"-hint"]; hint.text != pu.Description[l.locale] {
				t.Errorf("%s: #%s-hint = %q, want the catalogue's description %q", p.name, id, hint.text, pu.Description[l.locale])
			}
			for _, part := range []string{"consent-state-" + slug, "consent-signal-" + slug, "consent-new-" + slug} {
				if !strings.Contains(p.body, `id="`+part+`"`) {
					t.Errorf("%s: purpose %s has no #%s", p.name, pu.ID, part)
				}
			}
			if !strings.Contains(p.body, `id="consent-new-`+slug+`" data-part="new" hidden>`+ui["consentNew"]+`<`) {
				t.Errorf("%s: purpose %s has no hidden %q badge", p.name, pu.ID, ui["consentNew"])
			}
			// Its group: the section of its category, under the category's heading.
			group := between(t, p.name, p.body, `id="consent-group-`+pu.Category+`"`, "</section>")
			if !strings.Contains(group, `id="`+id+`"`) {
				t.Errorf("%s: purpose %s is not in the %s group", p.name, pu.ID, pu.Category)
			}
			heading := ui["consentCat"+strings.ToUpper(pu.Category[:1])+pu.Category[1:]]
			if heading == "" || !strings.Contains(group, ">"+heading+"</h2>") {
				t.Errorf("%s: the %s group has no heading %q", p.name, pu.Category, heading)
			}
			if pu.Category == "sharing" || pu.Category == "transfer" {
				if pu.Recipient == nil {
					t.Fatalf("catalogue: %s names no recipient", pu.ID)
				}
				dl := between(t, p.name, p.body, `id="consent-recipient-`+slug+`"`, "</dl>")
				for _, want := range []string{pu.Recipient.Name[l.locale], pu.Recipient.CountryName[l.locale], pu.Recipient.Purpose[l.locale]} {
					if !strings.Contains(dl, want) {
						t.Errorf("%s: purpose %s does not show %q", p.name, pu.ID, want)
					}
				}
			}
		}
		if len(controls) != nonEssential {
			t.Errorf("%s: %d purpose controls, want one per non-essential purpose (%d)", p.name, len(controls), nonEssential)
		}
		p.wantButtons(t, "submit", "consent-save")
		p.wantStatus(t, "consent-status", "consent-save-status")
		p.wantHidden(t, "consent-view", "consent-signed-out", "consent-signals")
		p.wantLink(t, "consent-signin-link", l.prefix+"/signin/")
		table := between(t, p.name, p.body, `<table id="consent-ledger-table">`, "</table>")
		for _, k := range []string{"colTime", "colPurpose", "colDecision", "colSource", "colPolicy", "colReceipt"} {
			if !strings.Contains(table, ">"+ui[k]+"</th>") {
				t.Errorf("%s: the ledger table has no %q column", p.name, ui[k])
			}
		}
	}
}

// TestConsent_CookiePageListsEveryCookie (P07): the session cookie and the banner's choice
// cookie, each with a way to delete it, the visitor's choice and the button to the preferences;
// every page links the cookie page from its footer.
func TestP07_CookiePageListsEveryCookie(t *testing.T) {
	out := builtSite(t)
	for _, l := range languages {
		ui := uiText(t, l.dir)
		p := loadAccountPage(t, out, l.prefix+"/cookies/")
		table := between(t, p.name, p.body, `<table id="cookies-table">`, "</table>")
		for _, row := range []struct{ id, cookie, button string }{
			{"cookies-row-session", "__Host-session", "cookies-delete-session"},
			{"cookies-row-choice", "cc_cookie", "cookies-delete-choice"},
		} {
			tr := between(t, p.name, table, `id="`+row.id+`"`, "</tr>")
			if !strings.Contains(tr, "<code>"+row.cookie+"</code>") || !strings.Contains(tr, ui["cookiesEssential"]) || !strings.Contains(tr, `id="`+row.button+`"`) {
				t.Errorf("%s: row #%s does not list %s as essential with its delete button", p.name, row.id, row.cookie)
			}
		}
		if n := strings.Count(table, "<tr id="); n != 2 {
			t.Errorf("%s: %d cookies listed, want 2", p.name, n)
		}
		p.wantButtons(t, "button", "cookies-delete-session", "cookies-delete-choice", "cookies-preferences")
		p.wantStatus(t, "cookies-status")
		p.wantHidden(t, "cookies-signal")
		p.wantLink(t, "cookies-consent-link", l.prefix+"/consent/")
		if !strings.Contains(p.body, `id="cookies-choice"`) {
			t.Errorf("%s: no #cookies-choice", p.name)
		}
	}
	for _, f := range htmlFiles(t, out) {
		footer := between(t, f, readFile(t, filepath.Join(out, f)), `<footer`, `</footer>`)
		prefix := ""
		if strings.HasPrefix(f, "zh/") {
			prefix = "/zh"
		}
		if !strings.Contains(footer, `<a id="footer-cookies-link" href="`+prefix+`/cookies/">`) {
			t.Errorf("%s: the footer does not link %s/cookies/", f, prefix)
		}
	}
}

// TestConsent_UnsubscribePageChangesNothingOnLoad (P08, P19): the page asks "Stop marketing
// e-mail from <operator>?" with one button, disabled until the script runs; its form posts
// nowhere by itself and its script calls the API only when the button is pressed.
func TestConsent_UnsubscribePageChangesNothingOnLoad(t *testing.T) {
	out := builtSite(t)
	for _, l := range languages {
		ui := uiText(t, l.dir)
		p := loadAccountPage(t, out, l.prefix+"/unsubscribe/")
		question := strings.ReplaceAll(ui["unsubscribeQuestion"], "{{ .Operator }}", testParams.OperatorName)
		if !strings.Contains(p.body, `<h1 id="unsubscribe-question">`+question+`</h1>`) {
			t.Errorf("%s: does not ask %q", p.name, question)
		}
		p.wantButtons(t, "submit", "unsubscribe-submit")
		p.wantStatus(t, "unsubscribe-status")
		p.wantLink(t, "unsubscribe-consent-link", l.prefix+"/consent/")
		forms := elements(p.body, "form")
		if len(forms) != 1 || forms[0].attrs["id"] != "unsubscribe-form" {
			t.Fatalf("%s: forms %v, want #unsubscribe-form alone", p.name, forms)
		}
		if _, has := forms[0].attrs["action"]; has {
			t.Errorf("%s: the form has an action: it must post nowhere without the script", p.name)
		}
		if n := strings.Count(between(t, p.name, p.body, `<form id="unsubscribe-form"`, "</form>"), "<button"); n != 1 {
			t.Errorf("%s: %d buttons, want one", p.name, n)
		}
		if regexp.MustCompile(`(?i)http-equiv="refresh"|\sautofocus`).MatchString(p.body) {
			t.Errorf("%s: refreshes or focuses on load", p.name)
		}
	}
	src := readFile(t, filepath.Join("assets", "js", "unsubscribe.js"))
	submit := strings.Index(src, "P.onSubmit(form")
	if submit < 0 {
		t.Fatal("unsubscribe.js: no P.onSubmit(form, ...)")
	}
	if i := strings.Index(src, "P.api("); i < submit {
		t.Errorf("unsubscribe.js calls the API outside the button's handler")
	}
	for _, bad := range []string{".submit(", "requestSubmit(", "click()"} {
		if strings.Contains(src, bad) {
			t.Errorf("unsubscribe.js uses %s: nothing may submit on load", bad)
		}
	}
}

// TestConsent_BannerOnEveryPage: every page has the cookie banner right after the skip link (a
// labelled region, hidden until js/cookie-banner.js shows it, so it covers nothing and is not
// the first Tab stop), its preferences (a labelled <dialog>) and then its script, a classic one
// that uses no window.Portal, with its settings in the page's language: its analytics category
// is the catalogue's analytics purpose, and the GPC and DNT notes are there. No third-party
// library and no stylesheet of its own.
func TestP07_BannerOnEveryPage(t *testing.T) {
	out := builtSite(t)
	c := parseConsentCatalogue(t)
	analytics := ""
	for _, p := range c.Purposes {
		if p.Category == "analytics" {
			analytics = p.ID
			break
		}
	}
	if analytics == "" {
		t.Fatal("catalogue: no analytics purpose")
	}
	ui := map[string]map[string]string{"en": uiText(t, "en"), "zh": uiText(t, "zh-cn")}
	scriptRE := regexp.MustCompile(`<script src="` + regexp.QuoteMeta(bannerScript) + `"([^>]*)></script>`)
	for _, f := range htmlFiles(t, out) {
		body := readFile(t, filepath.Join(out, f))
		lang := "en"
		if strings.HasPrefix(f, "zh/") {
			lang = "zh"
		}
		if strings.Contains(body, "/vendor/") || strings.Count(body, `rel="stylesheet"`) != 1 {
			t.Errorf("%s: loads a vendored file or a stylesheet besides site.css", f)
		}
		skip, banner, header := strings.Index(body, `class="skip-link"`), strings.Index(body, `<section id="cookie-banner" class="cm" aria-labelledby="cookie-banner-title" hidden>`), strings.Index(body, "<header")
		if skip < 0 || banner < skip || header < banner {
			t.Errorf("%s: the banner is not a hidden, labelled region between the skip link and the header", f)
			continue
		}
		part := body[banner:header]
		if !strings.Contains(part, `<h2 id="cookie-banner-title">`+ui[lang]["cookieBannerTitle"]+`</h2>`) ||
			!strings.Contains(part, `<dialog id="cookie-prefs" class="cm-prefs" aria-labelledby="cookie-prefs-title">`) ||
			!strings.Contains(part, `<h2 id="cookie-prefs-title">`+ui[lang]["cookiePrefsTitle"]+`</h2>`) {
			t.Errorf("%s: the banner or its preferences lack their title", f)
		}
		for id, key := range map[string]string{
			"cookie-banner-accept": "cookieAllowAnalytics", "cookie-banner-reject": "cookieEssentialOnly", "cookie-banner-preferences": "cookieChoose",
			"cookie-prefs-accept": "cookieAllowAnalytics", "cookie-prefs-reject": "cookieEssentialOnly", "cookie-prefs-save": "cookieSave", "cookie-prefs-close": "cookieClose",
		} {
			if !regexp.MustCompile(`<button type="button" id="` + id + `" class="button[^"]*"[^>]*>` + regexp.QuoteMeta(ui[lang][key]) + `</button>`).MatchString(part) {
				t.Errorf("%s: no button #%s saying %q", f, id, ui[lang][key])
			}
		}
		for _, id := range []string{"cookie-banner-signal", "cookie-prefs-signal"} {
			if !strings.Contains(part, `<p id="`+id+`" class="cookie-signal" hidden></p>`) {
				t.Errorf("%s: no hidden signal note #%s", f, id)
			}
		}
		if !strings.Contains(part, `<input type="checkbox" id="cookie-prefs-analytics" value="`+analytics+`" aria-describedby="cookie-prefs-analytics-hint">`) ||
			!strings.Contains(part, `<input type="checkbox" id="cookie-prefs-necessary" checked disabled`) ||
			!strings.Contains(part, `<code>cc_cookie</code>`) || !strings.Contains(part, `<code>__Host-session</code>`) {
			t.Errorf("%s: the preferences lack the analytics box, the essential one or the cookie table", f)
		}
		m := scriptRE.FindStringSubmatch(part)
		if m == nil || !strings.HasSuffix(strings.TrimSpace(part), m[0]) {
			t.Errorf("%s: the banner's markup is not followed by its script (classic, not deferred)", f)
			continue
		}
		if strings.Contains(m[1], " defer") || strings.Contains(m[1], " async") {
			t.Errorf("%s: the banner's script is deferred or async: it must show the banner before the page is parsed", f)
		}
		for _, want := range []string{`data-category="` + analytics + `"`, `data-cookie="cc_cookie"`, `data-days="182"`, `data-script="/js/analytics.js"`,
			`data-gpc="` + ui[lang]["signalGpc"] + `"`, `data-dnt="` + ui[lang]["signalDnt"] + `"`} {
			if !strings.Contains(m[1], want) {
				t.Errorf("%s: the banner's script lacks %s", f, want)
			}
		}
		if strings.Contains(body, `<script src="/js/cookie-banner.js" defer`) {
			t.Errorf("%s: loads the banner twice", f)
		}
	}
	if !strings.Contains(uiText(t, "en")["signalGpc"], "(Global Privacy Control): analytics stays off unless you turn it on here") {
		t.Errorf("signalGpc does not say which signal applies and that analytics stays off")
	}
	// The stand-alone scripts use no window.Portal (they run on pages that load none of it).
	for _, name := range []string{"cookie-banner.js", "analytics.js", "policy-accept.js"} {
		if m := portalUseRE.FindString(readFile(t, filepath.Join("assets", "js", name))); m != "" {
			t.Errorf("%s uses %s: it stands alone", name, m)
		}
	}
	// The banner keeps the choice cookie in the format internal/consent reads, and shows itself
	// to automated browsers too.
	banner := readFile(t, filepath.Join("assets", "js", "cookie-banner.js"))
	for _, want := range []string{`categories: analytics ? [NECESSARY, ANALYTICS] : [NECESSARY]`, `revision: REVISION`, `data: { signal: SIGNAL }`,
		`encodeURIComponent(JSON.stringify(state))`, `"; Path=/; SameSite=Strict"`, `var SHOWN = "show--consent";`, `source: "banner"`} {
		if !strings.Contains(banner, want) {
			t.Errorf("cookie-banner.js lacks %s", want)
		}
	}
	if strings.Contains(banner, "navigator.webdriver") {
		t.Error("cookie-banner.js hides from automated browsers")
	}
	// The banner's analytics loader posts the page view and nothing else.
	src := readFile(t, filepath.Join("assets", "js", "analytics.js"))
	for _, want := range []string{`fetch("/api/events"`, `method: "POST"`, `type: "pageview", path: location.pathname`, `"Content-Type": "application/json"`} {
		if !strings.Contains(src, want) {
			t.Errorf("analytics.js lacks %s", want)
		}
	}
}

// TestConsent_AccountPagePromptsForThePolicyAndLinksTheCentre: /account/ has the policy prompt
// (hidden until js/policy-accept.js shows it) with its accept button, runs that script on its
// own, keeps its deferred scripts as they were, and links the consent centre.
func TestConsent_AccountPagePromptsForThePolicyAndLinksTheCentre(t *testing.T) {
	out := builtSite(t)
	for _, l := range languages {
		ui := uiText(t, l.dir)
		p := loadAccountPage(t, out, l.prefix+"/account/")
		wantUniqueIDs(t, p.name, p.body)
		p.wantScripts(t, "strings", "api", "form", "account")
		p.wantHidden(t, "policy-prompt")
		p.wantStatus(t, "policy-prompt-status")
		if e := p.byID["policy-accept"]; p.tags["policy-accept"] != "button" || e.attrs["type"] != "button" || e.text != ui["policyAccept"] {
			t.Errorf("%s: #policy-accept = %v %q", p.name, e.attrs, e.text)
		}
		if !strings.Contains(p.body, `<script src="/js/policy-accept.js" async></script>`) {
			t.Errorf("%s: does not run js/policy-accept.js", p.name)
		}
		if prompt, status := strings.Index(p.body, `id="policy-prompt"`), strings.Index(p.body, `id="account-status"`); prompt < 0 || prompt > status {
			t.Errorf("%s: the policy prompt is not at the top of the page", p.name)
		}
		p.wantLink(t, "account-consent-link", l.prefix+"/consent/")
		p.wantLink(t, "policy-prompt-link", l.prefix+"/policy/")
	}
}

// TestCatalog_BuildFailsOnBadCategoryOrRecipient: the consent centre needs every purpose's
// category to be one it knows, and a sharing or transfer purpose's recipient in each language.
func TestCatalog_BuildFailsOnBadCategoryOrRecipient(t *testing.T) {
	recipient := func(t *testing.T, c map[string]any, id string) map[string]any {
		return entry(t, c, "purposes", "id", id)["recipient"].(map[string]any)
	}
	tests := []struct {
		name    string
		edit    func(t *testing.T, c map[string]any)
		wantErr string
	}{
		{
			name: "unknown category",
			edit: func(t *testing.T, c map[string]any) {
				entry(t, c, "purposes", "id", "marketing")["category"] = "newsletter"
			},
			wantErr: `catalog.json: purpose "marketing" has category "newsletter", which is none of service, profile`,
		},
		{
			name:    "no category",
			edit:    func(t *testing.T, c map[string]any) { delete(entry(t, c, "purposes", "id", "ads"), "category") },
			wantErr: `catalog.json: purpose "ads" has category "", which is none of`,
		},
		{
			name: "transfer without a recipient",
			edit: func(t *testing.T, c map[string]any) {
				delete(entry(t, c, "purposes", "id", "transfer.crossborder"), "recipient")
			},
			wantErr: `catalog.json: purpose "transfer.crossborder" is a transfer purpose and names no recipient`,
		},
		{
			name: "recipient without a Chinese country name",
			edit: func(t *testing.T, c map[string]any) {
				delete(recipient(t, c, "share.support")["countryName"].(map[string]any), "zh-CN")
			},
			wantErr: `catalog.json: purpose "share.support": its recipient has no countryName in zh-CN`,
		},
		{
			name: "recipient without an English purpose",
			edit: func(t *testing.T, c map[string]any) {
				recipient(t, c, "transfer.crossborder")["purpose"].(map[string]any)["en"] = ""
			},
			wantErr: `catalog.json: purpose "transfer.crossborder": its recipient has no purpose in en`,
		},
		{
			name:    "recipient without a name",
			edit:    func(t *testing.T, c map[string]any) { delete(recipient(t, c, "share.support"), "name") },
			wantErr: `catalog.json: purpose "share.support": its recipient has no name in`,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dir := editCatalogue(t, func(c map[string]any) { tc.edit(t, c) })
			err := site.Build(testContext(t), dir, t.TempDir(), site.Params{})
			if err == nil {
				t.Fatal("Build succeeded, want it to fail")
			}
			if !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("Build error does not say %q:\n%v", tc.wantErr, err)
			}
		})
	}
}
