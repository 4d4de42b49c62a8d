package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
)

// buildChild builds one of the bench's child programs (./infra/cmd/bench/<name>), which run a
// measurement in a process of their own so that its peak memory is its own.
func buildChild(ctx context.Context, b *bench, name string) (string, error) {
	bin := filepath.Join(b.tmp, name)
	build := exec.CommandContext(ctx, "go", "build", "-o", bin, "./infra/cmd/bench/"+name)
	build.Dir = b.root
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		return "", fmt.Errorf("build %s: %w\n%s", name, err, out)
	}
	return bin, nil
}

// runChild runs a child program with args and decodes the JSON it prints into out.
func runChild[T any](ctx context.Context, bin string, env, args []string, out *T) error {
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = env
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	printed, err := cmd.Output()
	if err != nil {
		return fmt.Errorf("%s %v: %w\n%s", filepath.Base(bin), args, err, stderr.Bytes())
	}
	if err := json.Unmarshal(printed, out); err != nil {
		return fmt.Errorf("%s %v printed %q: %w", filepath.Base(bin), args, printed, err)
	}
	return nil
}
