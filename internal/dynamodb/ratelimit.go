package dynamodb

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	ddb "github.com/aws/aws-sdk-go-v2/service/dynamodb"
)

// Hit counts one attempt against a fixed-window limit and reports whether it is allowed, and
// if not, how long until the window ends. A counter is one item per bucket and window, under
// PK RATE#<bucket> (the bucket is a keyed hash), and expires a minute after its window.
func (st *Store) Hit(ctx context.Context, bucket string, limit int, window time.Duration, now time.Time) (bool, time.Duration, error) {
	start := now.Truncate(window)
	end := start.Add(window)
	_, err := st.Client.UpdateItem(ctx, &ddb.UpdateItemInput{
		TableName:           &st.Table,
		Key:                 key("RATE#"+bucket, strconv.FormatInt(start.Unix(), 10)),
		UpdateExpression:    aws.String("ADD attempts :one SET expiresAt = :exp"),
		ConditionExpression: aws.String("attribute_not_exists(attempts) OR attempts < :limit"),
		ExpressionAttributeValues: Item{
			":one": n(1), ":exp": n(end.Add(time.Minute).Unix()), ":limit": n(int64(limit)),
		},
	})
	if isConditionFailed(err) {
		return false, end.Sub(now), nil
	}
	if err != nil {
		return false, 0, fmt.Errorf("rate limit: %w", err)
	}
	return true, 0, nil
}
