package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"runtime"
	"runtime/metrics"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/projgen/projgen/projection"
)

// runnerBenchEnv, set to 1, runs TestRunnerThroughput; runnerEventsEnv
// sets its number of events (default 100,000).
const (
	runnerBenchEnv  = "PROJGEN_RUNNER_BENCH"
	runnerEventsEnv = "PROJGEN_RUNNER_EVENTS"
	// runnerWaysEnv, when set, runs only the ways whose name contains
	// it, for profiling one.
	runnerWaysEnv = "PROJGEN_RUNNER_WAYS"
	// runnerRunsEnv sets how many times each way runs (default 1); its
	// median is reported.
	runnerRunsEnv = "PROJGEN_RUNNER_RUNS"
)

// installationsSQL is a read model shaped as projgen generates one: a row
// per aggregate, every statement guarded by the row's version.
const installationsSQL = `CREATE TABLE %s (
	aggregate_id uuid PRIMARY KEY,
	aggregate_version bigint NOT NULL,
	last_position bigint NOT NULL,
	account_login text,
	plan text
)`

// upsertSQL and updateSQL are the generated insert and update.
const (
	upsertSQL = `INSERT INTO %s AS t (aggregate_id, aggregate_version, last_position, account_login)
VALUES ($1, $2, $3, $4)
ON CONFLICT (aggregate_id) DO UPDATE SET aggregate_version = EXCLUDED.aggregate_version, last_position = EXCLUDED.last_position,
	account_login = EXCLUDED.account_login
WHERE t.aggregate_version < EXCLUDED.aggregate_version`
	updateSQL = `UPDATE %s SET aggregate_version = $2, last_position = $3, plan = $4
WHERE aggregate_id = $1 AND aggregate_version < $2`
)

// change is the payload of every benchmark event.
type change struct {
	Value string `json:"value"`
}

// installations is the projection into table: Created inserts, Changed
// updates.
type installations struct {
	db    projection.DBTX
	table string
}

func (p installations) Name() string   { return p.table }
func (installations) Topics() []string { return []string{"created", "changed"} }

func (p installations) Process(ctx context.Context, e projection.Event) error {
	c := e.Data.(*change)
	_, err := p.db.Exec(ctx, statement(p.table, e.Topic), e.AggregateID, e.Version, e.Position, c.Value)
	return err
}

// statement is the SQL of topic's events on table, whose name is one of
// the benchmark's own.
func statement(table, topic string) string {
	if topic == "created" {
		return fmt.Sprintf(upsertSQL, pgx.Identifier{table}.Sanitize())
	}
	return fmt.Sprintf(updateSQL, pgx.Identifier{table}.Sanitize())
}

// tables are the read models of the benchmarks: the first serves one
// projection, all four the run with four at once.
var benchTables = [4]string{"installations", "installations_2", "installations_3", "installations_4"}

// TestRunnerThroughput measures, on one store of events (n/5
// installations, each created then changed four times, in turns), how
// fast each way of applying them gets the read model to the same rows,
// and prints events/s and the ratios to the pipelined floor:
//   - one transaction per event, the seed guide's way;
//   - the runner, one statement per round trip;
//   - the runner, pipelined (Registration.Pipeline, what generated
//     registries set);
//   - the floor: the same statements, 500 per transaction, sent as one
//     pgx.Batch each, read from an in-memory slice.
//
// Every way's final table is compared with the floor's.
func TestRunnerThroughput(t *testing.T) {
	if os.Getenv(runnerBenchEnv) != "1" {
		t.Skipf("set %s=1 to measure the runner (minutes)", runnerBenchEnv)
	}
	n := 100_000
	if v := os.Getenv(runnerEventsEnv); v != "" {
		var err error
		if n, err = strconv.Atoi(v); err != nil {
			t.Fatal(err)
		}
	}
	ctx := context.Background()
	pool := benchPool(t)
	stored := appendStore(t, pool, n)
	type way struct {
		name string
		run  func() error
	}
	ways := []way{
		{"one transaction per event", func() error { return perEvent(ctx, pool, stored) }},
		{"runner", func() error { return runRunner(ctx, pool, false) }},
		{"runner, pipelined", func() error { return runRunner(ctx, pool, true) }},
		{"pgx.Batch of 500 per transaction (floor)", func() error { return batched(ctx, pool, stored) }},
		{"rebuild, replaying (Registration.Fold unset)", func() error { return rebuild(ctx, pool, false) }},
		{"rebuild, fast (fold and COPY)", func() error { return rebuild(ctx, pool, true) }},
		{"fold and COPY alone, by hand", func() error { return foldAndCopy(ctx, pool) }},
	}
	runs := 1
	if v := os.Getenv(runnerRunsEnv); v != "" {
		var err error
		if runs, err = strconv.Atoi(v); err != nil || runs < 1 {
			t.Fatalf("%s=%q: want a positive number of runs", runnerRunsEnv, v)
		}
	}
	// The ways take turns, run after run, so that a change in the
	// machine's load weighs on all of them alike.
	each := map[string][]float64{}
	heap, collections := map[string]uint64{}, map[string]uint64{}
	var floorRows string
	for range runs {
		for _, w := range slices.Backward(ways) {
			if only := os.Getenv(runnerWaysEnv); only != "" && !strings.Contains(w.name, only) {
				continue
			}
			reset(t, pool)
			peak := watchHeap()
			start := time.Now()
			if err := w.run(); err != nil {
				t.Fatalf("%s: %v", w.name, err)
			}
			elapsed := time.Since(start)
			most, gcs := peak()
			heap[w.name] = max(heap[w.name], most)
			collections[w.name] += gcs
			each[w.name] = append(each[w.name], float64(n)/elapsed.Seconds())
			rows := digest(t, pool)
			if floorRows == "" {
				floorRows = rows
			} else if rows != floorRows {
				t.Errorf("%s left other rows than the floor", w.name)
			}
		}
	}
	rates := map[string]float64{}
	for _, w := range slices.Backward(ways) {
		if len(each[w.name]) == 0 {
			continue
		}
		rates[w.name] = median(each[w.name])
		t.Logf("%-46s %9.0f events/s (median of %v), peak live heap %.1f MB above the start (%d collections)",
			w.name, rates[w.name], rounded(each[w.name]), float64(heap[w.name])/1e6, collections[w.name])
	}
	if os.Getenv(runnerWaysEnv) != "" {
		return
	}
	reset(t, pool)
	start := time.Now()
	if err := runFour(ctx, pool); err != nil {
		t.Fatalf("four projections: %v", err)
	}
	four := time.Since(start)
	t.Logf("%-42s %9.0f events/s each, %.0f in all (%s)", "runner, pipelined, 4 projections at once",
		float64(n)/four.Seconds(), 4*float64(n)/four.Seconds(), four.Round(time.Millisecond))
	floor, folded := rates[ways[3].name], rates[ways[6].name]
	for _, w := range ways {
		t.Logf("%-46s %5.2f × the floor, %5.1f × one transaction per event, %5.2f × fold and COPY alone",
			w.name, rates[w.name]/floor, rates[w.name]/rates[ways[0].name], rates[w.name]/folded)
	}
}

// watchHeap samples the live heap, as the last collection found it,
// every millisecond until the returned function is called, which returns
// the most it saw above what was live when it started: the memory that
// what runs meanwhile keeps, without what the benchmark itself holds,
// such as its copy of the stored events, and without garbage, whose
// amount follows GOGC and the benchmark's own heap.
//
// It also returns how many collections ran meanwhile: the live heap is
// known only at collections, so a peak over none says nothing.
func watchHeap() func() (peak, collections uint64) {
	sample := []metrics.Sample{{Name: "/gc/heap/live:bytes"}, {Name: "/gc/cycles/total:gc-cycles"}}
	runtime.GC()
	metrics.Read(sample)
	base, cycles := sample[0].Value.Uint64(), sample[1].Value.Uint64()
	done := make(chan struct{})
	result := make(chan [2]uint64)
	go func() {
		var peak uint64
		tick := time.NewTicker(time.Millisecond)
		defer tick.Stop()
		for {
			metrics.Read(sample)
			peak = max(peak, sample[0].Value.Uint64())
			select {
			case <-done:
				result <- [2]uint64{max(peak, base) - base, sample[1].Value.Uint64() - cycles}
				return
			case <-tick.C:
			}
		}
	}()
	return func() (uint64, uint64) {
		close(done)
		r := <-result
		return r[0], r[1]
	}
}

// median returns the median of values: the middle one, or the mean of
// the two in the middle.
func median[T float64 | int64 | time.Duration](values []T) T {
	s := slices.Sorted(slices.Values(values))
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// rounded returns rates rounded to whole events/s, for the log.
func rounded(rates []float64) []int {
	r := make([]int, len(rates))
	for i, v := range rates {
		r[i] = int(v + 0.5)
	}
	return r
}

// benchPool opens the test database on a fresh schema with the events
// table, the read model and the runner's tables.
func benchPool(t *testing.T) *pgxpool.Pool {
	t.Helper()
	url := os.Getenv("PROJGEN_TEST_DATABASE_URL")
	if url == "" {
		url = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"
	}
	ctx := context.Background()
	schema := "bench_" + strings.ReplaceAll(uuid.NewString(), "-", "")[:12]
	admin, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Skipf("no database at %s: %v", url, err)
	}
	defer admin.Close(ctx)
	if _, err := admin.Exec(ctx, "CREATE SCHEMA "+schema); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		c, err := pgx.Connect(context.Background(), url)
		if err == nil {
			c.Exec(context.Background(), "DROP SCHEMA "+schema+" CASCADE")
			c.Close(context.Background())
		}
	})
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		t.Fatal(err)
	}
	cfg.ConnConfig.RuntimeParams["search_path"] = schema
	// Four projections hold a connection each, and their reads need more.
	cfg.MaxConns = 10
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	sqls := []string{projection.EventsTableSQL, projection.RunnerTablesSQL}
	for _, table := range benchTables {
		sqls = append(sqls, fmt.Sprintf(installationsSQL, pgx.Identifier{table}.Sanitize()))
	}
	for _, sql := range sqls {
		if _, err := pool.Exec(ctx, sql); err != nil {
			t.Fatal(err)
		}
	}
	return pool
}

// appendStore appends n events and returns them as stored.
func appendStore(t *testing.T, pool *pgxpool.Pool, n int) []projection.Stored {
	t.Helper()
	ids := make([]string, n/5)
	for i := range ids {
		ids[i] = uuid.NewString()
	}
	var events []projection.Stored
	for v := int64(1); v <= 5; v++ {
		for _, id := range ids {
			topic := "changed"
			if v == 1 {
				topic = "created"
			}
			data, _ := json.Marshal(change{Value: fmt.Sprint(id[:8], "-", v)})
			events = append(events, projection.Stored{Meta: projection.Meta{AggregateID: id, Version: v, Topic: topic}, Data: data})
		}
	}
	src := projection.NewPostgresSource(pool, "events")
	for chunk := range slices.Chunk(events, 5000) {
		positions, err := src.Append(context.Background(), chunk...)
		if err != nil {
			t.Fatal(err)
		}
		for i := range chunk {
			chunk[i].Position = positions[i]
		}
	}
	// A store that has been written to for a while has its statistics:
	// gather them now rather than when autovacuum gets to it, in the
	// middle of some way.
	if _, err := pool.Exec(context.Background(), "ANALYZE events"); err != nil {
		t.Fatal(err)
	}
	return events
}

// reset empties the read model and forgets the runner's position.
func reset(t *testing.T, pool *pgxpool.Pool) {
	t.Helper()
	if _, err := pool.Exec(context.Background(), "TRUNCATE installations, installations_2, installations_3, installations_4; DELETE FROM projgen_tracking"); err != nil {
		t.Fatal(err)
	}
}

// digest is the read model's rows, ordered, as one string.
func digest(t *testing.T, pool *pgxpool.Pool) string {
	t.Helper()
	var s string
	err := pool.QueryRow(context.Background(), `SELECT md5(string_agg(concat_ws(',', aggregate_id, aggregate_version, last_position, account_login, plan), ';' ORDER BY aggregate_id)) FROM installations`).Scan(&s)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// perEvent applies each event in a transaction of its own, as the seed
// guide's projection does.
func perEvent(ctx context.Context, pool *pgxpool.Pool, stored []projection.Stored) error {
	for _, s := range stored {
		err := pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
			return apply(ctx, tx, s)
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// batched sends the statements 500 per transaction, as one pgx.Batch.
func batched(ctx context.Context, pool *pgxpool.Pool, stored []projection.Stored) error {
	for chunk := range slices.Chunk(stored, 500) {
		err := pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
			b := &pgx.Batch{}
			for _, s := range chunk {
				var c change
				if err := json.Unmarshal(s.Data, &c); err != nil {
					return err
				}
				b.Queue(statement(benchTables[0], s.Topic), s.AggregateID, s.Version, s.Position, c.Value)
			}
			return tx.SendBatch(ctx, b).Close()
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// apply applies one stored event through the projection.
func apply(ctx context.Context, db projection.DBTX, s projection.Stored) error {
	var c change
	if err := json.Unmarshal(s.Data, &c); err != nil {
		return err
	}
	return installations{db, benchTables[0]}.Process(ctx, projection.Event{Meta: s.Meta, Data: &c})
}

// benchRunner is a runner of the projections into the first n tables.
func benchRunner(pool *pgxpool.Pool, pipelined bool, n int) *projection.Runner {
	r := &projection.Runner{
		Pool:   pool,
		Source: projection.NewPostgresSource(pool, "events"),
		Types:  projection.EventTypes{"created": func() any { return new(change) }, "changed": func() any { return new(change) }},
	}
	for _, table := range benchTables[:n] {
		r.Registrations = append(r.Registrations, projection.Registration{
			Name: table, Topics: installations{}.Topics(), Tables: []string{table}, Pipeline: pipelined,
			New: func(db projection.DBTX) projection.Projection { return installations{db, table} },
		})
	}
	return r
}

// installationsFold describes installations to a fast rebuild, as
// generated code describes a generated read model: Created's upsert and
// Changed's update.
func installationsFold(table string) *projection.Fold {
	return &projection.Fold{
		Table:   table,
		Columns: []string{"aggregate_id", "aggregate_version", "last_position", "account_login", "plan"},
		Key:     []string{"aggregate_id"},
		Guard:   "aggregate_version",
		Statements: []projection.FoldStatement{
			{Method: "created", Kind: projection.FoldInsert, Columns: []string{"aggregate_id", "aggregate_version", "last_position", "account_login"}},
			{Method: "changed", Kind: projection.FoldUpdate, Columns: []string{"aggregate_id", "aggregate_version", "last_position", "plan"},
				Match: []string{"aggregate_id"}},
		},
		New: func(rows *projection.FoldRows) projection.Projection { return foldInstallations{rows, table} },
	}
}

// foldInstallations is installations folding into rows, as generated fold
// read models do.
type foldInstallations struct {
	rows  *projection.FoldRows
	table string
}

func (p foldInstallations) Name() string   { return p.table }
func (foldInstallations) Topics() []string { return installations{}.Topics() }

func (p foldInstallations) Process(_ context.Context, e projection.Event) error {
	c := e.Data.(*change)
	return p.rows.Apply(e.Meta, e.Topic, e.AggregateID, e.Version, e.Position, c.Value)
}

// rebuild rebuilds the first projection with Runner.Rebuild, folding
// with fast.
func rebuild(ctx context.Context, pool *pgxpool.Pool, fast bool) error {
	r := benchRunner(pool, true, 1)
	if fast {
		r.Registrations[0].Fold = installationsFold(benchTables[0])
	}
	return r.Rebuild(ctx, benchTables[0])
}

// foldRow is a row of installations, as foldAndCopy folds it.
type foldRow struct {
	version, position  int64
	accountLogin, plan *string
}

// foldAndCopy is the baseline of a fast rebuild written by hand for this
// one table: it reads every event in one query, decodes it, folds the
// rows in a map and copies them into the table, with none of the
// runner's bookkeeping, guards or generality.
func foldAndCopy(ctx context.Context, pool *pgxpool.Pool) error {
	rows, err := pool.Query(ctx, `SELECT position, aggregate_id, version, topic, payload FROM events ORDER BY position`)
	if err != nil {
		return err
	}
	folded := map[string]*foldRow{}
	var s projection.Stored
	_, err = pgx.ForEachRow(rows, []any{&s.Position, &s.AggregateID, &s.Version, &s.Topic, &s.Data}, func() error {
		var c change
		if err := json.Unmarshal(s.Data, &c); err != nil {
			return err
		}
		r := folded[s.AggregateID]
		switch {
		case s.Topic == "created" && r == nil:
			folded[s.AggregateID] = &foldRow{version: s.Version, position: s.Position, accountLogin: &c.Value}
		case r != nil && r.version < s.Version:
			r.version, r.position = s.Version, s.Position
			if s.Topic == "created" {
				r.accountLogin = &c.Value
			} else {
				r.plan = &c.Value
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	out := make([][]any, 0, len(folded))
	for id, r := range folded {
		out = append(out, []any{id, r.version, r.position, r.accountLogin, r.plan})
	}
	_, err = pool.CopyFrom(ctx, pgx.Identifier{benchTables[0]}, []string{"aggregate_id", "aggregate_version", "last_position", "account_login", "plan"}, pgx.CopyFromRows(out))
	return err
}

// runRunner catches the projection up with a projection.Runner.
func runRunner(ctx context.Context, pool *pgxpool.Pool, pipelined bool) error {
	return benchRunner(pool, pipelined, 1).CatchUp(ctx, benchTables[0])
}

// runFour catches four projections up at once, each on its own
// connection, as Run runs them.
func runFour(ctx context.Context, pool *pgxpool.Pool) error {
	r := benchRunner(pool, true, len(benchTables))
	errs := make(chan error, len(benchTables))
	for _, table := range benchTables {
		go func() { errs <- r.CatchUp(ctx, table) }()
	}
	var first error
	for range benchTables {
		if err := <-errs; err != nil && first == nil {
			first = err
		}
	}
	return first
}

// TestRunnerLatency measures, while a writer appends at a steady 1,000
// events/s for ten seconds, the time from an event's commit to the
// commit of the batch that applied it, as a reader polling the tracking
// row every millisecond sees it, with the runner's default poll
// settings; it prints p50, p99 and the maximum.
func TestRunnerLatency(t *testing.T) {
	if os.Getenv(runnerBenchEnv) != "1" {
		t.Skipf("set %s=1 to measure the runner", runnerBenchEnv)
	}
	const rate, duration = 1000, 10 * time.Second
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	pool := benchPool(t)
	r := benchRunner(pool, true, 1)
	if err := r.Setup(ctx); err != nil {
		t.Fatal(err)
	}
	runDone := make(chan error, 1)
	go func() { runDone <- r.Run(ctx) }()

	type appended struct {
		position  int64
		committed time.Time
	}
	written := make(chan appended, rate*int(duration/time.Second))
	go func() {
		defer close(written)
		src := projection.NewPostgresSource(pool, "events")
		start := time.Now()
		for i := 0; time.Since(start) < duration; i++ {
			if wait := time.Until(start.Add(time.Duration(i) * time.Second / rate)); wait > 0 {
				time.Sleep(wait)
			}
			data, _ := json.Marshal(change{Value: fmt.Sprint(i)})
			ps, err := src.Append(ctx, projection.Stored{Meta: projection.Meta{AggregateID: uuid.NewString(), Version: 1, Topic: "created"}, Data: data})
			if err != nil {
				t.Error(err)
				return
			}
			written <- appended{ps[0], time.Now()}
		}
	}()
	var pending []appended
	var latencies []time.Duration
	open := true
	for open || len(pending) > 0 {
		for drained := false; !drained; {
			select {
			case a, ok := <-written:
				if !ok {
					open, drained = false, true
					break
				}
				pending = append(pending, a)
			default:
				drained = true
			}
		}
		var at int64
		if err := pool.QueryRow(ctx, `SELECT coalesce(max(position), 0) FROM projgen_tracking WHERE name = $1`, benchTables[0]).Scan(&at); err != nil {
			t.Fatal(err)
		}
		now := time.Now()
		i := 0
		for i < len(pending) && pending[i].position <= at {
			latencies = append(latencies, now.Sub(pending[i].committed))
			i++
		}
		pending = pending[i:]
		time.Sleep(time.Millisecond)
	}
	cancel()
	if err := <-runDone; err != nil {
		t.Fatal(err)
	}
	slices.Sort(latencies)
	q := func(p float64) time.Duration { return latencies[int(p*float64(len(latencies)-1))] }
	t.Logf("%d events at %d/s: commit to applied p50 %s, p99 %s, max %s", len(latencies), rate,
		q(0.50).Round(100*time.Microsecond), q(0.99).Round(100*time.Microsecond), latencies[len(latencies)-1].Round(100*time.Microsecond))
}
