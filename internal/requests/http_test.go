package requests_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/privacyportal/portal/internal/apigw"
	"github.com/privacyportal/portal/internal/mail"
	"github.com/privacyportal/portal/internal/requests"
	"github.com/privacyportal/portal/internal/web"
)

// call is one API request to the handler, through apigw.Handle as the function serves it.
type call struct {
	method, resource, id, token, body string
	// signedIn, when set, sends their session cookie; cookie sends any other.
	signedIn *web.Caller
	cookie   string
	// origin replaces the site's Origin ("-" sends none); ctype the JSON content type.
	origin, ctype string
}

func (w *world) serve(tb testing.TB, c call) apigw.Response {
	tb.Helper()
	req := apigw.Request{
		HTTPMethod: c.method, Resource: c.resource, Path: strings.ReplaceAll(c.resource, "{id}", c.id), Body: c.body,
		Headers: map[string]string{
			"Content-Type": "application/json", "Origin": siteURL, web.ViewerAddressHeader: clientIP + ":443",
		},
		PathParameters: map[string]string{}, QueryStringParameters: map[string]string{},
	}
	if c.id != "" {
		req.PathParameters["id"] = c.id
	}
	if c.token != "" {
		req.QueryStringParameters["token"] = c.token
	}
	switch c.origin {
	case "":
	case "-":
		delete(req.Headers, "Origin")
	default:
		req.Headers["Origin"] = c.origin
	}
	if c.ctype != "" {
		req.Headers["Content-Type"] = c.ctype
	}
	switch {
	case c.signedIn != nil:
		req.Headers["Cookie"] = web.CookieName + "=s-" + string(c.signedIn.Subject)
	case c.cookie != "":
		req.Headers["Cookie"] = c.cookie
	}
	resp, err := apigw.Handle(w.handler.Handle)(ctx, req)
	if err != nil {
		tb.Fatalf("%s %s: %v", c.method, c.resource, err)
	}
	return resp
}

// problem decodes an error answer, and fails unless it has the status (and names the field).
func problem(tb testing.TB, resp apigw.Response, status int, field string) apigw.Problem {
	tb.Helper()
	var p apigw.Problem
	if resp.StatusCode != status || resp.Headers["Content-Type"] != apigw.ProblemContentType || json.Unmarshal([]byte(resp.Body), &p) != nil {
		tb.Fatalf("answer %d %v %s, want a %d problem", resp.StatusCode, resp.Headers, resp.Body, status)
	}
	if field != "" && p.Field != field {
		tb.Fatalf("problem names %q, want %q: %s", p.Field, field, resp.Body)
	}
	return p
}

func decode[T any](tb testing.TB, resp apigw.Response, status int) T {
	tb.Helper()
	var v T
	if resp.StatusCode != status {
		tb.Fatalf("answer %d %s, want %d", resp.StatusCode, resp.Body, status)
	}
	if err := json.Unmarshal([]byte(resp.Body), &v); err != nil {
		tb.Fatalf("answer %s: %v", resp.Body, err)
	}
	return v
}

func TestHandlerFilesAVisitorsRequestAndProvesIt(t *testing.T) {
	w := newWorld(t)
	resp := w.serve(t, call{method: "POST", resource: "/api/requests", body: `{"type":"access","email":"grace@example.com"}`})
	filed := decode[requests.Filed](t, resp, http.StatusAccepted)
	if filed.Status != "check_email" || resp.Headers["Cache-Control"] != "no-store" {
		t.Errorf("filed %+v, headers %v", filed, resp.Headers)
	}
	w.drain(t)
	code := w.lastCode(t, "grace@example.com")

	resp = w.serve(t, call{method: "POST", resource: "/api/requests/{id}/verify", id: filed.Request, body: `{"code":"000000x"}`})
	problem(t, resp, http.StatusBadRequest, "code")
	resp = w.serve(t, call{method: "POST", resource: "/api/requests/{id}/verify", id: filed.Request, body: `{"code":"` + code + `"}`})
	if got := decode[map[string]string](t, resp, http.StatusOK); got["status"] != "verified" {
		t.Errorf("verify answered %v", got)
	}
	w.drain(t)
	id, token := w.lastStatusLink(t, "grace@example.com")
	resp = w.serve(t, call{method: "GET", resource: "/api/requests/{id}", id: id, token: token, origin: "-"})
	if v := decode[requests.View](t, resp, http.StatusOK); v.ID != id || v.Status != "verified" || len(v.Steps) != 2 {
		t.Errorf("status %+v", v)
	}
	resp = w.serve(t, call{method: "GET", resource: "/api/requests/{id}", id: id, token: strings.Repeat("0", 64), origin: "-"})
	problem(t, resp, http.StatusNotFound, "")
	resp = w.serve(t, call{method: "GET", resource: "/api/requests/{id}", id: id, origin: "-"})
	problem(t, resp, http.StatusNotFound, "")
}

func TestHandlerFilesASignedInRequest(t *testing.T) {
	w := newWorld(t)
	ada := w.addAccount(t, "ada@example.com", "Ada Lovelace", "en")
	resp := w.serve(t, call{method: "POST", resource: "/api/requests", signedIn: &ada, body: `{"type":"contact","details":"Hello"}`})
	filed := decode[requests.Filed](t, resp, http.StatusCreated)
	if s, _ := split(t, filed.Request); filed.Status != "verified" || s != ada.Subject {
		t.Errorf("filed %+v", filed)
	}
	resp = w.serve(t, call{method: "POST", resource: "/api/requests", signedIn: &ada, body: `{"type":"copy","password":"wrong password here"}`})
	problem(t, resp, http.StatusBadRequest, "password")
	// A session cookie that does not authenticate is refused, not taken for a visitor.
	resp = w.serve(t, call{method: "POST", resource: "/api/requests", cookie: web.CookieName + "=forged", body: `{"type":"access","email":"ada@example.com"}`})
	problem(t, resp, http.StatusUnauthorized, "")

	resp = w.serve(t, call{method: "GET", resource: "/api/requests", signedIn: &ada, origin: "-"})
	list := decode[struct{ Requests []requests.View }](t, resp, http.StatusOK)
	if len(list.Requests) != 1 || list.Requests[0].ID != filed.Request {
		t.Errorf("list %+v", list)
	}
	resp = w.serve(t, call{method: "GET", resource: "/api/requests", origin: "-"})
	problem(t, resp, http.StatusUnauthorized, "")
	if n := len(w.store.all()); n != 1 {
		t.Errorf("%d requests stored, want 1", n)
	}
}

func TestHandlerRefusesCrossSiteWritesAndBadBodies(t *testing.T) {
	tests := []struct {
		name   string
		c      call
		status int
		field  string
	}{
		{"no origin", call{method: "POST", resource: "/api/requests", origin: "-", body: `{"type":"access","email":"a@example.com"}`}, 403, ""},
		{"another origin", call{method: "POST", resource: "/api/requests", origin: "https://evil.example", body: `{"type":"access","email":"a@example.com"}`}, 403, ""},
		{"verify from another origin", call{method: "POST", resource: "/api/requests/{id}/verify", id: "a.b", origin: "https://evil.example", body: `{"code":"123456"}`}, 403, ""},
		{"share from another origin", call{method: "POST", resource: "/api/exports/{id}/share", id: "a.b", origin: "https://evil.example", body: `{"token":"x"}`}, 403, ""},
		{"not JSON", call{method: "POST", resource: "/api/requests", ctype: "text/plain", body: `{"type":"access","email":"a@example.com"}`}, 415, "Content-Type"},
		{"broken JSON", call{method: "POST", resource: "/api/requests", body: `{"type":"access",`}, 400, "body"},
		{"empty body", call{method: "POST", resource: "/api/requests", body: ``}, 400, "body"},
		{"a list", call{method: "POST", resource: "/api/requests", body: `["access"]`}, 400, "body"},
		{"type of the wrong kind", call{method: "POST", resource: "/api/requests", body: `{"type":5,"email":"a@example.com"}`}, 400, "type"},
		{"unknown field", call{method: "POST", resource: "/api/requests", body: `{"type":"access","email":"a@example.com","name":"Ada"}`}, 400, "name"},
		{"two objects", call{method: "POST", resource: "/api/requests", body: `{"type":"access","email":"a@example.com"}{}`}, 400, "body"},
		{"invalid input", call{method: "POST", resource: "/api/requests", body: `{"type":"access","email":"not an address"}`}, 400, "email"},
		{"code of the wrong kind", call{method: "POST", resource: "/api/requests/{id}/verify", id: "a.b", body: `{"code":123456}`}, 400, "code"},
		{"share body unknown field", call{method: "POST", resource: "/api/exports/{id}/share", id: "a.b", body: `{"tok":"x"}`}, 400, "tok"},
		{"unknown route", call{method: "GET", resource: "/api/requests/{id}/steps", id: "a.b", origin: "-"}, 404, ""},
		{"unknown method", call{method: "DELETE", resource: "/api/requests/{id}", id: "a.b"}, 404, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w := newWorld(t)
			problem(t, w.serve(t, tc.c), tc.status, tc.field)
			if n := w.store.totalWrites(); n != 0 || len(w.store.all()) != 0 {
				t.Errorf("a refused request wrote %v", w.store.writes)
			}
			if w.jobs.len()+w.work.len() != 0 {
				t.Errorf("a refused request queued %v %v", w.jobs.kinds(), w.work.kinds())
			}
		})
	}
}

func TestHandlerRateLimitAnswers429WithRetryAfter(t *testing.T) {
	w := newWorld(t)
	w.env.Limits.IntakePerIP.N = 1
	w.serve(t, call{method: "POST", resource: "/api/requests", body: `{"type":"refund"}`})
	resp := w.serve(t, call{method: "POST", resource: "/api/requests", body: `{"type":"refund"}`})
	problem(t, resp, http.StatusTooManyRequests, "")
	if resp.Headers["Retry-After"] == "" {
		t.Errorf("429 without Retry-After: %v", resp.Headers)
	}
}

func TestP21_HandlerRedirectsDownloadsOnceThenToTheExpiredPage(t *testing.T) {
	w := newWorld(t)
	e := w.readyExport(t, requests.FileInput{Type: "copy", Password: goodPassword, ThirdParty: "bank@example.org"})
	s, rid := split(t, e.id)
	get := call{method: "GET", resource: "/api/exports/{id}", id: e.id, token: e.download, origin: "-"}
	resp := w.serve(t, get)
	if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(resp.Headers["Location"], "https://exports.s3.example.com/"+requests.ArchiveKey(s, rid)) {
		t.Fatalf("first download: %d %v", resp.StatusCode, resp.Headers)
	}
	if resp.Headers["Referrer-Policy"] != "no-referrer" || resp.Headers["Cache-Control"] != "no-store" {
		t.Errorf("download headers %v", resp.Headers)
	}
	for name, c := range map[string]call{
		"used link":     get,
		"forged token":  {method: "GET", resource: "/api/exports/{id}", id: e.id, token: "forged", origin: "-"},
		"no token":      {method: "GET", resource: "/api/exports/{id}", id: e.id, origin: "-"},
		"malformed id":  {method: "GET", resource: "/api/exports/{id}", id: "x", token: e.download, origin: "-"},
		"unknown share": {method: "GET", resource: "/api/exports/{id}", id: e.id, token: e.share, origin: "-"},
	} {
		resp := w.serve(t, c)
		if resp.StatusCode != http.StatusSeeOther || resp.Headers["Location"] != siteURL+"/requests/expired/" {
			t.Errorf("%s: %d %v, want 303 to the expired page", name, resp.StatusCode, resp.Headers)
		}
	}
	if n := w.presigner.count(); n != 1 {
		t.Errorf("%d presigned URLs, want 1", n)
	}

	share := call{method: "POST", resource: "/api/exports/{id}/share", id: e.id, body: `{"token":"` + e.share + `"}`}
	if got := decode[map[string]string](t, w.serve(t, share), http.StatusOK); got["status"] != "shared" {
		t.Errorf("share answered %v", got)
	}
	problem(t, w.serve(t, share), http.StatusBadRequest, "token")
	w.drain(t)
	if n := len(w.box.to("bank@example.org", mail.ExportThirdParty)); n != 1 {
		t.Errorf("%d mails to the third party, want 1", n)
	}
}
