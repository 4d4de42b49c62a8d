package iam

import (
	"encoding/base64"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

const region = "eu-west-1"

// got renders checks as "action resource" lines, for comparison.
func got(checks []Check) string {
	var out []string
	for _, c := range checks {
		out = append(out, c.Action+" "+c.Resource)
	}
	return strings.Join(out, "\n")
}

func TestDynamoDBChecks(t *testing.T) {
	tests := []struct {
		name, op, body, want string
		keys                 map[string]string
	}{
		{"GetItem", "GetItem", `{"TableName":"t","Key":{"PK":{"S":"a"}}}`, "dynamodb:GetItem " + tbl("t"), nil},
		{"PutItem with ReturnValues", "PutItem", `{"TableName":"t","Item":{},"ReturnValues":"ALL_OLD"}`, "dynamodb:PutItem " + tbl("t"),
			map[string]string{"dynamodb:returnvalues": "ALL_OLD"}},
		{"UpdateItem", "UpdateItem", `{"TableName":"t","Key":{}}`, "dynamodb:UpdateItem " + tbl("t"), nil},
		{"DeleteItem", "DeleteItem", `{"TableName":"t","Key":{}}`, "dynamodb:DeleteItem " + tbl("t"), nil},
		{"Query on the table", "Query", `{"TableName":"t"}`, "dynamodb:Query " + tbl("t"), nil},
		{"Query on an index needs the index ARN", "Query", `{"TableName":"t","IndexName":"GSI2"}`, "dynamodb:Query " + tbl("t") + "/index/GSI2", nil},
		{"Scan on an index", "Scan", `{"TableName":"t","IndexName":"GSI1","Select":"COUNT"}`, "dynamodb:Scan " + tbl("t") + "/index/GSI1",
			map[string]string{"dynamodb:select": "COUNT"}},
		{"a table given by ARN", "GetItem", `{"TableName":"` + tbl("x") + `"}`, "dynamodb:GetItem " + tbl("x"), nil},
		{"BatchWriteItem, per table", "BatchWriteItem", `{"RequestItems":{"b":[],"a":[]}}`,
			"dynamodb:BatchWriteItem " + tbl("a") + "\ndynamodb:BatchWriteItem " + tbl("b"), nil},
		{"BatchGetItem", "BatchGetItem", `{"RequestItems":{"a":{"Keys":[]}}}`, "dynamodb:BatchGetItem " + tbl("a"), nil},
		{"TransactWriteItems, item by item with the item's action", "TransactWriteItems",
			`{"TransactItems":[{"Put":{"TableName":"a"}},{"Update":{"TableName":"b"}},{"Delete":{"TableName":"a"}},{"ConditionCheck":{"TableName":"c"}}]}`,
			"dynamodb:PutItem " + tbl("a") + "\ndynamodb:UpdateItem " + tbl("b") + "\ndynamodb:DeleteItem " + tbl("a") + "\ndynamodb:ConditionCheckItem " + tbl("c"),
			map[string]string{"dynamodb:enclosingoperation": "TransactWriteItems"}},
		{"TransactGetItems", "TransactGetItems", `{"TransactItems":[{"Get":{"TableName":"a"}}]}`, "dynamodb:GetItem " + tbl("a"),
			map[string]string{"dynamodb:enclosingoperation": "TransactGetItems"}},
		{"DescribeTable", "DescribeTable", `{"TableName":"t"}`, "dynamodb:DescribeTable " + tbl("t"), nil},
		{"DescribeTimeToLive", "DescribeTimeToLive", `{"TableName":"t"}`, "dynamodb:DescribeTimeToLive " + tbl("t"), nil},
		{"ListTables", "ListTables", `{}`, "dynamodb:ListTables *", nil},
		{"PartiQL select on an index", "ExecuteStatement", `{"Statement":"SELECT * FROM \"t\".\"GSI1\" WHERE GSI1PK = ?"}`,
			"dynamodb:PartiQLSelect " + tbl("t") + "/index/GSI1", nil},
		{"PartiQL batch", "BatchExecuteStatement", `{"Statements":[{"Statement":"UPDATE t SET a = 1"},{"Statement":"DELETE FROM \"u\" WHERE PK = 'x'"}]}`,
			"dynamodb:PartiQLUpdate " + tbl("t") + "\ndynamodb:PartiQLDelete " + tbl("u"), nil},
		{"PartiQL insert in a transaction", "ExecuteTransaction", `{"TransactStatements":[{"Statement":"INSERT INTO \"t\" VALUE {'PK':'a'}"}]}`,
			"dynamodb:PartiQLInsert " + tbl("t"), nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			op, checks, err := DynamoDBChecks("DynamoDB_20120810."+tc.op, []byte(tc.body), region, acct)
			if err != nil || op != tc.op {
				t.Fatalf("op %q err %v", op, err)
			}
			if g := got(checks); g != tc.want {
				t.Errorf("checks:\n%s\nwant:\n%s", g, tc.want)
			}
			for k, v := range tc.keys {
				for _, c := range checks {
					if len(c.Keys[k]) != 1 || c.Keys[k][0] != v {
						t.Errorf("%s: key %s = %v, want %s", c.Action, k, c.Keys[k], v)
					}
				}
			}
		})
	}
	for _, bad := range []struct{ target, body string }{
		{"DynamoDB_20120810.CreateGlobalTable", `{}`},
		{"Foo.GetItem", `{}`},
		{"DynamoDB_20120810.GetItem", `{`},
		{"DynamoDB_20120810.GetItem", `{}`},
	} {
		if _, _, err := DynamoDBChecks(bad.target, []byte(bad.body), region, acct); err == nil {
			t.Errorf("%s %s: no error", bad.target, bad.body)
		}
	}
}

func tbl(name string) string { return "arn:aws:dynamodb:eu-west-1:000000000000:table/" + name }

func TestS3Checks(t *testing.T) {
	tests := []struct {
		name, method, path, query string
		header                    map[string]string
		op, want                  string
	}{
		{"GetObject", "GET", "/b/k/x.json", "x-id=GetObject", nil, "GetObject", "s3:GetObject arn:aws:s3:::b/k/x.json"},
		{"GetObject of a version", "GET", "/b/k", "versionId=3", nil, "GetObject", "s3:GetObjectVersion arn:aws:s3:::b/k"},
		{"HeadObject", "HEAD", "/b/k", "", nil, "HeadObject", "s3:GetObject arn:aws:s3:::b/k"},
		{"PutObject", "PUT", "/b/k", "x-id=PutObject", nil, "PutObject", "s3:PutObject arn:aws:s3:::b/k"},
		{"PutObject with tags and an ACL", "PUT", "/b/k", "", map[string]string{"X-Amz-Tagging": "a=b", "X-Amz-Acl": "private"}, "PutObject",
			"s3:PutObject arn:aws:s3:::b/k\ns3:PutObjectTagging arn:aws:s3:::b/k\ns3:PutObjectAcl arn:aws:s3:::b/k"},
		{"CopyObject reads its source", "PUT", "/b/k", "", map[string]string{"X-Amz-Copy-Source": "/src/a%20b"}, "CopyObject",
			"s3:PutObject arn:aws:s3:::b/k\ns3:GetObject arn:aws:s3:::src/a b"},
		{"CreateMultipartUpload", "POST", "/b/k", "uploads", nil, "CreateMultipartUpload", "s3:PutObject arn:aws:s3:::b/k"},
		{"UploadPart", "PUT", "/b/k", "partNumber=1&uploadId=u", nil, "UploadPart", "s3:PutObject arn:aws:s3:::b/k"},
		{"CompleteMultipartUpload", "POST", "/b/k", "uploadId=u", nil, "CompleteMultipartUpload", "s3:PutObject arn:aws:s3:::b/k"},
		{"AbortMultipartUpload", "DELETE", "/b/k", "uploadId=u", nil, "AbortMultipartUpload", "s3:AbortMultipartUpload arn:aws:s3:::b/k"},
		{"ListParts", "GET", "/b/k", "uploadId=u", nil, "ListParts", "s3:ListMultipartUploadParts arn:aws:s3:::b/k"},
		{"DeleteObject", "DELETE", "/b/k", "x-id=DeleteObject", nil, "DeleteObject", "s3:DeleteObject arn:aws:s3:::b/k"},
		{"DeleteObject of a version", "DELETE", "/b/k", "versionId=1", nil, "DeleteObject", "s3:DeleteObjectVersion arn:aws:s3:::b/k"},
		{"GetObjectTagging", "GET", "/b/k", "tagging", nil, "GetObjectTagging", "s3:GetObjectTagging arn:aws:s3:::b/k"},
		{"GetObjectAttributes needs GetObject too", "GET", "/b/k", "attributes", nil, "GetObjectAttributes",
			"s3:GetObjectAttributes arn:aws:s3:::b/k\ns3:GetObject arn:aws:s3:::b/k"},
		{"ListObjectsV2 is s3:ListBucket on the bucket", "GET", "/b", "list-type=2&prefix=exports%2F", nil, "ListObjectsV2", "s3:ListBucket arn:aws:s3:::b"},
		{"HeadBucket", "HEAD", "/b", "", nil, "HeadBucket", "s3:ListBucket arn:aws:s3:::b"},
		{"ListObjectVersions", "GET", "/b/", "versions", nil, "ListBucketVersions", "s3:ListBucketVersions arn:aws:s3:::b"},
		{"ListMultipartUploads", "GET", "/b", "uploads", nil, "ListBucketMultipartUploads", "s3:ListBucketMultipartUploads arn:aws:s3:::b"},
		{"GetBucketLocation", "GET", "/b", "location", nil, "GetBucketLocation", "s3:GetBucketLocation arn:aws:s3:::b"},
		{"GetBucketLifecycleConfiguration", "GET", "/b", "lifecycle", nil, "GetLifecycleConfiguration", "s3:GetLifecycleConfiguration arn:aws:s3:::b"},
		{"DeleteBucketCors needs PutBucketCORS", "DELETE", "/b", "cors", nil, "PutBucketCORS", "s3:PutBucketCORS arn:aws:s3:::b"},
		{"CreateBucket", "PUT", "/b", "", nil, "CreateBucket", "s3:CreateBucket arn:aws:s3:::b"},
		{"ListBuckets", "GET", "/", "", nil, "ListBuckets", "s3:ListAllMyBuckets *"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			q, _ := url.ParseQuery(tc.query)
			h := http.Header{}
			for k, v := range tc.header {
				h.Set(k, v)
			}
			op, checks, err := S3Checks(&S3Request{Method: tc.method, Path: tc.path, Query: q, Header: h})
			if err != nil || op != tc.op {
				t.Fatalf("op %q (want %q) err %v", op, tc.op, err)
			}
			if g := got(checks); g != tc.want {
				t.Errorf("checks:\n%s\nwant:\n%s", g, tc.want)
			}
		})
	}
	t.Run("ListBucket carries s3:prefix", func(t *testing.T) {
		q, _ := url.ParseQuery("list-type=2&prefix=exports%2F")
		_, checks, _ := S3Checks(&S3Request{Method: "GET", Path: "/b", Query: q, Header: http.Header{}, Presigned: true})
		if p := checks[0].Keys["s3:prefix"]; len(p) != 1 || p[0] != "exports/" {
			t.Errorf("s3:prefix = %v", p)
		}
		if a := checks[0].Keys["s3:authtype"]; len(a) != 1 || a[0] != "REST-QUERY-STRING" {
			t.Errorf("s3:authType = %v", a)
		}
	})
	t.Run("DeleteObjects, key by key", func(t *testing.T) {
		q, _ := url.ParseQuery("delete")
		op, _, err := S3Checks(&S3Request{Method: "POST", Path: "/b", Query: q, Header: http.Header{}})
		if op != "DeleteObjects" || err != nil {
			t.Fatalf("op %q err %v", op, err)
		}
		body := `<Delete xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Object><Key>a</Key></Object><Object><Key>b/c</Key><VersionId>v</VersionId></Object><Quiet>true</Quiet></Delete>`
		d, checks, err := S3DeleteObjectsChecks("b", []byte(body))
		if err != nil || !d.Quiet {
			t.Fatalf("err %v, %+v", err, d)
		}
		if g := got(checks); g != "s3:DeleteObject arn:aws:s3:::b/a\ns3:DeleteObjectVersion arn:aws:s3:::b/b/c" {
			t.Errorf("checks:\n%s", g)
		}
	})
}

func TestSQSChecks(t *testing.T) {
	q := "http://127.0.0.1:9324/000000000000/lc-JobQueue"
	arn := "arn:aws:sqs:eu-west-1:000000000000:lc-JobQueue"
	tests := []struct{ name, op, body, want string }{
		{"SendMessage", "SendMessage", `{"QueueUrl":"` + q + `","MessageBody":"x"}`, "sqs:SendMessage " + arn},
		{"SendMessageBatch is sqs:SendMessage", "SendMessageBatch", `{"QueueUrl":"` + q + `","Entries":[]}`, "sqs:SendMessage " + arn},
		{"ReceiveMessage", "ReceiveMessage", `{"QueueUrl":"` + q + `"}`, "sqs:ReceiveMessage " + arn},
		{"DeleteMessageBatch is sqs:DeleteMessage", "DeleteMessageBatch", `{"QueueUrl":"` + q + `"}`, "sqs:DeleteMessage " + arn},
		{"ChangeMessageVisibilityBatch", "ChangeMessageVisibilityBatch", `{"QueueUrl":"` + q + `"}`, "sqs:ChangeMessageVisibility " + arn},
		{"GetQueueAttributes", "GetQueueAttributes", `{"QueueUrl":"` + q + `"}`, "sqs:GetQueueAttributes " + arn},
		{"GetQueueUrl by name", "GetQueueUrl", `{"QueueName":"lc-JobQueue"}`, "sqs:GetQueueUrl " + arn},
		{"GetQueueUrl of another account", "GetQueueUrl", `{"QueueName":"q","QueueOwnerAWSAccountId":"111111111111"}`, "sqs:GetQueueUrl arn:aws:sqs:eu-west-1:111111111111:q"},
		{"ListQueues", "ListQueues", `{}`, "sqs:ListQueues *"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			op, checks, err := SQSChecks("AmazonSQS."+tc.op, nil, []byte(tc.body), region, acct)
			if err != nil || op != tc.op {
				t.Fatalf("op %q err %v", op, err)
			}
			if g := got(checks); g != tc.want {
				t.Errorf("checks: %s, want %s", g, tc.want)
			}
		})
	}
	t.Run("query protocol", func(t *testing.T) {
		form := url.Values{"Action": {"SendMessage"}, "QueueUrl": {q}, "MessageBody": {"x"}}
		op, checks, err := SQSChecks("", form, nil, region, acct)
		if err != nil || op != "SendMessage" || got(checks) != "sqs:SendMessage "+arn {
			t.Errorf("op %q err %v checks %s", op, err, got(checks))
		}
	})
	if _, _, err := SQSChecks("AmazonSQS.SendMessage", nil, []byte(`{}`), region, acct); err == nil {
		t.Error("a SendMessage without QueueUrl was not refused")
	}
}

func TestSESChecks(t *testing.T) {
	ident := func(s string) string { return "arn:aws:ses:eu-west-1:000000000000:identity/" + s }
	set := "arn:aws:ses:eu-west-1:000000000000:configuration-set/lc-Mail"
	raw := base64.StdEncoding.EncodeToString([]byte("From: Example Co. <privacy@example.com>\r\nTo: a@example.org, b@example.org\r\nX-SES-CONFIGURATION-SET: lc-Mail\r\n\r\nbody"))
	tests := []struct {
		name string
		form url.Values
		want string
		keys map[string]string
	}{
		{"SendRawEmail as the Source address, with the configuration set",
			url.Values{"Action": {"SendRawEmail"}, "Source": {"=?utf-8?q?Example_Co.?= <privacy@example.com>"}, "Destinations.member.1": {"a@example.org"},
				"ConfigurationSetName": {"lc-Mail"}, "RawMessage.Data": {raw}},
			"ses:SendRawEmail " + ident("privacy@example.com") + "\nses:SendRawEmail " + set,
			map[string]string{"ses:fromaddress": "privacy@example.com", "ses:recipients": "a@example.org"}},
		{"SendRawEmail reads From, recipients and the set from the message without parameters",
			url.Values{"Action": {"SendRawEmail"}, "RawMessage.Data": {raw}},
			"ses:SendRawEmail " + ident("privacy@example.com") + "\nses:SendRawEmail " + set,
			map[string]string{"ses:fromdisplayname": "Example Co."}},
		{"SendEmail", url.Values{"Action": {"SendEmail"}, "Source": {"privacy@example.com"}, "Destination.ToAddresses.member.1": {"a@example.org"}},
			"ses:SendEmail " + ident("privacy@example.com"), nil},
		{"sending authorization checks the named identity",
			url.Values{"Action": {"SendEmail"}, "Source": {"x@example.com"}, "SourceArn": {ident("example.com")}},
			"ses:SendEmail " + ident("example.com"), nil},
		{"an account-level call is authorized on *", url.Values{"Action": {"GetSendQuota"}}, "ses:GetSendQuota *", nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, checks, err := SESChecks(tc.form, region, acct)
			if err != nil {
				t.Fatal(err)
			}
			if g := got(checks); g != tc.want {
				t.Errorf("checks:\n%s\nwant:\n%s", g, tc.want)
			}
			for k, v := range tc.keys {
				if vals := checks[0].Keys[k]; len(vals) == 0 || vals[0] != v {
					t.Errorf("key %s = %v, want %s", k, vals, v)
				}
			}
		})
	}
}

func TestKMSChecks(t *testing.T) {
	key := "arn:aws:kms:eu-west-1:000000000000:key/k1"
	aliases := map[string]string{"arn:aws:kms:eu-west-1:000000000000:alias/mail": key}
	resolve := func(a string) (string, bool) { k, ok := aliases[a]; return k, ok }
	blob := append([]byte{byte(len(key))}, key...)
	blob = append(blob, 1, 0, 0, 0, 9, 9, 9)
	b64 := base64.StdEncoding.EncodeToString(blob)
	tests := []struct {
		name, op, body, want string
		keys                 map[string]string
	}{
		{"Encrypt by key ID", "Encrypt", `{"KeyId":"k1","Plaintext":"eA==","EncryptionContext":{"Purpose":"export"}}`, "kms:Encrypt " + key,
			map[string]string{"kms:encryptioncontext:purpose": "export", "kms:encryptioncontextkeys": "Purpose", "kms:calleraccount": acct}},
		{"Encrypt by alias is authorized on the key", "Encrypt", `{"KeyId":"alias/mail","Plaintext":"eA=="}`, "kms:Encrypt " + key,
			map[string]string{"kms:requestalias": "alias/mail"}},
		{"Encrypt by key ARN", "Encrypt", `{"KeyId":"` + key + `"}`, "kms:Encrypt " + key, nil},
		{"Decrypt names its key in the ciphertext", "Decrypt", `{"CiphertextBlob":"` + b64 + `"}`, "kms:Decrypt " + key, nil},
		{"GenerateDataKey", "GenerateDataKey", `{"KeyId":"k1","KeySpec":"AES_256"}`, "kms:GenerateDataKey " + key, nil},
		{"DescribeKey", "DescribeKey", `{"KeyId":"k1"}`, "kms:DescribeKey " + key, nil},
		{"ReEncrypt from one key to another", "ReEncrypt", `{"CiphertextBlob":"` + b64 + `","DestinationKeyId":"k2"}`,
			"kms:ReEncryptFrom " + key + "\nkms:ReEncryptTo arn:aws:kms:eu-west-1:000000000000:key/k2", nil},
		{"CreateAlias on the alias and the key", "CreateAlias", `{"AliasName":"alias/new","TargetKeyId":"k1"}`,
			"kms:CreateAlias arn:aws:kms:eu-west-1:000000000000:alias/new\nkms:CreateAlias " + key, nil},
		{"ListKeys", "ListKeys", `{}`, "kms:ListKeys *", nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			op, checks, err := KMSChecks("TrentService."+tc.op, []byte(tc.body), region, acct, resolve)
			if err != nil || op != tc.op {
				t.Fatalf("op %q err %v", op, err)
			}
			if g := got(checks); g != tc.want {
				t.Errorf("checks:\n%s\nwant:\n%s", g, tc.want)
			}
			for k, v := range tc.keys {
				if vals := checks[0].Keys[k]; len(vals) == 0 || vals[0] != v {
					t.Errorf("key %s = %v, want %s", k, vals, v)
				}
			}
		})
	}
	if _, _, err := KMSChecks("TrentService.Encrypt", []byte(`{"KeyId":"alias/none"}`), region, acct, resolve); err == nil || !strings.Contains(err.Error(), "NotFound") {
		t.Errorf("an unknown alias: err = %v", err)
	}
}

func TestSSMChecks(t *testing.T) {
	_, checks, err := SSMChecks("AmazonSSM.GetParameter", []byte(`{"Name":"/lc/portal-url"}`), region, acct)
	if err != nil || got(checks) != "ssm:GetParameter arn:aws:ssm:eu-west-1:000000000000:parameter/lc/portal-url" {
		t.Errorf("err %v checks %s", err, got(checks))
	}
	_, checks, _ = SSMChecks("AmazonSSM.GetParameters", []byte(`{"Names":["a","/b/c"]}`), region, acct)
	if got(checks) != "ssm:GetParameters arn:aws:ssm:eu-west-1:000000000000:parameter/a\nssm:GetParameters arn:aws:ssm:eu-west-1:000000000000:parameter/b/c" {
		t.Errorf("checks %s", got(checks))
	}
}
