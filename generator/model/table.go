package model

import (
	"cmp"
	"fmt"
	"go/ast"
	"go/token"
	"maps"
	"slices"
	"strings"
	"unicode"

	"github.com/projgen/projgen/generator/config"
	"github.com/projgen/projgen/generator/load"
	"github.com/projgen/projgen/generator/names"
)

// Bookkeeping column names.
const (
	AggregateIDColumn  = "aggregate_id"
	VersionColumnName  = "aggregate_version"
	PositionColumnName = "last_position"
	CreatedAtColumn    = "created_at"
	UpdatedAtColumn    = "updated_at"
	EventPositionKey   = "position"
)

// tableBuilder builds one projection's methods and table.
type tableBuilder struct {
	b  *builder
	cp *config.Projection
	pp string
	p  *Projection

	table  *Table
	origin map[string]string // column → what first set it, for messages
	writes map[string][]int  // column → indexes of methods that write it
	ok     bool
}

func (t *tableBuilder) eventPath(j int) string {
	return config.EventPath(t.b.configIndex(t.cp.Name), j)
}

func (t *tableBuilder) errorf(yamlPath, format string, args ...any) {
	t.b.errorf(yamlPath, format, args...)
	t.ok = false
}

func (t *tableBuilder) build() bool {
	t.ok = true
	t.origin = map[string]string{}
	t.writes = map[string][]int{}
	t.table = &Table{Name: t.cp.Table, KeyFrom: t.cp.Key.From, AppendOnly: t.cp.Key.From == config.KeyPosition}
	t.p.Table = t.table
	t.keyAndBookkeeping()
	for j := range t.cp.Events {
		t.event(j)
	}
	if !t.ok {
		return false
	}
	if n := len(t.table.Columns); n > MaxColumns {
		t.b.errorf(t.pp+".table", "table %s would have %d columns: PostgreSQL allows %d, and projgen stops at %d, past which a read model is no longer one fact per row",
			t.table.Name, n, postgresMaxColumns, MaxColumns).
			WithHint("project fewer fields with fields: on the events (new --fields EVENT=A,B), or split the events into several projections (new --events)")
		t.ok = false
		return false
	}
	t.inserted()
	if !t.ok {
		return false
	}
	t.nullability()
	t.indexes()
	t.tombstones()
	t.stateFilter()
	t.statements()
	return t.ok
}

// statements decides the kind of each method's statement, once the table's
// filter is known: an insert of the filter value routes the row, a
// constant written to the filter column moves it, and other statements
// change rows where they are.
func (t *tableBuilder) statements() {
	for _, m := range t.p.Methods {
		switch m.Op {
		case config.Insert:
			m.Statement = InsertStatement
		case config.Append:
			m.Statement = AppendStatement
		case config.Update, config.Set:
			m.Statement = UpdateStatement
		case config.Delete:
			m.Statement = DeleteStatement
		}
		f := t.table.Filter
		if f == nil {
			continue
		}
		if m.FilterInSQL {
			m.Statement = InsertFilteredStatement
			continue
		}
		for _, w := range m.Writes {
			if w.Column == f.Column && w.Source == FromConstant && m.Op != config.Insert {
				m.Statement, m.MovesToHeld = MoveStatement, w.Constant != f.Pass
			}
		}
	}
}

// HeldSuffix ends the name of a filtered table's held rows (Filter.Held).
const HeldSuffix = "_held"

// stateFilter gives a table a Filter when an inserting event's condition
// is a boolean field, F or !F, whose column other events set: the
// condition then describes the row's state, not only the event, and
// Activated after an inactive Created must bring the row in.
func (t *tableBuilder) stateFilter() {
	for _, m := range t.p.Methods {
		if m.Op != config.Insert || m.When == nil {
			continue
		}
		field, pass, ok := boolCondition(m.When.Expr)
		if !ok {
			continue
		}
		var col *Column
		for _, prm := range m.Params {
			if prm.Field != nil && prm.Field.Name == field && prm.Column != nil && prm.Column.SQLType == "boolean" {
				col = prm.Column
			}
		}
		if col == nil || !t.setByOthers(col) {
			continue
		}
		name := t.table.Name + HeldSuffix
		if len(name) > maxIdentifier {
			t.errorf(t.pp+".table", "table name %q is too long for its held rows %q: PostgreSQL names have at most %d bytes", t.table.Name, name, maxIdentifier)
			return
		}
		held := *t.table
		held.Name, held.Tombstones, held.Indexes = name, nil, nil
		t.table.Filter = &Filter{Column: col, Pass: pass, Held: &held}
		m.FilterInSQL = true
		return
	}
}

// setByOthers reports whether a method sets col to a constant.
func (t *tableBuilder) setByOthers(col *Column) bool {
	for _, m := range t.p.Methods {
		for _, w := range m.Writes {
			if w.Column == col && w.Source == FromConstant {
				return true
			}
		}
	}
	return false
}

// boolCondition returns the field of a condition that is a boolean field
// or its negation, and the value that passes.
func boolCondition(e Expr) (field string, pass, ok bool) {
	switch x := e.(type) {
	case *ast.Ident:
		return x.Name, true, x.Name != "true" && x.Name != "false" && x.Name != "nil"
	case *ast.ParenExpr:
		return boolCondition(x.X)
	case *ast.UnaryExpr:
		if x.Op == token.NOT {
			f, p, ok := boolCondition(x.X)
			return f, !p, ok
		}
	}
	return "", false, false
}

// inserted reports a projection that handles no event, whose generated
// code would not compile, and a table that no event inserts rows into:
// its updates, sets and deletes would find nothing, and it would stay
// empty forever.
func (t *tableBuilder) inserted() {
	if len(t.p.Methods) == 0 {
		t.errorf(t.pp+".events", "projection %s handles no event: every event of it is ignored", t.p.Name)
		t.b.errs[len(t.b.errs)-1].WithHint("choose the events to project: op: insert, update, set, delete or append on them in %s, or projgen new --events A,B --op A=insert",
			config.FileName)
		return
	}
	if slices.ContainsFunc(t.p.Methods, func(m *Method) bool {
		return m.Op == config.Insert || m.Op == config.Append
	}) {
		return
	}
	var handled []string
	for _, m := range t.p.Methods {
		handled = append(handled, m.Event.Name+" ("+m.Op+")")
	}
	first := t.p.Methods[0].Event.Name
	t.errorf(t.pp+".events", "no event inserts rows into table %s, so it would stay empty: its events only change or delete rows: %s",
		t.table.Name, strings.Join(handled, ", "))
	t.b.errs[len(t.b.errs)-1].WithHint("make the event that creates the rows insert them: op: insert on it in %s, or projgen new --op %s=insert",
		config.FileName, first)
}

// TombstoneSuffix ends the name of a table's tombstone table.
const TombstoneSuffix = "_tombstones"

// tombstones gives a table whose events delete rows its tombstone table
// (see Table.Tombstones): the key column and the guard column, nothing
// else.
func (t *tableBuilder) tombstones() {
	if t.table.Guard == nil || !slices.ContainsFunc(t.p.Methods, func(m *Method) bool { return m.Op == config.Delete }) {
		return
	}
	name := t.table.Name + TombstoneSuffix
	if len(name) > maxIdentifier {
		t.errorf(t.pp+".table", "table name %q is too long for its tombstone table %q: PostgreSQL names have at most %d bytes", t.table.Name, name, maxIdentifier)
		return
	}
	key, guard := *t.table.Key, *t.table.Guard
	key.Default, guard.Default = "", ""
	ts := &Table{Name: name, Key: &key, KeyFrom: t.table.KeyFrom, Columns: []*Column{&key, &guard}, Guard: &guard}
	if t.table.Scope != nil {
		scope := *t.table.Scope
		ts.Scope = &scope
		ts.Columns = []*Column{&scope, &key, &guard}
	}
	t.table.Tombstones = ts
}

// MaxColumns is the most columns projgen gives one read-model table. It
// is well below PostgreSQL's limit (postgresMaxColumns): a table that wide
// mixes facts that belong to several projections, and its rows and
// statements grow with every column.
const MaxColumns = 250

// postgresMaxColumns is PostgreSQL's limit on a table's columns.
const postgresMaxColumns = 1600

// maxIdentifier is the length past which PostgreSQL truncates names.
const maxIdentifier = 63

func (t *tableBuilder) addColumn(c *Column, origin string) *Column {
	t.table.Columns = append(t.table.Columns, c)
	t.origin[c.Name] = origin
	return c
}

// keyAndBookkeeping adds the key and the columns every table has.
func (t *tableBuilder) keyAndBookkeeping() {
	k := t.cp.Key
	switch k.From {
	case config.KeyAggregate:
		t.table.Key = t.addColumn(&Column{Name: k.Column, SQLType: k.Type, NotNull: true, Role: KeyColumn}, "the key")
	case config.KeyPosition:
		t.table.Key = t.addColumn(&Column{Name: k.Column, SQLType: "bigint", NotNull: true, Role: KeyColumn}, "the key")
	case config.KeyField:
		// The type comes from the events; set when the first event is seen.
		t.table.Key = t.addColumn(&Column{Name: k.Column, NotNull: true, Role: KeyColumn}, "the key")
	}
	if k.From != config.KeyAggregate {
		t.bookkeeping(AggregateIDColumn, t.p.KeyType, AggregateColumn)
	}
	t.bookkeeping(VersionColumnName, "bigint", VersionColumn)
	if !t.table.AppendOnly {
		t.bookkeeping(PositionColumnName, "bigint", PositionColumn)
	}
	t.bookkeeping(CreatedAtColumn, "timestamptz", CreatedColumn)
	if !t.table.AppendOnly {
		t.bookkeeping(UpdatedAtColumn, "timestamptz", UpdatedColumn)
	}
	switch k.From {
	case config.KeyAggregate:
		t.table.Guard = t.table.Column(VersionColumnName)
	case config.KeyField:
		t.table.Guard = t.table.Column(PositionColumnName)
		if k.Scope == config.ScopeAggregate {
			t.table.Scope = t.table.Column(AggregateIDColumn)
		}
	}
}

func (t *tableBuilder) bookkeeping(name, sqlType string, role Role) {
	if name == t.table.Key.Name {
		t.errorf(t.pp+".key.column", "key column %q is also a bookkeeping column of every table", name)
		return
	}
	t.addColumn(&Column{Name: name, SQLType: sqlType, NotNull: true, Role: role}, "bookkeeping")
}

func (t *tableBuilder) event(j int) {
	ce := &t.cp.Events[j]
	ep := t.eventPath(j)
	pkg := t.b.in.Packages[cmp.Or(ce.Aggregate, t.cp.Aggregates[0])]
	ev, err := pkg.Event(ce.Type)
	if err != nil {
		t.errorf(ep+".type", "event %s: %v", ce.Type, err)
		return
	}
	for _, m := range t.p.Methods {
		if m.Event == ev {
			t.b.errorf(ep+".type", "event %s is listed twice: %s names the same type", ev.Name, ce.Type).
				WithHint("list it once, as %s", ev.Name)
			return
		}
	}
	if ce.Op == config.Ignore {
		t.p.Ignored = append(t.p.Ignored, ev)
		return
	}
	topic := ce.Topic
	if topic == "" {
		if topic, err = templateTopic(topicTemplate(t.b.cfg, t.cp), pkg, ev); err != nil {
			t.errorf(t.pp+".topics", "topic of event %s: %v", ev.Name, err)
		}
	}
	m := &Method{Name: ce.Method, Handler: handler(ce.Method, t.p.Names), Event: ev, Topic: topic, Op: ce.Op}
	idx := len(t.p.Methods)
	t.p.Methods = append(t.p.Methods, m)
	if ce.When != "" {
		cond, err := ParseCondition(ce.When, ev)
		if err != nil {
			t.errorf(ep+".when", "event %s: %v", ev.Name, err)
		}
		m.When = cond
	}
	t.params(m, ce, ep)
	if !t.ok {
		return
	}
	t.methodWrites(m, idx, ce, ep)
	argsStruct(m)
}

// argsStruct gives a method with more than MaxPositionalParams parameters
// a struct to take them in, its fields named as the event's.
func argsStruct(m *Method) {
	if len(m.Params) <= MaxPositionalParams {
		return
	}
	m.Args = &ArgsStruct{Type: m.Name + "Params", Name: "arg"}
	for _, prm := range m.Params {
		prm.ArgsField = prm.Field.Name
	}
}

// params computes the method's parameters: the event's projected fields,
// or the whole payload of a non-struct event. Deletes take only the key.
func (t *tableBuilder) params(m *Method, ce *config.Event, ep string) {
	ev := m.Event
	used := map[string]bool{}
	param := func(f *load.Field, typ *load.Type, goName string) *Param {
		name := names.Param(goName, reservedParams)
		base := name
		for n := 2; used[name]; n++ {
			name = fmt.Sprintf("%s%d", base, n)
		}
		used[name] = true
		return &Param{Name: name, Field: f, Type: typ}
	}
	keyField := ""
	if t.cp.Key.From == config.KeyField {
		keyField = t.cp.Key.Field
	}
	if !ev.IsStruct() {
		if len(ce.Fields) > 0 {
			t.errorf(ep+".fields", "event %s is %s, not a struct, so it has no fields to choose", ev.Name, withArticle(ev.Type.String()))
			return
		}
		if keyField != "" && m.Op != config.Delete {
			t.errorf(ep, "event %s is %s, so it cannot carry the key field %s", ev.Name, withArticle(ev.Type.String()), keyField)
			return
		}
		for name := range ce.Columns {
			if name != ev.Name {
				t.errorf(ep+".columns", "event %s is %s, not a struct: columns can name only its payload's column, as %s: COLUMN", ev.Name, withArticle(ev.Type.String()), ev.Name)
			}
		}
		if m.Op != config.Delete {
			m.Params = append(m.Params, param(nil, ev.Type, ev.Name))
		}
		return
	}
	byName := map[string]*load.Field{}
	for _, f := range ev.Fields {
		byName[f.Name] = f
	}
	selected := ev.Fields
	if len(ce.Fields) > 0 {
		selected = nil
		for _, name := range ce.Fields {
			f := byName[name]
			if f == nil {
				t.errorf(ep+".fields", "event %s has no field %s (its fields: %s)", ev.Name, name, fieldList(ev))
				continue
			}
			selected = append(selected, f)
		}
	}
	for name := range ce.Columns {
		if byName[name] == nil {
			t.errorf(ep+".columns", "event %s has no field %s (its fields: %s)", ev.Name, name, fieldList(ev))
		}
	}
	if keyField != "" {
		kf := byName[keyField]
		switch {
		case kf == nil && (m.Op == config.Insert || m.Op == config.Append):
			t.errorf(ep, "event %s has no field %s, which keys table %s, so it cannot insert a row (its fields: %s)",
				ev.Name, keyField, t.table.Name, fieldList(ev))
			return
		case kf == nil:
			m.ByAggregate = true
		default:
			m.KeyParam = param(kf, kf.Type, kf.Name)
			m.Params = append(m.Params, m.KeyParam)
		}
	}
	if m.Op == config.Delete {
		return
	}
	for _, f := range selected {
		if f.Name == keyField {
			continue
		}
		m.Params = append(m.Params, param(f, f.Type, f.Name))
	}
}

func fieldList(ev *load.Event) string {
	var out []string
	for _, f := range ev.Fields {
		out = append(out, f.Name)
	}
	if len(out) == 0 {
		return "none"
	}
	return strings.Join(out, ", ")
}

// methodWrites assigns columns to the method's parameters and constants,
// and lists what its statement writes.
func (t *tableBuilder) methodWrites(m *Method, idx int, ce *config.Event, ep string) {
	key := &Write{Column: t.table.Key}
	switch t.cp.Key.From {
	case config.KeyAggregate:
		key.Source = FromAggregateID
	case config.KeyPosition:
		key.Source = FromPosition
	case config.KeyField:
		if m.KeyParam != nil {
			t.keyParam(m, ep)
			key.Source, key.Param = FromParam, m.KeyParam
		} else {
			key = &Write{Column: t.table.Column(AggregateIDColumn), Source: FromAggregateID}
		}
	}
	m.Writes = append(m.Writes, key)
	meta := func(name string, src Source) {
		if c := t.table.Column(name); c != nil {
			m.Writes = append(m.Writes, &Write{Column: c, Source: src})
		}
	}
	defer func() {
		if sc := t.table.Scope; sc != nil && !m.ByAggregate {
			m.ScopeWrite = &Write{Column: sc, Source: FromAggregateID}
		}
		for _, w := range append(slices.Clone(m.Writes), m.ScopeWrite) {
			if w != nil && w.Source == FromAggregateID {
				if c := idCheckOf(w.Column); c != nil {
					m.IDCheck = c
				}
			}
		}
	}()
	switch m.Op {
	case config.Delete:
		if g := t.table.Guard; g != nil && g.Role == PositionColumn {
			meta(PositionColumnName, FromPosition)
		} else {
			meta(VersionColumnName, FromVersion)
		}
		return
	case config.Insert, config.Append:
		if t.cp.Key.From != config.KeyAggregate && key.Column.Name != AggregateIDColumn {
			meta(AggregateIDColumn, FromAggregateID)
		}
		meta(VersionColumnName, FromVersion)
		meta(PositionColumnName, FromPosition)
		meta(CreatedAtColumn, FromTimestamp)
		meta(UpdatedAtColumn, FromTimestamp)
	default:
		meta(VersionColumnName, FromVersion)
		meta(PositionColumnName, FromPosition)
		meta(UpdatedAtColumn, FromTimestamp)
	}
	inEvent := map[string]string{}
	for _, prm := range m.Params {
		if prm == m.KeyParam {
			continue
		}
		colName, explicit := t.columnName(m, prm, ce)
		if other, dup := inEvent[colName]; dup {
			t.errorf(ep, "fields %s and %s of event %s both go to column %s", other, prm.goName(m), m.Event.Name, colName)
			continue
		}
		inEvent[colName] = prm.goName(m)
		ct, err := MapType(prm.Type)
		if err != nil {
			t.errorf(ep, "field %s of event %s (%s): %v", prm.goName(m), m.Event.Name, prm.pos(m), err)
			t.b.errs[len(t.b.errs)-1].WithHint("leave it out: list the fields to project with fields: [...] on the event in projgen.yaml, or --fields %s=A,B", m.Event.Name)
			continue
		}
		if c := t.table.Column(colName); c != nil && c.Role != DataColumn {
			if explicit {
				t.errorf(ep+".columns", "column %s of field %s is also a bookkeeping column", colName, prm.goName(m))
				continue
			}
			t.errorf(ep, "field %s of event %s would go to column %s, which the table keeps for its bookkeeping", prm.goName(m), m.Event.Name, colName)
			t.b.errs[len(t.b.errs)-1].WithHint("name its column in projgen.yaml: columns: {%s: event_%s} on the event", prm.goName(m), colName)
			continue
		}
		col := t.dataColumn(colName, ct.SQL, fmt.Sprintf("field %s.%s", m.Event.Name, prm.goName(m)), ep)
		if col == nil {
			continue
		}
		if col.GoType == nil {
			col.GoType = prm.Type
		}
		prm.Column, prm.Conv = col, ct.Conv
		t.writes[col.Name] = append(t.writes[col.Name], idx)
		if ct.Nullable {
			t.origin[col.Name+"\x00nullable"] = "yes"
		}
		m.Writes = append(m.Writes, &Write{Column: col, Source: FromParam, Param: prm})
	}
	for _, name := range slices.Sorted(maps.Keys(ce.Set)) {
		v, sqlType, err := normalizeConstant(ce.Set[name])
		if err != nil {
			t.errorf(ep+".set."+name, "set %s: %v", name, err)
			continue
		}
		if _, dup := inEvent[name]; dup {
			t.errorf(ep+".set."+name, "column %s is set both from field %s and as a constant", name, inEvent[name])
			continue
		}
		col := t.table.Column(name)
		switch {
		case col != nil && col.Role != DataColumn:
			t.errorf(ep+".set."+name, "column %s is a bookkeeping column; projgen sets it", name)
			continue
		case col != nil:
			if !constantFits(v, col.SQLType) {
				t.errorf(ep+".set."+name, "cannot set column %s (%s, from %s) to %#v", name, col.SQLType, t.origin[name], v)
				continue
			}
		case sqlType == "":
			t.errorf(ep+".set."+name, "column %s is set to null, but no field gives it a type", name)
			continue
		default:
			col = t.dataColumn(name, sqlType, fmt.Sprintf("set %s in event %s", name, m.Event.Name), ep)
		}
		if v == nil {
			t.origin[name+"\x00nullable"] = "yes"
		}
		t.writes[name] = append(t.writes[name], idx)
		m.Writes = append(m.Writes, &Write{Column: col, Source: FromConstant, Constant: v})
	}
}

// keyParam gives a field-keyed table's key column its type from the key
// field, and checks that every event's key field has that type.
func (t *tableBuilder) keyParam(m *Method, ep string) {
	ct, err := MapType(m.KeyParam.Type)
	if err != nil {
		t.errorf(ep, "key field %s of event %s: %v", m.KeyParam.Field.Name, m.Event.Name, err)
		return
	}
	if ct.Nullable || ct.SQL == "jsonb" || strings.HasSuffix(ct.SQL, "[]") {
		t.errorf(ep, "key field %s of event %s is %s, which cannot key a row", m.KeyParam.Field.Name, m.Event.Name, withArticle(m.KeyParam.Type.String()))
		return
	}
	key := t.table.Key
	switch key.SQLType {
	case "":
		key.SQLType, key.GoType = ct.SQL, m.KeyParam.Type
		t.origin[key.Name] = fmt.Sprintf("field %s.%s", m.Event.Name, m.KeyParam.Field.Name)
	case ct.SQL:
	default:
		t.errorf(ep, "key field %s of event %s maps to %s, but %s maps it to %s",
			m.KeyParam.Field.Name, m.Event.Name, ct.SQL, t.origin[key.Name], key.SQLType)
	}
	m.KeyParam.Column, m.KeyParam.Conv = key, ct.Conv
}

// columnName is the column of a parameter: the name set in columns:, else
// the json tag's name, else the field's name, in snake_case.
func (t *tableBuilder) columnName(m *Method, prm *Param, ce *config.Event) (string, bool) {
	if prm.Field == nil {
		// A non-struct payload has no field: columns names it by the
		// event's type.
		if c, ok := ce.Columns[m.Event.Name]; ok {
			return c, true
		}
		return identifier(sqlName(m.Event.Name)), false
	}
	if c, ok := ce.Columns[prm.Field.Name]; ok {
		return c, true
	}
	return identifier(sqlName(cmp.Or(prm.Field.JSON, prm.Field.Name))), false
}

// sqlName turns a Go or JSON name into a lower-case SQL name of letters,
// digits and underscores.
func sqlName(s string) string {
	snake := names.Snake(s)
	var b strings.Builder
	for _, r := range snake {
		switch {
		case unicode.IsLetter(r), r >= '0' && r <= '9':
			b.WriteRune(unicode.ToLower(r))
		case r == '_' && b.Len() > 0 && !strings.HasSuffix(b.String(), "_"):
			b.WriteRune(r)
		}
	}
	out := strings.TrimSuffix(b.String(), "_")
	if out == "" || out[0] >= '0' && out[0] <= '9' {
		out = "c_" + out
	}
	return out
}

func (prm *Param) goName(m *Method) string {
	if prm.Field == nil {
		return m.Event.Name
	}
	return prm.Field.Name
}

func (prm *Param) pos(m *Method) string {
	if prm.Field == nil {
		return m.Event.Pos
	}
	return prm.Field.Pos
}

// dataColumn returns the data column name, adding it with the given type,
// or checking that the existing one has that type.
func (t *tableBuilder) dataColumn(name, sqlType, origin, ep string) *Column {
	if c := t.table.Column(name); c != nil {
		if c.SQLType != sqlType {
			t.errorf(ep, "column %s of table %s would be %s for %s but %s for %s",
				name, t.table.Name, sqlType, origin, c.SQLType, t.origin[name])
			t.b.errs[len(t.b.errs)-1].WithHint("map one of the fields to another column with columns: {Field: other_name}, or leave it out with fields: [...]")
			return nil
		}
		return c
	}
	return t.addColumn(&Column{Name: name, SQLType: sqlType, Role: DataColumn}, origin)
}

// normalizeConstant normalizes a set: value from YAML and returns the SQL type it
// gives a new column ("" for null).
func normalizeConstant(v any) (any, string, error) {
	switch v := v.(type) {
	case nil:
		return nil, "", nil
	case bool:
		return v, "boolean", nil
	case string:
		return v, "text", nil
	case int:
		return int64(v), "bigint", nil
	case int64:
		return v, "bigint", nil
	case uint64:
		if v > 1<<63-1 {
			return nil, "", fmt.Errorf("%d is out of range", v)
		}
		return int64(v), "bigint", nil
	case float64:
		return v, "double precision", nil
	}
	return nil, "", fmt.Errorf("%v is not a constant: use true, false, a number, a string or null", v)
}

// constantFits reports whether a constant can be written to a column of the
// given type.
func constantFits(v any, sqlType string) bool {
	switch v.(type) {
	case nil:
		return true
	case bool:
		return sqlType == "boolean"
	case int64:
		return slices.Contains([]string{"bigint", "integer", "numeric(20)", "real", "double precision"}, sqlType)
	case float64:
		return slices.Contains([]string{"real", "double precision", "numeric(20)"}, sqlType)
	case string:
		return slices.Contains([]string{"text", "uuid", "timestamptz", "inet", "cidr"}, sqlType)
	}
	return false
}

// nullability decides NOT NULL and defaults: a data column is NOT NULL when
// every event that creates rows writes it with a value that cannot be nil.
// A column only set later is nullable, except a boolean set only by
// constants, which starts as false.
func (t *tableBuilder) nullability() {
	var creators []int
	for i, m := range t.p.Methods {
		if m.Op == config.Insert || m.Op == config.Append {
			creators = append(creators, i)
		}
	}
	for _, c := range t.table.Columns {
		if c.Role != DataColumn {
			continue
		}
		nullable := t.origin[c.Name+"\x00nullable"] != ""
		writers := t.writes[c.Name]
		byCreators := len(creators) > 0
		for _, ci := range creators {
			if !slices.Contains(writers, ci) {
				byCreators = false
			}
		}
		switch {
		case byCreators && !nullable:
			c.NotNull = true
		case c.SQLType == "boolean" && !nullable && t.onlyConstants(c):
			c.NotNull, c.Default = true, "false"
		}
	}
}

func (t *tableBuilder) onlyConstants(c *Column) bool {
	for _, m := range t.p.Methods {
		for _, w := range m.Writes {
			if w.Column == c && w.Source != FromConstant {
				return false
			}
		}
	}
	return true
}

// uniqueColumns checks the projection's unique: columns and returns
// them: data columns of scalar types, of a table with a row per key (an
// append-only table has a row per event, whose values repeat).
func (t *tableBuilder) uniqueColumns() map[string]bool {
	out := map[string]bool{}
	for i, name := range t.cp.Unique {
		at := fmt.Sprintf("%s.unique[%d]", t.pp, i)
		var col *Column
		var data []string
		for _, c := range t.table.Columns {
			if c.Role == DataColumn {
				data = append(data, c.Name)
				if c.Name == name {
					col = c
				}
			}
		}
		switch {
		case t.table.KeyFrom != config.KeyAggregate:
			t.ok = false
			t.b.errorf(at, "table %s is keyed by %s: projgen makes columns unique only in tables keyed by aggregate, a row per aggregate", t.table.Name, t.table.KeyFrom).
				WithHint("remove unique: from projection %s, or add your own unique index in a migration of your own", t.cp.Name)
		case t.table.AppendOnly:
			t.ok = false
			t.b.errorf(at, "table %s has a row per event, so its column %s repeats: it cannot be unique", t.table.Name, name).
				WithHint("remove unique: from projection %s", t.cp.Name)
		case col == nil:
			t.ok = false
			t.b.errorf(at, "table %s has no data column %s to make unique", t.table.Name, name).
				WithHint("name one of its columns: %s", strings.Join(data, ", "))
		case col.SQLType == "jsonb" || strings.HasSuffix(col.SQLType, "[]") || col.SQLType == "bytea" || col.SQLType == "boolean":
			t.ok = false
			t.b.errorf(at, "column %s of table %s is %s, which projgen does not make unique", name, t.table.Name, col.SQLType).
				WithHint("make a text, number, uuid or time column unique, or add your own index in a migration of your own")
		default:
			out[name] = true
		}
	}
	return out
}

// indexes adds an index on created_at, on the aggregate ID when it is not
// the key, and on every scalar column named like an ID (tenant_id), the
// columns read models are most often queried by.
func (t *tableBuilder) indexes() {
	unique := t.uniqueColumns()
	for _, c := range t.table.Columns {
		switch {
		case unique[c.Name]:
			t.table.Indexes = append(t.table.Indexes, &Index{
				Name:    identifier(t.table.Name + "_" + c.Name + "_key"),
				Columns: []string{c.Name},
				Unique:  true,
			})
			if t.plainIndexed(c) {
				// The unique index serves every lookup the plain one did:
				// a table made before the column was unique drops it.
				t.table.Retired = append(t.table.Retired, t.plainIndex(c))
			}
		case t.plainIndexed(c):
			t.table.Indexes = append(t.table.Indexes, t.plainIndex(c))
		}
	}
}

// plainIndex is the index of c alone that plainIndexed gives it.
func (t *tableBuilder) plainIndex(c *Column) *Index {
	return &Index{Name: identifier(t.table.Name + "_" + c.Name + "_idx"), Columns: []string{c.Name}}
}

// plainIndexed reports whether c, not unique, gets an index of its own:
// the aggregate ID when it is not the key, created_at, and every scalar
// column named like an ID; not the scope column, with which the primary
// key begins, and which it serves.
func (t *tableBuilder) plainIndexed(c *Column) bool {
	switch {
	case c == t.table.Scope:
		return false
	case c.Role == AggregateColumn, c.Role == CreatedColumn:
		return true
	}
	return c.Role == DataColumn && (c.Name == "id" || strings.HasSuffix(c.Name, "_id")) &&
		c.SQLType != "jsonb" && !strings.HasSuffix(c.SQLType, "[]")
}
