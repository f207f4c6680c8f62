package main

import (
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// createTable finds the tables a migration creates.
var createTable = regexp.MustCompile(`CREATE TABLE "([^"]+)"`)

// TestSqlcParsesTheSchemas has sqlc, pinned by the nested module
// testdata/sqlc, compile a query on every table of every golden module's
// migration directories, in their golang-migrate or goose layout: the
// generated migrations are schema input a team can add its own sqlc
// queries on. A query on a column that is not there must fail, so that
// the test shows sqlc read the schema.
func TestSqlcParsesTheSchemas(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs sqlc")
	}
	tool, err := filepath.Abs(filepath.Join("testdata", "sqlc"))
	if err != nil {
		t.Fatal(err)
	}
	var dirs []string
	err = filepath.WalkDir("golden", func(path string, d fs.DirEntry, err error) error {
		if err == nil && d.Name() == "projgen.sum" {
			dirs = append(dirs, filepath.Dir(path))
		}
		return err
	})
	if err != nil || len(dirs) == 0 {
		t.Fatalf("no migration directories under golden/: %v", err)
	}
	for _, dir := range dirs {
		t.Run(filepath.ToSlash(dir), func(t *testing.T) {
			work := t.TempDir()
			schema := filepath.Join(work, "schema")
			if err := os.CopyFS(schema, os.DirFS(dir)); err != nil {
				t.Fatal(err)
			}
			var tables []string
			files, _ := filepath.Glob(filepath.Join(schema, "*.sql"))
			for _, f := range files {
				data, err := os.ReadFile(f)
				if err != nil {
					t.Fatal(err)
				}
				for _, m := range createTable.FindAllStringSubmatch(string(data), -1) {
					tables = append(tables, m[1])
				}
			}
			slices.Sort(tables)
			tables = slices.Compact(tables)
			if len(tables) == 0 {
				t.Fatalf("%s creates no table", dir)
			}
			var queries strings.Builder
			for i, table := range tables {
				fmt.Fprintf(&queries, "-- name: All%d :many\nSELECT * FROM %q;\n\n", i, table)
			}
			sqlc := func(query string) ([]byte, error) {
				t.Helper()
				if err := os.WriteFile(filepath.Join(work, "queries.sql"), []byte(query), 0o644); err != nil {
					t.Fatal(err)
				}
				// With Go code to generate, as a team's would be: compile
				// then checks the queries as generate does, writing nothing.
				config := "version: \"2\"\nsql:\n  - engine: postgresql\n    schema: schema\n    queries: queries.sql\n" +
					"    gen:\n      go:\n        package: db\n        out: db\n        sql_package: pgx/v5\n"
				if err := os.WriteFile(filepath.Join(work, "sqlc.yaml"), []byte(config), 0o644); err != nil {
					t.Fatal(err)
				}
				c := exec.Command("go", "-C", tool, "tool", "sqlc", "compile", "-f", filepath.Join(work, "sqlc.yaml"))
				return c.CombinedOutput()
			}
			if out, err := sqlc(queries.String()); err != nil {
				t.Fatalf("sqlc compile on %s: %v\n%s", dir, err, out)
			}
			bad := fmt.Sprintf("-- name: Bad :many\nSELECT \"no_such_column\" FROM %q;\n", tables[0])
			if out, err := sqlc(bad); err == nil || !strings.Contains(string(out), "no_such_column") {
				t.Errorf("sqlc compile accepted a column %s does not have: %v\n%s", tables[0], err, out)
			}
		})
	}
}
