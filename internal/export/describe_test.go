package export

import (
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// adapterDir is the table's adapter, whose item structs say what the table holds.
const adapterDir = "../dynamodb"

// storedFields reads the adapter's source and returns, by kind, every attribute it writes to
// the items of a subject's partition. An item is found where the adapter builds it: a
// composite literal (of a struct with dynamodbav tags, or an Item map) whose PK is
// SubjectPK(...) and whose SK names a Kind constant, directly or in a function of the
// package it calls. The struct's dynamodbav tags (or the map's keys) are its attributes.
// Reading the source rather than reflecting on types keeps the item structs unexported.
func storedFields(tb testing.TB) map[string][]string {
	tb.Helper()
	fset := token.NewFileSet()
	paths, err := filepath.Glob(filepath.Join(adapterDir, "*.go"))
	if err != nil || len(paths) == 0 {
		tb.Fatalf("no adapter source in %s: %v", adapterDir, err)
	}
	var files []*ast.File
	for _, p := range paths {
		if strings.HasSuffix(p, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, p, nil, parser.SkipObjectResolution)
		if err != nil {
			tb.Fatal(err)
		}
		files = append(files, f)
	}

	kindConsts := map[string]string{}   // KindProfile -> PROFILE
	structTags := map[string][]string{} // profileItem -> attributes
	funcs := map[string]*ast.FuncDecl{}
	for _, f := range files {
		for _, d := range f.Decls {
			switch d := d.(type) {
			case *ast.FuncDecl:
				if d.Recv == nil {
					funcs[d.Name.Name] = d
				}
			case *ast.GenDecl:
				for _, s := range d.Specs {
					switch s := s.(type) {
					case *ast.ValueSpec:
						if id, ok := s.Type.(*ast.Ident); ok && id.Name == "Kind" {
							for i, name := range s.Names {
								if lit, ok := s.Values[i].(*ast.BasicLit); ok {
									kindConsts[name.Name], _ = strconv.Unquote(lit.Value)
								}
							}
						}
					case *ast.TypeSpec:
						if st, ok := s.Type.(*ast.StructType); ok {
							structTags[s.Name.Name] = dynamodbavTags(st)
						}
					}
				}
			}
		}
	}
	if len(kindConsts) == 0 {
		tb.Fatal("found no Kind constants in the adapter")
	}

	// kindsIn returns the Kind constants an expression names, looking one call deep into
	// the package's own functions (SK: requestKey(id) that returns SortKey(KindRequest, id)).
	var kindsIn func(e ast.Node, depth int) []string
	kindsIn = func(e ast.Node, depth int) []string {
		var found []string
		ast.Inspect(e, func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.Ident:
				if k, ok := kindConsts[n.Name]; ok && !slices.Contains(found, k) {
					found = append(found, k)
				}
			case *ast.CallExpr:
				if id, ok := n.Fun.(*ast.Ident); ok && depth > 0 {
					if fd, ok := funcs[id.Name]; ok && fd.Body != nil {
						found = append(found, kindsIn(fd.Body, depth-1)...)
					}
				}
			}
			return true
		})
		return found
	}
	callsSubjectPK := func(e ast.Expr) bool {
		found := false
		ast.Inspect(e, func(n ast.Node) bool {
			if c, ok := n.(*ast.CallExpr); ok {
				if id, ok := c.Fun.(*ast.Ident); ok && id.Name == "SubjectPK" {
					found = true
				}
			}
			return !found
		})
		return found
	}

	stored := map[string][]string{}
	add := func(kind string, attrs []string) {
		for _, a := range attrs {
			if a != "PK" && a != "SK" && !slices.Contains(stored[kind], a) {
				stored[kind] = append(stored[kind], a)
			}
		}
	}
	for _, f := range files {
		ast.Inspect(f, func(n ast.Node) bool {
			lit, ok := n.(*ast.CompositeLit)
			if !ok {
				return true
			}
			var pk, sk ast.Expr
			var mapKeys []string
			for _, el := range lit.Elts {
				kv, ok := el.(*ast.KeyValueExpr)
				if !ok {
					continue
				}
				var name string
				switch k := kv.Key.(type) {
				case *ast.Ident: // a struct's field
					name = k.Name
				case *ast.BasicLit: // an Item map's attribute
					name, _ = strconv.Unquote(k.Value)
					mapKeys = append(mapKeys, name)
				}
				switch name {
				case "PK":
					pk = kv.Value
				case "SK":
					sk = kv.Value
				}
			}
			if pk == nil || sk == nil || !callsSubjectPK(pk) {
				return true
			}
			ks := kindsIn(sk, 2)
			pos := fset.Position(lit.Pos())
			if len(ks) != 1 {
				tb.Errorf("%s: cannot tell the kind of the item built here (its SK names %v)", pos, ks)
				return true
			}
			if id, ok := lit.Type.(*ast.Ident); ok {
				if tags, ok := structTags[id.Name]; ok {
					add(ks[0], tags)
					return true
				}
			}
			if len(mapKeys) > 0 {
				add(ks[0], mapKeys)
				return true
			}
			tb.Errorf("%s: cannot tell the attributes of the %s item built here", pos, ks[0])
			return true
		})
	}
	return stored
}

// dynamodbavTags are the attribute names a struct's dynamodbav tags give its fields.
func dynamodbavTags(st *ast.StructType) []string {
	var names []string
	for _, f := range st.Fields.List {
		if f.Tag == nil {
			continue
		}
		tag, _ := strconv.Unquote(f.Tag.Value)
		v, ok := reflect.StructTag(tag).Lookup("dynamodbav")
		if !ok {
			continue
		}
		if name, _, _ := strings.Cut(v, ","); name != "" && name != "-" {
			names = append(names, name)
		}
	}
	return names
}

func TestEveryStoredFieldIsDescribed(t *testing.T) {
	stored := storedFields(t)
	for _, k := range []string{"PROFILE", "CREDENTIAL", "CONSENT", "AUDIT", "SESSION"} {
		if len(stored[k]) == 0 && k != "CREDENTIAL" || k == "CREDENTIAL" && !slices.Contains(stored[k], "passwordHash") {
			t.Fatalf("the adapter's %s items were not found: the reading of its source is broken (found %v)", k, stored)
		}
	}
	table := kinds()
	for k, attrs := range stored {
		d, ok := table[k]
		if !ok {
			t.Errorf("the table's adapter writes %s items, which the export does not describe (add them to kinds in describe.go)", k)
			continue
		}
		for _, a := range attrs {
			if _, ok := d.fields[a]; !ok {
				t.Errorf("the table's adapter writes %s.%s, which the export does not describe (is it a secret?)", k, a)
			}
		}
	}
	// And nothing described that the adapter no longer writes.
	for k, d := range table {
		for a := range d.fields {
			if !slices.Contains(stored[k], a) {
				t.Errorf("the export describes %s.%s, which the adapter does not write", k, a)
			}
		}
	}
}

func TestDescriptionsAreInEveryLocale(t *testing.T) {
	for k, d := range kinds() {
		for what, tx := range map[string]text{"name": d.name, "about": d.about} {
			if tx.en == "" || tx.zh == "" {
				t.Errorf("%s %s is not in both languages", k, what)
			}
		}
		for a, f := range d.fields {
			if f.en == "" || f.zh == "" {
				t.Errorf("%s.%s is not described in both languages", k, a)
			}
		}
	}
}

func TestHashesAreWithheld(t *testing.T) {
	for k, d := range kinds() {
		for a, f := range d.fields {
			if strings.HasSuffix(strings.ToLower(a), "hash") && !f.withheld {
				t.Errorf("%s.%s is a hash, but exported", k, a)
			}
		}
	}
}
