package requests

import (
	"context"
	"net/http"

	"github.com/privacyportal/portal/internal/apigw"
	"github.com/privacyportal/portal/internal/privacy"
	"github.com/privacyportal/portal/internal/web"
)

// Handler serves the data-subject request routes of docs/api.md.
type Handler struct {
	Intake  *Intake
	Tracker *Tracker
	Exports *Exports
	web.Guard
}

var errNoRoute = privacy.Errorf(privacy.NotFound, "No such API route or method.")

// Handle routes one API request.
func (h *Handler) Handle(ctx context.Context, req *apigw.Request) (apigw.Response, error) {
	ip, err := h.ClientIP(req)
	if err != nil {
		return apigw.Response{}, err
	}
	if req.HTTPMethod != http.MethodGet {
		if err := h.CheckOrigin(req); err != nil {
			return apigw.Response{}, err
		}
	}
	id := req.PathParameters["id"]
	switch req.HTTPMethod + " " + req.Resource {
	case "POST /api/requests":
		var in FileInput
		if err := apigw.DecodeJSON(req, &in); err != nil {
			return apigw.Response{}, err
		}
		var caller *web.Caller
		if _, n := web.Cookie(req, web.CookieName); n > 0 {
			// A session that does not authenticate is an error, not a visitor: the person
			// meant to file as themselves.
			c, err := h.Caller(ctx, req)
			if err != nil {
				return apigw.Response{}, err
			}
			caller = &c
		}
		filed, err := h.Intake.File(ctx, in, caller, ip)
		if err != nil {
			return apigw.Response{}, err
		}
		status := http.StatusAccepted
		if caller != nil {
			status = http.StatusCreated
		}
		resp, err := apigw.JSON(status, filed)
		if err == nil && caller != nil && filed.Status == FiledErasing {
			// The account is closed and its sessions revoked: the browser forgets its cookie.
			resp.MultiValueHeaders = map[string][]string{"Set-Cookie": {web.SessionCookie("", -1)}}
		}
		return resp, err
	case "POST /api/requests/{id}/verify":
		var in VerifyInput
		if err := apigw.DecodeJSON(req, &in); err != nil {
			return apigw.Response{}, err
		}
		if err := h.Intake.Verify(ctx, id, in, ip); err != nil {
			return apigw.Response{}, err
		}
		return apigw.JSON(http.StatusOK, map[string]string{"status": "verified"})
	case "GET /api/requests/{id}":
		v, err := h.Tracker.Status(ctx, id, req.QueryStringParameters["token"])
		if err != nil {
			return apigw.Response{}, err
		}
		return apigw.JSON(http.StatusOK, v)
	case "GET /api/requests":
		c, err := h.Caller(ctx, req)
		if err != nil {
			return apigw.Response{}, err
		}
		vs, err := h.Tracker.List(ctx, c)
		if err != nil {
			return apigw.Response{}, err
		}
		return apigw.JSON(http.StatusOK, map[string]any{"requests": vs})
	case "GET /api/exports/{id}":
		url, ok, err := h.Exports.Download(ctx, id, req.QueryStringParameters["token"])
		if err != nil {
			return apigw.Response{}, err
		}
		if !ok {
			lang := privacy.LocaleEnglish
			if req.QueryStringParameters["lang"] == privacy.LocaleChinese {
				lang = privacy.LocaleChinese
			}
			url = h.SiteURL + privacy.LocalePath(lang, ExpiredExportPage)
		}
		// The presigned URL is the one place it appears: nothing is cached, and the page it
		// leaves does not tell the archive's host where it came from.
		return apigw.Response{StatusCode: http.StatusSeeOther, Headers: map[string]string{
			"Location": url, "Referrer-Policy": "no-referrer",
		}}, nil
	case "POST /api/exports/{id}/share":
		var in ShareInput
		if err := apigw.DecodeJSON(req, &in); err != nil {
			return apigw.Response{}, err
		}
		if err := h.Exports.Share(ctx, id, in); err != nil {
			return apigw.Response{}, err
		}
		return apigw.JSON(http.StatusOK, map[string]string{"status": "shared"})
	}
	return apigw.Response{}, errNoRoute
}
