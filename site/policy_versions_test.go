package site_test

import (
	"encoding/json"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/privacyportal/portal/site"
)

// Policy versions on the site (P25): each version's change summary (its page, the versions page,
// versions.json), the changes since the previous version rendered at build time, and the version
// in force on the versions page (build-date fallback + versions.js).

// The SHA-256 of version 1.0's Markdown, as published: consent records name this text, so it
// must never change (a new wording is a new version).
var version10SHA256 = map[string]string{
	"en":    "07684c0478a0bf7673ba5c40682a183761054d750fa5d4943845084b3d92a17f",
	"zh-cn": "0cee7da270f6a9c148d560f1d9716484e1bad935f14e81158efc4ebe96c91fa8",
}

// firstVersion is the summary of the first version, from data/policy.toml.
var firstVersion = map[string]string{"en": "First version.", "zh-cn": "第一个版本。"}

// readCatalog decodes a built site's /policy/versions.json strictly.
func readCatalog(tb testing.TB, out string) catalog {
	tb.Helper()
	data := readFile(tb, filepath.Join(out, "policy", "versions.json"))
	dec := json.NewDecoder(strings.NewReader(data))
	dec.DisallowUnknownFields()
	var c catalog
	if err := dec.Decode(&c); err != nil {
		tb.Fatalf("versions.json: %v\n%s", err, data)
	}
	return c
}

var changesRE = regexp.MustCompile(`(?m)^changes:\n((?:  - .*\n)+)`)

// sourceChanges returns the `changes` bullets of a policy source file's front matter.
func sourceChanges(tb testing.TB, name string) []string {
	tb.Helper()
	m := changesRE.FindStringSubmatch(readFile(tb, name))
	if m == nil {
		return nil
	}
	var out []string
	for _, line := range strings.Split(strings.TrimSuffix(m[1], "\n"), "\n") {
		item := strings.TrimPrefix(line, "  - ")
		if s, err := strconv.Unquote(item); err == nil {
			item = s
		}
		out = append(out, item)
	}
	return out
}

// summaryJoin is how versions.json joins a version's bullets in each language.
var summaryJoin = map[string]string{"en": " ", "zh-cn": ""}

func TestP25_Version10IsUnchanged(t *testing.T) {
	c := readCatalog(t, builtSite(t))
	for _, v := range c.Versions {
		if v.ID != "1.0" {
			continue
		}
		for lang, want := range version10SHA256 {
			if v.SHA256[lang] != want {
				t.Errorf("version 1.0: sha256[%s] = %s, want %s: its text changed", lang, v.SHA256[lang], want)
			}
		}
		return
	}
	t.Fatal("versions.json has no version 1.0")
}

// TestP25_VersionsCarrySummaryAndDiff: versions.json lists every version with its summary in
// both languages; each version's page and the versions page show the summary's bullets; every
// version but the first shows its changes since the previous one, linked from both pages.
func TestP25_VersionsCarrySummaryAndDiff(t *testing.T) {
	out := builtSite(t)
	c := readCatalog(t, out)
	var ids []string
	for _, v := range c.Versions {
		ids = append(ids, v.ID)
	}
	if !strings.Contains(strings.Join(ids, ","), "1.0,1.1") {
		t.Fatalf("versions.json lists %v, want 1.0 then 1.1", ids)
	}
	for i, v := range c.Versions {
		for _, l := range languages {
			bullets := sourceChanges(t, filepath.Join("content", l.dir, "policy", v.ID+".md"))
			if i == 0 && len(bullets) == 0 {
				bullets = []string{firstVersion[l.key]}
			}
			if len(bullets) == 0 {
				t.Errorf("version %s (%s): no changes in the front matter", v.ID, l.dir)
				continue
			}
			if got, want := v.Summary[l.key], strings.Join(bullets, summaryJoin[l.key]); got != want {
				t.Errorf("version %s: summary[%s] = %q, want %q", v.ID, l.key, got, want)
			}

			pagePath := l.prefix + v.URL
			page := readFile(t, filepath.Join(out, filepath.FromSlash(pagePath), "index.html"))
			versions := readFile(t, filepath.Join(out, filepath.FromSlash(l.prefix+"/policy/versions/"), "index.html"))
			summary := between(t, pagePath, page, `<section class="policy-changes"`, "</section>")
			entry := between(t, "versions page", versions, `<section class="version-changes" id="changes-`+v.ID+`"`, "</section>")
			for _, b := range bullets {
				li := "<li>" + htmlEscape(b) + "</li>"
				if !strings.Contains(summary, li) {
					t.Errorf("%s: the summary lacks %s", pagePath, li)
				}
				if !strings.Contains(entry, li) {
					t.Errorf("%s/policy/versions/: the changes of %s lack %s", l.prefix, v.ID, li)
				}
			}

			diffLink := `href="` + pagePath + `#version-diff"`
			hasDiff := strings.Contains(page, `<section class="policy-diff" id="version-diff"`)
			if i == 0 {
				if hasDiff || strings.Contains(entry, diffLink) {
					t.Errorf("%s: the first version shows or links changes since a previous one", pagePath)
				}
				continue
			}
			prev := c.Versions[i-1].ID
			if !hasDiff {
				t.Errorf("%s: no changes since version %s", pagePath, prev)
				continue
			}
			diff := between(t, pagePath, page, `<section class="policy-diff"`, "</section>")
			if !strings.Contains(diff, prev) {
				t.Errorf("%s: the changes do not name version %s", pagePath, prev)
			}
			if hunks := hunkHTML(t, pagePath, page); !strings.Contains(hunks, "<ins>") && !strings.Contains(hunks, "<del>") {
				t.Errorf("%s: the changes since %s mark no insertion or deletion", pagePath, prev)
			}
			if !strings.Contains(summary, diffLink) || !strings.Contains(entry, diffLink) {
				t.Errorf("%s: the summary or the versions page does not link the changes (%s)", pagePath, diffLink)
			}
		}
	}
}

func htmlEscape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&#34;", "'", "&#39;").Replace(s)
}

// hunkHTML returns the changes of a version page without their legend.
func hunkHTML(tb testing.TB, name, page string) string {
	tb.Helper()
	return between(tb, name, page, `<div class="diff-hunks">`, "</section>")
}

// TestP25_VersionsPageShowsTheVersionInForce: the versions page says, as of the build date, which
// version is in force, links it, and loads versions.js to say the same for today.
func TestP25_VersionsPageShowsTheVersionInForce(t *testing.T) {
	out := builtSite(t)
	c := readCatalog(t, out)
	today := time.Now().UTC().Format(time.DateOnly)
	current := ""
	var best string
	for _, v := range c.Versions {
		if v.Effective <= today && v.Effective >= best {
			current, best = v.ID, v.Effective
		}
	}
	if current == "" {
		t.Fatal("no version is in force today")
	}
	asOfBuild := map[string]string{"en": "As of the build date,", "zh-cn": "截至网站构建日期"}
	statuses := map[string]map[string]string{
		"en":    {"in-force": "In force", "superseded": "Superseded", "pending": "Upcoming"},
		"zh-cn": {"in-force": "现行有效", "superseded": "已被取代", "pending": "即将生效"},
	}
	for _, l := range languages {
		name := l.prefix + "/policy/versions/"
		body := readFile(t, filepath.Join(out, filepath.FromSlash(name), "index.html"))
		note := between(t, name, body, `<p class="notice" id="policy-in-force"`, "</p>")
		for _, want := range []string{
			`data-versions="/policy/versions.json"`,
			asOfBuild[l.key],
			`<time datetime="` + today + `">`,
			`<a href="` + l.prefix + `/policy/` + current + `/">`,
		} {
			if !strings.Contains(note, want) {
				t.Errorf("%s: the in-force notice lacks %s:\n%s", name, want, note)
			}
		}
		for _, attr := range []string{"data-today", "data-none-today", "data-version-label", "data-in-force", "data-upcoming", "data-superseded"} {
			if !regexp.MustCompile(`\s` + attr + `="[^"]+"`).MatchString(note) {
				t.Errorf("%s: the notice gives versions.js no %s", name, attr)
			}
		}
		if n := strings.Count(body, `<script src="/js/versions.js"></script>`); n != 1 {
			t.Errorf("%s loads versions.js %d times, want once", name, n)
		}
		for _, v := range c.Versions {
			want := "superseded"
			if v.ID == current {
				want = "in-force"
			} else if v.Effective > today {
				want = "pending"
			}
			cell := `<td data-status="` + want + `">` + statuses[l.key][want] + `</td>`
			if row := between(t, name, body, `<tr data-version="`+v.ID+`">`, "</tr>"); !strings.Contains(row, cell) {
				t.Errorf("%s: version %s: want %s in its row", name, v.ID, cell)
			}
		}
	}
	// The script stands alone: it reads its strings from the notice, not from window.Portal.
	js := readFile(t, filepath.Join("assets", "js", "versions.js"))
	if portalUseRE.MatchString(js) || strings.Contains(js, "window.Portal") {
		t.Error("versions.js uses window.Portal, which the versions page does not load")
	}
	for _, want := range []string{`getElementById("policy-in-force")`, `attr("versions")`, `"#policy-versions tr[data-version]"`, `"[data-status]"`} {
		if !strings.Contains(js, want) {
			t.Errorf("versions.js does not use %s, which the page provides", want)
		}
	}
}

// The known change from 1.1 to 1.2, per language: a sentence replaced, and a sentence added
// to the end of the same paragraph.
var nextChange = map[string]struct{ old, new, added, section string }{
	"en": {
		old:     "We may update this policy from time to time.",
		new:     "We may update this policy when our services or the law change.",
		added:   "Each update keeps the anchors of its sections, so links into the policy keep working.",
		section: "8. Changes to this policy",
	},
	"zh-cn": {
		old:     "我们可能会不时更新本政策。",
		new:     "当我们的服务或法律发生变化时，我们可能会更新本政策。",
		added:   "每次更新都保留各部分的锚点，因此指向本政策的链接仍然有效。",
		section: "八、本政策如何更新",
	},
}

// buildNextVersion builds a copy of the site with a version 1.2 that makes nextChange to 1.1, in
// both languages, published today and in force in 7 days, and returns the output directory.
func buildNextVersion(tb testing.TB) string {
	tb.Helper()
	dir := copySite(tb)
	today := time.Now().UTC()
	for _, l := range languages {
		src := readFile(tb, filepath.Join(dir, "content", l.dir, "policy", "1.1.md"))
		ch := nextChange[l.key]
		s := strings.Replace(src, `version: "1.1"`, `version: "1.2"`, 1)
		s = regexp.MustCompile(`(?m)^published: .*$`).ReplaceAllString(s, "published: "+today.Format(time.DateOnly))
		s = regexp.MustCompile(`(?m)^effective: .*$`).ReplaceAllString(s, "effective: "+today.AddDate(0, 0, 7).Format(time.DateOnly))
		s = changesRE.ReplaceAllString(s, "changes:\n  - \"Test change.\"\n")
		at := strings.Index(s, ch.old)
		if at < 0 {
			tb.Fatalf("%s 1.1 does not contain %q", l.dir, ch.old)
		}
		// Replace the sentence, and end its paragraph with the added one.
		end := at + strings.Index(s[at:], "\n\n")
		sep := summaryJoin[l.key]
		s = s[:at] + ch.new + s[at+len(ch.old):end] + sep + ch.added + s[end:]
		writeFile(tb, filepath.Join(dir, "content", l.dir, "policy", "1.2.md"), s)
	}
	out := filepath.Join(tb.TempDir(), "public")
	if err := site.Build(testContext(tb), dir, out, testParams); err != nil {
		tb.Fatalf("build with version 1.2: %v", err)
	}
	return out
}

var (
	insRE = regexp.MustCompile(`<ins>(.*?)</ins>`)
	delRE = regexp.MustCompile(`<del>(.*?)</del>`)
)

// TestP25_DiffMarksChanges: a version that replaces one sentence and adds another shows exactly
// those as <del> and <ins>, in the section where they are, with the unchanged sentences of the
// paragraph around them unmarked, and no other change.
func TestP25_DiffMarksChanges(t *testing.T) {
	t.Parallel()
	out := buildNextVersion(t)
	for _, l := range languages {
		name := l.prefix + "/policy/1.2/"
		page := readFile(t, filepath.Join(out, filepath.FromSlash(name), "index.html"))
		ch := nextChange[l.key]
		if h := between(t, name, page, `<h2 id="version-diff-title">`, "</h2>"); !strings.Contains(h, "1.1") {
			t.Errorf("%s: the changes are headed %q, want them since version 1.1", name, h)
		}
		hunks := hunkHTML(t, name, page)
		var ins, del []string
		for _, m := range insRE.FindAllStringSubmatch(hunks, -1) {
			ins = append(ins, m[1])
		}
		for _, m := range delRE.FindAllStringSubmatch(hunks, -1) {
			del = append(del, m[1])
		}
		if len(del) != 1 || del[0] != ch.old {
			t.Errorf("%s: deletions %q, want exactly %q", name, del, ch.old)
		}
		if len(ins) != 2 || ins[0] != ch.new || ins[1] != ch.added {
			t.Errorf("%s: insertions %q, want exactly %q and %q", name, ins, ch.new, ch.added)
		}
		if n := strings.Count(hunks, `<div class="diff-hunk">`); n != 1 {
			t.Errorf("%s: %d groups of changes, want 1", name, n)
		}
		if !strings.Contains(hunks, "<h3>") || !strings.Contains(between(t, name, hunks, "<h3>", "</h3>"), ch.section) {
			t.Errorf("%s: the change is not placed in section %q:\n%s", name, ch.section, hunks)
		}
		// The paragraph's next sentence is context: shown, unmarked.
		context := map[string]string{"en": "Every version stays available on our website", "zh-cn": "每一个版本都会保留在我们的网站上"}[l.key]
		if !strings.Contains(htmlText(strings.NewReplacer("<ins>", "", "</ins>", "", "<del>", "", "</del>", "").Replace(hunks)), context) ||
			strings.Contains(hunks, "<ins>"+context) || strings.Contains(hunks, "<del>"+context) {
			t.Errorf("%s: %q should be shown as unchanged context", name, context)
		}

		// 1.2 is upcoming: its page and the versions page say so; 1.1 stays in force as of the build.
		if !strings.Contains(page, "<dd>"+map[string]string{"en": "Upcoming", "zh-cn": "即将生效"}[l.key]+"</dd>") {
			t.Errorf("%s: status is not upcoming", name)
		}
		versions := readFile(t, filepath.Join(out, filepath.FromSlash(l.prefix+"/policy/versions/"), "index.html"))
		if row := between(t, "versions page", versions, `<tr data-version="1.2">`, "</tr>"); !strings.Contains(row, `data-status="pending"`) {
			t.Errorf("%s/policy/versions/: 1.2 is not marked upcoming:\n%s", l.prefix, row)
		}
		note := between(t, "versions page", versions, `id="policy-in-force"`, "</p>")
		if !strings.Contains(note, `<a href="`+l.prefix+`/policy/1.1/">`) {
			t.Errorf("%s/policy/versions/: the build-date notice does not name 1.1 as in force:\n%s", l.prefix, note)
		}
	}
	c := readCatalog(t, out)
	if last := c.Versions[len(c.Versions)-1]; last.ID != "1.2" || last.Summary["en"] != "Test change." || last.Summary["zh-cn"] != "Test change." {
		t.Errorf("versions.json: last version %s with summary %v, want 1.2 with its changes", last.ID, last.Summary)
	}
}

// TestPolicyText_1_1StatesTheConsentFeatures: version 1.1 says plainly what the consent features
// do, in both languages (TestPolicyTextCoversEveryPromise checks that it keeps every promise).
func TestPolicyText_1_1StatesTheConsentFeatures(t *testing.T) {
	out := builtSite(t)
	features := []struct {
		id     string
		en, zh []string
	}{
		{"P18 consent centre",
			[]string{"The portal's consent centre lists every purpose", "lets you grant or withdraw each one on its own, at any time", "It does not undo processing that was already done"},
			[]string{"门户的同意管理中心列出每一个目的", "您可以随时在其中逐项给予或撤回同意", "撤回不影响此前在您同意期间已经合法进行的处理"}},
		{"P07 cookies",
			[]string{"We set only two: the sign-in session cookie", "a cookie that remembers your cookie choice", "Analytics cookies are set only if you agree to them", "The portal's cookie page lists the cookies", "lets you delete them"},
			[]string{"我们只设置两个", "登录会话 Cookie", "记住您 Cookie 选择的 Cookie", "数据分析 Cookie 只有在您同意后才会设置", "门户的 Cookie 页面列出", "并允许您删除它们"}},
		{"P09 signals",
			[]string{"Do Not Track", "Global Privacy Control", "opt out of analytics and marketing", "and to opt out of e-mail tracking"},
			[]string{"请勿跟踪", "全球隐私控制", "选择退出数据分析和营销", "同时也视为您选择退出邮件跟踪"}},
		{"P08 e-mail",
			[]string{"only if you have turned on e-mail analytics", "That is a consent of its own", "every marketing message has a one-click unsubscribe link"},
			[]string{"只在您开启了邮件分析的情况下", "邮件分析是一项单独的同意", "每封营销邮件都附有一键退订链接"}},
		{"P04 transfers",
			[]string{"only if you have given separate authorisation for that transfer", "names the country or region the information would go to, who would receive it and for what purpose", "we de-identify the information"},
			[]string{"另行单独授权", "写明信息将被传输到的国家或地区、接收方以及目的", "先对信息进行去标识化处理"}},
		{"P10 sharing",
			[]string{"Sharing with our affiliates or with partners always needs it", "Every disclosure is recorded in your account's history, with the recipient, the purpose and the date"},
			[]string{"与我们的关联公司或合作伙伴共享信息，一律需要您的同意", "每一次披露都会记录在您账户的历史记录中，并注明接收方、目的和日期"}},
	}
	for _, f := range features {
		t.Run(f.id, func(t *testing.T) {
			for _, l := range languages {
				text := policyText(t, filepath.Join(out, filepath.FromSlash(l.prefix+"/policy/1.1/"), "index.html"))
				phrases := f.en
				if l.key == "zh-cn" {
					phrases = f.zh
				}
				for _, ph := range phrases {
					if !strings.Contains(text, ph) {
						t.Errorf("%s 1.1 does not say %q", l.dir, ph)
					}
				}
			}
		})
	}
}
