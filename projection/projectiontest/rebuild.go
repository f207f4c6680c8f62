package projectiontest

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/projgen/projgen/projection"
)

// Sizes of FastRebuildEqualsReplay's histories: a few, of up to 200
// events each, keep a generated test within a second or two.
const (
	rebuildTrials    = 3
	rebuildMinEvents = 40
	rebuildMaxEvents = 200
)

// FastRebuildEqualsReplay checks that a fast rebuild of reg, which folds
// the events per row with reg.Fold and copies the final rows, leaves
// reg's tables as replaying the events one statement at a time does.
//
// For each of a few random histories of reg's topics, for aggregates drawn
// from aggregateIDs, with payloads that types decodes filled with values
// from small sets (so that events meet on keys and flags), it appends the
// events to a table named events in pool's schema, replays them with a
// Runner, and reads every row of reg.Tables. Then it rebuilds reg twice,
// in one pass and in shares of two keys (many passes), and fails the test
// unless each rebuild folded rather than fell back to replaying, and left
// every row as the replay did; the message shows the rows that differ,
// as JSON, and the seed that reproduces the history.
//
// The seed comes from PROJGEN_REPLAY_SEED, or from the clock. pool is one
// that Open returned, with the projection's migrations applied.
func FastRebuildEqualsReplay(t testing.TB, pool *pgxpool.Pool, reg projection.Registration, types projection.EventTypes, aggregateIDs []string, opts ...HistoryOption) {
	t.Helper()
	if reg.Fold == nil || len(aggregateIDs) == 0 {
		t.Fatalf("FastRebuildEqualsReplay: %s: want a registration with a Fold, and aggregate IDs", reg.Name)
	}
	seed, _ := replaySettings(t)
	rng := rand.New(rand.NewPCG(seed, 0))
	ctx := context.Background()
	setUp(t, pool, "FastRebuildEqualsReplay")
	topics := topicsOf(types, reg.Topics)
	snapshot := snapshotQuery(reg.Tables)
	replayed := reg
	replayed.Fold = nil
	rows := 0
	for trial := range rebuildTrials {
		where := fmt.Sprintf("seed %d (rerun with %s=%d), history %d of %d", seed, ReplaySeedEnv, seed, trial+1, rebuildTrials)
		emptyTables(t, pool, append([]string{"events", "projgen_tracking", "projgen_dead_letters"}, reg.Tables...))
		events, err := history(rng, types, topics, aggregateIDs, rebuildMinEvents+rng.IntN(rebuildMaxEvents-rebuildMinEvents+1), opts...)
		if err != nil {
			t.Fatalf("FastRebuildEqualsReplay: %v", err)
		}
		stored := len(events)
		// A source of its own per history: a source keeps the end it
		// has seen, which the emptied table no longer bounds.
		source := projection.NewPostgresSource(pool, "events")
		// In transactions of a few events each, so that events differ
		// in their timestamps as they do in a store.
		for len(events) > 0 {
			n := min(len(events), 1+rng.IntN(8))
			if _, err := source.Append(ctx, events[:n]...); err != nil {
				t.Fatalf("FastRebuildEqualsReplay: %v", err)
			}
			events = events[n:]
		}
		runner := &projection.Runner{Pool: pool, Source: source, Types: types, Registrations: []projection.Registration{replayed}, Logger: discard()}
		if err := runner.CatchUp(ctx, reg.Name); err != nil {
			t.Fatalf("FastRebuildEqualsReplay: replaying %d random events: %v\n%s", stored, err, where)
		}
		want := readSnapshot(t, pool, snapshot, reg.Tables)
		for _, w := range want {
			rows += len(w)
		}
		for _, chunk := range []int{0, 2} {
			log := &logRecord{}
			runner := &projection.Runner{Pool: pool, Source: source, Types: types, Registrations: []projection.Registration{reg},
				RebuildChunk: chunk, Logger: slog.New(log)}
			if err := runner.Rebuild(ctx, reg.Name); err != nil {
				t.Fatalf("FastRebuildEqualsReplay: rebuild: %v\n%s", err, where)
			}
			how := "a fast rebuild in one pass"
			if chunk > 0 {
				how = fmt.Sprintf("a fast rebuild in shares of %d keys", chunk)
			}
			if fallback := log.fallback(); fallback != "" {
				t.Errorf("FastRebuildEqualsReplay: %s replayed the events instead of folding them: %s\n%s", how, fallback, where)
				return
			}
			got := readSnapshot(t, pool, snapshot, reg.Tables)
			if diff := snapshotDiff(reg.Tables, want, got, "replayed", "after "+how); diff != "" {
				t.Errorf("FastRebuildEqualsReplay: %s left other rows than the replay of %d events\n%s\n%s", how, stored, where, diff)
				return
			}
		}
	}
	if rows == 0 {
		t.Errorf("FastRebuildEqualsReplay: the random histories left no rows in %s, so nothing was compared (seed %d)", strings.Join(reg.Tables, ", "), seed)
	}
}

// setUp creates the events table and the runner's tables in pool's
// schema, for the test helper named who.
func setUp(t testing.TB, pool *pgxpool.Pool, who string) {
	t.Helper()
	ctx := context.Background()
	if _, err := pool.Exec(ctx, projection.EventsTableSQL); err != nil {
		t.Fatalf("%s: create the events table: %v", who, err)
	}
	if err := (&projection.Runner{Pool: pool}).Setup(ctx); err != nil {
		t.Fatalf("%s: %v", who, err)
	}
}

// emptyTables empties the tables of pool's schema.
func emptyTables(t testing.TB, pool *pgxpool.Pool, tables []string) {
	t.Helper()
	quoted := make([]string, len(tables))
	for i, table := range tables {
		quoted[i] = pgx.Identifier{table}.Sanitize()
	}
	if _, err := pool.Exec(context.Background(), "TRUNCATE "+strings.Join(quoted, ", ")); err != nil {
		t.Fatalf("FastRebuildEqualsReplay: empty the tables: %v", err)
	}
}

// discard returns a logger that drops everything.
func discard() *slog.Logger { return slog.New(slog.DiscardHandler) }

// logRecord is a slog handler that keeps why a rebuild fell back to
// replaying, from the runner's warning.
type logRecord struct {
	mu     sync.Mutex
	causes []string
}

func (l *logRecord) Enabled(context.Context, slog.Level) bool { return true }

func (l *logRecord) Handle(_ context.Context, r slog.Record) error {
	if r.Level < slog.LevelWarn || !strings.Contains(r.Message, "replaying them instead") {
		return nil
	}
	cause := r.Message
	r.Attrs(func(a slog.Attr) bool {
		if a.Key == "cause" {
			cause = a.Value.String()
		}
		return true
	})
	l.mu.Lock()
	defer l.mu.Unlock()
	l.causes = append(l.causes, cause)
	return nil
}

func (l *logRecord) WithAttrs([]slog.Attr) slog.Handler { return l }

func (l *logRecord) WithGroup(string) slog.Handler { return l }

// fallback returns why the rebuild replayed instead of folding, or "".
func (l *logRecord) fallback() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Join(l.causes, "; ")
}
