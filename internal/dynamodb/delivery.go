package dynamodb

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	ddb "github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"golang.org/x/sync/errgroup"

	"github.com/privacyportal/portal/internal/notices"
	"github.com/privacyportal/portal/internal/privacy"
)

// deliveryItem is one campaign's mail to the subject, in their partition (so erasure takes it
// with the rest): pending until a sender claims it (sending, with the claiming sender's run
// as owner), then ended. An ended delivery expires the store's Retention.Audit after it
// ended, like the account history; one still to be sent never does.
type deliveryItem struct {
	PK       string `dynamodbav:"PK"`
	SK       string `dynamodbav:"SK"`
	Campaign string `dynamodbav:"campaign"`
	State    string `dynamodbav:"state"`
	// Owner is the sender's run that claimed it, and Claimed when (Unix milliseconds), while
	// sending.
	Owner     string `dynamodbav:"owner,omitempty"`
	Claimed   int64  `dynamodbav:"claimed,omitempty"`
	Created   string `dynamodbav:"created"`
	Ended     string `dynamodbav:"ended,omitempty"`
	ExpiresAt int64  `dynamodbav:"expiresAt,omitempty"`
}

func newDeliveryItem(id privacy.SubjectID, campaign string, now time.Time) deliveryItem {
	return deliveryItem{
		PK: SubjectPK(id), SK: SortKey(KindDelivery, campaign), Campaign: campaign,
		State: string(notices.DeliveryPending), Created: ts(now),
	}
}

func deliveryKey(id privacy.SubjectID, campaign string) Item {
	return key(SubjectPK(id), SortKey(KindDelivery, campaign))
}

// deliveryWriters is how many transactions PutDeliveries runs at once.
const deliveryWriters = 2

// deliveriesPerTxn is how many deliveries one transaction writes: each with the check that its
// recipient's account is live, two of DynamoDB's 100 actions a transaction. A campaign to
// 100,000 people so plans in 2,000 transactions rather than 100,000.
const deliveriesPerTxn = 50

// PutDeliveries writes a pending delivery of a campaign for each subject whose account is live
// (there, and not being erased) and who has none yet, and returns how many of ids (each
// counted once) have one now: written by this call or by an earlier one, so a page planned
// again counts the same. Each is written only together with the check that the account is
// live, so none lands in the partition of someone erased meanwhile; a subject whose account is
// not live and who has no delivery is skipped, and not counted.
//
// Deliveries go deliveriesPerTxn to a transaction. When one of its conditions fails (a page
// planned again, an account closed since it was listed) the transaction writes nothing, and
// its deliveries are written again one transaction each, which tells them apart.
func (st *Store) PutDeliveries(ctx context.Context, campaign string, ids []privacy.SubjectID) (int, error) {
	now := time.Now()
	var have atomic.Int64
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(deliveryWriters)
	seen := make(map[privacy.SubjectID]bool, len(ids))
	unique := make([]privacy.SubjectID, 0, len(ids))
	for _, id := range ids {
		if !seen[id] {
			seen[id] = true
			unique = append(unique, id)
		}
	}
	for chunk := range slices.Chunk(unique, deliveriesPerTxn) {
		g.Go(func() error {
			t := st.txn()
			for _, id := range chunk {
				putDelivery(t, id, campaign, now)
			}
			switch err := st.commit(gctx, t); {
			case err == nil:
				have.Add(int64(len(chunk)))
				return nil
			case len(chunk) > 1 && (errors.Is(err, privacy.ErrStale) || privacy.ErrorCode(err) == privacy.NotFound):
				// One by one, to tell which failed.
				for _, id := range chunk {
					n, err := st.PutDeliveries(gctx, campaign, []privacy.SubjectID{id})
					if err != nil {
						return err
					}
					have.Add(int64(n))
				}
				return nil
			case errors.Is(err, privacy.ErrStale):
				have.Add(1) // it has one already
			case privacy.ErrorCode(err) == privacy.NotFound:
				// Not live: no delivery.
			default:
				return fmt.Errorf("put delivery: %w", err)
			}
			return nil
		})
	}
	err := g.Wait()
	return int(have.Load()), err
}

// putDelivery adds a pending delivery to t, written only if the subject has none for the
// campaign and its account is live.
func putDelivery(t *txn, id privacy.SubjectID, campaign string, now time.Time) {
	// The delivery first: when it exists, that is the failure reported (and counted), whatever
	// became of the account since.
	t.putIf(newDeliveryItem(id, campaign, now), "attribute_not_exists(PK)", nil, privacy.ErrStale)
	t.accountLive(id)
}

// ClaimDelivery takes a delivery for a sender (owner): a pending one, or one another owner
// claimed more than notices.TakeOver ago and never ended (a live sender ends its claims well
// within that, so a sender that died mid-batch, whose last mails SES's Send events have settled
// by then).
// notices.ErrHeld if another owner claimed it more recently, or this owner holds it (a send
// with no answer); false, with no error, if it has ended or is gone with its subject.
func (st *Store) ClaimDelivery(ctx context.Context, campaign string, id privacy.SubjectID, owner string) (bool, error) {
	if owner == "" {
		return false, errors.New("claim delivery: no owner")
	}
	now := time.Now()
	_, err := st.Client.UpdateItem(ctx, &ddb.UpdateItemInput{
		TableName:        &st.Table,
		Key:              deliveryKey(id, campaign),
		UpdateExpression: aws.String("SET #st = :sending, #owner = :owner, claimed = :now"),
		ConditionExpression: aws.String("attribute_exists(PK) AND (#st = :pending OR " +
			"(#st = :sending AND #owner <> :owner AND (attribute_not_exists(claimed) OR claimed < :cutoff)))"),
		ExpressionAttributeNames: map[string]string{"#st": "state", "#owner": "owner"},
		ExpressionAttributeValues: Item{
			":sending": s(string(notices.DeliverySending)), ":pending": s(string(notices.DeliveryPending)), ":owner": s(owner),
			":now": n(now.UnixMilli()), ":cutoff": n(now.Add(-notices.TakeOver).UnixMilli()),
		},
	})
	if isConditionFailed(err) {
		var d deliveryItem
		found, err := st.get(ctx, SubjectPK(id), SortKey(KindDelivery, campaign), &d)
		if err != nil {
			return false, err
		}
		if found && d.State == string(notices.DeliverySending) {
			// Another sender's, too recent to take over; or this sender's own, whose send had
			// no answer: either way its Send event may yet settle it.
			return false, notices.ErrHeld
		}
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("claim delivery: %w", err)
	}
	return true, nil
}

// errEnded is a delivery that was not being sent when EndDelivery came: ended already.
var errEnded = errors.New("delivery ended already")

// EndDelivery ends a claimed delivery in a final state and adds one to the campaign's counter
// of that state, in one transaction. A delivery not being sent (ended already, or gone with its
// subject) is left as it is and counted nothing: ending one twice counts it once.
func (st *Store) EndDelivery(ctx context.Context, campaign string, id privacy.SubjectID, state notices.DeliveryState) error {
	attr, ok := counter[state]
	if !ok {
		return fmt.Errorf("end delivery: %q is no final state", state)
	}
	now := time.Now()
	t := st.txn()
	t.update(&types.Update{
		Key:                      deliveryKey(id, campaign),
		UpdateExpression:         aws.String("SET #st = :state, ended = :ended, expiresAt = :exp REMOVE #owner, claimed"),
		ConditionExpression:      aws.String("#st = :sending"),
		ExpressionAttributeNames: map[string]string{"#st": "state", "#owner": "owner"},
		ExpressionAttributeValues: Item{
			":state": s(string(state)), ":sending": s(string(notices.DeliverySending)),
			":ended": s(ts(now)), ":exp": n(now.Add(st.auditKept()).Unix()),
		},
	}, errEnded)
	t.update(&types.Update{
		Key:                       key(campaignPK(campaign), countsSK),
		UpdateExpression:          aws.String("ADD #n :one"),
		ExpressionAttributeNames:  map[string]string{"#n": attr},
		ExpressionAttributeValues: Item{":one": n(1)},
	}, nil)
	if err := st.commit(ctx, t); err != nil && !errors.Is(err, errEnded) {
		return fmt.Errorf("end delivery: %w", err)
	}
	return nil
}

// DeliveryState is a delivery's state, read consistently ("" when there is none).
func (st *Store) DeliveryState(ctx context.Context, campaign string, id privacy.SubjectID) (notices.DeliveryState, error) {
	var d deliveryItem
	found, err := st.get(ctx, SubjectPK(id), SortKey(KindDelivery, campaign), &d)
	if err != nil || !found {
		return "", err
	}
	return notices.DeliveryState(d.State), nil
}

// ReleaseDelivery gives a claimed delivery back, pending, for a later try. One not being sent
// (ended, or gone) is left as it is.
func (st *Store) ReleaseDelivery(ctx context.Context, campaign string, id privacy.SubjectID) error {
	_, err := st.Client.UpdateItem(ctx, &ddb.UpdateItemInput{
		TableName:                &st.Table,
		Key:                      deliveryKey(id, campaign),
		UpdateExpression:         aws.String("SET #st = :pending REMOVE #owner, claimed"),
		ConditionExpression:      aws.String("#st = :sending"),
		ExpressionAttributeNames: map[string]string{"#st": "state", "#owner": "owner"},
		ExpressionAttributeValues: Item{
			":pending": s(string(notices.DeliveryPending)), ":sending": s(string(notices.DeliverySending)),
		},
	})
	if err != nil && !isConditionFailed(err) {
		return fmt.Errorf("release delivery: %w", err)
	}
	return nil
}

// ActiveAccounts lists up to limit active accounts after cursor ("" to begin), in subject ID
// order, and the cursor to go on from ("" when there are no more). It reads the active
// accounts' GSI2 partition (keys only; set when an account becomes active, removed when it
// closes), which is eventually consistent: an account activated or closed a moment ago may be
// missing or still listed, so a caller that must be sure reads the account.
//
// One index partition holds every active account: fine for a few million, a hot partition
// beyond (a planner reading it while activations write it); shard its key then
// (ACCOUNTS#<n>, read in parallel).
func (st *Store) ActiveAccounts(ctx context.Context, cursor string, limit int) ([]privacy.SubjectID, string, error) {
	in := &ddb.QueryInput{
		TableName: &st.Table, IndexName: aws.String(gsi2), KeyConditionExpression: aws.String("GSI2PK = :p"),
		ExpressionAttributeValues: Item{":p": s(accountsPartition)},
	}
	if limit > 0 {
		in.Limit = aws.Int32(int32(min(limit, 1<<20)))
	}
	if cursor != "" {
		id := privacy.SubjectID(cursor)
		in.ExclusiveStartKey = Item{
			"GSI2PK": s(accountsPartition), "GSI2SK": s(cursor), "PK": s(SubjectPK(id)), "SK": s(string(KindProfile)),
		}
	}
	out, err := st.Client.Query(ctx, in)
	if err != nil {
		return nil, "", fmt.Errorf("query active accounts: %w", err)
	}
	ids := make([]privacy.SubjectID, 0, len(out.Items))
	for _, it := range out.Items {
		if id := attr(it, "GSI2SK"); id != "" {
			ids = append(ids, privacy.SubjectID(id))
		}
	}
	next := ""
	if out.LastEvaluatedKey != nil {
		next = attr(out.LastEvaluatedKey, "GSI2SK")
	}
	return ids, next, nil
}

// Holds reports whether a subject's account is active and holds an optional field (one not
// past an expiresAt): one Query of the partition from OPTIONAL#<field> to PROFILE, which holds
// those two items and at most the other optional fields.
func (st *Store) Holds(ctx context.Context, id privacy.SubjectID, field string) (bool, error) {
	if field == "" {
		return false, nil
	}
	optional := SortKey(KindOptional, field)
	items, err := st.between(ctx, id, optional, string(KindProfile))
	if err != nil {
		return false, err
	}
	var holds, active bool
	now := time.Now()
	for _, raw := range items {
		var it struct {
			SK        string `dynamodbav:"SK"`
			Status    string `dynamodbav:"status"`
			ExpiresAt int64  `dynamodbav:"expiresAt"`
		}
		if err := attributevalue.UnmarshalMap(raw, &it); err != nil {
			return false, fmt.Errorf("decode %s: %w", KindOf(attr(raw, "SK")), err)
		}
		switch it.SK {
		case optional:
			holds = !expired(it.ExpiresAt, now)
		case string(KindProfile):
			active = it.Status == string(privacy.StatusActive)
		}
	}
	return holds && active, nil
}

// dropOpenDeliveries deletes a subject's deliveries that have not ended (pending, or claimed
// by a sender), each counted as skipped on its campaign in the same transaction: an erasure
// that lands after a campaign was planned must not leave that campaign waiting for ever for a
// mail that will never go. A delivery that ends meanwhile fails the condition and is left for
// the erasure's page deletion. It returns how many it deleted.
func (st *Store) dropOpenDeliveries(ctx context.Context, id privacy.SubjectID) (int, error) {
	items, err := st.ofKind(ctx, id, KindDelivery)
	if err != nil {
		return 0, err
	}
	dropped := 0
	for _, it := range items {
		var d deliveryItem
		if err := attributevalue.UnmarshalMap(it, &d); err != nil {
			return dropped, fmt.Errorf("decode delivery: %w", err)
		}
		if d.State != string(notices.DeliveryPending) && d.State != string(notices.DeliverySending) {
			continue
		}
		t := st.txn()
		t.add(types.TransactWriteItem{Delete: &types.Delete{
			TableName: &st.Table, Key: key(d.PK, d.SK), ConditionExpression: aws.String("#st = :st"),
			ExpressionAttributeNames: map[string]string{"#st": "state"}, ExpressionAttributeValues: Item{":st": s(d.State)},
		}}, errEnded)
		t.update(&types.Update{
			Key:                       key(campaignPK(d.Campaign), countsSK),
			UpdateExpression:          aws.String("ADD #c :one"),
			ExpressionAttributeNames:  map[string]string{"#c": counter[notices.DeliverySkipped]},
			ExpressionAttributeValues: Item{":one": n(1)},
		}, nil)
		switch err := st.commit(ctx, t); {
		case errors.Is(err, errEnded):
		case err != nil:
			return dropped, fmt.Errorf("drop delivery: %w", err)
		default:
			dropped++
		}
	}
	return dropped, nil
}

// IndexActiveAccounts puts every active account that is not in the active accounts' index
// (GSI2's ACCOUNTS partition) into it: accounts activated before the index existed. It scans the
// table (dynamodb:Scan, which no function's role has: only the operator's tool calls it), and
// indexes each account with a condition that it is still active and not indexed, so it can run
// while the portal does; an account closed or indexed meanwhile is counted as left. Running it
// again indexes nothing more.
func (st *Store) IndexActiveAccounts(ctx context.Context) (indexed, left int, err error) {
	notIndexed := "#st = :active AND (attribute_not_exists(GSI2PK) OR GSI2PK <> :accounts)"
	in := &ddb.ScanInput{
		TableName: &st.Table, ProjectionExpression: aws.String("PK"),
		FilterExpression:         aws.String("SK = :profile AND " + notIndexed),
		ExpressionAttributeNames: map[string]string{"#st": "status"},
		ExpressionAttributeValues: Item{
			":profile": s(string(KindProfile)), ":active": s(string(privacy.StatusActive)), ":accounts": s(accountsPartition),
		},
		ConsistentRead: aws.Bool(true),
	}
	for {
		page, err := st.Client.Scan(ctx, in)
		if err != nil {
			return indexed, left, fmt.Errorf("scan accounts: %w", err)
		}
		for _, it := range page.Items {
			id, ok := strings.CutPrefix(attr(it, "PK"), subjectPrefix)
			if !ok || id == "" {
				continue
			}
			_, err := st.Client.UpdateItem(ctx, &ddb.UpdateItemInput{
				TableName: &st.Table, Key: key(SubjectPK(privacy.SubjectID(id)), string(KindProfile)),
				UpdateExpression:         aws.String("SET GSI2PK = :accounts, GSI2SK = :id"),
				ConditionExpression:      aws.String(notIndexed),
				ExpressionAttributeNames: map[string]string{"#st": "status"},
				ExpressionAttributeValues: Item{
					":active": s(string(privacy.StatusActive)), ":accounts": s(accountsPartition), ":id": s(id),
				},
			})
			switch {
			case isConditionFailed(err):
				left++
			case err != nil:
				return indexed, left, fmt.Errorf("index account: %w", err)
			default:
				indexed++
			}
		}
		if page.LastEvaluatedKey == nil {
			return indexed, left, nil
		}
		in.ExclusiveStartKey = page.LastEvaluatedKey
	}
}
