// Package moduletest copies the example modules of this repository for
// tests: the copies point their requirement of projgen's runtime module
// at the repository's projection/ directory, so that the go command
// builds them against the code under test.
package moduletest

import (
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/mod/modfile"
)

// Copy copies the module in src (such as testdata/registry under root)
// into a new temporary directory, with every replace directive that names
// a directory by a relative path (projgen's, a library stand-in's) made
// absolute, so that the copy builds where it is. It returns the copy.
func Copy(tb testing.TB, root, src string) string {
	tb.Helper()
	dst := filepath.Join(tb.TempDir(), filepath.Base(src))
	if err := os.CopyFS(dst, os.DirFS(src)); err != nil {
		tb.Fatal(err)
	}
	gomod := filepath.Join(dst, "go.mod")
	data, err := os.ReadFile(gomod)
	if err != nil {
		tb.Fatal(err)
	}
	f, err := modfile.Parse(gomod, data, nil)
	if err != nil {
		tb.Fatal(err)
	}
	absSrc, err := filepath.Abs(src)
	if err != nil {
		tb.Fatal(err)
	}
	for _, r := range f.Replace {
		if r.New.Version == "" && !filepath.IsAbs(r.New.Path) {
			if err := f.AddReplace(r.Old.Path, r.Old.Version, filepath.Join(absSrc, r.New.Path), ""); err != nil {
				tb.Fatal(err)
			}
		}
	}
	if data, err = f.Format(); err != nil {
		tb.Fatal(err)
	}
	if err := os.WriteFile(gomod, data, 0o644); err != nil {
		tb.Fatal(err)
	}
	return dst
}

// Relative turns the absolute replace paths of a copy's go.mod under
// root back into paths relative to a module two directories below root,
// as golden/NAME is.
func Relative(gomod, root string) string {
	return strings.ReplaceAll(gomod, "=> "+root, "=> ../..")
}

// Tree reads every file under dir, by slash-separated path relative to
// dir.
func Tree(tb testing.TB, dir string) map[string]string {
	tb.Helper()
	files := map[string]string{}
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(dir, path)
		if err != nil {
			return err
		}
		files[filepath.ToSlash(rel)] = string(data)
		return nil
	})
	if err != nil {
		tb.Fatal(err)
	}
	return files
}

// WriteFile writes src to the file at rel, slash-separated, under dir,
// making its directories.
func WriteFile(tb testing.TB, dir, rel, src string) {
	tb.Helper()
	p := filepath.Join(dir, filepath.FromSlash(rel))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		tb.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(src), 0o644); err != nil {
		tb.Fatal(err)
	}
}
