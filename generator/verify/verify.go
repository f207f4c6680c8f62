// Package verify checks what projgen wrote: that the Go files are
// gofmt-clean, that go.mod requires what they import, and that their
// packages' tests pass.
package verify

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"go/format"
	"os/exec"
	"path"
	"runtime"
	"strings"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/projgen/projgen/generator/render"
)

// Gofmt returns the Go files whose content gofmt would change, in the
// order of files. It checks them in parallel, at most GOMAXPROCS at once.
func Gofmt(files []render.File) ([]string, error) {
	bad := make([]bool, len(files))
	var g errgroup.Group
	g.SetLimit(runtime.GOMAXPROCS(0))
	for i, f := range files {
		if !strings.HasSuffix(f.Path, ".go") {
			continue
		}
		g.Go(func() error {
			formatted, err := format.Source(f.Data)
			if err != nil {
				return fmt.Errorf("gofmt %s: %w", f.Path, err)
			}
			bad[i] = !bytes.Equal(formatted, f.Data)
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	var paths []string
	for i, f := range files {
		if bad[i] {
			paths = append(paths, f.Path)
		}
	}
	return paths, nil
}

// TestResult is the outcome of go test.
type TestResult struct {
	// Command is the command that ran.
	Command string
	// Output is its output, as go test prints it without -json.
	Output string
	// Duration is how long it took.
	Duration time.Duration
	// Passed and Skipped count the top-level tests that passed and that
	// were skipped.
	Passed, Skipped int
	// SkipReasons are the distinct reasons the skipped tests gave, such
	// as "skipping database test: set PROJGEN_TEST_DATABASE_URL ...", in
	// the order first seen.
	SkipReasons []string
}

// testEvent is one line of go test -json (cmd/test2json).
type testEvent struct {
	Action string
	Test   string
	Output string
}

// summarize reads go test -json output into res: the plain output, and
// the counts and skip reasons of the top-level tests.
func (res *TestResult) summarize(jsonOut []byte) {
	var plain strings.Builder
	skipping := map[string]bool{}
	var lastOutput = map[string][]string{}
	for _, line := range bytes.Split(jsonOut, []byte("\n")) {
		var e testEvent
		if len(line) == 0 || json.Unmarshal(line, &e) != nil {
			plain.Write(line)
			if len(line) > 0 {
				plain.WriteByte('\n')
			}
			continue
		}
		top := e.Test != "" && !strings.Contains(e.Test, "/")
		switch e.Action {
		case "build-output":
			plain.WriteString(e.Output)
		case "output":
			plain.WriteString(e.Output)
			if top {
				lastOutput[e.Test] = append(lastOutput[e.Test], e.Output)
			}
		case "pass":
			if top {
				res.Passed++
			}
		case "skip":
			if top {
				res.Skipped++
				if r := skipReason(lastOutput[e.Test]); r != "" && !skipping[r] {
					skipping[r] = true
					res.SkipReasons = append(res.SkipReasons, r)
				}
			}
		}
	}
	res.Output = plain.String()
}

// skipReason finds the message a skipped test logged: its last indented
// output line before "--- SKIP", without the file:line prefix.
func skipReason(lines []string) string {
	msg := ""
	for _, l := range lines {
		if strings.HasPrefix(l, "--- SKIP") {
			break
		}
		if strings.HasPrefix(l, "    ") {
			msg = strings.TrimSpace(l)
		}
	}
	if file, rest, ok := strings.Cut(msg, ": "); ok && strings.Contains(file, ".go:") {
		msg = rest
	}
	return msg
}

// ErrTestsFailed is returned by Test when go test fails.
var ErrTestsFailed = errors.New("tests failed")

// Test runs go test on the packages in dirs (relative to root, slash
// separated).
func Test(ctx context.Context, root string, dirs []string) (TestResult, error) {
	pkgs := packageArgs(dirs)
	start := time.Now()
	cmd := goCommand(ctx, root, append([]string{"test", "-json"}, pkgs...)...)
	out, err := cmd.CombinedOutput()
	// The command as a user would type it: -json is projgen's business.
	res := TestResult{Command: "go " + strings.Join(append([]string{"test"}, pkgs...), " "), Duration: time.Since(start)}
	res.summarize(out)
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		return res, fmt.Errorf("%s: %w", res.Command, ErrTestsFailed)
	}
	if err != nil {
		return res, fmt.Errorf("run %s: %w", res.Command, err)
	}
	return res, nil
}

// ErrVetFailed is returned by Vet when go vet reports a problem or the
// packages do not build.
var ErrVetFailed = errors.New("go vet failed")

// Vet runs go vet on the packages in dirs (relative to root, slash
// separated), their tests included: it fails when they do not build. It
// returns go vet's output.
func Vet(ctx context.Context, root string, dirs []string) (string, error) {
	args := append([]string{"vet"}, packageArgs(dirs)...)
	cmd := goCommand(ctx, root, args...)
	out, err := cmd.CombinedOutput()
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		return string(out), fmt.Errorf("go %s: %w", strings.Join(args, " "), ErrVetFailed)
	}
	if err != nil {
		return string(out), fmt.Errorf("run go %s: %w", strings.Join(args, " "), err)
	}
	return string(out), nil
}

// packageArgs turns package directories, relative to the module root and
// slash separated, into the go command's package arguments: ./dir.
func packageArgs(dirs []string) []string {
	out := make([]string, 0, len(dirs))
	for _, d := range dirs {
		out = append(out, "./"+path.Clean(d))
	}
	return out
}
