// Package verify checks what projgen wrote: that the Go files are
// gofmt-clean, that go.mod requires what they import, and that their
// packages' tests pass.
package verify

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"go/format"
	"os"
	"os/exec"
	"path"
	"strings"
	"time"

	"github.com/projgen/projgen/generator/render"
)

// Gofmt returns the Go files whose content gofmt would change.
func Gofmt(files []render.File) ([]string, error) {
	var bad []string
	for _, f := range files {
		if !strings.HasSuffix(f.Path, ".go") {
			continue
		}
		formatted, err := format.Source(f.Data)
		if err != nil {
			return nil, fmt.Errorf("gofmt %s: %w", f.Path, err)
		}
		if !bytes.Equal(formatted, f.Data) {
			bad = append(bad, f.Path)
		}
	}
	return bad, nil
}

// TestResult is the outcome of go test.
type TestResult struct {
	// Command is the command that ran.
	Command string
	// Output is its combined output.
	Output string
	// Duration is how long it took.
	Duration time.Duration
}

// ErrTestsFailed is returned by Test when go test fails.
var ErrTestsFailed = errors.New("tests failed")

// Test runs go test on the packages in dirs (relative to root, slash
// separated).
func Test(ctx context.Context, root string, dirs []string) (TestResult, error) {
	args := []string{"test"}
	for _, d := range dirs {
		args = append(args, "./"+path.Clean(d))
	}
	start := time.Now()
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Dir = root
	cmd.Env = os.Environ()
	out, err := cmd.CombinedOutput()
	res := TestResult{Command: "go " + strings.Join(args, " "), Output: string(out), Duration: time.Since(start)}
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		return res, fmt.Errorf("%s: %w", res.Command, ErrTestsFailed)
	}
	if err != nil {
		return res, fmt.Errorf("run %s: %w", res.Command, err)
	}
	return res, nil
}
