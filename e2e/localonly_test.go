package e2e

import (
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestLocalOnlyListsEveryTestThatNeedsTheLocalCloud reads this package's source: every test
// that reaches the local cloud itself (portaltest.Cloud, the table, the functions' log), through
// any helper, must be in localOnly, and every name there must be such a test. The browser
// tests are left out by the make target's -skip instead.
func TestLocalOnlyListsEveryTestThatNeedsTheLocalCloud(t *testing.T) {
	files, err := filepath.Glob("*_test.go")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	calls := map[string][]string{} // function -> what it calls, by name
	for _, f := range files {
		af, err := parser.ParseFile(fset, f, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range af.Decls {
			fd, ok := d.(*ast.FuncDecl)
			if !ok {
				continue
			}
			name := fd.Name.Name
			if fd.Recv != nil {
				name = "." + name
			}
			ast.Inspect(fd, func(n ast.Node) bool {
				if c, ok := n.(*ast.CallExpr); ok {
					switch fn := c.Fun.(type) {
					case *ast.Ident:
						calls[name] = append(calls[name], fn.Name)
					case *ast.SelectorExpr:
						if x, ok := fn.X.(*ast.Ident); ok && x.Name == "portaltest" {
							calls[name] = append(calls[name], "portaltest."+fn.Sel.Name)
						} else {
							calls[name] = append(calls[name], "."+fn.Sel.Name)
						}
					}
				}
				return true
			})
			if _, ok := calls[name]; !ok {
				calls[name] = nil
			}
		}
	}
	direct := []string{"portaltest.Cloud", "table", "cloudLog"}
	var reaches func(fn string, seen map[string]bool) bool
	reaches = func(fn string, seen map[string]bool) bool {
		for _, c := range calls[fn] {
			if slices.Contains(direct, c) {
				return true
			}
			if _, ours := calls[c]; ours && !seen[c] {
				seen[c] = true
				if reaches(c, seen) {
					return true
				}
			}
		}
		return false
	}
	for fn := range calls {
		if !strings.HasPrefix(fn, "Test") || fn == "TestMain" || strings.Contains(fn, "Browser") {
			continue
		}
		_, listed := localOnly[fn]
		switch needs := reaches(fn, map[string]bool{fn: true}); {
		case needs && !listed:
			t.Errorf("%s reaches the local cloud but is not in localOnly: say why it cannot run against PORTAL_URL", fn)
		case !needs && listed:
			t.Errorf("%s is in localOnly but needs only HTTP: let it run against PORTAL_URL", fn)
		}
	}
	for fn := range localOnly {
		if _, ok := calls[fn]; !ok {
			t.Errorf("localOnly names %s, which is not a test of this package", fn)
		}
	}
}
