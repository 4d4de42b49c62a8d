package site_test

import (
	"fmt"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// ---- The account pages' forms: fields, labels, autocomplete, buttons and scripts ----

var i18nLineRE = regexp.MustCompile(`(?m)^([A-Za-z0-9_]+)\s*=\s*("[^"\n]*")\s*$`)

// uiText returns the i18n strings of one language directory ("en", "zh-cn") by key.
func uiText(tb testing.TB, dir string) map[string]string {
	tb.Helper()
	out := map[string]string{}
	for _, m := range i18nLineRE.FindAllStringSubmatch(readFile(tb, filepath.Join("i18n", dir+".toml")), -1) {
		v, err := strconv.Unquote(m[2])
		if err != nil {
			tb.Fatalf("i18n/%s.toml: %s: %v", dir, m[1], err)
		}
		out[m[1]] = v
	}
	return out
}

// accountPage is one built account page, its elements by id.
type accountPage struct {
	name, body string
	byID       map[string]element
	tags       map[string]string // id -> tag
	labels     map[string]string // for -> label text
}

var idTags = []string{"input", "button", "form", "div", "section", "p", "a", "h2", "select", "fieldset"}

func loadAccountPage(tb testing.TB, out, page string) accountPage {
	tb.Helper()
	body := readFile(tb, filepath.Join(out, filepath.FromSlash(page), "index.html"))
	p := accountPage{name: page, body: body, byID: map[string]element{}, tags: map[string]string{}, labels: map[string]string{}}
	for _, tag := range idTags {
		for _, e := range elements(body, tag) {
			if id, ok := e.attrs["id"]; ok {
				if _, dup := p.byID[id]; dup {
					tb.Errorf("%s: id %q is used twice", page, id)
				}
				p.byID[id], p.tags[id] = e, tag
			}
		}
	}
	for _, e := range elements(body, "label") {
		p.labels[e.attrs["for"]] = e.text
	}
	return p
}

// wantField checks an input: its label's text, the attributes given (a value "" for a boolean
// attribute means it must be present), the ones that must be absent, and that its hint (if it
// has one) is said before it: aria-describedby names <id>-hint, which is on the page.
func (p accountPage) wantField(t *testing.T, id, label string, attrs map[string]string, absent ...string) {
	t.Helper()
	e, ok := p.byID[id]
	if !ok || p.tags[id] != "input" {
		t.Errorf("%s: no input #%s", p.name, id)
		return
	}
	if got := p.labels[id]; got != label {
		t.Errorf("%s: #%s is labelled %q, want %q", p.name, id, got, label)
	}
	for k, want := range attrs {
		got, has := e.attrs[k]
		if !has || got != want {
			t.Errorf("%s: #%s: %s=%q (present %v), want %q", p.name, id, k, got, has, want)
		}
	}
	for _, k := range absent {
		if _, has := e.attrs[k]; has {
			t.Errorf("%s: #%s has %s, want none", p.name, id, k)
		}
	}
	if e.attrs["data-error"] != id+"-error" {
		t.Errorf("%s: #%s: data-error=%q, want its error slot %s-error", p.name, id, e.attrs["data-error"], id)
	}
	if _, required := e.attrs["required"]; required && e.attrs["data-required-msg"] == "" {
		t.Errorf("%s: #%s is required but has no data-required-msg", p.name, id)
	}
}

// wantToggle checks a "Show password" box: labelled, controlling the password field, inside a
// wrapper <id>-field hidden until the script wires it.
func (p accountPage) wantToggle(t *testing.T, id, label, controls string) {
	t.Helper()
	e, ok := p.byID[id]
	if !ok || e.attrs["type"] != "checkbox" || e.attrs["aria-controls"] != controls || p.labels[id] != label {
		t.Errorf("%s: #%s: %v labelled %q, want a checkbox controlling #%s labelled %q", p.name, id, e.attrs, p.labels[id], controls, label)
	}
	p.wantHidden(t, id+"-field")
}

// wantButtons checks buttons that need the scripts: disabled in the HTML, enabled by form.js.
func (p accountPage) wantButtons(t *testing.T, typ string, ids ...string) {
	t.Helper()
	for _, id := range ids {
		e, ok := p.byID[id]
		if !ok || p.tags[id] != "button" {
			t.Errorf("%s: no button #%s", p.name, id)
			continue
		}
		_, disabled := e.attrs["disabled"]
		_, needsJS := e.attrs["data-needs-js"]
		if e.attrs["type"] != typ || !disabled || !needsJS || e.text == "" {
			t.Errorf("%s: button #%s: type=%q disabled=%v data-needs-js=%v text=%q; want type %s, disabled until the scripts run, with text",
				p.name, id, e.attrs["type"], disabled, needsJS, e.text, typ)
		}
	}
}

// wantStatus checks live status regions.
func (p accountPage) wantStatus(t *testing.T, ids ...string) {
	t.Helper()
	for _, id := range ids {
		if e, ok := p.byID[id]; !ok || e.attrs["role"] != "status" {
			t.Errorf("%s: no status region #%s (role=status)", p.name, id)
		}
	}
}

// wantScripts checks the scripts the page runs, in order.
func (p accountPage) wantScripts(t *testing.T, want ...string) {
	t.Helper()
	var got []string
	for _, m := range scriptSrcAttrRE.FindAllStringSubmatch(p.body, -1) {
		got = append(got, strings.TrimSuffix(m[1], ".js"))
	}
	if !slices.Equal(got, want) {
		t.Errorf("%s runs scripts %v, want %v", p.name, got, want)
	}
}

// wantLink checks that a link with id points at href.
func (p accountPage) wantLink(t *testing.T, id, href string) {
	t.Helper()
	if e, ok := p.byID[id]; !ok || p.tags[id] != "a" || e.attrs["href"] != href {
		t.Errorf("%s: link #%s goes to %q, want %q", p.name, id, p.byID[id].attrs["href"], href)
	}
}

// wantHidden checks that elements start hidden (the scripts show them).
func (p accountPage) wantHidden(t *testing.T, ids ...string) {
	t.Helper()
	for _, id := range ids {
		if _, hidden := p.byID[id].attrs["hidden"]; !hidden {
			t.Errorf("%s: #%s is not hidden in the HTML", p.name, id)
		}
	}
}

// TestSite_ResetPageRendersBothSteps: /reset/ and /zh/reset/ have the address step and the
// code + new password step, with labels in the page's language, autocomplete tokens, a
// "show password" box, the buttons and live regions js/reset.js drives, and the scripts it needs.
func TestSite_ResetPageRendersBothSteps(t *testing.T) {
	out := builtSite(t)
	for _, l := range languages {
		ui := uiText(t, l.dir)
		p := loadAccountPage(t, out, l.prefix+"/reset/")
		if !strings.Contains(p.body, "<h1>"+map[string]string{"en": "Reset your password", "zh-cn": "重置密码"}[l.dir]+"</h1>") {
			t.Errorf("%s: no title heading", p.name)
		}
		p.wantScripts(t, "strings", "api", "form", "code", "reset")
		if p.tags["reset-request-form"] != "form" || p.tags["reset-form"] != "form" {
			t.Errorf("%s: forms #reset-request-form and #reset-form missing", p.name)
		}
		p.wantField(t, "reset-email", ui["fieldEmail"], map[string]string{"name": "email", "type": "email", "autocomplete": "email", "required": ""})
		p.wantField(t, "reset-code", ui["fieldCode"], map[string]string{"name": "code", "autocomplete": "one-time-code", "inputmode": "numeric", "required": "", "aria-describedby": "reset-code-hint"})
		p.wantField(t, "reset-new-password", ui["fieldNewPassword"], map[string]string{
			"name": "newPassword", "type": "password", "autocomplete": "new-password", "required": "", "minlength": "10", "aria-describedby": "reset-new-password-hint"})
		if !strings.Contains(p.body, ui["passwordRule"]) {
			t.Errorf("%s: the password rule is not said", p.name)
		}
		p.wantToggle(t, "reset-show-password", ui["showPassword"], "reset-new-password")
		p.wantButtons(t, "submit", "reset-request-submit", "reset-have-code", "reset-submit")
		p.wantButtons(t, "button", "reset-resend", "reset-restart")
		p.wantStatus(t, "reset-request-status", "reset-status")
		p.wantHidden(t, "reset-section", "reset-done")
		p.wantLink(t, "reset-signin", l.prefix+"/signin/")
		for _, id := range []string{"reset-heading", "reset-intro", "reset-done-heading", "reset-code-field", "reset-request"} {
			if _, ok := p.byID[id]; !ok {
				t.Errorf("%s: no #%s", p.name, id)
			}
		}
	}
}

// TestSite_CodeFormAsksForThePassword: the code form has the password field (the one chosen at
// registration) on every page that has the form; /register/ and /signin/ hand their own over,
// /verify/ shows it. A mailed link's "enter the code instead" button is there, hidden.
func TestSite_CodeFormAsksForThePassword(t *testing.T) {
	out := builtSite(t)
	for _, l := range languages {
		ui := uiText(t, l.dir)
		for _, name := range []string{"verify", "register", "signin"} {
			p := loadAccountPage(t, out, l.prefix+"/"+name+"/")
			p.wantScripts(t, "strings", "api", "form", "code", name)
			p.wantField(t, "verify-email", ui["fieldEmail"], map[string]string{"name": "email", "type": "email", "autocomplete": "email", "required": ""})
			p.wantField(t, "verify-code", ui["fieldCode"], map[string]string{"name": "code", "autocomplete": "one-time-code", "required": ""})
			p.wantField(t, "verify-password", ui["fieldYourPassword"], map[string]string{
				"name": "password", "type": "password", "autocomplete": "current-password", "required": "", "aria-describedby": "verify-password-hint",
				"data-required-msg": ui["errEnterYourPassword"]})
			if hint := p.byID["verify-password-hint"]; hint.text != ui["fieldYourPasswordHint"] {
				t.Errorf("%s: password hint %q, want %q", p.name, hint.text, ui["fieldYourPasswordHint"])
			}
			p.wantButtons(t, "submit", "verify-submit")
			p.wantButtons(t, "button", "verify-resend", "verify-use-code")
			p.wantHidden(t, "verify-use-code")
			p.wantStatus(t, "verify-status")
			if _, ok := p.byID["verify-by-code"]; !ok {
				t.Errorf("%s: no #verify-by-code", p.name)
			}
		}
		p := loadAccountPage(t, out, l.prefix+"/signin/")
		p.wantLink(t, "signin-reset-link", l.prefix+"/reset/")
		if p.byID["signin-reset-link"].text != ui["forgotPassword"] {
			t.Errorf("%s: the reset link says %q, want %q", p.name, p.byID["signin-reset-link"].text, ui["forgotPassword"])
		}
	}
}

// TestSite_AccountPageChangesThePassword: /account/ has the password change form, and the edit
// form's current password field, which is not required in the HTML (js/account.js requires it
// while the address or the username changes) and says when it is needed.
func TestSite_AccountPageChangesThePassword(t *testing.T) {
	out := builtSite(t)
	for _, l := range languages {
		ui := uiText(t, l.dir)
		p := loadAccountPage(t, out, l.prefix+"/account/")
		p.wantScripts(t, "strings", "api", "form", "account")
		p.wantField(t, "account-current-password", ui["fieldCurrentPassword"], map[string]string{
			"name": "currentPassword", "type": "password", "autocomplete": "current-password", "aria-describedby": "account-current-password-hint",
			"data-required-msg": ui["errEnterCurrentPasswordChange"]}, "required")
		if hint := p.byID["account-current-password-hint"]; hint.text != ui["currentPasswordHint"] {
			t.Errorf("%s: current password hint %q, want %q", p.name, hint.text, ui["currentPasswordHint"])
		}
		form := between(t, p.name, p.body, `<form id="account-form"`, "</form>")
		if !strings.Contains(form, `id="account-current-password"`) {
			t.Errorf("%s: the current password is not in the edit form", p.name)
		}
		pw := between(t, p.name, p.body, `<form id="account-password-form"`, "</form>")
		for _, id := range []string{"account-password-current", "account-password-new", "account-password-show", "account-password-submit"} {
			if !strings.Contains(pw, `id="`+id+`"`) {
				t.Errorf("%s: #%s is not in the password form", p.name, id)
			}
		}
		p.wantField(t, "account-password-current", ui["fieldCurrentPassword"], map[string]string{
			"name": "currentPassword", "type": "password", "autocomplete": "current-password", "required": ""})
		p.wantField(t, "account-password-new", ui["fieldNewPassword"], map[string]string{
			"name": "newPassword", "type": "password", "autocomplete": "new-password", "required": "", "minlength": "10", "aria-describedby": "account-password-new-hint"})
		p.wantToggle(t, "account-password-show", ui["showPassword"], "account-password-new")
		p.wantButtons(t, "submit", "account-password-submit", "account-save")
		p.wantStatus(t, "account-password-status", "account-save-status")
		if !strings.Contains(p.body, `<a href="#account-password">`+ui["secPassword"]+`</a>`) {
			t.Errorf("%s: the contents do not list the password section", p.name)
		}
	}
}

// TestSite_AccountFormsAreLabelled: on every page that runs scripts, every control has a label
// (or is a button with text), and every id a control refers to (label for, aria-describedby,
// aria-controls, aria-labelledby, data-error, data-consent) is on the page.
func TestSite_AccountFormsAreLabelled(t *testing.T) {
	out := builtSite(t)
	refRE := regexp.MustCompile(`\s(?:for|aria-describedby|aria-controls|aria-labelledby|data-error|data-consent)="([^"]*)"`)
	idRE := regexp.MustCompile(`\sid="([^"]*)"`)
	pages := 0
	for _, f := range htmlFiles(t, out) {
		body := readFile(t, filepath.Join(out, f))
		if !scriptSrcAttrRE.MatchString(body) {
			continue
		}
		pages++
		ids := map[string]bool{}
		for _, m := range idRE.FindAllStringSubmatch(body, -1) {
			ids[m[1]] = true
		}
		for _, m := range refRE.FindAllStringSubmatch(body, -1) {
			for _, id := range strings.Fields(m[1]) {
				if !ids[id] {
					t.Errorf("%s refers to #%s, which is not on the page (%s)", f, id, strings.TrimSpace(m[0]))
				}
			}
		}
		labelled := map[string]bool{}
		for _, e := range elements(body, "label") {
			labelled[e.attrs["for"]] = true
		}
		for _, tag := range []string{"input", "select"} {
			for _, e := range elements(body, tag) {
				if e.attrs["type"] == "hidden" {
					continue
				}
				if !labelled[e.attrs["id"]] {
					t.Errorf("%s: %s #%s (name %q) has no label", f, tag, e.attrs["id"], e.attrs["name"])
				}
			}
		}
		for _, e := range elements(body, "button") {
			if e.text == "" {
				t.Errorf("%s: button #%s has no text", f, e.attrs["id"])
			}
		}
	}
	if pages != 2*12 {
		t.Errorf("checked %d pages, want the 6 account pages, /consent/, /cookies/, /unsubscribe/, /requests/, /requests/status/ and /requests/share/ in 2 languages", pages)
	}
}

// TestSite_PasswordStringsAreTranslated: the new UI strings the scripts show about passwords,
// codes and links exist in both languages, differ between them and reach the page scripts.
func TestSite_PasswordStringsAreTranslated(t *testing.T) {
	out := builtSite(t)
	keys := []string{"jsVerifyLinkHeading", "jsVerifyLinkIntro", "jsErrCodeOrPassword", "jsErrLinkOrPassword", "jsResetSent", "jsResetHaveCode",
		"jsResetResent", "jsResetLinkIntro", "jsErrResetCode", "jsErrResetLink", "jsPasswordChanged", "jsErrCurrentPassword"}
	en, zh := uiText(t, "en"), uiText(t, "zh-cn")
	for _, k := range keys {
		if en[k] == "" || zh[k] == "" || en[k] == zh[k] {
			t.Errorf("i18n %s: en %q, zh-cn %q; want both, different", k, en[k], zh[k])
		}
	}
	if !strings.Contains(en["jsErrCodeOrPassword"], "code or the password is not right") {
		t.Errorf("jsErrCodeOrPassword = %q: it must say the code or the password is not right", en["jsErrCodeOrPassword"])
	}
	for _, l := range languages {
		for _, name := range []string{"verify", "reset", "account"} {
			page := l.prefix + "/" + name + "/"
			body := readFile(t, filepath.Join(out, filepath.FromSlash(page), "index.html"))
			strs := map[string]string{}
			for _, e := range elements(between(t, page, body, `<template id="ui-strings">`, "</template>"), "span") {
				strs[e.attrs["data-key"]] = e.text
			}
			for _, k := range keys {
				if strs[k] == "" || strings.Contains(strs[k], "{{") {
					t.Errorf("%s: UI string %s = %q", page, k, strs[k])
				}
			}
			if want := fmt.Sprintf(map[string]string{"en": "%d minutes", "zh-cn": "%d 分钟"}[l.dir], testParams.CodeMinutes); !strings.Contains(strs["jsResetSent"], want) {
				t.Errorf("%s: jsResetSent %q does not say %q", page, strs["jsResetSent"], want)
			}
		}
	}
}
