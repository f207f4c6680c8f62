package projection_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/projgen/projgen/projection"
)

// appendNumbered appends n events over topics a and b, each of its own
// aggregate; the value of the event at index poison, if any, is
// "poison". It returns their positions.
func appendNumbered(t *testing.T, f *fixture, n, poison int) []int64 {
	t.Helper()
	var events []projection.Stored
	for i := range n {
		value := fmt.Sprint("v", i)
		if i == poison {
			value = "poison"
		}
		events = append(events, ev(fmt.Sprint("agg-", i), 1, []string{"a", "b"}[i%2], value))
	}
	positions, err := f.source.Append(context.Background(), events...)
	if err != nil {
		t.Fatal(err)
	}
	return positions
}

// pipelined is the fixture's registration with Pipeline set.
func (f *fixture) pipelined(fail func(projection.Event) error) projection.Registration {
	reg := f.registration([]string{"a", "b"}, fail)
	reg.Pipeline = true
	return reg
}

// TestPipelineAppliesEveryEventOnce applies 1,234 events in batches of
// 100, pipelined: every event is applied once, each topic counted as many
// times as it was appended, and the position is the last event's.
func TestPipelineAppliesEveryEventOnce(t *testing.T) {
	f := newFixture(t)
	positions := appendNumbered(t, f, 1234, -1)
	r := f.runner(t, f.pipelined(nil))
	r.BatchSize = 100
	catchUp(t, r, f.name)
	s := f.state(t)
	if !slices.Equal(s.Applied, positions) {
		t.Errorf("applied %d events (first %v); want the %d appended, once each", len(s.Applied), s.Applied[:min(3, len(s.Applied))], len(positions))
	}
	if s.Counts["a"] != 617 || s.Counts["b"] != 617 {
		t.Errorf("counts %v; want 617 of each topic", s.Counts)
	}
	if s.Position != positions[len(positions)-1] {
		t.Errorf("position %d; want the last event's, %d", s.Position, positions[len(positions)-1])
	}
}

// TestPipelineStopsAtTheEventWhoseStatementFails makes the 37th of 50
// events fail in the database, not in Go: a CHECK constraint refuses its
// value. Pipelined, the error comes only when the batch is sent, yet the
// projection stops exactly there: the 36 events before it applied, the
// position just before it, and the failure naming it.
func TestPipelineStopsAtTheEventWhoseStatementFails(t *testing.T) {
	f := newFixture(t)
	if _, err := f.pool.Exec(context.Background(), `ALTER TABLE applied ADD CONSTRAINT no_poison CHECK (value <> 'poison')`); err != nil {
		t.Fatal(err)
	}
	positions := appendNumbered(t, f, 50, 36)
	r := f.runner(t, f.pipelined(nil))
	err := r.CatchUp(context.Background(), f.name)
	var ee *projection.EventError
	if !errors.As(err, &ee) || ee.Meta.Position != positions[36] {
		t.Fatalf("CatchUp = %v; want an EventError at position %d", err, positions[36])
	}
	s := f.state(t)
	if !slices.Equal(s.Applied, positions[:36]) || s.Position != positions[35] {
		t.Fatalf("applied %v at position %d; want the 36 events before the poison one, at %d", s.Applied, s.Position, positions[35])
	}
	if s.Counts["a"]+s.Counts["b"] != 36 {
		t.Errorf("counts %v; want 36 in all: the poison event's first statement was rolled back too", s.Counts)
	}
	statuses, err := r.Status(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(statuses) != 1 || statuses[0].Failure == nil || statuses[0].Failure.Event.Position != positions[36] {
		t.Fatalf("status %+v; want the failure recorded at position %d", statuses, positions[36])
	}
}

// TestPipelineParksTheEventWhoseStatementFails is the same with Park: the
// poison event is parked and every other one applied.
func TestPipelineParksTheEventWhoseStatementFails(t *testing.T) {
	f := newFixture(t)
	if _, err := f.pool.Exec(context.Background(), `ALTER TABLE applied ADD CONSTRAINT no_poison CHECK (value <> 'poison')`); err != nil {
		t.Fatal(err)
	}
	positions := appendNumbered(t, f, 50, 12)
	reg := f.pipelined(nil)
	reg.OnError = projection.Park
	r := f.runner(t, reg)
	catchUp(t, r, f.name)
	want := slices.Delete(slices.Clone(positions), 12, 13)
	if s := f.state(t); !slices.Equal(s.Applied, want) || s.Position != positions[49] {
		t.Fatalf("applied %v at position %d; want every event but the 13th, at %d", s.Applied, s.Position, positions[49])
	}
	var parked int64
	if err := f.pool.QueryRow(context.Background(), `SELECT position FROM projgen_dead_letters WHERE projection = $1`, f.name).Scan(&parked); err != nil || parked != positions[12] {
		t.Fatalf("parked %d, %v; want the 13th event, at %d", parked, err, positions[12])
	}
}

// reader is a projection that reads what it wrote before: each event
// inserts its count, then reads the total back into applied.value.
type reader struct {
	db   projection.DBTX
	name string
}

func (r *reader) Name() string     { return r.name }
func (r *reader) Topics() []string { return []string{"a", "b"} }

func (r *reader) Process(ctx context.Context, e projection.Event) error {
	if _, err := r.db.Exec(ctx, `INSERT INTO counts (topic, n) VALUES ($1, 1) ON CONFLICT (topic) DO UPDATE SET n = counts.n + 1`, e.Topic); err != nil {
		return err
	}
	var total int64
	if err := r.db.QueryRow(ctx, `SELECT sum(n) FROM counts`).Scan(&total); err != nil {
		return err
	}
	_, err := r.db.Exec(ctx, `INSERT INTO applied (position, topic, aggregate_id, version, value) VALUES ($1, $2, $3, $4, $5)`,
		e.Position, e.Topic, e.AggregateID, e.Version, fmt.Sprint(total))
	return err
}

// TestPipelineQueriesSeeTheQueuedStatements checks that a projection's
// query, pipelined, sees the statements it queued before: the n-th event
// reads a total of n.
func TestPipelineQueriesSeeTheQueuedStatements(t *testing.T) {
	f := newFixture(t)
	positions := appendNumbered(t, f, 30, -1)
	reg := projection.Registration{Name: f.name, Topics: []string{"a", "b"}, Pipeline: true,
		New: func(db projection.DBTX) projection.Projection { return &reader{db: db, name: f.name} }}
	r := f.runner(t, reg)
	r.BatchSize = 7
	catchUp(t, r, f.name)
	rows, err := f.pool.Query(context.Background(), `SELECT value FROM applied ORDER BY position`)
	if err != nil {
		t.Fatal(err)
	}
	var values []string
	for rows.Next() {
		var v string
		if err := rows.Scan(&v); err != nil {
			t.Fatal(err)
		}
		values = append(values, v)
	}
	if len(values) != len(positions) {
		t.Fatalf("%d rows; want %d", len(values), len(positions))
	}
	for i, v := range values {
		if v != fmt.Sprint(i+1) {
			t.Fatalf("event %d read a total of %s; want %d", i+1, v, i+1)
		}
	}
}

// TestReadAheadDroppedAtAFailure fails the 58th of 100 events in batches
// of 10, so that the runner is reading the next page ahead when the
// batch fails: it stops exactly there, and once the cause is gone a
// catch-up applies the rest, each event once.
func TestReadAheadDroppedAtAFailure(t *testing.T) {
	for _, pipeline := range []bool{false, true} {
		t.Run(fmt.Sprint("pipeline=", pipeline), func(t *testing.T) {
			f := newFixture(t)
			ctx := context.Background()
			if _, err := f.pool.Exec(ctx, `ALTER TABLE applied ADD CONSTRAINT no_poison CHECK (value <> 'poison')`); err != nil {
				t.Fatal(err)
			}
			positions := appendNumbered(t, f, 100, 57)
			reg := f.registration([]string{"a", "b"}, nil)
			reg.Pipeline = pipeline
			r := f.runner(t, reg)
			r.BatchSize = 10
			if err := r.CatchUp(ctx, f.name); err == nil {
				t.Fatal("CatchUp over the poison event succeeded")
			}
			if s := f.state(t); !slices.Equal(s.Applied, positions[:57]) || s.Position != positions[56] {
				t.Fatalf("applied %d events at position %d; want the 57 before the poison one, at %d", len(s.Applied), s.Position, positions[56])
			}
			if _, err := f.pool.Exec(ctx, `ALTER TABLE applied DROP CONSTRAINT no_poison`); err != nil {
				t.Fatal(err)
			}
			catchUp(t, r, f.name)
			if s := f.state(t); !slices.Equal(s.Applied, positions) || s.Counts["a"]+s.Counts["b"] != 100 {
				t.Fatalf("applied %d events, counts %v; want all 100, once each", len(s.Applied), s.Counts)
			}
		})
	}
}

// TestPipelineBatchRolledBackWhenPaused asks for the projection, as a
// rebuild does, while a pipelined batch is being applied: the batch's
// tracking statement, sent with the batch's last round trip, then moves
// no row, so the batch is rolled back rather than committed without its
// position. Once the request is gone (it names no live session, so the
// runner clears it), the runner applies every event exactly once: an
// event of the rolled-back batch applied twice would break applied's
// primary key.
func TestPipelineBatchRolledBackWhenPaused(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	positions := appendNumbered(t, f, 40, -1)
	var asked sync.Once
	fired := false
	reg := f.pipelined(func(e projection.Event) error {
		if e.Position != positions[14] {
			return nil
		}
		var err error
		asked.Do(func() {
			fired = true
			_, err = f.pool.Exec(ctx, `UPDATE projgen_tracking SET pause_requested_at = now(), pause_pid = NULL WHERE name = $1`, f.name)
		})
		return err
	})
	r := f.runner(t, reg)
	r.BatchSize = 10
	r.PollInterval = 10 * time.Millisecond
	catchUp(t, r, f.name)
	if !fired {
		t.Fatal("the request to let go was never made")
	}
	s := f.state(t)
	if !slices.Equal(s.Applied, positions) || s.Counts["a"]+s.Counts["b"] != 40 {
		t.Errorf("applied %d events, counts %v; want all 40, once each", len(s.Applied), s.Counts)
	}
	if s.Position != positions[len(positions)-1] {
		t.Errorf("position %d; want %d", s.Position, positions[len(positions)-1])
	}
}
