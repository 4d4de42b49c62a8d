// Command breachgen writes breached.bin, the common-password data of package strength
// (go generate ./internal/password/strength).
//
// The source is the "passwords" frequency list that zxcvbn ships: the 47,023 passwords seen at
// least 11 times in Xato's corpus of 10 million passwords from breaches, one a line with its
// count, in data/passwords.txt of the Go module github.com/trustelem/zxcvbn v1.0.1 (MIT
// licence). The module is fetched with the go command, outside any module so no go.mod
// changes, and both the module's checksum and the file's SHA-256 are pinned below: the data
// can be rebuilt, byte for byte, on any machine that reaches the Go module proxy (or has the
// module in its cache), and a changed source is an error rather than a silent change of rule.
//
// Each entry is folded (package fold: lower case, look-alike substitutions undone), hashed to
// a fold.KeyLen-byte key, and the keys are written sorted and without repeats, back to back:
// the rule finds a key by binary search in the embedded file with no work at package init.
package main

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/privacyportal/portal/internal/password/strength/internal/fold"
)

// The pinned source. Changing any of these is a reviewed change of the password rule.
const (
	sourceModule = "github.com/trustelem/zxcvbn@v1.0.1"
	// sourceModuleSum is the module's go.sum hash ("h1:"), as the checksum database has it.
	sourceModuleSum = "h1:mp4JFtzdDYGj9WYSD3KQSkwwUumWNFzXaAjckaTYpsc="
	sourceFile      = "data/passwords.txt"
	sourceSHA256    = "6313cc5ef683a0461416318ee3b16f3d771a3cd10ea2aae54571d27ff95d951f"
	// sourceEntries is the number of lines of sourceFile, a check that it was read whole.
	sourceEntries = 47023
)

// minRunes is the shortest entry kept: the rule looks up nothing shorter (a password's core,
// once the digits and symbols around it are set aside, must be 3 characters to be looked up).
const minRunes = 3

func main() {
	log.SetFlags(0)
	log.SetPrefix("breachgen: ")
	out := flag.String("out", "breached.bin", "where to write the data")
	check := flag.Bool("check", false, "compare -out with what would be written, and fail if they differ")
	flag.Parse()

	data, err := generate()
	if err != nil {
		log.Fatal(err)
	}
	if *check {
		old, err := os.ReadFile(*out)
		if err != nil {
			log.Fatal(err)
		}
		if !bytes.Equal(old, data) {
			log.Fatalf("%s is not what %s's %s gives: run go generate ./internal/password/strength", *out, sourceModule, sourceFile)
		}
		return
	}
	if err := os.WriteFile(*out, data, 0o644); err != nil {
		log.Fatal(err)
	}
	log.Printf("wrote %s: %d keys of %d bytes (%d bytes) from %s %s", *out, len(data)/fold.KeyLen, fold.KeyLen, len(data), sourceModule, sourceFile)
}

// readSource returns the pinned source file, fetched (or found in the module cache) by the go
// command and checked against both pins.
func readSource() ([]byte, error) {
	dir, err := os.MkdirTemp("", "breachgen-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	cmd := exec.Command("go", "mod", "download", "-json", sourceModule)
	// Outside any module and workspace, so the download changes no go.mod or go.sum; GOFLAGS
	// is cleared so a -mod setting meant for the repository does not apply here.
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOWORK=off", "GOFLAGS=")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	js, err := cmd.Output()
	var mod struct{ Dir, Sum, Error string }
	if jerr := json.Unmarshal(js, &mod); jerr != nil || mod.Error != "" || err != nil {
		return nil, fmt.Errorf("go mod download %s: %v %s %s", sourceModule, errors.Join(err, jerr), mod.Error, strings.TrimSpace(stderr.String()))
	}
	if mod.Sum != sourceModuleSum {
		return nil, fmt.Errorf("%s has checksum %s, want %s", sourceModule, mod.Sum, sourceModuleSum)
	}
	b, err := os.ReadFile(filepath.Join(mod.Dir, filepath.FromSlash(sourceFile)))
	if err != nil {
		return nil, err
	}
	if sum := sha256.Sum256(b); hex.EncodeToString(sum[:]) != sourceSHA256 {
		return nil, fmt.Errorf("%s of %s has SHA-256 %x, want %s", sourceFile, sourceModule, sum, sourceSHA256)
	}
	return b, nil
}

// generate returns the data made from the pinned source.
func generate() ([]byte, error) {
	src, err := readSource()
	if err != nil {
		return nil, err
	}
	data, n, err := build(src)
	if err != nil {
		return nil, err
	}
	if n != sourceEntries {
		return nil, fmt.Errorf("read %d entries of %s, want %d", n, sourceFile, sourceEntries)
	}
	return data, nil
}

// build turns a source of "password count" lines into the data: the sorted, distinct keys of
// the folded entries of at least minRunes characters. n is the number of entries read.
func build(src []byte) (data []byte, n int, err error) {
	var keys [][fold.KeyLen]byte
	sc := bufio.NewScanner(bytes.NewReader(src))
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) != 2 {
			return nil, 0, fmt.Errorf("line %d: want a password and a count, got %q", n+1, sc.Text())
		}
		n++
		if utf8.RuneCountInString(fields[0]) >= minRunes {
			keys = append(keys, fold.String(fields[0]))
		}
	}
	if err := sc.Err(); err != nil {
		return nil, 0, err
	}
	slices.SortFunc(keys, func(a, b [fold.KeyLen]byte) int { return bytes.Compare(a[:], b[:]) })
	keys = slices.Compact(keys)
	data = make([]byte, 0, len(keys)*fold.KeyLen)
	for _, k := range keys {
		data = append(data, k[:]...)
	}
	return data, n, nil
}
