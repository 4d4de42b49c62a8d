package samtemplate_test

// Tests of template.yaml itself: what a deploy of it would create, read from the template
// resolved for one concrete stack. Each test names the promise (PROMISES.md) it keeps, where
// there is one.

import (
	"encoding/json"
	"fmt"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/awslabs/goformation/v7/intrinsics"

	"github.com/privacyportal/portal/infra/samtemplate"
)

// ---------------------------------------------------------------- data

func TestP11_TablesAreEncryptedRecoverableAndRetained(t *testing.T) {
	st, _ := mustLoad(t, nil)
	for _, id := range mustResources(t, st, "AWS::DynamoDB::Table") {
		t.Run(id, func(t *testing.T) {
			p := st.Properties(id)
			checks := []struct {
				name string
				got  any
				want any
			}{
				{"on-demand billing", dig(p, "BillingMode"), "PAY_PER_REQUEST"},
				{"point-in-time recovery", truthy(dig(p, "PointInTimeRecoverySpecification", "PointInTimeRecoveryEnabled")), true},
				{"encryption at rest", truthy(dig(p, "SSESpecification", "SSEEnabled")), true},
				// A stack delete or replacement must never take personal data (and the erasure
				// records that prove what was erased) with it.
				{"DeletionPolicy", dig(st.Raw, "Resources", id, "DeletionPolicy"), "Retain"},
				{"UpdateReplacePolicy", dig(st.Raw, "Resources", id, "UpdateReplacePolicy"), "Retain"},
			}
			for _, c := range checks {
				if c.got != c.want {
					t.Errorf("%s: got %v, want %v", c.name, c.got, c.want)
				}
			}
		})
	}
}

func TestP12_TablesExpireItemsByTTL(t *testing.T) {
	st, _ := mustLoad(t, nil)
	for _, id := range mustResources(t, st, "AWS::DynamoDB::Table") {
		ttl := dig(st.Properties(id), "TimeToLiveSpecification")
		if str(dig(ttl, "AttributeName")) == "" || !truthy(dig(ttl, "Enabled")) {
			t.Errorf("%s: TimeToLiveSpecification = %v, want an enabled TTL attribute", id, ttl)
		}
	}
}

func TestTableDeletionProtectionFollowsParameter(t *testing.T) {
	tests := []struct {
		param string
		want  bool
	}{
		{"true", true},
		{"false", false},
	}
	for _, tc := range tests {
		t.Run("DeletionProtection="+tc.param, func(t *testing.T) {
			st, _ := mustLoad(t, map[string]string{"DeletionProtection": tc.param})
			for _, id := range mustResources(t, st, "AWS::DynamoDB::Table") {
				got, ok := dig(st.Properties(id), "DeletionProtectionEnabled").(bool)
				if !ok || got != tc.want {
					t.Errorf("%s: DeletionProtectionEnabled = %v, want %v", id, dig(st.Properties(id), "DeletionProtectionEnabled"), tc.want)
				}
			}
		})
	}
}

// Operator views (work queues, campaigns) read indexes; an index that projects ALL would copy
// every attribute of a person's items into a second place that erasure must also reach.
func TestIndexesProjectNoPersonalData(t *testing.T) {
	st, _ := mustLoad(t, nil)
	for _, id := range mustResources(t, st, "AWS::DynamoDB::Table") {
		p := st.Properties(id)
		indexes := append(list(dig(p, "GlobalSecondaryIndexes")), list(dig(p, "LocalSecondaryIndexes"))...)
		for _, ix := range indexes {
			name := str(dig(ix, "IndexName"))
			switch got := str(dig(ix, "Projection", "ProjectionType")); got {
			case "KEYS_ONLY", "INCLUDE":
			default:
				t.Errorf("%s index %s: ProjectionType = %q, want KEYS_ONLY or INCLUDE", id, name, got)
			}
		}
	}
}

// P17: erased data leaves the point-in-time backups within BackupDays; that is only true if the
// recovery window is the one the parameter (and the published policy) states.
func TestP17_BackupWindowMatchesBackupDays(t *testing.T) {
	st, _ := mustLoad(t, nil)
	days := num(st.Params["BackupDays"])
	if days != 35 {
		t.Fatalf("BackupDays = %v, want 35 (DynamoDB's point-in-time recovery window)", st.Params["BackupDays"])
	}
	for _, id := range mustResources(t, st, "AWS::DynamoDB::Table") {
		// Absent means DynamoDB's default, 35 days.
		if v := dig(st.Properties(id), "PointInTimeRecoverySpecification", "RecoveryPeriodInDays"); v != nil && num(v) != days {
			t.Errorf("%s: RecoveryPeriodInDays = %v, want %v (BackupDays)", id, v, days)
		}
	}
}

// ---------------------------------------------------------------- storage

func TestP11_BucketsAreEncryptedPrivateAndTLSOnly(t *testing.T) {
	st, n := mustLoad(t, nil)
	for _, id := range mustResources(t, st, "AWS::S3::Bucket") {
		t.Run(id, func(t *testing.T) {
			p := st.Properties(id)
			rules := list(dig(p, "BucketEncryption", "ServerSideEncryptionConfiguration"))
			if len(rules) == 0 || str(dig(rules[0], "ServerSideEncryptionByDefault", "SSEAlgorithm")) == "" {
				t.Errorf("no default encryption: BucketEncryption = %v", dig(p, "BucketEncryption"))
			}
			for _, flag := range []string{"BlockPublicAcls", "BlockPublicPolicy", "IgnorePublicAcls", "RestrictPublicBuckets"} {
				if !truthy(dig(p, "PublicAccessBlockConfiguration", flag)) {
					t.Errorf("PublicAccessBlockConfiguration.%s is not true", flag)
				}
			}
			if got := str(dig(p, "OwnershipControls", "Rules", 0, "ObjectOwnership")); got != "BucketOwnerEnforced" {
				t.Errorf("ObjectOwnership = %q, want BucketOwnerEnforced (no ACLs)", got)
			}
			arn := n.arn(st, id)
			if !hasTLSOnlyBucketPolicy(st, n.ref(st, id), arn) {
				t.Errorf("no bucket policy denies aws:SecureTransport=false on %s and %s/*", arn, arn)
			}
		})
	}
}

// hasTLSOnlyBucketPolicy reports whether some bucket policy for the bucket denies every S3
// action over plain HTTP, on the bucket and on its objects.
func hasTLSOnlyBucketPolicy(st *samtemplate.Stack, bucketName, bucketARN string) bool {
	for _, id := range st.Resources("AWS::S3::BucketPolicy") {
		p := st.Properties(id)
		if str(dig(p, "Bucket")) != bucketName {
			continue
		}
		for _, s := range list(dig(p, "PolicyDocument", "Statement")) {
			if deniesInsecureTransport(s, "s3:*") &&
				slices.Contains(strs(dig(s, "Resource")), bucketARN) &&
				slices.Contains(strs(dig(s, "Resource")), bucketARN+"/*") {
				return true
			}
		}
	}
	return false
}

// deniesInsecureTransport reports whether a policy statement denies action to everyone when
// the request did not come over TLS.
func deniesInsecureTransport(s any, action string) bool {
	principal := dig(s, "Principal")
	everyone := principal == "*" || dig(principal, "AWS") == "*"
	cond := dig(s, "Condition", "Bool", "aws:SecureTransport")
	insecure := cond == "false" || cond == false
	return dig(s, "Effect") == "Deny" && everyone && slices.Contains(strs(dig(s, "Action")), action) && insecure
}

func TestP12_ExportsExpireAfterExportRetentionDays(t *testing.T) {
	tests := []struct {
		name   string
		params map[string]string
		want   float64
	}{
		{"default", nil, 7},
		{"override", map[string]string{"ExportRetentionDays": "3"}, 3},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			st, _ := mustLoad(t, tc.params)
			var expiry, abort bool
			for _, r := range list(dig(st.Properties("ExportsBucket"), "LifecycleConfiguration", "Rules")) {
				if dig(r, "Status") != "Enabled" || dig(r, "Prefix") != nil || dig(r, "Filter") != nil {
					continue // only a rule over the whole bucket counts
				}
				if got := num(dig(r, "ExpirationInDays")); got == tc.want {
					expiry = true
				} else if got != -1 {
					t.Errorf("ExpirationInDays = %v, want %v", got, tc.want)
				}
				if num(dig(r, "AbortIncompleteMultipartUpload", "DaysAfterInitiation")) > 0 {
					abort = true
				}
			}
			if !expiry {
				t.Errorf("no enabled lifecycle rule expires every export after %v days", tc.want)
			}
			if !abort {
				t.Error("no enabled lifecycle rule aborts incomplete multipart uploads (a failed export would linger)")
			}
		})
	}
}

// ---------------------------------------------------------------- queues

func TestP11_QueuesAreEncryptedTLSOnlyAndDeadLettered(t *testing.T) {
	st, n := mustLoad(t, nil)
	queues := mustResources(t, st, "AWS::SQS::Queue")
	dlqs := map[string]bool{} // ARNs that some queue redrives to
	for _, id := range queues {
		if arn := str(dig(st.Properties(id), "RedrivePolicy", "deadLetterTargetArn")); arn != "" {
			dlqs[arn] = true
		}
	}
	for _, id := range queues {
		t.Run(id, func(t *testing.T) {
			p := st.Properties(id)
			if !truthy(dig(p, "SqsManagedSseEnabled")) && str(dig(p, "KmsMasterKeyId")) == "" {
				t.Error("no server-side encryption (SqsManagedSseEnabled or KmsMasterKeyId)")
			}
			arn := n.arn(st, id)
			if !dlqs[arn] {
				// Not itself a dead-letter queue: it must have one, in this stack.
				target := str(dig(p, "RedrivePolicy", "deadLetterTargetArn"))
				if !slices.ContainsFunc(queues, func(q string) bool { return n.arn(st, q) == target && q != id }) {
					t.Errorf("RedrivePolicy.deadLetterTargetArn = %q, want another queue of this stack", target)
				}
				if num(dig(p, "RedrivePolicy", "maxReceiveCount")) < 1 {
					t.Errorf("RedrivePolicy.maxReceiveCount = %v, want >= 1", dig(p, "RedrivePolicy", "maxReceiveCount"))
				}
			}
			if !hasTLSOnlyQueuePolicy(st, n.ref(st, id), arn) {
				t.Errorf("no queue policy denies aws:SecureTransport=false on %s", arn)
			}
		})
	}
	if got, want := str(dig(st.Properties("JobQueue"), "RedrivePolicy", "deadLetterTargetArn")), n.arn(st, "JobDeadLetterQueue"); got != want {
		t.Errorf("JobQueue redrives to %q, want JobDeadLetterQueue (%q)", got, want)
	}
}

func hasTLSOnlyQueuePolicy(st *samtemplate.Stack, queueURL, queueARN string) bool {
	for _, id := range st.Resources("AWS::SQS::QueuePolicy") {
		p := st.Properties(id)
		if !slices.Contains(strs(dig(p, "Queues")), queueURL) {
			continue
		}
		for _, s := range list(dig(p, "PolicyDocument", "Statement")) {
			if deniesInsecureTransport(s, "sqs:*") && slices.Contains(strs(dig(s, "Resource")), queueARN) {
				return true
			}
		}
	}
	return false
}

// ---------------------------------------------------------------- home region (P04)

func TestP04_DeployRefusedOutsideHomeRegion(t *testing.T) {
	tests := []struct {
		name   string
		region string
		params map[string]string
		want   bool
	}{
		{"default home region", "eu-west-1", nil, true},
		{"another region", "us-east-1", nil, false},
		{"home region moved with the deploy", "ap-southeast-1", map[string]string{"HomeRegion": "ap-southeast-1"}, true},
		{"home region moved, deploy not", "eu-west-1", map[string]string{"HomeRegion": "ap-southeast-1"}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			st, _ := mustLoadIn(t, tc.region, tc.params)
			assertions := list(dig(st.Raw, "Rules", "HomeRegionOnly", "Assertions"))
			if len(assertions) == 0 {
				t.Fatal("no Rules.HomeRegionOnly.Assertions")
			}
			got := true
			for _, a := range assertions {
				b, ok := dig(a, "Assert").(bool)
				if !ok {
					t.Fatalf("assertion did not resolve to a boolean: %v", dig(a, "Assert"))
				}
				got = got && b
			}
			if got != tc.want {
				t.Errorf("deploy to %s with HomeRegion %s allowed = %v, want %v", tc.region, st.Params["HomeRegion"], got, tc.want)
			}
		})
	}
}

// The resolved test above would also pass if the rule compared two constants; this one reads the
// rule as written.
func TestP04_HomeRegionRuleComparesRegionWithParameter(t *testing.T) {
	data, err := os.ReadFile(templatePath)
	if err != nil {
		t.Fatal(err)
	}
	b, err := intrinsics.ProcessYAML(data, &intrinsics.ProcessorOptions{NoProcess: true})
	if err != nil {
		t.Fatal(err)
	}
	var raw map[string]any
	if err := json.Unmarshal(b, &raw); err != nil {
		t.Fatal(err)
	}
	rule := dig(raw, "Rules", "HomeRegionOnly")
	if c := dig(rule, "RuleCondition"); c != nil {
		t.Errorf("RuleCondition = %v: the rule must apply to every deploy", c)
	}
	var found bool
	for _, a := range list(dig(rule, "Assertions")) {
		args := list(dig(a, "Assert", "Fn::Equals"))
		if len(args) != 2 {
			continue
		}
		refs := []string{str(dig(args[0], "Ref")), str(dig(args[1], "Ref"))}
		slices.Sort(refs)
		if refs[0] == "AWS::Region" && refs[1] == "HomeRegion" {
			found = true
		}
	}
	if !found {
		t.Errorf("no assertion is Fn::Equals [Ref AWS::Region, Ref HomeRegion]: %v", rule)
	}
}

// ---------------------------------------------------------------- functions

func TestFunctionsRunProvidedAL2023OnARM64(t *testing.T) {
	st, _ := mustLoad(t, nil)
	global := dig(st.Raw, "Globals", "Function")
	if got := str(dig(global, "Runtime")); got != "provided.al2023" {
		t.Errorf("Globals.Function.Runtime = %q, want provided.al2023", got)
	}
	if got := strs(dig(global, "Architectures")); !slices.Equal(got, []string{"arm64"}) {
		t.Errorf("Globals.Function.Architectures = %v, want [arm64]", got)
	}
	if got := str(dig(global, "Handler")); got != "bootstrap" {
		t.Errorf("Globals.Function.Handler = %q, want bootstrap", got)
	}
	if len(st.Functions) == 0 {
		t.Fatal("template has no functions")
	}
	for _, f := range st.Functions {
		p := f.Properties
		if p.Runtime == nil || *p.Runtime != "provided.al2023" {
			t.Errorf("%s: Runtime = %v, want provided.al2023", f.LogicalID, p.Runtime)
		}
		if !slices.Equal(p.Architectures, []string{"arm64"}) {
			t.Errorf("%s: Architectures = %v, want [arm64]", f.LogicalID, p.Architectures)
		}
		if p.Handler == nil || *p.Handler != "bootstrap" {
			t.Errorf("%s: Handler = %v, want bootstrap", f.LogicalID, p.Handler)
		}
	}
}

func TestFunctionsBuildWithMakefile(t *testing.T) {
	st, _ := mustLoad(t, nil)
	for _, id := range mustResources(t, st, "AWS::Serverless::Function") {
		if got := dig(st.Raw, "Resources", id, "Metadata", "BuildMethod"); got != "makefile" {
			t.Errorf("%s: Metadata.BuildMethod = %v, want makefile", id, got)
		}
	}
}

func TestAPIEventsRouteThroughRestAPIUnderAPIPrefix(t *testing.T) {
	st, n := mustLoad(t, nil)
	api := n.ref(st, "Api")
	var routes int
	for _, f := range st.Functions {
		for _, e := range f.Events {
			if e.Type != "Api" {
				continue
			}
			routes++
			if got := e.String("RestApiId"); got != api {
				t.Errorf("%s event %s: RestApiId = %q, want the Api resource (%q); without it SAM makes an implicit API", f.LogicalID, e.Name, got, api)
			}
			if p := e.String("Path"); !strings.HasPrefix(p, "/api/") {
				t.Errorf("%s event %s: Path = %q, want it under /api/ (CloudFront routes only /api/* to the API)", f.LogicalID, e.Name, p)
			}
		}
		for _, e := range f.Events {
			if e.Type == "HttpApi" {
				t.Errorf("%s event %s: HttpApi events are not in LocalStack's free tier; use Api", f.LogicalID, e.Name)
			}
		}
	}
	if routes == 0 {
		t.Error("no function has an Api event")
	}
}

// P11: function and API access logs hold no personal data, and are not kept forever.
func TestP11_FunctionLogGroupsHaveRetention(t *testing.T) {
	tests := []struct {
		name   string
		params map[string]string
		want   float64
	}{
		{"default", nil, 30},
		{"override", map[string]string{"LogRetentionDays": "14"}, 14},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			st, n := mustLoad(t, tc.params)
			retention := map[string]float64{} // log group name -> days
			for _, id := range mustResources(t, st, "AWS::Logs::LogGroup") {
				p := st.Properties(id)
				days := num(dig(p, "RetentionInDays"))
				if days != tc.want {
					t.Errorf("log group %s: RetentionInDays = %v, want %v (LogRetentionDays)", id, dig(p, "RetentionInDays"), tc.want)
				}
				retention[str(dig(p, "LogGroupName"))] = days
			}
			for _, id := range mustResources(t, st, "AWS::Serverless::Function") {
				group := "/aws/lambda/" + n.ref(st, id)
				if _, ok := retention[group]; !ok {
					t.Errorf("%s: no AWS::Logs::LogGroup named %s (Lambda would create one that never expires)", id, group)
				}
			}
		})
	}
}

// ---------------------------------------------------------------- least privilege (P11)

func TestP11_FunctionPoliciesGrantOnlyThisStacksResources(t *testing.T) {
	st, n := mustLoad(t, nil)
	mustResources(t, st, "AWS::Serverless::Function")
	for _, v := range newPrivilegeChecker(st, n).violations(st) {
		t.Errorf("least privilege: %s", v)
	}

	// The checker must fail loudly on the grants it exists to stop; prove it on small templates.
	t.Run("checker", func(t *testing.T) {
		tests := []struct {
			name string
			fn   string // YAML lines under the function's Properties
			want string // substring of the violation; "" = none expected
		}{
			{"rejects Action *",
				`Policies: [{Statement: [{Effect: Allow, Action: "*", Resource: !GetAtt Bucket.Arn}]}]`, `action "*"`},
			{"rejects service:*",
				`Policies: [{Statement: [{Effect: Allow, Action: ["s3:GetObject", "s3:*"], Resource: !Sub "${Bucket.Arn}/*"}]}]`, `action "s3:*"`},
			{"rejects Resource * on an action that has resource-level permissions",
				`Policies: [{Statement: [{Effect: Allow, Action: s3:GetObject, Resource: "*"}]}]`, `resource "*"`},
			{"rejects another stack's resource",
				`Policies: [{Statement: [{Effect: Allow, Action: s3:GetObject, Resource: "arn:aws:s3:::someone-elses-bucket/*"}]}]`, "names no resource of this stack"},
			{"rejects wildcard account",
				`Policies: [{Statement: [{Effect: Allow, Action: dynamodb:GetItem, Resource: !Sub "arn:aws:dynamodb:${AWS::Region}:*:table/${Table}"}]}]`, "wildcard"},
			{"rejects NotAction",
				`Policies: [{Statement: [{Effect: Allow, NotAction: iam:*, Resource: !GetAtt Bucket.Arn}]}]`, "NotAction"},
			{"rejects a managed policy",
				`Policies: [AmazonS3FullAccess]`, "managed policy"},
			{"rejects a policy template outside this stack",
				`Policies: [{S3CrudPolicy: {BucketName: someone-elses-bucket}}]`, "names no resource of this stack"},
			{"rejects an unscoped policy template",
				`Policies: [{SESEmailTemplateCrudPolicy: {}}]`, "not a scoped policy template"},
			{"rejects an external role",
				"Role: arn:aws:iam::123456789012:role/admin", "Role"},
			{"rejects SES send as any identity",
				`Policies: [{Statement: [{Effect: Allow, Action: ses:SendRawEmail, Resource: !Sub "arn:aws:ses:${AWS::Region}:${AWS::AccountId}:identity/*"}]}]`, "names no resource of this stack"},
			{"accepts scoped inline statements",
				`Policies: [{Statement: [{Effect: Allow, Action: [s3:GetObject, s3:PutObject], Resource: !Sub "${Bucket.Arn}/exports/*"}, {Effect: Deny, Action: "*", Resource: "*"}]}]`, ""},
			{"accepts policy templates on this stack's resources",
				`Policies: [{DynamoDBCrudPolicy: {TableName: !Ref Table}}, {SQSSendMessagePolicy: {QueueName: !GetAtt Queue.QueueName}}, {SESCrudPolicy: {IdentityName: !Ref SenderAddress}}]`, ""},
			{"accepts SES send as the sender identity and configuration set",
				`Policies: [{Statement: [{Effect: Allow, Action: ses:SendRawEmail, Resource: [!Sub "arn:aws:ses:${AWS::Region}:${AWS::AccountId}:identity/${SenderAddress}", !Sub "arn:aws:ses:${AWS::Region}:${AWS::AccountId}:configuration-set/${Mail}"]}]}]`, ""},
			{"accepts the listed actions that have no resource-level permissions",
				`Policies: [{Statement: [{Effect: Allow, Action: [xray:PutTraceSegments, xray:PutTelemetryRecords], Resource: "*"}]}]`, ""},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				st, n := mustParse(t, checkerTemplate(tc.fn), nil)
				got := newPrivilegeChecker(st, n).violations(st)
				if tc.want == "" {
					if len(got) != 0 {
						t.Errorf("violations = %q, want none", got)
					}
					return
				}
				if !slices.ContainsFunc(got, func(v string) bool { return strings.Contains(v, tc.want) }) {
					t.Errorf("violations = %q, want one containing %q", got, tc.want)
				}
			})
		}
	})
}

func checkerTemplate(fnProperties string) string {
	return `
Transform: AWS::Serverless-2016-10-31
Parameters:
  SenderAddress: {Type: String, Default: privacy@example.com}
Resources:
  Table: {Type: AWS::DynamoDB::Table, Properties: {BillingMode: PAY_PER_REQUEST}}
  Bucket: {Type: AWS::S3::Bucket}
  Queue: {Type: AWS::SQS::Queue}
  Mail: {Type: AWS::SES::ConfigurationSet}
  Fn:
    Type: AWS::Serverless::Function
    Properties:
      Handler: bootstrap
      ` + fnProperties + "\n"
}

// unscopedActions are the actions that AWS authorizes only against Resource "*" (they have no
// resource-level permissions). A statement may use "*" only if every action in it is listed here.
var unscopedActions = map[string]string{
	"xray:PutTraceSegments":    "X-Ray has no resource-level permissions (SAM grants these itself for Tracing: Active)",
	"xray:PutTelemetryRecords": "X-Ray has no resource-level permissions (SAM grants these itself for Tracing: Active)",
	"ses:GetSendQuota":         "SES account-level call, no resource-level permissions",
	"cloudwatch:PutMetricData": "CloudWatch metrics have no resource-level permissions",
}

// sesSendActions may name an SES identity (the sender address or its domain) rather than a
// resource of the stack: identities are verified outside CloudFormation.
var sesSendActions = []string{"ses:SendEmail", "ses:SendRawEmail"}

// scopedTemplates are SAM policy templates whose grants are confined to the resource their
// parameters name (see SAM's policy_templates.json).
var scopedTemplates = map[string]bool{
	"DynamoDBCrudPolicy": true, "DynamoDBReadPolicy": true, "DynamoDBWritePolicy": true,
	"S3ReadPolicy": true, "S3WritePolicy": true, "S3CrudPolicy": true,
	"SQSSendMessagePolicy": true, "SQSPollerPolicy": true,
	"SESCrudPolicy": true, "SESSendBouncePolicy": true,
	"LambdaInvokePolicy": true,
}

// unscopedTemplates are SAM policy templates that grant on "*" and are acceptable only because
// their actions have no resource-level permissions.
var unscopedTemplates = map[string]string{
	"CloudWatchPutMetricPolicy": "cloudwatch:PutMetricData has no resource-level permissions",
}

// privilegeChecker finds IAM grants wider than the resources of one stack.
type privilegeChecker struct {
	names      []string // physical names of the stack's resources
	identities []string // SES identities the stack may send as
}

func newPrivilegeChecker(st *samtemplate.Stack, n testNamer) privilegeChecker {
	var c privilegeChecker
	for id := range st.Raw["Resources"].(map[string]any) {
		c.names = append(c.names, n.name(id))
	}
	// SSM parameters the stack declares with an explicit name: a function may not reference
	// the parameter resource itself when that would make a circular dependency, so its ARN is
	// built from the same name.
	for _, id := range st.Resources("AWS::SSM::Parameter") {
		if name, ok := st.Properties(id)["Name"].(string); ok && name != "" {
			c.names = append(c.names, "parameter"+name)
		}
	}
	if sender := st.Params["SenderAddress"]; sender != "" {
		c.identities = append(c.identities, sender)
		if _, domain, ok := strings.Cut(sender, "@"); ok {
			c.identities = append(c.identities, domain)
		}
	}
	return c
}

// violations checks every function's Policies and Role, and every IAM resource in the stack.
func (c privilegeChecker) violations(st *samtemplate.Stack) []string {
	var out []string
	for _, id := range st.Resources("AWS::Serverless::Function") {
		p := st.Properties(id)
		if role, ok := p["Role"]; ok {
			out = append(out, fmt.Sprintf("%s: Role = %v: a role from outside the function's Policies is not checked; use Policies", id, role))
		}
		for _, pol := range list(p["Policies"]) {
			out = append(out, c.policy(id, pol)...)
		}
	}
	for _, typ := range []string{"AWS::IAM::Role", "AWS::IAM::Policy", "AWS::IAM::ManagedPolicy"} {
		for _, id := range st.Resources(typ) {
			p := st.Properties(id)
			docs := []any{p["PolicyDocument"]}
			for _, inline := range list(p["Policies"]) {
				docs = append(docs, dig(inline, "PolicyDocument"))
			}
			for _, d := range docs {
				if d != nil {
					out = append(out, c.document(id, d)...)
				}
			}
			for _, arn := range list(p["ManagedPolicyArns"]) {
				out = append(out, fmt.Sprintf("%s: managed policy %v grants on resources outside this stack", id, arn))
			}
		}
	}
	return out
}

// policy checks one entry of a function's Policies: a managed policy name or ARN, a SAM policy
// template, or an inline policy document.
func (c privilegeChecker) policy(where string, pol any) []string {
	m, ok := pol.(map[string]any)
	if !ok {
		return []string{fmt.Sprintf("%s: managed policy %v grants on resources outside this stack", where, pol)}
	}
	if _, ok := m["Statement"]; ok {
		return c.document(where, m)
	}
	var out []string
	for name, args := range m {
		if _, ok := unscopedTemplates[name]; ok {
			continue
		}
		if !scopedTemplates[name] {
			out = append(out, fmt.Sprintf("%s: %s is not a scoped policy template", where, name))
			continue
		}
		params, _ := args.(map[string]any)
		if len(params) == 0 {
			out = append(out, fmt.Sprintf("%s: %s has no parameters to scope it", where, name))
		}
		for k, v := range params {
			s, ok := v.(string)
			if !ok || !(slices.Contains(c.names, s) || slices.Contains(c.identities, s)) {
				out = append(out, fmt.Sprintf("%s: %s %s = %v names no resource of this stack", where, name, k, v))
			}
		}
	}
	return out
}

func (c privilegeChecker) document(where string, doc any) []string {
	var out []string
	for i, s := range list(dig(doc, "Statement")) {
		out = append(out, c.statement(fmt.Sprintf("%s statement %d", where, i), s)...)
	}
	return out
}

var serviceWildcard = regexp.MustCompile(`^[a-z0-9-]+:\*$`)

func (c privilegeChecker) statement(where string, s any) []string {
	if dig(s, "Effect") != "Allow" {
		return nil // Deny narrows; it never widens
	}
	var out []string
	for _, k := range []string{"NotAction", "NotResource", "NotPrincipal"} {
		if dig(s, k) != nil {
			out = append(out, fmt.Sprintf("%s: %s grants everything it does not list", where, k))
		}
	}
	actions := strs(dig(s, "Action"))
	for _, a := range actions {
		if a == "*" || serviceWildcard.MatchString(a) {
			out = append(out, fmt.Sprintf("%s: action %q grants a whole service", where, a))
		}
	}
	for _, r := range list(dig(s, "Resource")) {
		arn, ok := r.(string)
		switch {
		case !ok:
			out = append(out, fmt.Sprintf("%s: resource %v did not resolve to an ARN", where, r))
		case arn == "*":
			for _, a := range actions {
				if _, ok := unscopedActions[a]; !ok {
					out = append(out, fmt.Sprintf("%s: resource \"*\" for %s, which has resource-level permissions", where, a))
				}
			}
		default:
			out = append(out, c.resource(where, arn, actions)...)
		}
	}
	return out
}

func (c privilegeChecker) resource(where, arn string, actions []string) []string {
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) < 6 || parts[0] != "arn" {
		return []string{fmt.Sprintf("%s: resource %q is not an ARN", where, arn)}
	}
	for _, p := range parts[1:5] {
		if strings.Contains(p, "*") {
			return []string{fmt.Sprintf("%s: resource %q has a wildcard partition, service, region or account", where, arn)}
		}
	}
	if slices.ContainsFunc(c.names, func(n string) bool { return strings.Contains(parts[5], n) }) {
		return nil
	}
	sendsMail := slices.ContainsFunc(actions, func(a string) bool { return slices.Contains(sesSendActions, a) })
	if sendsMail && parts[2] == "ses" && slices.ContainsFunc(c.identities, func(id string) bool { return parts[5] == "identity/"+id }) {
		return nil
	}
	return []string{fmt.Sprintf("%s: resource %q names no resource of this stack", where, arn)}
}

// ---------------------------------------------------------------- API

func TestP11_APIIsThrottledRESTAndLogsNoPersonalData(t *testing.T) {
	st, n := mustLoad(t, map[string]string{"ApiThrottleRate": "7", "ApiThrottleBurst": "11"})
	for _, typ := range []string{"AWS::Serverless::HttpApi", "AWS::ApiGatewayV2::Api"} {
		if ids := st.Resources(typ); len(ids) > 0 {
			t.Errorf("%s %v: the portal's API is REST (HTTP APIs are not in LocalStack's free tier)", typ, ids)
		}
	}
	if got := resourceType(st, "Api"); got != "AWS::Serverless::Api" {
		t.Fatalf("Api is a %q, want AWS::Serverless::Api", got)
	}
	p := st.Properties("Api")

	var throttled bool
	for _, m := range list(dig(p, "MethodSettings")) {
		if dig(m, "ResourcePath") == "/*" && dig(m, "HttpMethod") == "*" &&
			num(dig(m, "ThrottlingRateLimit")) == 7 && num(dig(m, "ThrottlingBurstLimit")) == 11 {
			throttled = true
		}
	}
	if !throttled {
		t.Errorf("MethodSettings = %v, want /* * throttled at ApiThrottleRate/ApiThrottleBurst", dig(p, "MethodSettings"))
	}

	dest := str(dig(p, "AccessLogSetting", "DestinationArn"))
	if !slices.ContainsFunc(st.Resources("AWS::Logs::LogGroup"), func(id string) bool { return n.arn(st, id) == dest }) {
		t.Errorf("AccessLogSetting.DestinationArn = %q, want a log group of this stack (which has a retention)", dest)
	}
	format := str(dig(p, "AccessLogSetting", "Format"))
	if format == "" {
		t.Error("AccessLogSetting.Format is empty")
	}
	for _, personal := range []string{"sourceIp", "userAgent", "caller", "user"} {
		if strings.Contains(strings.ToLower(format), strings.ToLower(personal)) {
			t.Errorf("access log format contains %q: access logs must hold no personal data\n%s", personal, format)
		}
	}
}

func TestAPIErrorsAreProblemJSON(t *testing.T) {
	st, n := mustLoad(t, nil)
	byType := map[string]map[string]any{}
	for _, id := range st.Resources("AWS::ApiGateway::GatewayResponse") {
		p := st.Properties(id)
		if str(dig(p, "RestApiId")) != n.ref(st, "Api") {
			t.Errorf("%s: RestApiId = %v, want the Api resource", id, dig(p, "RestApiId"))
		}
		byType[str(dig(p, "ResponseType"))] = p
	}
	tests := []struct {
		responseType string
		status       string // "" = API Gateway's own status is kept
	}{
		{"MISSING_AUTHENTICATION_TOKEN", "404"}, // an unknown route, to API Gateway
		{"THROTTLED", "429"},
		{"REQUEST_TOO_LARGE", "413"},
		{"DEFAULT_4XX", ""},
		{"DEFAULT_5XX", ""},
	}
	for _, tc := range tests {
		t.Run(tc.responseType, func(t *testing.T) {
			p, ok := byType[tc.responseType]
			if !ok {
				t.Fatalf("no AWS::ApiGateway::GatewayResponse for %s", tc.responseType)
			}
			if got := str(dig(p, "StatusCode")); got != tc.status {
				t.Errorf("StatusCode = %q, want %q", got, tc.status)
			}
			// Header values in gateway responses are static strings in single quotes.
			if got := dig(p, "ResponseParameters", "gatewayresponse.header.Content-Type"); got != "'application/problem+json'" {
				t.Errorf("Content-Type = %v, want 'application/problem+json'", got)
			}
			tmpls, _ := dig(p, "ResponseTemplates").(map[string]any)
			if len(tmpls) == 0 {
				t.Fatal("no ResponseTemplates")
			}
			for ct, tmpl := range tmpls {
				body := renderGatewayTemplate(str(tmpl))
				var problem map[string]any
				if err := json.Unmarshal([]byte(body), &problem); err != nil {
					t.Fatalf("template %s renders invalid JSON: %v\n%s", ct, err, body)
				}
				if str(problem["title"]) == "" {
					t.Errorf("problem has no title: %s", body)
				}
				switch s, has := problem["status"]; {
				case tc.status == "" && has:
					t.Errorf("problem claims status %v, but %s covers many status codes", s, tc.responseType)
				case tc.status != "" && fmt.Sprint(s) != tc.status:
					t.Errorf("problem status = %v, want %s", s, tc.status)
				}
			}
		})
	}
}

var contextVar = regexp.MustCompile(`\$context\.[A-Za-z.]+`)

// renderGatewayTemplate substitutes $context variables the way API Gateway does for gateway
// responses (plain substitution, no VTL). $context.error.messageString is documented as "the
// quoted value of $context.error.message", so it arrives with its own quotes.
func renderGatewayTemplate(tmpl string) string {
	return contextVar.ReplaceAllStringFunc(tmpl, func(v string) string {
		switch v {
		case "$context.error.messageString":
			return `"Missing Authentication Token"`
		case "$context.error.message":
			return `Missing Authentication Token`
		}
		return "x"
	})
}

// ---------------------------------------------------------------- CloudFront

const (
	cachingDisabled  = "4135ea2d-6df8-44a3-9df3-4b5a84be39ad" // managed cache policy CachingDisabled
	oneYearInSeconds = 31536000
)

func TestCloudFrontReadsSiteThroughOriginAccessControl(t *testing.T) {
	st, n := mustLoad(t, nil)
	for _, id := range mustResources(t, st, "AWS::CloudFront::Distribution") {
		cfg := dig(st.Properties(id), "DistributionConfig")
		site := origin(cfg, str(dig(cfg, "DefaultCacheBehavior", "TargetOriginId")))
		if site == nil {
			t.Fatalf("%s: default behaviour targets no origin", id)
		}
		oac := str(dig(site, "OriginAccessControlId"))
		if !slices.ContainsFunc(st.Resources("AWS::CloudFront::OriginAccessControl"), func(o string) bool {
			return n.Attr(o, "AWS::CloudFront::OriginAccessControl", "Id") == oac &&
				dig(st.Properties(o), "OriginAccessControlConfig", "SigningBehavior") == "always"
		}) {
			t.Errorf("%s: site origin OriginAccessControlId = %q, want an always-signing OAC of this stack", id, oac)
		}
		if got := dig(site, "S3OriginConfig", "OriginAccessIdentity"); got != "" {
			t.Errorf("%s: site origin OriginAccessIdentity = %v, want \"\" (OAC, not the legacy OAI)", id, got)
		}
		if want := n.Attr("SiteBucket", "AWS::S3::Bucket", "RegionalDomainName"); dig(site, "DomainName") != want {
			t.Errorf("%s: site origin DomainName = %v, want the SiteBucket (%s)", id, dig(site, "DomainName"), want)
		}
	}
}

func TestCloudFrontSendsAPIUncachedToRestAPI(t *testing.T) {
	st, n := mustLoad(t, nil)
	for _, id := range mustResources(t, st, "AWS::CloudFront::Distribution") {
		cfg := dig(st.Properties(id), "DistributionConfig")
		var api any
		for _, b := range list(dig(cfg, "CacheBehaviors")) {
			if dig(b, "PathPattern") == "/api/*" {
				api = b
			}
		}
		if api == nil {
			t.Fatalf("%s: no /api/* cache behaviour", id)
		}
		if got := dig(api, "CachePolicyId"); got != cachingDisabled {
			t.Errorf("/api/* CachePolicyId = %v, want CachingDisabled (%s): API answers are personal", got, cachingDisabled)
		}
		if methods := strs(dig(api, "AllowedMethods")); !slices.Contains(methods, "POST") || !slices.Contains(methods, "DELETE") {
			t.Errorf("/api/* AllowedMethods = %v, want all methods", methods)
		}
		o := origin(cfg, str(dig(api, "TargetOriginId")))
		wantDomain := n.ref(st, "Api") + ".execute-api." + testRegion + ".amazonaws.com"
		if got := dig(o, "DomainName"); got != wantDomain {
			t.Errorf("/api/* origin DomainName = %v, want %s", got, wantDomain)
		}
		if got, want := dig(o, "OriginPath"), "/"+st.Params["Stage"]; got != want {
			t.Errorf("/api/* origin OriginPath = %v, want %s", got, want)
		}
		if got := dig(o, "CustomOriginConfig", "OriginProtocolPolicy"); got != "https-only" {
			t.Errorf("/api/* origin OriginProtocolPolicy = %v, want https-only", got)
		}
	}
}

func TestP11_CloudFrontEnforcesHTTPSAndSecurityHeaders(t *testing.T) {
	tests := []struct {
		name   string
		params map[string]string
	}{
		{"CloudFront domain", nil},
		{"custom domain", map[string]string{
			"SiteDomain":     "privacy.example.com",
			"CertificateArn": "arn:aws:acm:us-east-1:123456789012:certificate/0000",
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			st, n := mustLoad(t, tc.params)
			for _, id := range mustResources(t, st, "AWS::CloudFront::Distribution") {
				cfg := dig(st.Properties(id), "DistributionConfig")
				if domain := tc.params["SiteDomain"]; domain != "" {
					if got := strs(dig(cfg, "Aliases")); !slices.Equal(got, []string{domain}) {
						t.Errorf("Aliases = %v, want [%s]", got, domain)
					}
					if got := str(dig(cfg, "ViewerCertificate", "MinimumProtocolVersion")); got != "TLSv1.2_2021" {
						t.Errorf("MinimumProtocolVersion = %q, want TLSv1.2_2021", got)
					}
					if got := dig(cfg, "ViewerCertificate", "AcmCertificateArn"); got != tc.params["CertificateArn"] {
						t.Errorf("AcmCertificateArn = %v, want the CertificateArn parameter", got)
					}
				}
				behaviours := append([]any{dig(cfg, "DefaultCacheBehavior")}, list(dig(cfg, "CacheBehaviors"))...)
				for _, b := range behaviours {
					path := str(dig(b, "PathPattern"))
					if path == "" {
						path = "default"
					}
					switch got := dig(b, "ViewerProtocolPolicy"); got {
					case "https-only", "redirect-to-https":
					default:
						t.Errorf("%s behaviour: ViewerProtocolPolicy = %v, want https-only or redirect-to-https", path, got)
					}
					policy := str(dig(b, "ResponseHeadersPolicyId"))
					hp := ""
					for _, h := range st.Resources("AWS::CloudFront::ResponseHeadersPolicy") {
						if n.ref(st, h) == policy {
							hp = h
						}
					}
					if hp == "" {
						t.Errorf("%s behaviour: ResponseHeadersPolicyId = %q, want a policy of this stack", path, policy)
						continue
					}
					checkSecurityHeaders(t, path, dig(st.Properties(hp), "ResponseHeadersPolicyConfig", "SecurityHeadersConfig"))
				}
			}
		})
	}
}

func checkSecurityHeaders(t *testing.T, path string, h any) {
	t.Helper()
	csp := parseCSP(str(dig(h, "ContentSecurityPolicy", "ContentSecurityPolicy")))
	script, ok := csp["script-src"]
	if !ok {
		script = csp["default-src"]
	}
	if len(script) == 0 {
		t.Errorf("%s: CSP has neither script-src nor default-src", path)
	}
	for _, bad := range []string{"'unsafe-inline'", "'unsafe-eval'", "*", "data:", "http:"} {
		if slices.Contains(script, bad) {
			t.Errorf("%s: CSP script-src allows %s: %v", path, bad, script)
		}
	}
	if got := csp["frame-ancestors"]; !slices.Equal(got, []string{"'none'"}) {
		t.Errorf("%s: CSP frame-ancestors = %v, want 'none'", path, got)
	}
	if got := num(dig(h, "StrictTransportSecurity", "AccessControlMaxAgeSec")); got < oneYearInSeconds {
		t.Errorf("%s: HSTS max-age = %v, want >= %d (a year)", path, got, oneYearInSeconds)
	}
	if dig(h, "ContentTypeOptions") == nil {
		t.Errorf("%s: no ContentTypeOptions (X-Content-Type-Options: nosniff)", path)
	}
	if got := dig(h, "FrameOptions", "FrameOption"); got != "DENY" {
		t.Errorf("%s: FrameOptions = %v, want DENY", path, got)
	}
	switch got := str(dig(h, "ReferrerPolicy", "ReferrerPolicy")); got {
	case "", "unsafe-url", "no-referrer-when-downgrade":
		t.Errorf("%s: ReferrerPolicy = %q, want one that does not leak paths to other sites", path, got)
	}
	for _, k := range []string{"ContentSecurityPolicy", "StrictTransportSecurity", "ContentTypeOptions", "FrameOptions", "ReferrerPolicy"} {
		if !truthy(dig(h, k, "Override")) {
			t.Errorf("%s: %s.Override is not true: an origin could weaken it", path, k)
		}
	}
}

// parseCSP splits a Content-Security-Policy into directive -> sources.
func parseCSP(policy string) map[string][]string {
	out := map[string][]string{}
	for _, d := range strings.Split(policy, ";") {
		f := strings.Fields(d)
		if len(f) > 0 {
			out[strings.ToLower(f[0])] = f[1:]
		}
	}
	return out
}

func origin(cfg any, id string) any {
	for _, o := range list(dig(cfg, "Origins")) {
		if dig(o, "Id") == id {
			return o
		}
	}
	return nil
}
