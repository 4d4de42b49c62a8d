package awsenv_test

import (
	"context"
	"testing"

	"github.com/privacyportal/portal/internal/awsenv"
	"github.com/privacyportal/portal/internal/privacy"
)

// site fakes our own narrow Source interface: the site bucket's files.
type site map[string]string

func (s site) Get(_ context.Context, key string) ([]byte, error) {
	v, ok := s[key]
	if !ok {
		return nil, privacy.Errorf(privacy.NotFound, "not found")
	}
	return []byte(v), nil
}

func TestSiteURL(t *testing.T) {
	published := site{awsenv.SiteURLKey: `{"url":"https://d111.cloudfront.net/"}`}
	tests := []struct {
		name, env string
		site      site
		want      string
		ok        bool
	}{
		{"custom domain wins", "https://privacy.example.com/", published, "https://privacy.example.com", true},
		{"CloudFront's address from the site", "", published, "https://d111.cloudfront.net", true},
		{"the local gateway", "", site{awsenv.SiteURLKey: `{"url":"http://127.0.0.1:8080"}`}, "http://127.0.0.1:8080", true},
		{"nothing published", "", site{}, "", false},
		{"not JSON", "", site{awsenv.SiteURLKey: `https://x`}, "", false},
		{"plain http elsewhere", "", site{awsenv.SiteURLKey: `{"url":"http://evil.example"}`}, "", false},
		{"LocalStack's API", "", site{awsenv.SiteURLKey: `{"url":"http://a1b2.execute-api.localhost.localstack.cloud:4566/local"}`}, "http://a1b2.execute-api.localhost.localstack.cloud:4566/local", true},
		{"a look-alike of LocalStack's domain", "", site{awsenv.SiteURLKey: `{"url":"http://x.evillocalhost.localstack.cloud"}`}, "", false},
		{"no host", "https://", published, "", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := awsenv.SiteURL(context.Background(), tc.env, tc.site)
			if (err == nil) != tc.ok || got != tc.want {
				t.Errorf("SiteURL = %q, %v; want %q ok=%v", got, err, tc.want, tc.ok)
			}
		})
	}
}

func TestLoadReadsLambdasEnvironment(t *testing.T) {
	t.Setenv("AWS_REGION", "eu-west-1")
	t.Setenv("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "secret")
	t.Setenv("AWS_SESSION_TOKEN", "token")
	t.Setenv("AWS_MAX_ATTEMPTS", "1")
	t.Setenv("AWS_ENDPOINT_URL_DYNAMODB", "http://127.0.0.1:9")
	cfg, err := awsenv.Load(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	creds, err := cfg.Credentials.Retrieve(context.Background())
	if err != nil || creds.AccessKeyID != "AKIDEXAMPLE" || creds.SessionToken != "token" || cfg.Region != "eu-west-1" || cfg.RetryMaxAttempts != 1 {
		t.Errorf("config %+v, credentials %+v, %v", cfg, creds, err)
	}
	if e := awsenv.Endpoint("DYNAMODB"); e == nil || *e != "http://127.0.0.1:9" {
		t.Errorf("DynamoDB endpoint %v", e)
	}
	if e := awsenv.Endpoint("S3"); e != nil {
		t.Errorf("S3 endpoint %v, want none", *e)
	}
	t.Setenv("AWS_REGION", "")
	t.Setenv("AWS_DEFAULT_REGION", "")
	if _, err := awsenv.Load(context.Background()); err == nil {
		t.Error("no region, no error")
	}
}
