// Command noticefeedback takes SES's events from the feedback queue (the configuration sets'
// event destination, through SNS): a bounce for good or a complaint suppresses later campaign
// mail to that address, and a campaign mail's Send event records its delivery as sent, so a
// sender that takes over from one that died does not send it again (internal/notices). It
// links the table and KMS (the hash key of the suppressed addresses): no mail.
package main

import (
	"context"
	"log/slog"
	"os"
	"sync"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
	awsddb "github.com/aws/aws-sdk-go-v2/service/dynamodb"
	awskms "github.com/aws/aws-sdk-go-v2/service/kms"

	"github.com/privacyportal/portal/internal/awsenv"
	"github.com/privacyportal/portal/internal/dynamodb"
	"github.com/privacyportal/portal/internal/keyring"
	"github.com/privacyportal/portal/internal/kms"
	"github.com/privacyportal/portal/internal/notices"
	"github.com/privacyportal/portal/internal/privacy"
)

func main() {
	slog.SetDefault(slog.New(slog.NewJSONHandler(os.Stdout, nil)))
	var env awsenv.Env
	table, keyID := env.String("TABLE_NAME"), env.String("PORTAL_KEY_ID")
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
	dataKeys := &kms.DataKeys{Client: awskms.NewFromConfig(aws, func(o *awskms.Options) { o.BaseEndpoint = awsenv.Endpoint("KMS") }), KeyID: keyID}
	keys := privacy.NewLazyKeyed(func(ctx context.Context) ([]byte, error) {
		return keyring.Load(ctx, dataKeys, store, keyring.HashKeyName)
	})
	feedback := &notices.Feedback{Keys: keys, Store: store}
	lambda.Start(func(ctx context.Context, ev events.SQSEvent) (events.SQSEventResponse, error) {
		var resp events.SQSEventResponse
		if err := keys.Ready(ctx); err != nil {
			slog.Error("not ready", "err", err)
			for _, r := range ev.Records {
				resp.BatchItemFailures = append(resp.BatchItemFailures, events.SQSBatchItemFailure{ItemIdentifier: r.MessageId})
			}
			return resp, nil
		}
		// The events are independent (one per mail SES took, at the campaign's rate): taken at
		// once, so the queue keeps up with the sender.
		failed := make([]bool, len(ev.Records))
		var wg sync.WaitGroup
		for i, r := range ev.Records {
			wg.Go(func() {
				// SES's documents hold addresses: they are never logged, nor are our errors about them.
				if _, err := feedback.Take(ctx, r.Body); err != nil {
					slog.Error("feedback failed", "messageId", r.MessageId, "err", err)
					failed[i] = true
				}
			})
		}
		wg.Wait()
		for i, r := range ev.Records {
			if failed[i] {
				resp.BatchItemFailures = append(resp.BatchItemFailures, events.SQSBatchItemFailure{ItemIdentifier: r.MessageId})
			}
		}
		return resp, nil
	})
}
