package consent

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"time"

	"github.com/privacyportal/portal/internal/jobs"
	"github.com/privacyportal/portal/internal/mail"
	"github.com/privacyportal/portal/internal/privacy"
)

// Campaign is a marketing campaign's content: the operator's words, nothing personal.
type Campaign struct {
	ID         string
	Title      privacy.Text
	Paragraphs map[string][]string // by locale
}

// MailStore is what the consent centre's mail needs.
type MailStore interface {
	Account(ctx context.Context, id privacy.SubjectID) (privacy.Account, error)
	Ledger(ctx context.Context, id privacy.SubjectID) ([]privacy.ConsentEntry, error)
	// MarketingContent reads a marketing campaign's content (privacy.NotFound when there is
	// none).
	MarketingContent(ctx context.Context, id string) (Campaign, error)
}

// Sender sends one mail.
type Sender interface {
	Send(ctx context.Context, m mail.Message) error
}

// Worker does the consent centre's jobs in the mail worker: receipts, marketing mail and
// disclosures to recipients.
type Worker struct {
	*Env
	Store     MailStore
	Sender    Sender
	Discloser *Discloser
}

// Handles reports whether a job is the consent centre's.
func (w *Worker) Handles(k jobs.Kind) bool {
	return k == JobReceipt || k == JobMarketing || k == JobDisclose || k == JobRecall
}

// Do carries out one job. A job for a subject that is gone, or whose ledger no longer allows
// it, does nothing.
func (w *Worker) Do(ctx context.Context, j jobs.Job) error {
	if j.Subject == "" {
		return fmt.Errorf("job %s: no subject", j.Kind)
	}
	if j.Kind == JobDisclose || j.Kind == JobRecall {
		return w.disclose(ctx, j)
	}
	a, err := w.Store.Account(ctx, j.Subject)
	if privacy.ErrorCode(err) == privacy.NotFound {
		return nil
	}
	if err != nil {
		return err
	}
	if a.Status == privacy.StatusErasing {
		return nil
	}
	ledger, err := w.Store.Ledger(ctx, j.Subject)
	if err != nil {
		return err
	}
	switch j.Kind {
	case JobReceipt:
		return w.receipt(ctx, a, ledger, j.Receipt)
	case JobMarketing:
		return w.marketing(ctx, a, ledger, j.Campaign)
	}
	return fmt.Errorf("job: unknown kind %q", j.Kind)
}

func (w *Worker) receipt(ctx context.Context, a privacy.Account, ledger []privacy.ConsentEntry, id string) error {
	p := a.Profile
	r, ok := w.receiptOf(ledger, id, a.SubjectID, p.Locale)
	if !ok {
		return nil
	}
	body, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	var changes []mail.Change
	cat := privacy.Catalogue()
	for _, e := range ledger {
		if e.ReceiptID == id {
			purpose, _ := cat.Purpose(e.Purpose)
			changes = append(changes, mail.Change{Purpose: text(purpose.Name, p.Locale), Granted: e.ActionOf() == privacy.ActionGrant})
		}
	}
	return w.Sender.Send(ctx, mail.Message{To: p.Email, Locale: p.Locale, Kind: mail.ConsentReceipt, Data: mail.Data{
		Name: p.Name, Changes: changes, ReceiptID: id, At: changesAt(ledger, id), Receipt: body,
		Link: w.Operator.SiteURL + privacy.LocalePath(p.Locale, "/consent/"),
	}})
}

func changesAt(ledger []privacy.ConsentEntry, id string) (at time.Time) {
	for _, e := range ledger {
		if e.ReceiptID == id {
			return e.At
		}
	}
	return at
}

// marketing mails a campaign to one person, only with their marketing consent (P19).
func (w *Worker) marketing(ctx context.Context, a privacy.Account, ledger []privacy.ConsentEntry, campaign string) error {
	m, ok, err := w.MarketingMessage(ctx, a, ledger, campaign)
	if err != nil || !ok {
		return err
	}
	return w.Sender.Send(ctx, m)
}

// MarketingMessage is a campaign's mail to one person, and false when it must not go: only
// with their marketing consent (P19); with their e-mail tracking consent it goes through the
// tracking configuration set, and otherwise through the one without open or click tracking
// (P08). Every marketing mail carries its one-click unsubscribe link. The notices sender sends
// campaigns with it too.
func (w *Worker) MarketingMessage(ctx context.Context, a privacy.Account, ledger []privacy.ConsentEntry, campaign string) (mail.Message, bool, error) {
	if campaign == "" {
		return mail.Message{}, false, fmt.Errorf("job marketing: no campaign")
	}
	if a.Status != privacy.StatusActive || !privacy.Allowed(ledger, PurposeMarketing) {
		return mail.Message{}, false, nil
	}
	c, err := w.Store.MarketingContent(ctx, campaign)
	if err != nil {
		return mail.Message{}, false, err
	}
	p := a.Profile
	token := url.QueryEscape(w.UnsubscribeToken(a.SubjectID, campaign, w.Now()))
	// The one-click URL carries the reader's language, for the page a GET of it opens.
	lang := ""
	if p.Locale != privacy.LocaleEnglish {
		lang = "&lang=" + url.QueryEscape(p.Locale)
	}
	return mail.Message{
		To: p.Email, Locale: p.Locale, Kind: mail.Marketing, Campaign: campaign,
		Unsubscribe: w.Operator.SiteURL + "/api/unsubscribe?token=" + token + lang,
		Tracked:     privacy.Allowed(ledger, "email.analytics"),
		Data: mail.Data{
			Name: p.Name, Title: text(c.Title, p.Locale), Paragraphs: paragraphs(c, p.Locale),
			UnsubscribeLink: w.Operator.SiteURL + privacy.LocalePath(p.Locale, "/unsubscribe/") + "?token=" + token,
			PreferencesLink: w.Operator.SiteURL + privacy.LocalePath(p.Locale, "/consent/"),
		},
	}, true, nil
}

func paragraphs(c Campaign, locale string) []string {
	if ps := c.Paragraphs[locale]; len(ps) > 0 {
		return ps
	}
	return c.Paragraphs[privacy.LocaleEnglish]
}

// disclose does a disclosure or recall job; a disclosure the ledger no longer allows (withdrawn
// meanwhile), or for a subject gone, is dropped.
func (w *Worker) disclose(ctx context.Context, j jobs.Job) error {
	if w.Discloser == nil {
		return fmt.Errorf("job %s: no discloser configured", j.Kind)
	}
	if j.Kind == JobRecall {
		return w.Discloser.Recall(ctx, j.Subject, j.Purpose)
	}
	err := w.Discloser.Disclose(ctx, j.Subject, j.Purpose, j.Receipt, j.At)
	switch {
	case errors.Is(err, ErrNoConsent):
		logged("disclosure dropped: no consent", j.Subject)
		return nil
	case privacy.ErrorCode(err) == privacy.NotFound:
		return nil
	}
	return err
}
