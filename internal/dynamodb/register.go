package dynamodb

import (
	"context"
	"errors"
	"fmt"

	"github.com/privacyportal/portal/internal/privacy"
)

var errSubjectCollision = errors.New("register: subject ID collision")

// Register writes a new account and its look-up items in one transaction. The look-ups'
// conditions make e-mail and username unique even under concurrent registrations. A taken
// username is reported first, whatever the address: answering "username taken" only when the
// address is new would tell anyone which addresses have accounts.
func (st *Store) Register(ctx context.Context, r privacy.Registration) error {
	a := r.Account
	id := a.SubjectID
	prof := newProfileItem(a)
	if !r.SweepAt.IsZero() {
		prof.GSI2PK, prof.GSI2SK = sweepPartition, sweepKey(r.SweepAt, id)
	}
	t := st.txn()
	t.claimUsername(a.UsernameKey, id, a.CreatedAt)
	t.claimEmail(a.EmailKey, id)
	t.putIf(prof, "attribute_not_exists(PK)", nil, errSubjectCollision)
	t.put(newCredentialItem(id, r.PasswordHash))
	t.put(newVerificationItem(id, r.Verification))
	if g := r.Guardian; g != nil {
		t.put(newGuardianItem(id, *g))
	}
	for field, v := range r.Optional {
		t.put(newOptionalItem(id, field, v))
	}
	for i, c := range r.Consents {
		t.put(newConsentItem(id, c, i))
	}
	t.put(newAuditItem(id, r.Audit))
	if err := st.commit(ctx, t); err != nil {
		if errors.Is(err, privacy.ErrUsernameTaken) || errors.Is(err, privacy.ErrEmailTaken) {
			return err
		}
		return fmt.Errorf("register: %w", err)
	}
	return nil
}
