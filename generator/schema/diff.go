package schema

import (
	"fmt"
	"slices"
)

// ChangeKind is a kind of schema change.
type ChangeKind int

// Change kinds, in the order a migration applies them.
const (
	CreateTable ChangeKind = iota
	AddColumn
	DropNotNull
	SetDefault
	AlterType
	DropIndex
	DropColumn
	CreateIndex
	DropTable
)

// Change is one step from the current schema to the wanted one.
type Change struct {
	Kind ChangeKind
	// Table is the wanted table (the current one for DropTable).
	Table *Table
	// Column is the wanted column, or the dropped one.
	Column *Column
	// Was is the current column, for AlterType, DropNotNull and SetDefault.
	Was *Column
	// Index is the created or dropped index.
	Index *Index
}

// Destructive reports whether the change can lose data: dropping a table or
// a column, or changing a column's type.
func (c Change) Destructive() bool {
	switch c.Kind {
	case DropTable, DropColumn, AlterType:
		return true
	}
	return false
}

// String describes the change for messages.
func (c Change) String() string {
	switch c.Kind {
	case CreateTable:
		return fmt.Sprintf("create table %s", c.Table.Name)
	case AddColumn:
		return fmt.Sprintf("add column %s.%s %s", c.Table.Name, c.Column.Name, c.Column.Type)
	case DropNotNull:
		return fmt.Sprintf("allow NULL in %s.%s", c.Table.Name, c.Column.Name)
	case SetDefault:
		return fmt.Sprintf("set the default of %s.%s", c.Table.Name, c.Column.Name)
	case AlterType:
		return fmt.Sprintf("change %s.%s from %s to %s", c.Table.Name, c.Column.Name, c.Was.Type, c.Column.Type)
	case DropIndex:
		return fmt.Sprintf("drop index %s", c.Index.Name)
	case DropColumn:
		return fmt.Sprintf("drop column %s.%s", c.Table.Name, c.Column.Name)
	case CreateIndex:
		return fmt.Sprintf("create index %s", c.Index.Name)
	case DropTable:
		return fmt.Sprintf("drop table %s", c.Table.Name)
	}
	return "unknown change"
}

// Diff returns the changes that turn table have (nil when it does not exist)
// into want, in the order a migration applies them. Indexes that want does
// not name are kept. A NOT NULL column that
// exists as nullable is left alone: tightening a column that already holds
// rows is the user's decision, not projgen's. A new column is added as
// nullable for the same reason: the rows already there have no value for it.
func Diff(have, want *Table) []Change {
	if want == nil {
		if have == nil {
			return nil
		}
		return []Change{{Kind: DropTable, Table: have}}
	}
	if have == nil {
		return []Change{{Kind: CreateTable, Table: want}}
	}
	var out []Change
	for _, wc := range want.Columns {
		hc := have.Column(wc.Name)
		switch {
		case hc == nil:
			added := *wc
			if added.Default == "" {
				added.NotNull = false
			}
			out = append(out, Change{Kind: AddColumn, Table: want, Column: &added})
			continue
		case hc.Type != wc.Type:
			out = append(out, Change{Kind: AlterType, Table: want, Column: wc, Was: hc})
		}
		if hc.NotNull && !wc.NotNull && !slices.Contains(want.PrimaryKey, wc.Name) {
			out = append(out, Change{Kind: DropNotNull, Table: want, Column: wc, Was: hc})
		}
		if hc.Default != wc.Default && wc.Default != "" {
			out = append(out, Change{Kind: SetDefault, Table: want, Column: wc, Was: hc})
		}
	}
	// An index that projgen does not want is left alone: users add their
	// own, for their queries. One it wants, with other columns, is
	// rebuilt.
	for _, hix := range have.Indexes {
		wix := want.Index(hix.Name)
		changed := wix != nil && !wix.sameAs(hix)
		retired := wix == nil && slices.ContainsFunc(want.Retired, hix.sameAs)
		if changed || retired {
			out = append(out, Change{Kind: DropIndex, Table: want, Index: hix})
		}
	}
	for _, hc := range have.Columns {
		if want.Column(hc.Name) == nil {
			out = append(out, Change{Kind: DropColumn, Table: want, Column: hc})
		}
	}
	for _, wix := range want.Indexes {
		if hix := have.Index(wix.Name); hix == nil || !wix.sameAs(hix) {
			out = append(out, Change{Kind: CreateIndex, Table: want, Index: wix})
		}
	}
	slices.SortStableFunc(out, func(a, b Change) int { return int(a.Kind) - int(b.Kind) })
	return out
}
