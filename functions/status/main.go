// Command status is the Lambda behind GET /api/status.
package main

import (
	"context"
	"log/slog"
	"os"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/privacyportal/portal/internal/apigw"
	"github.com/privacyportal/portal/internal/awsenv"
	"github.com/privacyportal/portal/internal/buildinfo"
	"github.com/privacyportal/portal/internal/policy"
	"github.com/privacyportal/portal/internal/s3"
	"github.com/privacyportal/portal/internal/status"
)

func main() {
	slog.SetDefault(slog.New(slog.NewJSONHandler(os.Stdout, nil)))
	cfg, err := awsenv.Load(context.Background())
	if err != nil {
		slog.Error("load aws config", "err", err)
		os.Exit(1)
	}
	client := awss3.NewFromConfig(cfg, func(o *awss3.Options) {
		o.BaseEndpoint, o.UsePathStyle = awsenv.Endpoint("S3"), awsenv.S3PathStyle()
	})
	svc := &status.Service{
		Policies: &policy.Loader{Source: &s3.Objects{Client: client, Bucket: os.Getenv("SITE_BUCKET")}, Now: time.Now, TTL: time.Minute},
		Version:  buildinfo.Version,
	}
	lambda.Start(apigw.Handle(svc.Handle))
}
