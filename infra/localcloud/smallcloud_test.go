package localcloud_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/privacyportal/portal/infra/localcloud"
)

// startSmallCloud starts the local cloud on a small template of this package's tests, with the
// test functions (internal/testfunctions), and stops it when the test ends, printing the end of
// its log if the test failed. It returns the cloud and the path of its log.
func startSmallCloud(t *testing.T, prefix, template string, instances int) (*localcloud.Cloud, string) {
	t.Helper()
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "template.yaml")
	if err := os.WriteFile(path, []byte(template), 0o600); err != nil {
		t.Fatal(err)
	}
	logs, err := os.Create(filepath.Join(dir, "cloud.log"))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	defer cancel()
	c, err := localcloud.Start(ctx, localcloud.Config{
		Root: root, Template: path, FunctionsDirs: []string{"internal/testfunctions"},
		Prefix: prefix, Instances: instances, Logs: logs, Version: "test",
	})
	if err != nil {
		t.Fatalf("start: %v", err)
	}
	t.Cleanup(func() {
		c.Close()
		if t.Failed() {
			b, _ := os.ReadFile(logs.Name())
			t.Logf("cloud log tail:\n%s", tailString(string(b), 4000))
		}
	})
	return c, logs.Name()
}
