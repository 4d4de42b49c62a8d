// Command account is the Lambda behind the account routes: verification, sign-in and
// sessions, the account page, e-mail and password changes, password resets and guardians'
// decisions. Their mail goes to the mail worker through the queue.
package main

import (
	"context"
	"log/slog"
	"os"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/privacyportal/portal/internal/account"
	"github.com/privacyportal/portal/internal/apigw"
	"github.com/privacyportal/portal/internal/wiring"
)

func main() {
	slog.SetDefault(slog.New(slog.NewJSONHandler(os.Stdout, nil)))
	w, err := wiring.NewAccounts(context.Background())
	if err != nil {
		slog.Error("start", "err", err)
		os.Exit(1)
	}
	h := w.Handler
	h.Verify = &account.Verifier{Env: w.Env, Store: w.Store}
	h.Sessions = &account.SessionManager{Env: w.Env, Store: w.Store}
	h.Profile = &account.ProfileManager{Env: w.Env, Store: w.Store}
	h.Passwords = &account.PasswordManager{Env: w.Env, Store: w.Store}
	h.Guardian = &account.GuardianManager{Env: w.Env, Store: w.Store}
	lambda.Start(apigw.Handle(func(ctx context.Context, req *apigw.Request) (apigw.Response, error) {
		if err := w.Ready(ctx); err != nil {
			return apigw.Response{}, err
		}
		return h.Handle(ctx, req)
	}))
}
