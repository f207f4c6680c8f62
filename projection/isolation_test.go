package projection_test

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/projgen/projgen/projection"
)

// recorder is a projection that records the position of each event it
// applies in a table of its own, so that it can run beside a counter.
type recorder struct {
	db     projection.DBTX
	name   string
	table  string
	topics []string
}

func (r *recorder) Name() string     { return r.name }
func (r *recorder) Topics() []string { return r.topics }

func (r *recorder) Process(ctx context.Context, e projection.Event) error {
	_, err := r.db.Exec(ctx, "INSERT INTO "+pgx.Identifier{r.table}.Sanitize()+" (position) VALUES ($1)", e.Position)
	return err
}

// recorderRegistration registers a recorder named name over topics, with
// its table created.
func (f *fixture) recorderRegistration(t *testing.T, name string, topics []string) projection.Registration {
	t.Helper()
	table := name + "_positions"
	if _, err := f.pool.Exec(context.Background(), "CREATE TABLE "+pgx.Identifier{table}.Sanitize()+" (position bigint PRIMARY KEY)"); err != nil {
		t.Fatal(err)
	}
	return projection.Registration{
		Name:   name,
		Topics: topics,
		Tables: []string{table},
		New: func(db projection.DBTX) projection.Projection {
			return &recorder{db: db, name: name, table: table, topics: topics}
		},
	}
}

// positionsIn returns the positions in a recorder's table.
func (f *fixture) positionsIn(t *testing.T, table string) []int64 {
	t.Helper()
	rows, err := f.pool.Query(context.Background(), "SELECT position FROM "+pgx.Identifier{table}.Sanitize()+" ORDER BY position")
	if err != nil {
		t.Fatal(err)
	}
	ps, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		t.Fatal(err)
	}
	return ps
}

// statusOf returns the status of the projection name.
func statusOf(t *testing.T, r *projection.Runner, name string) projection.Status {
	t.Helper()
	statuses, err := r.Status(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range statuses {
		if s.Name == name {
			return s
		}
	}
	t.Fatalf("no status for %s in %+v", name, statuses)
	return projection.Status{}
}

// waitCtx returns a context that ends after d, for Wait.
func waitCtx(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

// TestPoisonEventStopsOnlyItsProjection runs two projections over the same
// events, one of which fails on one of them: the other reaches the head,
// the failing one stops just before its poison event with the event in
// Status, and a runner started afterwards reports it again rather than
// skip it.
func TestPoisonEventStopsOnlyItsProjection(t *testing.T) {
	f := newFixture(t)
	var fixed atomic.Bool
	failing := f.registration([]string{"a", "b"}, func(e projection.Event) error {
		if e.AggregateID == "poison" && !fixed.Load() {
			return errBoom
		}
		return nil
	})
	healthy := f.recorderRegistration(t, "healthy_"+f.name, []string{"a", "b"})
	var events []projection.Stored
	for i := range 300 {
		events = append(events, ev(fmt.Sprint("agg-", i%7), int64(i/7+1), []string{"a", "b"}[i%2], fmt.Sprint(i)))
	}
	events[120] = ev("poison", 1, "b", "poison")
	ps := appendVisible(t, f.source, events...)
	poison := ps[120]

	for restart := range 2 {
		r := f.runner(t, failing, healthy)
		r.BatchSize = 50
		ctx, stop := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- r.Run(ctx) }()
		if err := r.Wait(waitCtx(t, 10*time.Second), healthy.Name, ps[len(ps)-1]); err != nil {
			t.Fatalf("run %d: the healthy projection: %v", restart, err)
		}
		err := r.Wait(waitCtx(t, 10*time.Second), f.name, ps[len(ps)-1])
		if !errors.Is(err, projection.ErrStopped) || !strings.Contains(err.Error(), fmt.Sprint(poison)) {
			t.Fatalf("run %d: Wait for the failing projection = %v, want ErrStopped at %d", restart, err, poison)
		}
		s := statusOf(t, r, f.name)
		if s.State != projection.Stopped || s.Position != poison-1 || s.Failure == nil {
			t.Fatalf("run %d: status %+v, want stopped at %d", restart, s, poison-1)
		}
		if m := s.Failure.Event; m.Position != poison || m.Topic != "b" || m.AggregateID != "poison" || m.Version != 1 || !strings.Contains(s.Failure.Error, "boom") || s.Failure.At.IsZero() {
			t.Errorf("run %d: failure %+v, want the poison event and its error", restart, s.Failure)
		}
		if got := f.state(t).Applied; !slices.Equal(got, ps[:120]) {
			t.Errorf("run %d: the failing projection applied %d events, want the 120 before the poison one", restart, len(got))
		}
		stop()
		if err := <-done; err != nil {
			t.Errorf("run %d: Run after cancel = %v, want nil while a projection still runs", restart, err)
		}
	}
	if got := f.positionsIn(t, healthy.Tables[0]); !slices.Equal(got, ps) {
		t.Errorf("the healthy projection applied %d events, want all %d", len(got), len(ps))
	}

	fixed.Store(true)
	r := f.runner(t, failing, healthy)
	catchUp(t, r, f.name)
	if got := f.state(t).Applied; !slices.Equal(got, ps) {
		t.Errorf("once fixed, the projection applied %d events, want all %d", len(got), len(ps))
	}
	if s := statusOf(t, r, f.name); s.State != projection.Idle || s.Failure != nil {
		t.Errorf("once fixed, status %+v, want idle without a failure", s)
	}
}

// TestParkPolicy parks a poison event and the later events of its
// aggregate, applies the others, and applies the parked ones with
// RetryParked once the handler is fixed.
func TestParkPolicy(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	var fixed atomic.Bool
	reg := f.registration([]string{"a"}, func(e projection.Event) error {
		if e.AggregateID == "poison" && e.Version == 1 && !fixed.Load() {
			return errBoom
		}
		return nil
	})
	reg.OnError = projection.Park
	r := f.runner(t, reg)
	r.BatchSize = 3
	ps := appendVisible(t, f.source,
		ev("x", 1, "a", "1"), ev("poison", 1, "a", "bad"), ev("x", 2, "a", "2"),
		ev("poison", 2, "a", "behind"), ev("y", 1, "a", "3"))
	catchUp(t, r, f.name)

	want := state{Counts: map[string]int64{"a": 3}, Applied: []int64{ps[0], ps[2], ps[4]}, Position: ps[4], Tracked: true}
	if got := f.state(t); !reflect.DeepEqual(got, want) {
		t.Errorf("after parking: %+v, want %+v", got, want)
	}
	type letter struct {
		Position int64
		Error    string
	}
	rows, err := f.pool.Query(ctx, `SELECT position, error FROM projgen_dead_letters WHERE projection = $1 AND parked_at > now() - interval '1 minute' AND payload <> '' ORDER BY position`, f.name)
	if err != nil {
		t.Fatal(err)
	}
	letters, err := pgx.CollectRows(rows, pgx.RowToStructByPos[letter])
	if err != nil {
		t.Fatal(err)
	}
	if len(letters) != 2 || letters[0].Position != ps[1] || !strings.Contains(letters[0].Error, "boom") ||
		letters[1].Position != ps[3] || !strings.Contains(letters[1].Error, "parked behind") {
		t.Errorf("dead letters %+v, want the poison event with its error and the one behind it", letters)
	}
	if s := statusOf(t, r, f.name); s.Parked != 2 || s.State != projection.Idle || s.Failure != nil {
		t.Errorf("status %+v, want 2 parked, idle", s)
	}
	// A later event of the parked aggregate is parked too, not applied
	// before the earlier ones.
	later := appendVisible(t, f.source, ev("poison", 3, "a", "later"))
	catchUp(t, r, f.name)
	if s := statusOf(t, r, f.name); s.Parked != 3 || s.Position != later[0] {
		t.Errorf("status %+v, want 3 parked at position %d", s, later[0])
	}

	if n, err := r.RetryParked(ctx, f.name); err == nil || n != 0 || !strings.Contains(err.Error(), "boom") {
		t.Errorf("RetryParked before the fix = %d, %v; want nothing applied and the error", n, err)
	}
	fixed.Store(true)
	n, err := r.RetryParked(ctx, f.name)
	if err != nil || n != 3 {
		t.Fatalf("RetryParked = %d, %v; want 3 applied", n, err)
	}
	var xacts []int64
	rows, err = f.pool.Query(ctx, "SELECT position FROM applied WHERE aggregate_id = 'poison' ORDER BY xact, position")
	if err != nil {
		t.Fatal(err)
	}
	if xacts, err = pgx.CollectRows(rows, pgx.RowTo[int64]); err != nil || !slices.Equal(xacts, []int64{ps[1], ps[3], later[0]}) {
		t.Errorf("parked events applied in the order %v (%v), want %v", xacts, err, []int64{ps[1], ps[3], later[0]})
	}
	if s := statusOf(t, r, f.name); s.Parked != 0 {
		t.Errorf("after RetryParked, %d parked, want 0", s.Parked)
	}
	next := appendVisible(t, f.source, ev("poison", 4, "a", "after the retry"))
	catchUp(t, r, f.name)
	if got := f.state(t); !slices.Contains(got.Applied, next[0]) || got.Counts["a"] != 7 {
		t.Errorf("after the retry, %+v: the aggregate's next event is not applied", got)
	}
}

// TestWait checks read-your-writes: Wait returns once the projection has
// passed the position, applied or filtered out, and fails with a clear
// error when it does not get there in time.
func TestWait(t *testing.T) {
	f := newFixture(t)
	r := f.runner(t, f.registration([]string{"a"}, nil))
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- r.Run(ctx) }()
	defer func() { stop(); <-done }()

	applied := appendEvents(t, f.source, ev("x", 1, "a", "applied"))
	if err := r.Wait(waitCtx(t, 10*time.Second), f.name, applied[0]); err != nil {
		t.Fatalf("Wait for an applied event: %v", err)
	}
	if got := f.state(t); !slices.Contains(got.Applied, applied[0]) {
		t.Errorf("Wait returned before the event was applied: %+v", got)
	}
	filtered := appendEvents(t, f.source, ev("x", 2, "b", "of another topic"))
	if err := r.Wait(waitCtx(t, 10*time.Second), f.name, filtered[0]); err != nil {
		t.Fatalf("Wait for an event of another topic: %v", err)
	}

	err := r.Wait(waitCtx(t, 200*time.Millisecond), f.name, filtered[0]+1000)
	if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), f.name) || !strings.Contains(err.Error(), fmt.Sprint("at position ", filtered[0])) {
		t.Errorf("Wait for a position never reached = %v, want a deadline error saying where the projection is", err)
	}
	if err := r.Wait(context.Background(), "nope", 1); err == nil || !strings.Contains(err.Error(), "no projection named") {
		t.Errorf("Wait for an unknown projection = %v, want an error naming the known ones", err)
	}
}

// TestUpgradeEventsTable applies UpgradeEventsTableSQL to a table as an
// earlier version created it, with a sequence that caches values, which
// PostgresSource refuses until the upgrade.
func TestUpgradeEventsTable(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	if _, err := f.pool.Exec(ctx, `DROP TABLE events;
CREATE TABLE events (
	position bigint GENERATED ALWAYS AS IDENTITY (CACHE 20) PRIMARY KEY,
	aggregate_id text NOT NULL,
	version bigint NOT NULL,
	topic text NOT NULL,
	payload jsonb NOT NULL,
	recorded_at timestamptz NOT NULL DEFAULT now(),
	transaction_id xid8 NOT NULL DEFAULT pg_current_xact_id(),
	UNIQUE (aggregate_id, version),
	UNIQUE (topic, position)
);
INSERT INTO events (aggregate_id, version, topic, payload) VALUES ('old', 1, 'a', '{"value": "old"}')`); err != nil {
		t.Fatal(err)
	}
	src := projection.NewPostgresSource(f.pool, "events")
	if _, err := src.Read(ctx, 0, []string{"a"}, 10); err == nil || !strings.Contains(err.Error(), "CACHE 1") {
		t.Fatalf("Read of a table whose sequence caches 20 = %v, want an error telling how to fix it", err)
	}
	for range 2 {
		if _, err := f.pool.Exec(ctx, projection.UpgradeEventsTableSQL); err != nil {
			t.Fatalf("UpgradeEventsTableSQL: %v", err)
		}
	}
	src = projection.NewPostgresSource(f.pool, "events")
	appendVisible(t, src, ev("new", 1, "a", "new"))
	got, _ := readAll(t, src, 0, []string{"a"}, 10)
	if len(got) != 2 {
		t.Errorf("after the upgrade, read %d events, want 2", len(got))
	}
}
