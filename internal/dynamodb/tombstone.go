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

// Erasure's items: the tombstone, outside every subject's partition, since it outlives it.
const (
	tombstonePrefix = "TOMBSTONE#"
	tombstoneSK     = "TOMBSTONE"
	// tombstones is the GSI2 partition of every tombstone, by erasure time: what a restore
	// re-applies (docs/erasure.md). It holds request IDs and times, nothing about anyone.
	tombstones = "TOMBSTONES"
	gsi2       = "GSI2"
	// tombstoneNotices is the GSI1 partition of the tombstones that still hold their outcome
	// mail's notice (an address), by start time: what ForgetStaleNotices looks through.
	tombstoneNotices = "TOMBSTONES#NOTICE"
)

// TombstonePK is the partition key of a request's tombstone.
func TombstonePK(request string) string { return tombstonePrefix + request }

type noticeItem struct {
	Email       string   `dynamodbav:"email"`
	Locale      string   `dynamodbav:"locale"`
	StatusPath  string   `dynamodbav:"statusPath,omitempty"`
	RequestID   string   `dynamodbav:"requestId,omitempty"`
	EmailKey    string   `dynamodbav:"emailKey,omitempty"`
	UsernameKey string   `dynamodbav:"usernameKey,omitempty"`
	Independent []string `dynamodbav:"independent,omitempty"`
}

type tombstoneItem struct {
	PK             string         `dynamodbav:"PK"`
	SK             string         `dynamodbav:"SK"`
	GSI1PK         string         `dynamodbav:"GSI1PK,omitempty"`
	GSI1SK         string         `dynamodbav:"GSI1SK,omitempty"`
	GSI2PK         string         `dynamodbav:"GSI2PK,omitempty"`
	GSI2SK         string         `dynamodbav:"GSI2SK,omitempty"`
	Request        string         `dynamodbav:"request"`
	Type           string         `dynamodbav:"type"`
	Ground         string         `dynamodbav:"ground,omitempty"`
	SubjectHash    string         `dynamodbav:"subjectHash"`
	Received       string         `dynamodbav:"received"`
	Due            string         `dynamodbav:"due"`
	Started        string         `dynamodbav:"started"`
	Erased         string         `dynamodbav:"erased,omitempty"`
	State          string         `dynamodbav:"state"`
	Items          map[string]int `dynamodbav:"items,omitempty"`
	Lookups        int            `dynamodbav:"lookups"`
	Objects        int            `dynamodbav:"objects"`
	RecipientsTold []string       `dynamodbav:"recipientsTold,omitempty"`
	Verified       bool           `dynamodbav:"verified"`
	Found          []string       `dynamodbav:"found,omitempty"`
	Notice         *noticeItem    `dynamodbav:"notice,omitempty"`
	ExpiresAt      int64          `dynamodbav:"expiresAt,omitempty"`
}

func newTombstoneItem(t privacy.Tombstone) tombstoneItem {
	it := tombstoneItem{
		PK: TombstonePK(t.Request), SK: tombstoneSK, GSI2PK: tombstones, GSI2SK: ts(t.Started) + "#" + t.Request,
		Request: t.Request, Type: string(t.Type), Ground: string(t.Ground), SubjectHash: t.SubjectHash,
		Received: ts(t.Received), Due: ts(t.Due), Started: ts(t.Started), State: string(t.State),
		Items: t.Items, Lookups: t.Lookups, Objects: t.Objects, RecipientsTold: t.RecipientsTold,
		Verified: t.Verified, Found: t.Found,
	}
	if !t.Erased.IsZero() {
		it.Erased = ts(t.Erased)
	}
	if !t.ExpiresAt.IsZero() {
		it.ExpiresAt = t.ExpiresAt.Unix()
	}
	if n := t.Notice; n != nil {
		it.GSI1PK, it.GSI1SK = tombstoneNotices, ts(t.Started)+"#"+t.Request
		it.Notice = &noticeItem{Email: n.Email, Locale: n.Locale, StatusPath: n.StatusPath, RequestID: n.RequestID, EmailKey: n.EmailKey, UsernameKey: n.UsernameKey, Independent: n.Independent}
	}
	return it
}

func (it tombstoneItem) tombstone() privacy.Tombstone {
	t := privacy.Tombstone{
		Request: it.Request, Type: privacy.RequestType(it.Type), Ground: privacy.DeletionGround(it.Ground), SubjectHash: it.SubjectHash,
		Received: parseTS(it.Received), Due: parseTS(it.Due), Started: parseTS(it.Started), State: privacy.ErasureState(it.State),
		Items: it.Items, Lookups: it.Lookups, Objects: it.Objects, RecipientsTold: it.RecipientsTold,
		Verified: it.Verified, Found: it.Found,
	}
	if it.Erased != "" {
		t.Erased = parseTS(it.Erased)
	}
	if it.ExpiresAt != 0 {
		t.ExpiresAt = time.Unix(it.ExpiresAt, 0).UTC()
	}
	if n := it.Notice; n != nil {
		t.Notice = &privacy.ErasureNotice{Email: n.Email, Locale: n.Locale, StatusPath: n.StatusPath, RequestID: n.RequestID, EmailKey: n.EmailKey, UsernameKey: n.UsernameKey, Independent: n.Independent}
	}
	return t
}

var errNoTombstone = privacy.Errorf(privacy.NotFound, "no such tombstone")

// Tombstone reads a request's tombstone (privacy.NotFound when there is none). A tombstone past
// its expiresAt is gone, as TTL will make it.
func (st *Store) Tombstone(ctx context.Context, request string) (privacy.Tombstone, error) {
	var it tombstoneItem
	found, err := st.get(ctx, TombstonePK(request), tombstoneSK, &it)
	if err != nil {
		return privacy.Tombstone{}, err
	}
	if !found || expired(it.ExpiresAt, time.Now()) {
		return privacy.Tombstone{}, errNoTombstone
	}
	return it.tombstone(), nil
}

// PutTombstone writes a new tombstone: privacy.ErrStale if the request has one already.
func (st *Store) PutTombstone(ctx context.Context, t privacy.Tombstone) error {
	return st.putNew(ctx, newTombstoneItem(t), "tombstone")
}

// SaveTombstone writes a tombstone over the one the request has (privacy.NotFound if none:
// one erasure job writes it, and only after PutTombstone).
func (st *Store) SaveTombstone(ctx context.Context, t privacy.Tombstone) error {
	_, err := st.Client.PutItem(ctx, &ddb.PutItemInput{
		TableName: &st.Table, Item: marshal(newTombstoneItem(t)), ConditionExpression: aws.String("attribute_exists(PK)"),
	})
	if isConditionFailed(err) {
		return errNoTombstone
	}
	if err != nil {
		return fmt.Errorf("save tombstone: %w", err)
	}
	return nil
}

// ForgetNotice removes the outcome mail's notice from a tombstone once the mail is sent:
// privacy.ErrStale if it has none (it went already).
func (st *Store) ForgetNotice(ctx context.Context, request string) error {
	_, err := st.Client.UpdateItem(ctx, &ddb.UpdateItemInput{
		TableName: &st.Table, Key: key(TombstonePK(request), tombstoneSK),
		UpdateExpression: aws.String("REMOVE notice, GSI1PK, GSI1SK"), ConditionExpression: aws.String("attribute_exists(notice)"),
	})
	if isConditionFailed(err) {
		return privacy.ErrStale
	}
	if err != nil {
		return fmt.Errorf("forget notice: %w", err)
	}
	return nil
}

// NoticesBefore lists the requests whose tombstones still hold their outcome mail's notice and
// whose erasure started before a time: one Query of GSI1 (keys only).
func (st *Store) NoticesBefore(ctx context.Context, before time.Time) ([]string, error) {
	var out []string
	in := &ddb.QueryInput{
		TableName: &st.Table, IndexName: aws.String(gsi1), KeyConditionExpression: aws.String("GSI1PK = :n AND GSI1SK < :before"),
		ExpressionAttributeValues: Item{":n": s(tombstoneNotices), ":before": s(ts(before))},
	}
	for {
		res, err := st.Client.Query(ctx, in)
		if err != nil {
			return nil, fmt.Errorf("query tombstone notices: %w", err)
		}
		for _, it := range res.Items {
			out = append(out, SuffixOf(attr(it, "PK")))
		}
		if res.LastEvaluatedKey == nil {
			return out, nil
		}
		in.ExclusiveStartKey = res.LastEvaluatedKey
	}
}

// Tombstones lists every tombstone's request ID and subject hash, oldest first: what a restore
// re-applies. It reads the GSI2 partition (keys only), then each tombstone.
func (st *Store) Tombstones(ctx context.Context) ([]privacy.Tombstone, error) {
	var out []privacy.Tombstone
	var start Item
	for {
		res, err := st.Client.Query(ctx, &ddb.QueryInput{
			TableName: &st.Table, IndexName: aws.String(gsi2), KeyConditionExpression: aws.String("GSI2PK = :t"),
			ExpressionAttributeValues: Item{":t": s(tombstones)}, ExclusiveStartKey: start,
		})
		if err != nil {
			return nil, fmt.Errorf("query tombstones: %w", err)
		}
		for _, it := range res.Items {
			t, err := st.Tombstone(ctx, SuffixOf(attr(it, "PK")))
			if privacy.ErrorCode(err) == privacy.NotFound {
				continue
			}
			if err != nil {
				return nil, err
			}
			out = append(out, t)
		}
		if res.LastEvaluatedKey == nil {
			return out, nil
		}
		start = res.LastEvaluatedKey
	}
}

// CloseAccount stops an account at once, before its erasure: it can no longer be signed in to,
// verified or activated (status erasing; out of the sweep index and the active accounts', so
// no notice to everyone is planned for it), and every session is revoked.
// privacy.NotFound if there is no account.
func (st *Store) CloseAccount(ctx context.Context, id privacy.SubjectID) error {
	_, err := st.Client.UpdateItem(ctx, &ddb.UpdateItemInput{
		TableName: &st.Table, Key: key(SubjectPK(id), string(KindProfile)),
		UpdateExpression:          aws.String("SET #st = :erasing REMOVE GSI2PK, GSI2SK"),
		ConditionExpression:       aws.String("attribute_exists(PK)"),
		ExpressionAttributeNames:  map[string]string{"#st": "status"},
		ExpressionAttributeValues: Item{":erasing": s(string(privacy.StatusErasing))},
	})
	if isConditionFailed(err) {
		return errNoAccount
	}
	if err != nil {
		return fmt.Errorf("close account: %w", err)
	}
	return st.DeleteSessions(ctx, id, "")
}

// CountItems counts a subject's items by kind: one Query of the keys, paged.
func (st *Store) CountItems(ctx context.Context, id privacy.SubjectID) (map[string]int, error) {
	counts := map[string]int{}
	err := st.keyPages(ctx, id, 0, func(keys []Item) error {
		for _, k := range keys {
			counts[string(KindOf(attr(k, "SK")))]++
		}
		return nil
	})
	return counts, err
}

// keyPages calls fn with each page of a subject's keys (PK and SK only), in sort-key order;
// limit bounds a page (0: DynamoDB's 1 MB).
func (st *Store) keyPages(ctx context.Context, id privacy.SubjectID, limit int32, fn func([]Item) error) error {
	in := &ddb.QueryInput{
		TableName: &st.Table, KeyConditionExpression: aws.String("PK = :pk"), ProjectionExpression: aws.String("PK, SK"),
		ExpressionAttributeValues: Item{":pk": s(SubjectPK(id))}, ConsistentRead: aws.Bool(true),
	}
	if limit > 0 {
		in.Limit = aws.Int32(limit)
	}
	for {
		out, err := st.Client.Query(ctx, in)
		if err != nil {
			return fmt.Errorf("query subject keys: %w", err)
		}
		if len(out.Items) > 0 {
			if err := fn(out.Items); err != nil {
				return err
			}
		}
		if out.LastEvaluatedKey == nil {
			return nil
		}
		in.ExclusiveStartKey = out.LastEvaluatedKey
	}
}

// EraseSubject deletes every item of a subject's partition and the look-up items that still
// name them (emailKey's address and pending registration, usernameKey's username: an address
// another account proved since is not theirs to delete). It reads keys a page at a time and
// deletes each page as it goes, so memory does not grow with the partition; the look-ups go
// first and the profile last, so an erasure cut short and run again still finds everything. It
// repeats until the partition reads empty, so an item written while it ran does not survive
// it. It returns how many partition items and look-ups it deleted.
func (st *Store) EraseSubject(ctx context.Context, id privacy.SubjectID, emailKey, usernameKey string) (items, lookups int, err error) {
	for _, l := range [][2]string{{EmailLookupPK(emailKey), LookupSK}, {EmailLookupPK(emailKey), PendingSK}, {UsernameLookupPK(usernameKey), LookupSK}} {
		if l[0] == EmailLookupPK("") || l[0] == UsernameLookupPK("") {
			continue
		}
		deleted, err := st.deleteLookupOf(ctx, l[0], l[1], id)
		if err != nil {
			return items, lookups, err
		}
		if deleted {
			lookups++
		}
	}
	dropped, err := st.dropOpenDeliveries(ctx, id)
	if err != nil {
		return items, lookups, err
	}
	items += dropped
	for round := 0; ; round++ {
		if round == 3 {
			return items, lookups, fmt.Errorf("erase subject: items keep appearing")
		}
		var profile Item
		err := st.keyPages(ctx, id, 0, func(keys []Item) error {
			batch := keys[:0:0]
			for _, k := range keys {
				if KindOf(attr(k, "SK")) == KindProfile {
					profile = k
					continue
				}
				batch = append(batch, k)
			}
			items += len(batch)
			return st.batchDelete(ctx, batch)
		})
		if err != nil {
			return items, lookups, err
		}
		if profile != nil {
			if err := st.batchDelete(ctx, []Item{profile}); err != nil {
				return items, lookups, err
			}
			items++
		}
		switch empty, err := st.partitionEmpty(ctx, id); {
		case err != nil:
			return items, lookups, err
		case empty:
			return items, lookups, nil
		}
	}
}

// deleteLookupOf deletes a look-up item if it names the subject, and reports whether it did.
func (st *Store) deleteLookupOf(ctx context.Context, pk, sk string, id privacy.SubjectID) (bool, error) {
	_, err := st.Client.DeleteItem(ctx, &ddb.DeleteItemInput{
		TableName: &st.Table, Key: key(pk, sk),
		ConditionExpression:       aws.String("subjectId = :id"),
		ExpressionAttributeValues: Item{":id": s(string(id))},
	})
	if isConditionFailed(err) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("delete look-up: %w", err)
	}
	return true, nil
}

func (st *Store) partitionEmpty(ctx context.Context, id privacy.SubjectID) (bool, error) {
	out, err := st.Client.Query(ctx, &ddb.QueryInput{
		TableName: &st.Table, KeyConditionExpression: aws.String("PK = :pk"), ProjectionExpression: aws.String("PK, SK"),
		ExpressionAttributeValues: Item{":pk": s(SubjectPK(id))}, ConsistentRead: aws.Bool(true), Limit: aws.Int32(1),
	})
	if err != nil {
		return false, fmt.Errorf("query subject keys: %w", err)
	}
	return len(out.Items) == 0, nil
}

// Remains searches every place the table keeps something about a subject, after its erasure,
// and names the ones that still hold something: the partition, the look-ups of its address and
// username (those that name the subject), and the indexes' partitions that carry subject keys
// (the operator's queue of open requests, the sweep of pending accounts, the active accounts).
// The indexes are eventually consistent in DynamoDB: a caller that finds something only there
// looks again a moment later.
func (st *Store) Remains(ctx context.Context, id privacy.SubjectID, emailKey, usernameKey string) ([]string, error) {
	var found []string
	empty, err := st.partitionEmpty(ctx, id)
	if err != nil {
		return nil, err
	}
	if !empty {
		found = append(found, "partition")
	}
	for _, l := range [][3]string{
		{"email look-up", EmailLookupPK(emailKey), LookupSK}, {"pending registration", EmailLookupPK(emailKey), PendingSK},
		{"username look-up", UsernameLookupPK(usernameKey), LookupSK},
	} {
		if l[1] == EmailLookupPK("") || l[1] == UsernameLookupPK("") {
			continue
		}
		var it lookupItem
		ok, err := st.get(ctx, l[1], l[2], &it)
		if err != nil {
			return nil, err
		}
		if ok && it.SubjectID == string(id) {
			found = append(found, l[0])
		}
	}
	for _, ix := range []struct{ name, index, pkAttr, pk, sk string }{
		{"open-requests index", gsi1, "GSI1PK", openRequests, ""},
		{"sweep index", gsi2, "GSI2PK", sweepPartition, ""},
		// Keyed by the subject's ID: one entry to read, not the whole partition.
		{"accounts index", gsi2, "GSI2PK", accountsPartition, string(id)},
	} {
		n, err := st.indexHolds(ctx, ix.index, ix.pkAttr, ix.pk, ix.sk, id)
		if err != nil {
			return nil, err
		}
		if n > 0 {
			found = append(found, ix.name)
		}
	}
	return found, nil
}

// indexHolds counts the entries of one index partition (only those with sort key sk, unless it
// is "") whose item is in the subject's partition.
func (st *Store) indexHolds(ctx context.Context, index, pkAttr, pk, sk string, id privacy.SubjectID) (int, error) {
	n := 0
	in := &ddb.QueryInput{
		TableName: &st.Table, IndexName: aws.String(index), KeyConditionExpression: aws.String(pkAttr + " = :p"),
		FilterExpression:          aws.String("PK = :subject"),
		ExpressionAttributeValues: Item{":p": s(pk), ":subject": s(SubjectPK(id))},
		Select:                    types.SelectCount,
	}
	if sk != "" {
		skAttr := strings.TrimSuffix(pkAttr, "PK") + "SK"
		in.KeyConditionExpression = aws.String(pkAttr + " = :p AND " + skAttr + " = :sk")
		in.ExpressionAttributeValues[":sk"] = s(sk)
	}
	for {
		out, err := st.Client.Query(ctx, in)
		if err != nil {
			return 0, fmt.Errorf("query %s: %w", index, err)
		}
		n += int(out.Count)
		if out.LastEvaluatedKey == nil {
			return n, nil
		}
		in.ExclusiveStartKey = out.LastEvaluatedKey
	}
}

// AuditTrail reads a subject's audit entries, oldest first.
func (st *Store) AuditTrail(ctx context.Context, id privacy.SubjectID) ([]privacy.AuditEntry, error) {
	items, err := st.ofKind(ctx, id, KindAudit)
	if err != nil {
		return nil, err
	}
	out := make([]privacy.AuditEntry, 0, len(items))
	for _, it := range items {
		var a auditItem
		if err := attributevalue.UnmarshalMap(it, &a); err != nil {
			return nil, fmt.Errorf("decode audit: %w", err)
		}
		out = append(out, a.entry())
	}
	return out, nil
}
