// Command consent is the Lambda behind the consent routes: the consent centre and its
// receipts, policy acceptance, the one-click unsubscribe of marketing mail, and the
// first-party page-view counter. Receipts go to the mail worker through the queue.
package main

import (
	"context"
	"log/slog"
	"os"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/privacyportal/portal/internal/account"
	"github.com/privacyportal/portal/internal/apigw"
	"github.com/privacyportal/portal/internal/consent"
	"github.com/privacyportal/portal/internal/wiring"
)

func main() {
	slog.SetDefault(slog.New(slog.NewJSONHandler(os.Stdout, nil)))
	w, err := wiring.NewAccounts(context.Background())
	if err != nil {
		slog.Error("start", "err", err)
		os.Exit(1)
	}
	env := &consent.Env{Keys: w.Env.Keys, Policies: w.Env.Policies, Jobs: w.Env.Jobs, Now: time.Now, Operator: wiring.Operator(), Limiter: w.Env.Limiter}
	h := &consent.Handler{
		Centre:       &consent.Centre{Env: env, Store: w.Store},
		Unsubscriber: &consent.Unsubscriber{Env: env, Store: w.Store},
		Analytics: &consent.Analytics{Env: env, Counter: w.Store, Ledgers: w.Store,
			Pages: &consent.SitePages{Source: w.Site, TTL: 5 * time.Minute, Now: time.Now}},
		Guard: w.Handler.Guard,
	}
	h.Sessions = &account.SessionManager{Env: w.Env, Store: w.Store}
	var once sync.Once
	lambda.Start(apigw.Handle(func(ctx context.Context, req *apigw.Request) (apigw.Response, error) {
		if err := w.Ready(ctx); err != nil {
			return apigw.Response{}, err
		}
		once.Do(func() { env.Operator.SiteURL, h.SiteURL = w.Env.Config.SiteURL, w.Env.Config.SiteURL })
		return h.Handle(ctx, req)
	}))
}
