// Command echo is a test function for the local cloud. Through the API it echoes a JSON body
// (strictly decoded, as every portal endpoint does), a path parameter, or panics on request;
// from SQS and schedules it records what it received in the table, so a test can see it ran.
// Invoked directly with {"calls": [...]}, it makes the AWS calls asked for with its own
// credentials and reports what the SDK made of each (see calls.go): how the local cloud's
// tests see its IAM enforcement from inside a function.
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/privacyportal/portal/internal/apigw"
	"github.com/privacyportal/portal/internal/awsenv"
	"github.com/privacyportal/portal/internal/privacy"
)

type handler struct {
	cfg   aws.Config
	db    *dynamodb.Client
	table string
}

func (h *handler) api(ctx context.Context, req *apigw.Request) (apigw.Response, error) {
	switch {
	case req.Resource == "/api/echo/{id}":
		return apigw.JSON(http.StatusOK, map[string]string{"id": req.PathParameters["id"]})
	case req.Resource == "/api/echo/panic":
		panic("asked to panic")
	case req.Resource == "/api/echo/slow":
		time.Sleep(300 * time.Millisecond)
		return apigw.JSON(http.StatusOK, map[string]string{"slept": "300ms"})
	}
	var in struct {
		Message string `json:"message"`
	}
	if err := apigw.DecodeJSON(req, &in); err != nil {
		return apigw.Response{}, err
	}
	if in.Message == "" {
		return apigw.Response{}, privacy.FieldError("message", "is required")
	}
	return apigw.JSON(http.StatusOK, map[string]string{"message": in.Message})
}

func (h *handler) record(ctx context.Context, key string) error {
	_, err := h.db.PutItem(ctx, &dynamodb.PutItemInput{
		TableName: &h.table,
		Item: map[string]types.AttributeValue{
			"PK": &types.AttributeValueMemberS{Value: "ECHO#" + key},
			"SK": &types.AttributeValueMemberS{Value: "ECHO"},
		},
	})
	return err
}

func (h *handler) invoke(ctx context.Context, raw json.RawMessage) (any, error) {
	var probe struct {
		HTTPMethod string            `json:"httpMethod"`
		Records    []json.RawMessage `json:"Records"`
		Source     string            `json:"source"`
		Calls      []awsCall         `json:"calls"`
	}
	if err := json.Unmarshal(raw, &probe); err != nil {
		return nil, err
	}
	switch {
	case probe.Calls != nil:
		results := make([]awsResult, len(probe.Calls))
		for i, c := range probe.Calls {
			results[i] = h.call(ctx, c)
		}
		return map[string]any{"results": results}, nil
	case probe.HTTPMethod != "":
		var req events.APIGatewayProxyRequest
		if err := json.Unmarshal(raw, &req); err != nil {
			return nil, err
		}
		return apigw.Handle(h.api)(ctx, req)
	case probe.Records != nil:
		var ev events.SQSEvent
		if err := json.Unmarshal(raw, &ev); err != nil {
			return nil, err
		}
		var resp events.SQSEventResponse
		for _, m := range ev.Records {
			if m.Body == "fail" {
				resp.BatchItemFailures = append(resp.BatchItemFailures, events.SQSBatchItemFailure{ItemIdentifier: m.MessageId})
				continue
			}
			if err := h.record(ctx, "SQS#"+m.Body); err != nil {
				return nil, err
			}
		}
		return resp, nil
	case probe.Source == "aws.events":
		return nil, h.record(ctx, "SCHEDULE")
	}
	return nil, fmt.Errorf("unknown event")
}

func main() {
	cfg, err := awsenv.Load(context.Background())
	if err != nil {
		panic(err)
	}
	db := dynamodb.NewFromConfig(cfg, func(o *dynamodb.Options) { o.BaseEndpoint = awsenv.Endpoint("DYNAMODB") })
	h := &handler{cfg: cfg, db: db, table: os.Getenv("TABLE_NAME")}
	lambda.Start(h.invoke)
}
