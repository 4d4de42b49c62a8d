package dynamodb

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	ddb "github.com/aws/aws-sdk-go-v2/service/dynamodb"
)

// statsPK is the partition of one day's page views; each path is an item with a counter. It
// holds nothing about any visitor: no subject, address, agent or time finer than the day.
func statsPK(day string) string { return "STATS#pageviews#" + day }

// StatsKeptFor is how long a day's page views are kept: long enough to compare a year.
const StatsKeptFor = 400 * 24 * time.Hour

// CountPageView adds one view of a path on a day (UTC, 2006-01-02). The counter expires
// StatsKeptFor after its day.
func (st *Store) CountPageView(ctx context.Context, day, path string) error {
	d, err := time.Parse("2006-01-02", day)
	if err != nil {
		return fmt.Errorf("count page view: day %q: %w", day, err)
	}
	_, err = st.Client.UpdateItem(ctx, &ddb.UpdateItemInput{
		TableName:                 &st.Table,
		Key:                       key(statsPK(day), "PATH#"+path),
		UpdateExpression:          aws.String("ADD #views :one SET expiresAt = :exp"),
		ExpressionAttributeNames:  map[string]string{"#views": "views"},
		ExpressionAttributeValues: Item{":one": n(1), ":exp": n(d.Add(StatsKeptFor).Unix())},
	})
	if err != nil {
		return fmt.Errorf("count page view: %w", err)
	}
	return nil
}

// PageViews reads the views of a path on a day (0 when none), for the operator and tests.
func (st *Store) PageViews(ctx context.Context, day, path string) (int, error) {
	var it struct {
		Views int `dynamodbav:"views"`
	}
	if _, err := st.get(ctx, statsPK(day), "PATH#"+path, &it); err != nil {
		return 0, err
	}
	return it.Views, nil
}
