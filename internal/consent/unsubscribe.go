package consent

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/privacyportal/portal/internal/jobs"
	"github.com/privacyportal/portal/internal/privacy"
)

// PurposeMarketing is the purpose an unsubscribe link withdraws: marketing mail (P19).
const PurposeMarketing = "marketing"

// UnsubscribeStore is what the one-click unsubscribe needs.
type UnsubscribeStore interface {
	Account(ctx context.Context, id privacy.SubjectID) (privacy.Account, error)
	// Unsubscribe records the use of a mail's link (delivery) and adds the withdrawal, in one
	// write: privacy.ErrStale if the link was used already, privacy.NotFound if the account is
	// gone or being erased.
	Unsubscribe(ctx context.Context, id privacy.SubjectID, delivery string, e privacy.ConsentEntry) error
}

// Unsubscriber withdraws marketing from a mail's link, without signing in.
type Unsubscriber struct {
	*Env
	Store UnsubscribeStore
}

var errBadUnsubscribe = privacy.FieldError("token", "This unsubscribe link is not valid, or was used already. Manage your choices in the consent centre instead.")

// UnsubscribeFor is how long a marketing mail's unsubscribe link works.
const UnsubscribeFor = 180 * 24 * time.Hour

// UnsubscribeToken is the token of a marketing mail's unsubscribe link for one subject and one
// delivery (a campaign): "<subject>.<delivery>.<expiry day>.<signature>". It withdraws
// marketing only, works once, until UnsubscribeFor after now, and cannot be made for another
// subject, delivery or expiry without the hash key.
func (e *Env) UnsubscribeToken(id privacy.SubjectID, delivery string, now time.Time) string {
	day := strconv.FormatInt(now.Add(UnsubscribeFor).Unix()/86400, 10)
	return string(id) + "." + delivery + "." + day + "." + e.unsubscribeMAC(id, delivery, day)
}

func (e *Env) unsubscribeMAC(id privacy.SubjectID, delivery, day string) string {
	return e.Keys.SecretHash(privacy.DomainUnsubscribe, id, PurposeMarketing, delivery+"|"+day)
}

// parseUnsubscribe checks a token's form, signature and expiry, before anything is read.
func (e *Env) parseUnsubscribe(token string) (privacy.SubjectID, string, bool) {
	parts := strings.Split(token, ".")
	if len(parts) != 4 || parts[0] == "" || parts[1] == "" || len(parts[0]) > 64 || len(parts[1]) > 64 || len(parts[2]) > 8 || len(parts[3]) != 64 {
		return "", "", false
	}
	id, delivery, day := privacy.SubjectID(parts[0]), parts[1], parts[2]
	if !privacy.Equal(e.unsubscribeMAC(id, delivery, day), parts[3]) {
		return "", "", false
	}
	expiry, err := strconv.ParseInt(day, 10, 64)
	if err != nil || e.Now().Unix()/86400 > expiry {
		return "", "", false
	}
	return id, delivery, true
}

// Unsubscribe withdraws marketing for the token's subject. A forged, used or stale token is a
// 400 on the token and writes nothing.
func (s *Unsubscriber) Unsubscribe(ctx context.Context, token string) error {
	id, delivery, ok := s.parseUnsubscribe(strings.TrimSpace(token))
	if !ok {
		return errBadUnsubscribe
	}
	a, err := s.Store.Account(ctx, id)
	if privacy.ErrorCode(err) == privacy.NotFound {
		return errBadUnsubscribe
	}
	if err != nil {
		return err
	}
	ref, err := s.policyRef(ctx, a.Profile.Locale)
	if err != nil {
		return err
	}
	e := privacy.Withdraw(PurposeMarketing, privacy.SourceUnsubscribe, ref, s.Now())
	e.ReceiptID = privacy.NewID()
	switch err := s.Store.Unsubscribe(ctx, id, delivery, e); {
	case errors.Is(err, privacy.ErrStale), privacy.ErrorCode(err) == privacy.NotFound:
		return errBadUnsubscribe
	case err != nil:
		return err
	}
	logged("unsubscribed from marketing", id)
	return s.enqueue(ctx, jobs.Job{Kind: JobReceipt, Subject: id, Receipt: e.ReceiptID})
}
