package localcloud

import (
	"bytes"
	"context"
	"crypto/md5"
	"crypto/rand"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base32"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"hash"
	"hash/crc32"
	"html"
	"io"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"

	"github.com/privacyportal/portal/infra/localcloud/iam"
	"github.com/privacyportal/portal/infra/samtemplate"
)

// IAMCall is one authorization the local cloud's IAM proxy checked: a function's call needed
// Action on Resource, and its policies allowed it or not.
type IAMCall struct {
	Function string // logical ID
	Action   string
	Resource string
	Allowed  bool
}

// Grant is one action a function's policy allows. Source says which policy: "inline policy 1",
// or the SAM policy template's name.
type Grant = iam.Grant

// maxBody bounds what the proxy reads into memory: the largest request body of the services
// whose bodies it reads (SES raw mail is 10 MB, DynamoDB batches 16 MB).
const maxBody = 32 << 20

// service is one AWS service the proxy fronts, on its own port.
type service struct {
	name     string // dynamodb, s3, sqs, ses, kms, ssm
	signing  string // SigV4 signing name (SES v1 too signs as "ses", though its host is email.*)
	proto    iam.Protocol
	upstream *url.URL // nil: the proxy answers itself (SSM)
}

// principal is one function's identity: its credentials and its policies.
type principal struct {
	caller    iam.Caller
	accessKey string
	secret    string
	token     string
	template  *iam.Policy
	policy    atomic.Pointer[iam.Policy]
}

type grantRef struct {
	st     *iam.Statement
	action int
}

// iamProxy stands between the functions and the emulators: every AWS call a function makes
// reaches it (the functions' AWS_ENDPOINT_URL_* point here), signed with the function's own
// credentials. It verifies the signature, decides the call against the function's policies
// as IAM would, records the decision, and either forwards the call to the emulator, re-signed
// with the emulators' credentials, or answers AWS's AccessDenied error.
type iamProxy struct {
	c         *Cloud
	verifier  *iam.Verifier
	byKey     map[string]*principal
	byFn      map[string]*principal
	buckets   map[string]*iam.Policy // bucket policies by bucket name
	queues    map[string]*iam.Policy // queue policies by queue ARN
	keys      map[string]*iam.Policy // key policies by key ARN
	queueKeys map[string]string      // the customer managed KMS key of encrypted queues, by queue ARN
	ssm       map[string]ssmParam    // the template's SSM parameters by name
	transport *http.Transport
	admin     aws.Credentials
	servers   []*http.Server

	// sesRoutes are where SES events of each configuration set go, by set name (sesevents.go).
	sesRoutes map[string][]sesRoute
	// ctx ends when the proxy closes: it bounds SES sends and the events they publish.
	ctx  context.Context
	stop context.CancelFunc

	mu      sync.Mutex
	calls   []IAMCall
	used    map[grantRef]struct{}
	crashes []*crash // pending CrashOn crashes, see crash.go
	closing bool
	events  sync.WaitGroup // SES events being published
}

type ssmParam struct{ name, typ, value, arn string }

var bufPool = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// parsePolicies reads every function's policies (a function role given by Role, or a
// permissions boundary, is refused: the local cloud would not see what they grant or take
// away) and the resource policies of buckets, queues and keys.
func parsePolicies(st *samtemplate.Stack, region, account string) (map[string]*iam.Policy, error) {
	out := map[string]*iam.Policy{}
	for _, f := range st.Functions {
		props := st.Properties(f.LogicalID)
		for _, k := range []string{"Role", "PermissionsBoundary"} {
			if _, ok := props[k]; ok {
				return nil, fmt.Errorf("function %s: %s is not supported by the local cloud's IAM enforcement; give the function Policies", f.LogicalID, k)
			}
		}
		p, err := iam.ParseFunctionPolicies(props["Policies"], region, account)
		if err != nil {
			return nil, fmt.Errorf("function %s: %w", f.LogicalID, err)
		}
		out[f.LogicalID] = p
	}
	return out, nil
}

// startIAMProxy parses the policies, makes each function its credentials, and listens on one
// loopback port per service.
func (c *Cloud) startIAMProxy(st *samtemplate.Stack) error {
	policies, err := parsePolicies(st, c.Region, c.namer.account)
	if err != nil {
		return err
	}
	p := &iamProxy{
		c: c, verifier: iam.NewVerifier(), byKey: map[string]*principal{}, byFn: map[string]*principal{},
		buckets: map[string]*iam.Policy{}, queues: map[string]*iam.Policy{}, keys: map[string]*iam.Policy{}, queueKeys: map[string]string{},
		ssm: map[string]ssmParam{}, used: map[grantRef]struct{}{},
		admin: aws.Credentials{AccessKeyID: AccessKeyID, SecretAccessKey: SecretAccessKey},
		transport: &http.Transport{
			Proxy:               nil,
			DialContext:         (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
			MaxIdleConns:        256,
			MaxIdleConnsPerHost: 64,
			IdleConnTimeout:     90 * time.Second,
			// Pass the client's Accept-Encoding through untouched rather than negotiate gzip
			// and decompress behind the client's back.
			DisableCompression: true,
		},
	}
	if err := p.resourcePolicies(st); err != nil {
		return err
	}
	if p.sesRoutes, err = c.sesEventRoutes(st); err != nil {
		return err
	}
	p.ctx, p.stop = context.WithCancel(context.Background())
	for _, id := range st.Resources("AWS::SSM::Parameter") {
		props := st.Properties(id)
		name, _ := props["Name"].(string)
		if name == "" {
			name = c.namer.name(id, "AWS::SSM::Parameter")
		}
		typ, _ := props["Type"].(string)
		value, _ := props["Value"].(string)
		p.ssm[name] = ssmParam{name: name, typ: typ, value: value,
			arn: "arn:aws:ssm:" + c.Region + ":" + c.namer.account + ":parameter/" + strings.TrimPrefix(name, "/")}
	}
	for _, f := range st.Functions {
		fnName := c.prefix + "-" + f.LogicalID
		role := c.prefix + "-" + f.LogicalID + "Role"
		pr := &principal{
			caller: iam.Caller{
				Function: f.LogicalID, Account: c.namer.account, Region: c.Region,
				RoleARN:    "arn:aws:iam::" + c.namer.account + ":role/" + role,
				SessionARN: "arn:aws:sts::" + c.namer.account + ":assumed-role/" + role + "/" + fnName,
			},
			// Lambda gives a function temporary credentials: an ASIA key, a secret and a
			// session token, all different on every run.
			accessKey: "ASIA" + randomString(16), secret: randomString(40), token: randomString(64),
			template: policies[f.LogicalID],
		}
		pr.policy.Store(pr.template)
		p.byKey[pr.accessKey] = pr
		p.byFn[f.LogicalID] = pr
	}

	upstream := func(s string) *url.URL {
		if s == "" {
			return nil
		}
		u, _ := url.Parse(s)
		return u
	}
	services := []service{
		{"dynamodb", "dynamodb", iam.JSON10, upstream(c.Endpoints.DynamoDB)},
		{"s3", "s3", iam.RESTXML, upstream(c.Endpoints.S3)},
		{"sqs", "sqs", iam.JSON10, upstream(c.Endpoints.SQS)},
		{"ses", "ses", iam.Query, upstream(c.Endpoints.SES)},
		{"ssm", "ssm", iam.JSON11, nil},
	}
	if c.Endpoints.KMS != "" {
		services = append(services, service{"kms", "kms", iam.JSON11, upstream(c.Endpoints.KMS)})
	}
	for _, svc := range services {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			p.close()
			return fmt.Errorf("iam proxy: %w", err)
		}
		u := "http://" + l.Addr().String()
		switch svc.name {
		case "dynamodb":
			c.FunctionEndpoints.DynamoDB = u
		case "s3":
			c.FunctionEndpoints.S3 = u
		case "sqs":
			c.FunctionEndpoints.SQS = u
		case "ses":
			c.FunctionEndpoints.SES = u
		case "kms":
			c.FunctionEndpoints.KMS = u
		case "ssm":
			c.FunctionEndpoints.SSM = u
		}
		srv := &http.Server{Handler: p.handler(svc), ReadHeaderTimeout: 10 * time.Second}
		p.servers = append(p.servers, srv)
		c.wg.Add(1)
		go func() {
			defer c.wg.Done()
			if err := srv.Serve(l); err != nil && !errors.Is(err, http.ErrServerClosed) {
				c.logf("iam proxy %s: %v", svc.name, err)
			}
		}()
	}
	c.iam = p
	return nil
}

func (p *iamProxy) close() {
	if p.stop != nil {
		p.stop()
	}
	for _, s := range p.servers {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		_ = s.Shutdown(ctx)
		cancel()
	}
	p.mu.Lock()
	p.closing = true
	p.mu.Unlock()
	p.events.Wait()
	p.transport.CloseIdleConnections()
}

// resourcePolicies reads the bucket, queue and key policies of the template. A Deny in them
// refuses as it would in AWS (their TLS-only statements never match: functions call AWS over
// HTTPS), an Allow naming a role grants, and a key policy must allow for KMS to.
func (p *iamProxy) resourcePolicies(st *samtemplate.Stack) error {
	c := p.c
	for _, id := range st.Resources("AWS::S3::BucketPolicy") {
		props := st.Properties(id)
		bucket, _ := props["Bucket"].(string)
		pol, err := iam.ParsePolicyDocument(props["PolicyDocument"], id, true)
		if err != nil {
			return err
		}
		p.buckets[bucket] = merge(p.buckets[bucket], pol)
	}
	for _, id := range st.Resources("AWS::SQS::QueuePolicy") {
		props := st.Properties(id)
		pol, err := iam.ParsePolicyDocument(props["PolicyDocument"], id, true)
		if err != nil {
			return err
		}
		queues, _ := props["Queues"].([]any)
		for _, q := range queues {
			if u, ok := q.(string); ok {
				arn := iam.QueueARN(u, c.Region, c.namer.account)
				p.queues[arn] = merge(p.queues[arn], pol)
			}
		}
	}
	for _, id := range st.Resources("AWS::SQS::Queue") {
		key, _ := st.Properties(id)["KmsMasterKeyId"].(string)
		q, ok := c.namer.queues[id]
		if key == "" || !ok || strings.HasPrefix(key, "alias/aws/") {
			// No key, or SQS's AWS managed one, whose key policy lets the account use it
			// through SQS without any IAM grant.
			continue
		}
		arn := key
		switch {
		case strings.HasPrefix(key, "alias/") || strings.Contains(key, ":alias/"):
			var ok bool
			if arn, ok = p.resolveAlias(context.Background())(key); !ok {
				return fmt.Errorf("queue %s: KmsMasterKeyId %s names no key", id, key)
			}
		case !strings.HasPrefix(key, "arn:"):
			arn = "arn:aws:kms:" + c.Region + ":" + c.namer.account + ":key/" + key
		}
		p.queueKeys[q.arn] = arn
	}
	docs, err := c.keyPolicies(st)
	if err != nil {
		return err
	}
	for arn, doc := range docs {
		pol, err := iam.ParsePolicyDocument(doc, "key policy of "+arn, true)
		if err != nil {
			return err
		}
		p.keys[arn] = pol
	}
	return nil
}

func merge(a, b *iam.Policy) *iam.Policy {
	if a == nil {
		return b
	}
	return &iam.Policy{Statements: append(slices.Clip(a.Statements), b.Statements...)}
}

func randomString(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b)[:n]
}

// decide evaluates one check for a principal and records it.
func (p *iamProxy) decide(pr *principal, svc string, c *iam.Check) iam.Decision {
	var res *iam.Policy
	required := false
	switch svc {
	case "s3":
		bucket, _, _ := strings.Cut(strings.TrimPrefix(c.Resource, "arn:aws:s3:::"), "/")
		res = p.buckets[bucket]
	case "sqs":
		res = p.queues[c.Resource]
	case "kms":
		res, required = p.keys[c.Resource]
	}
	var matched []grantRef
	d := iam.Evaluate(c, &pr.caller, pr.policy.Load(), res, required, func(st *iam.Statement, i int) {
		matched = append(matched, grantRef{st, i})
	})
	p.mu.Lock()
	p.calls = append(p.calls, IAMCall{Function: pr.caller.Function, Action: c.Action, Resource: c.Resource, Allowed: d.Allowed})
	if d.Allowed {
		for _, g := range matched {
			p.used[g] = struct{}{}
		}
	}
	p.mu.Unlock()
	return d
}

func (p *iamProxy) handler(svc service) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { p.serve(svc, w, r) })
}

func (p *iamProxy) serve(svc service, w http.ResponseWriter, r *http.Request) {
	proto := svc.proto
	if svc.name == "sqs" && r.Header.Get("X-Amz-Target") == "" {
		proto = iam.Query
	}
	head := r.Method == http.MethodHead
	fail := func(f iam.Fault) { f.Write(w, svc.name, proto, head) }

	a, failure, detail := iam.ParseAuth(r)
	if a == nil {
		fail(iam.AuthFault(svc.name, proto, failure, detail))
		return
	}
	pr := p.byKey[a.AccessKeyID]
	switch {
	case pr == nil:
		fail(iam.AuthFault(svc.name, proto, iam.UnknownKey, ""))
		return
	case a.Token != pr.token:
		fail(iam.AuthFault(svc.name, proto, iam.BadToken, ""))
		return
	case a.Region != p.c.Region:
		msg := "Credential should be scoped to a valid region."
		if svc.name == "s3" {
			msg = fmt.Sprintf("The authorization header is malformed; the region '%s' is wrong; expecting '%s'", a.Region, p.c.Region)
		}
		fail(iam.AuthFault(svc.name, proto, iam.BadScope, msg))
		return
	case a.Service != svc.signing:
		fail(iam.AuthFault(svc.name, proto, iam.BadScope, fmt.Sprintf("Credential should be scoped to correct service: '%s'. ", svc.signing)))
		return
	}
	if f, msg, ok := a.CheckTime(svc.name, time.Now()); !ok {
		fail(iam.AuthFault(svc.name, proto, f, msg))
		return
	}

	// Bodies are read whole, except S3 object uploads, which stream to the emulator while
	// their hash is checked.
	buf := bufPool.Get().(*bytes.Buffer)
	buf.Reset()
	defer func() {
		if buf.Cap() <= 1<<20 {
			bufPool.Put(buf)
		}
	}()
	var body []byte
	var payloadHash string
	var s3req *iam.S3Request
	if svc.name == "s3" {
		s3req = &iam.S3Request{Method: r.Method, Path: r.URL.Path, Query: r.URL.Query(), Header: r.Header, Presigned: a.Presigned}
		payloadHash = r.Header.Get("X-Amz-Content-Sha256")
		switch {
		case a.Presigned:
			payloadHash = iam.UnsignedPayload
		case payloadHash == "":
			fail(iam.Fault{Status: 400, Code: "InvalidRequest", Message: "Missing required header for this request: x-amz-content-sha256"})
			return
		case strings.HasPrefix(payloadHash, "STREAMING-"):
			// Streaming (aws-chunked) uploads: s3rver does not read them either; the local
			// cloud asks the SDK for plain bodies (AWS_REQUEST_CHECKSUM_CALCULATION).
			fail(iam.Fault{Status: 501, Code: "NotImplemented", Message: "The local cloud does not accept aws-chunked (" + payloadHash + ") uploads."})
			return
		}
		if r.Method == http.MethodPost {
			// DeleteObjects and multipart completion: small XML bodies, read whole.
			if !p.readBody(w, r, buf, svc, proto) {
				return
			}
			body = buf.Bytes()
			if payloadHash != iam.UnsignedPayload && sha256Hex(body) != strings.ToLower(payloadHash) {
				fail(iam.Fault{Status: 400, Code: "XAmzContentSHA256Mismatch", Message: "The provided 'x-amz-content-sha256' header does not match what was computed."})
				return
			}
		}
	} else {
		if !p.readBody(w, r, buf, svc, proto) {
			return
		}
		body = buf.Bytes()
		payloadHash = sha256Hex(body)
	}
	if !p.verifier.Verify(r, a, pr.secret, payloadHash) {
		p.c.logf("iam: refused a %s request signed with %s's key: the signature does not match", svc.name, pr.caller.Function)
		fail(iam.AuthFault(svc.name, proto, iam.BadSignature, ""))
		return
	}

	var op string
	var checks []iam.Check
	var err error
	var sesForm url.Values
	region, account := p.c.Region, p.c.namer.account
	switch svc.name {
	case "dynamodb":
		op, checks, err = iam.DynamoDBChecks(r.Header.Get("X-Amz-Target"), body, region, account)
	case "sqs":
		var form url.Values
		if proto == iam.Query {
			form = formValues(r, body)
		}
		op, checks, err = iam.SQSChecks(r.Header.Get("X-Amz-Target"), form, body, region, account)
	case "ses":
		sesForm = formValues(r, body)
		op, checks, err = iam.SESChecks(sesForm, region, account)
	case "kms":
		op, checks, err = iam.KMSChecks(r.Header.Get("X-Amz-Target"), body, region, account, p.resolveAlias(r.Context()))
	case "ssm":
		op, checks, err = iam.SSMChecks(r.Header.Get("X-Amz-Target"), body, region, account)
	case "s3":
		op, checks, err = iam.S3Checks(s3req)
		if err == nil && op == "DeleteObjects" {
			p.deleteObjects(w, r, svc, pr, s3req.Bucket(), body)
			return
		}
	}
	var reject *iam.Reject
	if errors.As(err, &reject) {
		fail(iam.RejectFault(reject, svc.name, proto))
		return
	}
	if err != nil || len(checks) == 0 {
		fail(iam.Fault{Status: 400, Code: "ValidationException", Message: "The local cloud found nothing to authorize in this request."})
		return
	}
	actions := make([]string, 0, len(checks))
	for i := range checks {
		if d := p.decide(pr, svc.name, &checks[i]); !d.Allowed {
			p.c.logf("iam: %s may not %s on %s", pr.caller.Function, checks[i].Action, checks[i].Resource)
			fail(iam.AccessDenied(svc.name, &pr.caller, &checks[i], d))
			return
		}
		actions = append(actions, checks[i].Action)
	}
	if svc.name == "sqs" {
		// An encrypted queue's KMS key must let the caller use it too.
		if key, ok := p.queueKeys[checks[0].Resource]; ok {
			for _, kc := range iam.SQSKMSChecks(op, key, region, account) {
				if d := p.decide(pr, "kms", &kc); !d.Allowed {
					p.c.logf("iam: %s may not %s on %s (for SQS %s)", pr.caller.Function, kc.Action, kc.Resource, op)
					fail(iam.SQSKMSAccessDenied(&pr.caller, &kc, d))
					return
				}
				actions = append(actions, kc.Action)
			}
		}
	}
	p.crashOn(pr, r, svc.name, op, actions...)
	if svc.name == "ssm" {
		p.answerSSM(w, op, checks)
		return
	}
	if svc.upstream == nil {
		fail(iam.Fault{Status: 503, Code: "ServiceUnavailable", Message: "no emulator runs for " + svc.name})
		return
	}
	var stream io.Reader = bytes.NewReader(body)
	if svc.name == "s3" && r.Method != http.MethodPost {
		stream = r.Body
		if isHex64(payloadHash) {
			stream = &hashCheck{r: r.Body, h: sha256.New(), want: strings.ToLower(payloadHash), left: r.ContentLength}
		}
	}
	fwd := r
	sending := svc.name == "ses" && sesSendOps[op]
	sentAt := time.Now()
	if sending {
		// A send SES has received happens, and publishes its events, even if its caller
		// stops waiting for the answer: the proxy waits for the emulator's answer (until the
		// cloud closes) whatever the caller does.
		ctx, cancel := context.WithCancel(context.WithoutCancel(r.Context()))
		defer cancel()
		defer context.AfterFunc(p.ctx, cancel)()
		fwd = r.WithContext(ctx)
	}
	resp, err := p.forward(fwd, svc, stream, payloadHash, a.Presigned)
	if err != nil {
		var mismatch *hashMismatch
		if errors.As(err, &mismatch) {
			fail(iam.Fault{Status: 400, Code: "XAmzContentSHA256Mismatch", Message: "The provided 'x-amz-content-sha256' header does not match what was computed."})
			return
		}
		if fwd.Context().Err() == nil {
			p.c.logf("iam proxy: %s %s: %v", svc.name, op, err)
		}
		fail(iam.Fault{Status: 503, Code: "ServiceUnavailable", Message: "the local emulator did not answer"})
		return
	}
	defer resp.Body.Close()
	if svc.name == "s3" && resp.StatusCode == http.StatusNotFound && (op == "GetObject" || op == "HeadObject") {
		if p.s3NotFound(w, resp, svc, pr, s3req, head) {
			return
		}
	}
	if sending && resp.StatusCode == http.StatusOK && len(p.sesRoutes) > 0 {
		if send := parseSESSend(op, sesForm, region, account); len(p.sesRoutes[send.configSet]) > 0 {
			p.answerSend(w, resp, send, sentAt, r.RemoteAddr)
			return
		}
	}
	copyResponse(w, resp)
}

// answerSend answers a send SES accepted and then publishes its Send event: SES publishes
// events after it has accepted the message, and they arrive later than its answer.
func (p *iamProxy) answerSend(w http.ResponseWriter, resp *http.Response, send *sesSend, at time.Time, remote string) {
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	for k, v := range resp.Header {
		if !hopHeaders[k] {
			w.Header()[k] = v
		}
	}
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(resp.StatusCode)
	_, _ = w.Write(body)
	if f, ok := w.(http.Flusher); ok {
		f.Flush()
	}
	id := sesMessageID(body)
	if err != nil || id == "" {
		p.c.logf("ses events: the emulator's answer to a send has no MessageId; no event is published")
		return
	}
	ip, _, _ := net.SplitHostPort(remote)
	p.publishSESSend(send, id, at, ip)
}

func (p *iamProxy) readBody(w http.ResponseWriter, r *http.Request, buf *bytes.Buffer, svc service, proto iam.Protocol) bool {
	if _, err := buf.ReadFrom(io.LimitReader(r.Body, maxBody+1)); err != nil {
		iam.Fault{Status: 400, Code: "IncompleteBody", Message: "The request body could not be read."}.Write(w, svc.name, proto, false)
		return false
	}
	if buf.Len() > maxBody {
		iam.Fault{Status: 413, Code: "RequestEntityTooLarge", Message: "The request body is too large."}.Write(w, svc.name, proto, false)
		return false
	}
	return true
}

// forward sends the request on to the emulator, re-signed with the emulators' credentials.
// A presigned request goes on with header authentication, its own query parameters left out.
// Re-signing is not a formality: DynamoDB Local keeps one database per access key ID (each
// function's own key would see an empty one), and s3rver refuses any key but S3RVER, though
// it checks no SigV4 signature itself (only the key, the request time and a presigned URL's
// expiry), so the signature checks above are the only ones.
func (p *iamProxy) forward(r *http.Request, svc service, body io.Reader, payloadHash string, presigned bool) (*http.Response, error) {
	u := *svc.upstream
	u.Path, u.RawPath = r.URL.Path, r.URL.RawPath
	u.RawQuery = r.URL.RawQuery
	if presigned {
		q := r.URL.Query()
		for k := range q {
			if strings.HasPrefix(k, "X-Amz-") {
				q.Del(k)
			}
		}
		u.RawQuery = q.Encode()
	}
	out := &http.Request{
		Method: r.Method, URL: &u, Host: u.Host, Header: make(http.Header, len(r.Header)),
		ContentLength: r.ContentLength, Body: io.NopCloser(body),
	}
	if r.ContentLength == 0 {
		out.Body = http.NoBody
	}
	for k, v := range r.Header {
		switch k {
		case "Authorization", "X-Amz-Security-Token", "X-Amz-Date", "Connection", "Keep-Alive",
			"Proxy-Connection", "Te", "Trailer", "Transfer-Encoding", "Upgrade", "X-Amz-Content-Sha256":
			continue
		}
		out.Header[k] = v
	}
	if svc.name == "s3" {
		if presigned && payloadHash == iam.UnsignedPayload && r.ContentLength <= 0 {
			payloadHash = iam.EmptyPayload
		}
		out.Header.Set("X-Amz-Content-Sha256", payloadHash)
	}
	if err := p.verifier.Sign(out, p.admin, payloadHash, svc.signing, p.c.Region); err != nil {
		return nil, err
	}
	return p.transport.RoundTrip(out.WithContext(r.Context()))
}

var hopHeaders = map[string]bool{
	"Connection": true, "Keep-Alive": true, "Proxy-Connection": true, "Te": true, "Trailer": true,
	"Transfer-Encoding": true, "Upgrade": true,
}

var copyBufPool = sync.Pool{New: func() any { b := make([]byte, 32<<10); return &b }}

func copyResponse(w http.ResponseWriter, resp *http.Response) {
	h := w.Header()
	for k, v := range resp.Header {
		if !hopHeaders[k] {
			h[k] = v
		}
	}
	w.WriteHeader(resp.StatusCode)
	b := copyBufPool.Get().(*[]byte)
	_, _ = io.CopyBuffer(w, resp.Body, *b)
	copyBufPool.Put(b)
}

// s3NotFound answers a missing object as S3 does for a caller without s3:ListBucket on the
// bucket: 403 AccessDenied, not 404 NoSuchKey, so that the caller learns nothing about which
// keys exist. It reports whether it answered.
func (p *iamProxy) s3NotFound(w http.ResponseWriter, resp *http.Response, svc service, pr *principal, r *iam.S3Request, head bool) bool {
	peek, _ := io.ReadAll(io.LimitReader(resp.Body, 8<<10))
	if !head && !bytes.Contains(peek, []byte("<Code>NoSuchKey</Code>")) {
		resp.Body = io.NopCloser(bytes.NewReader(peek))
		return false
	}
	list := iam.Check{Action: "s3:ListBucket", Resource: "arn:aws:s3:::" + r.Bucket()}
	if p.decide(pr, svc.name, &list).Allowed {
		resp.Body = io.NopCloser(bytes.NewReader(peek))
		return false
	}
	iam.Fault{Status: 403, Code: "AccessDenied", Message: "Access Denied"}.Write(w, svc.name, svc.proto, head)
	return true
}

// deleteObjects authorizes a DeleteObjects request key by key, as S3 does: refused keys are
// reported as AccessDenied errors in the result, and the emulator deletes only the others.
func (p *iamProxy) deleteObjects(w http.ResponseWriter, r *http.Request, svc service, pr *principal, bucket string, body []byte) {
	d, checks, err := iam.S3DeleteObjectsChecks(bucket, body)
	if err != nil {
		var reject *iam.Reject
		errors.As(err, &reject)
		iam.RejectFault(reject, svc.name, svc.proto).Write(w, svc.name, svc.proto, false)
		return
	}
	var allowed, denied []iam.S3DeleteObject
	for i := range checks {
		if p.decide(pr, svc.name, &checks[i]).Allowed {
			allowed = append(allowed, d.Objects[i])
		} else {
			denied = append(denied, d.Objects[i])
		}
	}
	var errs bytes.Buffer
	for _, o := range denied {
		fmt.Fprintf(&errs, "<Error><Key>%s</Key>", html.EscapeString(o.Key))
		if o.VersionID != "" {
			fmt.Fprintf(&errs, "<VersionId>%s</VersionId>", html.EscapeString(o.VersionID))
		}
		errs.WriteString("<Code>AccessDenied</Code><Message>Access Denied</Message></Error>")
	}
	if len(allowed) > 0 {
		p.crashOn(pr, r, svc.name, "DeleteObjects", "s3:DeleteObject")
	}
	if len(allowed) == 0 {
		out := `<?xml version="1.0" encoding="UTF-8"?>` + "\n" + `<DeleteResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">` + errs.String() + `</DeleteResult>`
		w.Header().Set("Content-Type", "application/xml")
		_, _ = io.WriteString(w, out)
		return
	}
	fwd := r
	if len(denied) > 0 {
		rest := iam.S3DeleteObjectsBody{Objects: allowed, Quiet: d.Quiet}
		nb, _ := xml.Marshal(rest)
		body = nb
		fwd = r.Clone(r.Context())
		fwd.ContentLength = int64(len(body))
		fwd.Header.Set("Content-Length", fmt.Sprint(len(body)))
		rechecksum(fwd.Header, body)
	}
	resp, err := p.forward(fwd, svc, bytes.NewReader(body), sha256Hex(body), false)
	if err != nil {
		iam.Fault{Status: 503, Code: "ServiceUnavailable", Message: "the local emulator did not answer"}.Write(w, svc.name, svc.proto, false)
		return
	}
	defer resp.Body.Close()
	if len(denied) == 0 || resp.StatusCode != http.StatusOK {
		copyResponse(w, resp)
		return
	}
	result, _ := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	if i := bytes.LastIndex(result, []byte("</DeleteResult>")); i >= 0 {
		result = append(result[:i:i], append(errs.Bytes(), result[i:]...)...)
	}
	for k, v := range resp.Header {
		if !hopHeaders[k] && k != "Content-Length" {
			w.Header()[k] = v
		}
	}
	w.WriteHeader(resp.StatusCode)
	_, _ = w.Write(result)
}

// rechecksum recomputes the integrity header a rewritten body carries.
func rechecksum(h http.Header, body []byte) {
	sum := func(hh hash.Hash) string { hh.Write(body); return base64.StdEncoding.EncodeToString(hh.Sum(nil)) }
	if h.Get("Content-Md5") != "" {
		h.Set("Content-Md5", sum(md5.New()))
	}
	for k, f := range map[string]func() hash.Hash{
		"X-Amz-Checksum-Crc32":  func() hash.Hash { return crc32.NewIEEE() },
		"X-Amz-Checksum-Crc32c": func() hash.Hash { return crc32.New(crc32.MakeTable(crc32.Castagnoli)) },
		"X-Amz-Checksum-Sha1":   sha1.New,
		"X-Amz-Checksum-Sha256": sha256.New,
	} {
		if h.Get(k) != "" {
			h.Set(k, sum(f()))
		}
	}
}

// resolveAlias finds the key an alias points to, asking local-kms with the cloud's own
// credentials.
func (p *iamProxy) resolveAlias(ctx context.Context) iam.KeyResolver {
	return func(alias string) (string, bool) {
		if p.c.KMS == nil {
			return "", false
		}
		out, err := p.c.KMS.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: &alias})
		if err != nil || out.KeyMetadata == nil || out.KeyMetadata.Arn == nil {
			return "", false
		}
		return *out.KeyMetadata.Arn, true
	}
}

// answerSSM serves parameter reads from the template's AWS::SSM::Parameter resources: there
// is no SSM emulator, and the portal reads no parameter it does not declare.
func (p *iamProxy) answerSSM(w http.ResponseWriter, op string, checks []iam.Check) {
	param := func(arn string) (map[string]any, bool) {
		for _, sp := range p.ssm {
			if sp.arn == arn {
				return map[string]any{"ARN": sp.arn, "DataType": "text", "Name": sp.name, "Type": sp.typ,
					"Value": sp.value, "Version": 1, "LastModifiedDate": float64(time.Now().Unix())}, true
			}
		}
		return nil, false
	}
	var out any
	switch op {
	case "GetParameter":
		v, ok := param(checks[0].Resource)
		if !ok {
			iam.Fault{Status: 400, Code: "ParameterNotFound", Message: ""}.Write(w, "ssm", iam.JSON11, false)
			return
		}
		out = map[string]any{"Parameter": v}
	case "GetParameters":
		found, invalid := []any{}, []string{}
		for _, c := range checks {
			if v, ok := param(c.Resource); ok {
				found = append(found, v)
			} else {
				invalid = append(invalid, c.Resource[strings.Index(c.Resource, ":parameter/")+len(":parameter"):])
			}
		}
		out = map[string]any{"Parameters": found, "InvalidParameters": invalid}
	default:
		iam.Fault{Status: 400, Code: "UnknownOperationException", Message: "the local cloud answers only GetParameter and GetParameters"}.Write(w, "ssm", iam.JSON11, false)
		return
	}
	b, _ := json.Marshal(out)
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	_, _ = w.Write(b)
}

func formValues(r *http.Request, body []byte) url.Values {
	form, _ := url.ParseQuery(string(body))
	for k, v := range r.URL.Query() {
		if _, ok := form[k]; !ok {
			form[k] = v
		}
	}
	return form
}

func sha256Hex(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

func isHex64(s string) bool {
	if len(s) != 64 {
		return false
	}
	_, err := hex.DecodeString(s)
	return err == nil
}

type hashMismatch struct{}

func (*hashMismatch) Error() string { return "x-amz-content-sha256 does not match the body" }

// hashCheck streams a body through and fails if the body's SHA-256 is not the one its
// signature covered. The read that completes the body is checked before its bytes are passed
// on, so the emulator never receives a whole tampered upload (a body cut short, or a chunked
// one without its last chunk, is an aborted request to it).
type hashCheck struct {
	r    io.Reader
	h    hash.Hash
	want string
	// left is what remains of a body of known length; -1 when the length is unknown.
	left int64
}

func (c *hashCheck) Read(b []byte) (int, error) {
	n, err := c.r.Read(b)
	c.h.Write(b[:n])
	if c.left >= 0 {
		c.left -= int64(n)
	}
	if c.left == 0 || err == io.EOF {
		if hex.EncodeToString(c.h.Sum(nil)) != c.want {
			return 0, &hashMismatch{}
		}
		if c.left == 0 && err == nil {
			err = io.EOF
		}
	}
	return n, err
}

// IAMCalls returns every authorization the IAM proxy has checked so far, in order.
func (c *Cloud) IAMCalls() []IAMCall {
	if c.iam == nil {
		return nil
	}
	c.iam.mu.Lock()
	defer c.iam.mu.Unlock()
	return slices.Clone(c.iam.calls)
}

// UnusedGrants lists, per function, the actions its policy allows that no call has used so
// far (a call the policy allowed through that action pattern): a test that has exercised a
// function fully can assert its policy grants nothing more. Functions whose grants were all
// used are left out.
func (c *Cloud) UnusedGrants() map[string][]Grant {
	out := map[string][]Grant{}
	if c.iam == nil {
		return out
	}
	c.iam.mu.Lock()
	defer c.iam.mu.Unlock()
	for fn, pr := range c.iam.byFn {
		unused := pr.policy.Load().Unused(func(st *iam.Statement, i int) bool {
			_, ok := c.iam.used[grantRef{st, i}]
			return ok
		})
		if len(unused) > 0 {
			out[fn] = unused
		}
	}
	return out
}

// logUnusedGrants writes what UnusedGrants reports to the log when the cloud stops: after a
// full test run, a grant listed there is one no test exercised.
func (c *Cloud) logUnusedGrants() {
	unused := c.UnusedGrants()
	fns := make([]string, 0, len(unused))
	for fn := range unused {
		fns = append(fns, fn)
	}
	slices.Sort(fns)
	for _, fn := range fns {
		for _, g := range unused[fn] {
			c.logf("iam: %s never used %s on %s (%s)", fn, g.Action, strings.Join(g.Resources, ", "), g.Source)
		}
	}
}

// SetPolicy makes a function run under other policies from now on, for tests (e.g. to show
// that an older policy would be refused a call). policies is JSON: one policy document, or a
// list as in a function's Policies (documents and SAM policy templates), with every ARN
// written out. The function's credentials stay the same.
func (c *Cloud) SetPolicy(function, policies string) error {
	pr, err := c.principal(function)
	if err != nil {
		return err
	}
	var v any
	if err := json.Unmarshal([]byte(policies), &v); err != nil {
		return fmt.Errorf("SetPolicy %s: %w", function, err)
	}
	if m, ok := v.(map[string]any); ok {
		if _, doc := m["Statement"]; doc {
			v = []any{m}
		}
	}
	pol, err := iam.ParseFunctionPolicies(v, c.Region, c.namer.account)
	if err != nil {
		return fmt.Errorf("SetPolicy %s: %w", function, err)
	}
	pr.policy.Store(pol)
	return nil
}

// ResetPolicy gives a function its policies from the template back.
func (c *Cloud) ResetPolicy(function string) error {
	pr, err := c.principal(function)
	if err != nil {
		return err
	}
	pr.policy.Store(pr.template)
	return nil
}

func (c *Cloud) principal(function string) (*principal, error) {
	if c.iam == nil {
		return nil, fmt.Errorf("the IAM proxy is not running")
	}
	pr, ok := c.iam.byFn[function]
	if !ok {
		return nil, fmt.Errorf("no function %q in the template", function)
	}
	return pr, nil
}

// ARN returns the ARN CloudFormation would give a resource of the template (Fn::GetAtt
// <id>.Arn), for policies written in tests.
func (c *Cloud) ARN(logicalID string) string {
	typ := ""
	if r, ok := c.Stack.Raw["Resources"].(map[string]any)[logicalID].(map[string]any); ok {
		typ, _ = r["Type"].(string)
	}
	return c.namer.Attr(logicalID, typ, "Arn")
}
