// Package dynamodb stores the portal's data in one DynamoDB table under the subject-partition
// rule: everything about a person is under PK = SUBJECT#<id>, so reading, exporting or erasing
// it is one Query. Look-up items (keyed hashes of e-mail and username) and short-lived
// rate-limit counters (keyed hashes, expiring within the hour) are the only items outside it.
package dynamodb

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	ddb "github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/privacyportal/portal/internal/privacy"
)

// API is the part of the DynamoDB client the store uses.
type API interface {
	GetItem(ctx context.Context, in *ddb.GetItemInput, optFns ...func(*ddb.Options)) (*ddb.GetItemOutput, error)
	PutItem(ctx context.Context, in *ddb.PutItemInput, optFns ...func(*ddb.Options)) (*ddb.PutItemOutput, error)
	UpdateItem(ctx context.Context, in *ddb.UpdateItemInput, optFns ...func(*ddb.Options)) (*ddb.UpdateItemOutput, error)
	DeleteItem(ctx context.Context, in *ddb.DeleteItemInput, optFns ...func(*ddb.Options)) (*ddb.DeleteItemOutput, error)
	Query(ctx context.Context, in *ddb.QueryInput, optFns ...func(*ddb.Options)) (*ddb.QueryOutput, error)
	TransactWriteItems(ctx context.Context, in *ddb.TransactWriteItemsInput, optFns ...func(*ddb.Options)) (*ddb.TransactWriteItemsOutput, error)
	BatchWriteItem(ctx context.Context, in *ddb.BatchWriteItemInput, optFns ...func(*ddb.Options)) (*ddb.BatchWriteItemOutput, error)
}

// Store is the portal's table.
type Store struct {
	Client API
	Table  string
}

// Key prefixes and sort keys.
const (
	subjectPrefix  = "SUBJECT#"
	skProfile      = "PROFILE"
	skCredential   = "CREDENTIAL"
	skGuardian     = "GUARDIAN"
	skLookup       = "LOOKUP"
	prefixOptional = "OPTIONAL#"
	prefixConsent  = "CONSENT#"
	prefixVerify   = "VERIFY#"
	prefixSession  = "SESSION#"
	prefixAudit    = "AUDIT#"
	// sweepPartition holds, in GSI2, every account that must become active by a deadline.
	sweepPartition = "SWEEP"
)

func subjectPK(id privacy.SubjectID) string { return subjectPrefix + string(id) }
func emailPK(key string) string             { return "EMAIL#" + key }
func usernamePK(key string) string          { return "USERNAME#" + key }

// item is one row. Every kind of item uses a few of these attributes.
type item struct {
	PK        string `dynamodbav:"PK"`
	SK        string `dynamodbav:"SK"`
	GSI2PK    string `dynamodbav:"GSI2PK,omitempty"`
	GSI2SK    string `dynamodbav:"GSI2SK,omitempty"`
	ExpiresAt int64  `dynamodbav:"expiresAt,omitempty"`

	SubjectID string `dynamodbav:"subjectId,omitempty"`
	CreatedAt string `dynamodbav:"createdAt,omitempty"`

	// PROFILE
	Name              string `dynamodbav:"name,omitempty"`
	Email             string `dynamodbav:"email,omitempty"`
	Username          string `dynamodbav:"username,omitempty"`
	Locale            string `dynamodbav:"locale,omitempty"`
	AgeGroup          string `dynamodbav:"ageGroup,omitempty"`
	Status            string `dynamodbav:"status,omitempty"`
	EmailVerified     bool   `dynamodbav:"emailVerified,omitempty"`
	GuardianConfirmed bool   `dynamodbav:"guardianConfirmed,omitempty"`
	PendingEmail      string `dynamodbav:"pendingEmail,omitempty"`
	EmailKey          string `dynamodbav:"emailKey,omitempty"`
	UsernameKey       string `dynamodbav:"usernameKey,omitempty"`

	// CREDENTIAL
	PasswordHash string `dynamodbav:"passwordHash,omitempty"`

	// OPTIONAL#<field>, CONSENT#...
	Value         string `dynamodbav:"value,omitempty"`
	ConsentedAt   string `dynamodbav:"consentedAt,omitempty"`
	PolicyVersion string `dynamodbav:"policyVersion,omitempty"`
	Purpose       string `dynamodbav:"purpose,omitempty"`
	Granted       bool   `dynamodbav:"granted,omitempty"`
	Source        string `dynamodbav:"source,omitempty"`

	// VERIFY#<kind>, GUARDIAN, SESSION#<hash>
	CodeHash    string `dynamodbav:"codeHash,omitempty"`
	TokenHash   string `dynamodbav:"tokenHash,omitempty"`
	Attempts    int    `dynamodbav:"attempts"`
	NewEmail    string `dynamodbav:"newEmail,omitempty"`
	NewEmailKey string `dynamodbav:"newEmailKey,omitempty"`
	Guardian    string `dynamodbav:"guardianEmail,omitempty"`

	// AUDIT#...
	Action string   `dynamodbav:"action,omitempty"`
	Fields []string `dynamodbav:"fields,omitempty,stringset"`
}

func ts(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }

func parseTS(s string) time.Time {
	t, _ := time.Parse(time.RFC3339Nano, s)
	return t
}

func marshal(it item) map[string]types.AttributeValue {
	m, err := attributevalue.MarshalMap(it)
	if err != nil {
		panic(err) // item has only plain fields: marshalling cannot fail
	}
	if it.Attempts == 0 && !strings.HasPrefix(it.SK, prefixVerify) {
		delete(m, "attempts")
	}
	return m
}

func key(pk, sk string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{
		"PK": &types.AttributeValueMemberS{Value: pk},
		"SK": &types.AttributeValueMemberS{Value: sk},
	}
}

func s(v string) types.AttributeValue { return &types.AttributeValueMemberS{Value: v} }
func n(v int64) types.AttributeValue {
	return &types.AttributeValueMemberN{Value: strconv.FormatInt(v, 10)}
}

func (st *Store) put(it item, cond string) types.TransactWriteItem {
	p := &types.Put{TableName: &st.Table, Item: marshal(it)}
	if cond != "" {
		p.ConditionExpression = &cond
	}
	return types.TransactWriteItem{Put: p}
}

// claimUsername puts a username look-up if the name is free: no look-up, or only a
// reservation that has expired.
func (st *Store) claimUsername(usernameKey string, id privacy.SubjectID, now time.Time) types.TransactWriteItem {
	return types.TransactWriteItem{Put: &types.Put{
		TableName:                 &st.Table,
		Item:                      marshal(item{PK: usernamePK(usernameKey), SK: skLookup, SubjectID: string(id)}),
		ConditionExpression:       aws.String("attribute_not_exists(PK) OR (attribute_not_exists(subjectId) AND expiresAt < :now)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":now": n(now.Unix())},
	}}
}

func (st *Store) del(pk, sk, cond string) types.TransactWriteItem {
	d := &types.Delete{TableName: &st.Table, Key: key(pk, sk)}
	if cond != "" {
		d.ConditionExpression = &cond
	}
	return types.TransactWriteItem{Delete: d}
}

func profileItem(a privacy.Account, emailKey, usernameKey string) item {
	return item{
		PK: subjectPK(a.SubjectID), SK: skProfile, SubjectID: string(a.SubjectID),
		CreatedAt: ts(a.CreatedAt), Name: a.Profile.Name, Email: a.Profile.Email,
		Username: a.Profile.Username, Locale: a.Profile.Locale, AgeGroup: string(a.Profile.AgeGroup),
		Status: string(a.Status), EmailVerified: a.EmailVerified, GuardianConfirmed: a.GuardianConfirmed,
		PendingEmail: a.PendingEmail, EmailKey: emailKey, UsernameKey: usernameKey,
	}
}

func consentItem(id privacy.SubjectID, c privacy.ConsentEntry, seq int) item {
	return item{
		PK: subjectPK(id), SK: fmt.Sprintf("%s%s#%02d#%s", prefixConsent, ts(c.At), seq, c.Purpose),
		Purpose: c.Purpose, Granted: c.Granted, ConsentedAt: ts(c.At), PolicyVersion: c.PolicyVersion, Source: c.Source,
	}
}

func auditItem(id privacy.SubjectID, a privacy.AuditEntry) item {
	return item{
		PK: subjectPK(id), SK: prefixAudit + ts(a.At) + "#" + privacy.NewID()[:6],
		CreatedAt: ts(a.At), Action: a.Action, Fields: a.Fields,
	}
}

func optionalItem(id privacy.SubjectID, field string, v privacy.OptionalValue) item {
	return item{PK: subjectPK(id), SK: prefixOptional + field, Value: v.Value, ConsentedAt: ts(v.ConsentedAt), PolicyVersion: v.PolicyVersion}
}

func verificationItem(id privacy.SubjectID, v privacy.Verification) item {
	return item{
		PK: subjectPK(id), SK: prefixVerify + string(v.Kind), CodeHash: v.CodeHash, TokenHash: v.TokenHash,
		Attempts: v.Attempts, ExpiresAt: v.ExpiresAt.Unix(), NewEmail: v.NewEmail, NewEmailKey: v.NewEmailKey,
	}
}

// transact runs a transaction, retrying conflicts with other transactions on the same items
// (which DynamoDB reports as a cancellation) a few times. It returns the cancellation reasons
// when a condition failed.
func (st *Store) transact(ctx context.Context, items []types.TransactWriteItem) ([]types.CancellationReason, error) {
	var last error
	for attempt := range 6 {
		_, err := st.Client.TransactWriteItems(ctx, &ddb.TransactWriteItemsInput{TransactItems: items})
		if err == nil {
			return nil, nil
		}
		var tce *types.TransactionCanceledException
		if !errors.As(err, &tce) {
			var conflict *types.TransactionConflictException
			if errors.As(err, &conflict) {
				last = err
				backoff(ctx, attempt)
				continue
			}
			return nil, fmt.Errorf("transact write: %w", err)
		}
		retry := false
		for _, r := range tce.CancellationReasons {
			switch aws.ToString(r.Code) {
			case "ConditionalCheckFailed":
				return tce.CancellationReasons, nil
			case "TransactionConflict", "ThrottlingError", "ProvisionedThroughputExceeded":
				retry = true
			}
		}
		if !retry {
			return nil, fmt.Errorf("transact write: %w", err)
		}
		last = err
		backoff(ctx, attempt)
	}
	return nil, fmt.Errorf("transact write: still conflicting after retries: %w", last)
}

func backoff(ctx context.Context, attempt int) {
	d := time.Duration(10<<attempt) * time.Millisecond
	d += time.Duration(time.Now().UnixNano() % int64(d)) // jitter
	select {
	case <-ctx.Done():
	case <-time.After(d):
	}
}

func failed(reasons []types.CancellationReason, i int) bool {
	return i < len(reasons) && aws.ToString(reasons[i].Code) == "ConditionalCheckFailed"
}

// Register writes a new account and its look-up items in one transaction. The look-ups'
// conditions make e-mail and username unique even under concurrent registrations.
func (st *Store) Register(ctx context.Context, r privacy.Registration) error {
	a := r.Account
	id := a.SubjectID
	prof := profileItem(a, r.EmailKey, r.UsernameKey)
	if !r.SweepAt.IsZero() {
		prof.GSI2PK, prof.GSI2SK = sweepPartition, ts(r.SweepAt)+"#"+string(id)
	}
	items := []types.TransactWriteItem{
		st.put(item{PK: emailPK(r.EmailKey), SK: skLookup, SubjectID: string(id)}, "attribute_not_exists(PK)"),
		st.claimUsername(r.UsernameKey, id, a.CreatedAt),
		st.put(prof, "attribute_not_exists(PK)"),
		st.put(item{PK: subjectPK(id), SK: skCredential, PasswordHash: r.PasswordHash}, ""),
		st.put(verificationItem(id, r.Verification), ""),
	}
	if g := r.Guardian; g != nil {
		items = append(items, st.put(item{PK: subjectPK(id), SK: skGuardian, Guardian: g.Email, TokenHash: g.TokenHash, ExpiresAt: g.ExpiresAt.Unix()}, ""))
	}
	for field, v := range a.Optional {
		items = append(items, st.put(optionalItem(id, field, v), ""))
	}
	for i, c := range a.Consents {
		items = append(items, st.put(consentItem(id, c, i), ""))
	}
	for _, e := range a.Audit {
		items = append(items, st.put(auditItem(id, e), ""))
	}
	reasons, err := st.transact(ctx, items)
	switch {
	case err != nil:
		return err
	// A taken username is reported first, whatever the address: answering "username taken"
	// only when the address is new would tell anyone which addresses have accounts.
	case failed(reasons, 1):
		return privacy.ErrUsernameTaken
	case failed(reasons, 0):
		return privacy.ErrEmailTaken
	case reasons != nil:
		return fmt.Errorf("register: subject id collision")
	}
	return nil
}

// ReserveUsername holds a free username until a time without giving it to anyone. A
// registration that lost its address to an existing account reserves the username it asked
// for, exactly as a successful one would hold it, so trying a known-taken username with an
// address cannot tell whether the address has an account.
func (st *Store) ReserveUsername(ctx context.Context, usernameKey string, until, now time.Time) error {
	_, err := st.Client.PutItem(ctx, &ddb.PutItemInput{
		TableName:                 &st.Table,
		Item:                      marshal(item{PK: usernamePK(usernameKey), SK: skLookup, ExpiresAt: until.Unix()}),
		ConditionExpression:       aws.String("attribute_not_exists(PK) OR (attribute_not_exists(subjectId) AND expiresAt < :now)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":now": n(now.Unix())},
	})
	var ccf *types.ConditionalCheckFailedException
	if err != nil && !errors.As(err, &ccf) {
		return fmt.Errorf("reserve username: %w", err)
	}
	return nil
}

func (st *Store) lookup(ctx context.Context, pk string) (privacy.SubjectID, error) {
	out, err := st.Client.GetItem(ctx, &ddb.GetItemInput{TableName: &st.Table, Key: key(pk, skLookup), ConsistentRead: aws.Bool(true)})
	if err != nil {
		return "", fmt.Errorf("get look-up: %w", err)
	}
	if out.Item == nil {
		return "", privacy.Errorf(privacy.NotFound, "no such account")
	}
	var it item
	if err := attributevalue.UnmarshalMap(out.Item, &it); err != nil {
		return "", err
	}
	if it.SubjectID == "" { // a reservation: nobody has the name
		return "", privacy.Errorf(privacy.NotFound, "no such account")
	}
	return privacy.SubjectID(it.SubjectID), nil
}

// SubjectByEmail returns the subject whose e-mail has the given keyed hash.
func (st *Store) SubjectByEmail(ctx context.Context, emailKey string) (privacy.SubjectID, error) {
	return st.lookup(ctx, emailPK(emailKey))
}

// SubjectByUsername returns the subject whose username has the given keyed hash.
func (st *Store) SubjectByUsername(ctx context.Context, usernameKey string) (privacy.SubjectID, error) {
	return st.lookup(ctx, usernamePK(usernameKey))
}

// partition reads every item of a subject: one Query, paged.
func (st *Store) partition(ctx context.Context, id privacy.SubjectID) ([]item, error) {
	return st.query(ctx, "PK = :pk", map[string]types.AttributeValue{":pk": s(subjectPK(id))})
}

// sortKeysBetween reads the items of a subject whose sort keys lie between from and to.
func (st *Store) sortKeysBetween(ctx context.Context, id privacy.SubjectID, from, to string) ([]item, error) {
	return st.query(ctx, "PK = :pk AND SK BETWEEN :from AND :to", map[string]types.AttributeValue{
		":pk": s(subjectPK(id)), ":from": s(from), ":to": s(to),
	})
}

func (st *Store) query(ctx context.Context, cond string, vals map[string]types.AttributeValue) ([]item, error) {
	var items []item
	var start map[string]types.AttributeValue
	for {
		out, err := st.Client.Query(ctx, &ddb.QueryInput{
			TableName:                 &st.Table,
			KeyConditionExpression:    aws.String(cond),
			ExpressionAttributeValues: vals,
			ConsistentRead:            aws.Bool(true),
			ExclusiveStartKey:         start,
		})
		if err != nil {
			return nil, fmt.Errorf("query subject: %w", err)
		}
		var page []item
		if err := attributevalue.UnmarshalListOfMaps(out.Items, &page); err != nil {
			return nil, err
		}
		items = append(items, page...)
		if out.LastEvaluatedKey == nil {
			return items, nil
		}
		start = out.LastEvaluatedKey
	}
}

// Record returns everything stored about a subject. Items past their expiry count as gone:
// TTL deletion is lazy in DynamoDB and absent in DynamoDB Local.
func (st *Store) Record(ctx context.Context, id privacy.SubjectID, now time.Time) (privacy.Record, error) {
	items, err := st.partition(ctx, id)
	if err != nil {
		return privacy.Record{}, err
	}
	return record(id, items, now)
}

// Login returns the part of a subject's record that signing in needs: profile and password
// hash (sort keys CREDENTIAL to PROFILE), without the audit trail, consents and sessions that
// grow with the account's age.
func (st *Store) Login(ctx context.Context, id privacy.SubjectID, now time.Time) (privacy.Record, error) {
	items, err := st.sortKeysBetween(ctx, id, skCredential, skProfile)
	if err != nil {
		return privacy.Record{}, err
	}
	return record(id, items, now)
}

func record(id privacy.SubjectID, items []item, now time.Time) (privacy.Record, error) {
	rec := privacy.Record{Verifications: map[privacy.VerificationKind]privacy.Verification{}}
	a := &rec.Account
	a.SubjectID = id
	a.Optional = map[string]privacy.OptionalValue{}
	found := false
	for _, it := range items {
		if it.ExpiresAt != 0 && now.Unix() >= it.ExpiresAt && !strings.HasPrefix(it.SK, prefixVerify) {
			continue
		}
		switch {
		case it.SK == skProfile:
			found = true
			a.Status = privacy.AccountStatus(it.Status)
			a.CreatedAt = parseTS(it.CreatedAt)
			a.Profile = privacy.Profile{Name: it.Name, Email: it.Email, Username: it.Username, Locale: it.Locale, AgeGroup: privacy.AgeGroup(it.AgeGroup)}
			a.EmailVerified, a.GuardianConfirmed = it.EmailVerified, it.GuardianConfirmed
			a.PendingEmail = it.PendingEmail
			rec.EmailKey, rec.UsernameKey = it.EmailKey, it.UsernameKey
		case it.SK == skCredential:
			rec.PasswordHash = it.PasswordHash
		case it.SK == skGuardian:
			rec.Guardian = &privacy.GuardianRequest{Email: it.Guardian, TokenHash: it.TokenHash, ExpiresAt: time.Unix(it.ExpiresAt, 0)}
		case strings.HasPrefix(it.SK, prefixOptional):
			a.Optional[strings.TrimPrefix(it.SK, prefixOptional)] = privacy.OptionalValue{Value: it.Value, ConsentedAt: parseTS(it.ConsentedAt), PolicyVersion: it.PolicyVersion}
		case strings.HasPrefix(it.SK, prefixConsent):
			a.Consents = append(a.Consents, privacy.ConsentEntry{Purpose: it.Purpose, Granted: it.Granted, At: parseTS(it.ConsentedAt), PolicyVersion: it.PolicyVersion, Source: it.Source})
		case strings.HasPrefix(it.SK, prefixVerify):
			k := privacy.VerificationKind(strings.TrimPrefix(it.SK, prefixVerify))
			rec.Verifications[k] = privacy.Verification{Kind: k, CodeHash: it.CodeHash, TokenHash: it.TokenHash, Attempts: it.Attempts, ExpiresAt: time.Unix(it.ExpiresAt, 0), NewEmail: it.NewEmail, NewEmailKey: it.NewEmailKey}
		case strings.HasPrefix(it.SK, prefixSession):
			a.Sessions = append(a.Sessions, privacy.Session{TokenHash: strings.TrimPrefix(it.SK, prefixSession), CreatedAt: parseTS(it.CreatedAt), ExpiresAt: time.Unix(it.ExpiresAt, 0)})
		case strings.HasPrefix(it.SK, prefixAudit):
			a.Audit = append(a.Audit, privacy.AuditEntry{At: parseTS(it.CreatedAt), Action: it.Action, Fields: it.Fields})
		}
	}
	if !found {
		return privacy.Record{}, privacy.Errorf(privacy.NotFound, "no such account")
	}
	sort.Slice(a.Sessions, func(i, j int) bool { return a.Sessions[i].CreatedAt.Before(a.Sessions[j].CreatedAt) })
	return rec, nil
}

// FailVerification counts a wrong code, atomically, and returns the attempts so far. A
// verification already at the limit reports privacy.ErrStale.
func (st *Store) FailVerification(ctx context.Context, id privacy.SubjectID, kind privacy.VerificationKind) (int, error) {
	out, err := st.Client.UpdateItem(ctx, &ddb.UpdateItemInput{
		TableName:           &st.Table,
		Key:                 key(subjectPK(id), prefixVerify+string(kind)),
		UpdateExpression:    aws.String("ADD attempts :one"),
		ConditionExpression: aws.String("attribute_exists(PK) AND attempts < :max"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":one": n(1), ":max": n(privacy.MaxCodeAttempts),
		},
		ReturnValues: types.ReturnValueUpdatedNew,
	})
	if err != nil {
		var ccf *types.ConditionalCheckFailedException
		if errors.As(err, &ccf) {
			return privacy.MaxCodeAttempts, privacy.ErrStale
		}
		return 0, fmt.Errorf("count failed attempt: %w", err)
	}
	var got struct {
		Attempts int `dynamodbav:"attempts"`
	}
	_ = attributevalue.UnmarshalMap(out.Attributes, &got)
	return got.Attempts, nil
}

// PutVerification replaces a verification (a new code: attempts start again).
func (st *Store) PutVerification(ctx context.Context, id privacy.SubjectID, v privacy.Verification) error {
	_, err := st.Client.PutItem(ctx, &ddb.PutItemInput{TableName: &st.Table, Item: marshal(verificationItem(id, v))})
	if err != nil {
		return fmt.Errorf("put verification: %w", err)
	}
	return nil
}

// flagIs is a condition that a boolean profile flag (absent means false) has the value read.
func flagIs(name string, v bool) (string, types.AttributeValue) {
	if v {
		return name + " = :flag", &types.AttributeValueMemberBOOL{Value: true}
	}
	return "(attribute_not_exists(" + name + ") OR " + name + " = :flag)", &types.AttributeValueMemberBOOL{Value: false}
}

// VerifyEmail consumes the e-mail verification (single use: the delete is conditional on the
// code hash and the attempt count) and marks the address verified. status was derived from
// guardianConfirmed as read; if a guardian's decision landed since, the write fails with
// privacy.ErrChanged and the caller reads again, so the status never goes stale.
func (st *Store) VerifyEmail(ctx context.Context, id privacy.SubjectID, v privacy.Verification, guardianConfirmed bool, status privacy.AccountStatus, audit privacy.AuditEntry) error {
	consume := types.TransactWriteItem{Delete: &types.Delete{
		TableName: &st.Table, Key: key(subjectPK(id), prefixVerify+string(privacy.VerifyEmail)),
		ConditionExpression:       aws.String("codeHash = :code AND attempts < :max"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":code": s(v.CodeHash), ":max": n(privacy.MaxCodeAttempts)},
	}}
	return st.settle(ctx, id, consume, "emailVerified", "guardianConfirmed", guardianConfirmed, status, st.put(auditItem(id, audit), ""))
}

// ConfirmGuardian consumes the guardian request and records the guardian's consent. Like
// VerifyEmail, it fails with privacy.ErrChanged if emailVerified changed since it was read.
func (st *Store) ConfirmGuardian(ctx context.Context, id privacy.SubjectID, tokenHash string, emailVerified bool, status privacy.AccountStatus, consent privacy.ConsentEntry, audit privacy.AuditEntry) error {
	consume := types.TransactWriteItem{Delete: &types.Delete{
		TableName: &st.Table, Key: key(subjectPK(id), skGuardian),
		ConditionExpression:       aws.String("tokenHash = :h"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":h": s(tokenHash)},
	}}
	return st.settle(ctx, id, consume, "guardianConfirmed", "emailVerified", emailVerified, status,
		st.put(consentItem(id, consent, 0), ""), st.put(auditItem(id, audit), ""))
}

// settle is one step towards an active account, in one transaction: consume the one-time item
// (privacy.ErrStale if it is used or wrong), set the flag and the status derived from the other
// flag as read (privacy.ErrChanged if that flag changed since), leave the sweep index once
// active, and write the extra items.
func (st *Store) settle(ctx context.Context, id privacy.SubjectID, consume types.TransactWriteItem, setFlag, otherFlag string, otherRead bool, status privacy.AccountStatus, extra ...types.TransactWriteItem) error {
	upd := "SET " + setFlag + " = :t, #st = :status"
	if status == privacy.StatusActive {
		upd += " REMOVE GSI2PK, GSI2SK"
	}
	cond, flag := flagIs(otherFlag, otherRead)
	items := append([]types.TransactWriteItem{consume, {Update: &types.Update{
		TableName: &st.Table, Key: key(subjectPK(id), skProfile),
		UpdateExpression:         aws.String(upd),
		ConditionExpression:      aws.String("attribute_exists(PK) AND #st <> :erasing AND " + cond),
		ExpressionAttributeNames: map[string]string{"#st": "status"},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":t": &types.AttributeValueMemberBOOL{Value: true}, ":status": s(string(status)), ":flag": flag,
			":erasing": s(string(privacy.StatusErasing)),
		},
	}}}, extra...)
	reasons, err := st.transact(ctx, items)
	switch {
	case err != nil:
		return err
	case failed(reasons, 0):
		return privacy.ErrStale
	case reasons != nil:
		return privacy.ErrChanged
	}
	return nil
}

// PutSession stores a session; it expires by TTL.
func (st *Store) PutSession(ctx context.Context, id privacy.SubjectID, sess privacy.Session) error {
	_, err := st.Client.PutItem(ctx, &ddb.PutItemInput{TableName: &st.Table, Item: marshal(item{
		PK: subjectPK(id), SK: prefixSession + sess.TokenHash, CreatedAt: ts(sess.CreatedAt), ExpiresAt: sess.ExpiresAt.Unix(),
	})})
	if err != nil {
		return fmt.Errorf("put session: %w", err)
	}
	return nil
}

// Session returns a live session, or privacy.ErrStale when it is gone or expired.
func (st *Store) Session(ctx context.Context, id privacy.SubjectID, tokenHash string, now time.Time) (privacy.Session, error) {
	out, err := st.Client.GetItem(ctx, &ddb.GetItemInput{TableName: &st.Table, Key: key(subjectPK(id), prefixSession+tokenHash), ConsistentRead: aws.Bool(true)})
	if err != nil {
		return privacy.Session{}, fmt.Errorf("get session: %w", err)
	}
	var it item
	if out.Item == nil || attributevalue.UnmarshalMap(out.Item, &it) != nil || now.Unix() >= it.ExpiresAt {
		return privacy.Session{}, privacy.ErrStale
	}
	return privacy.Session{TokenHash: tokenHash, CreatedAt: parseTS(it.CreatedAt), ExpiresAt: time.Unix(it.ExpiresAt, 0)}, nil
}

// DeleteSession revokes one session.
func (st *Store) DeleteSession(ctx context.Context, id privacy.SubjectID, tokenHash string) error {
	_, err := st.Client.DeleteItem(ctx, &ddb.DeleteItemInput{TableName: &st.Table, Key: key(subjectPK(id), prefixSession+tokenHash)})
	if err != nil {
		return fmt.Errorf("delete session: %w", err)
	}
	return nil
}

// DeleteSessions revokes every session of a subject.
func (st *Store) DeleteSessions(ctx context.Context, id privacy.SubjectID) error {
	items, err := st.sortKeysBetween(ctx, id, prefixSession, prefixSession+"\uffff")
	if err != nil {
		return err
	}
	var keys []map[string]types.AttributeValue
	for _, it := range items {
		keys = append(keys, key(it.PK, it.SK))
	}
	return st.batchDelete(ctx, keys)
}

func (st *Store) batchDelete(ctx context.Context, keys []map[string]types.AttributeValue) error {
	for len(keys) > 0 {
		chunk := keys[:min(25, len(keys))]
		keys = keys[len(chunk):]
		reqs := make([]types.WriteRequest, len(chunk))
		for i, k := range chunk {
			reqs[i] = types.WriteRequest{DeleteRequest: &types.DeleteRequest{Key: k}}
		}
		pending := map[string][]types.WriteRequest{st.Table: reqs}
		for attempt := 0; len(pending) > 0; attempt++ {
			if attempt > 8 {
				return fmt.Errorf("batch delete: unprocessed items after retries")
			}
			out, err := st.Client.BatchWriteItem(ctx, &ddb.BatchWriteItemInput{RequestItems: pending})
			if err != nil {
				return fmt.Errorf("batch delete: %w", err)
			}
			pending = out.UnprocessedItems
			if len(pending) > 0 {
				backoff(ctx, attempt)
			}
		}
	}
	return nil
}

// Update applies a change to an account: profile fields, a username swap (its look-ups move
// in the same transaction), optional fields, consent entries, a pending e-mail verification,
// and the audit entry.
func (st *Store) Update(ctx context.Context, id privacy.SubjectID, c privacy.AccountChange) error {
	pk := subjectPK(id)
	var sets []string
	names := map[string]string{}
	vals := map[string]types.AttributeValue{}
	set := func(attr, v string) {
		names["#"+attr] = attr
		vals[":"+attr] = s(v)
		sets = append(sets, fmt.Sprintf("#%s = :%s", attr, attr))
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
	var items []types.TransactWriteItem
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
			items = append(items,
				st.claimUsername(c.UsernameKey, id, c.Audit.At),
				types.TransactWriteItem{Delete: &types.Delete{
					TableName: &st.Table, Key: key(usernamePK(c.OldUsernameKey), skLookup),
					ConditionExpression:       aws.String("subjectId = :me"),
					ExpressionAttributeValues: map[string]types.AttributeValue{":me": s(string(id))},
				}},
			)
		}
	}
	upd := &types.Update{TableName: &st.Table, Key: key(pk, skProfile), ConditionExpression: aws.String(profileCond)}
	if len(sets) > 0 {
		upd.UpdateExpression = aws.String("SET " + strings.Join(sets, ", "))
		upd.ExpressionAttributeNames = names
	} else {
		upd.UpdateExpression = aws.String("SET subjectId = subjectId")
	}
	if len(vals) > 0 {
		upd.ExpressionAttributeValues = vals
	}
	items = append(items, types.TransactWriteItem{Update: upd})
	for field, v := range c.SetOptional {
		items = append(items, st.put(optionalItem(id, field, v), ""))
	}
	for _, field := range c.DeleteOptional {
		items = append(items, st.del(pk, prefixOptional+field, ""))
	}
	for i, e := range c.Consents {
		items = append(items, st.put(consentItem(id, e, i), ""))
	}
	if c.Verification != nil {
		items = append(items, st.put(verificationItem(id, *c.Verification), ""))
	}
	items = append(items, st.put(auditItem(id, c.Audit), ""))
	reasons, err := st.transact(ctx, items)
	if err != nil {
		return err
	}
	if reasons != nil {
		if c.Username != nil && c.UsernameKey != c.OldUsernameKey && failed(reasons, 0) {
			return privacy.ErrUsernameTaken
		}
		return privacy.ErrStale
	}
	return nil
}

// ConfirmNewEmail consumes the new-address verification and moves the account and its
// e-mail look-up to the new address, in one transaction.
func (st *Store) ConfirmNewEmail(ctx context.Context, id privacy.SubjectID, v privacy.Verification, oldEmailKey string, audit privacy.AuditEntry) error {
	pk := subjectPK(id)
	items := []types.TransactWriteItem{
		st.put(item{PK: emailPK(v.NewEmailKey), SK: skLookup, SubjectID: string(id)}, "attribute_not_exists(PK)"),
		{Delete: &types.Delete{
			TableName: &st.Table, Key: key(pk, prefixVerify+string(privacy.VerifyNewEmail)),
			ConditionExpression:       aws.String("codeHash = :code AND attempts < :max"),
			ExpressionAttributeValues: map[string]types.AttributeValue{":code": s(v.CodeHash), ":max": n(privacy.MaxCodeAttempts)},
		}},
		st.del(emailPK(oldEmailKey), skLookup, ""),
		{Update: &types.Update{
			TableName: &st.Table, Key: key(pk, skProfile),
			UpdateExpression:          aws.String("SET email = :e, emailKey = :k REMOVE pendingEmail"),
			ConditionExpression:       aws.String("attribute_exists(PK)"),
			ExpressionAttributeValues: map[string]types.AttributeValue{":e": s(v.NewEmail), ":k": s(v.NewEmailKey)},
		}},
		st.put(auditItem(id, audit), ""),
	}
	reasons, err := st.transact(ctx, items)
	if err != nil {
		return err
	}
	switch {
	case failed(reasons, 0):
		return privacy.ErrEmailTaken
	case reasons != nil:
		return privacy.ErrStale
	}
	return nil
}

// DeleteSubject erases a subject: every item of their partition and their look-up items. The
// look-ups go first and the profile (which names them) last, so an erasure cut short can be
// run again and still find everything; it repeats until the partition reads empty, so an item
// written while it ran does not survive it. It returns how many items it deleted.
func (st *Store) DeleteSubject(ctx context.Context, id privacy.SubjectID) (int, error) {
	deleted := 0
	for round := 0; ; round++ {
		items, err := st.partition(ctx, id)
		if err != nil {
			return deleted, err
		}
		if len(items) == 0 {
			return deleted, nil
		}
		if round == 3 {
			return deleted, fmt.Errorf("erase subject: items keep appearing")
		}
		var lookups, rest []map[string]types.AttributeValue
		var profile map[string]types.AttributeValue
		for _, it := range items {
			switch {
			case it.SK == skProfile:
				profile = key(it.PK, it.SK)
				if it.EmailKey != "" {
					lookups = append(lookups, key(emailPK(it.EmailKey), skLookup))
				}
				if it.UsernameKey != "" {
					lookups = append(lookups, key(usernamePK(it.UsernameKey), skLookup))
				}
			default:
				rest = append(rest, key(it.PK, it.SK))
			}
		}
		keys := append(lookups, rest...)
		if profile != nil {
			keys = append(keys, profile)
		}
		if err := st.batchDelete(ctx, keys); err != nil {
			return deleted, err
		}
		deleted += len(keys)
	}
}

// MarkErasing claims an account that never became active for deletion: it fails with
// privacy.ErrStale if the account is active (or gone) by now, and once it succeeds no
// verification or guardian confirmation can activate the account any more.
func (st *Store) MarkErasing(ctx context.Context, id privacy.SubjectID) error {
	_, err := st.Client.UpdateItem(ctx, &ddb.UpdateItemInput{
		TableName:                &st.Table,
		Key:                      key(subjectPK(id), skProfile),
		UpdateExpression:         aws.String("SET #st = :erasing"),
		ConditionExpression:      aws.String("attribute_exists(PK) AND #st <> :active"),
		ExpressionAttributeNames: map[string]string{"#st": "status"},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":erasing": s(string(privacy.StatusErasing)), ":active": s(string(privacy.StatusActive)),
		},
	})
	var ccf *types.ConditionalCheckFailedException
	if errors.As(err, &ccf) {
		return privacy.ErrStale
	}
	if err != nil {
		return fmt.Errorf("mark erasing: %w", err)
	}
	return nil
}

// DueForSweep returns subjects whose account had to become active by now and has not.
func (st *Store) DueForSweep(ctx context.Context, now time.Time, limit int32) ([]privacy.SubjectID, error) {
	out, err := st.Client.Query(ctx, &ddb.QueryInput{
		TableName:              &st.Table,
		IndexName:              aws.String("GSI2"),
		KeyConditionExpression: aws.String("GSI2PK = :p AND GSI2SK <= :now"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":p": s(sweepPartition), ":now": s(ts(now) + "#~"),
		},
		Limit: aws.Int32(limit),
	})
	if err != nil {
		return nil, fmt.Errorf("query sweep index: %w", err)
	}
	var ids []privacy.SubjectID
	for _, m := range out.Items {
		var it item
		if err := attributevalue.UnmarshalMap(m, &it); err != nil {
			return nil, err
		}
		if _, sid, ok := strings.Cut(it.GSI2SK, "#"); ok {
			ids = append(ids, privacy.SubjectID(sid))
		}
	}
	return ids, nil
}

// Hit counts one attempt against a fixed-window limit and reports whether it is allowed, and
// if not, how long until the window ends. Counters expire with their window.
func (st *Store) Hit(ctx context.Context, bucket string, limit int, window time.Duration, now time.Time) (bool, time.Duration, error) {
	start := now.Truncate(window)
	end := start.Add(window)
	_, err := st.Client.UpdateItem(ctx, &ddb.UpdateItemInput{
		TableName:           &st.Table,
		Key:                 key("RATE#"+bucket, strconv.FormatInt(start.Unix(), 10)),
		UpdateExpression:    aws.String("ADD attempts :one SET expiresAt = :exp"),
		ConditionExpression: aws.String("attribute_not_exists(attempts) OR attempts < :limit"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":one": n(1), ":exp": n(end.Add(time.Minute).Unix()), ":limit": n(int64(limit)),
		},
	})
	if err != nil {
		var ccf *types.ConditionalCheckFailedException
		if errors.As(err, &ccf) {
			return false, end.Sub(now), nil
		}
		return false, 0, fmt.Errorf("rate limit: %w", err)
	}
	return true, 0, nil
}
