// Command register is the Lambda behind POST /api/register. It is the only function that
// checks a new password's strength.
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
	w, err := wiring.NewAccounts(context.Background())
	if err != nil {
		slog.Error("start", "err", err)
		os.Exit(1)
	}
	h := w.Handler
	h.Register = &account.Registrar{Env: w.Env, Store: w.Store, PasswordRule: strength.Validate}
	lambda.Start(apigw.Handle(h.Handle))
}
