package account

import (
	"context"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"time"

	"github.com/privacyportal/portal/internal/apigw"
	"github.com/privacyportal/portal/internal/privacy"
)

// CookieName is the session cookie. The __Host- prefix makes browsers accept it only when it
// is Secure, has Path=/ and no Domain: no other site, not even a subdomain, can set or shadow
// it.
const CookieName = "__Host-session"

// ViewerAddressHeader is where CloudFront puts the viewer's address ("ip:port").
const ViewerAddressHeader = "CloudFront-Viewer-Address"

// Handler serves the account routes of docs/api.md. A function sets the services whose
// routes it serves; a route whose service is not set is not found.
type Handler struct {
	Register  *Registrar
	Verify    *Verifier
	Sessions  *SessionManager
	Profile   *ProfileManager
	Passwords *PasswordManager
	Guardian  *GuardianManager
	// SiteURL is the portal's origin: state-changing requests must come from its pages.
	SiteURL string
	// BehindCloudFront says the API is reached only through CloudFront (whose origin header
	// the API stage's web ACL checks before any function runs): every request then carries
	// the viewer's address, and one without it is refused.
	BehindCloudFront bool
}

type route struct{ method, resource string }

var errNoRoute = privacy.Errorf(privacy.NotFound, "No such API route or method.")

// Handle routes one API request.
func (h *Handler) Handle(ctx context.Context, req *apigw.Request) (apigw.Response, error) {
	r := route{req.HTTPMethod, req.Resource}
	ip, err := h.clientIP(req)
	if err != nil {
		return apigw.Response{}, err
	}
	if r.method != http.MethodGet {
		if err := h.checkOrigin(req); err != nil {
			return apigw.Response{}, err
		}
	}
	switch r {
	case route{"POST", "/api/register"}:
		if h.Register != nil {
			return withBody(req, func(in RegisterInput) (apigw.Response, error) {
				return accepted(h.Register.Register(ctx, in, ip))
			})
		}
	case route{"POST", "/api/verify"}:
		if h.Verify != nil {
			return withBody(req, func(in VerifyInput) (apigw.Response, error) {
				return status(http.StatusOK, "verified", h.Verify.Verify(ctx, in, ip))
			})
		}
	case route{"POST", "/api/verify/resend"}:
		if h.Verify != nil {
			return withBody(req, func(in ResendInput) (apigw.Response, error) {
				return accepted(h.Verify.Resend(ctx, in, ip))
			})
		}
	case route{"POST", "/api/session"}:
		if h.Sessions != nil {
			return withBody(req, func(in SignInInput) (apigw.Response, error) {
				out, err := h.Sessions.SignIn(ctx, in, ip)
				if err != nil {
					return apigw.Response{}, err
				}
				resp, err := apigw.JSON(http.StatusOK, map[string]string{"status": "signed_in"})
				resp.MultiValueHeaders = map[string][]string{"Set-Cookie": {sessionCookie(out.Cookie, out.Session.ExpiresAt.Sub(h.Sessions.Now()))}}
				return resp, err
			})
		}
	case route{"GET", "/api/account"}:
		if h.Profile != nil {
			return h.signedIn(ctx, req, func(c Caller) (View, error) { return h.Profile.Get(ctx, c) })
		}
	case route{"PATCH", "/api/account"}:
		if h.Profile != nil {
			return h.signedIn(ctx, req, func(c Caller) (View, error) {
				var in UpdateInput
				if err := apigw.DecodeJSON(req, &in); err != nil {
					return View{}, err
				}
				return h.Profile.Update(ctx, c, in)
			})
		}
	case route{"POST", "/api/account/email"}:
		if h.Profile != nil {
			return h.signedIn(ctx, req, func(c Caller) (View, error) {
				var in ConfirmEmailInput
				if err := apigw.DecodeJSON(req, &in); err != nil {
					return View{}, err
				}
				return h.Profile.ConfirmEmail(ctx, c, in)
			})
		}
	case route{"POST", "/api/account/password"}:
		if h.Passwords != nil && h.Sessions != nil {
			c, err := h.caller(ctx, req)
			if err != nil {
				return apigw.Response{}, err
			}
			return withBody(req, func(in ChangePasswordInput) (apigw.Response, error) {
				return status(http.StatusOK, "changed", h.Passwords.Change(ctx, c, in))
			})
		}
	case route{"POST", "/api/password/reset"}:
		if h.Passwords != nil {
			return withBody(req, func(in ResetRequestInput) (apigw.Response, error) {
				return accepted(h.Passwords.RequestReset(ctx, in, ip))
			})
		}
	case route{"POST", "/api/password/reset/confirm"}:
		if h.Passwords != nil {
			return withBody(req, func(in ResetInput) (apigw.Response, error) {
				return status(http.StatusOK, "reset", h.Passwords.Reset(ctx, in, ip))
			})
		}
	case route{"DELETE", "/api/session"}, route{"DELETE", "/api/sessions"}:
		if h.Sessions != nil {
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
		}
	case route{"POST", "/api/guardian"}:
		if h.Guardian != nil {
			return withBody(req, func(in GuardianInput) (apigw.Response, error) {
				confirmed, err := h.Guardian.Decide(ctx, in, ip)
				if err != nil {
					return apigw.Response{}, err
				}
				return status(http.StatusOK, map[bool]string{true: "confirmed", false: "refused"}[confirmed], nil)
			})
		}
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
	return status(http.StatusAccepted, "check_email", err)
}

// status answers {"status": s} with code, or the error.
func status(code int, s string, err error) (apigw.Response, error) {
	if err != nil {
		return apigw.Response{}, err
	}
	return apigw.JSON(code, map[string]string{"status": s})
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
// scripts, SameSite=Strict from other sites' requests.
func sessionCookie(value string, maxAge time.Duration) string {
	c := &http.Cookie{Name: CookieName, Value: value, Path: "/", HttpOnly: true, Secure: true, SameSite: http.SameSiteStrictMode}
	if maxAge < 0 {
		c.MaxAge = -1
	} else {
		c.MaxAge = int(maxAge.Seconds())
	}
	return c.String()
}

var errTwoSessions = privacy.Errorf(privacy.Unauthorized, "Your browser sent two sessions. Sign in again.")

// caller authenticates the request's session cookie. A request carrying two (which a browser
// sends only when someone planted one) is refused rather than resolved by order.
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
	var value string
	found := 0
	for _, line := range raw {
		cookies, err := http.ParseCookie(line)
		if err != nil {
			continue
		}
		for _, c := range cookies {
			if c.Name == CookieName {
				found++
				value = c.Value
			}
		}
	}
	switch {
	case found > 1:
		return Caller{}, errTwoSessions
	case found == 0 || value == "":
		return Caller{}, privacy.Errorf(privacy.Unauthorized, "Sign in first.")
	}
	return h.Sessions.Authenticate(ctx, value)
}

// checkOrigin refuses state-changing requests that do not say they come from the portal's
// own pages. Browsers send Origin on every POST, PATCH and DELETE; a request without one did
// not come from a page of the portal. (Bodies must also be JSON, which a cross-site form
// cannot send: a second lock.)
func (h *Handler) checkOrigin(req *apigw.Request) error {
	origin := apigw.Header(req, "Origin")
	o, err := url.Parse(origin)
	sv, err2 := url.Parse(h.SiteURL)
	if origin == "" || err != nil || err2 != nil || !strings.EqualFold(o.Scheme+"://"+o.Host, sv.Scheme+"://"+sv.Host) {
		return privacy.Errorf(privacy.Forbidden, "This request must come from the portal's own pages.")
	}
	return nil
}

// clientIP is the visitor's address, for rate limits only (hashed, never stored as is): the
// address CloudFront reports (ViewerAddressHeader), which a client cannot write, since the
// API answers only requests that came through CloudFront. X-Forwarded-For is never used: its
// first entries are whatever the client sent. An IPv6 client is its /64, the block one
// subscriber is given, so that it cannot rotate through its own addresses.
func (h *Handler) clientIP(req *apigw.Request) (string, error) {
	v := apigw.Header(req, ViewerAddressHeader)
	if v == "" {
		if h.BehindCloudFront {
			// Something reached the API without CloudFront, or CloudFront's origin request
			// policy lost the header: refuse, rather than limit everyone as one client.
			slog.Warn("request without the viewer address", "requestId", req.RequestContext.RequestID, "resource", req.Resource)
			return "", privacy.Errorf(privacy.Forbidden, "Use the portal through its own address.")
		}
		v = req.RequestContext.Identity.SourceIP
	}
	if host, _, err := net.SplitHostPort(v); err == nil {
		v = host
	}
	addr, err := netip.ParseAddr(strings.Trim(v, "[]"))
	if err != nil {
		if h.BehindCloudFront {
			slog.Warn("request with an unreadable viewer address", "requestId", req.RequestContext.RequestID, "resource", req.Resource)
			return "", privacy.Errorf(privacy.Forbidden, "Use the portal through its own address.")
		}
		return v, nil
	}
	return clientKey(addr), nil
}

// clientKey is what a client's limits count: an IPv4 address, or an IPv6 /64.
func clientKey(a netip.Addr) string {
	a = a.Unmap()
	if a.Is4() {
		return a.String()
	}
	p, _ := a.Prefix(64)
	return p.String()
}
