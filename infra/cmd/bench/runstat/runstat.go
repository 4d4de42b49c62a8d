// Package runstat is what the bench's child processes (exportrun, erasurerun) measure of
// themselves.
package runstat

import (
	"bufio"
	"errors"
	"os"
	"runtime/pprof"
	"strconv"
	"strings"
	"time"
)

// MS is d in milliseconds.
func MS(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// PeakRSS reads the process's peak resident set size from /proc/self/status (VmHWM, in kB).
func PeakRSS() (int64, error) {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return kb << 10, err
		}
	}
	return 0, errors.Join(sc.Err(), errors.New("no VmHWM in /proc/self/status"))
}

// Profile starts a CPU profile into path (none if path is empty); stop ends it.
func Profile(path string) (stop func(), err error) {
	if path == "" {
		return func() {}, nil
	}
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, err
	}
	return func() { pprof.StopCPUProfile(); f.Close() }, nil
}
