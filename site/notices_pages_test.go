package site_test

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"io/fs"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	sitecatalog "github.com/privacyportal/portal/site/catalog"
)

// ---- The public notices (P14): /notices/ and the home page's links to the current ones ----
//
// The operator's tool publishes the notices as JSON in the site bucket after the site was built
// (/notices/index.json, /notices/<id>.json); the pages read them in the browser. The build can
// check what the pages give their scripts and what the scripts may do; the browser tests (e2e)
// check them running. TestSite_PagesFitTheBudget, TestSite_NoInlineScriptOrStyle,
// TestSite_InternalLinksResolve and TestSite_MakesNoThirdPartyRequests cover these pages too.

// noticeSections are the notice's parts, each its own section: id (the script fills
// #notice-<id>), i18n key of its heading.
var noticeSections = [][2]string{
	{"incident", "noticeIncident"},
	{"data", "noticeData"},
	{"impact", "noticeImpact"},
	{"measures", "noticeMeasures"},
	{"self-help", "noticeSelfHelp"},
	{"remedies", "noticeRemedies"},
	{"contact", "noticeContact"},
}

// noticeFacts are the facts of a notice, each a row #notice-<id>-row with its value in
// #notice-<id>: id, i18n key of its label.
var noticeFacts = [][2]string{
	{"published", "noticePublished"},
	{"occurred", "noticeOccurred"},
	{"discovered", "noticeDiscovered"},
	{"data-kinds", "noticeDataKinds"},
	{"people", "noticePeople"},
	{"records", "noticeRecords"},
}

// noticeScriptStrings are the strings js/notices.js reads from <template id="notice-strings">.
var noticeScriptStrings = []string{"noticesLoading", "noticesNone", "noticesLoadFailed", "noticeLoadFailed",
	"noticePublishedOn", "noticeEarlier", "noticePeopleN", "noticeRecordsN", "jsListSeparator"}

// pageIDs returns every id of a page with its element's tag.
func pageIDs(body string) map[string]string {
	out := map[string]string{}
	for _, m := range anyIDRE.FindAllStringSubmatch(body, -1) {
		out[m[2]] = m[1]
	}
	return out
}

// TestP14_NoticePageRendersInBothLanguages: /notices/ and /zh/notices/ have their title, every
// part of a notice under its heading in the page's language, the list, the status region and the
// "no such notice" panel, the strings the script uses (and a name for every kind of data the
// portal holds), and run js/notices.js alone, last, from this site.
func TestP14_NoticePageRendersInBothLanguages(t *testing.T) {
	out := builtSite(t)
	c := parseCatalogue(t, []byte(sitecatalog.JSON))
	titles := map[string]string{"en": "Notices", "zh-cn": "公告"}
	for _, l := range languages {
		ui := uiText(t, l.dir)
		p := loadAccountPage(t, out, l.prefix+"/notices/")
		wantUniqueIDs(t, p.name, p.body)
		wantNoInline(t, p.name, p.body)
		p.wantScripts(t) // no deferred script: notices.js stands alone
		if !strings.Contains(p.body, `<html lang="`+l.locale+`"`) {
			t.Errorf("%s: not in %s", p.name, l.locale)
		}
		if !strings.Contains(p.body, `<h1 id="notices-heading">`+titles[l.dir]+`</h1>`) {
			t.Errorf("%s: no heading %q", p.name, titles[l.dir])
		}
		ids := pageIDs(p.body)
		for id, tag := range map[string]string{
			"notices-page": "div", "notices-intro": "p", "notices-status": "div", "notices-list": "ul",
			"notice": "article", "notice-missing": "section", "notice-missing-heading": "h2", "notice-all": "p",
			"notice-all-link": "a", "notice-strings": "template",
		} {
			if ids[id] != tag {
				t.Errorf("%s: #%s is a <%s>, want a <%s>", p.name, id, ids[id], tag)
			}
		}
		p.wantStatus(t, "notices-status")
		p.wantLink(t, "notice-all-link", l.prefix+"/notices/")
		p.wantHidden(t, "notice-missing", "notice-all")
		for _, id := range []string{"notices-list", "notice"} {
			if !regexp.MustCompile(`<\w+ id="` + id + `"[^>]*\shidden>`).MatchString(p.body) {
				t.Errorf("%s: #%s is not hidden in the HTML", p.name, id)
			}
		}
		root := p.byID["notices-page"].attrs
		if root["data-index"] != "/notices/index.json" || root["data-dir"] != "/notices/" || root["data-site-title"] != ui["siteTitle"] {
			t.Errorf("%s: #notices-page data-index %q, data-dir %q, data-site-title %q; want /notices/index.json, /notices/ and %q",
				p.name, root["data-index"], root["data-dir"], root["data-site-title"], ui["siteTitle"])
		}
		for _, s := range noticeSections {
			id := "notice-" + s[0]
			if ids[id+"-section"] != "section" || ids[id] == "" {
				t.Errorf("%s: no <section id=%q> with #%s", p.name, id+"-section", id)
			}
			if want := `<h2 id="` + id + `-heading">` + ui[s[1]] + `</h2>`; ui[s[1]] == "" || !strings.Contains(p.body, want) {
				t.Errorf("%s: no heading %s", p.name, want)
			}
			if e := p.byID[id+"-section"]; e.attrs["aria-labelledby"] != id+"-heading" {
				t.Errorf("%s: #%s-section is not labelled by its heading", p.name, id)
			}
		}
		for _, f := range noticeFacts {
			id := "notice-" + f[0]
			if ids[id+"-row"] != "div" || ids[id] != "dd" {
				t.Errorf("%s: no fact row #%s-row with <dd id=%q>", p.name, id, id)
			}
			if want := `<dt>` + ui[f[1]] + `</dt><dd id="` + id + `">`; ui[f[1]] == "" || !strings.Contains(p.body, want) {
				t.Errorf("%s: no fact %s", p.name, want)
			}
		}
		for _, key := range []string{"noticesIntro", "noticesNeedsJS", "noticeNotFound", "noticeNotFoundText", "noticesAll", "noticeContactText"} {
			if !strings.Contains(p.body, ui[key]) {
				t.Errorf("%s: lacks %s %q", p.name, key, ui[key])
			}
		}

		// The script's strings, and a name for every kind of data: the account's own fields and
		// every optional field of the catalogue, in the page's language.
		got := map[string]string{}
		for _, e := range elements(between(t, p.name, p.body, `<template id="notice-strings">`, "</template>"), "span") {
			got[e.attrs["data-key"]] = e.text
		}
		for _, key := range noticeScriptStrings {
			if want := strings.TrimSpace(ui[key]); got[key] != want {
				t.Errorf("%s: notice-strings %s = %q, want %q", p.name, key, got[key], want)
			}
		}
		for kind, key := range map[string]string{"name": "fieldName", "email": "fieldEmail", "username": "fieldUsername", "password": "fieldPassword"} {
			if got["kind:"+kind] != ui[key] {
				t.Errorf("%s: kind:%s = %q, want %q", p.name, kind, got["kind:"+kind], ui[key])
			}
		}
		for _, f := range c.OptionalFields {
			if want := f.Label[l.locale]; got["kind:"+f.Key] != want {
				t.Errorf("%s: kind:%s = %q, want %q (catalogue)", p.name, f.Key, got["kind:"+f.Key], want)
			}
		}

		// notices.js runs once, last in the content, after everything it reads.
		if n := strings.Count(p.body, `<script src="/js/notices.js"></script>`); n != 1 {
			t.Errorf("%s loads notices.js %d times, want once", p.name, n)
		}
		if strings.Index(p.body, `<script src="/js/notices.js">`) < strings.Index(p.body, `</template>`) {
			t.Errorf("%s: notices.js runs before the page it reads is parsed", p.name)
		}
	}
}

// TestP14_NoticeScriptUsesWhatThePageHas: every id and string js/notices.js names is on the page
// (read from the script, so a renamed id cannot go unnoticed without a browser).
func TestP14_NoticeScriptUsesWhatThePageHas(t *testing.T) {
	out := builtSite(t)
	js := readFile(t, filepath.Join("assets", "js", "notices.js"))
	var ids, keys []string
	for _, m := range regexp.MustCompile(`(?:byId|getElementById)\("([\w-]+)"\)`).FindAllStringSubmatch(js, -1) {
		ids = append(ids, m[1])
	}
	for _, m := range regexp.MustCompile(`\b(section|dateRow|count)\("([\w-]+)"`).FindAllStringSubmatch(js, -1) {
		ids = append(ids, "notice-"+m[2], "notice-"+m[2]+map[string]string{"section": "-section", "dateRow": "-row", "count": "-row"}[m[1]])
	}
	for _, m := range regexp.MustCompile(`\b(?:str|say)\("(\w+)"\)|\bcount\("[\w-]+", "(\w+)"`).FindAllStringSubmatch(js, -1) {
		keys = append(keys, m[1]+m[2])
	}
	if len(ids) < 20 || len(keys) < len(noticeScriptStrings) {
		t.Fatalf("read %d ids and %d strings from notices.js; the patterns here no longer match it", len(ids), len(keys))
	}
	for _, s := range noticeSections {
		if s[0] != "data" && s[0] != "contact" && !slices.Contains(ids, "notice-"+s[0]+"-section") {
			t.Errorf("notices.js does not fill the %s section", s[0])
		}
	}
	for _, f := range noticeFacts {
		if !slices.Contains(ids, "notice-"+f[0]+"-row") && !strings.Contains(js, `"notice-`+f[0]+`-row"`) {
			t.Errorf("notices.js does not fill #notice-%s-row", f[0])
		}
	}
	for _, l := range languages {
		body := readFile(t, filepath.Join(out, filepath.FromSlash(l.prefix+"/notices/"), "index.html"))
		have := pageIDs(body)
		for _, id := range ids {
			if have[id] == "" {
				t.Errorf("notices.js names #%s, which %s/notices/ does not have", id, l.prefix)
			}
		}
		for _, k := range keys {
			if !strings.Contains(body, `<span data-key="`+k+`">`) {
				t.Errorf("notices.js asks for string %s, which %s/notices/ does not give it", k, l.prefix)
			}
		}
	}
	for _, attr := range []string{"data-index", "data-dir", "data-site-title"} {
		if !strings.Contains(js, `getAttribute("`+attr+`")`) {
			t.Errorf("notices.js does not read %s", attr)
		}
	}
	// The JSON fields it reads, as the operator's tool writes them (design: notices/<id>.json).
	for _, field := range []string{"n.title", "n.published", "n.incident", "n.impact", "n.measures", "n.selfHelp", "n.remedies",
		"n.contact", "n.dataKinds", "n.people", "n.records", "n.occurred", "n.discovered", "data.notices", "n.active", "n.id"} {
		if !strings.Contains(js, field) {
			t.Errorf("notices.js does not read %s", field)
		}
	}
}

// TestP14_HomePageLinksCurrentNotices: the home page, in both languages, has the hidden section
// js/home-notices.js fills with the active notices (linked to the notice page in the page's
// language) and runs that script, alone and last; no other page runs it. The home page stays
// light: the script is under 1 KiB gzipped.
func TestP14_HomePageLinksCurrentNotices(t *testing.T) {
	out := builtSite(t)
	for _, l := range languages {
		ui := uiText(t, l.dir)
		p := loadAccountPage(t, out, l.prefix+"/")
		wantUniqueIDs(t, p.name, p.body)
		wantNoInline(t, p.name, p.body)
		p.wantScripts(t)
		box := p.byID["home-notices"]
		if p.tags["home-notices"] != "section" {
			t.Fatalf("%s: no <section id=\"home-notices\">", p.name)
		}
		p.wantHidden(t, "home-notices")
		for attr, want := range map[string]string{
			"data-index": "/notices/index.json",
			"data-page":  l.prefix + "/notices/",
			"data-label": ui["homeNoticeLink"],
			"aria-label": ui["homeNoticesLabel"],
		} {
			if box.attrs[attr] != want {
				t.Errorf("%s: #home-notices %s = %q, want %q", p.name, attr, box.attrs[attr], want)
			}
		}
		if !strings.Contains(box.attrs["data-label"], "{title}") {
			t.Errorf("%s: data-label %q has no {title}", p.name, box.attrs["data-label"])
		}
		if !strings.Contains(p.body, `<ul id="home-notices-list"></ul>`) {
			t.Errorf("%s: no empty #home-notices-list", p.name)
		}
		// Above the rest of the page's content, and the script after it.
		if h, s, c := strings.Index(p.body, "<h1"), strings.Index(p.body, `id="home-notices"`), strings.Index(p.body, `class="lead"`); !(h < s && s < c) {
			t.Errorf("%s: #home-notices is not right under the heading", p.name)
		}
		if n := strings.Count(p.body, `<script src="/js/home-notices.js"></script>`); n != 1 {
			t.Errorf("%s loads home-notices.js %d times, want once", p.name, n)
		}
		if strings.Index(p.body, `<script src="/js/home-notices.js">`) < strings.Index(p.body, `id="home-notices-list"`) {
			t.Errorf("%s: home-notices.js runs before #home-notices is parsed", p.name)
		}
	}
	for _, f := range htmlFiles(t, out) {
		if f != "index.html" && f != "zh/index.html" && strings.Contains(readFile(t, filepath.Join(out, f)), "/js/home-notices.js") {
			t.Errorf("/%s runs home-notices.js; only the home page should", f)
		}
	}
	var buf bytes.Buffer
	w := gzip.NewWriter(&buf)
	w.Write([]byte(readFile(t, filepath.Join(out, "js", "home-notices.js"))))
	w.Close()
	if buf.Len() > 1<<10 {
		t.Errorf("/js/home-notices.js is %d bytes gzipped; every visitor of the home page loads it, keep it under 1 KiB", buf.Len())
	}
	js := readFile(t, filepath.Join("assets", "js", "home-notices.js"))
	for _, want := range []string{`getElementById("home-notices")`, `getElementById("home-notices-list")`, `getAttribute("data-index")`,
		`getAttribute("data-page")`, `getAttribute("data-label")`, "res.ok", "n.active === true", "data.notices"} {
		if !strings.Contains(js, want) {
			t.Errorf("home-notices.js does not use %s", want)
		}
	}
}

// TestP14_NoticeScriptsTreatTheJSONAsText: the notice scripts build no markup from the JSON (no
// innerHTML and the like: every text goes in with textContent or a text node), run nothing from
// it, log nothing (a missing file is normal before the first notice), stand alone (the pages load
// no window.Portal), and only fetch the notices' own files, from the paths the page gives them.
func TestP14_NoticeScriptsTreatTheJSONAsText(t *testing.T) {
	forbidden := regexp.MustCompile(`innerHTML|outerHTML|insertAdjacentHTML|document\.write|\beval\(|new Function|setTimeout\("|DOMParser|createContextualFragment|\bconsole\.|window\.Portal|\bP\.\w+|XMLHttpRequest|\.src\s*=|"/api/`)
	for _, name := range []string{"notices.js", "home-notices.js"} {
		js := readFile(t, filepath.Join("assets", "js", name))
		if m := forbidden.FindString(js); m != "" {
			t.Errorf("%s uses %s", name, m)
		}
		if !strings.Contains(js, "textContent") || !strings.Contains(js, "res.ok") {
			t.Errorf("%s: want text put in with textContent, and fetch answers checked with res.ok", name)
		}
		// Every fetch takes its URL from the page (data-index) or from an id checked against
		// [A-Za-z0-9_-] and encoded.
		for _, m := range regexp.MustCompile(`fetch\(([^,]+),`).FindAllStringSubmatch(js, -1) {
			if arg := strings.TrimSpace(m[1]); arg != "url" && arg != `box.getAttribute("data-index")` {
				t.Errorf("%s fetches %s", name, arg)
			}
		}
		if !strings.Contains(js, "[A-Za-z0-9_-]{1,128}") || !strings.Contains(js, "encodeURIComponent(") {
			t.Errorf("%s: an id from the JSON or the address must be checked against [A-Za-z0-9_-]{1,128} and encoded", name)
		}
	}
	js := readFile(t, filepath.Join("assets", "js", "notices.js"))
	for _, want := range []string{`getAttribute("data-dir") + encodeURIComponent(id) + ".json"`, `load(page.getAttribute("data-index"))`,
		`if (!idRE.test(id))`, `res.status === 404`, `"mailto:" + contact`} {
		if !strings.Contains(js, want) {
			t.Errorf("notices.js does not have %s", want)
		}
	}
	// Links it writes: the notice page with an encoded id, or mailto: for an e-mail address.
	for _, m := range regexp.MustCompile(`setAttribute\("href", ([^;]+)\);`).FindAllStringSubmatch(js, -1) {
		if !strings.Contains(m[1], `"?id=" + encodeURIComponent(`) && m[1] != `"mailto:" + contact` {
			t.Errorf("notices.js writes a link %s", m[1])
		}
	}
}

// TestP14_BuildWritesNoJSONUnderNotices: the operator's tool owns /notices/index.json and
// /notices/<id>.json in the site bucket. The build writes nothing under /notices/ (or
// /zh/notices/) but the page itself, so no build output could stand in for, or replace, a
// published notice; the page is listed in /pages.json, so its views are counted.
func TestP14_BuildWritesNoJSONUnderNotices(t *testing.T) {
	out := builtSite(t)
	for _, dir := range []string{"notices", "zh/notices"} {
		var files []string
		err := filepath.WalkDir(filepath.Join(out, filepath.FromSlash(dir)), func(path string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			rel, _ := filepath.Rel(out, path)
			files = append(files, filepath.ToSlash(rel))
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if want := []string{dir + "/index.html"}; !slices.Equal(files, want) {
			t.Errorf("the build wrote %v under /%s/, want only %v", files, dir, want)
		}
	}
	var pages struct {
		Paths []string `json:"paths"`
	}
	if err := json.Unmarshal([]byte(readFile(t, filepath.Join(out, "pages.json"))), &pages); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"/notices/", "/zh/notices/"} {
		if !slices.Contains(pages.Paths, want) {
			t.Errorf("pages.json does not list %s", want)
		}
	}
}

// TestP14_NoticeStringsAreTranslated: every notice string exists in both languages and differs
// between them, with the same placeholders.
func TestP14_NoticeStringsAreTranslated(t *testing.T) {
	en, zh := uiText(t, "en"), uiText(t, "zh-cn")
	n := 0
	for k, v := range en {
		if !strings.HasPrefix(k, "notice") && !strings.HasPrefix(k, "homeNotice") {
			continue
		}
		n++
		if v == "" || zh[k] == "" || v == zh[k] {
			t.Errorf("i18n %s: en %q, zh-cn %q; want both, different", k, v, zh[k])
		}
		ph := regexp.MustCompile(`\{\w+\}`)
		if a, b := ph.FindAllString(v, -1), ph.FindAllString(zh[k], -1); !slices.Equal(a, b) || strings.Contains(v, "{{") != strings.Contains(zh[k], "{{") {
			t.Errorf("i18n %s: placeholders differ: en %q, zh-cn %q", k, v, zh[k])
		}
	}
	if n < 29 {
		t.Errorf("found %d notice strings, want them all (29)", n)
	}
}
