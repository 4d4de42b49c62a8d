package mail_test

import (
	"bytes"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	portalmail "github.com/privacyportal/portal/internal/mail"
)

// breachMessage is a BreachNotice mail of fullData with the breach b.
func breachMessage(locale string, b portalmail.Breach) portalmail.Message {
	d := fullData()
	d.Breach = &b
	return message(locale, portalmail.BreachNotice, d)
}

// policyMessage is a PolicyUpdate mail of fullData with the policy change p.
func policyMessage(locale string, p portalmail.PolicyChange) portalmail.Message {
	d := fullData()
	d.Policy = &p
	return message(locale, portalmail.PolicyUpdate, d)
}

// chineseBreach is fullData's breach as a caller writes it for a reader of Chinese.
func chineseBreach() portalmail.Breach {
	b := *fullData().Breach
	b.Title = "我们的客服邮箱遭到未经授权的访问"
	b.Incident = "攻击者使用一名员工被盗的密码读取了我们的客服邮箱。\n对方的访问持续了约十个小时。\n\n该邮箱中存有用户发给客服团队的邮件。"
	b.Impact = "有人可能会冒充我们的客服团队给您发邮件。"
	b.Measures = "我们已锁定该邮箱，并重设了所有员工的密码。\n\n3月31日前，所有员工账户都将启用第二重登录验证。"
	b.SelfHelp = "如果邮件要求您登录或付款，请务必谨慎。"
	b.Remedies = "我们免费为您提供一年的身份信息监测服务。"
	b.DataKinds = []string{"客服工单内容", "邮寄地址"}
	return b
}

// breachHeadings are the headings of a breach notice's sections, in order, in English and in
// Chinese (promise P14: the situation, the data and people, the impact, the measures, the
// self-help advice, the remedies, whom to ask).
var breachHeadings = [][2]string{
	{"1. What happened", "一、发生了什么"},
	{"2. Which information, and how many people", "二、涉及哪些信息和多少人"},
	{"3. What this may mean for you", "三、可能对您造成的影响"},
	{"4. What we have done, and what we will do", "四、我们已采取和将要采取的措施"},
	{"5. What you can do", "五、您可以采取的措施"},
	{"6. What we offer you", "六、我们为您提供的补救措施"},
	{"7. How to contact us", "七、如何联系我们"},
}

// lang is 0 for English and 1 for Chinese, to index breachHeadings.
func lang(locale string) int {
	if locale == portalmail.Chinese {
		return 1
	}
	return 0
}

// TestP14_BreachNoticeTellsEveryPart: the notice is headed by its title and tells, each under
// its own heading and in order, what happened and when, which data and how many people, the
// likely impact, the measures, what the reader can do, what is offered and whom to ask, each
// text paragraph by paragraph; it links to the public notice and offers no unsubscribe.
func TestP14_BreachNoticeTellsEveryPart(t *testing.T) {
	tests := []struct {
		locale    string
		breach    portalmail.Breach
		want, bad []string
	}{
		{"en", *fullData().Breach, []string{
			"Hello Ada Lovelace,",
			"a security incident at Privacy Portal that may affect personal information we hold about you",
			"When it happened: 2027-03-01 22:10 UTC\nWhen we discovered it: 2027-03-02 08:45 UTC",
			"The kinds of personal information affected:\nSupport ticket contents\nPostal address",
			"Number of people affected: about 12,400",
			"This mail asks you for nothing: no password, no payment",
			"contact us: incident-desk@portal.example",
			"data protection authority",
			"We have also published this notice on our site:",
			"it is not marketing",
		}, []string{"not known yet", "still establishing"}},
		{"zh-CN", chineseBreach(), []string{
			"Ada Lovelace，您好：",
			"Privacy Portal发生了一起安全事件，可能涉及我们保存的您的个人信息",
			"发生时间：2027-03-01 22:10 UTC\n发现时间：2027-03-02 08:45 UTC",
			"受影响的个人信息种类：\n客服工单内容\n邮寄地址",
			"受影响人数：约 12,400 人",
			"本邮件不会向您索取任何东西：不会索要密码，不会要求付款",
			"请联系我们：incident-desk@portal.example",
			"数据保护监管机构",
			"我们也已在网站上发布了本通知：",
			"这不是营销邮件",
		}, []string{"尚不清楚", "仍在核实", "Hello", "When it happened", "Number of people", "about 12,400", "published"}},
	}
	d := fullData()
	for _, tc := range tests {
		t.Run(tc.locale, func(t *testing.T) {
			r, parts := renderBoth(t, breachMessage(tc.locale, tc.breach))
			if r.Subject != tc.breach.Title {
				t.Errorf("subject = %q, want the title %q", r.Subject, tc.breach.Title)
			}
			// The lists, item by item: "- " in the text, <li> in the HTML.
			for i := range parts {
				parts[i] = strings.Join(strings.FieldsFunc(strings.ReplaceAll(parts[i], "\n- ", "\n"), func(r rune) bool { return r == '\n' }), "\n")
			}
			texts := [][]string{
				paragraphsOf(tc.breach.Incident), nil, paragraphsOf(tc.breach.Impact), paragraphsOf(tc.breach.Measures),
				paragraphsOf(tc.breach.SelfHelp), paragraphsOf(tc.breach.Remedies), nil,
			}
			want := append([]string{d.Link}, tc.want...)
			for i, h := range breachHeadings {
				want = append(want, h[lang(tc.locale)])
				want = append(want, texts[i]...)
			}
			// Data.Contact gives way to Breach.Contact; nothing of marketing mail.
			bad := append([]string{d.Contact, d.UnsubscribeLink, d.PreferencesLink, "nsubscribe", "退订", d.RequestID}, tc.bad...)
			checkParts(t, r, parts, want, bad)

			// Each section under its heading, in order: its first paragraph comes after its
			// heading and before the next one.
			for p, part := range parts {
				last := -1
				for i, h := range breachHeadings {
					at := strings.Index(part, h[lang(tc.locale)])
					if at <= last {
						t.Errorf("%s part: heading %q out of order", [...]string{"text", "HTML"}[p], h[lang(tc.locale)])
					}
					if len(texts[i]) > 0 && i+1 < len(breachHeadings) {
						next := strings.Index(part, breachHeadings[i+1][lang(tc.locale)])
						if in := strings.Index(part, texts[i][0]); in < at || in > next {
							t.Errorf("%s part: %q is not under %q", [...]string{"text", "HTML"}[p], texts[i][0], h[lang(tc.locale)])
						}
					}
					last = at
				}
			}
			// The HTML marks the headings up as headings, below the title's <h1>.
			for _, h := range breachHeadings {
				if !strings.Contains(r.HTML, `">`+h[lang(tc.locale)]+"</h2>") {
					t.Errorf("HTML has no <h2> %q:\n%s", h[lang(tc.locale)], r.HTML)
				}
			}
			// A paragraph's own line break stays one: a line in the text, <br> in the HTML.
			if !strings.Contains(r.Text, "\n\n"+texts[0][0]+"\n\n"+texts[0][1]+"\n\n") {
				t.Errorf("text does not keep the incident's paragraphs:\n%s", r.Text)
			}
			lines := strings.Split(texts[0][0], "\n")
			if !strings.Contains(r.HTML, "<p>"+lines[0]+"<br>\n"+lines[1]+"</p>\n<p>"+texts[0][1]+"</p>") {
				t.Errorf("HTML does not keep the incident's paragraphs:\n%s", r.HTML)
			}
			// The contact is a link where it can be one.
			if !strings.Contains(r.HTML, `href="mailto:incident-desk@portal.example"`) {
				t.Errorf("HTML does not link the contact:\n%s", r.HTML)
			}
		})
	}
}

// paragraphsOf cuts s at blank lines, as the mails do.
func paragraphsOf(s string) []string { return strings.Split(s, "\n\n") }

// TestP14_BreachNoticeSaysWhatIsNotKnownYet: with no start time, no count, no kinds of data and
// no public notice, the mail says what is not known yet rather than show a zero, an empty list
// or a year-one date; a notice without a name greets no one.
func TestP14_BreachNoticeSaysWhatIsNotKnownYet(t *testing.T) {
	tests := []struct {
		locale    string
		want, bad []string
	}{
		{"en",
			[]string{"Hello,", "When it happened: not known yet", "When we discovered it: 2027-03-02 08:45 UTC", "We are still establishing which kinds of personal information are affected.", "Number of people affected: not known yet"},
			[]string{"published this notice", "about 0", "0001", "The kinds of personal information affected"}},
		{"zh-CN",
			[]string{"您好：", "发生时间：尚不清楚", "发现时间：2027-03-02 08:45 UTC", "我们仍在核实受影响的个人信息种类。", "受影响人数：尚不清楚"},
			[]string{"发布了本通知", "约 0", "0001", "受影响的个人信息种类：", "Hello"}},
	}
	for _, tc := range tests {
		for _, kinds := range [][]string{nil, {}} {
			t.Run(fmt.Sprintf("%s/%#v", tc.locale, kinds), func(t *testing.T) {
				b := *fullData().Breach
				b.Occurred, b.People, b.DataKinds = time.Time{}, 0, kinds
				m := breachMessage(tc.locale, b)
				m.Data.Name, m.Data.Link = "", ""
				r, parts := renderBoth(t, m)
				checkParts(t, r, parts, tc.want, tc.bad)
				if strings.Contains(r.HTML, "<ul>") || strings.Contains(r.HTML, "<strong></strong>") {
					t.Errorf("HTML has an empty list or an empty value:\n%s", r.HTML)
				}
			})
		}
	}

	// One person is one, not "about 1"; a large count has its thousands grouped.
	for _, tc := range []struct {
		locale    string
		people    int
		want, bad string
	}{
		{"en", 1, "Number of people affected: 1\n", "about 1"},
		{"zh-CN", 1, "受影响人数：1 人", "约 1 人"},
		{"en", 1250000, "Number of people affected: about 1,250,000\n", "1250000"},
		{"zh-CN", 999, "受影响人数：约 999 人\n", "约 999 人以上"},
	} {
		t.Run(fmt.Sprintf("%s/%d people", tc.locale, tc.people), func(t *testing.T) {
			b := *fullData().Breach
			b.People = tc.people
			r, parts := renderBoth(t, breachMessage(tc.locale, b))
			checkParts(t, r, parts, []string{tc.want}, []string{tc.bad})
		})
	}
}

// TestP14_BreachNoticeNamesInEachLanguage: every heading has its own words in each language,
// and a mail in one language has none of the other's.
func TestP14_BreachNoticeNamesInEachLanguage(t *testing.T) {
	for i, loc := range []string{portalmail.English, portalmail.Chinese} {
		t.Run(loc, func(t *testing.T) {
			b := *fullData().Breach
			if loc == portalmail.Chinese {
				b = chineseBreach()
			}
			r, parts := renderBoth(t, breachMessage(loc, b))
			seen := map[string]bool{}
			var want, bad []string
			for _, h := range breachHeadings {
				want, bad = append(want, h[i]), append(bad, h[1-i])
				seen[h[i]] = true
			}
			if len(seen) != len(breachHeadings) {
				t.Errorf("two headings share their words: %v", seen)
			}
			checkParts(t, r, parts, want, bad)
		})
	}
}

// TestP14_BreachNoticeEscapesItsTexts: the texts are plain text whatever they hold: the HTML
// part escapes them, keeps their paragraphs and line breaks, and the text part has one kind of
// line break.
func TestP14_BreachNoticeEscapesItsTexts(t *testing.T) {
	b := *fullData().Breach
	b.Incident = "Line <b>one</b>\r\nline \"two\"\r\n\r\n\r\n  \nThird & <a href=\"https://evil.example/\">last</a>  "
	b.Remedies = "<script>alert(1)</script>"
	b.DataKinds = []string{"<img src=https://tracker.example/p.gif>"}
	r, err := portalmail.Render(op, breachMessage("en", b))
	if err != nil {
		t.Fatal(err)
	}
	if want := "\n\nLine <b>one</b>\nline \"two\"\n\nThird & <a href=\"https://evil.example/\">last</a>\n\n"; !strings.Contains(r.Text, want) {
		t.Errorf("text lacks %q:\n%s", want, r.Text)
	}
	if strings.Contains(r.Text, "\r") {
		t.Error("text has a CR")
	}
	for _, want := range []string{
		"<p>Line &lt;b&gt;one&lt;/b&gt;<br>\nline &#34;two&#34;</p>\n<p>Third &amp; &lt;a href=&#34;https://evil.example/&#34;&gt;last&lt;/a&gt;</p>",
		"<p>&lt;script&gt;alert(1)&lt;/script&gt;</p>",
		"<li>&lt;img src=https://tracker.example/p.gif&gt;</li>",
	} {
		if !strings.Contains(r.HTML, want) {
			t.Errorf("HTML lacks %q:\n%s", want, r.HTML)
		}
	}
	lower := strings.ToLower(r.HTML)
	for _, bad := range []string{"<b>", "<script", "<img", `<a href="https://evil`} {
		if strings.Contains(lower, bad) {
			t.Errorf("HTML holds a live %s", bad)
		}
	}
}

// TestP14_BreachNoticeKeepsTheCallersData: Render puts the title, the contact and each kind of
// data on one line in a copy, and leaves the caller's Breach as it was.
func TestP14_BreachNoticeKeepsTheCallersData(t *testing.T) {
	b := *fullData().Breach
	b.Title, b.Contact, b.DataKinds = "Unauthorised\r\naccess  to our mailbox", " desk@portal.example\n", []string{"Postal\n- address"}
	m := breachMessage("en", b)
	r, err := portalmail.Render(op, m)
	if err != nil {
		t.Fatal(err)
	}
	if r.Subject != "Unauthorised access to our mailbox" {
		t.Errorf("subject = %q", r.Subject)
	}
	if !strings.Contains(r.Text, "\n- Postal - address\n") || !strings.Contains(r.Text, "contact us: desk@portal.example\n") {
		t.Errorf("title, contact or kinds not on one line:\n%s", r.Text)
	}
	if got := *m.Data.Breach; got.Title != b.Title || got.Contact != b.Contact || got.DataKinds[0] != "Postal\n- address" {
		t.Errorf("Render changed the caller's Breach: %+v", got)
	}
}

// TestP14_P25_NoticesAreNotMarketing: a breach notice and a policy update go whatever the
// reader's marketing choice: no List-Unsubscribe, no unsubscribe link, no word of it, and
// Render refuses to add one.
func TestP14_P25_NoticesAreNotMarketing(t *testing.T) {
	d := fullData()
	for _, k := range []portalmail.Kind{portalmail.BreachNotice, portalmail.PolicyUpdate} {
		for _, loc := range []string{portalmail.English, portalmail.Chinese} {
			t.Run(fmt.Sprintf("%s/%s", k, loc), func(t *testing.T) {
				m := message(loc, k, d)
				r, parts := renderBoth(t, m)
				if got, want := slices.Sorted(maps.Keys(r.Headers)), []string{"Auto-Submitted", "Content-Language"}; !slices.Equal(got, want) {
					t.Errorf("headers %q, want %q", got, want)
				}
				raw, err := portalmail.BuildRaw("no-reply@portal.example", r, time.Now())
				if err != nil {
					t.Fatal(err)
				}
				if bytes.Contains(bytes.ToLower(raw), []byte("unsubscribe")) {
					t.Error("the message mentions unsubscribing")
				}
				checkParts(t, r, parts, nil, []string{d.UnsubscribeLink, d.PreferencesLink, "nsubscribe", "退订", "agreed to receive marketing", "同意接收"})
				m.Unsubscribe = oneClick
				if _, err := portalmail.Render(op, m); err == nil {
					t.Error("Render put List-Unsubscribe on a notice")
				}
			})
		}
	}
}

// TestP25_PolicyUpdateAnnouncesTheChange: the mail names the version, its publication and
// effective dates in UTC (the subject too), the summary paragraph by paragraph, the diff and
// the full policy; says the current version applies until then and the new one to whoever
// keeps using the service; and says how to withdraw consents or cancel the account, with the
// consent centre (Link) and the account page (SignInLink), and whom to ask.
func TestP25_PolicyUpdateAnnouncesTheChange(t *testing.T) {
	d := fullData()
	zh := *d.Policy
	zh.Summary = "登录记录的保存期限由 180 天缩短为 90 天。\n\n我们列明了新的支付服务商。"
	tests := []struct {
		locale, subject string
		policy          portalmail.PolicyChange
		want, bad       []string
	}{
		{"en", "Our privacy policy changes on 7 April 2027", *d.Policy, []string{
			"Hello Ada Lovelace,",
			"version 1.2, published on 31 March 2027. It takes effect on 7 April 2027 (dates in UTC).",
			"What changes, in short:",
			"compared with the version before:\n" + d.Policy.DiffLink,
			"The full new version:\n" + d.Policy.PolicyLink,
			"Until then, the current version applies. If you keep using Privacy Portal from 7 April 2027 on, the new version applies to you.",
			"we would ask for your consent first",
			"If you do not agree with the new version, you can withdraw your consents or cancel your account",
			"go to the consent centre:\n" + d.Link,
			"go to your account page:\n" + d.SignInLink,
			"or want to object to it, contact our protection officer: " + d.Contact,
			"it is not marketing",
		}, []string{"8 April", "not known"}},
		{"zh-CN", "我们的隐私政策将于 2027年4月7日更新", zh, []string{
			"Ada Lovelace，您好：",
			"版本 1.2，发布日期为 2027年3月31日，将于 2027年4月7日生效（日期均按 UTC 计算）。",
			"主要变化：",
			"逐句查看新增和删除的内容：\n" + d.Policy.DiffLink,
			"新版本全文：\n" + d.Policy.PolicyLink,
			"在 2027年4月7日之前，现行版本继续适用。自该日起，如果您继续使用Privacy Portal，新版本即适用于您。",
			"我们会先征得您的同意",
			"如果您不同意新版本，可以撤回您的同意或注销您的账户",
			"请前往同意管理中心：\n" + d.Link,
			"请前往您的账户页面：\n" + d.SignInLink,
			"请联系我们的个人信息保护负责人：" + d.Contact,
			"这不是营销邮件",
		}, []string{"Hello", "April", "version", "Until"}},
	}
	subjects := map[string]bool{}
	for _, tc := range tests {
		t.Run(tc.locale, func(t *testing.T) {
			r, parts := renderBoth(t, policyMessage(tc.locale, tc.policy))
			if r.Subject != tc.subject {
				t.Errorf("subject = %q, want %q", r.Subject, tc.subject)
			}
			// In the HTML a link follows its line after a <br>: stripped, they touch.
			parts[1] = strings.ReplaceAll(strings.ReplaceAll(parts[1], ":https://", ":\nhttps://"), "：https://", "：\nhttps://")
			want := append(slices.Clone(tc.want), paragraphsOf(tc.policy.Summary)...)
			checkParts(t, r, parts, want, append(tc.bad, d.Breach.Title, d.UnsubscribeLink))
			subjects[r.Subject] = true
		})
	}
	if len(subjects) != len(tests) {
		t.Errorf("the languages share a subject: %v", subjects)
	}
}

// TestP25_PolicyUpdateNeedsSevenDaysNotice: the mail never announces less than seven days'
// notice. Exactly seven days pass, whatever zones the times are in, and the dates it shows are
// UTC dates seven days apart; a second less is refused, with an error that says why.
func TestP25_PolicyUpdateNeedsSevenDaysNotice(t *testing.T) {
	cst := time.FixedZone("CST", 8*3600)
	p := *fullData().Policy
	// 07:30 on 1 April in UTC+8 is 23:30 on 31 March in UTC.
	p.Published = time.Date(2027, 4, 1, 7, 30, 0, 0, cst)
	p.Effective = p.Published.Add(portalmail.MinPolicyNotice).UTC()
	if portalmail.MinPolicyNotice != 7*24*time.Hour {
		t.Fatalf("MinPolicyNotice = %v", portalmail.MinPolicyNotice)
	}
	for _, tc := range []struct{ locale, want string }{
		{"en", "published on 31 March 2027. It takes effect on 7 April 2027"},
		{"zh-CN", "发布日期为 2027年3月31日，将于 2027年4月7日生效"},
	} {
		r, parts := renderBoth(t, policyMessage(tc.locale, p))
		checkParts(t, r, parts, []string{tc.want}, nil)
	}

	for _, effective := range []time.Time{
		p.Published.Add(portalmail.MinPolicyNotice - time.Second),
		p.Published.Add(24 * time.Hour),
		p.Published,
		p.Published.Add(-30 * 24 * time.Hour),
	} {
		short := p
		short.Effective = effective
		_, err := portalmail.Render(op, policyMessage("en", short))
		if err == nil || !strings.Contains(err.Error(), "Data.Policy.Effective") || !strings.Contains(err.Error(), "7 days") {
			t.Errorf("Effective %v after publication: err = %v", effective.Sub(p.Published), err)
		}
	}
}

// TestP25_PolicyUpdateKeepsTheCallersData: the version is shown on one line, from a copy.
func TestP25_PolicyUpdateKeepsTheCallersData(t *testing.T) {
	p := *fullData().Policy
	p.Version = " 1.2\r\n"
	m := policyMessage("en", p)
	r, err := portalmail.Render(op, m)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(r.Text, "version 1.2, published") {
		t.Errorf("version not on one line:\n%s", r.Text)
	}
	if m.Data.Policy.Version != " 1.2\r\n" {
		t.Errorf("Render changed the caller's Policy: %+v", *m.Data.Policy)
	}
}

// TestNoticesRefuseWithClearErrors: each field a notice needs, left out or wrong, is named in
// the error.
func TestNoticesRefuseWithClearErrors(t *testing.T) {
	breach := func(f func(*portalmail.Breach)) portalmail.Message {
		b := *fullData().Breach
		f(&b)
		return breachMessage("en", b)
	}
	policy := func(f func(*portalmail.PolicyChange)) portalmail.Message {
		p := *fullData().Policy
		f(&p)
		return policyMessage("en", p)
	}
	data := func(k portalmail.Kind, f func(*portalmail.Data)) portalmail.Message {
		d := fullData()
		f(&d)
		return message("en", k, d)
	}
	tests := []struct {
		m    portalmail.Message
		want string
	}{
		{data(portalmail.BreachNotice, func(d *portalmail.Data) { d.Breach = nil }), "breach_notice mail needs Data.Breach"},
		{breach(func(b *portalmail.Breach) { b.Title = " " }), "breach_notice mail needs Data.Breach.Title"},
		{breach(func(b *portalmail.Breach) { b.Incident = "" }), "breach_notice mail needs Data.Breach.Incident"},
		{breach(func(b *portalmail.Breach) { b.Impact = "\n" }), "breach_notice mail needs Data.Breach.Impact"},
		{breach(func(b *portalmail.Breach) { b.Measures = "" }), "breach_notice mail needs Data.Breach.Measures"},
		{breach(func(b *portalmail.Breach) { b.SelfHelp = "" }), "breach_notice mail needs Data.Breach.SelfHelp"},
		{breach(func(b *portalmail.Breach) { b.Remedies = "" }), "breach_notice mail needs Data.Breach.Remedies"},
		{breach(func(b *portalmail.Breach) { b.Contact = "" }), "breach_notice mail needs Data.Breach.Contact"},
		{breach(func(b *portalmail.Breach) { b.Discovered = time.Time{} }), "breach_notice mail needs Data.Breach.Discovered"},
		{breach(func(b *portalmail.Breach) { b.Occurred = b.Discovered.Add(time.Hour) }), "Data.Breach.Occurred is after Data.Breach.Discovered"},
		{breach(func(b *portalmail.Breach) { b.People = -5 }), "Data.Breach.People cannot be negative"},
		{breach(func(b *portalmail.Breach) { b.DataKinds = []string{"Name", " "} }), "Data.Breach.DataKinds[1] is empty"},
		{data(portalmail.BreachNotice, func(d *portalmail.Data) { d.Link = "notices/n-1" }), "Data.Link is not an absolute http(s) URL"},
		{data(portalmail.PolicyUpdate, func(d *portalmail.Data) { d.Policy = nil }), "policy_update mail needs Data.Policy"},
		{policy(func(p *portalmail.PolicyChange) { p.Version = "" }), "policy_update mail needs Data.Policy.Version"},
		{policy(func(p *portalmail.PolicyChange) { p.Summary = " " }), "policy_update mail needs Data.Policy.Summary"},
		{policy(func(p *portalmail.PolicyChange) { p.Published = time.Time{} }), "policy_update mail needs Data.Policy.Published"},
		{policy(func(p *portalmail.PolicyChange) { p.Effective = time.Time{} }), "policy_update mail needs Data.Policy.Effective"},
		{policy(func(p *portalmail.PolicyChange) { p.DiffLink = "" }), "policy_update mail needs Data.Policy.DiffLink"},
		{policy(func(p *portalmail.PolicyChange) { p.PolicyLink = "" }), "policy_update mail needs Data.Policy.PolicyLink"},
		{policy(func(p *portalmail.PolicyChange) { p.Effective = p.Published.Add(6 * 24 * time.Hour) }), "Data.Policy.Effective must be at least 7 days after Data.Policy.Published"},
		{policy(func(p *portalmail.PolicyChange) { p.DiffLink = "/policy/1.2/diff/" }), "Data.Policy.DiffLink is not an absolute http(s) URL"},
		{policy(func(p *portalmail.PolicyChange) { p.PolicyLink = "ftp://portal.example/policy/" }), "Data.Policy.PolicyLink is not an absolute http(s) URL"},
		{data(portalmail.PolicyUpdate, func(d *portalmail.Data) { d.Link = "" }), "policy_update mail needs Data.Link"},
		{data(portalmail.PolicyUpdate, func(d *portalmail.Data) { d.SignInLink = "" }), "policy_update mail needs Data.SignInLink"},
	}
	for _, tc := range tests {
		t.Run(tc.want, func(t *testing.T) {
			_, err := portalmail.Render(op, tc.m)
			if err == nil {
				t.Fatal("Render accepted it")
			}
			if got := err.Error(); got != "mail: "+tc.want {
				t.Errorf("error = %q, want %q", got, "mail: "+tc.want)
			}
		})
	}
}

// TestKindsAreAllTested: every kind is in the tables the every-kind tests read.
func TestKindsAreAllTested(t *testing.T) {
	for _, k := range portalmail.Kinds() {
		if _, ok := uses[k]; !ok {
			t.Errorf("uses has no entry for %s", k)
		}
	}
	for _, k := range []portalmail.Kind{portalmail.BreachNotice, portalmail.PolicyUpdate} {
		if !slices.Contains(portalmail.Kinds(), k) {
			t.Errorf("Kinds() lacks %s", k)
		}
	}
}
