// Command noticesender is the campaigns' sender (P14, P25, P19, P08): an SQS-triggered Lambda
// on the notice queue, NOTICE_SENDERS invocations at a time (its event's MaximumConcurrency and
// its reserved concurrency), each sending its batches at SES_SEND_RATE / NOTICE_SENDERS, so the
// account sends at SES_SEND_RATE, and recording every delivery (internal/notices). SES's events
// come back to the feedback function (functions/noticefeedback), which does not wait for this
// one's slots.
package main

import (
	"context"
	"errors"
	"log/slog"
	netmail "net/mail"
	"os"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
	awsses "github.com/aws/aws-sdk-go-v2/service/ses"
	"golang.org/x/time/rate"

	"github.com/privacyportal/portal/internal/awsenv"
	"github.com/privacyportal/portal/internal/consent"
	"github.com/privacyportal/portal/internal/jobs"
	"github.com/privacyportal/portal/internal/mail"
	"github.com/privacyportal/portal/internal/metrics"
	"github.com/privacyportal/portal/internal/notices"
	"github.com/privacyportal/portal/internal/privacy"
	"github.com/privacyportal/portal/internal/ses"
	"github.com/privacyportal/portal/internal/wiring"
)

func main() {
	slog.SetDefault(slog.New(slog.NewJSONHandler(os.Stdout, nil)))
	var env awsenv.Env
	sender, configSet, trackedSet := env.String("SENDER_ADDRESS"), env.Optional("SES_CONFIGURATION_SET"), env.Optional("SES_TRACKED_CONFIGURATION_SET")
	operatorName, operatorContact := env.String("OPERATOR_NAME"), env.String("OPERATOR_CONTACT")
	perSecond, senders := env.Int("SES_SEND_RATE"), env.Int("NOTICE_SENDERS")
	if err := env.Err(); err != nil {
		slog.Error("configuration", "err", err)
		os.Exit(1)
	}
	if perSecond < 1 || senders < 1 {
		slog.Error("configuration", "err", "SES_SEND_RATE and NOTICE_SENDERS must be at least 1")
		os.Exit(1)
	}
	share := float64(perSecond) / float64(senders)
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
	consentEnv := &consent.Env{Keys: w.Env.Keys, Policies: w.Env.Policies, Jobs: w.Env.Jobs, Now: time.Now, Operator: wiring.Operator()}
	marketing := &consent.Worker{Env: consentEnv, Store: w.Store, Sender: sesSender}
	// NOTICE_SENDERS invocations run at once, each with this limiter at its share, so together
	// they pace the account; the workers keep up to Workers sends in flight, so a slow SES
	// answer does not lower the rate. Patience plus one AWS call (awsenv.Timeout) stays well
	// under notices.TakeOver: no sender takes over a live one's claim.
	svc := &notices.Sender{
		Store: w.Store, Mail: sesSender, Keys: w.Env.Keys, Marketing: marketing,
		Limiter: rate.NewLimiter(rate.Limit(share), 1), Workers: min(32, max(1, int(share)/4)),
		Patience: 30 * time.Second, Now: time.Now,
		SiteURL: func() string { return w.Env.Config.SiteURL },
	}
	lambda.Start(func(ctx context.Context, ev events.SQSEvent) (events.SQSEventResponse, error) {
		var resp events.SQSEventResponse
		if err := w.Ready(ctx); err != nil {
			slog.Error("not ready", "err", err)
			for _, r := range ev.Records {
				resp.BatchItemFailures = append(resp.BatchItemFailures, events.SQSBatchItemFailure{ItemIdentifier: r.MessageId})
			}
			return resp, nil
		}
		sesSender.Operator = mail.Operator{Name: operatorName, Contact: operatorContact, SiteURL: w.Env.Config.SiteURL}
		// A new owner for this invocation's claims: what an earlier one claimed and never
		// ended within notices.TakeOver, it died holding, and this one takes over.
		svc.Owner = privacy.NewID()
		consentEnv.Operator.SiteURL = w.Env.Config.SiteURL
		// The invocation's batches go at once, sharing the limiter: one batch's first reads
		// and last sends overlap the others' sending, rather than leave the rate idle between
		// batches.
		var mu sync.Mutex
		var wg sync.WaitGroup
		for _, r := range ev.Records {
			wg.Go(func() {
				var err error
				j, perr := jobs.Parse(r.Body)
				switch {
				case perr == nil && j.Kind == notices.JobBatch:
					started := time.Now()
					err = svc.SendBatch(ctx, j)
					slog.Info("batch done", "campaign", j.Campaign, "recipients", len(j.Subjects), "took", time.Since(started).Round(time.Millisecond).String(), "err", err)
					if err == nil {
						mu.Lock()
						_ = metrics.Emit(os.Stdout, time.Now(), "notices", metrics.Count("CampaignBatchesSent", 1), metrics.Count("CampaignRecipients", len(j.Subjects)))
						mu.Unlock()
					}
				case perr == nil:
					err = errors.New("not a notice job: " + string(j.Kind))
				default:
					err = perr
				}
				if err != nil {
					// Errors name campaigns and subjects, never an address.
					slog.Error("notice message failed", "messageId", r.MessageId, "campaign", j.Campaign, "err", err)
					mu.Lock()
					resp.BatchItemFailures = append(resp.BatchItemFailures, events.SQSBatchItemFailure{ItemIdentifier: r.MessageId})
					mu.Unlock()
				}
			})
		}
		wg.Wait()
		return resp, nil
	})
}
