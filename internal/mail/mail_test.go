package mail_test

import (
	"bytes"
	"fmt"
	"html"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/mail"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	portalmail "github.com/privacyportal/portal/internal/mail"
)

var op = portalmail.Operator{
	Name:    "Privacy Portal",
	Contact: "privacy@portal.example",
	SiteURL: "https://portal.example/",
}

// fullData fills every field with a distinct value, so a test can tell which fields a mail
// shows and which it must not.
func fullData() portalmail.Data {
	return portalmail.Data{
		Name:       "Ada Lovelace",
		Code:       "482915",
		Link:       "https://portal.example/verify/#token=tok-link-5b1e",
		SignInLink: "https://portal.example/signin/?from=mail",
		ChildName:  "Little Tom",
		Contact:    "security@portal.example",
		Minutes:    17,
		Days:       9,

		Title:           "Spring courses for members",
		Paragraphs:      []string{"Our spring courses open on 1 April.", "Members book a week before everyone else."},
		UnsubscribeLink: "https://portal.example/unsubscribe/?token=page-9f3a",
		PreferencesLink: "https://portal.example/consent/",
		Changes:         []portalmail.Change{{Purpose: "Marketing mail", Granted: true}, {Purpose: "Usage analytics", Granted: false}},
		ReceiptID:       "cr-7d41e0",
		At:              time.Date(2027, 3, 3, 9, 30, 59, 0, time.FixedZone("CST", 8*3600)),
		Receipt:         []byte(`{"version":"KI-CR-v1.1.0","consentReceiptID":"cr-7d41e0"}`),

		RequestType: "copy",
		RequestID:   "req-8c2f41",
		// 02:00 in UTC+8 is still the day before in UTC: the mail shows 3 March.
		Received:      time.Date(2027, 3, 4, 2, 0, 0, 0, time.FixedZone("CST", 8*3600)),
		Due:           time.Date(2027, 4, 3, 2, 0, 0, 0, time.FixedZone("CST", 8*3600)),
		Repeat:        true,
		Status:        "refused",
		Outcome:       "We looked at every record we keep.\n\nNothing was changed.",
		RefusalGround: "harms_others",
		RefusalReason: "The records you asked for are about another person.\nShowing them would harm that person.",
		ComplaintLink: "https://portal.example/requests/?complain=req-8c2f41",
		RequestsLink:  "https://portal.example/requests/?type=copy",
		ThirdParty:    "bank@example.org",
		RequesterName: "Grace Hopper",
		Requests: []portalmail.DueRequest{
			{ID: "dsr-41a7", Type: "deletion", Due: time.Date(2027, 3, 10, 12, 0, 0, 0, time.UTC), DaysLeft: 2},
			{ID: "dsr-93c0", Type: "contact", Due: time.Date(2027, 3, 6, 12, 0, 0, 0, time.UTC), DaysLeft: -2, Overdue: true},
		},
		Erasure: &portalmail.Erasure{
			Items: 23, Objects: 4,
			RecipientsTold: []string{"Northwind Payments Ltd", "Contoso Mailing GmbH"},
			Independent:    []string{"advisor@example.net"},
			BackupDays:     35,
			Verified:       true,
		},
		Breach: &portalmail.Breach{
			Title:     "Unauthorised access to our support mailbox",
			Incident:  "An attacker used a stolen staff password to read our support mailbox.\nThey had access for about ten hours.\n\nThe mailbox held the messages people had sent our support team.",
			Impact:    "Someone may send you mail that pretends to come from our support team.",
			Measures:  "We locked the mailbox and reset every staff password.\n\nBy 31 March every staff account will need a second sign-in factor.",
			SelfHelp:  "Be careful with mail that asks you to sign in or to pay.",
			Remedies:  "We offer a year of identity monitoring at no cost to you.",
			DataKinds: []string{"Support ticket contents", "Postal address"},
			People:    12400,
			Occurred:  time.Date(2027, 3, 1, 22, 10, 0, 0, time.UTC),
			// 16:45 in UTC+8 is 08:45 in UTC.
			Discovered: time.Date(2027, 3, 2, 16, 45, 0, 0, time.FixedZone("CST", 8*3600)),
			Contact:    "incident-desk@portal.example",
		},
		Policy: &portalmail.PolicyChange{
			Version:   "1.2",
			Summary:   "We now keep sign-in records for 90 days instead of 180.\n\nWe name our new payment processor.",
			Published: time.Date(2027, 3, 31, 10, 0, 0, 0, time.UTC),
			// 01:00 on 8 April in UTC+8 is still 7 April in UTC: the mail shows 7 April.
			Effective:  time.Date(2027, 4, 8, 1, 0, 0, 0, time.FixedZone("CST", 8*3600)),
			DiffLink:   "https://portal.example/policy/1.2/diff/",
			PolicyLink: "https://portal.example/policy/1.2/",
		},
	}
}

// oneClick is the List-Unsubscribe URL the tests give marketing mail: not the visible link.
const oneClick = "https://portal.example/api/unsubscribe?token=post-1c9b"

// message is a Message of kind k for ada@example.com, with the one-click unsubscribe URL a
// marketing mail needs.
func message(locale string, k portalmail.Kind, d portalmail.Data) portalmail.Message {
	m := portalmail.Message{To: "ada@example.com", Locale: locale, Kind: k, Data: d}
	if k == portalmail.Marketing {
		m.Unsubscribe = oneClick
	}
	if k == portalmail.ErasureDone && d.RequestType == "copy" {
		// fullData's request is a copy; an erasure answers a deletion or a cancellation.
		m.Data.RequestType = "deletion"
	}
	return m
}

// uses lists the Data fields each kind shows; every other string field must not appear.
var uses = map[portalmail.Kind][]string{
	portalmail.VerifyEmail:       {"Code", "Link", "Minutes"},
	portalmail.AlreadyRegistered: {"Name", "SignInLink"},
	portalmail.GuardianConsent:   {"ChildName", "Link", "Days"},
	portalmail.GuardianDecision:  {"ChildName"},
	portalmail.EmailChangeVerify: {"Code", "Minutes"},
	portalmail.EmailChangeNotice: {"Name", "Contact"},
	portalmail.PasswordReset:     {"Name", "Code", "Link", "Minutes"},
	portalmail.PasswordChanged:   {"Name", "SignInLink", "Contact"},
	// The title is the subject, checked on its own.
	portalmail.Marketing:      {"Name", "UnsubscribeLink", "PreferencesLink", "Paragraphs"},
	portalmail.ConsentReceipt: {"Name", "Link", "Contact", "ReceiptID", "At", "Changes"},
	// The code's mail shows nothing the requester typed.
	portalmail.RequestCode:    {"Code", "Minutes"},
	portalmail.RequestReceipt: {"Name", "RequestID", "Link", "Contact"},
	// fullData's update is a refusal, which shows the most.
	portalmail.RequestUpdate:      {"Name", "RequestID", "Link", "Contact", "Outcome", "RefusalReason", "ComplaintLink"},
	portalmail.ExportReady:        {"Name", "Link", "Days", "RequestsLink", "Contact"},
	portalmail.ExportShareConfirm: {"Name", "ThirdParty", "Link", "Contact"},
	portalmail.ExportThirdParty:   {"RequesterName", "Link", "Days", "Contact"},
	// No Name: it went with everything else.
	portalmail.ErasureDone:    {"RequestID", "Link", "Contact", "At", "Erasure"},
	portalmail.OperatorDigest: {"Requests"},
	// The title is the subject, checked on its own; Breach.Contact takes Contact's place.
	portalmail.BreachNotice: {"Name", "Link", "Breach"},
	portalmail.PolicyUpdate: {"Name", "Link", "SignInLink", "Contact", "Policy"},
}

// shown are the Data fields a mail shows only if its kind uses them.
var shown = []string{
	"Name", "Code", "Link", "SignInLink", "ChildName", "Contact", "Title", "UnsubscribeLink", "PreferencesLink", "ReceiptID", "Paragraphs", "Changes",
	"RequestID", "Outcome", "RefusalReason", "ComplaintLink", "RequestsLink", "ThirdParty", "RequesterName", "Requests",
	"Erasure", "BreachTitle", "Breach", "Policy",
}

func field(d portalmail.Data, name string) string {
	switch name {
	case "Name":
		return d.Name
	case "Code":
		return d.Code
	case "Link":
		return d.Link
	case "SignInLink":
		return d.SignInLink
	case "ChildName":
		return d.ChildName
	case "Contact":
		return d.Contact
	case "Minutes":
		return strconv.Itoa(d.Minutes)
	case "Days":
		return strconv.Itoa(d.Days)
	case "Title":
		return d.Title
	case "UnsubscribeLink":
		return d.UnsubscribeLink
	case "PreferencesLink":
		return d.PreferencesLink
	case "ReceiptID":
		return d.ReceiptID
	case "At":
		return "2027-03-03 01:30 UTC"
	case "RequestID":
		return d.RequestID
	case "ComplaintLink":
		return d.ComplaintLink
	case "RequestsLink":
		return d.RequestsLink
	case "ThirdParty":
		return d.ThirdParty
	case "RequesterName":
		return d.RequesterName
	case "BreachTitle":
		return d.Breach.Title
	}
	panic("no field " + name)
}

// fields is what a mail shows of a Data field: one string, or one per paragraph or change.
func fields(d portalmail.Data, name string) []string {
	switch name {
	case "Paragraphs":
		return d.Paragraphs
	case "Changes":
		var out []string
		for _, c := range d.Changes {
			out = append(out, c.Purpose)
		}
		return out
	case "Outcome", "RefusalReason":
		// Line by line: the HTML part puts <br> between the lines of a paragraph.
		s := d.Outcome
		if name == "RefusalReason" {
			s = d.RefusalReason
		}
		return strings.FieldsFunc(s, func(r rune) bool { return r == '\n' })
	case "Requests":
		var out []string
		for _, r := range d.Requests {
			out = append(out, r.ID)
		}
		return out
	case "Erasure":
		// The names and addresses: the counts are checked on their own.
		return append(slices.Clone(d.Erasure.RecipientsTold), d.Erasure.Independent...)
	case "Breach":
		// The texts line by line, the kinds of data and the contact: the title, the times
		// and the count are checked on their own.
		b := d.Breach
		var out []string
		for _, s := range []string{b.Incident, b.Impact, b.Measures, b.SelfHelp, b.Remedies} {
			out = append(out, strings.FieldsFunc(s, func(r rune) bool { return r == '\n' })...)
		}
		return append(append(out, b.DataKinds...), b.Contact)
	case "Policy":
		// The summary line by line and the links: the version and the dates are checked on
		// their own.
		p := d.Policy
		return append(strings.FieldsFunc(p.Summary, func(r rune) bool { return r == '\n' }), p.DiffLink, p.PolicyLink)
	}
	return []string{field(d, name)}
}

var urlRE = regexp.MustCompile(`(?i)\bhttps?://[^\s"'<>]+`)

func TestRender(t *testing.T) {
	type tc struct {
		name      string
		locale    string
		wantLang  string
		kind      portalmail.Kind
		confirmed bool
	}
	var tests []tc
	for _, loc := range []string{portalmail.English, portalmail.Chinese} {
		for _, k := range portalmail.Kinds() {
			tests = append(tests, tc{fmt.Sprintf("%s/%s", k, loc), loc, loc, k, false})
			if k == portalmail.GuardianDecision {
				tests = append(tests, tc{fmt.Sprintf("%s confirmed/%s", k, loc), loc, loc, k, true})
			}
		}
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d := fullData()
			d.Confirmed = tc.confirmed
			r, err := portalmail.Render(op, message(tc.locale, tc.kind, d))
			if err != nil {
				t.Fatal(err)
			}
			if r.To != "ada@example.com" {
				t.Errorf("To = %q", r.To)
			}
			if r.Subject == "" || r.Text == "" || r.HTML == "" {
				t.Fatalf("empty part: subject %q, text %d bytes, HTML %d bytes", r.Subject, len(r.Text), len(r.HTML))
			}
			if strings.ContainsAny(r.Subject, "\r\n") {
				t.Errorf("subject has a line break: %q", r.Subject)
			}
			plainHTML := html.UnescapeString(r.HTML)
			// Every mail says who sent it and how to reach them.
			for _, want := range append([]string{op.Name, op.Contact, op.SiteURL}, wanted(d, tc.kind)...) {
				if !strings.Contains(r.Text, want) {
					t.Errorf("text lacks %q:\n%s", want, r.Text)
				}
				if !strings.Contains(plainHTML, want) {
					t.Errorf("HTML lacks %q:\n%s", want, r.HTML)
				}
			}
			for _, name := range shown {
				if slices.Contains(uses[tc.kind], name) || (name == "Title" && tc.kind == portalmail.Marketing) || (name == "BreachTitle" && tc.kind == portalmail.BreachNotice) {
					continue
				}
				for _, v := range fields(d, name) {
					if strings.Contains(r.Text, v) || strings.Contains(plainHTML, v) || strings.Contains(r.Subject, v) {
						t.Errorf("%s mail shows Data.%s, which it must not", tc.kind, name)
					}
				}
			}
			if tc.kind == portalmail.Marketing && r.Subject != d.Title {
				t.Errorf("marketing subject = %q, want the title %q", r.Subject, d.Title)
			}
			if tc.kind == portalmail.BreachNotice && r.Subject != d.Breach.Title {
				t.Errorf("breach notice subject = %q, want the title %q", r.Subject, d.Breach.Title)
			}
			wantAttachments := 0
			if tc.kind == portalmail.ConsentReceipt {
				wantAttachments = 1
			}
			if len(r.Attachments) != wantAttachments {
				t.Errorf("%d attachments, want %d", len(r.Attachments), wantAttachments)
			}
			if got := r.Headers["Content-Language"]; got != tc.wantLang {
				t.Errorf("Content-Language = %q, want %q", got, tc.wantLang)
			}

			// Accessible HTML: the language, a real title, a heading; no layout tables.
			for _, want := range []string{
				"<!DOCTYPE html>",
				`<html lang="` + tc.wantLang + `">`,
				"<title>" + html.EscapeString(r.Subject) + "</title>",
				"<h1",
				`<meta charset="utf-8">`,
			} {
				if !strings.Contains(r.HTML, want) {
					t.Errorf("HTML lacks %s", want)
				}
			}
			// Nothing that loads or runs anything (promise P08).
			lower := strings.ToLower(r.HTML)
			for _, bad := range []string{"<img", "<table", "<script", "<link", "<iframe", "<object", "<form", "src=", "url(", "@import", "background="} {
				if strings.Contains(lower, bad) {
					t.Errorf("HTML contains %s", bad)
				}
			}
			allowed := []string{op.SiteURL, d.Link, d.SignInLink, d.UnsubscribeLink, d.PreferencesLink, d.ComplaintLink, d.RequestsLink, d.Policy.DiffLink, d.Policy.PolicyLink}
			for _, body := range []string{r.Text, plainHTML} {
				for _, u := range urlRE.FindAllString(body, -1) {
					if !slices.Contains(allowed, u) {
						t.Errorf("URL %q is none of the given links", u)
					}
				}
			}
			if tc.kind == portalmail.VerifyEmail || tc.kind == portalmail.EmailChangeVerify || tc.kind == portalmail.RequestCode {
				// The code stands on a line of its own in the text, and in its own
				// paragraph in the HTML.
				if !strings.Contains(r.Text, "\n    "+d.Code+"\n") {
					t.Errorf("text does not set the code apart:\n%s", r.Text)
				}
				if !regexp.MustCompile(`<p style="[^"]*font-size:30px[^"]*">` + d.Code + `</p>`).MatchString(r.HTML) {
					t.Errorf("HTML does not set the code apart:\n%s", r.HTML)
				}
			}
		})
	}
}

// wanted is what a mail of kind k must show from d.
func wanted(d portalmail.Data, k portalmail.Kind) []string {
	var out []string
	for _, name := range uses[k] {
		out = append(out, fields(d, name)...)
	}
	return out
}

func TestRenderGuardianDecision(t *testing.T) {
	tests := []struct {
		name      string
		locale    string
		confirmed bool
		want      string
	}{
		{"confirmed", "en", true, "It is now active."},
		{"refused", "en", false, "We have deleted it"},
		{"confirmed zh", "zh-CN", true, "该账户现已启用"},
		{"refused zh", "zh-CN", false, "我们已删除该账户"},
	}
	subjects := map[string]bool{}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d := portalmail.Data{ChildName: "Tom", Confirmed: tc.confirmed}
			r, err := portalmail.Render(op, portalmail.Message{To: "parent@example.com", Locale: tc.locale, Kind: portalmail.GuardianDecision, Data: d})
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(r.Text, tc.want) || !strings.Contains(r.HTML, tc.want) {
				t.Errorf("mail lacks %q:\n%s", tc.want, r.Text)
			}
			subjects[r.Subject] = true
		})
	}
	if len(subjects) != len(tests) {
		t.Errorf("confirmed and refused share a subject: %v", subjects)
	}
}

func TestRenderEscapesHTML(t *testing.T) {
	const evil = "<script>alert(1)</script>"
	for _, loc := range []string{portalmail.English, portalmail.Chinese} {
		for _, k := range portalmail.Kinds() {
			t.Run(fmt.Sprintf("%s/%s", k, loc), func(t *testing.T) {
				d := fullData()
				d.Name, d.ChildName, d.Title = evil, evil, evil
				d.Paragraphs = []string{evil, "<img src=https://tracker.example/p.gif>"}
				d.Changes = []portalmail.Change{{Purpose: evil, Granted: true}}
				d.RequestID, d.ThirdParty, d.RequesterName = evil, evil, evil
				d.Outcome, d.RefusalReason = evil+"\n\n<img src=https://tracker.example/p.gif>", evil
				d.Requests = []portalmail.DueRequest{{ID: evil, Type: "copy", Due: d.Due, DaysLeft: 3}}
				d.Erasure.RecipientsTold, d.Erasure.Independent = []string{evil, "<img src=https://tracker.example/p.gif>"}, []string{evil}
				b := d.Breach
				b.Title, b.Contact, b.DataKinds = evil, evil, []string{evil, "<img src=https://tracker.example/p.gif>"}
				b.Incident, b.Impact, b.Measures = evil+"\n\n<img src=https://tracker.example/p.gif>", evil, evil+"\n"+evil
				b.SelfHelp, b.Remedies = "<img src=https://tracker.example/p.gif>", evil
				d.Policy.Version, d.Policy.Summary = evil, evil+"\n<img src=https://tracker.example/p.gif>"
				r, err := portalmail.Render(op, message(loc, k, d))
				if err != nil {
					t.Fatal(err)
				}
				if lower := strings.ToLower(r.HTML); strings.Contains(lower, "<script") || strings.Contains(lower, "<img") {
					t.Errorf("HTML has a live script or image tag:\n%s", r.HTML)
				}
				if slices.ContainsFunc(uses[k], func(f string) bool {
					return slices.Contains([]string{"Name", "ChildName", "RequestID", "ThirdParty", "RequesterName", "Outcome", "RefusalReason", "Requests", "Erasure", "Breach", "Policy"}, f)
				}) {
					if !strings.Contains(r.HTML, "&lt;script&gt;alert(1)&lt;/script&gt;") {
						t.Errorf("HTML does not show the escaped name:\n%s", r.HTML)
					}
					// Plain text is not HTML: the name appears as typed.
					if !strings.Contains(r.Text, evil) {
						t.Errorf("text does not show the name as typed")
					}
				}
			})
		}
	}
}

func TestRenderLocale(t *testing.T) {
	tests := []struct {
		locale  string
		want    string
		wantErr bool
	}{
		{"", "en", false},
		{"en", "en", false},
		{"en-GB", "en", false},
		{"fr", "en", false},
		{"zh-TW", "en", false},
		{"zh", "zh-CN", false},
		{"zh-CN", "zh-CN", false},
		{"zh-cn", "zh-CN", false},
		{"ZH-CN", "zh-CN", false},
		{"zh_CN", "zh-CN", false},
		{"zh-Hans", "zh-CN", false},
		{"zh-CN\r\nBcc: x@example.com", "", true},
		{"../../etc/passwd", "", true},
		{"中文", "", true},
		{"en-", "", true},
	}
	for _, tc := range tests {
		t.Run(strconv.Quote(tc.locale), func(t *testing.T) {
			r, err := portalmail.Render(op, message(tc.locale, portalmail.VerifyEmail, fullData()))
			if tc.wantErr {
				if err == nil {
					t.Fatalf("Render accepted locale %q", tc.locale)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := r.Headers["Content-Language"]; got != tc.want {
				t.Errorf("locale = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestRenderRefuses(t *testing.T) {
	d := fullData()
	with := func(f func(*portalmail.Data)) portalmail.Data {
		c := d
		f(&c)
		return c
	}
	// withErasure changes a copy of d's Erasure: with alone would change the one d points to.
	withErasure := func(f func(*portalmail.Erasure)) portalmail.Data {
		c := d
		e := *d.Erasure
		f(&e)
		c.Erasure = &e
		return c
	}
	// withBreach and withPolicy change a copy of d's Breach or Policy, as withErasure does.
	withBreach := func(f func(*portalmail.Breach)) portalmail.Data {
		c := d
		b := *d.Breach
		f(&b)
		c.Breach = &b
		return c
	}
	withPolicy := func(f func(*portalmail.PolicyChange)) portalmail.Data {
		c := d
		p := *d.Policy
		f(&p)
		c.Policy = &p
		return c
	}
	opWith := func(f func(*portalmail.Operator)) portalmail.Operator {
		c := op
		f(&c)
		return c
	}
	tests := []struct {
		name string
		op   portalmail.Operator
		kind portalmail.Kind
		data portalmail.Data
	}{
		{"unknown kind", op, "no_such_kind", d},
		{"empty kind", op, "", d},
		{"verify without code", op, portalmail.VerifyEmail, with(func(d *portalmail.Data) { d.Code = "" })},
		{"verify without link", op, portalmail.VerifyEmail, with(func(d *portalmail.Data) { d.Link = "" })},
		{"verify without minutes", op, portalmail.VerifyEmail, with(func(d *portalmail.Data) { d.Minutes = 0 })},
		{"already registered without sign-in link", op, portalmail.AlreadyRegistered, with(func(d *portalmail.Data) { d.SignInLink = "" })},
		{"guardian without child name", op, portalmail.GuardianConsent, with(func(d *portalmail.Data) { d.ChildName = "" })},
		{"guardian without days", op, portalmail.GuardianConsent, with(func(d *portalmail.Data) { d.Days = 0 })},
		{"decision without child name", op, portalmail.GuardianDecision, with(func(d *portalmail.Data) { d.ChildName = "" })},
		{"change without code", op, portalmail.EmailChangeVerify, with(func(d *portalmail.Data) { d.Code = "" })},
		{"javascript link", op, portalmail.VerifyEmail, with(func(d *portalmail.Data) { d.Link = "javascript:alert(1)" })},
		{"relative link", op, portalmail.GuardianConsent, with(func(d *portalmail.Data) { d.Link = "/guardian/#token=x" })},
		{"link with a line break", op, portalmail.VerifyEmail, with(func(d *portalmail.Data) { d.Link = "https://portal.example/\nhttps://evil.example/" })},
		{"bad sign-in link", op, portalmail.AlreadyRegistered, with(func(d *portalmail.Data) { d.SignInLink = "ftp://portal.example/" })},
		{"marketing without title", op, portalmail.Marketing, with(func(d *portalmail.Data) { d.Title = " " })},
		{"marketing without paragraphs", op, portalmail.Marketing, with(func(d *portalmail.Data) { d.Paragraphs = nil })},
		{"marketing with a blank paragraph", op, portalmail.Marketing, with(func(d *portalmail.Data) { d.Paragraphs = []string{"Hello", "\n "} })},
		{"marketing without unsubscribe link", op, portalmail.Marketing, with(func(d *portalmail.Data) { d.UnsubscribeLink = "" })},
		{"marketing without preferences link", op, portalmail.Marketing, with(func(d *portalmail.Data) { d.PreferencesLink = "" })},
		{"javascript unsubscribe link", op, portalmail.Marketing, with(func(d *portalmail.Data) { d.UnsubscribeLink = "javascript:alert(1)" })},
		{"relative preferences link", op, portalmail.Marketing, with(func(d *portalmail.Data) { d.PreferencesLink = "/consent/" })},
		{"receipt without changes", op, portalmail.ConsentReceipt, with(func(d *portalmail.Data) { d.Changes = nil })},
		{"receipt with a nameless purpose", op, portalmail.ConsentReceipt, with(func(d *portalmail.Data) { d.Changes = []portalmail.Change{{Purpose: " ", Granted: true}} })},
		{"receipt without ID", op, portalmail.ConsentReceipt, with(func(d *portalmail.Data) { d.ReceiptID = "" })},
		{"receipt ID that is a path", op, portalmail.ConsentReceipt, with(func(d *portalmail.Data) { d.ReceiptID = "../../token" })},
		{"receipt ID with a line break", op, portalmail.ConsentReceipt, with(func(d *portalmail.Data) { d.ReceiptID = "a\r\nBcc: x" })},
		{"receipt without time", op, portalmail.ConsentReceipt, with(func(d *portalmail.Data) { d.At = time.Time{} })},
		{"receipt without JSON", op, portalmail.ConsentReceipt, with(func(d *portalmail.Data) { d.Receipt = nil })},
		{"receipt JSON that is not JSON", op, portalmail.ConsentReceipt, with(func(d *portalmail.Data) { d.Receipt = []byte("{token") })},
		{"receipt too big", op, portalmail.ConsentReceipt, with(func(d *portalmail.Data) {
			d.Receipt = []byte(`"` + strings.Repeat("a", portalmail.MaxAttachmentBytes) + `"`)
		})},
		{"receipt without consent centre link", op, portalmail.ConsentReceipt, with(func(d *portalmail.Data) { d.Link = "" })},
		{"request code without code", op, portalmail.RequestCode, with(func(d *portalmail.Data) { d.Code = "" })},
		{"request code without minutes", op, portalmail.RequestCode, with(func(d *portalmail.Data) { d.Minutes = 0 })},
		{"request code without type", op, portalmail.RequestCode, with(func(d *portalmail.Data) { d.RequestType = "" })},
		{"request code of an unknown type", op, portalmail.RequestCode, with(func(d *portalmail.Data) { d.RequestType = "token" })},
		{"receipt of a request without type", op, portalmail.RequestReceipt, with(func(d *portalmail.Data) { d.RequestType = "" })},
		{"receipt of a request without ID", op, portalmail.RequestReceipt, with(func(d *portalmail.Data) { d.RequestID = " " })},
		{"receipt of a request without received", op, portalmail.RequestReceipt, with(func(d *portalmail.Data) { d.Received = time.Time{} })},
		{"receipt of a request without due", op, portalmail.RequestReceipt, with(func(d *portalmail.Data) { d.Due = time.Time{} })},
		{"receipt of a request without link", op, portalmail.RequestReceipt, with(func(d *portalmail.Data) { d.Link = "" })},
		{"update without type", op, portalmail.RequestUpdate, with(func(d *portalmail.Data) { d.RequestType = "" })},
		{"update without ID", op, portalmail.RequestUpdate, with(func(d *portalmail.Data) { d.RequestID = "" })},
		{"update without link", op, portalmail.RequestUpdate, with(func(d *portalmail.Data) { d.Link = "" })},
		{"update without status", op, portalmail.RequestUpdate, with(func(d *portalmail.Data) { d.Status = "" })},
		{"update with an unknown status", op, portalmail.RequestUpdate, with(func(d *portalmail.Data) { d.Status = "expired" })},
		{"update in progress without due", op, portalmail.RequestUpdate, with(func(d *portalmail.Data) { d.Status, d.Due = "in_progress", time.Time{} })},
		{"refusal without ground", op, portalmail.RequestUpdate, with(func(d *portalmail.Data) { d.RefusalGround = "" })},
		{"refusal with an unknown ground", op, portalmail.RequestUpdate, with(func(d *portalmail.Data) { d.RefusalGround = "token" })},
		{"refusal without reason", op, portalmail.RequestUpdate, with(func(d *portalmail.Data) { d.RefusalReason = "\n " })},
		{"refusal without complaint link", op, portalmail.RequestUpdate, with(func(d *portalmail.Data) { d.ComplaintLink = "" })},
		{"javascript complaint link", op, portalmail.RequestUpdate, with(func(d *portalmail.Data) { d.ComplaintLink = "javascript:alert(1)" })},
		{"export without link", op, portalmail.ExportReady, with(func(d *portalmail.Data) { d.Link = "" })},
		{"export without days", op, portalmail.ExportReady, with(func(d *portalmail.Data) { d.Days = 0 })},
		{"export without requests link", op, portalmail.ExportReady, with(func(d *portalmail.Data) { d.RequestsLink = "" })},
		{"relative requests link", op, portalmail.ExportReady, with(func(d *portalmail.Data) { d.RequestsLink = "/requests/" })},
		{"share without third party", op, portalmail.ExportShareConfirm, with(func(d *portalmail.Data) { d.ThirdParty = " " })},
		{"share without link", op, portalmail.ExportShareConfirm, with(func(d *portalmail.Data) { d.Link = "" })},
		{"third party without requester name", op, portalmail.ExportThirdParty, with(func(d *portalmail.Data) { d.RequesterName = "" })},
		{"third party without link", op, portalmail.ExportThirdParty, with(func(d *portalmail.Data) { d.Link = "" })},
		{"third party without days", op, portalmail.ExportThirdParty, with(func(d *portalmail.Data) { d.Days = 0 })},
		{"erasure without type", op, portalmail.ErasureDone, with(func(d *portalmail.Data) { d.RequestType = "" })},
		{"erasure of an access request", op, portalmail.ErasureDone, with(func(d *portalmail.Data) { d.RequestType = "access" })},
		{"erasure of an unknown request type", op, portalmail.ErasureDone, with(func(d *portalmail.Data) { d.RequestType = "token" })},
		{"erasure without ID", op, portalmail.ErasureDone, with(func(d *portalmail.Data) { d.RequestType, d.RequestID = "deletion", " " })},
		{"erasure without link", op, portalmail.ErasureDone, with(func(d *portalmail.Data) { d.RequestType, d.Link = "deletion", "" })},
		{"erasure with a relative link", op, portalmail.ErasureDone, with(func(d *portalmail.Data) { d.RequestType, d.Link = "deletion", "/requests/" })},
		{"erasure without time", op, portalmail.ErasureDone, with(func(d *portalmail.Data) { d.RequestType, d.At = "cancellation", time.Time{} })},
		{"erasure without Erasure", op, portalmail.ErasureDone, with(func(d *portalmail.Data) { d.RequestType, d.Erasure = "deletion", nil })},
		{"erasure without backup days", op, portalmail.ErasureDone, withErasure(func(e *portalmail.Erasure) { e.BackupDays = 0 })},
		{"erasure with negative backup days", op, portalmail.ErasureDone, withErasure(func(e *portalmail.Erasure) { e.BackupDays = -1 })},
		{"erasure with negative items", op, portalmail.ErasureDone, withErasure(func(e *portalmail.Erasure) { e.Items = -1 })},
		{"erasure with negative objects", op, portalmail.ErasureDone, withErasure(func(e *portalmail.Erasure) { e.Objects = -1 })},
		{"erasure with a blank recipient", op, portalmail.ErasureDone, withErasure(func(e *portalmail.Erasure) { e.RecipientsTold = []string{"Northwind Payments Ltd", "\n "} })},
		{"erasure with a blank third party", op, portalmail.ErasureDone, withErasure(func(e *portalmail.Erasure) { e.Independent = []string{""} })},
		{"digest without requests", op, portalmail.OperatorDigest, with(func(d *portalmail.Data) { d.Requests = nil })},
		{"breach without Breach", op, portalmail.BreachNotice, with(func(d *portalmail.Data) { d.Breach = nil })},
		{"breach without title", op, portalmail.BreachNotice, withBreach(func(b *portalmail.Breach) { b.Title = "\n " })},
		{"breach without incident", op, portalmail.BreachNotice, withBreach(func(b *portalmail.Breach) { b.Incident = "" })},
		{"breach without impact", op, portalmail.BreachNotice, withBreach(func(b *portalmail.Breach) { b.Impact = " \n\n " })},
		{"breach without measures", op, portalmail.BreachNotice, withBreach(func(b *portalmail.Breach) { b.Measures = "" })},
		{"breach without self-help", op, portalmail.BreachNotice, withBreach(func(b *portalmail.Breach) { b.SelfHelp = "" })},
		{"breach without remedies", op, portalmail.BreachNotice, withBreach(func(b *portalmail.Breach) { b.Remedies = "\t" })},
		{"breach without contact", op, portalmail.BreachNotice, withBreach(func(b *portalmail.Breach) { b.Contact = " " })},
		{"breach without discovery time", op, portalmail.BreachNotice, withBreach(func(b *portalmail.Breach) { b.Discovered = time.Time{} })},
		{"breach that began after its discovery", op, portalmail.BreachNotice, withBreach(func(b *portalmail.Breach) { b.Occurred = b.Discovered.Add(time.Minute) })},
		{"breach with negative people", op, portalmail.BreachNotice, withBreach(func(b *portalmail.Breach) { b.People = -1 })},
		{"breach with a blank kind of data", op, portalmail.BreachNotice, withBreach(func(b *portalmail.Breach) { b.DataKinds = []string{"Postal address", "\n"} })},
		{"breach with a relative notice link", op, portalmail.BreachNotice, with(func(d *portalmail.Data) { d.Link = "/notices/n-1/" })},
		{"policy without Policy", op, portalmail.PolicyUpdate, with(func(d *portalmail.Data) { d.Policy = nil })},
		{"policy without version", op, portalmail.PolicyUpdate, withPolicy(func(p *portalmail.PolicyChange) { p.Version = " " })},
		{"policy without summary", op, portalmail.PolicyUpdate, withPolicy(func(p *portalmail.PolicyChange) { p.Summary = "\n\n" })},
		{"policy without publication", op, portalmail.PolicyUpdate, withPolicy(func(p *portalmail.PolicyChange) { p.Published = time.Time{} })},
		{"policy without effective date", op, portalmail.PolicyUpdate, withPolicy(func(p *portalmail.PolicyChange) { p.Effective = time.Time{} })},
		{"policy effective after less than 7 days", op, portalmail.PolicyUpdate, withPolicy(func(p *portalmail.PolicyChange) { p.Effective = p.Published.Add(7*24*time.Hour - time.Second) })},
		{"policy effective at publication", op, portalmail.PolicyUpdate, withPolicy(func(p *portalmail.PolicyChange) { p.Effective = p.Published })},
		{"policy effective before publication", op, portalmail.PolicyUpdate, withPolicy(func(p *portalmail.PolicyChange) { p.Effective = p.Published.Add(-8 * 24 * time.Hour) })},
		{"policy without diff link", op, portalmail.PolicyUpdate, withPolicy(func(p *portalmail.PolicyChange) { p.DiffLink = "" })},
		{"policy with a relative diff link", op, portalmail.PolicyUpdate, withPolicy(func(p *portalmail.PolicyChange) { p.DiffLink = "/policy/1.2/diff/" })},
		{"policy without policy link", op, portalmail.PolicyUpdate, withPolicy(func(p *portalmail.PolicyChange) { p.PolicyLink = "" })},
		{"policy with a javascript policy link", op, portalmail.PolicyUpdate, withPolicy(func(p *portalmail.PolicyChange) { p.PolicyLink = "javascript:alert(1)" })},
		{"policy without consent centre link", op, portalmail.PolicyUpdate, with(func(d *portalmail.Data) { d.Link = "" })},
		{"policy without account page link", op, portalmail.PolicyUpdate, with(func(d *portalmail.Data) { d.SignInLink = "" })},
		{"digest entry without ID", op, portalmail.OperatorDigest, with(func(d *portalmail.Data) {
			d.Requests = []portalmail.DueRequest{{Type: "copy", Due: d.Due}}
		})},
		{"digest entry of an unknown type", op, portalmail.OperatorDigest, with(func(d *portalmail.Data) {
			d.Requests = []portalmail.DueRequest{{ID: "dsr-41a7", Type: "token", Due: d.Due}}
		})},
		{"digest entry without due", op, portalmail.OperatorDigest, with(func(d *portalmail.Data) {
			d.Requests = []portalmail.DueRequest{{ID: "dsr-41a7", Type: "copy"}}
		})},
		{"operator without name", opWith(func(o *portalmail.Operator) { o.Name = "" }), portalmail.VerifyEmail, d},
		{"operator name with a line break", opWith(func(o *portalmail.Operator) { o.Name = "Portal\r\nBcc: x@example.com" }), portalmail.VerifyEmail, d},
		{"operator without contact", opWith(func(o *portalmail.Operator) { o.Contact = "" }), portalmail.VerifyEmail, d},
		{"operator without site", opWith(func(o *portalmail.Operator) { o.SiteURL = "" }), portalmail.VerifyEmail, d},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := portalmail.Render(tc.op, message("en", tc.kind, tc.data))
			if err == nil {
				t.Fatal("Render accepted it")
			}
			for _, secret := range []string{
				"ada@example.com", d.Name, d.Code, d.Link, d.SignInLink, d.ChildName, "token", d.Title, d.Paragraphs[0], d.ReceiptID, d.UnsubscribeLink, "Bcc",
				d.RequestID, d.ThirdParty, d.RequesterName, d.ComplaintLink, "dsr-41a7", "expired",
				d.Erasure.RecipientsTold[0], d.Erasure.Independent[0],
				d.Breach.Title, d.Breach.Contact, d.Breach.DataKinds[0], d.Breach.Impact, d.Policy.DiffLink, d.Policy.PolicyLink, "/policy/",
			} {
				if strings.Contains(err.Error(), secret) {
					t.Errorf("error %q repeats personal data", err)
				}
			}
		})
	}
}

func TestBuildRaw(t *testing.T) {
	now := time.Date(2027, 3, 3, 9, 30, 15, 0, time.FixedZone("CST", 8*3600))
	long := op
	long.Name = "一个名字很长很长的隐私门户运营者有限公司（用于测试主题折行）"
	tests := []struct {
		name   string
		op     portalmail.Operator
		locale string
		from   string
	}{
		{"english", op, "en", "Privacy Portal <no-reply@mail.portal.example>"},
		{"chinese", op, "zh-CN", "no-reply@mail.portal.example"},
		{"chinese, long subject folded", long, "zh-CN", "隐私门户 <no-reply@mail.portal.example>"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r, err := portalmail.Render(tc.op, portalmail.Message{To: "Ada <ada@example.com>", Locale: tc.locale, Kind: portalmail.VerifyEmail, Data: fullData()})
			if err != nil {
				t.Fatal(err)
			}
			r.Headers["List-Unsubscribe"] = "<https://portal.example/api/unsubscribe?t=abc>, <mailto:unsubscribe@portal.example?subject=t-abc>"
			r.Headers["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
			raw, err := portalmail.BuildRaw(tc.from, r, now)
			if err != nil {
				t.Fatal(err)
			}
			// 7-bit clean, and no line over RFC 5322's hard limit; quoted-printable keeps body
			// lines to 76.
			head, body, _ := bytes.Cut(raw, []byte("\r\n\r\n"))
			for i, line := range bytes.Split(raw, []byte("\r\n")) {
				if len(line) > 998 {
					t.Errorf("line %d is %d bytes long", i+1, len(line))
				}
				for _, c := range line {
					if c >= 0x80 || c == '\n' || c == '\r' || c == 0 {
						t.Fatalf("line %d is not 7-bit clean: %q", i+1, line)
					}
				}
			}
			for _, line := range bytes.Split(body, []byte("\r\n")) {
				if len(line) > 76 {
					t.Errorf("body line is %d bytes long: %q", len(line), line)
				}
			}
			if tc.op.Name == long.Name && !regexp.MustCompile(`(?m)^Subject: .*\r\n\s`).Match(head) {
				t.Errorf("long subject is not folded:\n%s", head)
			}

			m, err := mail.ReadMessage(bytes.NewReader(raw))
			if err != nil {
				t.Fatal(err)
			}
			from, err := m.Header.AddressList("From")
			if err != nil || len(from) != 1 {
				t.Fatalf("From = %v, %v", from, err)
			}
			wantFrom, _ := mail.ParseAddress(tc.from)
			if *from[0] != *wantFrom {
				t.Errorf("From = %v, want %v", from[0], wantFrom)
			}
			to, err := m.Header.AddressList("To")
			if err != nil || len(to) != 1 || to[0].Address != "ada@example.com" || to[0].Name != "Ada" {
				t.Errorf("To = %v, %v", to, err)
			}
			rawSubject := m.Header.Get("Subject")
			if tc.locale == "zh-CN" && !strings.HasPrefix(rawSubject, "=?utf-8?b?") {
				t.Errorf("Chinese subject is not RFC 2047 encoded: %q", rawSubject)
			}
			subject, err := new(mime.WordDecoder).DecodeHeader(rawSubject)
			if err != nil {
				t.Fatal(err)
			}
			if subject != r.Subject {
				t.Errorf("decoded subject = %q, want %q", subject, r.Subject)
			}
			if date, err := m.Header.Date(); err != nil || !date.Equal(now) {
				t.Errorf("Date = %v, %v; want %v", date, err, now)
			}
			if id := m.Header.Get("Message-ID"); !regexp.MustCompile(`^<[a-z2-7]{26}@mail\.portal\.example>$`).MatchString(id) {
				t.Errorf("Message-ID = %q", id)
			}
			if v := m.Header.Get("MIME-Version"); v != "1.0" {
				t.Errorf("MIME-Version = %q", v)
			}
			for name, want := range r.Headers {
				if got := m.Header[name]; len(got) != 1 || got[0] != want {
					t.Errorf("%s = %q, want [%q]", name, got, want)
				}
			}

			mediaType, params, err := mime.ParseMediaType(m.Header.Get("Content-Type"))
			if err != nil || mediaType != "multipart/alternative" || params["boundary"] == "" {
				t.Fatalf("Content-Type = %q, %v", m.Header.Get("Content-Type"), err)
			}
			mr := multipart.NewReader(m.Body, params["boundary"])
			for _, want := range []struct{ ctype, body string }{
				{"text/plain", r.Text},
				{"text/html", r.HTML},
			} {
				// NextRawPart: NextPart would decode quoted-printable itself and hide the header.
				p, err := mr.NextRawPart()
				if err != nil {
					t.Fatal(err)
				}
				ct, ctParams, err := mime.ParseMediaType(p.Header.Get("Content-Type"))
				if err != nil || ct != want.ctype || ctParams["charset"] != "utf-8" {
					t.Errorf("part Content-Type = %q, want %s; charset=utf-8", p.Header.Get("Content-Type"), want.ctype)
				}
				if cte := p.Header.Get("Content-Transfer-Encoding"); cte != "quoted-printable" {
					t.Errorf("Content-Transfer-Encoding = %q", cte)
				}
				got, err := io.ReadAll(quotedprintable.NewReader(p))
				if err != nil {
					t.Fatal(err)
				}
				// On the wire, text is in canonical form (RFC 2045): every line ends in CRLF.
				if want := strings.ReplaceAll(want.body, "\n", "\r\n"); string(got) != want {
					t.Errorf("%s part decodes to\n%q\nwant\n%q", want, got, want)
				}
			}
			if _, err := mr.NextRawPart(); err != io.EOF {
				t.Errorf("a third part, or a broken end: %v", err)
			}
		})
	}
}

func TestBuildRawMessageIDsDiffer(t *testing.T) {
	r := mustRender(t, "en")
	now := time.Now()
	a, b := mustBuild(t, r, now), mustBuild(t, r, now)
	if a.Header.Get("Message-ID") == b.Header.Get("Message-ID") {
		t.Error("two messages share a Message-ID")
	}
}

func TestBuildRawRefuses(t *testing.T) {
	const from = "Privacy Portal <no-reply@portal.example>"
	base := mustRender(t, "en")
	header := func(name, value string) portalmail.Rendered {
		r := base
		r.Headers = map[string]string{name: value}
		return r
	}
	with := func(f func(*portalmail.Rendered)) portalmail.Rendered {
		r := base
		f(&r)
		return r
	}
	const inject = "\r\nBcc: victim@example.net"
	tests := []struct {
		name string
		from string
		r    portalmail.Rendered
	}{
		{"CRLF in a header value", from, header("List-Unsubscribe", "<https://portal.example/u>"+inject)},
		{"LF in a header value", from, header("List-Unsubscribe", "<https://portal.example/u>\nBcc: victim@example.net")},
		{"CR in a header value", from, header("X-Campaign", "a\rBcc: victim@example.net")},
		{"CRLF in a header name", from, header("X-A"+inject, "y")},
		{"colon in a header name", from, header("Bcc: victim@example.net", "y")},
		{"space in a header name", from, header("X Campaign", "y")},
		{"empty header name", from, header("", "y")},
		{"a Bcc header", from, header("bcc", "victim@example.net")},
		{"a Cc header", from, header("Cc", "victim@example.net")},
		{"a second From", from, header("FROM", "boss@portal.example")},
		{"a second Subject", from, header("Subject", "Urgent")},
		{"a Content-Type", from, header("content-type", "text/plain")},
		{"non-ASCII header value", from, header("X-Note", "退订")},
		{"NUL in a header value", from, header("X-Note", "a\x00b")},
		{"overlong header", from, header("X-Note", strings.Repeat("a", 1000))},
		{"CRLF in the subject", from, with(func(r *portalmail.Rendered) { r.Subject = "Hi" + inject })},
		{"empty subject", from, with(func(r *portalmail.Rendered) { r.Subject = " " })},
		{"no HTML", from, with(func(r *portalmail.Rendered) { r.HTML = "" })},
		{"CRLF in To", from, with(func(r *portalmail.Rendered) { r.To = "ada@example.com" + inject })},
		{"two recipients in To", from, with(func(r *portalmail.Rendered) { r.To = "ada@example.com, victim@example.net" })},
		{"To is not an address", from, with(func(r *portalmail.Rendered) { r.To = "ada at example.com" })},
		{"empty To", from, with(func(r *portalmail.Rendered) { r.To = "" })},
		{"CRLF in From", "no-reply@portal.example" + inject, base},
		{"From is not an address", "Privacy Portal", base},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			raw, err := portalmail.BuildRaw(tc.from, tc.r, time.Now())
			if err == nil {
				t.Fatalf("BuildRaw accepted it:\n%s", raw)
			}
			for _, secret := range []string{"victim@example.net", "ada@example.com", "ada at example.com"} {
				if strings.Contains(err.Error(), secret) {
					t.Errorf("error %q repeats an address", err)
				}
			}
		})
	}
}

// FuzzBuildRawHeader checks that no header value, however built, adds a header of its own:
// either BuildRaw refuses it, or the message has exactly the headers it should.
func FuzzBuildRawHeader(f *testing.F) {
	for _, s := range []string{"<https://portal.example/u>", "a\r\nBcc: x@y.z", "a\nb", "a\rb", "\t", "=?utf-8?q?x?=", "a\x85b", "\u2028"} {
		f.Add("X-Test", s)
	}
	r := mustRender(f, "en")
	f.Fuzz(func(t *testing.T, name, value string) {
		r := r
		r.Headers = map[string]string{name: value}
		raw, err := portalmail.BuildRaw("no-reply@portal.example", r, time.Unix(0, 0))
		if err != nil {
			return
		}
		m, err := mail.ReadMessage(bytes.NewReader(raw))
		if err != nil {
			t.Fatalf("unreadable message: %v", err)
		}
		if len(m.Header) != 8 {
			keys := make([]string, 0, len(m.Header))
			for k := range m.Header {
				keys = append(keys, k)
			}
			t.Fatalf("header %q: %q gave headers %q", name, value, keys)
		}
		if to, err := m.Header.AddressList("To"); err != nil || len(to) != 1 {
			t.Fatalf("To = %v, %v", to, err)
		}
	})
}

func mustRender(tb testing.TB, locale string) portalmail.Rendered {
	tb.Helper()
	r, err := portalmail.Render(op, portalmail.Message{To: "ada@example.com", Locale: locale, Kind: portalmail.VerifyEmail, Data: fullData()})
	if err != nil {
		tb.Fatal(err)
	}
	return r
}

func mustBuild(tb testing.TB, r portalmail.Rendered, now time.Time) *mail.Message {
	tb.Helper()
	raw, err := portalmail.BuildRaw("no-reply@portal.example", r, now)
	if err != nil {
		tb.Fatal(err)
	}
	m, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		tb.Fatal(err)
	}
	return m
}
