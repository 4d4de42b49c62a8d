// Package site builds the portal's static web site (the privacy policy in force, every past
// version, and the version catalogue /policy/versions.json) with the Hugo release pinned as a
// Go tool in site/tools/go.mod. The site sources (hugo.toml, content/, layouts/, i18n/,
// assets/, static/) live beside this file.
package site

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// Params are the operator's settings the site is built with (env HUGO_PARAMS_...).
type Params struct {
	OperatorName, OperatorContact, OfficerContact, HomeRegion      string
	CodeMinutes, SessionHours, ExportDays, PendingDays, BackupDays int
}

// paramKey pairs a Hugo site param with the environment variable that overrides it. Hugo
// lowercases everything after "HUGO_" and splits it on "_", so camelCase keys are written as
// one upper-case word: HUGO_PARAMS_RETENTION_CODEMINUTES is params.retention.codeminutes.
type paramKey struct {
	key string // dotted, lower case, as Hugo stores it
	env string
}

var (
	keyOperatorName    = paramKey{"params.operator.name", "HUGO_PARAMS_OPERATOR_NAME"}
	keyOperatorContact = paramKey{"params.operator.contact", "HUGO_PARAMS_OPERATOR_CONTACT"}
	keyOfficerContact  = paramKey{"params.operator.officer", "HUGO_PARAMS_OPERATOR_OFFICER"}
	keyHomeRegion      = paramKey{"params.operator.region", "HUGO_PARAMS_OPERATOR_REGION"}
	keyCodeMinutes     = paramKey{"params.retention.codeminutes", "HUGO_PARAMS_RETENTION_CODEMINUTES"}
	keySessionHours    = paramKey{"params.retention.sessionhours", "HUGO_PARAMS_RETENTION_SESSIONHOURS"}
	keyExportDays      = paramKey{"params.retention.exportdays", "HUGO_PARAMS_RETENTION_EXPORTDAYS"}
	keyPendingDays     = paramKey{"params.retention.pendingdays", "HUGO_PARAMS_RETENTION_PENDINGDAYS"}
	keyBackupDays      = paramKey{"params.retention.backupdays", "HUGO_PARAMS_RETENTION_BACKUPDAYS"}

	allKeys = []paramKey{keyOperatorName, keyOperatorContact, keyOfficerContact, keyHomeRegion,
		keyCodeMinutes, keySessionHours, keyExportDays, keyPendingDays, keyBackupDays}
)

// env returns the HUGO_PARAMS_... assignments for the non-zero fields of p.
func (p Params) env() ([]string, error) {
	var out []string
	str := func(k paramKey, v string) error {
		if v == "" {
			return nil
		}
		if strings.ContainsAny(v, "\x00\n\r") {
			return fmt.Errorf("site: %s must be a single line", k.env)
		}
		out = append(out, k.env+"="+v)
		return nil
	}
	num := func(k paramKey, v int) error {
		if v < 0 {
			return fmt.Errorf("site: %s must not be negative, got %d", k.env, v)
		}
		if v > 0 {
			out = append(out, k.env+"="+strconv.Itoa(v))
		}
		return nil
	}
	return out, errors.Join(
		str(keyOperatorName, p.OperatorName),
		str(keyOperatorContact, p.OperatorContact),
		str(keyOfficerContact, p.OfficerContact),
		str(keyHomeRegion, p.HomeRegion),
		num(keyCodeMinutes, p.CodeMinutes),
		num(keySessionHours, p.SessionHours),
		num(keyExportDays, p.ExportDays),
		num(keyPendingDays, p.PendingDays),
		num(keyBackupDays, p.BackupDays),
	)
}

// hugoConfigKey returns the config key Hugo reads from an environment variable name, the way
// Hugo 0.165 does it: "HUGO", then any one character as the separator, then the path. So
// HUGO_PARAMS_OPERATOR_NAME and HUGOxPARAMSxOPERATORxNAME are the same key.
func hugoConfigKey(name string) (string, bool) {
	rest, ok := strings.CutPrefix(name, "HUGO")
	if !ok || len(rest) < 2 {
		return "", false
	}
	sep, path := rest[:1], rest[1:]
	return strings.ToLower(strings.ReplaceAll(path, sep, ".")), true
}

// buildEnv is the environment Hugo runs with: ours, minus any inherited variable that would
// set one of the operator params, so the result depends on p and hugo.toml only.
func buildEnv(inherited []string, p Params) ([]string, error) {
	ours, err := p.env()
	if err != nil {
		return nil, err
	}
	managed := make(map[string]bool, len(allKeys))
	for _, k := range allKeys {
		managed[k.key] = true
	}
	env := make([]string, 0, len(inherited)+len(ours)+1)
	for _, kv := range inherited {
		name, _, _ := strings.Cut(kv, "=")
		if key, ok := hugoConfigKey(name); ok && managed[key] {
			continue
		}
		if name == "GOWORK" {
			continue
		}
		env = append(env, kv)
	}
	// tools/go.mod is its own module; a go.work above it (if someone adds one) must not
	// pull it into a workspace, or `go tool` would refuse to run from there.
	env = append(env, "GOWORK=off")
	return append(env, ours...), nil
}

// Build runs the pinned Hugo (go tool with site/tools/go.mod) on siteDir into outDir. Zero-valued Params fields keep hugo.toml's defaults.
//
// outDir is emptied first (--cleanDestinationDir), so it must not be siteDir or contain it.
// On failure the returned error carries Hugo's output, including every errorf from the
// layouts (for example a policy version that takes effect less than 7 days after publication).
func Build(ctx context.Context, siteDir, outDir string, p Params) error {
	if siteDir == "" || outDir == "" {
		return errors.New("site: Build needs a site directory and an output directory")
	}
	src, err := filepath.Abs(siteDir)
	if err != nil {
		return fmt.Errorf("site: %w", err)
	}
	dst, err := filepath.Abs(outDir)
	if err != nil {
		return fmt.Errorf("site: %w", err)
	}
	if rel, err := filepath.Rel(dst, src); err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
		return fmt.Errorf("site: output directory %s would contain the site sources %s; it is emptied before the build", dst, src)
	}
	env, err := buildEnv(os.Environ(), p)
	if err != nil {
		return err
	}
	tools := filepath.Join(src, "tools")

	cmd := exec.CommandContext(ctx, "go", "tool", "-modfile="+filepath.Join(tools, "go.mod"), "hugo",
		"--source", src,
		"--destination", dst,
		"--cleanDestinationDir",
		// Not --quiet: in Hugo 0.165 --quiet also swallows ERROR lines, so a failed build
		// (errorf in a layout) exits 1 with no output at all. Errors and warnings only instead.
		"--logLevel", "warn",
		"--printI18nWarnings",
		// No .hugo_build.lock in the sources: they may be read-only, and builds of the same
		// sources into different outputs (parallel tests) need not queue on the lock.
		"--noBuildLock",
	)
	// Run from tools/: -modfile still needs a go.mod in the working directory's tree to find
	// the module root, which a copied site (or a checkout used as a plain directory) may lack.
	cmd.Dir = tools
	cmd.Env = env
	var out bytes.Buffer
	cmd.Stdout = &out
	cmd.Stderr = &out
	// `go tool` runs hugo as a child process; if ctx kills `go`, do not wait forever for the
	// child to close the output pipe.
	cmd.WaitDelay = 10 * time.Second
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("site: hugo build of %s failed: %w\n%s", src, err, strings.TrimSpace(out.String()))
	}
	return nil
}
