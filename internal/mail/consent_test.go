package mail_test

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"html"
	"io"
	"maps"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/mail"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	portalmail "github.com/privacyportal/portal/internal/mail"
)

// TestP19_MarketingMailCarriesOneClickUnsubscribe checks the RFC 8058 headers on the raw
// message, since the SES emulator drops headers, and the visible unsubscribe link.
func TestP19_MarketingMailCarriesOneClickUnsubscribe(t *testing.T) {
	tests := []struct {
		name, locale, unsubscribe string
	}{
		{"english", portalmail.English, oneClick},
		{"chinese", portalmail.Chinese, oneClick},
		{"local cloud", portalmail.English, "http://127.0.0.1:8080/api/unsubscribe?token=post-1c9b"},
		{"localhost", portalmail.Chinese, "http://localhost:9000/api/unsubscribe?token=post-1c9b"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := message(tc.locale, portalmail.Marketing, fullData())
			m.Unsubscribe = tc.unsubscribe
			r, err := portalmail.Render(op, m)
			if err != nil {
				t.Fatal(err)
			}
			want := map[string]string{
				"Auto-Submitted":        "auto-generated",
				"Content-Language":      tc.locale,
				"List-Unsubscribe":      "<" + tc.unsubscribe + ">",
				"List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
			}
			if !maps.Equal(r.Headers, want) {
				t.Errorf("headers = %q, want %q", r.Headers, want)
			}
			msg := mustBuild(t, r, time.Now())
			for name, value := range map[string]string{
				"List-Unsubscribe":      "<" + tc.unsubscribe + ">",
				"List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
			} {
				if got := msg.Header[name]; len(got) != 1 || got[0] != value {
					t.Errorf("%s = %q, want [%q]", name, got, value)
				}
			}
			// P08: SES's click tracking leaves the unsubscribe link alone (its token is not
			// for a tracking domain, and it must work without one).
			d := fullData()
			if !strings.Contains(html.UnescapeString(r.HTML), `<a ses:no-track href="`+d.UnsubscribeLink+`"`) {
				t.Errorf("the unsubscribe link is not marked ses:no-track:\n%s", r.HTML)
			}
			// The reader sees why they get it and how to stop it, in both parts.
			for _, part := range []string{r.Text, html.UnescapeString(r.HTML)} {
				for _, s := range []string{d.UnsubscribeLink, d.PreferencesLink, map[string]string{"en": "because you agreed to receive marketing mail", "zh-CN": "是因为您同意接收"}[tc.locale]} {
					if !strings.Contains(part, s) {
						t.Errorf("a part lacks %q:\n%s", s, part)
					}
				}
			}
		})
	}
}

// TestP19_OnlyMarketingMailCarriesListUnsubscribe: mail a person needs (a code, a receipt)
// offers no unsubscribe, and Render refuses to add one.
func TestP19_OnlyMarketingMailCarriesListUnsubscribe(t *testing.T) {
	for _, k := range portalmail.Kinds() {
		if k == portalmail.Marketing {
			continue
		}
		t.Run(string(k), func(t *testing.T) {
			r, err := portalmail.Render(op, message("en", k, fullData()))
			if err != nil {
				t.Fatal(err)
			}
			if got, want := slices.Sorted(maps.Keys(r.Headers)), []string{"Auto-Submitted", "Content-Language"}; !slices.Equal(got, want) {
				t.Errorf("headers %q, want %q", got, want)
			}
			raw, err := portalmail.BuildRaw("no-reply@portal.example", r, time.Now())
			if err != nil {
				t.Fatal(err)
			}
			if bytes.Contains(bytes.ToLower(raw), []byte("list-unsubscribe")) {
				t.Errorf("%s mail mentions List-Unsubscribe", k)
			}
			m := message("en", k, fullData())
			m.Unsubscribe = oneClick
			if _, err := portalmail.Render(op, m); err == nil {
				t.Errorf("Render put List-Unsubscribe on a %s mail", k)
			}
		})
	}
}

func TestP19_MarketingMailRefusedWithoutOneClickUnsubscribe(t *testing.T) {
	for _, tc := range []struct{ name, url string }{
		{"none", ""},
		{"relative", "/api/unsubscribe?token=post-1c9b"},
		{"plain http", "http://portal.example/api/unsubscribe?token=post-1c9b"},
		{"http on another loopback name", "http://127.0.0.2/api/unsubscribe?token=post-1c9b"},
		{"mailto", "mailto:unsubscribe@portal.example?subject=post-1c9b"},
		{"javascript", "javascript:alert(1)"},
		{"no host", "https:///api/unsubscribe?token=post-1c9b"},
		{"CRLF", "https://portal.example/u?token=post-1c9b\r\nBcc: victim@example.net"},
		{"LF", "https://portal.example/u?token=post-1c9b\nX: y"},
		{"closing bracket", "https://portal.example/u?token=post-1c9b>, <https://evil.example/"},
		{"comma", "https://portal.example/u?token=post-1c9b,x"},
		{"space", "https://portal.example/u?token=post 1c9b"},
		{"non-ASCII", "https://portal.example/退订?token=post-1c9b"},
		{"fragment", "https://portal.example/unsubscribe/#token=post-1c9b"},
		{"user information", "https://user:post-1c9b@portal.example/u"},
		{"overlong", "https://portal.example/u?token=" + strings.Repeat("a", 1000)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := message("en", portalmail.Marketing, fullData())
			m.Unsubscribe = tc.url
			_, err := portalmail.Render(op, m)
			if err == nil {
				t.Fatal("Render accepted it")
			}
			for _, secret := range []string{"post-1c9b", "victim", "ada@example.com"} {
				if strings.Contains(err.Error(), secret) {
					t.Errorf("error %q repeats the URL", err)
				}
			}
		})
	}
}

// TestP18_ConsentReceiptAttachesTheReceipt parses the raw message back: a multipart/mixed of
// the usual multipart/alternative and the receipt JSON, byte for byte.
func TestP18_ConsentReceiptAttachesTheReceipt(t *testing.T) {
	// Long enough for several base64 lines.
	receipt := []byte(`{"version":"KI-CR-v1.1.0","jurisdiction":"CN","consentTimestamp":1804042259,` +
		`"collectionMethod":"form","consentReceiptID":"cr-7d41e0","language":"zh-CN",` +
		`"services":[{"service":"Privacy Portal","purposes":[{"purpose":"营销邮件","consentType":"EXPLICIT"}]}]}`)
	for _, locale := range []string{portalmail.English, portalmail.Chinese} {
		t.Run(locale, func(t *testing.T) {
			d := fullData()
			d.Receipt = receipt
			r, err := portalmail.Render(op, message(locale, portalmail.ConsentReceipt, d))
			if err != nil {
				t.Fatal(err)
			}
			want := []portalmail.Attachment{{Name: "consent-receipt-cr-7d41e0.json", ContentType: "application/json", Body: receipt}}
			if !reflect.DeepEqual(r.Attachments, want) {
				t.Fatalf("attachments = %+v", r.Attachments)
			}
			raw, err := portalmail.BuildRaw("Privacy Portal <no-reply@portal.example>", r, time.Now())
			if err != nil {
				t.Fatal(err)
			}
			for i, line := range bytes.Split(raw, []byte("\r\n")) {
				if len(line) > 998 || bytes.ContainsAny(line, "\r\n\x00") || bytes.IndexFunc(line, func(r rune) bool { return r >= 0x80 }) >= 0 {
					t.Fatalf("line %d is not a 7-bit mail line: %q", i+1, line)
				}
			}
			m, err := mail.ReadMessage(bytes.NewReader(raw))
			if err != nil {
				t.Fatal(err)
			}
			mediaType, params, err := mime.ParseMediaType(m.Header.Get("Content-Type"))
			if err != nil || mediaType != "multipart/mixed" {
				t.Fatalf("Content-Type = %q, %v", m.Header.Get("Content-Type"), err)
			}
			mixed := multipart.NewReader(m.Body, params["boundary"])

			p, err := mixed.NextRawPart()
			if err != nil {
				t.Fatal(err)
			}
			altType, altParams, err := mime.ParseMediaType(p.Header.Get("Content-Type"))
			if err != nil || altType != "multipart/alternative" || altParams["boundary"] == params["boundary"] {
				t.Fatalf("first part Content-Type = %q, %v", p.Header.Get("Content-Type"), err)
			}
			alt := multipart.NewReader(p, altParams["boundary"])
			for _, want := range []struct{ ctype, body string }{{"text/plain", r.Text}, {"text/html", r.HTML}} {
				q, err := alt.NextRawPart()
				if err != nil {
					t.Fatal(err)
				}
				if ct, _, _ := mime.ParseMediaType(q.Header.Get("Content-Type")); ct != want.ctype {
					t.Errorf("part %s, want %s", ct, want.ctype)
				}
				got, err := io.ReadAll(quotedprintable.NewReader(q))
				if err != nil {
					t.Fatal(err)
				}
				if string(got) != strings.ReplaceAll(want.body, "\n", "\r\n") {
					t.Errorf("%s part decodes to\n%s", want.ctype, got)
				}
			}
			if _, err := alt.NextRawPart(); err != io.EOF {
				t.Errorf("a third alternative, or a broken end: %v", err)
			}

			p, err = mixed.NextRawPart()
			if err != nil {
				t.Fatal(err)
			}
			if ct, ctParams, err := mime.ParseMediaType(p.Header.Get("Content-Type")); err != nil || ct != "application/json" || ctParams["name"] != want[0].Name {
				t.Errorf("attachment Content-Type = %q", p.Header.Get("Content-Type"))
			}
			if disp, dParams, err := mime.ParseMediaType(p.Header.Get("Content-Disposition")); err != nil || disp != "attachment" || dParams["filename"] != want[0].Name {
				t.Errorf("Content-Disposition = %q", p.Header.Get("Content-Disposition"))
			}
			if p.FileName() != want[0].Name {
				t.Errorf("FileName() = %q", p.FileName())
			}
			if cte := p.Header.Get("Content-Transfer-Encoding"); cte != "base64" {
				t.Errorf("Content-Transfer-Encoding = %q", cte)
			}
			encoded, err := io.ReadAll(p)
			if err != nil {
				t.Fatal(err)
			}
			lines := strings.Split(strings.TrimSuffix(string(encoded), "\r\n"), "\r\n")
			if len(lines) < 3 {
				t.Errorf("the receipt is on %d lines, want it wrapped", len(lines))
			}
			for _, line := range lines {
				if len(line) > 76 {
					t.Errorf("base64 line of %d characters", len(line))
				}
			}
			got, err := base64.StdEncoding.DecodeString(strings.Join(lines, ""))
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, receipt) {
				t.Errorf("attachment = %s, want %s", got, receipt)
			}
			if _, err := mixed.NextRawPart(); err != io.EOF {
				t.Errorf("a third part, or a broken end: %v", err)
			}
		})
	}
}

func TestRenderConsentMailInEachLanguage(t *testing.T) {
	tests := []struct {
		locale string
		kind   portalmail.Kind
		want   []string
	}{
		{"en", portalmail.Marketing, []string{"Hello Ada Lovelace,", "Our spring courses open on 1 April.", "unsubscribe in one click"}},
		{"zh-CN", portalmail.Marketing, []string{"Ada Lovelace，您好：", "Our spring courses open on 1 April.", "一键退订", "营销邮件"}},
		{"en", portalmail.ConsentReceipt, []string{"Marketing mail: granted", "Usage analytics: withdrawn", "2027-03-03 01:30 UTC", "Receipt ID: cr-7d41e0", "Kantara Consent Receipt"}},
		{"zh-CN", portalmail.ConsentReceipt, []string{"Marketing mail：已同意", "Usage analytics：已撤回", "2027-03-03 01:30 UTC", "回执编号：cr-7d41e0", "撤回同意即时生效"}},
	}
	for _, tc := range tests {
		t.Run(fmt.Sprintf("%s/%s", tc.kind, tc.locale), func(t *testing.T) {
			r, err := portalmail.Render(op, message(tc.locale, tc.kind, fullData()))
			if err != nil {
				t.Fatal(err)
			}
			// The HTML marks up what the text says: compare without the tags.
			plainHTML := html.UnescapeString(tagRE.ReplaceAllString(r.HTML, ""))
			for _, s := range tc.want {
				if !strings.Contains(r.Text, s) {
					t.Errorf("text lacks %q:\n%s", s, r.Text)
				}
				if !strings.Contains(plainHTML, s) {
					t.Errorf("HTML lacks %q:\n%s", s, r.HTML)
				}
			}
			if tc.locale == "zh-CN" && (strings.Contains(r.Text, "Hello") || strings.Contains(r.Text, "granted")) {
				t.Errorf("Chinese mail has English in it:\n%s", r.Text)
			}
		})
	}
}

// TestP08_TrackedChangesNothingInTheMail: the templates add no pixel and rewrite no link,
// tracked or not; only the sender's configuration set differs.
func TestP08_TrackedChangesNothingInTheMail(t *testing.T) {
	for _, k := range portalmail.Kinds() {
		t.Run(string(k), func(t *testing.T) {
			m := message("en", k, fullData())
			plain, err := portalmail.Render(op, m)
			if err != nil {
				t.Fatal(err)
			}
			m.Tracked = true
			tracked, err := portalmail.Render(op, m)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(plain, tracked) {
				t.Error("Tracked changed the rendered mail")
			}
		})
	}
}

func TestRenderPassesAttachments(t *testing.T) {
	extra := portalmail.Attachment{Name: "policy-1.1.txt", ContentType: "text/plain; charset=utf-8", Body: []byte("policy")}
	m := message("en", portalmail.ConsentReceipt, fullData())
	m.Attachments = []portalmail.Attachment{extra}
	r, err := portalmail.Render(op, m)
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Attachments) != 2 || r.Attachments[0].Name != "consent-receipt-cr-7d41e0.json" || !reflect.DeepEqual(r.Attachments[1], extra) {
		t.Errorf("attachments = %+v", r.Attachments)
	}

	m.Attachments = []portalmail.Attachment{{Name: "Consent-Receipt-cr-7d41e0.JSON", ContentType: "application/json", Body: []byte("{}")}}
	if _, err := portalmail.Render(op, m); err == nil {
		t.Error("Render accepted a second attachment of the receipt's name")
	}
	m.Attachments = []portalmail.Attachment{{Name: "../receipt.json", ContentType: "application/json"}}
	if _, err := portalmail.Render(op, m); err == nil {
		t.Error("Render accepted a path for a name")
	}
}

func TestBuildRawAttachments(t *testing.T) {
	base := mustRender(t, "en")
	ok := func(name string) portalmail.Attachment {
		return portalmail.Attachment{Name: name, ContentType: "application/json", Body: []byte("{}")}
	}
	withCT := func(ct string) portalmail.Attachment {
		a := ok("a.json")
		a.ContentType = ct
		return a
	}
	sized := func(name string, n int) portalmail.Attachment {
		a := ok(name)
		a.Body = bytes.Repeat([]byte("x"), n)
		return a
	}
	tests := []struct {
		name    string
		as      []portalmail.Attachment
		wantErr bool
	}{
		{"one", []portalmail.Attachment{ok("consent-receipt-1.json")}, false},
		{"two", []portalmail.Attachment{ok("a.json"), ok("b_2-x.JSON")}, false},
		{"empty file", []portalmail.Attachment{{Name: "empty.txt", ContentType: "text/plain"}}, false},
		{"type with charset", []portalmail.Attachment{withCT("text/plain; charset=utf-8")}, false},
		{"exactly the cap", []portalmail.Attachment{sized("a.bin", portalmail.MaxAttachmentBytes/2), sized("b.bin", portalmail.MaxAttachmentBytes/2)}, false},
		{"one byte over the cap", []portalmail.Attachment{sized("a.bin", portalmail.MaxAttachmentBytes/2), sized("b.bin", portalmail.MaxAttachmentBytes/2+1)}, true},
		{"one file over the cap", []portalmail.Attachment{sized("a.bin", portalmail.MaxAttachmentBytes+1)}, true},
		{"path", []portalmail.Attachment{ok("../etc/secret.json")}, true},
		{"absolute path", []portalmail.Attachment{ok("/secret.json")}, true},
		{"backslash", []portalmail.Attachment{ok(`..\secret.json`)}, true},
		{"hidden file", []portalmail.Attachment{ok(".secret.json")}, true},
		{"dots", []portalmail.Attachment{ok("..")}, true},
		{"space", []portalmail.Attachment{ok("my secret.json")}, true},
		{"quote", []portalmail.Attachment{ok(`a".json`)}, true},
		{"semicolon", []portalmail.Attachment{ok("a.json; filename=secret.exe")}, true},
		{"CRLF", []portalmail.Attachment{ok("a.json\r\nBcc: victim@example.net")}, true},
		{"encoded word", []portalmail.Attachment{ok("=?utf-8?q?secret?=")}, true},
		{"non-ASCII", []portalmail.Attachment{ok("回执secret.json")}, true},
		{"empty name", []portalmail.Attachment{ok("")}, true},
		{"long name", []portalmail.Attachment{ok(strings.Repeat("s", 124) + ".json")}, true},
		{"same name twice", []portalmail.Attachment{ok("secret.json"), ok("SECRET.json")}, true},
		{"no content type", []portalmail.Attachment{withCT("")}, true},
		{"no subtype", []portalmail.Attachment{withCT("json")}, true},
		{"multipart", []portalmail.Attachment{withCT("multipart/mixed; boundary=x")}, true},
		{"message", []portalmail.Attachment{withCT("message/rfc822")}, true},
		{"CRLF in the type", []portalmail.Attachment{withCT("application/json\r\nBcc: victim@example.net")}, true},
		{"name parameter", []portalmail.Attachment{withCT("application/json; name=secret.exe")}, true},
		{"non-ASCII type", []portalmail.Attachment{withCT("application/json; charset=回执")}, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := base
			r.Attachments = tc.as
			raw, err := portalmail.BuildRaw("no-reply@portal.example", r, time.Now())
			if tc.wantErr {
				if err == nil {
					t.Fatal("BuildRaw accepted it")
				}
				for _, secret := range []string{"secret", "victim", "回执", "ada@example.com"} {
					if strings.Contains(err.Error(), secret) {
						t.Errorf("error %q repeats what it was given", err)
					}
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			names := attachmentNames(t, raw)
			var want []string
			for _, a := range tc.as {
				want = append(want, a.Name)
			}
			if !slices.Equal(names, want) {
				t.Errorf("attachments %q, want %q", names, want)
			}
		})
	}
}

// attachmentNames parses a multipart/mixed message and returns its attachments' file names,
// checking that each part after the first is base64 and decodes.
func attachmentNames(tb testing.TB, raw []byte) []string {
	tb.Helper()
	m, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		tb.Fatal(err)
	}
	mediaType, params, err := mime.ParseMediaType(m.Header.Get("Content-Type"))
	if err != nil || mediaType != "multipart/mixed" {
		tb.Fatalf("Content-Type = %q, %v", m.Header.Get("Content-Type"), err)
	}
	mr := multipart.NewReader(m.Body, params["boundary"])
	if _, err := mr.NextRawPart(); err != nil {
		tb.Fatal(err)
	}
	var names []string
	for {
		p, err := mr.NextRawPart()
		if err == io.EOF {
			return names
		}
		if err != nil {
			tb.Fatal(err)
		}
		if _, err := io.ReadAll(base64.NewDecoder(base64.StdEncoding, p)); err != nil {
			tb.Fatalf("attachment %q: %v", p.FileName(), err)
		}
		names = append(names, p.FileName())
	}
}

// FuzzBuildRawAttachment checks that no attachment name, type or body, however built, adds a
// header or a part of its own: either BuildRaw refuses it, or the message has the headers it
// should, one attachment with that name, and the body back.
func FuzzBuildRawAttachment(f *testing.F) {
	for _, s := range []struct{ name, ctype string }{
		{"consent-receipt-1.json", "application/json"},
		{"a.json\r\nBcc: x@y.z", "application/json"},
		{"a.json", "application/json\r\nBcc: x@y.z"},
		{"a.json", "text/plain; charset=\"utf-8\r\n\""},
		{"a.json", "multipart/mixed; boundary=x"},
		{"a.json", "application/json; name*=utf-8''%E5%9B%9E"},
		{"=?utf-8?q?x?=", "text/plain"},
		{"a\u2028.json", "text/plain"},
	} {
		f.Add(s.name, s.ctype, []byte("{}\r\n--x--\r\n"))
	}
	r := mustRender(f, "en")
	f.Fuzz(func(t *testing.T, name, ctype string, body []byte) {
		r := r
		r.Attachments = []portalmail.Attachment{{Name: name, ContentType: ctype, Body: body}}
		raw, err := portalmail.BuildRaw("no-reply@portal.example", r, time.Unix(0, 0))
		if err != nil {
			return
		}
		m, err := mail.ReadMessage(bytes.NewReader(raw))
		if err != nil {
			t.Fatalf("unreadable message: %v", err)
		}
		// From, To, Subject, Date, Message-Id, MIME-Version, Content-Type, and Render's
		// Auto-Submitted and Content-Language.
		if len(m.Header) != 9 {
			t.Fatalf("attachment %q (%q) gave %d headers", name, ctype, len(m.Header))
		}
		_, params, err := mime.ParseMediaType(m.Header.Get("Content-Type"))
		if err != nil {
			t.Fatal(err)
		}
		mr := multipart.NewReader(m.Body, params["boundary"])
		if _, err := mr.NextRawPart(); err != nil {
			t.Fatal(err)
		}
		p, err := mr.NextRawPart()
		if err != nil {
			t.Fatal(err)
		}
		if p.FileName() != name {
			t.Fatalf("file name %q, want %q", p.FileName(), name)
		}
		if ct, _, err := mime.ParseMediaType(p.Header.Get("Content-Type")); err != nil || strings.HasPrefix(ct, "multipart/") {
			t.Fatalf("attachment Content-Type %q", p.Header.Get("Content-Type"))
		}
		got, err := io.ReadAll(base64.NewDecoder(base64.StdEncoding, p))
		if err != nil || !bytes.Equal(got, body) {
			t.Fatalf("body %q, %v; want %q", got, err, body)
		}
		if _, err := mr.NextRawPart(); err != io.EOF {
			t.Fatalf("a third part, or a broken end: %v", err)
		}
	})
}

// tagRE matches an HTML tag, to compare the HTML part's words with the text part's.
var tagRE = regexp.MustCompile(`<[^>]*>`)
