// Package awsenv loads the AWS configuration a function runs with, once, in main, from the
// environment Lambda gives it: region, credentials and, locally, endpoints (the SDK's standard
// AWS_ENDPOINT_URL and AWS_ENDPOINT_URL_<SERVICE> variables), so the same binary talks to AWS
// when deployed and to the emulators in the local cloud.
//
// It does not use the SDK's config package: that one links every credential source the SDK
// knows (SSO, STS web identity, the instance metadata service, shared files...) and their
// packages' init costs several milliseconds of every cold start, while a Lambda function has
// exactly one source, the variables Lambda sets.
package awsenv

import (
	"context"
	"errors"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/credentials"
)

// Timeout bounds every AWS call. The local SES emulator never answers some calls it does not
// implement; without a timeout such a call would hang until the Lambda itself times out.
const Timeout = 8 * time.Second

// Load returns the AWS configuration from the environment.
func Load(context.Context) (aws.Config, error) {
	region := cmpOr(os.Getenv("AWS_REGION"), os.Getenv("AWS_DEFAULT_REGION"))
	if region == "" {
		return aws.Config{}, errors.New("AWS_REGION is not set")
	}
	key, secret := os.Getenv("AWS_ACCESS_KEY_ID"), os.Getenv("AWS_SECRET_ACCESS_KEY")
	if key == "" || secret == "" {
		return aws.Config{}, errors.New("AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are not set")
	}
	client := awshttp.NewBuildableClient().WithTimeout(Timeout).WithTransportOptions(func(t *http.Transport) {
		t.MaxIdleConnsPerHost = 16
	})
	cfg := aws.Config{
		Region:      region,
		Credentials: aws.NewCredentialsCache(credentials.NewStaticCredentialsProvider(key, secret, os.Getenv("AWS_SESSION_TOKEN"))),
		HTTPClient:  client,
	}
	if v := os.Getenv("AWS_ENDPOINT_URL"); v != "" {
		cfg.BaseEndpoint = &v
	}
	if n, err := strconv.Atoi(os.Getenv("AWS_MAX_ATTEMPTS")); err == nil && n > 0 {
		cfg.RetryMaxAttempts = n
	}
	// The local S3 emulator does not understand the SDK's default streaming checksums.
	if strings.EqualFold(os.Getenv("AWS_REQUEST_CHECKSUM_CALCULATION"), "when_required") {
		cfg.RequestChecksumCalculation = aws.RequestChecksumCalculationWhenRequired
	}
	if strings.EqualFold(os.Getenv("AWS_RESPONSE_CHECKSUM_VALIDATION"), "when_required") {
		cfg.ResponseChecksumValidation = aws.ResponseChecksumValidationWhenRequired
	}
	return cfg, nil
}

// Endpoint is a service's endpoint override (AWS_ENDPOINT_URL_<SERVICE>, e.g. DYNAMODB), or
// nil to use the configuration's. Set it as the client's BaseEndpoint.
func Endpoint(service string) *string {
	if v := os.Getenv("AWS_ENDPOINT_URL_" + service); v != "" {
		return &v
	}
	return nil
}

// S3PathStyle reports whether S3 requests must use path-style addressing, as the local S3
// emulator on an IP endpoint needs (S3_FORCE_PATH_STYLE=true).
func S3PathStyle() bool {
	v, _ := strconv.ParseBool(os.Getenv("S3_FORCE_PATH_STYLE"))
	return v
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}
