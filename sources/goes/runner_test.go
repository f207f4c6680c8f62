package goes_test

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"os/exec"
	"os/signal"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/projgen/projgen/projection"
	"github.com/projgen/projgen/projection/projectiontest"
	goes "github.com/projgen/projgen/sources/goes"
)

// ordersProjection is a hand-written projection of orders, written as
// generated read models are: every statement of orders guarded by the
// row's aggregate_version. deliveries counts, unguarded, every event it
// applied, so that one applied twice shows.
type ordersProjection struct {
	db    projection.DBTX
	name  string
	delay time.Duration
}

var orderTopics = []string{placed, itemAdded, paid, shipped}

func (p *ordersProjection) Name() string     { return p.name }
func (p *ordersProjection) Topics() []string { return orderTopics }

func (p *ordersProjection) Process(ctx context.Context, e projection.Event) error {
	if err := projection.CheckUUID(e.Meta, "orders.aggregate_id"); err != nil {
		return err
	}
	if p.delay > 0 {
		time.Sleep(p.delay)
	}
	if _, err := p.db.Exec(ctx, `INSERT INTO deliveries (aggregate_id, n) VALUES ($1, 1)
ON CONFLICT (aggregate_id) DO UPDATE SET n = deliveries.n + 1`, e.AggregateID); err != nil {
		return err
	}
	const set = `UPDATE orders SET aggregate_version = $2, last_position = $3, applied = applied + 1, `
	const guard = ` WHERE aggregate_id = $1 AND aggregate_version < $2`
	var err error
	switch d := e.Data.(type) {
	case *placedData:
		_, err = p.db.Exec(ctx, `INSERT INTO orders (aggregate_id, aggregate_version, last_position, placed_at, customer_id, items, total)
VALUES ($1, $2, $3, $4, $5, $6, $7)
ON CONFLICT (aggregate_id) DO UPDATE SET
	aggregate_version = EXCLUDED.aggregate_version, last_position = EXCLUDED.last_position, placed_at = EXCLUDED.placed_at,
	customer_id = EXCLUDED.customer_id, items = EXCLUDED.items, total = EXCLUDED.total, applied = orders.applied + 1
WHERE orders.aggregate_version < EXCLUDED.aggregate_version`, e.AggregateID, e.Version, e.Position, e.Timestamp, d.CustomerID, countItems(d.Items), totalOf(d.Items))
	case *lineItem:
		_, err = p.db.Exec(ctx, set+`items = items + $4, total = total + $5`+guard, e.AggregateID, e.Version, e.Position, d.Quantity, d.Quantity*d.Price)
	case *int:
		_, err = p.db.Exec(ctx, set+`paid = paid + $4`+guard, e.AggregateID, e.Version, e.Position, *d)
	case *struct{}:
		_, err = p.db.Exec(ctx, set+`shipped = true`+guard, e.AggregateID, e.Version, e.Position)
	default:
		return fmt.Errorf("%w: %T", projection.ErrPayloadType, e.Data)
	}
	return err
}

func countItems(items []lineItem) int {
	n := 0
	for _, i := range items {
		n += i.Quantity
	}
	return n
}

func totalOf(items []lineItem) int {
	n := 0
	for _, i := range items {
		n += i.Quantity * i.Price
	}
	return n
}

// orderTypes decodes the payloads of the order topics.
func orderTypes() projection.EventTypes {
	return projection.EventTypes{
		placed:    func() any { return new(placedData) },
		itemAdded: func() any { return new(lineItem) },
		paid:      func() any { return new(int) },
		shipped:   func() any { return new(struct{}) },
	}
}

func ordersRegistration(name string, delay time.Duration) projection.Registration {
	return projection.Registration{
		Name:   name,
		Topics: orderTopics,
		Tables: []string{"orders", "deliveries"},
		New: func(db projection.DBTX) projection.Projection {
			return &ordersProjection{db: db, name: name, delay: delay}
		},
	}
}

func projectionName() string {
	return "orders_" + strings.ReplaceAll(uuid.NewString(), "-", "")[:12]
}

// orderRow is a row of orders, with its deliveries.
type orderRow struct {
	Version     int64
	PlacedAt    time.Time
	Customer    uuid.UUID
	Items       int
	Total       int64
	Paid        int64
	Shipped     bool
	Applied     int
	Deliveries  int
	HasPosition bool
}

// expectedOrders folds the committed events as the projection should.
func expectedOrders(events []goesEvent) map[uuid.UUID]orderRow {
	rows := map[uuid.UUID]orderRow{}
	for _, e := range events {
		r := rows[e.AggregateID]
		if e.Name == tagged {
			continue
		}
		if e.AggregateVersion > int(r.Version) {
			r.Version = int64(e.AggregateVersion)
		}
		r.Applied++
		r.Deliveries++
		r.HasPosition = true
		switch d := e.Data.(type) {
		case placedData:
			r.PlacedAt, r.Customer, r.Items, r.Total = e.Time.Truncate(time.Microsecond), d.CustomerID, countItems(d.Items), int64(totalOf(d.Items))
		case lineItem:
			r.Items += d.Quantity
			r.Total += int64(d.Quantity * d.Price)
		case int:
			r.Paid += int64(d)
		case struct{}:
			r.Shipped = true
		}
		rows[e.AggregateID] = r
	}
	return rows
}

// readOrders returns the read model.
func readOrders(t *testing.T, pool *pgxpool.Pool) map[uuid.UUID]orderRow {
	t.Helper()
	rows, err := pool.Query(context.Background(), `SELECT o.aggregate_id, o.aggregate_version, o.placed_at, o.customer_id, o.items, o.total, o.paid, o.shipped, o.applied, coalesce(d.n, 0), o.last_position > 0
FROM orders o LEFT JOIN deliveries d ON d.aggregate_id = o.aggregate_id`)
	if err != nil {
		t.Fatal(err)
	}
	got := map[uuid.UUID]orderRow{}
	var id uuid.UUID
	var r orderRow
	if _, err := pgx.ForEachRow(rows, []any{&id, &r.Version, &r.PlacedAt, &r.Customer, &r.Items, &r.Total, &r.Paid, &r.Shipped, &r.Applied, &r.Deliveries, &r.HasPosition}, func() error {
		got[id] = r
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	var strays int
	if err := pool.QueryRow(context.Background(), `SELECT count(*) FROM deliveries d WHERE NOT EXISTS (SELECT FROM orders o WHERE o.aggregate_id = d.aggregate_id)`).Scan(&strays); err != nil {
		t.Fatal(err)
	}
	if strays > 0 {
		t.Errorf("%d aggregates were delivered events but have no order row", strays)
	}
	return got
}

// checkOrders compares the read model with the committed events.
func checkOrders(t *testing.T, pool *pgxpool.Pool, events []goesEvent) {
	t.Helper()
	want, got := expectedOrders(events), readOrders(t, pool)
	bad := 0
	for id, w := range want {
		g, ok := got[id]
		g.PlacedAt = g.PlacedAt.UTC()
		w.PlacedAt = w.PlacedAt.UTC()
		if !ok || g != w {
			if bad++; bad <= 5 {
				t.Errorf("order %s: %+v, want %+v", id, g, w)
			}
		}
	}
	if len(got) != len(want) || bad > 0 {
		t.Errorf("%d orders, want %d; %d differ", len(got), len(want), bad)
	}
}

// newRunner returns a set-up runner of the orders projection over the
// goes source on pool.
func newRunner(t *testing.T, pool *pgxpool.Pool, name string, delay time.Duration, logger *slog.Logger) *projection.Runner {
	t.Helper()
	r := &projection.Runner{
		Pool:          pool,
		Source:        goes.NewSource(pool),
		Types:         orderTypes(),
		Registrations: []projection.Registration{ordersRegistration(name, delay)},
		BatchSize:     50,
		PollInterval:  20 * time.Millisecond,
		Logger:        logger,
	}
	if err := r.Setup(context.Background()); err != nil {
		t.Fatal(err)
	}
	return r
}

// TestRunnerProjectsOrders runs projection.Runner over the source while
// goes-style writers, a late transaction and other code write orders,
// some of them before Install: the orders table ends up as the committed
// events say, every event applied once.
func TestRunnerProjectsOrders(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	pool := openDB(t)
	var w written
	for range 5 {
		o := newOrder(0)
		events := []goesEvent{o.next(), o.next(), o.next(), o.next()}
		if err := goesInsert(ctx, pool, events...); err != nil {
			t.Fatal(err)
		}
		w.add(events...)
	}
	install(t, pool)
	runPool := widePool(t, pool, 4)
	name := projectionName()
	r := newRunner(t, runPool, name, 0, slog.New(slog.DiscardHandler))
	runCtx, stop := context.WithCancel(ctx)
	runDone := make(chan error, 1)
	go func() { runDone <- r.Run(runCtx) }()

	writers := widePool(t, pool, 4)
	var wg sync.WaitGroup
	kinds := []func(context.Context, *pgxpool.Pool, *rand.Rand, *written) error{goesWriter, goesWriter, lateWriter, otherCodeWriter}
	errs := make([]error, len(kinds))
	for i, kind := range kinds {
		wg.Go(func() { errs[i] = kind(ctx, writers, rand.New(rand.NewPCG(7, uint64(i))), &w) })
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	head := logHead(t, pool)
	if err := r.Wait(ctx, name, head); err != nil {
		t.Fatal(err)
	}
	stop()
	if err := <-runDone; err != nil {
		t.Fatal(err)
	}
	checkOrders(t, pool, w.all())
}

// The environment of a runner helper process: the test binary, started
// again with helperEnv set, runs the orders projection over the goes
// source until SIGTERM, as a runner main would.
const (
	helperEnv       = "PROJGEN_GOES_TEST_HELPER"
	helperSchemaEnv = "PROJGEN_GOES_TEST_HELPER_SCHEMA"
	helperNameEnv   = "PROJGEN_GOES_TEST_HELPER_NAME"
	helperDelayEnv  = "PROJGEN_GOES_TEST_HELPER_DELAY"
)

// runHelper is the main of a runner helper process; it returns the exit
// code.
func runHelper() int {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	cfg, err := pgxpool.ParseConfig(os.Getenv(projectiontest.URLEnv))
	if err != nil {
		fmt.Fprintln(os.Stderr, "helper:", err)
		return 2
	}
	cfg.ConnConfig.RuntimeParams["search_path"] = os.Getenv(helperSchemaEnv)
	cfg.MaxConns = 4
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		fmt.Fprintln(os.Stderr, "helper:", err)
		return 2
	}
	defer pool.Close()
	delay, _ := time.ParseDuration(os.Getenv(helperDelayEnv))
	r := &projection.Runner{
		Pool:          pool,
		Source:        goes.NewSource(pool),
		Types:         orderTypes(),
		Registrations: []projection.Registration{ordersRegistration(os.Getenv(helperNameEnv), delay)},
		BatchSize:     50,
		PollInterval:  20 * time.Millisecond,
		ID:            fmt.Sprint("helper ", os.Getpid()),
		Logger:        slog.New(slog.NewTextHandler(os.Stderr, nil)),
	}
	if err := r.Run(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "helper: run:", err)
		return 1
	}
	return 0
}

// helper is a runner helper process and what it logged.
type helper struct {
	cmd *exec.Cmd
	log *syncBuffer
}

// startHelper starts a runner helper process of the projection name on
// pool's schema, sleeping delay per event. It is killed when the test
// ends.
func startHelper(t *testing.T, pool *pgxpool.Pool, name string, delay time.Duration) *helper {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), helperEnv+"=runner", helperSchemaEnv+"="+schemaOf(t, pool), helperNameEnv+"="+name, helperDelayEnv+"="+delay.String())
	h := &helper{cmd: cmd, log: &syncBuffer{}}
	cmd.Stdout, cmd.Stderr = h.log, h.log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		if t.Failed() {
			t.Logf("helper %d logged:\n%s", cmd.Process.Pid, h.log.String())
		}
	})
	return h
}

// trackedPosition returns the projection's tracked position, 0 before it
// has one.
func trackedPosition(t *testing.T, pool *pgxpool.Pool, name string) int64 {
	t.Helper()
	var p int64
	err := pool.QueryRow(context.Background(), `SELECT coalesce((SELECT position FROM projgen_tracking WHERE name = $1), 0)`, name).Scan(&p)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// TestKillMidBatchLosesNothing runs the orders projection over the goes
// source in runner processes that apply slowly, and kills each with
// SIGKILL in the middle of a batch while a goes writer goes on writing;
// then one runner catches up. Nothing is lost and nothing doubled: per
// order, the events applied and the events delivered are the events
// written.
func TestKillMidBatchLosesNothing(t *testing.T) {
	if testing.Short() {
		t.Skip("starts and kills runner processes")
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	pool := openDB(t)
	install(t, pool)
	name := projectionName()
	newRunner(t, pool, name, 0, slog.New(slog.DiscardHandler)) // Setup
	var w written
	rng := rand.New(rand.NewPCG(3, 4))
	for range 120 {
		o := newOrder(0)
		for o.version < 10 {
			n := min(1+rng.IntN(5), 10-o.version)
			events := make([]goesEvent, n)
			for i := range events {
				events[i] = o.next()
			}
			if err := goesInsert(ctx, pool, events...); err != nil {
				t.Fatal(err)
			}
			w.add(events...)
		}
	}

	// A writer goes on while the runners are killed.
	writing, stopWriting := context.WithCancel(ctx)
	writerDone := make(chan error, 1)
	go func() {
		o := newOrder(0)
		for writing.Err() == nil {
			if o.version >= 10 {
				o = newOrder(0)
			}
			events := []goesEvent{o.next(), o.next()}
			if err := goesInsert(ctx, pool, events...); err != nil {
				writerDone <- err
				return
			}
			w.add(events...)
			time.Sleep(20 * time.Millisecond)
		}
		writerDone <- nil
	}()

	kills, advanced := 0, 0
	var last int64
	for kills < 5 {
		h := startHelper(t, pool, name, 2*time.Millisecond)
		waitFor(t, func() (bool, string) {
			return strings.Contains(h.log.String(), "projection started"), "the helper did not start:\n" + h.log.String()
		})
		time.Sleep(time.Duration(100+rng.IntN(200)) * time.Millisecond)
		if err := h.cmd.Process.Signal(syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		_ = h.cmd.Wait()
		kills++
		if p := trackedPosition(t, pool, name); p > last {
			advanced++
			last = p
		}
	}
	stopWriting()
	if err := <-writerDone; err != nil {
		t.Fatal(err)
	}
	head := logHead(t, pool)
	if last >= head {
		t.Fatalf("the runners reached %d of %d before the last kill: write more events", last, head)
	}
	if advanced < 2 {
		t.Errorf("only %d of %d runners advanced before they were killed", advanced, kills)
	}

	h := startHelper(t, pool, name, 0)
	r := &projection.Runner{Pool: pool}
	if err := r.Wait(ctx, name, head); err != nil {
		t.Fatal(err)
	}
	if err := h.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := h.cmd.Wait(); err != nil {
		t.Errorf("helper after SIGTERM: %v", err)
	}
	t.Logf("%d kills, %d after progress, the last at position %d of %d", kills, advanced, last, head)
	checkOrders(t, pool, w.all())
}
