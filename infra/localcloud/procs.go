package localcloud

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// freePort asks the kernel for a free loopback port. Another process may take it before we
// bind it, but on a test machine that race is rare and shows up as a clear start error.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// proc is a child process of the local cloud, in its own process group so that stopping it
// also stops anything it started.
type proc struct {
	name string
	cmd  *exec.Cmd
	done chan struct{}
	err  error
}

// startProc starts a command whose output goes, line by line and prefixed with name, to logs.
func startProc(name string, logs io.Writer, dir string, env []string, argv ...string) (*proc, error) {
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Dir = dir
	cmd.Env = env
	// Pdeathsig stops the child if the local cloud dies without cleaning up (e.g. a test binary
	// killed by its timeout), so no emulator outlives it.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	w := prefixWriter(logs, name)
	cmd.Stdout, cmd.Stderr = w, w
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	p := &proc{name: name, cmd: cmd, done: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		close(p.done)
	}()
	return p, nil
}

// stop sends SIGTERM to the process group, then SIGKILL if it has not exited within grace.
// Descendants that moved to process groups of their own go too: RIE starts the function's
// bootstrap in a new group, which neither a signal to RIE's group nor RIE's parent-death
// signal reaches.
func (p *proc) stop(grace time.Duration) {
	if p == nil {
		return
	}
	kids := descendants(p.cmd.Process.Pid)
	pgid := -p.cmd.Process.Pid
	_ = syscall.Kill(pgid, syscall.SIGTERM)
	// A stopped process (Cloud.StopEmulator) keeps SIGTERM pending until it continues.
	_ = syscall.Kill(pgid, syscall.SIGCONT)
	select {
	case <-p.done:
	case <-time.After(grace):
		_ = syscall.Kill(pgid, syscall.SIGKILL)
		<-p.done
	}
	_ = syscall.Kill(pgid, syscall.SIGKILL)
	killKids(kids)
}

// kill stops the process and everything below it at once with SIGKILL, as a crash would (no
// SIGTERM, no grace), and waits until they are gone: the process reaped, its descendants
// exited (or zombies waiting for their new parent to reap them). It reports whether they
// went within timeout.
func (p *proc) kill(timeout time.Duration) bool {
	if p.exited() {
		return true
	}
	kids := descendants(p.cmd.Process.Pid)
	_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
	killKids(kids)
	deadline := time.After(timeout)
	select {
	case <-p.done:
	case <-deadline:
		return false
	}
	for _, k := range kids {
		for alive(k) {
			select {
			case <-deadline:
				return false
			case <-time.After(5 * time.Millisecond):
			}
		}
	}
	return true
}

// signal sends sig to the process's group and to the groups of its descendants that left it
// (as stop does), unless the process has exited.
func (p *proc) signal(sig syscall.Signal) error {
	if p.exited() {
		return fmt.Errorf("%s has exited", p.name)
	}
	if err := syscall.Kill(-p.cmd.Process.Pid, sig); err != nil {
		return err
	}
	for _, k := range descendants(p.cmd.Process.Pid) {
		if pg, err := syscall.Getpgid(k); err == nil && pg == k {
			_ = syscall.Kill(-k, sig)
		}
	}
	return nil
}

// killKids sends SIGKILL to processes below a stopped one, and to the process groups those
// lead (RIE starts the bootstrap in a group of its own).
func killKids(kids []int) {
	for _, k := range kids {
		if pg, err := syscall.Getpgid(k); err == nil && pg == k {
			_ = syscall.Kill(-k, syscall.SIGKILL)
		}
		_ = syscall.Kill(k, syscall.SIGKILL)
	}
}

// alive reports whether pid is a process that still runs: not gone, not a zombie.
func alive(pid int) bool {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	f := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+1:]))
	return len(f) > 0 && f[0] != "Z" && f[0] != "X"
}

// descendants lists the process IDs below pid, read from /proc.
func descendants(pid int) []int {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	children := map[int][]int{}
	for _, e := range entries {
		child, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue
		}
		// Fields after the command name (which may hold spaces, inside parentheses).
		rest := string(b[strings.LastIndexByte(string(b), ')')+1:])
		f := strings.Fields(rest)
		if len(f) < 2 {
			continue
		}
		if ppid, err := strconv.Atoi(f[1]); err == nil {
			children[ppid] = append(children[ppid], child)
		}
	}
	var out []int
	queue := []int{pid}
	for len(queue) > 0 {
		p := queue[0]
		queue = queue[1:]
		for _, c := range children[p] {
			out = append(out, c)
			queue = append(queue, c)
		}
	}
	return out
}

func (p *proc) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// waitTCP waits until addr accepts connections, the process exits, or ctx ends.
func waitTCP(ctx context.Context, p *proc, addr string) error {
	for {
		c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
		if err == nil {
			c.Close()
			return nil
		}
		if p != nil && p.exited() {
			return fmt.Errorf("%s exited before listening on %s: %v", p.name, addr, p.err)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%s: not listening on %s: %w", p.name, addr, ctx.Err())
		case <-time.After(50 * time.Millisecond):
		}
	}
}

type lineWriter struct {
	mu     *sync.Mutex
	w      io.Writer
	prefix string
	buf    []byte
}

var logMu sync.Mutex

func prefixWriter(w io.Writer, name string) io.Writer {
	if w == nil {
		return io.Discard
	}
	return &lineWriter{mu: &logMu, w: w, prefix: "[" + name + "] "}
}

func (l *lineWriter) Write(b []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.buf = append(l.buf, b...)
	for {
		i := strings.IndexByte(string(l.buf), '\n')
		if i < 0 {
			break
		}
		_, _ = fmt.Fprintf(l.w, "%s%s\n", l.prefix, l.buf[:i])
		l.buf = l.buf[i+1:]
	}
	return len(b), nil
}

// run runs a command to completion and returns its combined output in the error.
func run(ctx context.Context, dir string, env []string, argv ...string) error {
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Dir = dir
	cmd.Env = env
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("%s: %w\n%s", strings.Join(argv, " "), err, tail(out, 4000))
	}
	return nil
}

func tail(b []byte, n int) string {
	if len(b) > n {
		b = b[len(b)-n:]
	}
	return string(b)
}

// environ returns os.Environ with the given variables set (later ones win).
func environ(kv ...string) []string {
	env := os.Environ()
	return append(env, kv...)
}

var errClosed = errors.New("local cloud closed")
