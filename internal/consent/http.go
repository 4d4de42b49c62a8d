package consent

import (
	"bytes"
	"context"
	"encoding/json"
	"mime"
	"mime/multipart"
	"net/http"
	"net/url"

	"github.com/privacyportal/portal/internal/apigw"
	"github.com/privacyportal/portal/internal/privacy"
	"github.com/privacyportal/portal/internal/web"
)

// Handler serves the consent routes of docs/api.md.
type Handler struct {
	Centre       *Centre
	Unsubscriber *Unsubscriber
	Analytics    *Analytics
	web.Guard
}

// BannerCookie is the cookie the site's cookie banner keeps its choice in (the name and format
// vanilla-cookieconsent uses, kept by the site's own banner: site/assets/js/cookie-banner.js).
const BannerCookie = "cc_cookie"

var errNoRoute = privacy.Errorf(privacy.NotFound, "No such API route or method.")

// Handle routes one API request.
func (h *Handler) Handle(ctx context.Context, req *apigw.Request) (apigw.Response, error) {
	if _, err := h.ClientIP(req); err != nil {
		return apigw.Response{}, err
	}
	if req.Resource == "/api/unsubscribe" {
		// A mail client's one-click POST (RFC 8058) comes from its provider's servers, with no
		// Origin and a form body: the signed token is what authorizes it.
		return h.unsubscribe(ctx, req)
	}
	if req.HTTPMethod != http.MethodGet {
		if err := h.CheckOrigin(req); err != nil {
			return apigw.Response{}, err
		}
	}
	sig := web.SignalsOf(req)
	switch req.HTTPMethod + " " + req.Resource {
	case "GET /api/consent":
		return h.signedIn(ctx, req, func(c web.Caller) (any, error) { return h.Centre.View(ctx, c, sig) })
	case "PUT /api/consent":
		return h.signedIn(ctx, req, func(c web.Caller) (any, error) {
			var in UpdateInput
			if err := apigw.DecodeJSON(req, &in); err != nil {
				return nil, err
			}
			return h.Centre.Update(ctx, c, in, sig)
		})
	case "POST /api/consent/policy":
		return h.signedIn(ctx, req, func(c web.Caller) (any, error) {
			var in AcceptInput
			if err := apigw.DecodeJSON(req, &in); err != nil {
				return nil, err
			}
			return h.Centre.AcceptPolicy(ctx, c, in, sig)
		})
	case "GET /api/consent/receipts/{id}":
		if h.Centre == nil {
			break
		}
		c, err := h.Caller(ctx, req)
		if err != nil {
			return apigw.Response{}, err
		}
		r, err := h.Centre.Receipt(ctx, c, req.PathParameters["id"])
		if err != nil {
			return apigw.Response{}, err
		}
		body, err := json.MarshalIndent(r, "", "  ")
		if err != nil {
			return apigw.Response{}, err
		}
		return apigw.Response{StatusCode: http.StatusOK, Body: string(body), Headers: map[string]string{
			"Content-Type":        "application/json; charset=utf-8",
			"Content-Disposition": `attachment; filename="consent-receipt-` + r.ConsentReceiptID + `.json"`,
		}}, nil
	case "POST /api/events":
		if h.Analytics == nil {
			break
		}
		var in EventInput
		if err := apigw.DecodeJSON(req, &in); err != nil {
			return apigw.Response{}, err
		}
		v := Visitor{}
		v.BannerCategories, v.BannerSignal = bannerChoice(req)
		if _, n := web.Cookie(req, web.CookieName); n > 0 {
			// A session that does not authenticate counts as no consent, not as an error:
			// the answer is the same 204 either way.
			if c, err := h.Caller(ctx, req); err == nil {
				v.Caller = &c
			} else {
				v.BannerCategories, v.BannerSignal = nil, ""
			}
		}
		if _, err := h.Analytics.Count(ctx, in, v, sig); err != nil {
			return apigw.Response{}, err
		}
		return apigw.Response{StatusCode: http.StatusNoContent}, nil
	}
	return apigw.Response{}, errNoRoute
}

func (h *Handler) signedIn(ctx context.Context, req *apigw.Request, f func(web.Caller) (any, error)) (apigw.Response, error) {
	if h.Centre == nil {
		return apigw.Response{}, errNoRoute
	}
	c, err := h.Caller(ctx, req)
	if err != nil {
		return apigw.Response{}, err
	}
	v, err := f(c)
	if err != nil {
		return apigw.Response{}, err
	}
	return apigw.JSON(http.StatusOK, v)
}

// bannerChoice reads the cookie banner's cookie ({"categories": [...], "data": {"signal":
// "gpc"}}, URL-encoded JSON): the categories it accepts and the signal the choice was made
// with; nothing when it is absent, sent twice or not understood.
func bannerChoice(req *apigw.Request) ([]string, string) {
	raw, n := web.Cookie(req, BannerCookie)
	if n != 1 {
		return nil, ""
	}
	if s, err := url.QueryUnescape(raw); err == nil {
		raw = s
	}
	var c struct {
		Categories []string `json:"categories"`
		Data       struct {
			Signal string `json:"signal"`
		} `json:"data"`
	}
	if json.Unmarshal([]byte(raw), &c) != nil {
		return nil, ""
	}
	return c.Categories, c.Data.Signal
}

// unsubscribe is the List-Unsubscribe URL: a GET shows the confirmation page and changes
// nothing; a POST (the one-click form body, or JSON from that page) withdraws marketing.
func (h *Handler) unsubscribe(ctx context.Context, req *apigw.Request) (apigw.Response, error) {
	if h.Unsubscriber == nil {
		return apigw.Response{}, errNoRoute
	}
	token := req.QueryStringParameters["token"]
	switch req.HTTPMethod {
	case http.MethodGet:
		page := privacy.LocalePath(req.QueryStringParameters["lang"], "/unsubscribe/")
		return apigw.Response{StatusCode: http.StatusSeeOther, Headers: map[string]string{
			"Location": page + "?token=" + url.QueryEscape(token),
		}}, nil
	case http.MethodPost:
	default:
		return apigw.Response{}, &privacy.Error{Code: privacy.NotAllowed, Message: "GET, POST"}
	}
	mt, params, _ := mime.ParseMediaType(apigw.Header(req, "Content-Type"))
	switch mt {
	case "application/json":
		if err := h.CheckOrigin(req); err != nil {
			return apigw.Response{}, err
		}
		var in struct {
			Token string `json:"token"`
		}
		if err := apigw.DecodeJSON(req, &in); err != nil {
			return apigw.Response{}, err
		}
		token = in.Token
	case "application/x-www-form-urlencoded", "multipart/form-data":
		if oneClick(req, mt, params) != "One-Click" {
			return apigw.Response{}, privacy.FieldError("List-Unsubscribe", `must be "One-Click" (RFC 8058)`)
		}
	default:
		return apigw.Response{}, &privacy.Error{Code: privacy.Unsupported, Field: "Content-Type", Message: "must be application/x-www-form-urlencoded (RFC 8058) or application/json"}
	}
	if err := h.Unsubscriber.Unsubscribe(ctx, token); err != nil {
		return apigw.Response{}, err
	}
	return apigw.JSON(http.StatusOK, map[string]string{"status": "unsubscribed"})
}

// oneClick is the List-Unsubscribe value of a one-click POST's form body ("" if unreadable).
func oneClick(req *apigw.Request, mt string, params map[string]string) string {
	b, err := apigw.Body(req)
	if err != nil {
		return ""
	}
	if mt == "application/x-www-form-urlencoded" {
		form, err := url.ParseQuery(string(b))
		if err != nil {
			return ""
		}
		return form.Get("List-Unsubscribe")
	}
	form, err := multipart.NewReader(bytes.NewReader(b), params["boundary"]).ReadForm(apigw.MaxBodyBytes)
	if err != nil {
		return ""
	}
	defer form.RemoveAll()
	if v := form.Value["List-Unsubscribe"]; len(v) == 1 {
		return v[0]
	}
	return ""
}
