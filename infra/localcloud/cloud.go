// Package localcloud runs the whole portal on one machine from template.yaml: it starts the
// AWS emulators, creates the tables, queues, buckets and KMS keys the template declares,
// builds every function and runs it under the Lambda Runtime Interface Emulator, serves the
// built site, routes /api/* to functions as REST API proxy events, feeds SQS events to their
// functions, and fires scheduled functions. Each function calls AWS with its own credentials
// through an IAM proxy that enforces the function's policies from the template as AWS would
// (see iamproxy.go and package iam). Everything binds to free loopback ports, and Close stops
// every process it started.
package localcloud

import (
	"cmp"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/ses"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/privacyportal/portal/infra/samtemplate"
	"github.com/privacyportal/portal/site"
)

// Config says how to run the local cloud.
type Config struct {
	// Root is the repository root (template.yaml, Makefile, site/, infra/).
	Root string
	// Template is the SAM template; "" means Root/template.yaml.
	Template string
	// FunctionsDirs are where function packages are looked up, relative to Root; nil means
	// just "functions".
	FunctionsDirs []string
	// Addr is the portal's listen address; "" means 127.0.0.1 on a free port.
	Addr string
	// Params override template parameters.
	Params map[string]string
	// Prefix starts every resource name; "" means "portal".
	Prefix string
	// Instances is the number of RIE instances per function (concurrent invokes); 0 means 2.
	Instances int
	// Logs receives emulator and function output, one prefixed line at a time; nil discards it.
	Logs io.Writer
	// Version is stamped into the functions; "" lets the Makefile decide.
	Version string
	// FunctionEnv adds variables to every function's environment.
	FunctionEnv map[string]string
	// RunSchedules fires rate() schedules on their interval (for make dev).
	RunSchedules bool
}

// Cloud is a running local cloud.
type Cloud struct {
	// URL is the portal: the site and /api/* on one origin, as CloudFront serves them.
	URL string
	// MailboxURL is the SES emulator's web page of sent mail.
	MailboxURL string
	// Endpoints are the emulators', for the cloud's own clients (admin credentials).
	Endpoints Endpoints
	// FunctionEndpoints are the IAM proxy's, which the functions call: every call there is
	// authenticated with a function's credentials and checked against its policies.
	FunctionEndpoints Endpoints
	Region            string
	Stack             *samtemplate.Stack
	// Names maps logical IDs to local physical names (queue URLs for queues).
	Names map[string]string
	// SiteDir is the built site.
	SiteDir string

	AWS      aws.Config
	DynamoDB *dynamodb.Client
	S3       *s3.Client
	SQS      *sqs.Client
	SES      *ses.Client
	// KMS is set when the template declares a KMS key.
	KMS *kms.Client

	cfg         Config
	tmp         string
	localSecret string
	prefix      string
	stage       string
	namer       *namer
	rie         string
	functions   map[string]*function
	needKMS     bool
	sqsBusy     atomic.Int64 // SQS batches being handled by their functions
	// compressSite: the site is served gzipped to clients that accept it (Compress: true).
	compressSite bool
	iam          *iamProxy
	routes       []route
	secHeaders   map[string]string
	// apiOriginHeaders are what CloudFront adds to API requests (template OriginCustomHeaders).
	apiOriginHeaders map[string]string
	invokeClient     *http.Client
	server           *http.Server
	cancel           context.CancelFunc
	closed           chan struct{}
	wg               sync.WaitGroup

	mu        sync.Mutex
	emulators []*proc
	instances []*proc
	closeOnce sync.Once

	pauseMu sync.Mutex
	resumes map[string]*time.Timer // PauseEmulator's pending resumes, by emulator name
}

// Start brings the local cloud up. On error, everything already started is stopped.
func Start(ctx context.Context, cfg Config) (_ *Cloud, err error) {
	if cfg.Instances == 0 {
		cfg.Instances = 2
	}
	if cfg.Addr == "" {
		cfg.Addr = "127.0.0.1:0"
	}
	c, first, err := prepare(ctx, cfg, "portal")
	if err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			c.Close()
		}
	}()
	runCtx, cancel := context.WithCancel(context.Background())
	c.cancel = cancel
	c.invokeClient = &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 4}}
	c.localSecret = privacyKey()
	c.stage = first.Params["Stage"]
	cfg = c.cfg
	opts := samtemplate.Options{Region: c.Region, AccountID: c.namer.account, StackName: cfg.Prefix, Params: cfg.Params, Namer: c.namer}

	// The slow, independent parts run side by side: emulators, site build, function builds.
	c.SiteDir = filepath.Join(c.tmp, "site")
	var siteErr, buildErr error
	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		siteErr = site.Build(ctx, filepath.Join(cfg.Root, "site"), c.SiteDir, siteParams(first.Params))
	}()
	go func() {
		defer wg.Done()
		buildErr = c.buildFunctions(ctx, first)
	}()
	emuErr := c.startEmulators(ctx)
	wg.Wait()
	if err := errors.Join(emuErr, siteErr, buildErr); err != nil {
		return nil, err
	}
	c.MailboxURL = c.Endpoints.SES
	c.clients()

	if err := c.createTables(ctx, first); err != nil {
		return nil, err
	}
	if err := c.createQueues(ctx, first.Resources("AWS::SQS::Queue")); err != nil {
		return nil, err
	}
	if c.KMS != nil {
		if err := c.createKeys(ctx, first); err != nil {
			return nil, err
		}
	}
	// Resolve again now that queues and keys have URLs, IDs and ARNs.
	st, err := samtemplate.Load(cfg.Template, opts)
	if err != nil {
		return nil, err
	}
	if c.KMS != nil {
		aliases, err := c.createAliases(ctx, st)
		if err != nil {
			return nil, err
		}
		if aliases {
			// Once more, for Ref on an alias (its name).
			if st, err = samtemplate.Load(cfg.Template, opts); err != nil {
				return nil, err
			}
		}
	}
	c.Stack = st
	for _, f := range st.Functions {
		c.functions[f.LogicalID].def = f
	}
	if err := c.configureQueues(ctx, st); err != nil {
		return nil, err
	}
	if err := c.createBuckets(ctx, st); err != nil {
		return nil, err
	}
	c.nameUnemulated(st)
	// The portal's address comes first: the deploy steps write it where the functions read it.
	l, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return nil, fmt.Errorf("portal address: %w", err)
	}
	c.URL = "http://" + l.Addr().String()
	if err := c.deploySteps(ctx); err != nil {
		l.Close()
		return nil, err
	}
	if err := c.startIAMProxy(st); err != nil {
		l.Close()
		return nil, err
	}
	if err := c.startFunctions(ctx); err != nil {
		l.Close()
		return nil, err
	}
	c.routes = routesFrom(st)
	c.secHeaders = securityHeaders(st)
	c.compressSite = siteCompresses(st)
	c.apiOriginHeaders = c.originHeaders(st)
	c.server = &http.Server{Handler: c.gatewayHandler(), ReadHeaderTimeout: 10 * time.Second}
	c.wg.Add(1)
	go func() {
		defer c.wg.Done()
		if err := c.server.Serve(l); err != nil && !errors.Is(err, http.ErrServerClosed) {
			c.logf("gateway: %v", err)
		}
	}()

	sources, err := c.sqsSources()
	if err != nil {
		return nil, err
	}
	for _, src := range sources {
		for range src.pollers {
			c.wg.Go(func() { c.pollSQS(runCtx, src) })
		}
	}
	if cfg.RunSchedules {
		c.runSchedules(runCtx)
	}
	return c, nil
}

// StartServices starts only the named emulators ("dynamodb", "ses", "sqs", "s3", "kms"), for
// tests of one adapter that need no functions or site. With "dynamodb", the template's tables
// are created in it; with "kms", its keys. There is no IAM proxy: the clients are the cloud's.
func StartServices(ctx context.Context, cfg Config, services ...string) (_ *Cloud, err error) {
	c, st, err := prepare(ctx, cfg, "svc")
	if err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			c.Close()
		}
	}()
	c.Stack = st
	if err := c.startEmulators(ctx, services...); err != nil {
		return nil, err
	}
	c.MailboxURL = c.Endpoints.SES
	c.clients()
	if slices.Contains(services, "dynamodb") {
		if err := c.createTables(ctx, st); err != nil {
			return nil, err
		}
	}
	if c.KMS != nil {
		if err := c.createKeys(ctx, st); err != nil {
			return nil, err
		}
	}
	return c, nil
}

// prepare is what Start and StartServices share: defaults, a temporary directory, the
// template resolved for its parameters (the home region is the local region, so the
// template's HomeRegionOnly rule holds here as it must in AWS), and the pinned emulators
// installed. On error nothing is left behind.
func prepare(ctx context.Context, cfg Config, prefix string) (*Cloud, *samtemplate.Stack, error) {
	if cfg.Prefix == "" {
		cfg.Prefix = prefix
	}
	if cfg.Template == "" {
		cfg.Template = filepath.Join(cfg.Root, "template.yaml")
	}
	st, err := samtemplate.Load(cfg.Template, samtemplate.Options{Params: cfg.Params})
	if err != nil {
		return nil, nil, err
	}
	// Policies the IAM proxy cannot evaluate stop the cloud here, before anything is built.
	if _, err := parsePolicies(st, "us-east-1", "000000000000"); err != nil {
		return nil, nil, err
	}
	if err := EnsureNodeModules(ctx, filepath.Join(cfg.Root, "infra")); err != nil {
		return nil, nil, fmt.Errorf("install emulators: %w", err)
	}
	tmp, err := os.MkdirTemp("", "localcloud-")
	if err != nil {
		return nil, nil, err
	}
	c := &Cloud{
		cfg: cfg, tmp: tmp, prefix: cfg.Prefix, Names: map[string]string{}, functions: map[string]*function{},
		cancel: func() {}, closed: make(chan struct{}), resumes: map[string]*time.Timer{}, Region: cmp.Or(st.Params["HomeRegion"], "us-east-1"),
	}
	c.namer = &namer{prefix: cfg.Prefix, region: c.Region, account: "000000000000", queues: map[string]queueInfo{},
		keys: map[string]keyInfo{}, aliases: map[string]string{}}
	c.needKMS = len(st.Resources("AWS::KMS::Key")) > 0
	return c, st, nil
}

func siteParams(p map[string]string) site.Params {
	n := func(k string) int {
		v, _ := strconv.Atoi(p[k])
		return v
	}
	return site.Params{
		OperatorName:    p["OperatorName"],
		OperatorContact: p["OperatorContact"],
		OfficerContact:  p["ProtectionOfficerContact"],
		HomeRegion:      p["HomeRegion"],
		CodeMinutes:     n("VerificationCodeMinutes"),
		SessionHours:    n("SessionHours"),
		ExportDays:      n("ExportRetentionDays"),
		PendingDays:     n("PendingAccountDays"),
		BackupDays:      n("BackupDays"),
	}
}

// clients builds SDK clients for the emulators, with the timeouts and options they need.
func (c *Cloud) clients() {
	c.AWS = aws.Config{
		Region:      c.Region,
		Credentials: credentials.NewStaticCredentialsProvider(AccessKeyID, SecretAccessKey, ""),
		HTTPClient:  &http.Client{Timeout: 15 * time.Second},
		// s3rver rejects the SDK's default streaming checksums; see functionEnv.
		RequestChecksumCalculation: aws.RequestChecksumCalculationWhenRequired,
		ResponseChecksumValidation: aws.ResponseChecksumValidationWhenRequired,
	}
	c.DynamoDB = dynamodb.NewFromConfig(c.AWS, func(o *dynamodb.Options) {
		o.BaseEndpoint = aws.String(c.Endpoints.DynamoDB)
		// DynamoDB Local's error responses carry no CRC32; the SDK would log a warning for each.
		o.DisableValidateResponseChecksum = true
	})
	c.S3 = s3.NewFromConfig(c.AWS, func(o *s3.Options) {
		o.BaseEndpoint = aws.String(c.Endpoints.S3)
		o.UsePathStyle = true
	})
	c.SQS = sqs.NewFromConfig(c.AWS, func(o *sqs.Options) { o.BaseEndpoint = aws.String(c.Endpoints.SQS) })
	c.SES = ses.NewFromConfig(c.AWS, func(o *ses.Options) { o.BaseEndpoint = aws.String(c.Endpoints.SES) })
	if c.Endpoints.KMS != "" {
		c.KMS = kms.NewFromConfig(c.AWS, func(o *kms.Options) { o.BaseEndpoint = aws.String(c.Endpoints.KMS) })
	}
}

func (c *Cloud) logf(format string, args ...any) {
	if c.cfg.Logs == nil {
		return
	}
	logMu.Lock()
	defer logMu.Unlock()
	fmt.Fprintf(c.cfg.Logs, "[localcloud] "+format+"\n", args...)
}

// debugf logs a line at debug level, marked "debug:": what the local cloud does on its own
// that is worth following but not worth attention (e.g. each SES event it publishes).
func (c *Cloud) debugf(format string, args ...any) {
	c.logf("debug: "+format, args...)
}

// Close stops the gateway, the pollers, every function instance and every emulator, and
// removes the cloud's temporary files. It is safe to call more than once.
func (c *Cloud) Close() error {
	c.closeOnce.Do(func() {
		close(c.closed)
		c.cancel()
		if c.server != nil {
			ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
			_ = c.server.Shutdown(ctx)
			cancel()
		}
		if c.iam != nil {
			c.iam.close()
			c.logUnusedGrants()
		}
		c.wg.Wait()
		c.mu.Lock()
		procs := append(append([]*proc{}, c.instances...), c.emulators...)
		c.mu.Unlock()
		c.pauseMu.Lock()
		for _, t := range c.resumes {
			t.Stop() // proc.stop continues a paused emulator itself
		}
		c.pauseMu.Unlock()
		var wg sync.WaitGroup
		for _, p := range procs {
			wg.Add(1)
			go func() {
				defer wg.Done()
				p.stop(3 * time.Second)
			}()
		}
		wg.Wait()
		_ = os.RemoveAll(c.tmp)
	})
	return nil
}

// PIDs returns the process IDs of every emulator and function instance the cloud started,
// and of everything those started (function runtimes, the JVM's helpers).
func (c *Cloud) PIDs() []int {
	c.mu.Lock()
	defer c.mu.Unlock()
	var pids []int
	for _, p := range append(append([]*proc{}, c.emulators...), c.instances...) {
		pids = append(pids, p.cmd.Process.Pid)
		pids = append(pids, descendants(p.cmd.Process.Pid)...)
	}
	return pids
}

// privacyKey makes the local stand-in for secrets the template has CloudFormation generate
// and resolve ({{resolve:secretsmanager:...}}): random per run, like a fresh stack.
func privacyKey() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
