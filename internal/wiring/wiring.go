// Package wiring builds what the account functions (account, register) share from their
// environment and AWS clients: the account services' environment, the table, and the HTTP
// handler's settings. Functions of other families wire themselves, so that they link none of
// the adapters (SES, S3, SSM) this package imports.
package wiring

import (
	"context"
	"fmt"
	netmail "net/mail"
	"time"

	awsddb "github.com/aws/aws-sdk-go-v2/service/dynamodb"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"
	awsses "github.com/aws/aws-sdk-go-v2/service/ses"
	"github.com/aws/aws-sdk-go-v2/service/ssm"

	"github.com/privacyportal/portal/internal/account"
	"github.com/privacyportal/portal/internal/awsenv"
	"github.com/privacyportal/portal/internal/dynamodb"
	"github.com/privacyportal/portal/internal/mail"
	"github.com/privacyportal/portal/internal/password"
	"github.com/privacyportal/portal/internal/policy"
	"github.com/privacyportal/portal/internal/privacy"
	"github.com/privacyportal/portal/internal/ratelimit"
	"github.com/privacyportal/portal/internal/s3"
	"github.com/privacyportal/portal/internal/ses"
)

// Accounts is what an account function is built from.
type Accounts struct {
	Env   *account.Env
	Store *dynamodb.Store
	// Handler is an account.Handler with its settings and no services yet: each function
	// adds the services whose routes it serves.
	Handler *account.Handler
}

// NewAccounts reads the environment template.yaml sets, loads the AWS configuration once, and
// builds the account services' environment, the table and the handler's settings.
func NewAccounts(ctx context.Context) (*Accounts, error) {
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
	originSecret := env.Optional("ORIGIN_VERIFY")
	if err := env.Err(); err != nil {
		return nil, err
	}
	keys, err := privacy.NewKeyed([]byte(hashKey))
	if err != nil {
		return nil, err
	}
	aws, err := awsenv.Load(ctx)
	if err != nil {
		return nil, fmt.Errorf("load aws config: %w", err)
	}
	if cfg.SiteURL, err = awsenv.SiteURL(ctx, siteURLEnv, siteURLParam, ssm.NewFromConfig(aws, func(o *ssm.Options) { o.BaseEndpoint = awsenv.Endpoint("SSM") })); err != nil {
		return nil, err
	}
	operator := mail.Operator{Name: operatorName, Contact: operatorContact, SiteURL: cfg.SiteURL}
	objects := &s3.Objects{Client: awss3.NewFromConfig(aws, func(o *awss3.Options) {
		o.BaseEndpoint, o.UsePathStyle = awsenv.Endpoint("S3"), awsenv.S3PathStyle()
	}), Bucket: siteBucket}
	store := &dynamodb.Store{Client: awsddb.NewFromConfig(aws, func(o *awsddb.Options) { o.BaseEndpoint = awsenv.Endpoint("DYNAMODB") }), Table: table}
	return &Accounts{
		Env: &account.Env{
			Keys:    keys,
			Limiter: &ratelimit.Limiter{Counter: store, Keys: keys, Now: time.Now},
			Limits:  account.DefaultLimits,
			Mail: &ses.Sender{
				Client: awsses.NewFromConfig(aws, func(o *awsses.Options) { o.BaseEndpoint = awsenv.Endpoint("SES") }), From: (&netmail.Address{Name: operator.Name, Address: sender}).String(),
				ConfigurationSet: configSet, Operator: operator, Now: time.Now,
			},
			Policies: &policy.Loader{Source: objects, TTL: time.Minute, Now: time.Now},
			Now:      time.Now,
			Config:   cfg,
		},
		Store:   store,
		Handler: &account.Handler{SiteURL: cfg.SiteURL, OriginSecret: originSecret},
	}, nil
}
