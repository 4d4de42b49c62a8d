// Package portaltest gives tests a running portal: the local cloud, started once per test
// binary on free loopback ports, with clients for the portal, DynamoDB, S3, SQS and the SES
// mailbox, and a headless Chromium. A test package that uses it runs
//
//	func TestMain(m *testing.M) { os.Exit(portaltest.Main(m)) }
//
// so the cloud stops after the package's tests. Setting PORTAL_URL points the end-to-end
// tests at an already running portal (e.g. on LocalStack) instead.
package portaltest

import (
	"context"
	"fmt"
	"net/http"
	"net/http/cookiejar"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/privacyportal/portal/infra/localcloud"
)

var (
	once     sync.Once
	cloud    *localcloud.Cloud
	startErr error
	logPath  string
)

// Main runs the tests, then stops the local cloud if a test started it. On failure it points
// at the cloud's log.
func Main(m *testing.M) int {
	code := m.Run()
	if cloud != nil {
		cloud.Close()
	}
	if logPath != "" {
		if code != 0 {
			fmt.Fprintf(os.Stderr, "local cloud log (emulators and functions): %s\n", logPath)
		} else {
			_ = os.Remove(logPath) // kept only when something failed
		}
	}
	return code
}

// Root returns the repository root, found from this source file.
func Root() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..")
}

// Cloud returns the shared local cloud, starting it on first use. A start failure fails the
// test; it never skips.
func Cloud(tb testing.TB) *localcloud.Cloud {
	tb.Helper()
	if os.Getenv("PORTAL_URL") != "" {
		// A deployed portal gives a test nothing but its HTTP API and its mailbox: no table, no
		// function logs, no site files. Such tests are left out by name (see e2e's TestMain).
		tb.Fatalf("%s needs the local cloud (its table, logs or files), not only PORTAL_URL: run it with make test", tb.Name())
	}
	once.Do(func() {
		f, err := os.CreateTemp("", "localcloud-*.log")
		if err != nil {
			startErr = err
			return
		}
		logPath = f.Name()
		ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
		defer cancel()
		cloud, startErr = localcloud.Start(ctx, localcloud.Config{
			Root: Root(), Logs: f, Prefix: "test", Instances: 4, Version: "test",
			// Campaigns send at the account's SES rate: the template's default (1 a second, a
			// new SES account's) would make a test of thousands of recipients take hours.
			Params: map[string]string{"SesSendRate": "200"},
		})
	})
	if startErr != nil {
		tb.Fatalf("start local cloud: %v (log: %s)", startErr, logPath)
	}
	return cloud
}

// URL returns the portal's base URL: PORTAL_URL if set, else the local cloud's.
func URL(tb testing.TB) string {
	tb.Helper()
	if u := os.Getenv("PORTAL_URL"); u != "" {
		return u
	}
	return Cloud(tb).URL
}

// Client returns an HTTP client with its own cookie jar (one visitor), which does not follow
// redirects so tests can see them.
func Client(tb testing.TB) *http.Client {
	tb.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		tb.Fatal(err)
	}
	return &http.Client{
		Jar:     jar,
		Timeout: 30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
}
