package dynamodb_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// retentionDoc is the table of retention rules (P12).
const retentionDoc = "../../docs/retention.md"

// kindConstants reads the adapter's source for its Kind constants, so that a kind added to
// any file of the package is found without being listed here.
func kindConstants(tb testing.TB) []string {
	tb.Helper()
	paths, err := filepath.Glob("*.go")
	if err != nil {
		tb.Fatal(err)
	}
	var kinds []string
	fset := token.NewFileSet()
	for _, p := range paths {
		if strings.HasSuffix(p, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, p, nil, parser.SkipObjectResolution)
		if err != nil {
			tb.Fatal(err)
		}
		ast.Inspect(f, func(n ast.Node) bool {
			vs, ok := n.(*ast.ValueSpec)
			if !ok {
				return true
			}
			if id, ok := vs.Type.(*ast.Ident); !ok || id.Name != "Kind" {
				return true
			}
			for i := range vs.Names {
				if i < len(vs.Values) {
					if lit, ok := vs.Values[i].(*ast.BasicLit); ok {
						k, _ := strconv.Unquote(lit.Value)
						kinds = append(kinds, k)
					}
				}
			}
			return true
		})
	}
	if len(kinds) == 0 {
		tb.Fatal("found no Kind constants")
	}
	return kinds
}

// Every kind of item in a person's partition has a row in the retention table, so a kind added
// without a retention rule fails here.
func TestP12_RetentionDocListsEveryKind(t *testing.T) {
	b, err := os.ReadFile(retentionDoc)
	if err != nil {
		t.Fatal(err)
	}
	rows := map[string]bool{}
	for _, line := range strings.Split(string(b), "\n") {
		if cells := strings.Split(line, "|"); len(cells) > 2 {
			rows[strings.TrimSpace(cells[1])] = true
		}
	}
	for _, k := range kindConstants(t) {
		if !rows["`"+k+"`"] {
			t.Errorf("%s has no row in %s (| `%s` | what it holds | rule | parameter | mechanism |)", k, retentionDoc, k)
		}
	}
	if !strings.Contains(string(b), "TOMBSTONE#") {
		t.Errorf("%s does not list tombstones", retentionDoc)
	}
}
