package account_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/privacyportal/portal/internal/account"
	"github.com/privacyportal/portal/internal/apigw"
	"github.com/privacyportal/portal/internal/mail"
)

func newHandler(t testing.TB) (*account.Handler, *memStore, *outbox) {
	t.Helper()
	w := newWorld(t)
	return w.handler, w.store, w.box
}

var routes = []struct{ method, resource string }{
	{"POST", "/api/register"}, {"POST", "/api/verify"}, {"POST", "/api/verify/resend"},
	{"POST", "/api/session"}, {"PATCH", "/api/account"}, {"POST", "/api/account/email"},
	{"POST", "/api/guardian"}, {"DELETE", "/api/session"}, {"GET", "/api/account"},
}

// FuzzDecoders sends anything to every account route: the answer is never a 5xx, a 400 names
// the field at fault, and a refused request writes nothing and mails nobody.
func FuzzDecoders(f *testing.F) {
	seeds := []string{
		`{"name":"Ada","email":"ada@example.com","username":"ada","password":"correct horse battery staple","ageGroup":"14+"}`,
		`{"name":"Ada","email":"ada@example.com","username":"ada","password":"correct horse battery staple","ageGroup":"under14","guardianEmail":"p@example.com"}`,
		`{"name":"Ada","email":"ada@example.com","username":"ada","password":"correct horse battery staple","ageGroup":"14+","mobile":"+1 555 0100"}`,
		`{"email":"ada@example.com","code":"123456"}`, `{"token":"abc.def"}`, `{"login":"ada","password":"x"}`,
		`{"name":null}`, `{"consents":["marketing"]}`, `{"decision":"confirm","token":"a.b"}`, `{"code":"12345a"}`,
		`{`, `[]`, `""`, `{"name":"\u0000"}`, `{"email":"a@b.c","email":"d@e.f"}`, `{"password":` + `"` + strings.Repeat("x", 300) + `"}`,
	}
	for i, s := range seeds {
		f.Add(uint8(i), s, "application/json", "")
	}
	f.Add(uint8(3), `{"login":"ada","password":"correct horse battery staple"}`, "application/json", "session=abc.def")
	f.Fuzz(func(t *testing.T, route uint8, body, ctype, cookie string) {
		h, store, box := newHandler(t)
		rt := routes[int(route)%len(routes)]
		req := events.APIGatewayProxyRequest{
			HTTPMethod: rt.method, Resource: rt.resource, Path: rt.resource, Body: body,
			Headers: map[string]string{"Content-Type": ctype, "Cookie": cookie},
		}
		resp, err := apigw.Handle(h.Handle)(context.Background(), req)
		if err != nil {
			t.Fatal(err)
		}
		if resp.StatusCode >= 500 {
			t.Fatalf("%s %s %q -> %d %s", rt.method, rt.resource, body, resp.StatusCode, resp.Body)
		}
		if resp.StatusCode < 400 {
			return
		}
		if resp.Headers["Content-Type"] != apigw.ProblemContentType {
			t.Fatalf("error without a problem document: %d %v", resp.StatusCode, resp.Headers)
		}
		var p apigw.Problem
		if err := json.Unmarshal([]byte(resp.Body), &p); err != nil || p.Status != resp.StatusCode || p.Detail == "" {
			t.Fatalf("bad problem document %s", resp.Body)
		}
		if resp.StatusCode == http.StatusBadRequest && p.Field == "" {
			t.Fatalf("a 400 names no field: %s", resp.Body)
		}
		if n := store.totalWrites(); n > 0 && resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("refused request (%d) wrote %v", resp.StatusCode, store.writes)
		}
		if len(box.sent) > 0 {
			t.Fatalf("refused request (%d) sent mail", resp.StatusCode)
		}
	})
}

func TestHandlerRefusesCrossSiteWrites(t *testing.T) {
	h, store, _ := newHandler(t)
	req := events.APIGatewayProxyRequest{
		HTTPMethod: "POST", Resource: "/api/register", Body: `{}`,
		Headers: map[string]string{"Content-Type": "application/json", "Origin": "https://evil.example"},
	}
	resp, _ := apigw.Handle(h.Handle)(context.Background(), req)
	if resp.StatusCode != http.StatusForbidden || store.totalWrites() != 0 {
		t.Fatalf("cross-site POST = %d (%d writes), want 403 and nothing written", resp.StatusCode, store.totalWrites())
	}
	req.Headers["Origin"] = "https://portal.example.com"
	resp, _ = apigw.Handle(h.Handle)(context.Background(), req)
	if resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("same-origin POST with an empty form = %d, want 400", resp.StatusCode)
	}
}

func TestP01_RegisterNamesTheMissingField(t *testing.T) {
	full := map[string]string{"name": "Ada Lovelace", "email": "ada@example.com", "username": "ada", "password": "correct horse battery staple", "ageGroup": "14+"}
	for _, missing := range []string{"name", "email", "username", "password", "ageGroup"} {
		t.Run(missing, func(t *testing.T) {
			h, store, box := newHandler(t)
			in := map[string]string{}
			for k, v := range full {
				if k != missing {
					in[k] = v
				}
			}
			b, _ := json.Marshal(in)
			resp, _ := apigw.Handle(h.Handle)(context.Background(), events.APIGatewayProxyRequest{
				HTTPMethod: "POST", Resource: "/api/register", Body: string(b), Headers: map[string]string{"Content-Type": "application/json"},
			})
			var p apigw.Problem
			_ = json.Unmarshal([]byte(resp.Body), &p)
			if resp.StatusCode != 400 || p.Field != missing || store.totalWrites() != 0 || len(box.sent) != 0 {
				t.Errorf("without %s: %d field %q, %d writes, %d mails", missing, resp.StatusCode, p.Field, store.totalWrites(), len(box.sent))
			}
		})
	}
	h, store, box := newHandler(t)
	b, _ := json.Marshal(full)
	resp, _ := apigw.Handle(h.Handle)(context.Background(), events.APIGatewayProxyRequest{
		HTTPMethod: "POST", Resource: "/api/register", Body: string(b), Headers: map[string]string{"Content-Type": "application/json"},
	})
	if resp.StatusCode != 202 || store.totalWrites() != 1 || len(box.sent) != 1 || box.sent[0].Kind != mail.VerifyEmail {
		t.Errorf("complete form: %d, %d writes, mails %v", resp.StatusCode, store.totalWrites(), box.sent)
	}
}

func TestHandlerAnswersOnlyRequestsThroughCloudFront(t *testing.T) {
	h, store, _ := newHandler(t)
	h.OriginSecret = "s3cret-from-cloudfront"
	req := events.APIGatewayProxyRequest{
		HTTPMethod: "POST", Resource: "/api/verify/resend", Body: `{"email":"ada@example.com"}`,
		Headers: map[string]string{"Content-Type": "application/json"},
	}
	for name, header := range map[string]string{"no header": "", "wrong secret": "guess"} {
		if header != "" {
			req.Headers[account.OriginHeader] = header
		}
		resp, _ := apigw.Handle(h.Handle)(context.Background(), req)
		if resp.StatusCode != http.StatusForbidden {
			t.Errorf("%s: %d, want 403", name, resp.StatusCode)
		}
	}
	req.Headers[account.OriginHeader] = "s3cret-from-cloudfront"
	if resp, _ := apigw.Handle(h.Handle)(context.Background(), req); resp.StatusCode != http.StatusAccepted {
		t.Errorf("through CloudFront: %d %s, want 202", resp.StatusCode, resp.Body)
	}
	if store.totalWrites() != 0 {
		t.Errorf("refused requests wrote %v", store.writes)
	}
}
