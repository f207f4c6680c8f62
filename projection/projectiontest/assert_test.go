package projectiontest_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/projgen/projgen/projection/projectiontest"
)

var (
	id1 = uuid.MustParse("11111111-1111-4111-8111-111111111111")
	id2 = uuid.MustParse("22222222-2222-4222-8222-222222222222")
	id3 = uuid.MustParse("33333333-3333-4333-8333-333333333333")
	// at1 is row 1's timestamp, at microsecond precision as PostgreSQL
	// stores it.
	at1 = time.Date(2024, 5, 6, 7, 8, 9, 123456000, time.UTC)
)

// itemsDB opens a test schema with an items table holding two rows: id1,
// with every column set but note, and id2, with note set and the others
// NULL or empty.
func itemsDB(t *testing.T) *pgxpool.Pool {
	t.Helper()
	useDB(t)
	pool := projectiontest.Open(t, migrations(t, map[string]string{
		"1_items.up.sql": `CREATE TABLE items (
			id uuid PRIMARY KEY,
			name text NOT NULL,
			note text,
			data jsonb,
			tags text[],
			at timestamptz,
			n bigint,
			"Mixed Case" text
		);`,
	}))
	ctx := context.Background()
	if _, err := pool.Exec(ctx, `INSERT INTO items (id, name, note, data, tags, at, n, "Mixed Case") VALUES
		($1, 'first', NULL, '{"a": 1, "b": [1, 2]}', '{x,y}', $2, 5, 'M'),
		($3, 'second', 'n2', NULL, '{}', NULL, NULL, NULL)`, id1, at1, id2); err != nil {
		t.Fatalf("insert: %v", err)
	}
	return pool
}

func TestAssertPasses(t *testing.T) {
	pool := itemsDB(t)
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		berlin = time.FixedZone("UTC+2", 2*3600)
	}
	tests := []struct {
		name   string
		assert func(tb testing.TB)
	}{
		{"row by key only", func(tb testing.TB) {
			projectiontest.AssertRow(tb, pool, "items", projectiontest.Row{"id": id1}, nil)
		}},
		{"row with every column", func(tb testing.TB) {
			projectiontest.AssertRow(tb, pool, "items", projectiontest.Row{"id": id1}, projectiontest.Row{
				"name":       "first",
				"note":       nil,
				"data":       map[string]any{"b": []any{1, 2}, "a": 1},
				"tags":       []string{"x", "y"},
				"at":         at1,
				"n":          int64(5),
				"Mixed Case": "M",
			})
		}},
		{"key given as a string", func(tb testing.TB) {
			projectiontest.AssertRow(tb, pool, "items", projectiontest.Row{"id": id1.String()}, projectiontest.Row{"name": "first"})
		}},
		{"NULL columns match nil", func(tb testing.TB) {
			projectiontest.AssertRow(tb, pool, "items", projectiontest.Row{"id": id2}, projectiontest.Row{
				"note": "n2", "data": nil, "at": nil, "n": nil, "Mixed Case": nil,
			})
		}},
		{"empty array", func(tb testing.TB) {
			projectiontest.AssertRow(tb, pool, "items", projectiontest.Row{"id": id2}, projectiontest.Row{"tags": []string{}})
		}},
		{"jsonb compares semantically", func(tb testing.TB) {
			projectiontest.AssertRow(tb, pool, "items", projectiontest.Row{"id": id1}, projectiontest.Row{
				"data": json.RawMessage(`{ "b" : [1,2], "a" : 1.0 }`),
			})
		}},
		{"timestamptz compares the instant, not the zone", func(tb testing.TB) {
			projectiontest.AssertRow(tb, pool, "items", projectiontest.Row{"id": id1}, projectiontest.Row{"at": at1.In(berlin)})
		}},
		{"timestamptz compares at microsecond precision", func(tb testing.TB) {
			projectiontest.AssertRow(tb, pool, "items", projectiontest.Row{"id": id1}, projectiontest.Row{"at": at1.Add(789 * time.Nanosecond)})
		}},
		{"key on several columns", func(tb testing.TB) {
			projectiontest.AssertRow(tb, pool, "items", projectiontest.Row{"id": id1, "name": "first"}, projectiontest.Row{"n": 5})
		}},
		{"no row", func(tb testing.TB) {
			projectiontest.AssertNoRow(tb, pool, "items", projectiontest.Row{"id": id3})
		}},
		{"no row with that key combination", func(tb testing.TB) {
			projectiontest.AssertNoRow(tb, pool, "items", projectiontest.Row{"id": id1, "name": "second"})
		}},
		{"count", func(tb testing.TB) {
			projectiontest.AssertCount(tb, pool, "items", 2)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fake, finished := runFake(t, tt.assert)
			if !finished || fake.Failed() || fake.Skipped() {
				t.Errorf("the assertion failed: %s", fake.all())
			}
		})
	}
}

func TestAssertFails(t *testing.T) {
	pool := itemsDB(t)
	tests := []struct {
		name   string
		assert func(tb testing.TB)
		// want are substrings of the failure message.
		want []string
		// row is the name of the row the message must show as JSON, or "".
		row string
	}{
		{
			name: "wrong text",
			assert: func(tb testing.TB) {
				projectiontest.AssertRow(tb, pool, "items", projectiontest.Row{"id": id1}, projectiontest.Row{"name": "wrong"})
			},
			want: []string{"items:", `name="wrong"`, "0 match"},
			row:  "first",
		},
		{
			name: "value wanted, NULL found",
			assert: func(tb testing.TB) {
				projectiontest.AssertRow(tb, pool, "items", projectiontest.Row{"id": id1}, projectiontest.Row{"note": "x"})
			},
			want: []string{"items:", `"note":null`},
			row:  "first",
		},
		{
			name: "NULL wanted, value found",
			assert: func(tb testing.TB) {
				projectiontest.AssertRow(tb, pool, "items", projectiontest.Row{"id": id2}, projectiontest.Row{"note": nil})
			},
			want: []string{"items:", `"note":"n2"`},
			row:  "second",
		},
		{
			name: "different jsonb",
			assert: func(tb testing.TB) {
				projectiontest.AssertRow(tb, pool, "items", projectiontest.Row{"id": id1}, projectiontest.Row{"data": map[string]any{"a": 2, "b": []any{1, 2}}})
			},
			want: []string{"items:"},
			row:  "first",
		},
		{
			name: "array in another order",
			assert: func(tb testing.TB) {
				projectiontest.AssertRow(tb, pool, "items", projectiontest.Row{"id": id1}, projectiontest.Row{"tags": []string{"y", "x"}})
			},
			want: []string{"items:"},
			row:  "first",
		},
		{
			name: "timestamp a millisecond off",
			assert: func(tb testing.TB) {
				projectiontest.AssertRow(tb, pool, "items", projectiontest.Row{"id": id1}, projectiontest.Row{"at": at1.Add(time.Millisecond)})
			},
			want: []string{"items:"},
			row:  "first",
		},
		{
			name: "no row with the key",
			assert: func(tb testing.TB) {
				projectiontest.AssertRow(tb, pool, "items", projectiontest.Row{"id": id3}, projectiontest.Row{"name": "first"})
			},
			want: []string{"items:", "0 match", "(none)"},
		},
		{
			name: "row that should not be there",
			assert: func(tb testing.TB) {
				projectiontest.AssertNoRow(tb, pool, "items", projectiontest.Row{"id": id1})
			},
			want: []string{"items:", "want no row", "found 1"},
			row:  "first",
		},
		{
			name: "wrong count",
			assert: func(tb testing.TB) {
				projectiontest.AssertCount(tb, pool, "items", 3)
			},
			want: []string{"items:", "want 3 rows, found 2"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fake, finished := runFake(t, tt.assert)
			if !finished {
				t.Fatalf("the assertion stopped the test: %s", fake.all())
			}
			if len(fake.errors) != 1 || len(fake.fatals)+len(fake.skips) != 0 {
				t.Fatalf("got %s, want one failure", fake.all())
			}
			msg := fake.errors[0]
			contains(t, "failure message", msg, tt.want...)
			if tt.row != "" {
				checkRowJSON(t, msg, tt.row)
			}
		})
	}
}

// checkRowJSON fails the test unless msg has a line that is a JSON object
// of a row of items named name, as the failure messages show rows.
func checkRowJSON(t *testing.T, msg, name string) {
	t.Helper()
	for _, line := range strings.Split(msg, "\n") {
		var row map[string]any
		if json.Unmarshal([]byte(line), &row) != nil {
			continue
		}
		if row["name"] == name {
			for _, col := range []string{"id", "note", "data", "tags", "at", "n", "Mixed Case"} {
				if _, ok := row[col]; !ok {
					t.Errorf("row %s in the message lacks column %s: %s", name, col, line)
				}
			}
			return
		}
	}
	t.Errorf("failure message does not show row %s as JSON:\n%s", name, msg)
}

func TestAssertMissingTable(t *testing.T) {
	pool := itemsDB(t)
	for name, assert := range map[string]func(tb testing.TB){
		"AssertRow":   func(tb testing.TB) { projectiontest.AssertRow(tb, pool, "nope", projectiontest.Row{"id": id1}, nil) },
		"AssertNoRow": func(tb testing.TB) { projectiontest.AssertNoRow(tb, pool, "nope", projectiontest.Row{"id": id1}) },
		"AssertCount": func(tb testing.TB) { projectiontest.AssertCount(tb, pool, "nope", 0) },
	} {
		t.Run(name, func(t *testing.T) {
			fake, finished := runFake(t, assert)
			if finished || len(fake.fatals) != 1 {
				t.Fatalf("got %s (finished %v), want one fatal failure", fake.all(), finished)
			}
			contains(t, "fatal message", fake.fatals[0], "nope")
		})
	}
}
