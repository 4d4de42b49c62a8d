package localcloud

import (
	"bytes"
	"compress/gzip"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/privacyportal/portal/infra/samtemplate"
)

// MaxPayloadBytes is API Gateway's REST payload limit; larger bodies get 413 before any
// function runs.
const MaxPayloadBytes = 10 << 20

// route is one Api event of one function.
type route struct {
	method   string // upper case, or ANY
	resource string // the template path, e.g. /api/exports/{id}
	segments []string
	function string
}

// routesFrom reads every Api event in the template. A function added to template.yaml with an
// Api event is routable with no other change.
func routesFrom(st *samtemplate.Stack) []route {
	var rs []route
	for _, f := range st.Functions {
		for _, e := range f.Events {
			if e.Type != "Api" {
				continue
			}
			p := e.String("Path")
			rs = append(rs, route{
				method:   strings.ToUpper(e.String("Method")),
				resource: p,
				segments: splitPath(p),
				function: f.LogicalID,
			})
		}
	}
	return rs
}

func splitPath(p string) []string { return strings.Split(strings.Trim(p, "/"), "/") }

// match returns the path parameters if r's resource matches the request path, and a score:
// literal segments beat {param} segments, which beat a greedy {proxy+}, as in API Gateway.
func (r route) match(segs []string) (map[string]string, []int, bool) {
	params := map[string]string{}
	score := make([]int, 0, len(r.segments))
	for i, s := range r.segments {
		if strings.HasPrefix(s, "{") && strings.HasSuffix(s, "+}") {
			if i >= len(segs) {
				return nil, nil, false
			}
			params[strings.Trim(s, "{+}")] = strings.Join(segs[i:], "/")
			return params, append(score, 0), true
		}
		if i >= len(segs) {
			return nil, nil, false
		}
		switch {
		case strings.HasPrefix(s, "{") && strings.HasSuffix(s, "}"):
			if segs[i] == "" {
				return nil, nil, false
			}
			params[strings.Trim(s, "{}")] = segs[i]
			score = append(score, 1)
		case s == segs[i]:
			score = append(score, 2)
		default:
			return nil, nil, false
		}
	}
	if len(segs) != len(r.segments) {
		return nil, nil, false
	}
	return params, score, true
}

func better(a, b []int) bool {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return a[i] > b[i]
		}
	}
	return len(a) > len(b)
}

// findRoute picks the most specific route for the path, then checks the method.
func findRoute(rs []route, method, p string) (route, map[string]string, bool) {
	segs := splitPath(p)
	var best *route
	var bestParams map[string]string
	var bestScore []int
	for i := range rs {
		r := &rs[i]
		if r.method != method && r.method != "ANY" && !(method == http.MethodHead && r.method == http.MethodGet) {
			continue
		}
		params, score, ok := r.match(segs)
		if !ok {
			continue
		}
		if best == nil || better(score, bestScore) {
			best, bestParams, bestScore = r, params, score
		}
	}
	if best == nil {
		return route{}, nil, false
	}
	return *best, bestParams, true
}

// securityHeaders reads the CloudFront response headers policy from the template, so local
// responses carry the same headers as the deployed site.
func securityHeaders(st *samtemplate.Stack) map[string]string {
	h := map[string]string{}
	for _, id := range st.Resources("AWS::CloudFront::ResponseHeadersPolicy") {
		cfg, _ := st.Properties(id)["ResponseHeadersPolicyConfig"].(map[string]any)
		sec, _ := cfg["SecurityHeadersConfig"].(map[string]any)
		if v, ok := sec["ContentSecurityPolicy"].(map[string]any); ok {
			h["Content-Security-Policy"] = fmt.Sprint(v["ContentSecurityPolicy"])
		}
		if v, ok := sec["StrictTransportSecurity"].(map[string]any); ok {
			s := "max-age=" + number(v["AccessControlMaxAgeSec"])
			if v["IncludeSubdomains"] == true {
				s += "; includeSubDomains"
			}
			if v["Preload"] == true {
				s += "; preload"
			}
			h["Strict-Transport-Security"] = s
		}
		if _, ok := sec["ContentTypeOptions"]; ok {
			h["X-Content-Type-Options"] = "nosniff"
		}
		if v, ok := sec["FrameOptions"].(map[string]any); ok {
			h["X-Frame-Options"] = fmt.Sprint(v["FrameOption"])
		}
		if v, ok := sec["ReferrerPolicy"].(map[string]any); ok {
			h["Referrer-Policy"] = fmt.Sprint(v["ReferrerPolicy"])
		}
	}
	return h
}

// number formats a JSON number without an exponent (max-age=63072000, not 6.3072e+07).
func number(v any) string {
	if f, ok := v.(float64); ok {
		return strconv.FormatFloat(f, 'f', -1, 64)
	}
	return fmt.Sprint(v)
}

// originHeaders reads the custom headers CloudFront adds to requests for the API origin (the
// origin whose domain is the REST API's), resolved as the functions' environment is.
func (c *Cloud) originHeaders(st *samtemplate.Stack) map[string]string {
	h := map[string]string{}
	for _, id := range st.Resources("AWS::CloudFront::Distribution") {
		cfg, _ := st.Properties(id)["DistributionConfig"].(map[string]any)
		origins, _ := cfg["Origins"].([]any)
		for _, o := range origins {
			om, _ := o.(map[string]any)
			if domain, _ := om["DomainName"].(string); !strings.Contains(domain, ".execute-api.") {
				continue
			}
			custom, _ := om["OriginCustomHeaders"].([]any)
			for _, ch := range custom {
				chm, _ := ch.(map[string]any)
				name, _ := chm["HeaderName"].(string)
				value, _ := chm["HeaderValue"].(string)
				if name != "" {
					h[name] = LocalValue(value, c.localSecret)
				}
			}
		}
	}
	return h
}

// problem writes an application/problem+json error, the shape the template's gateway
// responses give in AWS.
func problem(w http.ResponseWriter, status int, detail string) {
	w.Header().Set("Content-Type", "application/problem+json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{
		"type": "about:blank", "title": http.StatusText(status), "status": status, "detail": detail,
	})
}

func (c *Cloud) gatewayHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/api/", c.serveAPI)
	mux.HandleFunc("/api", c.serveAPI)
	mux.HandleFunc("POST /_local/schedule/{function}", func(w http.ResponseWriter, r *http.Request) {
		// A developer's tool: a page from another site must not be able to fire it.
		if o := r.Header.Get("Origin"); o != "" && o != c.URL {
			problem(w, http.StatusForbidden, "Cross-site requests cannot fire schedules.")
			return
		}
		if err := c.FireSchedule(r.Context(), r.PathValue("function")); err != nil {
			problem(w, http.StatusBadGateway, err.Error())
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
	mux.HandleFunc("/", c.serveSite)
	headers := c.secHeaders
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		for k, v := range headers {
			w.Header().Set(k, v)
		}
		mux.ServeHTTP(w, r)
	})
}

func (c *Cloud) serveAPI(w http.ResponseWriter, r *http.Request) {
	rt, params, ok := findRoute(c.routes, r.Method, r.URL.Path)
	if !ok {
		// API Gateway answers an unknown path or method alike (MISSING_AUTHENTICATION_TOKEN,
		// mapped to 404 by the template's NotFoundResponse); so does the local gateway.
		problem(w, http.StatusNotFound, "No such API route or method.")
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, MaxPayloadBytes+1))
	if err != nil {
		problem(w, http.StatusBadRequest, "The request body could not be read.")
		return
	}
	if len(body) > MaxPayloadBytes {
		problem(w, http.StatusRequestEntityTooLarge, "The request body is too large.")
		return
	}
	ev := c.proxyEvent(r, rt, params, body)
	payload, _ := json.Marshal(ev)
	out, err := c.Invoke(r.Context(), rt.function, payload)
	if err != nil {
		c.logf("gateway: %s %s -> %s: %v", r.Method, rt.resource, rt.function, err)
		if errors.Is(err, r.Context().Err()) {
			return
		}
		if IsThrottled(err) {
			// Lambda's 429 reaches a REST API's proxy integration as an integration failure:
			// API Gateway answers 500 (the template's DEFAULT_5XX response keeps the status).
			problem(w, http.StatusInternalServerError, "The function behind this route is at its reserved concurrency.")
			return
		}
		// API Gateway gives 502 when the integration fails.
		problem(w, http.StatusBadGateway, "The function behind this route failed.")
		return
	}
	var resp events.APIGatewayProxyResponse
	if err := json.Unmarshal(out, &resp); err != nil || resp.StatusCode == 0 {
		problem(w, http.StatusBadGateway, "The function returned a malformed response.")
		return
	}
	for k, v := range resp.Headers {
		w.Header().Set(k, v)
	}
	for k, vs := range resp.MultiValueHeaders {
		w.Header().Del(k)
		for _, v := range vs {
			w.Header().Add(k, v)
		}
	}
	respBody := []byte(resp.Body)
	if resp.IsBase64Encoded {
		if respBody, err = base64.StdEncoding.DecodeString(resp.Body); err != nil {
			problem(w, http.StatusBadGateway, "The function returned a malformed body.")
			return
		}
	}
	w.WriteHeader(resp.StatusCode)
	if r.Method != http.MethodHead {
		_, _ = w.Write(respBody)
	}
}

// proxyEvent builds the REST API (v1) proxy event API Gateway would send.
func (c *Cloud) proxyEvent(r *http.Request, rt route, params map[string]string, body []byte) events.APIGatewayProxyRequest {
	ev := events.APIGatewayProxyRequest{
		Resource:                        rt.resource,
		Path:                            r.URL.Path,
		HTTPMethod:                      r.Method,
		Headers:                         map[string]string{},
		MultiValueHeaders:               map[string][]string{},
		QueryStringParameters:           map[string]string{},
		MultiValueQueryStringParameters: map[string][]string{},
		PathParameters:                  params,
		RequestContext: events.APIGatewayProxyRequestContext{
			AccountID:        c.namer.account,
			ResourceID:       "local",
			Stage:            c.stage,
			RequestID:        newRequestID(),
			ResourcePath:     rt.resource,
			HTTPMethod:       r.Method,
			APIID:            "local",
			Path:             "/" + c.stage + r.URL.Path,
			DomainName:       r.Host,
			Protocol:         r.Proto,
			RequestTimeEpoch: time.Now().UnixMilli(),
		},
	}
	if host, _, err := net.SplitHostPort(r.RemoteAddr); err == nil {
		ev.RequestContext.Identity.SourceIP = host
	}
	for k, vs := range r.Header {
		if strings.HasPrefix(strings.ToLower(k), "cloudfront-") {
			continue // CloudFront sets these itself; a viewer's own are dropped
		}
		ev.MultiValueHeaders[k] = vs
		ev.Headers[k] = vs[len(vs)-1]
	}
	// What CloudFront adds on the way to the API origin: the viewer's address and the
	// template's origin custom headers (the secret that proves the request came through it).
	set := func(k, v string) {
		ev.Headers[k] = v
		ev.MultiValueHeaders[k] = []string{v}
	}
	set("CloudFront-Viewer-Address", r.RemoteAddr)
	for k, v := range c.apiOriginHeaders {
		set(k, v)
	}
	if r.Host != "" {
		ev.Headers["Host"] = r.Host
		ev.MultiValueHeaders["Host"] = []string{r.Host}
	}
	for k, vs := range r.URL.Query() {
		ev.MultiValueQueryStringParameters[k] = vs
		ev.QueryStringParameters[k] = vs[len(vs)-1]
	}
	if len(params) == 0 {
		ev.PathParameters = nil
	}
	if len(body) > 0 {
		if utf8.Valid(body) {
			ev.Body = string(body)
		} else {
			ev.Body = base64.StdEncoding.EncodeToString(body)
			ev.IsBase64Encoded = true
		}
	}
	return ev
}

var requestSeq atomic.Uint64

func newRequestID() string {
	return fmt.Sprintf("local-%d-%s", time.Now().UnixNano(), strconv.FormatUint(requestSeq.Add(1), 36))
}

// serveSite serves the built Hugo site as CloudFront serves the site bucket: directory URLs
// get their index.html, unknown paths the site's 404 page with status 404.
func (c *Cloud) serveSite(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		problem(w, http.StatusMethodNotAllowed, "The site is read-only; forms post to /api/.")
		return
	}
	p := path.Clean("/" + r.URL.Path)
	file := filepath.Join(c.SiteDir, filepath.FromSlash(p))
	if st, err := os.Stat(file); err == nil && st.IsDir() {
		if !strings.HasSuffix(r.URL.Path, "/") {
			http.Redirect(w, r, r.URL.Path+"/", http.StatusMovedPermanently)
			return
		}
		file = filepath.Join(file, "index.html")
	}
	if _, err := os.Stat(file); err != nil {
		if strings.HasPrefix(p, publishedPrefix) && c.servePublished(w, r, p) {
			return
		}
		notFound := filepath.Join(c.SiteDir, "404.html")
		if strings.HasPrefix(p, "/zh/") {
			if _, err := os.Stat(filepath.Join(c.SiteDir, "zh", "404.html")); err == nil {
				notFound = filepath.Join(c.SiteDir, "zh", "404.html")
			}
		}
		b, err := os.ReadFile(notFound)
		if err != nil {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.WriteHeader(http.StatusNotFound)
		_, _ = w.Write(b)
		return
	}
	if c.compressSite && acceptsGzip(r) {
		if served := serveGzip(w, r, file); served {
			return
		}
	}
	http.ServeFile(w, r, file)
}

// publishedPrefix is where the operator's tool publishes files into the site bucket at run
// time, after the deploy (portalctl campaign publish: notices/index.json, notices/<id>.json).
const publishedPrefix = "/notices/"

// servePublished serves a path under publishedPrefix that the built site does not have from
// the site bucket, where CloudFront finds it in AWS (the site's origin is the bucket, not the
// build): the key is the path after the template's index rewrite (IndexRewriteFunction:
// "/x/" and "/x" read "x/index.html"). It reports false, having written nothing, when the
// bucket has no such object (or the template no site bucket): the caller answers 404 as for
// any missing path.
//
// The answer carries what S3 stored with the object, as CloudFront passes it on: its
// Content-Type, Cache-Control, ETag and Last-Modified. So the publisher must set ContentType
// (application/json) and CacheControl on PutObject, as `aws s3 sync` sets the type from the
// extension; an object stored without them is served without them here too. CloudFront adds
// no Cache-Control: under the template's default cache behaviour (the managed CachingOptimized
// policy: TTL 1 s to 1 year, 1 day when the object sets none) an object without Cache-Control
// stays cached at the edge for a day, so a change or an unpublish would not show. The local
// gateway caches nothing, so it logs that case instead.
func (c *Cloud) servePublished(w http.ResponseWriter, r *http.Request, p string) bool {
	bucket, ok := c.Names["SiteBucket"]
	if !ok || c.S3 == nil {
		return false
	}
	key := strings.TrimPrefix(p, "/")
	if strings.HasSuffix(r.URL.Path, "/") {
		key += "/index.html"
	} else if !strings.Contains(path.Base(p), ".") {
		key += "/index.html"
	}
	out, err := c.S3.GetObject(r.Context(), &s3.GetObjectInput{Bucket: &bucket, Key: &key})
	if err != nil {
		var missing *s3types.NoSuchKey
		if errors.As(err, &missing) {
			return false
		}
		c.logf("gateway: site bucket %s: %v", key, err)
		// CloudFront answers 502 when the origin fails.
		problem(w, http.StatusBadGateway, "The site's storage did not answer.")
		return true
	}
	defer out.Body.Close()
	b, err := io.ReadAll(out.Body)
	if err != nil {
		c.logf("gateway: site bucket %s: %v", key, err)
		problem(w, http.StatusBadGateway, "The site's storage did not answer.")
		return true
	}
	h := w.Header()
	ct := aws.ToString(out.ContentType)
	h.Set("Content-Type", ct)
	if cc := aws.ToString(out.CacheControl); cc != "" {
		h.Set("Cache-Control", cc)
	} else {
		c.logf("gateway: %s has no Cache-Control: CloudFront's default cache behaviour would serve it from its edge caches for a day", key)
	}
	if etag := aws.ToString(out.ETag); etag != "" {
		h.Set("ETag", etag)
	}
	if c.compressSite && acceptsGzip(r) && gzipBody(w, r, ct, b) {
		return true
	}
	http.ServeContent(w, r, path.Base(key), aws.ToTime(out.LastModified), bytes.NewReader(b))
	return true
}

// siteCompresses reports whether the distribution's default cache behavior (the site) has
// Compress: true, as the template sets: CloudFront then gzips text the viewer accepts gzip for.
func siteCompresses(st *samtemplate.Stack) bool {
	for _, id := range st.Resources("AWS::CloudFront::Distribution") {
		cfg, _ := st.Properties(id)["DistributionConfig"].(map[string]any)
		dcb, _ := cfg["DefaultCacheBehavior"].(map[string]any)
		if dcb["Compress"] == true {
			return true
		}
	}
	return false
}

func acceptsGzip(r *http.Request) bool {
	for _, part := range strings.Split(r.Header.Get("Accept-Encoding"), ",") {
		if name, _, _ := strings.Cut(strings.TrimSpace(part), ";"); strings.EqualFold(name, "gzip") {
			return true
		}
	}
	return false
}

// serveGzip serves a file gzipped, as CloudFront does with Compress on: only the types it
// compresses, and only files from 1,000 bytes to 10 MB. It reports false (having written
// nothing) for a file it leaves as it is.
func serveGzip(w http.ResponseWriter, r *http.Request, file string) bool {
	st, err := os.Stat(file)
	if err != nil || !gzipped(mime.TypeByExtension(filepath.Ext(file)), st.Size()) {
		return false
	}
	b, err := os.ReadFile(file)
	if err != nil {
		return false
	}
	return gzipBody(w, r, mime.TypeByExtension(filepath.Ext(file)), b)
}

// gzipped reports whether CloudFront compresses a body of this type and size.
func gzipped(ct string, size int64) bool {
	if size < 1000 || size > 10<<20 {
		return false
	}
	base, _, _ := strings.Cut(ct, ";")
	base = strings.TrimSpace(strings.ToLower(base))
	switch {
	case strings.HasPrefix(base, "text/"), base == "application/javascript", base == "text/javascript",
		base == "application/json", base == "image/svg+xml", base == "application/xml":
		return true
	}
	return false
}

// gzipBody serves b gzipped as serveGzip does, or reports false having written nothing.
func gzipBody(w http.ResponseWriter, r *http.Request, ct string, b []byte) bool {
	if !gzipped(ct, int64(len(b))) {
		return false
	}
	w.Header().Set("Content-Type", ct)
	w.Header().Set("Content-Encoding", "gzip")
	w.Header().Add("Vary", "Accept-Encoding")
	if r.Method == http.MethodHead {
		return true
	}
	gz := gzip.NewWriter(w)
	_, _ = gz.Write(b)
	_ = gz.Close()
	return true
}

// Routes lists the API routes the gateway serves, as "METHOD /path -> Function".
func (c *Cloud) Routes() []string {
	var out []string
	for _, r := range c.routes {
		out = append(out, fmt.Sprintf("%s %s -> %s", r.method, r.resource, r.function))
	}
	sort.Strings(out)
	return out
}
