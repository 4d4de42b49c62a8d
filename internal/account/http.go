package account

import (
	"context"
	"net/http"

	"github.com/privacyportal/portal/internal/apigw"
	"github.com/privacyportal/portal/internal/privacy"
	"github.com/privacyportal/portal/internal/web"
)

// CookieName and ViewerAddressHeader are package web's, named here too for the account's
// callers.
const (
	CookieName          = web.CookieName
	ViewerAddressHeader = web.ViewerAddressHeader
)

// Handler serves the account routes of docs/api.md. A function sets the services whose
// routes it serves; a route whose service is not set is not found.
type Handler struct {
	Register  *Registrar
	Verify    *Verifier
	Sessions  *SessionManager
	Profile   *ProfileManager
	Passwords *PasswordManager
	Guardian  *GuardianManager
	// Guard checks every request (origin, client address, session); its Sessions are set to
	// the handler's when nil.
	web.Guard
}

type route struct{ method, resource string }

var errNoRoute = privacy.Errorf(privacy.NotFound, "No such API route or method.")

// Handle routes one API request.
func (h *Handler) Handle(ctx context.Context, req *apigw.Request) (apigw.Response, error) {
	r := route{req.HTTPMethod, req.Resource}
	ip, err := h.ClientIP(req)
	if err != nil {
		return apigw.Response{}, err
	}
	if r.method != http.MethodGet {
		if err := h.CheckOrigin(req); err != nil {
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
				resp.MultiValueHeaders = map[string][]string{"Set-Cookie": {web.SessionCookie(out.Cookie, out.Session.ExpiresAt.Sub(h.Sessions.Now()))}}
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
			return apigw.Response{StatusCode: http.StatusNoContent, MultiValueHeaders: map[string][]string{"Set-Cookie": {web.SessionCookie("", -1)}}}, nil
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

// caller authenticates the request's session with the handler's SessionManager (unless the
// Guard names another authenticator).
func (h *Handler) caller(ctx context.Context, req *apigw.Request) (Caller, error) {
	g := h.Guard
	if g.Sessions == nil && h.Sessions != nil {
		g.Sessions = h.Sessions
	}
	return g.Caller(ctx, req)
}
