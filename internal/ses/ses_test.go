package ses_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	awsses "github.com/aws/aws-sdk-go-v2/service/ses"
	"github.com/aws/smithy-go"

	"github.com/privacyportal/portal/infra/localcloud"
	"github.com/privacyportal/portal/infra/portaltest"
	"github.com/privacyportal/portal/internal/mail"
	"github.com/privacyportal/portal/internal/ses"
)

var operator = mail.Operator{Name: "Privacy Portal", Contact: "privacy@portal.example", SiteURL: "https://portal.example/"}

var _ ses.SendRawEmailAPI = (*awsses.Client)(nil)

func TestSend(t *testing.T) {
	endpoint, mb := startMailbox(t)
	client := newClient(endpoint)
	sender := &ses.Sender{
		Client:           client,
		From:             "Privacy Portal <no-reply@portal.example>",
		ConfigurationSet: "portal-mail",
		Operator:         operator,
		Now:              func() time.Time { return time.Date(2027, 3, 3, 9, 30, 0, 0, time.UTC) },
	}

	tests := []struct {
		name string
		msg  mail.Message
		// want is what the stored text body must contain.
		want []string
	}{
		{
			name: "chinese password reset code",
			msg: mail.Message{To: "li.lei@example.com", Locale: "zh-CN", Kind: mail.PasswordReset, Data: mail.Data{
				Name: "李雷", Code: "730284", Link: "https://portal.example/reset/#token=zh-token-1", Minutes: 15,
			}},
			want: []string{"李雷，您好", "730284", "验证码将在 15 分钟后失效", "https://portal.example/reset/#token=zh-token-1"},
		},
		{
			name: "english notice to a named recipient",
			msg: mail.Message{To: "Ada Lovelace <ada@example.com>", Locale: "en", Kind: mail.AlreadyRegistered, Data: mail.Data{
				Name: "Ada", SignInLink: "https://portal.example/signin/",
			}},
			want: []string{"Hello Ada,", "https://portal.example/signin/"},
		},
		{
			name: "guardian consent",
			msg: mail.Message{To: "parent@example.com", Locale: "en", Kind: mail.GuardianConsent, Data: mail.Data{
				ChildName: "Tom", Link: "https://portal.example/guardian/#token=g-1", Days: 7,
			}},
			want: []string{"The name they gave is: Tom", "within 7 days", "https://portal.example/guardian/#token=g-1"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
			defer cancel()
			if err := sender.Send(ctx, tc.msg); err != nil {
				t.Fatal(err)
			}
			want, err := mail.Render(operator, tc.msg)
			if err != nil {
				t.Fatal(err)
			}
			to := mustAddress(t, tc.msg.To)
			got := mailTo(t, mb, to)
			if len(got.Destination.To) != 1 {
				t.Errorf("to = %q, want one recipient", got.Destination.To)
			}
			if got.Subject != want.Subject {
				t.Errorf("subject = %q, want %q", got.Subject, want.Subject)
			}
			if !strings.Contains(got.From, "no-reply@portal.example") {
				t.Errorf("from = %q", got.From)
			}
			for _, s := range tc.want {
				if !strings.Contains(got.Body.Text, s) {
					t.Errorf("text lacks %q:\n%s", s, got.Body.Text)
				}
			}
			// The emulator parses the raw message (nodemailer's mailparser): quoted-printable
			// decoded and CRLFs back to LF, the bodies must be exactly what was rendered.
			if got.Body.Text != want.Text {
				t.Errorf("text = %q\nwant %q", got.Body.Text, want.Text)
			}
			if got.Body.HTML != want.HTML {
				t.Errorf("HTML = %q\nwant %q", got.Body.HTML, want.HTML)
			}
		})
	}

	refused := []struct {
		name string
		msg  mail.Message
	}{
		{"recipient is not an address", mail.Message{To: "nobody at example.com", Kind: mail.GuardianDecision, Data: mail.Data{ChildName: "Tom"}}},
		{"two recipients", mail.Message{To: "a@example.com, b@example.com", Kind: mail.GuardianDecision, Data: mail.Data{ChildName: "Tom"}}},
		{"header injection in the recipient", mail.Message{To: "a@example.com\r\nBcc: b@example.com", Kind: mail.GuardianDecision, Data: mail.Data{ChildName: "Tom"}}},
		{"missing code", mail.Message{To: "a@example.com", Kind: mail.VerifyEmail, Data: mail.Data{Link: "https://portal.example/v", Minutes: 5}}},
	}
	for _, tc := range refused {
		t.Run(tc.name, func(t *testing.T) {
			before := len(mails(t, mb))
			err := sender.Send(context.Background(), tc.msg)
			if err == nil {
				t.Fatal("Send accepted it")
			}
			for _, secret := range []string{"example.com", "Tom"} {
				if strings.Contains(err.Error(), secret) {
					t.Errorf("error %q repeats personal data", err)
				}
			}
			if after := len(mails(t, mb)); after != before {
				t.Errorf("%d mails stored, want %d", after, before)
			}
		})
	}
}

// TestSendRedactsSESError drives the error path through the real SDK client. The emulator
// never refuses a recipient, so a test server plays SES for one response: the documented
// MessageRejected a sandboxed account gets, which names the recipient.
func TestSendRedactsSESError(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/xml")
		w.WriteHeader(http.StatusBadRequest)
		fmt.Fprint(w, `<ErrorResponse xmlns="http://ses.amazonaws.com/doc/2010-12-01/">
  <Error>
    <Type>Sender</Type>
    <Code>MessageRejected</Code>
    <Message>Email address is not verified. The following identities failed the check in region US-EAST-1: Ada.Lovelace@Example.COM</Message>
  </Error>
  <RequestId>5b3e2c7d-0000-4000-8000-000000000000</RequestId>
</ErrorResponse>`)
	}))
	defer srv.Close()
	sender := &ses.Sender{Client: newClient(srv.URL), From: "no-reply@portal.example", Operator: operator}
	err := sender.Send(context.Background(), mail.Message{To: "ada.lovelace@example.com", Kind: mail.GuardianDecision, Data: mail.Data{ChildName: "Tom", Confirmed: true}})
	if err == nil {
		t.Fatal("Send succeeded")
	}
	if strings.Contains(strings.ToLower(err.Error()), "ada.lovelace") {
		t.Errorf("error names the recipient: %q", err)
	}
	if !strings.Contains(err.Error(), "MessageRejected") || !strings.Contains(err.Error(), "<recipient>") {
		t.Errorf("error lost its context: %q", err)
	}
	var apiErr smithy.APIError
	if !errors.As(err, &apiErr) || apiErr.ErrorCode() != "MessageRejected" {
		t.Errorf("SES error not reachable with errors.As: %v", err)
	}
}

func newClient(endpoint string) *awsses.Client {
	cfg := aws.Config{
		Region:      "us-east-1",
		Credentials: credentials.NewStaticCredentialsProvider("S3RVER", "S3RVER", ""),
		// The emulator never answers calls it does not know: never wait forever.
		HTTPClient: &http.Client{Timeout: 10 * time.Second},
	}
	return awsses.NewFromConfig(cfg, func(o *awsses.Options) { o.BaseEndpoint = aws.String(endpoint) })
}

func mustAddress(tb testing.TB, s string) string {
	tb.Helper()
	i, j := strings.LastIndexByte(s, '<'), strings.LastIndexByte(s, '>')
	if i >= 0 && j > i {
		return s[i+1 : j]
	}
	return s
}

// startMailbox starts the SES emulator alone (aws-ses-v2-local, pinned in infra/package.json)
// through the local cloud, and returns its endpoint and a reader for what it stored. What it
// does with a SendRawEmail, read from its source and seen here:
//   - it parses the raw message and stores From, To, Cc, Subject and the bodies as the
//     message's own headers say, decoded: Destinations and ConfigurationSetName are accepted
//     and ignored, so a wrong envelope would go unnoticed here;
//   - destination.to holds the To header as mailparser prints it ("\"Ada\" <ada@...>"),
//     not bare addresses;
//   - it drops every header of a raw message from GET /store, so List-Unsubscribe and the
//     like must be checked on BuildRaw's output instead;
//   - it checks only that an Authorization header starting with "AWS" is present;
//   - a v1 action other than SendEmail and SendRawEmail gets no response at all.
func startMailbox(tb testing.TB) (string, *portaltest.Mailbox) {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	c, err := localcloud.StartServices(ctx, localcloud.Config{Root: portaltest.Root()}, "ses")
	if err != nil {
		tb.Fatalf("start the SES emulator: %v", err)
	}
	tb.Cleanup(func() { c.Close() })
	return c.Endpoints.SES, &portaltest.Mailbox{URL: c.MailboxURL, Client: &http.Client{Timeout: 5 * time.Second}}
}

// mails returns everything the emulator has stored.
func mails(tb testing.TB, mb *portaltest.Mailbox) []portaltest.Mail {
	tb.Helper()
	all, err := mb.All()
	if err != nil {
		tb.Fatal(err)
	}
	return all
}

// mailTo returns the one stored mail to addr. The emulator stores a mail before it answers
// SendRawEmail, so there is nothing to wait for.
func mailTo(tb testing.TB, mb *portaltest.Mailbox, addr string) portaltest.Mail {
	tb.Helper()
	var found []portaltest.Mail
	for _, m := range mails(tb, mb) {
		if m.To(addr) {
			found = append(found, m)
		}
	}
	if len(found) != 1 {
		tb.Fatalf("%d mails to the test address, want 1", len(found))
	}
	return found[0]
}
