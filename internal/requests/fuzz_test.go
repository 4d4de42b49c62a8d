package requests_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/privacyportal/portal/internal/apigw"
	"github.com/privacyportal/portal/internal/privacy"
	"github.com/privacyportal/portal/internal/requests"
	"github.com/privacyportal/portal/internal/web"
)

var fileSeeds = []string{
	`{"type":"access","email":"ada@example.com"}`,
	`{"type":"copy","email":"ada@example.com","thirdParty":"bank@example.org","locale":"zh-CN"}`,
	`{"type":"copy","password":"correct horse battery staple","thirdParty":"Bank@Example.ORG"}`,
	`{"type":"deletion","email":"ada@example.com","ground":"left_service"}`,
	`{"type":"deletion","ground":"bored","password":"x"}`,
	`{"type":"correction","email":"ada@example.com","details":"  fix  "}`,
	`{"type":"contact","email":"\u212Aate@example.com","details":"hi"}`,
	`{"type":"contact","email":"ada@xn--bcher-kva.example","details":"` + strings.Repeat("é", requests.MaxDetails) + `"}`,
	`{"type":"access","email":" ada@EXAMPLE.com ","locale":"fr"}`,
	`{"type":"withdrawal","details":"\u0000"}`, `{"type":5}`, `{"type":"access","extra":1}`, `{`, `[]`, `""`, `null`,
	`{"type":"access","email":"ada@example.com"}{"type":"access"}`, `{"type":"access","email":"a@b.c","email":"d@e.f"}`,
	// Found by FuzzFileInput: a key with no name is a 400 that names no field (apigw.decodeError).
	`{"":""}`,
}

// FuzzFileInput decodes anything as POST /api/requests does and validates it: it never
// panics, a refusal is a 400 (or 413, 415) naming the field, and an input it accepts keeps the
// rules it was checked against and passes again unchanged (its normal form is stable).
func FuzzFileInput(f *testing.F) {
	for _, s := range fileSeeds {
		f.Add(s, false)
		f.Add(s, true)
	}
	f.Fuzz(func(t *testing.T, body string, signedIn bool) {
		req := &apigw.Request{Body: body, Headers: map[string]string{"Content-Type": "application/json"}}
		var in requests.FileInput
		if err := apigw.DecodeJSON(req, &in); err != nil {
			wantNamedRefusal(t, err)
			return
		}
		if err := requests.ValidateFileInput(&in, signedIn); err != nil {
			var pe *privacy.Error
			if !errors.As(err, &pe) || pe.Code != privacy.Invalid || pe.Field == "" {
				t.Fatalf("validate: %#v, want a 400 naming the field", err)
			}
			return
		}
		typ := privacy.RequestType(in.Type)
		switch {
		case !typ.Valid():
			t.Fatalf("accepted type %q", in.Type)
		case signedIn && in.Email != "":
			t.Fatalf("accepted an address %q signed in", in.Email)
		case !signedIn && privacy.ValidateEmail("email", in.Email) != nil:
			t.Fatalf("accepted address %q", in.Email)
		case utf8.RuneCountInString(in.Details) > requests.MaxDetails:
			t.Fatalf("accepted %d characters of details", utf8.RuneCountInString(in.Details))
		case typ.NeedsDetails() && strings.TrimSpace(in.Details) == "":
			t.Fatalf("accepted a %s without details", typ)
		case (typ == privacy.RequestDeletion) != (in.Ground != ""):
			t.Fatalf("accepted ground %q on a %s", in.Ground, typ)
		case in.ThirdParty != "" && typ != privacy.RequestCopy:
			t.Fatalf("accepted a third party on a %s", typ)
		case in.Locale != privacy.LocaleEnglish && in.Locale != privacy.LocaleChinese:
			t.Fatalf("accepted locale %q", in.Locale)
		case !signedIn && in.Password != "":
			t.Fatal("accepted a visitor's password")
		case signedIn && typ.NeedsPassword() && in.Password == "":
			t.Fatalf("accepted a signed-in %s without the password", typ)
		}
		again := in
		if err := requests.ValidateFileInput(&again, signedIn); err != nil || again != in {
			t.Fatalf("validated input does not pass again unchanged: %v\n%+v\n%+v", err, in, again)
		}
	})
}

func wantNamedRefusal(t *testing.T, err error) {
	t.Helper()
	var pe *privacy.Error
	if !errors.As(err, &pe) {
		t.Fatalf("decode: %#v is not the portal's error", err)
	}
	switch status := apigw.Status(pe.Code); {
	case status == http.StatusRequestEntityTooLarge:
	case (status == http.StatusBadRequest || status == http.StatusUnsupportedMediaType) && pe.Field != "":
	default:
		t.Fatalf("decode: %d on %q, want a 400 or 415 naming the field, or a 413", status, pe.Field)
	}
}

var routes = []struct{ method, resource string }{
	{"POST", "/api/requests"}, {"POST", "/api/requests/{id}/verify"}, {"GET", "/api/requests/{id}"},
	{"GET", "/api/requests"}, {"GET", "/api/exports/{id}"}, {"POST", "/api/exports/{id}/share"},
}

// FuzzRoutes sends anything to every requests route, signed in or not: the answer is never a
// 5xx, a 400 or 415 names the field at fault, and a refused request stores no request and
// queues nothing.
func FuzzRoutes(f *testing.F) {
	for i, s := range append(fileSeeds, `{"code":"123456"}`, `{"code":" 12345 "}`, `{"token":"abc"}`, `{"token":null}`) {
		f.Add(uint8(i), s, "application/json", "a.b", "x", i%2 == 0)
	}
	f.Add(uint8(4), ``, "", "aaaa.bbbb", strings.Repeat("a", 64), false)
	f.Add(uint8(0), `{"type":"contact","details":"hi"}`, "application/merge-patch+json", "", "", true)
	f.Fuzz(func(t *testing.T, route uint8, body, ctype, id, token string, signedIn bool) {
		w := newWorld(t)
		rt := routes[int(route)%len(routes)]
		req := apigw.Request{
			HTTPMethod: rt.method, Resource: rt.resource, Path: rt.resource, Body: body,
			Headers:        map[string]string{"Content-Type": ctype, "Origin": siteURL, web.ViewerAddressHeader: clientIP + ":443"},
			PathParameters: map[string]string{"id": id}, QueryStringParameters: map[string]string{"token": token},
		}
		if signedIn {
			ada := w.addAccount(t, "ada@example.com", "Ada Lovelace", "en")
			req.Headers["Cookie"] = web.CookieName + "=s-" + string(ada.Subject)
		}
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
		if err := json.Unmarshal([]byte(resp.Body), &p); err != nil || p.Status != resp.StatusCode {
			t.Fatalf("a %d without a problem document: %s", resp.StatusCode, resp.Body)
		}
		if (resp.StatusCode == 400 || resp.StatusCode == 415) && p.Field == "" {
			t.Fatalf("%d without a field: %s", resp.StatusCode, resp.Body)
		}
		if len(w.store.all()) != 0 || w.jobs.len()+w.work.len() != 0 {
			t.Fatalf("a refused %s %s stored or queued something", rt.method, rt.resource)
		}
	})
}

// FuzzSplitID: any string splits or not without panicking, and what splits joins back.
func FuzzSplitID(f *testing.F) {
	for _, s := range []string{"a.b", "", ".", "a.", ".b", "a.b.c", strings.Repeat("a", 65) + ".b", "subject.request"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, id string) {
		s, r, ok := requests.SplitID(id)
		if !ok {
			return
		}
		if s == "" || r == "" || strings.Contains(r, ".") || requests.ID(s, r) != id {
			t.Fatalf("SplitID(%q) = %q, %q", id, s, r)
		}
	})
}
