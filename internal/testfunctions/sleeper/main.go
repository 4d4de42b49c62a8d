// Command sleeper is a test function for the local cloud: it takes its time, and records when.
// From SQS, a message "<name> <duration>" makes it sleep for the duration and then write the
// S3 object runs/<name>, {"start","end","receive"}: when the sleep began and ended (Unix
// nanoseconds) and the message's receive count. Invoked directly with {"sleep":"<duration>"},
// it sleeps and answers {"slept": ...}. The local cloud's concurrency test reads the times to
// see that a function with ReservedConcurrentExecutions 1 never runs two invokes at once.
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/privacyportal/portal/internal/awsenv"
)

func main() {
	cfg, err := awsenv.Load(context.Background())
	if err != nil {
		panic(err)
	}
	client := s3.NewFromConfig(cfg, func(o *s3.Options) { o.BaseEndpoint, o.UsePathStyle = awsenv.Endpoint("S3"), awsenv.S3PathStyle() })
	bucket := os.Getenv("BUCKET_NAME")
	lambda.Start(func(ctx context.Context, raw json.RawMessage) (any, error) {
		var in struct {
			Sleep   string            `json:"sleep"`
			Records []json.RawMessage `json:"Records"`
		}
		if err := json.Unmarshal(raw, &in); err != nil {
			return nil, err
		}
		if in.Records == nil {
			d, err := time.ParseDuration(in.Sleep)
			if err != nil {
				return nil, err
			}
			time.Sleep(d)
			return map[string]string{"slept": d.String()}, nil
		}
		var ev events.SQSEvent
		if err := json.Unmarshal(raw, &ev); err != nil {
			return nil, err
		}
		for _, m := range ev.Records {
			name, sleep, ok := strings.Cut(m.Body, " ")
			d, err := time.ParseDuration(sleep)
			if !ok || err != nil {
				return nil, fmt.Errorf("message %q: want \"<name> <duration>\"", m.Body)
			}
			start := time.Now()
			time.Sleep(d)
			end := time.Now()
			doc, _ := json.Marshal(map[string]any{"start": start.UnixNano(), "end": end.UnixNano(), "receive": m.Attributes["ApproximateReceiveCount"]})
			key := "runs/" + name
			if _, err := client.PutObject(ctx, &s3.PutObjectInput{Bucket: &bucket, Key: &key, Body: strings.NewReader(string(doc))}); err != nil {
				return nil, err
			}
		}
		return nil, nil
	})
}
