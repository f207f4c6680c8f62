package cmd

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"testing"

	"github.com/projgen/projgen/generator/model"
)

// TestRuntimeVersion checks which runtime version projgen offers users'
// go.mod: the one it was built with, when a user can require it.
func TestRuntimeVersion(t *testing.T) {
	dep := func(version string, replace *debug.Module) *debug.Module {
		return &debug.Module{Path: model.RuntimeModule, Version: version, Replace: replace}
	}
	tests := []struct {
		name string
		info *debug.BuildInfo
		ok   bool
		want string
	}{
		{"no build information", nil, false, ""},
		{"released: go install github.com/projgen/projgen@v1.4.0",
			&debug.BuildInfo{Main: debug.Module{Path: "github.com/projgen/projgen", Version: "v1.4.0"},
				Deps: []*debug.Module{{Path: "github.com/jackc/pgx/v5", Version: "v5.12.0"}, dep("v1.4.0", nil)}}, true, "v1.4.0"},
		{"as a tool of the user's module, at the version it selects",
			&debug.BuildInfo{Main: debug.Module{Path: "example.com/m"}, Deps: []*debug.Module{dep("v1.5.1", nil)}}, true, "v1.5.1"},
		{"development build: the runtime is the checkout's directory",
			&debug.BuildInfo{Main: debug.Module{Path: "github.com/projgen/projgen", Version: "(devel)"},
				Deps: []*debug.Module{dep("v0.0.0", &debug.Module{Path: "./projection"})}}, true, ""},
		{"replaced by another module version",
			&debug.BuildInfo{Deps: []*debug.Module{dep("v1.4.0", &debug.Module{Path: "example.com/fork", Version: "v1.4.1"})}}, true, ""},
		{"(devel)", &debug.BuildInfo{Deps: []*debug.Module{dep("(devel)", nil)}}, true, ""},
		{"no runtime among the dependencies", &debug.BuildInfo{Main: debug.Module{Path: "github.com/projgen/projgen", Version: "v1.4.0"}}, true, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := runtimeVersion(tt.info, tt.ok); got != tt.want {
				t.Errorf("runtimeVersion = %q, want %q", got, tt.want)
			}
		})
	}
	// This test binary is a development build.
	if got := runtimeVersion(debug.ReadBuildInfo()); got != "" {
		t.Errorf("runtimeVersion of this test binary = %q, want \"\" (the runtime is replaced by ./projection)", got)
	}
}

// TestExitCodes checks the exit contract for command lines that go wrong
// before any generation: each is a usage error, exit 2, with a message.
func TestExitCodes(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "go.mod")
	if err := os.WriteFile(file, []byte("module example.com/m\n\ngo 1.25\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	badMod := t.TempDir()
	if err := os.WriteFile(filepath.Join(badMod, "go.mod"), []byte("modul x\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		args []string
		code int
		msg  string
	}{
		{"unknown command", []string{"nope"}, ExitUsage, `unknown command "nope"`},
		{"unknown flag", []string{"check", "--bogus"}, ExitUsage, "unknown flag: --bogus"},
		{"--dir names a file", []string{"check", "--dir", file}, ExitUsage, "is not a directory"},
		{"unparsable go.mod", []string{"check", "--dir", badMod}, ExitUsage, "go.mod"},
		{"no projgen.yaml", []string{"check", "--dir", dir}, ExitUsage, "no projgen.yaml"},
		{"no command", nil, ExitOK, ""},
		{"version", []string{"version"}, ExitOK, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			code := Execute(context.Background(), Build{}, tt.args, IO{Out: &out, Err: &out})
			if code != tt.code || !strings.Contains(out.String(), tt.msg) {
				t.Errorf("projgen %q = exit %d\n%s\nwant exit %d and %q", tt.args, code, out.String(), tt.code, tt.msg)
			}
			if strings.Contains(out.String(), "exit status") {
				t.Errorf("the message carries a child process's noise:\n%s", out.String())
			}
		})
	}
}
