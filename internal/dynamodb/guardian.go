package dynamodb

import (
	"context"

	"github.com/privacyportal/portal/internal/privacy"
)

// guardianItem is a pending request for a guardian's consent to a child's account.
type guardianItem struct {
	PK        string `dynamodbav:"PK"`
	SK        string `dynamodbav:"SK"`
	Email     string `dynamodbav:"guardianEmail"`
	TokenHash string `dynamodbav:"tokenHash"`
	ExpiresAt int64  `dynamodbav:"expiresAt"`
}

func newGuardianItem(id privacy.SubjectID, g privacy.GuardianRequest) guardianItem {
	return guardianItem{PK: SubjectPK(id), SK: string(KindGuardian), Email: g.Email, TokenHash: g.TokenHash, ExpiresAt: g.ExpiresAt.Unix()}
}

func (it guardianItem) request() privacy.GuardianRequest {
	return privacy.GuardianRequest{Email: it.Email, TokenHash: it.TokenHash, ExpiresAt: unixTime(it.ExpiresAt)}
}

// Guardian returns a child's pending guardian request, expired or not; privacy.NotFound when
// there is none.
func (st *Store) Guardian(ctx context.Context, id privacy.SubjectID) (privacy.GuardianRequest, error) {
	var it guardianItem
	found, err := st.get(ctx, SubjectPK(id), string(KindGuardian), &it)
	if err != nil {
		return privacy.GuardianRequest{}, err
	}
	if !found {
		return privacy.GuardianRequest{}, privacy.Errorf(privacy.NotFound, "no pending guardian request")
	}
	return it.request(), nil
}

// ConfirmGuardian consumes the guardian request and records the guardian's consent. Like
// VerifyEmail, it fails with privacy.ErrChanged if emailVerified changed since it was read.
func (st *Store) ConfirmGuardian(ctx context.Context, id privacy.SubjectID, tokenHash string, emailVerified bool, status privacy.AccountStatus, consent privacy.ConsentEntry, audit privacy.AuditEntry) error {
	t := st.txn()
	t.del(SubjectPK(id), string(KindGuardian), "tokenHash = :h", Item{":h": s(tokenHash)}, privacy.ErrStale)
	t.settle(id, "guardianConfirmed", "emailVerified", emailVerified, status)
	t.put(newConsentItem(id, consent, 0))
	t.put(newAuditItem(id, audit))
	return st.commit(ctx, t)
}
