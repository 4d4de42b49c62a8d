package main

import (
	"context"
	"debug/elf"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"

	"golang.org/x/sync/errgroup"

	"github.com/privacyportal/portal/infra/localcloud"
)

const (
	// floorID is the hello-world Lambda every function is compared with. It lives in
	// functionsDirs' second directory and is built by the same make rule as the portal's.
	floorID = "HelloFunction"
	// deployArch is what the functions run on in AWS (template Globals: Architectures).
	deployArch = "arm64"
	hostArch   = runtime.GOARCH
)

var functionsDirs = []string{"functions", "internal/benchfloor"}

// elfMachine is what a bootstrap built for a GOARCH must say it is: a build that quietly
// ignored the requested architecture would make the size comparison meaningless.
var elfMachine = map[string]elf.Machine{
	"amd64": elf.EM_X86_64,
	"arm64": elf.EM_AARCH64,
}

// build builds RIE, and every function and the floor for the host (to run them) and for
// arm64 (to size what is deployed).
func (b *bench) build(ctx context.Context) error {
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(max(1, runtime.NumCPU()))
	g.Go(func() error {
		var err error
		b.rie, err = localcloud.BuildRIE(gctx, b.root, filepath.Join(b.tmp, "bin"))
		return err
	})
	ids := []string{floorID}
	for _, f := range b.functions {
		ids = append(ids, f.LogicalID)
	}
	archs := []string{hostArch}
	if deployArch != hostArch {
		archs = append(archs, deployArch)
	}
	type job struct{ id, arch, path string }
	var jobs []*job
	for _, id := range ids {
		b.bootstraps[id] = map[string]string{}
		for _, arch := range archs {
			jobs = append(jobs, &job{id: id, arch: arch})
		}
	}
	for _, j := range jobs {
		g.Go(func() error {
			out := filepath.Join(b.tmp, j.arch, j.id)
			var err error
			if j.arch == hostArch {
				// Exactly what the local cloud runs.
				j.path, err = localcloud.BuildFunction(gctx, b.root, functionsDirs, j.id, out, "")
			} else {
				j.path, err = buildFor(gctx, b.root, j.id, j.arch, out)
			}
			if err != nil {
				return err
			}
			return checkArch(j.path, j.arch)
		})
	}
	if err := g.Wait(); err != nil {
		return err
	}
	for _, j := range jobs {
		b.bootstraps[j.id][j.arch] = j.path
	}
	return nil
}

// buildFor runs the make rule `sam build` and `make build` use, for another architecture
// than the host's (localcloud.BuildFunction always builds for the host).
func buildFor(ctx context.Context, root, logicalID, arch, outDir string) (string, error) {
	cmd := exec.CommandContext(ctx, "make", "-s", "--no-print-directory", "-C", root, "build-"+logicalID,
		"ARTIFACTS_DIR="+outDir, "LAMBDA_GOARCH="+arch, "FUNCTIONS_DIRS="+strings.Join(functionsDirs, " "))
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("build %s for %s: %w\n%s", logicalID, arch, err, out)
	}
	return filepath.Join(outDir, "bootstrap"), nil
}

func checkArch(path, arch string) error {
	want, ok := elfMachine[arch]
	if !ok {
		return nil
	}
	f, err := elf.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	if f.Machine != want {
		return fmt.Errorf("%s: built for %s but is %s", path, arch, f.Machine)
	}
	return nil
}

// binarySizes compares each function's bootstrap with the floor's, for the deploy
// architecture and for the host.
func binarySizes(_ context.Context, b *bench) ([]Result, error) {
	var rs []Result
	for _, f := range b.functions {
		for _, arch := range []string{deployArch, hostArch} {
			size, err := fileSize(b.bootstraps[f.LogicalID][arch])
			if err != nil {
				return rs, err
			}
			floor, err := fileSize(b.bootstraps[floorID][arch])
			if err != nil {
				return rs, err
			}
			suffix := "host"
			if arch == deployArch {
				suffix = deployArch
			}
			rs = append(rs, compare(fmt.Sprintf("binary.%s.%s", f.LogicalID, suffix), "bytes", float64(size), floorID, float64(floor)))
		}
	}
	return rs, nil
}

func fileSize(path string) (int64, error) {
	st, err := os.Stat(path)
	if err != nil {
		return 0, err
	}
	return st.Size(), nil
}
