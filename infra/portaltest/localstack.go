package portaltest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/http"
	"net/mail"
	"strings"
	"time"
)

// localStackMailbox is the path where LocalStack lists the mail SES sent (its docs: "Retrieve
// Sent Emails", GET /_aws/ses). Mail sent with SendRawEmail, as all the portal's is, appears
// there as the raw MIME message, which localStack parses as the SES emulator's /store would.
const localStackMailbox = "/_aws/ses"

func (mb *Mailbox) localStack() ([]Mail, error) {
	resp, err := mb.Client.Get(mb.URL)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("mailbox: %s", resp.Status)
	}
	var store struct {
		Messages []struct {
			ID          string `json:"Id"`
			Source      string `json:"Source"`
			Destination struct {
				ToAddresses []string `json:"ToAddresses"`
			} `json:"Destination"`
			Subject string `json:"Subject"`
			Body    struct {
				Text string `json:"text_part"`
				HTML string `json:"html_part"`
			} `json:"Body"`
			RawData   string `json:"RawData"`
			Timestamp string `json:"Timestamp"`
		} `json:"messages"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&store); err != nil {
		return nil, fmt.Errorf("mailbox: %w", err)
	}
	var out []Mail
	for _, m := range store.Messages {
		var got Mail
		got.MessageID, got.From, got.Subject = m.ID, m.Source, m.Subject
		got.Destination.To = m.Destination.ToAddresses
		got.Body.Text, got.Body.HTML = m.Body.Text, m.Body.HTML
		if t, err := time.Parse(time.RFC3339Nano, m.Timestamp); err == nil {
			got.At = t.UnixMilli()
		}
		if m.RawData != "" {
			if err := parseRaw(m.RawData, &got); err != nil {
				return nil, fmt.Errorf("mailbox: message %s: %w", m.ID, err)
			}
		}
		out = append(out, got)
	}
	return out, nil
}

// parseRaw fills a Mail from a raw MIME message: the headers, and the text and HTML parts of a
// multipart/alternative body (or a single part).
func parseRaw(raw string, m *Mail) error {
	msg, err := mail.ReadMessage(strings.NewReader(raw))
	if err != nil {
		return err
	}
	dec := new(mime.WordDecoder)
	for name, vs := range msg.Header {
		for _, v := range vs {
			if d, err := dec.DecodeHeader(v); err == nil {
				v = d
			}
			m.Headers = append(m.Headers, struct {
				Name  string `json:"name"`
				Value string `json:"value"`
			}{name, v})
		}
	}
	if s, err := dec.DecodeHeader(msg.Header.Get("Subject")); err == nil && s != "" {
		m.Subject = s
	}
	if len(m.Destination.To) == 0 {
		m.Destination.To = []string{msg.Header.Get("To")}
	}
	if m.From == "" {
		m.From = msg.Header.Get("From")
	}
	mt, params, err := mime.ParseMediaType(msg.Header.Get("Content-Type"))
	if err != nil {
		return err
	}
	if !strings.HasPrefix(mt, "multipart/") {
		body, err := decodePart(msg.Body, msg.Header.Get("Content-Transfer-Encoding"))
		if err != nil {
			return err
		}
		if mt == "text/html" {
			m.Body.HTML = body
		} else {
			m.Body.Text = body
		}
		return nil
	}
	r := multipart.NewReader(msg.Body, params["boundary"])
	for {
		p, err := r.NextPart()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		body, err := decodePart(p, p.Header.Get("Content-Transfer-Encoding"))
		if err != nil {
			return err
		}
		switch pt, _, _ := mime.ParseMediaType(p.Header.Get("Content-Type")); pt {
		case "text/plain":
			m.Body.Text = body
		case "text/html":
			m.Body.HTML = body
		}
	}
}

func decodePart(r io.Reader, encoding string) (string, error) {
	if strings.EqualFold(encoding, "quoted-printable") {
		r = quotedprintable.NewReader(r)
	}
	var b bytes.Buffer
	if _, err := io.Copy(&b, r); err != nil {
		return "", err
	}
	return b.String(), nil
}
