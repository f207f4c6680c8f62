package cmd

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/projgen/projgen/generator"
	"github.com/projgen/projgen/generator/cache"
	"github.com/projgen/projgen/internal/moduletest"
)

// goLogged puts on PATH a go command that appends its arguments to a log
// and runs the real go, and returns a function that returns the go
// subcommands run since it was last called.
func goLogged(t *testing.T) func() []string {
	t.Helper()
	real, err := exec.LookPath("go")
	if err != nil {
		t.Fatal(err)
	}
	bin := t.TempDir()
	log := filepath.Join(bin, "go.log")
	script := "#!/bin/sh\necho \"$*\" >> '" + log + "'\nexec '" + real + "' \"$@\"\n"
	if err := os.WriteFile(filepath.Join(bin, "go"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", bin+string(os.PathListSeparator)+os.Getenv("PATH"))
	return func() []string {
		data, _ := os.ReadFile(log)
		os.Remove(log)
		var cmds []string
		for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
			if sub, _, _ := strings.Cut(line, " "); sub != "" {
				cmds = append(cmds, sub)
			}
		}
		return cmds
	}
}

// TestCheckVetsOnlyWhatChanged checks that check runs go vet again only
// when something go vet reads has changed since it passed: a file of a
// generated package, a package of the module it imports, the go
// command's settings; and that the verdict of a failing vet is never
// recorded.
func TestCheckVetsOnlyWhatChanged(t *testing.T) {
	dir := seedModule(t)
	build := Build{Cache: cache.Open(t.TempDir(), "test build")}
	ran := goLogged(t)
	check := func(wantCode int, wantVet bool, why string) {
		t.Helper()
		var out bytes.Buffer
		code := Execute(context.Background(), build, []string{"check", "--dir", dir}, IO{Out: &out, Err: &out})
		if code != wantCode {
			t.Fatalf("%s: check exited %d, want %d:\n%s", why, code, wantCode, out.String())
		}
		if vetted := slices.Contains(ran(), "vet"); vetted != wantVet {
			t.Errorf("%s: go vet ran: %v, want %v", why, vetted, wantVet)
		}
	}
	write := func(rel, src string) { moduletest.WriteFile(t, dir, rel, src) }
	check(0, true, "first check")
	check(0, false, "nothing changed")

	write("github/installation/broken_test.go", "package installation\n\nvar _ int = \"not an int\"\n")
	check(ExitFailed, true, "a test of a generated package does not build")
	check(ExitFailed, true, "it still does not build")
	if err := os.Remove(filepath.Join(dir, "github", "installation", "broken_test.go")); err != nil {
		t.Fatal(err)
	}
	check(0, false, "back to the files that passed")

	// A package of the module that a generated package's test imports.
	write("internal/helper/helper.go", "package helper\n\n// N is a number.\nfunc N() int { return 1 }\n")
	write("github/installation/helper_test.go", "package installation\n\nimport \"example.com/registry/internal/helper\"\n\nvar _ int = helper.N()\n")
	check(0, true, "a test imports a new package")
	check(0, false, "nothing changed")
	write("internal/helper/helper.go", "package helper\n\n// N is a number.\nfunc N() string { return \"1\" }\n")
	check(ExitFailed, true, "the imported package changed")
	write("internal/helper/helper.go", "package helper\n\n// N is a number.\nfunc N() int { return 1 }\n")
	check(0, false, "the imported package is as it passed")

	t.Setenv("GOFLAGS", "-tags=projgen_check_test")
	check(0, true, "other build flags")
	check(0, false, "the same flags")
}

// TestVetDirsOfIsWhatCheckVets checks, on every example module, that the
// directories check fingerprints while it generates, from the config
// alone, are the ones it then vets: otherwise it would fingerprint them
// twice.
func TestVetDirsOfIsWhatCheckVets(t *testing.T) {
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	modules, err := filepath.Glob(filepath.Join(root, "golden", "*", "projgen.yaml"))
	if err != nil || len(modules) < 5 {
		t.Fatalf("found %d example modules (%v), want the golden modules", len(modules), err)
	}
	for _, cfgPath := range modules {
		dir := filepath.Dir(cfgPath)
		t.Run(filepath.Base(dir), func(t *testing.T) {
			mod, cfg, err := readConfig(dir)
			if err != nil {
				t.Fatal(err)
			}
			res, err := generator.Generate(context.Background(), generator.Request{Module: mod, Config: cfg,
				Options: generator.Options{AllowDestructive: true}})
			if err != nil {
				t.Fatal(err)
			}
			if got, want := vetDirsOf(cfg), goDirs(mod.Dir, res); !slices.Equal(got, want) {
				t.Errorf("vetDirsOf = %v, check vets %v", got, want)
			}
		})
	}
}
