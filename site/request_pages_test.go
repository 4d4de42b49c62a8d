package site_test

import (
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// ---- The request pages: /requests/, /requests/status/, /requests/expired/, /requests/share/ ----
//
// TestSite_PagesFitTheBudget measures every built page, these included, and
// TestSite_NoInlineScriptOrStyle, TestSite_AccountFormsAreLabelled and
// TestSite_PagesLoadTheScriptsTheyNeed check every page too; the tests here name what the request
// pages need of their own, against the API contract (docs/api.md, "Data-subject requests").

// The request types, deletion grounds and refusal grounds of the API contract.
var (
	requestTypes    = []string{"access", "correction", "deletion", "copy", "withdrawal", "cancellation", "explanation", "complaint", "contact"}
	deletionGrounds = []string{"unlawful_processing", "no_consent", "agreement_breach", "left_service", "service_ended"}
	refusalGrounds  = []string{"national_security", "public_interest", "criminal_proceedings", "abuse_of_rights", "harms_others",
		"unreasonably_repeated", "technically_impractical", "risks_others_rights"}
	requestStatuses = []string{"received", "verified", "in_progress", "completed", "refused", "expired"}
)

// requestStrings returns the strings a request page hands its script (<template data-ui-strings>
// of partials/requests/strings.html), by key.
func requestStrings(tb testing.TB, p accountPage) map[string]string {
	tb.Helper()
	out := map[string]string{}
	for _, e := range elements(between(tb, p.name, p.body, `<template data-ui-strings>`, "</template>"), "span") {
		out[e.attrs["data-key"]] = e.text
	}
	return out
}

// TestRequests_PagesRenderInBothLanguages: the four request pages exist in both languages,
// with their title, unique ids, no inline script or style, the shared scripts then their own
// (deferred, in order; none on the expired page), and the shared UI strings.
func TestRequests_PagesRenderInBothLanguages(t *testing.T) {
	out := builtSite(t)
	pages := []struct {
		path    string
		title   map[string]string
		scripts []string
	}{
		{"/requests/", map[string]string{"en": "Make a request", "zh-cn": "提交请求"}, []string{"strings", "api", "form", "requests"}},
		{"/requests/status/", map[string]string{"en": "Your request", "zh-cn": "您的请求"}, []string{"strings", "api", "form", "code", "request-status"}},
		{"/requests/expired/", map[string]string{"en": "This link no longer works", "zh-cn": "此链接已失效"}, nil},
		{"/requests/share/", map[string]string{"en": "Send your copy to the third party you named", "zh-cn": "将副本发送给您指定的第三方"},
			[]string{"strings", "api", "form", "code", "request-share"}},
	}
	for _, l := range languages {
		for _, pg := range pages {
			p := loadAccountPage(t, out, l.prefix+pg.path)
			wantUniqueIDs(t, p.name, p.body)
			wantNoInline(t, p.name, p.body)
			p.wantScripts(t, pg.scripts...)
			if !strings.Contains(p.body, "<h1>"+pg.title[l.dir]+"</h1>") {
				t.Errorf("%s: no heading %q", p.name, pg.title[l.dir])
			}
			if !strings.Contains(p.body, `<html lang="`+l.locale+`"`) {
				t.Errorf("%s: not in %s", p.name, l.locale)
			}
			if pg.scripts != nil && !strings.Contains(p.body, `<template id="ui-strings">`) {
				t.Errorf("%s: no shared UI strings (partials/form/strings.html)", p.name)
			}
		}
	}
}

// TestP23_RequestFormOffersEveryType: /requests/ offers every request type of the API (P15,
// P16, P17, P20, P21, P22, P23's complaints, P26's contact) as a labelled radio with a line
// saying what it does, names the fields each type needs, and has every field, the code step,
// the confirmation, the signed-in list and the links the brief asks for.
func TestP23_RequestFormOffersEveryType(t *testing.T) {
	out := builtSite(t)
	needs := map[string]string{
		"access": "", "correction": "details", "deletion": "ground password", "copy": "thirdParty password", "withdrawal": "",
		"cancellation": "password", "explanation": "details", "complaint": "details", "contact": "details",
	}
	for _, l := range languages {
		ui := uiText(t, l.dir)
		p := loadAccountPage(t, out, l.prefix+"/requests/")
		form := between(t, p.name, p.body, `<form id="requests-form"`, "</form>")
		var types []string
		for _, e := range elements(form, "input") {
			if e.attrs["name"] == "type" {
				types = append(types, e.attrs["value"])
			}
		}
		if !slices.Equal(types, requestTypes) {
			t.Errorf("%s: request types %v, want %v", p.name, types, requestTypes)
		}
		for _, typ := range requestTypes {
			id := "requests-type-" + typ
			e := p.byID[id]
			if e.attrs["type"] != "radio" || e.attrs["value"] != typ || e.attrs["aria-describedby"] != id+"-hint" || e.attrs["data-error"] != "requests-type-error" {
				t.Errorf("%s: #%s = %v, want a radio for %s described by its hint", p.name, id, e.attrs, typ)
			}
			if _, required := e.attrs["required"]; !required || e.attrs["data-required-msg"] != ui["reqErrType"] {
				t.Errorf("%s: #%s is not required with %q", p.name, id, ui["reqErrType"])
			}
			if got, want := p.labels[id], ui["reqType_"+typ]; got == "" || got != want {
				t.Errorf("%s: #%s is labelled %q, want %q", p.name, id, got, want)
			}
			if hint := p.byID[id+"-hint"].text; hint == "" || hint != strings.ReplaceAll(ui["reqTypeHint_"+typ], "{{ .Days }}", fmt.Sprint(testParams.ExportDays)) {
				t.Errorf("%s: #%s-hint = %q, want the one-line explanation %q", p.name, id, hint, ui["reqTypeHint_"+typ])
			}
			if got := e.attrs["data-fields"]; got != needs[typ] {
				t.Errorf("%s: #%s needs %q, want %q", p.name, id, got, needs[typ])
			}
		}

		// The fields, each in a block the script shows for the types that need it.
		for block, attr := range map[string]string{
			"requests-details-block": `data-field="details" hidden`, "requests-ground-block": `data-field="ground" hidden`,
			"requests-third-party-block": `data-field="thirdParty" hidden`, "requests-password-block": `data-field="password" data-signed-in hidden`,
			"requests-email-block": `data-visitor>`,
		} {
			if !strings.Contains(form, `id="`+block+`" `+attr) {
				t.Errorf("%s: no #%s with %s", p.name, block, attr)
			}
		}
		textareas := elements(form, "textarea")
		if len(textareas) != 1 {
			t.Fatalf("%s: %d textareas, want the details", p.name, len(textareas))
		}
		if d := textareas[0].attrs; d["id"] != "requests-details" || d["name"] != "details" || d["data-maxlength"] != "2000" ||
			d["aria-describedby"] != "requests-details-hint requests-details-count" || d["data-error"] != "requests-details-error" || d["data-required-msg"] != ui["reqErrDetails"] {
			t.Errorf("%s: details = %v", p.name, d)
		}
		if p.labels["requests-details"] != ui["reqDetails"] {
			t.Errorf("%s: details labelled %q, want %q", p.name, p.labels["requests-details"], ui["reqDetails"])
		}
		if c := p.byID["requests-details-count"]; c.attrs["aria-live"] != "polite" || c.text != ui["reqDetailsCount"] {
			t.Errorf("%s: #requests-details-count = %v %q, want a polite live count", p.name, c.attrs, c.text)
		}
		hint := p.byID["requests-details-hint"]
		for typ, fields := range needs {
			if strings.Contains(fields, "details") && hint.attrs["data-hint-"+typ] != ui["reqDetailsHint_"+typ] {
				t.Errorf("%s: details hint for %s = %q, want %q", p.name, typ, hint.attrs["data-hint-"+typ], ui["reqDetailsHint_"+typ])
			}
		}
		p.wantField(t, "requests-third-party", ui["reqThirdParty"], map[string]string{"name": "thirdParty", "type": "email", "aria-describedby": "requests-third-party-hint"}, "required")
		if h := p.byID["requests-third-party-hint"].text; h != ui["reqThirdPartyHint"] {
			t.Errorf("%s: the third party's hint is %q, want %q (the person confirms again)", p.name, h, ui["reqThirdPartyHint"])
		}
		p.wantField(t, "requests-email", ui["fieldEmail"], map[string]string{"name": "email", "type": "email", "autocomplete": "email", "required": ""})
		p.wantField(t, "requests-password", ui["fieldYourPassword"], map[string]string{"name": "password", "type": "password", "autocomplete": "current-password", "required": ""})
		p.wantToggle(t, "requests-show-password", ui["showPassword"], "requests-password")
		p.wantButtons(t, "submit", "requests-submit")

		// The code step, the confirmation and the list start hidden.
		p.wantField(t, "requests-code", ui["fieldCode"], map[string]string{"name": "code", "autocomplete": "one-time-code", "inputmode": "numeric", "required": ""})
		if !strings.Contains(between(t, p.name, p.body, `<form id="requests-code-form"`, "</form>"), `id="requests-code"`) {
			t.Errorf("%s: the code is not in #requests-code-form", p.name)
		}
		p.wantButtons(t, "submit", "requests-code-submit")
		p.wantButtons(t, "button", "requests-code-restart", "requests-another")
		p.wantStatus(t, "requests-status", "requests-form-status", "requests-code-status", "requests-list-status")
		p.wantHidden(t, "requests-code-section", "requests-done", "requests-list-section", "requests-signed-in",
			"requests-details-block", "requests-ground-block", "requests-third-party-block", "requests-password-block")
		for _, id := range []string{"requests-done-heading", "requests-done-next", "requests-done-due", "requests-code-heading", "requests-code-intro", "requests-form-heading"} {
			if _, ok := p.byID[id]; !ok && !strings.Contains(p.body, `id="`+id+`"`) {
				t.Errorf("%s: no #%s", p.name, id)
			}
		}
		list := between(t, p.name, p.body, `<table id="requests-list">`, "</table>")
		for _, col := range []string{"reqColType", "reqColStatus", "reqColReceived", "reqColDue"} {
			if !strings.Contains(list, `<th scope="col">`+ui[col]+`</th>`) {
				t.Errorf("%s: the list has no column %q", p.name, ui[col])
			}
		}
		p.wantLink(t, "requests-list-link", "#requests-list-section")
		p.wantLink(t, "requests-consent-link", l.prefix+"/consent/")
		p.wantLink(t, "requests-signin-link", l.prefix+"/signin/")

		// The scripts get a name for every type, status and refusal ground.
		strs := requestStrings(t, p)
		for _, typ := range requestTypes {
			if strs["reqType:"+typ] == "" || strs["reqNext:"+typ] == "" {
				t.Errorf("%s: no UI strings for type %s", p.name, typ)
			}
		}
		for _, s := range requestStatuses {
			if strs["reqStatus:"+s] == "" {
				t.Errorf("%s: no UI string for status %s", p.name, s)
			}
		}
	}
}

// TestP17_RequestFormOffersTheFiveDeletionGrounds: a deletion asks for one of the five grounds,
// as radios in the policy's own words (section 5.3 of the policy in force).
func TestP17_RequestFormOffersTheFiveDeletionGrounds(t *testing.T) {
	out := builtSite(t)
	for _, l := range languages {
		ui := uiText(t, l.dir)
		p := loadAccountPage(t, out, l.prefix+"/requests/")
		policy := pageText(t, filepath.Join(out, filepath.FromSlash(l.prefix+"/policy/"), "index.html"))
		group := between(t, p.name, p.body, `<fieldset class="field" id="requests-ground"`, "</fieldset>")
		var got []string
		for _, e := range elements(group, "input") {
			got = append(got, e.attrs["value"])
			id := e.attrs["id"]
			if e.attrs["type"] != "radio" || e.attrs["name"] != "ground" || e.attrs["data-error"] != "requests-ground-error" || e.attrs["data-required-msg"] != ui["reqErrGround"] {
				t.Errorf("%s: ground #%s = %v", p.name, id, e.attrs)
			}
			label := p.labels[id]
			if label == "" || label != ui["reqDeletion_"+e.attrs["value"]] {
				t.Errorf("%s: ground #%s is labelled %q, want %q", p.name, id, label, ui["reqDeletion_"+e.attrs["value"]])
			}
			// The policy lists them in lower case, ending with ";" (English) or "；".
			words := strings.TrimRight(label, ".。")
			if l.dir == "en" {
				words = strings.ToLower(words[:1]) + words[1:]
			}
			if !strings.Contains(policy, words) {
				t.Errorf("%s: ground %s says %q, which the policy in force does not", p.name, e.attrs["value"], words)
			}
		}
		if !slices.Equal(got, deletionGrounds) {
			t.Errorf("%s: deletion grounds %v, want %v", p.name, got, deletionGrounds)
		}
		p.wantLink(t, "requests-deletion-link", l.prefix+"/policy/#deletion")
	}
}

// TestP23_StatusPageNamesEveryRefusalGround: the status page (the link in the receipt) has
// the fields its script fills, names all eight refusal grounds in the page's language, links
// the policy's grounds and a complaint (a request, the type preselected), and says when a
// link is not valid.
func TestP23_StatusPageNamesEveryRefusalGround(t *testing.T) {
	out := builtSite(t)
	names := map[string]map[string]string{}
	for _, l := range languages {
		ui := uiText(t, l.dir)
		p := loadAccountPage(t, out, l.prefix+"/requests/status/")
		strs := requestStrings(t, p)
		names[l.dir] = map[string]string{}
		for _, g := range refusalGrounds {
			if strs["reqGround:"+g] == "" || strs["reqGround:"+g] != ui["reqGround_"+g] {
				t.Errorf("%s: refusal ground %s is named %q, want %q", p.name, g, strs["reqGround:"+g], ui["reqGround_"+g])
			}
			names[l.dir][g] = strs["reqGround:"+g]
		}
		for _, s := range requestStatuses {
			if strs["reqStatus:"+s] == "" {
				t.Errorf("%s: no UI string for status %s", p.name, s)
			}
		}
		for _, id := range []string{"request-status-type", "request-status-state", "request-status-received", "request-status-due", "request-status-id",
			"request-status-outcome", "request-status-ground", "request-status-reason", "request-status-steps"} {
			if !strings.Contains(p.body, `id="`+id+`"`) {
				t.Errorf("%s: no #%s", p.name, id)
			}
		}
		p.wantStatus(t, "request-status-status")
		p.wantHidden(t, "request-status-view", "request-status-invalid", "request-status-refusal", "request-status-outcome-section")
		if h := p.byID["request-status-invalid-heading"].text; h != ui["reqLinkInvalid"] {
			t.Errorf("%s: the invalid link heading is %q, want %q", p.name, h, ui["reqLinkInvalid"])
		}
		p.wantLink(t, "request-status-complain-link", l.prefix+"/requests/?type=complaint")
		p.wantLink(t, "request-status-grounds-link", l.prefix+"/policy/#requests")
		p.wantLink(t, "request-status-new-link", l.prefix+"/requests/")
	}
	if got := names["en"]["national_security"]; !strings.Contains(got, "national security or national defence") {
		t.Errorf("national_security is named %q, not in the policy's words", got)
	}
	for _, g := range refusalGrounds {
		if names["en"][g] == names["zh-cn"][g] {
			t.Errorf("refusal ground %s is not translated: %q", g, names["en"][g])
		}
	}
	src := readFile(t, filepath.Join("assets", "js", "request-status.js"))
	if !strings.Contains(src, "P.fragmentToken()") || !strings.Contains(src, "r.status === 404") {
		t.Error("request-status.js does not read the token from the fragment, or does not tell a 404 apart")
	}
}

// TestP21_ExpiredExportPageOffersANewCopy: where a used or expired export link lands says so,
// with the operator's retention, and links a new copy (the type preselected).
func TestP21_ExpiredExportPageOffersANewCopy(t *testing.T) {
	out := builtSite(t)
	for _, l := range languages {
		ui := uiText(t, l.dir)
		p := loadAccountPage(t, out, l.prefix+"/requests/expired/")
		p.wantLink(t, "request-expired-new-copy", l.prefix+"/requests/?type=copy")
		if got := p.byID["request-expired-new-copy"].text; got != ui["reqExpiredNewLink"] {
			t.Errorf("%s: the new copy link says %q, want %q", p.name, got, ui["reqExpiredNewLink"])
		}
		want := strings.ReplaceAll(ui["reqExpiredText"], "{{ .Days }}", fmt.Sprint(testParams.ExportDays))
		if got := p.byID["request-expired-text"].text; got != want {
			t.Errorf("%s: says %q, want %q", p.name, got, want)
		}
		p.wantLink(t, "request-expired-policy-link", l.prefix+"/policy/#copy")
	}
}

// TestP21_SharePageConfirmsBeforeAnythingGoes: the link in the confirmation mail of a copy with
// a third party lands on a page that says what the button does (the third party's own
// single-use link, valid while the copy is kept), in both languages; the button posts only when
// pressed; a refused link says why with a way to a new copy; a link without a valid id and token
// says it is not valid. Its script reads the id and token from the fragment only, carries them
// over the language switch, posts the token in the body, and drops it once used.
func TestP21_SharePageConfirmsBeforeAnythingGoes(t *testing.T) {
	out := builtSite(t)
	for _, l := range languages {
		ui := uiText(t, l.dir)
		p := loadAccountPage(t, out, l.prefix+"/requests/share/")
		days := func(s string) string { return strings.ReplaceAll(s, "{{ .Days }}", fmt.Sprint(testParams.ExportDays)) }
		text := htmlText(between(t, p.name, p.body, `<div id="request-share-view">`, `<div id="request-share-status"`))
		for _, k := range []string{"reqShareWhat", "reqShareTrust", "reqShareIgnore"} {
			if !strings.Contains(text, days(ui[k])) {
				t.Errorf("%s: does not say %s %q", p.name, k, days(ui[k]))
			}
		}
		if got := p.byID["request-share-intro"].text; got != ui["reqShareIntro"] {
			t.Errorf("%s: the intro says %q, want %q", p.name, got, ui["reqShareIntro"])
		}
		if !strings.Contains(ui["reqShareWhat"], "{{ .Days }}") {
			t.Errorf("i18n/%s.toml: reqShareWhat %q does not say how long the third party's link works", l.dir, ui["reqShareWhat"])
		}
		form := between(t, p.name, p.body, `<form id="request-share-form"`, "</form>")
		if !strings.Contains(form, `id="request-share-confirm"`) {
			t.Errorf("%s: the button is not in #request-share-form", p.name)
		}
		p.wantButtons(t, "submit", "request-share-confirm")
		if got := p.byID["request-share-confirm"].text; got != ui["reqShareConfirm"] {
			t.Errorf("%s: the button says %q, want %q", p.name, got, ui["reqShareConfirm"])
		}
		p.wantStatus(t, "request-share-status")
		p.wantHidden(t, "request-share-done", "request-share-invalid", "request-share-retry")
		if _, hidden := p.byID["request-share-view"].attrs["hidden"]; hidden {
			t.Errorf("%s: #request-share-view is hidden: without scripts the page still says what it is for", p.name)
		}
		if h := p.byID["request-share-invalid-heading"].text; h != ui["reqLinkInvalid"] {
			t.Errorf("%s: the invalid link heading is %q, want %q", p.name, h, ui["reqLinkInvalid"])
		}
		if h := p.byID["request-share-done-heading"].text; h != ui["reqShareDoneHeading"] {
			t.Errorf("%s: the done heading is %q, want %q", p.name, h, ui["reqShareDoneHeading"])
		}
		p.wantLink(t, "request-share-new-copy", l.prefix+"/requests/?type=copy")
		p.wantLink(t, "request-share-invalid-new-copy", l.prefix+"/requests/?type=copy")
		p.wantLink(t, "request-share-policy-link", l.prefix+"/policy/#copy")
		if !strings.Contains(p.body, ui["formNeedsJS"]) {
			t.Errorf("%s: no note for a browser without scripts", p.name)
		}
	}
	src := readFile(t, filepath.Join("assets", "js", "request-share.js"))
	for _, want := range []string{
		"P.fragmentToken()", "location.hash", "P.keepFragmentOnLanguageSwitch()", "P.dropFragment()", // the fragment only, kept over the language switch, dropped once used
		`"/share", { token: token }`, // the token in the body
		"r.status === 400", "request-share-retry", "request-share-invalid", "request-share-done",
		"/^[0-9a-fA-F]{64}$/", // a malformed token asks nothing of the API
	} {
		if !strings.Contains(src, want) {
			t.Errorf("request-share.js does not have %q", want)
		}
	}
	for _, bad := range []string{"location.search", "?token=", "URLSearchParams"} {
		if strings.Contains(src, bad) {
			t.Errorf("request-share.js has %q: the token is read from the fragment and sent in the body only", bad)
		}
	}
	// Nothing is posted on load: the API is called from the form's submission only.
	if i, j := strings.Index(src, "P.onSubmit(form"), strings.Index(src, "P.api("); i < 0 || j < i {
		t.Error("request-share.js calls the API outside the button's submission")
	}
}

// TestP15_P22_AccountPageShowsRequestsAndDecisions: /account/ shows the person's requests (type
// and status named as the request pages name them, received, due, and a link to the request
// page) and the automated decisions about them (P22), with a sentence when there is none and a
// way to ask for an explanation, in both languages; its script puts both in their sections
// rather than under "Other information".
func TestP15_P22_AccountPageShowsRequestsAndDecisions(t *testing.T) {
	out := builtSite(t)
	for _, l := range languages {
		ui := uiText(t, l.dir)
		p := loadAccountPage(t, out, l.prefix+"/account/")
		wantUniqueIDs(t, p.name, p.body)
		view := between(t, p.name, p.body, `<div id="account-view" hidden>`, `<section id="account-edit"`)
		for _, id := range []string{"account-requests", "account-decisions"} {
			if !strings.Contains(view, `<section id="`+id+`" aria-labelledby="`+id+`-heading">`) {
				t.Errorf("%s: no section #%s in the account view", p.name, id)
			}
		}
		if h := p.byID["account-requests-heading"].text; h != ui["reqListHeading"] {
			t.Errorf("%s: #account-requests-heading = %q, want %q", p.name, h, ui["reqListHeading"])
		}
		if h := p.byID["account-decisions-heading"].text; h != ui["accountDecisionsHeading"] {
			t.Errorf("%s: #account-decisions-heading = %q, want %q", p.name, h, ui["accountDecisionsHeading"])
		}
		for _, sec := range []string{"account-requests", "account-decisions"} {
			if !strings.Contains(p.body, `<a href="#`+sec+`">`+p.byID[sec+"-heading"].text+`</a>`) {
				t.Errorf("%s: the contents do not list #%s", p.name, sec)
			}
		}
		table := between(t, p.name, p.body, `<table id="account-requests-table">`, "</table>")
		for _, col := range []string{"reqColType", "reqColStatus", "reqColReceived", "reqColDue"} {
			if !strings.Contains(table, `<th scope="col">`+ui[col]+`</th>`) {
				t.Errorf("%s: the requests table has no column %q", p.name, ui[col])
			}
		}
		p.wantLink(t, "account-requests-more", l.prefix+"/requests/")
		p.wantLink(t, "account-decisions-explain", l.prefix+"/requests/?type=explanation")
		p.wantHidden(t, "account-decisions-none")
		if got := p.byID["account-decisions-none"].text; got != ui["accountDecisionsNone"] {
			t.Errorf("%s: #account-decisions-none says %q, want %q", p.name, got, ui["accountDecisionsNone"])
		}
		if !strings.Contains(view, `id="account-decisions-list"`) {
			t.Errorf("%s: no #account-decisions-list", p.name)
		}

		// The script names types and statuses as the request pages do, and labels a decision.
		strs := requestStrings(t, p)
		form := requestStrings(t, loadAccountPage(t, out, l.prefix+"/requests/"))
		for _, typ := range requestTypes {
			if strs["reqType:"+typ] == "" || strs["reqType:"+typ] != form["reqType:"+typ] {
				t.Errorf("%s: type %s is named %q, the request form names it %q", p.name, typ, strs["reqType:"+typ], form["reqType:"+typ])
			}
		}
		for _, st := range requestStatuses {
			if strs["reqStatus:"+st] == "" || strs["reqStatus:"+st] != form["reqStatus:"+st] {
				t.Errorf("%s: status %s is named %q, the request form names it %q", p.name, st, strs["reqStatus:"+st], form["reqStatus:"+st])
			}
		}
		for _, k := range []string{"jsReqNoRequests", "jsReqReference", "jsReqDecisionAt", "jsReqDecisionName", "jsReqDecisionLogic", "jsReqDecisionInputs", "jsReqDecisionOutcome"} {
			if strs[k] == "" || strs[k] != ui[k] {
				t.Errorf("%s: UI string %s = %q, want %q", p.name, k, strs[k], ui[k])
			}
		}
	}
	src := readFile(t, filepath.Join("assets", "js", "account.js"))
	for _, want := range []string{`"requests", "decisions"]`, "acc.requests", "acc.decisions", "d.logicVersion", "d.inputs", "d.outcome", `named("reqType:"`, `named("reqStatus:"`} {
		if !strings.Contains(src, want) {
			t.Errorf("account.js does not have %s", want)
		}
	}
}

// TestRequests_LinkedFromFooterAndAccount: every page's footer links the request form, and so
// does the account page.
func TestRequests_LinkedFromFooterAndAccount(t *testing.T) {
	out := builtSite(t)
	for _, f := range htmlFiles(t, out) {
		prefix := ""
		if strings.HasPrefix(f, "zh/") {
			prefix = "/zh"
		}
		footer := between(t, f, readFile(t, filepath.Join(out, f)), "<footer", "</footer>")
		if !strings.Contains(footer, `<a id="footer-requests-link" href="`+prefix+`/requests/">`) {
			t.Errorf("/%s: the footer does not link %s/requests/", f, prefix)
		}
	}
	for _, l := range languages {
		p := loadAccountPage(t, out, l.prefix+"/account/")
		p.wantLink(t, "account-requests-link", l.prefix+"/requests/")
	}
}

// TestRequests_StringsAreTranslated: every request string exists in both languages and differs
// between them, except a few that may read the same.
func TestRequests_StringsAreTranslated(t *testing.T) {
	en, zh := uiText(t, "en"), uiText(t, "zh-cn")
	n := 0
	for k, v := range en {
		if !strings.HasPrefix(k, "req") && !strings.HasPrefix(k, "jsReq") && k != "footerRequests" && !strings.HasPrefix(k, "accountRequests") &&
			!strings.HasPrefix(k, "accountDecisions") {
			continue
		}
		n++
		if v == "" || zh[k] == "" || v == zh[k] {
			t.Errorf("i18n %s: en %q, zh-cn %q; want both, different", k, v, zh[k])
		}
		if strings.Contains(v, "{{") != strings.Contains(zh[k], "{{") || strings.Count(v, "{") != strings.Count(zh[k], "{") {
			t.Errorf("i18n %s: placeholders differ: en %q, zh-cn %q", k, v, zh[k])
		}
	}
	if n < 100 {
		t.Errorf("found %d request strings, want them all (over 100)", n)
	}
}
