// Package library_test runs the projections projgen generated over events
// that hallgren/eventsourcing itself stored: its repository saves the
// aggregates to its memory store, the store's global order is read back
// through its own API, and the rows are checked against the aggregates the
// library loads from the same store. It builds once `projgen new` has
// generated the registry.
package library_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"testing"

	"github.com/hallgren/eventsourcing/aggregate"
	"github.com/hallgren/eventsourcing/core"
	"github.com/hallgren/eventsourcing/eventstore/memory"
	"github.com/projgen/projgen/projection"
	"github.com/projgen/projgen/projection/migration"
	"github.com/projgen/projgen/projection/projectiontest"

	"example.com/hallgren/account"
	"example.com/hallgren/person"
	"example.com/hallgren/projections"
)

func TestLibraryStoredEvents(t *testing.T) {
	ctx := context.Background()
	es := memory.Create()
	aggregate.Register(&account.Account{})
	aggregate.Register(&person.Person{})
	accounts, people := writeHistory(t, es, rand.New(rand.NewPCG(1, 2)))

	pool := projectiontest.Open(t, filepath.Join("..", "account", "migrations"))
	applyMigrations(t, pool, filepath.Join("..", "person", "migrations"))
	runner := &projection.Runner{
		Pool:          pool,
		Source:        stored(t, es),
		Types:         projections.EventTypes(),
		Registrations: projections.Registrations(),
	}
	if err := runner.Setup(ctx); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"account", "person"} {
		if err := runner.CatchUp(ctx, name); err != nil {
			t.Fatal(err)
		}
	}

	projectiontest.AssertCount(t, pool, "accounts", len(accounts))
	for _, id := range accounts {
		var a account.Account
		if err := aggregate.Load(ctx, es, id, &a); err != nil {
			t.Fatal(err)
		}
		projectiontest.AssertRow(t, pool, "accounts", projectiontest.Row{"aggregate_id": id}, projectiontest.Row{
			"owner": a.Owner, "currency": a.Currency, "is_closed": a.Closed,
			"aggregate_version": int64(a.Version()),
		})
		var balance *int64
		var tagged []string
		if err := pool.QueryRow(ctx, `SELECT balance, tagged FROM accounts WHERE aggregate_id = $1`, id).Scan(&balance, &tagged); err != nil {
			t.Fatal(err)
		}
		if (balance == nil && a.Balance != 0) || (balance != nil && *balance != a.Balance) {
			t.Errorf("account %s: balance %v, the library's aggregate has %d", id, balance, a.Balance)
		}
		if !slices.Equal(tagged, a.Tags) {
			t.Errorf("account %s: tagged %q, the library's aggregate has %q", id, tagged, a.Tags)
		}
	}
	projectiontest.AssertCount(t, pool, "people", len(people))
	for _, id := range people {
		var p person.Person
		if err := aggregate.Load(ctx, es, id, &p); err != nil {
			t.Fatal(err)
		}
		projectiontest.AssertRow(t, pool, "people", projectiontest.Row{"aggregate_id": id}, projectiontest.Row{
			"name": p.Name, "aggregate_version": int64(p.Version()),
		})
	}
}

// writeHistory saves accounts and people through the library, with random
// commands, and returns their IDs: the library's random strings.
func writeHistory(t *testing.T, es core.EventStore, rng *rand.Rand) (accounts, people []string) {
	t.Helper()
	var open []*account.Account
	for i := range 200 {
		switch {
		case i%10 == 0 || len(open) == 0:
			a, err := account.Open(fmt.Sprintf("owner-%d", i), []string{"EUR", "SEK"}[rng.IntN(2)])
			if err != nil {
				t.Fatal(err)
			}
			open = append(open, a)
		case i%7 == 0:
			p, err := person.CreatePerson(fmt.Sprintf("person-%d", i))
			if err != nil {
				t.Fatal(err)
			}
			for range rng.IntN(3) {
				p.GrowOlder()
			}
			if err := aggregate.Save(es, p); err != nil {
				t.Fatal(err)
			}
			people = append(people, p.ID())
			continue
		default:
			a := open[rng.IntN(len(open))]
			switch rng.IntN(5) {
			case 0, 1:
				_ = a.Deposit(int64(1 + rng.IntN(100)))
			case 2:
				_ = a.Withdraw(int64(1 + rng.IntN(50)))
			case 3:
				a.Tag(fmt.Sprintf("t%d", rng.IntN(5)), "vip")
			case 4:
				if rng.IntN(4) == 0 {
					a.Close()
				}
			}
		}
		// Save some changes at once, others one by one.
		if rng.IntN(3) == 0 {
			for _, a := range open {
				if err := aggregate.Save(es, a); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	for _, a := range open {
		if err := aggregate.Save(es, a); err != nil {
			t.Fatal(err)
		}
		accounts = append(accounts, a.ID())
	}
	return accounts, people
}

// stored reads every event of the store in its global order, through the
// library's own API, as the runner's source sees them.
func stored(t *testing.T, es *memory.Memory) projectiontest.Events {
	t.Helper()
	iter, err := es.All(0, 1_000_000)()
	if err != nil {
		t.Fatal(err)
	}
	defer iter.Close()
	var out projectiontest.Events
	for iter.Next() {
		e, err := iter.Value()
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, projection.Stored{
			Meta: projection.Meta{
				AggregateID: e.AggregateID,
				Version:     int64(e.Version),
				Position:    int64(e.GlobalVersion),
				Timestamp:   e.Timestamp,
				Topic:       e.Reason,
			},
			Data: e.Data,
		})
	}
	if len(out) == 0 {
		t.Fatal("the library stored no events")
	}
	return out
}

// applyMigrations applies the up migrations of dir to the test schema.
func applyMigrations(t *testing.T, db projection.DBTX, dir string) {
	t.Helper()
	ms, err := migration.Read(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range ms {
		if _, err := db.Exec(context.Background(), m.Up); err != nil {
			t.Fatalf("%s: %v", m.Files[0], err)
		}
	}
}
