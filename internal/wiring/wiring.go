// Package wiring builds the account service from a function's environment and AWS clients.
// The functions that serve accounts (account, register, sweeper) share it so their mains stay
// a few lines each.
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
	"github.com/privacyportal/portal/internal/s3"
	"github.com/privacyportal/portal/internal/ses"
)

// AccountService reads the environment template.yaml sets, loads the AWS configuration once,
// and builds the service with its store, mailer and policy loader.
func AccountService(ctx context.Context) (*account.Service, error) {
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
	cfg.OriginSecret = env.Optional("ORIGIN_VERIFY")
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
	if cfg.SiteURL, err = awsenv.SiteURL(ctx, siteURLEnv, siteURLParam, ssm.NewFromConfig(aws)); err != nil {
		return nil, err
	}
	operator := mail.Operator{Name: operatorName, Contact: operatorContact, SiteURL: cfg.SiteURL}
	objects := &s3.Objects{Client: awss3.NewFromConfig(aws, func(o *awss3.Options) { o.UsePathStyle = awsenv.S3PathStyle() }), Bucket: siteBucket}
	return &account.Service{
		Store: &dynamodb.Store{Client: awsddb.NewFromConfig(aws), Table: table},
		Mail: &ses.Sender{
			Client: awsses.NewFromConfig(aws), From: (&netmail.Address{Name: operator.Name, Address: sender}).String(),
			ConfigurationSet: configSet, Operator: operator, Now: time.Now,
		},
		Policies: &policy.Loader{Source: objects, TTL: time.Minute, Now: time.Now},
		Keys:     keys,
		Now:      time.Now,
		Config:   cfg,
		Limits:   account.DefaultLimits,
	}, nil
}
