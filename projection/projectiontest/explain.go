package projectiontest

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/projgen/projgen/projection"
)

// ExplainRowsEnv names the environment variable that makes
// QueriesReadTheTable also fill the table with that many rows and require
// that PostgreSQL plans every List it runs with an index. CI sets it to
// 100000 for the golden modules.
const ExplainRowsEnv = "PROJGEN_EXPLAIN_ROWS"

// Recorder is a DBTX that records the statements of Query: the queries a
// generated List runs, for EXPLAIN.
type Recorder struct {
	projection.DBTX
	mu      sync.Mutex
	queries []recorded
}

type recorded struct {
	sql  string
	args []any
}

// Record returns a Recorder over db.
func Record(db projection.DBTX) *Recorder { return &Recorder{DBTX: db} }

// Query records the statement, then runs it.
func (r *Recorder) Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error) {
	r.mu.Lock()
	r.queries = append(r.queries, recorded{sql, args})
	r.mu.Unlock()
	return r.DBTX.Query(ctx, sql, args...)
}

// take returns the statements recorded since the last take.
func (r *Recorder) take() []recorded {
	r.mu.Lock()
	defer r.mu.Unlock()
	q := r.queries
	r.queries = nil
	return q
}

// explainRows is the size of the table the index check fills, 0 to skip it.
func explainRows(t testing.TB) int {
	v := os.Getenv(ExplainRowsEnv)
	if v == "" {
		return 0
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 {
		t.Fatalf("%s=%q: want a number of rows", ExplainRowsEnv, v)
	}
	return n
}

// listsUseIndexes fills q.Table with n rows, analyzes it, runs List with
// no filter, with each filter and from a cursor, and fails for each query
// that PostgreSQL would run without an index.
func listsUseIndexes[R, F any](t testing.TB, db projection.DBTX, q Queries[R, F], n int) {
	t.Helper()
	ctx := context.Background()
	if err := fillTable(ctx, db, q.Table, n); err != nil {
		t.Fatalf("QueriesReadTheTable: fill %s with %d rows: %v", q.Table, n, err)
	}
	if _, err := db.Exec(ctx, "ANALYZE "+pgx.Identifier{q.Table}.Sanitize()); err != nil {
		t.Fatalf("QueriesReadTheTable: %v", err)
	}
	sample := tableRows(t, db, q.Table, q.Key)[n/2]
	var none F
	first, err := q.List(ctx, none, 0, "")
	if err != nil {
		t.Fatalf("QueriesReadTheTable: List: %v", err)
	}
	if _, err := q.List(ctx, none, 0, first.Next); err != nil {
		t.Fatalf("QueriesReadTheTable: List after a page: %v", err)
	}
	for _, f := range q.Filters {
		var filter F
		if f.Equal != nil {
			filter = f.Equal(sample[f.Column])
		} else if at, ok := sample[f.Column].(time.Time); ok {
			filter = f.Between(at, at.Add(time.Hour))
		}
		if _, err := q.List(ctx, filter, 0, ""); err != nil {
			t.Fatalf("QueriesReadTheTable: List by %s: %v", f.Column, err)
		}
	}
	for _, rq := range q.DB.take() {
		var plan string
		if err := db.QueryRow(ctx, "EXPLAIN (FORMAT JSON) "+rq.sql, rq.args...).Scan(&plan); err != nil {
			t.Fatalf("QueriesReadTheTable: EXPLAIN %s: %v", rq.sql, err)
		}
		if !usesIndex(plan) {
			t.Errorf("QueriesReadTheTable: on %d rows of %s, PostgreSQL plans this List without an index:\n%s\nargs %v\n%s", n, q.Table, rq.sql, rq.args, plan)
		}
	}
}

// usesIndex reports whether a JSON plan has an index scan node.
func usesIndex(plan string) bool {
	var nodes []struct {
		Plan json.RawMessage
	}
	if json.Unmarshal([]byte(plan), &nodes) != nil || len(nodes) == 0 {
		return false
	}
	var walk func(raw json.RawMessage) bool
	walk = func(raw json.RawMessage) bool {
		var n struct {
			NodeType string            `json:"Node Type"`
			Plans    []json.RawMessage `json:"Plans"`
		}
		if json.Unmarshal(raw, &n) != nil {
			return false
		}
		if strings.Contains(n.NodeType, "Index") {
			return true
		}
		for _, c := range n.Plans {
			if walk(c) {
				return true
			}
		}
		return false
	}
	return walk(nodes[0].Plan)
}

// fillTable inserts n rows into table, each column's value made from the
// row's number by the column's type: distinct for the columns of the
// primary key and of unique indexes, from a few dozen values for the
// others, so that a filter selects a few percent of the rows.
func fillTable(ctx context.Context, db projection.DBTX, table string, n int) error {
	// The columns in order, with their types, and whether a primary key
	// or unique index holds them, which wants a value per row.
	rows, err := db.Query(ctx, `SELECT a.attname, format_type(a.atttypid, a.atttypmod),
	    EXISTS (SELECT 1 FROM pg_index i WHERE i.indrelid = a.attrelid
	            AND (i.indisprimary OR i.indisunique) AND a.attnum = ANY (i.indkey))
	  FROM pg_attribute a
	 WHERE a.attrelid = $1::regclass AND a.attnum > 0 AND NOT a.attisdropped
	 ORDER BY a.attnum`, pgx.Identifier{table}.Sanitize())
	if err != nil {
		return err
	}
	type column struct {
		name, typ string
		key       bool
	}
	cols, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (column, error) {
		var c column
		err := r.Scan(&c.name, &c.typ, &c.key)
		return c, err
	})
	if err != nil {
		return err
	}
	names := make([]string, len(cols))
	exprs := make([]string, len(cols))
	for i, c := range cols {
		names[i] = pgx.Identifier{c.name}.Sanitize()
		v := "(i % 37)"
		if c.key {
			v = "i"
		}
		switch typ := c.typ; {
		case typ == "uuid":
			exprs[i] = "md5(" + v + "::text)::uuid"
		case typ == "text", strings.HasPrefix(typ, "character varying"):
			exprs[i] = "'v' || " + v
		case typ == "bigint", typ == "integer", typ == "smallint", strings.HasPrefix(typ, "numeric"):
			exprs[i] = v
		case typ == "double precision", typ == "real":
			exprs[i] = v + " / 7.0"
		case typ == "boolean":
			exprs[i] = v + " % 2 = 0"
		case typ == "timestamp with time zone":
			exprs[i] = "timestamptz '2026-01-01 00:00:00Z' + i * interval '1 minute'"
		case typ == "jsonb":
			exprs[i] = "'null'::jsonb" // decodes into any Go type
		case typ == "bytea":
			exprs[i] = "'\\x00'::bytea"
		case strings.HasSuffix(typ, "[]"):
			exprs[i] = "'{}'"
		default:
			return fmt.Errorf("column %s: no values for type %s", c.name, c.typ)
		}
	}
	_, err = db.Exec(ctx, fmt.Sprintf("INSERT INTO %s (%s) SELECT %s FROM generate_series(1, %d) AS i",
		pgx.Identifier{table}.Sanitize(), strings.Join(names, ", "), strings.Join(exprs, ", "), n))
	return err
}
