package dynamodb

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"

	"github.com/privacyportal/portal/internal/privacy"
)

// DeleteSubject erases a subject: every item of their partition and their look-up items. The
// look-ups go first and the profile (which names them) last, so an erasure cut short can be
// run again and still find everything; it repeats until the partition reads empty, so an item
// written while it ran does not survive it. It returns how many items it deleted.
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
		var lookups, rest []Item
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
			if p.EmailKey != "" {
				lookups = append(lookups, key(EmailLookupPK(p.EmailKey), LookupSK))
			}
			if p.UsernameKey != "" {
				lookups = append(lookups, key(UsernameLookupPK(p.UsernameKey), LookupSK))
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
