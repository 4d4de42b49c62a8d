// Package wiring builds what the account family's functions (account, register, mailer)
// share from their environment and AWS clients: the account services' environment, the
// table, and the hash key and the site's address, which load at the first request rather than
// at cold start. Functions of other families wire themselves, so they link none of the
// adapters this package imports.
package wiring

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsddb "github.com/aws/aws-sdk-go-v2/service/dynamodb"
	awskms "github.com/aws/aws-sdk-go-v2/service/kms"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"
	awssqs "github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/privacyportal/portal/internal/account"
	"github.com/privacyportal/portal/internal/awsenv"
	"github.com/privacyportal/portal/internal/consent"
	"github.com/privacyportal/portal/internal/dynamodb"
	"github.com/privacyportal/portal/internal/keyring"
	"github.com/privacyportal/portal/internal/kms"
	"github.com/privacyportal/portal/internal/password"
	"github.com/privacyportal/portal/internal/password/strength"
	"github.com/privacyportal/portal/internal/policy"
	"github.com/privacyportal/portal/internal/privacy"
	"github.com/privacyportal/portal/internal/ratelimit"
	"github.com/privacyportal/portal/internal/requests"
	"github.com/privacyportal/portal/internal/s3"
	"github.com/privacyportal/portal/internal/sqs"
	"github.com/privacyportal/portal/internal/web"
)

// Accounts is what an account-family function is built from.
type Accounts struct {
	AWS   aws.Config
	Env   *account.Env
	Store *dynamodb.Store
	// Handler is an account.Handler with its settings and no services yet: each function adds
	// the services whose routes it serves.
	Handler *account.Handler

	// Site reads the published site (versions.json, portal.json, pages.json).
	Site    *s3.Objects
	siteEnv string
	mu      sync.Mutex
	ready   bool
}

// NewAccounts reads the environment template.yaml sets, loads the AWS configuration once, and
// builds the account services' environment, the table and the handler's settings.
func NewAccounts(ctx context.Context) (*Accounts, error) {
	var env awsenv.Env
	table, siteBucket, keyID := env.String("TABLE_NAME"), env.String("SITE_BUCKET"), env.String("PORTAL_KEY_ID")
	siteURL := env.Optional("SITE_URL")
	cfg := account.Config{
		CodeTTL:    env.Duration("CODE_MINUTES", time.Minute),
		SessionTTL: env.Duration("SESSION_HOURS", time.Hour),
		PendingFor: env.Duration("PENDING_ACCOUNT_DAYS", 24*time.Hour),
		Argon2:     password.DefaultArgon2,
	}
	retention := Retention(&env)
	behindCloudFront, _ := strconv.ParseBool(env.Optional("BEHIND_CLOUDFRONT"))
	if err := env.Err(); err != nil {
		return nil, err
	}
	aws, err := awsenv.Load(ctx)
	if err != nil {
		return nil, fmt.Errorf("load aws config: %w", err)
	}
	store := &dynamodb.Store{Client: awsddb.NewFromConfig(aws, func(o *awsddb.Options) { o.BaseEndpoint = awsenv.Endpoint("DYNAMODB") }), Table: table, Retention: retention}
	site := &s3.Objects{Client: awss3.NewFromConfig(aws, func(o *awss3.Options) {
		o.BaseEndpoint, o.UsePathStyle = awsenv.Endpoint("S3"), awsenv.S3PathStyle()
	}), Bucket: siteBucket}
	jobs := &sqs.Jobs{Client: awssqs.NewFromConfig(aws, func(o *awssqs.Options) { o.BaseEndpoint = awsenv.Endpoint("SQS") }), QueueURL: env.Optional("MAIL_QUEUE_URL")}
	dataKeys := &kms.DataKeys{Client: awskms.NewFromConfig(aws, func(o *awskms.Options) { o.BaseEndpoint = awsenv.Endpoint("KMS") }), KeyID: keyID}
	keys := privacy.NewLazyKeyed(func(ctx context.Context) ([]byte, error) {
		return keyring.Load(ctx, dataKeys, store, keyring.HashKeyName)
	})
	cfg.SiteURL = siteURL
	return &Accounts{
		AWS: aws,
		Env: &account.Env{
			Keys:         keys,
			Limiter:      &ratelimit.Limiter{Counter: store, Keys: keys, Now: time.Now},
			Limits:       account.DefaultLimits,
			Jobs:         jobs,
			Policies:     &policy.Loader{Source: site, TTL: time.Minute, Now: time.Now},
			PasswordRule: strength.Validate,
			Now:          time.Now,
			Config:       cfg,
		},
		Store:   store,
		Handler: &account.Handler{Guard: web.Guard{SiteURL: siteURL, BehindCloudFront: behindCloudFront}},
		Site:    site,
		siteEnv: siteURL,
	}, nil
}

// Retention reads how long the table keeps closed requests and audit entries
// (CLOSED_REQUEST_RETENTION_DAYS, AUDIT_RETENTION_DAYS: P12), for every function that writes
// them. The export worker, which wires itself, reads the first the same way.
func Retention(env *awsenv.Env) dynamodb.Retention {
	return dynamodb.Retention{
		ClosedRequests: env.Duration("CLOSED_REQUEST_RETENTION_DAYS", 24*time.Hour),
		Audit:          env.Duration("AUDIT_RETENTION_DAYS", 24*time.Hour),
	}
}

// Ready loads, once, what the services need and a cold start does not fetch: the hash key
// (from KMS) and the site's address (from the site bucket, when no custom domain is set). A
// function calls it at the start of every invocation; it costs nothing once done, and a
// failure is that invocation's error, tried again at the next.
func (a *Accounts) Ready(ctx context.Context) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.ready {
		return nil
	}
	if err := a.Env.Keys.Ready(ctx); err != nil {
		return err
	}
	url, err := awsenv.SiteURL(ctx, a.siteEnv, a.Site)
	if err != nil {
		return err
	}
	a.Env.Config.SiteURL, a.Handler.SiteURL = url, url
	a.ready = true
	return nil
}

// Operator is who runs the portal, from the environment (OPERATOR_NAME, OPERATOR_CONTACT,
// HOME_REGION), as consent receipts name it; the site's address is set once Ready.
func Operator() consent.Operator {
	return consent.Operator{Name: os.Getenv("OPERATOR_NAME"), Contact: os.Getenv("OPERATOR_CONTACT"), Jurisdiction: os.Getenv("HOME_REGION")}
}

// Requests builds the data-subject requests' environment from an account-family wiring and
// the environment template.yaml sets (REQUEST_RESPONSE_DAYS, REPEAT_WINDOW_DAYS, FREE_REPEATS,
// EXPORT_RETENTION_DAYS, JOB_QUEUE_URL, ERASURE_QUEUE_URL, OPERATOR_CONTACT). Its SiteURL is
// the wiring's, once Ready: call SetSiteURL then.
func Requests(a *Accounts) (*requests.Env, error) {
	var env awsenv.Env
	cfg := requests.Config{
		ResponseDays:  env.Int("REQUEST_RESPONSE_DAYS"),
		CodeTTL:       a.Env.Config.CodeTTL,
		Repeats:       privacy.Repeats{Window: env.Duration("REPEAT_WINDOW_DAYS", 24*time.Hour), Free: env.Int("FREE_REPEATS")},
		ExportLinkTTL: env.Duration("EXPORT_RETENTION_DAYS", 24*time.Hour),
		PresignTTL:    5 * time.Minute,
		OperatorEmail: OperatorEmail(),
	}
	workQueue, eraseQueue := env.String("JOB_QUEUE_URL"), env.String("ERASURE_QUEUE_URL")
	if err := env.Err(); err != nil {
		return nil, err
	}
	if cfg.Repeats.Free < 1 || cfg.ResponseDays < 1 {
		// Zero would flag every request as a repeat, or make it due the day it is filed.
		return nil, fmt.Errorf("configuration: FREE_REPEATS and REQUEST_RESPONSE_DAYS must be at least 1")
	}
	q := awssqs.NewFromConfig(a.AWS, func(o *awssqs.Options) { o.BaseEndpoint = awsenv.Endpoint("SQS") })
	return &requests.Env{
		Keys: a.Env.Keys, Limiter: a.Env.Limiter, Limits: requests.DefaultLimits, Jobs: a.Env.Jobs,
		Work: &sqs.Jobs{Client: q, QueueURL: workQueue}, Erase: &sqs.Jobs{Client: q, QueueURL: eraseQueue},
		Now: time.Now, Config: cfg,
	}, nil
}

// OperatorEmail is where the operator's mail (the digest of due requests) goes: the
// operator's contact (OPERATOR_CONTACT) when it is an address, else none.
func OperatorEmail() string {
	c := strings.TrimSpace(os.Getenv("OPERATOR_CONTACT"))
	if privacy.ValidateEmail("contact", c) != nil {
		return ""
	}
	return c
}
