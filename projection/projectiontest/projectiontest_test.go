package projectiontest_test

import (
	"context"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/projgen/projgen/projection/projectiontest"
)

// layouts are the same three migrations in golang-migrate's and goose's
// layouts. Version 10 must run after version 2, and the down migrations,
// which would undo the others, must not run at all.
var layouts = map[string]map[string]string{
	"golang-migrate": {
		"1_create_orders.up.sql":   "CREATE TABLE orders (id uuid PRIMARY KEY, name text NOT NULL);\nCREATE INDEX orders_name_idx ON orders (name);\n",
		"1_create_orders.down.sql": "DROP TABLE orders;\n",
		"2_add_note.up.sql":        "ALTER TABLE orders ADD COLUMN note text;\n",
		"2_add_note.down.sql":      "ALTER TABLE orders DROP COLUMN note;\n",
		"10_add_tags.up.sql":       "ALTER TABLE orders ADD COLUMN tags text[];\n",
		"README.md":                "DROP TABLE orders;\n",
	},
	"goose": {
		"00001_create_orders.sql": "-- +goose Up\nCREATE TABLE orders (id uuid PRIMARY KEY, name text NOT NULL);\nCREATE INDEX orders_name_idx ON orders (name);\n\n-- +goose Down\nDROP TABLE orders;\n",
		"00002_add_note.sql":      "-- +goose Up\nALTER TABLE orders ADD COLUMN note text;\n-- +goose Down\nALTER TABLE orders DROP COLUMN note;\n",
		"00010_add_tags.sql":      "-- +goose Up\n-- +goose StatementBegin\nALTER TABLE orders ADD COLUMN tags text[];\n-- +goose StatementEnd\n",
	},
}

func TestOpenAppliesMigrations(t *testing.T) {
	useDB(t)
	for name, files := range layouts {
		t.Run(name, func(t *testing.T) {
			pool := projectiontest.Open(t, migrations(t, files))
			ctx := context.Background()

			schema := currentSchema(t, pool)
			if !strings.HasPrefix(schema, "projgen_test_") {
				t.Errorf("current schema = %q, want a fresh projgen_test_ schema", schema)
			}
			rows, err := pool.Query(ctx, `SELECT column_name FROM information_schema.columns
				WHERE table_schema = current_schema() AND table_name = 'orders' ORDER BY ordinal_position`)
			if err != nil {
				t.Fatal(err)
			}
			cols, err := pgx.CollectRows(rows, pgx.RowTo[string])
			if err != nil {
				t.Fatal(err)
			}
			if want := []string{"id", "name", "note", "tags"}; !slices.Equal(cols, want) {
				t.Errorf("columns of orders = %q, want %q", cols, want)
			}
			var indexes int
			if err := pool.QueryRow(ctx, `SELECT count(*) FROM pg_indexes
				WHERE schemaname = current_schema() AND indexname = 'orders_name_idx'`).Scan(&indexes); err != nil {
				t.Fatal(err)
			}
			if indexes != 1 {
				t.Errorf("found %d orders_name_idx indexes, want 1", indexes)
			}

			// Unqualified names resolve to the test's schema.
			if _, err := pool.Exec(ctx, `INSERT INTO orders (id, name, tags) VALUES ($1, $2, $3)`,
				"7d444840-9dc0-11d1-b245-5ffdce74fad2", "first", []string{"a"}); err != nil {
				t.Fatalf("insert: %v", err)
			}
			var got string
			if err := pool.QueryRow(ctx, `SELECT name FROM `+pgx.Identifier{schema, "orders"}.Sanitize()).Scan(&got); err != nil {
				t.Fatalf("select: %v", err)
			}
			if got != "first" {
				t.Errorf("name = %q, want first", got)
			}
		})
	}
}

func TestOpenGivesEachTestItsOwnSchema(t *testing.T) {
	useDB(t)
	dir := migrations(t, layouts["golang-migrate"])
	a := projectiontest.Open(t, dir)
	b := projectiontest.Open(t, dir)
	sa, sb := currentSchema(t, a), currentSchema(t, b)
	if sa == sb {
		t.Fatalf("both pools use schema %s", sa)
	}
	if _, err := a.Exec(context.Background(), `INSERT INTO orders (id, name) VALUES (gen_random_uuid(), 'a')`); err != nil {
		t.Fatal(err)
	}
	projectiontest.AssertCount(t, a, "orders", 1)
	projectiontest.AssertCount(t, b, "orders", 0)
}

func TestOpenDropsSchemaAfterTest(t *testing.T) {
	url := useDB(t)
	dir := migrations(t, layouts["goose"])
	var schema string
	t.Run("open", func(t *testing.T) {
		pool := projectiontest.Open(t, dir)
		schema = currentSchema(t, pool)
		if !schemaExists(t, url, schema) {
			t.Errorf("schema %s does not exist during the test", schema)
		}
	})
	if schema == "" {
		t.Fatal("the subtest found no schema")
	}
	if schemaExists(t, url, schema) {
		t.Errorf("schema %s still exists after the test", schema)
	}
}

func TestOpenFailsOnBadMigrations(t *testing.T) {
	useDB(t)
	tests := []struct {
		name  string
		files map[string]string
		want  []string // substrings of the fatal message
	}{
		{
			name: "SQL error",
			files: map[string]string{
				"1_ok.up.sql":  "CREATE TABLE a (id int);",
				"2_bad.up.sql": "CREATE TABLE (;",
			},
			want: []string{"apply migration", "2_bad.up.sql"},
		},
		{
			name:  "no migrations",
			files: map[string]string{"README.md": "nothing here"},
			want:  []string{"no migrations in"},
		},
		{
			name:  "goose file without annotation",
			files: map[string]string{"1_x.sql": "CREATE TABLE a (id int);"},
			want:  []string{"1_x.sql", "-- +goose Up"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := migrations(t, tt.files)
			fake, finished := runFake(t, func(tb testing.TB) { projectiontest.Open(tb, dir) })
			if finished || len(fake.fatals) != 1 {
				t.Fatalf("Open went on (finished %v) with %s, want it to stop with one fatal failure", finished, fake.all())
			}
			contains(t, "fatal message", fake.fatals[0], tt.want...)
		})
	}
}

func TestOpenWithoutDatabase(t *testing.T) {
	tests := []struct {
		require  string
		wantSkip bool
	}{
		{require: "", wantSkip: true},
		{require: "0", wantSkip: true},
		{require: "1", wantSkip: false},
	}
	for _, tt := range tests {
		t.Run("PROJGEN_REQUIRE_DB="+tt.require, func(t *testing.T) {
			t.Setenv(projectiontest.URLEnv, "")
			os.Unsetenv(projectiontest.URLEnv)
			t.Setenv(projectiontest.RequireEnv, tt.require)
			dir := migrations(t, layouts["golang-migrate"])

			fake, finished := runFake(t, func(tb testing.TB) { projectiontest.Open(tb, dir) })
			if finished {
				t.Fatalf("Open returned without a database (%s)", fake.all())
			}
			if tt.wantSkip {
				if len(fake.skips) != 1 || len(fake.fatals)+len(fake.errors) != 0 {
					t.Fatalf("got %s, want one skip", fake.all())
				}
				contains(t, "skip message", fake.skips[0], projectiontest.URLEnv)
			} else {
				if len(fake.fatals) != 1 || len(fake.skips)+len(fake.errors) != 0 {
					t.Fatalf("got %s, want one fatal failure", fake.all())
				}
				contains(t, "fatal message", fake.fatals[0], projectiontest.URLEnv, projectiontest.RequireEnv+"=1")
			}
		})
	}
}

func TestOpenFailsOnBadServer(t *testing.T) {
	// Port 1 on the loopback refuses connections at once.
	t.Setenv(projectiontest.URLEnv, "postgres://postgres:secret@127.0.0.1:1/test?sslmode=disable&connect_timeout=5")
	dir := migrations(t, layouts["golang-migrate"])
	fake, finished := runFake(t, func(tb testing.TB) { projectiontest.Open(tb, dir) })
	if finished || len(fake.fatals) != 1 {
		t.Fatalf("got %s, want one fatal failure", fake.all())
	}
	contains(t, "fatal message", fake.fatals[0], "connect", projectiontest.URLEnv)
	if strings.Contains(fake.fatals[0], "secret") {
		t.Errorf("fatal message %q shows the password", fake.fatals[0])
	}
}
