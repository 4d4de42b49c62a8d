package dynamodb

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	ddb "github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/privacyportal/portal/internal/privacy"
)

// verificationItem is a pending verification: keyed hashes of a code and a link token, the
// wrong attempts so far, and, for a new address, that address and its look-up key.
type verificationItem struct {
	PK          string `dynamodbav:"PK"`
	SK          string `dynamodbav:"SK"`
	CodeHash    string `dynamodbav:"codeHash"`
	TokenHash   string `dynamodbav:"tokenHash,omitempty"`
	Attempts    int    `dynamodbav:"attempts"`
	ExpiresAt   int64  `dynamodbav:"expiresAt"`
	NewEmail    string `dynamodbav:"newEmail,omitempty"`
	NewEmailKey string `dynamodbav:"newEmailKey,omitempty"`
}

func newVerificationItem(id privacy.SubjectID, v privacy.Verification) verificationItem {
	return verificationItem{
		PK: SubjectPK(id), SK: SortKey(KindVerification, string(v.Kind)), CodeHash: v.CodeHash, TokenHash: v.TokenHash,
		Attempts: v.Attempts, ExpiresAt: v.ExpiresAt.Unix(), NewEmail: v.NewEmail, NewEmailKey: v.NewEmailKey,
	}
}

func (it verificationItem) verification(kind privacy.VerificationKind) privacy.Verification {
	return privacy.Verification{
		Kind: kind, CodeHash: it.CodeHash, TokenHash: it.TokenHash, Attempts: it.Attempts,
		ExpiresAt: unixTime(it.ExpiresAt), NewEmail: it.NewEmail, NewEmailKey: it.NewEmailKey,
	}
}

// Verification returns a subject's pending verification of a kind, expired or not (the caller
// decides with Usable); privacy.NotFound when there is none.
func (st *Store) Verification(ctx context.Context, id privacy.SubjectID, kind privacy.VerificationKind) (privacy.Verification, error) {
	var it verificationItem
	found, err := st.get(ctx, SubjectPK(id), SortKey(KindVerification, string(kind)), &it)
	if err != nil {
		return privacy.Verification{}, err
	}
	if !found {
		return privacy.Verification{}, privacy.Errorf(privacy.NotFound, "no pending verification")
	}
	return it.verification(kind), nil
}

// PutVerification replaces a verification (a new code: attempts start again).
func (st *Store) PutVerification(ctx context.Context, id privacy.SubjectID, v privacy.Verification) error {
	_, err := st.Client.PutItem(ctx, &ddb.PutItemInput{TableName: &st.Table, Item: marshal(newVerificationItem(id, v))})
	if err != nil {
		return fmt.Errorf("put verification: %w", err)
	}
	return nil
}

// FailVerification counts a wrong code, atomically, and returns the attempts so far. A
// verification already at the limit (or gone) reports privacy.ErrStale.
func (st *Store) FailVerification(ctx context.Context, id privacy.SubjectID, kind privacy.VerificationKind) (int, error) {
	out, err := st.Client.UpdateItem(ctx, &ddb.UpdateItemInput{
		TableName:           &st.Table,
		Key:                 key(SubjectPK(id), SortKey(KindVerification, string(kind))),
		UpdateExpression:    aws.String("ADD attempts :one"),
		ConditionExpression: aws.String("attribute_exists(PK) AND attempts < :max"),
		ExpressionAttributeValues: Item{
			":one": n(1), ":max": n(privacy.MaxCodeAttempts),
		},
		ReturnValues: types.ReturnValueUpdatedNew,
	})
	if isConditionFailed(err) {
		return privacy.MaxCodeAttempts, privacy.ErrStale
	}
	if err != nil {
		return 0, fmt.Errorf("count failed attempt: %w", err)
	}
	var got struct {
		Attempts int `dynamodbav:"attempts"`
	}
	_ = attributevalue.UnmarshalMap(out.Attributes, &got)
	return got.Attempts, nil
}

// consumeVerification adds to t the single use of v: its item is deleted only while it holds
// the same code and is not dead, else the transaction fails with privacy.ErrStale.
func (t *txn) consumeVerification(id privacy.SubjectID, v privacy.Verification) {
	t.del(SubjectPK(id), SortKey(KindVerification, string(v.Kind)), "codeHash = :code AND attempts < :max",
		Item{":code": s(v.CodeHash), ":max": n(privacy.MaxCodeAttempts)}, privacy.ErrStale)
}

// VerifyEmail consumes the e-mail verification, gives the address to the account (its
// look-up; privacy.ErrEmailTaken if another account proved it first), ends its pending
// registration and marks the address verified, in one transaction. status was derived from
// guardianConfirmed as read; if a guardian's decision landed since, the write fails with
// privacy.ErrChanged and the caller reads again, so the status never goes stale.
func (st *Store) VerifyEmail(ctx context.Context, id privacy.SubjectID, v privacy.Verification, guardianConfirmed bool, status privacy.AccountStatus, audit privacy.AuditEntry) error {
	a, err := st.Account(ctx, id)
	if err != nil {
		if privacy.ErrorCode(err) == privacy.NotFound {
			return privacy.ErrStale
		}
		return err
	}
	t := st.txn()
	t.consumeVerification(id, v)
	t.claimEmail(a.EmailKey, id)
	t.del(EmailLookupPK(a.EmailKey), PendingSK, "subjectId = :id", Item{":id": s(string(id))}, privacy.ErrStale)
	t.settle(id, "emailVerified", "guardianConfirmed", guardianConfirmed, status)
	t.put(st.newAuditItem(id, audit))
	return st.commit(ctx, t)
}

// Pending reads what proving a registration's address needs: the sort keys from CREDENTIAL to
// the verifications (the credential, the profile, the guardian request and optional fields
// between them, and the verifications), never the audit trail or consents.
func (st *Store) Pending(ctx context.Context, id privacy.SubjectID) (privacy.Pending, error) {
	items, err := st.between(ctx, id, string(KindCredential), prefix(KindVerification)+"~")
	if err != nil {
		return privacy.Pending{}, err
	}
	var out privacy.Pending
	found := false
	for _, it := range items {
		switch kind, suffix, _ := cutKind(attr(it, "SK")); kind {
		case KindCredential:
			var c credentialItem
			if err := attributevalue.UnmarshalMap(it, &c); err != nil {
				return privacy.Pending{}, fmt.Errorf("decode credential: %w", err)
			}
			out.PasswordHash = c.PasswordHash
		case KindProfile:
			var p profileItem
			if err := attributevalue.UnmarshalMap(it, &p); err != nil {
				return privacy.Pending{}, fmt.Errorf("decode profile: %w", err)
			}
			out.Account, found = p.account(), true
		case KindVerification:
			if privacy.VerificationKind(suffix) != privacy.VerifyEmail {
				continue
			}
			var v verificationItem
			if err := attributevalue.UnmarshalMap(it, &v); err != nil {
				return privacy.Pending{}, fmt.Errorf("decode verification: %w", err)
			}
			ver := v.verification(privacy.VerifyEmail)
			out.Verification = &ver
		}
	}
	if !found {
		return privacy.Pending{}, errNoAccount
	}
	return out, nil
}

// settle adds to t one step towards an active account: set the flag and the status derived
// from the other flag as read (privacy.ErrChanged if that flag changed since, or the account
// is being erased), and, once active, move from the sweep index to the active accounts'.
func (t *txn) settle(id privacy.SubjectID, setFlag, otherFlag string, otherRead bool, status privacy.AccountStatus) {
	upd := "SET " + setFlag + " = :t, #st = :status"
	vals := Item{
		":t": boolean(true), ":status": s(string(status)), ":flag": boolean(otherRead),
		":erasing": s(string(privacy.StatusErasing)),
	}
	if status == privacy.StatusActive {
		upd += ", GSI2PK = :accounts, GSI2SK = :id"
		vals[":accounts"], vals[":id"] = s(accountsPartition), s(string(id))
	}
	// An absent flag is false.
	cond := otherFlag + " = :flag"
	if !otherRead {
		cond = "(attribute_not_exists(" + otherFlag + ") OR " + otherFlag + " = :flag)"
	}
	t.update(&types.Update{
		Key:                       key(SubjectPK(id), string(KindProfile)),
		UpdateExpression:          aws.String(upd),
		ConditionExpression:       aws.String("attribute_exists(PK) AND #st <> :erasing AND " + cond),
		ExpressionAttributeNames:  map[string]string{"#st": "status"},
		ExpressionAttributeValues: vals,
	}, privacy.ErrChanged)
}

// ConfirmNewEmail consumes the new-address verification and moves the account and its
// e-mail look-up to the new address, in one transaction.
func (st *Store) ConfirmNewEmail(ctx context.Context, id privacy.SubjectID, v privacy.Verification, oldEmailKey string, audit privacy.AuditEntry) error {
	t := st.txn()
	t.claimEmail(v.NewEmailKey, id)
	t.consumeVerification(id, v)
	t.del(EmailLookupPK(oldEmailKey), LookupSK, "", nil, nil)
	t.update(&types.Update{
		Key:                       key(SubjectPK(id), string(KindProfile)),
		UpdateExpression:          aws.String("SET email = :e, emailKey = :k REMOVE pendingEmail"),
		ConditionExpression:       aws.String("attribute_exists(PK)"),
		ExpressionAttributeValues: Item{":e": s(v.NewEmail), ":k": s(v.NewEmailKey)},
	}, privacy.ErrStale)
	t.put(st.newAuditItem(id, audit))
	return st.commit(ctx, t)
}
