package dynamodb

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	ddb "github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

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

// claimEmail adds the e-mail look-up for id, if the address has none, to t.
func (t *txn) claimEmail(emailKey string, id privacy.SubjectID) {
	t.putIf(lookupItem{PK: EmailLookupPK(emailKey), SK: LookupSK, SubjectID: string(id)}, "attribute_not_exists(PK)", nil, privacy.ErrEmailTaken)
}

// ReserveUsername holds a free username until a time without giving it to anyone. A
// registration that lost its address to an existing account reserves the username it asked
// for, exactly as a successful one would hold it, so trying a known-taken username with an
// address cannot tell whether the address has an account.
func (st *Store) ReserveUsername(ctx context.Context, usernameKey string, until, now time.Time) error {
	_, err := st.Client.PutItem(ctx, &ddb.PutItemInput{
		TableName:                 &st.Table,
		Item:                      marshal(lookupItem{PK: UsernameLookupPK(usernameKey), SK: LookupSK, ExpiresAt: until.Unix()}),
		ConditionExpression:       aws.String(freeUsername),
		ExpressionAttributeValues: map[string]types.AttributeValue{":now": n(now.Unix())},
	})
	if err != nil && !isConditionFailed(err) {
		return fmt.Errorf("reserve username: %w", err)
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
