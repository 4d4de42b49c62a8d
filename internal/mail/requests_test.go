package mail_test

import (
	"fmt"
	"html"
	"strings"
	"testing"
	"time"

	portalmail "github.com/privacyportal/portal/internal/mail"
)

// renderBoth renders m and returns its text part and its HTML part without tags, so a test can
// look for the same words in both.
func renderBoth(tb testing.TB, m portalmail.Message) (portalmail.Rendered, []string) {
	tb.Helper()
	r, err := portalmail.Render(op, m)
	if err != nil {
		tb.Fatal(err)
	}
	return r, []string{r.Text, html.UnescapeString(tagRE.ReplaceAllString(r.HTML, ""))}
}

// checkParts reports each of want that a part lacks, and each of bad that a part or the
// subject holds.
func checkParts(tb testing.TB, r portalmail.Rendered, parts, want, bad []string) {
	tb.Helper()
	for i, part := range parts {
		name := [...]string{"text", "HTML"}[i]
		for _, s := range want {
			if !strings.Contains(part, s) {
				tb.Errorf("%s lacks %q:\n%s", name, s, part)
			}
		}
		for _, s := range bad {
			if strings.Contains(part, s) || strings.Contains(r.Subject, s) {
				tb.Errorf("%s or subject holds %q:\n%s", name, s, part)
			}
		}
	}
}

func TestRenderRequestMailInEachLanguage(t *testing.T) {
	tests := []struct {
		locale string
		kind   portalmail.Kind
		want   []string
	}{
		{"en", portalmail.RequestCode, []string{"Hello,", "Request: a copy of your data", "expires in 17 minutes", "If you did not file this request, ignore this mail: without the code, nothing will be done."}},
		{"zh-CN", portalmail.RequestCode, []string{"您好：", "请求类型：获取您的数据副本", "17 分钟", "如果您没有提出这项请求，请忽略此邮件：没有验证码，我们不会进行任何处理。"}},
		// In UTC, not in the zone the times were given in.
		{"en", portalmail.RequestReceipt, []string{"Hello Ada Lovelace,", "Request: a copy of your data", "Reference: req-8c2f41", "Received: 3 March 2027", "We will answer by: 2 April 2027", "What happens next"}},
		{"zh-CN", portalmail.RequestReceipt, []string{"Ada Lovelace，您好：", "请求类型：获取您的数据副本", "请求编号：req-8c2f41", "收到日期：2027年3月3日", "答复截止日期：2027年4月2日", "接下来"}},
		{"en", portalmail.RequestUpdate, []string{"We have declined your request", "Status: declined", "We declined it because meeting it would seriously harm the legitimate rights and interests of you or of other people or organisations.", "data protection authority"}},
		{"zh-CN", portalmail.RequestUpdate, []string{"我们拒绝了您在", "状态：已拒绝", "拒绝的理由是：响应该请求将导致您或其他个人、组织的合法权益受到严重损害。", "数据保护监管机构"}},
		{"en", portalmail.ExportReady, []string{"is ready", "works only once, within 9 days", "a JSON file", "CSV files", "an index page", "ask for a new copy"}},
		{"zh-CN", portalmail.ExportReady, []string{"已准备好", "只能使用一次", "9 天", "JSON 文件", "CSV 文件", "索引页面", "重新申请一份副本"}},
		{"en", portalmail.ExportShareConfirm, []string{"We will send your copy to bank@example.org only if you confirm.", "If you did not ask for this, ignore this mail"}},
		{"zh-CN", portalmail.ExportShareConfirm, []string{"只有在您确认之后，我们才会将您的副本发送给 bank@example.org。", "如果您没有提出这项要求，请忽略此邮件"}},
		{"en", portalmail.ExportThirdParty, []string{"Grace Hopper asked Privacy Portal to send you a copy", "at their request, as our privacy policy provides", "works only once, within 9 days", "a JSON file", "CSV files", "an index page"}},
		{"zh-CN", portalmail.ExportThirdParty, []string{"Grace Hopper请求Privacy Portal", "我们应其请求、按照我们的隐私政策发送此副本", "只能使用一次", "9 天", "JSON 文件", "CSV 文件", "索引页面"}},
		{"en", portalmail.ErasureDone, []string{"Hello,", "You asked Privacy Portal to delete your data. We have done it", "Request: the deletion of your data", "Reference: req-8c2f41", "Finished: 2027-03-03 01:30 UTC", "found nothing"}},
		{"zh-CN", portalmail.ErasureDone, []string{"您好：", "您要求Privacy Portal删除您的数据。", "请求类型：删除您的数据", "请求编号：req-8c2f41", "完成时间：2027-03-03 01:30 UTC", "未发现任何内容"}},
		{"en", portalmail.OperatorDigest, []string{"dsr-41a7: deletion, due 10 March 2027 (2 days left)", "dsr-93c0: contact, OVERDUE, was due 6 March 2027", "portalctl show <id>"}},
		{"zh-CN", portalmail.OperatorDigest, []string{"dsr-41a7：删除，截止日期为 2027年3月10日（剩余 2 天）", "dsr-93c0：联系，已逾期，截止日期为 2027年3月6日", "portalctl show <id>"}},
	}
	for _, tc := range tests {
		t.Run(fmt.Sprintf("%s/%s", tc.kind, tc.locale), func(t *testing.T) {
			r, parts := renderBoth(t, message(tc.locale, tc.kind, fullData()))
			var bad []string
			if tc.locale == portalmail.Chinese {
				bad = []string{"Hello", "Request:", "March", "declined", "OVERDUE"}
			}
			checkParts(t, r, parts, tc.want, bad)
		})
	}
}

// TestRenderRequestNames: every request type, status and refusal ground Render accepts has a
// name in each language, and no two share one.
func TestRenderRequestNames(t *testing.T) {
	types := map[string][2]string{
		"access":       {"access to your data", "查阅您的数据"},
		"correction":   {"a correction of your data", "更正您的数据"},
		"deletion":     {"the deletion of your data", "删除您的数据"},
		"copy":         {"a copy of your data", "您的数据副本"},
		"withdrawal":   {"the withdrawal of your consent", "撤回您的同意"},
		"cancellation": {"the cancellation of your account", "注销您的账户"},
		"explanation":  {"an explanation of an automated decision", "解释一项自动化决策"},
		"complaint":    {"a complaint", "投诉"},
		"contact":      {"a message to our protection officer", "个人信息保护负责人"},
	}
	statuses := map[string][2]string{
		"in_progress": {"Status: in progress", "状态：处理中"},
		"completed":   {"Status: completed", "状态：已完成"},
		"refused":     {"Status: declined", "状态：已拒绝"},
	}
	// The privacy policy's words (section 5.8), in each language.
	grounds := map[string][2]string{
		"national_security":       {"national security or national defence", "与国家安全、国防安全有关"},
		"public_interest":         {"public safety, public health or a major public interest", "与公共安全、公共卫生、重大公共利益有关"},
		"criminal_proceedings":    {"a criminal investigation, prosecution, trial or the enforcement of a judgment", "与刑事侦查、起诉、审判和判决执行等有关"},
		"abuse_of_rights":         {"made in bad faith or abuses the right", "主观恶意或滥用权利"},
		"harms_others":            {"seriously harm the legitimate rights and interests of you or of other people or organisations", "合法权益受到严重损害"},
		"unreasonably_repeated":   {"repeats an earlier request without good reason", "无正当理由重复提出"},
		"technically_impractical": {"disproportionate technical effort", "不相称的技术努力"},
		"risks_others_rights":     {"put other people's rights and interests at risk", "给他人合法权益带来风险"},
	}
	for i, loc := range []string{portalmail.English, portalmail.Chinese} {
		for _, set := range []struct {
			name  string
			names map[string][2]string
			set   func(*portalmail.Data, string)
		}{
			{"type", types, func(d *portalmail.Data, v string) { d.RequestType = v }},
			{"status", statuses, func(d *portalmail.Data, v string) { d.Status = v }},
			{"ground", grounds, func(d *portalmail.Data, v string) { d.RefusalGround = v }},
		} {
			texts := map[string]bool{}
			for value, names := range set.names {
				t.Run(fmt.Sprintf("%s %s/%s", set.name, value, loc), func(t *testing.T) {
					d := fullData()
					set.set(&d, value)
					r, parts := renderBoth(t, message(loc, portalmail.RequestUpdate, d))
					checkParts(t, r, parts, []string{names[i]}, nil)
					texts[r.Text] = true
				})
			}
			if len(texts) != len(set.names) {
				t.Errorf("%s/%s: two values render the same mail", set.name, loc)
			}
		}
	}
}

func TestRenderRequestUpdate(t *testing.T) {
	d := fullData()
	tests := []struct {
		name, locale, status string
		complaint            string
		want, bad            []string
	}{
		{"in progress", "en", "in_progress", d.ComplaintLink,
			[]string{"We have started work on your request", "We will answer by: 2 April 2027", "we mail you again when it is done", d.Outcome[:20], d.Link},
			[]string{"declined", "would seriously harm", d.RefusalReason[:20], d.ComplaintLink}},
		{"completed", "en", "completed", d.ComplaintLink,
			[]string{"We have completed your request", "If you are not satisfied", d.ComplaintLink, d.Contact, d.Link},
			[]string{"We will answer by", "would seriously harm", d.RefusalReason[:20]}},
		{"completed, no complaint link", "en", "completed", "",
			[]string{"We have completed your request", "complain to our protection officer: " + d.Contact},
			[]string{"request page"}},
		{"refused", "en", "refused", d.ComplaintLink,
			[]string{"If you disagree, you can complain", d.ComplaintLink, d.Contact, "data protection authority", "The records you asked for are about another person."},
			[]string{"We will answer by"}},
		{"in progress zh", "zh-CN", "in_progress", d.ComplaintLink,
			[]string{"我们已开始处理", "答复截止日期：2027年4月2日", "最晚不超过 2027年4月2日"},
			[]string{"拒绝", d.ComplaintLink}},
		{"completed zh", "zh-CN", "completed", d.ComplaintLink,
			[]string{"我们已处理完成", "如果您对我们的处理方式不满意", d.ComplaintLink},
			[]string{"答复截止日期：", "拒绝的理由"}},
		{"refused zh", "zh-CN", "refused", d.ComplaintLink,
			[]string{"如果您不同意，可以投诉", d.ComplaintLink, "数据保护监管机构"},
			[]string{"答复截止日期："}},
	}
	subjects := map[string]bool{}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d := fullData()
			d.Status, d.ComplaintLink = tc.status, tc.complaint
			if tc.status != "refused" {
				// Only a refusal needs these; any other status ignores them.
				d.RefusalReason = "The records you asked for are about another person."
			}
			r, parts := renderBoth(t, message(tc.locale, portalmail.RequestUpdate, d))
			checkParts(t, r, parts, tc.want, tc.bad)
			subjects[r.Subject] = true
		})
	}
	if len(subjects) != 6 {
		t.Errorf("statuses share a subject: %v", subjects)
	}
}

// TestRenderRequestOutcomeParagraphs: plain text, cut at blank lines; the HTML keeps a
// paragraph's own line breaks and escapes everything.
func TestRenderRequestOutcomeParagraphs(t *testing.T) {
	d := fullData()
	d.Status = "completed"
	d.Outcome = "Your job title is now \"Analyst\".\r\nYour old title is deleted.\r\n\r\n\r\n  \nWe <b>also</b> checked your address.  "
	r, err := portalmail.Render(op, message("en", portalmail.RequestUpdate, d))
	if err != nil {
		t.Fatal(err)
	}
	if want := "\n\nYour job title is now \"Analyst\".\nYour old title is deleted.\n\nWe <b>also</b> checked your address.\n\n"; !strings.Contains(r.Text, want) {
		t.Errorf("text lacks %q:\n%s", want, r.Text)
	}
	if strings.Contains(r.Text, "\r") {
		t.Error("text has a CR")
	}
	for _, want := range []string{
		"<p>Your job title is now &#34;Analyst&#34;.<br>\nYour old title is deleted.</p>\n<p>We &lt;b&gt;also&lt;/b&gt; checked your address.</p>",
	} {
		if !strings.Contains(r.HTML, want) {
			t.Errorf("HTML lacks %q:\n%s", want, r.HTML)
		}
	}

	d.Outcome = " \n "
	r, err = portalmail.Render(op, message("en", portalmail.RequestUpdate, d))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(r.HTML, "<p></p>") {
		t.Errorf("an empty outcome left an empty paragraph:\n%s", r.HTML)
	}
}

// TestP23_RepeatedRequestReceiptWarnsBeforeFeeOrRefusal: the receipt of a repeat says that a
// fee or a refusal may follow, and that the requester is told first; other receipts do not.
func TestP23_RepeatedRequestReceiptWarnsBeforeFeeOrRefusal(t *testing.T) {
	tests := []struct {
		locale string
		repeat bool
		lines  []string
	}{
		{"en", true, []string{"we may charge a fee that covers our cost", "we may decline a request repeated without good reason", "We will tell you before we do either."}},
		{"zh-CN", true, []string{"可能会收取覆盖成本的费用", "无正当理由重复提出的请求，我们可能会予以拒绝", "我们都会事先告诉您"}},
		{"en", false, []string{"fee", "decline"}},
		{"zh-CN", false, []string{"费用", "拒绝"}},
	}
	for _, tc := range tests {
		t.Run(fmt.Sprintf("%s/repeat=%t", tc.locale, tc.repeat), func(t *testing.T) {
			d := fullData()
			d.Repeat = tc.repeat
			r, parts := renderBoth(t, message(tc.locale, portalmail.RequestReceipt, d))
			if tc.repeat {
				checkParts(t, r, parts, tc.lines, nil)
			} else {
				checkParts(t, r, parts, nil, tc.lines)
			}
		})
	}
}

// TestP23_RequestCodeHoldsNothingTheRequesterTyped: the address has not proved it wants the
// mail, so the code's mail shows no name, no third party, no reference and no link.
func TestP23_RequestCodeHoldsNothingTheRequesterTyped(t *testing.T) {
	for _, loc := range []string{portalmail.English, portalmail.Chinese} {
		t.Run(loc, func(t *testing.T) {
			d := fullData()
			r, parts := renderBoth(t, message(loc, portalmail.RequestCode, d))
			checkParts(t, r, parts, []string{d.Code}, []string{d.Name, d.ThirdParty, d.RequesterName, d.RequestID, d.Link, d.Contact, d.Outcome[:20], d.RefusalReason[:20]})
		})
	}
}

// TestP21_ExportMailsGiveSingleUseLinks: the requester's and the third party's mails show the
// link in full, say it works once and for how long, and what the archive holds; the
// confirmation names the third party and sends nothing by itself.
func TestP21_ExportMailsGiveSingleUseLinks(t *testing.T) {
	d := fullData()
	tests := []struct {
		kind      portalmail.Kind
		locale    string
		want, bad []string
	}{
		{portalmail.ExportReady, "en", []string{d.Link, "only once", "9 days", "JSON", "CSV", "index page", d.RequestsLink}, []string{d.ThirdParty, d.RequesterName}},
		{portalmail.ExportReady, "zh-CN", []string{d.Link, "只能使用一次", "9 天", "JSON", "CSV", "索引页面", d.RequestsLink}, []string{d.ThirdParty, d.RequesterName}},
		{portalmail.ExportShareConfirm, "en", []string{d.ThirdParty, d.Link, "only if you confirm", "ignore this mail"}, []string{d.RequestsLink}},
		{portalmail.ExportShareConfirm, "zh-CN", []string{d.ThirdParty, d.Link, "只有在您确认之后", "请忽略此邮件"}, []string{d.RequestsLink}},
		// The third party learns the requester's name and nothing else about them.
		{portalmail.ExportThirdParty, "en", []string{d.RequesterName, d.Link, "only once", "9 days", "privacy policy", d.Contact}, []string{d.Name, d.ThirdParty, d.RequestID, d.RequestsLink}},
		{portalmail.ExportThirdParty, "zh-CN", []string{d.RequesterName, d.Link, "只能使用一次", "9 天", "隐私政策", d.Contact}, []string{d.Name, d.ThirdParty, d.RequestID, d.RequestsLink}},
	}
	for _, tc := range tests {
		t.Run(fmt.Sprintf("%s/%s", tc.kind, tc.locale), func(t *testing.T) {
			r, parts := renderBoth(t, message(tc.locale, tc.kind, d))
			checkParts(t, r, parts, tc.want, tc.bad)
			if tc.kind == portalmail.ExportThirdParty && strings.Contains(r.Subject, d.RequesterName) {
				t.Errorf("subject %q names the requester", r.Subject)
			}
		})
	}
}

// TestP23_OperatorDigestListsDueRequests: IDs, types and due dates, the overdue ones marked
// and counted in the subject, and nothing that identifies a person.
func TestP23_OperatorDigestListsDueRequests(t *testing.T) {
	tests := []struct {
		locale, subject string
		requests        []portalmail.DueRequest
		want            []string
	}{
		{"en", "2 data-subject requests due soon at Privacy Portal (1 overdue)", fullData().Requests, []string{"dsr-41a7", "dsr-93c0", "OVERDUE"}},
		{"en", "1 data-subject request due soon at Privacy Portal", []portalmail.DueRequest{
			{ID: "dsr-0001", Type: "copy", Due: time.Date(2027, 3, 8, 23, 0, 0, 0, time.UTC), DaysLeft: 0},
		}, []string{"dsr-0001: copy of data, due 8 March 2027 (today)"}},
		{"en", "1 data-subject request due soon at Privacy Portal", []portalmail.DueRequest{
			{ID: "dsr-0002", Type: "explanation", Due: time.Date(2027, 3, 9, 1, 0, 0, 0, time.FixedZone("CST", 8*3600)), DaysLeft: 1},
		}, []string{"dsr-0002: explanation of an automated decision, due 8 March 2027 (1 day left)"}},
		{"zh-CN", "Privacy Portal有 2 个数据主体请求即将到期（其中 1 个已逾期）", fullData().Requests, []string{"dsr-41a7", "dsr-93c0", "已逾期"}},
		{"zh-CN", "Privacy Portal有 1 个数据主体请求即将到期", []portalmail.DueRequest{
			{ID: "dsr-0001", Type: "copy", Due: time.Date(2027, 3, 8, 23, 0, 0, 0, time.UTC), DaysLeft: 0},
		}, []string{"dsr-0001：数据副本，截止日期为 2027年3月8日（今天到期）"}},
	}
	for _, tc := range tests {
		t.Run(tc.subject, func(t *testing.T) {
			d := fullData()
			d.Requests = tc.requests
			r, parts := renderBoth(t, message(tc.locale, portalmail.OperatorDigest, d))
			if r.Subject != tc.subject {
				t.Errorf("subject = %q, want %q", r.Subject, tc.subject)
			}
			checkParts(t, r, parts, append(tc.want, "portalctl show <id>"), []string{d.Name, d.RequesterName, d.ThirdParty, d.Contact, "ada@example.com", d.RequestID})
		})
	}
}

// erasureMessage is an ErasureDone mail of fullData's erasure, for a request of type typ.
func erasureMessage(locale, typ string, e portalmail.Erasure) portalmail.Message {
	d := fullData()
	d.RequestType, d.Erasure = typ, &e
	return message(locale, portalmail.ErasureDone, d)
}

// TestP17_ErasureDoneReportsTheOutcome: the mail after an erasure names every recipient told
// to delete and every third party the person had a copy sent to (and says the portal did not
// contact those), gives the counts, the backup period, the check that found nothing, what is
// kept as proof and whom to ask; it greets no one by name, for the name is gone.
func TestP17_ErasureDoneReportsTheOutcome(t *testing.T) {
	d := fullData()
	e := *d.Erasure
	tests := []struct {
		locale, typ string
		want        []string
	}{
		{"en", "deletion", []string{
			"You asked Privacy Portal to delete your data.", "does not greet you by name",
			"We have instructed each of them to delete it:\nNorthwind Payments Ltd\nContoso Mailing GmbH",
			"At your request, we had sent a copy of your data to:\nadvisor@example.net",
			"so we have not contacted them", "ask them directly",
			"we removed 23 records from our database and 4 files from our storage",
			"within 35 days of the erasure",
			"searched our systems for anything left about you and found nothing",
			"account and your profile", "consent choices", "your requests to us", "audit trail", "sign-in sessions", "export archives",
			"a single record, as proof", "no personal data",
			"Finished: 2027-03-03 01:30 UTC", "data protection authority",
		}},
		{"en", "cancellation", []string{
			"You asked Privacy Portal to cancel your account and delete your data.", "the account cannot be restored",
			"Northwind Payments Ltd", "Contoso Mailing GmbH", "advisor@example.net", "so we have not contacted them",
			"23 records", "4 files", "within 35 days", "found nothing",
		}},
		{"zh-CN", "deletion", []string{
			"您要求Privacy Portal删除您的数据。", "本邮件不再称呼您的姓名",
			"我们已通知每一家机构删除这些数据：\nNorthwind Payments Ltd\nContoso Mailing GmbH",
			"我们曾将您的数据副本发送至以下地址：\nadvisor@example.net",
			"因此我们没有联系对方", "请直接向对方提出",
			"删除了 23 条记录", "删除了 4 个文件",
			"删除完成后 35 天内从备份中消失",
			"未发现任何内容",
			"账户和个人资料", "同意设置历史记录", "您向我们提出的请求", "审计记录", "登录会话", "下载存档",
			"仅保留一条记录", "不含任何个人信息",
			"完成时间：2027-03-03 01:30 UTC", "数据保护监管机构",
		}},
		{"zh-CN", "cancellation", []string{
			"您要求Privacy Portal注销您的账户并删除您的数据。", "账户也无法恢复",
			"Northwind Payments Ltd", "Contoso Mailing GmbH", "advisor@example.net", "因此我们没有联系对方",
			"23 条记录", "4 个文件", "35 天内", "未发现任何内容",
		}},
	}
	subjects := map[string]bool{}
	for _, tc := range tests {
		t.Run(tc.typ+"/"+tc.locale, func(t *testing.T) {
			r, parts := renderBoth(t, erasureMessage(tc.locale, tc.typ, e))
			// The lists, item by item and in order: "- " in the text, <li> in the HTML.
			for i := range parts {
				parts[i] = strings.Join(strings.FieldsFunc(strings.ReplaceAll(parts[i], "\n- ", "\n"), func(r rune) bool { return r == '\n' }), "\n")
			}
			want := append(tc.want, d.RequestID, d.Link, d.Contact)
			bad := []string{d.Name, "Ada", d.ThirdParty, d.ComplaintLink, d.RequestsLink}
			if tc.locale == portalmail.Chinese {
				bad = append(bad, "Hello", "Request:", "records", "days")
			}
			checkParts(t, r, parts, want, bad)
			// No list item left empty, no stray markup.
			if strings.Contains(r.HTML, "<li></li>") || strings.Contains(r.Text, "\n- \n") {
				t.Errorf("empty list item:\n%s", r.Text)
			}
			subjects[r.Subject] = true
		})
	}
	if len(subjects) != len(tests) {
		t.Errorf("deletion and cancellation share a subject: %v", subjects)
	}

	// One of each counts in the singular; a search that was not made is not claimed.
	one := e
	one.Items, one.Objects, one.BackupDays, one.Verified = 1, 1, 1, false
	r, parts := renderBoth(t, erasureMessage("en", "deletion", one))
	checkParts(t, r, parts, []string{"we removed 1 record from our database and 1 file from our storage", "within 1 day of the erasure"}, []string{"found nothing", "We checked"})
	r, parts = renderBoth(t, erasureMessage("zh-CN", "deletion", one))
	checkParts(t, r, parts, []string{"1 条记录", "1 个文件", "1 天内"}, []string{"未发现任何内容", "我们已经核实"})
}

// TestP17_ErasureDoneWithNoOneElse: with no recipient told and no third party, the mail says
// that no organisation had the data and that no copy was sent anyone, rather than leave a
// heading over an empty list.
func TestP17_ErasureDoneWithNoOneElse(t *testing.T) {
	tests := []struct {
		locale    string
		want, bad []string
	}{
		{"en",
			[]string{"No organisation had received your data from us, so there was no one else to tell.", "You did not have us send a copy of your data to anyone else."},
			[]string{"We have instructed each of them", "At your request, we had sent", "not contacted them", "Northwind", "advisor@example.net"}},
		{"zh-CN",
			[]string{"此前没有任何机构从我们这里获得过您的数据，因此无需通知其他方。", "您没有要求我们将您的数据副本发送给其他任何人。"},
			[]string{"我们已通知每一家机构", "我们曾将您的数据副本发送至以下地址", "没有联系对方", "Northwind", "advisor@example.net"}},
	}
	for _, tc := range tests {
		for _, empty := range []struct {
			name       string
			told, inde []string
		}{{"nil", nil, nil}, {"empty", []string{}, []string{}}} {
			t.Run(tc.locale+"/"+empty.name, func(t *testing.T) {
				e := *fullData().Erasure
				e.RecipientsTold, e.Independent = empty.told, empty.inde
				r, parts := renderBoth(t, erasureMessage(tc.locale, "cancellation", e))
				checkParts(t, r, parts, tc.want, tc.bad)
				if strings.Contains(r.HTML, "<ul>\n</ul>") {
					t.Errorf("HTML has an empty list:\n%s", r.HTML)
				}
			})
		}
	}
}

// TestP17_ErasureDoneKeepsTheCallersData: Render puts each name and address on one line in a
// copy, and leaves the caller's Erasure as it was.
func TestP17_ErasureDoneKeepsTheCallersData(t *testing.T) {
	e := portalmail.Erasure{
		RecipientsTold: []string{"Northwind\n- Payments Ltd"},
		Independent:    []string{"  advisor@example.net\r\n"},
		BackupDays:     35,
	}
	m := erasureMessage("en", "deletion", e)
	r, err := portalmail.Render(op, m)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(r.Text, "\n- Northwind - Payments Ltd\n") || !strings.Contains(r.Text, "\n- advisor@example.net\n") {
		t.Errorf("names not on one line:\n%s", r.Text)
	}
	if m.Data.Erasure.RecipientsTold[0] != "Northwind\n- Payments Ltd" || m.Data.Erasure.Independent[0] != "  advisor@example.net\r\n" {
		t.Errorf("Render changed the caller's Erasure: %+v", *m.Data.Erasure)
	}
}
