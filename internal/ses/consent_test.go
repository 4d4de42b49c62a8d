package ses_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsses "github.com/aws/aws-sdk-go-v2/service/ses"

	"github.com/privacyportal/portal/infra/portaltest"
	"github.com/privacyportal/portal/internal/mail"
	"github.com/privacyportal/portal/internal/ses"
)

// recordingClient passes every call on to the real client (and so to the emulator), and
// keeps the configuration set each asked for: the emulator accepts and forgets it.
type recordingClient struct {
	ses.SendRawEmailAPI
	sets []*string
}

func (c *recordingClient) SendRawEmail(ctx context.Context, in *awsses.SendRawEmailInput, optFns ...func(*awsses.Options)) (*awsses.SendRawEmailOutput, error) {
	c.sets = append(c.sets, in.ConfigurationSetName)
	return c.SendRawEmailAPI.SendRawEmail(ctx, in, optFns...)
}

func TestP08_TrackedOnlyWhenAsked(t *testing.T) {
	endpoint, mb := startMailbox(t)
	const untracked, tracked = "portal-mail", "portal-mail-tracked"
	msg := func(to string, isTracked bool) mail.Message {
		return mail.Message{To: to, Locale: "en", Kind: mail.GuardianDecision, Data: mail.Data{ChildName: "Tom"}, Tracked: isTracked}
	}
	tests := []struct {
		name            string
		set, trackedSet string
		tracked         bool
		// want is the configuration set the call names ("" for none); wantErr means no call.
		want    string
		wantErr bool
	}{
		{"untracked mail, both sets", untracked, tracked, false, untracked, false},
		{"tracked mail, both sets", untracked, tracked, true, tracked, false},
		{"untracked mail, no tracked set", untracked, "", false, untracked, false},
		{"untracked mail, no sets", "", "", false, "", false},
		{"tracked mail, only a tracked set", "", tracked, true, tracked, false},
		{"untracked mail, only a tracked set", "", tracked, false, "", false},
		{"tracked mail, no tracked set", untracked, "", true, "", true},
		{"tracked mail, no sets", "", "", true, "", true},
		{"untracked mail, one set for both", tracked, tracked, false, "", true},
		{"tracked mail, one set for both", tracked, tracked, true, "", true},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			client := &recordingClient{SendRawEmailAPI: newClient(endpoint)}
			sender := &ses.Sender{Client: client, From: "no-reply@portal.example", Operator: operator,
				ConfigurationSet: tc.set, TrackedConfigurationSet: tc.trackedSet}
			to := "p08-" + string(rune('a'+i)) + "@example.com"
			err := sender.Send(context.Background(), msg(to, tc.tracked))
			if tc.wantErr {
				if err == nil {
					t.Fatal("Send accepted it")
				}
				if strings.Contains(err.Error(), to) {
					t.Errorf("error %q names the recipient", err)
				}
				if len(client.sets) != 0 {
					t.Errorf("SES was called %d times", len(client.sets))
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(client.sets) != 1 {
				t.Fatalf("SES was called %d times, want once", len(client.sets))
			}
			if got := client.sets[0]; (tc.want == "") != (got == nil) || aws.ToString(got) != tc.want {
				t.Errorf("configuration set = %v, want %q", aws.ToString(got), tc.want)
			}
			mailTo(t, mb, to)
		})
	}
}

func TestP19_SendMarketingMail(t *testing.T) {
	endpoint, mb := startMailbox(t)
	sender := &ses.Sender{Client: newClient(endpoint), From: "Privacy Portal <no-reply@portal.example>", Operator: operator}
	for _, tc := range []struct {
		name, to, locale string
		want             []string
	}{
		{"english", "ada@example.com", "en", []string{"Hello Ada,", "unsubscribe in one click:\nhttps://portal.example/unsubscribe/?token=page-1"}},
		{"chinese", "li.lei@example.com", "zh-CN", []string{"Ada，您好：", "一键退订：\nhttps://portal.example/unsubscribe/?token=page-1"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := mail.Message{To: tc.to, Locale: tc.locale, Kind: mail.Marketing, Data: mail.Data{
				Name:            "Ada",
				Title:           "春季课程 Spring courses",
				Paragraphs:      []string{"Our spring courses open on 1 April.", "<b>10%</b> off for members."},
				UnsubscribeLink: "https://portal.example/unsubscribe/?token=page-1",
				PreferencesLink: "https://portal.example/consent/",
			}, Unsubscribe: "https://portal.example/api/unsubscribe?token=post-1"}
			if err := sender.Send(context.Background(), m); err != nil {
				t.Fatal(err)
			}
			want, err := mail.Render(operator, m)
			if err != nil {
				t.Fatal(err)
			}
			got := mailTo(t, mb, tc.to)
			if got.Subject != "春季课程 Spring courses" {
				t.Errorf("subject = %q", got.Subject)
			}
			if got.Body.Text != want.Text || got.Body.HTML != want.HTML {
				t.Errorf("bodies differ from what was rendered:\n%s", got.Body.Text)
			}
			for _, s := range tc.want {
				if !strings.Contains(got.Body.Text, s) {
					t.Errorf("text lacks %q:\n%s", s, got.Body.Text)
				}
			}
			// The campaign's text is text: shown, not taken as HTML.
			if !strings.Contains(got.Body.HTML, "&lt;b&gt;10%&lt;/b&gt; off") {
				t.Errorf("HTML does not escape the campaign's text:\n%s", got.Body.HTML)
			}
			if a := storedAttachments(t, mb, tc.to); len(a) != 0 {
				t.Errorf("%d attachments, want none", len(a))
			}
		})
	}
	// Not sent at all without its one-click unsubscribe URL.
	before := len(mails(t, mb))
	err := sender.Send(context.Background(), mail.Message{To: "ada@example.com", Kind: mail.Marketing, Data: mail.Data{
		Title: "Spring", Paragraphs: []string{"Hi"}, UnsubscribeLink: "https://portal.example/u", PreferencesLink: "https://portal.example/consent/",
	}})
	if err == nil {
		t.Error("Send accepted a marketing mail without Message.Unsubscribe")
	}
	if after := len(mails(t, mb)); after != before {
		t.Errorf("%d mails stored, want %d", after, before)
	}
}

func TestP18_SendConsentReceipt(t *testing.T) {
	endpoint, mb := startMailbox(t)
	sender := &ses.Sender{Client: newClient(endpoint), From: "Privacy Portal <no-reply@portal.example>", Operator: operator}
	receipt := []byte(`{"version":"KI-CR-v1.1.0","consentReceiptID":"r-5e2b9c","language":"zh-CN",` +
		`"services":[{"service":"Privacy Portal","purposes":[{"purpose":"营销邮件","consentType":"EXPLICIT"}]}]}`)
	m := mail.Message{To: "Li Lei <li.lei@example.com>", Locale: "zh-CN", Kind: mail.ConsentReceipt, Data: mail.Data{
		Name:      "李雷",
		Changes:   []mail.Change{{Purpose: "营销邮件", Granted: false}, {Purpose: "使用情况分析", Granted: true}},
		ReceiptID: "r-5e2b9c",
		At:        time.Date(2027, 3, 3, 17, 45, 0, 0, time.FixedZone("CST", 8*3600)),
		Link:      "https://portal.example/zh-cn/consent/",
		Receipt:   receipt,
	}}
	if err := sender.Send(context.Background(), m); err != nil {
		t.Fatal(err)
	}
	want, err := mail.Render(operator, m)
	if err != nil {
		t.Fatal(err)
	}
	got := mailTo(t, mb, "li.lei@example.com")
	if got.Subject != want.Subject {
		t.Errorf("subject = %q, want %q", got.Subject, want.Subject)
	}
	// The emulator's parser finds the bodies inside the multipart/mixed, unchanged.
	if got.Body.Text != want.Text || got.Body.HTML != want.HTML {
		t.Errorf("bodies differ from what was rendered:\n%s", got.Body.Text)
	}
	for _, s := range []string{"李雷，您好：", "2027-03-03 09:45 UTC", "- 营销邮件：已撤回", "- 使用情况分析：已同意", "回执编号：r-5e2b9c"} {
		if !strings.Contains(got.Body.Text, s) {
			t.Errorf("text lacks %q:\n%s", s, got.Body.Text)
		}
	}
	as := storedAttachments(t, mb, "li.lei@example.com")
	if len(as) != 1 {
		t.Fatalf("%d attachments, want 1", len(as))
	}
	a := as[0]
	if a.Filename != "consent-receipt-r-5e2b9c.json" || a.ContentType != "application/json" || a.ContentDisposition != "attachment" {
		t.Errorf("attachment %q, %q, %q", a.Filename, a.ContentType, a.ContentDisposition)
	}
	body, err := base64.StdEncoding.DecodeString(a.Content)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(body, receipt) {
		t.Errorf("attachment = %s\nwant %s", body, receipt)
	}
}

// storedAttachment is what the emulator keeps of an attachment (mailparser's fields, with the
// content base64 encoded); portaltest.Mail leaves attachments out.
type storedAttachment struct {
	Filename           string `json:"filename"`
	ContentType        string `json:"contentType"`
	ContentDisposition string `json:"contentDisposition"`
	Content            string `json:"content"`
}

// storedAttachments returns the attachments of the one stored mail to addr.
func storedAttachments(tb testing.TB, mb *portaltest.Mailbox, addr string) []storedAttachment {
	tb.Helper()
	resp, err := mb.Client.Get(mb.URL + "/store")
	if err != nil {
		tb.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		tb.Fatalf("mailbox: %s", resp.Status)
	}
	var store struct {
		Emails []struct {
			portaltest.Mail
			Attachments []storedAttachment `json:"attachments"`
		} `json:"emails"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&store); err != nil {
		tb.Fatal(err)
	}
	var found [][]storedAttachment
	for _, m := range store.Emails {
		if m.To(addr) {
			found = append(found, m.Attachments)
		}
	}
	if len(found) != 1 {
		tb.Fatalf("%d mails to the test address, want 1", len(found))
	}
	return found[0]
}
