package dynamodb

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	ddb "github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/privacyportal/portal/internal/privacy"
)

// lookupItem maps the keyed hash of an e-mail address or a username to its subject. A
// username item without a subject is a reservation, held until expiresAt.
type lookupItem struct {
	PK        string `dynamodbav:"PK"`
	SK        string `dynamodbav:"SK"`
	SubjectID string `dynamodbav:"subjectId,omitempty"`
	ExpiresAt int64  `dynamodbav:"expiresAt,omitempty"`
}

// freeUsername is the condition under which a username may be claimed: no look-up, or only a
// reservation that has expired.
const freeUsername = "attribute_not_exists(PK) OR (attribute_not_exists(subjectId) AND expiresAt < :now)"

// claimUsername adds the username look-up for id, if the name is free, to t.
func (t *txn) claimUsername(usernameKey string, id privacy.SubjectID, now time.Time) {
	t.putIf(lookupItem{PK: UsernameLookupPK(usernameKey), SK: LookupSK, SubjectID: string(id)}, freeUsername,
		Item{":now": n(now.Unix())}, privacy.ErrUsernameTaken)
}

// claimEmail adds the e-mail look-up for id, if the address has none, to t. Only an account
// that proved the address holds it.
func (t *txn) claimEmail(emailKey string, id privacy.SubjectID) {
	t.putIf(lookupItem{PK: EmailLookupPK(emailKey), SK: LookupSK, SubjectID: string(id)}, "attribute_not_exists(PK)", nil, privacy.ErrEmailTaken)
}

// PendingSK is the sort key, beside an address's look-up, of the registration waiting to
// prove the address: there is at most one, and a new registration replaces it.
const PendingSK = "PENDING"

// AddressOwners reads who an address belongs to: both items of its partition in one Query.
func (st *Store) AddressOwners(ctx context.Context, emailKey string) (privacy.AddressOwners, error) {
	items, err := st.query(ctx, "PK = :pk", Item{":pk": s(EmailLookupPK(emailKey))})
	if err != nil {
		return privacy.AddressOwners{}, err
	}
	var out privacy.AddressOwners
	for _, it := range items {
		switch attr(it, "SK") {
		case LookupSK:
			out.Owner = privacy.SubjectID(attr(it, "subjectId"))
		case PendingSK:
			out.Pending = privacy.SubjectID(attr(it, "subjectId"))
		}
	}
	return out, nil
}

// deleteLookupIfOurs deletes a look-up item if it still names id: an erasure must never take
// an address or a username that has passed to someone else since.
func (st *Store) deleteLookupIfOurs(ctx context.Context, pk, sk string, id privacy.SubjectID) error {
	_, err := st.Client.DeleteItem(ctx, &ddb.DeleteItemInput{
		TableName: &st.Table, Key: key(pk, sk),
		ConditionExpression:       aws.String("subjectId = :id"),
		ExpressionAttributeValues: Item{":id": s(string(id))},
	})
	if err != nil && !isConditionFailed(err) {
		return fmt.Errorf("delete look-up: %w", err)
	}
	return nil
}

func (st *Store) lookup(ctx context.Context, pk string) (privacy.SubjectID, error) {
	var it lookupItem
	found, err := st.get(ctx, pk, LookupSK, &it)
	if err != nil {
		return "", err
	}
	if !found || it.SubjectID == "" { // none, or a reservation: nobody has the name
		return "", privacy.Errorf(privacy.NotFound, "no such account")
	}
	return privacy.SubjectID(it.SubjectID), nil
}

// SubjectByEmail returns the subject whose e-mail has the given keyed hash.
func (st *Store) SubjectByEmail(ctx context.Context, emailKey string) (privacy.SubjectID, error) {
	return st.lookup(ctx, EmailLookupPK(emailKey))
}

// SubjectByUsername returns the subject whose username has the given keyed hash.
func (st *Store) SubjectByUsername(ctx context.Context, usernameKey string) (privacy.SubjectID, error) {
	return st.lookup(ctx, UsernameLookupPK(usernameKey))
}

// LookupExists reports whether a look-up item (EmailLookupPK or UsernameLookupPK) exists, be
// it a subject's or a reservation.
func (st *Store) LookupExists(ctx context.Context, pk string) (bool, error) {
	var it lookupItem
	return st.get(ctx, pk, LookupSK, &it)
}
