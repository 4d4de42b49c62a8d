package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/awslabs/goformation/v7/cloudformation/serverless"

	"github.com/privacyportal/portal/infra/localcloud"
	"github.com/privacyportal/portal/infra/samtemplate"
)

// coldStartTarget is a bootstrap run fresh under RIE.
type coldStartTarget struct {
	id        string
	bootstrap string
	env       []string
}

// coldStartSample is one cold start.
type coldStartSample struct {
	// wall is from starting RIE to the first invoke's response: RIE's own start, the
	// function's init and one trivial invoke. RIE's own start is most of it (about 12 of the
	// floor's ~17 ms here), and it is the same for every function, so this ratio understates
	// a difference in init; read it beside init's.
	wall time.Duration
	// init is the init phase alone, as RIE's runtime core reports it (see initReport).
	init float64 // ms
}

// coldStartRatioTarget is the most a function's cold start may be, as a multiple of the floor's.
const coldStartRatioTarget = 1.5

// coldStarts starts every function and the floor n times each, each under a fresh RIE, and
// compares the medians. Runs are sequential (two at once would share the CPUs) and the order
// rotates each round, so drift in the machine's load falls on every target alike.
func coldStarts(ctx context.Context, b *bench) ([]Result, error) {
	// Any AWS call made during init or the invoke goes to a closed port, once: it fails at once
	// instead of reaching AWS or retrying with back-off, so the first response follows init.
	region := b.stack.Params["HomeRegion"]
	targets := []coldStartTarget{{id: floorID, bootstrap: b.bootstraps[floorID][hostArch], env: coldStartEnv(b.tmp, region, floorID, nil)}}
	for _, f := range b.functions {
		targets = append(targets, coldStartTarget{id: f.LogicalID, bootstrap: b.bootstraps[f.LogicalID][hostArch], env: coldStartEnv(b.tmp, region, f.LogicalID, &f)})
	}
	samples := map[string][]coldStartSample{}
	// Round -1 is discarded: the first exec of a freshly built binary reads it from disk,
	// which no later run (and no warm Lambda host) pays.
	for round := -1; round < b.cfg.coldStarts; round++ {
		for k := range targets {
			t := targets[(k+round+len(targets))%len(targets)]
			s, err := coldStart(ctx, b.rie, b.tmp, t)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", t.id, err)
			}
			if round >= 0 {
				samples[t.id] = append(samples[t.id], s)
			}
		}
	}

	floorWall, floorInit := medians(samples[floorID])
	var rs []Result
	for _, f := range b.functions {
		wall, init := medians(samples[f.LogicalID])
		p50 := compare("coldstart."+f.LogicalID+".p50", "ms", wall, floorID, floorWall)
		p50.target = coldStartRatioTarget
		initP50 := compare("coldstart."+f.LogicalID+".init_p50", "ms", init, floorID, floorInit)
		initP50.target = coldStartRatioTarget
		rs = append(rs, p50, initP50)
	}
	return rs, nil
}

func medians(ss []coldStartSample) (wall, init float64) {
	var w, i []float64
	for _, s := range ss {
		w = append(w, float64(s.wall)/float64(time.Millisecond))
		i = append(i, s.init)
	}
	return percentile(w, 50), percentile(i, 50)
}

// coldStartEnv is a function's environment as the local cloud gives it, with every AWS
// endpoint pointing at a closed port (nothing listens on 127.0.0.1:1; it refuses at once) and
// one attempt per call. The floor gets the same variables minus the template's.
func coldStartEnv(home, region, id string, f *samtemplate.Function) []string {
	r := localcloud.RuntimeEnv{
		Name: "bench-" + id, Region: region, Home: home, All: "http://127.0.0.1:1",
		Secret: strings.Repeat("k", 64),
		Extra:  map[string]string{"AWS_MAX_ATTEMPTS": "1"},
	}
	if f != nil {
		r.Function = *f
	} else {
		r.Function.Properties = &serverless.Function{}
	}
	return r.Environ()
}

var (
	// reportLine is the REPORT line RIE prints on stdout after the first invoke. Its "Init
	// Duration" is NOT the init time with this RIE: RIE times its call to the runtime core's
	// Init, which only dispatches the init and returns (rapidcore.Server.Init runs
	// awaitInitCompletion in a goroutine), so it reads ~0.2 ms whatever the function does.
	// It is still required, as the proof that this invoke was the one that ran init.
	reportLine = regexp.MustCompile(`^REPORT RequestId: .*Init Duration: ([0-9.]+) ms`)
	// initReport is the runtime core's own log of the init phase (stderr, log level info):
	// from INIT START to the runtime's first /next, so it covers exec, the Go runtime's start
	// (package init functions included) and main() up to lambda.Start. This is what Lambda
	// reports as Init Duration. Package inits show here first: GODEBUG=inittrace=1 on a
	// bootstrap names the package to blame (a password-strength dictionary built at init in a
	// package every function imports once cost each function ~21 ms and ~10 MB here).
	initReport = regexp.MustCompile(`INIT REPORT\(durationMs: ([0-9.]+)\)`)
)

// coldStart starts RIE with the target's bootstrap, invokes it once, and stops everything it
// started. The invoke's result does not matter (the status function's fails: its S3 is a
// closed port); RIE answering at all means init succeeded, as a failed init answers 502.
func coldStart(ctx context.Context, rie, dir string, t coldStartTarget) (_ coldStartSample, err error) {
	emuAddr, err := freeAddr()
	if err != nil {
		return coldStartSample{}, err
	}
	apiAddr, err := freeAddr()
	if err != nil {
		return coldStartSample{}, err
	}
	pr, pw, err := os.Pipe()
	if err != nil {
		return coldStartSample{}, err
	}
	defer pr.Close()
	cmd := exec.Command(rie, "--runtime-interface-emulator-address", emuAddr, "--runtime-api-address", apiAddr, t.bootstrap)
	cmd.Dir = dir
	cmd.Env = t.env
	// One pipe for stdout and stderr: no copying goroutines in exec, and the reader sees EOF
	// only once every process holding it (RIE and the runtime) has exited.
	cmd.Stdout, cmd.Stderr = pw, pw
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}

	out := &logTail{changed: make(chan struct{}), found: map[*regexp.Regexp]float64{}}
	start := time.Now()
	if err := cmd.Start(); err != nil {
		pw.Close()
		return coldStartSample{}, err
	}
	pw.Close()
	exited := make(chan struct{})
	go func() {
		_ = cmd.Wait()
		close(exited)
	}()
	readDone := make(chan struct{})
	go func() {
		defer close(readDone)
		out.read(pr)
	}()
	defer func() {
		if serr := stopRIE(cmd.Process.Pid, exited, readDone); serr != nil {
			err = errors.Join(err, serr)
		}
		if err != nil {
			err = fmt.Errorf("%w\nRIE output (last lines):\n%s", err, out.String())
		}
	}()

	ictx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	status, body, err := invokeWhenUp(ictx, "http://"+emuAddr+"/2015-03-31/functions/function/invocations", exited)
	wall := time.Since(start)
	if err != nil {
		return coldStartSample{}, err
	}
	if status != http.StatusOK {
		return coldStartSample{}, fmt.Errorf("RIE answered %d (init failed?): %s", status, bytes.TrimSpace(body))
	}
	found, err := out.await(2*time.Second, reportLine, initReport)
	if err != nil {
		return coldStartSample{}, err
	}
	return coldStartSample{wall: wall, init: found[initReport]}, nil
}

// invokeWhenUp posts an empty event as soon as RIE accepts connections: dialing is retried
// every millisecond, so the wall time is not rounded up to a polling interval. The empty
// event keeps the invoke trivial: an API handler sees no method and answers 405 at once.
func invokeWhenUp(ctx context.Context, url string, exited <-chan struct{}) (int, []byte, error) {
	client := &http.Client{Transport: &http.Transport{
		DisableKeepAlives: true,
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			var d net.Dialer
			for {
				c, err := d.DialContext(ctx, network, addr)
				if err == nil {
					return c, nil
				}
				select {
				case <-exited:
					return nil, fmt.Errorf("RIE exited before listening on %s", addr)
				case <-ctx.Done():
					return nil, err
				case <-time.After(time.Millisecond):
				}
			}
		},
	}}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, strings.NewReader("{}"))
	if err != nil {
		return 0, nil, err
	}
	resp, err := client.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	return resp.StatusCode, body, err
}

// stopRIE kills RIE and the runtime it started, and waits until both are gone. Killing RIE's
// process group is not enough: RIE starts the runtime in a process group of its own
// (Setpgid in its local supervisor), and Pdeathsig does not reach it either. A Go runtime
// exits by itself once RIE's runtime API is gone, but one still in init would not notice.
func stopRIE(pid int, exited, readDone <-chan struct{}) error {
	children := childPIDs(pid)
	for _, c := range children {
		_ = syscall.Kill(-c, syscall.SIGKILL)
		_ = syscall.Kill(c, syscall.SIGKILL)
	}
	_ = syscall.Kill(-pid, syscall.SIGKILL)
	<-exited
	deadline := time.After(5 * time.Second)
	for _, c := range children {
		for alive(c) {
			select {
			case <-deadline:
				return fmt.Errorf("runtime process %d outlived RIE", c)
			case <-time.After(5 * time.Millisecond):
			}
		}
	}
	select {
	case <-readDone:
		return nil
	case <-deadline:
		return errors.New("a process still holds RIE's output open after RIE and its runtime were killed")
	}
}

// childPIDs lists the children of pid (Linux /proc; RIE itself only runs on Linux).
func childPIDs(pid int) []int {
	tasks, _ := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/children", pid))
	var pids []int
	for _, t := range tasks {
		b, err := os.ReadFile(t)
		if err != nil {
			continue
		}
		for _, f := range strings.Fields(string(b)) {
			if n, err := strconv.Atoi(f); err == nil {
				pids = append(pids, n)
			}
		}
	}
	return pids
}

// alive reports whether pid exists and is not a zombie awaiting its reaper.
func alive(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	// The state follows the command name, which is in parentheses and may hold spaces.
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	return i < 0 || i+2 >= len(s) || s[i+2] != 'Z'
}

func freeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}

// logTail keeps the last lines of a process's output and the numbers some lines carry.
type logTail struct {
	mu    sync.Mutex
	lines []string
	found map[*regexp.Regexp]float64
	// changed is closed, and replaced, whenever a number is found.
	changed chan struct{}
}

func (l *logTail) read(r io.Reader) {
	s := bufio.NewScanner(r)
	s.Buffer(make([]byte, 64<<10), 1<<20)
	for s.Scan() {
		line := s.Text()
		l.mu.Lock()
		l.lines = append(l.lines, line)
		if len(l.lines) > 30 {
			l.lines = l.lines[1:]
		}
		for _, re := range []*regexp.Regexp{reportLine, initReport} {
			if _, ok := l.found[re]; ok {
				continue
			}
			if m := re.FindStringSubmatch(line); m != nil {
				if v, err := strconv.ParseFloat(m[1], 64); err == nil {
					l.found[re] = v
					close(l.changed)
					l.changed = make(chan struct{})
				}
			}
		}
		l.mu.Unlock()
	}
	// Keep draining after a scan error (an overlong line), or RIE would block on a full pipe.
	_, _ = io.Copy(io.Discard, r)
}

// await waits until every pattern has been seen, or for at most d.
func (l *logTail) await(d time.Duration, res ...*regexp.Regexp) (map[*regexp.Regexp]float64, error) {
	timeout := time.After(d)
	for {
		l.mu.Lock()
		var missing []string
		for _, re := range res {
			if _, ok := l.found[re]; !ok {
				missing = append(missing, re.String())
			}
		}
		found := maps.Clone(l.found)
		wait := l.changed
		l.mu.Unlock()
		if len(missing) == 0 {
			return found, nil
		}
		select {
		case <-wait:
		case <-timeout:
			return nil, fmt.Errorf("RIE printed no line matching %s", strings.Join(missing, ", "))
		}
	}
}

func (l *logTail) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Join(l.lines, "\n")
}
