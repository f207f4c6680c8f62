package projectiontest

import (
	"context"
	"os"
	"path/filepath"
	"testing"
)

// TestUsesIndex checks the index check on PostgreSQL's own plans, over a
// table that fillTable fills: an ordered read by the primary key uses
// its index, a count filtered by a column without one does not.
func TestUsesIndex(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "000001_things.up.sql"), []byte(`CREATE TABLE things (id uuid PRIMARY KEY, n bigint NOT NULL,
		tag text NOT NULL, at timestamptz NOT NULL, doc jsonb, ok boolean NOT NULL DEFAULT false);`), 0o644); err != nil {
		t.Fatal(err)
	}
	pool := Open(t, dir)
	ctx := context.Background()
	if err := fillTable(ctx, pool, "things", 20000); err != nil {
		t.Fatal(err)
	}
	if _, err := pool.Exec(ctx, "ANALYZE things"); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		query string
		index bool
	}{
		{`SELECT * FROM things ORDER BY id LIMIT 51`, true},
		{`SELECT * FROM things WHERE id > 'c0000000-0000-0000-0000-000000000000' ORDER BY id LIMIT 51`, true},
		{`SELECT count(*) FROM things WHERE tag = 'v3'`, false},
	} {
		var plan string
		if err := pool.QueryRow(ctx, "EXPLAIN (FORMAT JSON) "+tt.query).Scan(&plan); err != nil {
			t.Fatal(err)
		}
		if got := usesIndex(plan); got != tt.index {
			t.Errorf("usesIndex(%s) = %v, want %v\n%s", tt.query, got, tt.index, plan)
		}
	}
	var distinct int
	if err := pool.QueryRow(ctx, "SELECT count(DISTINCT tag) FROM things").Scan(&distinct); err != nil || distinct < 10 || distinct > 100 {
		t.Errorf("fillTable gave %d distinct tags (%v): want a few dozen, so that a filter selects a few percent", distinct, err)
	}
}
