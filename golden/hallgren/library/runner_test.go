package library_test

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hallgren/eventsourcing/aggregate"
	sqlstore "github.com/hallgren/eventsourcing/eventstore/sql"
	"github.com/jackc/pgx/v5/pgxpool"
	_ "github.com/mattn/go-sqlite3"
	"github.com/projgen/projgen/projection/projectiontest"

	"example.com/hallgren/account"
	"example.com/hallgren/person"
)

// TestScaffoldedRunnerOnTheSQLStore runs the runner main projgen
// scaffolded (source: hallgren) on events the library's own SQL store
// saved in SQLite: it projects them, is killed with SIGKILL mid-way,
// misses events saved while it is down, and catches up after a restart.
// The rows must then be what the library loads back.
func TestScaffoldedRunnerOnTheSQLStore(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the runner main")
	}
	ctx := context.Background()
	file := "file:" + filepath.Join(t.TempDir(), "events.db") + "?_journal_mode=WAL&_txlock=immediate"
	db, err := sql.Open("sqlite3", file)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	es := sqlstore.Open(db)
	if err := es.Migrate(); err != nil {
		t.Fatal(err)
	}
	aggregate.Register(&account.Account{})
	aggregate.Register(&person.Person{})
	var ids []string
	save := func(n int) {
		for i := range n {
			a, err := account.Open(fmt.Sprint("owner-", len(ids)), "EUR")
			must(t, err)
			for j := range 4 {
				must(t, a.Deposit(int64(10*(i+j+1))))
			}
			a.Tag("vip")
			must(t, aggregate.Save(es, a))
			ids = append(ids, a.ID())
		}
	}
	save(300)

	pool := projectiontest.Open(t, filepath.Join("..", "account", "migrations"))
	applyMigrations(t, pool, filepath.Join("..", "person", "migrations"))
	var schema string
	must(t, pool.QueryRow(ctx, `SELECT current_schema()`).Scan(&schema))
	url := os.Getenv(projectiontest.URLEnv)
	sep := "?"
	if strings.Contains(url, "?") {
		sep = "&"
	}
	bin := filepath.Join(t.TempDir(), "projections")
	if out, err := exec.Command("go", "build", "-o", bin, "example.com/hallgren/cmd/projections").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	start := func() *exec.Cmd {
		c := exec.Command(bin)
		c.Env = append(os.Environ(), "DATABASE_URL="+url+sep+"search_path="+schema, "HALLGREN_DATABASE="+file)
		c.Stderr = os.Stderr
		if err := c.Start(); err != nil {
			t.Fatal(err)
		}
		return c
	}
	run := start()
	waitCount(t, pool, `SELECT count(*) FROM accounts`, func(n int) bool { return n > 0 })
	run.Process.Kill()
	run.Wait()
	save(100)
	run = start()
	defer func() { run.Process.Kill(); run.Wait() }()
	waitCount(t, pool, `SELECT count(*) FROM accounts WHERE aggregate_version = 6`, func(n int) bool { return n == len(ids) })

	projectiontest.AssertCount(t, pool, "accounts", len(ids))
	for _, id := range ids {
		var a account.Account
		must(t, aggregate.Load(ctx, es, id, &a))
		projectiontest.AssertRow(t, pool, "accounts", projectiontest.Row{"aggregate_id": id}, projectiontest.Row{
			"owner": a.Owner, "currency": a.Currency, "balance": a.Balance, "aggregate_version": int64(a.Version()),
		})
	}
}

// waitCount polls a count query until ok accepts it, or fails the test.
func waitCount(t *testing.T, pool *pgxpool.Pool, query string, ok func(int) bool) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		var n int
		must(t, pool.QueryRow(context.Background(), query).Scan(&n))
		if ok(n) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s (last count %d)", query, n)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
