package localcloud

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
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
