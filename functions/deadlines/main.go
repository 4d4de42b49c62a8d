// Command deadlines runs on a schedule and watches the open data-subject requests' due dates
// (P23): it marks the reminders at 7, 3 and 1 days left and the overdue requests, once each,
// hands the mail worker a digest for the operator when one is new, and writes the figures as
// CloudWatch metrics (internal/metrics) for the dashboard and the overdue alarm. It also drops
// the address from the tombstone of an erasure whose outcome mail never went
// (erasure.ForgetStaleNotices). It links the table and the mail queue and nothing else: no
// mail, no keys.
package main

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	awsddb "github.com/aws/aws-sdk-go-v2/service/dynamodb"
	awssqs "github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/privacyportal/portal/internal/awsenv"
	"github.com/privacyportal/portal/internal/dynamodb"
	"github.com/privacyportal/portal/internal/erasure"
	"github.com/privacyportal/portal/internal/metrics"
	"github.com/privacyportal/portal/internal/requests"
	"github.com/privacyportal/portal/internal/sqs"
)

func main() {
	slog.SetDefault(slog.New(slog.NewJSONHandler(os.Stdout, nil)))
	var env awsenv.Env
	table, mailQueue := env.String("TABLE_NAME"), env.String("MAIL_QUEUE_URL")
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
	mail := &sqs.Jobs{Client: awssqs.NewFromConfig(aws, func(o *awssqs.Options) { o.BaseEndpoint = awsenv.Endpoint("SQS") }), QueueURL: mailQueue}
	svc := &requests.Deadlines{Env: &requests.Env{Jobs: mail, Now: time.Now}, Store: store}
	lambda.Start(func(ctx context.Context) (requests.Figures, error) {
		f, err := svc.Check(ctx)
		if err == nil {
			// Only whole figures: a run that failed publishes nothing, and the overdue
			// alarm treats the missing hour as breaching.
			emit(f)
		}
		// Erasures whose outcome mail never went keep no address past its chance.
		if _, ferr := erasure.ForgetStaleNotices(ctx, store, time.Now()); ferr != nil {
			err = errors.Join(err, ferr)
		}
		return f, err
	})
}

// emit writes the figures as metrics, for the dashboard and the overdue alarm.
func emit(f requests.Figures) {
	_ = metrics.Emit(os.Stdout, time.Now(), "requests",
		metrics.Count("OpenRequests", f.Open), metrics.Count("OverdueRequests", f.Overdue),
		metrics.Count("OpenRequestsUnder7Days", f.ByAge[0]), metrics.Count("OpenRequests7To20Days", f.ByAge[1]),
		metrics.Count("OpenRequests21DaysOrMore", f.ByAge[2]), metrics.Count("RequestReminders", f.Reminders+f.NewlyOverdue))
}
