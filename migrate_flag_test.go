package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
)

// TestRunnerMainMigrate builds the runner main of golden/registry
// (golang-migrate) and golden/goose (goose) and runs -migrate twice on a
// fresh schema: the first run creates every read-model table, the events
// table, the runner's and one version table per migration directory; the
// second finds nothing to do and changes nothing.
func TestRunnerMainMigrate(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the runner mains and migrates a database")
	}
	tests := []struct {
		module string
		want   []string
	}{
		{"registry", []string{"events", "installations", "orders", "projgen_tracking", "schema_migrations_github_installation", "schema_migrations_shop_order"}},
		{"goose", []string{"events", "installations", "orders", "projgen_tracking", "goose_db_version_github_installation", "goose_db_version_shop_order"}},
	}
	for _, tt := range tests {
		t.Run(tt.module, func(t *testing.T) {
			url := freshSchema(t)
			bin := filepath.Join(t.TempDir(), "projections")
			build := exec.Command("go", "build", "-o", bin, "./cmd/projections")
			build.Dir = filepath.Join("golden", tt.module)
			if out, err := build.CombinedOutput(); err != nil {
				t.Fatalf("go build: %v\n%s", err, out)
			}
			var tables []string
			for run := range 2 {
				c := exec.Command(bin, "-migrate")
				c.Env = append(os.Environ(), "DATABASE_URL="+url)
				out, err := c.CombinedOutput()
				if err != nil {
					t.Fatalf("-migrate (run %d): %v\n%s", run+1, err, out)
				}
				if !strings.Contains(string(out), "migrations: at version 1 (") {
					t.Errorf("-migrate (run %d) did not say where each directory stands:\n%s", run+1, out)
				}
				now := schemaTables(t, url)
				if run == 1 && strings.Join(now, " ") != strings.Join(tables, " ") {
					t.Errorf("the second -migrate changed the tables: %v, then %v", tables, now)
				}
				tables = now
			}
			for _, want := range tt.want {
				if !slices.Contains(tables, want) {
					t.Errorf("after -migrate the schema has %v; want %s among them", tables, want)
				}
			}
		})
	}
}

// schemaTables lists the tables of the URL's search_path schema, sorted.
func schemaTables(t *testing.T, url string) []string {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	rows, err := conn.Query(ctx, `SELECT table_name::text FROM information_schema.tables WHERE table_schema = current_schema() ORDER BY 1`)
	if err != nil {
		t.Fatal(err)
	}
	names, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	return names
}
