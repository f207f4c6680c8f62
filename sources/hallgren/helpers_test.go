package hallgren_test

import (
	"context"
	"database/sql"
	"net/url"
	"os"
	"path/filepath"
	"testing"

	"github.com/hallgren/eventsourcing"
	"github.com/hallgren/eventsourcing/aggregate"
	essql "github.com/hallgren/eventsourcing/eventstore/sql"
	_ "github.com/mattn/go-sqlite3"

	"github.com/projgen/projgen/projection"
	"github.com/projgen/projgen/projection/projectiontest"
)

// defaultTestURL is the test database when PROJGEN_TEST_DATABASE_URL is
// unset: the local server CI runs.
const defaultTestURL = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"

func TestMain(m *testing.M) {
	aggregate.Register(&Account{})
	if os.Getenv(helperEnv) == "runner" {
		os.Exit(runHelper())
	}
	if os.Getenv(projectiontest.URLEnv) == "" {
		os.Setenv(projectiontest.URLEnv, defaultTestURL)
	}
	os.Exit(m.Run())
}

// migrations writes sql as the only up migration of a new directory.
func migrations(t testing.TB, sql string) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "001_hallgren_test.up.sql"), []byte(sql), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

// Account is a bank account written in the library's documented style:
// it embeds aggregate.Root, registers its events, changes state in
// Transition, and records events with aggregate.TrackChange.
type Account struct {
	aggregate.Root
	Owner   string
	Balance int64
	Closed  bool
}

// Opened is the first event of every account.
type Opened struct{ Owner string }

// Deposited adds money; Balance is the balance after it.
type Deposited struct{ Amount, Balance int64 }

// Withdrawn takes money out; Balance is the balance after it.
type Withdrawn struct{ Amount, Balance int64 }

// Closed closes the account.
type Closed struct{}

// Register registers the account's events with the library.
func (a *Account) Register(r aggregate.RegisterFunc) {
	r(&Opened{}, &Deposited{}, &Withdrawn{}, &Closed{})
}

// Transition applies one event to the account's state.
func (a *Account) Transition(event eventsourcing.Event) {
	switch e := event.Data().(type) {
	case *Opened:
		a.Owner = e.Owner
	case *Deposited:
		a.Balance = e.Balance
	case *Withdrawn:
		a.Balance = e.Balance
	case *Closed:
		a.Closed = true
	}
}

// open opens an account.
func open(owner string) *Account {
	a := &Account{}
	aggregate.TrackChange(a, &Opened{Owner: owner})
	return a
}

// deposit adds amount to the balance.
func (a *Account) deposit(amount int64) {
	aggregate.TrackChange(a, &Deposited{Amount: amount, Balance: a.Balance + amount})
}

// withdraw takes amount from the balance.
func (a *Account) withdraw(amount int64) {
	aggregate.TrackChange(a, &Withdrawn{Amount: amount, Balance: a.Balance - amount})
}

// close closes the account.
func (a *Account) close() { aggregate.TrackChange(a, &Closed{}) }

// topics are the reasons of the account's events.
var topics = []string{"Opened", "Deposited", "Withdrawn", "Closed"}

// eventTypes decodes the account's payloads, as a generated registry's
// EventTypes would.
func eventTypes() projection.EventTypes {
	return projection.EventTypes{
		"Opened":    func() any { return &Opened{} },
		"Deposited": func() any { return &Deposited{} },
		"Withdrawn": func() any { return &Withdrawn{} },
		"Closed":    func() any { return &Closed{} },
	}
}

// store is a library SQLite database: the file, a connection pool for
// the library's writers and the library's SQL event store on it.
type store struct {
	path string
	db   *sql.DB
	es   *essql.SQL
}

// newStore creates a library database in a new file, in the journal mode
// given (WAL, DELETE), with the library's Migrate. Its writers use
// _txlock=immediate so that concurrent Saves wait for each other.
func newStore(t testing.TB, journal string) *store {
	t.Helper()
	path := filepath.Join(t.TempDir(), "events.db")
	db := openDB(t, path, url.Values{"_journal_mode": {journal}, "_txlock": {"immediate"}})
	es := essql.Open(db)
	if err := es.Migrate(); err != nil {
		t.Fatal(err)
	}
	return &store{path: path, db: db, es: es}
}

// reader opens another pool on the store's database, for a Source.
func (s *store) reader(t testing.TB, params url.Values) *sql.DB {
	t.Helper()
	return openDB(t, s.path, params)
}

// openDB opens the SQLite database at path with the driver's params,
// closed when the test ends.
func openDB(t testing.TB, path string, params url.Values) *sql.DB {
	t.Helper()
	dsn := "file:" + path
	if len(params) > 0 {
		dsn += "?" + params.Encode()
	}
	db, err := sql.Open("sqlite3", dsn)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Ping(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// save saves a through the library's repository function.
func (s *store) save(t testing.TB, a *Account) {
	t.Helper()
	if err := aggregate.Save(s.es, a); err != nil {
		t.Fatal(err)
	}
}

// head returns the highest seq of the store.
func (s *store) head(t testing.TB) int64 {
	t.Helper()
	var head int64
	if err := s.db.QueryRow(`SELECT coalesce(max(seq), 0) FROM events`).Scan(&head); err != nil {
		t.Fatal(err)
	}
	return head
}

// ids returns the aggregate IDs of the store, in the order first saved.
func (s *store) ids(t testing.TB) []string {
	t.Helper()
	rows, err := s.db.Query(`SELECT id FROM events WHERE version = 1 ORDER BY seq`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return ids
}

// load loads an account back through the library.
func (s *store) load(t testing.TB, id string) *Account {
	t.Helper()
	a := &Account{}
	if err := aggregate.Load(context.Background(), s.es, id, a); err != nil {
		t.Fatalf("load account %s: %v", id, err)
	}
	return a
}

// readAll pages through src from after to its end, limit events a page.
func readAll(t testing.TB, src projection.EventSource, after int64, topics []string, limit int) []projection.Stored {
	t.Helper()
	var all []projection.Stored
	for {
		page, err := src.Read(context.Background(), after, topics, limit)
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, page.Events...)
		after = page.Through
		if page.Through == page.End {
			return all
		}
	}
}
