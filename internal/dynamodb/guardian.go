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

// guardianItem is a request for a guardian's consent to a child's account: the guardian's
// address from registration, the link's token once it is mailed (after the child proved their
// own address), and the decision until its mail is sent.
type guardianItem struct {
	PK        string `dynamodbav:"PK"`
	SK        string `dynamodbav:"SK"`
	Email     string `dynamodbav:"guardianEmail"`
	TokenHash string `dynamodbav:"tokenHash,omitempty"`
	ExpiresAt int64  `dynamodbav:"expiresAt,omitempty"`
	Decision  string `dynamodbav:"decision,omitempty"`
}

func newGuardianItem(id privacy.SubjectID, g privacy.GuardianRequest) guardianItem {
	it := guardianItem{PK: SubjectPK(id), SK: string(KindGuardian), Email: g.Email, TokenHash: g.TokenHash, Decision: string(g.Decision)}
	if !g.ExpiresAt.IsZero() {
		it.ExpiresAt = g.ExpiresAt.Unix()
	}
	return it
}

func (it guardianItem) request() privacy.GuardianRequest {
	g := privacy.GuardianRequest{Email: it.Email, TokenHash: it.TokenHash, Decision: privacy.GuardianDecision(it.Decision)}
	if it.ExpiresAt != 0 {
		g.ExpiresAt = unixTime(it.ExpiresAt)
	}
	return g
}

// decide adds to t the use of the guardian's link: the token must be the one mailed, and it is
// replaced by the decision.
func (t *txn) decide(id privacy.SubjectID, tokenHash string, d privacy.GuardianDecision) {
	t.update(&types.Update{
		Key:                       key(SubjectPK(id), string(KindGuardian)),
		UpdateExpression:          aws.String("SET decision = :d REMOVE tokenHash"),
		ConditionExpression:       aws.String("tokenHash = :h"),
		ExpressionAttributeValues: Item{":h": s(tokenHash), ":d": s(string(d))},
	}, privacy.ErrStale)
}

// RefuseGuardian records a refusal and claims the account for erasure, in one transaction
// (privacy.ErrStale if the link was used or is wrong). The mail worker tells the guardian and
// deletes the account; until then nothing can sign in to it or activate it.
func (st *Store) RefuseGuardian(ctx context.Context, id privacy.SubjectID, tokenHash string) error {
	t := st.txn()
	t.decide(id, tokenHash, privacy.GuardianRefused)
	t.update(&types.Update{
		Key:                       key(SubjectPK(id), string(KindProfile)),
		UpdateExpression:          aws.String("SET #st = :erasing"),
		ConditionExpression:       aws.String("attribute_exists(PK)"),
		ExpressionAttributeNames:  map[string]string{"#st": "status"},
		ExpressionAttributeValues: Item{":erasing": s(string(privacy.StatusErasing))},
	}, privacy.ErrStale)
	return st.commit(ctx, t)
}

// SetGuardianToken arms an undecided guardian request with its link's token and expiry.
func (st *Store) SetGuardianToken(ctx context.Context, id privacy.SubjectID, tokenHash string, expires time.Time) error {
	_, err := st.Client.UpdateItem(ctx, &ddb.UpdateItemInput{
		TableName:                 &st.Table,
		Key:                       key(SubjectPK(id), string(KindGuardian)),
		UpdateExpression:          aws.String("SET tokenHash = :h, expiresAt = :exp"),
		ConditionExpression:       aws.String("attribute_exists(PK) AND attribute_not_exists(decision)"),
		ExpressionAttributeValues: Item{":h": s(tokenHash), ":exp": n(expires.Unix())},
	})
	if isConditionFailed(err) {
		return privacy.ErrStale
	}
	if err != nil {
		return fmt.Errorf("set guardian token: %w", err)
	}
	return nil
}

// DeleteGuardian removes a guardian request, and the guardian's address with it.
func (st *Store) DeleteGuardian(ctx context.Context, id privacy.SubjectID) error {
	if _, err := st.Client.DeleteItem(ctx, &ddb.DeleteItemInput{TableName: &st.Table, Key: key(SubjectPK(id), string(KindGuardian))}); err != nil {
		return fmt.Errorf("delete guardian request: %w", err)
	}
	return nil
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

// ConfirmGuardian uses the guardian's link and records their decision and consent. Like
// VerifyEmail, it fails with privacy.ErrChanged if emailVerified changed since it was read.
func (st *Store) ConfirmGuardian(ctx context.Context, id privacy.SubjectID, tokenHash string, emailVerified bool, status privacy.AccountStatus, consent privacy.ConsentEntry, audit privacy.AuditEntry) error {
	t := st.txn()
	t.decide(id, tokenHash, privacy.GuardianConfirmed)
	t.settle(id, "guardianConfirmed", "emailVerified", emailVerified, status)
	t.putIf(newConsentItem(id, consent, 0), "attribute_not_exists(PK)", nil, privacy.ErrChanged) // never overwrite a ledger entry
	t.put(st.newAuditItem(id, audit))
	return st.commit(ctx, t)
}
