package verify_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/projgen/projgen/generator/diag"
	"github.com/projgen/projgen/generator/model"
	"github.com/projgen/projgen/generator/render"
	"github.com/projgen/projgen/generator/verify"
)

func TestGofmt(t *testing.T) {
	files := []render.File{
		{Path: "a/clean.go", Data: []byte("package a\n\nfunc F() {}\n")},
		{Path: "a/messy.go", Data: []byte("package a\nfunc  F(){ }\n")},
		{Path: "a/migrations/1.up.sql", Data: []byte("CREATE  TABLE t (a int);\n")},
	}
	bad, err := verify.Gofmt(files)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(bad, []string{"a/messy.go"}) {
		t.Errorf("Gofmt = %v, want [a/messy.go]", bad)
	}
	if _, err := verify.Gofmt([]render.File{{Path: "x.go", Data: []byte("package")}}); err == nil {
		t.Error("Gofmt of Go that does not parse: no error")
	}
}

func TestPlan(t *testing.T) {
	const goMod = "module example.com/m\n\ngo 1.26\n\nrequire (\n\tgithub.com/projgen/projgen/projection v0.1.0\n\tgithub.com/google/uuid v1.6.0\n)\n"
	imports := []model.Import{
		{Package: model.RuntimePackage, Module: model.RuntimeModule},
		{Package: model.RuntimeTestPackage, Module: model.RuntimeModule, Test: true},
		{Package: model.GomockPackage, Module: model.GomockModule, Test: true},
		{Package: "github.com/google/uuid", Module: model.UUIDModule, Test: true},
	}
	known := map[string]string{model.GomockModule: "v0.6.0", model.UUIDModule: "v1.6.0", model.RuntimeModule: "(devel)"}
	reqs, err := verify.Plan("go.mod", []byte(goMod), imports, known)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(reqs.Missing, []string{"go.uber.org/mock@v0.6.0"}) {
		t.Errorf("Missing = %v, want only gomock at projgen's version", reqs.Missing)
	}

	// A development build cannot say which runtime to require.
	noRuntime := strings.Replace(goMod, "\tgithub.com/projgen/projgen/projection v0.1.0\n", "", 1)
	_, err = verify.Plan("go.mod", []byte(noRuntime), imports, known)
	if !diag.IsInput(err) || !strings.Contains(err.Error(), "development build") ||
		!strings.Contains(err.Error(), "go mod edit -require=github.com/projgen/projgen/projection@v0.0.0 -replace=github.com/projgen/projgen/projection=/path/to/projgen/projection") {
		t.Errorf("Plan without the runtime, from a development build: %v", err)
	}
	// A released build says its runtime's version.
	known[model.RuntimeModule] = "v1.2.3"
	reqs, err = verify.Plan("go.mod", []byte(noRuntime), imports, known)
	if err != nil || !slices.Contains(reqs.Missing, "github.com/projgen/projgen/projection@v1.2.3") {
		t.Errorf("Plan without the runtime, from v1.2.3: %v, %v", reqs, err)
	}
	// An older runtime is raised to the one the code was generated for;
	// a newer one, or one that go.mod replaces, is left alone.
	for _, tt := range []struct {
		name, goMod string
		want        []string
	}{
		{"older", goMod, []string{"github.com/projgen/projgen/projection@v1.2.3", "go.uber.org/mock@v0.6.0"}},
		{"newer", strings.Replace(goMod, "projection v0.1.0", "projection v1.3.0", 1), []string{"go.uber.org/mock@v0.6.0"}},
		{"replaced", goMod + "\nreplace github.com/projgen/projgen/projection => ../projgen/projection\n", []string{"go.uber.org/mock@v0.6.0"}},
	} {
		reqs, err := verify.Plan("go.mod", []byte(tt.goMod), imports, known)
		if err != nil || !slices.Equal(reqs.Missing, tt.want) {
			t.Errorf("Plan, %s runtime, from v1.2.3: %v, %v; want %v", tt.name, reqs, err, tt.want)
		}
	}
	// A module projgen knows no version of.
	delete(known, model.GomockModule)
	if _, err := verify.Plan("go.mod", []byte(goMod), imports, known); !diag.IsInput(err) || !strings.Contains(err.Error(), "go get go.uber.org/mock/gomock") {
		t.Errorf("Plan with no known gomock version: %v", err)
	}
}

func TestTest(t *testing.T) {
	dir := t.TempDir()
	write := func(name, src string) {
		t.Helper()
		if err := os.MkdirAll(filepath.Dir(filepath.Join(dir, name)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("go.mod", "module example.com/m\n\ngo 1.26\n")
	write("ok/ok_test.go", "package ok\n\nimport \"testing\"\n\nfunc TestOK(t *testing.T) {}\n")
	write("bad/bad_test.go", "package bad\n\nimport \"testing\"\n\nfunc TestBad(t *testing.T) { t.Fatal(\"broken\") }\n")
	t.Setenv("GOFLAGS", "-mod=mod")
	res, err := verify.Test(context.Background(), dir, []string{"ok"})
	if err != nil || res.Command != "go test ./ok" {
		t.Errorf("Test(ok) = %+v, %v", res, err)
	}
	res, err = verify.Test(context.Background(), dir, []string{"ok", "bad"})
	if !errors.Is(err, verify.ErrTestsFailed) || !strings.Contains(res.Output, "broken") {
		t.Errorf("Test(ok, bad) = %+v, %v; want ErrTestsFailed with the output", res, err)
	}
}
