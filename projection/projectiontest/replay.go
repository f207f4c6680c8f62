package projectiontest

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/projgen/projgen/projection"
)

// ReplaySeedEnv names the environment variable that, set to an unsigned
// decimal integer, seeds the random choices of ReplaySafe, so that a
// failure it reports can be reproduced.
const ReplaySeedEnv = "PROJGEN_REPLAY_SEED"

// ReplayTrialsEnv names the environment variable that, set to a
// non-negative integer, sets how many trials ReplaySafe runs instead of
// DefaultReplayTrials.
const ReplayTrialsEnv = "PROJGEN_REPLAY_TRIALS"

// DefaultReplayTrials is how many trials ReplaySafe runs when
// PROJGEN_REPLAY_TRIALS is unset.
const DefaultReplayTrials = 20

// ReplaySafe checks that a projection's read model is replay-safe: that
// once the events have been applied, applying any of them again, alone or
// among others, in any order, leaves the tables as they were.
//
// It applies events once, in order, each in a transaction of its own on a
// projection that newProjection builds over that transaction, and fails
// the test at once (Fatal) if one returns an error. It then reads the rows
// of the tables as the reference, and runs trials: the first re-applies
// the whole sequence in order, so that every event is replayed whatever
// the seed; each of the others re-applies, in turn, a random prefix, a
// single random event, a random draw of events with at least one repeated,
// or a random subset in random order. Every re-application again runs in
// a transaction of its own, and the tables are read after each one, so
// that a change is caught at the event that makes it even when a later
// one would undo it. When one returns an error or changes a table,
// ReplaySafe reports it with Errorf and returns without running the rest:
// the message names the seed (and how to rerun with it), the trial and the
// events it re-applies, the event at fault, and, for a change, shows a
// list of the rows gone and the rows added in each table that changed, as
// JSON.
//
// tables name the tables to compare, as "table" or "schema.table"; each
// part is quoted, so names are case-sensitive and cannot themselves
// contain a dot. With none, every table in the current schema (the one
// Open created) is compared.
//
// The random choices come from a seed taken from PROJGEN_REPLAY_SEED, or
// from the clock when it is unset; PROJGEN_REPLAY_TRIALS overrides the
// number of trials, DefaultReplayTrials. The first trial re-applies
// len(events) events, the others at most len(events)+1 and about half as
// many on average; each re-application costs a transaction and one query
// that reads all the tables.
func ReplaySafe(t testing.TB, pool *pgxpool.Pool, newProjection func(projection.DBTX) projection.Projection, events []projection.Event, tables ...string) {
	t.Helper()
	if len(events) == 0 {
		t.Fatal("ReplaySafe: no events")
	}
	seed, trials := replaySettings(t)
	ctx := context.Background()
	apply := func(e projection.Event) error {
		return pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
			return newProjection(tx).Process(ctx, e)
		})
	}

	for i, e := range events {
		if err := apply(e); err != nil {
			t.Fatalf("ReplaySafe: applying %s the first time: %v", describeEvent(events, i), err)
		}
	}
	if len(tables) == 0 {
		tables = schemaTables(t, pool)
	}
	snapshot := snapshotQuery(tables)
	want := readSnapshot(t, pool, snapshot, tables)

	rng := rand.New(rand.NewPCG(seed, 0))
	for trial := range trials {
		kind, seq := replayTrial(rng, trial, len(events))
		where := func(k int) string {
			return fmt.Sprintf("seed %d (rerun with %s=%d); trial %d of %d re-applies %s, events %v in that order, "+
				"after all the events were applied once; this was re-application %d of %d",
				seed, ReplaySeedEnv, seed, trial+1, trials, kind, seq, k+1, len(seq))
		}
		for k, i := range seq {
			if err := apply(events[i]); err != nil {
				t.Errorf("ReplaySafe: re-applying %s failed: %v\n%s", describeEvent(events, i), err, where(k))
				return
			}
			got := readSnapshot(t, pool, snapshot, tables)
			if diff := snapshotDiff(tables, want, got, "after the events", fmt.Sprintf("after re-applying events[%d]", i)); diff != "" {
				t.Errorf("ReplaySafe: re-applying %s changed the tables\n%s\n%s", describeEvent(events, i), where(k), diff)
				return
			}
		}
	}
}

// replaySettings returns the seed and the number of trials, from the
// environment or their defaults.
func replaySettings(t testing.TB) (seed uint64, trials int) {
	t.Helper()
	seed = uint64(time.Now().UnixNano())
	if s := os.Getenv(ReplaySeedEnv); s != "" {
		var err error
		if seed, err = strconv.ParseUint(s, 10, 64); err != nil {
			t.Fatalf("ReplaySafe: %s=%q: want an unsigned decimal integer", ReplaySeedEnv, s)
		}
	}
	trials = DefaultReplayTrials
	if s := os.Getenv(ReplayTrialsEnv); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 0 {
			t.Fatalf("ReplaySafe: %s=%q: want a non-negative integer", ReplayTrialsEnv, s)
		}
		trials = n
	}
	return seed, trials
}

// replayTrial returns what trial number trial re-applies of n events:
// a description of the kind of trial and the indexes of the events, in
// the order to re-apply them.
func replayTrial(rng *rand.Rand, trial, n int) (kind string, seq []int) {
	if trial == 0 {
		return "the whole sequence", prefix(n)
	}
	switch trial % 4 {
	case 1:
		return "a prefix", prefix(1 + rng.IntN(n))
	case 2:
		return "a single event", []int{rng.IntN(n)}
	case 3:
		// Draw with replacement, then repeat one of the draws, so that
		// at least one event is re-applied twice.
		seq = make([]int, 1+rng.IntN(n))
		for k := range seq {
			seq[k] = rng.IntN(n)
		}
		seq = append(seq, seq[rng.IntN(len(seq))])
		rng.Shuffle(len(seq), func(a, b int) { seq[a], seq[b] = seq[b], seq[a] })
		return "events drawn with repeats", seq
	default:
		return "a shuffled subset", rng.Perm(n)[:1+rng.IntN(n)]
	}
}

// prefix returns the indexes 0 to n-1.
func prefix(n int) []int {
	seq := make([]int, n)
	for i := range seq {
		seq[i] = i
	}
	return seq
}

// describeEvent names events[i] by its index and metadata.
func describeEvent(events []projection.Event, i int) string {
	m := events[i].Meta
	return fmt.Sprintf("events[%d] (position %d, topic %q, aggregate %s, version %d)",
		i, m.Position, m.Topic, m.AggregateID, m.Version)
}

// tableIdentifier quotes a table name given as "table" or "schema.table".
func tableIdentifier(table string) string {
	return pgx.Identifier(strings.Split(table, ".")).Sanitize()
}

// schemaTables returns the tables of the current schema, for ReplaySafe
// called without table names.
func schemaTables(t testing.TB, db projection.DBTX) []string {
	t.Helper()
	rows, err := db.Query(context.Background(),
		`SELECT tablename FROM pg_tables WHERE schemaname = current_schema() ORDER BY tablename COLLATE "C"`)
	if err != nil {
		t.Fatalf("ReplaySafe: list the tables of the current schema: %v", err)
	}
	tables, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatalf("ReplaySafe: list the tables of the current schema: %v", err)
	}
	if len(tables) == 0 {
		t.Fatal("ReplaySafe: no tables named and none in the current schema")
	}
	return tables
}

// snapshotQuery returns one query that reads every row of the tables as
// JSON text, tagged with the table's index, in an order that depends only
// on the rows' content.
func snapshotQuery(tables []string) string {
	parts := make([]string, len(tables))
	for i, table := range tables {
		parts[i] = fmt.Sprintf(`SELECT %d AS i, to_jsonb(t)::text COLLATE "C" AS row FROM %s t`, i, tableIdentifier(table))
	}
	return strings.Join(parts, " UNION ALL ") + " ORDER BY 1, 2"
}

// readSnapshot runs the snapshot query and returns the rows of each table,
// as JSON text, by index in tables.
func readSnapshot(t testing.TB, db projection.DBTX, query string, tables []string) [][]string {
	t.Helper()
	fail := func(err error) {
		t.Helper()
		t.Fatalf("read the rows of %s: %v", strings.Join(tables, ", "), err)
	}
	rows, err := db.Query(context.Background(), query)
	if err != nil {
		fail(err)
	}
	snap := make([][]string, len(tables))
	var i int
	var row string
	_, err = pgx.ForEachRow(rows, []any{&i, &row}, func() error {
		snap[i] = append(snap[i], row)
		return nil
	})
	if err != nil {
		fail(err)
	}
	return snap
}

// snapshotDiff returns, for each table that differs between want and
// got, the rows that are gone (-) and the rows that are new (+), or "" if
// no table differs. Rows are a multiset, not a sequence, so this is their
// difference rather than a line diff, which would also show rows that
// merely moved; it keeps generated tests free of a diff library.
func snapshotDiff(tables []string, want, got [][]string, wantName, gotName string) string {
	var b strings.Builder
	for i, table := range tables {
		gone, added := rowDifference(want[i], got[i])
		if len(gone)+len(added) == 0 {
			continue
		}
		fmt.Fprintf(&b, "--- %s, %s\n+++ %s, %s\n", table, wantName, table, gotName)
		for _, r := range gone {
			b.WriteString("-" + r + "\n")
		}
		for _, r := range added {
			b.WriteString("+" + r + "\n")
		}
	}
	return b.String()
}

// rowDifference returns the rows of want missing from got, and the rows of
// got missing from want, counting repeated rows, in the order given.
func rowDifference(want, got []string) (gone, added []string) {
	count := make(map[string]int, len(want))
	for _, r := range want {
		count[r]++
	}
	for _, r := range got {
		if count[r] > 0 {
			count[r]--
			continue
		}
		added = append(added, r)
	}
	for _, r := range want {
		if count[r] > 0 {
			count[r]--
			gone = append(gone, r)
		}
	}
	return gone, added
}
