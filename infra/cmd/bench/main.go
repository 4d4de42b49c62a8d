// Command bench measures what the portal costs beside a floor measured in the same run (make
// bench): every function's binary size and cold start beside a hello-world Lambda's, API
// round trips through the local cloud beside a bare call to the emulator behind them, exports
// and erasures beside bare reads and writes, and a campaign's sending rate beside the SES rate
// it is configured with. It prints a table and writes the figures as JSON.
//
// Times on a shared machine are noisy; only the ratios to the floors are meant to be compared
// between runs.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log"
	"os"
	"os/signal"
	"path/filepath"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/privacyportal/portal/infra/localcloud"
	"github.com/privacyportal/portal/infra/samtemplate"
)

// measurement adds figures to the report. A new benchmark is one entry here (or, for an API
// round trip beside a bare emulator call, one entry in roundTrips).
type measurement struct {
	// key names it for -only.
	key  string
	name string
	run  func(ctx context.Context, b *bench) ([]Result, error)
	// built says it measures the bench's own builds of the functions (bench.build).
	built bool
}

var measurements = []measurement{
	{"binary", "binary sizes", binarySizes, true},
	{"coldstart", "cold starts", coldStarts, true},
	{"roundtrip", "round trips", roundTripsThroughCloud, false},
	{"page", "page weights", pageWeights, false},
	{"export", "exports", exports, false},
	{"erasure", "erasures", erasures, false},
	// Last: the longest (about nine minutes), and it leaves its accounts in the table.
	{"campaign", "campaign", campaigns, false},
}

func measurementKeys() []string {
	keys := make([]string, len(measurements))
	for i, m := range measurements {
		keys[i] = m.key
	}
	return keys
}

// selected returns the measurements -only names, in their usual order (all of them for ""), or
// an error naming an unknown one.
func selected(only string) ([]measurement, error) {
	if only == "" {
		return measurements, nil
	}
	want := map[string]bool{}
	for _, k := range strings.Split(only, ",") {
		k = strings.TrimSpace(k)
		if !slices.Contains(measurementKeys(), k) {
			return nil, fmt.Errorf("-only: no measurement %q (there are %s)", k, strings.Join(measurementKeys(), ", "))
		}
		want[k] = true
	}
	var ms []measurement
	for _, m := range measurements {
		if want[m.key] {
			ms = append(ms, m)
		}
	}
	return ms, nil
}

// config is what the flags set.
type config struct {
	root       string
	out        string
	coldStarts int
	roundTrips int
	warmUps    int
	only       string
	// recipients and sendRate are the campaign bench's: how many people it mails, and the
	// SES rate the local cloud's sender is configured with (SesSendRate).
	recipients int
	sendRate   int
}

func main() {
	var cfg config
	flag.StringVar(&cfg.root, "root", ".", "repository root")
	flag.StringVar(&cfg.out, "out", "bench/results.json", "where to write the JSON results (relative to -root unless absolute)")
	flag.IntVar(&cfg.coldStarts, "n", 15, "cold starts per function and for the floor")
	flag.IntVar(&cfg.roundTrips, "m", 200, "measured round trips per API call and for its floor")
	flag.IntVar(&cfg.warmUps, "warmup", 10, "round trips before measuring")
	flag.StringVar(&cfg.only, "only", "", "run only these measurements, comma-separated ("+strings.Join(measurementKeys(), ", ")+"); the results file then holds only theirs")
	flag.IntVar(&cfg.recipients, "recipients", 100_000, "recipients of the campaign bench")
	// 100 a second by default: on a 2-core machine the whole local cloud (DynamoDB Local, the
	// SES emulator, the IAM proxy, the senders and the planner) runs out of CPU at about 180 a
	// second, and a campaign configured at 150 or 200 measures the machine, not the sender's
	// pacing (docs/notices.md, "Measuring it").
	flag.IntVar(&cfg.sendRate, "send-rate", 100, "the SES send rate (SesSendRate, mails a second) the campaign bench is held to")
	cpuProfile := flag.String("cpuprofile", "", "write the bench process's CPU profile (the local cloud runs in it: gateway, IAM proxy, pollers) to this file")
	flag.Parse()
	log.SetFlags(0)
	log.SetPrefix("bench: ")
	if cfg.coldStarts < 1 || cfg.roundTrips < 1 || cfg.warmUps < 0 || cfg.recipients < 1 || cfg.sendRate < 1 {
		log.Fatal("-n, -m, -recipients and -send-rate must be at least 1, -warmup at least 0")
	}
	if _, err := selected(cfg.only); err != nil {
		log.Fatal(err)
	}

	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			log.Fatal(err)
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			log.Fatal(err)
		}
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, cfg)
	stop()
	pprof.StopCPUProfile() // nothing when not profiling
	if err != nil {
		log.Fatal(err)
	}
}

func run(ctx context.Context, cfg config) (err error) {
	started := time.Now()
	root, err := filepath.Abs(cfg.root)
	if err != nil {
		return err
	}
	out := cfg.out
	if !filepath.IsAbs(out) {
		out = filepath.Join(root, out)
	}
	ms, err := selected(cfg.only)
	if err != nil {
		return err
	}
	b, err := newBench(root, cfg)
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, b.close(err != nil)) }()

	if slices.ContainsFunc(ms, func(m measurement) bool { return m.built }) {
		log.Printf("building %d function(s) and the floor for %s and arm64...", len(b.functions), hostArch)
		if err := b.build(ctx); err != nil {
			return err
		}
	}
	var results []Result
	var errs []error
	for _, m := range ms {
		t := time.Now()
		log.Printf("%s...", m.name)
		rs, err := m.run(ctx, b)
		results = append(results, rs...)
		if err != nil {
			// The other measurements still run: a failing one should not hide the rest.
			errs = append(errs, fmt.Errorf("%s: %w", m.name, err))
			log.Printf("%s failed: %v", m.name, err)
			if ctx.Err() != nil {
				break
			}
			continue
		}
		log.Printf("%s done in %s", m.name, time.Since(t).Round(100*time.Millisecond))
	}

	fmt.Println()
	if err := writeTable(os.Stdout, results); err != nil {
		return err
	}
	if err := writeJSON(out, newReport(time.Now(), results)); err != nil {
		return err
	}
	fmt.Printf("\nwrote %s; the bench took %s\n", out, time.Since(started).Round(time.Second))
	return errors.Join(errs...)
}

// bench holds what the measurements share: the template, the builds, the RIE binary, and the
// local cloud, started on first use.
type bench struct {
	cfg       config
	root      string
	tmp       string
	stack     *samtemplate.Stack
	functions []samtemplate.Function
	// bootstraps maps a logical ID (functions and the floor) to its bootstrap by GOARCH.
	bootstraps map[string]map[string]string
	rie        string

	cloud   *localcloud.Cloud
	logPath string
	logFile *os.File
}

func newBench(root string, cfg config) (*bench, error) {
	path := filepath.Join(root, "template.yaml")
	first, err := samtemplate.Load(path, samtemplate.Options{})
	if err != nil {
		return nil, fmt.Errorf("%w (is -root the repository root?)", err)
	}
	// Resolved for the home region, as the local cloud does, so the template's region rule holds.
	st, err := samtemplate.Load(path, samtemplate.Options{Region: first.Params["HomeRegion"]})
	if err != nil {
		return nil, err
	}
	tmp, err := os.MkdirTemp("", "bench-")
	if err != nil {
		return nil, err
	}
	return &bench{cfg: cfg, root: root, tmp: tmp, stack: st, functions: st.Functions, bootstraps: map[string]map[string]string{}}, nil
}

// Cloud starts the local cloud the first time it is asked for.
func (b *bench) Cloud(ctx context.Context) (*localcloud.Cloud, error) {
	if b.cloud != nil {
		return b.cloud, nil
	}
	f, err := os.CreateTemp("", "bench-localcloud-*.log")
	if err != nil {
		return nil, err
	}
	b.logFile, b.logPath = f, f.Name()
	t := time.Now()
	c, err := localcloud.Start(ctx, localcloud.Config{Root: b.root, Logs: f,
		// The campaign bench's sender paces at the account's SES rate; the template's default
		// (1 a second, a new SES account's) would make its 100,000 mails take a day. Only the
		// notice sender reads it.
		Params: map[string]string{"SesSendRate": strconv.Itoa(b.cfg.sendRate)}})
	if err != nil {
		return nil, fmt.Errorf("start the local cloud (log: %s): %w", b.logPath, err)
	}
	log.Printf("local cloud up in %s", time.Since(t).Round(100*time.Millisecond))
	b.cloud = c
	return c, nil
}

// close stops the local cloud and removes the builds. The cloud's log is kept when the run
// failed, since it is where a function's error is.
func (b *bench) close(failed bool) error {
	var err error
	if b.cloud != nil {
		err = b.cloud.Close()
	}
	if b.logFile != nil {
		err = errors.Join(err, b.logFile.Close())
		if failed {
			log.Printf("local cloud log kept: %s", b.logPath)
		} else {
			err = errors.Join(err, os.Remove(b.logPath))
		}
	}
	return errors.Join(err, os.RemoveAll(b.tmp))
}
