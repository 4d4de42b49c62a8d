package localcloud

import (
	"bufio"
	"fmt"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
)

// Fault injection: a function killed mid-invoke, as a crash, an out-of-memory kill or a Lambda
// timeout ends it. What follows is what AWS does, and the local cloud does nothing special
// for it:
//
//   - The invoke fails (Invoke returns a *FunctionError of type Runtime.ExitError), the
//     killed instance is replaced, so the pool keeps its size, and the exit is no failure of
//     the cloud: nothing watches instances but Invoke.
//   - An SQS batch whose invoke failed is logged by its poller and left in the queue: it is
//     received again once the visibility timeout it was received with has passed, and the
//     queue's redrive policy counts the receive (maxReceiveCount) as for any failure.
//   - Calls the function made before the crash have happened; the call CrashOn fired on has
//     not (the proxy kills before forwarding it), nor anything after it. IAMCalls lists that
//     call as authorized, since it was. Calls the function had already sent alongside it
//     (e.g. other parts of a multipart upload, uploaded in parallel) may still reach the
//     emulator, as they may in AWS: they leave an upload never completed, no object.
//
// Redelivery comes after the queue's VisibilityTimeout, which the template sets long (JobQueue
// 1800 s: six times ExportFunction's timeout). The SQS emulator (fauxqs, see emulators.go)
// reads the queue's VisibilityTimeout at each receive, as SQS does, so a test makes redelivery
// quick by lowering it before the message is received, with the cloud's own client:
//
//	c.SQS.SetQueueAttributes(ctx, &sqs.SetQueueAttributesInput{QueueUrl: aws.String(c.Names["JobQueue"]),
//		Attributes: map[string]string{"VisibilityTimeout": "2"}})
//
// and puts the template's value back afterwards (t.Cleanup). A change after the receive does
// not shorten the wait of a message already received (in SQS neither). Meanwhile the short
// timeout applies to every message of the queue: one whose invoke takes longer than that is
// received a second time while the first invoke still runs, as it would be in AWS.

// crash is one pending CrashOn.
type crash struct {
	function string
	action   string
	// skip is how many matching calls still go through before the one it fires on.
	skip  int
	fired atomic.Bool
}

// CrashOn makes the next call of action by function kill the function's instance that made
// the call, as a crash or a Lambda timeout would, before the call reaches the emulator. It
// fires once (call CrashOn again for another crash); the returned func reports whether it
// has fired, which it has once the instance's processes (RIE and the function's bootstrap)
// are gone. The call itself is then cut off (its connection closed), so nothing of it is
// written.
//
// action is an IAM action as the proxy records it in IAMCall.Action ("s3:PutObject", which
// S3 also requires of CreateMultipartUpload, UploadPart and CompleteMultipartUpload), or an
// API operation as "service:Operation" ("s3:UploadPart") to crash at one of those; case does
// not matter. The crash fires only on a call the function's policies allow: a refused call
// never reaches the emulator anyway.
//
// The instance killed is the one whose process holds the connection the call came on (found
// through /proc), so with several invokes of the function running at once only the caller
// dies, even if it makes the call at its init, outside any invoke. Should that lookup fail,
// every instance of the function that is serving an invoke is killed, and the log says so.
// A CrashOn that never fires stays pending: ResetCrashes drops it (e.g. in t.Cleanup, on the
// shared cloud). See the top of crash.go for what the crash leads to. CrashOn panics if the
// template has no such function or no IAM proxy runs (StartServices).
func (c *Cloud) CrashOn(function, action string) (fired func() bool) {
	return c.CrashOnNth(function, action, 1)
}

// CrashOnNth is CrashOn on the nth matching call from now (n >= 1), for a crash part of the
// way through a run of calls (the 200th batch of a large deletion) that a test could not
// time by watching IAMCalls.
func (c *Cloud) CrashOnNth(function, action string, n int) (fired func() bool) {
	if _, err := c.principal(function); err != nil {
		panic("CrashOn: " + err.Error())
	}
	if n < 1 {
		panic("CrashOnNth: n must be at least 1")
	}
	cr := &crash{function: function, action: action, skip: n - 1}
	c.iam.mu.Lock()
	c.iam.crashes = append(c.iam.crashes, cr)
	c.iam.mu.Unlock()
	return cr.fired.Load
}

// ResetCrashes drops the pending CrashOn crashes of function (every function's if it is ""),
// and reports how many it dropped.
func (c *Cloud) ResetCrashes(function string) int {
	if c.iam == nil {
		return 0
	}
	c.iam.mu.Lock()
	defer c.iam.mu.Unlock()
	n := len(c.iam.crashes)
	kept := c.iam.crashes[:0]
	for _, cr := range c.iam.crashes {
		if function != "" && cr.function != function {
			kept = append(kept, cr)
		}
	}
	clear(c.iam.crashes[len(kept):])
	c.iam.crashes = kept
	return n - len(kept)
}

// crashOn is called once a call is authorized, before it is forwarded: if a pending crash
// matches the call (one of the actions it was authorized for, or service:op), it kills the
// calling instance and aborts the request, and does not return.
func (p *iamProxy) crashOn(pr *principal, r *http.Request, svc, op string, actions ...string) {
	fn := pr.caller.Function
	p.mu.Lock()
	var cr *crash
	for i, pending := range p.crashes {
		if pending.function != fn {
			continue
		}
		match := strings.EqualFold(pending.action, svc+":"+op)
		for _, a := range actions {
			match = match || strings.EqualFold(pending.action, a)
		}
		if match && pending.skip > 0 {
			pending.skip--
			continue
		}
		if match {
			cr = pending
			p.crashes = append(p.crashes[:i:i], p.crashes[i+1:]...)
			break
		}
	}
	p.mu.Unlock()
	if cr == nil {
		return
	}
	f := p.c.functions[fn]
	targets, found := callers(f, r)
	for _, inst := range targets {
		inst.killed.Store(true)
		if inst.proc.kill(5 * time.Second) {
			p.c.logf("crash: killed %s (pid %d) on its %s %s call (CrashOn %s)", inst.proc.name, inst.proc.cmd.Process.Pid, svc, op, cr.action)
		} else {
			p.c.logf("crash: killed %s (pid %d) on its %s %s call (CrashOn %s), but it had not exited within 5 s", inst.proc.name, inst.proc.cmd.Process.Pid, svc, op, cr.action)
		}
	}
	switch {
	case len(targets) == 0:
		p.c.logf("crash: CrashOn %s %s fired, but no instance of %s could be found to kill", fn, cr.action, fn)
	case !found:
		p.c.logf("crash: the instance that made the call was not found; killed every busy instance of %s", fn)
	}
	cr.fired.Store(true)
	// Closes the connection without an answer: the caller is gone, and nothing was forwarded.
	panic(http.ErrAbortHandler)
}

// callers finds the instance of fn whose processes hold the client end of r's connection. If
// none does (or /proc cannot tell), it returns every instance serving an invoke, and false.
func callers(fn *function, r *http.Request) ([]*instance, bool) {
	fn.mu.Lock()
	insts := make(map[*instance]bool, len(fn.insts))
	for inst, busy := range fn.insts {
		if !inst.dead() {
			insts[inst] = busy
		}
	}
	fn.mu.Unlock()
	if inode := clientSocket(r); inode != "" {
		for inst := range insts {
			if inst.holds(inode) {
				return []*instance{inst}, true
			}
		}
	}
	var busy []*instance
	for inst, b := range insts {
		if b {
			busy = append(busy, inst)
		}
	}
	return busy, false
}

// clientSocket returns the inode of the socket at the client end of r's connection: the
// loopback TCP socket whose local port is r's remote port and whose peer is the proxy's port.
func clientSocket(r *http.Request) string {
	local, _ := r.Context().Value(http.LocalAddrContextKey).(net.Addr)
	remote, err := net.ResolveTCPAddr("tcp", r.RemoteAddr)
	if local == nil || err != nil {
		return ""
	}
	server, ok := local.(*net.TCPAddr)
	if !ok {
		return ""
	}
	for _, table := range []string{"/proc/net/tcp", "/proc/net/tcp6"} {
		f, err := os.Open(table)
		if err != nil {
			continue
		}
		sc := bufio.NewScanner(f)
		sc.Scan() // header
		for sc.Scan() {
			// sl local_address rem_address st tx:rx tr:when retrnsmt uid timeout inode ...
			fields := strings.Fields(sc.Text())
			if len(fields) < 10 || hexPort(fields[1]) != remote.Port || hexPort(fields[2]) != server.Port || fields[9] == "0" {
				continue
			}
			f.Close()
			return fields[9]
		}
		f.Close()
	}
	return ""
}

// hexPort reads the port of a /proc/net/tcp address ("0100007F:9C40").
func hexPort(addr string) int {
	_, port, ok := strings.Cut(addr, ":")
	if !ok {
		return -1
	}
	n, err := strconv.ParseUint(port, 16, 16)
	if err != nil {
		return -1
	}
	return int(n)
}

// holds reports whether RIE or a process below it (the bootstrap) has the socket open.
func (i *instance) holds(inode string) bool {
	want := "socket:[" + inode + "]"
	pid := i.proc.cmd.Process.Pid
	for _, p := range append([]int{pid}, descendants(pid)...) {
		dir := fmt.Sprintf("/proc/%d/fd", p)
		entries, err := os.ReadDir(dir)
		if err != nil {
			continue
		}
		for _, e := range entries {
			if link, err := os.Readlink(dir + "/" + e.Name()); err == nil && link == want {
				return true
			}
		}
	}
	return false
}
