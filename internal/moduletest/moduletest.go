// Package moduletest copies the example modules of this repository for
// tests: the copies point their requirement of projgen's runtime module
// at the repository's projection/ directory, so that the go command
// builds them against the code under test.
package moduletest

import (
	"bytes"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
)

// Replace is the replace directive of the example modules, which sit two
// directories below the repository root: the runtime module is the
// repository's projection/ directory.
const Replace = "=> ../../projection"

// Copy copies the module in src (such as testdata/registry under root)
// into a new temporary directory, with its replace directive pointed at
// the runtime in root, the repository's absolute path (see Replacement).
// It returns the copy.
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
	data = bytes.Replace(data, []byte(Replace), []byte(Replacement(root)), 1)
	if err := os.WriteFile(gomod, data, 0o644); err != nil {
		tb.Fatal(err)
	}
	return dst
}

// Replacement is the replace directive of a copy made by Copy: it points
// at the runtime module of the repository at root.
func Replacement(root string) string {
	return "=> " + filepath.Join(root, "projection")
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
