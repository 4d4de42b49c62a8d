package dynamodb

import (
	"cmp"
	"context"
	"errors"
	"fmt"

	"github.com/privacyportal/portal/internal/privacy"
)

// auditItem records a change to the subject's data: the action and the names of the fields,
// never their values. It expires (TTL) the store's Retention.Audit after the change (P12).
type auditItem struct {
	PK        string   `dynamodbav:"PK"`
	SK        string   `dynamodbav:"SK"`
	At        string   `dynamodbav:"createdAt"`
	Action    string   `dynamodbav:"action"`
	Fields    []string `dynamodbav:"fields,omitempty,stringset"`
	ExpiresAt int64    `dynamodbav:"expiresAt,omitempty"`
}

// newAuditItem is a method so that no audit entry is written without its expiry.
func (st *Store) newAuditItem(id privacy.SubjectID, a privacy.AuditEntry) auditItem {
	return auditItem{
		PK: SubjectPK(id), SK: SortKey(KindAudit, ts(a.At)+"#"+cmp.Or(a.ID, privacy.NewID()[:6])),
		At: ts(a.At), Action: a.Action, Fields: a.Fields, ExpiresAt: a.At.Add(st.auditKept()).Unix(),
	}
}

func (it auditItem) entry() privacy.AuditEntry {
	return privacy.AuditEntry{At: parseTS(it.At), Action: it.Action, Fields: it.Fields}
}

// AddAudit adds an entry to a live account's audit trail; an entry with an ID that is there
// already is privacy.ErrStale.
func (st *Store) AddAudit(ctx context.Context, id privacy.SubjectID, e privacy.AuditEntry) error {
	t := st.txn()
	t.accountLive(id)
	t.putIf(st.newAuditItem(id, e), "attribute_not_exists(PK)", nil, privacy.ErrStale)
	if err := st.commit(ctx, t); err != nil {
		if privacy.ErrorCode(err) == privacy.NotFound || errors.Is(err, privacy.ErrStale) {
			return err
		}
		return fmt.Errorf("add audit: %w", err)
	}
	return nil
}
