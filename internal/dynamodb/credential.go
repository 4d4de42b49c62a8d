package dynamodb

import (
	"context"
	"fmt"

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
