package verify

import (
	"context"
	"slices"
	"testing"

	"github.com/projgen/projgen/internal/moduletest"
)

// TestEmbedTrees checks that each //go:embed pattern gives the file or
// tree it may match within: its first element, or the whole directory
// when that element is itself a pattern or the patterns are quoted.
func TestEmbedTrees(t *testing.T) {
	src := "package x\n\nimport \"embed\"\n\n" +
		"//go:embed migrations/*.sql\nvar a embed.FS\n\n" +
		"//go:embed all:static templates/a.tmpl\nvar b embed.FS\n\n" +
		"//go:embed \"quoted dir/x.txt\"\nvar q embed.FS\n\n" +
		"//go:embed *.json\nvar c embed.FS\n\n" +
		"\t//go:embed version.txt\nvar d string\n\n" +
		"// A comment that mentions //go:embed is not a directive.\n"
	want := []string{"migrations", "static", "templates", ".", ".", "version.txt"}
	if got := embedTrees([]byte(src)); !slices.Equal(got, want) {
		t.Errorf("embedTrees = %q, want %q", got, want)
	}
}

// TestVetInputsChangeWithWhatVetReads checks the fingerprint on a module
// of two packages, one vetted: it changes with a file of the vetted
// package, a file below it that it embeds, and the package it imports,
// and not with a file nothing reads; with a vendor directory there is
// none.
func TestVetInputsChangeWithWhatVetReads(t *testing.T) {
	dir := t.TempDir()
	write := func(rel, src string) { moduletest.WriteFile(t, dir, rel, src) }
	write("go.mod", "module example.com/m\n\ngo 1.25\n")
	write("a/a.go", "package a\n\nimport (\n\t\"embed\"\n\n\t\"example.com/m/b\"\n)\n\n//go:embed data\nvar data embed.FS\n\nvar N = b.N\n")
	write("a/data/x.txt", "x")
	write("b/b.go", "package b\n\n// N is a number.\nconst N = 1\n")
	write("c/c.go", "package c\n")
	inputs := func() string {
		t.Helper()
		in, err := VetInputs(context.Background(), dir, "example.com/m", []string{"a"})
		if err != nil {
			t.Fatal(err)
		}
		return string(in)
	}
	first := inputs()
	if first == "" {
		t.Fatal("VetInputs gave no fingerprint")
	}
	steps := []struct {
		rel, src string
		changes  bool
	}{
		{"c/c.go", "package c\n\n// Changed.\n", false},
		{"a/a_test.go", "package a\n", true},
		{"a/data/x.txt", "y", true},
		{"b/b.go", "package b\n\n// N is a number.\nconst N = 2\n", true},
		{"a/notes.md", "notes", true},
	}
	last := first
	for _, s := range steps {
		write(s.rel, s.src)
		now := inputs()
		if changed := now != last; changed != s.changes {
			t.Errorf("after writing %s: fingerprint changed: %v, want %v", s.rel, changed, s.changes)
		}
		last = now
	}
	// In a workspace, go.work is read too.
	write("go.work", "go 1.25\n\nuse .\n")
	last = inputs()
	write("go.work", "go 1.25\n\nuse (\n\t.\n)\n")
	if inputs() == last {
		t.Error("after editing go.work: fingerprint unchanged")
	}
	write("vendor/modules.txt", "")
	if in, err := VetInputs(context.Background(), dir, "example.com/m", []string{"a"}); err != nil || in != nil {
		t.Errorf("with a vendor directory, VetInputs = %x, %v; want none", in, err)
	}
}
