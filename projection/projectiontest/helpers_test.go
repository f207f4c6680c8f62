package projectiontest_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/projgen/projgen/projection"
	"github.com/projgen/projgen/projection/projectiontest"
)

// defaultURL is the server projgen's own tests use when
// PROJGEN_TEST_DATABASE_URL is unset.
const defaultURL = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"

// useDB points PROJGEN_TEST_DATABASE_URL at the local test server when it
// is unset, for the rest of the test, and returns the URL in use. projgen's
// own tests always run against a database; only generated tests skip.
func useDB(t *testing.T) string {
	t.Helper()
	url := os.Getenv(projectiontest.URLEnv)
	if url == "" {
		url = defaultURL
		t.Setenv(projectiontest.URLEnv, url)
	}
	return url
}

// migrations writes the files, name → content, into a new directory and
// returns it.
func migrations(t *testing.T, files map[string]string) string {
	t.Helper()
	d := t.TempDir()
	for name, data := range files {
		if err := os.WriteFile(filepath.Join(d, name), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return d
}

// currentSchema returns the schema the connections of db use.
func currentSchema(t *testing.T, db projection.DBTX) string {
	t.Helper()
	var s string
	if err := db.QueryRow(context.Background(), "SELECT current_schema()").Scan(&s); err != nil {
		t.Fatalf("current_schema: %v", err)
	}
	return s
}

// schemaExists reports whether the schema exists, asked over a connection
// of its own, not one of a pool Open returned.
func schemaExists(t *testing.T, url, schema string) bool {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	defer conn.Close(ctx)
	var n int
	if err := conn.QueryRow(ctx, "SELECT count(*) FROM information_schema.schemata WHERE schema_name = $1", schema).Scan(&n); err != nil {
		t.Fatalf("look for schema %s: %v", schema, err)
	}
	return n == 1
}

// fakeTB is a testing.TB that records the failures and skips a helper
// reports instead of acting on the real test. Its Fatal and Skip methods
// record and then stop the calling goroutine with runtime.Goexit, as the
// real ones do, so the code under test must run in a goroutine of its own:
// see runFake. Everything else (Cleanup, TempDir, Setenv, Log) goes to the
// real test it embeds.
type fakeTB struct {
	testing.TB
	mu     sync.Mutex
	errors []string
	fatals []string
	skips  []string
}

// record appends a message to one of the fake's lists.
func (f *fakeTB) record(list *[]string, msg string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	*list = append(*list, msg)
}

// Helper does nothing: the fake has no call stack to mark.
func (f *fakeTB) Helper() {}

// Error records a failure.
func (f *fakeTB) Error(args ...any) { f.record(&f.errors, fmt.Sprint(args...)) }

// Errorf records a failure.
func (f *fakeTB) Errorf(format string, args ...any) {
	f.record(&f.errors, fmt.Sprintf(format, args...))
}

// Fail records a failure without a message.
func (f *fakeTB) Fail() { f.record(&f.errors, "Fail") }

// FailNow records a fatal failure and stops the goroutine.
func (f *fakeTB) FailNow() {
	f.record(&f.fatals, "FailNow")
	runtime.Goexit()
}

// Fatal records a fatal failure and stops the goroutine.
func (f *fakeTB) Fatal(args ...any) {
	f.record(&f.fatals, fmt.Sprint(args...))
	runtime.Goexit()
}

// Fatalf records a fatal failure and stops the goroutine.
func (f *fakeTB) Fatalf(format string, args ...any) {
	f.record(&f.fatals, fmt.Sprintf(format, args...))
	runtime.Goexit()
}

// Failed reports whether a failure was recorded.
func (f *fakeTB) Failed() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.errors)+len(f.fatals) > 0
}

// Skip records a skip and stops the goroutine.
func (f *fakeTB) Skip(args ...any) {
	f.record(&f.skips, fmt.Sprint(args...))
	runtime.Goexit()
}

// Skipf records a skip and stops the goroutine.
func (f *fakeTB) Skipf(format string, args ...any) {
	f.record(&f.skips, fmt.Sprintf(format, args...))
	runtime.Goexit()
}

// SkipNow records a skip and stops the goroutine.
func (f *fakeTB) SkipNow() {
	f.record(&f.skips, "SkipNow")
	runtime.Goexit()
}

// Skipped reports whether a skip was recorded.
func (f *fakeTB) Skipped() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.skips) > 0
}

// all returns every recorded message, for failure messages.
func (f *fakeTB) all() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return fmt.Sprintf("errors %q, fatals %q, skips %q", f.errors, f.fatals, f.skips)
}

// runFake calls fn with a fakeTB over t in a new goroutine, waits for it to
// return or be stopped by a Fatal or Skip, and returns the fake and whether
// fn ran to its end.
func runFake(t *testing.T, fn func(tb testing.TB)) (fake *fakeTB, finished bool) {
	t.Helper()
	fake = &fakeTB{TB: t}
	done := make(chan struct{})
	go func() {
		defer close(done)
		fn(fake)
		finished = true
	}()
	<-done
	return fake, finished
}

// contains fails the test unless s contains each of the substrings.
func contains(t *testing.T, what, s string, subs ...string) {
	t.Helper()
	for _, sub := range subs {
		if !strings.Contains(s, sub) {
			t.Errorf("%s %q does not contain %q", what, s, sub)
		}
	}
}
