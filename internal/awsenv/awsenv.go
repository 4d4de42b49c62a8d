// Package awsenv loads the AWS configuration a function runs with, once, in main. Endpoints
// come from the SDK's standard AWS_ENDPOINT_URL_<SERVICE> variables, so the same binary talks
// to AWS when deployed and to the emulators in the local cloud.
package awsenv

import (
	"context"
	"net/http"
	"os"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/config"
)

// Timeout bounds every AWS call. The local SES emulator never answers some calls it does not
// implement; without a timeout such a call would hang until the Lambda itself times out.
const Timeout = 8 * time.Second

// Load returns the AWS configuration from the environment.
func Load(ctx context.Context) (aws.Config, error) {
	client := awshttp.NewBuildableClient().WithTimeout(Timeout).WithTransportOptions(func(t *http.Transport) {
		t.MaxIdleConnsPerHost = 16
	})
	return config.LoadDefaultConfig(ctx, config.WithHTTPClient(client))
}

// S3PathStyle reports whether S3 requests must use path-style addressing, as the local S3
// emulator on an IP endpoint needs (S3_FORCE_PATH_STYLE=true).
func S3PathStyle() bool {
	v, _ := strconv.ParseBool(os.Getenv("S3_FORCE_PATH_STYLE"))
	return v
}
