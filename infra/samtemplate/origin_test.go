package samtemplate_test

import (
	"strings"
	"testing"
)

// TestP11_APIAnswersOnlyThroughCloudFront: CloudFront sends a secret header to the API origin,
// and every function that rate-limits by client address is given the same secret to check, so
// the viewer address CloudFront reports cannot be forged by calling execute-api directly.
func TestP11_APIAnswersOnlyThroughCloudFront(t *testing.T) {
	st, _ := mustLoad(t, nil)
	var secret string
	for _, o := range list(dig(st.Properties("Distribution"), "DistributionConfig", "Origins")) {
		domain, _ := dig(o, "DomainName").(string)
		if !strings.Contains(domain, ".execute-api.") {
			continue
		}
		for _, h := range list(dig(o, "OriginCustomHeaders")) {
			if dig(h, "HeaderName") == "X-Origin-Verify" {
				secret, _ = dig(h, "HeaderValue").(string)
			}
		}
	}
	if !strings.HasPrefix(secret, "{{resolve:secretsmanager:") {
		t.Fatalf("the API origin sends X-Origin-Verify = %q, want a generated secret", secret)
	}
	for _, f := range st.Functions {
		hasAPI := false
		for _, e := range f.Events {
			hasAPI = hasAPI || (e.Type == "Api" && f.LogicalID != "StatusFunction")
		}
		if hasAPI && f.Env["ORIGIN_VERIFY"] != secret {
			t.Errorf("%s serves API routes but is not given the origin secret (ORIGIN_VERIFY = %q)", f.LogicalID, f.Env["ORIGIN_VERIFY"])
		}
	}
}
