package dynamodb

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	ddb "github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"

	"github.com/privacyportal/portal/internal/privacy"
)

// DeleteSubject erases a subject: every item of their partition and the look-up items that
// still name them (an address another account proved since, or a username another took after
// a reservation, is not theirs to delete). The look-ups go first and the profile (which names
// them) last, so an erasure cut short can be run again and still find everything; it repeats
// until the partition reads empty, so an item written while it ran does not survive it. It
// returns how many items it deleted.
func (st *Store) DeleteSubject(ctx context.Context, id privacy.SubjectID) (int, error) {
	deleted := 0
	for round := 0; ; round++ {
		items, err := st.Partition(ctx, id)
		if err != nil {
			return deleted, err
		}
		if len(items) == 0 {
			return deleted, nil
		}
		if round == 3 {
			return deleted, fmt.Errorf("erase subject: items keep appearing")
		}
		var rest []Item
		var profile Item
		for _, it := range items {
			k := key(attr(it, "PK"), attr(it, "SK"))
			if KindOf(attr(it, "SK")) != KindProfile {
				rest = append(rest, k)
				continue
			}
			profile = k
			var p profileItem
			if err := attributevalue.UnmarshalMap(it, &p); err != nil {
				return deleted, fmt.Errorf("erase subject: decode profile: %w", err)
			}
			for _, l := range [][2]string{
				{EmailLookupPK(p.EmailKey), LookupSK}, {EmailLookupPK(p.EmailKey), PendingSK}, {UsernameLookupPK(p.UsernameKey), LookupSK},
			} {
				if err := st.deleteLookupIfOurs(ctx, l[0], l[1], id); err != nil {
					return deleted, err
				}
			}
		}
		keys := rest
		if profile != nil {
			keys = append(keys, profile)
		}
		if err := st.batchDelete(ctx, keys); err != nil {
			return deleted, err
		}
		deleted += len(keys)
	}
}

// Retire ends a registration of an address another account has proved: its username becomes
// a reservation until a time (so it answers as it would have had the registration lived), the
// address's pending registration goes if it is this one, and the rest is erased.
func (st *Store) Retire(ctx context.Context, id privacy.SubjectID, until time.Time) error {
	a, err := st.Account(ctx, id)
	if privacy.ErrorCode(err) == privacy.NotFound {
		return nil
	}
	if err != nil {
		return err
	}
	_, err = st.Client.PutItem(ctx, &ddb.PutItemInput{
		TableName:                 &st.Table,
		Item:                      marshal(lookupItem{PK: UsernameLookupPK(a.UsernameKey), SK: LookupSK, ExpiresAt: until.Unix()}),
		ConditionExpression:       aws.String("subjectId = :id"),
		ExpressionAttributeValues: Item{":id": s(string(id))},
	})
	if err != nil && !isConditionFailed(err) {
		return fmt.Errorf("retire registration: %w", err)
	}
	_, err = st.DeleteSubject(ctx, id)
	return err
}
