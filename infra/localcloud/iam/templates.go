package iam

import (
	"fmt"
	"sort"
	"strings"
)

// samTemplate is what SAM expands one policy template to (its policy_templates.json): the
// parameters it takes and its statements. ${Partition}, ${Region} and ${Account} are the
// stack's; other ${Name}s are the template's parameters.
type samTemplate struct {
	params     []string
	statements []samStatement
}

type samStatement struct {
	actions   []string
	resources []string
}

const (
	ddbTable  = "arn:${Partition}:dynamodb:${Region}:${Account}:table/${TableName}"
	ddbIndex  = ddbTable + "/index/*"
	s3Bucket  = "arn:${Partition}:s3:::${BucketName}"
	s3Objects = s3Bucket + "/*"
	sqsQueue  = "arn:${Partition}:sqs:${Region}:${Account}:${QueueName}"
	sesIdent  = "arn:${Partition}:ses:${Region}:${Account}:identity/${IdentityName}"
	kmsKey    = "arn:${Partition}:kms:${Region}:${Account}:key/${KeyId}"
)

// samTemplates are the policy templates the local cloud knows. A function naming any other
// makes the local cloud refuse to start: what it grants would otherwise go unchecked.
var samTemplates = map[string]samTemplate{
	"DynamoDBCrudPolicy": {[]string{"TableName"}, []samStatement{{
		[]string{"dynamodb:GetItem", "dynamodb:DeleteItem", "dynamodb:PutItem", "dynamodb:Scan", "dynamodb:Query",
			"dynamodb:UpdateItem", "dynamodb:BatchWriteItem", "dynamodb:BatchGetItem", "dynamodb:DescribeTable",
			"dynamodb:ConditionCheckItem"},
		[]string{ddbTable, ddbIndex}}}},
	"DynamoDBReadPolicy": {[]string{"TableName"}, []samStatement{{
		[]string{"dynamodb:GetItem", "dynamodb:Scan", "dynamodb:Query", "dynamodb:BatchGetItem", "dynamodb:DescribeTable"},
		[]string{ddbTable, ddbIndex}}}},
	"DynamoDBWritePolicy": {[]string{"TableName"}, []samStatement{{
		[]string{"dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:BatchWriteItem"},
		[]string{ddbTable, ddbIndex}}}},
	"DynamoDBReconfigurePolicy": {[]string{"TableName"}, []samStatement{{
		[]string{"dynamodb:UpdateTable"}, []string{ddbTable}}}},
	"SQSSendMessagePolicy": {[]string{"QueueName"}, []samStatement{{
		[]string{"sqs:SendMessage*"}, []string{sqsQueue}}}},
	"SQSPollerPolicy": {[]string{"QueueName"}, []samStatement{{
		[]string{"sqs:ChangeMessageVisibility", "sqs:ChangeMessageVisibilityBatch", "sqs:DeleteMessage",
			"sqs:DeleteMessageBatch", "sqs:GetQueueAttributes", "sqs:ReceiveMessage"},
		[]string{sqsQueue}}}},
	"S3ReadPolicy": {[]string{"BucketName"}, []samStatement{{
		[]string{"s3:GetObject", "s3:ListBucket", "s3:GetBucketLocation", "s3:GetObjectVersion", "s3:GetLifecycleConfiguration"},
		[]string{s3Bucket, s3Objects}}}},
	"S3WritePolicy": {[]string{"BucketName"}, []samStatement{{
		[]string{"s3:PutObject", "s3:PutObjectAcl", "s3:PutLifecycleConfiguration"},
		[]string{s3Bucket, s3Objects}}}},
	"S3CrudPolicy": {[]string{"BucketName"}, []samStatement{{
		[]string{"s3:GetObject", "s3:ListBucket", "s3:GetBucketLocation", "s3:GetObjectVersion", "s3:PutObject",
			"s3:PutObjectAcl", "s3:GetLifecycleConfiguration", "s3:PutLifecycleConfiguration", "s3:DeleteObject"},
		[]string{s3Bucket, s3Objects}}}},
	"S3FullAccessPolicy": {[]string{"BucketName"}, []samStatement{
		{[]string{"s3:GetObject", "s3:GetObjectAcl", "s3:GetObjectVersion", "s3:PutObject", "s3:PutObjectAcl",
			"s3:DeleteObject", "s3:DeleteObjectTagging", "s3:DeleteObjectVersionTagging", "s3:GetObjectTagging",
			"s3:GetObjectVersionTagging", "s3:PutObjectTagging", "s3:PutObjectVersionTagging"},
			[]string{s3Objects}},
		{[]string{"s3:ListBucket", "s3:GetBucketLocation", "s3:GetLifecycleConfiguration", "s3:PutLifecycleConfiguration"},
			[]string{s3Bucket}}}},
	"SESCrudPolicy": {[]string{"IdentityName"}, []samStatement{{
		[]string{"ses:GetIdentityVerificationAttributes", "ses:SendEmail", "ses:SendRawEmail", "ses:VerifyEmailIdentity"},
		[]string{sesIdent}}}},
	"SESSendBouncePolicy": {[]string{"IdentityName"}, []samStatement{{
		[]string{"ses:SendBounce"}, []string{sesIdent}}}},
	"SESBulkTemplatedCrudPolicy": {[]string{"IdentityName"}, []samStatement{{
		[]string{"ses:GetIdentityVerificationAttributes", "ses:SendEmail", "ses:SendRawEmail", "ses:SendTemplatedEmail",
			"ses:SendBulkTemplatedEmail", "ses:VerifyEmailIdentity"},
		[]string{sesIdent}}}},
	"SESBulkTemplatedCrudPolicy_v2": {[]string{"IdentityName", "TemplateName"}, []samStatement{
		{[]string{"ses:SendEmail", "ses:SendRawEmail", "ses:SendTemplatedEmail", "ses:SendBulkTemplatedEmail"},
			[]string{sesIdent, "arn:${Partition}:ses:${Region}:${Account}:template/${TemplateName}"}},
		{[]string{"ses:GetIdentityVerificationAttributes", "ses:VerifyEmailIdentity"}, []string{"*"}}}},
	"SESEmailTemplateCrudPolicy": {nil, []samStatement{{
		[]string{"ses:CreateTemplate", "ses:GetTemplate", "ses:ListTemplates", "ses:UpdateTemplate", "ses:DeleteTemplate",
			"ses:TestRenderTemplate"},
		[]string{"*"}}}},
	"KMSDecryptPolicy": {[]string{"KeyId"}, []samStatement{{[]string{"kms:Decrypt"}, []string{kmsKey}}}},
	"KMSEncryptPolicy": {[]string{"KeyId"}, []samStatement{{[]string{"kms:Encrypt"}, []string{kmsKey}}}},
	"SSMParameterReadPolicy": {[]string{"ParameterName"}, []samStatement{
		{[]string{"ssm:DescribeParameters"}, []string{"*"}},
		{[]string{"ssm:GetParameters", "ssm:GetParameter", "ssm:GetParametersByPath"},
			[]string{"arn:${Partition}:ssm:${Region}:${Account}:parameter/${ParameterName}"}}}},
	"SSMParameterWithSlashPrefixReadPolicy": {[]string{"ParameterName"}, []samStatement{
		{[]string{"ssm:DescribeParameters"}, []string{"*"}},
		{[]string{"ssm:GetParameters", "ssm:GetParameter", "ssm:GetParametersByPath"},
			[]string{"arn:${Partition}:ssm:${Region}:${Account}:parameter${ParameterName}"}}}},
	"CloudWatchPutMetricPolicy": {nil, []samStatement{{[]string{"cloudwatch:PutMetricData"}, []string{"*"}}}},
	"LambdaInvokePolicy": {[]string{"FunctionName"}, []samStatement{{
		[]string{"lambda:InvokeFunction"},
		[]string{"arn:${Partition}:lambda:${Region}:${Account}:function:${FunctionName}*"}}}},
	"AWSSecretsManagerGetSecretValuePolicy": {[]string{"SecretArn"}, []samStatement{{
		[]string{"secretsmanager:GetSecretValue"}, []string{"${SecretArn}"}}}},
}

// PolicyTemplates lists the SAM policy templates the local cloud can evaluate.
func PolicyTemplates() []string {
	names := make([]string, 0, len(samTemplates))
	for n := range samTemplates {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// ParseFunctionPolicies reads a function's Policies property (resolved JSON) into one policy:
// inline documents and SAM policy templates. A managed policy (a name or an ARN), a policy
// template the local cloud does not know, or a document it cannot evaluate is an error: the
// local cloud refuses to start rather than run a function whose grants it cannot check.
func ParseFunctionPolicies(policies any, region, account string) (*Policy, error) {
	list, ok := policies.([]any)
	if !ok && policies != nil {
		list = []any{policies}
	}
	p := &Policy{}
	for i, entry := range list {
		switch e := entry.(type) {
		case string:
			return nil, fmt.Errorf("policy %d: managed policy %q: the local cloud cannot see what it grants; use an inline policy or a SAM policy template", i+1, e)
		case map[string]any:
			if _, ok := e["Statement"]; ok {
				doc, err := ParsePolicyDocument(e, fmt.Sprintf("inline policy %d", i+1), false)
				if err != nil {
					return nil, err
				}
				p.Statements = append(p.Statements, doc.Statements...)
				continue
			}
			if len(e) != 1 {
				return nil, fmt.Errorf("policy %d: neither a policy document nor one SAM policy template", i+1)
			}
			for name, args := range e {
				sts, err := expandTemplate(name, args, region, account)
				if err != nil {
					return nil, fmt.Errorf("policy %d: %w", i+1, err)
				}
				p.Statements = append(p.Statements, sts...)
			}
		default:
			return nil, fmt.Errorf("policy %d: unreadable entry %T", i+1, entry)
		}
	}
	return p, nil
}

func expandTemplate(name string, args any, region, account string) ([]Statement, error) {
	t, ok := samTemplates[name]
	if !ok {
		return nil, fmt.Errorf("SAM policy template %s is not known to the local cloud (known: %s)", name, strings.Join(PolicyTemplates(), ", "))
	}
	params, _ := args.(map[string]any)
	vals := map[string]string{"Partition": "aws", "Region": region, "Account": account}
	for _, want := range t.params {
		v, ok := params[want].(string)
		if !ok || v == "" {
			return nil, fmt.Errorf("SAM policy template %s: parameter %s is missing or did not resolve to a string", name, want)
		}
		vals[want] = v
	}
	for k := range params {
		if _, ok := vals[k]; !ok {
			return nil, fmt.Errorf("SAM policy template %s has no parameter %s", name, k)
		}
	}
	var out []Statement
	for _, s := range t.statements {
		st := Statement{Effect: Allow, Source: name, written: s.actions}
		for _, a := range s.actions {
			st.Actions = append(st.Actions, strings.ToLower(a))
		}
		for _, r := range s.resources {
			for k, v := range vals {
				r = strings.ReplaceAll(r, "${"+k+"}", v)
			}
			st.Resources = append(st.Resources, r)
		}
		out = append(out, st)
	}
	return out, nil
}
