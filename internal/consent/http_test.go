package consent_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/privacyportal/portal/internal/apigw"
	"github.com/privacyportal/portal/internal/consent"
	"github.com/privacyportal/portal/internal/web"
)

// call sends one request through the handler as the API does, with the portal's Origin and
// the viewer address unless headers say otherwise ("" removes a header).
func (w *world) call(t *testing.T, method, resource, body string, headers map[string]string) (apigw.Response, apigw.Problem) {
	t.Helper()
	h := map[string]string{"Content-Type": "application/json", "Origin": "https://portal.example.com", web.ViewerAddressHeader: "198.51.100.7:443"}
	for k, v := range headers {
		if v == "" {
			delete(h, k)
		} else {
			h[k] = v
		}
	}
	req := &apigw.Request{HTTPMethod: method, Resource: resource, Path: resource, Headers: h, Body: body,
		QueryStringParameters: map[string]string{}, PathParameters: map[string]string{}}
	if i := strings.Index(resource, "?"); i >= 0 {
		req.Resource, req.Path = resource[:i], resource[:i]
		q, _ := url.ParseQuery(resource[i+1:])
		for k := range q {
			req.QueryStringParameters[k] = q.Get(k)
		}
	}
	if strings.HasPrefix(req.Resource, "/api/consent/receipts/") {
		req.PathParameters["id"] = strings.TrimPrefix(req.Resource, "/api/consent/receipts/")
		req.Resource = "/api/consent/receipts/{id}"
	}
	resp, _ := apigw.Handle(w.handler.Handle)(ctx, *req)
	var p apigw.Problem
	if resp.StatusCode >= 400 {
		_ = json.Unmarshal([]byte(resp.Body), &p)
	}
	return resp, p
}

func (w *world) cookie(c web.Caller) map[string]string {
	return map[string]string{"Cookie": web.CookieName + "=s-" + string(c.Subject)}
}

func TestHandlerConsentRoutes(t *testing.T) {
	w := newWorld(t)
	if resp, _ := w.call(t, "GET", "/api/consent", "", nil); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("signed out: %d", resp.StatusCode)
	}
	resp, _ := w.call(t, "PUT", "/api/consent", `{"choices":{"marketing":true},"source":"form"}`, w.cookie(w.ada))
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("PUT: %d %s", resp.StatusCode, resp.Body)
	}
	var v consent.View
	_ = json.Unmarshal([]byte(resp.Body), &v)
	if v.Receipt == nil {
		t.Fatalf("no receipt in %s", resp.Body)
	}
	h := w.cookie(w.ada)
	h["Origin"] = "https://evil.example"
	if resp, _ := w.call(t, "PUT", "/api/consent", `{"choices":{"marketing":false},"source":"form"}`, h); resp.StatusCode != http.StatusForbidden {
		t.Errorf("PUT from another origin: %d", resp.StatusCode)
	}
	if _, p := w.call(t, "PUT", "/api/consent", `{"choices":{"marketing":"yes"},"source":"form"}`, w.cookie(w.ada)); p.Field != "choices.marketing" && p.Field != "choices" {
		t.Errorf("a choice that is not a boolean: %+v", p)
	}
	r, _ := w.call(t, "GET", "/api/consent/receipts/"+v.Receipt.ID, "", w.cookie(w.ada))
	if r.StatusCode != http.StatusOK || !strings.Contains(r.Headers["Content-Disposition"], "consent-receipt-"+v.Receipt.ID+".json") || !strings.Contains(r.Body, "KI-CR-v1.1.0") {
		t.Errorf("receipt download: %d %v %s", r.StatusCode, r.Headers, r.Body)
	}
	g := w.cookie(w.ada)
	g["Sec-GPC"] = "1"
	resp, _ = w.call(t, "GET", "/api/consent", "", g)
	_ = json.Unmarshal([]byte(resp.Body), &v)
	if !v.Signals.GPC || purposeOf(v, "marketing").Granted {
		t.Errorf("GET with Sec-GPC: signals %+v, marketing %+v", v.Signals, purposeOf(v, "marketing"))
	}
	if resp, p := w.call(t, "POST", "/api/consent/policy", `{"version":"0.9"}`, w.cookie(w.ada)); resp.StatusCode != http.StatusBadRequest || p.Field != "version" {
		t.Errorf("accepting a wrong version: %d %+v", resp.StatusCode, p)
	}
}

func TestP19_UnsubscribeByOneClickPostAndAGetThatChangesNothing(t *testing.T) {
	w := newWorld(t)
	if _, err := w.centre.Update(ctx, w.ada, consent.UpdateInput{Choices: map[string]bool{"marketing": true}, Source: "form"}, web.Signals{}); err != nil {
		t.Fatal(err)
	}
	token := url.QueryEscape(w.env.UnsubscribeToken(w.ada.Subject, "winter", w.now))
	n := w.store.appends
	resp, _ := w.call(t, "GET", "/api/unsubscribe?token="+token+"&lang=zh-CN", "", map[string]string{"Origin": "", "Content-Type": ""})
	if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(resp.Headers["Location"], "/zh/unsubscribe/?token=") || w.store.appends != n {
		t.Fatalf("GET: %d %v, %d writes", resp.StatusCode, resp.Headers, w.store.appends-n)
	}
	// A mail client's one-click POST: a form body, no Origin.
	form := map[string]string{"Origin": "", "Content-Type": "application/x-www-form-urlencoded"}
	if resp, p := w.call(t, "POST", "/api/unsubscribe?token="+token, "List-Unsubscribe=Nope", form); resp.StatusCode != http.StatusBadRequest || p.Field != "List-Unsubscribe" {
		t.Errorf("a POST without One-Click: %d %+v", resp.StatusCode, p)
	}
	resp, _ = w.call(t, "POST", "/api/unsubscribe?token="+token, "List-Unsubscribe=One-Click", form)
	if resp.StatusCode != http.StatusOK || resp.Body != `{"status":"unsubscribed"}` {
		t.Fatalf("one-click POST: %d %s", resp.StatusCode, resp.Body)
	}
	if resp, p := w.call(t, "POST", "/api/unsubscribe?token="+token, "List-Unsubscribe=One-Click", form); resp.StatusCode != http.StatusBadRequest || p.Field != "token" {
		t.Errorf("the link replayed: %d %+v", resp.StatusCode, p)
	}
	// From the site's page: JSON, with the portal's Origin.
	other := url.QueryEscape(w.env.UnsubscribeToken(w.ada.Subject, "spring", w.now))
	if resp, _ := w.call(t, "POST", "/api/unsubscribe", `{"token":"`+other+`"}`, map[string]string{"Origin": "https://evil.example"}); resp.StatusCode != http.StatusForbidden {
		t.Errorf("JSON from another origin: %d", resp.StatusCode)
	}
	if resp, p := w.call(t, "POST", "/api/unsubscribe", `{"token":"`+strings.Repeat("x", 20)+`"}`, nil); resp.StatusCode != http.StatusBadRequest || p.Field != "token" {
		t.Errorf("a forged token from the page: %d %+v", resp.StatusCode, p)
	}
	if resp, _ := w.call(t, "POST", "/api/unsubscribe?token="+other, "x", map[string]string{"Content-Type": "text/plain"}); resp.StatusCode != http.StatusUnsupportedMediaType {
		t.Errorf("a text body: %d", resp.StatusCode)
	}
	if resp, _ := w.call(t, "DELETE", "/api/unsubscribe?token="+other, "", nil); resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("DELETE: %d", resp.StatusCode)
	}
}

func TestP09_EventsHonourTheSignalsAndTheBannerCookie(t *testing.T) {
	w := newWorld(t)
	day := w.now.Format("2006-01-02")
	post := func(headers map[string]string) int {
		t.Helper()
		before := w.store.views[day+"/"]
		resp, _ := w.call(t, "POST", "/api/events", `{"type":"pageview","path":"/"}`, headers)
		if resp.StatusCode != http.StatusNoContent || len(resp.MultiValueHeaders["Set-Cookie"]) > 0 || resp.Headers["Set-Cookie"] != "" {
			t.Fatalf("events: %d %v", resp.StatusCode, resp.Headers)
		}
		return w.store.views[day+"/"] - before
	}
	banner := url.QueryEscape(`{"categories":["necessary","analytics"],"revision":0}`)
	if post(nil) != 0 || post(map[string]string{"Cookie": "cc_cookie=" + url.QueryEscape(`{"categories":["necessary"]}`)}) != 0 {
		t.Error("counted without consent")
	}
	if post(map[string]string{"Cookie": "cc_cookie=" + banner}) != 1 {
		t.Error("not counted with the banner's consent")
	}
	if post(map[string]string{"Cookie": "cc_cookie=" + banner, "Sec-GPC": "1"}) != 0 || post(map[string]string{"Cookie": "cc_cookie=" + banner, "DNT": "1"}) != 0 {
		t.Error("counted with a signal on")
	}
	signedIn := map[string]string{"Cookie": "cc_cookie=" + banner + "; " + web.CookieName + "=s-" + string(w.ada.Subject)}
	if post(signedIn) != 0 {
		t.Error("a signed-in visitor without the consent in the ledger was counted on the banner's word")
	}
	forged := map[string]string{"Cookie": "cc_cookie=" + banner + "; " + web.CookieName + "=forged"}
	if post(forged) != 0 {
		t.Error("a bad session was counted on the banner's word")
	}
	if resp, p := w.call(t, "POST", "/api/events", `{"type":"pageview","path":"x"}`, nil); resp.StatusCode != http.StatusBadRequest || p.Field != "path" {
		t.Errorf("a bad path: %d %+v", resp.StatusCode, p)
	}
}

func TestP19_AnUnsubscribeLinkExpires(t *testing.T) {
	w := newWorld(t)
	if _, err := w.centre.Update(ctx, w.ada, consent.UpdateInput{Choices: map[string]bool{"marketing": true}, Source: "form"}, web.Signals{}); err != nil {
		t.Fatal(err)
	}
	old := w.env.UnsubscribeToken(w.ada.Subject, "long-ago", w.now.Add(-consent.UnsubscribeFor-48*time.Hour))
	wantField(t, "an expired link", w.unsub.Unsubscribe(ctx, old), "token")
	parts := strings.Split(w.env.UnsubscribeToken(w.ada.Subject, "now", w.now), ".")
	parts[2] = "99999999" // a later expiry, with the signature of the real one
	wantField(t, "a link with its expiry changed", w.unsub.Unsubscribe(ctx, strings.Join(parts, ".")), "token")
	if err := w.unsub.Unsubscribe(ctx, w.env.UnsubscribeToken(w.ada.Subject, "now", w.now)); err != nil {
		t.Errorf("a current link: %v", err)
	}
}
