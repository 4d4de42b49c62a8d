package iam

import (
	"encoding/json"
	"strings"
	"testing"
)

const (
	acct  = "000000000000"
	table = "arn:aws:dynamodb:eu-west-1:000000000000:table/lc-PortalTable"
)

var caller = &Caller{
	Function: "SweeperFunction", Account: acct, Region: "eu-west-1",
	RoleARN:    "arn:aws:iam::000000000000:role/lc-SweeperFunctionRole",
	SessionARN: "arn:aws:sts::000000000000:assumed-role/lc-SweeperFunctionRole/lc-SweeperFunction",
}

func mustJSON(t *testing.T, s string) any {
	t.Helper()
	var v any
	if err := json.Unmarshal([]byte(s), &v); err != nil {
		t.Fatalf("bad JSON in test: %v\n%s", err, s)
	}
	return v
}

func identity(t *testing.T, policies string) *Policy {
	t.Helper()
	p, err := ParseFunctionPolicies(mustJSON(t, policies), "eu-west-1", acct)
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	return p
}

func TestEvaluateIdentityPolicies(t *testing.T) {
	sweeper := `[{"Version":"2012-10-17","Statement":[{"Effect":"Allow",
		"Action":["dynamodb:Query","dynamodb:GetItem","dynamodb:BatchWriteItem"],
		"Resource":["` + table + `","` + table + `/index/GSI2"]}]}]`
	tests := []struct {
		name     string
		policies string
		check    Check
		allowed  bool
		explicit bool
	}{
		{"the old sweeper policy refuses UpdateItem", sweeper,
			Check{Action: "dynamodb:UpdateItem", Resource: table}, false, false},
		{"the old sweeper policy allows Query on the GSI", sweeper,
			Check{Action: "dynamodb:Query", Resource: table + "/index/GSI2"}, true, false},
		{"but not on another index", sweeper,
			Check{Action: "dynamodb:Query", Resource: table + "/index/GSI1"}, false, false},
		{"actions match case-insensitively",
			`{"Statement":{"Effect":"Allow","Action":"DynamoDB:getitem","Resource":"` + table + `"}}`,
			Check{Action: "dynamodb:GetItem", Resource: table}, true, false},
		{"action wildcards", `{"Statement":{"Effect":"Allow","Action":"dynamodb:Get*","Resource":"*"}}`,
			Check{Action: "dynamodb:GetItem", Resource: table}, true, false},
		{"action ? wildcard", `{"Statement":{"Effect":"Allow","Action":"s3:?etObject","Resource":"*"}}`,
			Check{Action: "s3:GetObject", Resource: "arn:aws:s3:::b/k"}, true, false},
		{"resource wildcard under a prefix",
			`{"Statement":{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/exports/*"}}`,
			Check{Action: "s3:GetObject", Resource: "arn:aws:s3:::b/exports/x/y.zip"}, true, false},
		{"resource wildcard does not leave its prefix",
			`{"Statement":{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/exports/*"}}`,
			Check{Action: "s3:GetObject", Resource: "arn:aws:s3:::b/other"}, false, false},
		{"resources match case-sensitively",
			`{"Statement":{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/Key"}}`,
			Check{Action: "s3:GetObject", Resource: "arn:aws:s3:::b/key"}, false, false},
		{"a wildcard account matches one segment only",
			`{"Statement":{"Effect":"Allow","Action":"dynamodb:GetItem","Resource":"arn:aws:dynamodb:*:*:table/lc-PortalTable"}}`,
			Check{Action: "dynamodb:GetItem", Resource: table}, true, false},
		{"explicit deny wins over allow",
			`[{"Statement":[{"Effect":"Allow","Action":"dynamodb:*","Resource":"*"},
			{"Effect":"Deny","Action":"dynamodb:DeleteItem","Resource":"` + table + `"}]}]`,
			Check{Action: "dynamodb:DeleteItem", Resource: table}, false, true},
		{"deny elsewhere leaves the allow",
			`[{"Statement":[{"Effect":"Allow","Action":"dynamodb:*","Resource":"*"},
			{"Effect":"Deny","Action":"dynamodb:DeleteItem","Resource":"` + table + `"}]}]`,
			Check{Action: "dynamodb:GetItem", Resource: table}, true, false},
		{"NotAction allows everything but",
			`{"Statement":{"Effect":"Allow","NotAction":"dynamodb:DeleteItem","Resource":"*"}}`,
			Check{Action: "dynamodb:GetItem", Resource: table}, true, false},
		{"NotAction does not allow what it names",
			`{"Statement":{"Effect":"Allow","NotAction":["dynamodb:Delete*"],"Resource":"*"}}`,
			Check{Action: "dynamodb:DeleteItem", Resource: table}, false, false},
		{"NotResource", `{"Statement":{"Effect":"Allow","Action":"s3:GetObject","NotResource":"arn:aws:s3:::b/secret/*"}}`,
			Check{Action: "s3:GetObject", Resource: "arn:aws:s3:::b/secret/x"}, false, false},
		{"no policy allows nothing", `[]`, Check{Action: "s3:GetObject", Resource: "arn:aws:s3:::b/k"}, false, false},
		{"a SAM template grants its actions on the table and its indexes",
			`[{"DynamoDBReadPolicy":{"TableName":"lc-PortalTable"}}]`,
			Check{Action: "dynamodb:Query", Resource: table + "/index/GSI1"}, true, false},
		{"a SAM template grants nothing else",
			`[{"DynamoDBReadPolicy":{"TableName":"lc-PortalTable"}}]`,
			Check{Action: "dynamodb:PutItem", Resource: table}, false, false},
		{"SQSSendMessagePolicy covers SendMessage",
			`[{"SQSSendMessagePolicy":{"QueueName":"lc-JobQueue"}}]`,
			Check{Action: "sqs:SendMessage", Resource: "arn:aws:sqs:eu-west-1:000000000000:lc-JobQueue"}, true, false},
		{"KMSDecryptPolicy on the key ID",
			`[{"KMSDecryptPolicy":{"KeyId":"1234"}}]`,
			Check{Action: "kms:Decrypt", Resource: "arn:aws:kms:eu-west-1:000000000000:key/1234"}, true, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d := Evaluate(&tc.check, caller, identity(t, tc.policies), nil, false, nil)
			if d.Allowed != tc.allowed || d.ExplicitDeny != tc.explicit {
				t.Errorf("decision = %+v, want allowed=%v explicit deny=%v", d, tc.allowed, tc.explicit)
			}
		})
	}
}

func TestEvaluateConditions(t *testing.T) {
	kmsKey := "arn:aws:kms:eu-west-1:000000000000:key/k1"
	allow := func(cond string) string {
		return `{"Statement":{"Effect":"Allow","Action":"kms:Decrypt","Resource":"*","Condition":` + cond + `}}`
	}
	deny := func(cond string) string {
		return `[{"Statement":[{"Effect":"Allow","Action":"kms:Decrypt","Resource":"*"},
			{"Effect":"Deny","Action":"kms:Decrypt","Resource":"*","Condition":` + cond + `}]}]`
	}
	ctx := map[string][]string{
		"kms:encryptioncontext:purpose": {"export"},
		"kms:encryptioncontextkeys":     {"purpose", "subject"},
		"kms:calleraccount":             {acct},
	}
	tests := []struct {
		name, policies string
		keys           map[string][]string
		allowed        bool
	}{
		{"StringEquals matches", allow(`{"StringEquals":{"kms:EncryptionContext:purpose":"export"}}`), ctx, true},
		{"StringEquals: the key name is case-insensitive", allow(`{"StringEquals":{"KMS:ENCRYPTIONCONTEXT:PURPOSE":"export"}}`), ctx, true},
		{"StringEquals: the value is not", allow(`{"StringEquals":{"kms:EncryptionContext:purpose":"Export"}}`), ctx, false},
		{"StringEquals with any of several values", allow(`{"StringEquals":{"kms:EncryptionContext:purpose":["mail","export"]}}`), ctx, true},
		{"StringEqualsIgnoreCase", allow(`{"StringEqualsIgnoreCase":{"kms:EncryptionContext:purpose":"EXPORT"}}`), ctx, true},
		{"StringLike", allow(`{"StringLike":{"kms:EncryptionContext:purpose":"ex*"}}`), ctx, true},
		{"StringNotEquals", allow(`{"StringNotEquals":{"kms:EncryptionContext:purpose":"mail"}}`), ctx, true},
		{"StringNotEquals on the value present", allow(`{"StringNotEquals":{"kms:EncryptionContext:purpose":"export"}}`), ctx, false},
		{"StringNotEquals on an absent context key is true", allow(`{"StringNotEquals":{"kms:EncryptionContext:other":"x"}}`), ctx, true},
		{"StringEquals on an absent context key is false", allow(`{"StringEquals":{"kms:EncryptionContext:other":"x"}}`), ctx, false},
		{"...IfExists on an absent key is true", allow(`{"StringEqualsIfExists":{"kms:EncryptionContext:other":"x"}}`), ctx, true},
		{"Null true on an absent key", allow(`{"Null":{"kms:EncryptionContext:other":"true"}}`), ctx, true},
		{"Null false on a present key", allow(`{"Null":{"kms:EncryptionContext:purpose":"false"}}`), ctx, true},
		{"ForAllValues: every request key listed", allow(`{"ForAllValues:StringEquals":{"kms:EncryptionContextKeys":["purpose","subject","x"]}}`), ctx, true},
		{"ForAllValues: one request key unlisted", allow(`{"ForAllValues:StringEquals":{"kms:EncryptionContextKeys":["purpose"]}}`), ctx, false},
		{"ForAllValues on no values is true", allow(`{"ForAllValues:StringEquals":{"kms:EncryptionContextKeys":["purpose"]}}`), map[string][]string{}, true},
		{"ForAnyValue: one matches", allow(`{"ForAnyValue:StringEquals":{"kms:EncryptionContextKeys":["subject"]}}`), ctx, true},
		{"ForAnyValue: none matches", allow(`{"ForAnyValue:StringLike":{"kms:EncryptionContextKeys":["z*"]}}`), ctx, false},
		{"ForAnyValue on no values is false", allow(`{"ForAnyValue:StringEquals":{"kms:EncryptionContextKeys":["purpose"]}}`), map[string][]string{}, false},
		{"conditions are ANDed", allow(`{"StringEquals":{"kms:EncryptionContext:purpose":"export","kms:CallerAccount":"1"}}`), ctx, false},
		{"Bool on aws:SecureTransport (functions call AWS over TLS)", allow(`{"Bool":{"aws:SecureTransport":"true"}}`), ctx, true},
		{"ArnLike on the principal", allow(`{"ArnLike":{"aws:PrincipalArn":"arn:aws:iam::*:role/lc-*"}}`), ctx, true},
		{"ArnEquals on the principal, other role", allow(`{"ArnEquals":{"aws:PrincipalArn":"arn:aws:iam::000000000000:role/other"}}`), ctx, false},
		{"NumericLessThan", allow(`{"NumericLessThan":{"aws:EpochTime":"99999999999"}}`), ctx, true},
		{"DateLessThan on the current time", allow(`{"DateLessThan":{"aws:CurrentTime":"2999-01-01T00:00:00Z"}}`), ctx, true},
		{"DateGreaterThan on the current time", allow(`{"DateGreaterThan":{"aws:CurrentTime":"2999-01-01"}}`), ctx, false},
		{"IpAddress on aws:SourceIp, which the local cloud cannot know", allow(`{"IpAddress":{"aws:SourceIp":"10.0.0.0/8"}}`), ctx, false},
		{"a NotIpAddress Deny refuses, failing closed", deny(`{"NotIpAddress":{"aws:SourceIp":"10.0.0.0/8"}}`), ctx, false},
		{"an unknown key makes an Allow not allow", allow(`{"StringEquals":{"kms:ViaService":"s3.eu-west-1.amazonaws.com"}}`), ctx, false},
		{"an unknown global key too", allow(`{"StringEquals":{"aws:SourceVpce":"vpce-1"}}`), ctx, false},
		{"a Deny on a matching condition refuses", deny(`{"StringEquals":{"kms:EncryptionContext:purpose":"export"}}`), ctx, false},
		{"a Deny on a non-matching condition does not", deny(`{"StringEquals":{"kms:EncryptionContext:purpose":"mail"}}`), ctx, true},
		{"a Deny on an unknown key refuses (fail closed)", deny(`{"StringNotEquals":{"kms:ViaService":"s3.eu-west-1.amazonaws.com"}}`), ctx, false},
		{"a key of another service is absent, not unknown", allow(`{"StringEqualsIfExists":{"s3:prefix":"x"}}`), ctx, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := &Check{Action: "kms:Decrypt", Resource: kmsKey, Keys: tc.keys}
			if d := Evaluate(c, caller, identity(t, tc.policies), nil, false, nil); d.Allowed != tc.allowed {
				t.Errorf("allowed = %v, want %v", d.Allowed, tc.allowed)
			}
		})
	}
}

func TestEvaluateResourcePolicies(t *testing.T) {
	key := "arn:aws:kms:eu-west-1:000000000000:key/k1"
	resource := func(t *testing.T, doc string) *Policy {
		t.Helper()
		p, err := ParsePolicyDocument(mustJSON(t, doc), "test", true)
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	allowKMS := identity(t, `{"Statement":{"Effect":"Allow","Action":"kms:*","Resource":"*"}}`)
	rootKeyPolicy := `{"Statement":{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::000000000000:root"},"Action":"kms:*","Resource":"*"}}`
	roleKeyPolicy := `{"Statement":{"Effect":"Allow","Principal":{"AWS":"` + caller.RoleARN + `"},"Action":"kms:Decrypt","Resource":"*"}}`
	otherKeyPolicy := `{"Statement":{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::000000000000:role/other"},"Action":"kms:*","Resource":"*"}}`
	tlsOnly := `{"Statement":[{"Effect":"Deny","Principal":"*","Action":"s3:*","Resource":"*","Condition":{"Bool":{"aws:SecureTransport":"false"}}}]}`
	denyAll := `{"Statement":[{"Effect":"Deny","Principal":"*","Action":"s3:DeleteObject","Resource":"*"}]}`
	tests := []struct {
		name     string
		check    Check
		id       *Policy
		res      string
		required bool
		want     Decision
	}{
		{"a key policy delegating to the account lets IAM decide", Check{Action: "kms:Decrypt", Resource: key},
			allowKMS, rootKeyPolicy, true, Decision{Allowed: true}},
		{"...and IAM must allow", Check{Action: "kms:Decrypt", Resource: key},
			identity(t, `[]`), rootKeyPolicy, true, Decision{}},
		{"a key policy naming the role allows alone", Check{Action: "kms:Decrypt", Resource: key},
			identity(t, `[]`), roleKeyPolicy, true, Decision{Allowed: true}},
		{"a key policy naming another role refuses even with IAM", Check{Action: "kms:Decrypt", Resource: key},
			allowKMS, otherKeyPolicy, true, Decision{ResourcePolicy: true}},
		{"a TLS-only bucket policy does not refuse", Check{Action: "s3:GetObject", Resource: "arn:aws:s3:::b/k"},
			identity(t, `{"Statement":{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}}`), tlsOnly, false, Decision{Allowed: true}},
		{"a bucket policy deny refuses", Check{Action: "s3:DeleteObject", Resource: "arn:aws:s3:::b/k"},
			identity(t, `{"Statement":{"Effect":"Allow","Action":"s3:*","Resource":"*"}}`), denyAll, false, Decision{ExplicitDeny: true, ResourcePolicy: true}},
		{"a bucket policy naming the role allows without IAM", Check{Action: "s3:GetObject", Resource: "arn:aws:s3:::b/k"},
			identity(t, `[]`), `{"Statement":{"Effect":"Allow","Principal":{"AWS":"` + caller.RoleARN + `"},"Action":"s3:GetObject","Resource":"*"}}`, false, Decision{Allowed: true}},
		{"a bucket policy naming only the account does not", Check{Action: "s3:GetObject", Resource: "arn:aws:s3:::b/k"},
			identity(t, `[]`), `{"Statement":{"Effect":"Allow","Principal":{"AWS":"000000000000"},"Action":"s3:GetObject","Resource":"*"}}`, false, Decision{}},
		{"a service principal is not the role", Check{Action: "s3:GetObject", Resource: "arn:aws:s3:::b/k"},
			identity(t, `[]`), `{"Statement":{"Effect":"Allow","Principal":{"Service":"cloudfront.amazonaws.com"},"Action":"s3:GetObject","Resource":"*"}}`, false, Decision{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := Evaluate(&tc.check, caller, tc.id, resource(t, tc.res), tc.required, nil); got != tc.want {
				t.Errorf("decision = %+v, want %+v", got, tc.want)
			}
		})
	}
}

func TestParsePoliciesRefusesWhatItCannotEvaluate(t *testing.T) {
	tests := []struct{ name, policies, want string }{
		{"a managed policy name", `["AmazonDynamoDBFullAccess"]`, "managed policy"},
		{"a managed policy ARN", `["arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess"]`, "managed policy"},
		{"an unknown SAM template", `[{"EKSDescribePolicy":{}}]`, "not known"},
		{"a SAM template without its parameter", `[{"DynamoDBCrudPolicy":{}}]`, "TableName"},
		{"a SAM template with an unresolved parameter", `[{"DynamoDBCrudPolicy":{"TableName":{"Ref":"T"}}}]`, "TableName"},
		{"an unknown operator", `{"Statement":{"Effect":"Allow","Action":"s3:GetObject","Resource":"*","Condition":{"StringSoundsLike":{"aws:x":"y"}}}}`, "not supported"},
		{"BinaryEquals", `{"Statement":{"Effect":"Allow","Action":"s3:GetObject","Resource":"*","Condition":{"BinaryEquals":{"aws:x":"QmluYXJ5"}}}}`, "not supported"},
		{"a Principal in an identity policy", `{"Statement":{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"*"}}`, "Principal"},
		{"no Resource", `{"Statement":{"Effect":"Allow","Action":"s3:GetObject"}}`, "Resource"},
		{"a bad Effect", `{"Statement":{"Effect":"Maybe","Action":"s3:GetObject","Resource":"*"}}`, "Effect"},
		{"an unresolved intrinsic", `{"Statement":{"Effect":"Allow","Action":"s3:GetObject","Resource":{"Fn::Sub":"x"}}}`, "resource"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseFunctionPolicies(mustJSON(t, tc.policies), "eu-west-1", acct)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v, want one mentioning %q", err, tc.want)
			}
		})
	}
}

func TestUnusedGrants(t *testing.T) {
	p := identity(t, `[{"Statement":[
		{"Effect":"Allow","Action":["dynamodb:Query","dynamodb:GetItem","dynamodb:BatchWriteItem"],"Resource":["`+table+`","`+table+`/index/GSI2"]},
		{"Effect":"Deny","Action":"dynamodb:DeleteItem","Resource":"*"}]},
		{"SQSSendMessagePolicy":{"QueueName":"q"}}]`)
	used := map[grantRef]bool{}
	for _, c := range []Check{
		{Action: "dynamodb:Query", Resource: table + "/index/GSI2"},
		{Action: "dynamodb:GetItem", Resource: table},
		{Action: "dynamodb:UpdateItem", Resource: table}, // refused: uses nothing
	} {
		Evaluate(&c, caller, p, nil, false, func(st *Statement, i int) { used[grantRef{st, i}] = true })
	}
	var got []string
	for _, g := range p.Unused(func(st *Statement, i int) bool { return used[grantRef{st, i}] }) {
		got = append(got, g.Source+" "+g.Action)
	}
	want := "inline policy 1 dynamodb:BatchWriteItem|SQSSendMessagePolicy sqs:SendMessage*"
	if strings.Join(got, "|") != want {
		t.Errorf("unused = %q, want %q", strings.Join(got, "|"), want)
	}
}

type grantRef struct {
	st *Statement
	i  int
}

func TestGlobAndARNMatch(t *testing.T) {
	tests := []struct {
		pattern, s string
		want       bool
	}{
		{"*", "anything", true},
		{"a*c", "abbbc", true},
		{"a*c", "abbb", false},
		{"a?c", "abc", true},
		{"a?c", "ac", false},
		{"*x*y*", "axxbyz", true},
		{"arn:aws:s3:::b/*", "arn:aws:s3:::b/k/j", true},
		{"arn:aws:s3:::b*", "arn:aws:s3:::bucket/k", true},
		{"arn:aws:dynamodb:*:*:table/t", "arn:aws:dynamodb:eu-west-1:000000000000:table/t", true},
		{"arn:aws:dynamodb:*:table/t", "arn:aws:dynamodb:eu-west-1:000000000000:table/t", false},
		{"arn:aws:sqs:eu-west-1:000000000000:q*", "arn:aws:sqs:eu-west-1:000000000000:queue", true},
	}
	for _, tc := range tests {
		if got := arnMatch(tc.pattern, tc.s); got != tc.want {
			t.Errorf("arnMatch(%q, %q) = %v, want %v", tc.pattern, tc.s, got, tc.want)
		}
	}
}
