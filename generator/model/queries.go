package model

import (
	"strings"

	"github.com/projgen/projgen/generator/load"
	"github.com/projgen/projgen/generator/names"
)

// Queries are the typed reads of a projection's table, in its
// <name>_queries_gen.go: a row type with a field per column, and Get,
// List and Count on the Postgres read model's DBTX.
type Queries struct {
	// Fields are the row type's fields, one per column of the table, in
	// the table's column order.
	Fields []*RowField
	// Key are the fields of the table's primary key, in its order: what
	// Get takes, and what List orders its pages by.
	Key []*RowField
	// Filters are what List and Count filter on: equality on every
	// indexed column but time columns, and a range on each indexed time
	// column, so that a filter never needs a column without an index.
	Filters []*QueryFilter
}

// RowField is a field of a row type.
type RowField struct {
	// Name is the Go field name: the column's name, exported.
	Name string
	// Param is the name of a parameter that holds its value.
	Param string
	// Column is the column it holds.
	Column *Column
	// Type is its Go type: the type of the event field the column holds,
	// behind a pointer when the column may be NULL and the type has no
	// nil of its own; for the other columns, the type pgx scans the
	// column's SQL type into.
	Type *load.Type
}

// QueryFilter is one condition of a generated List or Count.
type QueryFilter struct {
	// Field is the row field it tests.
	Field *RowField
	// Range is true for a time column: From (inclusive) and Before
	// (exclusive) bound it; otherwise Equal is the value it must have.
	Range bool
	// Equal, From and Before are the filter struct's fields, each a
	// pointer that is nil when the condition is not asked for.
	Equal, From, Before string
	// Type is the type of the value an equality compares the field
	// with: the field's type, without the pointer a nullable column
	// gives it.
	Type *load.Type
}

var (
	uuidType = &load.Type{Kind: load.Array, Name: &load.TypeName{Path: uuidPath, Package: "uuid", Name: "UUID"}}
	timeType = &load.Type{Kind: load.Struct, Name: &load.TypeName{Path: timePath, Package: "time", Name: "Time"}}
)

func basicType(k load.Kind) *load.Type { return &load.Type{Kind: k, Basic: k.String()} }

// pointerTo returns *t.
func pointerTo(t *load.Type) *load.Type { return &load.Type{Kind: load.Pointer, Elem: t} }

// nilable reports whether t has a nil of its own.
func nilable(t *load.Type) bool {
	switch t.Kind {
	case load.Slice, load.Map, load.Interface:
		return true
	case load.Pointer:
		return t.Name == nil
	}
	return false
}

// sqlGoType is the Go type pgx scans a column of SQL type sql into, for
// columns no event field types.
func sqlGoType(sql string) *load.Type {
	switch {
	case sql == "uuid":
		return uuidType
	case sql == "timestamptz":
		return timeType
	case sql == "bigint":
		return basicType(load.Int64)
	case sql == "integer":
		return basicType(load.Int32)
	case sql == "smallint":
		return basicType(load.Int16)
	case sql == "boolean":
		return basicType(load.Bool)
	case sql == "double precision":
		return basicType(load.Float64)
	case sql == "real":
		return basicType(load.Float32)
	case sql == "bytea":
		return &load.Type{Kind: load.Slice, Elem: basicType(load.Uint8)}
	case sql == "jsonb":
		return &load.Type{Kind: load.Slice, Name: &load.TypeName{Path: jsonPath, Package: "json", Name: "RawMessage"}, Elem: basicType(load.Uint8)}
	case strings.HasPrefix(sql, "numeric"):
		return basicType(load.Uint64)
	}
	return basicType(load.String)
}

// rowType is the Go type of column c's field.
func rowType(c *Column) *load.Type {
	t := c.GoType
	switch {
	case t == nil, c.Role != DataColumn && c.Role != KeyColumn:
		t = sqlGoType(c.SQLType)
	case t.Kind == load.Array && c.SQLType == "bytea":
		// A byte array is written as a slice (Conversion ByteSlice).
		t = sqlGoType("bytea")
	}
	if !c.NotNull && !nilable(t) {
		t = pointerTo(t)
	}
	return t
}

// buildQueries makes the queries of table t.
func buildQueries(t *Table) *Queries {
	q := &Queries{}
	byColumn := map[string]*RowField{}
	for _, c := range t.Columns {
		f := &RowField{Name: names.Exported(c.Name), Param: names.Unexported(c.Name), Column: c, Type: rowType(c)}
		if names.IsGoKeyword(f.Param) {
			f.Param += "Value"
		}
		q.Fields = append(q.Fields, f)
		byColumn[c.Name] = f
	}
	if t.Scope != nil {
		q.Key = append(q.Key, byColumn[t.Scope.Name])
	}
	q.Key = append(q.Key, byColumn[t.Key.Name])
	filtered := map[string]bool{}
	add := func(f *RowField) {
		if f == nil || filtered[f.Column.Name] {
			return
		}
		filtered[f.Column.Name] = true
		qf := &QueryFilter{Field: f, Range: f.Column.SQLType == "timestamptz", Type: f.Type}
		if f.Type.Kind == load.Pointer && f.Type.Name == nil {
			qf.Type = f.Type.Elem
		}
		if qf.Range {
			qf.From, qf.Before = f.Name+"From", f.Name+"Before"
		} else {
			qf.Equal = f.Name
		}
		q.Filters = append(q.Filters, qf)
	}
	// The scope column leads the primary key, whose index serves it: the
	// rows of one aggregate.
	if t.Scope != nil {
		add(byColumn[t.Scope.Name])
	}
	for _, ix := range t.Indexes {
		if len(ix.Columns) > 0 {
			add(byColumn[ix.Columns[0]])
		}
	}
	return q
}
