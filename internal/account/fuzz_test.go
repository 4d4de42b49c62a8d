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

var routes = []struct{ method, resource string }{
	{"POST", "/api/register"}, {"POST", "/api/verify"}, {"POST", "/api/verify/resend"},
	{"POST", "/api/session"}, {"PATCH", "/api/account"}, {"POST", "/api/account/email"},
	{"POST", "/api/guardian"}, {"DELETE", "/api/session"}, {"GET", "/api/account"},
	{"POST", "/api/account/password"}, {"POST", "/api/password/reset"}, {"POST", "/api/password/reset/confirm"},
	{"DELETE", "/api/sessions"},
}

// FuzzDecoders sends anything to every account route: the answer is never a 5xx, a 400 or
// 415 names the field at fault, and a refused request writes nothing, queues no mail and mails
// nobody.
func FuzzDecoders(f *testing.F) {
	seeds := []string{
		`{"name":"Ada","email":"ada@example.com","username":"ada","password":"correct horse battery staple","ageGroup":"14+"}`,
		`{"name":"Ada","email":"ada@example.com","username":"ada","password":"correct horse battery staple","ageGroup":"under14","guardianEmail":"p@example.com"}`,
		`{"name":"Ada","email":"ada@example.com","username":"ada","password":"correct horse battery staple","ageGroup":"14+","mobile":"+1 555 0100"}`,
		`{"email":"ada@example.com","code":"123456","password":"x"}`, `{"token":"abc.def","password":"x"}`, `{"login":"ada","password":"x"}`,
		`{"name":null}`, `{"consents":["marketing"]}`, `{"decision":"confirm","token":"a.b"}`, `{"code":"12345a"}`,
		`{"currentPassword":"a","newPassword":"b"}`, `{"email":"a@b.c","code":"123456","newPassword":"correct horse battery staple"}`,
		`{`, `[]`, `""`, `{"name":"\u0000"}`, `{"email":"a@b.c","email":"d@e.f"}`, `{"password":` + `"` + strings.Repeat("x", 300) + `"}`,
		`{"email":"\u212Aate@example.com"}`, `{"name":"visit https://evil.example"}`,
	}
	for i, s := range seeds {
		f.Add(uint8(i), s, "application/json", "")
	}
	f.Add(uint8(3), `{"login":"ada","password":"correct horse battery staple"}`, "application/json", account.CookieName+"=abc.def")
	f.Add(uint8(0), `{"":1}`, "application/json", "") // a member with no name names the body
	f.Add(uint8(8), ``, "", account.CookieName+"=a.b; "+account.CookieName+"=c.d")
	f.Fuzz(func(t *testing.T, route uint8, body, ctype, cookie string) {
		w := newWorld(t)
		rt := routes[int(route)%len(routes)]
		req := events.APIGatewayProxyRequest{
			HTTPMethod: rt.method, Resource: rt.resource, Path: rt.resource, Body: body,
			Headers: map[string]string{"Content-Type": ctype, "Cookie": cookie, "Origin": w.handler.SiteURL},
		}
		resp, err := apigw.Handle(w.handler.Handle)(context.Background(), req)
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
		if (resp.StatusCode == http.StatusBadRequest || resp.StatusCode == http.StatusUnsupportedMediaType) && p.Field == "" {
			t.Fatalf("a %d names no field: %s", resp.StatusCode, resp.Body)
		}
		if n := w.store.totalWrites(); n > 0 && resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("refused request (%d) wrote %v", resp.StatusCode, w.store.writes)
		}
		if len(w.jobs.jobs) > 0 || w.box.count() > 0 {
			t.Fatalf("refused request (%d) queued or sent mail", resp.StatusCode)
		}
	})
}

func TestHandlerRefusesCrossSiteWrites(t *testing.T) {
	w := newWorld(t)
	for name, origin := range map[string]string{"another site": "https://evil.example", "no origin at all": "", "another scheme": "http://portal.example.com"} {
		resp, _ := w.call(t, "POST", "/api/register", `{}`, map[string]string{"Origin": origin})
		if resp.StatusCode != http.StatusForbidden || w.store.totalWrites() != 0 {
			t.Errorf("%s: POST = %d (%d writes), want 403 and nothing written", name, resp.StatusCode, w.store.totalWrites())
		}
	}
	if resp, _ := w.call(t, "POST", "/api/register", `{}`, nil); resp.StatusCode != http.StatusBadRequest {
		t.Errorf("same-origin POST with an empty form = %d, want 400", resp.StatusCode)
	}
	// A GET needs no Origin: it changes nothing.
	if resp, _ := w.call(t, "GET", "/api/account", ``, map[string]string{"Origin": ""}); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("GET without Origin = %d, want 401 (not signed in)", resp.StatusCode)
	}
}

func TestHandlerWantsJSONBodies(t *testing.T) {
	w := newWorld(t)
	for _, ctype := range []string{"", "text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x"} {
		resp, p := w.call(t, "POST", "/api/verify/resend", `{"email":"ada@example.com"}`, map[string]string{"Content-Type": ctype})
		if resp.StatusCode != http.StatusUnsupportedMediaType || p.Field != "Content-Type" {
			t.Errorf("Content-Type %q: %d %+v, want 415 naming Content-Type", ctype, resp.StatusCode, p)
		}
	}
	if len(w.jobs.jobs) != 0 {
		t.Error("a refused body queued mail")
	}
}

func TestP01_RegisterNamesTheMissingField(t *testing.T) {
	full := map[string]string{"name": "Ada Lovelace", "email": "ada@example.com", "username": "ada", "password": "correct horse battery staple", "ageGroup": "14+"}
	for _, missing := range []string{"name", "email", "username", "password", "ageGroup"} {
		t.Run(missing, func(t *testing.T) {
			w := newWorld(t)
			in := map[string]string{}
			for k, v := range full {
				if k != missing {
					in[k] = v
				}
			}
			b, _ := json.Marshal(in)
			resp, p := w.call(t, "POST", "/api/register", string(b), nil)
			if resp.StatusCode != 400 || p.Field != missing || w.store.totalWrites() != 0 || len(w.jobs.jobs) != 0 {
				t.Errorf("without %s: %d field %q, %d writes, %d jobs", missing, resp.StatusCode, p.Field, w.store.totalWrites(), len(w.jobs.jobs))
			}
		})
	}
	w := newWorld(t)
	b, _ := json.Marshal(full)
	resp, _ := w.call(t, "POST", "/api/register", string(b), nil)
	w.drain(t)
	if resp.StatusCode != 202 || w.store.writes["Register"] != 1 || w.box.count() != 1 || w.box.sent[0].Kind != mail.VerifyEmail {
		t.Errorf("complete form: %d, writes %v, mails %v", resp.StatusCode, w.store.writes, w.box.sent)
	}
}

// Behind CloudFront every request carries the viewer's address; one without it did not come
// through CloudFront, and is refused rather than limited as one anonymous client.
func TestHandlerBehindCloudFrontRefusesRequestsWithoutTheViewerAddress(t *testing.T) {
	w := newWorld(t)
	w.handler.BehindCloudFront = true
	for name, v := range map[string]string{"no header": "", "not an address": "somewhere"} {
		resp, _ := w.call(t, "POST", "/api/verify/resend", `{"email":"ada@example.com"}`, map[string]string{account.ViewerAddressHeader: v})
		if resp.StatusCode != http.StatusForbidden {
			t.Errorf("%s: %d, want 403", name, resp.StatusCode)
		}
	}
	if !strings.Contains(logs.String(), "request without the viewer address") {
		t.Error("a refused request without the viewer address was not logged")
	}
	resp, _ := w.call(t, "POST", "/api/verify/resend", `{"email":"ada@example.com"}`, map[string]string{account.ViewerAddressHeader: "203.0.113.9:443"})
	if resp.StatusCode != http.StatusAccepted {
		t.Errorf("through CloudFront: %d %s, want 202", resp.StatusCode, resp.Body)
	}
	if w.store.totalWrites() != 0 || len(w.jobs.jobs) != 1 {
		t.Errorf("writes %v, jobs %d", w.store.writes, len(w.jobs.jobs))
	}
}
