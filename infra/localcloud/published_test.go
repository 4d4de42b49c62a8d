package localcloud_test

import (
	"compress/gzip"
	"context"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// siteTemplate is a stack with a site bucket and a distribution that compresses, and nothing
// else: the gateway serves the built site, and the deploy steps upload it to the bucket.
const siteTemplate = `
AWSTemplateFormatVersion: "2010-09-09"
Transform: AWS::Serverless-2016-10-31
Parameters:
  HomeRegion: {Type: String, Default: eu-west-1}
Resources:
  SiteBucket:
    Type: AWS::S3::Bucket
  Distribution:
    Type: AWS::CloudFront::Distribution
    Properties:
      DistributionConfig:
        Enabled: true
        Origins:
          - {Id: site, DomainName: !GetAtt SiteBucket.RegionalDomainName, S3OriginConfig: {OriginAccessIdentity: ""}}
        DefaultCacheBehavior: {TargetOriginId: site, ViewerProtocolPolicy: redirect-to-https, Compress: true}
`

// TestPublishedNoticesFromSiteBucket publishes notices into the site bucket after the start,
// as the operator's tool does after a deploy, and reads them through the gateway, which in AWS
// is CloudFront in front of that bucket: what the build has is served from it, the rest under
// /notices/ from the bucket, with what S3 stored with each object.
func TestPublishedNoticesFromSiteBucket(t *testing.T) {
	c, _ := startSmallCloud(t, "lcsite", siteTemplate, 1)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	bucket := c.Names["SiteBucket"]
	put := func(key, body, contentType, cacheControl string) {
		t.Helper()
		in := &s3.PutObjectInput{Bucket: &bucket, Key: aws.String(key), Body: strings.NewReader(body)}
		if contentType != "" {
			in.ContentType = aws.String(contentType)
		}
		if cacheControl != "" {
			in.CacheControl = aws.String(cacheControl)
		}
		if _, err := c.S3.PutObject(ctx, in); err != nil {
			t.Fatal(err)
		}
	}
	index := `{"notices":[{"id":"n1","title":{"en":"A breach","zh-CN":"泄露"},"published":"2026-11-30T12:00:00Z","active":true}]}`
	put("notices/index.json", index, "application/json", "no-cache")

	t.Run("a published object is served from the bucket", func(t *testing.T) {
		resp, b := do(t, "GET", c.URL+"/notices/index.json", "", nil)
		if resp.StatusCode != http.StatusOK || string(b) != index {
			t.Fatalf("GET /notices/index.json = %d %s", resp.StatusCode, b)
		}
		if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
			t.Errorf("Content-Type = %q, want application/json (as stored)", ct)
		}
		if cc := resp.Header.Get("Cache-Control"); cc != "no-cache" {
			t.Errorf("Cache-Control = %q, want no-cache (as stored)", cc)
		}
		etag := resp.Header.Get("ETag")
		if etag == "" || resp.Header.Get("Last-Modified") == "" {
			t.Fatalf("no ETag or Last-Modified: %v", resp.Header)
		}
		req, _ := http.NewRequest("GET", c.URL+"/notices/index.json", nil)
		req.Header.Set("If-None-Match", etag)
		cond, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		cond.Body.Close()
		if cond.StatusCode != http.StatusNotModified {
			t.Errorf("GET with If-None-Match: %d, want 304", cond.StatusCode)
		}
		if resp, _ := do(t, "HEAD", c.URL+"/notices/index.json", "", nil); resp.StatusCode != http.StatusOK {
			t.Errorf("HEAD = %d", resp.StatusCode)
		}
	})

	t.Run("a large notice is compressed as CloudFront compresses it", func(t *testing.T) {
		big := `{"id":"n1","incident":{"en":"` + strings.Repeat("What happened. ", 200) + `"}}`
		put("notices/n1.json", big, "application/json", "no-cache")
		req, _ := http.NewRequest("GET", c.URL+"/notices/n1.json", nil)
		req.Header.Set("Accept-Encoding", "gzip")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		if resp.Header.Get("Content-Encoding") != "gzip" || resp.Header.Get("Content-Type") != "application/json" {
			t.Fatalf("Content-Encoding %q, Content-Type %q; want gzip, application/json", resp.Header.Get("Content-Encoding"), resp.Header.Get("Content-Type"))
		}
		zr, err := gzip.NewReader(resp.Body)
		if err != nil {
			t.Fatal(err)
		}
		if b, err := io.ReadAll(zr); err != nil || string(b) != big {
			t.Errorf("the gzipped body differs from the object (%v)", err)
		}
	})

	t.Run("a change shows at once", func(t *testing.T) {
		changed := strings.Replace(index, `"active":true`, `"active":false`, 1)
		put("notices/index.json", changed, "application/json", "no-cache")
		if resp, b := do(t, "GET", c.URL+"/notices/index.json", "", nil); resp.StatusCode != http.StatusOK || string(b) != changed {
			t.Fatalf("after the change: %d %s", resp.StatusCode, b)
		}
	})

	t.Run("a missing notice is the site's 404", func(t *testing.T) {
		resp, b := do(t, "GET", c.URL+"/notices/nothing.json", "", nil)
		if resp.StatusCode != http.StatusNotFound || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
			t.Fatalf("GET /notices/nothing.json = %d %s %.80s", resp.StatusCode, resp.Header.Get("Content-Type"), b)
		}
	})

	t.Run("only /notices/ comes from the bucket", func(t *testing.T) {
		put("elsewhere.json", `{}`, "application/json", "")
		if resp, _ := do(t, "GET", c.URL+"/elsewhere.json", "", nil); resp.StatusCode != http.StatusNotFound {
			t.Errorf("GET /elsewhere.json = %d, want 404: only /notices/ is published at run time", resp.StatusCode)
		}
	})

	t.Run("the build wins over the bucket", func(t *testing.T) {
		if err := os.MkdirAll(filepath.Join(c.SiteDir, "notices"), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(c.SiteDir, "notices", "built.json"), []byte(`{"from":"build"}`), 0o644); err != nil {
			t.Fatal(err)
		}
		put("notices/built.json", `{"from":"bucket"}`, "application/json", "")
		if resp, b := do(t, "GET", c.URL+"/notices/built.json", "", nil); resp.StatusCode != http.StatusOK || string(b) != `{"from":"build"}` {
			t.Errorf("GET /notices/built.json = %d %s, want the built file", resp.StatusCode, b)
		}
	})

	t.Run("an object stored without a type or caching is served so", func(t *testing.T) {
		put("notices/bare.json", `{"id":"bare"}`, "", "")
		resp, b := do(t, "GET", c.URL+"/notices/bare.json", "", nil)
		if resp.StatusCode != http.StatusOK || string(b) != `{"id":"bare"}` {
			t.Fatalf("GET /notices/bare.json = %d %s", resp.StatusCode, b)
		}
		// CloudFront passes on what S3 stored: the publisher must set both.
		if ct := resp.Header.Get("Content-Type"); ct == "application/json" {
			t.Errorf("Content-Type = %q although the object was stored without one", ct)
		}
		if cc := resp.Header.Get("Cache-Control"); cc != "" {
			t.Errorf("Cache-Control = %q although the object was stored without one", cc)
		}
		t.Logf("an object stored without a Content-Type is served as %q", resp.Header.Get("Content-Type"))
	})
}
