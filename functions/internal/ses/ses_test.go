package ses_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	awsses "github.com/aws/aws-sdk-go-v2/service/ses"
	"github.com/aws/smithy-go"

	"github.com/privacyportal/portal/functions/internal/mail"
	"github.com/privacyportal/portal/functions/internal/ses"
)

// infraDir holds the pinned npm emulators (infra/package.json), relative to this package.
var infraDir = filepath.Join("..", "..", "..", "infra")

var operator = mail.Operator{Name: "Privacy Portal", Contact: "privacy@portal.example", SiteURL: "https://portal.example/"}

var _ ses.SendRawEmailAPI = (*awsses.Client)(nil)

func TestSend(t *testing.T) {
	emu := StartEmulator(t)
	client := newClient(emu.URL)
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
			name: "chinese verification code",
			msg: mail.Message{To: "li.lei@example.com", Locale: "zh-CN", Kind: mail.VerifyEmail, Data: mail.Data{
				Name: "李雷", Code: "730284", Link: "https://portal.example/verify/#token=zh-token-1", Minutes: 15,
			}},
			want: []string{"李雷，您好", "730284", "验证码将在 15 分钟后失效", "https://portal.example/verify/#token=zh-token-1"},
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
			got := emu.MailTo(t, to)
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
			before := len(emu.Mails(t))
			err := sender.Send(context.Background(), tc.msg)
			if err == nil {
				t.Fatal("Send accepted it")
			}
			for _, secret := range []string{"example.com", "Tom"} {
				if strings.Contains(err.Error(), secret) {
					t.Errorf("error %q repeats personal data", err)
				}
			}
			if after := len(emu.Mails(t)); after != before {
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

// Emulator is a running aws-ses-v2-local (2.10.2, pinned in infra/package.json). What it
// does with a SendRawEmail, read from its source and seen here:
//   - it parses the raw message and stores From, To, Cc, Subject and the bodies as the
//     message's own headers say, decoded: Destinations and ConfigurationSetName are accepted
//     and ignored, so a wrong envelope would go unnoticed here;
//   - destination.to holds the To header as mailparser prints it ("\"Ada\" <ada@...>"),
//     not bare addresses;
//   - messageId is its own ("ses-123456789"), not the message's Message-ID header;
//   - it checks only that an Authorization header starting with "AWS" is present, not the
//     signature;
//   - a v1 action other than SendEmail and SendRawEmail gets no response at all: the
//     request hangs until the client's timeout.
type Emulator struct {
	URL  string
	http *http.Client
}

// StoredMail is one message as the emulator keeps it (GET /store).
type StoredMail struct {
	MessageID   string `json:"messageId"`
	From        string `json:"from"`
	Destination struct {
		To []string `json:"to"`
	} `json:"destination"`
	Subject string `json:"subject"`
	Body    struct {
		Text string `json:"text"`
		HTML string `json:"html"`
	} `json:"body"`
	// Headers is absent for SendRawEmail: aws-ses-v2-local 2.10.2 stores headers only for
	// v2 SendEmail requests and drops every header of a raw message, so List-Unsubscribe and
	// the like cannot be checked through GET /store (nor GET /get-emlContent, which rebuilds
	// the message from the stored fields). Check them on BuildRaw's output instead.
	Headers []struct {
		Name  string `json:"name"`
		Value string `json:"value"`
	} `json:"headers"`
	At int64 `json:"at"`
}

// StartEmulator starts aws-ses-v2-local on a free loopback port, installing the pinned npm
// packages first if they are missing, and stops it (its whole process group) when tb ends.
func StartEmulator(tb testing.TB) *Emulator {
	tb.Helper()
	cli := filepath.Join(infraDir, "node_modules", "aws-ses-v2-local", "dist", "cli.js")
	if _, err := os.Stat(cli); err != nil {
		npmCI(tb)
	}
	node, err := exec.LookPath("node")
	if err != nil {
		tb.Fatalf("node is needed to run the SES emulator: %v", err)
	}
	port := freePort(tb)
	var out lockedBuffer
	cmd := exec.Command(node, cli, "--host", "127.0.0.1", "--port", strconv.Itoa(port))
	cmd.Stdout, cmd.Stderr = &out, &out
	// Own process group, so the stop below reaches anything node starts; and killed with
	// the test binary if that dies first.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	tb.Cleanup(func() {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(3 * time.Second):
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			<-exited
		}
	})

	e := &Emulator{URL: fmt.Sprintf("http://127.0.0.1:%d", port), http: &http.Client{Timeout: 5 * time.Second}}
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := e.http.Get(e.URL + "/health-check")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return e
			}
		}
		select {
		case <-exited:
			tb.Fatalf("SES emulator exited:\n%s", out.String())
		default:
		}
		if time.Now().After(deadline) {
			tb.Fatalf("SES emulator not up within 30s:\n%s", out.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Mails returns everything the emulator has stored.
func (e *Emulator) Mails(tb testing.TB) []StoredMail {
	tb.Helper()
	resp, err := e.http.Get(e.URL + "/store")
	if err != nil {
		tb.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		tb.Fatalf("GET /store: %s, %v", resp.Status, err)
	}
	var store struct {
		Emails []StoredMail `json:"emails"`
	}
	if err := json.Unmarshal(body, &store); err != nil {
		tb.Fatalf("GET /store: %v", err)
	}
	return store.Emails
}

// MailTo returns the one stored mail to addr. The emulator stores a mail before it answers
// SendRawEmail, so there is nothing to wait for.
func (e *Emulator) MailTo(tb testing.TB, addr string) StoredMail {
	tb.Helper()
	var found []StoredMail
	for _, m := range e.Mails(tb) {
		if slices.ContainsFunc(m.Destination.To, func(to string) bool { return strings.Contains(to, addr) }) {
			found = append(found, m)
		}
	}
	if len(found) != 1 {
		tb.Fatalf("%d mails to the test address, want 1", len(found))
	}
	return found[0]
}

func npmCI(tb testing.TB) {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "npm", "ci", "--no-audit", "--no-fund", "--loglevel=error")
	cmd.Dir = infraDir
	if out, err := cmd.CombinedOutput(); err != nil {
		tb.Fatalf("npm ci in %s: %v\n%s", infraDir, err, out)
	}
}

func freePort(tb testing.TB) int {
	tb.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// lockedBuffer collects the emulator's output, written from exec's copying goroutines.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
