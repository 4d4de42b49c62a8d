package notices

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/smithy-go"
	"golang.org/x/time/rate"

	"github.com/privacyportal/portal/internal/jobs"
	"github.com/privacyportal/portal/internal/mail"
	"github.com/privacyportal/portal/internal/privacy"
)

// SendStore is what the sender reads and writes.
type SendStore interface {
	Campaign(ctx context.Context, id string) (Campaign, error)
	// Accounts reads the accounts of a batch at once; a subject with none is not in the map.
	Accounts(ctx context.Context, ids []privacy.SubjectID) (map[privacy.SubjectID]privacy.Account, error)
	Ledger(ctx context.Context, id privacy.SubjectID) ([]privacy.ConsentEntry, error)
	// ClaimDelivery takes a delivery for a sender (owner): a pending one, or one another
	// sender claimed more than TakeOver ago and never ended. A live sender ends or gives back
	// every claim within Patience and one AWS call of making it, well inside TakeOver, so a
	// claim older than that is a sender's that died mid-batch; its mail may have reached SES
	// just before, and SES's Send event (Feedback) settles such a delivery within seconds, so
	// it is taken over only after that wait: ErrHeld until then (also when another live
	// sender holds it: SQS delivered its batch twice). False if the delivery has ended (or is
	// already this sender's).
	ClaimDelivery(ctx context.Context, campaign string, id privacy.SubjectID, owner string) (bool, error)
	// EndDelivery ends a claimed delivery in a final state and counts it on the campaign, in
	// one step.
	EndDelivery(ctx context.Context, campaign string, id privacy.SubjectID, state DeliveryState) error
	// ReleaseDelivery gives a claimed delivery back, pending, for a later try.
	ReleaseDelivery(ctx context.Context, campaign string, id privacy.SubjectID) error
	// SuppressedKeys reports which addresses (their look-up keys) bounced or were complained
	// about.
	SuppressedKeys(ctx context.Context, emailKeys []string) (map[string]bool, error)
}

// MailSender sends one mail (the SES adapter).
type MailSender interface {
	Send(ctx context.Context, m mail.Message) error
}

// Marketing builds a marketing mail for one person, if their ledger grants marketing now
// (the consent worker's rule, with its unsubscribe link and tracking choice: P19, P08).
type Marketing interface {
	MarketingMessage(ctx context.Context, a privacy.Account, ledger []privacy.ConsentEntry, campaign string) (mail.Message, bool, error)
}

// Sender sends campaigns' batches. A fixed number of senders run at once for the whole account
// (the function's NOTICE_SENDERS: its SQS event's MaximumConcurrency and its reserved
// concurrency), and each paces every send with Limiter, at its share of the account's SES
// rate; Workers sends may be in flight at once within that rate, so a slow SES answer does not
// lower it.
type Sender struct {
	Store     SendStore
	Mail      MailSender
	Keys      *privacy.Keyed
	Marketing Marketing
	Limiter   *rate.Limiter
	Workers   int
	// Owner names this sender's claims: set anew for each invocation, so that the next
	// invocation takes over what a dead one claimed (ClaimDelivery).
	Owner string
	// Patience is how long after its claim one mail's sending is retried (throttling, SES
	// refusing for now) before its delivery is given back and the batch goes back to the
	// queue. With one AWS call's timeout on top, it must stay well under TakeOver, or another
	// sender could take over a live one's claim.
	Patience time.Duration
	SiteURL  func() string
	Now      func() time.Time
}

// ErrHeld is a delivery a dead sender claimed too recently to take over (SendStore).
var ErrHeld = errors.New("a delivery is held by a sender that stopped moments ago")

// TakeOver is how long a dead sender's claim is left for SES's Send event to settle before
// another sender takes it over: SES publishes it within seconds.
const TakeOver = time.Minute

// errGiveBack ends a batch whose sends kept failing: what it has not sent goes back to the
// queue, for a later try.
var errGiveBack = errors.New("sending kept failing")

// SendBatch sends one batch. Each delivery is claimed before its mail goes and ended after, so
// a batch sent twice (a redelivery, a sender that died) mails each person once; what it could
// not send goes back to the queue, as an error.
func (s *Sender) SendBatch(ctx context.Context, j jobs.Job) error {
	if j.Kind != JobBatch || j.Campaign == "" {
		return fmt.Errorf("send: not a batch (%s)", j.Kind)
	}
	c, err := s.Store.Campaign(ctx, j.Campaign)
	if err != nil {
		return err
	}
	// The batch's accounts and suppressions, read at once rather than one by one: two calls
	// for 50 people instead of 100. One erased since is still found out at its claim (its
	// delivery went with its partition); a marketing mail reads its ledger as it goes.
	accounts, err := s.Store.Accounts(ctx, j.Subjects)
	if err != nil {
		return err
	}
	keys := make([]string, 0, len(accounts))
	for _, a := range accounts {
		keys = append(keys, a.EmailKey)
	}
	suppressed, err := s.Store.SuppressedKeys(ctx, keys)
	if err != nil {
		return err
	}
	work := make(chan privacy.SubjectID)
	var mu sync.Mutex
	var errs []error
	var wg sync.WaitGroup
	// Once one mail had to be given back, the rest of the batch is not tried: it goes back to
	// the queue whole, rather than each mail waiting out its own Patience.
	var failing atomic.Bool
	for range max(1, s.Workers) {
		wg.Go(func() {
			for id := range work {
				if failing.Load() {
					continue
				}
				a, ok := accounts[id]
				if err := s.deliver(ctx, c, id, a, ok, suppressed[a.EmailKey]); err != nil {
					if errors.Is(err, errGiveBack) {
						failing.Store(true)
					}
					mu.Lock()
					errs = append(errs, err)
					mu.Unlock()
				}
			}
		})
	}
	for _, id := range j.Subjects {
		work <- id
	}
	close(work)
	wg.Wait()
	return errors.Join(errs...)
}

// deliver sends a campaign to one person, once: a, if found, is their account, and suppressed
// says mail to its address bounced or was complained about.
func (s *Sender) deliver(ctx context.Context, c Campaign, id privacy.SubjectID, a privacy.Account, found, suppressed bool) error {
	claimed, err := s.Store.ClaimDelivery(ctx, c.ID, id, s.Owner)
	if errors.Is(err, ErrHeld) {
		// A sender that died claimed it moments ago: its mail may be at SES, and SES's Send
		// event may yet settle it. The batch goes back to the queue, for after the wait.
		return fmt.Errorf("%w: %s", errGiveBack, err)
	}
	if err != nil || !claimed {
		return err
	}
	deadline := s.Now().Add(s.Patience)
	end := func(state DeliveryState) error { return s.Store.EndDelivery(ctx, c.ID, id, state) }
	if !found || a.Status != privacy.StatusActive {
		return end(DeliverySkipped) // erased, or closed, since it was planned
	}
	m, ok, err := s.message(ctx, c, a)
	if err != nil {
		return s.giveBack(ctx, c, id, err)
	}
	if !ok {
		return end(DeliverySkipped) // no marketing consent when it is sent
	}
	// Tagged, so SES's Send event for it settles this delivery should this sender die before
	// it records the send itself (Feedback).
	m.Campaign, m.Recipient = c.ID, string(id)
	if suppressed {
		return end(DeliverySuppressed)
	}
	switch err := s.send(ctx, m, deadline); {
	case err == nil:
		return end(DeliverySent)
	case permanent(err):
		slog.Warn("campaign mail refused", "campaign", c.ID, "subject", string(id), "err", err)
		return end(DeliveryFailed)
	case refused(err):
		// SES answered and did not take it (throttling kept up past Patience): nothing went.
		return s.giveBack(ctx, c, id, err)
	default:
		// No answer (a timeout, a broken connection): SES may have taken it. The delivery stays
		// claimed, and the batch goes back to the queue: SES's Send event settles it if the mail
		// went, and if none comes within TakeOver the next sender sends it.
		return fmt.Errorf("%w: %w", errGiveBack, err)
	}
}

// giveBack releases a delivery that could not be sent now, for the batch's next try.
func (s *Sender) giveBack(ctx context.Context, c Campaign, id privacy.SubjectID, cause error) error {
	if err := s.Store.ReleaseDelivery(context.WithoutCancel(ctx), c.ID, id); err != nil {
		return errors.Join(cause, err)
	}
	return fmt.Errorf("%w: %w", errGiveBack, cause)
}

// send sends one mail at the sender's rate, retrying with backoff until deadline what SES
// answered and refused for now (throttling, a service error). A call SES did not answer is not
// tried again here: SES may have taken it (deliver).
func (s *Sender) send(ctx context.Context, m mail.Message, deadline time.Time) error {
	wait := 200 * time.Millisecond
	for {
		if err := s.Limiter.Wait(ctx); err != nil {
			return err
		}
		err := s.Mail.Send(ctx, m)
		if err == nil || permanent(err) || !refused(err) || !s.Now().Add(wait).Before(deadline) {
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(wait):
		}
		wait = min(2*wait, 5*time.Second)
	}
}

// refused reports an error that says SES did not take the mail: it answered with an error, or
// it could not be reached at all (the connection was never made). Any other error (no answer
// in time, a connection broken mid-call) leaves unknown whether it did.
func refused(err error) bool {
	var api smithy.APIError
	var op *net.OpError
	return errors.As(err, &api) || (errors.As(err, &op) && op.Op == "dial")
}

// permanent reports an error SES will give again for this mail: it refused the message (an
// address it will not send to). Anything else (throttling, no answer, a service error) may
// pass later.
func permanent(err error) bool {
	var api smithy.APIError
	return errors.As(err, &api) && (api.ErrorCode() == "MessageRejected" || api.ErrorCode() == "InvalidParameterValue")
}

// message is the campaign's mail for one person, in their language; false when it must not go
// to them (marketing without consent).
func (s *Sender) message(ctx context.Context, c Campaign, a privacy.Account) (mail.Message, bool, error) {
	p := a.Profile
	site := s.SiteURL()
	switch c.Kind {
	case KindMarketing:
		ledger, err := s.Store.Ledger(ctx, a.SubjectID)
		if err != nil {
			return mail.Message{}, false, err
		}
		return s.Marketing.MarketingMessage(ctx, a, ledger, c.ID)
	case KindBreach:
		b := c.Breach
		d := mail.Data{Name: p.Name, Breach: &mail.Breach{
			Title: In(c.Title, p.Locale), Incident: In(b.Incident, p.Locale), Impact: In(b.Impact, p.Locale),
			Measures: In(b.Measures, p.Locale), SelfHelp: In(b.SelfHelp, p.Locale), Remedies: In(b.Remedies, p.Locale),
			DataKinds: DataKindNames(b.DataKinds, p.Locale), People: b.People, Occurred: b.Occurred, Discovered: b.Discovered,
			Contact: b.Contact,
		}}
		if !c.Published.IsZero() {
			d.Link = site + NoticePath(p.Locale, c.ID)
		}
		return mail.Message{To: p.Email, Locale: p.Locale, Kind: mail.BreachNotice, Data: d}, true, nil
	case KindPolicyUpdate:
		u := c.Policy
		// The version's page shows what changed in its #version-diff section (the site has no
		// separate diff page). SignInLink is the account page, where a reader who does not
		// agree cancels the account: mail.PolicyUpdate requires it.
		version := site + privacy.LocalePath(p.Locale, "/policy/"+u.Version+"/")
		return mail.Message{To: p.Email, Locale: p.Locale, Kind: mail.PolicyUpdate, Data: mail.Data{
			Name: p.Name, Link: site + privacy.LocalePath(p.Locale, "/consent/"),
			SignInLink: site + privacy.LocalePath(p.Locale, "/account/"),
			Policy: &mail.PolicyChange{
				Version: u.Version, Summary: In(u.Summary, p.Locale), Published: u.Published, Effective: u.Effective,
				DiffLink: version + "#version-diff", PolicyLink: version,
			},
		}}, true, nil
	}
	return mail.Message{}, false, fmt.Errorf("send: unknown campaign kind %q", c.Kind)
}

// NoticePath is a public notice's page on the site.
func NoticePath(locale, id string) string {
	return privacy.LocalePath(locale, "/notices/") + "?id=" + url.QueryEscape(id)
}

// DataKindNames are kinds of data as a reader of the locale names them: the catalogue's labels
// of optional fields, and the registration data's own names.
func DataKindNames(kinds []string, locale string) []string {
	out := make([]string, 0, len(kinds))
	for _, k := range kinds {
		name := k
		if f, ok := privacy.Catalogue().OptionalField(k); ok {
			name = In(f.Label, locale)
		} else if n, ok := baseKinds[k]; ok {
			name = In(n, locale)
		}
		out = append(out, name)
	}
	return out
}

var baseKinds = map[string]privacy.Text{
	"name":     {privacy.LocaleEnglish: "your name", privacy.LocaleChinese: "您的姓名"},
	"email":    {privacy.LocaleEnglish: "your e-mail address", privacy.LocaleChinese: "您的电子邮箱地址"},
	"username": {privacy.LocaleEnglish: "your username", privacy.LocaleChinese: "您的用户名"},
	"password": {privacy.LocaleEnglish: "your password (stored only as a hash)", privacy.LocaleChinese: "您的密码（仅以哈希形式存储）"},
	"ageGroup": {privacy.LocaleEnglish: "your age group", privacy.LocaleChinese: "您的年龄段"},
	"consents": {privacy.LocaleEnglish: "your consent choices", privacy.LocaleChinese: "您的同意选择"},
	"requests": {privacy.LocaleEnglish: "your requests to us", privacy.LocaleChinese: "您向我们提出的请求"},
}
