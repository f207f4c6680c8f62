package main

import (
	"bytes"
	"go/ast"
	"go/parser"
	"go/printer"
	"go/token"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestMocksMatchMockgen checks that the mocks projgen writes are the mocks
// mockgen writes for the same interfaces: the same methods with the same
// parameters and bodies. Only layout may differ (mockgen sorts methods and
// groups parameters of one type).
func TestMocksMatchMockgen(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("golden", "*", "*", "*", "*_read_model_gen.go"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatal("no generated read models in golden/")
	}
	for _, file := range files {
		t.Run(file, func(t *testing.T) {
			ours := strings.Replace(file, "_read_model_gen.go", "_mock_gen_test.go", 1)
			pkg := filepath.Base(filepath.Dir(file))
			out, err := exec.Command("go", "tool", "mockgen", "-source="+file, "-package="+pkg,
				"-self_package="+importPath(t, file)).Output()
			if err != nil {
				t.Fatalf("mockgen -source=%s: %v", file, err)
			}
			want := funcs(t, "mockgen", out)
			src, err := os.ReadFile(ours)
			if err != nil {
				t.Fatal(err)
			}
			got := funcs(t, ours, src)
			for name, w := range want {
				if g, ok := got[name]; !ok {
					t.Errorf("%s lacks %s, which mockgen writes", ours, name)
				} else if g != w {
					t.Errorf("%s differs from mockgen's:\nprojgen: %s\nmockgen: %s", name, g, w)
				}
			}
			for name := range got {
				if _, ok := want[name]; !ok && name != "var _" {
					t.Errorf("%s has %s, which mockgen does not write", ours, name)
				}
			}
		})
	}
}

// importPath is the import path of the package of a file in a golden
// module: the module path from its go.mod, then the directory.
func importPath(t *testing.T, file string) string {
	t.Helper()
	parts := strings.SplitN(filepath.ToSlash(file), "/", 3) // golden, NAME, rest
	gomod, err := os.ReadFile(filepath.Join(parts[0], parts[1], "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	module := strings.TrimSpace(strings.TrimPrefix(strings.SplitN(string(gomod), "\n", 2)[0], "module"))
	return module + "/" + filepath.ToSlash(filepath.Dir(parts[2]))
}

// funcs returns the declarations of a Go file by name (Type.Method for
// methods), each printed in a canonical form: one parameter per field.
func funcs(t *testing.T, name string, src []byte) map[string]string {
	t.Helper()
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, name, src, 0)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, decl := range f.Decls {
		switch d := decl.(type) {
		case *ast.FuncDecl:
			key := d.Name.Name
			if d.Recv != nil {
				key = printNode(fset, d.Recv.List[0].Type) + "." + key
			}
			d.Type.Params.List = splitFields(d.Type.Params.List)
			d.Doc = nil
			out[key] = printNode(fset, d)
		case *ast.GenDecl:
			for _, spec := range d.Specs {
				if ts, ok := spec.(*ast.TypeSpec); ok {
					out["type "+ts.Name.Name] = printNode(fset, ts)
				}
				if vs, ok := spec.(*ast.ValueSpec); ok && vs.Names[0].Name == "_" {
					out["var _"] = printNode(fset, vs)
				}
			}
		}
	}
	return out
}

// splitFields writes "a, b string" as "a string, b string".
func splitFields(fields []*ast.Field) []*ast.Field {
	var out []*ast.Field
	for _, f := range fields {
		if len(f.Names) <= 1 {
			out = append(out, f)
			continue
		}
		for _, n := range f.Names {
			out = append(out, &ast.Field{Names: []*ast.Ident{n}, Type: f.Type})
		}
	}
	return out
}

func printNode(fset *token.FileSet, n any) string {
	var b bytes.Buffer
	if err := printer.Fprint(&b, fset, n); err != nil {
		return err.Error()
	}
	lines := strings.Split(b.String(), "\n")
	for i := range lines {
		lines[i] = strings.TrimSpace(lines[i])
	}
	s := strings.Join(lines, " ")
	s = strings.ReplaceAll(s, "( ", "(")
	s = strings.ReplaceAll(s, ", )", ")")
	return s
}
