package localcloud

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Credentials are the dummy credentials every emulator is called with: the cloud's own
// clients use them, and the IAM proxy re-signs the functions' calls with them. s3rver
// accepts no other access key, so every other emulator gets the same pair.
const (
	AccessKeyID     = "S3RVER"
	SecretAccessKey = "S3RVER"
)

// Endpoints are base URLs per service: the emulators' (Cloud.Endpoints), or the IAM proxy's
// that functions call (Cloud.FunctionEndpoints). KMS is set only when the template declares
// a key; SSM only on the proxy, which answers parameter reads from the template itself.
type Endpoints struct {
	DynamoDB string
	S3       string
	SQS      string
	SES      string
	KMS      string
	SSM      string
}

// EnsureNodeModules installs the pinned emulators with `npm ci` when infra/node_modules is
// missing or older than the lockfile.
func EnsureNodeModules(ctx context.Context, infraDir string) error {
	lock, err := os.Stat(filepath.Join(infraDir, "package-lock.json"))
	if err != nil {
		return err
	}
	marker := filepath.Join(infraDir, "node_modules", ".package-lock.json")
	if st, err := os.Stat(marker); err == nil && !st.ModTime().Before(lock.ModTime()) {
		return nil
	}
	return run(ctx, infraDir, environ(), "npm", "ci", "--no-audit", "--no-fund", "--loglevel=error")
}

// startEmulators starts DynamoDB Local, SES, SQS and S3 emulators on free loopback ports, and
// local-kms when the template declares a KMS key; or only those named in only.
func (c *Cloud) startEmulators(ctx context.Context, only ...string) error {
	infra := filepath.Join(c.cfg.Root, "infra")
	nm := filepath.Join(infra, "node_modules")
	type spec struct {
		name string
		dir  string
		argv func(port int) []string
		url  *string
	}
	ddbDir := filepath.Join(nm, "amplify-dynamodb-simulator", "emulator")
	s3Dir := filepath.Join(c.tmp, "s3")
	if err := os.MkdirAll(s3Dir, 0o700); err != nil {
		return err
	}
	specs := []spec{
		// DynamoDB Local binds every interface whatever we ask; it is in-memory and holds test
		// data only. It takes ~3 s and ~220 MB to start, so it starts once per run.
		{"dynamodb", ddbDir, func(p int) []string {
			return []string{"java", "-Xmx512m", "-Djava.library.path=DynamoDBLocal_lib", "-jar", "DynamoDBLocal.jar", "-inMemory", "-port", strconv.Itoa(p)}
		}, &c.Endpoints.DynamoDB},
		// aws-ses-v2-local answers SendEmail/SendRawEmail (v1) and keeps the mail for GET /store.
		{"ses", infra, func(p int) []string {
			return []string{"node", filepath.Join(nm, "aws-ses-v2-local", "dist", "cli.js"), "--host", "127.0.0.1", "--port", strconv.Itoa(p)}
		}, &c.Endpoints.SES},
		{"sqs", infra, func(p int) []string {
			return []string{"node", filepath.Join(infra, "emulators", "sqs.mjs"), strconv.Itoa(p)}
		}, &c.Endpoints.SQS},
		// s3rver checks signatures and presigned-URL expiry, which the export links rely on.
		// s3.cjs starts it with objects written atomically (see there).
		{"s3", infra, func(p int) []string {
			return []string{"node", filepath.Join(infra, "emulators", "s3.cjs"), s3Dir, strconv.Itoa(p)}
		}, &c.Endpoints.S3},
	}
	if (len(only) == 0 && c.needKMS) || slices.Contains(only, "kms") {
		bin, err := BuildLocalKMS(ctx, c.cfg.Root, filepath.Join(c.tmp, "bin"))
		if err != nil {
			return err
		}
		specs = append(specs, spec{"kms", c.tmp, func(p int) []string {
			return []string{bin, fmt.Sprintf("127.0.0.1:%d", p)}
		}, &c.Endpoints.KMS})
	}
	if len(only) > 0 {
		var some []spec
		for _, s := range specs {
			if slices.Contains(only, s.name) {
				some = append(some, s)
			}
		}
		specs = some
	}
	errs := make(chan error, len(specs))
	for _, s := range specs {
		port, err := freePort()
		if err != nil {
			return err
		}
		env := environ()
		if s.name == "kms" {
			env = environ("KMS_ACCOUNT_ID="+c.namer.account, "KMS_REGION="+c.Region, "KMS_DATA_PATH="+filepath.Join(c.tmp, "kms"))
		}
		p, err := startProc(s.name, c.cfg.Logs, s.dir, env, s.argv(port)...)
		if err != nil {
			return err
		}
		c.emulators = append(c.emulators, p)
		addr := fmt.Sprintf("127.0.0.1:%d", port)
		*s.url = "http://" + addr
		go func() {
			// DynamoDB Local (Java) starts in ~3 s on an idle machine; on a busy 2-core one it
			// has taken over a minute.
			wctx, cancel := context.WithTimeout(ctx, 3*time.Minute)
			defer cancel()
			errs <- waitTCP(wctx, p, addr)
		}()
	}
	for range specs {
		if err := <-errs; err != nil {
			return err
		}
	}
	return nil
}

// Pausing an emulator stands in for an AWS service that stops answering (an outage, a network
// partition, a stalled connection): its process and everything below it are stopped
// (SIGSTOP) and later continued (SIGCONT). While it is stopped the kernel still accepts
// connections to its port and takes in requests, but nothing answers: a call waits until its
// client gives up (the cloud's clients after 15 s; a function's SDK call until its context or
// the function's timeout ends; the IAM proxy in front of the emulators sets no deadline of its
// own), as a call to a hung endpoint does. When the emulator continues, it reads and answers
// the requests that were waiting, including those whose callers have given up meanwhile: a
// call that timed out may still have happened, as in AWS. Names are the emulators' as
// StartServices takes them: "dynamodb", "ses", "sqs", "s3", and "kms" when it runs.

// PauseEmulator stops the named emulator now and continues it after d, in the background: it
// returns at once (after the stop), so the caller makes its calls during the pause. Pausing a
// paused emulator again restarts its d; ResumeEmulator ends the pause early, and Close ends it
// too.
func (c *Cloud) PauseEmulator(name string, d time.Duration) error {
	c.pauseMu.Lock()
	defer c.pauseMu.Unlock()
	if err := c.stopEmulator(name); err != nil {
		return err
	}
	var t *time.Timer
	t = time.AfterFunc(d, func() {
		c.pauseMu.Lock()
		defer c.pauseMu.Unlock()
		if c.resumes[name] != t {
			return // resumed, or paused again, meanwhile
		}
		if err := c.resumeEmulator(name); err != nil && !errors.Is(err, errClosed) {
			c.logf("resume %s after a pause of %v: %v", name, d, err)
		}
	})
	c.resumes[name] = t
	return nil
}

// StopEmulator stops the named emulator (SIGSTOP) until ResumeEmulator; see PauseEmulator.
// It cancels a pending resume of an earlier PauseEmulator.
func (c *Cloud) StopEmulator(name string) error {
	c.pauseMu.Lock()
	defer c.pauseMu.Unlock()
	return c.stopEmulator(name)
}

// ResumeEmulator continues the named emulator (SIGCONT) after StopEmulator or PauseEmulator;
// continuing one that is not stopped does nothing.
func (c *Cloud) ResumeEmulator(name string) error {
	c.pauseMu.Lock()
	defer c.pauseMu.Unlock()
	return c.resumeEmulator(name)
}

// stopEmulator and resumeEmulator are called with pauseMu held.
func (c *Cloud) stopEmulator(name string) error {
	p, err := c.emulator(name)
	if err != nil {
		return err
	}
	c.cancelResume(name)
	if err := p.signal(syscall.SIGSTOP); err != nil {
		return fmt.Errorf("stop emulator %s: %w", name, err)
	}
	c.logf("emulator %s stopped (SIGSTOP)", name)
	return nil
}

func (c *Cloud) resumeEmulator(name string) error {
	p, err := c.emulator(name)
	if err != nil {
		return err
	}
	c.cancelResume(name)
	if err := p.signal(syscall.SIGCONT); err != nil {
		return fmt.Errorf("resume emulator %s: %w", name, err)
	}
	c.logf("emulator %s continued (SIGCONT)", name)
	return nil
}

func (c *Cloud) cancelResume(name string) {
	if t := c.resumes[name]; t != nil {
		t.Stop()
		delete(c.resumes, name)
	}
}

// emulator returns the running emulator process called name.
func (c *Cloud) emulator(name string) (*proc, error) {
	select {
	case <-c.closed:
		return nil, errClosed
	default:
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	var names []string
	for _, p := range c.emulators {
		if p.name == name {
			if p.exited() {
				return nil, fmt.Errorf("emulator %s has exited: %v", name, p.err)
			}
			return p, nil
		}
		names = append(names, p.name)
	}
	return nil, fmt.Errorf("no emulator %q runs (running: %s)", name, strings.Join(names, ", "))
}
