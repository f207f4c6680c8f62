package projection_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/projgen/projgen/projection"
)

// payload is the payload of every test event.
type payload struct {
	Value string `json:"value"`
}

// counter is a hand-written projection over the tables of readModelSQL.
// Its statements are deliberately not idempotent, so that an event
// applied twice shows: counts.n grows again, and applied refuses the
// position.
type counter struct {
	db     projection.DBTX
	name   string
	topics []string
	// fail, when set, is asked before each event is applied; its error is
	// the projection's.
	fail func(projection.Event) error
}

func (c *counter) Name() string     { return c.name }
func (c *counter) Topics() []string { return c.topics }

func (c *counter) Process(ctx context.Context, e projection.Event) error {
	p, ok := e.Data.(*payload)
	if !ok {
		return fmt.Errorf("payload of type %T, want *payload", e.Data)
	}
	if c.fail != nil {
		if err := c.fail(e); err != nil {
			return err
		}
	}
	if _, err := c.db.Exec(ctx, `INSERT INTO counts (topic, n) VALUES ($1, 1)
ON CONFLICT (topic) DO UPDATE SET n = counts.n + 1`, e.Topic); err != nil {
		return err
	}
	_, err := c.db.Exec(ctx, `INSERT INTO applied (position, topic, aggregate_id, version, value) VALUES ($1, $2, $3, $4, $5)`,
		e.Position, e.Topic, e.AggregateID, e.Version, p.Value)
	return err
}

// fixture is one test's database, source and projection name. The name is
// unique because advisory locks are shared by every schema of a database.
type fixture struct {
	pool   *pgxpool.Pool
	source *projection.PostgresSource
	name   string
	// pipeline makes the runner helper processes' projection pipelined.
	pipeline bool
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	pool := openDB(t)
	return &fixture{
		pool:   pool,
		source: projection.NewPostgresSource(pool, "events"),
		name:   "counter_" + strings.ReplaceAll(uuid.NewString(), "-", "")[:12],
	}
}

// eventTypes decodes every test topic into *payload.
func eventTypes() projection.EventTypes {
	newPayload := func() any { return new(payload) }
	return projection.EventTypes{"a": newPayload, "b": newPayload, "c": newPayload}
}

// registration registers a counter of the fixture's name over topics.
func (f *fixture) registration(topics []string, fail func(projection.Event) error) projection.Registration {
	return projection.Registration{
		Name:   f.name,
		Topics: topics,
		Tables: []string{"counts", "applied"},
		New: func(db projection.DBTX) projection.Projection {
			return &counter{db: db, name: f.name, topics: topics, fail: fail}
		},
	}
}

// runner returns a set-up runner of regs that logs to the test.
func (f *fixture) runner(t *testing.T, regs ...projection.Registration) *projection.Runner {
	t.Helper()
	r := &projection.Runner{
		Pool:          f.pool,
		Source:        f.source,
		Types:         eventTypes(),
		Registrations: regs,
		PollInterval:  20 * time.Millisecond,
		Logger:        slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug})),
	}
	if err := r.Setup(context.Background()); err != nil {
		t.Fatal(err)
	}
	return r
}

// testWriter sends log lines to t.Log, so they show with the failing test.
type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSuffix(string(p), "\n"))
	return len(p), nil
}

// state is the read model and the tracking row: what a batch changes.
type state struct {
	Counts   map[string]int64
	Applied  []int64
	Position int64
	Tracked  bool
}

func (f *fixture) state(t *testing.T) state {
	t.Helper()
	ctx := context.Background()
	s := state{Counts: map[string]int64{}}
	rows, err := f.pool.Query(ctx, "SELECT topic, n FROM counts")
	if err != nil {
		t.Fatal(err)
	}
	var topic string
	var n int64
	if _, err := pgx.ForEachRow(rows, []any{&topic, &n}, func() error { s.Counts[topic] = n; return nil }); err != nil {
		t.Fatal(err)
	}
	rows, err = f.pool.Query(ctx, "SELECT position FROM applied ORDER BY position")
	if err != nil {
		t.Fatal(err)
	}
	if s.Applied, err = pgx.CollectRows(rows, pgx.RowTo[int64]); err != nil {
		t.Fatal(err)
	}
	err = f.pool.QueryRow(ctx, "SELECT position FROM projgen_tracking WHERE name = $1", f.name).Scan(&s.Position)
	switch {
	case err == nil:
		s.Tracked = true
	case !errors.Is(err, pgx.ErrNoRows):
		t.Fatal(err)
	}
	return s
}

// catchUp runs CatchUp and fails the test on an error.
func catchUp(t *testing.T, r *projection.Runner, name string) {
	t.Helper()
	if err := r.CatchUp(context.Background(), name); err != nil {
		t.Fatalf("CatchUp: %v", err)
	}
}

// nopProjection applies nothing.
type nopProjection struct{}

func (nopProjection) Name() string                                    { return "nop" }
func (nopProjection) Topics() []string                                { return nil }
func (nopProjection) Process(context.Context, projection.Event) error { return nil }
