// Package moduletest copies the example modules of this repository for
// tests: the copies point their projgen requirement at the repository, so
// that the go command builds them against the code under test.
package moduletest

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// Replace is the replace directive of the example modules, which sit two
// directories below the repository root.
const Replace = "=> ../.."

// Copy copies the module in src (such as testdata/registry under root)
// into a new temporary directory, with its replace directive pointed at
// root, the repository's absolute path. It returns the copy.
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
	data = bytes.Replace(data, []byte(Replace), []byte("=> "+root), 1)
	if err := os.WriteFile(gomod, data, 0o644); err != nil {
		tb.Fatal(err)
	}
	return dst
}
