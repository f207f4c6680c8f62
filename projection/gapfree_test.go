package projection_test

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/projgen/projgen/projection"
)

// widePool returns a second pool on the fixture's schema with room for
// conns connections, for writers that run beside a runner.
func (f *fixture) widePool(t *testing.T, conns int32) *pgxpool.Pool {
	t.Helper()
	cfg := f.pool.Config()
	cfg.MaxConns = conns
	pool, err := pgxpool.NewWithConfig(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	return pool
}

// begin begins a transaction on pool and rolls it back when the test ends,
// unless it has been committed.
func begin(t *testing.T, pool *pgxpool.Pool) pgx.Tx {
	t.Helper()
	tx, err := pool.Begin(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = tx.Rollback(context.Background()) })
	return tx
}

// backendPID returns the process id of the session of tx.
func backendPID(t *testing.T, tx pgx.Tx) int {
	t.Helper()
	var pid int
	if err := tx.QueryRow(context.Background(), "SELECT pg_backend_pid()").Scan(&pid); err != nil {
		t.Fatal(err)
	}
	return pid
}

// committedPositions returns the positions of every event in the table,
// which is what a projection of every topic must apply, each once.
func (f *fixture) committedPositions(t *testing.T) []int64 {
	t.Helper()
	rows, err := f.pool.Query(context.Background(), "SELECT position FROM events ORDER BY position")
	if err != nil {
		t.Fatal(err)
	}
	ps, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		t.Fatal(err)
	}
	return ps
}

// TestLockWaitDoesNotOpenAGap is the case that lost an event to readers
// ordering by transaction id: C appends to X and stays open; A appends
// [Y, X, W] and blocks on C's (aggregate_id, version) key after drawing
// Y's position; B appends Z and stays open. C rolls back, so A finishes
// and commits, its positions on both sides of B's. The runner catches up,
// B commits, the runner catches up again: every event is applied once.
func TestLockWaitDoesNotOpenAGap(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	writers := f.widePool(t, 4)
	r := f.runner(t, f.registration([]string{"a"}, nil))

	c := begin(t, writers)
	if _, err := projection.NewPostgresSource(c, "events").Append(ctx, ev("X", 1, "a", "C's X")); err != nil {
		t.Fatal(err)
	}
	a := begin(t, writers)
	aPID := backendPID(t, a)
	aDone := make(chan error, 1)
	var aPositions []int64
	go func() {
		var err error
		aPositions, err = projection.NewPostgresSource(a, "events").Append(ctx, ev("Y", 1, "a", "A's Y"), ev("X", 1, "a", "A's X"), ev("W", 1, "a", "A's W"))
		aDone <- err
	}()
	waitFor(t, func() (bool, string) {
		var waiting bool
		err := f.pool.QueryRow(ctx, "SELECT coalesce(wait_event_type = 'Lock', false) FROM pg_stat_activity WHERE pid = $1", aPID).Scan(&waiting)
		if err != nil {
			t.Fatal(err)
		}
		return waiting, "A does not wait for C's key"
	})
	b := begin(t, writers)
	bPositions, err := projection.NewPostgresSource(b, "events").Append(ctx, ev("Z", 1, "a", "B's Z"))
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Rollback(ctx); err != nil {
		t.Fatal(err)
	}
	if err := <-aDone; err != nil {
		t.Fatalf("A's append: %v", err)
	}
	if err := a.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	if !(aPositions[0] < bPositions[0] && bPositions[0] < aPositions[2]) {
		t.Fatalf("A's positions %v do not surround B's %v: the case did not happen", aPositions, bPositions)
	}

	catchUp(t, r, f.name)
	if got := f.state(t); got.Position >= bPositions[0] || slices.Contains(got.Applied, aPositions[2]) {
		t.Fatalf("with B open at %d, the runner reached %d and applied %v", bPositions[0], got.Position, got.Applied)
	}
	statuses, err := r.Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if hb := statuses[0].HeldBack; hb == nil || len(hb.Holders) != 1 || hb.Holders[0].PID != backendPID(t, b) {
		t.Errorf("Status with B open: held back %+v, want B's session", hb)
	}
	if err := b.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	catchUp(t, r, f.name)
	all := slices.Sorted(slices.Values(append(slices.Clone(aPositions), bPositions...)))
	want := state{Counts: map[string]int64{"a": 4}, Applied: all, Position: all[3], Tracked: true}
	if got := f.state(t); !reflect.DeepEqual(got, want) {
		t.Errorf("after B commits: %+v, want %+v", got, want)
	}
}

// stressRuns is how many times TestConcurrentWritersLoseNothing runs:
// PROJGEN_STRESS_RUNS, or 20.
func stressRuns(t *testing.T) int {
	if s := os.Getenv("PROJGEN_STRESS_RUNS"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			t.Fatalf("PROJGEN_STRESS_RUNS=%q: want a positive number", s)
		}
		return n
	}
	if testing.Short() {
		return 2
	}
	return 20
}

// TestConcurrentWritersLoseNothing has four writers append 10,000 events
// while a runner follows them: one with Append in transactions of one to
// several calls, one with plain INSERTs, one that writes another table
// before its events, and one that keeps a transaction open for two
// seconds before it commits. Writers roll back now and then, leaving holes
// in the positions. Every committed event must be applied exactly once:
// the applied table holds a row per event, keyed by position. Every other
// run sends the projection's statements pipelined.
func TestConcurrentWritersLoseNothing(t *testing.T) {
	for run := range stressRuns(t) {
		t.Run(fmt.Sprint("run ", run), func(t *testing.T) {
			t.Parallel()
			stress(t, uint64(run))
		})
	}
}

func stress(t *testing.T, seed uint64) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	f := newFixture(t)
	if _, err := f.pool.Exec(ctx, "CREATE TABLE orders (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, note text)"); err != nil {
		t.Fatal(err)
	}
	writers := f.widePool(t, 6)
	reg := f.registration([]string{"a", "b", "c"}, nil)
	reg.Pipeline = seed%2 == 1 // every other run pipelined
	r := f.runner(t, reg)
	r.Logger = slog.New(slog.DiscardHandler) // a failure shows in the rows
	r.BatchSize = 100
	r.PollInterval = 10 * time.Millisecond
	runDone := make(chan error, 1)
	runCtx, stopRun := context.WithCancel(ctx)
	defer stopRun()
	go func() { runDone <- r.Run(runCtx) }()

	const perWriter = 2500
	kinds := []func(ctx context.Context, pool *pgxpool.Pool, rng *rand.Rand, w, n int) error{appendWriter, insertWriter, otherTableWriter, lateWriter}
	var wg sync.WaitGroup
	errs := make([]error, len(kinds))
	for w, write := range kinds {
		rng := rand.New(rand.NewPCG(seed, uint64(w)))
		wg.Go(func() { errs[w] = write(ctx, writers, rng, w, perWriter) })
	}
	wg.Wait()
	for w, err := range errs {
		if err != nil {
			t.Fatalf("writer %d: %v", w, err)
		}
	}

	committed := f.committedPositions(t)
	if len(committed) != len(kinds)*perWriter {
		t.Fatalf("%d events committed, want %d", len(committed), len(kinds)*perWriter)
	}
	last := committed[len(committed)-1]
	waitCtx, cancelWait := context.WithTimeout(ctx, time.Minute)
	defer cancelWait()
	if err := r.Wait(waitCtx, f.name, last); err != nil {
		t.Fatalf("Wait for the last event: %v", err)
	}
	stopRun()
	if err := <-runDone; err != nil {
		t.Fatalf("Run: %v", err)
	}
	got := f.state(t)
	if !slices.Equal(got.Applied, committed) {
		missing, extra := difference(committed, got.Applied), difference(got.Applied, committed)
		t.Fatalf("applied %d of %d committed events: missing %v, not committed %v", len(got.Applied), len(committed), head(missing), head(extra))
	}
	var sum int64
	for _, n := range got.Counts {
		sum += n
	}
	if sum != int64(len(committed)) {
		t.Errorf("counts add up to %d, want %d: an event was applied twice", sum, len(committed))
	}
}

// difference returns the members of a that are not in b.
func difference(a, b []int64) []int64 {
	in := make(map[int64]bool, len(b))
	for _, x := range b {
		in[x] = true
	}
	var d []int64
	for _, x := range a {
		if !in[x] {
			d = append(d, x)
		}
	}
	return d
}

// head returns at most the first ten of xs, for messages.
func head(xs []int64) []int64 { return xs[:min(len(xs), 10)] }

// stressEvent is the i-th event of writer w, on an aggregate of its own.
func stressEvent(w, i int) projection.Stored {
	return ev(fmt.Sprintf("w%d-%d", w, i/10), int64(i%10+1), string(rune('a'+i%3)), fmt.Sprint(i))
}

// inTx runs fn in a transaction, committed unless fn reports it rolls
// back, in which case fn is run again in a new one: the writer's events
// must all end up committed.
func inTx(ctx context.Context, pool *pgxpool.Pool, rng *rand.Rand, fn func(tx pgx.Tx) error) error {
	for {
		tx, err := pool.Begin(ctx)
		if err != nil {
			return err
		}
		if err := fn(tx); err != nil {
			_ = tx.Rollback(ctx)
			return err
		}
		if rng.IntN(10) == 0 { // a writer that changes its mind leaves holes
			if err := tx.Rollback(ctx); err != nil {
				return err
			}
			continue
		}
		return tx.Commit(ctx)
	}
}

// appendWriter appends n events with Append, one to three calls of one to
// five events per transaction.
func appendWriter(ctx context.Context, pool *pgxpool.Pool, rng *rand.Rand, w, n int) error {
	for i := 0; i < n; {
		calls := 1 + rng.IntN(3)
		start := i
		err := inTx(ctx, pool, rng, func(tx pgx.Tx) error {
			i = start
			src := projection.NewPostgresSource(tx, "events")
			for c := 0; c < calls && i < n; c++ {
				var batch []projection.Stored
				for k := 0; k < 1+rng.IntN(5) && i < n; k++ {
					batch = append(batch, stressEvent(w, i))
					i++
				}
				if _, err := src.Append(ctx, batch...); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// insertWriter stores n events with plain INSERT statements, as other code
// would, one to four per transaction.
func insertWriter(ctx context.Context, pool *pgxpool.Pool, rng *rand.Rand, w, n int) error {
	for i := 0; i < n; {
		start, size := i, 1+rng.IntN(4)
		err := inTx(ctx, pool, rng, func(tx pgx.Tx) error {
			for i = start; i < n && i < start+size; i++ {
				e := stressEvent(w, i)
				if _, err := tx.Exec(ctx, `INSERT INTO events (aggregate_id, version, topic, payload) VALUES ($1, $2, $3, $4)`,
					e.AggregateID, e.Version, e.Topic, e.Data); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// otherTableWriter writes a row of another table, waits a moment, then
// appends one or two events, in each transaction.
func otherTableWriter(ctx context.Context, pool *pgxpool.Pool, rng *rand.Rand, w, n int) error {
	for i := 0; i < n; {
		start := i
		err := inTx(ctx, pool, rng, func(tx pgx.Tx) error {
			if _, err := tx.Exec(ctx, "INSERT INTO orders (note) VALUES ($1)", fmt.Sprint("before event ", start)); err != nil {
				return err
			}
			if rng.IntN(20) == 0 {
				time.Sleep(time.Millisecond)
			}
			var batch []projection.Stored
			for i = start; i < n && i < start+1+rng.IntN(2); i++ {
				batch = append(batch, stressEvent(w, i))
			}
			_, err := projection.NewPostgresSource(tx, "events").Append(ctx, batch...)
			return err
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// lateWriter appends its first events in a transaction it commits two
// seconds later, while the others write, then the rest as appendWriter.
func lateWriter(ctx context.Context, pool *pgxpool.Pool, rng *rand.Rand, w, n int) error {
	tx, err := pool.Begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback(ctx) //nolint:errcheck // after Commit this is a no-op
	var early []projection.Stored
	for i := range 10 {
		early = append(early, stressEvent(w, i))
	}
	if _, err := projection.NewPostgresSource(tx, "events").Append(ctx, early...); err != nil {
		return err
	}
	if err := sleepCtx(ctx, 2*time.Second); err != nil {
		return err
	}
	if err := tx.Commit(ctx); err != nil {
		return err
	}
	// The rest, as events 10 onwards of the same writer.
	for i := 10; i < n; {
		start := i
		err := inTx(ctx, pool, rng, func(tx pgx.Tx) error {
			var batch []projection.Stored
			for i = start; i < n && i < start+1+rng.IntN(5); i++ {
				batch = append(batch, stressEvent(w, i))
			}
			_, err := projection.NewPostgresSource(tx, "events").Append(ctx, batch...)
			return err
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// sleepCtx sleeps for d, or until ctx is done.
func sleepCtx(ctx context.Context, d time.Duration) error {
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(d):
		return nil
	}
}

// TestTransactionsElsewhereDoNotHoldReaders keeps transactions open that
// do not write the events table, in another database of the server and on
// another table of this one: the runner must still apply events committed
// after they began.
func TestTransactionsElsewhereDoNotHoldReaders(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	other := "projgen_other_" + strings.ReplaceAll(uuid.NewString(), "-", "")[:12]
	if _, err := f.pool.Exec(ctx, "CREATE DATABASE "+other); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _, _ = f.pool.Exec(context.Background(), "DROP DATABASE "+other+" WITH (FORCE)") })
	cfg := f.pool.Config().ConnConfig.Copy()
	cfg.Database = other
	cfg.RuntimeParams = map[string]string{}
	elsewhere, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer elsewhere.Close(ctx)
	tx, err := elsewhere.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(ctx) //nolint:errcheck // never committed
	if _, err := tx.Exec(ctx, "CREATE TABLE held (id int); INSERT INTO held VALUES (1)"); err != nil {
		t.Fatal(err)
	}
	if _, err := f.pool.Exec(ctx, "CREATE TABLE notes (id int)"); err != nil {
		t.Fatal(err)
	}
	here := begin(t, f.widePool(t, 1))
	if _, err := here.Exec(ctx, "INSERT INTO notes VALUES (1)"); err != nil {
		t.Fatal(err)
	}

	r := f.runner(t, f.registration([]string{"a"}, nil))
	ps := appendEvents(t, f.source, ev("x", 1, "a", "1"), ev("x", 2, "a", "2"))
	catchUp(t, r, f.name)
	if got := f.state(t); !slices.Equal(got.Applied, ps) {
		t.Errorf("with transactions open elsewhere, applied %v, want %v", got.Applied, ps)
	}
	statuses, err := r.Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if s := statuses[0]; s.HeldBack != nil || s.Lag != 0 {
		t.Errorf("Status = %+v, want caught up and held back by nothing", s)
	}
}

// TestOpenWriterIsReported keeps a transaction open that has written an
// event: the runner stops before it, Status names its session, and the
// runner logs a warning once StallWarning has passed.
func TestOpenWriterIsReported(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	before := appendVisible(t, f.source, ev("x", 1, "a", "before"))
	tx := begin(t, f.widePool(t, 1))
	pid := backendPID(t, tx)
	if _, err := tx.Exec(ctx, `INSERT INTO events (aggregate_id, version, topic, payload) VALUES ('open', 1, 'a', '{"value": "open"}')`); err != nil {
		t.Fatal(err)
	}
	after := appendEvents(t, f.source, ev("x", 2, "a", "after"))

	var logs syncBuffer
	r := f.runner(t, f.registration([]string{"a"}, nil))
	r.Logger = slog.New(slog.NewTextHandler(&logs, nil))
	r.StallWarning = 100 * time.Millisecond
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- r.Run(runCtx) }()
	defer func() { stop(); <-done }()

	waitFor(t, func() (bool, string) {
		return strings.Contains(logs.String(), "holds the projection back") && strings.Contains(logs.String(), "pids="+strconv.Itoa(pid)),
			"no warning naming pid " + strconv.Itoa(pid) + " in:\n" + logs.String()
	})
	statuses, err := r.Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	s := statuses[0]
	if s.Position != before[0] || s.Lag != 1 || s.HeldBack == nil || s.HeldBack.Through != before[0] {
		t.Fatalf("Status = %+v, want at %d with the later event held back", s, before[0])
	}
	if h := s.HeldBack.Holders; len(h) != 1 || h[0].PID != pid || h[0].State != "idle in transaction" || s.HeldBack.Since.IsZero() {
		t.Errorf("held back by %+v since %v, want pid %d, idle in transaction", h, s.HeldBack.Since, pid)
	}
	if s.State != projection.Running || s.HolderPID == 0 {
		t.Errorf("Status = %+v, want running, with the runner's session", s)
	}

	if err := tx.Rollback(ctx); err != nil {
		t.Fatal(err)
	}
	waitCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := r.Wait(waitCtx, f.name, after[0]); err != nil {
		t.Fatal(err)
	}
}

// syncBuffer is a strings.Builder that log handlers and the test may use
// at once.
type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
