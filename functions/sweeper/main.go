// Command sweeper runs on a schedule and deletes accounts that did not become active in time:
// registrations never verified and children's accounts no guardian confirmed. It links the
// table's adapter and nothing else: no mail, no keys.
package main

import (
	"context"
	"log/slog"
	"os"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	awsddb "github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/privacyportal/portal/internal/account"
	"github.com/privacyportal/portal/internal/awsenv"
	"github.com/privacyportal/portal/internal/dynamodb"
)

func main() {
	slog.SetDefault(slog.New(slog.NewJSONHandler(os.Stdout, nil)))
	var env awsenv.Env
	table := env.String("TABLE_NAME")
	if err := env.Err(); err != nil {
		slog.Error("configuration", "err", err)
		os.Exit(1)
	}
	aws, err := awsenv.Load(context.Background())
	if err != nil {
		slog.Error("load aws config", "err", err)
		os.Exit(1)
	}
	db := awsddb.NewFromConfig(aws, func(o *awsddb.Options) { o.BaseEndpoint = awsenv.Endpoint("DYNAMODB") })
	svc := &account.Sweeper{Store: &dynamodb.Store{Client: db, Table: table}, Now: time.Now}
	lambda.Start(func(ctx context.Context) (map[string]int, error) {
		n, err := svc.Sweep(ctx)
		slog.Info("sweep done", "deleted", n)
		return map[string]int{"deleted": n}, err
	})
}
