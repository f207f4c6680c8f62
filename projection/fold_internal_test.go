package projection

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"
)

// itemsFold is a table of items keyed by a child id, owned by their
// aggregate, with tombstones and held rows: what a denormalized, filtered
// generated read model describes.
func itemsFold() *Fold {
	return &Fold{
		Table:      "items",
		Columns:    []string{"id", "aggregate_id", "last_position", "name", "active"},
		Key:        []string{"id"},
		Guard:      "last_position",
		Tombstones: "items_tombstones",
		Held:       "items_held",
		Filter:     "active",
		Pass:       true,
		Statements: []FoldStatement{
			{Method: "Add", Kind: FoldInsertFiltered, Columns: []string{"id", "aggregate_id", "last_position", "name", "active"}},
			{Method: "Insert", Kind: FoldInsert, Columns: []string{"id", "aggregate_id", "last_position", "name"}},
			{Method: "Rename", Kind: FoldUpdate, Columns: []string{"id", "last_position", "name"}, Match: []string{"id"}},
			{Method: "Activate", Kind: FoldMove, Columns: []string{"aggregate_id", "last_position", "active"}, Match: []string{"aggregate_id"}},
			{Method: "Deactivate", Kind: FoldMove, Columns: []string{"aggregate_id", "last_position", "active"}, Match: []string{"aggregate_id"}, ToHeld: true},
			{Method: "Remove", Kind: FoldDelete, Columns: []string{"id", "last_position"}, Match: []string{"id"}},
			{Method: "DeleteOwner", Kind: FoldDelete, Columns: []string{"aggregate_id", "last_position"}, Match: []string{"aggregate_id"}},
		},
	}
}

// itemTypes are the type names of itemsFold's columns.
func itemTypes() map[string]string {
	return map[string]string{"id": "uuid", "aggregate_id": "text", "last_position": "int8", "name": "text", "active": "bool"}
}

// call is one Apply.
type call struct {
	method string
	values []any
}

// describeRows lists each key's rows, tombstone first, sorted.
func describeRows(r *FoldRows) string {
	var out []string
	for k, e := range r.rows {
		side := func(name string, row *foldRow) string {
			if row == nil {
				return ""
			}
			return fmt.Sprintf(" %s%v", name, row.values[1:])
		}
		s := fmt.Sprintf("%v:", k.a) + side("main", e.main) + side("held", e.held)
		if e.hasTomb {
			s += fmt.Sprintf(" tomb %d", e.tomb)
		}
		out = append(out, s)
	}
	slices.Sort(out)
	return strings.Join(out, "\n")
}

const (
	item1 = "6f1c2a3e-0000-4000-8000-000000000001"
	item2 = "6f1c2a3e-0000-4000-8000-000000000002"
)

// TestFoldRowsFollowTheStatements states, for histories that exercise each
// rule of the statements, the rows they must leave, worked out by hand
// from the SQL each generated statement runs.
func TestFoldRowsFollowTheStatements(t *testing.T) {
	tests := []struct {
		name  string
		calls []call
		want  string
	}{
		{
			name:  "an older insert after a delete does not bring the row back",
			calls: []call{{"Add", []any{item1, "a", int64(5), "x", true}}, {"Remove", []any{item1, int64(7)}}, {"Add", []any{item1, "a", int64(6), "x", true}}},
			want:  "6f1c2a3e-0000-4000-8000-000000000001: tomb 7",
		},
		{
			name:  "a newer insert after a delete does",
			calls: []call{{"Add", []any{item1, "a", int64(5), "x", true}}, {"Remove", []any{item1, int64(7)}}, {"Add", []any{item1, "a", int64(8), "y", true}}},
			want:  "6f1c2a3e-0000-4000-8000-000000000001: main[a 8 y true] tomb 7",
		},
		{
			name:  "an older update changes nothing",
			calls: []call{{"Add", []any{item1, "a", int64(5), "x", true}}, {"Rename", []any{item1, int64(4), "old"}}},
			want:  "6f1c2a3e-0000-4000-8000-000000000001: main[a 5 x true]",
		},
		{
			name:  "a failing insert waits in the held rows and a move brings it in with the event's values",
			calls: []call{{"Add", []any{item1, "a", int64(5), "x", false}}, {"Activate", []any{"a", int64(6), true}}},
			want:  "6f1c2a3e-0000-4000-8000-000000000001: main[a 6 x true]",
		},
		{
			name:  "a move takes only the rows of its aggregate",
			calls: []call{{"Add", []any{item1, "a", int64(5), "x", true}}, {"Add", []any{item2, "b", int64(6), "y", true}}, {"Deactivate", []any{"a", int64(7), false}}},
			want:  "6f1c2a3e-0000-4000-8000-000000000001: held[a 7 x false]\n6f1c2a3e-0000-4000-8000-000000000002: main[b 6 y true]",
		},
		{
			name:  "a row another aggregate took over is its own",
			calls: []call{{"Add", []any{item1, "a", int64(5), "x", true}}, {"Add", []any{item1, "b", int64(6), "y", true}}, {"DeleteOwner", []any{"a", int64(7)}}},
			want:  "6f1c2a3e-0000-4000-8000-000000000001: main[b 6 y true]",
		},
		{
			name:  "deleting an aggregate's rows leaves their tombstones, on both sides",
			calls: []call{{"Add", []any{item1, "a", int64(5), "x", true}}, {"Add", []any{item2, "a", int64(6), "y", false}}, {"DeleteOwner", []any{"a", int64(9)}}},
			want:  "6f1c2a3e-0000-4000-8000-000000000001: tomb 9\n6f1c2a3e-0000-4000-8000-000000000002: tomb 9",
		},
		{
			name:  "a delete of a key with no row still leaves its tombstone",
			calls: []call{{"Remove", []any{item1, int64(3)}}, {"Add", []any{item1, "a", int64(2), "x", true}}},
			want:  "6f1c2a3e-0000-4000-8000-000000000001: tomb 3",
		},
		{
			name:  "a passing insert releases an older held copy",
			calls: []call{{"Add", []any{item1, "a", int64(5), "x", false}}, {"Add", []any{item1, "a", int64(6), "y", true}}},
			want:  "6f1c2a3e-0000-4000-8000-000000000001: main[a 6 y true]",
		},
		{
			name:  "an insert keeps to its side while a newer copy is held",
			calls: []call{{"Add", []any{item1, "a", int64(6), "x", false}}, {"Add", []any{item1, "a", int64(5), "y", true}}},
			want:  "6f1c2a3e-0000-4000-8000-000000000001: held[a 6 x false]",
		},
		{
			name:  "one key whatever the case of its UUID",
			calls: []call{{"Add", []any{item1, "a", int64(5), "x", true}}, {"Rename", []any{strings.ToUpper(item1), int64(6), "z"}}},
			want:  "6f1c2a3e-0000-4000-8000-000000000001: main[a 6 z true]",
		},
		{
			name:  "a plain insert leaves the columns it does not write unset",
			calls: []call{{"Insert", []any{item1, "a", int64(5), "x"}}},
			want:  "6f1c2a3e-0000-4000-8000-000000000001: main[a 5 x <nil>]",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			plan, err := newFoldPlan(itemsFold(), itemTypes())
			if err != nil {
				t.Fatal(err)
			}
			rows := plan.newRows(foldChunk{}, 100)
			for i, c := range tt.calls {
				if err := rows.Apply(Meta{Position: int64(i + 1)}, c.method, c.values...); err != nil {
					t.Fatalf("%s: %v", c.method, err)
				}
			}
			if got := describeRows(rows); got != tt.want {
				t.Errorf("rows:\n%s\nwant:\n%s", got, tt.want)
			}
		})
	}
}

// TestFoldRowsRefuseWhatTheyCannotFoldExactly checks the errors that make
// a rebuild replay instead.
func TestFoldRowsRefuseWhatTheyCannotFoldExactly(t *testing.T) {
	plan, err := newFoldPlan(itemsFold(), itemTypes())
	if err != nil {
		t.Fatal(err)
	}
	rows := plan.newRows(foldChunk{}, 100)
	for _, c := range []call{
		{"Add", []any{nil, "a", int64(1), "x", true}},
		{"Add", []any{"not-a-uuid", "a", int64(1), "x", true}},
		{"Add", []any{item1, "a", "one", "x", true}},
		{"Rename", []any{item1, int64(1)}},
		{"Unknown", nil},
	} {
		if err := rows.Apply(Meta{}, c.method, c.values...); err == nil {
			t.Errorf("Apply(%s, %v) = nil, want an error", c.method, c.values)
		}
	}
	bad := itemsFold()
	bad.Columns = append(bad.Columns, "missing")
	if _, err := newFoldPlan(bad, itemTypes()); err == nil || !strings.Contains(err.Error(), "missing") {
		t.Errorf("a fold of a column the table lacks: %v, want an error naming it", err)
	}
}

// TestFoldChunksCoverEveryKeyOnce folds the same events in shares of at
// most three keys, pass after pass, as a rebuild does, and checks that
// the shares together hold every key once, with the rows one pass over
// all keys leaves.
func TestFoldChunksCoverEveryKeyOnce(t *testing.T) {
	plan, err := newFoldPlan(itemsFold(), itemTypes())
	if err != nil {
		t.Fatal(err)
	}
	var calls []call
	for i := range 40 {
		id := fmt.Sprintf("6f1c2a3e-0000-4000-8000-%012d", i%17)
		calls = append(calls, call{"Add", []any{id, fmt.Sprint("a", i%5), int64(i + 1), fmt.Sprint("n", i), i%3 != 0}})
		if i%7 == 0 {
			calls = append(calls, call{"DeleteOwner", []any{fmt.Sprint("a", i%5), int64(i + 1)}})
		}
	}
	fold := func(chunk foldChunk, limit int) *FoldRows {
		rows := plan.newRows(chunk, limit)
		for i, c := range calls {
			if err := rows.Apply(Meta{Position: int64(i)}, c.method, c.values...); err != nil {
				t.Fatal(err)
			}
		}
		return rows
	}
	whole := fold(foldChunk{}, 1000)
	want := map[foldKey]string{}
	for k, e := range whole.rows {
		want[k] = describeEntry(e)
	}
	got := map[foldKey]string{}
	pending, passes := []foldChunk{{}}, 0
	for len(pending) > 0 {
		c := pending[len(pending)-1]
		pending = pending[:len(pending)-1]
		rows := fold(c, 3)
		passes++
		if len(rows.rows) > 3 {
			t.Errorf("pass %d holds %d keys, over its limit of 3", passes, len(rows.rows))
		}
		pending = append(pending, rows.splits...)
		for k, e := range rows.rows {
			if _, twice := got[k]; twice {
				t.Errorf("key %v folded in two passes", k.a)
			}
			got[k] = describeEntry(e)
		}
	}
	if passes < 2 {
		t.Fatalf("folded in %d pass(es), want several", passes)
	}
	if !maps.Equal(got, want) {
		t.Errorf("the shares hold\n%v\nwant\n%v", got, want)
	}
}

func describeEntry(e *foldEntry) string {
	s := fmt.Sprintf("tomb %v %d", e.hasTomb, e.tomb)
	for _, row := range []*foldRow{e.main, e.held} {
		if row != nil {
			s += fmt.Sprint(" ", row.values, row.set)
		}
	}
	return s
}
