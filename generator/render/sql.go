package render

import (
	"bytes"
	"fmt"
	"strings"
	"text/template"

	"github.com/projgen/projgen/generator/config"
	"github.com/projgen/projgen/generator/model"
	"github.com/projgen/projgen/generator/names"
	"github.com/projgen/projgen/generator/schema"
	"github.com/projgen/projgen/templates"
)

// sqlTemplates are the parsed SQL templates.
type sqlTemplates struct {
	t *template.Template
}

func newSQL() (*sqlTemplates, error) {
	t, err := template.New("sql").Funcs(template.FuncMap{"join": strings.Join}).
		ParseFS(templates.FS, "*.sql.tmpl")
	if err != nil {
		return nil, fmt.Errorf("parse SQL templates: %w", err)
	}
	return &sqlTemplates{t: t}, nil
}

func (s *sqlTemplates) execute(name string, data any) (string, error) {
	var b bytes.Buffer
	if err := s.t.ExecuteTemplate(&b, name, data); err != nil {
		return "", fmt.Errorf("render SQL %s: %w", name, err)
	}
	return b.String(), nil
}

// statement is what the statement templates receive.
type statement struct {
	Table, Key, Guard string
	// Tombstones is the table's tombstone table, empty when it has none,
	// and RowKey the table's key column, which it keeps. Key is the
	// column a statement matches rows by: RowKey, or aggregate_id for a
	// statement on every row of an aggregate (ByAggregate).
	Tombstones, RowKey string
	ByAggregate        bool
	// Conflict are the key columns an upsert conflicts on, joined.
	Conflict string
	// Scope is the aggregate_id column when it is part of the key, and
	// ScopeValue the $n it matches; both empty otherwise.
	Scope, ScopeValue string
	// Held is the table of a filtered table's held rows, empty when it
	// has none. FilterColumn is the filter's column, Pass the value of a
	// row the table holds, and FilterValue the $n an insert writes to it.
	Held, FilterColumn, Pass, FilterValue string
	// From and To are the tables a statement that sets the filter column
	// moves a row between, and Selects the value of each of Columns in
	// the moved row: the event's $n, or the row's own.
	From, To string
	Selects  []string
	// Columns and Values are the inserted columns and their $n, in order.
	Columns, Values []string
	// Updates are the columns an upsert updates on conflict.
	Updates []string
	// Sets are the assignments of an UPDATE.
	Sets []set
	// KeyValue and GuardValue are the $n of the key and of the guard
	// column, which orders the events of a row.
	KeyValue, GuardValue string
}

type set struct{ Column, Value string }

// arg is one argument of the Exec call: where the value comes from.
type arg struct {
	write *model.Write
}

// methodSQL renders a method's statement and returns it with the writes
// whose values are its arguments, in $n order. A value used twice (the
// event timestamp for created_at and updated_at) is passed once.
func (r *renderer) methodSQL(p *model.Projection, m *model.Method) (string, []*model.Write, error) {
	var args []*model.Write
	index := map[string]int{}
	value := func(w *model.Write) string {
		k := argKey(w)
		if i, ok := index[k]; ok {
			return fmt.Sprintf("$%d", i)
		}
		args = append(args, w)
		index[k] = len(args)
		return fmt.Sprintf("$%d", len(args))
	}
	q := names.SQLIdent
	st := statement{
		Table: q(p.Table.Name),
		Key:   q(m.Writes[0].Column.Name),
	}
	if g := p.Table.Guard; g != nil {
		st.Guard = q(g.Name)
	}
	st.RowKey, st.ByAggregate = q(p.Table.Key.Name), m.ByAggregate
	var conflict []string
	for _, c := range p.Table.PrimaryKey() {
		conflict = append(conflict, q(c))
	}
	st.Conflict = strings.Join(conflict, ", ")
	if sc := p.Table.Scope; sc != nil {
		st.Scope = q(sc.Name)
	}
	if ts := p.Table.Tombstones; ts != nil {
		st.Tombstones = q(ts.Name)
	}
	switch m.Op {
	case config.Insert, config.Append:
		for i, w := range m.Writes {
			v := value(w)
			st.Columns = append(st.Columns, q(w.Column.Name))
			st.Values = append(st.Values, v)
			switch {
			case i == 0:
				st.KeyValue = v
			case w.Column == p.Table.Guard:
				st.GuardValue = v
			}
			// The owner of a row keyed by a field (aggregate_id) is
			// the aggregate of its latest event, so it is updated too,
			// unless it is part of the key.
			if w.Column.Role != model.KeyColumn && w.Column.Role != model.CreatedColumn && w.Column != p.Table.Scope {
				st.Updates = append(st.Updates, q(w.Column.Name))
			}
		}
		if m.ScopeWrite != nil {
			st.ScopeValue = value(m.ScopeWrite)
		}
	case config.Update, config.Set, config.Delete:
		st.KeyValue = value(m.Writes[0])
		if m.ScopeWrite != nil {
			st.ScopeValue = value(m.ScopeWrite)
		}
		for _, w := range m.Writes[1:] {
			v := value(w)
			if w.Column == p.Table.Guard {
				st.GuardValue = v
			}
			st.Sets = append(st.Sets, set{Column: q(w.Column.Name), Value: v})
		}
	default:
		return "", nil, fmt.Errorf("method %s: operation %s has no statement", m.Name, m.Op)
	}
	if f := p.Table.Filter; f != nil {
		filtered(p, m, &st, value)
	}
	sql, err := r.sql.execute(string(m.Statement), st)
	return sql, args, err
}

// filtered fills in what the statements of a filtered table (see
// model.Filter) need besides the others': an insert routes its row by the
// filter column, a statement that sets the column moves the row to where
// its new state belongs, and the others change the row wherever it is.
func filtered(p *model.Projection, m *model.Method, st *statement, value func(*model.Write) string) {
	q := names.SQLIdent
	f := p.Table.Filter
	st.Held, st.FilterColumn, st.Pass = q(f.Held.Name), q(f.Column.Name), fmt.Sprint(f.Pass)
	for _, w := range m.Writes {
		if w.Column != f.Column {
			continue
		}
		switch m.Statement {
		case model.InsertFilteredStatement:
			st.FilterValue = value(w)
			return
		case model.MoveStatement:
			st.From, st.To = st.Table, st.Held
			if !m.MovesToHeld {
				st.From, st.To = st.Held, st.Table
			}
			written := map[*model.Column]string{}
			for _, w := range m.Writes[1:] {
				written[w.Column] = value(w)
			}
			st.Columns, st.Selects = nil, nil
			for _, c := range p.Table.Columns {
				st.Columns = append(st.Columns, q(c.Name))
				sel := `"moved".` + q(c.Name)
				if v, ok := written[c]; ok {
					sel = v
				}
				st.Selects = append(st.Selects, sel)
			}
			return
		}
	}
}

func argKey(w *model.Write) string {
	switch w.Source {
	case model.FromParam:
		return "param:" + w.Param.Name
	case model.FromConstant:
		return "const:" + w.Column.Name
	}
	return fmt.Sprintf("meta:%d", w.Source)
}

// migrationData is what the migration templates receive.
type migrationData struct {
	Header   string
	Up, Down []change
}

type change struct {
	Kind   string
	Table  sqlTable
	Column sqlColumn
	Index  sqlIndex
}

type sqlTable struct {
	Name    string
	Columns []sqlColumn
	Indexes []sqlIndex
	// PrimaryKey are the key columns of a key of several columns, which
	// is a table constraint; a one-column key is its column's.
	PrimaryKey []string
}

type sqlColumn struct {
	Name, Type, Default string
	NotNull, PrimaryKey bool
}

type sqlIndex struct {
	Name, Table string
	Columns     []string
	Unique      bool
}

func quoteTable(t *schema.Table) sqlTable {
	st := sqlTable{Name: names.SQLIdent(t.Name)}
	for _, c := range t.Columns {
		sc := quoteColumn(c)
		sc.PrimaryKey = len(t.PrimaryKey) == 1 && t.PrimaryKey[0] == c.Name
		st.Columns = append(st.Columns, sc)
	}
	for _, ix := range t.Indexes {
		st.Indexes = append(st.Indexes, quoteIndex(t.Name, ix))
	}
	if len(t.PrimaryKey) > 1 {
		for _, c := range t.PrimaryKey {
			st.PrimaryKey = append(st.PrimaryKey, names.SQLIdent(c))
		}
	}
	return st
}

func quoteColumn(c *schema.Column) sqlColumn {
	return sqlColumn{Name: names.SQLIdent(c.Name), Type: c.Type, Default: c.Default, NotNull: c.NotNull}
}

func quoteIndex(table string, ix *schema.Index) sqlIndex {
	out := sqlIndex{Name: names.SQLIdent(ix.Name), Table: names.SQLIdent(table), Unique: ix.Unique}
	for _, c := range ix.Columns {
		out.Columns = append(out.Columns, names.SQLIdent(c))
	}
	return out
}

// upAndDown returns the template steps of a change and of its reversal.
func upAndDown(c schema.Change) (up, down change) {
	t := quoteTable(c.Table)
	up = change{Table: t}
	down = change{Table: t}
	if c.Column != nil {
		up.Column = quoteColumn(c.Column)
		down.Column = up.Column
	}
	if c.Index != nil {
		up.Index = quoteIndex(c.Table.Name, c.Index)
		down.Index = up.Index
	}
	switch c.Kind {
	case schema.CreateTable:
		up.Kind, down.Kind = "create_table", "drop_table"
	case schema.DropTable:
		up.Kind, down.Kind = "drop_table", "create_table"
	case schema.AddColumn:
		up.Kind, down.Kind = "add_column", "drop_column"
	case schema.DropColumn:
		up.Kind, down.Kind = "drop_column", "add_column"
		down.Column.NotNull = false
	case schema.AlterType:
		up.Kind, down.Kind = "alter_type", "alter_type"
		down.Column = quoteColumn(c.Was)
	case schema.DropNotNull:
		up.Kind, down.Kind = "drop_not_null", "set_not_null"
	case schema.SetDefault:
		up.Kind = "set_default"
		if c.Was.Default != "" {
			down.Kind, down.Column = "set_default", quoteColumn(c.Was)
		} else {
			down.Kind = "drop_default"
		}
	case schema.CreateIndex:
		up.Kind, down.Kind = "create_index", "drop_index"
	case schema.DropIndex:
		up.Kind, down.Kind = "drop_index", "create_index"
	}
	return up, down
}

// migration renders a migration's up and down files (one file for goose).
func (r *renderer) migration(md *model.MigrationDir, mig *model.Migration) (up, down []byte, err error) {
	data := migrationData{Header: migrationHeader(mig)}
	for _, c := range mig.Changes {
		u, d := upAndDown(c)
		data.Up = append(data.Up, u)
		data.Down = append([]change{d}, data.Down...)
	}
	if md.Format == config.GooseFormat {
		s, err := r.sql.execute("goose", data)
		return []byte(s), nil, err
	}
	u, err := r.sql.execute("golang-migrate-up", data)
	if err != nil {
		return nil, nil, err
	}
	d, err := r.sql.execute("golang-migrate-down", data)
	return []byte(u), []byte(d), err
}

func migrationHeader(mig *model.Migration) string {
	var what []string
	for _, c := range mig.Changes {
		what = append(what, c.String())
	}
	return fmt.Sprintf("Migration %0*d: %s.", model.VersionWidth, mig.Version, strings.Join(what, "; "))
}
