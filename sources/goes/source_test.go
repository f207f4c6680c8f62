package goes_test

import (
	"context"
	"encoding/json"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/projgen/projgen/projection"
	goes "github.com/projgen/projgen/sources/goes"
)

// install runs Install on pool's schema and fails the test on an error.
func install(t *testing.T, db goes.Beginner, opts ...goes.Option) {
	t.Helper()
	if err := goes.Install(context.Background(), db, opts...); err != nil {
		t.Fatal(err)
	}
}

// readAll reads every event of topics after after, a page of limit at a
// time, until the source has caught up.
func readAll(t *testing.T, s projection.EventSource, after int64, topics []string, limit int) ([]projection.Stored, int64) {
	t.Helper()
	var all []projection.Stored
	for {
		page, err := s.Read(context.Background(), after, topics, limit)
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, page.Events...)
		after = page.Through
		if page.Through == page.End {
			return all, after
		}
	}
}

// jsonEqual reports whether a and b are the same JSON value.
func jsonEqual(t *testing.T, a, b []byte) bool {
	t.Helper()
	var x, y any
	if err := json.Unmarshal(a, &x); err != nil {
		t.Fatalf("%s: %v", a, err)
	}
	if err := json.Unmarshal(b, &y); err != nil {
		t.Fatalf("%s: %v", b, err)
	}
	return reflect.DeepEqual(x, y)
}

// TestReadMapsGoesColumns writes the example row of STORED.md and an
// event without an aggregate as goes does, and reads them back: topic,
// aggregate, version, the Unix-nanosecond time and the JSON data, only of
// the topics asked for.
func TestReadMapsGoesColumns(t *testing.T) {
	ctx := context.Background()
	pool := openDB(t)
	install(t, pool)
	note := "leave at the door"
	first := goesEvent{
		ID: uuid.MustParse("7d1c2a4e-3b8f-4f0a-9e51-2c6d8b0f4a13"), Name: placed, Time: time.Unix(0, 1740830400000000123),
		AggregateID: uuid.MustParse("5f0c9b2e-8a41-4c7d-b3e6-0d9a7f12c845"), AggregateName: aggregateName, AggregateVersion: 1,
		Data: map[string]any{"customerId": "c2b7e0d4-1f3a-4e89-a6c5-7b9d2e4f1a60", "items": []lineItem{{SKU: "mug", Quantity: 2, Price: 1500}}, "note": note},
	}
	second := goesEvent{ID: uuid.New(), Name: tagged, Time: time.Unix(0, 1740830400000000999), AggregateID: first.AggregateID, AggregateName: aggregateName, AggregateVersion: 2, Data: []string{"gift", "rush"}}
	loose := goesEvent{ID: uuid.New(), Name: "system.health_checked", Time: time.Unix(0, 5), Data: struct{}{}}
	if err := goesInsert(ctx, pool, first, second, loose); err != nil {
		t.Fatal(err)
	}
	s := goes.NewSource(pool)
	got, through := readAll(t, s, 0, allTopics, 10)
	if len(got) != 2 || through != 3 {
		t.Fatalf("read %+v through %d, want the two order events through 3", got, through)
	}
	for i, want := range []goesEvent{first, second} {
		e := got[i]
		if e.Position != int64(i+1) || e.Topic != want.Name || e.AggregateID != want.AggregateID.String() || e.Version != int64(want.AggregateVersion) || !e.Timestamp.Equal(want.Time) {
			t.Errorf("event %d: %+v, want position %d of %+v", i, e.Meta, i+1, want)
		}
		data, _ := json.Marshal(want.Data)
		if !jsonEqual(t, e.Data, data) {
			t.Errorf("event %d: data %s, want %s", i, e.Data, data)
		}
	}
	if got[0].Timestamp.UnixNano() != 1740830400000000123 {
		t.Errorf("timestamp %d ns, want goes' time column exactly", got[0].Timestamp.UnixNano())
	}

	// Without an aggregate, the ID is empty and the version 0.
	none, _ := readAll(t, s, 0, []string{"system.health_checked"}, 10)
	if len(none) != 1 || none[0].AggregateID != "" || none[0].Version != 0 || none[0].Position != 3 || string(none[0].Data) != "{}" {
		t.Errorf("event without an aggregate: %+v", none)
	}
	// No topics, or topics nobody writes: nothing, but the page reaches
	// the end, so the runner moves past.
	for _, topics := range [][]string{nil, {"nobody.writes.this"}} {
		page, err := s.Read(ctx, 0, topics, 10)
		if err != nil || len(page.Events) != 0 || page.Through != 3 || page.End != 3 {
			t.Errorf("Read(%q) = %+v, %v; want no events through 3", topics, page, err)
		}
	}
	// A page of limit events ends at its last one.
	page, err := s.Read(ctx, 0, allTopics, 1)
	if err != nil || len(page.Events) != 1 || page.Through != 1 || page.End != 3 {
		t.Errorf("Read(limit 1) = %+v, %v; want one event through 1 of 3", page, err)
	}
	if _, err := s.Read(ctx, 0, allTopics, 0); err == nil {
		t.Error("Read with limit 0: no error")
	}
	b, err := s.Backlog(ctx, 0, allTopics)
	if err != nil || b.Head != 3 || b.Events != 2 || !b.Oldest.Equal(first.Time) || b.HeldBack != nil {
		t.Errorf("Backlog = %+v, %v; want head 3, 2 events, oldest at the first's time", b, err)
	}
}

// TestInstallBackfillsInTimeOrder writes events before Install, their
// ids and times out of order and one pair with equal times, from a
// writer whose clock lags: Install numbers them by (time, id), and events
// inserted afterwards follow, whatever their time says.
func TestInstallBackfillsInTimeOrder(t *testing.T) {
	ctx := context.Background()
	pool := openDB(t)
	agg := uuid.New()
	ids := []uuid.UUID{
		uuid.MustParse("00000000-0000-0000-0000-000000000003"),
		uuid.MustParse("00000000-0000-0000-0000-000000000001"),
		uuid.MustParse("00000000-0000-0000-0000-000000000004"),
		uuid.MustParse("00000000-0000-0000-0000-000000000002"),
	}
	times := []int64{30, 20, 10, 20}
	for i, id := range ids {
		e := goesEvent{ID: id, Name: paid, Time: time.Unix(0, times[i]), AggregateID: agg, AggregateName: aggregateName, AggregateVersion: i + 1, Data: i}
		if err := goesInsert(ctx, pool, e); err != nil {
			t.Fatal(err)
		}
	}
	install(t, pool)
	late := goesEvent{ID: uuid.New(), Name: paid, Time: time.Unix(0, 1), AggregateID: agg, AggregateName: aggregateName, AggregateVersion: 5, Data: 4}
	if err := goesInsert(ctx, pool, late); err != nil {
		t.Fatal(err)
	}
	got, _ := readAll(t, goes.NewSource(pool), 0, allTopics, 100)
	var versions []int64
	for _, e := range got {
		versions = append(versions, e.Version)
	}
	// (10, …4) is version 3; (20, …1) version 2; (20, …2) version 4;
	// (30, …3) version 1; then the event inserted after Install.
	if want := []int64{3, 2, 4, 1, 5}; !slices.Equal(versions, want) {
		t.Errorf("versions in position order %v, want %v", versions, want)
	}
}

// TestInstallWaitsForWriters starts Install while a goes transaction that
// inserted events is open: Install waits for it, and the events it
// commits are in the log, as is every event inserted after Install.
func TestInstallWaitsForWriters(t *testing.T) {
	ctx := context.Background()
	pool := openDB(t)
	o := newOrder(0)
	tx, err := pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(ctx)
	open := []goesEvent{o.next(), o.next()}
	if err := insertGoes(ctx, tx, open...); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- goes.Install(ctx, pool) }()
	select {
	case err := <-done:
		t.Fatalf("Install returned %v while a writer was open", err)
	case <-time.After(200 * time.Millisecond):
	}
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	after := o.next()
	if err := goesInsert(ctx, pool, after); err != nil {
		t.Fatal(err)
	}
	got, _ := readAll(t, goes.NewSource(pool), 0, allTopics, 100)
	if len(got) != 3 || got[0].Version != 1 || got[1].Version != 2 || got[2].Version != 3 {
		t.Errorf("read %+v, want versions 1, 2, 3", got)
	}
}

// TestInstallRepairs checks that Install can run again: it changes no
// position; with the trigger dropped, reads fail and say to run Install;
// run again, Install appends the events inserted meanwhile.
func TestInstallRepairs(t *testing.T) {
	ctx := context.Background()
	pool := openDB(t)
	o := newOrder(0)
	if err := goesInsert(ctx, pool, o.next(), o.next()); err != nil {
		t.Fatal(err)
	}
	install(t, pool)
	install(t, pool)
	if head := logHead(t, pool); head != 2 {
		t.Fatalf("log head %d after two Installs, want 2", head)
	}
	if _, err := pool.Exec(ctx, `DROP TRIGGER projgen_goes_log_append ON events`); err != nil {
		t.Fatal(err)
	}
	missed := o.next()
	if err := goesInsert(ctx, pool, missed); err != nil {
		t.Fatal(err)
	}
	if _, err := goes.NewSource(pool).Read(ctx, 0, allTopics, 10); err == nil || !strings.Contains(err.Error(), "goes.Install") {
		t.Errorf("Read without the trigger: %v, want an error that says to run goes.Install", err)
	}
	install(t, pool)
	got, _ := readAll(t, goes.NewSource(pool), 0, allTopics, 10)
	if len(got) != 3 || got[2].Version != 3 || got[2].Position != 3 {
		t.Errorf("after a second Install read %+v, want the missed event at position 3", got)
	}

	// Disabled, the trigger is reported too.
	if _, err := pool.Exec(ctx, `ALTER TABLE events DISABLE TRIGGER projgen_goes_log_append`); err != nil {
		t.Fatal(err)
	}
	if _, err := goes.NewSource(pool).Read(ctx, 0, allTopics, 10); err == nil || !strings.Contains(err.Error(), "disabled") {
		t.Errorf("Read with the trigger disabled: %v", err)
	}
}

// TestNotInstalled reads a goes table without Install, and a missing one.
func TestNotInstalled(t *testing.T) {
	ctx := context.Background()
	pool := openDB(t)
	if _, err := goes.NewSource(pool).Read(ctx, 0, allTopics, 10); err == nil || !strings.Contains(err.Error(), "run goes.Install") {
		t.Errorf("Read before Install: %v", err)
	}
	if _, err := goes.NewSource(pool, goes.Table("nothing")).Backlog(ctx, 0, allTopics); err == nil || !strings.Contains(err.Error(), "does not exist") {
		t.Errorf("Backlog of a missing table: %v", err)
	}
	if _, err := pool.Exec(ctx, `CREATE TABLE not_goes (id uuid PRIMARY KEY, name text, time timestamptz)`); err != nil {
		t.Fatal(err)
	}
	if err := goes.Install(ctx, pool, goes.Table("not_goes")); err == nil || !strings.Contains(err.Error(), "not a goes events table") {
		t.Errorf("Install on another table: %v", err)
	}
}

// TestDeletedAndReinsertedEvents deletes events as goes' repositories do:
// a deleted event is not read; one inserted again with its id gets a new
// position, and goes' insert does not fail on the log.
func TestDeletedAndReinsertedEvents(t *testing.T) {
	ctx := context.Background()
	pool := openDB(t)
	install(t, pool)
	o := newOrder(0)
	events := []goesEvent{o.next(), o.next(), o.next()}
	if err := goesInsert(ctx, pool, events...); err != nil {
		t.Fatal(err)
	}
	if _, err := pool.Exec(ctx, `DELETE FROM events WHERE id = $1`, events[1].ID); err != nil {
		t.Fatal(err)
	}
	got, _ := readAll(t, goes.NewSource(pool), 0, allTopics, 10)
	if len(got) != 2 || got[0].Version != 1 || got[1].Version != 3 {
		t.Fatalf("after the delete read %+v, want versions 1 and 3", got)
	}
	if err := goesInsert(ctx, pool, events[1]); err != nil {
		t.Fatalf("insert the deleted event again: %v", err)
	}
	again, _ := readAll(t, goes.NewSource(pool), got[1].Position, allTopics, 10)
	if len(again) != 1 || again[0].Version != 2 || again[0].Position <= got[1].Position {
		t.Errorf("after inserting it again read %+v, want version 2 after position %d", again, got[1].Position)
	}
}

// TestOtherNamesAndRoles installs on a table and log with names that need
// quoting, in a schema named explicitly, and has a role that may insert
// into goes' table and nothing else write events: the trigger needs no
// privilege of the writer, and COPY is logged too.
func TestOtherNamesAndRoles(t *testing.T) {
	ctx := context.Background()
	pool := openDB(t)
	schema := schemaOf(t, pool)
	table := pgx.Identifier{schema, "Goes Events"}.Sanitize()
	if _, err := pool.Exec(ctx, `CREATE TABLE `+table+` (LIKE events INCLUDING ALL)`); err != nil {
		t.Fatal(err)
	}
	opts := []goes.Option{goes.Table(schema + ".Goes Events"), goes.Log(`Order "Log"`)}
	install(t, pool, opts...)
	role := "projgen_goes_writer_" + strings.ReplaceAll(uuid.NewString(), "-", "")[:8]
	q := pgx.Identifier{role}.Sanitize()
	for _, sql := range []string{
		`CREATE ROLE ` + q + ` NOLOGIN`,
		`GRANT USAGE ON SCHEMA ` + pgx.Identifier{schema}.Sanitize() + ` TO ` + q,
		`GRANT INSERT, SELECT ON ` + table + ` TO ` + q,
	} {
		if _, err := pool.Exec(ctx, sql); err != nil {
			t.Fatal(err)
		}
	}
	t.Cleanup(func() {
		_, _ = pool.Exec(context.Background(), `DROP OWNED BY `+q)
		_, _ = pool.Exec(context.Background(), `DROP ROLE `+q)
	})
	o := newOrder(0)
	first, second, third := o.next(), o.next(), o.next()
	err := pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SET LOCAL ROLE `+q); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, strings.Replace(goesInsertSQL, "events", table, 1), goesArgs(first)...); err != nil {
			return err
		}
		rows := [][]any{goesArgs(second), goesArgs(third)}
		// COPY's binary format wants the version as an integer.
		rows[0][5], rows[1][5] = second.AggregateVersion, third.AggregateVersion
		_, err := tx.CopyFrom(ctx, pgx.Identifier{schema, "Goes Events"}, []string{"id", "name", "time", "aggregate_id", "aggregate_name", "aggregate_version", "data"}, pgx.CopyFromRows(rows))
		return err
	})
	if err != nil {
		t.Fatalf("write as a role with INSERT on goes' table only: %v", err)
	}
	got, _ := readAll(t, goes.NewSource(pool, opts...), 0, allTopics, 10)
	if len(got) != 3 || got[0].Version != 1 || got[2].Version != 3 {
		t.Errorf("read %+v, want three events", got)
	}
	if err := goes.Uninstall(ctx, pool, opts...); err != nil {
		t.Fatal(err)
	}
	if _, err := goes.NewSource(pool, opts...).Read(ctx, 0, allTopics, 10); err == nil {
		t.Error("Read after Uninstall: no error")
	}
	if err := pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, strings.Replace(goesInsertSQL, "events", table, 1), goesArgs(o.next())...)
		return err
	}); err != nil {
		t.Errorf("goes' insert after Uninstall: %v", err)
	}
}

// TestLateCommitHoldsReaders keeps a goes transaction open after it drew
// the first position while another commits the second: readers stay at 0,
// Backlog names the open transaction's session, and once it commits both
// events are read in position order, although the late one's time is
// the earlier.
func TestLateCommitHoldsReaders(t *testing.T) {
	ctx := context.Background()
	pool := openDB(t)
	install(t, pool)
	writers := widePool(t, pool, 2)
	s := goes.NewSource(pool)
	lateOrder, otherOrder := newOrder(0), newOrder(0)

	late, err := writers.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer late.Rollback(ctx)
	var latePID int
	if err := late.QueryRow(ctx, "SELECT pg_backend_pid()").Scan(&latePID); err != nil {
		t.Fatal(err)
	}
	lateEvent := lateOrder.next()
	if err := insertGoes(ctx, late, lateEvent); err != nil {
		t.Fatal(err)
	}
	other := otherOrder.next()
	if err := goesInsert(ctx, writers, other); err != nil {
		t.Fatal(err)
	}
	page, err := s.Read(ctx, 0, allTopics, 10)
	if err != nil || len(page.Events) != 0 || page.Through != 0 {
		t.Fatalf("with the late writer open: %+v, %v; want nothing read", page, err)
	}
	b, err := s.Backlog(ctx, 0, allTopics)
	if err != nil {
		t.Fatal(err)
	}
	if b.Head != 2 || b.Events != 1 || b.HeldBack == nil || b.HeldBack.Through != 0 || len(b.HeldBack.Holders) != 1 || b.HeldBack.Holders[0].PID != latePID {
		t.Fatalf("Backlog = %+v (held back %+v), want the committed event held back by pid %d", b, b.HeldBack, latePID)
	}
	if err := late.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	got, _ := readAll(t, s, 0, allTopics, 10)
	if len(got) != 2 || got[0].AggregateID != lateEvent.AggregateID.String() || got[1].AggregateID != other.AggregateID.String() {
		t.Errorf("after the late commit read %+v, want the late event at 1, the other at 2", got)
	}
	if !lateEvent.Time.Before(other.Time) {
		t.Errorf("the late event's time %v is not before the other's %v", lateEvent.Time, other.Time)
	}
	if b, err := s.Backlog(ctx, 2, allTopics); err != nil || b.HeldBack != nil || b.Events != 0 {
		t.Errorf("Backlog after catching up = %+v, %v", b, err)
	}
}
