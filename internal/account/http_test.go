package account_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/privacyportal/portal/internal/account"
	"github.com/privacyportal/portal/internal/apigw"
	"github.com/privacyportal/portal/internal/mail"
	"github.com/privacyportal/portal/internal/web"
)

// call sends one request through the handler as API Gateway would.
func (w *world) call(tb testing.TB, method, resource, body string, headers map[string]string) (events.APIGatewayProxyResponse, apigw.Problem) {
	tb.Helper()
	h := map[string]string{"Content-Type": "application/json", "Origin": w.handler.SiteURL}
	for k, v := range headers {
		if v == "" {
			delete(h, k)
			continue
		}
		h[k] = v
	}
	resp, err := apigw.Handle(w.handler.Handle)(ctx, events.APIGatewayProxyRequest{
		HTTPMethod: method, Resource: resource, Path: resource, Body: body, Headers: h,
		RequestContext: events.APIGatewayProxyRequestContext{Identity: events.APIGatewayRequestIdentity{SourceIP: clientIP}},
	})
	if err != nil {
		tb.Fatal(err)
	}
	var p apigw.Problem
	if resp.StatusCode >= 400 {
		_ = json.Unmarshal([]byte(resp.Body), &p)
	}
	return resp, p
}

func TestHandlerServesAccountsEndToEndOnTheFake(t *testing.T) {
	w := newWorld(t)
	resp, _ := w.call(t, "POST", "/api/register", `{"name":"Ada","email":"ada@example.com","username":"ada","password":"`+goodPassword+`","ageGroup":"14+","mobile":"+44 20 7946 0000","consents":["profile.mobile"]}`, nil)
	if resp.StatusCode != http.StatusAccepted || resp.Body != `{"status":"check_email"}` {
		t.Fatalf("register: %d %s", resp.StatusCode, resp.Body)
	}
	w.drain(t)
	code, _ := w.lastCode(t, "ada@example.com")
	if resp, _ := w.call(t, "POST", "/api/verify", `{"email":"ada@example.com","code":"`+code+`","password":"`+goodPassword+`"}`, nil); resp.StatusCode != http.StatusOK || resp.Body != `{"status":"verified"}` {
		t.Fatalf("verify: %d %s", resp.StatusCode, resp.Body)
	}
	if resp, _ := w.call(t, "POST", "/api/verify/resend", `{"email":"ada@example.com"}`, nil); resp.StatusCode != http.StatusAccepted {
		t.Errorf("resend: %d", resp.StatusCode)
	}
	resp, _ = w.call(t, "POST", "/api/session", `{"login":"ada","password":"`+goodPassword+`"}`, nil)
	cookies := resp.MultiValueHeaders["Set-Cookie"]
	if resp.StatusCode != http.StatusOK || len(cookies) != 1 {
		t.Fatalf("sign in: %d %v", resp.StatusCode, cookies)
	}
	c, err := http.ParseSetCookie(cookies[0])
	if err != nil || c.Name != account.CookieName || c.Path != "/" || c.Domain != "" || !c.HttpOnly || !c.Secure || c.SameSite != http.SameSiteStrictMode || c.MaxAge != 12*3600 {
		t.Fatalf("cookie %q: %v", cookies[0], err)
	}
	signedIn := map[string]string{"Cookie": account.CookieName + "=" + c.Value}
	resp, _ = w.call(t, "GET", "/api/account", "", signedIn)
	var v account.View
	if resp.StatusCode != http.StatusOK || json.Unmarshal([]byte(resp.Body), &v) != nil || v.Optional["mobile"].Value != "+44 20 7946 0000" {
		t.Fatalf("GET /api/account: %d %s", resp.StatusCode, resp.Body)
	}
	if resp, _ := w.call(t, "PATCH", "/api/account", `{"name":"Ada King","company":"Acme","consents":["profile.company"]}`, signedIn); resp.StatusCode != http.StatusOK || !strings.Contains(resp.Body, "Acme") {
		t.Errorf("PATCH: %d %s", resp.StatusCode, resp.Body)
	}
	if resp, p := w.call(t, "PATCH", "/api/account", `{"nationality":"GB"}`, signedIn); resp.StatusCode != http.StatusBadRequest || p.Field != "nationality" {
		t.Errorf("PATCH an unknown field: %d %+v", resp.StatusCode, p)
	}
	if resp, p := w.call(t, "PATCH", "/api/account", `{"email":"new@example.com"}`, signedIn); resp.StatusCode != http.StatusBadRequest || p.Field != "currentPassword" {
		t.Fatalf("change e-mail without the password: %d %+v", resp.StatusCode, p)
	}
	if resp, _ := w.call(t, "PATCH", "/api/account", `{"email":"new@example.com","currentPassword":"`+goodPassword+`"}`, signedIn); resp.StatusCode != http.StatusOK {
		t.Fatalf("change e-mail: %d %s", resp.StatusCode, resp.Body)
	}
	w.drain(t)
	newCode := w.box.to("new@example.com", mail.EmailChangeVerify)[0].Data.Code
	if resp, _ := w.call(t, "POST", "/api/account/email", `{"code":"`+newCode+`"}`, signedIn); resp.StatusCode != http.StatusOK || !strings.Contains(resp.Body, `"email":"new@example.com"`) {
		t.Errorf("confirm e-mail: %d %s", resp.StatusCode, resp.Body)
	}
	newPassword := "violet kettle harbor lantern"
	if resp, _ := w.call(t, "POST", "/api/account/password", `{"currentPassword":"`+goodPassword+`","newPassword":"`+newPassword+`"}`, signedIn); resp.StatusCode != http.StatusOK || resp.Body != `{"status":"changed"}` {
		t.Errorf("change password: %d %s", resp.StatusCode, resp.Body)
	}
	if resp, _ := w.call(t, "POST", "/api/password/reset", `{"email":"new@example.com"}`, nil); resp.StatusCode != http.StatusAccepted {
		t.Errorf("ask for a reset: %d %s", resp.StatusCode, resp.Body)
	}
	w.drain(t)
	reset := w.box.to("new@example.com", mail.PasswordReset)
	if len(reset) != 1 {
		t.Fatalf("reset mails: %+v", reset)
	}
	if resp, _ := w.call(t, "POST", "/api/password/reset/confirm", `{"email":"new@example.com","code":"`+reset[0].Data.Code+`","newPassword":"`+goodPassword+` again"}`, nil); resp.StatusCode != http.StatusOK || resp.Body != `{"status":"reset"}` {
		t.Errorf("reset: %d %s", resp.StatusCode, resp.Body)
	}
	if resp, _ := w.call(t, "GET", "/api/account", "", signedIn); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("the session after a reset: %d, want signed out", resp.StatusCode)
	}
	resp, _ = w.call(t, "POST", "/api/session", `{"login":"ada","password":"`+goodPassword+` again"}`, nil)
	c, _ = http.ParseSetCookie(resp.MultiValueHeaders["Set-Cookie"][0])
	signedIn = map[string]string{"Cookie": account.CookieName + "=" + c.Value}
	for _, route := range []string{"/api/session", "/api/sessions"} {
		resp, _ := w.call(t, "DELETE", route, "", signedIn)
		if resp.StatusCode != http.StatusNoContent || !strings.Contains(resp.MultiValueHeaders["Set-Cookie"][0], "Max-Age=0") {
			t.Errorf("DELETE %s: %d %v", route, resp.StatusCode, resp.MultiValueHeaders)
		}
	}
	if resp, _ := w.call(t, "GET", "/api/account", "", signedIn); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("GET after signing out: %d", resp.StatusCode)
	}
	// A browser sends two session cookies only when someone planted one: refused, not resolved.
	resp, _ = w.call(t, "POST", "/api/session", `{"login":"ada","password":"`+goodPassword+` again"}`, nil)
	c, _ = http.ParseSetCookie(resp.MultiValueHeaders["Set-Cookie"][0])
	for _, cookie := range []string{
		account.CookieName + "=" + c.Value + "; " + account.CookieName + "=planted.token",
		account.CookieName + "=planted.token; " + account.CookieName + "=" + c.Value,
	} {
		if resp, _ := w.call(t, "GET", "/api/account", "", map[string]string{"Cookie": cookie}); resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("two session cookies %q: %d, want 401", cookie, resp.StatusCode)
		}
	}
	if resp, _ := w.call(t, "GET", "/api/account", "", map[string]string{"Cookie": "session=" + c.Value}); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("the session under its old name: %d, want 401", resp.StatusCode)
	}
	for _, r := range [][2]string{{"GET", "/api/account"}, {"PATCH", "/api/account"}, {"POST", "/api/account/email"}} {
		if resp, _ := w.call(t, r[0], r[1], `{}`, nil); resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("%s %s without a session: %d", r[0], r[1], resp.StatusCode)
		}
	}
}

func TestHandlerGuardianRoute(t *testing.T) {
	w := newWorld(t)
	_, token := w.registerChild(t, "tim@example.com", "tim", "parent@example.com")
	resp, _ := w.call(t, "POST", "/api/guardian", `{"token":"`+token+`","decision":"refuse"}`, nil)
	if resp.StatusCode != http.StatusOK || resp.Body != `{"status":"refused"}` {
		t.Errorf("refuse: %d %s", resp.StatusCode, resp.Body)
	}
	_, token = w.registerChild(t, "tom@example.com", "tom", "parent2@example.com")
	resp, _ = w.call(t, "POST", "/api/guardian", `{"token":"`+token+`","decision":"confirm"}`, nil)
	if resp.StatusCode != http.StatusOK || resp.Body != `{"status":"confirmed"}` {
		t.Errorf("confirm: %d %s", resp.StatusCode, resp.Body)
	}
}

func TestHandlerServesOnlyTheRoutesOfItsServices(t *testing.T) {
	w := newWorld(t)
	registerOnly := &account.Handler{Register: w.register, Guard: web.Guard{SiteURL: w.handler.SiteURL}}
	w.handler = registerOnly
	for _, r := range [][2]string{{"POST", "/api/verify"}, {"POST", "/api/session"}, {"GET", "/api/account"}, {"DELETE", "/api/session"}, {"POST", "/api/guardian"}, {"GET", "/api/nothing"}} {
		if resp, _ := w.call(t, r[0], r[1], `{}`, nil); resp.StatusCode != http.StatusNotFound {
			t.Errorf("%s %s on the register function: %d, want 404", r[0], r[1], resp.StatusCode)
		}
	}
	if resp, p := w.call(t, "POST", "/api/register", `{}`, nil); resp.StatusCode != http.StatusBadRequest || p.Field != "name" {
		t.Errorf("register: %d %+v", resp.StatusCode, p)
	}
}

func TestClientAddressIsCloudFrontsNotTheClients(t *testing.T) {
	w := newWorld(t)
	w.env.Limits.SignInPerIP.N = 2
	try := func(headers map[string]string) int {
		resp, _ := w.call(t, "POST", "/api/session", `{"login":"nobody","password":"x"}`, headers)
		return resp.StatusCode
	}
	for i := range 3 {
		got := try(map[string]string{"CloudFront-Viewer-Address": "[2001:db8::1]:443", "X-Forwarded-For": "203.0.113." + string(rune('1'+i))})
		if want := map[bool]int{true: http.StatusTooManyRequests, false: http.StatusUnauthorized}[i == 2]; got != want {
			t.Errorf("attempt %d from one viewer: %d, want %d", i+1, got, want)
		}
	}
	if got := try(map[string]string{"CloudFront-Viewer-Address": "198.51.100.20:443"}); got != http.StatusUnauthorized {
		t.Errorf("another viewer: %d", got)
	}
	// An IPv6 subscriber has a /64 to rotate through: all of it is one client.
	if got := try(map[string]string{"CloudFront-Viewer-Address": "[2001:db8::2]:443"}); got != http.StatusTooManyRequests {
		t.Errorf("another address of the same /64: %d, want 429", got)
	}
	if got := try(map[string]string{"CloudFront-Viewer-Address": "[2001:db8:0:1::1]:443"}); got != http.StatusUnauthorized {
		t.Errorf("the next /64: %d, want 401", got)
	}
}

func TestLogsHoldNoPersonalData(t *testing.T) {
	w := newWorld(t)
	in := adult("secret.person@example.com", "secretuser")
	in.Name = "Secretive Name"
	in.Optional, in.Consents = map[string]string{"mobile": "+44 20 7946 0999"}, []string{"profile.mobile"}
	id, code, token := w.mustRegister(t, in)
	if err := w.verify.Verify(ctx, account.VerifyInput{Token: token, Password: goodPassword}, clientIP); err != nil {
		t.Fatal(err)
	}
	c := w.mustSignIn(t, "secretuser")
	if _, err := w.profile.Update(ctx, c, account.UpdateInput{Email: ptr("other.secret@example.com"), CurrentPassword: goodPassword}); err != nil {
		t.Fatal(err)
	}
	w.drain(t)
	out := logs.String()
	if !strings.Contains(out, string(id)) {
		t.Fatal("the flow logged nothing about its subject: is slog captured?")
	}
	for _, s := range []string{"secret.person", "secretuser", "Secretive", "7946 0999", "other.secret", goodPassword, code, strings.SplitN(token, ".", 2)[1]} {
		if strings.Contains(out, s) {
			t.Errorf("the logs contain %q", s)
		}
	}
}
