// Command localcloud runs the portal on this machine (make dev): emulators, functions under
// the Lambda Runtime Interface Emulator, and the gateway serving the site and /api/*. It stops
// every process it started on Ctrl-C or SIGTERM.
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"os"
	"os/signal"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"time"

	"github.com/privacyportal/portal/infra/localcloud"
	"github.com/privacyportal/portal/infra/samtemplate"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:8080", "portal listen address")
	root := flag.String("root", ".", "repository root")
	instances := flag.Int("instances", 2, "RIE instances per function")
	list := flag.Bool("list-functions", false, "print the template's function logical IDs and exit")
	var params paramFlags
	flag.Var(&params, "param", "template parameter override Name=Value (repeatable)")
	flag.Parse()
	log.SetFlags(0)

	absRoot, err := filepath.Abs(*root)
	if err != nil {
		log.Fatal(err)
	}
	if *list {
		st, err := samtemplate.Load(filepath.Join(absRoot, "template.yaml"), samtemplate.Options{})
		if err != nil {
			log.Fatal(err)
		}
		for _, f := range st.Functions {
			fmt.Println(f.LogicalID)
		}
		return
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	started := time.Now()
	log.Printf("starting the local cloud (emulators, site build, function builds)...")
	c, err := localcloud.Start(ctx, localcloud.Config{
		Root: absRoot, Addr: *addr, Params: params, Instances: *instances,
		Logs: os.Stderr, RunSchedules: true,
	})
	if err != nil {
		log.Fatalf("local cloud: %v", err)
	}
	defer c.Close()

	fmt.Printf("\nPrivacy Portal is running (started in %s)\n\n", time.Since(started).Round(100*time.Millisecond))
	fmt.Printf("  Portal:   %s/\n", c.URL)
	fmt.Printf("  Mailbox:  %s/  (every mail the portal sends; nothing leaves this machine)\n", c.MailboxURL)
	fmt.Printf("  DynamoDB: %s  S3: %s  SQS: %s", c.Endpoints.DynamoDB, c.Endpoints.S3, c.Endpoints.SQS)
	if c.Endpoints.KMS != "" {
		fmt.Printf("  KMS: %s", c.Endpoints.KMS)
	}
	fmt.Printf("\n  (the emulators; functions reach them through the IAM proxy, which logs each refusal as \"iam: ...\")\n\n")
	fmt.Println("  API routes:")
	for _, r := range c.Routes() {
		fmt.Println("    " + r)
	}
	if sched := c.ScheduledFunctions(); len(sched) > 0 {
		names := make([]string, 0, len(sched))
		for n := range sched {
			names = append(names, n)
		}
		sort.Strings(names)
		fmt.Println("  Scheduled (fire now with: curl -X POST <portal>/_local/schedule/<Function>):")
		for _, n := range names {
			fmt.Printf("    %s  %s\n", n, sched[n])
		}
	}
	if creds, err := c.AWS.Credentials.Retrieve(ctx); err == nil {
		// The operator's tool works on the local cloud as on AWS, with the emulators' admin
		// credentials and endpoints in place of a stack's outputs (docs/portalctl.md).
		fmt.Println("\n  Operator's tool, from another shell in this directory:")
		fmt.Printf("    export AWS_REGION=%s AWS_ACCESS_KEY_ID=%s AWS_SECRET_ACCESS_KEY=%s \\\n", c.Region, creds.AccessKeyID, creds.SecretAccessKey)
		fmt.Printf("      AWS_ENDPOINT_URL_DYNAMODB=%s AWS_ENDPOINT_URL_SQS=%s \\\n", c.Endpoints.DynamoDB, c.Endpoints.SQS)
		fmt.Printf("      PORTAL_TABLE=%s PORTAL_MAIL_QUEUE_URL=%s \\\n", c.Names["PortalTable"], c.Names["MailQueue"])
		fmt.Printf("      PORTAL_ERASURE_QUEUE_URL=%s", c.Names["ErasureQueue"])
		if q, ok := c.Names["NoticePlanQueue"]; ok {
			// The campaign commands: start puts its plan job on the planner's queue, publish
			// writes public notices into the site's bucket (which the gateway serves), and
			// preview renders mail as the functions do (docs/portalctl.md).
			fmt.Printf(" \\\n      PORTAL_NOTICE_PLAN_QUEUE_URL=%s", q)
		}
		if b, ok := c.Names["SiteBucket"]; ok {
			fmt.Printf(" \\\n      AWS_ENDPOINT_URL_S3=%s PORTAL_SITE_BUCKET=%s", c.Endpoints.S3, b)
		}
		fmt.Printf(" \\\n      PORTAL_OPERATOR_NAME=%s PORTAL_OPERATOR_CONTACT=%s PORTAL_SITE_URL=%s",
			shellQuote(c.Stack.Params["OperatorName"]), shellQuote(c.Stack.Params["OperatorContact"]), c.URL)
		if key, ok := c.Names["PortalKey"]; ok && c.Endpoints.KMS != "" {
			// Only reapply-erasures needs the key (docs/erasure.md).
			fmt.Printf(" \\\n      AWS_ENDPOINT_URL_KMS=%s PORTAL_KEY_ID=%s", c.Endpoints.KMS, key)
		}
		fmt.Println()
		fmt.Println("    go run ./cmd/portalctl queue")
	}
	fmt.Println("\nCtrl-C stops everything.")
	<-ctx.Done()
	log.Printf("stopping...")
}

// shellQuote quotes s for a POSIX shell, if it needs it.
func shellQuote(s string) string {
	if s != "" && strings.IndexFunc(s, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("@%+=:,./-_", r))
	}) < 0 {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

type paramFlags map[string]string

func (p *paramFlags) String() string { return fmt.Sprint(map[string]string(*p)) }

func (p *paramFlags) Set(s string) error {
	k, v, ok := strings.Cut(s, "=")
	if !ok {
		return fmt.Errorf("want Name=Value, got %q", s)
	}
	if *p == nil {
		*p = map[string]string{}
	}
	(*p)[k] = v
	return nil
}
