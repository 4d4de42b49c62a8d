package portaltest

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/privacyportal/portal/internal/mail"
)

// LocalStack lists raw mail as the MIME message the portal built: the mailbox reads it back as
// the local SES emulator would show it.
func TestMailboxReadsLocalStacksRawMail(t *testing.T) {
	op := mail.Operator{Name: "Example Co.", Contact: "privacy@example.com", SiteURL: "https://portal.example.com"}
	r, err := mail.Render(op, mail.Message{To: "ada@example.com", Locale: "zh-CN", Kind: mail.VerifyEmail, Data: mail.Data{
		Name: "Ada", Code: "123456", Link: "https://portal.example.com/zh/verify/#token=abc.def", Minutes: 15,
	}})
	if err != nil {
		t.Fatal(err)
	}
	raw, err := mail.BuildRaw("Example Co. <privacy@example.com>", r, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	body := `{"messages":[{"Id":"m1","Region":"us-east-1","Source":"privacy@example.com","RawData":` + jsonString(string(raw)) + `,"Timestamp":"2026-01-02T03:04:05.000Z"}]}`
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if req.URL.Path != localStackMailbox {
			http.NotFound(w, req)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(body))
	}))
	defer srv.Close()
	mails, err := (&Mailbox{URL: srv.URL + localStackMailbox, Client: srv.Client()}).All()
	if err != nil {
		t.Fatal(err)
	}
	if len(mails) != 1 {
		t.Fatalf("%d mails, want 1", len(mails))
	}
	m := mails[0]
	if !m.To("ada@example.com") || m.Subject != r.Subject || !strings.Contains(m.Body.Text, "123456") || !strings.Contains(m.Body.HTML, "123456") {
		t.Errorf("mail = %+v\nwant subject %q with the code in both parts", m, r.Subject)
	}
	if m.Header("Content-Language") != "zh-CN" || m.At == 0 {
		t.Errorf("headers %v, at %d", m.Headers, m.At)
	}
}

func jsonString(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`, "\r", `\r`, "\t", `\t`)
	return `"` + r.Replace(s) + `"`
}
