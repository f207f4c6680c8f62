package load_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/projgen/projgen/generator/diag"
	"github.com/projgen/projgen/generator/load"
)

func TestList(t *testing.T) {
	t.Parallel()
	dir := writeModule(t, map[string]string{
		"root.go":            "package m\n",
		"b/c/c.go":           "package c\n",
		"a/a.go":             "package apackage\n",
		"testonly/x_test.go": "package testonly\n",
		"gen/gen.go":         load.Header + "\n\npackage gen\n",
		"mixed/a.go":         load.Header + "\n\npackage mixed\n",
		"mixed/b.go":         "package mixed\n",
	})
	listed, err := load.List(context.Background(), dir)
	if err != nil {
		t.Fatalf("List: %v", err)
	}
	want := []load.Listed{
		{Path: modulePath, Name: "m", Dir: dir},
		{Path: modulePath + "/a", Name: "apackage", Dir: filepath.Join(dir, "a")},
		{Path: modulePath + "/b/c", Name: "c", Dir: filepath.Join(dir, "b", "c")},
		// Only projgen's files: a projection package or the registry.
		{Path: modulePath + "/gen", Name: "gen", Dir: filepath.Join(dir, "gen"), Generated: true},
		// An aggregate with a projection generated next to it.
		{Path: modulePath + "/mixed", Name: "mixed", Dir: filepath.Join(dir, "mixed")},
	}
	if !reflect.DeepEqual(listed, want) {
		t.Errorf("List = %+v\nwant %+v", listed, want)
	}
	// Resolve works on what List returns.
	if l, err := load.Resolve(listed, "apackage"); err != nil || l.Path != modulePath+"/a" {
		t.Errorf("Resolve(apackage) = %+v, %v", l, err)
	}
}

func TestResolve(t *testing.T) {
	t.Parallel()
	// Directories are resolved from the working directory, as the go
	// command resolves ./x: the module is there.
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	listed := []load.Listed{
		{Path: "example.com/m/billing/invoice", Name: "invoice", Dir: filepath.Join(wd, "billing", "invoice")},
		{Path: "example.com/m/github/installation", Name: "installation", Dir: filepath.Join(wd, "github", "installation")},
		{Path: "example.com/m/gitlab/installation", Name: "installation", Dir: filepath.Join(wd, "gitlab", "installation")},
		{Path: "example.com/m/shop/order", Name: "order", Dir: filepath.Join(wd, "shop", "order")},
		{Path: "example.com/m/v2api", Name: "api", Dir: filepath.Join(wd, "v2api")},
	}
	tests := []struct {
		name     string
		want     string   // the resolved path, or "" for an error
		msg      string   // part of the error message
		hint     []string // parts of the error's hint
		notInMsg string
	}{
		{name: "order", want: "example.com/m/shop/order"},
		{name: "api", want: "example.com/m/v2api"},
		{name: "v2api", want: "example.com/m/v2api"},
		{name: "github/installation", want: "example.com/m/github/installation"},
		{name: "/gitlab/installation/", want: "example.com/m/gitlab/installation"},
		{name: "example.com/m/gitlab/installation", want: "example.com/m/gitlab/installation"},
		{name: "billing/invoice", want: "example.com/m/billing/invoice"},
		{
			name: "installation",
			msg:  `aggregate "installation" is ambiguous: 2 packages match`,
			hint: []string{"example.com/m/github/installation", "example.com/m/gitlab/installation"},
		},
		{
			name:     "ordr",
			msg:      `no package "ordr"`,
			hint:     []string{"did you mean example.com/m/shop/order?"},
			notInMsg: "invoice",
		},
		{
			name: "invoices",
			msg:  `no package "invoices"`,
			hint: []string{"did you mean example.com/m/billing/invoice?"},
		},
		{
			name: "zzzzzzzzzzzz",
			msg:  `no package "zzzzzzzzzzzz"`,
			hint: []string{"packages: ", "example.com/m/shop/order"},
		},
		{name: "hop/order", msg: `no package "hop/order"`},
		{name: "./github/installation", want: "example.com/m/github/installation"},
		{name: "./gitlab/installation/", want: "example.com/m/gitlab/installation"},
		{name: "../" + filepath.Base(wd) + "/shop/order", want: "example.com/m/shop/order"},
		{name: filepath.Join(wd, "v2api"), want: "example.com/m/v2api"},
		{name: "./shop", msg: "no package of this module in ./shop", hint: []string{"directory of the aggregate's Go files"}},
		{name: ".", msg: "no package of this module in ."},
	}
	for _, tt := range tests {
		got, err := load.Resolve(listed, tt.name)
		if tt.want != "" {
			if err != nil || got.Path != tt.want {
				t.Errorf("Resolve(%q) = %q, %v; want %q", tt.name, got.Path, err, tt.want)
			}
			continue
		}
		var de *diag.Error
		if !errors.As(err, &de) {
			t.Errorf("Resolve(%q) = %q, %v; want a diag.Error", tt.name, got.Path, err)
			continue
		}
		if !strings.Contains(de.Msg, tt.msg) {
			t.Errorf("Resolve(%q) message %q does not say %q", tt.name, de.Msg, tt.msg)
		}
		for _, h := range tt.hint {
			if !strings.Contains(de.Hint, h) {
				t.Errorf("Resolve(%q) hint %q does not say %q", tt.name, de.Hint, h)
			}
		}
		if tt.notInMsg != "" && strings.Contains(de.Error(), tt.notInMsg) {
			t.Errorf("Resolve(%q) error mentions %q:\n%s", tt.name, tt.notInMsg, de.Error())
		}
	}
	if _, err := load.Resolve(nil, "x"); err == nil || !strings.Contains(err.Error(), "no Go packages") {
		t.Errorf("Resolve in an empty module = %v", err)
	}
}

func TestReadModule(t *testing.T) {
	t.Parallel()
	dir := writeModule(t, nil)
	mod, err := load.ReadModule(dir)
	if err != nil {
		t.Fatalf("ReadModule: %v", err)
	}
	if mod.Path != modulePath || mod.Dir != dir || !strings.HasPrefix(string(mod.GoMod), "module "+modulePath) {
		t.Errorf("ReadModule = %+v", mod)
	}

	_, err = load.ReadModule(t.TempDir())
	if err == nil || !diag.IsInput(err) || !strings.Contains(err.Error(), "no go.mod") {
		t.Errorf("ReadModule without go.mod = %v, want an input error", err)
	}

	noModule := t.TempDir()
	if err := os.WriteFile(filepath.Join(noModule, "go.mod"), []byte("go 1.26\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := load.ReadModule(noModule); err == nil || !diag.IsInput(err) {
		t.Errorf("ReadModule with no module line = %v, want an input error", err)
	}
}

// TestFindPackagesAgreesWithList checks FindPackages against go list
// itself: on a module of the cases the go command treats specially, and
// on the repository's real example modules, both return the same
// packages, but for a directory of two packages, which FindPackages
// leaves out.
func TestFindPackagesAgreesWithList(t *testing.T) {
	t.Parallel()
	tricky := writeModule(t, map[string]string{
		"root.go":            "package m\n",
		"a/a.go":             "package apackage\n",
		"b/c/c.go":           "package c\n",
		"ignored/x.go":       "package ignored\n",
		"ignored/gen.go":     "//go:build ignore\n\npackage main\n",
		"osonly/x.go":        "package osonly\n",
		"osonly/x_plan9.go":  "package plan\n",
		"testonly/x_test.go": "package testonly\n",
		"gen/gen.go":         load.Header + "\n\npackage gen\n",
		"mixed/a.go":         load.Header + "\n\npackage mixed\n",
		"mixed/b.go":         "package mixed\n",
		"_hidden/h.go":       "package hidden\n",
		".dot/d.go":          "package dot\n",
		"testdata/t/t.go":    "package t\n",
		"nested/go.mod":      "module example.com/nested\n",
		"nested/n.go":        "package nested\n",
		"two/a.go":           "package a\n",
		"two/b.go":           "package b\n",
		"broken/broken.go":   "package broken\n\nfunc {\n",
		"deep/er/still/d.go": "package still\n",
		// A walk visits a directory's files before and after its
		// subdirectories'.
		"deep/a.go":               "package deep\n",
		"deep/z.go":               "package deep\n",
		"deep/er/still/d_test.go": "package still_test\n",
	})
	dirs := []string{tricky}
	for _, pattern := range []string{"../../testdata/*", "../../testdata/examples/*", "../../golden/*"} {
		matches, err := filepath.Glob(pattern)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range matches {
			if _, err := os.Stat(filepath.Join(m, "go.mod")); err == nil {
				abs, err := filepath.Abs(m)
				if err != nil {
					t.Fatal(err)
				}
				dirs = append(dirs, abs)
			}
		}
	}
	if len(dirs) < 10 {
		t.Fatalf("found %d modules to compare, want the example modules too", len(dirs))
	}
	for _, dir := range dirs {
		mod, err := load.ReadModule(dir)
		if err != nil {
			t.Fatal(err)
		}
		listed, err := load.List(context.Background(), dir)
		if err != nil {
			t.Fatalf("List(%s): %v", dir, err)
		}
		found, err := load.FindPackages(mod)
		if err != nil {
			t.Fatalf("FindPackages(%s): %v", dir, err)
		}
		var want []load.Listed
		for _, l := range listed {
			if l.Path != modulePath+"/two" || dir != tricky {
				want = append(want, l)
			}
		}
		if !reflect.DeepEqual(found, want) {
			t.Errorf("%s:\nFindPackages = %+v\ngo list      = %+v", dir, found, want)
		}
	}
}
