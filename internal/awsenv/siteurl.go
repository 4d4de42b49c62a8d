package awsenv

import (
	"context"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/service/ssm"
)

// GetParameterAPI is the part of the SSM client SiteURL uses.
type GetParameterAPI interface {
	GetParameter(ctx context.Context, in *ssm.GetParameterInput, optFns ...func(*ssm.Options)) (*ssm.GetParameterOutput, error)
}

// SiteURL returns the portal's origin for mailed links: SITE_URL when the stack has a custom
// domain (or in the local cloud), else the SSM parameter the stack writes CloudFront's domain
// to. A function cannot be given CloudFront's domain directly: the distribution depends on
// the API, which depends on the functions, so the reference would be circular.
func SiteURL(ctx context.Context, siteURL, parameter string, client GetParameterAPI) (string, error) {
	if siteURL != "" {
		return strings.TrimRight(siteURL, "/"), nil
	}
	if parameter == "" {
		return "", fmt.Errorf("neither SITE_URL nor SITE_URL_PARAMETER is set")
	}
	out, err := client.GetParameter(ctx, &ssm.GetParameterInput{Name: &parameter})
	if err != nil {
		return "", fmt.Errorf("read site URL parameter: %w", err)
	}
	if out.Parameter == nil || out.Parameter.Value == nil || !strings.HasPrefix(*out.Parameter.Value, "https://") {
		return "", fmt.Errorf("site URL parameter %s holds no https URL", parameter)
	}
	return strings.TrimRight(*out.Parameter.Value, "/"), nil
}
