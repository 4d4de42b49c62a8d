package mail

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
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
// quoted-printable. With r.Attachments, the message is a multipart/mixed of that
// multipart/alternative and then each attachment, base64, with Content-Disposition:
// attachment and its file name. The subject is RFC 2047 encoded when it is not plain ASCII.
// The Message-ID is random, at from's domain. r.Headers are added verbatim, in name order.
//
// BuildRaw refuses a From or To that is not one address net/mail can parse, any header name
// or value that could start a header of its own (CR, LF) or is not plain ASCII, and an
// attachment whose name or content type Attachment does not allow, a repeated name, or
// attachments above MaxAttachmentBytes in all. Its errors never repeat an address, a header
// value or a file name.
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
	if err := checkAttachments(r.Attachments); err != nil {
		return nil, err
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

	alternative, boundary, err := buildAlternative(r.Text, r.HTML)
	if err != nil {
		return nil, err
	}
	altType := mime.FormatMediaType("multipart/alternative", map[string]string{"boundary": boundary})
	if len(r.Attachments) == 0 {
		writeHeader(&b, "Content-Type", altType)
		b.WriteString("\r\n")
		b.Write(alternative)
		return b.Bytes(), nil
	}

	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	writeHeader(&b, "Content-Type", mime.FormatMediaType("multipart/mixed", map[string]string{"boundary": mw.Boundary()}))
	b.WriteString("\r\n")
	w, err := mw.CreatePart(textproto.MIMEHeader{"Content-Type": {altType}})
	if err != nil {
		return nil, fmt.Errorf("mail: create MIME part: %w", err)
	}
	w.Write(alternative) // A bytes.Buffer underneath: it cannot fail.
	for _, a := range r.Attachments {
		// checkAttachments has parsed the type; formatting it again leaves nothing in the
		// header that the parser did not understand.
		ctype, params, _ := mime.ParseMediaType(a.ContentType)
		params["name"] = a.Name
		w, err := mw.CreatePart(textproto.MIMEHeader{
			"Content-Type":              {mime.FormatMediaType(ctype, params)},
			"Content-Disposition":       {mime.FormatMediaType("attachment", map[string]string{"filename": a.Name})},
			"Content-Transfer-Encoding": {"base64"},
		})
		if err != nil {
			return nil, fmt.Errorf("mail: create MIME part: %w", err)
		}
		// RFC 2045 6.8: lines of at most 76 characters.
		enc := base64.StdEncoding.EncodeToString(a.Body)
		for len(enc) > 76 {
			io.WriteString(w, enc[:76]+"\r\n")
			enc = enc[76:]
		}
		io.WriteString(w, enc+"\r\n")
	}
	if err := mw.Close(); err != nil {
		return nil, fmt.Errorf("mail: close MIME message: %w", err)
	}
	b.Write(body.Bytes())
	return b.Bytes(), nil
}

// buildAlternative builds the multipart/alternative body of text and html, and returns it
// with its boundary.
func buildAlternative(text, html string) ([]byte, string, error) {
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	for _, p := range []struct{ ctype, content string }{
		{"text/plain; charset=utf-8", text},
		{"text/html; charset=utf-8", html},
	} {
		w, err := mw.CreatePart(textproto.MIMEHeader{
			"Content-Type":              {p.ctype},
			"Content-Transfer-Encoding": {"quoted-printable"},
		})
		if err != nil {
			return nil, "", fmt.Errorf("mail: create MIME part: %w", err)
		}
		// In text mode the writer also turns line breaks into CRLF, as RFC 2045 asks.
		qw := quotedprintable.NewWriter(w)
		if _, err := qw.Write([]byte(p.content)); err != nil {
			return nil, "", fmt.Errorf("mail: encode MIME part: %w", err)
		}
		if err := qw.Close(); err != nil {
			return nil, "", fmt.Errorf("mail: encode MIME part: %w", err)
		}
	}
	if err := mw.Close(); err != nil {
		return nil, "", fmt.Errorf("mail: close MIME message: %w", err)
	}
	return body.Bytes(), mw.Boundary(), nil
}

// validFileName reports whether name is a safe attachment file name: a letter or digit, then
// up to 127 letters, digits, '.', '_' and '-'.
func validFileName(name string) bool {
	if name == "" || len(name) > 128 || !isAlnum(name[0]) {
		return false
	}
	for _, c := range []byte(name) {
		if !isAlnum(c) && c != '.' && c != '_' && c != '-' {
			return false
		}
	}
	return true
}

func isAlnum(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

// checkAttachments checks what BuildRaw asks of attachments. Its errors number an attachment
// rather than name it.
func checkAttachments(as []Attachment) error {
	total := 0
	seen := make(map[string]bool, len(as))
	for i, a := range as {
		if !validFileName(a.Name) {
			return fmt.Errorf("mail: attachment %d: the name may hold only letters, digits, '.', '_' and '-', start with a letter or digit, and be at most 128 bytes", i+1)
		}
		// Names differ in more than case: a mail client saving both would overwrite one.
		lower := strings.ToLower(a.Name)
		if seen[lower] {
			return fmt.Errorf("mail: attachment %d: the name is used twice", i+1)
		}
		seen[lower] = true
		if err := checkContentType(a.ContentType); err != nil {
			return fmt.Errorf("mail: attachment %d: %w", i+1, err)
		}
		total += len(a.Body)
		if total > MaxAttachmentBytes {
			return fmt.Errorf("mail: attachments exceed %d bytes in all", MaxAttachmentBytes)
		}
	}
	return nil
}

// checkContentType accepts a plain-ASCII MIME type with a subtype, that is not a container
// (multipart/*, message/*: their structure would be BuildRaw's to write) and has no name
// parameter of its own (BuildRaw sets it to the file name).
func checkContentType(ct string) error {
	for i := 0; i < len(ct); i++ {
		if c := ct[i]; c < 32 || c > 126 {
			return errors.New("the content type has a control or non-ASCII byte")
		}
	}
	mediaType, params, err := mime.ParseMediaType(ct)
	if err != nil || !strings.Contains(mediaType, "/") {
		return errors.New("the content type is not a MIME type")
	}
	if strings.HasPrefix(mediaType, "multipart/") || strings.HasPrefix(mediaType, "message/") {
		return errors.New("the content type may not be multipart or message")
	}
	if _, ok := params["name"]; ok {
		return errors.New("the content type may not have a name parameter")
	}
	if len(ct) > 200 {
		return errors.New("the content type is too long")
	}
	return nil
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
