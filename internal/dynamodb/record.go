package dynamodb

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"

	"github.com/privacyportal/portal/internal/privacy"
)

// decoded collects the items of a partition, each decoded with its kind's struct. Items past
// their expiry count as gone (TTL deletion is lazy in DynamoDB and absent in DynamoDB Local),
// except verifications and guardian requests, which the services check themselves so that an
// expired code answers like a wrong one.
type decoded struct {
	rec          privacy.Record
	passwordHash string
	found        bool
}

func decode(items []Item, now time.Time) (decoded, error) {
	d := decoded{rec: privacy.Record{Optional: map[string]privacy.OptionalValue{}, Verifications: map[privacy.VerificationKind]privacy.Verification{}}}
	r := &d.rec
	for _, it := range items {
		sk := attr(it, "SK")
		kind, suffix, _ := cutKind(sk)
		var err error
		switch kind {
		case KindProfile:
			var p profileItem
			if err = attributevalue.UnmarshalMap(it, &p); err == nil {
				r.Account, d.found = p.account(), true
			}
		case KindCredential:
			// The password hash is not part of the record: nothing that shows the record
			// needs it, and only Editable hands it on.
			var c credentialItem
			if err = attributevalue.UnmarshalMap(it, &c); err == nil {
				d.passwordHash = c.PasswordHash
			}
		case KindGuardian:
			var g guardianItem
			if err = attributevalue.UnmarshalMap(it, &g); err == nil {
				req := g.request()
				r.Guardian = &req
			}
		case KindOptional:
			var o optionalItem
			if err = attributevalue.UnmarshalMap(it, &o); err == nil {
				field, v := o.field()
				r.Optional[field] = v
			}
		case KindConsent:
			var c consentItem
			if err = attributevalue.UnmarshalMap(it, &c); err == nil {
				r.Consents = append(r.Consents, c.entry())
			}
		case KindVerification:
			var v verificationItem
			if err = attributevalue.UnmarshalMap(it, &v); err == nil {
				r.Verifications[privacy.VerificationKind(suffix)] = v.verification(privacy.VerificationKind(suffix))
			}
		case KindSession:
			var se sessionItem
			if err = attributevalue.UnmarshalMap(it, &se); err == nil && !expired(se.ExpiresAt, now) {
				r.Sessions = append(r.Sessions, se.session())
			}
		case KindAudit:
			var a auditItem
			if err = attributevalue.UnmarshalMap(it, &a); err == nil && !expired(a.ExpiresAt, now) {
				r.Audit = append(r.Audit, a.entry())
			}
		case KindRequest:
			var q requestItem
			if err = attributevalue.UnmarshalMap(it, &q); err == nil && !expired(q.ExpiresAt, now) {
				r.Requests = append(r.Requests, q.record().Request)
			}
		case KindDecision:
			var dec decisionItem
			if err = attributevalue.UnmarshalMap(it, &dec); err == nil {
				r.Decisions = append(r.Decisions, dec.decision())
			}
		}
		if err != nil {
			return decoded{}, fmt.Errorf("decode %s: %w", kind, err)
		}
	}
	return d, nil
}

// Record returns everything stored about a subject (the account page shows it all, P15).
func (st *Store) Record(ctx context.Context, id privacy.SubjectID, now time.Time) (privacy.Record, error) {
	items, err := st.Partition(ctx, id)
	if err != nil {
		return privacy.Record{}, err
	}
	d, err := decode(items, now)
	if err != nil {
		return privacy.Record{}, err
	}
	if !d.found {
		return privacy.Record{}, errNoAccount
	}
	return d.rec, nil
}

// Editable returns what a correction needs to validate: the account, its password hash and
// optional values (the sort keys CREDENTIAL up to PROFILE) and its consent ledger
// (CONSENT#...).
func (st *Store) Editable(ctx context.Context, id privacy.SubjectID) (privacy.Editable, error) {
	items, err := st.between(ctx, id, string(KindCredential), string(KindProfile))
	if err != nil {
		return privacy.Editable{}, err
	}
	consents, err := st.ofKind(ctx, id, KindConsent)
	if err != nil {
		return privacy.Editable{}, err
	}
	d, err := decode(append(items, consents...), time.Time{})
	if err != nil {
		return privacy.Editable{}, err
	}
	if !d.found {
		return privacy.Editable{}, errNoAccount
	}
	return privacy.Editable{Account: d.rec.Account, PasswordHash: d.passwordHash, Optional: d.rec.Optional, Consents: d.rec.Consents}, nil
}
