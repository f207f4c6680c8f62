package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/projgen/projgen/projection/migration"
)

// goesOrder is what the events written for one order make of its row.
type goesOrder struct {
	customer  uuid.UUID
	tags      []string
	paid      int64
	shipped   bool
	cancelled string
	version   int64 // of its last event the projection applies
}

// TestGoesRunnerEndToEnd runs the runner main projgen scaffolded for the
// goes example (golden/goes, source: goes) on rows in goes' stored format:
// it installs its log over events already there, projects them, is killed
// with SIGKILL mid-way, misses the events written while it is down, and
// catches up after a restart. Every row must then be what the events say.
func TestGoesRunnerEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the goes example's runner against PostgreSQL")
	}
	ctx := context.Background()
	url := freshSchema(t)
	pool, err := pgxpool.New(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	// goes' table, as goes creates it, and the generated read model's.
	goesTable, err := os.ReadFile(filepath.Join("sources", "goes", "testdata", "migrations", "000001_goes_events.up.sql"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := pool.Exec(ctx, string(goesTable)); err != nil {
		t.Fatal(err)
	}
	ms, err := migration.Read(filepath.Join("golden", "goes", "order", "migrations"))
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range ms {
		if _, err := pool.Exec(ctx, m.Up); err != nil {
			t.Fatal(err)
		}
	}
	orders := map[uuid.UUID]*goesOrder{}
	writeOrders(t, pool, orders, 300)

	bin := filepath.Join(t.TempDir(), "projections")
	build := exec.Command("go", "build", "-o", bin, "./cmd/projections")
	build.Dir = filepath.Join("golden", "goes")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build ./cmd/projections: %v\n%s", err, out)
	}
	start := func() *exec.Cmd {
		c := exec.Command(bin)
		c.Env = append(os.Environ(), "DATABASE_URL="+url)
		c.Stdout, c.Stderr = os.Stderr, os.Stderr
		if err := c.Start(); err != nil {
			t.Fatal(err)
		}
		return c
	}

	// Killed with SIGKILL once it has applied some of the events.
	run := start()
	pollCount(t, pool, time.Minute, `SELECT count(*) FROM orders`, func(n int) bool { return n > 0 })
	run.Process.Kill()
	run.Wait()
	// Events written while it is down, then a restart.
	writeOrders(t, pool, orders, 100)
	run = start()
	defer func() { run.Process.Kill(); run.Wait() }()
	pollCount(t, pool, time.Minute, `SELECT count(*) FROM orders`, func(n int) bool { return n == len(orders) })
	for id, o := range orders {
		pollCount(t, pool, time.Minute, `SELECT count(*) FROM orders WHERE aggregate_id = $1 AND aggregate_version = $2`, func(n int) bool { return n == 1 }, id, o.version)
		var customer uuid.UUID
		var tags []string
		var paid *int64
		var shipped bool
		var cancelled *string
		if err := pool.QueryRow(ctx, `SELECT customer_id, tagged, paid, is_shipped, cancelled FROM orders WHERE aggregate_id = $1`, id).
			Scan(&customer, &tags, &paid, &shipped, &cancelled); err != nil {
			t.Fatal(err)
		}
		if customer != o.customer || !slices.Equal(tags, o.tags) || deref(paid) != o.paid || shipped != o.shipped || deref(cancelled) != o.cancelled {
			t.Errorf("order %s: row (%s, %q, %d, %v, %q), want (%s, %q, %d, %v, %q)", id,
				customer, tags, deref(paid), shipped, deref(cancelled), o.customer, o.tags, o.paid, o.shipped, o.cancelled)
		}
	}
}

// writeOrders writes n orders' events into goes' table as goes' postgres
// store writes them: one transaction per aggregate, one INSERT per event,
// the data as goes' JSON codec encodes it, the time in Unix nanoseconds.
func writeOrders(t *testing.T, pool *pgxpool.Pool, orders map[uuid.UUID]*goesOrder, n int) {
	t.Helper()
	ctx := context.Background()
	for i := range n {
		id := uuid.New()
		o := &goesOrder{customer: uuid.New()}
		type event struct {
			name string
			data any
		}
		events := []event{
			{"shop.order.placed", map[string]any{"customerId": o.customer, "items": []map[string]any{{"sku": fmt.Sprint("sku-", i), "quantity": 1, "price": 100}}}},
			{"shop.order.item_added", map[string]any{"sku": "more", "quantity": 2, "price": 50}},
			{"shop.order.tagged", []string{fmt.Sprint("t", i%5), "gift"}},
		}
		o.tags = []string{fmt.Sprint("t", i%5), "gift"}
		if i%3 == 0 {
			o.cancelled = fmt.Sprint("reason ", i)
			events = append(events, event{"shop.order.cancelled", o.cancelled})
		} else {
			o.paid = int64(500 + i)
			events = append(events, event{"shop.order.paid", o.paid}, event{"shop.order.shipped", struct{}{}})
			o.shipped = true
		}
		err := pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
			for v, e := range events {
				data, err := json.Marshal(e.data)
				if err != nil {
					return err
				}
				if _, err := tx.Exec(ctx, `INSERT INTO events (id, name, time, aggregate_id, aggregate_name, aggregate_version, data) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
					uuid.New(), e.name, time.Now().UnixNano(), id, "shop.order", v+1, data); err != nil {
					return err
				}
				if e.name != "shop.order.item_added" {
					o.version = int64(v + 1)
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		orders[id] = o
	}
}

// pollCount polls a count query until ok accepts it, or fails the test
// after timeout.
func pollCount(t *testing.T, pool *pgxpool.Pool, timeout time.Duration, query string, ok func(int) bool, args ...any) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		var n int
		if err := pool.QueryRow(context.Background(), query, args...).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if ok(n) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s (last count %d)", query, n)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}
