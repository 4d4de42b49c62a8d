package localcloud_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go"

	"github.com/privacyportal/portal/infra/localcloud"
)

// iamTemplate is a small stack: one function (the echo test function) whose policy grants a
// few actions on each kind of resource, and resources it may and may not use.
const iamTemplate = `
AWSTemplateFormatVersion: "2010-09-09"
Transform: AWS::Serverless-2016-10-31
Parameters:
  HomeRegion: {Type: String, Default: eu-west-1}
  SenderAddress: {Type: String, Default: privacy@example.com}
Globals:
  Function:
    Runtime: provided.al2023
    Handler: bootstrap
    Timeout: 20
    Environment:
      Variables:
        TABLE_NAME: !Ref Table
Resources:
  Table:
    Type: AWS::DynamoDB::Table
    Properties:
      BillingMode: PAY_PER_REQUEST
      AttributeDefinitions:
        - { AttributeName: PK, AttributeType: S }
        - { AttributeName: SK, AttributeType: S }
        - { AttributeName: GSI2PK, AttributeType: S }
        - { AttributeName: GSI2SK, AttributeType: S }
      KeySchema:
        - { AttributeName: PK, KeyType: HASH }
        - { AttributeName: SK, KeyType: RANGE }
      GlobalSecondaryIndexes:
        - IndexName: GSI2
          KeySchema:
            - { AttributeName: GSI2PK, KeyType: HASH }
            - { AttributeName: GSI2SK, KeyType: RANGE }
          Projection: { ProjectionType: KEYS_ONLY }
  Bucket:
    Type: AWS::S3::Bucket
  BucketPolicy:
    Type: AWS::S3::BucketPolicy
    Properties:
      Bucket: !Ref Bucket
      PolicyDocument:
        Version: "2012-10-17"
        Statement:
          - Effect: Deny
            Principal: "*"
            Action: "s3:*"
            Resource: [!GetAtt Bucket.Arn, !Sub "${Bucket.Arn}/*"]
            Condition: { Bool: { "aws:SecureTransport": "false" } }
          - Effect: Deny
            Principal: "*"
            Action: s3:PutObject
            Resource: !Sub "${Bucket.Arn}/public/locked/*"
  Queue:
    Type: AWS::SQS::Queue
  OtherQueue:
    Type: AWS::SQS::Queue
  SecretQueue:
    Type: AWS::SQS::Queue
    Properties:
      KmsMasterKeyId: !Ref Key
  Mail:
    Type: AWS::SES::ConfigurationSet
  Key:
    Type: AWS::KMS::Key
    Properties:
      Description: the key the function may use
  KeyAlias:
    Type: AWS::KMS::Alias
    Properties:
      AliasName: alias/lciam-echo
      TargetKeyId: !Ref Key
  OtherKey:
    Type: AWS::KMS::Key
  LockedKey:
    Type: AWS::KMS::Key
    Properties:
      KeyPolicy:
        Version: "2012-10-17"
        Statement:
          - Effect: Allow
            Principal: { AWS: !Sub "arn:aws:iam::${AWS::AccountId}:root" }
            Action: kms:DescribeKey
            Resource: "*"
  RoleKey:
    Type: AWS::KMS::Key
    Properties:
      KeyPolicy:
        Version: "2012-10-17"
        Statement:
          - Effect: Allow
            Principal: { AWS: !Sub "arn:aws:iam::${AWS::AccountId}:root" }
            Action: "kms:*"
            Resource: "*"
          - Effect: Allow
            Principal: { AWS: !GetAtt EchoFunctionRole.Arn }
            Action: kms:Encrypt
            Resource: "*"
  Greeting:
    Type: AWS::SSM::Parameter
    Properties:
      Name: /lciam/greeting
      Type: String
      Value: hello
  EchoFunction:
    Type: AWS::Serverless::Function
    Metadata:
      BuildMethod: makefile
    Properties:
      CodeUri: .
      Policies:
        - Version: "2012-10-17"
          Statement:
            - Effect: Allow
              Action: [dynamodb:GetItem, dynamodb:PutItem, dynamodb:ConditionCheckItem]
              Resource: !GetAtt Table.Arn
            - Effect: Allow
              Action: dynamodb:Query
              Resource: !Sub "${Table.Arn}/index/GSI2"
            - Effect: Allow
              Action: [s3:GetObject, s3:PutObject]
              Resource: !Sub "${Bucket.Arn}/public/*"
            - Effect: Allow
              Action: sqs:SendMessage
              Resource: [!GetAtt Queue.Arn, !GetAtt SecretQueue.Arn]
            - Effect: Allow
              Action: ses:SendRawEmail
              Resource:
                - !Sub "arn:${AWS::Partition}:ses:${AWS::Region}:${AWS::AccountId}:identity/${SenderAddress}"
                - !Sub "arn:${AWS::Partition}:ses:${AWS::Region}:${AWS::AccountId}:configuration-set/${Mail}"
            - Effect: Allow
              Action: [kms:Encrypt, kms:Decrypt]
              Resource: [!GetAtt Key.Arn, !GetAtt LockedKey.Arn]
              Condition: { StringEquals: { "kms:EncryptionContext:purpose": test } }
            - Effect: Allow
              Action: ssm:GetParameter
              Resource: !Sub "arn:${AWS::Partition}:ssm:${AWS::Region}:${AWS::AccountId}:parameter/lciam/greeting"
        - SQSPollerPolicy: { QueueName: !GetAtt Queue.QueueName }
`

// result is what the echo function reports of one AWS call it made.
type result struct {
	OK      bool   `json:"ok"`
	Code    string `json:"code"`
	Message string `json:"message"`
	Status  int    `json:"status"`
	Value   []byte `json:"value"`
}

// calls has the echo function make AWS calls with its own credentials.
func calls(t *testing.T, c *localcloud.Cloud, cs ...map[string]any) []result {
	t.Helper()
	payload, _ := json.Marshal(map[string]any{"calls": cs})
	out, err := c.Invoke(context.Background(), "EchoFunction", payload)
	if err != nil {
		t.Fatalf("invoke: %v", err)
	}
	var r struct{ Results []result }
	if err := json.Unmarshal(out, &r); err != nil || len(r.Results) != len(cs) {
		t.Fatalf("results %s: %v", out, err)
	}
	return r.Results
}

func one(t *testing.T, c *localcloud.Cloud, call map[string]any) result {
	t.Helper()
	return calls(t, c, call)[0]
}

func wantOK(t *testing.T, r result) {
	t.Helper()
	if !r.OK {
		t.Errorf("refused: %d %s %s", r.Status, r.Code, r.Message)
	}
}

func wantDenied(t *testing.T, r result, status int, code, message string) {
	t.Helper()
	if r.OK || r.Status != status || r.Code != code || (message != "" && r.Message != message) {
		t.Errorf("got ok=%v %d %s %q\nwant %d %s %q", r.OK, r.Status, r.Code, r.Message, status, code, message)
	}
}

func TestIAMEnforcement(t *testing.T) {
	c, _ := startSmallCloud(t, "lciam", iamTemplate, 1)
	const session = "arn:aws:sts::000000000000:assumed-role/lciam-EchoFunctionRole/lciam-EchoFunction"
	table, bucket := c.Names["Table"], c.Names["Bucket"]
	tableARN := c.ARN("Table")

	t.Run("DynamoDB", func(t *testing.T) {
		put := map[string]any{"service": "dynamodb", "op": "PutItem", "table": table, "pk": "iam-a"}
		wantOK(t, one(t, c, put))
		wantOK(t, one(t, c, map[string]any{"service": "dynamodb", "op": "GetItem", "table": table, "pk": "iam-a"}))
		wantDenied(t, one(t, c, map[string]any{"service": "dynamodb", "op": "UpdateItem", "table": table, "pk": "iam-a"}), 400, "AccessDeniedException",
			"User: "+session+" is not authorized to perform: dynamodb:UpdateItem on resource: "+tableARN+" because no identity-based policy allows the dynamodb:UpdateItem action")
		wantOK(t, one(t, c, map[string]any{"service": "dynamodb", "op": "Query", "table": table, "index": "GSI2", "pk": "x"}))
		wantDenied(t, one(t, c, map[string]any{"service": "dynamodb", "op": "Query", "table": table, "pk": "x"}), 400, "AccessDeniedException",
			"User: "+session+" is not authorized to perform: dynamodb:Query on resource: "+tableARN+" because no identity-based policy allows the dynamodb:Query action")
		// Both items are authorized (PutItem, ConditionCheckItem), so DynamoDB itself answers:
		// the checked item does not exist.
		r := one(t, c, map[string]any{"service": "dynamodb", "op": "TransactWriteItems", "table": table, "pk": "iam-t"})
		if r.Code != "TransactionCanceledException" {
			t.Errorf("transaction: %s %s, want DynamoDB's own TransactionCanceledException", r.Code, r.Message)
		}
	})

	t.Run("S3", func(t *testing.T) {
		wantOK(t, one(t, c, map[string]any{"service": "s3", "op": "PutObject", "bucket": bucket, "key": "public/a.txt", "body": "hello"}))
		r := one(t, c, map[string]any{"service": "s3", "op": "GetObject", "bucket": bucket, "key": "public/a.txt"})
		if wantOK(t, r); string(r.Value) != "hello" {
			t.Errorf("object = %q", r.Value)
		}
		wantDenied(t, one(t, c, map[string]any{"service": "s3", "op": "PutObject", "bucket": bucket, "key": "private/a.txt", "body": "x"}), 403, "AccessDenied",
			"User: "+session+` is not authorized to perform: s3:PutObject on resource: "arn:aws:s3:::`+bucket+`/private/a.txt" because no identity-based policy allows the s3:PutObject action`)
		wantDenied(t, one(t, c, map[string]any{"service": "s3", "op": "PutObject", "bucket": bucket, "key": "public/locked/a.txt", "body": "x"}), 403, "AccessDenied",
			"User: "+session+` is not authorized to perform: s3:PutObject on resource: "arn:aws:s3:::`+bucket+`/public/locked/a.txt" with an explicit deny in a resource-based policy`)
		// Without s3:ListBucket, a missing key is AccessDenied, not NoSuchKey, as in S3.
		wantDenied(t, one(t, c, map[string]any{"service": "s3", "op": "GetObject", "bucket": bucket, "key": "public/missing.txt"}), 403, "AccessDenied", "Access Denied")
		wantDenied(t, one(t, c, map[string]any{"service": "s3", "op": "ListObjectsV2", "bucket": bucket}), 403, "AccessDenied", "")
	})

	t.Run("S3 DeleteObjects is authorized key by key", func(t *testing.T) {
		for _, k := range []string{"public/d1.txt", "public/d2.txt"} {
			wantOK(t, one(t, c, map[string]any{"service": "s3", "op": "PutObject", "bucket": bucket, "key": k, "body": "x"}))
		}
		if err := c.SetPolicy("EchoFunction", `{"Statement":[{"Effect":"Allow","Action":["s3:DeleteObject","s3:GetObject"],"Resource":"`+c.ARN("Bucket")+`/public/d1.txt"}]}`); err != nil {
			t.Fatal(err)
		}
		defer c.ResetPolicy("EchoFunction")
		r := one(t, c, map[string]any{"service": "s3", "op": "DeleteObjects", "bucket": bucket, "keys": []string{"public/d1.txt", "public/d2.txt"}})
		wantOK(t, r)
		if got := string(r.Value); got != `{"public/d1.txt":"deleted","public/d2.txt":"AccessDenied"}` {
			t.Errorf("outcome per key: %s", got)
		}
		c.ResetPolicy("EchoFunction")
		if r := one(t, c, map[string]any{"service": "s3", "op": "GetObject", "bucket": bucket, "key": "public/d2.txt"}); !r.OK {
			t.Errorf("the refused key was deleted: %s %s", r.Code, r.Message)
		}
		if r := one(t, c, map[string]any{"service": "s3", "op": "GetObject", "bucket": bucket, "key": "public/d1.txt"}); r.OK {
			t.Error("the allowed key was not deleted")
		}
	})

	t.Run("S3 presigned URLs carry the function's permissions", func(t *testing.T) {
		get := func(u string) (int, string) {
			resp, err := http.Get(u)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			return resp.StatusCode, string(b)
		}
		r := one(t, c, map[string]any{"service": "s3", "op": "PresignGetObject", "bucket": bucket, "key": "public/a.txt"})
		wantOK(t, r)
		if code, body := get(string(r.Value)); code != 200 || body != "hello" {
			t.Errorf("presigned GET = %d %q", code, body)
		}
		if code, body := get(strings.Replace(string(r.Value), "public/a.txt", "public/b.txt", 1)); code != 403 || !strings.Contains(body, "<Code>SignatureDoesNotMatch</Code>") {
			t.Errorf("a presigned URL edited to another key = %d %s", code, body)
		}
		r = one(t, c, map[string]any{"service": "s3", "op": "PresignGetObject", "bucket": bucket, "key": "private/a.txt"})
		if code, body := get(string(r.Value)); code != 403 || !strings.Contains(body, "<Code>AccessDenied</Code>") {
			t.Errorf("presigned GET outside the policy = %d %s", code, body)
		}
	})

	t.Run("SQS", func(t *testing.T) {
		wantOK(t, one(t, c, map[string]any{"service": "sqs", "op": "SendMessage", "queue": c.Names["Queue"], "body": "x"}))
		wantOK(t, one(t, c, map[string]any{"service": "sqs", "op": "ReceiveMessage", "queue": c.Names["Queue"]}))
		other := c.ARN("OtherQueue")
		wantDenied(t, one(t, c, map[string]any{"service": "sqs", "op": "SendMessage", "queue": c.Names["OtherQueue"], "body": "x"}), 403, "AccessDenied",
			"User: "+session+" is not authorized to perform: sqs:sendmessage on resource: "+other+" because no identity-based policy allows the sqs:sendmessage action")
	})

	t.Run("SQS to a queue encrypted with a KMS key needs the key too", func(t *testing.T) {
		send := map[string]any{"service": "sqs", "op": "SendMessage", "queue": c.Names["SecretQueue"], "body": "x"}
		r := one(t, c, send)
		wantDenied(t, r, 400, "KMS.AccessDeniedException", "")
		if want := "User: " + session + " is not authorized to perform: kms:GenerateDataKey on resource: " + c.ARN("Key") + " because no identity-based policy allows the kms:GenerateDataKey action (Service: AWSKMS;"; !strings.HasPrefix(r.Message, want) {
			t.Errorf("message %q\nwant it to start %q", r.Message, want)
		}
		producer := `{"Statement":[{"Effect":"Allow","Action":"sqs:SendMessage","Resource":"` + c.ARN("SecretQueue") + `"},
			{"Effect":"Allow","Action":["kms:GenerateDataKey","kms:Decrypt"],"Resource":"` + c.ARN("Key") + `"}]}`
		if err := c.SetPolicy("EchoFunction", producer); err != nil {
			t.Fatal(err)
		}
		defer c.ResetPolicy("EchoFunction")
		wantOK(t, one(t, c, send))
	})

	t.Run("SES", func(t *testing.T) {
		wantOK(t, one(t, c, map[string]any{"service": "ses", "op": "SendRawEmail", "from": "privacy@example.com", "to": []string{"someone@example.org"}, "configSet": "lciam-Mail"}))
		wantDenied(t, one(t, c, map[string]any{"service": "ses", "op": "SendRawEmail", "from": "other@example.com", "to": []string{"someone@example.org"}}), 403, "AccessDenied",
			"User `"+session+"' is not authorized to perform `ses:SendRawEmail' on resource `arn:aws:ses:eu-west-1:000000000000:identity/other@example.com'")
		wantDenied(t, one(t, c, map[string]any{"service": "ses", "op": "SendRawEmail", "from": "privacy@example.com", "to": []string{"someone@example.org"}, "configSet": "other"}), 403, "AccessDenied",
			"User `"+session+"' is not authorized to perform `ses:SendRawEmail' on resource `arn:aws:ses:eu-west-1:000000000000:configuration-set/other'")
	})

	t.Run("KMS", func(t *testing.T) {
		ctx := map[string]string{"purpose": "test"}
		r := one(t, c, map[string]any{"service": "kms", "op": "Encrypt", "keyId": c.Names["Key"], "body": "secret", "context": ctx})
		wantOK(t, r)
		d := one(t, c, map[string]any{"service": "kms", "op": "Decrypt", "ciphertext": r.Value, "context": ctx})
		if wantOK(t, d); string(d.Value) != "secret" {
			t.Errorf("decrypted %q", d.Value)
		}
		wantOK(t, one(t, c, map[string]any{"service": "kms", "op": "Encrypt", "keyId": "alias/lciam-echo", "body": "x", "context": ctx}))
		key := c.ARN("Key")
		wantDenied(t, one(t, c, map[string]any{"service": "kms", "op": "Encrypt", "keyId": c.Names["Key"], "body": "x"}), 400, "AccessDeniedException",
			"User: "+session+" is not authorized to perform: kms:Encrypt on resource: "+key+" because no identity-based policy allows the kms:Encrypt action")
		wantDenied(t, one(t, c, map[string]any{"service": "kms", "op": "GenerateDataKey", "keyId": c.Names["Key"], "context": ctx}), 400, "AccessDeniedException", "")
		wantDenied(t, one(t, c, map[string]any{"service": "kms", "op": "Encrypt", "keyId": c.Names["OtherKey"], "body": "x", "context": ctx}), 400, "AccessDeniedException", "")
		// A key policy naming the function's role grants without any identity policy.
		wantOK(t, one(t, c, map[string]any{"service": "kms", "op": "Encrypt", "keyId": c.Names["RoleKey"], "body": "x"}))
		// Its identity policy allows it, but the key's policy does not hand kms:Encrypt to IAM.
		wantDenied(t, one(t, c, map[string]any{"service": "kms", "op": "Encrypt", "keyId": c.Names["LockedKey"], "body": "x", "context": ctx}), 400, "AccessDeniedException",
			"User: "+session+" is not authorized to perform: kms:Encrypt on resource: "+c.ARN("LockedKey")+" because no resource-based policy allows the kms:Encrypt action")
	})

	t.Run("SSM", func(t *testing.T) {
		r := one(t, c, map[string]any{"service": "ssm", "op": "GetParameter", "name": "/lciam/greeting"})
		if wantOK(t, r); string(r.Value) != "hello" {
			t.Errorf("parameter = %q", r.Value)
		}
		wantDenied(t, one(t, c, map[string]any{"service": "ssm", "op": "GetParameter", "name": "/lciam/other"}), 400, "AccessDeniedException", "")
	})

	t.Run("a wrong signature is refused", func(t *testing.T) {
		wantDenied(t, one(t, c, map[string]any{"service": "dynamodb", "op": "GetItem", "table": table, "pk": "iam-a", "wrongSecret": true}), 400, "InvalidSignatureException", "")
		wantDenied(t, one(t, c, map[string]any{"service": "s3", "op": "GetObject", "bucket": bucket, "key": "public/a.txt", "wrongSecret": true}), 403, "SignatureDoesNotMatch", "")
		wantDenied(t, one(t, c, map[string]any{"service": "sqs", "op": "SendMessage", "queue": c.Names["Queue"], "body": "x", "wrongSecret": true}), 403, "SignatureDoesNotMatch", "")
		wantDenied(t, one(t, c, map[string]any{"service": "kms", "op": "Encrypt", "keyId": c.Names["Key"], "wrongSecret": true}), 400, "InvalidSignatureException", "")

		// The emulators' own credentials do not get through the proxy either.
		db := dynamodb.NewFromConfig(aws.Config{Region: c.Region, Credentials: credentials.NewStaticCredentialsProvider(localcloud.AccessKeyID, localcloud.SecretAccessKey, ""), RetryMaxAttempts: 1},
			func(o *dynamodb.Options) { o.BaseEndpoint = aws.String(c.FunctionEndpoints.DynamoDB) })
		_, err := db.GetItem(context.Background(), &dynamodb.GetItemInput{TableName: &table, Key: map[string]types.AttributeValue{
			"PK": &types.AttributeValueMemberS{Value: "a"}, "SK": &types.AttributeValueMemberS{Value: "b"}}})
		var api smithy.APIError
		if !errors.As(err, &api) || api.ErrorCode() != "UnrecognizedClientException" {
			t.Errorf("an unknown access key: %v", err)
		}
	})

	t.Run("the old sweeper policy is refused UpdateItem", func(t *testing.T) {
		old := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow",
			"Action":["dynamodb:Query","dynamodb:GetItem","dynamodb:BatchWriteItem"],
			"Resource":["` + tableARN + `","` + tableARN + `/index/GSI2"]}]}`
		if err := c.SetPolicy("EchoFunction", old); err != nil {
			t.Fatal(err)
		}
		defer func() {
			if err := c.ResetPolicy("EchoFunction"); err != nil {
				t.Error(err)
			}
		}()
		got := calls(t, c,
			map[string]any{"service": "dynamodb", "op": "Query", "table": table, "index": "GSI2", "pk": "x"},
			map[string]any{"service": "dynamodb", "op": "UpdateItem", "table": table, "pk": "iam-a"})
		wantOK(t, got[0])
		wantDenied(t, got[1], 400, "AccessDeniedException",
			"User: "+session+" is not authorized to perform: dynamodb:UpdateItem on resource: "+tableARN+" because no identity-based policy allows the dynamodb:UpdateItem action")
		want := localcloud.IAMCall{Function: "EchoFunction", Action: "dynamodb:UpdateItem", Resource: tableARN, Allowed: false}
		if !slices.Contains(c.IAMCalls(), want) {
			t.Errorf("the record has no %+v", want)
		}
	})

	t.Run("transactions are authorized item by item", func(t *testing.T) {
		noCheck := `[{"Statement":[{"Effect":"Allow","Action":"dynamodb:PutItem","Resource":"` + tableARN + `"}]}]`
		if err := c.SetPolicy("EchoFunction", noCheck); err != nil {
			t.Fatal(err)
		}
		defer c.ResetPolicy("EchoFunction")
		wantDenied(t, one(t, c, map[string]any{"service": "dynamodb", "op": "TransactWriteItems", "table": table, "pk": "iam-t"}), 400, "AccessDeniedException",
			"User: "+session+" is not authorized to perform: dynamodb:ConditionCheckItem on resource: "+tableARN+" because no identity-based policy allows the dynamodb:ConditionCheckItem action")
	})

	t.Run("the record names what the policy grants and the run never used", func(t *testing.T) {
		var got []string
		for _, g := range c.UnusedGrants()["EchoFunction"] {
			got = append(got, g.Source+" "+g.Action)
		}
		want := []string{"SQSPollerPolicy sqs:ChangeMessageVisibility", "SQSPollerPolicy sqs:ChangeMessageVisibilityBatch",
			"SQSPollerPolicy sqs:DeleteMessage", "SQSPollerPolicy sqs:DeleteMessageBatch", "SQSPollerPolicy sqs:GetQueueAttributes"}
		if !slices.Equal(got, want) {
			t.Errorf("unused grants:\n%q\nwant\n%q", got, want)
		}
	})
}
