package dynamodb

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	ddb "github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/privacyportal/portal/internal/privacy"
)

// Item is one item as DynamoDB returns it.
type Item = map[string]types.AttributeValue

// Kind is the kind of an item in a subject's partition: its sort key up to the first '#'.
type Kind string

// The kinds of items in a subject's partition. A kind with several items per subject has a
// sort key <KIND>#<suffix>; the others have just <KIND>.
const (
	KindProfile      Kind = "PROFILE"
	KindCredential   Kind = "CREDENTIAL"
	KindGuardian     Kind = "GUARDIAN"
	KindOptional     Kind = "OPTIONAL"
	KindConsent      Kind = "CONSENT"
	KindVerification Kind = "VERIFY"
	KindSession      Kind = "SESSION"
	KindAudit        Kind = "AUDIT"
	// KindUsedLink records a used one-time link of a mail (USEDLINK#unsubscribe#<delivery>).
	KindUsedLink Kind = "USEDLINK"
	// KindDelivery is one campaign's mail to the subject (DELIVERY#<campaign>): its state,
	// so that no one gets a campaign twice (notices.go).
	KindDelivery Kind = "DELIVERY"
)

// KindOf is the kind of the item with sort key sk.
func KindOf(sk string) Kind {
	k, _, _ := strings.Cut(sk, "#")
	return Kind(k)
}

// Partition and sort keys.
const (
	subjectPrefix = "SUBJECT#"
	// LookupSK is the sort key of every look-up item.
	LookupSK = "LOOKUP"
	// sweepPartition holds, in GSI2, every account that must become active by a deadline.
	sweepPartition = "SWEEP"
	// accountsPartition holds, in GSI2, every active account (GSI2SK: its subject ID): whom a
	// notice to everyone goes to. One index partition holds them all, which is fine for a few
	// million accounts; beyond that it is a hot partition, and its key should be sharded
	// (ACCOUNTS#<n>, read in parallel).
	accountsPartition = "ACCOUNTS"
)

// SubjectPK is the partition key of everything about a subject.
func SubjectPK(id privacy.SubjectID) string { return subjectPrefix + string(id) }

// EmailLookupPK is the partition key of the look-up item of an e-mail key.
func EmailLookupPK(emailKey string) string { return "EMAIL#" + emailKey }

// UsernameLookupPK is the partition key of the look-up item of a username key.
func UsernameLookupPK(usernameKey string) string { return "USERNAME#" + usernameKey }

// SortKey is the sort key of the item of a kind with the given suffix ("" for the kinds with
// one item per subject).
func SortKey(k Kind, suffix string) string {
	if suffix == "" {
		return string(k)
	}
	return string(k) + "#" + suffix
}

// prefix is the first sort key of a kind with several items: "<KIND>#".
func prefix(k Kind) string { return string(k) + "#" }

// timestampLayout is RFC 3339 in UTC with nanoseconds always written out: fixed width, so that
// sort keys built from times sort by time (RFC3339Nano drops trailing zeros, which puts
// "…:05Z" after "…:05.5Z").
const timestampLayout = "2006-01-02T15:04:05.000000000Z"

// Timestamp is how the table writes a time, in attributes and in sort keys.
func Timestamp(t time.Time) string { return t.UTC().Format(timestampLayout) }

func ts(t time.Time) string { return Timestamp(t) }

func parseTS(s string) time.Time {
	t, _ := time.Parse(time.RFC3339Nano, s)
	return t
}

func key(pk, sk string) Item {
	return Item{"PK": s(pk), "SK": s(sk)}
}

func s(v string) types.AttributeValue { return &types.AttributeValueMemberS{Value: v} }
func n(v int64) types.AttributeValue {
	return &types.AttributeValueMemberN{Value: strconv.FormatInt(v, 10)}
}
func boolean(v bool) types.AttributeValue { return &types.AttributeValueMemberBOOL{Value: v} }

// marshal turns an item struct into attributes. The structs have only plain fields, so it
// cannot fail.
func marshal(v any) Item {
	m, err := attributevalue.MarshalMap(v)
	if err != nil {
		panic(err)
	}
	return m
}

// expired reports whether an item with the expiresAt attribute given is past it: TTL deletion
// is lazy in DynamoDB and absent in DynamoDB Local, so readers treat such items as gone.
func expired(expiresAt int64, now time.Time) bool {
	return expiresAt != 0 && now.Unix() >= expiresAt
}

// get reads one item by key with a consistent read; out is nil-safe: found reports whether it
// exists.
func (st *Store) get(ctx context.Context, pk, sk string, out any) (found bool, err error) {
	res, err := st.Client.GetItem(ctx, &ddb.GetItemInput{TableName: &st.Table, Key: key(pk, sk), ConsistentRead: aws.Bool(true)})
	if err != nil {
		return false, fmt.Errorf("get %s: %w", KindOf(sk), err)
	}
	if res.Item == nil {
		return false, nil
	}
	if err := attributevalue.UnmarshalMap(res.Item, out); err != nil {
		return false, fmt.Errorf("decode %s: %w", KindOf(sk), err)
	}
	return true, nil
}

// between reads the items of a subject whose sort keys lie between from and to, inclusive.
func (st *Store) between(ctx context.Context, id privacy.SubjectID, from, to string) ([]Item, error) {
	return st.query(ctx, "PK = :pk AND SK BETWEEN :from AND :to", Item{":pk": s(SubjectPK(id)), ":from": s(from), ":to": s(to)})
}

// ofKind reads the items of one kind with several items per subject.
func (st *Store) ofKind(ctx context.Context, id privacy.SubjectID, k Kind) ([]Item, error) {
	return st.query(ctx, "PK = :pk AND begins_with(SK, :kind)", Item{":pk": s(SubjectPK(id)), ":kind": s(prefix(k))})
}

// Partition reads every item of a subject: one Query, paged. Only what must see everything
// (the account page, erasure) reads it.
func (st *Store) Partition(ctx context.Context, id privacy.SubjectID) ([]Item, error) {
	return st.query(ctx, "PK = :pk", Item{":pk": s(SubjectPK(id))})
}

func (st *Store) query(ctx context.Context, cond string, vals Item) ([]Item, error) {
	var items []Item
	var start Item
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
		items = append(items, out.Items...)
		if out.LastEvaluatedKey == nil {
			return items, nil
		}
		start = out.LastEvaluatedKey
	}
}

// txn is a transaction being built. Each conditional item carries the error its failed
// condition means; commit reports the first failed item's, in the order the items were added,
// so the order is the priority (a taken username is reported before a taken address).
type txn struct {
	table  string
	items  []types.TransactWriteItem
	onFail []error
}

func (st *Store) txn() *txn { return &txn{table: st.Table} }

func (t *txn) add(w types.TransactWriteItem, onFail error) {
	t.items = append(t.items, w)
	t.onFail = append(t.onFail, onFail)
}

// put adds an unconditional put.
func (t *txn) put(item any) {
	t.add(types.TransactWriteItem{Put: &types.Put{TableName: &t.table, Item: marshal(item)}}, nil)
}

// putIf adds a put that must meet cond.
func (t *txn) putIf(item any, cond string, vals Item, onFail error) {
	p := &types.Put{TableName: &t.table, Item: marshal(item), ConditionExpression: &cond}
	if len(vals) > 0 {
		p.ExpressionAttributeValues = vals
	}
	t.add(types.TransactWriteItem{Put: p}, onFail)
}

// del adds a delete, conditional when cond is set.
func (t *txn) del(pk, sk, cond string, vals Item, onFail error) {
	d := &types.Delete{TableName: &t.table, Key: key(pk, sk)}
	if cond != "" {
		d.ConditionExpression = &cond
	}
	if len(vals) > 0 {
		d.ExpressionAttributeValues = vals
	}
	t.add(types.TransactWriteItem{Delete: d}, onFail)
}

// update adds an update.
func (t *txn) update(u *types.Update, onFail error) {
	u.TableName = &t.table
	t.add(types.TransactWriteItem{Update: u}, onFail)
}

var errUnexpectedCondition = errors.New("a transaction's unconditional item failed a condition")

// commit runs the transaction, retrying conflicts with other transactions on the same items
// (which DynamoDB reports as a cancellation) a few times.
func (st *Store) commit(ctx context.Context, t *txn) error {
	var last error
	for attempt := range 6 {
		_, err := st.Client.TransactWriteItems(ctx, &ddb.TransactWriteItemsInput{TransactItems: t.items})
		if err == nil {
			return nil
		}
		var tce *types.TransactionCanceledException
		if !errors.As(err, &tce) {
			var conflict *types.TransactionConflictException
			if errors.As(err, &conflict) {
				last = err
				backoff(ctx, attempt)
				continue
			}
			return fmt.Errorf("transact write: %w", err)
		}
		retry := false
		for i, r := range tce.CancellationReasons {
			switch aws.ToString(r.Code) {
			case "ConditionalCheckFailed":
				if i < len(t.onFail) && t.onFail[i] != nil {
					return t.onFail[i]
				}
				return errUnexpectedCondition
			case "TransactionConflict", "ThrottlingError", "ProvisionedThroughputExceeded":
				retry = true
			}
		}
		if !retry {
			return fmt.Errorf("transact write: %w", err)
		}
		last = err
		backoff(ctx, attempt)
	}
	return fmt.Errorf("transact write: still conflicting after retries: %w", last)
}

func backoff(ctx context.Context, attempt int) {
	d := time.Duration(10<<attempt) * time.Millisecond
	d += time.Duration(time.Now().UnixNano() % int64(d)) // jitter
	select {
	case <-ctx.Done():
	case <-time.After(d):
	}
}

// isConditionFailed reports a single-item write's failed condition.
func isConditionFailed(err error) bool {
	var ccf *types.ConditionalCheckFailedException
	return errors.As(err, &ccf)
}

func (st *Store) batchDelete(ctx context.Context, keys []Item) error {
	for chunk := range slices.Chunk(keys, 25) {
		reqs := make([]types.WriteRequest, len(chunk))
		for i, k := range chunk {
			reqs[i] = types.WriteRequest{DeleteRequest: &types.DeleteRequest{Key: k}}
		}
		pending := map[string][]types.WriteRequest{st.Table: reqs}
		err := untilProcessed(ctx, "batch delete", func() (bool, error) {
			out, err := st.Client.BatchWriteItem(ctx, &ddb.BatchWriteItemInput{RequestItems: pending})
			if err != nil {
				return false, err
			}
			pending = out.UnprocessedItems
			return len(pending) > 0, nil
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// untilProcessed makes a batch call again, with backoff, while it leaves items unprocessed
// (DynamoDB's answer to throttling), nine calls at most; what names it in an error.
func untilProcessed(ctx context.Context, what string, call func() (left bool, err error)) error {
	for attempt := 0; ; attempt++ {
		left, err := call()
		switch {
		case err != nil:
			return fmt.Errorf("%s: %w", what, err)
		case !left:
			return nil
		case attempt >= 8:
			return fmt.Errorf("%s: unprocessed items after retries", what)
		}
		backoff(ctx, attempt)
	}
}

// putNew writes an item that must not exist yet: privacy.ErrStale if its key is taken. what
// names it in an error.
func (st *Store) putNew(ctx context.Context, item any, what string) error {
	_, err := st.Client.PutItem(ctx, &ddb.PutItemInput{
		TableName: &st.Table, Item: marshal(item), ConditionExpression: aws.String("attribute_not_exists(PK)"),
	})
	if isConditionFailed(err) {
		return privacy.ErrStale
	}
	if err != nil {
		return fmt.Errorf("put %s: %w", what, err)
	}
	return nil
}

// batchGet reads items by key, consistently, 100 to a call (BatchGetItem's most), and calls
// found with each one that exists, in no particular order. Keys DynamoDB leaves unprocessed
// (throttling) are asked again, with backoff.
func (st *Store) batchGet(ctx context.Context, keys []Item, found func(Item) error) error {
	for chunk := range slices.Chunk(keys, 100) {
		pending := map[string]types.KeysAndAttributes{st.Table: {Keys: chunk, ConsistentRead: aws.Bool(true)}}
		var items []Item
		err := untilProcessed(ctx, "batch get", func() (bool, error) {
			out, err := st.Client.BatchGetItem(ctx, &ddb.BatchGetItemInput{RequestItems: pending})
			if err != nil {
				return false, err
			}
			items = append(items, out.Responses[st.Table]...)
			pending = out.UnprocessedKeys
			return len(pending) > 0, nil
		})
		if err != nil {
			return err
		}
		for _, it := range items {
			if err := found(it); err != nil {
				return err
			}
		}
	}
	return nil
}

// attr returns a string attribute of an item, "" if absent.
func attr(it Item, name string) string {
	if v, ok := it[name].(*types.AttributeValueMemberS); ok {
		return v.Value
	}
	return ""
}

func unixTime(sec int64) time.Time { return time.Unix(sec, 0) }

// cutKind splits a sort key into its kind and suffix.
func cutKind(sk string) (Kind, string, bool) {
	k, suffix, ok := strings.Cut(sk, "#")
	return Kind(k), suffix, ok
}

// SuffixOf is what follows the kind in a sort key ("mobile" in OPTIONAL#mobile).
func SuffixOf(sk string) string {
	_, suffix, _ := cutKind(sk)
	return suffix
}
