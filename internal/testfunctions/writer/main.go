// Command writer is a test function for the local cloud: an SQS consumer that writes one S3
// object per message, jobs/<body>, whose content is the body and the message's receive count.
// A body that starts with "sleep-" makes it wait half a second first. The local cloud's crash test
// kills it in the middle of that upload (Cloud.CrashOn) and sees the message come back and the
// object written once.
package main

import (
	"context"
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
	lambda.Start(func(ctx context.Context, ev events.SQSEvent) error {
		for _, m := range ev.Records {
			if strings.HasPrefix(m.Body, "sleep-") {
				time.Sleep(500 * time.Millisecond)
			}
			key := "jobs/" + m.Body
			body := m.Body + " receive " + m.Attributes["ApproximateReceiveCount"]
			if _, err := client.PutObject(ctx, &s3.PutObjectInput{Bucket: &bucket, Key: &key, Body: strings.NewReader(body)}); err != nil {
				return err
			}
		}
		return nil
	})
}
