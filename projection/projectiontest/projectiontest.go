// Package projectiontest helps the tests projgen generates, and hand-written
// ones, run read models against a real PostgreSQL server: each test gets a
// fresh schema with the projection's migrations applied, can assert the
// rows it expects, and can check that replaying events leaves the tables
// as they were (ReplaySafe).
//
// The server is named by PROJGEN_TEST_DATABASE_URL. When it is unset, tests
// skip with a message; when PROJGEN_REQUIRE_DB=1 is set as well, they fail,
// so that CI cannot pass without running them.
package projectiontest

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/projgen/projgen/projection/migration"
)

// URLEnv names the environment variable that holds the test database URL.
const URLEnv = "PROJGEN_TEST_DATABASE_URL"

// RequireEnv names the environment variable that, set to 1, turns a missing
// database into a test failure instead of a skip.
const RequireEnv = "PROJGEN_REQUIRE_DB"

// Open connects to the test database, creates a new schema, applies the up
// migrations found in migrationsDir to it, and returns a pool whose
// connections use that schema. The schema is dropped when the test ends.
//
// migrationsDir holds golang-migrate files (NNN_name.up.sql) or goose files
// (NNN_name.sql with -- +goose Up); they are applied in version order.
func Open(t testing.TB, migrationsDir string) *pgxpool.Pool {
	t.Helper()
	url := os.Getenv(URLEnv)
	if url == "" {
		if os.Getenv(RequireEnv) == "1" {
			t.Fatalf("%s=1 but %s is not set: set it to a PostgreSQL URL, such as postgres://postgres@127.0.0.1:5432/test?sslmode=disable", RequireEnv, URLEnv)
		}
		t.Skipf("skipping database test: set %s to a PostgreSQL URL to run it", URLEnv)
	}
	migrations, err := migration.Read(migrationsDir)
	if err != nil {
		t.Fatal(err)
	}
	if len(migrations) == 0 {
		t.Fatalf("no migrations in %s", migrationsDir)
	}
	ctx := context.Background()
	schema := "projgen_test_" + strings.ReplaceAll(uuid.NewString(), "-", "")

	admin, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatalf("connect to %s (from %s): %v", redact(url), URLEnv, err)
	}
	defer admin.Close(ctx)
	if _, err := admin.Exec(ctx, "CREATE SCHEMA "+pgx.Identifier{schema}.Sanitize()); err != nil {
		t.Fatalf("create test schema: %v", err)
	}
	t.Cleanup(func() {
		conn, err := pgx.Connect(context.Background(), url)
		if err != nil {
			t.Errorf("drop test schema %s: %v", schema, err)
			return
		}
		defer conn.Close(context.Background())
		if _, err := conn.Exec(context.Background(), "DROP SCHEMA "+pgx.Identifier{schema}.Sanitize()+" CASCADE"); err != nil {
			t.Errorf("drop test schema %s: %v", schema, err)
		}
	})

	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		t.Fatalf("parse %s: %v", URLEnv, err)
	}
	cfg.ConnConfig.RuntimeParams["search_path"] = schema
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		t.Fatalf("connect to %s: %v", redact(url), err)
	}
	t.Cleanup(pool.Close)

	tx, err := pool.Begin(ctx)
	if err != nil {
		t.Fatalf("begin migration: %v", err)
	}
	defer tx.Rollback(ctx) //nolint:errcheck // after Commit this is a no-op
	for _, m := range migrations {
		if _, err := tx.Exec(ctx, m.Up); err != nil {
			t.Fatalf("apply migration %s: %v", filepath.Join(migrationsDir, m.Files[0]), err)
		}
	}
	if err := tx.Commit(ctx); err != nil {
		t.Fatalf("commit migrations: %v", err)
	}
	return pool
}

// redact hides the password of a database URL in messages.
func redact(url string) string {
	cfg, err := pgx.ParseConfig(url)
	if err != nil || cfg.Password == "" {
		return url
	}
	return strings.Replace(url, cfg.Password, "xxxxx", 1)
}
