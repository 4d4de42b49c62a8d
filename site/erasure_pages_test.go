package site_test

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	sitecatalog "github.com/privacyportal/portal/site/catalog"
)

// ---- Cancelling the account and the erasure's outcome (P03, P17, P20) ----
//
// /account/'s "Cancel your account" (POST /api/requests {"type": "cancellation", "password",
// "locale"}), the page it opens once the API has taken it (/account/cancelled/), the erasure on
// /requests/status/ (the answer's "erasure") and the note beside the deletion grounds on
// /requests/. TestSite_PagesFitTheBudget, TestSite_NoInlineScriptOrStyle,
// TestSite_AccountFormsAreLabelled and TestSite_InternalLinksResolve check these pages too.

// backupDays is how a page says params.retention.backupDays (testParams: not hugo.toml's).
var backupDays = map[string]string{
	"en":    fmt.Sprintf("%d days", testParams.BackupDays),
	"zh-cn": fmt.Sprintf("%d 天", testParams.BackupDays),
}

// withDays fills an i18n string's {{ .Days }} with testParams.BackupDays, as the build does.
func withDays(s string) string {
	return strings.ReplaceAll(s, "{{ .Days }}", fmt.Sprint(testParams.BackupDays))
}

var uiTemplateRE = regexp.MustCompile(`(?s)<template (?:id="ui-strings"|data-ui-strings)>(.*?)</template>`)

// pageStrings returns every UI string a page hands its scripts (all its <template id="ui-strings">
// and <template data-ui-strings>), by key.
func pageStrings(p accountPage) map[string]string {
	out := map[string]string{}
	for _, m := range uiTemplateRE.FindAllStringSubmatch(p.body, -1) {
		for _, e := range elements(m[1], "span") {
			out[e.attrs["data-key"]] = e.text
		}
	}
	return out
}

// TestP03_P20_CancelledPageRendersInBothLanguages: /account/cancelled/, where the account page
// goes once the cancellation is taken, exists in both languages and says the account is closed,
// the person signed out, the erasure running, an e-mail when it is done and when the backups
// forget it (params.retention.backupDays). It runs no script.
func TestP03_P20_CancelledPageRendersInBothLanguages(t *testing.T) {
	out := builtSite(t)
	titles := map[string]string{"en": "Your account is closed", "zh-cn": "您的账户已注销"}
	for _, l := range languages {
		ui := uiText(t, l.dir)
		p := loadAccountPage(t, out, l.prefix+"/account/cancelled/")
		wantUniqueIDs(t, p.name, p.body)
		wantNoInline(t, p.name, p.body)
		p.wantScripts(t)
		if !strings.Contains(p.body, "<h1>"+titles[l.dir]+"</h1>") {
			t.Errorf("%s: no heading %q", p.name, titles[l.dir])
		}
		if !strings.Contains(p.body, `<html lang="`+l.locale+`"`) {
			t.Errorf("%s: not in %s", p.name, l.locale)
		}
		for id, key := range map[string]string{
			"account-cancelled-signed-out": "cancelledSignedOut",
			"account-cancelled-erasing":    "cancelledErasing",
			"account-cancelled-backups":    "cancelledBackups",
		} {
			if got, want := p.byID[id].text, withDays(ui[key]); got == "" || got != want {
				t.Errorf("%s: #%s says %q, want %q", p.name, id, got, want)
			}
		}
		if got := p.byID["account-cancelled-backups"].text; !strings.Contains(got, backupDays[l.dir]) {
			t.Errorf("%s: the backups sentence %q does not say %q (params.retention.backupDays)", p.name, got, backupDays[l.dir])
		}
		p.wantLink(t, "account-cancelled-policy-link", l.prefix+"/policy/#cancel")
	}
	// Each language's page switches to the other's.
	for page, link := range map[string]string{
		"/account/cancelled/":    `<a href="/zh/account/cancelled/" hreflang="zh-CN" lang="zh-CN">`,
		"/zh/account/cancelled/": `<a href="/account/cancelled/" hreflang="en" lang="en">`,
	} {
		if !strings.Contains(readFile(t, filepath.Join(out, filepath.FromSlash(page), "index.html")), link) {
			t.Errorf("%s: no language switch link %s", page, link)
		}
	}
	// What it says, in the English words.
	en := uiText(t, "en")
	for key, words := range map[string][]string{
		"cancelledSignedOut": {"account is closed", "signed out in every browser and on every device"},
		"cancelledErasing":   {"erasing your information", "delete it too", "we e-mail you"},
		"cancelledBackups":   {"backups forget your information within {{ .Days }} days", "nothing that identifies you"},
	} {
		for _, w := range words {
			if !strings.Contains(en[key], w) {
				t.Errorf("i18n %s = %q: does not say %q", key, en[key], w)
			}
		}
	}
}

// TestP03_P20_AccountPageOffersCancellation: /account/ has a "Cancel your account" section in
// the signed-in view (and its contents) that says what is erased, that recipients are told, when
// the backups forget it (params.retention.backupDays) and that a record identifying no one is
// kept; then a labelled password field, a box saying it cannot be undone that must be ticked,
// and a clearly labelled button. Its script posts the cancellation with the password and the
// page's language and, once the API takes it, opens /account/cancelled/.
func TestP03_P20_AccountPageOffersCancellation(t *testing.T) {
	out := builtSite(t)
	for _, l := range languages {
		ui := uiText(t, l.dir)
		p := loadAccountPage(t, out, l.prefix+"/account/")
		view := between(t, p.name, p.body, `<div id="account-view" hidden>`, `<template id="ui-strings">`)
		if !strings.Contains(view, `<section id="account-cancel" aria-labelledby="account-cancel-heading">`) {
			t.Fatalf("%s: no section #account-cancel in the account view", p.name)
		}
		if h := p.byID["account-cancel-heading"].text; h != ui["cancelHeading"] {
			t.Errorf("%s: #account-cancel-heading = %q, want %q", p.name, h, ui["cancelHeading"])
		}
		if !strings.Contains(p.body, `<a href="#account-cancel">`+ui["cancelHeading"]+`</a>`) {
			t.Errorf("%s: the contents do not list the cancel section", p.name)
		}

		// The statement, before the form.
		statement := htmlText(between(t, p.name, p.body, `<section id="account-cancel"`, `<form id="account-cancel-form"`))
		for _, key := range []string{"cancelIntro", "cancelDelAccount", "cancelDelConsents", "cancelDelRequests", "cancelDelAudit", "cancelDelSessions", "cancelDelExports", "cancelAfter"} {
			if want := withDays(ui[key]); want == "" || !strings.Contains(statement, want) {
				t.Errorf("%s: the cancel section does not say %s %q", p.name, key, want)
			}
		}
		if !strings.Contains(statement, backupDays[l.dir]) {
			t.Errorf("%s: the cancel section does not say when the backups forget it (%q)", p.name, backupDays[l.dir])
		}

		// The form: the password, the box, the button.
		form := between(t, p.name, p.body, `<form id="account-cancel-form"`, "</form>")
		for _, id := range []string{"account-cancel-password", "account-cancel-confirm", "account-cancel-submit"} {
			if !strings.Contains(form, `id="`+id+`"`) {
				t.Errorf("%s: #%s is not in the cancel form", p.name, id)
			}
		}
		if got, want := p.byID["account-cancel-form"].attrs["data-done"], l.prefix+"/account/cancelled/"; got != want {
			t.Errorf("%s: the cancel form goes to %q once done, want %q", p.name, got, want)
		}
		p.wantField(t, "account-cancel-password", ui["fieldYourPassword"], map[string]string{
			"name": "password", "type": "password", "autocomplete": "current-password", "required": "", "data-required-msg": ui["errEnterCurrentPassword"]})
		box := p.byID["account-cancel-confirm"]
		if _, required := box.attrs["required"]; box.attrs["type"] != "checkbox" || !required || box.attrs["name"] != "confirm" ||
			box.attrs["data-error"] != "account-cancel-confirm-error" || box.attrs["data-required-msg"] != ui["cancelErrConfirm"] {
			t.Errorf("%s: #account-cancel-confirm = %v, want a required checkbox with its error slot and %q", p.name, box.attrs, ui["cancelErrConfirm"])
		}
		if got := p.labels["account-cancel-confirm"]; got == "" || got != ui["cancelConfirm"] {
			t.Errorf("%s: the confirmation is labelled %q, want %q", p.name, got, ui["cancelConfirm"])
		}
		p.wantHidden(t, "account-cancel-confirm-error")
		p.wantButtons(t, "submit", "account-cancel-submit")
		if b := p.byID["account-cancel-submit"]; b.text != ui["cancelSubmit"] || !strings.Contains(b.attrs["class"], "button-danger") {
			t.Errorf("%s: the cancel button says %q (class %q), want %q marked as dangerous", p.name, b.text, b.attrs["class"], ui["cancelSubmit"])
		}
		p.wantStatus(t, "account-cancel-status")
	}
	en := uiText(t, "en")
	for key, words := range map[string][]string{
		"cancelDelAccount":  {"account and profile", "optional information"},
		"cancelDelConsents": {"consent history", "receipts"},
		"cancelDelRequests": {"requests", "records"},
		"cancelDelAudit":    {"account history"},
		"cancelDelSessions": {"sessions"},
		"cancelDelExports":  {"copy of your information"},
		"cancelAfter":       {"received your information from us to delete it too", "backups forget it within {{ .Days }} days", "nothing that identifies you"},
		"cancelConfirm":     {"cannot be undone"},
		"cancelSubmit":      {"Cancel my account"},
	} {
		for _, w := range words {
			if !strings.Contains(en[key], w) {
				t.Errorf("i18n %s = %q: does not say %q", key, en[key], w)
			}
		}
	}

	src := readFile(t, filepath.Join("assets", "js", "account.js"))
	for _, want := range []string{
		`P.api("POST", "/api/requests", {`, `type: "cancellation"`, "password: cancelForm.elements.password.value", "locale: P.locale()",
		"!box.checked", "showProblem(cancelForm, cancelStatus, r)", `cancelForm.getAttribute("data-done")`,
	} {
		if !strings.Contains(src, want) {
			t.Errorf("account.js does not have %s", want)
		}
	}
	// Nothing is posted unless the box is ticked: the check comes before the request.
	if i, j := strings.Index(src, "!box.checked"), strings.Index(src, `P.api("POST", "/api/requests"`); i < 0 || j < i {
		t.Error("account.js posts the cancellation before checking the box")
	}
}

// TestP17_StatusPageShowsTheErasureOutcome: /requests/status/ has a section for the answer's
// "erasure" (hidden until there is one): its state, the counts of items and stored files erased,
// who was told to delete it too, the check after it and when the backups forget it
// (params.retention.backupDays, in the text and for the script); the script gets a sentence for
// each state and check, in both languages, and every recipient of the catalogue by name.
func TestP17_StatusPageShowsTheErasureOutcome(t *testing.T) {
	out := builtSite(t)
	var c struct {
		Purposes []struct {
			Recipient *struct {
				ID   string            `json:"id"`
				Name map[string]string `json:"name"`
			} `json:"recipient"`
		} `json:"purposes"`
	}
	if err := json.Unmarshal([]byte(sitecatalog.JSON), &c); err != nil {
		t.Fatal(err)
	}
	jsKeys := []string{"jsReqErasing", "jsReqErased", "jsReqErasureFailed", "jsReqErasureNoRecipients", "jsReqErasureVerified", "jsReqErasureUnverified", "jsReqErasureBackupsBy"}
	for _, l := range languages {
		ui := uiText(t, l.dir)
		p := loadAccountPage(t, out, l.prefix+"/requests/status/")
		p.wantHidden(t, "request-status-erasure")
		sec := p.byID["request-status-erasure"]
		if got := sec.attrs["data-backup-days"]; got != fmt.Sprint(testParams.BackupDays) {
			t.Errorf("%s: #request-status-erasure data-backup-days=%q, want %d", p.name, got, testParams.BackupDays)
		}
		if h := p.byID["request-status-erasure-heading"].text; h != ui["reqErasureHeading"] {
			t.Errorf("%s: the erasure heading is %q, want %q", p.name, h, ui["reqErasureHeading"])
		}
		section := between(t, p.name, p.body, `<section id="request-status-erasure"`, "</section>")
		for _, id := range []string{"request-status-erasure-state", "request-status-erasure-items", "request-status-erasure-objects",
			"request-status-erasure-recipients", "request-status-erasure-verified", "request-status-erasure-backups-by"} {
			if !strings.Contains(section, `id="`+id+`"`) {
				t.Errorf("%s: no #%s in the erasure section", p.name, id)
			}
		}
		for _, key := range []string{"reqErasureItems", "reqErasureObjects", "reqErasureRecipients", "reqErasureCheck"} {
			if !strings.Contains(section, "<dt>"+ui[key]+"</dt>") {
				t.Errorf("%s: the erasure section has no %s %q", p.name, key, ui[key])
			}
		}
		if got := htmlText(section); !strings.Contains(got, withDays(ui["reqErasureBackups"])) || !strings.Contains(got, backupDays[l.dir]) {
			t.Errorf("%s: the erasure section does not say when the backups forget it (%q)", p.name, backupDays[l.dir])
		}

		strs := pageStrings(p)
		for _, k := range jsKeys {
			if strs[k] == "" || strs[k] != ui[k] {
				t.Errorf("%s: UI string %s = %q, want %q", p.name, k, strs[k], ui[k])
			}
		}
		if _, ok := strs["jsListSeparator"]; !ok {
			t.Errorf("%s: no UI string jsListSeparator to list the recipients with", p.name)
		}
		recipients := 0
		for _, pu := range c.Purposes {
			if r := pu.Recipient; r != nil {
				recipients++
				if got := strs["recipient:"+r.ID]; got == "" || got != r.Name[l.locale] {
					t.Errorf("%s: recipient %s is named %q, want the catalogue's %q", p.name, r.ID, got, r.Name[l.locale])
				}
			}
		}
		if recipients == 0 {
			t.Fatal("catalog.json names no recipient: nothing to check")
		}
		// Only the status page carries them.
		if body := loadAccountPage(t, out, l.prefix+"/requests/").body; strings.Contains(body, `data-key="recipient:`) || strings.Contains(body, `data-key="jsReqErasing"`) {
			t.Errorf("%s/requests/ carries the status page's erasure strings", l.prefix)
		}
	}
	en, zh := uiText(t, "en"), uiText(t, "zh-cn")
	for _, k := range jsKeys {
		if en[k] == zh[k] {
			t.Errorf("i18n %s is not translated: %q", k, en[k])
		}
	}
	if !strings.Contains(en["jsReqErased"], "{date}") || !strings.Contains(zh["jsReqErased"], "{date}") {
		t.Errorf("jsReqErased does not say when: en %q, zh-cn %q", en["jsReqErased"], zh["jsReqErased"])
	}
	src := readFile(t, filepath.Join("assets", "js", "request-status.js"))
	for _, want := range []string{"d.erasure", `e.state === "erased"`, `e.state === "failed"`, "e.erasedAt", "e.items", "e.objects", "e.recipientsTold", "e.verified",
		`named("recipient:", r)`, `"data-backup-days"`, "jsReqErasureNoRecipients", "jsReqErasureBackupsBy"} {
		if !strings.Contains(src, want) {
			t.Errorf("request-status.js does not have %s", want)
		}
	}
}

// TestP17_RequestFormSaysWhichGroundsNeedNoDecision: beside the five deletion grounds,
// /requests/ says that two of them (no longer using the service, the service ended) are carried
// out without a decision, that the operator decides the other three within the reply time, and
// that a signed-in person confirms a deletion with the password.
func TestP17_RequestFormSaysWhichGroundsNeedNoDecision(t *testing.T) {
	out := builtSite(t)
	words := map[string][]string{
		"en":    {"no longer use our service", "no longer provide it", "nothing needs deciding", "other three grounds we decide", "30 days", "password"},
		"zh-cn": {"不再使用我们的服务", "不再为您提供服务", "无需作出决定", "其他三项理由", "30 天", "密码"},
	}
	for _, l := range languages {
		ui := uiText(t, l.dir)
		p := loadAccountPage(t, out, l.prefix+"/requests/")
		group := between(t, p.name, p.body, `<fieldset class="field" id="requests-ground"`, "</fieldset>")
		if !strings.Contains(group, `id="requests-ground-how"`) {
			t.Errorf("%s: the note is not among the grounds", p.name)
		}
		if got := p.byID["requests-ground"].attrs["aria-describedby"]; !strings.Contains(got, "requests-ground-how") {
			t.Errorf("%s: the grounds are described by %q, not the note", p.name, got)
		}
		got := p.byID["requests-ground-how"].text
		if got == "" || got != ui["reqGroundHow"] {
			t.Errorf("%s: #requests-ground-how says %q, want %q", p.name, got, ui["reqGroundHow"])
		}
		for _, w := range words[l.dir] {
			if !strings.Contains(got, w) {
				t.Errorf("%s: the note %q does not say %q", p.name, got, w)
			}
		}
	}
}

// TestP03_P20_CancelStringsAreTranslated: every string of the cancel section and the cancelled
// page exists in both languages, differs between them and has the same placeholders. (The
// erasure's strings on the request pages start with "req" or "jsReq", and
// TestRequests_StringsAreTranslated checks them.)
func TestP03_P20_CancelStringsAreTranslated(t *testing.T) {
	en, zh := uiText(t, "en"), uiText(t, "zh-cn")
	n := 0
	for k, v := range en {
		if !strings.HasPrefix(k, "cancel") {
			continue
		}
		n++
		if v == "" || zh[k] == "" || v == zh[k] {
			t.Errorf("i18n %s: en %q, zh-cn %q; want both, different", k, v, zh[k])
		}
		if strings.Count(v, "{{") != strings.Count(zh[k], "{{") || strings.Count(v, "{") != strings.Count(zh[k], "{") {
			t.Errorf("i18n %s: placeholders differ: en %q, zh-cn %q", k, v, zh[k])
		}
	}
	if n < 16 {
		t.Errorf("found %d cancel strings, want them all (16)", n)
	}
}
