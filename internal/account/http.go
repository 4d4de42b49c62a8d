package account

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/privacyportal/portal/internal/apigw"
	"github.com/privacyportal/portal/internal/privacy"
)

// CookieName is the session cookie.
const CookieName = "session"

// Handler serves the account routes of docs/api.md. A function sets the services whose
// routes it serves; a route whose service is not set is not found.
type Handler struct {
	Register *Registrar
	Verify   *Verifier
	Sessions *SessionManager
	Profile  *ProfileManager
	Guardian *GuardianManager
	// SiteURL is the portal's origin: state-changing requests must come from its pages.
	SiteURL string
	// OriginSecret, when set, must arrive in OriginHeader, which CloudFront adds to every
	// request it forwards: the API answers only requests that came through the portal's own
	// address, so the viewer address CloudFront reports can be trusted.
	OriginSecret string
}

type route struct{ method, resource string }

var errNoRoute = privacy.Errorf(privacy.NotFound, "No such API route or method.")

// Handle routes one API request.
func (h *Handler) Handle(ctx context.Context, req *apigw.Request) (apigw.Response, error) {
	r := route{req.HTTPMethod, req.Resource}
	if h.OriginSecret != "" && !privacy.Equal(apigw.Header(req, OriginHeader), h.OriginSecret) {
		return apigw.Response{}, privacy.Errorf(privacy.Forbidden, "Use the portal through its own address.")
	}
	if r.method != http.MethodGet {
		if err := h.checkOrigin(req); err != nil {
			return apigw.Response{}, err
		}
	}
	ip := clientIP(req)
	switch r {
	case route{"POST", "/api/register"}:
		if h.Register == nil {
			break
		}
		return withBody(req, func(in RegisterInput) (apigw.Response, error) {
			return accepted(h.Register.Register(ctx, in, ip))
		})
	case route{"POST", "/api/verify"}:
		if h.Verify == nil {
			break
		}
		return withBody(req, func(in VerifyInput) (apigw.Response, error) {
			if err := h.Verify.Verify(ctx, in, ip); err != nil {
				return apigw.Response{}, err
			}
			return apigw.JSON(http.StatusOK, map[string]string{"status": "verified"})
		})
	case route{"POST", "/api/verify/resend"}:
		if h.Verify == nil {
			break
		}
		return withBody(req, func(in ResendInput) (apigw.Response, error) {
			return accepted(h.Verify.Resend(ctx, in, ip))
		})
	case route{"POST", "/api/session"}:
		if h.Sessions == nil {
			break
		}
		return withBody(req, func(in SignInInput) (apigw.Response, error) {
			out, err := h.Sessions.SignIn(ctx, in, ip)
			if err != nil {
				return apigw.Response{}, err
			}
			resp, err := apigw.JSON(http.StatusOK, map[string]string{"status": "signed_in"})
			resp.MultiValueHeaders = map[string][]string{"Set-Cookie": {sessionCookie(out.Cookie, out.Session.ExpiresAt.Sub(h.Sessions.Now()))}}
			return resp, err
		})
	case route{"GET", "/api/account"}:
		if h.Profile == nil {
			break
		}
		return h.signedIn(ctx, req, func(c Caller) (View, error) { return h.Profile.Get(ctx, c) })
	case route{"PATCH", "/api/account"}:
		if h.Profile == nil {
			break
		}
		return h.signedIn(ctx, req, func(c Caller) (View, error) {
			var in UpdateInput
			if err := apigw.DecodeJSON(req, &in); err != nil {
				return View{}, err
			}
			return h.Profile.Update(ctx, c, in)
		})
	case route{"POST", "/api/account/email"}:
		if h.Profile == nil {
			break
		}
		return h.signedIn(ctx, req, func(c Caller) (View, error) {
			var in ConfirmEmailInput
			if err := apigw.DecodeJSON(req, &in); err != nil {
				return View{}, err
			}
			return h.Profile.ConfirmEmail(ctx, c, in)
		})
	case route{"DELETE", "/api/session"}, route{"DELETE", "/api/sessions"}:
		if h.Sessions == nil {
			break
		}
		c, err := h.caller(ctx, req)
		if err == nil {
			if r.resource == "/api/sessions" {
				err = h.Sessions.SignOutEverywhere(ctx, c)
			} else {
				err = h.Sessions.SignOut(ctx, c)
			}
		}
		if err != nil && privacy.ErrorCode(err) != privacy.Unauthorized {
			return apigw.Response{}, err
		}
		// Signing out always clears the cookie, even when the session had already ended.
		return apigw.Response{StatusCode: http.StatusNoContent, MultiValueHeaders: map[string][]string{"Set-Cookie": {sessionCookie("", -1)}}}, nil
	case route{"POST", "/api/guardian"}:
		if h.Guardian == nil {
			break
		}
		return withBody(req, func(in GuardianInput) (apigw.Response, error) {
			confirmed, err := h.Guardian.Decide(ctx, in, ip)
			if err != nil {
				return apigw.Response{}, err
			}
			status := "refused"
			if confirmed {
				status = "confirmed"
			}
			return apigw.JSON(http.StatusOK, map[string]string{"status": status})
		})
	}
	return apigw.Response{}, errNoRoute
}

// withBody decodes the request body into T and hands it to f.
func withBody[T any](req *apigw.Request, f func(T) (apigw.Response, error)) (apigw.Response, error) {
	var in T
	if err := apigw.DecodeJSON(req, &in); err != nil {
		return apigw.Response{}, err
	}
	return f(in)
}

// accepted answers 202 "check your e-mail", or the error.
func accepted(err error) (apigw.Response, error) {
	if err != nil {
		return apigw.Response{}, err
	}
	return apigw.JSON(http.StatusAccepted, map[string]string{"status": "check_email"})
}

// signedIn authenticates the caller, runs f, and answers with the account view it returns.
func (h *Handler) signedIn(ctx context.Context, req *apigw.Request, f func(Caller) (View, error)) (apigw.Response, error) {
	if h.Sessions == nil {
		return apigw.Response{}, errNoRoute
	}
	c, err := h.caller(ctx, req)
	if err != nil {
		return apigw.Response{}, err
	}
	v, err := f(c)
	if err != nil {
		return apigw.Response{}, err
	}
	return apigw.JSON(http.StatusOK, v)
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
				return h.Sessions.Authenticate(ctx, c.Value)
			}
		}
	}
	return Caller{}, privacy.Errorf(privacy.Unauthorized, "Sign in first.")
}

// checkOrigin refuses state-changing requests that a browser says come from another site.
// (Bodies must be JSON, which a cross-site form cannot send; this is the second lock.)
func (h *Handler) checkOrigin(req *apigw.Request) error {
	origin := apigw.Header(req, "Origin")
	site := h.SiteURL
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

// OriginHeader carries the secret CloudFront adds to requests it forwards to the API.
const OriginHeader = "X-Origin-Verify"

// clientIP is the visitor's address, for rate limits only (hashed, never stored as is): the
// CloudFront-Viewer-Address header ("ip:port"), which CloudFront sets itself and a client
// cannot, since the API answers only requests that came through CloudFront (OriginHeader).
// X-Forwarded-For is not used: its first entries are whatever the client sent.
func clientIP(req *apigw.Request) string {
	if v := apigw.Header(req, "CloudFront-Viewer-Address"); v != "" {
		if i := strings.LastIndexByte(v, ':'); i > 0 {
			return strings.Trim(v[:i], "[]")
		}
		return v
	}
	return req.RequestContext.Identity.SourceIP
}
