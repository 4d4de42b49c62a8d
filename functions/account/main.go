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
	svc, err := wiring.AccountService(context.Background())
	if err != nil {
		slog.Error("start", "err", err)
		os.Exit(1)
	}
	lambda.Start(apigw.Handle((&account.Handler{Service: svc}).Handle))
}
