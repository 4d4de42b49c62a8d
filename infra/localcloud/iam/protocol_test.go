package iam

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/ses"
	sestypes "github.com/aws/aws-sdk-go-v2/service/ses/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/aws/smithy-go"
)

const (
	testKey    = "ASIATESTTESTTESTTEST"
	testSecret = "secret-of-the-function"
	testToken  = "session-token"
)

// fakeService verifies each request's signature as the proxy does, then answers ok with an
// empty success, or with the fault the test asks for.
func fakeService(t *testing.T, service string, proto Protocol, fault *Fault) string {
	t.Helper()
	v := NewVerifier()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		fail := func(f Fault) { f.Write(w, service, proto, r.Method == http.MethodHead) }
		a, failure, detail := ParseAuth(r)
		if a == nil {
			fail(AuthFault(service, proto, failure, detail))
			return
		}
		if a.AccessKeyID != testKey {
			fail(AuthFault(service, proto, UnknownKey, ""))
			return
		}
		hash := r.Header.Get("X-Amz-Content-Sha256")
		if a.Presigned {
			hash = UnsignedPayload
		} else if service != "s3" {
			s := sha256.Sum256(body)
			hash = hex.EncodeToString(s[:])
		}
		if !v.Verify(r, a, testSecret, hash) {
			fail(AuthFault(service, proto, BadSignature, ""))
			return
		}
		if fault != nil {
			fail(*fault)
			return
		}
		switch proto {
		case JSON10, JSON11:
			w.Header().Set("Content-Type", "application/x-amz-json-1.0")
			io.WriteString(w, "{}")
		case Query:
			io.WriteString(w, `<SendRawEmailResponse><SendRawEmailResult><MessageId>1</MessageId></SendRawEmailResult></SendRawEmailResponse>`)
		default:
			io.WriteString(w, "ok")
		}
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

func sdkConfig(secret string) aws.Config {
	return aws.Config{
		Region: "eu-west-1", Credentials: credentials.NewStaticCredentialsProvider(testKey, secret, testToken),
		RetryMaxAttempts: 1, RequestChecksumCalculation: aws.RequestChecksumCalculationWhenRequired,
		ResponseChecksumValidation: aws.ResponseChecksumValidationWhenRequired,
	}
}

// call makes one call of each service through the SDK, as a function would.
func call(ctx context.Context, service, endpoint, secret string) error {
	cfg := sdkConfig(secret)
	switch service {
	case "dynamodb":
		_, err := dynamodb.NewFromConfig(cfg, func(o *dynamodb.Options) { o.BaseEndpoint = &endpoint }).UpdateItem(ctx, &dynamodb.UpdateItemInput{
			TableName: aws.String("t"), Key: map[string]ddbtypes.AttributeValue{"PK": &ddbtypes.AttributeValueMemberS{Value: "a"}}})
		return err
	case "s3":
		_, err := s3.NewFromConfig(cfg, func(o *s3.Options) { o.BaseEndpoint = &endpoint; o.UsePathStyle = true }).PutObject(ctx, &s3.PutObjectInput{
			Bucket: aws.String("b"), Key: aws.String("dir/a key.txt"), Body: strings.NewReader("hello")})
		return err
	case "sqs":
		_, err := sqs.NewFromConfig(cfg, func(o *sqs.Options) { o.BaseEndpoint = &endpoint }).SendMessage(ctx, &sqs.SendMessageInput{
			QueueUrl: aws.String(endpoint + "/000000000000/q"), MessageBody: aws.String("x")})
		return err
	case "ses":
		_, err := ses.NewFromConfig(cfg, func(o *ses.Options) { o.BaseEndpoint = &endpoint }).SendRawEmail(ctx, &ses.SendRawEmailInput{
			Source: aws.String("a@example.com"), RawMessage: &sestypes.RawMessage{Data: []byte("From: a@example.com\r\n\r\nx")}})
		return err
	case "kms":
		_, err := kms.NewFromConfig(cfg, func(o *kms.Options) { o.BaseEndpoint = &endpoint }).Encrypt(ctx, &kms.EncryptInput{
			KeyId: aws.String("k"), Plaintext: []byte("x")})
		return err
	case "ssm":
		_, err := ssm.NewFromConfig(cfg, func(o *ssm.Options) { o.BaseEndpoint = &endpoint }).GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String("/p")})
		return err
	}
	return nil
}

var protocols = []struct {
	service string
	proto   Protocol
}{{"dynamodb", JSON10}, {"s3", RESTXML}, {"sqs", JSON10}, {"ses", Query}, {"kms", JSON11}, {"ssm", JSON11}}

func apiError(t *testing.T, err error) (code, msg string, status int) {
	t.Helper()
	var api smithy.APIError
	if !errors.As(err, &api) {
		t.Fatalf("not an API error: %v", err)
	}
	var re *awshttp.ResponseError
	if errors.As(err, &re) {
		status = re.HTTPStatusCode()
	}
	return api.ErrorCode(), api.ErrorMessage(), status
}

// The SDK's signatures verify, and a wrong secret is refused with the service's own error.
func TestSignaturesAsTheSDKMakesThem(t *testing.T) {
	wantBadSig := map[string]string{
		"dynamodb": "InvalidSignatureException", "s3": "SignatureDoesNotMatch", "sqs": "SignatureDoesNotMatch",
		"ses": "SignatureDoesNotMatch", "kms": "InvalidSignatureException", "ssm": "InvalidSignatureException",
	}
	for _, p := range protocols {
		t.Run(p.service, func(t *testing.T) {
			url := fakeService(t, p.service, p.proto, nil)
			ctx := context.Background()
			if err := call(ctx, p.service, url, testSecret); err != nil {
				t.Fatalf("a correctly signed call failed: %v", err)
			}
			err := call(ctx, p.service, url, testSecret+"x")
			if code, _, _ := apiError(t, err); code != wantBadSig[p.service] {
				t.Errorf("wrong secret: code %q, want %q (%v)", code, wantBadSig[p.service], err)
			}
		})
	}
}

// AccessDenied reaches the SDK as the error type AWS's own does.
func TestAccessDeniedAsTheSDKSeesIt(t *testing.T) {
	check := &Check{Action: "dynamodb:UpdateItem", Resource: tbl("t")}
	want := map[string]struct {
		code    string
		status  int
		message string
	}{
		"dynamodb": {"AccessDeniedException", 400, "User: " + caller.SessionARN + " is not authorized to perform: dynamodb:UpdateItem on resource: " + tbl("t") + " because no identity-based policy allows the dynamodb:UpdateItem action"},
		"s3":       {"AccessDenied", 403, "User: " + caller.SessionARN + " is not authorized to perform: dynamodb:UpdateItem on resource: \"" + tbl("t") + "\" because no identity-based policy allows the dynamodb:UpdateItem action"},
		"sqs":      {"AccessDenied", 403, "User: " + caller.SessionARN + " is not authorized to perform: dynamodb:updateitem on resource: " + tbl("t") + " because no identity-based policy allows the dynamodb:updateitem action"},
		"ses":      {"AccessDenied", 403, "User `" + caller.SessionARN + "' is not authorized to perform `dynamodb:UpdateItem' on resource `" + tbl("t") + "'"},
		"kms":      {"AccessDeniedException", 400, "User: " + caller.SessionARN + " is not authorized to perform: dynamodb:UpdateItem on resource: " + tbl("t") + " because no identity-based policy allows the dynamodb:UpdateItem action"},
		"ssm":      {"AccessDeniedException", 400, ""},
	}
	for _, p := range protocols {
		t.Run(p.service, func(t *testing.T) {
			f := AccessDenied(p.service, caller, check, Decision{})
			err := call(context.Background(), p.service, fakeService(t, p.service, p.proto, &f), testSecret)
			code, msg, status := apiError(t, err)
			w := want[p.service]
			if code != w.code || status != w.status || (w.message != "" && msg != w.message) {
				t.Errorf("got %s %d %q\nwant %s %d %q", code, status, msg, w.code, w.status, w.message)
			}
		})
	}
	t.Run("a KMS refusal relayed by SQS", func(t *testing.T) {
		f := SQSKMSAccessDenied(caller, &Check{Action: "kms:GenerateDataKey", Resource: "arn:aws:kms:eu-west-1:000000000000:key/k"}, Decision{})
		err := call(context.Background(), "sqs", fakeService(t, "sqs", JSON10, &f), testSecret)
		var kerr *sqstypes.KmsAccessDenied
		if !errors.As(err, &kerr) || kerr.ErrorCode() != "KMS.AccessDeniedException" {
			t.Errorf("err = %v, want sqs types.KmsAccessDenied with code KMS.AccessDeniedException", err)
		}
	})
	t.Run("explicit deny", func(t *testing.T) {
		f := AccessDenied("dynamodb", caller, check, Decision{ExplicitDeny: true})
		if !strings.HasSuffix(f.Message, "with an explicit deny in an identity-based policy") {
			t.Errorf("message %q", f.Message)
		}
	})
}

func TestPresignedURLs(t *testing.T) {
	url := fakeService(t, "s3", RESTXML, nil)
	cfg := sdkConfig(testSecret)
	client := s3.NewFromConfig(cfg, func(o *s3.Options) { o.BaseEndpoint = &url; o.UsePathStyle = true })
	req, err := s3.NewPresignClient(client).PresignGetObject(context.Background(), &s3.GetObjectInput{Bucket: aws.String("b"), Key: aws.String("exports/a b.zip")},
		s3.WithPresignExpires(time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	get := func(u string) int {
		resp, err := http.Get(u)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if code := get(req.URL); code != 200 {
		t.Errorf("a presigned URL was refused: %d", code)
	}
	if code := get(strings.Replace(req.URL, "a%20b.zip", "other.zip", 1)); code != 403 {
		t.Errorf("a presigned URL for another key: %d, want 403", code)
	}
	r, _ := http.NewRequest("GET", req.URL, nil)
	a, _, _ := ParseAuth(r)
	if a == nil || !a.Presigned || a.Expires != time.Minute {
		t.Fatalf("auth = %+v", a)
	}
	if f, msg, ok := a.CheckTime("s3", time.Now().Add(2*time.Minute)); ok || f != Expired || msg != "Request has expired" {
		t.Errorf("an expired URL: %v %q %v", f, msg, ok)
	}
}

func TestSignatureTime(t *testing.T) {
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	a := &Auth{Time: now.Add(-6 * time.Minute)}
	if _, msg, ok := a.CheckTime("dynamodb", now); ok || !strings.HasPrefix(msg, "Signature expired: 20260101T115400Z is now earlier than 20260101T115500Z") {
		t.Errorf("6 minutes old: ok=%v %q", ok, msg)
	}
	if _, _, ok := a.CheckTime("s3", now); !ok {
		t.Error("S3 allows 15 minutes")
	}
	if _, _, ok := (&Auth{Time: now.Add(time.Minute)}).CheckTime("kms", now); !ok {
		t.Error("a minute of skew refused")
	}
}
