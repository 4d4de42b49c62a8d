package erasure

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/privacyportal/portal/internal/jobs"
	"github.com/privacyportal/portal/internal/mail"
	"github.com/privacyportal/portal/internal/privacy"
)

// NoticeStore is what the outcome mail reads and clears.
type NoticeStore interface {
	Tombstone(ctx context.Context, request string) (privacy.Tombstone, error)
	// ForgetNotice drops a tombstone's notice (privacy.ErrStale if it has none).
	ForgetNotice(ctx context.Context, request string) error
}

// Sender sends one mail.
type Sender interface {
	Send(ctx context.Context, m mail.Message) error
}

// Notifier mails the outcome of an erasure (in the mail worker), then drops from the
// tombstone the address it went to: from then on the tombstone identifies no one.
type Notifier struct {
	Store  NoticeStore
	Sender Sender
	// SiteURL is the site's address (known once the mail worker is ready); BackupDays how
	// long the point-in-time backups keep what was erased.
	SiteURL    func() string
	BackupDays int
}

// Handles reports whether a job is erasure's.
func (n *Notifier) Handles(k jobs.Kind) bool { return k == JobErased }

// Do mails one erasure's outcome, once: a tombstone without its notice was mailed already.
func (n *Notifier) Do(ctx context.Context, j jobs.Job) error {
	t, err := n.Store.Tombstone(ctx, j.Request)
	if privacy.ErrorCode(err) == privacy.NotFound {
		return nil
	}
	if err != nil {
		return err
	}
	if t.Notice == nil || t.State != privacy.ErasureDone {
		return nil
	}
	told := make([]string, 0, len(t.RecipientsTold))
	for _, id := range t.RecipientsTold {
		told = append(told, recipientName(id, t.Notice.Locale))
	}
	if err := n.Sender.Send(ctx, mail.Message{To: t.Notice.Email, Locale: t.Notice.Locale, Kind: mail.ErasureDone, Data: mail.Data{
		RequestType: string(t.Type), RequestID: t.Notice.RequestID, Link: n.SiteURL() + t.Notice.StatusPath, At: t.Erased,
		Erasure: &mail.Erasure{
			Items: t.ItemsRemoved(), Objects: t.Objects, RecipientsTold: told, Independent: t.Notice.Independent,
			BackupDays: n.BackupDays, Verified: t.Verified,
		},
	}}); err != nil {
		return fmt.Errorf("send erasure outcome: %w", err)
	}
	if err := n.Store.ForgetNotice(ctx, t.Request); err != nil && !errors.Is(err, privacy.ErrStale) {
		return err
	}
	return nil
}

// recipientName is a recipient's name in the reader's language (its ID if the catalogue no
// longer has it).
func recipientName(id, locale string) string {
	for _, p := range privacy.Catalogue().Purposes {
		if r := p.Recipient; r != nil && r.ID == id {
			if name := r.Name[locale]; name != "" {
				return name
			}
			return r.Name[privacy.LocaleEnglish]
		}
	}
	return id
}

// StaleStore is what ForgetStaleNotices reads and clears.
type StaleStore interface {
	// NoticesBefore lists the requests whose tombstones still hold a notice, erased before.
	NoticesBefore(ctx context.Context, before time.Time) ([]string, error)
	ForgetNotice(ctx context.Context, request string) error
}

// NoticeLife is how long a tombstone may hold its outcome mail's address: past it the mail
// job is gone from the mail queue (a day's retention), so the mail can no longer be sent, and
// the address is dropped unsent rather than kept with the tombstone for years.
const NoticeLife = 3 * 24 * time.Hour

// ForgetStaleNotices drops the notices of tombstones older than NoticeLife, and returns how many
// it dropped. The deadlines function runs it every hour.
func ForgetStaleNotices(ctx context.Context, s StaleStore, now time.Time) (int, error) {
	stale, err := s.NoticesBefore(ctx, now.Add(-NoticeLife))
	if err != nil {
		return 0, err
	}
	n := 0
	for _, r := range stale {
		switch err := s.ForgetNotice(ctx, r); {
		case errors.Is(err, privacy.ErrStale):
		case err != nil:
			return n, err
		default:
			slog.Warn("erasure outcome never mailed: its address is dropped", "request", r)
			n++
		}
	}
	return n, nil
}
