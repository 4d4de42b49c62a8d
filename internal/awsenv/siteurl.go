package awsenv

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/url"
	"strings"
)

// SiteURLKey is where the deploy writes the portal's address into the site bucket, as
// {"url": "https://..."}. Without a custom domain the address is CloudFront's, known only once
// the stack exists; naming the distribution in the functions' environment would be a circular
// reference (the distribution depends on the API, which depends on the functions).
const SiteURLKey = "portal.json"

// Source reads a file of the published site.
type Source interface {
	Get(ctx context.Context, key string) ([]byte, error)
}

// SiteURL returns the portal's origin for mailed links and the Origin check: siteURL when the
// stack has a custom domain, else what the deploy wrote to SiteURLKey. It must be https, but
// for a host on this machine: a loopback address or localhost (the local cloud's gateway), or a
// name under localhost.localstack.cloud, which LocalStack documents as resolving to 127.0.0.1
// (its API Gateway URLs).
func SiteURL(ctx context.Context, siteURL string, site Source) (string, error) {
	if siteURL == "" {
		b, err := site.Get(ctx, SiteURLKey)
		if err != nil {
			return "", fmt.Errorf("read the site's address (%s): %w", SiteURLKey, err)
		}
		var doc struct {
			URL string `json:"url"`
		}
		if err := json.Unmarshal(b, &doc); err != nil {
			return "", fmt.Errorf("%s: %w", SiteURLKey, err)
		}
		siteURL = doc.URL
	}
	u, err := url.Parse(siteURL)
	if err != nil || u.Host == "" || (u.Scheme != "https" && !(u.Scheme == "http" && isLoopback(u.Hostname()))) {
		return "", fmt.Errorf("the site's address %q is not an https URL", siteURL)
	}
	return strings.TrimRight(siteURL, "/"), nil
}

func isLoopback(host string) bool {
	if host == "localhost" || host == "localhost.localstack.cloud" || strings.HasSuffix(host, ".localhost.localstack.cloud") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
