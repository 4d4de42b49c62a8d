package dynamodb

import (
	"context"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	ddb "github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/privacyportal/portal/internal/privacy"
)

// Subjects lists every subject that has a partition in the table, each once, in no particular
// order. It is for a table restored from backup only (portalctl reapply-erasures, which erases
// again from it the people erased since; docs/erasure.md): it Scans the whole table, which no
// request path may do (every other read is a Query of one partition or one index partition, and
// no function's role allows dynamodb:Scan). It reads keys only, a page at a time; memory grows
// with the number of subjects, not of items.
func (st *Store) Subjects(ctx context.Context) ([]privacy.SubjectID, error) {
	in := &ddb.ScanInput{
		TableName: &st.Table, ProjectionExpression: aws.String("PK"),
		FilterExpression:          aws.String("begins_with(PK, :subject)"),
		ExpressionAttributeValues: Item{":subject": s(subjectPrefix)},
		ConsistentRead:            aws.Bool(true),
	}
	seen := map[privacy.SubjectID]bool{}
	var out []privacy.SubjectID
	for {
		page, err := st.Client.Scan(ctx, in)
		if err != nil {
			return nil, fmt.Errorf("scan subjects: %w", err)
		}
		for _, it := range page.Items {
			id, ok := strings.CutPrefix(attr(it, "PK"), subjectPrefix)
			if !ok || id == "" || seen[privacy.SubjectID(id)] {
				continue
			}
			seen[privacy.SubjectID(id)] = true
			out = append(out, privacy.SubjectID(id))
		}
		if page.LastEvaluatedKey == nil {
			return out, nil
		}
		in.ExclusiveStartKey = page.LastEvaluatedKey
	}
}
