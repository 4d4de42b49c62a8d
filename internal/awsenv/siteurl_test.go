package awsenv_test

import (
	"context"
	"errors"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/aws/aws-sdk-go-v2/service/ssm/types"

	"github.com/privacyportal/portal/internal/awsenv"
)

// parameters fakes our own narrow GetParameterAPI interface.
type parameters map[string]string

func (p parameters) GetParameter(_ context.Context, in *ssm.GetParameterInput, _ ...func(*ssm.Options)) (*ssm.GetParameterOutput, error) {
	v, ok := p[*in.Name]
	if !ok {
		return nil, errors.New("ParameterNotFound")
	}
	return &ssm.GetParameterOutput{Parameter: &types.Parameter{Value: aws.String(v)}}, nil
}

func TestSiteURL(t *testing.T) {
	ps := parameters{"/portal/url": "https://d111.cloudfront.net/", "/portal/bad": "http://evil.example"}
	tests := []struct {
		name, env, param, want string
		ok                     bool
	}{
		{"custom domain wins", "https://privacy.example.com/", "/portal/url", "https://privacy.example.com", true},
		{"CloudFront domain from the parameter", "", "/portal/url", "https://d111.cloudfront.net", true},
		{"missing parameter", "", "/portal/none", "", false},
		{"non-https parameter", "", "/portal/bad", "", false},
		{"nothing configured", "", "", "", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := awsenv.SiteURL(context.Background(), tc.env, tc.param, ps)
			if (err == nil) != tc.ok || got != tc.want {
				t.Errorf("SiteURL = %q, %v; want %q ok=%v", got, err, tc.want, tc.ok)
			}
		})
	}
}
