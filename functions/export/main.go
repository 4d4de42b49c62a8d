// Command export is the export worker (P15, P21): an SQS-triggered Lambda on the job queue
// that writes every item of a requester's partition into a zip archive, streamed straight into
// the exports bucket, completes the request and hands the mail worker the job that mails the
// archive's single-use link. It links the table, the exports bucket and the mail queue: no
// keys, no mail.
package main

import (
	"context"
	"log/slog"
	"os"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
	awsddb "github.com/aws/aws-sdk-go-v2/service/dynamodb"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"
	awssqs "github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/privacyportal/portal/internal/awsenv"
	"github.com/privacyportal/portal/internal/dynamodb"
	"github.com/privacyportal/portal/internal/export"
	"github.com/privacyportal/portal/internal/jobs"
	"github.com/privacyportal/portal/internal/metrics"
	"github.com/privacyportal/portal/internal/requests"
	"github.com/privacyportal/portal/internal/s3"
	"github.com/privacyportal/portal/internal/sqs"
)

// archives writes archives into the exports bucket, a part at a time.
type archives struct {
	client interface {
		s3.MultipartAPI
		s3.BucketAPI
	}
	bucket string
}

func (a archives) Create(ctx context.Context, key string) requests.ArchiveWriter {
	return s3.NewMultipartWriter(ctx, a.client, a.bucket, key, "application/zip")
}

func (a archives) Delete(ctx context.Context, key string) error {
	return (&s3.Bucket{Client: a.client, Bucket: a.bucket}).Delete(ctx, key)
}

func main() {
	slog.SetDefault(slog.New(slog.NewJSONHandler(os.Stdout, nil)))
	var env awsenv.Env
	table, bucket, mailQueue := env.String("TABLE_NAME"), env.String("EXPORTS_BUCKET"), env.String("MAIL_QUEUE_URL")
	linkTTL := env.Duration("EXPORT_RETENTION_DAYS", 24*time.Hour)
	// The worker completes requests: a closed request is kept this long (P12).
	closedKept := env.Duration("CLOSED_REQUEST_RETENTION_DAYS", 24*time.Hour)
	if err := env.Err(); err != nil {
		slog.Error("configuration", "err", err)
		os.Exit(1)
	}
	aws, err := awsenv.Load(context.Background())
	if err != nil {
		slog.Error("load aws config", "err", err)
		os.Exit(1)
	}
	store := &dynamodb.Store{Client: awsddb.NewFromConfig(aws, func(o *awsddb.Options) { o.BaseEndpoint = awsenv.Endpoint("DYNAMODB") }), Table: table,
		Retention: dynamodb.Retention{ClosedRequests: closedKept}}
	s3c := awss3.NewFromConfig(aws, func(o *awss3.Options) { o.BaseEndpoint, o.UsePathStyle = awsenv.Endpoint("S3"), awsenv.S3PathStyle() })
	mail := &sqs.Jobs{Client: awssqs.NewFromConfig(aws, func(o *awssqs.Options) { o.BaseEndpoint = awsenv.Endpoint("SQS") }), QueueURL: mailQueue}
	svc := &requests.Exporter{
		Env:   &requests.Env{Jobs: mail, Now: time.Now, Config: requests.Config{ExportLinkTTL: linkTTL}},
		Store: store, Source: store, Archives: archives{client: s3c, bucket: bucket},
	}
	lambda.Start(func(ctx context.Context, ev events.SQSEvent) (events.SQSEventResponse, error) {
		var resp events.SQSEventResponse
		for _, r := range ev.Records {
			j, err := jobs.Parse(r.Body)
			var sum export.Summary
			if err == nil {
				sum, err = svc.Export(ctx, j)
			}
			if err != nil {
				// Jobs and our errors name no one. A failed export comes back after the
				// queue's visibility timeout, and after maxReceiveCount goes to the DLQ.
				slog.Error("export failed", "messageId", r.MessageId, "kind", j.Kind, "subject", string(j.Subject), "err", err)
				resp.BatchItemFailures = append(resp.BatchItemFailures, events.SQSBatchItemFailure{ItemIdentifier: r.MessageId})
				continue
			}
			if sum.Items > 0 {
				emit(sum)
			}
			slog.Info("job done", "kind", j.Kind, "subject", string(j.Subject), "waited", time.Since(j.At).Round(time.Millisecond).String())
		}
		return resp, nil
	})
}

// emit writes the export's figures as metrics, for the dashboard.
func emit(s export.Summary) {
	_ = metrics.Emit(os.Stdout, time.Now(), "requests", metrics.Count("ExportsWritten", 1),
		metrics.Metric{Name: "ExportBytes", Unit: "Bytes", Value: float64(s.Bytes)}, metrics.Count("ExportItems", s.Items))
}
