package hallgren_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"net/url"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/hallgren/eventsourcing/core"
	essql "github.com/hallgren/eventsourcing/eventstore/sql"
	_ "github.com/jackc/pgx/v5/stdlib"

	"github.com/projgen/projgen/projection"
	"github.com/projgen/projgen/projection/projectiontest"
	"github.com/projgen/projgen/sources/hallgren"
)

// TestReadMapsTheLibrarysColumns saves an account through the library and
// reads it back: seq, reason, id, version, timestamp and the JSON payload
// become the event's position, topic, aggregate, version, time and data.
func TestReadMapsTheLibrarysColumns(t *testing.T) {
	s := newStore(t, "WAL")
	before := time.Now().Truncate(time.Second)
	a := open("ada")
	a.deposit(100)
	a.withdraw(30)
	s.save(t, a)
	b := open("grace")
	s.save(t, b)
	a.close()
	s.save(t, a)

	src := hallgren.NewSource(s.reader(t, nil), "")
	page, err := src.Read(context.Background(), 0, topics, 100)
	if err != nil {
		t.Fatal(err)
	}
	if page.Through != 5 || page.End != 5 {
		t.Errorf("page through %d, end %d; want 5, 5", page.Through, page.End)
	}
	type got struct {
		Position    int64
		Topic       string
		AggregateID string
		Version     int64
		Payload     any
	}
	want := []got{
		{1, "Opened", a.ID(), 1, &Opened{Owner: "ada"}},
		{2, "Deposited", a.ID(), 2, &Deposited{Amount: 100, Balance: 100}},
		{3, "Withdrawn", a.ID(), 3, &Withdrawn{Amount: 30, Balance: 70}},
		{4, "Opened", b.ID(), 1, &Opened{Owner: "grace"}},
		{5, "Closed", a.ID(), 4, &Closed{}},
	}
	var have []got
	for _, e := range page.Events {
		payload, err := eventTypes().Decode(e.Topic, e.Data)
		if err != nil {
			t.Fatalf("decode %s at %d: %v", e.Topic, e.Position, err)
		}
		have = append(have, got{e.Position, e.Topic, e.AggregateID, e.Version, payload})
		if e.Timestamp.Before(before) || e.Timestamp.After(time.Now()) || e.Timestamp.Location() != time.UTC {
			t.Errorf("event at %d: timestamp %v, want UTC between %v and now", e.Position, e.Timestamp, before)
		}
		if !json.Valid(e.Data) {
			t.Errorf("event at %d: data %q is not JSON", e.Position, e.Data)
		}
	}
	if !reflect.DeepEqual(have, want) {
		t.Errorf("read\n%+v\nwant\n%+v", have, want)
	}
	if int64(a.GlobalVersion()) != 5 || int64(b.GlobalVersion()) != 4 {
		t.Errorf("the library's global versions are %d and %d, want the seqs 5 and 4", a.GlobalVersion(), b.GlobalVersion())
	}
}

// TestReadPages checks the page contract: limit, Through and End, topics
// filtered in the query and passed over, and reads past the head.
func TestReadPages(t *testing.T) {
	s := newStore(t, "WAL")
	for i := range 3 {
		a := open("owner")
		for j := range 3 {
			a.deposit(int64(10 * (i + j + 1)))
		}
		s.save(t, a)
	}
	// seqs 1..12: every fourth an Opened, the others Deposited.
	src := hallgren.NewSource(s.reader(t, nil), "events")
	ctx := context.Background()
	positions := func(p projection.Page) []int64 {
		var ps []int64
		for _, e := range p.Events {
			ps = append(ps, e.Position)
		}
		return ps
	}
	for _, c := range []struct {
		name         string
		after        int64
		topics       []string
		limit        int
		want         []int64
		through, end int64
	}{
		{"first page", 0, topics, 5, []int64{1, 2, 3, 4, 5}, 5, 12},
		{"last page", 10, topics, 5, []int64{11, 12}, 12, 12},
		{"a full page at the end", 7, topics, 5, []int64{8, 9, 10, 11, 12}, 12, 12},
		{"one topic", 0, []string{"Opened"}, 2, []int64{1, 5}, 5, 12},
		{"one topic to the end", 5, []string{"Opened"}, 2, []int64{9}, 12, 12},
		{"no event of the topic", 0, []string{"Closed"}, 5, nil, 12, 12},
		{"no topics", 3, nil, 5, nil, 12, 12},
		{"at the head", 12, topics, 5, nil, 12, 12},
		{"past the head", 20, topics, 5, nil, 20, 20},
	} {
		page, err := src.Read(ctx, c.after, c.topics, c.limit)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if got := positions(page); !reflect.DeepEqual(got, c.want) || page.Through != c.through || page.End != c.end {
			t.Errorf("%s: Read(%d, %v, %d) = %v through %d end %d; want %v through %d end %d",
				c.name, c.after, c.topics, c.limit, got, page.Through, page.End, c.want, c.through, c.end)
		}
	}
	if _, err := src.Read(ctx, 0, topics, 0); err == nil {
		t.Error("Read with limit 0 succeeded; want an error")
	}
	empty := hallgren.NewSource(newStore(t, "WAL").reader(t, nil), "")
	if page, err := empty.Read(ctx, 0, topics, 5); err != nil || page.Through != 0 || page.End != 0 || len(page.Events) != 0 {
		t.Errorf("Read of an empty store = %+v, %v; want an empty page through 0", page, err)
	}
}

// TestBacklog checks the head, the count of the topics' events after a
// position and the oldest of their timestamps, whatever offset the
// timestamps were written with.
func TestBacklog(t *testing.T) {
	s := newStore(t, "WAL")
	ctx := context.Background()
	src := hallgren.NewSource(s.reader(t, nil), "")
	if b, err := src.Backlog(ctx, 0, topics); err != nil || !reflect.DeepEqual(b, projection.Backlog{}) {
		t.Errorf("Backlog of an empty store = %+v, %v; want zero", b, err)
	}
	base := time.Date(2025, 3, 4, 10, 0, 0, 0, time.UTC)
	plus2 := time.FixedZone("+02", 2*3600)
	// Saved in this order, so with these seqs; the Deposited at seq 3 is
	// the earliest instant though its string sorts last.
	events := []core.Event{
		{AggregateID: "a", Version: 1, AggregateType: "Account", Reason: "Opened", Timestamp: base, Data: []byte(`{"Owner":"a"}`)},
		{AggregateID: "a", Version: 2, AggregateType: "Account", Reason: "Deposited", Timestamp: base.Add(time.Hour), Data: []byte(`{"Amount":1,"Balance":1}`)},
		{AggregateID: "a", Version: 3, AggregateType: "Account", Reason: "Deposited", Timestamp: base.Add(-time.Hour).In(plus2), Data: []byte(`{"Amount":1,"Balance":2}`)},
		{AggregateID: "a", Version: 4, AggregateType: "Account", Reason: "Closed", Timestamp: base.Add(2 * time.Hour), Data: []byte(`{}`)},
	}
	if err := s.es.Save(events); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		after  int64
		topics []string
		want   projection.Backlog
	}{
		{0, topics, projection.Backlog{Head: 4, Events: 4, Oldest: base.Add(-time.Hour)}},
		{1, []string{"Deposited"}, projection.Backlog{Head: 4, Events: 2, Oldest: base.Add(-time.Hour)}},
		{3, []string{"Deposited"}, projection.Backlog{Head: 4}},
		{2, []string{"Closed", "Opened"}, projection.Backlog{Head: 4, Events: 1, Oldest: base.Add(2 * time.Hour)}},
		{0, nil, projection.Backlog{Head: 4}},
		{4, topics, projection.Backlog{Head: 4}},
	} {
		b, err := src.Backlog(ctx, c.after, c.topics)
		if err != nil {
			t.Fatal(err)
		}
		if !b.Oldest.Equal(c.want.Oldest) || b.Head != c.want.Head || b.Events != c.want.Events || b.HeldBack != nil {
			t.Errorf("Backlog(%d, %v) = %+v; want %+v", c.after, c.topics, b, c.want)
		}
	}
	page, err := src.Read(ctx, 2, []string{"Deposited"}, 10)
	if err != nil || len(page.Events) != 1 || !page.Events[0].Timestamp.Equal(base.Add(-time.Hour)) {
		t.Errorf("Read of the event written at +02:00 = %+v, %v; want its instant %v", page.Events, err, base.Add(-time.Hour))
	}
}

// libraryTable creates a table laid out as the library's Migrate creates
// events, under another name.
func libraryTable(t *testing.T, db *sql.DB, name string) {
	t.Helper()
	if _, err := db.Exec(`CREATE TABLE ` + name + ` (seq INTEGER PRIMARY KEY AUTOINCREMENT, id VARCHAR NOT NULL, version INTEGER, reason VARCHAR, type VARCHAR, timestamp VARCHAR, data BLOB, metadata BLOB)`); err != nil {
		t.Fatal(err)
	}
}

// TestTableNamesAreQuoted reads a table whose name needs quoting, and one
// in an attached database named schema.table.
func TestTableNamesAreQuoted(t *testing.T) {
	s := newStore(t, "WAL")
	db := s.reader(t, nil)
	db.SetMaxOpenConns(1) // ATTACH is per connection
	libraryTable(t, db, `"my ""events"" table"`)
	if _, err := db.Exec(`INSERT INTO "my ""events"" table" (id, version, reason, type, timestamp, data) VALUES ('x', 1, 'Opened', 'Account', ?, '{"Owner":"q"}')`, time.Now().UTC().Format(time.RFC3339)); err != nil {
		t.Fatal(err)
	}
	other := newStore(t, "WAL")
	a := open("attached")
	other.save(t, a)
	if _, err := db.Exec(`ATTACH DATABASE ? AS store`, other.path); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ table, id string }{{`my "events" table`, "x"}, {"store.events", a.ID()}} {
		page, err := hallgren.NewSource(db, c.table).Read(context.Background(), 0, topics, 10)
		if err != nil {
			t.Errorf("read %s: %v", c.table, err)
			continue
		}
		if len(page.Events) != 1 || page.Events[0].AggregateID != c.id {
			t.Errorf("read %s: %+v; want the one event of %s", c.table, page.Events, c.id)
		}
	}
}

// TestRefusesOtherTables checks that Source names what is wrong with a
// table it cannot read gap-free: a missing one, one without the library's
// columns, one whose seq is not AUTOINCREMENT.
func TestRefusesOtherTables(t *testing.T) {
	db := openDB(t, t.TempDir()+"/other.db", nil)
	for _, stmt := range []string{
		`CREATE TABLE plain (seq INTEGER PRIMARY KEY, id VARCHAR NOT NULL, version INTEGER, reason VARCHAR, type VARCHAR, timestamp VARCHAR, data BLOB, metadata BLOB)`,
		`CREATE TABLE narrow (seq INTEGER PRIMARY KEY AUTOINCREMENT, id VARCHAR NOT NULL, version INTEGER, data BLOB)`,
	} {
		if _, err := db.Exec(stmt); err != nil {
			t.Fatal(err)
		}
	}
	for table, want := range map[string]string{
		"events": "does not exist: create it with the library's Migrate",
		"plain":  "seq must be INTEGER PRIMARY KEY AUTOINCREMENT",
		"narrow": "has no column reason, timestamp",
	} {
		src := hallgren.NewSource(db, table)
		_, err := src.Read(context.Background(), 0, topics, 10)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Read of %s: %v; want an error containing %q", table, err, want)
		}
		_, err = src.Backlog(context.Background(), 0, topics)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Backlog of %s: %v; want an error containing %q", table, err, want)
		}
	}
}

// TestReadWaitsForALockedDatabase locks a rollback-journal database with a
// writer's EXCLUSIVE lock, which keeps readers out: a reader without a
// busy timeout gets "database is locked", and Source tries again until the
// writer commits, instead of failing the projection. A reader whose
// context ends while it waits returns.
func TestReadWaitsForALockedDatabase(t *testing.T) {
	s := newStore(t, "DELETE")
	s.save(t, open("before"))
	src := hallgren.NewSource(s.reader(t, url.Values{"_busy_timeout": {"0"}}), "")
	ctx := context.Background()
	if _, err := src.Read(ctx, 0, topics, 10); err != nil { // checks the table
		t.Fatal(err)
	}

	lock := func() *sql.Conn {
		conn, err := s.db.Conn(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := conn.ExecContext(ctx, `BEGIN EXCLUSIVE`); err != nil {
			t.Fatal(err)
		}
		return conn
	}
	conn := lock()
	if _, err := conn.ExecContext(ctx, `INSERT INTO events (id, version, reason, type, timestamp, data) VALUES ('late', 1, 'Opened', 'Account', ?, '{}')`, time.Now().UTC().Format(time.RFC3339)); err != nil {
		t.Fatal(err)
	}
	done := make(chan projection.Page)
	go func() {
		page, err := src.Read(ctx, 0, topics, 10)
		if err != nil {
			t.Error(err)
		}
		done <- page
	}()
	select {
	case page := <-done:
		t.Fatalf("Read returned %+v while the database was locked", page)
	case <-time.After(100 * time.Millisecond):
	}
	if _, err := conn.ExecContext(ctx, `COMMIT`); err != nil {
		t.Fatal(err)
	}
	conn.Close()
	if page := <-done; len(page.Events) != 2 || page.Through != 2 {
		t.Errorf("Read after the commit = %+v; want both events, through 2", page)
	}

	conn = lock()
	defer func() {
		conn.ExecContext(ctx, `ROLLBACK`)
		conn.Close()
	}()
	short, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()
	if _, err := src.Backlog(short, 0, topics); !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "database is locked") {
		t.Errorf("Backlog on a locked database after its context ended: %v; want the lock and the deadline", err)
	}
}

// TestLibraryStoreCannotRunOnPostgres records why the events stay in
// SQLite: on PostgreSQL, through pgx's database/sql driver, the library's
// Migrate fails on AUTOINCREMENT, and its Save on a table laid out by hand
// fails on the ? placeholders of its version lookup (and would fail next
// on LastInsertId, which the driver does not support). lib/pq fails the
// same way.
func TestLibraryStoreCannotRunOnPostgres(t *testing.T) {
	pool := projectiontest.Open(t, migrations(t, "SELECT 1"))
	var schema string
	if err := pool.QueryRow(context.Background(), `SELECT current_schema()`).Scan(&schema); err != nil {
		t.Fatal(err)
	}
	u, err := url.Parse(os.Getenv(projectiontest.URLEnv))
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	db, err := sql.Open("pgx", u.String())
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	es := essql.Open(db)
	if err := es.Migrate(); err == nil || !strings.Contains(err.Error(), "AUTOINCREMENT") {
		t.Errorf("Migrate on PostgreSQL: %v; want a syntax error at AUTOINCREMENT", err)
	}
	if _, err := db.Exec(`CREATE TABLE events (seq bigserial PRIMARY KEY, id varchar NOT NULL, version integer, reason varchar, type varchar, timestamp varchar, data bytea, metadata bytea)`); err != nil {
		t.Fatal(err)
	}
	err = es.Save([]core.Event{{AggregateID: "a", Version: 1, AggregateType: "Account", Reason: "Opened", Timestamp: time.Now(), Data: []byte(`{}`)}})
	if err == nil || !strings.Contains(err.Error(), "42601") {
		t.Errorf("Save on PostgreSQL: %v; want a syntax error (42601)", err)
	}
	res, err := db.Exec(`INSERT INTO events (id, version, reason, type, timestamp, data, metadata) VALUES ($1, $2, $3, $4, $5, $6, $7)`, "a", 1, "Opened", "Account", "", []byte(`{}`), []byte(`{}`))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := res.LastInsertId(); err == nil {
		t.Error("LastInsertId on PostgreSQL succeeded; want the driver to refuse it")
	}
}
