package dynamodb

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	ddb "github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/privacyportal/portal/internal/export"
	"github.com/privacyportal/portal/internal/privacy"
)

// Records calls fn for every item of a subject's partition, in sort-key order, for an export
// (P15, P21): one Query with consistent reads, a page at a time, each page decoded to plain Go
// values and dropped before the next is read, so a partition of any size takes a page's
// memory (DynamoDB's pages are at most 1 MB). Every item is handed over as it is stored,
// expired ones too (they are still held until TTL deletes them); what an export leaves out
// is the export's decision.
func (st *Store) Records(ctx context.Context, id privacy.SubjectID, fn func(export.Record) error) error {
	in := &ddb.QueryInput{
		TableName:                 &st.Table,
		KeyConditionExpression:    aws.String("PK = :pk"),
		ExpressionAttributeValues: Item{":pk": s(SubjectPK(id))},
		ConsistentRead:            aws.Bool(true),
	}
	for {
		out, err := st.Client.Query(ctx, in)
		if err != nil {
			return fmt.Errorf("query subject: %w", err)
		}
		var page []map[string]any
		if err := attributevalue.UnmarshalListOfMaps(out.Items, &page); err != nil {
			return fmt.Errorf("decode subject items: %w", err)
		}
		for _, fields := range page {
			sk, _ := fields["SK"].(string)
			delete(fields, "PK")
			delete(fields, "SK")
			if err := fn(export.Record{Kind: string(KindOf(sk)), Key: sk, Fields: fields}); err != nil {
				return err
			}
		}
		if out.LastEvaluatedKey == nil {
			return nil
		}
		in.ExclusiveStartKey = out.LastEvaluatedKey
	}
}
