package dynamodb

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	ddb "github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"

	"github.com/privacyportal/portal/internal/privacy"
)

// credentialItem holds the password hash, apart from the profile so that nothing that shows
// the profile reads it.
type credentialItem struct {
	PK           string `dynamodbav:"PK"`
	SK           string `dynamodbav:"SK"`
	PasswordHash string `dynamodbav:"passwordHash"`
}

func newCredentialItem(id privacy.SubjectID, hash string) credentialItem {
	return credentialItem{PK: SubjectPK(id), SK: string(KindCredential), PasswordHash: hash}
}

// Login returns what signing in needs: the account and the password hash. It reads the sort
// keys from CREDENTIAL to PROFILE (both, and the few one-per-field items between them), never
// the audit trail, consents and sessions that grow with the account's age.
func (st *Store) Login(ctx context.Context, id privacy.SubjectID) (privacy.Login, error) {
	items, err := st.between(ctx, id, string(KindCredential), string(KindProfile))
	if err != nil {
		return privacy.Login{}, err
	}
	var out privacy.Login
	found := false
	for _, it := range items {
		switch KindOf(attr(it, "SK")) {
		case KindCredential:
			var c credentialItem
			if err := attributevalue.UnmarshalMap(it, &c); err != nil {
				return privacy.Login{}, fmt.Errorf("decode credential: %w", err)
			}
			out.PasswordHash = c.PasswordHash
		case KindProfile:
			var p profileItem
			if err := attributevalue.UnmarshalMap(it, &p); err != nil {
				return privacy.Login{}, fmt.Errorf("decode profile: %w", err)
			}
			out.Account, found = p.account(), true
		}
	}
	if !found {
		return privacy.Login{}, errNoAccount
	}
	return out, nil
}

// Rehash replaces a password hash with a stronger one of the same password, if the stored one
// is still old (privacy.ErrStale when it changed meanwhile: a new password wins).
func (st *Store) Rehash(ctx context.Context, id privacy.SubjectID, old, new string) error {
	_, err := st.Client.UpdateItem(ctx, &ddb.UpdateItemInput{
		TableName:                 &st.Table,
		Key:                       key(SubjectPK(id), string(KindCredential)),
		UpdateExpression:          aws.String("SET passwordHash = :new"),
		ConditionExpression:       aws.String("passwordHash = :old"),
		ExpressionAttributeValues: Item{":new": s(new), ":old": s(old)},
	})
	if isConditionFailed(err) {
		return privacy.ErrStale
	}
	if err != nil {
		return fmt.Errorf("rehash password: %w", err)
	}
	return nil
}

// SetPassword replaces the password hash with its audit entry, consuming a verification (a
// reset's code) in the same transaction when one is given (privacy.ErrStale when it is used,
// dead or gone).
func (st *Store) SetPassword(ctx context.Context, id privacy.SubjectID, hash string, consume *privacy.Verification, audit privacy.AuditEntry) error {
	t := st.txn()
	if consume != nil {
		t.consumeVerification(id, *consume)
	}
	t.update(&types.Update{
		Key:                       key(SubjectPK(id), string(KindCredential)),
		UpdateExpression:          aws.String("SET passwordHash = :h"),
		ConditionExpression:       aws.String("attribute_exists(PK)"),
		ExpressionAttributeValues: Item{":h": s(hash)},
	}, privacy.ErrStale)
	t.put(st.newAuditItem(id, audit))
	return st.commit(ctx, t)
}
