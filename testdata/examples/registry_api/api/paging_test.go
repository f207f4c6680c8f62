package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/projgen/projgen/projection"
	"github.com/projgen/projgen/projection/projectiontest"

	"example.com/registry/github/installation"
	"example.com/registry/projections"
)

// expected is an installation's row as its events say it must be.
type expected struct {
	installationID int64
	login, tenant  string
	suspended      bool
	version        int64
}

// TestPagesWhileWritersAppend writes random histories of installations
// through the runner, and checks the generated queries against the
// events themselves: Get of every installation, projection.ErrNotFound
// for the deleted ones, every page of List for each tenant. Then, while
// writers keep appending installations and deleting theirs and a runner
// keeps projecting them, it walks every page again: each installation
// that was there for the whole walk is on exactly one page, and no row is
// on two.
func TestPagesWhileWritersAppend(t *testing.T) {
	pool := projectiontest.Open(t, "../github/installation/migrations")
	ctx := context.Background()
	if _, err := pool.Exec(ctx, projection.EventsTableSQL); err != nil {
		t.Fatal(err)
	}
	var reg projection.Registration
	for _, r := range projections.Registrations() {
		if r.Name == "installation" {
			reg = r
		}
	}
	source := projection.NewPostgresSource(pool, "events")
	runner := &projection.Runner{Pool: pool, Source: source, Types: projections.EventTypes(),
		Registrations: []projection.Registration{reg}, PollInterval: 5 * time.Millisecond,
		Logger: slog.New(slog.DiscardHandler)}
	if err := runner.Setup(ctx); err != nil {
		t.Fatal(err)
	}
	seed := uint64(time.Now().UnixNano())
	rng := rand.New(rand.NewPCG(seed, 0))
	queries := installation.NewPostgresInstallationQueries(pool)
	for trial := range 3 {
		where := fmt.Sprintf("seed %d, trial %d", seed, trial+1)
		tenants := []string{fmt.Sprintf("t%d-acme", trial), fmt.Sprintf("t%d-globex", trial), fmt.Sprintf("t%d-initech", trial)}
		want, deleted, events := randomInstallations(t, rng, tenants, 60+rng.IntN(60))
		for len(events) > 0 {
			n := min(len(events), 1+rng.IntN(20))
			if _, err := source.Append(ctx, events[:n]...); err != nil {
				t.Fatal(err)
			}
			events = events[n:]
		}
		if err := runner.CatchUp(ctx, "installation"); err != nil {
			t.Fatal(err)
		}

		for id, w := range want {
			got, err := queries.GetInstallationRow(ctx, id)
			if err != nil {
				t.Fatalf("Get %s: %v (%s)", id, err, where)
			}
			if got.InstallationID != w.installationID || got.AccountLogin != w.login || got.TenantID != w.tenant ||
				got.IsSuspended != w.suspended || got.AggregateVersion != w.version {
				t.Errorf("Get %s = %+v, the events say %+v (%s)", id, got, w, where)
			}
		}
		for _, id := range deleted {
			if _, err := queries.GetInstallationRow(ctx, id); !errors.Is(err, projection.ErrNotFound) {
				t.Errorf("Get of the deleted %s: %v, want projection.ErrNotFound (%s)", id, err, where)
			}
		}
		for _, tenant := range tenants {
			var ids []uuid.UUID
			for id, w := range want {
				if w.tenant == tenant {
					ids = append(ids, id)
				}
			}
			seen := walk(t, ctx, queries, tenant, 1+rng.IntN(9), nil)
			if len(seen) != len(ids) {
				t.Errorf("tenant %s: %d rows over the pages, the events leave %d (%s)", tenant, len(seen), len(ids), where)
			}
			for _, id := range ids {
				if seen[id] != 1 {
					t.Errorf("tenant %s: %s is on %d pages, want 1 (%s)", tenant, id, seen[id], where)
				}
			}
		}

		// The same walk while writers append to the same tenants.
		runCtx, stop := context.WithCancel(ctx)
		var wg sync.WaitGroup
		wg.Go(func() {
			if err := runner.Run(runCtx); err != nil && runCtx.Err() == nil {
				t.Errorf("runner: %v", err)
			}
		})
		var appended atomic.Int64
		for w := range 2 {
			wrng := rand.New(rand.NewPCG(seed, uint64(100*trial+w+1)))
			wg.Go(func() { write(runCtx, t, source, wrng, tenants, &appended) })
		}
		// Walk once the writers have added installations that stay; they
		// go on until the end.
		for appended.Load() < 4 {
			time.Sleep(time.Millisecond)
		}
		before := appended.Load()
		for _, tenant := range tenants {
			seen := walk(t, ctx, queries, tenant, 1+rng.IntN(5), func() { time.Sleep(time.Duration(rng.IntN(3)) * time.Millisecond) })
			for id, n := range seen {
				if n > 1 {
					t.Errorf("tenant %s, while writers append: %s is on %d pages (%s)", tenant, id, n, where)
				}
			}
			for id, w := range want {
				if w.tenant == tenant && seen[id] != 1 {
					t.Errorf("tenant %s, while writers append: %s, there for the whole walk, is on %d pages, want 1 (%s)", tenant, id, seen[id], where)
				}
			}
		}
		stop()
		wg.Wait()
		// The writers wrote while the pages were read: their rows are
		// there once the runner has caught up.
		if err := runner.CatchUp(ctx, "installation"); err != nil {
			t.Fatal(err)
		}
		total := 0
		for _, tenant := range tenants {
			n, err := queries.CountInstallationRows(ctx, installation.InstallationFilter{TenantID: &tenant})
			if err != nil {
				t.Fatal(err)
			}
			total += int(n)
		}
		if int64(total) < int64(len(want))+before {
			t.Errorf("the writers' installations are not all there: %d rows, %d of the history and at least %d of the writers (%s)", total, len(want), before, where)
		}
	}
}

// walk reads every page of tenant's installations, pages of limit rows,
// calling between after each page, and counts the pages each row is on.
func walk(t *testing.T, ctx context.Context, queries installation.InstallationQueries, tenant string, limit int, between func()) map[uuid.UUID]int {
	t.Helper()
	seen := map[uuid.UUID]int{}
	opts := installation.InstallationListOptions{Limit: limit}
	opts.TenantID = &tenant
	for pages := 0; ; pages++ {
		if pages > 10000 {
			t.Fatalf("tenant %s: no last page", tenant)
		}
		page, err := queries.ListInstallationRows(ctx, opts)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range page.Rows {
			if r.TenantID != tenant {
				t.Errorf("a List of tenant %s returned %s of tenant %s", tenant, r.AggregateID, r.TenantID)
			}
			seen[r.AggregateID]++
		}
		if page.Next == "" {
			return seen
		}
		opts.After = page.Next
		if between != nil {
			between()
		}
	}
}

// randomInstallations returns n installations' events, created, then
// suspended and unsuspended at random, one in five deleted at the end,
// and the rows the events leave, by ID, and the deleted IDs.
func randomInstallations(t *testing.T, rng *rand.Rand, tenants []string, n int) (map[uuid.UUID]expected, []uuid.UUID, []projection.Stored) {
	t.Helper()
	want := map[uuid.UUID]expected{}
	var deleted []uuid.UUID
	var events []projection.Stored
	for i := range n {
		id := uuid.New()
		w := expected{installationID: rng.Int64N(1 << 40), login: fmt.Sprintf("login-%d", i), tenant: tenants[rng.IntN(len(tenants))], version: 1}
		events = append(events, stored(t, id, 1, "Created", installation.Created{InstallationID: w.installationID, AccountLogin: w.login, TenantID: w.tenant}))
		for range rng.IntN(4) {
			w.version++
			w.suspended = !w.suspended
			topic := "Unsuspended"
			if w.suspended {
				topic = "Suspended"
			}
			events = append(events, stored(t, id, w.version, topic, struct{}{}))
		}
		if rng.IntN(5) == 0 {
			events = append(events, stored(t, id, w.version+1, "Deleted", struct{}{}))
			deleted = append(deleted, id)
			continue
		}
		want[id] = w
	}
	// Aggregates' events interleave in a store; each one's stay in order.
	rng.Shuffle(len(events), func(i, j int) { events[i], events[j] = events[j], events[i] })
	byAggregate := map[string][]projection.Stored{}
	var order []string
	for _, e := range events {
		order = append(order, e.AggregateID)
		byAggregate[e.AggregateID] = append(byAggregate[e.AggregateID], e)
	}
	next := map[string]int64{}
	for i, id := range order {
		next[id]++
		for _, e := range byAggregate[id] {
			if e.Version == next[id] {
				events[i] = e
			}
		}
	}
	return want, deleted, events
}

func stored(t *testing.T, id uuid.UUID, version int64, event string, payload any) projection.Stored {
	t.Helper()
	data, err := json.Marshal(payload)
	if err != nil {
		t.Fatal(err)
	}
	return projection.Stored{
		Meta: projection.Meta{AggregateID: id.String(), Version: version, Topic: "example.com/registry/github/installation." + event},
		Data: data,
	}
}

// write appends, until ctx ends, installations of the tenants, and
// deletes some of those it created; appended counts those it keeps.
func write(ctx context.Context, t *testing.T, source *projection.PostgresSource, rng *rand.Rand, tenants []string, appended *atomic.Int64) {
	for i := 0; ctx.Err() == nil; i++ {
		id := uuid.New()
		events := []projection.Stored{stored(t, id, 1, "Created", installation.Created{
			InstallationID: int64(i), AccountLogin: "writer", TenantID: tenants[rng.IntN(len(tenants))]})}
		kept := rng.IntN(3) != 0
		if !kept {
			events = append(events, stored(t, id, 2, "Deleted", struct{}{}))
		}
		if _, err := source.Append(ctx, events...); err != nil {
			if ctx.Err() == nil {
				t.Errorf("writer: %v", err)
			}
			return
		}
		if kept {
			appended.Add(1)
		}
	}
}
