package iam

import (
	"context"
	"crypto/subtle"
	"net/http"
	"net/textproto"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

const (
	amzDateFormat = "20060102T150405Z"
	// UnsignedPayload is the payload hash of requests whose body is not signed (presigned S3
	// URLs, or S3 uploads that say so).
	UnsignedPayload = "UNSIGNED-PAYLOAD"
	// EmptyPayload is the SHA-256 of nothing.
	EmptyPayload = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
)

// Auth is a request's SigV4 authentication, as the client sent it: in the Authorization
// header, or in the query of a presigned URL.
type Auth struct {
	AccessKeyID   string
	Scope         string // date/region/service/aws4_request
	Region        string
	Service       string
	SignedHeaders []string
	Signature     string
	Token         string
	Time          time.Time
	Presigned     bool
	Expires       time.Duration // presigned only
}

// ParseAuth reads a request's authentication. It fails with MissingAuth when there is none,
// and BadSignature when what is there cannot be read.
func ParseAuth(r *http.Request) (*Auth, AuthFailure, string) {
	a := &Auth{}
	var date string
	if h := r.Header.Get("Authorization"); h != "" {
		rest, ok := strings.CutPrefix(h, "AWS4-HMAC-SHA256 ")
		if !ok {
			return nil, BadSignature, "Only AWS4-HMAC-SHA256 (SigV4) signatures are accepted."
		}
		for _, part := range strings.Split(rest, ",") {
			k, v, _ := strings.Cut(strings.TrimSpace(part), "=")
			switch k {
			case "Credential":
				a.AccessKeyID, a.Scope, _ = strings.Cut(v, "/")
			case "SignedHeaders":
				a.SignedHeaders = strings.Split(v, ";")
			case "Signature":
				a.Signature = v
			}
		}
		date = r.Header.Get("X-Amz-Date")
		a.Token = r.Header.Get("X-Amz-Security-Token")
	} else if q := r.URL.Query(); q.Get("X-Amz-Algorithm") != "" {
		if q.Get("X-Amz-Algorithm") != "AWS4-HMAC-SHA256" {
			return nil, BadSignature, "X-Amz-Algorithm only supports \"AWS4-HMAC-SHA256\""
		}
		a.Presigned = true
		a.AccessKeyID, a.Scope, _ = strings.Cut(q.Get("X-Amz-Credential"), "/")
		a.SignedHeaders = strings.Split(q.Get("X-Amz-SignedHeaders"), ";")
		a.Signature = q.Get("X-Amz-Signature")
		a.Token = q.Get("X-Amz-Security-Token")
		date = q.Get("X-Amz-Date")
		secs, err := strconv.Atoi(q.Get("X-Amz-Expires"))
		if err != nil || secs < 0 || secs > 604800 {
			return nil, BadSignature, "X-Amz-Expires must be a number of seconds from 0 to 604800"
		}
		a.Expires = time.Duration(secs) * time.Second
	} else {
		return nil, MissingAuth, ""
	}
	parts := strings.Split(a.Scope, "/")
	if a.AccessKeyID == "" || a.Signature == "" || len(parts) != 4 || parts[3] != "aws4_request" || len(a.SignedHeaders) == 0 {
		return nil, BadSignature, "Authorization header requires Credential, SignedHeaders and Signature."
	}
	a.Region, a.Service = parts[1], parts[2]
	t, err := time.Parse(amzDateFormat, date)
	if err != nil || t.Format("20060102") != parts[0] {
		return nil, BadSignature, "The request must carry an X-Amz-Date matching its credential scope."
	}
	a.Time = t
	return a, 0, ""
}

// CheckTime fails a request whose signature is too old or too new (five minutes either way,
// fifteen for S3, as AWS allows), or a presigned URL that has expired.
func (a *Auth) CheckTime(service string, now time.Time) (AuthFailure, string, bool) {
	if a.Presigned {
		if now.After(a.Time.Add(a.Expires)) {
			return Expired, "Request has expired", false
		}
		return 0, "", true
	}
	skew := 5 * time.Minute
	if service == "s3" {
		skew = 15 * time.Minute
	}
	f := func(t time.Time) string { return t.UTC().Format(amzDateFormat) }
	switch {
	case a.Time.Before(now.Add(-skew)):
		if service == "s3" {
			return Expired, "", false
		}
		return Expired, "Signature expired: " + f(a.Time) + " is now earlier than " + f(now.Add(-skew)) + " (" + f(now) + " - 5 min.)", false
	case a.Time.After(now.Add(skew)):
		if service == "s3" {
			return Expired, "", false
		}
		return Expired, "Signature not yet current: " + f(a.Time) + " is still later than " + f(now.Add(skew)) + " (" + f(now) + " + 5 min.)", false
	}
	return 0, "", true
}

// Verifier recomputes signatures with the SDK's own SigV4 signer.
type Verifier struct{ signer *v4.Signer }

// NewVerifier returns a Verifier; it is safe for concurrent use.
func NewVerifier() *Verifier { return &Verifier{signer: v4.NewSigner()} }

// Verify recomputes the signature of r as the client would have made it with the caller's
// secret, over exactly the headers the client signed, and compares. payloadHash is the
// body's SHA-256 (hex), or what X-Amz-Content-Sha256 says for S3.
func (v *Verifier) Verify(r *http.Request, a *Auth, secret, payloadHash string) bool {
	creds := aws.Credentials{AccessKeyID: a.AccessKeyID, SecretAccessKey: secret, SessionToken: a.Token}
	u := &url.URL{Scheme: "http", Host: r.Host, Path: r.URL.Path, RawPath: r.URL.RawPath, RawQuery: r.URL.RawQuery}
	if a.Presigned {
		q := r.URL.Query()
		q.Del("X-Amz-Signature")
		u.RawQuery = q.Encode()
	}
	vr := &http.Request{Method: r.Method, URL: u, Host: r.Host, Header: make(http.Header, len(a.SignedHeaders))}
	for _, name := range a.SignedHeaders {
		switch name {
		case "host":
		case "content-length":
			vr.ContentLength = r.ContentLength
		default:
			key := textproto.CanonicalMIMEHeaderKey(name)
			if vals := r.Header.Values(key); len(vals) > 0 {
				vr.Header[key] = vals
			}
		}
	}
	opts := func(o *v4.SignerOptions) {
		// S3 signs the path as sent; every other service escapes it once more.
		o.DisableURIPathEscaping = a.Service == "s3"
		o.DisableHeaderHoisting = true
	}
	var got string
	if a.Presigned {
		signed, _, err := v.signer.PresignHTTP(context.Background(), creds, vr, UnsignedPayload, a.Service, a.Region, a.Time, opts)
		if err != nil {
			return false
		}
		su, err := url.Parse(signed)
		if err != nil {
			return false
		}
		got = su.Query().Get("X-Amz-Signature")
	} else {
		if err := v.signer.SignHTTP(context.Background(), creds, vr, payloadHash, a.Service, a.Region, a.Time, opts); err != nil {
			return false
		}
		h := vr.Header.Get("Authorization")
		i := strings.LastIndex(h, "Signature=")
		if i < 0 {
			return false
		}
		got = h[i+len("Signature="):]
		// A client that signed a header this signer never signs (User-Agent, Expect) made a
		// different canonical request: the signatures differ and the request is refused.
	}
	return subtle.ConstantTimeCompare([]byte(got), []byte(a.Signature)) == 1
}

// Sign signs an outgoing request to an emulator with the local cloud's own credentials.
func (v *Verifier) Sign(r *http.Request, creds aws.Credentials, payloadHash, service, region string) error {
	return v.signer.SignHTTP(context.Background(), creds, r, payloadHash, service, region, time.Now(), func(o *v4.SignerOptions) {
		o.DisableURIPathEscaping = service == "s3"
	})
}
