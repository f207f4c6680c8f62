package projectiontest_test

import (
	"context"
	"maps"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/projgen/projgen/projection"
	"github.com/projgen/projgen/projection/projectiontest"
)

// replayDB opens a test schema with the tables the replay tests' projections
// write: items, a read model keyed by aggregate; counts, a counter per
// aggregate; and "Item Log", an append-only log keyed by position.
func replayDB(t *testing.T) *pgxpool.Pool {
	t.Helper()
	useDB(t)
	return projectiontest.Open(t, migrations(t, map[string]string{
		"1_items.up.sql": `CREATE TABLE items (
			id text PRIMARY KEY,
			name text NOT NULL,
			version bigint NOT NULL,
			deleted boolean NOT NULL DEFAULT false
		);
		CREATE TABLE counts (id text PRIMARY KEY, n bigint NOT NULL);
		CREATE TABLE "Item Log" (position bigint PRIMARY KEY, id text NOT NULL, topic text NOT NULL);`,
	}))
}

// replayEvents are three items' histories, interleaved: a is created and
// renamed twice, b created and deleted, c created. Data is the item's name.
var replayEvents = []projection.Event{
	event(1, "a", 1, "item.created", "a1"),
	event(2, "b", 1, "item.created", "b1"),
	event(3, "a", 2, "item.renamed", "a2"),
	event(4, "b", 2, "item.deleted", nil),
	event(5, "a", 3, "item.renamed", "a3"),
	event(6, "c", 1, "item.created", "c1"),
}

func event(position int64, id string, version int64, topic string, data any) projection.Event {
	return projection.Event{
		Meta: projection.Meta{Position: position, AggregateID: id, Version: version, Topic: topic},
		Data: data,
	}
}

// sqlProjection runs, for each event, the statements listed for its topic,
// with the event's fields as the named arguments @id, @version, @position,
// @topic and @name (the payload).
type sqlProjection struct {
	db    projection.DBTX
	stmts map[string][]string
}

func (p sqlProjection) Name() string     { return "replay_test" }
func (p sqlProjection) Topics() []string { return slices.Sorted(maps.Keys(p.stmts)) }

func (p sqlProjection) Process(ctx context.Context, e projection.Event) error {
	args := pgx.NamedArgs{"id": e.AggregateID, "version": e.Version, "position": e.Position, "topic": e.Topic, "name": e.Data}
	for _, sql := range p.stmts[e.Topic] {
		if _, err := p.db.Exec(ctx, sql, args); err != nil {
			return err
		}
	}
	return nil
}

// newSQL returns a newProjection function for ReplaySafe that builds an
// sqlProjection running stmts.
func newSQL(stmts map[string][]string) func(projection.DBTX) projection.Projection {
	return func(db projection.DBTX) projection.Projection { return sqlProjection{db, stmts} }
}

// Statements of a replay-safe projection: a version-guarded upsert, guarded
// updates, a soft delete, and an append-only log that ignores a position it
// has.
const (
	upsertItem = `INSERT INTO items AS t (id, name, version) VALUES (@id, @name, @version)
		ON CONFLICT (id) DO UPDATE SET name = EXCLUDED.name, version = EXCLUDED.version
		WHERE t.version < EXCLUDED.version`
	renameItem     = `UPDATE items SET name = @name, version = @version WHERE id = @id AND version < @version`
	softDeleteItem = `UPDATE items SET deleted = true, version = @version WHERE id = @id AND version < @version`
	logItem        = `INSERT INTO "Item Log" (position, id, topic) VALUES (@position, @id, @topic) ON CONFLICT (position) DO NOTHING`
)

// Statements that are not replay-safe.
const (
	countItem        = `INSERT INTO counts (id, n) VALUES (@id, 1) ON CONFLICT (id) DO UPDATE SET n = counts.n + 1`
	hardDeleteItem   = `DELETE FROM items WHERE id = @id`
	insertItem       = `INSERT INTO items (id, name, version) VALUES (@id, @name, @version)`
	renameItemAlways = `UPDATE items SET name = @name, version = @version WHERE id = @id`
	logItemAgain     = `INSERT INTO "Item Log" (position, id, topic) VALUES (@position, @id, @topic)
		ON CONFLICT (position) DO UPDATE SET topic = "Item Log".topic || '+'`
)

// safeStmts is the replay-safe projection.
var safeStmts = map[string][]string{
	"item.created": {upsertItem, logItem},
	"item.renamed": {renameItem, logItem},
	"item.deleted": {softDeleteItem, logItem},
}

// with returns a copy of safeStmts with the statements of the topics in
// change replaced.
func with(change map[string][]string) map[string][]string {
	stmts := maps.Clone(safeStmts)
	maps.Copy(stmts, change)
	return stmts
}

func TestReplaySafePasses(t *testing.T) {
	for _, seed := range []string{"", "1", "2", "3"} {
		t.Run("seed="+seed, func(t *testing.T) {
			setenv(t, projectiontest.ReplaySeedEnv, seed)
			pool := replayDB(t)
			schema := currentSchema(t, pool)
			fake, finished := runFake(t, func(tb testing.TB) {
				projectiontest.ReplaySafe(tb, pool, newSQL(safeStmts), replayEvents, "items", schema+".Item Log", "counts")
			})
			if !finished || fake.Failed() || fake.Skipped() {
				t.Fatalf("ReplaySafe failed a replay-safe projection: %s", fake.all())
			}
			// The events were applied once.
			projectiontest.AssertRow(t, pool, "items", projectiontest.Row{"id": "a"}, projectiontest.Row{"name": "a3", "version": 3, "deleted": false})
			projectiontest.AssertRow(t, pool, "items", projectiontest.Row{"id": "b"}, projectiontest.Row{"name": "b1", "version": 2, "deleted": true})
			projectiontest.AssertRow(t, pool, "items", projectiontest.Row{"id": "c"}, projectiontest.Row{"name": "c1", "version": 1})
			projectiontest.AssertCount(t, pool, "items", 3)
			projectiontest.AssertCount(t, pool, "Item Log", len(replayEvents))
		})
	}
}

func TestReplaySafeFails(t *testing.T) {
	tests := []struct {
		name  string
		stmts map[string][]string
		// tables are the tables passed to ReplaySafe; "%s." stands for
		// the test schema.
		tables []string
		// want are substrings of the failure message, and notWant
		// substrings it must not have.
		want, notWant []string
	}{
		{
			name: "counter",
			stmts: with(map[string][]string{
				"item.created": {upsertItem, logItem, countItem},
				"item.renamed": {renameItem, logItem, countItem},
			}),
			tables: []string{"items", "counts"},
			want: []string{
				`re-applying events[0] (position 1, topic "item.created", aggregate a, version 1) changed the tables`,
				"trial 1 of 20 re-applies the whole sequence, events [0 1 2 3 4 5] in that order",
				"re-application 1 of 6",
				"--- counts, after the events\n+++ counts, after re-applying events[0]\n",
				"\n-" + `{"n": 3, "id": "a"}` + "\n",
				"\n+" + `{"n": 4, "id": "a"}` + "\n",
			},
			// items did not change, so it has no diff.
			notWant: []string{"--- items"},
		},
		{
			name:   "delete without a tombstone",
			stmts:  with(map[string][]string{"item.deleted": {hardDeleteItem}}),
			tables: []string{"items"},
			want: []string{
				// Re-applying b's creation brings the deleted row back.
				`re-applying events[1] (position 2, topic "item.created", aggregate b, version 1) changed the tables`,
				"--- items, after the events\n+++ items, after re-applying events[1]\n",
				"\n+" + `{"id": "b", "name": "b1", "deleted": false, "version": 1}` + "\n",
			},
		},
		{
			name:   "update without a version guard",
			stmts:  with(map[string][]string{"item.renamed": {renameItemAlways}}),
			tables: []string{"items"},
			want: []string{
				`re-applying events[2] (position 3, topic "item.renamed", aggregate a, version 2) changed the tables`,
				"\n-" + `{"id": "a", "name": "a3", "deleted": false, "version": 3}` + "\n",
				"\n+" + `{"id": "a", "name": "a2", "deleted": false, "version": 2}` + "\n",
			},
		},
		{
			name:   "schema-qualified, quoted table",
			stmts:  with(map[string][]string{"item.created": {upsertItem, logItemAgain}}),
			tables: []string{"%s.Item Log"},
			want: []string{
				`re-applying events[0] (position 1, topic "item.created", aggregate a, version 1) changed the tables`,
				".Item Log, after the events\n",
				"\n+" + `{"id": "a", "topic": "item.created+", "position": 1}` + "\n",
			},
		},
		{
			name:  "every table of the schema when none is named",
			stmts: with(map[string][]string{"item.created": {upsertItem, logItem, countItem}}),
			want: []string{
				"--- counts, after the events\n",
				"\n+" + `{"n": 2, "id": "a"}` + "\n",
			},
			notWant: []string{"--- items", "--- Item Log"},
		},
		{
			name:   "error on replay",
			stmts:  with(map[string][]string{"item.created": {insertItem}}),
			tables: []string{"items"},
			want: []string{
				`re-applying events[0] (position 1, topic "item.created", aggregate a, version 1) failed: `,
				"duplicate key",
				"re-application 1 of 6",
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv(projectiontest.ReplaySeedEnv, "12345")
			setenv(t, projectiontest.ReplayTrialsEnv, "")
			pool := replayDB(t)
			schema := currentSchema(t, pool)
			var tables []string
			for _, table := range tt.tables {
				tables = append(tables, strings.ReplaceAll(table, "%s", schema))
			}
			fake, finished := runFake(t, func(tb testing.TB) {
				projectiontest.ReplaySafe(tb, pool, newSQL(tt.stmts), replayEvents, tables...)
			})
			if !finished || len(fake.errors) != 1 || len(fake.fatals)+len(fake.skips) != 0 {
				t.Fatalf("got %s (finished %v), want one failure", fake.all(), finished)
			}
			msg := fake.errors[0]
			contains(t, "failure message", msg, append([]string{"seed 12345", projectiontest.ReplaySeedEnv + "=12345"}, tt.want...)...)
			for _, s := range tt.notWant {
				if strings.Contains(msg, s) {
					t.Errorf("failure message %q contains %q", msg, s)
				}
			}
		})
	}
}

// TestReplaySafeSeedFromClock checks that without PROJGEN_REPLAY_SEED a
// failure names the seed it drew, and that setting the variable to it
// reproduces the failure.
func TestReplaySafeSeedFromClock(t *testing.T) {
	setenv(t, projectiontest.ReplayTrialsEnv, "")
	stmts := with(map[string][]string{"item.renamed": {renameItemAlways}})
	fail := func() string {
		t.Helper()
		pool := replayDB(t)
		fake, _ := runFake(t, func(tb testing.TB) {
			projectiontest.ReplaySafe(tb, pool, newSQL(stmts), replayEvents, "items")
		})
		if len(fake.errors) != 1 {
			t.Fatalf("got %s, want one failure", fake.all())
		}
		return fake.errors[0]
	}
	setenv(t, projectiontest.ReplaySeedEnv, "")
	first := fail()
	m := regexp.MustCompile(`seed (\d+) \(rerun with ` + projectiontest.ReplaySeedEnv + `=(\d+)\)`).FindStringSubmatch(first)
	if m == nil || m[1] != m[2] {
		t.Fatalf("failure message does not name the seed and how to rerun with it: %s", first)
	}
	t.Setenv(projectiontest.ReplaySeedEnv, m[1])
	if again := fail(); again != first {
		t.Errorf("rerun with %s=%s failed otherwise:\n%s\nthe first run:\n%s", projectiontest.ReplaySeedEnv, m[1], again, first)
	}
}

// recorder wraps a projection and records the position of every event it
// processes.
type recorder struct {
	projection.Projection
	positions *[]int64
}

func (r recorder) Process(ctx context.Context, e projection.Event) error {
	*r.positions = append(*r.positions, e.Position)
	return r.Projection.Process(ctx, e)
}

// replayed runs ReplaySafe over the replay-safe projection with the
// settings given, on a fresh schema, and returns the positions of the
// events it processed, in order.
func replayed(t *testing.T, seed, trials string) []int64 {
	t.Helper()
	setenv(t, projectiontest.ReplaySeedEnv, seed)
	setenv(t, projectiontest.ReplayTrialsEnv, trials)
	pool := replayDB(t)
	var positions []int64
	newProjection := func(db projection.DBTX) projection.Projection {
		return recorder{sqlProjection{db, safeStmts}, &positions}
	}
	fake, finished := runFake(t, func(tb testing.TB) {
		projectiontest.ReplaySafe(tb, pool, newProjection, replayEvents, "items", "Item Log")
	})
	if !finished || fake.Failed() {
		t.Fatalf("ReplaySafe failed a replay-safe projection: %s", fake.all())
	}
	return positions
}

func TestReplaySafeTrials(t *testing.T) {
	n := len(replayEvents)
	inOrder := []int64{1, 2, 3, 4, 5, 6}

	if got := replayed(t, "7", "0"); !slices.Equal(got, inOrder) {
		t.Errorf("with no trials, processed %v, want the events once in order, %v", got, inOrder)
	}
	if got := replayed(t, "7", "1"); !slices.Equal(got, slices.Concat(inOrder, inOrder)) {
		t.Errorf("with one trial, processed %v, want the events twice in order", got)
	}

	a, b := replayed(t, "7", ""), replayed(t, "7", "")
	if !slices.Equal(a, b) {
		t.Errorf("the same seed re-applied different events:\n%v\n%v", a, b)
	}
	if !slices.Equal(a[:2*n], slices.Concat(inOrder, inOrder)) {
		t.Errorf("processed %v first, want the events once, then the whole sequence again", a[:2*n])
	}
	if most := 2*n + (projectiontest.DefaultReplayTrials-1)*(n+1); len(a) > most {
		t.Errorf("processed %d events, want at most %d", len(a), most)
	}
	// Only the sequence would have to match by chance.
	if c := replayed(t, "8", ""); slices.Equal(a, c) {
		t.Errorf("seeds 7 and 8 re-applied the same events: %v", a)
	}
}

func TestReplaySafeStops(t *testing.T) {
	tests := []struct {
		name   string
		env    map[string]string
		events []projection.Event
		stmts  map[string][]string
		tables []string
		want   []string // substrings of the fatal message
	}{
		{
			name:   "bad seed",
			env:    map[string]string{projectiontest.ReplaySeedEnv: "x1"},
			events: replayEvents, stmts: safeStmts, tables: []string{"items"},
			want: []string{projectiontest.ReplaySeedEnv + `="x1"`},
		},
		{
			name:   "bad trials",
			env:    map[string]string{projectiontest.ReplayTrialsEnv: "-1"},
			events: replayEvents, stmts: safeStmts, tables: []string{"items"},
			want: []string{projectiontest.ReplayTrialsEnv + `="-1"`},
		},
		{
			name:   "no events",
			stmts:  safeStmts,
			tables: []string{"items"},
			want:   []string{"no events"},
		},
		{
			name:   "missing table",
			events: replayEvents, stmts: safeStmts, tables: []string{"items", "nope"},
			want: []string{"nope"},
		},
		{
			name:   "error on first application",
			events: replayEvents, stmts: with(map[string][]string{"item.renamed": {"UPDATE nope SET x = 1"}}),
			tables: []string{"items"},
			want:   []string{`applying events[2] (position 3, topic "item.renamed", aggregate a, version 2) the first time`, "nope"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			setenv(t, projectiontest.ReplaySeedEnv, "")
			setenv(t, projectiontest.ReplayTrialsEnv, "")
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			pool := replayDB(t)
			fake, finished := runFake(t, func(tb testing.TB) {
				projectiontest.ReplaySafe(tb, pool, newSQL(tt.stmts), tt.events, tt.tables...)
			})
			if finished || len(fake.fatals) != 1 || len(fake.errors) != 0 {
				t.Fatalf("got %s (finished %v), want one fatal failure", fake.all(), finished)
			}
			contains(t, "fatal message", fake.fatals[0], tt.want...)
		})
	}
}

// setenv sets the environment variable for the rest of the test, or unsets
// it if value is "".
func setenv(t *testing.T, key, value string) {
	t.Helper()
	t.Setenv(key, value)
	if value == "" {
		os.Unsetenv(key)
	}
}
