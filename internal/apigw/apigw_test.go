package apigw_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/privacyportal/portal/internal/apigw"
	"github.com/privacyportal/portal/internal/privacy"
)

type form struct {
	Name  string `json:"name"`
	Age   int    `json:"age"`
	Agree bool   `json:"agree"`
}

func TestDecodeJSON(t *testing.T) {
	tests := []struct {
		name      string
		ctype     string
		body      string
		base64    bool
		wantCode  privacy.Code
		wantField string
	}{
		{"valid", "application/json", `{"name":"Ada","age":36,"agree":true}`, false, "", ""},
		{"valid with charset", "application/json; charset=utf-8", `{"name":"Ada"}`, false, "", ""},
		{"problem+json is JSON too", "application/merge-patch+json", `{"name":"Ada"}`, false, "", ""},
		{"base64 body", "application/json", base64.StdEncoding.EncodeToString([]byte(`{"name":"Ada"}`)), true, "", ""},
		{"bad base64", "application/json", "%%%", true, privacy.Invalid, "body"},
		{"form content type", "application/x-www-form-urlencoded", `name=Ada`, false, privacy.Unsupported, "Content-Type"},
		{"text a cross-site form can send", "text/plain", `{"name":"Ada"}`, false, privacy.Unsupported, "Content-Type"},
		{"no content type", "", `{"name":"Ada"}`, false, privacy.Unsupported, "Content-Type"},
		{"garbage content type", ";;;", `{}`, false, privacy.Unsupported, "Content-Type"},
		{"empty", "application/json", ``, false, privacy.Invalid, "body"},
		{"whitespace", "application/json", " \n ", false, privacy.Invalid, "body"},
		{"truncated", "application/json", `{"name":"Ada"`, false, privacy.Invalid, "body"},
		{"syntax error", "application/json", `{"name" "Ada"}`, false, privacy.Invalid, "body"},
		{"array", "application/json", `[1,2]`, false, privacy.Invalid, "body"},
		{"string", "application/json", `"hi"`, false, privacy.Invalid, "body"},
		{"wrong type names the field", "application/json", `{"age":"old"}`, false, privacy.Invalid, "age"},
		{"unknown field is named", "application/json", `{"name":"Ada","role":"admin"}`, false, privacy.Invalid, "role"},
		{"trailing data", "application/json", `{"name":"Ada"} {"name":"Bob"}`, false, privacy.Invalid, "body"},
		{"too large", "application/json", `{"name":"` + strings.Repeat("a", apigw.MaxBodyBytes) + `"}`, false, privacy.TooLarge, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req := &apigw.Request{Headers: map[string]string{"content-type": tc.ctype}, Body: tc.body, IsBase64Encoded: tc.base64}
			var f form
			err := apigw.DecodeJSON(req, &f)
			if got := privacy.ErrorCode(err); got != tc.wantCode {
				t.Fatalf("code = %q, want %q (err %v)", got, tc.wantCode, err)
			}
			var e *privacy.Error
			if errors.As(err, &e) && e.Field != tc.wantField {
				t.Errorf("field = %q, want %q", e.Field, tc.wantField)
			}
			if err == nil && f.Name != "Ada" {
				t.Errorf("decoded name = %q", f.Name)
			}
		})
	}
}

func TestHandleMapsErrorsToProblems(t *testing.T) {
	tests := []struct {
		name       string
		err        error
		wantStatus int
		wantDetail string
		wantHeader [2]string
	}{
		{"invalid", privacy.FieldError("email", "is not an e-mail address"), 400, "is not an e-mail address", [2]string{}},
		{"unauthorized", privacy.Errorf(privacy.Unauthorized, "Sign in first."), 401, "Sign in first.", [2]string{}},
		{"not found", privacy.Errorf(privacy.NotFound, "No such request."), 404, "No such request.", [2]string{}},
		{"conflict", privacy.Errorf(privacy.Conflict, "Already verified."), 409, "Already verified.", [2]string{}},
		{"too large", &privacy.Error{Code: privacy.TooLarge, Message: "big"}, 413, "big", [2]string{}},
		{"rate limited", &privacy.Error{Code: privacy.RateLimited, Message: "Slow down.", RetryAfterSeconds: 30}, 429, "Slow down.", [2]string{"Retry-After", "30"}},
		{"internal hides the cause", errors.New("dynamodb: table secret-table not found"), 500, "Something went wrong on our side. Please try again later.", [2]string{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := apigw.Handle(func(context.Context, *apigw.Request) (apigw.Response, error) { return apigw.Response{}, tc.err })
			resp, err := h(context.Background(), events.APIGatewayProxyRequest{RequestContext: events.APIGatewayProxyRequestContext{RequestID: "req-1"}})
			if err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode != tc.wantStatus || resp.Headers["Content-Type"] != apigw.ProblemContentType {
				t.Fatalf("status %d type %q, want %d problem", resp.StatusCode, resp.Headers["Content-Type"], tc.wantStatus)
			}
			var p apigw.Problem
			if err := json.Unmarshal([]byte(resp.Body), &p); err != nil {
				t.Fatal(err)
			}
			if p.Status != tc.wantStatus || p.Detail != tc.wantDetail || p.Instance != "req-1" || p.Title != http.StatusText(tc.wantStatus) {
				t.Errorf("problem = %+v", p)
			}
			if tc.wantHeader[0] != "" && resp.Headers[tc.wantHeader[0]] != tc.wantHeader[1] {
				t.Errorf("header %s = %q, want %q", tc.wantHeader[0], resp.Headers[tc.wantHeader[0]], tc.wantHeader[1])
			}
			if resp.Headers["Cache-Control"] != "no-store" {
				t.Errorf("Cache-Control = %q, want no-store", resp.Headers["Cache-Control"])
			}
		})
	}
}

func TestHandleRecoversPanics(t *testing.T) {
	h := apigw.Handle(func(context.Context, *apigw.Request) (apigw.Response, error) { panic("secret detail") })
	resp, err := h(context.Background(), events.APIGatewayProxyRequest{})
	if err != nil || resp.StatusCode != 500 || strings.Contains(resp.Body, "secret detail") {
		t.Fatalf("resp = %+v, err = %v", resp, err)
	}
}

func TestHeaderIsCaseInsensitive(t *testing.T) {
	req := &apigw.Request{
		Headers:           map[string]string{"X-Forwarded-For": "1"},
		MultiValueHeaders: map[string][]string{"cookie": {"a=b"}},
	}
	if got := apigw.Header(req, "x-forwarded-for"); got != "1" {
		t.Errorf("Header = %q", got)
	}
	if got := apigw.Header(req, "Cookie"); got != "a=b" {
		t.Errorf("multi-value Header = %q", got)
	}
}

// FuzzDecodeJSON: whatever arrives, the decoder answers with a value or a client error that
// names a field, never a panic or an internal error.
func FuzzDecodeJSON(f *testing.F) {
	for _, s := range []string{`{"name":"Ada","age":3}`, `{`, `[]`, `{"age":1e999}`, `{"name":"\ud800"}`, `null`, `{"name":null}`, "\x00", `{"a":{"b":[`} {
		f.Add(s, "application/json", false)
	}
	f.Add("e30=", "application/json", true)
	f.Fuzz(func(t *testing.T, body, ctype string, b64 bool) {
		req := &apigw.Request{Headers: map[string]string{"Content-Type": ctype}, Body: body, IsBase64Encoded: b64}
		var v form
		err := apigw.DecodeJSON(req, &v)
		if err == nil {
			return
		}
		var e *privacy.Error
		if !errors.As(err, &e) {
			t.Fatalf("non-application error %T: %v", err, err)
		}
		if e.Code != privacy.Invalid && e.Code != privacy.TooLarge && e.Code != privacy.Unsupported {
			t.Fatalf("code %q for bad input: %v", e.Code, err)
		}
		if (e.Code == privacy.Invalid || e.Code == privacy.Unsupported) && e.Field == "" {
			t.Fatalf("invalid input error names no field: %v", err)
		}
		if st := apigw.Status(e.Code); st < 400 || st > 499 {
			t.Fatalf("status %d for bad input", st)
		}
	})
}
