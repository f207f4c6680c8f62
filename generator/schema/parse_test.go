package schema_test

import (
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/projgen/projgen/generator/schema"
)

// apply replays the migrations, one Apply call each, onto a new schema and
// fails the test if any of them is rejected.
func apply(t *testing.T, migrations ...string) *schema.Schema {
	t.Helper()
	s := &schema.Schema{}
	for i, m := range migrations {
		if err := s.Apply(m); err != nil {
			t.Fatalf("Apply(migration %d): %v\n%s", i+1, err, m)
		}
	}
	return s
}

// describe formats a table, with every column, the key and the indexes, for
// failure messages.
func describe(tb *schema.Table) string {
	if tb == nil {
		return "<nil table>"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "table %q key %q\n", tb.Name, tb.PrimaryKey)
	for _, c := range tb.Columns {
		fmt.Fprintf(&b, "  column %q type %q notnull=%v default %q\n", c.Name, c.Type, c.NotNull, c.Default)
	}
	for _, ix := range tb.Indexes {
		fmt.Fprintf(&b, "  index %q on %q unique=%v\n", ix.Name, ix.Columns, ix.Unique)
	}
	return b.String()
}

// checkTable fails the test unless got has exactly want's name, columns,
// key and indexes (a nil and an empty list are the same).
func checkTable(t *testing.T, got, want *schema.Table) {
	t.Helper()
	if describe(got) != describe(want) {
		t.Errorf("table differs\ngot:\n%swant:\n%s", describe(got), describe(want))
	}
}

// tableNames returns the names of the schema's tables, in creation order.
func tableNames(s *schema.Schema) []string {
	var out []string
	for _, tb := range s.Tables {
		out = append(out, tb.Name)
	}
	return out
}

func TestApplyCreateTable(t *testing.T) {
	tests := []struct {
		name string
		sql  string
		want *schema.Table
	}{
		{
			name: "unquoted names fold to lower case",
			sql:  `CREATE TABLE Orders (ID UUID PRIMARY KEY, Total INT8 NOT NULL, Note Text);`,
			want: &schema.Table{
				Name: "orders",
				Columns: []*schema.Column{
					{Name: "id", Type: "uuid", NotNull: true},
					{Name: "total", Type: "bigint", NotNull: true},
					{Name: "note", Type: "text"},
				},
				PrimaryKey: []string{"id"},
			},
		},
		{
			name: "quoted names keep their case, spaces and keywords",
			sql:  `CREATE TABLE "Order Items" ("Key" text NOT NULL, "select" int, "a""b" bool)`,
			want: &schema.Table{
				Name: "Order Items",
				Columns: []*schema.Column{
					{Name: "Key", Type: "text", NotNull: true},
					{Name: "select", Type: "integer"},
					{Name: `a"b`, Type: "boolean"},
				},
			},
		},
		{
			name: "schema-qualified name",
			sql:  `CREATE TABLE public.accounts (id bigint PRIMARY KEY)`,
			want: &schema.Table{
				Name:       "accounts",
				Columns:    []*schema.Column{{Name: "id", Type: "bigint", NotNull: true}},
				PrimaryKey: []string{"id"},
			},
		},
		{
			name: "quoted schema-qualified name",
			sql:  `CREATE TABLE "public"."Accounts" (id bigint)`,
			want: &schema.Table{
				Name:    "Accounts",
				Columns: []*schema.Column{{Name: "id", Type: "bigint"}},
			},
		},
		{
			name: "defaults with expressions, commas and parentheses",
			sql: `CREATE TABLE t (
				a timestamptz NOT NULL DEFAULT now(),
				b text DEFAULT 'x, (y' NOT NULL,
				c integer DEFAULT coalesce(1, 2),
				d boolean DEFAULT FALSE,
				e text DEFAULT 'it''s',
				f text NULL
			)`,
			want: &schema.Table{
				Name: "t",
				Columns: []*schema.Column{
					{Name: "a", Type: "timestamptz", NotNull: true, Default: "now ( )"},
					{Name: "b", Type: "text", NotNull: true, Default: "'x, (y'"},
					{Name: "c", Type: "integer", Default: "coalesce ( 1 , 2 )"},
					{Name: "d", Type: "boolean", Default: "false"},
					{Name: "e", Type: "text", Default: "'it''s'"},
					{Name: "f", Type: "text"},
				},
			},
		},
		{
			name: "strings and quoted names in defaults keep their case",
			sql:  `CREATE TABLE t (status text NOT NULL DEFAULT 'Pending', owner text DEFAULT "CurrentOwner"(), at timestamptz DEFAULT CURRENT_TIMESTAMP)`,
			want: &schema.Table{
				Name: "t",
				Columns: []*schema.Column{
					{Name: "status", Type: "text", NotNull: true, Default: "'Pending'"},
					{Name: "owner", Type: "text", Default: `"CurrentOwner" ( )`},
					{Name: "at", Type: "timestamptz", Default: "current_timestamp"},
				},
			},
		},
		{
			name: "decimal defaults stay valid SQL",
			sql:  `CREATE TABLE t (ratio double precision DEFAULT 0.5)`,
			want: &schema.Table{
				Name:    "t",
				Columns: []*schema.Column{{Name: "ratio", Type: "double precision", Default: "0.5"}},
			},
		},
		{
			name: "table-level primary key makes its columns NOT NULL",
			sql:  `CREATE TABLE t (a int, b text, PRIMARY KEY (a))`,
			want: &schema.Table{
				Name: "t",
				Columns: []*schema.Column{
					{Name: "a", Type: "integer", NotNull: true},
					{Name: "b", Type: "text"},
				},
				PrimaryKey: []string{"a"},
			},
		},
		{
			name: "composite primary key",
			sql:  `CREATE TABLE t (a int, b text, c text, PRIMARY KEY (a, b))`,
			want: &schema.Table{
				Name: "t",
				Columns: []*schema.Column{
					{Name: "a", Type: "integer", NotNull: true},
					{Name: "b", Type: "text", NotNull: true},
					{Name: "c", Type: "text"},
				},
				PrimaryKey: []string{"a", "b"},
			},
		},
		{
			name: "constraint clauses are skipped",
			sql: `CREATE TABLE t (
				a int CONSTRAINT a_positive CHECK (a > 0) NOT NULL,
				b int REFERENCES other (id) ON DELETE CASCADE,
				c text UNIQUE,
				CONSTRAINT t_b_key UNIQUE (b),
				CHECK (b < 10),
				FOREIGN KEY (a) REFERENCES other (id)
			)`,
			want: &schema.Table{
				Name: "t",
				Columns: []*schema.Column{
					{Name: "a", Type: "integer", NotNull: true},
					{Name: "b", Type: "integer"},
					{Name: "c", Type: "text"},
				},
			},
		},
		{
			name: "multi-word, parameterized and array types",
			sql: `CREATE TABLE t (
				a timestamp with time zone,
				b varchar (20),
				c text [ ],
				d numeric (20),
				e numeric(10, 2),
				f double precision,
				g int8[]
			)`,
			want: &schema.Table{
				Name: "t",
				Columns: []*schema.Column{
					{Name: "a", Type: "timestamptz"},
					{Name: "b", Type: "varchar(20)"},
					{Name: "c", Type: "text[]"},
					{Name: "d", Type: "numeric(20)"},
					{Name: "e", Type: "numeric(10,2)"},
					{Name: "f", Type: "double precision"},
					{Name: "g", Type: "bigint[]"},
				},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := apply(t, tt.sql)
			if len(s.Tables) != 1 {
				t.Fatalf("got tables %q, want one", tableNames(s))
			}
			checkTable(t, s.Tables[0], tt.want)
		})
	}
}

func TestApplyCreateTableIfNotExists(t *testing.T) {
	s := apply(t,
		`CREATE TABLE IF NOT EXISTS t (a int)`,
		`CREATE TABLE IF NOT EXISTS t (b text, c text)`,
	)
	if len(s.Tables) != 1 {
		t.Fatalf("got tables %q, want only t", tableNames(s))
	}
	checkTable(t, s.Table("t"), &schema.Table{Name: "t", Columns: []*schema.Column{{Name: "a", Type: "integer"}}})
}

func TestApplyCreateIndex(t *testing.T) {
	const create = `CREATE TABLE t (a int, b text, c text);`
	tests := []struct {
		name string
		sql  string
		want []*schema.Index
	}{
		{
			name: "named",
			sql:  `CREATE INDEX t_b_idx ON t (b);`,
			want: []*schema.Index{{Name: "t_b_idx", Columns: []string{"b"}}},
		},
		{
			name: "unique, if not exists",
			sql:  `CREATE UNIQUE INDEX IF NOT EXISTS t_a_key ON t (a);`,
			want: []*schema.Index{{Name: "t_a_key", Columns: []string{"a"}, Unique: true}},
		},
		{
			name: "if not exists twice keeps the first",
			sql:  `CREATE INDEX IF NOT EXISTS ix ON t (a); CREATE INDEX IF NOT EXISTS ix ON t (b);`,
			want: []*schema.Index{{Name: "ix", Columns: []string{"a"}}},
		},
		{
			name: "qualified table, method, sort order and quoted names",
			sql:  `CREATE INDEX "Ix" ON public.t USING btree (a DESC NULLS LAST, "B") WHERE a > 0;`,
			want: []*schema.Index{{Name: "Ix", Columns: []string{"a", "B"}}},
		},
		{
			name: "unnamed, one column",
			sql:  `CREATE INDEX ON t (c);`,
			want: []*schema.Index{{Name: "t_c_idx", Columns: []string{"c"}}},
		},
		{
			name: "unnamed, two columns",
			sql:  `CREATE UNIQUE INDEX ON t (a, b);`,
			want: []*schema.Index{{Name: "t_a_b_idx", Columns: []string{"a", "b"}, Unique: true}},
		},
		{
			name: "concurrently",
			sql:  `CREATE INDEX CONCURRENTLY ix ON t (a);`,
			want: []*schema.Index{{Name: "ix", Columns: []string{"a"}}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := apply(t, create, tt.sql)
			got := s.Table("t").Indexes
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("indexes differ\ngot:\n%swant indexes %s", describe(s.Table("t")), fmtIndexes(tt.want))
			}
		})
	}
}

// fmtIndexes formats indexes for failure messages.
func fmtIndexes(ixs []*schema.Index) string {
	var parts []string
	for _, ix := range ixs {
		parts = append(parts, fmt.Sprintf("%+v", *ix))
	}
	return "[" + strings.Join(parts, " ") + "]"
}

func TestApplyAlterTable(t *testing.T) {
	const create = `
		CREATE TABLE t (id uuid PRIMARY KEY, name text NOT NULL, n int DEFAULT 0);
		CREATE INDEX t_name_idx ON t (name);`
	// base returns the table create makes, for the cases to change.
	base := func() *schema.Table {
		return &schema.Table{
			Name: "t",
			Columns: []*schema.Column{
				{Name: "id", Type: "uuid", NotNull: true},
				{Name: "name", Type: "text", NotNull: true},
				{Name: "n", Type: "integer", Default: "0"},
			},
			PrimaryKey: []string{"id"},
			Indexes:    []*schema.Index{{Name: "t_name_idx", Columns: []string{"name"}}},
		}
	}
	tests := []struct {
		name   string
		sql    string
		change func(*schema.Table)
	}{
		{
			name: "add column",
			sql:  `ALTER TABLE t ADD COLUMN note text;`,
			change: func(tb *schema.Table) {
				tb.Columns = append(tb.Columns, &schema.Column{Name: "note", Type: "text"})
			},
		},
		{
			name: "add without COLUMN, with constraints",
			sql:  `ALTER TABLE public.t ADD flag boolean NOT NULL DEFAULT false;`,
			change: func(tb *schema.Table) {
				tb.Columns = append(tb.Columns, &schema.Column{Name: "flag", Type: "boolean", NotNull: true, Default: "false"})
			},
		},
		{
			name: "add column if not exists, new",
			sql:  `ALTER TABLE t ADD COLUMN IF NOT EXISTS note text;`,
			change: func(tb *schema.Table) {
				tb.Columns = append(tb.Columns, &schema.Column{Name: "note", Type: "text"})
			},
		},
		{
			name:   "add column if not exists, existing",
			sql:    `ALTER TABLE t ADD COLUMN IF NOT EXISTS name bigint;`,
			change: func(tb *schema.Table) {},
		},
		{
			name:   "add constraint is skipped",
			sql:    `ALTER TABLE t ADD CONSTRAINT n_positive CHECK (n > 0);`,
			change: func(tb *schema.Table) {},
		},
		{
			name: "drop column drops its indexes",
			sql:  `ALTER TABLE t DROP COLUMN name;`,
			change: func(tb *schema.Table) {
				tb.Columns = []*schema.Column{tb.Columns[0], tb.Columns[2]}
				tb.Indexes = nil
			},
		},
		{
			name:   "drop column if exists, missing",
			sql:    `ALTER TABLE t DROP COLUMN IF EXISTS missing CASCADE;`,
			change: func(tb *schema.Table) {},
		},
		{
			name:   "alter type with USING",
			sql:    `ALTER TABLE t ALTER COLUMN n TYPE bigint USING n::bigint;`,
			change: func(tb *schema.Table) { tb.Column("n").Type = "bigint" },
		},
		{
			name:   "set data type with a comma in it",
			sql:    `ALTER TABLE t ALTER n SET DATA TYPE numeric(10, 2) USING round(n::numeric, 2);`,
			change: func(tb *schema.Table) { tb.Column("n").Type = "numeric(10,2)" },
		},
		{
			name:   "drop not null",
			sql:    `ALTER TABLE t ALTER COLUMN name DROP NOT NULL;`,
			change: func(tb *schema.Table) { tb.Column("name").NotNull = false },
		},
		{
			name:   "set not null",
			sql:    `ALTER TABLE t ALTER COLUMN n SET NOT NULL;`,
			change: func(tb *schema.Table) { tb.Column("n").NotNull = true },
		},
		{
			name:   "set default",
			sql:    `ALTER TABLE t ALTER COLUMN n SET DEFAULT 42;`,
			change: func(tb *schema.Table) { tb.Column("n").Default = "42" },
		},
		{
			name:   "drop default",
			sql:    `ALTER TABLE t ALTER COLUMN n DROP DEFAULT;`,
			change: func(tb *schema.Table) { tb.Column("n").Default = "" },
		},
		{
			name: "rename column renames it in indexes",
			sql:  `ALTER TABLE t RENAME COLUMN name TO title;`,
			change: func(tb *schema.Table) {
				tb.Column("name").Name = "title"
				tb.Indexes[0].Columns = []string{"title"}
			},
		},
		{
			name: "rename key column renames the key",
			sql:  `ALTER TABLE t RENAME id TO "Key";`,
			change: func(tb *schema.Table) {
				tb.Column("id").Name = "Key"
				tb.PrimaryKey = []string{"Key"}
			},
		},
		{
			name:   "rename constraint is skipped",
			sql:    `ALTER TABLE t RENAME CONSTRAINT t_pkey TO t_key;`,
			change: func(tb *schema.Table) {},
		},
		{
			name:   "rename table",
			sql:    `ALTER TABLE t RENAME TO u;`,
			change: func(tb *schema.Table) { tb.Name = "u" },
		},
		{
			name: "several actions in one statement",
			sql:  `ALTER TABLE IF EXISTS ONLY t ADD COLUMN a text, DROP COLUMN n, ALTER COLUMN name SET DEFAULT 'X';`,
			change: func(tb *schema.Table) {
				tb.Columns = []*schema.Column{
					{Name: "id", Type: "uuid", NotNull: true},
					{Name: "name", Type: "text", NotNull: true, Default: "'X'"},
					{Name: "a", Type: "text"},
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := apply(t, create, tt.sql)
			want := base()
			tt.change(want)
			if len(s.Tables) != 1 {
				t.Fatalf("got tables %q, want one", tableNames(s))
			}
			checkTable(t, s.Tables[0], want)
		})
	}
}

func TestApplyAlterMissingColumn(t *testing.T) {
	s := apply(t, `CREATE TABLE t (a int)`)
	for _, sql := range []string{
		`ALTER TABLE t ALTER COLUMN b TYPE text`,
		`ALTER TABLE t RENAME COLUMN b TO c`,
		`ALTER TABLE t ADD COLUMN a text`,
	} {
		if err := s.Apply(sql); err == nil {
			t.Errorf("Apply(%q) = nil, want an error", sql)
		}
	}
}

func TestApplyDrop(t *testing.T) {
	const create = `
		CREATE TABLE t (a int, b int);
		CREATE INDEX t_a_idx ON t (a);
		CREATE INDEX t_b_idx ON t (b);
		CREATE TABLE u (a int);
		CREATE TABLE v (a int);`
	tests := []struct {
		name       string
		sql        string
		wantTables []string
		wantIndex  []string // the indexes of t, when it is left
	}{
		{"drop table", `DROP TABLE u;`, []string{"t", "v"}, []string{"t_a_idx", "t_b_idx"}},
		{"drop tables, if exists, qualified", `DROP TABLE IF EXISTS public.u, v, missing CASCADE;`, []string{"t"}, []string{"t_a_idx", "t_b_idx"}},
		{"drop index", `DROP INDEX t_a_idx;`, []string{"t", "u", "v"}, []string{"t_b_idx"}},
		{"drop index concurrently, if exists, qualified", `DROP INDEX CONCURRENTLY IF EXISTS public.t_b_idx;`, []string{"t", "u", "v"}, []string{"t_a_idx"}},
		{"drop missing index", `DROP INDEX IF EXISTS nothing;`, []string{"t", "u", "v"}, []string{"t_a_idx", "t_b_idx"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := apply(t, create, tt.sql)
			if got := tableNames(s); !reflect.DeepEqual(got, tt.wantTables) {
				t.Errorf("tables = %q, want %q", got, tt.wantTables)
			}
			var ixs []string
			for _, ix := range s.Table("t").Indexes {
				ixs = append(ixs, ix.Name)
			}
			if !reflect.DeepEqual(ixs, tt.wantIndex) {
				t.Errorf("indexes of t = %q, want %q", ixs, tt.wantIndex)
			}
		})
	}
}

func TestApplyCommentsAndDollarQuotes(t *testing.T) {
	s := apply(t, `
-- CREATE TABLE line_comment (a int);
/* CREATE TABLE block_comment (a int); */
/*
   CREATE TABLE multi_line_comment (a int);
*/
CREATE TABLE t (
    a int, -- a comment with ; and )
    b text DEFAULT $$semi; colon$$, /* and ; here */
    c text DEFAULT $tag$it's $$ nested$tag$,
    "d--e" text DEFAULT '-- not a comment'
); -- trailing
CREATE FUNCTION f() RETURNS trigger AS $body$
BEGIN
    CREATE TABLE inside_function (x int);
    RETURN NULL;
END;
$body$ LANGUAGE plpgsql;
`)
	if got := tableNames(s); !reflect.DeepEqual(got, []string{"t"}) {
		t.Fatalf("tables = %q, want only t", got)
	}
	checkTable(t, s.Table("t"), &schema.Table{
		Name: "t",
		Columns: []*schema.Column{
			{Name: "a", Type: "integer"},
			{Name: "b", Type: "text", Default: "'semi; colon'"},
			{Name: "c", Type: "text", Default: "'it''s $$ nested'"},
			{Name: "d--e", Type: "text", Default: "'-- not a comment'"},
		},
	})
}

func TestApplySkipsUnknownStatements(t *testing.T) {
	s := apply(t,
		`CREATE TABLE t (a int, b text);`,
		`BEGIN;
		CREATE EXTENSION IF NOT EXISTS pgcrypto;
		CREATE VIEW v AS SELECT a, b FROM t WHERE b <> 'x;y';
		CREATE MATERIALIZED VIEW mv AS SELECT 1;
		INSERT INTO t (a, b) VALUES (1, 'CREATE TABLE fake (x int);');
		UPDATE t SET b = 'z';
		COMMENT ON TABLE t IS 'the t table';
		GRANT SELECT ON t TO PUBLIC;
		COMMIT;`,
	)
	if got := tableNames(s); !reflect.DeepEqual(got, []string{"t"}) {
		t.Fatalf("tables = %q, want only t", got)
	}
	checkTable(t, s.Table("t"), &schema.Table{
		Name:    "t",
		Columns: []*schema.Column{{Name: "a", Type: "integer"}, {Name: "b", Type: "text"}},
	})
}

func TestApplyErrors(t *testing.T) {
	tests := []struct {
		name string
		sql  string
		want []string // substrings of the error
	}{
		{"alter a table never created", `ALTER TABLE missing ADD COLUMN a int;`, []string{"missing", "no earlier migration creates it"}},
		{"table created twice", `CREATE TABLE t (a int); CREATE TABLE t (b int);`, []string{"table t is created twice"}},
		{"index created twice", `CREATE TABLE t (a int); CREATE INDEX ix ON t (a); CREATE INDEX ix ON t (a);`, []string{"index ix is created twice"}},
		{"index on a table never created", `CREATE INDEX ix ON missing (a);`, []string{"ix", "missing"}},
		{"unterminated string", `CREATE TABLE t (a text DEFAULT 'oops);`, []string{"unterminated ' quote"}},
		{"unterminated identifier", `CREATE TABLE "t (a int);`, []string{`unterminated " quote`}},
		{"unterminated block comment", `CREATE TABLE t (a int); /* no end`, []string{"unterminated /* comment"}},
		{"unterminated dollar string", `CREATE TABLE t (a text DEFAULT $x$abc);`, []string{"unterminated $x$ string"}},
		{"column without a type", `CREATE TABLE t (a);`, []string{"column a has no type"}},
		{"not a table name", `CREATE TABLE 'x' (a int);`, []string{"expected a name"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := &schema.Schema{}
			err := s.Apply(tt.sql)
			if err == nil {
				t.Fatalf("Apply(%q) = nil, want an error", tt.sql)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("Apply(%q) = %q, want it to contain %q", tt.sql, err, w)
				}
			}
		})
	}
}

func TestApplyErrorNamesStatement(t *testing.T) {
	s := apply(t, `CREATE TABLE t (a int)`)
	err := s.Apply(`ALTER TABLE t DROP COLUMN a; ALTER TABLE missing ADD b int;`)
	if err == nil {
		t.Fatal("Apply = nil, want an error")
	}
	if !strings.Contains(err.Error(), "in: ALTER TABLE missing ADD b int") {
		t.Errorf("error %q does not quote the failing statement", err)
	}
}

func TestNormalizeType(t *testing.T) {
	tests := []struct{ in, want string }{
		{"INT8", "bigint"},
		{"bigint", "bigint"},
		{"BIGINT", "bigint"},
		{"int", "integer"},
		{"int4", "integer"},
		{"int2", "smallint"},
		{"bool", "boolean"},
		{"float8", "double precision"},
		{"float4", "real"},
		{"timestamp with time zone", "timestamptz"},
		{"TIMESTAMP  WITH\tTIME ZONE", "timestamptz"},
		{"timestamp without time zone", "timestamp"},
		{"character varying", "varchar"},
		{"text [ ]", "text[]"},
		{"text[]", "text[]"},
		{"int8[][]", "bigint[][]"},
		{"timestamp with time zone[]", "timestamptz[]"},
		{"numeric (20)", "numeric(20)"},
		{"numeric( 20 )", "numeric(20)"},
		{"decimal", "numeric"},
		{"decimal(20)", "numeric(20)"},
		{"numeric(20, 0)", "numeric(20)"},
		{"numeric ( 20 , 0 )", "numeric(20)"},
		{"numeric(10 , 2)", "numeric(10,2)"},
		{"jsonb", "jsonb"},
		{"uuid", "uuid"},
	}
	for _, tt := range tests {
		if got := schema.NormalizeType(tt.in); got != tt.want {
			t.Errorf("NormalizeType(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
