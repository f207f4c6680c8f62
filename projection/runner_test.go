package projection_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/projgen/projgen/projection"
)

func TestCatchUpAppliesEachEventOnce(t *testing.T) {
	f := newFixture(t)
	r := f.runner(t, f.registration([]string{"a", "b"}, nil))
	ps := appendVisible(t, f.source, ev("x", 1, "a", "1"), ev("x", 2, "b", "2"), ev("y", 1, "a", "3"))

	catchUp(t, r, f.name)
	want := state{Counts: map[string]int64{"a": 2, "b": 1}, Applied: ps, Position: ps[2], Tracked: true}
	if got := f.state(t); !reflect.DeepEqual(got, want) {
		t.Fatalf("after CatchUp: %+v, want %+v", got, want)
	}
	rows, err := f.pool.Query(context.Background(), "SELECT aggregate_id || '/' || version || '/' || value FROM applied ORDER BY position")
	if err != nil {
		t.Fatal(err)
	}
	values, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil || !reflect.DeepEqual(values, []string{"x/1/1", "x/2/2", "y/1/3"}) {
		t.Errorf("applied events %v (%v): metadata or payload did not reach the projection", values, err)
	}

	// The tracked position makes a second run a no-op: it neither applies
	// an event again nor writes the tracking row.
	updated := func() time.Time {
		var at time.Time
		if err := f.pool.QueryRow(context.Background(), "SELECT updated_at FROM projgen_tracking WHERE name = $1", f.name).Scan(&at); err != nil {
			t.Fatal(err)
		}
		return at
	}
	at := updated()
	catchUp(t, r, f.name)
	if got := f.state(t); !reflect.DeepEqual(got, want) {
		t.Errorf("after a second CatchUp: %+v, want %+v", got, want)
	}
	if updated() != at {
		t.Error("a CatchUp with nothing to apply wrote the tracking row")
	}

	// Events appended later are applied by the next CatchUp, once.
	more := appendVisible(t, f.source, ev("x", 3, "a", "4"))
	catchUp(t, r, f.name)
	want = state{Counts: map[string]int64{"a": 3, "b": 1}, Applied: append(ps, more...), Position: more[0], Tracked: true}
	if got := f.state(t); !reflect.DeepEqual(got, want) {
		t.Errorf("after a third CatchUp: %+v, want %+v", got, want)
	}
}

func TestCatchUpFiltersTopics(t *testing.T) {
	f := newFixture(t)
	r := f.runner(t, f.registration([]string{"a", "c"}, nil))
	ps := appendVisible(t, f.source,
		ev("x", 1, "a", "1"), ev("x", 2, "b", "2"), ev("x", 3, "c", "3"), ev("x", 4, "b", "4"))

	catchUp(t, r, f.name)
	// The position reaches the last event even though it is of a topic the
	// projection does not read: there is nothing left for it before there.
	want := state{Counts: map[string]int64{"a": 1, "c": 1}, Applied: []int64{ps[0], ps[2]}, Position: ps[3], Tracked: true}
	if got := f.state(t); !reflect.DeepEqual(got, want) {
		t.Errorf("after CatchUp: %+v, want %+v", got, want)
	}
}

func TestCatchUpBatches(t *testing.T) {
	f := newFixture(t)
	r := f.runner(t, f.registration([]string{"a"}, nil))
	r.BatchSize = 2
	var events []projection.Stored
	for i := range 5 {
		events = append(events, ev("x", int64(i+1), "a", fmt.Sprint(i)))
	}
	ps := appendVisible(t, f.source, events...)

	catchUp(t, r, f.name)
	want := state{Counts: map[string]int64{"a": 5}, Applied: ps, Position: ps[4], Tracked: true}
	if got := f.state(t); !reflect.DeepEqual(got, want) {
		t.Errorf("after CatchUp: %+v, want %+v", got, want)
	}
	rows, err := f.pool.Query(context.Background(), "SELECT count(*) FROM applied GROUP BY xact ORDER BY min(position)")
	if err != nil {
		t.Fatal(err)
	}
	sizes, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(sizes, []int64{2, 2, 1}) {
		t.Errorf("events per transaction = %v, want [2 2 1]", sizes)
	}
}

var errBoom = errors.New("boom")

func TestPoisonEventRollsBackItsBatch(t *testing.T) {
	f := newFixture(t)
	var poison atomic.Int64 // the position to fail at; 0: none
	fail := func(e projection.Event) error {
		if e.Position == poison.Load() {
			return errBoom
		}
		return nil
	}
	r := f.runner(t, f.registration([]string{"a", "b"}, fail))
	appendVisible(t, f.source, ev("x", 1, "a", "1"), ev("x", 2, "a", "2"))
	catchUp(t, r, f.name)
	before := f.state(t)

	ps := appendVisible(t, f.source,
		ev("y", 1, "a", "3"), ev("y", 2, "b", "4"), ev("y", 3, "b", "5"), ev("y", 4, "a", "6"), ev("y", 5, "a", "7"))
	poison.Store(ps[2])
	err := r.CatchUp(context.Background(), f.name)
	var ee *projection.EventError
	if !errors.As(err, &ee) {
		t.Fatalf("CatchUp over a failing event: err = %v, want an *EventError", err)
	}
	if ee.Meta.Position != ps[2] || ee.Meta.Topic != "b" || ee.Meta.AggregateID != "y" || ee.Meta.Version != 3 {
		t.Errorf("EventError names %+v, want position %d, topic b, aggregate y, version 3", ee.Meta, ps[2])
	}
	if !errors.Is(err, errBoom) {
		t.Errorf("err = %v, does not wrap the projection's error", err)
	}
	if !strings.Contains(err.Error(), f.name) {
		t.Errorf("err = %v, does not name the projection", err)
	}
	// The events before the poison one are kept, and the position stops
	// just before it, with the failure recorded for Status.
	stopped := state{Counts: map[string]int64{"a": 3, "b": 1}, Applied: append(slices.Clone(before.Applied), ps[:2]...), Position: ps[2] - 1, Tracked: true}
	if got := f.state(t); !reflect.DeepEqual(got, stopped) {
		t.Errorf("after the failed batch: %+v, want %+v", got, stopped)
	}
	statuses, err := r.Status(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if s := statuses[0]; s.State != projection.Stopped || s.Failure == nil || s.Failure.Event.Position != ps[2] || !strings.Contains(s.Failure.Error, "boom") {
		t.Errorf("Status after the failure = %+v, want stopped at position %d with its error", s, ps[2])
	}
	// The poison event is never skipped: it fails again.
	if err := r.CatchUp(context.Background(), f.name); !errors.As(err, &ee) || ee.Meta.Position != ps[2] {
		t.Errorf("second CatchUp: err = %v, want the same poison event", err)
	}

	poison.Store(0)
	catchUp(t, r, f.name)
	want := state{Counts: map[string]int64{"a": 5, "b": 2}, Applied: append(before.Applied, ps...), Position: ps[4], Tracked: true}
	if got := f.state(t); !reflect.DeepEqual(got, want) {
		t.Errorf("once the projection is fixed: %+v, want %+v", got, want)
	}
	if statuses, err := r.Status(context.Background()); err != nil || statuses[0].Failure != nil || statuses[0].State != projection.Idle {
		t.Errorf("Status once fixed = %+v, %v; want idle without a failure", statuses, err)
	}
}

// TestBatchRollsBackWhenTrackingMoves moves the tracking row while a batch
// runs, as a runner that ignored the advisory lock would: the batch must
// not be committed over it, but retried from where the row now stands.
func TestBatchRollsBackWhenTrackingMoves(t *testing.T) {
	f := newFixture(t)
	var moveTo atomic.Int64 // the position to move to when its event is processed
	fail := func(e projection.Event) error {
		if e.Position == moveTo.Load() && moveTo.CompareAndSwap(e.Position, 0) {
			_, err := f.pool.Exec(context.Background(), "UPDATE projgen_tracking SET position = $2 WHERE name = $1", f.name, e.Position)
			return err
		}
		return nil
	}
	r := f.runner(t, f.registration([]string{"a"}, fail))
	first := appendVisible(t, f.source, ev("x", 1, "a", "1"))
	catchUp(t, r, f.name)
	ps := appendVisible(t, f.source, ev("x", 2, "a", "2"), ev("x", 3, "a", "3"))
	moveTo.Store(ps[0])

	catchUp(t, r, f.name)
	// ps[0] counts as applied elsewhere: the retried batch starts after it.
	want := state{Counts: map[string]int64{"a": 2}, Applied: []int64{first[0], ps[1]}, Position: ps[1], Tracked: true}
	if got := f.state(t); !reflect.DeepEqual(got, want) {
		t.Errorf("after the tracking row moved: %+v, want %+v", got, want)
	}
}

func TestUndecodableEventIsPoison(t *testing.T) {
	tests := []struct {
		name  string
		topic string
		data  string
		cause func(error) bool
	}{
		{"bad payload", "a", `{"value": 5}`, func(err error) bool {
			var typeErr *json.UnmarshalTypeError
			return errors.As(err, &typeErr)
		}},
		{"unknown topic", "unknown", `{"value": "x"}`, func(err error) bool {
			return errors.Is(err, projection.ErrUnknownTopic)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			r := f.runner(t, f.registration([]string{"a", "unknown"}, nil))
			ps := appendVisible(t, f.source,
				ev("x", 1, "a", "fine"),
				projection.Stored{Meta: projection.Meta{AggregateID: "x", Version: 2, Topic: tt.topic}, Data: []byte(tt.data)})
			err := r.CatchUp(context.Background(), f.name)
			var ee *projection.EventError
			if !errors.As(err, &ee) || ee.Meta.Position != ps[1] || ee.Meta.Topic != tt.topic || ee.Meta.AggregateID != "x" {
				t.Fatalf("err = %v, want an *EventError at position %d", err, ps[1])
			}
			if !tt.cause(err) {
				t.Errorf("err = %v, does not wrap the decoding error", err)
			}
			if got := f.state(t); !reflect.DeepEqual(got.Applied, ps[:1]) || got.Position != ps[1]-1 {
				t.Errorf("after the failed batch: %+v, want the event before it applied and the position just before it", got)
			}
		})
	}
}

func TestTransientErrorsAreRetried(t *testing.T) {
	tests := []struct {
		name string
		err  error
	}{
		{"serialization failure", &pgconn.PgError{Code: "40001", Message: "could not serialize access"}},
		{"deadlock", fmt.Errorf("wrapped: %w", &pgconn.PgError{Code: "40P01", Message: "deadlock detected"})},
		{"lost connection", io.ErrUnexpectedEOF},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			var failures atomic.Int64
			var target int64
			fail := func(e projection.Event) error {
				if e.Position == target && failures.Add(1) <= 2 {
					return tt.err
				}
				return nil
			}
			r := f.runner(t, f.registration([]string{"a"}, fail))
			ps := appendVisible(t, f.source, ev("x", 1, "a", "1"), ev("x", 2, "a", "2"), ev("x", 3, "a", "3"))
			target = ps[1]
			catchUp(t, r, f.name)
			if n := failures.Load(); n != 3 {
				t.Errorf("the failing event was processed %d times, want 3 (two failures, then success)", n)
			}
			want := state{Counts: map[string]int64{"a": 3}, Applied: ps, Position: ps[2], Tracked: true}
			if got := f.state(t); !reflect.DeepEqual(got, want) {
				t.Errorf("after retries: %+v, want %+v", got, want)
			}
		})
	}

	t.Run("other database errors are not", func(t *testing.T) {
		f := newFixture(t)
		var calls atomic.Int64
		fail := func(projection.Event) error {
			calls.Add(1)
			return &pgconn.PgError{Code: "23514", Message: "check violation"}
		}
		r := f.runner(t, f.registration([]string{"a"}, fail))
		appendVisible(t, f.source, ev("x", 1, "a", "1"))
		var ee *projection.EventError
		if err := r.CatchUp(context.Background(), f.name); !errors.As(err, &ee) {
			t.Errorf("err = %v, want an *EventError", err)
		}
		if n := calls.Load(); n != 1 {
			t.Errorf("event processed %d times, want once", n)
		}
	})
}

func TestRebuildReplaysEverything(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	r := f.runner(t, f.registration([]string{"a", "b"}, nil))
	r.BatchSize = 2
	appendVisible(t, f.source, ev("x", 1, "a", "1"), ev("x", 2, "b", "2"), ev("y", 1, "a", "3"))
	catchUp(t, r, f.name)
	built := f.state(t)
	// A row the events do not explain, as a bug in an earlier version of
	// the projection would leave: the rebuild must not keep it.
	if _, err := f.pool.Exec(ctx, `INSERT INTO counts (topic, n) VALUES ('stray', 7)`); err != nil {
		t.Fatal(err)
	}

	if err := r.Rebuild(ctx, f.name); err != nil {
		t.Fatalf("Rebuild: %v", err)
	}
	if got := f.state(t); !reflect.DeepEqual(got, built) {
		t.Errorf("after Rebuild: %+v, want as first built: %+v", got, built)
	}
	var schemas int
	if err := f.pool.QueryRow(ctx, `SELECT count(*) FROM pg_namespace WHERE nspname LIKE 'projgen_rebuild_%' AND nspname = 'projgen_rebuild_' || substr(md5(current_schema() || ':' || $1), 1, 16)`, f.name).Scan(&schemas); err != nil || schemas != 0 {
		t.Errorf("after Rebuild, %d rebuild schemas are left (%v), want the new tables dropped", schemas, err)
	}

	if err := r.Rebuild(ctx, "nope"); err == nil || !strings.Contains(err.Error(), f.name) {
		t.Errorf("Rebuild of an unknown projection: err = %v, want one listing the known names", err)
	}
}

func TestStatus(t *testing.T) {
	f := newFixture(t)
	first := f.registration([]string{"a"}, nil)
	idle := f.registration([]string{"b"}, nil)
	idle.Name = "0_" + f.name // sorts first, listed last
	r := f.runner(t, first, idle)
	r.ID = "status test runner"
	ps := appendVisible(t, f.source, ev("x", 1, "a", "1"), ev("x", 2, "a", "2"))
	start := time.Now().Add(-time.Minute)
	catchUp(t, r, f.name)
	more := appendVisible(t, f.source, ev("x", 3, "a", "3"), ev("x", 4, "b", "4"), ev("x", 5, "b", "5"))

	got, err := r.Status(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	head := more[2]
	// Lag counts the events of the projection's own topics.
	want := []projection.Status{
		{Name: idle.Name, State: projection.Idle, Position: 0, Head: head, Lag: 2},
		{Name: f.name, State: projection.Idle, Position: ps[1], Head: head, Lag: 1},
	}
	if len(got) == 2 {
		if got[1].UpdatedAt.Before(start) {
			t.Errorf("UpdatedAt %v of a projection that ran is not set", got[1].UpdatedAt)
		}
		for i := range got {
			if got[i].LagTime <= 0 || got[i].LagTime > time.Minute {
				t.Errorf("%s: LagTime %v, want the age of its oldest unapplied event", got[i].Name, got[i].LagTime)
			}
			got[i].UpdatedAt, got[i].LagTime = time.Time{}, 0
		}
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Status = %+v, want %+v", got, want)
	}
}

func TestRunAppliesNewEventsUntilCancelled(t *testing.T) {
	f := newFixture(t)
	other := f.registration([]string{"b"}, nil)
	other.Name = "other_" + f.name
	other.Tables = nil
	// other writes nothing, so that the counts and applied tables are
	// the main projection's alone.
	other.New = func(projection.DBTX) projection.Projection { return nopProjection{} }
	r := f.runner(t, f.registration([]string{"a"}, nil), other)
	r.BatchSize = 2
	first := appendVisible(t, f.source, ev("x", 1, "a", "1"), ev("x", 2, "a", "2"), ev("x", 3, "a", "3"))

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- r.Run(ctx) }()

	waitPosition := func(name string, position int64) {
		t.Helper()
		waitFor(t, func() (bool, string) {
			select {
			case err := <-done:
				t.Fatalf("Run returned early: %v", err)
			default:
			}
			statuses, err := r.Status(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			for _, s := range statuses {
				if s.Name == name {
					return s.Position >= position, fmt.Sprintf("%s at position %d, want %d", name, s.Position, position)
				}
			}
			return false, "no status for " + name
		})
	}
	waitPosition(f.name, first[2])
	// Appended while Run runs, for both projections.
	later := appendVisible(t, f.source, ev("y", 1, "a", "4"), ev("y", 2, "b", "5"), ev("y", 3, "a", "6"))
	waitPosition(f.name, later[2])
	waitPosition(other.Name, later[2])

	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Run after cancel = %v, want nil", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return after cancel")
	}
	want := state{Counts: map[string]int64{"a": 5}, Applied: []int64{first[0], first[1], first[2], later[0], later[2]}, Position: later[2], Tracked: true}
	if got := f.state(t); !reflect.DeepEqual(got, want) {
		t.Errorf("after Run: %+v, want %+v", got, want)
	}
	// Run released its locks on the way out: a CatchUp does not wait.
	ctx, cancel = context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := r.CatchUp(ctx, f.name); err != nil {
		t.Errorf("CatchUp after Run: %v", err)
	}
}

func TestRunStopsWhenEveryProjectionHasStopped(t *testing.T) {
	f := newFixture(t)
	fail := func(e projection.Event) error {
		if e.AggregateID == "poison" {
			return errBoom
		}
		return nil
	}
	r := f.runner(t, f.registration([]string{"a"}, fail))
	ps := appendVisible(t, f.source, ev("x", 1, "a", "1"), ev("poison", 1, "a", "2"))

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err := r.Run(ctx)
	var ee *projection.EventError
	if !errors.As(err, &ee) || ee.Meta.Position != ps[1] || !errors.Is(err, errBoom) {
		t.Fatalf("Run = %v, want the poison event at position %d", err, ps[1])
	}
	if ctx.Err() != nil {
		t.Error("Run returned only when its context expired")
	}
}

func TestRunChecksItsConfiguration(t *testing.T) {
	f := newFixture(t)
	reg := f.registration([]string{"a"}, nil)
	tests := []struct {
		name string
		edit func(*projection.Runner)
		want string
	}{
		{"no projections", func(r *projection.Runner) { r.Registrations = nil }, "no projections"},
		{"no source", func(r *projection.Runner) { r.Source = nil }, "Source is nil"},
		{"duplicate", func(r *projection.Runner) { r.Registrations = append(r.Registrations, reg) }, "two projections named"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := f.runner(t, reg)
			tt.edit(r)
			if err := r.Run(context.Background()); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Run = %v, want an error containing %q", err, tt.want)
			}
		})
	}

	t.Run("pool too small", func(t *testing.T) {
		cfg := f.pool.Config()
		cfg.MaxConns = 1
		small, err := pgxpool.NewWithConfig(context.Background(), cfg)
		if err != nil {
			t.Fatal(err)
		}
		defer small.Close()
		r := f.runner(t, reg)
		r.Pool = small
		if err := r.CatchUp(context.Background(), f.name); err == nil || !strings.Contains(err.Error(), "pool_max_conns") {
			t.Errorf("CatchUp on a one-connection pool = %v, want an error about the pool size", err)
		}
	})
}

// TestConcurrentCatchUpsApplyOnce runs the same projection from several
// runners at once, as several replicas of a service would.
func TestConcurrentCatchUpsApplyOnce(t *testing.T) {
	f := newFixture(t)
	var events []projection.Stored
	for i := range 40 {
		events = append(events, ev(fmt.Sprint("agg-", i%4), int64(i/4+1), []string{"a", "b"}[i%2], fmt.Sprint(i)))
	}
	ps := appendVisible(t, f.source, events...)

	const runners = 3
	start := make(chan struct{})
	errs := make(chan error, runners)
	var wg sync.WaitGroup
	for range runners {
		r := f.runner(t, f.registration([]string{"a", "b"}, nil))
		r.BatchSize = 3
		wg.Go(func() {
			<-start
			errs <- r.CatchUp(context.Background(), f.name)
		})
	}
	close(start)
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Errorf("CatchUp: %v", err)
		}
	}
	want := state{Counts: map[string]int64{"a": 20, "b": 20}, Applied: ps, Position: ps[len(ps)-1], Tracked: true}
	if got := f.state(t); !reflect.DeepEqual(got, want) {
		t.Errorf("after concurrent CatchUps: %+v, want %+v", got, want)
	}
}

// TestCatchUpWaitsForTheLock checks that a second runner waits while one
// holds the projection, rather than applying next to it.
func TestCatchUpWaitsForTheLock(t *testing.T) {
	f := newFixture(t)
	entered := make(chan struct{})
	release := make(chan struct{})
	var releaseOnce sync.Once
	unblock := func() { releaseOnce.Do(func() { close(release) }) }
	// Before the pool is closed, even when the test fails half-way.
	t.Cleanup(unblock)
	var first atomic.Bool
	// The first event processed, by whichever runner, blocks until
	// released, holding that runner inside its batch; the others pass.
	block := func(projection.Event) error {
		if first.CompareAndSwap(false, true) {
			close(entered)
			<-release
		}
		return nil
	}
	reg := f.registration([]string{"a"}, block)
	ps := appendVisible(t, f.source, ev("x", 1, "a", "1"), ev("x", 2, "a", "2"))

	holder, waiter := f.runner(t, reg), f.runner(t, reg)
	holderDone, waiterDone := make(chan error, 1), make(chan error, 1)
	go func() { holderDone <- holder.CatchUp(context.Background(), f.name) }()
	<-entered
	go func() { waiterDone <- waiter.CatchUp(context.Background(), f.name) }()

	// Wait until some session waits for an advisory lock: the waiter.
	waitFor(t, func() (bool, string) {
		select {
		case err := <-waiterDone:
			t.Fatalf("second CatchUp returned (%v) while the first held the projection", err)
		default:
		}
		var n int
		err := f.pool.QueryRow(context.Background(), `SELECT count(*) FROM pg_stat_activity
WHERE wait_event_type = 'Lock' AND wait_event = 'advisory' AND query LIKE '%pg_advisory_lock%'`).Scan(&n)
		if err != nil {
			t.Fatal(err)
		}
		return n > 0, "no session waits for an advisory lock"
	})
	select {
	case err := <-waiterDone:
		t.Fatalf("second CatchUp returned (%v) while the first held the projection", err)
	default:
	}

	// A waiter whose context ends gives up.
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	if err := f.runner(t, reg).CatchUp(ctx, f.name); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("CatchUp with an expiring context while the lock is held = %v, want context.DeadlineExceeded", err)
	}

	unblock()
	for _, done := range []chan error{holderDone, waiterDone} {
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("CatchUp: %v", err)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("CatchUp did not return after the lock was released")
		}
	}
	want := state{Counts: map[string]int64{"a": 2}, Applied: ps, Position: ps[1], Tracked: true}
	if got := f.state(t); !reflect.DeepEqual(got, want) {
		t.Errorf("after both CatchUps: %+v, want %+v", got, want)
	}
}

// TestCatchUpDoesNotSkipOpenTransactions is the gap rule end to end: a
// runner must not move past an event an open transaction holds.
func TestCatchUpDoesNotSkipOpenTransactions(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	r := f.runner(t, f.registration([]string{"a"}, nil))

	tx, err := f.pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(ctx) //nolint:errcheck // after Commit this is a no-op
	open := appendEvents(t, projection.NewPostgresSource(tx, "events"), ev("open", 1, "a", "open"))
	committed := appendEvents(t, f.source, ev("committed", 1, "a", "committed"))

	catchUp(t, r, f.name)
	if got := f.state(t); len(got.Applied) != 0 || got.Position != 0 {
		t.Fatalf("with an earlier transaction open: %+v, want nothing applied", got)
	}
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	waitReadable(t, f.source, committed[0])
	catchUp(t, r, f.name)
	want := state{Counts: map[string]int64{"a": 2}, Applied: []int64{open[0], committed[0]}, Position: committed[0], Tracked: true}
	if got := f.state(t); !reflect.DeepEqual(got, want) {
		t.Errorf("after commit: %+v, want %+v", got, want)
	}
}

// TestSetupIsIdempotent runs Setup concurrently and twice over.
func TestSetupIsIdempotent(t *testing.T) {
	f := newFixture(t)
	r := &projection.Runner{Pool: f.pool}
	var wg sync.WaitGroup
	errs := make([]error, 4)
	for i := range errs {
		wg.Go(func() { errs[i] = r.Setup(context.Background()) })
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	if err := r.Setup(context.Background()); err != nil {
		t.Fatal(err)
	}
	var n int
	if err := f.pool.QueryRow(context.Background(), "SELECT count(*) FROM projgen_tracking").Scan(&n); err != nil || n != 0 {
		t.Errorf("tracking table after Setup: %d rows, %v; want empty", n, err)
	}
}
