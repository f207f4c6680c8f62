package projectiontest

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/projgen/projgen/projection"
)

// Row is the content of one row, or the part of it a test cares about:
// column name → value, with values of the Go types the read model writes.
type Row map[string]any

// AssertRow fails the test unless table holds exactly one row whose key
// columns equal key and whose columns in want are not distinct from the
// wanted values. PostgreSQL compares, so values compare by their column
// type: jsonb semantically, timestamps at microsecond precision.
func AssertRow(t testing.TB, db projection.DBTX, table string, key, want Row) {
	t.Helper()
	n := count(t, db, table, key, want)
	if n != 1 {
		t.Errorf("%s: want one row with %s and %s; %d match; rows with that key:\n%s",
			table, describe(key), describe(want), n, dump(t, db, table, key))
	}
}

// AssertNoRow fails the test if table holds a row whose key columns equal key.
func AssertNoRow(t testing.TB, db projection.DBTX, table string, key Row) {
	t.Helper()
	if n := count(t, db, table, key, nil); n != 0 {
		t.Errorf("%s: want no row with %s; found %d:\n%s", table, describe(key), n, dump(t, db, table, key))
	}
}

// AssertCount fails the test unless table holds exactly want rows.
func AssertCount(t testing.TB, db projection.DBTX, table string, want int) {
	t.Helper()
	if n := count(t, db, table, nil, nil); n != want {
		t.Errorf("%s: want %d rows, found %d", table, want, n)
	}
}

func count(t testing.TB, db projection.DBTX, table string, key, want Row) int {
	t.Helper()
	where, args := conditions(key, want)
	var n int
	sql := "SELECT count(*) FROM " + pgx.Identifier{table}.Sanitize() + where
	if err := db.QueryRow(context.Background(), sql, args...).Scan(&n); err != nil {
		t.Fatalf("%s: query rows: %v", table, err)
	}
	return n
}

// conditions builds a WHERE clause comparing each column with a parameter:
// key columns with =, wanted columns with IS NOT DISTINCT FROM, so that a
// nil value asserts NULL.
func conditions(key, want Row) (string, []any) {
	var terms []string
	var args []any
	for _, part := range []struct {
		row Row
		op  string
	}{{key, " = "}, {want, " IS NOT DISTINCT FROM "}} {
		for _, col := range slices.Sorted(maps.Keys(part.row)) {
			args = append(args, part.row[col])
			terms = append(terms, fmt.Sprintf("%s%s$%d", pgx.Identifier{col}.Sanitize(), part.op, len(args)))
		}
	}
	if len(terms) == 0 {
		return "", nil
	}
	return " WHERE " + strings.Join(terms, " AND "), args
}

// dump returns the rows with the given key as JSON, one a line, for failure
// messages.
func dump(t testing.TB, db projection.DBTX, table string, key Row) string {
	t.Helper()
	where, args := conditions(key, nil)
	rows, err := db.Query(context.Background(),
		"SELECT row_to_json(r)::text FROM "+pgx.Identifier{table}.Sanitize()+" r"+where, args...)
	if err != nil {
		return fmt.Sprintf("(query failed: %v)", err)
	}
	lines, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return fmt.Sprintf("(query failed: %v)", err)
	}
	if len(lines) == 0 {
		return "(none)"
	}
	return strings.Join(lines, "\n")
}

func describe(r Row) string {
	var parts []string
	for _, col := range slices.Sorted(maps.Keys(r)) {
		parts = append(parts, fmt.Sprintf("%s=%#v", col, r[col]))
	}
	return strings.Join(parts, ", ")
}
