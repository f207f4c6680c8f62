package projection_test

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/projgen/projgen/projection"
)

// expectedState is the counter's state derived from the events table by
// SQL alone, not by the code under test: one applied row per event of
// topics, and its count per topic.
func (f *fixture) expectedState(t *testing.T, topics []string) state {
	t.Helper()
	ctx := context.Background()
	s := state{Counts: map[string]int64{}, Tracked: true}
	rows, err := f.pool.Query(ctx, "SELECT position, topic FROM events WHERE topic = ANY($1) ORDER BY position", topics)
	if err != nil {
		t.Fatal(err)
	}
	var position int64
	var topic string
	if _, err := pgx.ForEachRow(rows, []any{&position, &topic}, func() error {
		s.Applied = append(s.Applied, position)
		s.Counts[topic]++
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if err := f.pool.QueryRow(ctx, "SELECT coalesce(max(position), 0) FROM events").Scan(&s.Position); err != nil {
		t.Fatal(err)
	}
	return s
}

// TestRebuildReadersNeverNotice rebuilds a projection while a live runner
// follows it, a writer appends, and a reader polls the tables: the reader
// must never see fewer rows than before, nor tables that disagree, and the
// rebuilt tables must hold what the events say.
func TestRebuildReadersNeverNotice(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	topics := []string{"a", "b"}
	reg := f.registration(topics, nil)
	var events []projection.Stored
	for i := range 3000 {
		events = append(events, ev(fmt.Sprint("agg-", i%50), int64(i/50+1), []string{"a", "b", "c"}[i%3], fmt.Sprint(i)))
	}
	appendVisible(t, f.source, events...)

	live := f.runner(t, reg)
	live.BatchSize = 200
	runCtx, stopRun := context.WithCancel(ctx)
	runDone := make(chan error, 1)
	go func() { runDone <- live.Run(runCtx) }()
	defer func() { stopRun(); <-runDone }()
	if err := live.Wait(waitCtx(t, 30*time.Second), f.name, int64(len(events))); err != nil {
		t.Fatal(err)
	}

	// The reader reads both tables in one statement, so one snapshot: a
	// partial table shows as counts that disagree with the applied rows.
	stopReading := make(chan struct{})
	var reads atomic.Int64
	var readErr error
	var wg sync.WaitGroup
	wg.Go(func() {
		var most int64
		for {
			select {
			case <-stopReading:
				return
			default:
			}
			var applied, counted int64
			err := f.pool.QueryRow(ctx, "SELECT (SELECT count(*) FROM applied), (SELECT coalesce(sum(n), 0) FROM counts)").Scan(&applied, &counted)
			switch {
			case err != nil:
				readErr = err
			case applied < most:
				readErr = fmt.Errorf("the reader saw %d rows after %d", applied, most)
			case applied != counted:
				readErr = fmt.Errorf("the reader saw %d rows counted as %d: a partial table", applied, counted)
			}
			if readErr != nil {
				return
			}
			most = applied
			reads.Add(1)
		}
	})
	// A writer appends while the rebuild runs.
	wg.Go(func() {
		for i := range 100 {
			select {
			case <-stopReading:
				return
			default:
			}
			if _, err := f.source.Append(ctx, ev("late", int64(i+1), []string{"a", "b"}[i%2], "late")); err != nil {
				t.Error(err)
				return
			}
			time.Sleep(2 * time.Millisecond)
		}
	})

	rebuilder := f.runner(t, reg)
	rebuilder.BatchSize = 200
	rebuildCtx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	err := rebuilder.Rebuild(rebuildCtx, f.name)
	close(stopReading)
	wg.Wait()
	if err != nil {
		t.Fatalf("Rebuild with a live runner: %v", err)
	}
	if readErr != nil {
		t.Fatal(readErr)
	}
	if reads.Load() == 0 {
		t.Fatal("the reader read nothing during the rebuild")
	}
	t.Logf("%d reads during the rebuild", reads.Load())

	head := f.committedPositions(t)
	if err := live.Wait(waitCtx(t, 30*time.Second), f.name, head[len(head)-1]); err != nil {
		t.Fatalf("the live runner after the rebuild: %v", err)
	}
	if got, want := f.state(t), f.expectedState(t, topics); !reflect.DeepEqual(got, want) {
		t.Errorf("after the rebuild: %d rows at %d, want %d rows at %d", len(got.Applied), got.Position, len(want.Applied), want.Position)
	}
	// The live runner takes the projection back and applies new events.
	more := appendEvents(t, f.source, ev("after", 1, "a", "after the rebuild"))
	if err := live.Wait(waitCtx(t, 30*time.Second), f.name, more[0]); err != nil {
		t.Fatalf("the live runner after the rebuild: %v", err)
	}
	if s := statusOf(t, live, f.name); s.State != projection.Running {
		t.Errorf("after the rebuild, status %+v, want the live runner running it again", s)
	}
	if got := f.state(t); !slices.Contains(got.Applied, more[0]) {
		t.Errorf("the event appended after the rebuild is not applied")
	}
}

// TestRebuildFailsFastWhenNotLetGo holds the projection's lock as a runner
// that knows nothing of rebuilds would: the rebuild must fail with an
// error that says what to do, soon after the lease, and change nothing.
func TestRebuildFailsFastWhenNotLetGo(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	reg := f.registration([]string{"a"}, nil)
	r := f.runner(t, reg)
	r.Lease, r.PollInterval = 300*time.Millisecond, 50*time.Millisecond
	appendVisible(t, f.source, ev("x", 1, "a", "1"))
	catchUp(t, r, f.name)
	before := f.state(t)

	conn, err := f.pool.Acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Release()
	if _, err := conn.Exec(ctx, "SELECT pg_advisory_lock(hashtextextended('projgen:' || current_schema() || ':' || $1, 0))", f.name); err != nil {
		t.Fatal(err)
	}
	defer conn.Exec(ctx, "SELECT pg_advisory_unlock_all()") //nolint:errcheck // the session ends with the test

	rebuildCtx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	err = r.Rebuild(rebuildCtx, f.name)
	if err == nil || errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "did not let go") || !strings.Contains(err.Error(), "stop it and try again") {
		t.Fatalf("Rebuild while an old runner holds the projection = %v, want an error saying what to do", err)
	}
	if got := f.state(t); !reflect.DeepEqual(got, before) {
		t.Errorf("after the failed rebuild: %+v, want as before: %+v", got, before)
	}
	var paused bool
	if err := f.pool.QueryRow(ctx, "SELECT pause_requested_at IS NOT NULL FROM projgen_tracking WHERE name = $1", f.name).Scan(&paused); err != nil || paused {
		t.Errorf("after the failed rebuild, pause requested = %v (%v), want the request withdrawn", paused, err)
	}
}

// TestRebuildStopsAtPoisonEvent rebuilds a projection that fails on an
// event: the rebuild fails with the event, and the live tables keep their
// rows.
func TestRebuildStopsAtPoisonEvent(t *testing.T) {
	f := newFixture(t)
	var broken atomic.Bool
	reg := f.registration([]string{"a"}, func(e projection.Event) error {
		if broken.Load() && e.Version == 2 {
			return errBoom
		}
		return nil
	})
	r := f.runner(t, reg)
	ps := appendVisible(t, f.source, ev("x", 1, "a", "1"), ev("x", 2, "a", "2"), ev("x", 3, "a", "3"))
	catchUp(t, r, f.name)
	before := f.state(t)

	broken.Store(true)
	err := r.Rebuild(context.Background(), f.name)
	var ee *projection.EventError
	if !errors.As(err, &ee) || ee.Meta.Position != ps[1] {
		t.Fatalf("Rebuild over a poison event = %v, want the event at %d", err, ps[1])
	}
	if got := f.state(t); !reflect.DeepEqual(got, before) || !slices.Equal(got.Applied, ps) {
		t.Errorf("after the failed rebuild: %+v, want as before: %+v", got, before)
	}
	if s := statusOf(t, r, f.name); s.Failure != nil {
		t.Errorf("after the failed rebuild, the live projection reports %+v, want no failure", s.Failure)
	}
}

// lateSource is a source that appends late events once, just before the
// first read of one event, the read a rebuild makes of what came in
// while it filled its tables.
type lateSource struct {
	projection.EventSource
	once sync.Once
	late func()
}

func (s *lateSource) Read(ctx context.Context, after int64, topics []string, limit int) (projection.Page, error) {
	if limit == 1 {
		s.once.Do(s.late)
	}
	return s.EventSource.Read(ctx, after, topics, limit)
}

// TestRebuildTakesInWhatCameMeanwhile appends events after the rebuild
// has filled its tables and before it swaps them in: of another topic
// only, which the rebuild moves past without a replay, or of the
// projection's, which it replays. Either way the rebuilt projection
// stands at the last event, with the rows the events table says.
func TestRebuildTakesInWhatCameMeanwhile(t *testing.T) {
	for _, topic := range []string{"c", "a"} {
		t.Run("topic "+topic, func(t *testing.T) {
			f := newFixture(t)
			topics := []string{"a", "b"}
			reg := f.registration(topics, nil)
			for i := range 30 {
				appendEvents(t, f.source, ev(fmt.Sprint("agg-", i%5), int64(i/5+1), []string{"a", "b", "c"}[i%3], fmt.Sprint(i)))
			}
			r := f.runner(t, reg)
			var late []int64
			r.Source = &lateSource{EventSource: f.source, late: func() {
				late = appendVisible(t, f.source, ev("late", 1, topic, "late"), ev("late", 2, "c", "late"))
			}}
			if err := r.Rebuild(context.Background(), f.name); err != nil {
				t.Fatal(err)
			}
			if late == nil {
				t.Fatal("the rebuild never read what came in meanwhile")
			}
			got, want := f.state(t), f.expectedState(t, topics)
			if !reflect.DeepEqual(got, want) || got.Position != late[1] {
				t.Errorf("after the rebuild: %d rows at %d, want %d rows at %d (the last late event)", len(got.Applied), got.Position, len(want.Applied), late[1])
			}
		})
	}
}
