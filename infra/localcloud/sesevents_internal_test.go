package localcloud

import (
	"encoding/base64"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"
)

// A raw message that leaves Source, Destinations and the set to its headers gets them from
// there, as SES does; folded and encoded headers are read as a mail reader would.
func TestSendEventFromRawHeaders(t *testing.T) {
	raw := "From: =?utf-8?q?Privacy_Portal?= <privacy@example.com>\r\n" +
		"To: Reader <reader@example.org>,\r\n other@example.org\r\n" +
		"Subject: =?utf-8?q?Gr=C3=BC=C3=9Fe?=\r\n" +
		"X-SES-CONFIGURATION-SET: portal-Mail\r\n" +
		"X-SES-MESSAGE-TAGS: campaign=welcome,kind=notice\r\n" +
		"\r\nBody: not a header\r\n"
	form := url.Values{"Action": {"SendRawEmail"}, "RawMessage.Data": {base64.StdEncoding.EncodeToString([]byte(raw))}}
	s := parseSESSend("SendRawEmail", form, "eu-west-1", "000000000000")
	if s.configSet != "portal-Mail" || !slices.Equal(s.destinations, []string{"reader@example.org", "other@example.org"}) {
		t.Errorf("set %q destinations %q", s.configSet, s.destinations)
	}
	at := time.Date(2026, 1, 2, 3, 4, 5, 6e6, time.UTC)
	b, _ := marshalPlain(s.event("ses-1", at, "127.0.0.1", "000000000000"))
	for _, want := range []string{
		`"eventType":"Send"`, `"timestamp":"2026-01-02T03:04:05.006Z"`, `"messageId":"ses-1"`,
		`"sourceArn":"arn:aws:ses:eu-west-1:000000000000:identity/privacy@example.com"`,
		`"destination":["reader@example.org","other@example.org"]`, `"headersTruncated":false`,
		`"subject":"Grüße"`, `"to":["Reader <reader@example.org>","other@example.org"]`,
		`"campaign":["welcome"]`, `"kind":["notice"]`, `"ses:configuration-set":["portal-Mail"]`, `"send":{}`,
	} {
		if !strings.Contains(string(b), want) {
			t.Errorf("event lacks %s:\n%s", want, b)
		}
	}
	if strings.Contains(string(b), "not a header") {
		t.Errorf("the body was read as a header:\n%s", b)
	}
}

func TestSESMessageID(t *testing.T) {
	body := `<?xml version="1.0" encoding="UTF-8"?><SendRawEmailResponse xmlns="http://ses.amazonaws.com/doc/2010-12-01/"><SendRawEmailResult><MessageId>ses-42</MessageId></SendRawEmailResult></SendRawEmailResponse>`
	if id := sesMessageID([]byte(body)); id != "ses-42" {
		t.Errorf("MessageId %q", id)
	}
	if id := sesMessageID([]byte(`{"message":"Bad Request Exception"}`)); id != "" {
		t.Errorf("MessageId of an error %q", id)
	}
}
