package projection_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/projgen/projgen/projection"
	"github.com/projgen/projgen/projection/projectiontest"
)

// defaultTestURL is the database the tests use when
// PROJGEN_TEST_DATABASE_URL is not set: the server CI and development
// machines run locally.
const defaultTestURL = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"

// readModelSQL is the read model of the test projection: counts per topic,
// which a second application of an event would change, and one row per
// applied event, keyed by position, which a second application would
// violate. xact records the transaction each event was applied in.
const readModelSQL = `
CREATE TABLE counts (topic text PRIMARY KEY, n bigint NOT NULL);
CREATE TABLE applied (
	position bigint PRIMARY KEY,
	topic text NOT NULL,
	aggregate_id text NOT NULL,
	version bigint NOT NULL,
	value text NOT NULL,
	xact xid8 NOT NULL DEFAULT pg_current_xact_id()
);
`

// TestMain points the tests at the local server when
// PROJGEN_TEST_DATABASE_URL is not set. It is set here, once, rather than
// with t.Setenv, which parallel tests may not call. It also runs the
// helper processes of the process tests.
func TestMain(m *testing.M) {
	if os.Getenv(helperEnv) == "runner" {
		os.Exit(runHelper())
	}
	if os.Getenv(projectiontest.URLEnv) == "" {
		os.Setenv(projectiontest.URLEnv, defaultTestURL)
	}
	os.Exit(m.Run())
}

// openDB returns a pool on a fresh schema holding the events table
// (created by EventsTableSQL, as a migration would) and the test read
// model.
func openDB(t *testing.T) *pgxpool.Pool {
	t.Helper()
	dir := t.TempDir()
	up := projection.EventsTableSQL + ";\n" + readModelSQL
	if err := os.WriteFile(filepath.Join(dir, "001_runner_test.up.sql"), []byte(up), 0o644); err != nil {
		t.Fatal(err)
	}
	return projectiontest.Open(t, dir)
}

// ev is a stored event to append, whose payload sets Value.
func ev(aggregate string, version int64, topic, value string) projection.Stored {
	data, err := json.Marshal(payload{Value: value})
	if err != nil {
		panic(err)
	}
	return projection.Stored{
		Meta: projection.Meta{AggregateID: aggregate, Version: version, Topic: topic},
		Data: data,
	}
}

// appendEvents appends events and returns their positions.
func appendEvents(t *testing.T, src *projection.PostgresSource, events ...projection.Stored) []int64 {
	t.Helper()
	positions, err := src.Append(context.Background(), events...)
	if err != nil {
		t.Fatalf("Append: %v", err)
	}
	return positions
}

// appendVisible appends events and waits until the source lets readers
// read them, which it does once every transaction that wrote the events
// table before them has ended.
func appendVisible(t *testing.T, src *projection.PostgresSource, events ...projection.Stored) []int64 {
	t.Helper()
	positions := appendEvents(t, src, events...)
	waitReadable(t, src, positions[len(positions)-1])
	return positions
}

// waitReadable waits until readers of the source may read up to position.
func waitReadable(t *testing.T, src projection.EventSource, position int64) {
	t.Helper()
	waitFor(t, func() (bool, string) {
		page, err := src.Read(context.Background(), position-1, nil, 1)
		if err != nil {
			t.Fatal(err)
		}
		return page.End >= position, fmt.Sprintf("readable through %d, want %d", page.End, position)
	})
}

// readAll reads every event of topics after position after that the
// source lets readers read now, page by page, and checks that the pages
// are consistent: in order, contiguous, each through no further than its
// end.
func readAll(t *testing.T, src projection.EventSource, after int64, topics []string, limit int) ([]projection.Stored, int64) {
	t.Helper()
	var all []projection.Stored
	for {
		page, err := src.Read(context.Background(), after, topics, limit)
		if err != nil {
			t.Fatalf("Read(%d, %v, %d): %v", after, topics, limit, err)
		}
		for _, e := range page.Events {
			if e.Position <= after || e.Position > page.Through {
				t.Fatalf("Read(%d): event at %d outside the page's range (%d, %d]", after, e.Position, after, page.Through)
			}
		}
		if page.Through < after || page.Through > page.End {
			t.Fatalf("Read(%d): page through %d, end %d", after, page.Through, page.End)
		}
		all = append(all, page.Events...)
		if page.Through == page.End {
			return all, page.End
		}
		after = page.Through
	}
}

// waitFor polls cond until it holds, failing the test with cond's last
// description after a deadline.
func waitFor(t *testing.T, cond func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		ok, desc := cond()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting: %s", desc)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// positionsOf returns the positions of events.
func positionsOf(events []projection.Stored) []int64 {
	ps := make([]int64, len(events))
	for i, e := range events {
		ps[i] = e.Position
	}
	return ps
}

func TestPostgresSourceAppendAndEvents(t *testing.T) {
	ctx := context.Background()
	pool := openDB(t)
	src := projection.NewPostgresSource(pool, "events")

	if b, err := src.Backlog(ctx, 0, []string{"a"}); err != nil || b.Head != 0 || b.Events != 0 || b.HeldBack != nil {
		t.Fatalf("Backlog of an empty table = %+v, %v; want nothing", b, err)
	}
	in := []projection.Stored{
		ev("agg-1", 1, "a", "one"),
		ev("agg-1", 2, "b", "two"),
		ev("agg-2", 1, "a", "three"),
		ev("agg-2", 2, "c", "four"),
	}
	before := time.Now().Add(-time.Minute)
	positions := appendVisible(t, src, in...)
	if len(positions) != len(in) {
		t.Fatalf("Append returned %d positions for %d events", len(positions), len(in))
	}
	for i := 1; i < len(positions); i++ {
		if positions[i] <= positions[i-1] {
			t.Fatalf("positions %v do not follow the order of the events", positions)
		}
	}

	all, _ := readAll(t, src, 0, []string{"a", "b", "c"}, 10)
	if len(all) != len(in) {
		t.Fatalf("Read returned %d events, want %d", len(all), len(in))
	}
	for i, got := range all {
		want := in[i]
		if got.Position != positions[i] || got.AggregateID != want.AggregateID || got.Version != want.Version || got.Topic != want.Topic {
			t.Errorf("event %d = %+v, want %+v at position %d", i, got.Meta, want.Meta, positions[i])
		}
		if got.Timestamp.Before(before) {
			t.Errorf("event %d: Timestamp %v not set by the table", i, got.Timestamp)
		}
		var p payload
		if err := json.Unmarshal(got.Data, &p); err != nil || !reflect.DeepEqual(p, mustPayload(want.Data)) {
			t.Errorf("event %d: Data %s, want %s (%v)", i, got.Data, want.Data, err)
		}
	}

	tests := []struct {
		name   string
		after  int64
		topics []string
		limit  int
		want   []int64
		// through is how far the page reaches.
		through int64
	}{
		{"topic filter", 0, []string{"a"}, 10, []int64{positions[0], positions[2]}, positions[3]},
		{"two topics", 0, []string{"c", "b"}, 10, []int64{positions[1], positions[3]}, positions[3]},
		{"after", positions[0], []string{"a"}, 10, []int64{positions[2]}, positions[3]},
		{"limit", 0, []string{"a", "b", "c"}, 2, positions[:2], positions[1]},
		{"limit reached by the last event", 0, []string{"a"}, 2, []int64{positions[0], positions[2]}, positions[2]},
		{"unknown topic", 0, []string{"zzz"}, 10, nil, positions[3]},
		{"no topics", 0, nil, 10, nil, positions[3]},
		{"after the last", positions[3], []string{"a", "b", "c"}, 10, nil, positions[3]},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			page, err := src.Read(ctx, tt.after, tt.topics, tt.limit)
			if err != nil {
				t.Fatal(err)
			}
			if ps := positionsOf(page.Events); !reflect.DeepEqual(ps, tt.want) && len(ps)+len(tt.want) > 0 {
				t.Errorf("Read(%d, %v, %d) = positions %v, want %v", tt.after, tt.topics, tt.limit, ps, tt.want)
			}
			if page.Through != tt.through || page.End != positions[3] {
				t.Errorf("Read(%d, %v, %d) through %d, end %d; want through %d, end %d", tt.after, tt.topics, tt.limit, page.Through, page.End, tt.through, positions[3])
			}
		})
	}

	if _, err := src.Read(ctx, 0, []string{"a"}, 0); err == nil {
		t.Error("Read with limit 0: no error")
	}
	b, err := src.Backlog(ctx, positions[0], []string{"a", "b"})
	if err != nil {
		t.Fatal(err)
	}
	if b.Head != positions[3] || b.Events != 2 || b.Oldest.IsZero() || b.HeldBack != nil {
		t.Errorf("Backlog after %d of a and b = %+v; want head %d, 2 events, an oldest time, nothing held back", positions[0], b, positions[3])
	}
}

func mustPayload(data []byte) payload {
	var p payload
	if err := json.Unmarshal(data, &p); err != nil {
		panic(err)
	}
	return p
}

func TestPostgresSourceAppendErrors(t *testing.T) {
	ctx := context.Background()
	pool := openDB(t)
	src := projection.NewPostgresSource(pool, "events")

	if ps, err := src.Append(ctx); err != nil || ps != nil {
		t.Errorf("Append() = %v, %v; want nothing", ps, err)
	}
	bad := projection.Stored{Meta: projection.Meta{AggregateID: "x", Version: 1, Topic: "a"}, Data: []byte("{not json")}
	if _, err := src.Append(ctx, bad); err == nil || !strings.Contains(err.Error(), "not valid JSON") {
		t.Errorf("Append of invalid JSON: err = %v, want one naming the payload", err)
	}
	appendVisible(t, src, ev("x", 1, "a", "first"))
	_, err := src.Append(ctx, ev("y", 1, "a", "ok"), ev("x", 1, "a", "again"))
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) || pgErr.Code != "23505" {
		t.Errorf("Append of a version twice: err = %v, want a unique violation", err)
	}
	// One statement: the valid event of the failed call is not stored.
	if got, _ := readAll(t, src, 0, []string{"a"}, 10); len(got) != 1 {
		t.Errorf("after a failed Append, %d events stored, want 1", len(got))
	}

	empty := projection.Stored{Meta: projection.Meta{AggregateID: "z", Version: 1, Topic: "empty"}}
	appendVisible(t, src, empty)
	got, _ := readAll(t, src, 0, []string{"empty"}, 10)
	if len(got) != 1 || string(got[0].Data) != "null" {
		t.Errorf("event appended without Data reads back as %+v; want payload null", got)
	}
}

func TestPostgresSourceQuotesTableName(t *testing.T) {
	ctx := context.Background()
	pool := openDB(t)
	ddl := strings.Replace(projection.EventsTableSQL, "IF NOT EXISTS events", `IF NOT EXISTS "Event Log"`, 1)
	if _, err := pool.Exec(ctx, ddl); err != nil {
		t.Fatal(err)
	}
	var schema string
	if err := pool.QueryRow(ctx, "SELECT current_schema()").Scan(&schema); err != nil {
		t.Fatal(err)
	}
	for _, table := range []string{"Event Log", schema + ".Event Log"} {
		src := projection.NewPostgresSource(pool, table)
		appendVisible(t, src, ev(table, 1, "a", "x"))
		got, _ := readAll(t, src, 0, []string{"a"}, 10)
		if len(got) == 0 {
			t.Errorf("table %q: appended event not read back", table)
		}
	}
	var n int
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM "Event Log"`).Scan(&n); err != nil || n != 2 {
		t.Errorf(`"Event Log" holds %d events (%v), want 2`, n, err)
	}
	// The name is an identifier, never SQL.
	src := projection.NewPostgresSource(pool, "events; DROP TABLE counts")
	if _, err := src.Read(ctx, 0, []string{"a"}, 10); err == nil || !strings.Contains(err.Error(), "does not exist") {
		t.Errorf("Read of a table that does not exist: err = %v, want one saying so", err)
	}
	if _, err := pool.Exec(ctx, "SELECT 1 FROM counts"); err != nil {
		t.Errorf("counts is gone: %v", err)
	}
}

// TestPostgresSourceDoesNotPassOpenTransactions is the gap rule: an event
// committed after one that an open transaction holds must not be read
// before it, or a reader resuming after the later position would skip the
// earlier one for good.
func TestPostgresSourceDoesNotPassOpenTransactions(t *testing.T) {
	ctx := context.Background()
	pool := openDB(t)
	src := projection.NewPostgresSource(pool, "events")
	before := appendVisible(t, src, ev("before", 1, "a", "committed before"))

	tx, err := pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(ctx) //nolint:errcheck // after Commit this is a no-op
	open := appendEvents(t, projection.NewPostgresSource(tx, "events"), ev("open", 1, "a", "in the open transaction"))
	committed := appendEvents(t, src, ev("committed", 1, "a", "committed while the other is open"))
	if committed[0] <= open[0] {
		t.Fatalf("committed event at %d does not follow the open one at %d", committed[0], open[0])
	}

	got, end := readAll(t, src, 0, []string{"a"}, 10)
	if ps := positionsOf(got); !reflect.DeepEqual(ps, before) || end != before[0] {
		t.Errorf("while a transaction holding position %d is open, Read = %v through %d, want only %v", open[0], ps, end, before)
	}
	b, err := src.Backlog(ctx, before[0], []string{"a"})
	if err != nil {
		t.Fatal(err)
	}
	if b.Head != committed[0] || b.HeldBack == nil || b.HeldBack.Through != before[0] || len(b.HeldBack.Holders) != 1 {
		t.Fatalf("while a transaction is open, Backlog = %+v; want head %d, held back at %d by one session", b, committed[0], before[0])
	}
	var pid int
	if err := tx.QueryRow(ctx, "SELECT pg_backend_pid()").Scan(&pid); err != nil {
		t.Fatal(err)
	}
	if h := b.HeldBack.Holders[0]; h.PID != pid || h.TransactionStart.IsZero() || h.State == "" {
		t.Errorf("holder = %+v, want pid %d with its transaction start and state", h, pid)
	}

	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	waitReadable(t, src, committed[0])
	got, _ = readAll(t, src, before[0], []string{"a"}, 10)
	if ps, want := positionsOf(got), []int64{open[0], committed[0]}; !reflect.DeepEqual(ps, want) {
		t.Errorf("after commit, Read = %v, want %v", ps, want)
	}
	if b, err := src.Backlog(ctx, committed[0], []string{"a"}); err != nil || b.HeldBack != nil || b.Events != 0 {
		t.Errorf("after commit, Backlog = %+v, %v; want nothing left", b, err)
	}
}

// TestPostgresSourceReadsRareTopicsWhole reads a topic that is one event
// in about a hundred, with small limits: the source reads in windows of
// positions, and must still return exactly the topic's events, in order,
// and fill every page but the last, however many windows hold no event.
func TestPostgresSourceReadsRareTopicsWhole(t *testing.T) {
	pool := openDB(t)
	src := projection.NewPostgresSource(pool, "events")
	var events []projection.Stored
	for i := range 700 {
		topic := "a"
		if i%97 == 5 || i == 699 {
			topic = "c"
		}
		events = append(events, ev(fmt.Sprint("agg-", i), 1, topic, fmt.Sprint(i)))
	}
	positions := appendVisible(t, src, events...)
	var rare, both []int64
	for i, e := range events {
		if e.Topic == "c" {
			rare = append(rare, positions[i])
		}
		both = append(both, positions[i])
	}
	for _, tt := range []struct {
		topics []string
		limit  int
		want   []int64
	}{
		{[]string{"c"}, 1, rare},
		{[]string{"c"}, 2, rare},
		{[]string{"c"}, 5, rare},
		{[]string{"c"}, 100, rare},
		{[]string{"a", "c"}, 7, both},
		{[]string{"c", "a"}, 1000, both},
	} {
		var got []int64
		after := int64(0)
		for {
			page, err := src.Read(context.Background(), after, tt.topics, tt.limit)
			if err != nil {
				t.Fatal(err)
			}
			if len(page.Events) > tt.limit {
				t.Fatalf("%v limit %d: a page of %d events", tt.topics, tt.limit, len(page.Events))
			}
			if page.Through < page.End && len(page.Events) < tt.limit {
				t.Fatalf("%v limit %d: a page of %d events through %d, short of its end %d", tt.topics, tt.limit, len(page.Events), page.Through, page.End)
			}
			got = append(got, positionsOf(page.Events)...)
			if page.Through == page.End {
				break
			}
			after = page.Through
		}
		if !slices.Equal(got, tt.want) {
			t.Errorf("%v limit %d: read %d events %v; want %d", tt.topics, tt.limit, len(got), got[:min(len(got), 8)], len(tt.want))
		}
	}
}
