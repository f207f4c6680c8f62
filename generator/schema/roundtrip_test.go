package schema_test

import (
	"bytes"
	"strings"
	"testing"
	"text/template"

	"github.com/projgen/projgen/generator/names"
	"github.com/projgen/projgen/generator/schema"
	"github.com/projgen/projgen/templates"
)

// renderMigration renders the up migration projgen writes for changes, with
// templates/migration.sql.tmpl, in the golang-migrate layout. The data is
// built the way generator/render builds it: names quoted with
// names.SQLIdent, a single-column key marked on its column.
func renderMigration(t *testing.T, changes []schema.Change) string {
	t.Helper()
	tmpl, err := template.New("sql").Funcs(template.FuncMap{"join": strings.Join}).
		ParseFS(templates.FS, "migration.sql.tmpl")
	if err != nil {
		t.Fatal(err)
	}
	q := names.SQLIdent
	column := func(tb *schema.Table, c *schema.Column) map[string]any {
		return map[string]any{
			"Name": q(c.Name), "Type": c.Type, "Default": c.Default, "NotNull": c.NotNull,
			"PrimaryKey": len(tb.PrimaryKey) == 1 && tb.PrimaryKey[0] == c.Name,
		}
	}
	index := func(tb *schema.Table, ix *schema.Index) map[string]any {
		var cols []string
		for _, c := range ix.Columns {
			cols = append(cols, q(c))
		}
		return map[string]any{"Name": q(ix.Name), "Table": q(tb.Name), "Columns": cols, "Unique": ix.Unique}
	}
	kinds := map[schema.ChangeKind]string{
		schema.CreateTable: "create_table", schema.AddColumn: "add_column",
		schema.DropNotNull: "drop_not_null", schema.SetDefault: "set_default",
		schema.AlterType: "alter_type", schema.DropIndex: "drop_index",
		schema.DropColumn: "drop_column", schema.CreateIndex: "create_index",
		schema.DropTable: "drop_table",
	}
	var up []map[string]any
	for _, c := range changes {
		table := map[string]any{"Name": q(c.Table.Name)}
		var cols, ixs []map[string]any
		for _, col := range c.Table.Columns {
			cols = append(cols, column(c.Table, col))
		}
		for _, ix := range c.Table.Indexes {
			ixs = append(ixs, index(c.Table, ix))
		}
		table["Columns"], table["Indexes"] = cols, ixs
		step := map[string]any{"Kind": kinds[c.Kind], "Table": table}
		if c.Column != nil {
			step["Column"] = column(&schema.Table{}, c.Column)
		}
		if c.Index != nil {
			step["Index"] = index(c.Table, c.Index)
		}
		up = append(up, step)
	}
	var b bytes.Buffer
	if err := tmpl.ExecuteTemplate(&b, "golang-migrate-up", map[string]any{"Header": "Migration 0001: test.", "Up": up}); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// readModel returns a wanted read-model table with every kind of column
// projgen generates, and names that need quoting.
func readModel() *schema.Table {
	return &schema.Table{
		Name: "order",
		Columns: []*schema.Column{
			{Name: "aggregate_id", Type: "uuid", NotNull: true},
			{Name: "aggregate_version", Type: "bigint", NotNull: true},
			{Name: "last_position", Type: "bigint", NotNull: true},
			{Name: "created_at", Type: "timestamptz", NotNull: true},
			{Name: "updated_at", Type: "timestamptz", NotNull: true},
			{Name: "user", Type: "text", NotNull: true},
			{Name: "is_suspended", Type: "boolean", NotNull: true, Default: "false"},
			{Name: "tags", Type: "text[]"},
			{Name: "amount", Type: "numeric(20)"},
			{Name: "price", Type: "numeric(10,2)"},
			{Name: "settings", Type: "jsonb"},
			{Name: "took", Type: "bigint"},
			{Name: "ratio", Type: "double precision"},
			{Name: "data", Type: "bytea"},
		},
		PrimaryKey: []string{"aggregate_id"},
		Indexes: []*schema.Index{
			{Name: "order_user_idx", Columns: []string{"user"}},
			{Name: "order_user_tags_key", Columns: []string{"user", "tags"}, Unique: true},
		},
	}
}

func TestRoundTripCreate(t *testing.T) {
	want := readModel()
	sql := renderMigration(t, schema.Diff(nil, want))
	if !strings.Contains(sql, `CREATE TABLE "order"`) {
		t.Fatalf("rendered migration does not create the table:\n%s", sql)
	}
	s := apply(t, sql)
	if got := schema.Diff(s.Table("order"), want); len(got) != 0 {
		t.Errorf("replayed table differs from the wanted one: %s\nmigration:\n%s\nreplayed:\n%s", describeChanges(got), sql, describe(s.Table("order")))
	}
}

func TestRoundTripChanges(t *testing.T) {
	first := readModel()
	second := readModel()
	second.Columns = append(second.Columns,
		&schema.Column{Name: "owner", Type: "uuid"},
		&schema.Column{Name: "is_active", Type: "boolean", NotNull: true, Default: "false"})
	second.Column("user").NotNull = false
	second.Column("ratio").Type = "numeric(10,4)"
	second.Column("is_suspended").Default = "true"
	second.Columns = removeColumn(second.Columns, "took")
	second.Indexes = []*schema.Index{
		{Name: "order_user_idx", Columns: []string{"user", "owner"}},
		{Name: "order_user_tags_key", Columns: []string{"user", "tags"}, Unique: true},
		{Name: "order_owner_idx", Columns: []string{"owner"}},
	}

	s := apply(t, renderMigration(t, schema.Diff(nil, first)))
	changes := schema.Diff(s.Table("order"), second)
	if len(changes) < 7 {
		t.Fatalf("Diff found %s, want a change of each kind", describeChanges(changes))
	}
	sql := renderMigration(t, changes)
	if err := s.Apply(sql); err != nil {
		t.Fatalf("Apply: %v\n%s", err, sql)
	}
	if got := schema.Diff(s.Table("order"), second); len(got) != 0 {
		t.Errorf("replayed table differs from the wanted one: %s\nmigration:\n%s\nreplayed:\n%s", describeChanges(got), sql, describe(s.Table("order")))
	}

	sql = renderMigration(t, schema.Diff(s.Table("order"), nil))
	if err := s.Apply(sql); err != nil {
		t.Fatalf("Apply: %v\n%s", err, sql)
	}
	if len(s.Tables) != 0 {
		t.Errorf("after the drop migration, tables %q are left:\n%s", tableNames(s), sql)
	}
}

// removeColumn returns columns without the named one.
func removeColumn(columns []*schema.Column, name string) []*schema.Column {
	var out []*schema.Column
	for _, c := range columns {
		if c.Name != name {
			out = append(out, c)
		}
	}
	return out
}
