package main

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	awsddb "github.com/aws/aws-sdk-go-v2/service/dynamodb"
	awskms "github.com/aws/aws-sdk-go-v2/service/kms"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"
	awssqs "github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/privacyportal/portal/internal/awsenv"
	"github.com/privacyportal/portal/internal/dynamodb"
	"github.com/privacyportal/portal/internal/kms"
	"github.com/privacyportal/portal/internal/mail"
	"github.com/privacyportal/portal/internal/notices"
	"github.com/privacyportal/portal/internal/privacy"
	"github.com/privacyportal/portal/internal/requests"
	"github.com/privacyportal/portal/internal/s3"
	"github.com/privacyportal/portal/internal/sqs"
)

// The stack outputs portalctl reads (template.yaml, Outputs).
const (
	outputTable     = "TableName"
	outputMailQueue = "MailQueueURL"
	// outputErasureQueue is where erase puts its jobs. A stack without it (deployed before the
	// erasure worker) still works for every other command.
	outputErasureQueue = "ErasureQueueURL"
	// outputClosedRequestDays is how long a request the operator closes is kept (P12). A stack
	// without it, or a portal named by its table, gets dynamodb.DefaultRetention's.
	outputClosedRequestDays = "ClosedRequestRetentionDays"
	// outputKeyID is the KMS key that encrypts the hash key: reapply-erasures decrypts it.
	outputKeyID = "PortalKeyId"
	// outputNoticePlanQueue is where campaign start puts its plan job.
	outputNoticePlanQueue = "NoticePlanQueueURL"
	// outputSiteBucket is the site's bucket, where campaign publish writes public notices.
	outputSiteBucket = "SiteBucketName"
	// outputPortalURL is the portal's address, which campaign preview renders links with.
	outputPortalURL = "PortalURL"
)

// The stack parameters portalctl reads: the operator, as the functions render mail with them
// (OPERATOR_NAME, OPERATOR_CONTACT).
const (
	paramOperatorName    = "OperatorName"
	paramOperatorContact = "OperatorContact"
)

// connect reaches the portal c names, with the operator's own AWS credentials: the SDK's
// default chain (environment, profile, SSO...), not awsenv.Load, which reads only the static
// keys Lambda sets. Endpoints come from AWS_ENDPOINT_URL_<SERVICE>, as in the functions, so
// the same command works on the local cloud.
func connect(ctx context.Context, c Config) (*requests.Operator, error) {
	cfg, c, outs, err := session(ctx, c)
	if err != nil {
		return nil, err
	}
	var retention dynamodb.Retention
	if c.Stack != "" {
		retention = retentionFromStack(outs)
	}
	q := awssqs.NewFromConfig(cfg, func(o *awssqs.Options) { o.BaseEndpoint = awsenv.Endpoint("SQS") })
	// The Operator's methods use only the queues and the clock: no hash key, no limiter. The
	// erasure queue, only erase's, is left nil when the configuration does not name it.
	env := &requests.Env{Jobs: &sqs.Jobs{Client: q, QueueURL: c.MailQueueURL}, Now: time.Now}
	if c.ErasureQueueURL != "" {
		env.Erase = &sqs.Jobs{Client: q, QueueURL: c.ErasureQueueURL}
	}
	return &requests.Operator{
		Env:   env,
		Store: &dynamodb.Store{Client: dynamoDB(cfg), Table: c.Table, Retention: retention},
	}, nil
}

// connectRestore reaches the portal's table and a table restored from its backups, for
// reapply-erasures, with the operator's credentials as connect does. It reads nothing yet: the
// hash key is decrypted by KMS (kms:Decrypt on the portal's key) only when there is a tombstone
// to match.
func connectRestore(ctx context.Context, c Config, restoredTable string) (*restoration, error) {
	cfg, c, _, err := session(ctx, c)
	if err != nil {
		return nil, err
	}
	db := dynamoDB(cfg)
	live := &dynamodb.Store{Client: db, Table: c.Table}
	restored := &dynamodb.Store{Client: db, Table: restoredTable}
	dataKeys := &kms.DataKeys{Client: awskms.NewFromConfig(cfg, func(o *awskms.Options) { o.BaseEndpoint = awsenv.Endpoint("KMS") }), KeyID: c.KeyID}
	return &restoration{
		Table: c.Table, KeyID: c.KeyID, Live: live, Restored: restored,
		Keys: func(ctx context.Context) (*privacy.Keyed, error) { return hashKey(ctx, dataKeys, live, restored) },
	}, nil
}

// connectCampaigns reaches the portal c names for the campaign commands, with the operator's
// credentials as connect does: the table (campaigns, their counters, the audience, marketing
// content), and, when c names them, the planner's queue and the site's bucket. A preview
// renders with the operator and the site's address c names (a stack's parameters and output).
func connectCampaigns(ctx context.Context, c Config) (*notices.Operator, error) {
	cfg, c, _, err := session(ctx, c)
	if err != nil {
		return nil, err
	}
	store := &dynamodb.Store{Client: dynamoDB(cfg), Table: c.Table}
	site := strings.TrimRight(c.SiteURL, "/")
	op := &notices.Operator{
		Store: store, Content: store, Now: time.Now, SiteURL: site,
		Operator: mail.Operator{Name: c.OperatorName, Contact: c.OperatorContact, SiteURL: site},
	}
	// Left nil when not named, so the commands that need them say so.
	if c.NoticePlanQueueURL != "" {
		q := awssqs.NewFromConfig(cfg, func(o *awssqs.Options) { o.BaseEndpoint = awsenv.Endpoint("SQS") })
		op.Plans = &sqs.Jobs{Client: q, QueueURL: c.NoticePlanQueueURL}
	}
	if c.SiteBucket != "" {
		client := awss3.NewFromConfig(cfg, func(o *awss3.Options) {
			o.BaseEndpoint = awsenv.Endpoint("S3")
			if o.BaseEndpoint != nil {
				// The local S3 emulator, on an IP address, takes path-style requests only, and
				// neither sends nor takes the SDK's default checksums (the SDK would log that it
				// cannot validate each answer).
				o.UsePathStyle = true
				o.RequestChecksumCalculation = aws.RequestChecksumCalculationWhenRequired
				o.ResponseChecksumValidation = aws.ResponseChecksumValidationWhenRequired
			}
			o.UsePathStyle = o.UsePathStyle || awsenv.S3PathStyle()
		})
		// Written no-cache: the site's CloudFront behaviour would otherwise keep a notice
		// (and the index) at its edges for a day, and a withdrawal would not show.
		op.Site = &s3.Site{Client: client, Bucket: c.SiteBucket}
	}
	return op, nil
}

// dynamoDB is the DynamoDB client, at AWS_ENDPOINT_URL_DYNAMODB if it is set.
func dynamoDB(cfg aws.Config) *awsddb.Client {
	return awsddb.NewFromConfig(cfg, func(o *awsddb.Options) {
		o.BaseEndpoint = awsenv.Endpoint("DYNAMODB")
		// DynamoDB Local's error responses carry no CRC32, and the SDK would print a warning
		// for each (a stale write is one); AWS's are checked as usual.
		o.DisableValidateResponseChecksum = o.BaseEndpoint != nil
	})
}

// session loads the AWS configuration and, when c names a stack, reads its outputs into c (and
// returns them).
func session(ctx context.Context, c Config) (aws.Config, Config, map[string]string, error) {
	opts := []func(*config.LoadOptions) error{
		// A call the local emulators do not answer must fail, not hang.
		config.WithHTTPClient(awshttp.NewBuildableClient().WithTimeout(awsenv.Timeout)),
	}
	if c.Region != "" {
		opts = append(opts, config.WithRegion(c.Region))
	}
	cfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return aws.Config{}, Config{}, nil, fmt.Errorf("load the AWS configuration: %w", err)
	}
	if cfg.Region == "" {
		return aws.Config{}, Config{}, nil, errors.New("no AWS region: set --region, AWS_REGION or a profile's region")
	}
	if c.Stack == "" {
		return cfg, c, nil, nil
	}
	cf := cloudformation.NewFromConfig(cfg, func(o *cloudformation.Options) { o.BaseEndpoint = awsenv.Endpoint("CLOUDFORMATION") })
	outs, params, err := describeStack(ctx, cf, c.Stack)
	if err != nil {
		return aws.Config{}, Config{}, nil, err
	}
	if c, err = fromStack(c, outs); err != nil {
		return aws.Config{}, Config{}, nil, err
	}
	c.OperatorName, c.OperatorContact = params[paramOperatorName], params[paramOperatorContact]
	return cfg, c, outs, nil
}

// describeStacksAPI is the part of the CloudFormation client portalctl uses.
type describeStacksAPI interface {
	DescribeStacks(ctx context.Context, in *cloudformation.DescribeStacksInput, optFns ...func(*cloudformation.Options)) (*cloudformation.DescribeStacksOutput, error)
}

// describeStack reads a stack's outputs and parameters, by key.
func describeStack(ctx context.Context, cf describeStacksAPI, stack string) (outs, params map[string]string, err error) {
	out, err := cf.DescribeStacks(ctx, &cloudformation.DescribeStacksInput{StackName: &stack})
	if err != nil {
		return nil, nil, fmt.Errorf("read the outputs of stack %s: %w", stack, err)
	}
	if len(out.Stacks) == 0 {
		return nil, nil, fmt.Errorf("no stack %s", stack)
	}
	outs, params = map[string]string{}, map[string]string{}
	for _, o := range out.Stacks[0].Outputs {
		outs[aws.ToString(o.OutputKey)] = aws.ToString(o.OutputValue)
	}
	for _, p := range out.Stacks[0].Parameters {
		params[aws.ToString(p.ParameterKey)] = aws.ToString(p.ParameterValue)
	}
	return outs, params, nil
}

// fromStack sets the table, the queues, the site's bucket and address and the key from the
// stack's outputs. The erasure queue, the planner queue, the bucket and the key are optional:
// the commands that use one say so if the stack has none.
func fromStack(c Config, outs map[string]string) (Config, error) {
	c.ErasureQueueURL, c.KeyID = outs[outputErasureQueue], outs[outputKeyID]
	c.NoticePlanQueueURL, c.SiteBucket, c.SiteURL = outs[outputNoticePlanQueue], outs[outputSiteBucket], outs[outputPortalURL]
	var missing []string
	for _, o := range []struct {
		key string
		to  *string
	}{{outputTable, &c.Table}, {outputMailQueue, &c.MailQueueURL}} {
		if *o.to = outs[o.key]; *o.to == "" {
			missing = append(missing, o.key)
		}
	}
	if len(missing) > 0 {
		return Config{}, fmt.Errorf("stack %s has no output %v: is it the portal's stack?", c.Stack, missing)
	}
	return c, nil
}

// retentionFromStack reads how long the stack keeps closed requests; an output that is missing
// or not a positive number leaves the store's default.
func retentionFromStack(outs map[string]string) dynamodb.Retention {
	var r dynamodb.Retention
	if days, err := strconv.Atoi(outs[outputClosedRequestDays]); err == nil && days > 0 {
		r.ClosedRequests = time.Duration(days) * 24 * time.Hour
	}
	return r
}
