package schema_test

import (
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/projgen/projgen/generator/schema"
)

// installations returns a fresh copy of a typical read-model table, for a
// test to change into the table it has or wants.
func installations() *schema.Table {
	return &schema.Table{
		Name: "installations",
		Columns: []*schema.Column{
			{Name: "aggregate_id", Type: "uuid", NotNull: true},
			{Name: "aggregate_version", Type: "bigint", NotNull: true},
			{Name: "name", Type: "text", NotNull: true},
			{Name: "is_suspended", Type: "boolean", NotNull: true, Default: "false"},
			{Name: "note", Type: "text"},
		},
		PrimaryKey: []string{"aggregate_id"},
		Indexes:    []*schema.Index{{Name: "installations_name_idx", Columns: []string{"name"}}},
	}
}

// change is the part of a schema.Change a test checks: its kind and the
// name of the column or index it is about.
type change struct {
	Kind schema.ChangeKind
	Name string
}

// summarize reduces changes to their kinds and column or index names.
func summarize(changes []schema.Change) []change {
	var out []change
	for _, c := range changes {
		s := change{Kind: c.Kind}
		switch {
		case c.Column != nil:
			s.Name = c.Column.Name
		case c.Index != nil:
			s.Name = c.Index.Name
		case c.Table != nil:
			s.Name = c.Table.Name
		}
		out = append(out, s)
	}
	return out
}

// describeChanges formats changes with their String method, for failure
// messages.
func describeChanges(changes []schema.Change) string {
	var lines []string
	for _, c := range changes {
		lines = append(lines, c.String())
	}
	return "[" + strings.Join(lines, "; ") + "]"
}

func TestDiffNilTables(t *testing.T) {
	if got := schema.Diff(nil, nil); got != nil {
		t.Errorf("Diff(nil, nil) = %s, want nil", describeChanges(got))
	}

	want := installations()
	got := schema.Diff(nil, want)
	if len(got) != 1 || got[0].Kind != schema.CreateTable || got[0].Table != want {
		t.Errorf("Diff(nil, want) = %s, want one CreateTable of want", describeChanges(got))
	} else if got[0].Destructive() {
		t.Errorf("CreateTable is Destructive")
	}

	have := installations()
	got = schema.Diff(have, nil)
	if len(got) != 1 || got[0].Kind != schema.DropTable || got[0].Table != have {
		t.Errorf("Diff(have, nil) = %s, want one DropTable of have", describeChanges(got))
	} else if !got[0].Destructive() {
		t.Errorf("DropTable is not Destructive")
	}
}

func TestDiffSameTable(t *testing.T) {
	if got := schema.Diff(installations(), installations()); len(got) != 0 {
		t.Errorf("Diff of equal tables = %s, want none", describeChanges(got))
	}
}

func TestDiff(t *testing.T) {
	tests := []struct {
		name string
		have func(*schema.Table) // changes the have table; nil leaves it
		want func(*schema.Table) // changes the wanted table; nil leaves it
		// changes are the expected changes, in order.
		changes []change
		// destructive are the expected Destructive results, one a change.
		destructive []bool
	}{
		{
			name: "added NOT NULL column without a default is added nullable",
			want: func(tb *schema.Table) {
				tb.Columns = append(tb.Columns, &schema.Column{Name: "owner", Type: "text", NotNull: true})
			},
			changes:     []change{{schema.AddColumn, "owner"}},
			destructive: []bool{false},
		},
		{
			name: "added column with a default keeps NOT NULL",
			want: func(tb *schema.Table) {
				tb.Columns = append(tb.Columns, &schema.Column{Name: "is_active", Type: "boolean", NotNull: true, Default: "false"})
			},
			changes:     []change{{schema.AddColumn, "is_active"}},
			destructive: []bool{false},
		},
		{
			name:        "type change",
			want:        func(tb *schema.Table) { tb.Column("note").Type = "jsonb" },
			changes:     []change{{schema.AlterType, "note"}},
			destructive: []bool{true},
		},
		{
			name: "dropped column",
			want: func(tb *schema.Table) {
				tb.Columns = slices.DeleteFunc(tb.Columns, func(c *schema.Column) bool { return c.Name == "note" })
			},
			changes:     []change{{schema.DropColumn, "note"}},
			destructive: []bool{true},
		},
		{
			name:        "NOT NULL to nullable",
			want:        func(tb *schema.Table) { tb.Column("name").NotNull = false },
			changes:     []change{{schema.DropNotNull, "name"}},
			destructive: []bool{false},
		},
		{
			name: "nullable to NOT NULL is left alone",
			want: func(tb *schema.Table) { tb.Column("note").NotNull = true },
		},
		{
			name: "key column not marked NOT NULL in want is left alone",
			want: func(tb *schema.Table) { tb.Column("aggregate_id").NotNull = false },
		},
		{
			name:        "default change",
			want:        func(tb *schema.Table) { tb.Column("is_suspended").Default = "true" },
			changes:     []change{{schema.SetDefault, "is_suspended"}},
			destructive: []bool{false},
		},
		{
			name:        "default added",
			have:        func(tb *schema.Table) { tb.Column("is_suspended").Default = "" },
			changes:     []change{{schema.SetDefault, "is_suspended"}},
			destructive: []bool{false},
		},
		{
			name: "index added",
			want: func(tb *schema.Table) {
				tb.Indexes = append(tb.Indexes, &schema.Index{Name: "installations_note_idx", Columns: []string{"note"}})
			},
			changes:     []change{{schema.CreateIndex, "installations_note_idx"}},
			destructive: []bool{false},
		},
		{
			// Users add indexes of their own: one projgen does not want
			// is kept.
			name:    "index not wanted is kept",
			want:    func(tb *schema.Table) { tb.Indexes = nil },
			changes: nil,
		},
		{
			// The plain index projgen made before the column became
			// unique is dropped; the unique one replaces it.
			name: "retired index dropped",
			want: func(tb *schema.Table) {
				tb.Indexes = []*schema.Index{{Name: "installations_name_key", Columns: []string{"name"}, Unique: true}}
				tb.Retired = []*schema.Index{{Name: "installations_name_idx", Columns: []string{"name"}}}
			},
			changes:     []change{{schema.DropIndex, "installations_name_idx"}, {schema.CreateIndex, "installations_name_key"}},
			destructive: []bool{false, false},
		},
		{
			// An index of that name on other columns is not the one
			// projgen made: the user's, kept.
			name: "retired name on other columns kept",
			have: func(tb *schema.Table) { tb.Indexes[0].Columns = []string{"name", "note"} },
			want: func(tb *schema.Table) {
				tb.Indexes = nil
				tb.Retired = []*schema.Index{{Name: "installations_name_idx", Columns: []string{"name"}}}
			},
		},
		{
			name:        "index columns changed",
			want:        func(tb *schema.Table) { tb.Indexes[0].Columns = []string{"name", "note"} },
			changes:     []change{{schema.DropIndex, "installations_name_idx"}, {schema.CreateIndex, "installations_name_idx"}},
			destructive: []bool{false, false},
		},
		{
			name:        "index made unique",
			want:        func(tb *schema.Table) { tb.Indexes[0].Unique = true },
			changes:     []change{{schema.DropIndex, "installations_name_idx"}, {schema.CreateIndex, "installations_name_idx"}},
			destructive: []bool{false, false},
		},
		{
			name: "many changes come in Kind order",
			have: func(tb *schema.Table) {
				tb.Columns = append(tb.Columns, &schema.Column{Name: "old", Type: "text"})
				tb.Indexes = append(tb.Indexes, &schema.Index{Name: "installations_old_idx", Columns: []string{"old"}})
			},
			want: func(tb *schema.Table) {
				// Listed so that the column loop meets them out of Kind order.
				tb.Column("is_suspended").Default = "true"
				tb.Column("aggregate_version").Type = "integer"
				tb.Column("name").NotNull = false
				tb.Columns = append(tb.Columns, &schema.Column{Name: "added", Type: "text"})
				tb.Indexes = append(tb.Indexes, &schema.Index{Name: "installations_added_idx", Columns: []string{"added"}})
			},
			changes: []change{
				{schema.AddColumn, "added"},
				{schema.DropNotNull, "name"},
				{schema.SetDefault, "is_suspended"},
				{schema.AlterType, "aggregate_version"},
				// Dropping the column drops its index.
				{schema.DropColumn, "old"},
				{schema.CreateIndex, "installations_added_idx"},
			},
			destructive: []bool{false, false, false, true, true, false},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			have, want := installations(), installations()
			if tt.have != nil {
				tt.have(have)
			}
			if tt.want != nil {
				tt.want(want)
			}
			got := schema.Diff(have, want)
			if s := summarize(got); !reflect.DeepEqual(s, tt.changes) {
				t.Fatalf("Diff = %s\ngot  %v\nwant %v", describeChanges(got), s, tt.changes)
			}
			for i, c := range got {
				if c.Destructive() != tt.destructive[i] {
					t.Errorf("%s: Destructive() = %v, want %v", c, c.Destructive(), tt.destructive[i])
				}
				if c.Table != want {
					t.Errorf("%s: Table is not the wanted table", c)
				}
			}
			if !slices.IsSortedFunc(got, func(a, b schema.Change) int { return int(a.Kind) - int(b.Kind) }) {
				t.Errorf("Diff = %s, not in Kind order", describeChanges(got))
			}
		})
	}
}

func TestDiffAddColumnDoesNotChangeWant(t *testing.T) {
	have, want := installations(), installations()
	owner := &schema.Column{Name: "owner", Type: "text", NotNull: true}
	want.Columns = append(want.Columns, owner)
	got := schema.Diff(have, want)
	if len(got) != 1 || got[0].Kind != schema.AddColumn {
		t.Fatalf("Diff = %s, want one AddColumn", describeChanges(got))
	}
	if got[0].Column.NotNull {
		t.Errorf("added column is NOT NULL without a default")
	}
	if !owner.NotNull {
		t.Errorf("Diff changed the wanted column to nullable")
	}
}

func TestDiffChangeColumns(t *testing.T) {
	have, want := installations(), installations()
	want.Column("note").Type = "jsonb"
	want.Column("name").NotNull = false
	want.Column("is_suspended").Default = "true"
	for _, c := range schema.Diff(have, want) {
		if c.Was != have.Column(c.Column.Name) {
			t.Errorf("%s: Was is not the current column", c)
		}
		if c.Column != want.Column(c.Column.Name) {
			t.Errorf("%s: Column is not the wanted column", c)
		}
	}
}

func TestChangeString(t *testing.T) {
	tb := installations()
	col := tb.Column("note")
	ix := tb.Indexes[0]
	tests := []struct {
		c    schema.Change
		want string
	}{
		{schema.Change{Kind: schema.CreateTable, Table: tb}, "create table installations"},
		{schema.Change{Kind: schema.AddColumn, Table: tb, Column: col}, "add column installations.note text"},
		{schema.Change{Kind: schema.DropNotNull, Table: tb, Column: col}, "allow NULL in installations.note"},
		{schema.Change{Kind: schema.SetDefault, Table: tb, Column: col}, "set the default of installations.note"},
		{schema.Change{Kind: schema.AlterType, Table: tb, Column: &schema.Column{Name: "note", Type: "jsonb"}, Was: col}, "change installations.note from text to jsonb"},
		{schema.Change{Kind: schema.DropIndex, Table: tb, Index: ix}, "drop index installations_name_idx"},
		{schema.Change{Kind: schema.DropColumn, Table: tb, Column: col}, "drop column installations.note"},
		{schema.Change{Kind: schema.CreateIndex, Table: tb, Index: ix}, "create index installations_name_idx"},
		{schema.Change{Kind: schema.DropTable, Table: tb}, "drop table installations"},
	}
	for _, tt := range tests {
		if got := tt.c.String(); got != tt.want {
			t.Errorf("String() = %q, want %q", got, tt.want)
		}
	}
}
