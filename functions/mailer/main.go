// Command mailer is the mail worker: an SQS-triggered Lambda that does the work the account,
// consent and requests functions hand over as jobs (making codes and links, finding out whose
// an address is, receipts, marketing mail only with consent, each step of a data-subject
// request, export links, the operator's digest, erasure outcomes) and sends the mail through SES. It
// is the only function that links SES.
package main

import (
	"context"
	"log/slog"
	netmail "net/mail"
	"os"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"
	awsses "github.com/aws/aws-sdk-go-v2/service/ses"

	"github.com/privacyportal/portal/internal/account"
	"github.com/privacyportal/portal/internal/awsenv"
	"github.com/privacyportal/portal/internal/consent"
	"github.com/privacyportal/portal/internal/erasure"
	"github.com/privacyportal/portal/internal/jobs"
	"github.com/privacyportal/portal/internal/mail"
	"github.com/privacyportal/portal/internal/requests"
	"github.com/privacyportal/portal/internal/s3"
	"github.com/privacyportal/portal/internal/ses"
	"github.com/privacyportal/portal/internal/wiring"
)

func main() {
	slog.SetDefault(slog.New(slog.NewJSONHandler(os.Stdout, nil)))
	var env awsenv.Env
	sender, configSet, trackedSet := env.String("SENDER_ADDRESS"), env.Optional("SES_CONFIGURATION_SET"), env.Optional("SES_TRACKED_CONFIGURATION_SET")
	operatorName, operatorContact := env.String("OPERATOR_NAME"), env.String("OPERATOR_CONTACT")
	backupDays := env.Int("BACKUP_DAYS")
	if err := env.Err(); err != nil {
		slog.Error("configuration", "err", err)
		os.Exit(1)
	}
	w, err := wiring.NewAccounts(context.Background())
	if err != nil {
		slog.Error("start", "err", err)
		os.Exit(1)
	}
	sesSender := &ses.Sender{
		Client: awsses.NewFromConfig(w.AWS, func(o *awsses.Options) { o.BaseEndpoint = awsenv.Endpoint("SES") }),
		From:   (&netmail.Address{Name: operatorName, Address: sender}).String(), Now: time.Now,
		ConfigurationSet: configSet, TrackedConfigurationSet: trackedSet,
	}
	accounts := &account.MailWorker{Env: w.Env, Store: w.Store, Sender: sesSender}
	consentEnv := &consent.Env{Keys: w.Env.Keys, Policies: w.Env.Policies, Jobs: w.Env.Jobs, Now: time.Now, Operator: wiring.Operator()}
	outbox := &s3.Outbox{Client: awss3.NewFromConfig(w.AWS, func(o *awss3.Options) {
		o.BaseEndpoint, o.UsePathStyle = awsenv.Endpoint("S3"), awsenv.S3PathStyle()
	}), Bucket: os.Getenv("SHARING_OUTBOX_BUCKET")}
	consents := &consent.Worker{Env: consentEnv, Store: w.Store, Sender: sesSender,
		Discloser: &consent.Discloser{Env: consentEnv, Store: w.Store, Outbox: outbox}}
	requestsEnv, err := wiring.Requests(w)
	if err != nil {
		slog.Error("configuration", "err", err)
		os.Exit(1)
	}
	requestMail := &requests.Worker{Env: requestsEnv, Store: w.Store, Sender: sesSender}
	erasures := &erasure.Notifier{Store: w.Store, Sender: sesSender, BackupDays: backupDays,
		SiteURL: func() string { return w.Env.Config.SiteURL }}
	do := func(ctx context.Context, j jobs.Job) error {
		switch {
		case erasures.Handles(j.Kind):
			return erasures.Do(ctx, j)
		case consents.Handles(j.Kind):
			return consents.Do(ctx, j)
		case requestMail.Handles(j.Kind):
			return requestMail.Do(ctx, j)
		}
		return accounts.Do(ctx, j)
	}
	lambda.Start(func(ctx context.Context, ev events.SQSEvent) (events.SQSEventResponse, error) {
		var resp events.SQSEventResponse
		if err := w.Ready(ctx); err != nil {
			// Nothing can be done without the key or the site's address: every message comes
			// back after its visibility timeout, and after maxReceiveCount goes to the DLQ.
			slog.Error("not ready", "err", err)
			for _, r := range ev.Records {
				resp.BatchItemFailures = append(resp.BatchItemFailures, events.SQSBatchItemFailure{ItemIdentifier: r.MessageId})
			}
			return resp, nil
		}
		sesSender.Operator = mail.Operator{Name: operatorName, Contact: operatorContact, SiteURL: w.Env.Config.SiteURL}
		consentEnv.Operator.SiteURL, requestsEnv.Config.SiteURL = w.Env.Config.SiteURL, w.Env.Config.SiteURL
		for _, r := range ev.Records {
			j, err := jobs.Parse(r.Body)
			if err == nil {
				err = do(ctx, j)
			}
			if err != nil {
				// Jobs and our errors name no one: they are safe to log. A failed job comes
				// back for another try; one that keeps failing ends in the dead-letter queue.
				slog.Error("job failed", "messageId", r.MessageId, "kind", j.Kind, "subject", string(j.Subject), "err", err)
				resp.BatchItemFailures = append(resp.BatchItemFailures, events.SQSBatchItemFailure{ItemIdentifier: r.MessageId})
				continue
			}
			slog.Info("job done", "kind", j.Kind, "subject", string(j.Subject), "waited", time.Since(j.At).Round(time.Millisecond).String())
		}
		return resp, nil
	})
}
