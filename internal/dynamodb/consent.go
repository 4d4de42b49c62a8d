package dynamodb

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/privacyportal/portal/internal/privacy"
)

// consentItem is one entry of the consent ledger. Its sort key orders the ledger by time; the
// sequence number keeps entries of one instant apart. Entries are only ever added.
type consentItem struct {
	PK            string   `dynamodbav:"PK"`
	SK            string   `dynamodbav:"SK"`
	Purpose       string   `dynamodbav:"purpose"`
	Action        string   `dynamodbav:"action,omitempty"`
	Granted       bool     `dynamodbav:"granted"`
	At            string   `dynamodbav:"consentedAt"`
	PolicyVersion string   `dynamodbav:"policyVersion"`
	PolicySHA256  string   `dynamodbav:"policySha256,omitempty"`
	Source        string   `dynamodbav:"source,omitempty"`
	ReceiptID     string   `dynamodbav:"receiptId,omitempty"`
	Signals       []string `dynamodbav:"signals,omitempty,stringset"`
}

func newConsentItem(id privacy.SubjectID, c privacy.ConsentEntry, seq int) consentItem {
	it := consentItem{
		PK: SubjectPK(id), SK: SortKey(KindConsent, fmt.Sprintf("%s#%02d#%s", ts(c.At), seq, c.Purpose)),
		Purpose: c.Purpose, Action: string(c.ActionOf()), Granted: c.ActionOf() == privacy.ActionGrant, At: ts(c.At),
		PolicyVersion: c.Version(), PolicySHA256: c.Policy.SHA256, Source: string(c.Source), ReceiptID: c.ReceiptID,
	}
	for _, s := range c.Signals {
		it.Signals = append(it.Signals, string(s))
	}
	return it
}

func (it consentItem) entry() privacy.ConsentEntry {
	e := privacy.ConsentEntry{
		Purpose: it.Purpose, Action: privacy.Action(it.Action), Granted: it.Granted, At: parseTS(it.At),
		Policy: privacy.PolicyRef{Version: it.PolicyVersion, SHA256: it.PolicySHA256}, PolicyVersion: it.PolicyVersion,
		Source: privacy.Source(it.Source), ReceiptID: it.ReceiptID,
	}
	for _, s := range it.Signals {
		e.Signals = append(e.Signals, privacy.Source(s))
	}
	return e
}

// Ledger reads a subject's consent ledger, oldest first (the sort key orders it by time).
func (st *Store) Ledger(ctx context.Context, id privacy.SubjectID) ([]privacy.ConsentEntry, error) {
	items, err := st.ofKind(ctx, id, KindConsent)
	if err != nil {
		return nil, err
	}
	out := make([]privacy.ConsentEntry, 0, len(items))
	for _, raw := range items {
		var it consentItem
		if err := attributevalue.UnmarshalMap(raw, &it); err != nil {
			return nil, fmt.Errorf("decode consent: %w", err)
		}
		out = append(out, it.entry())
	}
	return out, nil
}

// accountLive is the condition on an account's profile that it exists and is not being erased:
// nothing is added to a partition the erasure is emptying.
func (t *txn) accountLive(id privacy.SubjectID) {
	t.add(types.TransactWriteItem{ConditionCheck: &types.ConditionCheck{
		TableName: &t.table, Key: key(SubjectPK(id), string(KindProfile)),
		ConditionExpression:       aws.String("attribute_exists(PK) AND #st <> :erasing"),
		ExpressionAttributeNames:  map[string]string{"#st": "status"},
		ExpressionAttributeValues: Item{":erasing": s(string(privacy.StatusErasing))},
	}}, errNoAccount)
}

// AppendConsents adds entries to a live account's ledger in one transaction. Entries are never
// overwritten: a sort key already taken (the same purpose at the same nanosecond) fails the
// write with privacy.ErrChanged, and nothing is written.
func (st *Store) AppendConsents(ctx context.Context, id privacy.SubjectID, entries []privacy.ConsentEntry) error {
	t := st.txn()
	t.accountLive(id)
	for i, e := range entries {
		t.putIf(newConsentItem(id, e, i), "attribute_not_exists(PK)", nil, privacy.ErrChanged)
	}
	if err := st.commit(ctx, t); err != nil {
		if privacy.ErrorCode(err) == privacy.NotFound || errors.Is(err, privacy.ErrChanged) {
			return err
		}
		return fmt.Errorf("append consents: %w", err)
	}
	return nil
}

// usedLinkItem records that a mail's one-time link was used (an unsubscribe link, by
// delivery). It sits in the subject's partition, so erasure removes it.
type usedLinkItem struct {
	PK     string `dynamodbav:"PK"`
	SK     string `dynamodbav:"SK"`
	UsedAt string `dynamodbav:"usedAt"`
}

// Unsubscribe records the use of a marketing mail's unsubscribe link and the withdrawal it
// makes, in one transaction: privacy.ErrStale if the link was used already.
func (st *Store) Unsubscribe(ctx context.Context, id privacy.SubjectID, delivery string, e privacy.ConsentEntry) error {
	t := st.txn()
	t.accountLive(id)
	t.putIf(usedLinkItem{PK: SubjectPK(id), SK: SortKey(KindUsedLink, "unsubscribe#"+delivery), UsedAt: ts(e.At)},
		"attribute_not_exists(PK)", nil, privacy.ErrStale)
	t.putIf(newConsentItem(id, e, 0), "attribute_not_exists(PK)", nil, privacy.ErrChanged)
	if err := st.commit(ctx, t); err != nil {
		if privacy.ErrorCode(err) == privacy.NotFound || errors.Is(err, privacy.ErrStale) || errors.Is(err, privacy.ErrChanged) {
			return err
		}
		return fmt.Errorf("unsubscribe: %w", err)
	}
	return nil
}
