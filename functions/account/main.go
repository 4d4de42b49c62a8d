// Command account is the Lambda behind the account routes: verification, sign-in and
// sessions, the account page, e-mail changes and guardians' decisions.
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
	h.Sessions = &account.SessionManager{Env: w.Env, Store: w.Store, Codes: h.Verify}
	h.Profile = &account.ProfileManager{Env: w.Env, Store: w.Store}
	h.Guardian = &account.GuardianManager{Env: w.Env, Store: w.Store}
	lambda.Start(apigw.Handle(h.Handle))
}
