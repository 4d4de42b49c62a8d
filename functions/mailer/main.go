// Command mailer is the mail worker: an SQS-triggered Lambda that does the work the account
// functions hand over as jobs (making codes and links, finding out whose an address is) and
// sends the mail through SES. It is the only function that links SES.
package main

import (
	"context"
	"log/slog"
	netmail "net/mail"
	"os"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
	awsses "github.com/aws/aws-sdk-go-v2/service/ses"

	"github.com/privacyportal/portal/internal/account"
	"github.com/privacyportal/portal/internal/awsenv"
	"github.com/privacyportal/portal/internal/jobs"
	"github.com/privacyportal/portal/internal/mail"
	"github.com/privacyportal/portal/internal/ses"
	"github.com/privacyportal/portal/internal/wiring"
)

func main() {
	slog.SetDefault(slog.New(slog.NewJSONHandler(os.Stdout, nil)))
	var env awsenv.Env
	sender, configSet := env.String("SENDER_ADDRESS"), env.Optional("SES_CONFIGURATION_SET")
	operatorName, operatorContact := env.String("OPERATOR_NAME"), env.String("OPERATOR_CONTACT")
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
		From:   (&netmail.Address{Name: operatorName, Address: sender}).String(), ConfigurationSet: configSet, Now: time.Now,
	}
	worker := &account.MailWorker{Env: w.Env, Store: w.Store, Sender: sesSender}
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
		for _, r := range ev.Records {
			j, err := jobs.Parse(r.Body)
			if err == nil {
				err = worker.Do(ctx, j)
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
