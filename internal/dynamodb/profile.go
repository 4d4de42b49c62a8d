package dynamodb

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	ddb "github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/privacyportal/portal/internal/privacy"
)

// profileItem is who a subject is and where their account stands. While the account must
// still become active, it sits in the sweep index (GSI2) under its deadline; while it is
// active, in the active accounts' (GSI2 partition ACCOUNTS, under its ID).
type profileItem struct {
	PK                string `dynamodbav:"PK"`
	SK                string `dynamodbav:"SK"`
	GSI2PK            string `dynamodbav:"GSI2PK,omitempty"`
	GSI2SK            string `dynamodbav:"GSI2SK,omitempty"`
	SubjectID         string `dynamodbav:"subjectId"`
	CreatedAt         string `dynamodbav:"createdAt"`
	Name              string `dynamodbav:"name"`
	Email             string `dynamodbav:"email"`
	Username          string `dynamodbav:"username"`
	Locale            string `dynamodbav:"locale"`
	AgeGroup          string `dynamodbav:"ageGroup"`
	Status            string `dynamodbav:"status"`
	EmailVerified     bool   `dynamodbav:"emailVerified,omitempty"`
	GuardianConfirmed bool   `dynamodbav:"guardianConfirmed,omitempty"`
	PendingEmail      string `dynamodbav:"pendingEmail,omitempty"`
	EmailKey          string `dynamodbav:"emailKey"`
	UsernameKey       string `dynamodbav:"usernameKey"`
}

func newProfileItem(a privacy.Account) profileItem {
	return profileItem{
		PK: SubjectPK(a.SubjectID), SK: string(KindProfile), SubjectID: string(a.SubjectID),
		CreatedAt: ts(a.CreatedAt), Name: a.Profile.Name, Email: a.Profile.Email,
		Username: a.Profile.Username, Locale: a.Profile.Locale, AgeGroup: string(a.Profile.AgeGroup),
		Status: string(a.Status), EmailVerified: a.EmailVerified, GuardianConfirmed: a.GuardianConfirmed,
		PendingEmail: a.PendingEmail, EmailKey: a.EmailKey, UsernameKey: a.UsernameKey,
	}
}

func (it profileItem) account() privacy.Account {
	return privacy.Account{
		SubjectID: privacy.SubjectID(it.SubjectID), Status: privacy.AccountStatus(it.Status), CreatedAt: parseTS(it.CreatedAt),
		Profile:       privacy.Profile{Name: it.Name, Email: it.Email, Username: it.Username, Locale: it.Locale, AgeGroup: privacy.AgeGroup(it.AgeGroup)},
		EmailVerified: it.EmailVerified, GuardianConfirmed: it.GuardianConfirmed, PendingEmail: it.PendingEmail,
		EmailKey: it.EmailKey, UsernameKey: it.UsernameKey,
	}
}

// sweepKey is the account's place in the sweep index: its deadline, then its ID.
func sweepKey(at time.Time, id privacy.SubjectID) string { return ts(at) + "#" + string(id) }

var errNoAccount = privacy.Errorf(privacy.NotFound, "no such account")

// Account returns a subject's account.
func (st *Store) Account(ctx context.Context, id privacy.SubjectID) (privacy.Account, error) {
	var it profileItem
	found, err := st.get(ctx, SubjectPK(id), string(KindProfile), &it)
	if err != nil {
		return privacy.Account{}, err
	}
	if !found {
		return privacy.Account{}, errNoAccount
	}
	return it.account(), nil
}

// Accounts reads the accounts of ids at once (BatchGetItem); a subject with no account is
// not in the map.
func (st *Store) Accounts(ctx context.Context, ids []privacy.SubjectID) (map[privacy.SubjectID]privacy.Account, error) {
	keys := make([]Item, 0, len(ids))
	seen := make(map[privacy.SubjectID]bool, len(ids))
	for _, id := range ids {
		if !seen[id] {
			seen[id] = true
			keys = append(keys, key(SubjectPK(id), string(KindProfile)))
		}
	}
	out := make(map[privacy.SubjectID]privacy.Account, len(keys))
	err := st.batchGet(ctx, keys, func(raw Item) error {
		var it profileItem
		if err := attributevalue.UnmarshalMap(raw, &it); err != nil {
			return fmt.Errorf("decode profile: %w", err)
		}
		a := it.account()
		out[a.SubjectID] = a
		return nil
	})
	return out, err
}

// Update applies a change to an account: profile fields, a username swap (its look-ups move
// in the same transaction), optional fields, consent entries, a pending e-mail verification,
// and the audit entry.
func (st *Store) Update(ctx context.Context, id privacy.SubjectID, c privacy.AccountChange) error {
	pk := SubjectPK(id)
	t := st.txn()
	var sets []string
	names := map[string]string{}
	vals := Item{}
	set := func(name, v string) {
		names["#"+name] = name
		vals[":"+name] = s(v)
		sets = append(sets, fmt.Sprintf("#%s = :%s", name, name))
	}
	if c.Name != nil {
		set("name", *c.Name)
	}
	if c.Locale != nil {
		set("locale", *c.Locale)
	}
	if c.PendingEmail != nil {
		set("pendingEmail", *c.PendingEmail)
	}
	profileCond := "attribute_exists(PK)"
	if c.Username != nil {
		set("username", *c.Username)
		set("usernameKey", c.UsernameKey)
		if c.UsernameKey != c.OldUsernameKey {
			// The profile must still hold the username it was read with, and the old look-up
			// must still be ours: two concurrent renames cannot both win and leave two
			// usernames pointing at one account.
			profileCond += " AND usernameKey = :oldUsernameKey"
			vals[":oldUsernameKey"] = s(c.OldUsernameKey)
			t.claimUsername(c.UsernameKey, id, c.Audit.At)
			t.del(UsernameLookupPK(c.OldUsernameKey), LookupSK, "subjectId = :me", Item{":me": s(string(id))}, privacy.ErrStale)
		}
	}
	upd := &types.Update{Key: key(pk, string(KindProfile)), ConditionExpression: aws.String(profileCond)}
	if len(sets) > 0 {
		upd.UpdateExpression = aws.String("SET " + strings.Join(sets, ", "))
		upd.ExpressionAttributeNames = names
	} else {
		upd.UpdateExpression = aws.String("SET subjectId = subjectId")
	}
	if len(vals) > 0 {
		upd.ExpressionAttributeValues = vals
	}
	t.update(upd, privacy.ErrStale)
	for field, v := range c.SetOptional {
		t.put(newOptionalItem(id, field, v))
	}
	for _, field := range c.DeleteOptional {
		t.del(pk, SortKey(KindOptional, field), "", nil, nil)
	}
	for i, e := range c.Consents {
		t.putIf(newConsentItem(id, e, i), "attribute_not_exists(PK)", nil, privacy.ErrChanged) // never overwrite a ledger entry
	}
	if c.Verification != nil {
		t.put(newVerificationItem(id, *c.Verification))
	}
	t.put(st.newAuditItem(id, c.Audit))
	return st.commit(ctx, t)
}

// MarkErasing claims an account that never became active for deletion: it fails with
// privacy.ErrStale if the account is active (or gone) by now, and once it succeeds no
// verification or guardian confirmation can activate the account any more.
func (st *Store) MarkErasing(ctx context.Context, id privacy.SubjectID) error {
	_, err := st.Client.UpdateItem(ctx, &ddb.UpdateItemInput{
		TableName:                &st.Table,
		Key:                      key(SubjectPK(id), string(KindProfile)),
		UpdateExpression:         aws.String("SET #st = :erasing"),
		ConditionExpression:      aws.String("attribute_exists(PK) AND #st <> :active"),
		ExpressionAttributeNames: map[string]string{"#st": "status"},
		ExpressionAttributeValues: Item{
			":erasing": s(string(privacy.StatusErasing)), ":active": s(string(privacy.StatusActive)),
		},
	})
	if isConditionFailed(err) {
		return privacy.ErrStale
	}
	if err != nil {
		return fmt.Errorf("mark erasing: %w", err)
	}
	return nil
}

// SetSweepAt moves the deadline of an account that must still become active (an operator
// extending a pending account, or a test bringing one due). It fails with privacy.ErrStale if
// the account is not waiting.
func (st *Store) SetSweepAt(ctx context.Context, id privacy.SubjectID, at time.Time) error {
	_, err := st.Client.UpdateItem(ctx, &ddb.UpdateItemInput{
		TableName:                 &st.Table,
		Key:                       key(SubjectPK(id), string(KindProfile)),
		UpdateExpression:          aws.String("SET GSI2SK = :due"),
		ConditionExpression:       aws.String("GSI2PK = :sweep"),
		ExpressionAttributeValues: Item{":due": s(sweepKey(at, id)), ":sweep": s(sweepPartition)},
	})
	if isConditionFailed(err) {
		return privacy.ErrStale
	}
	if err != nil {
		return fmt.Errorf("set sweep deadline: %w", err)
	}
	return nil
}

// DueForSweep returns subjects whose account had to become active by now and has not.
func (st *Store) DueForSweep(ctx context.Context, now time.Time, limit int32) ([]privacy.SubjectID, error) {
	out, err := st.Client.Query(ctx, &ddb.QueryInput{
		TableName:              &st.Table,
		IndexName:              aws.String("GSI2"),
		KeyConditionExpression: aws.String("GSI2PK = :p AND GSI2SK <= :now"),
		ExpressionAttributeValues: Item{
			":p": s(sweepPartition), ":now": s(ts(now) + "#~"),
		},
		Limit: aws.Int32(limit),
	})
	if err != nil {
		return nil, fmt.Errorf("query sweep index: %w", err)
	}
	var ids []privacy.SubjectID
	for _, it := range out.Items {
		if _, sid, ok := strings.Cut(attr(it, "GSI2SK"), "#"); ok {
			ids = append(ids, privacy.SubjectID(sid))
		}
	}
	return ids, nil
}
