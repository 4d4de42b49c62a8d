package portaltest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"slices"
	"strings"
	"testing"
	"time"
)

// Mail is one message the portal sent, as the SES emulator stored it.
type Mail struct {
	MessageID   string `json:"messageId"`
	From        string `json:"from"`
	Destination struct {
		To  []string `json:"to"`
		CC  []string `json:"cc"`
		BCC []string `json:"bcc"`
	} `json:"destination"`
	Subject string `json:"subject"`
	Body    struct {
		HTML string `json:"html"`
		Text string `json:"text"`
	} `json:"body"`
	Headers []struct {
		Name  string `json:"name"`
		Value string `json:"value"`
	} `json:"headers"`
	At int64 `json:"at"`
}

// To reports whether the mail was addressed to addr (case-insensitive, display names allowed).
func (m Mail) To(addr string) bool {
	return slices.ContainsFunc(m.Destination.To, func(s string) bool {
		return strings.Contains(strings.ToLower(s), strings.ToLower(addr))
	})
}

// Header returns the value of a header (case-insensitive).
func (m Mail) Header(name string) string {
	for _, h := range m.Headers {
		if strings.EqualFold(h.Name, name) {
			return h.Value
		}
	}
	return ""
}

// Mailbox reads the mail the SES emulator received.
type Mailbox struct {
	URL    string
	Client *http.Client
}

// NewMailbox returns the portal's mailbox: PORTAL_MAILBOX_URL when the tests run against a
// deployed portal (PORTAL_URL), else the local cloud's SES emulator.
func NewMailbox(tb testing.TB) *Mailbox {
	tb.Helper()
	client := &http.Client{Timeout: 10 * time.Second}
	if os.Getenv("PORTAL_URL") != "" {
		u := os.Getenv("PORTAL_MAILBOX_URL")
		if u == "" {
			tb.Fatal("PORTAL_URL is set without PORTAL_MAILBOX_URL: the tests read the mail the portal sends")
		}
		return &Mailbox{URL: u, Client: client}
	}
	return &Mailbox{URL: Cloud(tb).MailboxURL, Client: client}
}

// All returns every stored mail.
func (mb *Mailbox) All() ([]Mail, error) {
	if strings.HasSuffix(mb.URL, localStackMailbox) {
		return mb.localStack()
	}
	resp, err := mb.Client.Get(mb.URL + "/store")
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("mailbox: %s", resp.Status)
	}
	var store struct {
		Emails []Mail `json:"emails"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&store); err != nil {
		return nil, fmt.Errorf("mailbox: %w", err)
	}
	return store.Emails, nil
}

// Wait returns the first mail to addr for which match is true, polling until timeout. Tests
// use unique addresses, so they never need to clear the shared mailbox.
func (mb *Mailbox) Wait(tb testing.TB, addr string, timeout time.Duration, match func(Mail) bool) Mail {
	tb.Helper()
	deadline := time.Now().Add(timeout)
	for {
		mails, err := mb.All()
		if err != nil {
			tb.Fatal(err)
		}
		for _, m := range mails {
			if m.To(addr) && (match == nil || match(m)) {
				return m
			}
		}
		if time.Now().After(deadline) {
			tb.Fatalf("no mail to %s within %s (%d mails in the box)", addr, timeout, len(mails))
		}
		time.Sleep(100 * time.Millisecond)
	}
}
