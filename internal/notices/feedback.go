package notices

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/privacyportal/portal/internal/privacy"
)

// SuppressStore records the addresses mail must no longer go to, and the sends SES reports.
type SuppressStore interface {
	// Suppress records that mail to an address (its look-up key) bounced for good or was
	// complained about; why is "bounce" or "complaint".
	Suppress(ctx context.Context, emailKey, why string, at time.Time) error
	// DeliveryState is a delivery's state ("" when there is none).
	DeliveryState(ctx context.Context, campaign string, id privacy.SubjectID) (DeliveryState, error)
	// EndDelivery ends a delivery being sent in a final state, counted once (SendStore).
	EndDelivery(ctx context.Context, campaign string, id privacy.SubjectID, state DeliveryState) error
}

// Feedback takes SES's events (the configuration sets' event destination, through SNS to a
// queue, raw): a bounce for good or a complaint suppresses later campaign mail to that address
// (a transient bounce, a full mailbox, suppresses nothing); a Send event of a campaign's mail
// (tagged with the campaign and the subject) records its delivery as sent, should the sender
// have died before recording it itself, so the sender that takes over does not send it again.
type Feedback struct {
	Keys  *privacy.Keyed
	Store SuppressStore
}

// sesEvent is the part of an SES event document Feedback reads.
type sesEvent struct {
	EventType        string `json:"eventType"`
	NotificationType string `json:"notificationType"` // the older SNS notification's name
	Mail             struct {
		Tags map[string][]string `json:"tags"`
	} `json:"mail"`
	Bounce *struct {
		BounceType        string `json:"bounceType"`
		BouncedRecipients []struct {
			EmailAddress string `json:"emailAddress"`
		} `json:"bouncedRecipients"`
		Timestamp time.Time `json:"timestamp"`
	} `json:"bounce"`
	Complaint *struct {
		ComplainedRecipients []struct {
			EmailAddress string `json:"emailAddress"`
		} `json:"complainedRecipients"`
		Timestamp time.Time `json:"timestamp"`
	} `json:"complaint"`
}

// Take handles one event document; another kind of event (a delivery, a send) is ignored.
// The addresses it holds are never logged.
func (f *Feedback) Take(ctx context.Context, body string) (int, error) {
	var ev sesEvent
	if err := json.Unmarshal([]byte(body), &ev); err != nil {
		return 0, fmt.Errorf("feedback: not an SES event: %w", err)
	}
	kind := strings.ToLower(ev.EventType + ev.NotificationType)
	var addrs []string
	var at time.Time
	why := ""
	switch {
	case kind == "send":
		campaign, subject := first(ev.Mail.Tags["campaign"]), first(ev.Mail.Tags["subject"])
		if campaign == "" || subject == "" {
			return 0, nil // not a campaign's mail
		}
		// Nearly always its sender has recorded it already: a read tells so, for less than the
		// transaction that would find it ended.
		id := privacy.SubjectID(subject)
		switch state, err := f.Store.DeliveryState(ctx, campaign, id); {
		case err != nil:
			return 0, err
		case state != DeliverySending:
			return 0, nil
		}
		return 0, f.Store.EndDelivery(ctx, campaign, id, DeliverySent)
	case strings.Contains(kind, "bounce") && ev.Bounce != nil:
		if ev.Bounce.BounceType != "Permanent" {
			return 0, nil
		}
		why, at = "bounce", ev.Bounce.Timestamp
		for _, r := range ev.Bounce.BouncedRecipients {
			addrs = append(addrs, r.EmailAddress)
		}
	case strings.Contains(kind, "complaint") && ev.Complaint != nil:
		why, at = "complaint", ev.Complaint.Timestamp
		for _, r := range ev.Complaint.ComplainedRecipients {
			addrs = append(addrs, r.EmailAddress)
		}
	default:
		return 0, nil
	}
	if at.IsZero() {
		at = time.Now()
	}
	n := 0
	for _, a := range addrs {
		if a = privacy.NormalizeEmail(a); a == "" {
			continue
		}
		if err := f.Store.Suppress(ctx, f.Keys.EmailKey(a), why, at); err != nil {
			return n, err
		}
		n++
	}
	if n > 0 {
		slog.Info("addresses suppressed", "why", why, "count", n)
	}
	return n, nil
}

func first(vs []string) string {
	if len(vs) == 0 {
		return ""
	}
	return vs[0]
}
