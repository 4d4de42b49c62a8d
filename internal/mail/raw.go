package mail

import (
	"bytes"
	"crypto/rand"
	"errors"
	"fmt"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/mail"
	"net/textproto"
	"slices"
	"strings"
	"time"
)

// reserved are the headers BuildRaw writes itself. A Rendered.Headers entry may not repeat
// them (a second From or Subject is ambiguous) nor add recipients (Cc, Bcc): every mail goes
// to exactly one person.
var reserved = []string{
	"From", "To", "Cc", "Bcc", "Subject", "Date", "Message-Id", "Mime-Version",
	"Content-Type", "Content-Transfer-Encoding",
}

// BuildRaw builds the RFC 5322 message for r, from the address from, dated now: a
// multipart/alternative with the plain text first and the HTML second, both UTF-8 and
// quoted-printable. The subject is RFC 2047 encoded when it is not plain ASCII. The
// Message-ID is random, at from's domain. r.Headers are added verbatim, in name order.
//
// BuildRaw refuses a From or To that is not one address net/mail can parse, and any header
// name or value that could start a header of its own (CR, LF) or is not plain ASCII. Its
// errors never repeat an address or a header value.
func BuildRaw(from string, r Rendered, now time.Time) ([]byte, error) {
	fromAddr, err := parseAddress(from)
	if err != nil {
		return nil, fmt.Errorf("mail: From: %w", err)
	}
	toAddr, err := parseAddress(r.To)
	if err != nil {
		return nil, fmt.Errorf("mail: To: %w", err)
	}
	if strings.TrimSpace(r.Subject) == "" {
		return nil, errors.New("mail: the subject is empty")
	}
	if strings.ContainsAny(r.Subject, "\r\n") {
		return nil, errors.New("mail: the subject contains CR or LF")
	}
	if r.Text == "" || r.HTML == "" {
		return nil, errors.New("mail: a mail needs both a text and an HTML body")
	}
	names := make([]string, 0, len(r.Headers))
	for name, value := range r.Headers {
		if err := checkHeader(name, value); err != nil {
			return nil, err
		}
		names = append(names, name)
	}
	slices.Sort(names)

	var b bytes.Buffer
	writeHeader(&b, "From", fromAddr.String())
	writeHeader(&b, "To", toAddr.String())
	writeHeader(&b, "Subject", mime.BEncoding.Encode("utf-8", r.Subject))
	writeHeader(&b, "Date", now.Format(time.RFC1123Z))
	domain := fromAddr.Address[strings.LastIndexByte(fromAddr.Address, '@')+1:]
	writeHeader(&b, "Message-ID", "<"+strings.ToLower(rand.Text())+"@"+domain+">")
	writeHeader(&b, "MIME-Version", "1.0")
	for _, name := range names {
		fmt.Fprintf(&b, "%s: %s\r\n", name, r.Headers[name])
	}

	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	writeHeader(&b, "Content-Type", mime.FormatMediaType("multipart/alternative", map[string]string{"boundary": mw.Boundary()}))
	b.WriteString("\r\n")
	for _, p := range []struct{ ctype, content string }{
		{"text/plain; charset=utf-8", r.Text},
		{"text/html; charset=utf-8", r.HTML},
	} {
		w, err := mw.CreatePart(textproto.MIMEHeader{
			"Content-Type":              {p.ctype},
			"Content-Transfer-Encoding": {"quoted-printable"},
		})
		if err != nil {
			return nil, fmt.Errorf("mail: create MIME part: %w", err)
		}
		// In text mode the writer also turns line breaks into CRLF, as RFC 2045 asks.
		qw := quotedprintable.NewWriter(w)
		if _, err := qw.Write([]byte(p.content)); err != nil {
			return nil, fmt.Errorf("mail: encode MIME part: %w", err)
		}
		if err := qw.Close(); err != nil {
			return nil, fmt.Errorf("mail: encode MIME part: %w", err)
		}
	}
	if err := mw.Close(); err != nil {
		return nil, fmt.Errorf("mail: close MIME message: %w", err)
	}
	b.Write(body.Bytes())
	return b.Bytes(), nil
}

// parseAddress parses one address. net/mail's own errors can quote the input, so they are
// not passed on.
func parseAddress(s string) (*mail.Address, error) {
	if strings.ContainsAny(s, "\r\n") {
		return nil, errors.New("the address contains CR or LF")
	}
	a, err := mail.ParseAddress(s)
	if err != nil {
		return nil, errors.New("not one valid e-mail address")
	}
	return a, nil
}

// checkHeader accepts an RFC 5322 field name that BuildRaw does not write itself, and a value
// of printable ASCII, spaces and tabs.
func checkHeader(name, value string) error {
	if name == "" {
		return errors.New("mail: empty header name")
	}
	for i := 0; i < len(name); i++ {
		if c := name[i]; c < 33 || c > 126 || c == ':' {
			// Not repeated: a name this broken may carry anything, an address included.
			return errors.New("mail: a header name is not a valid RFC 5322 field name")
		}
	}
	canonical := textproto.CanonicalMIMEHeaderKey(name)
	if slices.Contains(reserved, canonical) {
		return fmt.Errorf("mail: header %s is written by BuildRaw and cannot be set", canonical)
	}
	if strings.ContainsAny(value, "\r\n") {
		return fmt.Errorf("mail: header %s value contains CR or LF", canonical)
	}
	for i := 0; i < len(value); i++ {
		if c := value[i]; (c < 32 && c != '\t') || c > 126 {
			return fmt.Errorf("mail: header %s value has a control or non-ASCII byte", canonical)
		}
	}
	if len(name)+2+len(value) > 998 {
		return fmt.Errorf("mail: header %s is longer than a mail line may be", canonical)
	}
	return nil
}

// writeHeader writes one header field, folding it at spaces so lines stay under 78
// characters where they can (RFC 5322 2.2.3). An encoded subject is a run of encoded words
// separated by spaces, so it folds between them.
func writeHeader(b *bytes.Buffer, name, value string) {
	line := name + ":"
	for i, word := range strings.Split(value, " ") {
		if i > 0 && len(line)+1+len(word) > 76 {
			b.WriteString(line + "\r\n")
			line = ""
		}
		line += " " + word
	}
	b.WriteString(line + "\r\n")
}
