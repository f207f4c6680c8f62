package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/projgen/projgen/projection"
	"github.com/projgen/projgen/projection/migration"
)

// TestRunnerEndToEnd is the whole product at work on the example module:
// its migrations create the read-model tables, events are stored, and the
// runner main that projgen scaffolded (golden/registry/cmd/projections),
// built and started as a process, projects them into rows, exactly once,
// then stops cleanly on SIGINT; its -status, -wait and -park flags then
// report where the projections stand, with the exit statuses they promise.
func TestRunnerEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the example module's runner against PostgreSQL")
	}
	ctx := context.Background()
	url := freshSchema(t)
	pool, err := pgxpool.New(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	module := filepath.Join("golden", "registry")
	dirs, _ := filepath.Glob(filepath.Join(module, "*", "*", "migrations"))
	if len(dirs) == 0 {
		t.Fatal("no migrations in golden/registry")
	}
	for _, dir := range dirs {
		ms, err := migration.Read(dir)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range ms {
			if _, err := pool.Exec(ctx, m.Up); err != nil {
				t.Fatalf("%s: %v", m.Files[0], err)
			}
		}
	}
	if _, err := pool.Exec(ctx, projection.EventsTableSQL); err != nil {
		t.Fatal(err)
	}
	source := projection.NewPostgresSource(pool, "events")
	installation := uuid.NewString()
	const topic = "example.com/registry/github/installation."
	store := func(version int64, typ string, payload any) {
		t.Helper()
		data, err := json.Marshal(payload)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := source.Append(ctx, projection.Stored{
			Meta: projection.Meta{AggregateID: installation, Version: version, Topic: topic + typ},
			Data: data,
		}); err != nil {
			t.Fatal(err)
		}
	}
	store(1, "Created", map[string]any{"InstallationID": 42, "AccountLogin": "octocat", "TenantID": "tenant-1"})
	store(2, "Suspended", struct{}{})

	bin := filepath.Join(t.TempDir(), "projections")
	build := exec.Command("go", "build", "-o", bin, "./cmd/projections")
	build.Dir = module
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build ./cmd/projections: %v\n%s", err, out)
	}
	run := exec.Command(bin)
	run.Env = append(os.Environ(), "DATABASE_URL="+url)
	var output strings.Builder
	run.Stdout, run.Stderr = &output, &output
	if err := run.Start(); err != nil {
		t.Fatal(err)
	}
	stopped := false
	defer func() {
		if !stopped {
			run.Process.Kill()
			run.Wait()
		}
	}()

	// The runner catches up, then follows: an event stored while it runs
	// is projected too.
	waitFor(t, pool, `SELECT count(*) FROM installations WHERE aggregate_id = $1 AND is_suspended AND account_login = 'octocat'`, installation)
	store(3, "Unsuspended", struct{}{})
	waitFor(t, pool, `SELECT count(*) FROM installations WHERE aggregate_id = $1 AND NOT is_suspended AND aggregate_version = 3`, installation)

	// -wait returns once every projection has passed the head, the
	// endpoint projection, which reads other topics, included: a script
	// would wait so before it reads its own writes.
	backlog, err := source.Backlog(ctx, 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	head := backlog.Head
	wait := exec.Command(bin, "-wait", fmt.Sprint(head), "-timeout", "30s")
	wait.Env = run.Env
	if out, err := wait.CombinedOutput(); err != nil {
		t.Fatalf("projections -wait %d while the runner runs: %v\n%s", head, err, out)
	}

	if err := run.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	err = run.Wait()
	stopped = true
	if err != nil {
		t.Fatalf("the runner did not stop cleanly on SIGINT: %v\n%s", err, output.String())
	}
	var position int64
	if err := pool.QueryRow(ctx, `SELECT position FROM projgen_tracking WHERE name = 'installation'`).Scan(&position); err != nil {
		t.Fatal(err)
	}
	if position != head {
		t.Errorf("installation's tracked position is %d, want the head %d", position, head)
	}

	// The flags that look at the projections, with the runner stopped.
	projections := func(args ...string) (code int, output string, took time.Duration) {
		t.Helper()
		c := exec.Command(bin, args...)
		c.Env = run.Env
		start := time.Now()
		out, err := c.CombinedOutput()
		took = time.Since(start)
		var exit *exec.ExitError
		if err != nil && !errors.As(err, &exit) {
			t.Fatalf("projections %s: %v", strings.Join(args, " "), err)
		}
		return c.ProcessState.ExitCode(), string(out), took
	}
	code, out, _ := projections("-status")
	want := fmt.Sprintf("installation: idle, position %d, head %d, lag 0 events (0.0s), 0 parked\n", head, head)
	if code != 0 || !strings.Contains(out, want) {
		t.Errorf("projections -status: exit %d, want 0 and a line %q\n%s", code, want, out)
	}
	code, out, took := projections("-wait", fmt.Sprint(head))
	if code != 0 || took > 5*time.Second {
		t.Errorf("projections -wait %d (the head): exit %d after %s, want 0 at once\n%s", head, code, took, out)
	}
	code, out, took = projections("-wait", fmt.Sprint(head+1000), "-only", "installation", "-timeout", "300ms")
	if code != 1 || !strings.Contains(out, `projection "installation"`) || !strings.Contains(out, "timed out after 300ms") || took > 10*time.Second {
		t.Errorf("projections -wait %d -only installation -timeout 300ms (past the head): exit %d after %s, want 1 and a message naming installation\n%s",
			head+1000, code, took, out)
	}
	code, out, _ = projections("-park", "nosuch")
	if code != 2 || !strings.Contains(out, `no projection named "nosuch"`) {
		t.Errorf("projections -park nosuch: exit %d, want 2 and a message naming nosuch\n%s", code, out)
	}
}

// freshSchema creates a schema in the test database, dropped when the test
// ends, and returns a URL whose connections use it.
func freshSchema(t *testing.T) string {
	t.Helper()
	ctx := context.Background()
	base := databaseURL()
	conn, err := pgx.Connect(ctx, base)
	if err != nil {
		t.Fatalf("connect to %s: %v", base, err)
	}
	defer conn.Close(ctx)
	schema := "projgen_e2e_" + strings.ReplaceAll(uuid.NewString(), "-", "")
	if _, err := conn.Exec(ctx, "CREATE SCHEMA "+schema); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		c, err := pgx.Connect(context.Background(), base)
		if err != nil {
			t.Error(err)
			return
		}
		defer c.Close(context.Background())
		c.Exec(context.Background(), "DROP SCHEMA "+schema+" CASCADE")
	})
	sep := "?"
	if strings.Contains(base, "?") {
		sep = "&"
	}
	return base + sep + "search_path=" + schema
}

// waitFor polls a count query until it returns 1, or fails the test
// after 30s.
func waitFor(t *testing.T, pool *pgxpool.Pool, query string, args ...any) {
	t.Helper()
	pollCount(t, pool, 30*time.Second, query, func(n int) bool { return n == 1 }, args...)
}
