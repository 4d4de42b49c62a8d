package main

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/aws-sdk-go-v2/service/ses"
	sestypes "github.com/aws/aws-sdk-go-v2/service/ses/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/aws/smithy-go"

	"github.com/privacyportal/portal/internal/awsenv"
)

// awsCall asks the function to make one AWS call with its own credentials, so the local
// cloud's tests can see what its IAM proxy lets through. Fields are read per service and op.
type awsCall struct {
	Service string `json:"service"` // dynamodb, s3, sqs, ses, kms, ssm
	Op      string `json:"op"`
	// WrongSecret signs the call with a secret that is not the function's.
	WrongSecret bool `json:"wrongSecret,omitempty"`
	// Timeout bounds the call (a Go duration); the default is 8s.
	Timeout string `json:"timeout,omitempty"`

	Table string `json:"table,omitempty"`
	Index string `json:"index,omitempty"`
	PK    string `json:"pk,omitempty"`

	Bucket string   `json:"bucket,omitempty"`
	Key    string   `json:"key,omitempty"`
	Keys   []string `json:"keys,omitempty"`
	Body   string   `json:"body,omitempty"`

	Queue string `json:"queue,omitempty"`

	From      string   `json:"from,omitempty"`
	To        []string `json:"to,omitempty"`
	ConfigSet string   `json:"configSet,omitempty"`
	// Tags are SES message tags (the Tags parameter); Headers are added to a raw message's
	// header (e.g. X-SES-CONFIGURATION-SET, X-SES-MESSAGE-TAGS).
	Tags    map[string]string `json:"tags,omitempty"`
	Headers map[string]string `json:"headers,omitempty"`

	KeyID      string            `json:"keyId,omitempty"`
	Context    map[string]string `json:"context,omitempty"`
	Ciphertext []byte            `json:"ciphertext,omitempty"`

	Name string `json:"name,omitempty"`
}

// awsResult is what came of a call: the SDK's view of the error, as a function would see it.
type awsResult struct {
	OK      bool   `json:"ok"`
	Code    string `json:"code,omitempty"`    // smithy.APIError ErrorCode()
	Message string `json:"message,omitempty"` // smithy.APIError ErrorMessage()
	Status  int    `json:"status,omitempty"`
	Value   []byte `json:"value,omitempty"` // a ciphertext, an object's body, a presigned URL...
}

func (h *handler) call(ctx context.Context, c awsCall) awsResult {
	cfg := h.cfg.Copy()
	if c.WrongSecret {
		creds, err := cfg.Credentials.Retrieve(ctx)
		if err != nil {
			return awsResult{Message: err.Error()}
		}
		cfg.Credentials = credentials.NewStaticCredentialsProvider(creds.AccessKeyID, creds.SecretAccessKey+"x", creds.SessionToken)
	}
	timeout := 8 * time.Second
	if d, err := time.ParseDuration(c.Timeout); err == nil && d > 0 {
		timeout = d
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	value, err := h.do(ctx, cfg, c)
	if err == nil {
		return awsResult{OK: true, Value: value}
	}
	r := awsResult{Message: err.Error()}
	var api smithy.APIError
	if errors.As(err, &api) {
		r.Code, r.Message = api.ErrorCode(), api.ErrorMessage()
	}
	var resp *awshttp.ResponseError
	if errors.As(err, &resp) {
		r.Status = resp.HTTPStatusCode()
	}
	return r
}

func (h *handler) do(ctx context.Context, cfg aws.Config, c awsCall) ([]byte, error) {
	key := func() map[string]types.AttributeValue {
		return map[string]types.AttributeValue{
			"PK": &types.AttributeValueMemberS{Value: c.PK}, "SK": &types.AttributeValueMemberS{Value: "ECHO"},
		}
	}
	switch c.Service {
	case "dynamodb":
		db := dynamodb.NewFromConfig(cfg, func(o *dynamodb.Options) { o.BaseEndpoint = awsenv.Endpoint("DYNAMODB") })
		var err error
		switch c.Op {
		case "GetItem":
			_, err = db.GetItem(ctx, &dynamodb.GetItemInput{TableName: &c.Table, Key: key()})
		case "PutItem":
			_, err = db.PutItem(ctx, &dynamodb.PutItemInput{TableName: &c.Table, Item: key()})
		case "UpdateItem":
			_, err = db.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: &c.Table, Key: key(),
				UpdateExpression:          aws.String("SET touched = :t"),
				ExpressionAttributeValues: map[string]types.AttributeValue{":t": &types.AttributeValueMemberBOOL{Value: true}}})
		case "Query":
			in := &dynamodb.QueryInput{TableName: &c.Table, KeyConditionExpression: aws.String("PK = :p"),
				ExpressionAttributeValues: map[string]types.AttributeValue{":p": &types.AttributeValueMemberS{Value: c.PK}}}
			if c.Index != "" {
				in.IndexName = &c.Index
				in.KeyConditionExpression = aws.String(c.Index + "PK = :p")
			}
			_, err = db.Query(ctx, in)
		case "TransactWriteItems":
			_, err = db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{
				{Put: &types.Put{TableName: &c.Table, Item: key()}},
				{ConditionCheck: &types.ConditionCheck{TableName: &c.Table, ConditionExpression: aws.String("attribute_exists(PK)"),
					Key: map[string]types.AttributeValue{
						"PK": &types.AttributeValueMemberS{Value: c.PK + "#other"}, "SK": &types.AttributeValueMemberS{Value: "ECHO"},
					}}},
			}})
		default:
			return nil, errors.New("unknown dynamodb op " + c.Op)
		}
		return nil, err
	case "s3":
		client := s3.NewFromConfig(cfg, func(o *s3.Options) { o.BaseEndpoint, o.UsePathStyle = awsenv.Endpoint("S3"), awsenv.S3PathStyle() })
		switch c.Op {
		case "GetObject":
			out, err := client.GetObject(ctx, &s3.GetObjectInput{Bucket: &c.Bucket, Key: &c.Key})
			if err != nil {
				return nil, err
			}
			defer out.Body.Close()
			return io.ReadAll(io.LimitReader(out.Body, 1<<20))
		case "PutObject":
			_, err := client.PutObject(ctx, &s3.PutObjectInput{Bucket: &c.Bucket, Key: &c.Key, Body: strings.NewReader(c.Body)})
			return nil, err
		case "DeleteObject":
			_, err := client.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: &c.Bucket, Key: &c.Key})
			return nil, err
		case "DeleteObjects":
			in := &s3.DeleteObjectsInput{Bucket: &c.Bucket, Delete: &s3types.Delete{}}
			for _, k := range c.Keys {
				in.Delete.Objects = append(in.Delete.Objects, s3types.ObjectIdentifier{Key: aws.String(k)})
			}
			out, err := client.DeleteObjects(ctx, in)
			if err != nil {
				return nil, err
			}
			// The outcome per key: "deleted", or the error's code.
			res := map[string]string{}
			for _, d := range out.Deleted {
				res[aws.ToString(d.Key)] = "deleted"
			}
			for _, e := range out.Errors {
				res[aws.ToString(e.Key)] = aws.ToString(e.Code)
			}
			return json.Marshal(res)
		case "ListObjectsV2":
			_, err := client.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: &c.Bucket})
			return nil, err
		case "PresignGetObject":
			req, err := s3.NewPresignClient(client).PresignGetObject(ctx, &s3.GetObjectInput{Bucket: &c.Bucket, Key: &c.Key},
				s3.WithPresignExpires(time.Minute))
			if err != nil {
				return nil, err
			}
			return []byte(req.URL), nil
		}
		return nil, errors.New("unknown s3 op " + c.Op)
	case "sqs":
		client := sqs.NewFromConfig(cfg, func(o *sqs.Options) { o.BaseEndpoint = awsenv.Endpoint("SQS") })
		switch c.Op {
		case "SendMessage":
			_, err := client.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: &c.Queue, MessageBody: aws.String(c.Body)})
			return nil, err
		case "ReceiveMessage":
			_, err := client.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: &c.Queue, WaitTimeSeconds: 0})
			return nil, err
		}
		return nil, errors.New("unknown sqs op " + c.Op)
	case "ses":
		// The value of a send is the MessageId SES answered.
		client := ses.NewFromConfig(cfg, func(o *ses.Options) { o.BaseEndpoint = awsenv.Endpoint("SES") })
		var tags []sestypes.MessageTag
		for _, k := range slices.Sorted(maps.Keys(c.Tags)) {
			tags = append(tags, sestypes.MessageTag{Name: aws.String(k), Value: aws.String(c.Tags[k])})
		}
		var set *string
		if c.ConfigSet != "" {
			set = &c.ConfigSet
		}
		switch c.Op {
		case "SendRawEmail":
			raw := "From: " + c.From + "\r\nTo: " + c.To[0] + "\r\nSubject: iam test\r\n"
			for _, k := range slices.Sorted(maps.Keys(c.Headers)) {
				raw += k + ": " + c.Headers[k] + "\r\n"
			}
			raw += "\r\nHello.\r\n"
			out, err := client.SendRawEmail(ctx, &ses.SendRawEmailInput{Source: &c.From, Destinations: c.To,
				RawMessage: &sestypes.RawMessage{Data: []byte(raw)}, ConfigurationSetName: set, Tags: tags})
			if err != nil {
				return nil, err
			}
			return []byte(aws.ToString(out.MessageId)), nil
		case "SendEmail":
			out, err := client.SendEmail(ctx, &ses.SendEmailInput{Source: &c.From, Destination: &sestypes.Destination{ToAddresses: c.To},
				Message:              &sestypes.Message{Subject: &sestypes.Content{Data: aws.String("iam test")}, Body: &sestypes.Body{Text: &sestypes.Content{Data: aws.String("Hello.")}}},
				ConfigurationSetName: set, Tags: tags})
			if err != nil {
				return nil, err
			}
			return []byte(aws.ToString(out.MessageId)), nil
		}
		return nil, errors.New("unknown ses op " + c.Op)
	case "kms":
		client := kms.NewFromConfig(cfg, func(o *kms.Options) { o.BaseEndpoint = awsenv.Endpoint("KMS") })
		switch c.Op {
		case "Encrypt":
			out, err := client.Encrypt(ctx, &kms.EncryptInput{KeyId: &c.KeyID, Plaintext: []byte(c.Body), EncryptionContext: c.Context})
			if err != nil {
				return nil, err
			}
			return out.CiphertextBlob, nil
		case "Decrypt":
			out, err := client.Decrypt(ctx, &kms.DecryptInput{CiphertextBlob: c.Ciphertext, EncryptionContext: c.Context})
			if err != nil {
				return nil, err
			}
			return out.Plaintext, nil
		case "GenerateDataKey":
			_, err := client.GenerateDataKey(ctx, &kms.GenerateDataKeyInput{KeyId: &c.KeyID, KeySpec: "AES_256", EncryptionContext: c.Context})
			return nil, err
		}
		return nil, errors.New("unknown kms op " + c.Op)
	case "ssm":
		out, err := ssm.NewFromConfig(cfg, func(o *ssm.Options) { o.BaseEndpoint = awsenv.Endpoint("SSM") }).GetParameter(ctx, &ssm.GetParameterInput{Name: &c.Name})
		if err != nil {
			return nil, err
		}
		return []byte(aws.ToString(out.Parameter.Value)), nil
	}
	return nil, errors.New("unknown service " + c.Service)
}
