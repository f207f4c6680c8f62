package main

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"
)

// defaultDatabaseURL is the test database when PROJGEN_TEST_DATABASE_URL
// is not set.
const defaultDatabaseURL = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"

func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){
		"projgen": func() { os.Exit(run()) },
	})
}

// TestScripts runs the CLI scenarios in testdata/script: each is a txtar
// archive of a small module and the projgen commands run on it, with the
// exit codes and output they must give.
func TestScripts(t *testing.T) {
	root, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	// Scripts share one projgen cache, as a user's runs do: what one
	// script's run records, the next may keep.
	projgenCache := t.TempDir()
	testscript.Run(t, testscript.Params{
		Dir:                 filepath.Join("testdata", "script"),
		RequireExplicitExec: true,
		Setup: func(env *testscript.Env) error {
			env.Setenv("PROJGEN_ROOT", root)
			// The go command in scripts shares this machine's module and
			// build caches, so that it needs no network.
			for _, k := range []string{"GOPATH", "GOMODCACHE", "GOCACHE", "GOPROXY", "GOSUMDB", "GOFLAGS", "GOTOOLCHAIN"} {
				env.Setenv(k, goEnv(t, k))
			}
			env.Setenv("PROJGEN_TEST_DATABASE_URL", databaseURL())
			env.Setenv("PROJGEN_REQUIRE_DB", os.Getenv("PROJGEN_REQUIRE_DB"))
			env.Setenv("PROJGEN_CACHE", projgenCache)
			return nil
		},
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"status":  cmdStatus,
			"replace": cmdReplace,
		},
	})
}

// cmdStatus runs a command and checks its exit status:
//
//	status 2 projgen new --aggregate nope
//
// Its stdout and stderr are kept for the stdout and stderr commands.
func cmdStatus(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 2 {
		ts.Fatalf("usage: status CODE command [args...]")
	}
	want, err := strconv.Atoi(args[0])
	if err != nil {
		ts.Fatalf("status: %v", err)
	}
	got := 0
	if err := ts.Exec(args[1], args[2:]...); err != nil {
		var exit *exec.ExitError
		if !errors.As(err, &exit) {
			ts.Fatalf("status: %v", err)
		}
		got = exit.ExitCode()
	}
	if got != want {
		ts.Fatalf("%s exited with status %d, want %d\nstdout:\n%s\nstderr:\n%s", args[1], got, want, ts.ReadFile("stdout"), ts.ReadFile("stderr"))
	}
}

// cmdReplace edits a file as a user would: replace FILE OLD NEW replaces
// the first OLD with NEW.
func cmdReplace(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 3 {
		ts.Fatalf("usage: replace FILE OLD NEW")
	}
	path := ts.MkAbs(args[0])
	data, err := os.ReadFile(path)
	ts.Check(err)
	if !strings.Contains(string(data), args[1]) {
		ts.Fatalf("replace: %s does not contain %q", args[0], args[1])
	}
	ts.Check(os.WriteFile(path, []byte(strings.Replace(string(data), args[1], args[2], 1)), 0o644))
}

// goEnv returns a go env variable of this machine.
func goEnv(t *testing.T, name string) string {
	out, err := exec.Command("go", "env", name).Output()
	if err != nil {
		t.Fatalf("go env %s: %v", name, err)
	}
	return strings.TrimSpace(string(out))
}

// databaseURL is the test database's URL.
func databaseURL() string {
	if u := os.Getenv("PROJGEN_TEST_DATABASE_URL"); u != "" {
		return u
	}
	return defaultDatabaseURL
}
