// Command register is the Lambda behind POST /api/register. It is the only function that
// checks a new password's strength, whose dictionaries cost ~20 ms of cold start.
package main

import (
	"context"
	"log/slog"
	"os"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/privacyportal/portal/internal/account"
	"github.com/privacyportal/portal/internal/apigw"
	"github.com/privacyportal/portal/internal/password/strength"
	"github.com/privacyportal/portal/internal/wiring"
)

func main() {
	slog.SetDefault(slog.New(slog.NewJSONHandler(os.Stdout, nil)))
	svc, err := wiring.AccountService(context.Background())
	if err != nil {
		slog.Error("start", "err", err)
		os.Exit(1)
	}
	svc.PasswordRule = strength.Validate
	lambda.Start(apigw.Handle((&account.Handler{Service: svc}).Handle))
}
