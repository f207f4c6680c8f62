// Package tools applies migrations that projgen wrote with the tools they
// are written for, golang-migrate and goose, against PostgreSQL: projgen's
// TestMigrationTools generates them and runs these tests on them.
package tools

import (
	"context"
	"database/sql"
	"errors"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/golang-migrate/migrate/v4"
	_ "github.com/golang-migrate/migrate/v4/database/pgx/v5"
	_ "github.com/golang-migrate/migrate/v4/source/file"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	_ "github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"
)

// env returns an environment variable the test needs, or skips.
func env(t *testing.T, name string) string {
	t.Helper()
	v := os.Getenv(name)
	if v == "" {
		t.Skipf("%s is not set: projgen's TestMigrationTools sets it", name)
	}
	return v
}

// newSchema creates a schema for the test, dropped at its end, and
// returns the database URL with search_path set to it.
func newSchema(t *testing.T) (url, schema string) {
	t.Helper()
	url = env(t, "PROJGEN_TEST_DATABASE_URL")
	schema = "tools_" + strings.ReplaceAll(uuid.NewString(), "-", "")
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "CREATE SCHEMA "+schema); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		c, err := pgx.Connect(context.Background(), url)
		if err != nil {
			t.Error(err)
			return
		}
		defer c.Close(context.Background())
		if _, err := c.Exec(context.Background(), "DROP SCHEMA "+schema+" CASCADE"); err != nil {
			t.Error(err)
		}
	})
	sep := "?"
	if strings.Contains(url, "?") {
		sep = "&"
	}
	return url + sep + "search_path=" + schema, schema
}

// columns returns the columns of a table in the schema, none when the table
// does not exist.
func columns(t *testing.T, url, schema, table string) []string {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	rows, err := conn.Query(ctx, "SELECT column_name FROM information_schema.columns WHERE table_schema = $1 AND table_name = $2", schema, table)
	if err != nil {
		t.Fatal(err)
	}
	cols, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	return cols
}

// TestGolangMigrate applies MIGRATE_DIR with golang-migrate, all the way up
// and all the way down, as a service would.
func TestGolangMigrate(t *testing.T) {
	dir := env(t, "MIGRATE_DIR")
	table, column := env(t, "TABLE"), env(t, "COLUMN")
	url, schema := newSchema(t)
	m, err := migrate.New("file://"+dir, "pgx5://"+strings.TrimPrefix(strings.TrimPrefix(url, "postgres://"), "postgresql://"))
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	if err := m.Up(); err != nil {
		t.Fatalf("up: %v", err)
	}
	if cols := columns(t, url, schema, table); !slices.Contains(cols, column) {
		t.Fatalf("after up, %s has columns %v, want %s among them", table, cols, column)
	}
	if err := m.Down(); err != nil && !errors.Is(err, migrate.ErrNoChange) {
		t.Fatalf("down: %v", err)
	}
	if cols := columns(t, url, schema, table); len(cols) != 0 {
		t.Fatalf("after down, %s still has columns %v", table, cols)
	}
}

// TestGoose applies GOOSE_DIR with goose, up and back down to version 0.
func TestGoose(t *testing.T) {
	dir := env(t, "GOOSE_DIR")
	table, column := env(t, "TABLE"), env(t, "COLUMN")
	url, schema := newSchema(t)
	db, err := sql.Open("pgx", url)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	p, err := goose.NewProvider(goose.DialectPostgres, db, os.DirFS(dir))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, err := p.Up(ctx); err != nil {
		t.Fatalf("up: %v", err)
	}
	if cols := columns(t, url, schema, table); !slices.Contains(cols, column) {
		t.Fatalf("after up, %s has columns %v, want %s among them", table, cols, column)
	}
	if _, err := p.DownTo(ctx, 0); err != nil {
		t.Fatalf("down: %v", err)
	}
	if cols := columns(t, url, schema, table); len(cols) != 0 {
		t.Fatalf("after down, %s still has columns %v", table, cols)
	}
}
