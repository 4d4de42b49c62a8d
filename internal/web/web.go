// Package web is what every API function checks of a request before its feature sees it: that
// a write comes from the portal's own pages (Origin), who the client is for rate limits (the
// viewer address CloudFront reports), who is signed in (the session cookie), and which privacy
// signals the browser sends (Global Privacy Control, Do Not Track).
package web

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

// Caller is a signed-in person: their subject and the hash of the session they used.
type Caller struct {
	Subject   privacy.SubjectID
	TokenHash string
}

// Authenticator turns a session cookie's value into its caller; a missing, forged, revoked or
// expired session is privacy.Unauthorized.
type Authenticator interface {
	Authenticate(ctx context.Context, cookie string) (Caller, error)
}

// Guard checks requests for the API's functions.
type Guard struct {
	// SiteURL is the portal's origin: state-changing requests must come from its pages.
	SiteURL string
	// BehindCloudFront says the API is reached only through CloudFront (whose origin header
	// the API stage's web ACL checks before any function runs): every request then carries
	// the viewer's address, and one without it is refused.
	BehindCloudFront bool
	// Sessions authenticates session cookies; nil in a function with no signed-in routes.
	Sessions Authenticator
}

// CheckOrigin refuses state-changing requests that do not say they come from the portal's own
// pages. Browsers send Origin on every POST, PATCH and DELETE; a request without one did not
// come from a page of the portal. (Bodies must also be JSON, which a cross-site form cannot
// send: a second lock.)
func (g *Guard) CheckOrigin(req *apigw.Request) error {
	origin := apigw.Header(req, "Origin")
	o, err := url.Parse(origin)
	sv, err2 := url.Parse(g.SiteURL)
	if origin == "" || err != nil || err2 != nil || !strings.EqualFold(o.Scheme+"://"+o.Host, sv.Scheme+"://"+sv.Host) {
		return privacy.Errorf(privacy.Forbidden, "This request must come from the portal's own pages.")
	}
	return nil
}

// ClientIP is the visitor's address, for rate limits only (hashed, never stored as is): the
// address CloudFront reports (ViewerAddressHeader), which a client cannot write, since the
// API answers only requests that came through CloudFront. X-Forwarded-For is never used: its
// first entries are whatever the client sent. An IPv6 client is its /64, the block one
// subscriber is given, so that it cannot rotate through its own addresses.
func (g *Guard) ClientIP(req *apigw.Request) (string, error) {
	v := apigw.Header(req, ViewerAddressHeader)
	if v == "" {
		if g.BehindCloudFront {
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
		if g.BehindCloudFront {
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

var errTwoSessions = privacy.Errorf(privacy.Unauthorized, "Your browser sent two sessions. Sign in again.")

// Caller authenticates the request's session cookie. A request carrying two (which a browser
// sends only when someone planted one) is refused rather than resolved by order.
func (g *Guard) Caller(ctx context.Context, req *apigw.Request) (Caller, error) {
	value, found := Cookie(req, CookieName)
	switch {
	case found > 1:
		return Caller{}, errTwoSessions
	case found == 0 || value == "" || g.Sessions == nil:
		return Caller{}, privacy.Errorf(privacy.Unauthorized, "Sign in first.")
	}
	return g.Sessions.Authenticate(ctx, value)
}

// Cookie returns the value of a request's cookie of a name, and how many it carries.
func Cookie(req *apigw.Request, name string) (value string, found int) {
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
			if c.Name == name {
				found++
				value = c.Value
			}
		}
	}
	return value, found
}

// SessionCookie is the Set-Cookie value of a session; maxAge < 0 deletes it. HttpOnly keeps it
// from scripts, SameSite=Strict from other sites' requests.
func SessionCookie(value string, maxAge time.Duration) string {
	c := &http.Cookie{Name: CookieName, Value: value, Path: "/", HttpOnly: true, Secure: true, SameSite: http.SameSiteStrictMode}
	if maxAge < 0 {
		c.MaxAge = -1
	} else {
		c.MaxAge = int(maxAge.Seconds())
	}
	return c.String()
}

// Signals are the privacy signals a request carries (promise P09).
type Signals struct {
	GPC bool `json:"gpc"` // Sec-GPC: 1 (Global Privacy Control)
	DNT bool `json:"dnt"` // DNT: 1 (Do Not Track)
}

// Any reports whether the request carries either signal.
func (s Signals) Any() bool { return s.GPC || s.DNT }

// SignalsOf reads the request's privacy signals.
func SignalsOf(req *apigw.Request) Signals {
	return Signals{
		GPC: strings.TrimSpace(apigw.Header(req, "Sec-GPC")) == "1",
		DNT: strings.TrimSpace(apigw.Header(req, "DNT")) == "1",
	}
}
