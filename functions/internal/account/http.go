package account

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/privacyportal/portal/functions/internal/apigw"
	"github.com/privacyportal/portal/functions/internal/privacy"
)

// CookieName is the session cookie.
const CookieName = "session"

// Handler serves the account routes of docs/api.md.
type Handler struct {
	Service *Service
}

type route struct{ method, resource string }

// Handle routes one API request.
func (h *Handler) Handle(ctx context.Context, req *apigw.Request) (apigw.Response, error) {
	r := route{req.HTTPMethod, req.Resource}
	if r.method != http.MethodGet {
		if err := h.checkOrigin(req); err != nil {
			return apigw.Response{}, err
		}
	}
	ip := clientIP(req)
	s := h.Service
	switch r {
	case route{"POST", "/api/register"}:
		var in RegisterInput
		if err := apigw.DecodeJSON(req, &in); err != nil {
			return apigw.Response{}, err
		}
		if err := s.Register(ctx, in, ip); err != nil {
			return apigw.Response{}, err
		}
		return apigw.JSON(http.StatusAccepted, map[string]string{"status": "check_email"})
	case route{"POST", "/api/verify"}:
		var in VerifyInput
		if err := apigw.DecodeJSON(req, &in); err != nil {
			return apigw.Response{}, err
		}
		if err := s.Verify(ctx, in, ip); err != nil {
			return apigw.Response{}, err
		}
		return apigw.JSON(http.StatusOK, map[string]string{"status": "verified"})
	case route{"POST", "/api/verify/resend"}:
		var in ResendInput
		if err := apigw.DecodeJSON(req, &in); err != nil {
			return apigw.Response{}, err
		}
		if err := s.Resend(ctx, in, ip); err != nil {
			return apigw.Response{}, err
		}
		return apigw.JSON(http.StatusAccepted, map[string]string{"status": "check_email"})
	case route{"POST", "/api/session"}:
		var in SignInInput
		if err := apigw.DecodeJSON(req, &in); err != nil {
			return apigw.Response{}, err
		}
		out, err := s.SignIn(ctx, in, ip)
		if err != nil {
			return apigw.Response{}, err
		}
		resp, err := apigw.JSON(http.StatusOK, map[string]string{"status": "signed_in"})
		resp.MultiValueHeaders = map[string][]string{"Set-Cookie": {sessionCookie(out.Cookie, out.Session.ExpiresAt.Sub(s.Now()))}}
		return resp, err
	case route{"GET", "/api/account"}:
		c, err := h.caller(ctx, req)
		if err != nil {
			return apigw.Response{}, err
		}
		v, err := s.Get(ctx, c)
		if err != nil {
			return apigw.Response{}, err
		}
		return apigw.JSON(http.StatusOK, v)
	case route{"PATCH", "/api/account"}:
		c, err := h.caller(ctx, req)
		if err != nil {
			return apigw.Response{}, err
		}
		var in UpdateInput
		if err := apigw.DecodeJSON(req, &in); err != nil {
			return apigw.Response{}, err
		}
		v, err := s.Update(ctx, c, in)
		if err != nil {
			return apigw.Response{}, err
		}
		return apigw.JSON(http.StatusOK, v)
	case route{"POST", "/api/account/email"}:
		c, err := h.caller(ctx, req)
		if err != nil {
			return apigw.Response{}, err
		}
		var in ConfirmEmailInput
		if err := apigw.DecodeJSON(req, &in); err != nil {
			return apigw.Response{}, err
		}
		v, err := s.ConfirmEmail(ctx, c, in)
		if err != nil {
			return apigw.Response{}, err
		}
		return apigw.JSON(http.StatusOK, v)
	case route{"DELETE", "/api/session"}, route{"DELETE", "/api/sessions"}:
		c, err := h.caller(ctx, req)
		if err == nil {
			if r.resource == "/api/sessions" {
				err = s.SignOutEverywhere(ctx, c)
			} else {
				err = s.SignOut(ctx, c)
			}
		}
		if err != nil && privacy.ErrorCode(err) != privacy.Unauthorized {
			return apigw.Response{}, err
		}
		// Signing out always clears the cookie, even when the session had already ended.
		return apigw.Response{StatusCode: http.StatusNoContent, MultiValueHeaders: map[string][]string{"Set-Cookie": {sessionCookie("", -1)}}}, nil
	case route{"POST", "/api/guardian"}:
		var in GuardianInput
		if err := apigw.DecodeJSON(req, &in); err != nil {
			return apigw.Response{}, err
		}
		confirmed, err := s.Guardian(ctx, in, ip)
		if err != nil {
			return apigw.Response{}, err
		}
		status := "refused"
		if confirmed {
			status = "confirmed"
		}
		return apigw.JSON(http.StatusOK, map[string]string{"status": status})
	}
	return apigw.Response{}, privacy.Errorf(privacy.NotFound, "No such API route or method.")
}

// sessionCookie is the Set-Cookie value; maxAge < 0 deletes it. HttpOnly keeps it from
// scripts, SameSite=Strict from other sites' requests, Path=/api from the static site.
func sessionCookie(value string, maxAge time.Duration) string {
	c := &http.Cookie{Name: CookieName, Value: value, Path: "/api", HttpOnly: true, Secure: true, SameSite: http.SameSiteStrictMode}
	if maxAge < 0 {
		c.MaxAge = -1
	} else {
		c.MaxAge = int(maxAge.Seconds())
	}
	return c.String()
}

func (h *Handler) caller(ctx context.Context, req *apigw.Request) (Caller, error) {
	var raw []string
	for k, vs := range req.MultiValueHeaders {
		if strings.EqualFold(k, "Cookie") {
			raw = append(raw, vs...)
		}
	}
	if len(raw) == 0 {
		if v := apigw.Header(req, "Cookie"); v != "" {
			raw = []string{v}
		}
	}
	for _, line := range raw {
		cookies, err := http.ParseCookie(line)
		if err != nil {
			continue
		}
		for _, c := range cookies {
			if c.Name == CookieName && c.Value != "" {
				return h.Service.Authenticate(ctx, c.Value)
			}
		}
	}
	return Caller{}, privacy.Errorf(privacy.Unauthorized, "Sign in first.")
}

// checkOrigin refuses state-changing requests that a browser says come from another site.
// (Bodies must be JSON, which a cross-site form cannot send; this is the second lock.)
func (h *Handler) checkOrigin(req *apigw.Request) error {
	origin := apigw.Header(req, "Origin")
	site := h.Service.Config.SiteURL
	if origin == "" || site == "" {
		return nil
	}
	o, err := url.Parse(origin)
	sv, err2 := url.Parse(site)
	if err != nil || err2 != nil || !strings.EqualFold(o.Scheme+"://"+o.Host, sv.Scheme+"://"+sv.Host) {
		return privacy.Errorf(privacy.Forbidden, "This request must come from the portal's own pages.")
	}
	return nil
}

// clientIP is the visitor's address, for rate limits only (hashed, never stored as is).
// Behind CloudFront the request reaches API Gateway from an edge server (sourceIp), and
// CloudFront appends the viewer's address to X-Forwarded-For after anything the viewer sent.
// So the address is the right-most X-Forwarded-For entry that is not the connecting server
// itself: a client cannot choose it by sending its own header.
func clientIP(req *apigw.Request) string {
	source := req.RequestContext.Identity.SourceIP
	xff := apigw.Header(req, "X-Forwarded-For")
	entries := strings.Split(xff, ",")
	for i := len(entries) - 1; i >= 0; i-- {
		if e := strings.TrimSpace(entries[i]); e != "" && e != source {
			return e
		}
	}
	return source
}

var _ = fmt.Sprint
