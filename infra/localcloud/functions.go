package localcloud

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/privacyportal/portal/infra/samtemplate"
)

// function is one template function running locally as a pool of RIE instances.
type function struct {
	id        string
	def       samtemplate.Function
	pool      chan *instance
	timeout   time.Duration
	bootstrap string
	// reserved holds one token per invoke running, when the template sets the function's
	// ReservedConcurrentExecutions (its capacity); nil when it does not. See Invoke.
	reserved chan struct{}

	mu sync.Mutex
	// insts are the function's live instances, true while one serves an invoke: where CrashOn
	// looks for the instance that made a call.
	insts map[*instance]bool
}

// instance is one aws-lambda-rie process running one bootstrap. RIE crashes (nil-pointer
// SIGSEGV) when a second invoke reaches it while one is running, so an instance serves one
// invoke at a time: it is taken from the pool for the invoke and put back after.
type instance struct {
	proc  *proc
	url   string
	index int // its place in the pool, kept by its replacements (the log prefix)
	// killed is set by CrashOn before it kills the instance: its invoke failed as a crashed
	// runtime's, and it is replaced however far its process has got in exiting.
	killed atomic.Bool
}

// dead reports whether the instance can serve no more invokes and must be replaced.
func (i *instance) dead() bool { return i.killed.Load() || i.proc.exited() }

func (fn *function) setBusy(inst *instance, busy bool) {
	fn.mu.Lock()
	defer fn.mu.Unlock()
	if _, ok := fn.insts[inst]; ok {
		fn.insts[inst] = busy
	}
}

// BuildRIE builds the pinned Lambda Runtime Interface Emulator into dir.
func BuildRIE(ctx context.Context, root, dir string) (string, error) {
	bin := filepath.Join(dir, "aws-lambda-rie")
	err := run(ctx, filepath.Join(root, "infra", "tools"), environ("CGO_ENABLED=0"),
		"go", "build", "-o", bin, "github.com/aws/aws-lambda-runtime-interface-emulator/cmd/aws-lambda-rie")
	return bin, err
}

// BuildFunction builds one function's bootstrap for this machine's architecture with the same
// Makefile target `sam build` uses (the deploy builds arm64; here it runs on the host).
func BuildFunction(ctx context.Context, root string, functionsDirs []string, logicalID, outDir, version string) (string, error) {
	args := []string{"make", "-s", "--no-print-directory", "-C", root, "build-" + logicalID,
		"ARTIFACTS_DIR=" + outDir, "LAMBDA_GOARCH=" + runtime.GOARCH}
	if len(functionsDirs) > 0 {
		args = append(args, "FUNCTIONS_DIRS="+strings.Join(functionsDirs, " "))
	}
	if version != "" {
		args = append(args, "VERSION="+version)
	}
	if err := run(ctx, root, environ(), args...); err != nil {
		return "", err
	}
	return filepath.Join(outDir, "bootstrap"), nil
}

func (c *Cloud) buildFunctions(ctx context.Context, st *samtemplate.Stack) error {
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(max(1, runtime.NumCPU()))
	g.Go(func() error {
		var err error
		c.rie, err = BuildRIE(gctx, c.cfg.Root, filepath.Join(c.tmp, "bin"))
		return err
	})
	for _, f := range st.Functions {
		fn := &function{id: f.LogicalID, def: f, timeout: 10 * time.Second}
		if f.Properties.Timeout != nil {
			fn.timeout = time.Duration(*f.Properties.Timeout) * time.Second
		}
		c.functions[f.LogicalID] = fn
		g.Go(func() error {
			var err error
			fn.bootstrap, err = BuildFunction(gctx, c.cfg.Root, c.cfg.FunctionsDirs, f.LogicalID, filepath.Join(c.tmp, "functions", f.LogicalID), c.cfg.Version)
			return err
		})
	}
	return g.Wait()
}

// RuntimeEnv is the environment a function's process gets locally, as Lambda would give it:
// the runtime's own variables, region and credentials, endpoints, and the template's
// variables (with LocalValue's stand-ins for what CloudFormation resolves at deploy).
type RuntimeEnv struct {
	Function samtemplate.Function
	Name     string // AWS_LAMBDA_FUNCTION_NAME
	Region   string
	Home     string
	// Credentials are the function's own (its role session's, as Lambda gives them); empty
	// means the emulators' dummy pair, for a function run with no IAM proxy in front.
	AccessKeyID, SecretAccessKey, SessionToken string
	// Endpoints go in the SDK's AWS_ENDPOINT_URL_<SERVICE> variables; All, when set, is
	// AWS_ENDPOINT_URL for every service instead.
	Endpoints Endpoints
	All       string
	Secret    string
	Extra     map[string]string
}

// Environ returns the variables, later ones winning.
func (r RuntimeEnv) Environ() []string {
	timeout, memory := 10, 128 // the template's Globals when the function sets none
	if t := r.Function.Properties.Timeout; t != nil {
		timeout = *t
	}
	if m := r.Function.Properties.MemorySize; m != nil {
		memory = *m
	}
	env := []string{
		"PATH=" + os.Getenv("PATH"),
		"HOME=" + r.Home,
		"TZ=UTC",
		// RIE does not set AWS_REGION; the SDK needs it.
		"AWS_REGION=" + r.Region,
		"AWS_DEFAULT_REGION=" + r.Region,
		"AWS_ACCESS_KEY_ID=" + cmp.Or(r.AccessKeyID, AccessKeyID),
		"AWS_SECRET_ACCESS_KEY=" + cmp.Or(r.SecretAccessKey, SecretAccessKey),
		"S3_FORCE_PATH_STYLE=true",
		// s3rver does not understand the SDK's default streaming checksums (aws-chunked
		// trailers); ask for checksums only where an API requires them.
		"AWS_REQUEST_CHECKSUM_CALCULATION=when_required",
		"AWS_RESPONSE_CHECKSUM_VALIDATION=when_required",
		"AWS_EC2_METADATA_DISABLED=true",
		"AWS_LAMBDA_FUNCTION_NAME=" + r.Name,
		"AWS_LAMBDA_FUNCTION_TIMEOUT=" + strconv.Itoa(timeout),
		"AWS_LAMBDA_FUNCTION_MEMORY_SIZE=" + strconv.Itoa(memory),
		"LOCAL_CLOUD=true",
	}
	if r.SessionToken != "" {
		env = append(env, "AWS_SESSION_TOKEN="+r.SessionToken)
	}
	if r.All != "" {
		env = append(env, "AWS_ENDPOINT_URL="+r.All)
	} else {
		env = append(env,
			"AWS_ENDPOINT_URL_DYNAMODB="+r.Endpoints.DynamoDB,
			"AWS_ENDPOINT_URL_S3="+r.Endpoints.S3,
			"AWS_ENDPOINT_URL_SQS="+r.Endpoints.SQS,
			"AWS_ENDPOINT_URL_SES="+r.Endpoints.SES,
		)
		for k, v := range map[string]string{"AWS_ENDPOINT_URL_KMS": r.Endpoints.KMS, "AWS_ENDPOINT_URL_SSM": r.Endpoints.SSM} {
			if v != "" {
				env = append(env, k+"="+v)
			}
		}
	}
	for k, v := range r.Function.Env {
		env = append(env, k+"="+LocalValue(v, r.Secret))
	}
	for k, v := range r.Extra {
		env = append(env, k+"="+v)
	}
	return env
}

// functionEnv points the function at the IAM proxy with its own credentials.
func (c *Cloud) functionEnv(fn *function) []string {
	pr := c.iam.byFn[fn.id]
	return RuntimeEnv{
		Function: fn.def, Name: c.prefix + "-" + fn.id, Region: c.Region, Home: c.tmp,
		AccessKeyID: pr.accessKey, SecretAccessKey: pr.secret, SessionToken: pr.token,
		Endpoints: c.FunctionEndpoints, Secret: c.localSecret, Extra: c.cfg.FunctionEnv,
	}.Environ()
}

func (c *Cloud) startFunctions(ctx context.Context) error {
	for _, fn := range c.functions {
		n := c.cfg.Instances
		if r := fn.def.Properties.ReservedConcurrentExecutions; r != nil {
			// No more invokes run at once than the reserved concurrency, so no more instances
			// are needed (none for 0: a function throttled entirely).
			n = min(n, max(*r, 0))
			fn.reserved = make(chan struct{}, max(*r, 0))
		}
		fn.pool = make(chan *instance, n)
		fn.insts = map[*instance]bool{}
		for i := range n {
			inst, err := c.startInstance(ctx, fn, i)
			if err != nil {
				return err
			}
			fn.pool <- inst
		}
	}
	return nil
}

func (c *Cloud) startInstance(ctx context.Context, fn *function, i int) (*instance, error) {
	emuPort, err := freePort()
	if err != nil {
		return nil, err
	}
	apiPort, err := freePort()
	if err != nil {
		return nil, err
	}
	// Both addresses are set: RIE's default runtime API port (9001) would collide between
	// instances, and its default emulator address binds every interface.
	emuAddr := fmt.Sprintf("127.0.0.1:%d", emuPort)
	p, err := startProc(fmt.Sprintf("%s#%d", fn.id, i), c.cfg.Logs, c.tmp, c.functionEnv(fn),
		c.rie, "--runtime-interface-emulator-address", emuAddr,
		"--runtime-api-address", fmt.Sprintf("127.0.0.1:%d", apiPort), fn.bootstrap)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	select {
	case <-c.closed:
		// Close has taken (or is taking) its list of processes to stop: this one would be left.
		c.mu.Unlock()
		p.stop(time.Second)
		return nil, errClosed
	default:
	}
	c.instances = append(c.instances, p)
	c.mu.Unlock()
	wctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	if err := waitTCP(wctx, p, emuAddr); err != nil {
		c.forget(p)
		return nil, err
	}
	inst := &instance{proc: p, index: i, url: "http://" + emuAddr + "/2015-03-31/functions/function/invocations"}
	fn.mu.Lock()
	fn.insts[inst] = false
	fn.mu.Unlock()
	return inst, nil
}

// forget stops a function instance's process and drops it from the cloud's list.
func (c *Cloud) forget(p *proc) {
	if !p.exited() { // an exited one's PID may be another process's by now
		p.stop(time.Second)
	}
	c.mu.Lock()
	c.instances = slices.DeleteFunc(c.instances, func(q *proc) bool { return q == p })
	c.mu.Unlock()
}

// replaceInstance starts a new instance in place of a dead one: RIE exited or crashed, or
// CrashOn killed it. Starting can fail on a busy machine (a free port taken before RIE binds
// it, RIE slow to listen), so it tries a few times; on failure the dead instance goes back to
// the pool and the next invoke that takes it tries again.
func (c *Cloud) replaceInstance(ctx context.Context, fn *function, old *instance) (*instance, error) {
	fn.mu.Lock()
	delete(fn.insts, old)
	fn.mu.Unlock()
	if old.proc.kill(5 * time.Second) {
		c.forget(old.proc)
	}
	var err error
	for attempt := 1; attempt <= 3; attempt++ {
		var fresh *instance
		if fresh, err = c.startInstance(ctx, fn, old.index); err == nil || errors.Is(err, errClosed) {
			return fresh, err
		}
		c.logf("function %s: replacing instance #%d, attempt %d: %v", fn.id, old.index, attempt, err)
	}
	return nil, err
}

// FunctionError is a function that failed: it returned an error, panicked or timed out.
type FunctionError struct {
	Function string
	Type     string `json:"errorType"`
	Message  string `json:"errorMessage"`
}

func (e *FunctionError) Error() string {
	return fmt.Sprintf("function %s failed: %s: %s", e.Function, e.Type, e.Message)
}

// TooManyRequestsError is Lambda's answer (TooManyRequestsException, HTTP 429) to a
// synchronous invoke of a function already running as many invokes as its
// ReservedConcurrentExecutions: the invoke is refused, nothing runs, and the caller retries.
type TooManyRequestsError struct {
	Function string
	Reserved int
}

func (e *TooManyRequestsError) Error() string {
	return fmt.Sprintf("invoke %s: TooManyRequestsException (429): Rate Exceeded. (ReservedFunctionConcurrentInvocationLimitExceeded: %d reserved)", e.Function, e.Reserved)
}

// IsThrottled reports whether err is an invoke refused for the function's reserved concurrency.
func IsThrottled(err error) bool {
	var t *TooManyRequestsError
	return errors.As(err, &t)
}

// Invoke runs one function with payload and returns its result, as a synchronous
// (RequestResponse) invoke: it waits for a free instance of the pool (Config.Instances, the
// local cloud's own limit), but a function whose template sets ReservedConcurrentExecutions N
// never runs more than N invokes at once, whatever the pool's size, as AWS caps it: an invoke
// beyond N fails at once with a *TooManyRequestsError (IsThrottled), as Lambda answers 429.
// Every invoke counts, whoever makes it: the gateway's, the SQS pollers', the schedules' and
// direct ones. The pollers and the schedules do not fail on the cap but wait for a free slot
// (see pollSQS and FireSchedule), as Lambda's event sources and its queue of asynchronous
// invokes retry throttled invokes.
func (c *Cloud) Invoke(ctx context.Context, logicalID string, payload []byte) ([]byte, error) {
	return c.invoke(ctx, logicalID, payload, false)
}

// invoke is Invoke; with wait, an invoke beyond the function's reserved concurrency waits for
// a running one to end (or ctx to) instead of failing.
func (c *Cloud) invoke(ctx context.Context, logicalID string, payload []byte, wait bool) ([]byte, error) {
	fn, ok := c.functions[logicalID]
	if !ok {
		return nil, fmt.Errorf("no function %q in the template", logicalID)
	}
	if fn.reserved != nil {
		if wait {
			select {
			case fn.reserved <- struct{}{}:
			case <-ctx.Done():
				return nil, ctx.Err()
			case <-c.closed:
				return nil, errClosed
			}
		} else {
			select {
			case fn.reserved <- struct{}{}:
			default:
				return nil, &TooManyRequestsError{Function: fn.id, Reserved: cap(fn.reserved)}
			}
		}
		// Held until the instance is back in the pool: RIE answered, or the instance was
		// replaced, so the next invoke never finds the function running N+1 times.
		defer func() { <-fn.reserved }()
	}
	var inst *instance
	select {
	case inst = <-fn.pool:
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-c.closed:
		return nil, errClosed
	}
	if inst.dead() {
		// Killed while idle (CrashOn on a call the runtime made at init), or its replacement
		// failed after its last invoke: replace it before it takes this one.
		fresh, err := c.replaceInstance(context.WithoutCancel(ctx), fn, inst)
		if err != nil {
			fn.pool <- inst
			return nil, fmt.Errorf("invoke %s: %w", fn.id, err)
		}
		inst = fresh
	}
	fn.setBusy(inst, true)
	out, err := c.invokeInstance(ctx, fn, inst, payload)
	fn.setBusy(inst, false)
	if err != nil && inst.killed.Load() {
		// CrashOn killed the instance mid-invoke, and RIE's connection broke. Lambda reports a
		// runtime killed mid-invoke as the function's error, and retries as for any other.
		out, err = nil, &FunctionError{Function: fn.id, Type: "Runtime.ExitError",
			Message: "Error: Runtime exited with error: signal: killed (the local cloud's CrashOn)"}
	}
	if inst.dead() {
		// RIE itself died (it restarts a crashed runtime, but not itself), or CrashOn killed
		// it: replace it, so the pool keeps its size.
		if fresh, serr := c.replaceInstance(context.WithoutCancel(ctx), fn, inst); serr == nil {
			inst = fresh
		} else {
			c.logf("function %s: instance #%d not replaced: %v", fn.id, inst.index, serr)
		}
	}
	fn.pool <- inst
	return out, err
}

func (c *Cloud) invokeInstance(ctx context.Context, fn *function, inst *instance, payload []byte) ([]byte, error) {
	// The invoke runs to its end even when the caller gives up (a client that disconnects):
	// the instance goes back to the pool only once RIE has answered, since RIE crashes when a
	// second invoke reaches it mid-invoke.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), fn.timeout+5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, inst.url, bytes.NewReader(payload))
	if err != nil {
		return nil, err
	}
	resp, err := c.invokeClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("invoke %s: %w", fn.id, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("invoke %s: %w", fn.id, err)
	}
	if resp.StatusCode != http.StatusOK {
		// RIE answers 502 when the runtime crashed (e.g. a panic outside the handler's
		// recovery), and writes the timeout as plain text.
		return nil, &FunctionError{Function: fn.id, Type: fmt.Sprintf("RIE %d", resp.StatusCode), Message: strings.TrimSpace(string(body))}
	}
	if bytes.HasPrefix(body, []byte("Task timed out")) {
		return nil, &FunctionError{Function: fn.id, Type: "Timeout", Message: string(body)}
	}
	// A handler that returned an error yields 200 with {"errorMessage","errorType"}.
	var fe FunctionError
	if json.Unmarshal(body, &fe) == nil && fe.Type != "" && fe.Message != "" && !bytes.Contains(body, []byte(`"statusCode"`)) {
		fe.Function = fn.id
		return nil, &fe
	}
	return body, nil
}

// IsFunctionError reports whether err is a function's own failure (as opposed to the cloud's).
func IsFunctionError(err error) bool {
	var fe *FunctionError
	return errors.As(err, &fe)
}

// LocalValue is the value a template environment variable takes locally: CloudFormation
// resolves dynamic references ({{resolve:secretsmanager:...}}) at deploy, so locally they get
// a per-run secret. Everything else is as the template resolves it: an empty SITE_URL (no
// custom domain) makes the functions read the portal's address from the site bucket, where
// the local cloud's deploy steps write it, as infra/deploy.sh does.
func LocalValue(value, secret string) string {
	if strings.HasPrefix(value, "{{resolve:secretsmanager:") {
		return secret
	}
	return value
}
