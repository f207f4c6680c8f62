// Package schema knows the shape of read-model tables: it replays existing
// migration files to find the tables they create, and compares that with the
// tables projgen wants, to find the changes a new migration must make.
//
// It understands the statements projgen writes, and the usual hand-written
// forms of them (CREATE TABLE, ALTER TABLE … ADD/DROP/ALTER/RENAME, DROP
// TABLE, CREATE and DROP INDEX); it skips any other statement.
package schema

import (
	"slices"
	"strings"
)

// Schema is a set of tables.
type Schema struct {
	// Tables are the tables, in the order they were created.
	Tables []*Table
}

// Table is a table's columns, key and indexes.
type Table struct {
	Name       string
	Columns    []*Column
	PrimaryKey []string
	Indexes    []*Index
	// Retired are indexes projgen made and no longer wants: Diff drops
	// them where they exist as they were made. Other indexes it does not
	// want it leaves alone, as the user's.
	Retired []*Index
}

// Column is a column definition.
type Column struct {
	Name    string
	Type    string
	NotNull bool
	Default string
}

// Index is a secondary index.
type Index struct {
	Name    string
	Columns []string
	Unique  bool
}

// sameAs reports whether ix and o are the same index: name, columns and
// uniqueness.
func (ix *Index) sameAs(o *Index) bool {
	return ix.Name == o.Name && slices.Equal(ix.Columns, o.Columns) && ix.Unique == o.Unique
}

// Table returns the table with the given name, or nil.
func (s *Schema) Table(name string) *Table {
	for _, t := range s.Tables {
		if t.Name == name {
			return t
		}
	}
	return nil
}

// Column returns the column with the given name, or nil.
func (t *Table) Column(name string) *Column {
	for _, c := range t.Columns {
		if c.Name == name {
			return c
		}
	}
	return nil
}

// Index returns the index with the given name, or nil.
func (t *Table) Index(name string) *Index {
	for _, ix := range t.Indexes {
		if ix.Name == name {
			return ix
		}
	}
	return nil
}

func (s *Schema) dropTable(name string) {
	s.Tables = slices.DeleteFunc(s.Tables, func(t *Table) bool { return t.Name == name })
}

func (s *Schema) dropIndex(name string) {
	for _, t := range s.Tables {
		t.Indexes = slices.DeleteFunc(t.Indexes, func(ix *Index) bool { return ix.Name == name })
	}
}

func (t *Table) dropColumn(name string) {
	t.Columns = slices.DeleteFunc(t.Columns, func(c *Column) bool { return c.Name == name })
	t.PrimaryKey = slices.DeleteFunc(t.PrimaryKey, func(c string) bool { return c == name })
	t.Indexes = slices.DeleteFunc(t.Indexes, func(ix *Index) bool { return slices.Contains(ix.Columns, name) })
}

// NormalizeType returns the canonical spelling of a PostgreSQL type, so
// that "int8", "BIGINT" and "bigint" compare equal.
func NormalizeType(t string) string {
	t = strings.ToLower(strings.Join(strings.Fields(t), " "))
	t = strings.ReplaceAll(t, " (", "(")
	t = strings.ReplaceAll(t, " [", "[")
	t = strings.ReplaceAll(t, "[ ]", "[]")
	t = strings.ReplaceAll(t, "( ", "(")
	t = strings.ReplaceAll(t, " )", ")")
	t = strings.ReplaceAll(t, ", ", ",")
	t = strings.ReplaceAll(t, " ,", ",")
	array := ""
	for strings.HasSuffix(t, "[]") {
		t, array = strings.TrimSuffix(t, "[]"), array+"[]"
	}
	if a, ok := typeAliases[t]; ok {
		t = a
	}
	return t + array
}

var typeAliases = map[string]string{
	"int8":                        "bigint",
	"int":                         "integer",
	"int4":                        "integer",
	"int2":                        "smallint",
	"bool":                        "boolean",
	"float8":                      "double precision",
	"float4":                      "real",
	"timestamp with time zone":    "timestamptz",
	"timestamp without time zone": "timestamp",
	"character varying":           "varchar",
	"decimal":                     "numeric",
	"decimal(20)":                 "numeric(20)",
	"numeric(20,0)":               "numeric(20)",
}
