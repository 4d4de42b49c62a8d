package samtemplate_test

import (
	"fmt"
	"regexp"
	"strings"
	"testing"
)

// originSecret is the header value CloudFront sends the API origin.
func originSecret(t *testing.T, dist map[string]any) string {
	t.Helper()
	for _, o := range list(dig(dist, "DistributionConfig", "Origins")) {
		domain, _ := dig(o, "DomainName").(string)
		if !strings.Contains(domain, ".execute-api.") {
			continue
		}
		for _, h := range list(dig(o, "OriginCustomHeaders")) {
			if dig(h, "HeaderName") == "X-Origin-Verify" {
				s, _ := dig(h, "HeaderValue").(string)
				return s
			}
		}
	}
	return ""
}

// headerValues lists what the web ACL's allow rule accepts in the origin header.
func headerValues(stmt any) []string {
	if or := dig(stmt, "OrStatement", "Statements"); or != nil {
		var out []string
		for _, s := range list(or) {
			out = append(out, headerValues(s)...)
		}
		return out
	}
	if name, _ := dig(stmt, "ByteMatchStatement", "FieldToMatch", "SingleHeader", "Name").(string); strings.EqualFold(name, "x-origin-verify") &&
		dig(stmt, "ByteMatchStatement", "PositionalConstraint") == "EXACTLY" {
		s, _ := dig(stmt, "ByteMatchStatement", "SearchString").(string)
		return []string{s}
	}
	return nil
}

// TestP11_APIAnswersOnlyThroughCloudFront: CloudFront sends a secret header to the API origin,
// and the API stage's web ACL lets through only requests that carry it (blocking the rest
// before any function runs), so the viewer address CloudFront reports cannot be forged by
// calling execute-api directly. While the secret rotates, the old value is accepted too.
func TestP11_APIAnswersOnlyThroughCloudFront(t *testing.T) {
	for _, old := range []string{"", "the-old-secret"} {
		t.Run(fmt.Sprintf("old value %q", old), func(t *testing.T) {
			st, n := mustLoad(t, map[string]string{"AcceptedOldOriginSecret": old})
			secret := originSecret(t, st.Properties("Distribution"))
			if !strings.HasPrefix(secret, "{{resolve:secretsmanager:") {
				t.Fatalf("the API origin sends X-Origin-Verify = %q, want a generated secret", secret)
			}
			acls := mustResources(t, st, "AWS::WAFv2::WebACLAssociation")
			var acl map[string]any
			for _, id := range acls {
				p := st.Properties(id)
				arn, _ := p["ResourceArn"].(string)
				if strings.Contains(arn, ":apigateway:") && strings.Contains(arn, "/restapis/"+n.ref(st, "Api")+"/stages/") {
					for _, r := range st.Resources("AWS::WAFv2::WebACL") {
						if p["WebACLArn"] == n.arn(st, r) {
							acl = st.Properties(r)
						}
					}
				}
			}
			if acl == nil {
				t.Fatal("no web ACL is associated with the API stage")
			}
			if acl["Scope"] != "REGIONAL" || dig(acl, "DefaultAction", "Block") == nil {
				t.Errorf("the API's web ACL: scope %v, default %v; want REGIONAL, blocking", acl["Scope"], acl["DefaultAction"])
			}
			rules := list(acl["Rules"])
			if len(rules) != 1 || dig(rules[0], "Action", "Allow") == nil {
				t.Fatalf("rules = %v, want one that allows", rules)
			}
			want := []string{secret}
			if old != "" {
				want = append(want, old)
			}
			if got := headerValues(dig(rules[0], "Statement")); strings.Join(got, "|") != strings.Join(want, "|") {
				t.Errorf("the web ACL accepts %q, want exactly %q", got, want)
			}
			if dig(acl, "VisibilityConfig", "SampledRequestsEnabled") != false {
				t.Error("the API's web ACL samples requests: it would keep viewers' addresses and the secret")
			}
		})
	}
}

var secretLike = regexp.MustCompile(`(?i)secret|passw|token|key$|^hash`)

// TestP11_FunctionsAreGivenNoSecrets: nothing a function is given in its environment is a
// secret, or resolves one at deploy: lambda:GetFunctionConfiguration, which read-only roles
// have, shows the environment in the clear. The hash key reaches them encrypted by KMS
// (PORTAL_KEY_ID names the key, not the hash key), and only for its purpose.
func TestP11_FunctionsAreGivenNoSecrets(t *testing.T) {
	st, n := mustLoad(t, nil)
	for _, f := range st.Functions {
		for k, v := range f.Env {
			if strings.Contains(v, "{{resolve:") || (secretLike.MatchString(k) && k != "PORTAL_KEY_ID") {
				t.Errorf("%s is given %s = %q", f.LogicalID, k, v)
			}
		}
	}
	key := st.Properties("PortalKey")
	if key["EnableKeyRotation"] != true {
		t.Error("the portal's KMS key does not rotate")
	}
	keyARN := n.arn(st, "PortalKey")
	for _, f := range st.Functions {
		for _, pol := range list(dig(st.Properties(f.LogicalID), "Policies")) {
			for _, s := range list(dig(pol, "Statement")) {
				for _, a := range strs(dig(s, "Action")) {
					if !strings.HasPrefix(a, "kms:") {
						continue
					}
					if a != "kms:Decrypt" {
						t.Errorf("%s may %s: the functions only decrypt the hash key", f.LogicalID, a)
					}
					if res := strs(dig(s, "Resource")); len(res) != 1 || res[0] != keyARN {
						t.Errorf("%s may %s on %v, want the portal's key alone", f.LogicalID, a, res)
					}
					if dig(s, "Condition", "StringEquals", "kms:EncryptionContext:purpose") != "hash-key" {
						t.Errorf("%s may %s for any purpose", f.LogicalID, a)
					}
				}
			}
		}
	}
}

// TestP11_CloudFrontLimitsRequestsPerClient: a web ACL on CloudFront rate-limits every client
// address, and the API's writes more tightly. CloudFront web ACLs live in us-east-1: a stack
// there makes its own; elsewhere it takes the ARN of one made there (infra/cmd/edgewaf).
func TestP11_CloudFrontLimitsRequestsPerClient(t *testing.T) {
	t.Run("us-east-1", func(t *testing.T) {
		st, n := mustLoadIn(t, "us-east-1", map[string]string{"HomeRegion": "us-east-1"})
		acl := st.Properties("EdgeWebACL")
		if acl == nil || acl["Scope"] != "CLOUDFRONT" {
			t.Fatalf("EdgeWebACL = %v, want a CLOUDFRONT web ACL", acl)
		}
		if got := dig(st.Properties("Distribution"), "DistributionConfig", "WebACLId"); got != n.arn(st, "EdgeWebACL") {
			t.Errorf("the distribution's web ACL is %v, want EdgeWebACL", got)
		}
		limits := map[string]float64{}
		for _, r := range list(acl["Rules"]) {
			rb := dig(r, "Statement", "RateBasedStatement")
			if rb == nil || dig(r, "Action", "Block") == nil || dig(rb, "AggregateKeyType") != "IP" {
				t.Errorf("rule %v is not a blocking per-address rate limit", dig(r, "Name"))
				continue
			}
			scoped := dig(rb, "ScopeDownStatement") != nil
			limits[fmt.Sprint(scoped)] = num(dig(rb, "Limit"))
		}
		if limits["false"] != 1000 || limits["true"] != 100 {
			t.Errorf("limits %v, want 1000 requests and 100 API writes per address per 5 minutes", limits)
		}
	})
	t.Run("elsewhere, given an ARN", func(t *testing.T) {
		arn := "arn:aws:wafv2:us-east-1:000000000000:global/webacl/portal-edge/abc"
		st, _ := mustLoad(t, map[string]string{"EdgeWebACLArn": arn})
		if st.Properties("EdgeWebACL") != nil {
			t.Error("a stack outside us-east-1 declares a CLOUDFRONT web ACL, which CloudFormation would refuse")
		}
		if got := dig(st.Properties("Distribution"), "DistributionConfig", "WebACLId"); got != arn {
			t.Errorf("the distribution's web ACL is %v, want %s", got, arn)
		}
	})
}
