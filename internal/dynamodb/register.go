package dynamodb

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/privacyportal/portal/internal/privacy"
)

var errSubjectCollision = errors.New("register: subject ID collision")

// Register writes a new registration in one transaction: its username (unique under
// concurrent registrations), the address's pending registration, now this one, and the
// account's items. The registration it replaces, read as r.Replaces, is claimed for erasure in
// the same transaction (the mail worker deletes it): the transaction fails with
// privacy.ErrChanged if the address's pending registration is another by now, or the replaced
// one was verified meanwhile. A taken username is reported first: nothing here depends on
// whether the address has an account.
func (st *Store) Register(ctx context.Context, r privacy.Registration) error {
	a := r.Account
	id := a.SubjectID
	prof := newProfileItem(a)
	switch {
	case a.Status == privacy.StatusActive:
		// Active from the start (an operator's tool, a test): no deadline to meet.
		prof.GSI2PK, prof.GSI2SK = accountsPartition, string(id)
	case !r.SweepAt.IsZero():
		prof.GSI2PK, prof.GSI2SK = sweepPartition, sweepKey(r.SweepAt, id)
	}
	t := st.txn()
	t.claimUsername(a.UsernameKey, id, a.CreatedAt)
	pending := lookupItem{PK: EmailLookupPK(a.EmailKey), SK: PendingSK, SubjectID: string(id)}
	if r.Replaces == "" {
		t.putIf(pending, "attribute_not_exists(PK)", nil, privacy.ErrChanged)
	} else {
		t.putIf(pending, "subjectId = :old", Item{":old": s(string(r.Replaces))}, privacy.ErrChanged)
		t.update(&types.Update{
			Key:                      key(SubjectPK(r.Replaces), string(KindProfile)),
			UpdateExpression:         aws.String("SET #st = :erasing"),
			ConditionExpression:      aws.String("#st = :unverified"),
			ExpressionAttributeNames: map[string]string{"#st": "status"},
			ExpressionAttributeValues: Item{
				":erasing": s(string(privacy.StatusErasing)), ":unverified": s(string(privacy.StatusUnverified)),
			},
		}, privacy.ErrChanged)
	}
	t.putIf(prof, "attribute_not_exists(PK)", nil, errSubjectCollision)
	t.put(newCredentialItem(id, r.PasswordHash))
	if g := r.Guardian; g != nil {
		t.put(newGuardianItem(id, *g))
	}
	for field, v := range r.Optional {
		t.put(newOptionalItem(id, field, v))
	}
	for i, c := range r.Consents {
		t.put(newConsentItem(id, c, i))
	}
	t.put(st.newAuditItem(id, r.Audit))
	for _, d := range r.Decisions {
		t.put(newDecisionItem(id, d))
	}
	if err := st.commit(ctx, t); err != nil {
		if errors.Is(err, privacy.ErrUsernameTaken) || errors.Is(err, privacy.ErrChanged) {
			return err
		}
		return fmt.Errorf("register: %w", err)
	}
	return nil
}
