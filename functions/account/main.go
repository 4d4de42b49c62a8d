// Command account is the Lambda behind the account routes: registration, verification,
// sign-in and sessions, the account page, e-mail changes and guardians' decisions.
package main

import (
	"context"
	"log/slog"
	netmail "net/mail"
	"os"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	awsddb "github.com/aws/aws-sdk-go-v2/service/dynamodb"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"
	awsses "github.com/aws/aws-sdk-go-v2/service/ses"
	"github.com/aws/aws-sdk-go-v2/service/ssm"

	"github.com/privacyportal/portal/functions/internal/account"
	"github.com/privacyportal/portal/functions/internal/apigw"
	"github.com/privacyportal/portal/functions/internal/awsenv"
	"github.com/privacyportal/portal/functions/internal/dynamodb"
	"github.com/privacyportal/portal/functions/internal/mail"
	"github.com/privacyportal/portal/functions/internal/password"
	"github.com/privacyportal/portal/functions/internal/policy"
	"github.com/privacyportal/portal/functions/internal/privacy"
	"github.com/privacyportal/portal/functions/internal/s3"
	"github.com/privacyportal/portal/functions/internal/ses"
)

func main() {
	slog.SetDefault(slog.New(slog.NewJSONHandler(os.Stdout, nil)))
	var env awsenv.Env
	table, siteBucket := env.String("TABLE_NAME"), env.String("SITE_BUCKET")
	sender, configSet := env.String("SENDER_ADDRESS"), env.Optional("SES_CONFIGURATION_SET")
	siteURLEnv, siteURLParam := env.Optional("SITE_URL"), env.Optional("SITE_URL_PARAMETER")
	operatorName, operatorContact := env.String("OPERATOR_NAME"), env.String("OPERATOR_CONTACT")
	cfg := account.Config{
		CodeTTL:    env.Duration("CODE_MINUTES", time.Minute),
		SessionTTL: env.Duration("SESSION_HOURS", time.Hour),
		PendingFor: env.Duration("PENDING_ACCOUNT_DAYS", 24*time.Hour),
		Argon2:     password.DefaultArgon2,
	}
	hashKey := env.String("HASH_KEY")
	if err := env.Err(); err != nil {
		slog.Error("configuration", "err", err)
		os.Exit(1)
	}
	keys, err := privacy.NewKeyed([]byte(hashKey))
	if err != nil {
		slog.Error("hash key", "err", err)
		os.Exit(1)
	}
	aws, err := awsenv.Load(context.Background())
	if err != nil {
		slog.Error("load aws config", "err", err)
		os.Exit(1)
	}
	siteURL, err := awsenv.SiteURL(context.Background(), siteURLEnv, siteURLParam, ssm.NewFromConfig(aws))
	if err != nil {
		slog.Error("site URL", "err", err)
		os.Exit(1)
	}
	cfg.SiteURL = siteURL
	operator := mail.Operator{Name: operatorName, Contact: operatorContact, SiteURL: siteURL}
	objects := &s3.Objects{Client: awss3.NewFromConfig(aws, func(o *awss3.Options) { o.UsePathStyle = awsenv.S3PathStyle() }), Bucket: siteBucket}
	svc := &account.Service{
		Store: &dynamodb.Store{Client: awsddb.NewFromConfig(aws), Table: table},
		Mail: &ses.Sender{Client: awsses.NewFromConfig(aws), From: (&netmail.Address{Name: operator.Name, Address: sender}).String(),
			ConfigurationSet: configSet, Operator: operator, Now: time.Now},
		Policies: &policy.Loader{Source: objects, TTL: time.Minute, Now: time.Now},
		Keys:     keys,
		Now:      time.Now,
		Config:   cfg,
		Limits:   account.DefaultLimits,
	}
	lambda.Start(apigw.Handle((&account.Handler{Service: svc}).Handle))
}
