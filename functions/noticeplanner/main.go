// Command noticeplanner is the campaigns' planner (P14, P25, P19): an SQS-triggered Lambda on
// the plan queue that writes one delivery per recipient of a started campaign and hands the
// sender its batches (internal/notices). It links the table and the notice queue: no mail, no
// keys.
package main

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
	awsddb "github.com/aws/aws-sdk-go-v2/service/dynamodb"
	awssqs "github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/privacyportal/portal/internal/awsenv"
	"github.com/privacyportal/portal/internal/dynamodb"
	"github.com/privacyportal/portal/internal/jobs"
	"github.com/privacyportal/portal/internal/notices"
	"github.com/privacyportal/portal/internal/sqs"
)

func main() {
	slog.SetDefault(slog.New(slog.NewJSONHandler(os.Stdout, nil)))
	var env awsenv.Env
	table, sendQueue := env.String("TABLE_NAME"), env.String("NOTICE_QUEUE_URL")
	if err := env.Err(); err != nil {
		slog.Error("configuration", "err", err)
		os.Exit(1)
	}
	aws, err := awsenv.Load(context.Background())
	if err != nil {
		slog.Error("load aws config", "err", err)
		os.Exit(1)
	}
	store := &dynamodb.Store{Client: awsddb.NewFromConfig(aws, func(o *awsddb.Options) { o.BaseEndpoint = awsenv.Endpoint("DYNAMODB") }), Table: table}
	sends := &sqs.Jobs{Client: awssqs.NewFromConfig(aws, func(o *awssqs.Options) { o.BaseEndpoint = awsenv.Endpoint("SQS") }), QueueURL: sendQueue}
	planner := &notices.Planner{Store: store, Sends: sends, Now: time.Now}
	lambda.Start(func(ctx context.Context, ev events.SQSEvent) (events.SQSEventResponse, error) {
		var resp events.SQSEventResponse
		for _, r := range ev.Records {
			j, err := jobs.Parse(r.Body)
			if err == nil && j.Kind != notices.JobPlan {
				err = errNotAPlan
			}
			var c notices.Campaign
			if err == nil {
				c, err = planner.Plan(ctx, j.Campaign)
			}
			if err != nil {
				// A planner that fails goes on from its last page at the next try.
				slog.Error("planning failed", "messageId", r.MessageId, "campaign", j.Campaign, "err", err)
				resp.BatchItemFailures = append(resp.BatchItemFailures, events.SQSBatchItemFailure{ItemIdentifier: r.MessageId})
				continue
			}
			slog.Info("job done", "kind", j.Kind, "campaign", c.ID, "recipients", c.Planned, "state", string(c.State))
		}
		return resp, nil
	})
}

var errNotAPlan = errors.New("not a plan job")
