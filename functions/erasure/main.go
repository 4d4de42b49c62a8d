// Command erasure is the erasure worker (P03, P17, P20): an SQS-triggered Lambda on the erasure
// queue that erases one subject per job (internal/erasure), verifies that nothing is left, and
// hands the mail worker the job that mails the outcome. It links the table, the exports and
// outbox buckets, KMS (the hash key) and the mail queue: no mail.
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
	awskms "github.com/aws/aws-sdk-go-v2/service/kms"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"
	awssqs "github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/privacyportal/portal/internal/awsenv"
	"github.com/privacyportal/portal/internal/dynamodb"
	"github.com/privacyportal/portal/internal/erasure"
	"github.com/privacyportal/portal/internal/jobs"
	"github.com/privacyportal/portal/internal/keyring"
	"github.com/privacyportal/portal/internal/kms"
	"github.com/privacyportal/portal/internal/metrics"
	"github.com/privacyportal/portal/internal/privacy"
	"github.com/privacyportal/portal/internal/requests"
	"github.com/privacyportal/portal/internal/s3"
	"github.com/privacyportal/portal/internal/sqs"
)

func main() {
	slog.SetDefault(slog.New(slog.NewJSONHandler(os.Stdout, nil)))
	var env awsenv.Env
	table, exportsBucket, outboxBucket := env.String("TABLE_NAME"), env.String("EXPORTS_BUCKET"), env.String("SHARING_OUTBOX_BUCKET")
	mailQueue, keyID := env.String("MAIL_QUEUE_URL"), env.String("PORTAL_KEY_ID")
	keep := env.Duration("TOMBSTONE_RETENTION_DAYS", 24*time.Hour)
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
	s3c := awss3.NewFromConfig(aws, func(o *awss3.Options) { o.BaseEndpoint, o.UsePathStyle = awsenv.Endpoint("S3"), awsenv.S3PathStyle() })
	mail := &sqs.Jobs{Client: awssqs.NewFromConfig(aws, func(o *awssqs.Options) { o.BaseEndpoint = awsenv.Endpoint("SQS") }), QueueURL: mailQueue}
	dataKeys := &kms.DataKeys{Client: awskms.NewFromConfig(aws, func(o *awskms.Options) { o.BaseEndpoint = awsenv.Endpoint("KMS") }), KeyID: keyID}
	keys := privacy.NewLazyKeyed(func(ctx context.Context) ([]byte, error) {
		return keyring.Load(ctx, dataKeys, store, keyring.HashKeyName)
	})
	svc := &erasure.Eraser{
		Keys: keys, Store: store, Mail: mail, Now: time.Now,
		Exports:  &s3.Bucket{Client: s3c, Bucket: exportsBucket},
		Outbox:   &s3.Bucket{Client: s3c, Bucket: outboxBucket},
		Requests: &requests.Env{Keys: keys, Now: time.Now},
		Config:   erasure.Config{TombstoneRetention: keep, Settle: 10 * time.Second},
	}
	lambda.Start(func(ctx context.Context, ev events.SQSEvent) (events.SQSEventResponse, error) {
		var resp events.SQSEventResponse
		if err := keys.Ready(ctx); err != nil {
			slog.Error("not ready", "err", err)
			for _, r := range ev.Records {
				resp.BatchItemFailures = append(resp.BatchItemFailures, events.SQSBatchItemFailure{ItemIdentifier: r.MessageId})
			}
			return resp, nil
		}
		for _, r := range ev.Records {
			j, err := jobs.Parse(r.Body)
			var t privacy.Tombstone
			if err == nil {
				t, err = svc.Erase(ctx, j)
			}
			if err != nil {
				// Jobs and our errors name no one. A failed erasure comes back after the
				// queue's visibility timeout and finishes where it stopped; after
				// maxReceiveCount it goes to the dead-letter queue (ErasureDeadLetterAlarm).
				slog.Error("erasure failed", "messageId", r.MessageId, "kind", j.Kind, "subject", string(j.Subject), "err", err)
				if errors.Is(err, erasure.ErrLeft) {
					_ = metrics.Emit(os.Stdout, time.Now(), "erasure", metrics.Count("ErasuresFailed", 1))
				}
				resp.BatchItemFailures = append(resp.BatchItemFailures, events.SQSBatchItemFailure{ItemIdentifier: r.MessageId})
				continue
			}
			if t.State == privacy.ErasureDone {
				_ = metrics.Emit(os.Stdout, time.Now(), "erasure", metrics.Count("ErasuresDone", 1), metrics.Count("ErasedItems", t.ItemsRemoved()))
			}
			slog.Info("job done", "kind", j.Kind, "subject", string(j.Subject), "waited", time.Since(j.At).Round(time.Millisecond).String())
		}
		return resp, nil
	})
}
