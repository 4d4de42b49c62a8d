package consent_test

import (
	"context"
	"encoding/json"
	"net/url"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/privacyportal/portal/internal/apigw"
	"github.com/privacyportal/portal/internal/web"
)

var routes = []struct{ method, resource string }{
	{"GET", "/api/consent"}, {"PUT", "/api/consent"}, {"POST", "/api/consent/policy"},
	{"GET", "/api/consent/receipts/{id}"}, {"POST", "/api/events"}, {"GET", "/api/unsubscribe"},
	{"POST", "/api/unsubscribe"},
}

// FuzzDecoders sends anything to every consent route, signed in or not: the answer is never a
// 5xx, a 400 or 415 names the field at fault, and a refused request writes nothing and queues
// nothing.
func FuzzDecoders(f *testing.F) {
	seeds := []string{
		`{"choices":{"marketing":true},"source":"form"}`, `{"choices":{"service":false},"source":"form"}`,
		`{"choices":{"x":true},"source":"banner"}`, `{"choices":{},"source":"form"}`, `{"version":"1.1"}`, `{"version":1}`,
		`{"type":"pageview","path":"/"}`, `{"type":"pageview","path":"/a?b"}`, `{"token":"a.b.c"}`,
		`List-Unsubscribe=One-Click`, `{`, `[]`, `""`, `{"choices":{"marketing":"yes"}}`,
	}
	for i, s := range seeds {
		f.Add(uint8(i), s, "application/json", "", "a.b.c", "", false)
	}
	f.Add(uint8(6), `List-Unsubscribe=One-Click`, "application/x-www-form-urlencoded", "", "x.y.z", "", false)
	f.Add(uint8(4), `{"type":"pageview","path":"/"}`, "application/json", "cc_cookie="+url.QueryEscape(`{"categories":["analytics"]}`), "", "", true)
	f.Add(uint8(6), "--b\r\nContent-Disposition: form-data; name=\"List-Unsubscribe\"\r\n\r\nOne-Click\r\n--b--\r\n", "multipart/form-data; boundary=b", "", "a.b.c", "", false)
	f.Fuzz(func(t *testing.T, route uint8, body, ctype, cookie, token, id string, signedIn bool) {
		w := newWorld(t)
		rt := routes[int(route)%len(routes)]
		if signedIn {
			cookie += "; " + web.CookieName + "=s-" + string(w.ada.Subject)
		}
		req := events.APIGatewayProxyRequest{
			HTTPMethod: rt.method, Resource: rt.resource, Path: rt.resource, Body: body,
			Headers: map[string]string{"Content-Type": ctype, "Cookie": cookie, "Origin": w.handler.SiteURL,
				web.ViewerAddressHeader: "198.51.100.7:443"},
			QueryStringParameters: map[string]string{"token": token}, PathParameters: map[string]string{"id": id},
		}
		before := len(w.store.ledgers[w.ada.Subject])
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
		var p apigw.Problem
		if err := json.Unmarshal([]byte(resp.Body), &p); err != nil {
			t.Fatalf("a %d without a problem document: %s", resp.StatusCode, resp.Body)
		}
		if (resp.StatusCode == 400 || resp.StatusCode == 415) && p.Field == "" {
			t.Fatalf("%d without a field: %s", resp.StatusCode, resp.Body)
		}
		if len(w.store.ledgers[w.ada.Subject]) != before || len(w.jobs.jobs) != 0 {
			t.Fatalf("a refused %s %s wrote or queued something", rt.method, rt.resource)
		}
	})
}
