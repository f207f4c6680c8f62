package hallgren_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/projgen/projgen/projection"
	"github.com/projgen/projgen/projection/projectiontest"
	"github.com/projgen/projgen/sources/hallgren"
)

// readModelSQL is the migration of the test read model: accounts, kept as
// generated read models keep rows, every write guarded by the row's
// version, and applied, a count per account that every call of Process
// raises unguarded, so that an event applied twice shows. The runner's
// tables come with it.
const readModelSQL = `CREATE TABLE accounts (
	id text PRIMARY KEY,
	owner text NOT NULL DEFAULT '',
	balance bigint NOT NULL DEFAULT 0,
	closed boolean NOT NULL DEFAULT false,
	version bigint NOT NULL,
	applied bigint NOT NULL DEFAULT 0
);
` + projection.RunnerTablesSQL

// accounts is the hand-written projection of the test: what projgen
// generates for the account aggregate, folded into one type. delay is
// slept per event, to catch a runner mid-batch.
type accounts struct {
	db    projection.DBTX
	delay time.Duration
	// seen, when set, is told the position of every event processed,
	// before its batch commits.
	seen func(position int64)
}

func (p *accounts) Name() string     { return "accounts" }
func (p *accounts) Topics() []string { return topics }

// Process upserts the event's columns, only over an older version of the
// row, then counts the call.
func (p *accounts) Process(ctx context.Context, e projection.Event) error {
	if p.delay > 0 {
		time.Sleep(p.delay)
	}
	if p.seen != nil {
		p.seen(e.Position)
	}
	const guard = ` ON CONFLICT (id) DO UPDATE SET %s, version = excluded.version WHERE accounts.version < excluded.version`
	var err error
	switch d := e.Data.(type) {
	case *Opened:
		_, err = p.db.Exec(ctx, `INSERT INTO accounts (id, owner, version) VALUES ($1, $2, $3)`+fmt.Sprintf(guard, "owner = excluded.owner"), e.AggregateID, d.Owner, e.Version)
	case *Deposited:
		_, err = p.db.Exec(ctx, `INSERT INTO accounts (id, balance, version) VALUES ($1, $2, $3)`+fmt.Sprintf(guard, "balance = excluded.balance"), e.AggregateID, d.Balance, e.Version)
	case *Withdrawn:
		_, err = p.db.Exec(ctx, `INSERT INTO accounts (id, balance, version) VALUES ($1, $2, $3)`+fmt.Sprintf(guard, "balance = excluded.balance"), e.AggregateID, d.Balance, e.Version)
	case *Closed:
		_, err = p.db.Exec(ctx, `INSERT INTO accounts (id, closed, version) VALUES ($1, true, $2)`+fmt.Sprintf(guard, "closed = excluded.closed"), e.AggregateID, e.Version)
	default:
		return nil
	}
	if err != nil {
		return &projection.EventError{Meta: e.Meta, Err: err}
	}
	_, err = p.db.Exec(ctx, `UPDATE accounts SET applied = applied + 1 WHERE id = $1`, e.AggregateID)
	return err
}

// registration registers the projection, slept delay per event.
func registration(delay time.Duration, seen func(int64)) projection.Registration {
	return projection.Registration{
		Name:   "accounts",
		Topics: topics,
		Tables: []string{"accounts"},
		New: func(db projection.DBTX) projection.Projection {
			return &accounts{db: db, delay: delay, seen: seen}
		},
	}
}

// row is an accounts row.
type row struct {
	Owner            string
	Balance          int64
	Closed           bool
	Version, Applied int64
}

// checkRows checks that the read model holds one row per aggregate of the
// store, equal to the aggregate the library loads back, each applied once
// per event.
func checkRows(t *testing.T, pool *pgxpool.Pool, s *store) {
	t.Helper()
	ids := s.ids(t)
	got := map[string]row{}
	rows, err := pool.Query(context.Background(), `SELECT id, owner, balance, closed, version, applied FROM accounts`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var id string
		var r row
		if err := rows.Scan(&id, &r.Owner, &r.Balance, &r.Closed, &r.Version, &r.Applied); err != nil {
			t.Fatal(err)
		}
		got[id] = r
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if len(got) != len(ids) {
		t.Errorf("%d accounts rows, want one per aggregate, %d", len(got), len(ids))
	}
	bad := 0
	for _, id := range ids {
		a := s.load(t, id)
		want := row{Owner: a.Owner, Balance: a.Balance, Closed: a.Closed, Version: int64(a.Version()), Applied: int64(a.Version())}
		if got[id] != want && bad < 10 {
			bad++
			t.Errorf("account %s: row %+v, want %+v (as the library loads it, applied once per event)", id, got[id], want)
		}
	}
}

// runner returns a runner of the projection over the store.
func runner(pool *pgxpool.Pool, src projection.EventSource, reg projection.Registration) *projection.Runner {
	return &projection.Runner{
		Pool:          pool,
		Source:        src,
		Types:         eventTypes(),
		Registrations: []projection.Registration{reg},
		BatchSize:     50,
		PollInterval:  20 * time.Millisecond,
	}
}

// TestProjectsTheLibrarysAggregates saves accounts with the library's
// repository on its SQL store, projects them into PostgreSQL with the
// runner reading through Source, and checks the rows against the accounts
// the library loads back: first caught up, then live while more are saved.
func TestProjectsTheLibrarysAggregates(t *testing.T) {
	pool := projectiontest.Open(t, migrations(t, readModelSQL))
	s := newStore(t, "WAL")
	src := hallgren.NewSource(s.reader(t, nil), "")
	r := runner(pool, src, registration(0, nil))
	ctx := context.Background()

	var all []*Account
	for i := range 40 {
		a := open(fmt.Sprint("owner ", i))
		for j := range i % 7 {
			if j%3 == 2 {
				a.withdraw(int64(j))
			} else {
				a.deposit(int64(10 * j))
			}
		}
		if i%5 == 4 {
			a.close()
		}
		s.save(t, a)
		all = append(all, a)
	}
	if err := r.CatchUp(ctx, "accounts"); err != nil {
		t.Fatal(err)
	}
	checkRows(t, pool, s)

	live, stop := context.WithCancel(ctx)
	done := make(chan error)
	go func() { done <- r.Run(live) }()
	for i, a := range all {
		a.deposit(int64(i))
		if i%2 == 0 {
			s.save(t, a)
		}
	}
	for _, a := range all {
		s.save(t, a) // the odd ones; nothing for the even ones
	}
	wait, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := r.Wait(wait, "accounts", s.head(t)); err != nil {
		t.Fatal(err)
	}
	stop()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	checkRows(t, pool, s)
}
