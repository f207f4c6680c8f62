package main

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/projgen/projgen/internal/moduletest"
)

// TestInterrupt sends SIGINT to projgen new at moments spread over a
// whole run, from loading to go test. Each time, projgen must exit 130
// (or 0, if it had finished), leave the tree either as it was or with the
// complete new set of files, say which truthfully, and leave no process
// of its own behind (go test's binaries included).
func TestInterrupt(t *testing.T) {
	if testing.Short() {
		t.Skip("builds projgen and interrupts many runs")
	}
	bin := filepath.Join(t.TempDir(), "projgen")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	root := repoRoot(t)
	original := moduletest.Tree(t, moduletest.Copy(t, root, filepath.Join("testdata", "registry")))
	newCmd := func(dir string) *exec.Cmd {
		c := exec.Command(bin, "new", "--dir", dir, "--aggregate", "installation", "--yes")
		c.Env = append(os.Environ(), "PROJGEN_TEST_DATABASE_URL="+databaseURL())
		return c
	}

	// A whole run: how long it takes, and the files it leaves.
	dir := moduletest.Copy(t, root, filepath.Join("testdata", "registry"))
	start := time.Now()
	if out, err := newCmd(dir).CombinedOutput(); err != nil {
		t.Fatalf("projgen new: %v\n%s", err, out)
	}
	whole := time.Since(start)
	complete := moduletest.Tree(t, dir)

	runs := 8
	if n, err := strconv.Atoi(os.Getenv("PROJGEN_STRESS_RUNS")); err == nil && n > 0 {
		runs = n
	}
	for i := range runs {
		delay := whole * time.Duration(i) / time.Duration(runs)
		dir := moduletest.Copy(t, root, filepath.Join("testdata", "registry"))
		c := newCmd(dir)
		var stderr bytes.Buffer
		c.Stderr = &stderr
		if err := c.Start(); err != nil {
			t.Fatal(err)
		}
		time.Sleep(delay)
		_ = c.Process.Signal(syscall.SIGINT)
		err := c.Wait()
		code := 0
		var exit *exec.ExitError
		killed := false
		if errors.As(err, &exit) {
			code = exit.ExitCode()
			// Before Go's runtime has installed projgen's handler, SIGINT
			// ends the process as it ends any: a shell reports 130.
			if ws, ok := exit.Sys().(syscall.WaitStatus); ok && ws.Signaled() && ws.Signal() == syscall.SIGINT {
				code, killed = 130, true
			}
		}
		got := moduletest.Tree(t, dir)
		msg := stderr.String()
		switch {
		case code == 0 && sameFiles(got, complete, false):
		case killed && sameFiles(got, original, true):
		case code == 130 && sameFiles(got, original, true) && strings.Contains(msg, "interrupted; nothing was written"):
		case code == 130 && sameFiles(got, complete, false) && strings.Contains(msg, "interrupted after writing all"):
		default:
			t.Errorf("SIGINT after %v: exit %d, stderr:\n%s\nthe tree is neither the original nor the complete run's (%d files; original %d, complete %d)",
				delay, code, msg, len(got), len(original), len(complete))
		}
		t.Logf("SIGINT after %v: exit %d: %s", delay, code, strings.TrimSpace(msg))
		if pids := processesIn(dir); len(pids) > 0 {
			t.Errorf("SIGINT after %v: processes %v still run in the module", delay, pids)
		}
	}
}

// sameFiles reports whether two trees hold the same files with the same
// content, go.mod and go.sum aside unless strict: an interrupted run may
// leave go get's changes half made, which it says.
func sameFiles(a, b map[string]string, strict bool) bool {
	skip := func(p string) bool { return !strict && (p == "go.mod" || p == "go.sum") }
	for p, s := range a {
		if !skip(p) && b[p] != s {
			return false
		}
	}
	for p := range b {
		if _, ok := a[p]; !ok && !skip(p) {
			return false
		}
	}
	return true
}

// processesIn lists the processes whose working directory is in dir,
// after a moment for the killed ones to go.
func processesIn(dir string) []string {
	var out []string
	for range 20 {
		out = out[:0]
		entries, _ := os.ReadDir("/proc")
		for _, e := range entries {
			if _, err := strconv.Atoi(e.Name()); err != nil {
				continue
			}
			cwd, err := os.Readlink(filepath.Join("/proc", e.Name(), "cwd"))
			if err == nil && (cwd == dir || strings.HasPrefix(cwd, dir+string(filepath.Separator))) {
				out = append(out, e.Name())
			}
		}
		if len(out) == 0 {
			return nil
		}
		time.Sleep(50 * time.Millisecond)
	}
	return out
}
