package e2e

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/privacyportal/portal/infra/localcloud"
	"github.com/privacyportal/portal/infra/portaltest"
)

// TestGatewayAnswersBadRequestsWithProblems: whatever a client sends, the answer is a prompt
// 4xx application/problem+json document, never a 5xx or a hang.
func TestGatewayAnswersBadRequestsWithProblems(t *testing.T) {
	base := portaltest.URL(t)
	tests := []struct {
		name, method, path string
		body               []byte
		status             int
	}{
		{"unknown API route", "GET", "/api/does-not-exist", nil, 404},
		{"unknown nested route", "GET", "/api/status/extra", nil, 404},
		{"wrong method on a route", "POST", "/api/status", []byte(`{}`), 404},
		{"DELETE on a route", "DELETE", "/api/status", nil, 404},
		{"malformed JSON to a GET-only route", "PUT", "/api/status", []byte(`{"a":`), 404},
		{"oversized body", "GET", "/api/status", bytes.Repeat([]byte("x"), localcloud.MaxPayloadBytes+1), 413},
		{"writing to the static site", "POST", "/policy/", []byte(`x`), 405},
	}
	client := &http.Client{Timeout: 10 * time.Second}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req, err := http.NewRequest(tc.method, base+tc.path, bytes.NewReader(tc.body))
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("Content-Type", "application/json")
			resp, err := client.Do(req)
			if err != nil {
				t.Fatalf("%s %s: %v", tc.method, tc.path, err)
			}
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != tc.status {
				t.Fatalf("status = %d, want %d (%s)", resp.StatusCode, tc.status, b)
			}
			if ct := resp.Header.Get("Content-Type"); ct != "application/problem+json" {
				t.Fatalf("Content-Type = %q, want application/problem+json", ct)
			}
			var p struct {
				Title  string `json:"title"`
				Status int    `json:"status"`
				Detail string `json:"detail"`
			}
			if err := json.Unmarshal(b, &p); err != nil || p.Status != tc.status || p.Title == "" || p.Detail == "" {
				t.Errorf("problem document = %s (%v)", b, err)
			}
		})
	}
}

// TestSiteServesPagesAndA404 checks the static side of the gateway as CloudFront serves it.
func TestSiteServesPagesAndA404(t *testing.T) {
	base := portaltest.URL(t)
	c := portaltest.Client(t)
	for path, want := range map[string]int{
		"/": 200, "/zh/": 200, "/policy/": 200, "/policy/versions/": 200, "/zh/policy/versions/": 200,
		"/policy/versions.json": 200, "/.well-known/gpc.json": 200, "/no-such-page/": 404,
		"/zh/no-such-page/": 404, "/policy": 301,
	} {
		t.Run(path, func(t *testing.T) {
			resp, b := get(t, c, base+path)
			if resp.StatusCode != want {
				t.Errorf("GET %s = %d, want %d", path, resp.StatusCode, want)
			}
			if want == 404 && !strings.Contains(strings.ToLower(string(b)), "<html") {
				t.Errorf("404 is not the site's page: %.200s", b)
			}
		})
	}
}

// TestSiteIsCompressedAsCloudFrontCompressesIt: the distribution's Compress: true gzips text
// for browsers that accept it, so the page weights measured locally are the ones visitors get.
func TestSiteIsCompressedAsCloudFrontCompressesIt(t *testing.T) {
	base := portaltest.URL(t)
	for _, path := range []string{"/policy/", "/js/account.js", "/css/site.css"} {
		req, err := http.NewRequest("GET", base+path, nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Accept-Encoding", "gzip")
		resp, err := portaltest.Client(t).Do(req)
		if err != nil {
			t.Fatal(err)
		}
		zr, err := gzip.NewReader(resp.Body)
		if resp.Header.Get("Content-Encoding") != "gzip" || err != nil {
			t.Errorf("GET %s with Accept-Encoding gzip: Content-Encoding %q (%v)", path, resp.Header.Get("Content-Encoding"), err)
			resp.Body.Close()
			continue
		}
		b, err := io.ReadAll(zr)
		resp.Body.Close()
		if err != nil || len(b) < 1000 {
			t.Errorf("GET %s: %d bytes after gunzip (%v)", path, len(b), err)
		}
		_, plain := get(t, portaltest.Client(t), base+path)
		if string(plain) != string(b) {
			t.Errorf("GET %s: the gzipped body differs from the plain one", path)
		}
	}
}
