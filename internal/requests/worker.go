package requests

import (
	"context"
	"fmt"
	"math"
	"net/url"
	"time"

	"github.com/privacyportal/portal/internal/jobs"
	"github.com/privacyportal/portal/internal/mail"
	"github.com/privacyportal/portal/internal/privacy"
)

// Sender sends one mail.
type Sender interface {
	Send(ctx context.Context, m mail.Message) error
}

// Worker does the requests' jobs in the mail worker: the code that proves a visitor's request,
// the receipt, each step, the export's links, and the operator's digest. Codes are made only
// here, so they never travel through the queue. A job about a request that is gone, or whose
// state no longer calls for it, does nothing.
type Worker struct {
	*Env
	Store  Store
	Sender Sender
}

// Handles reports whether a job is the requests feature's.
func (w *Worker) Handles(k jobs.Kind) bool {
	switch k {
	case JobReceived, JobVerified, JobUpdated, JobExportReady, JobShare, JobDeadlines:
		return true
	}
	return false
}

// Do carries out one job.
func (w *Worker) Do(ctx context.Context, j jobs.Job) error {
	if j.Kind == JobDeadlines {
		return w.digest(ctx)
	}
	if j.Subject == "" || j.Request == "" {
		return fmt.Errorf("job %s: no request", j.Kind)
	}
	r, err := w.Store.Request(ctx, j.Subject, j.Request)
	if privacy.ErrorCode(err) == privacy.NotFound {
		return nil // erased, or expired unproved
	}
	if err != nil {
		return err
	}
	switch j.Kind {
	case JobReceived:
		return w.code(ctx, r)
	case JobVerified:
		return w.receipt(ctx, r)
	case JobUpdated:
		return w.updated(ctx, r)
	case JobExportReady:
		return w.exportReady(ctx, r)
	case JobShare:
		return w.share(ctx, r)
	}
	return fmt.Errorf("job: unknown kind %q", j.Kind)
}

func (w *Worker) send(ctx context.Context, m mail.Message) error {
	if err := w.Sender.Send(ctx, m); err != nil {
		return fmt.Errorf("send %s mail: %w", m.Kind, err)
	}
	return nil
}

// code mails a visitor's request its code. A retried job mails a new one, which replaces the
// first. The mail carries nothing the requester typed: the address has not proved it wants
// mail from whoever typed it.
func (w *Worker) code(ctx context.Context, r Record) error {
	if r.Status != privacy.RequestReceived {
		return nil
	}
	code := privacy.NewCode()
	v := privacy.Verification{
		Kind:      privacy.VerifyRequest,
		CodeHash:  w.Keys.SecretHash(privacy.DomainCode, r.Subject, string(privacy.VerifyRequest)+"|"+r.ID, code),
		ExpiresAt: r.Received.Add(w.Config.CodeTTL),
	}
	if !w.Now().Before(v.ExpiresAt) {
		return nil // the request expired before its code could be mailed
	}
	if err := w.Store.PutVerification(ctx, r.Subject, v); err != nil {
		return err
	}
	return w.send(ctx, mail.Message{To: r.Email, Locale: r.Locale, Kind: mail.RequestCode, Data: mail.Data{
		Code: code, Minutes: int(math.Ceil(v.ExpiresAt.Sub(w.Now()).Minutes())), RequestType: string(r.Type),
	}})
}

// name is the requester's name when they have an account.
func (w *Worker) name(ctx context.Context, r Record) (string, error) {
	a, err := w.Store.Account(ctx, r.Subject)
	if privacy.ErrorCode(err) == privacy.NotFound {
		return "", nil
	}
	return a.Profile.Name, err
}

// StatusLink is a request's status page. Its token travels in the fragment, which browsers
// never send to a server.
func (e *Env) StatusLink(r privacy.Request) string {
	return e.Config.SiteURL + e.StatusPath(r)
}

// StatusPath is StatusLink without the site's address.
func (e *Env) StatusPath(r privacy.Request) string {
	return privacy.LocalePath(r.Locale, "/requests/status/") +
		"#id=" + url.QueryEscape(ID(r.Subject, r.ID)) + "&token=" + e.token(r.Subject, r.ID, linkStatus)
}

func (e *Env) requestsPage(locale, query string) string {
	return e.Config.SiteURL + privacy.LocalePath(locale, "/requests/") + query
}

func (w *Worker) receipt(ctx context.Context, r Record) error {
	if r.Status == privacy.RequestReceived || r.Status == privacy.RequestExpired {
		return nil
	}
	name, err := w.name(ctx, r)
	if err != nil {
		return err
	}
	return w.send(ctx, mail.Message{To: r.Email, Locale: r.Locale, Kind: mail.RequestReceipt, Data: mail.Data{
		Name: name, RequestType: string(r.Type), RequestID: ID(r.Subject, r.ID), Received: r.Received, Due: r.Due,
		Link: w.StatusLink(r.Request), Repeat: r.Repeat,
	}})
}

// updated tells the requester where their request stands now (a late job tells the latest).
func (w *Worker) updated(ctx context.Context, r Record) error {
	switch r.Status {
	case privacy.RequestInProgress, privacy.RequestCompleted, privacy.RequestRefused:
	default:
		return nil
	}
	name, err := w.name(ctx, r)
	if err != nil {
		return err
	}
	d := mail.Data{
		Name: name, RequestType: string(r.Type), RequestID: ID(r.Subject, r.ID), Status: string(r.Status),
		Link: w.StatusLink(r.Request), Outcome: r.Outcome, Due: r.Due,
		ComplaintLink: w.requestsPage(r.Locale, "?type=complaint&about="+url.QueryEscape(ID(r.Subject, r.ID))),
	}
	if r.Refusal != nil {
		d.RefusalGround, d.RefusalReason = string(r.Refusal.Ground), r.Refusal.Reason
	}
	return w.send(ctx, mail.Message{To: r.Email, Locale: r.Locale, Kind: mail.RequestUpdate, Data: d})
}

// downloadLink is a link to an archive. Its token is in the query: the route redirects at
// once, and the API's access log keeps no query string. lang picks the language of the page a
// dead link leads to.
func (e *Env) downloadLink(r privacy.Request, purpose string) string {
	u := e.Config.SiteURL + "/api/exports/" + url.PathEscape(ID(r.Subject, r.ID)) + "?token=" + e.token(r.Subject, r.ID, purpose)
	if r.Locale != privacy.LocaleEnglish {
		u += "&lang=" + url.QueryEscape(r.Locale)
	}
	return u
}

func (w *Worker) daysLeft(until time.Time) int {
	return max(1, int(math.Ceil(until.Sub(w.Now()).Hours()/24)))
}

// exportReady mails the requester the archive's single-use link, and, when they named a third
// party, the link that confirms it gets the copy too. Each mail goes once: each is marked as
// soon as it is sent, so a retried job sends only what did not go.
func (w *Worker) exportReady(ctx context.Context, r Record) error {
	e := r.Export
	share := r.ThirdParty != "" && !e.ShareMailed
	if e.Key == "" || (e.Mailed && !share) || !w.Now().Before(e.ExpiresAt) {
		return nil
	}
	name, err := w.name(ctx, r)
	if err != nil {
		return err
	}
	if !e.Mailed {
		if err := w.send(ctx, mail.Message{To: r.Email, Locale: r.Locale, Kind: mail.ExportReady, Data: mail.Data{
			Name: name, Link: w.downloadLink(r.Request, linkExport), Days: w.daysLeft(e.ExpiresAt),
			RequestsLink: w.requestsPage(r.Locale, "?type="+string(r.Type)),
		}}); err != nil {
			return err
		}
		if err := w.mark(ctx, r, func(e *ExportState) *bool { return &e.Mailed }); err != nil {
			return err
		}
	}
	if !share {
		return nil
	}
	confirm := w.Config.SiteURL + privacy.LocalePath(r.Locale, "/requests/share/") +
		"#id=" + url.QueryEscape(ID(r.Subject, r.ID)) + "&token=" + w.token(r.Subject, r.ID, linkShare)
	if err := w.send(ctx, mail.Message{To: r.Email, Locale: r.Locale, Kind: mail.ExportShareConfirm, Data: mail.Data{
		Name: name, ThirdParty: r.ThirdParty, Link: confirm,
	}}); err != nil {
		return err
	}
	return w.mark(ctx, r, func(e *ExportState) *bool { return &e.ShareMailed })
}

// mark sets one of an export's mail flags.
func (w *Worker) mark(ctx context.Context, r Record, flag func(*ExportState) *bool) error {
	_, err := update(ctx, w.Store, r.Subject, r.ID, func(r *Record) error {
		f := flag(&r.Export)
		if *f {
			return errUnchanged
		}
		*f = true
		return nil
	})
	return err
}

// share mails the third party its own single-use link, once the requester confirmed.
func (w *Worker) share(ctx context.Context, r Record) error {
	e := r.Export
	if !e.Shared || e.ThirdPartyMailed || r.ThirdParty == "" || !w.Now().Before(e.ExpiresAt) {
		return nil
	}
	name, err := w.name(ctx, r)
	if err != nil {
		return err
	}
	if name == "" {
		name = r.Email // a requester with no account is known by the address they asked from
	}
	if err := w.send(ctx, mail.Message{To: r.ThirdParty, Locale: r.Locale, Kind: mail.ExportThirdParty, Data: mail.Data{
		RequesterName: name, Link: w.downloadLink(r.Request, linkThirdParty), Days: w.daysLeft(e.ExpiresAt),
	}}); err != nil {
		return err
	}
	return w.mark(ctx, r, func(e *ExportState) *bool { return &e.ThirdPartyMailed })
}
