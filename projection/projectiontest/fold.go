package projectiontest

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/projgen/projgen/projection"
)

// The operations of a Change, as projgen.yaml names them.
const (
	OpInsert = "insert"
	OpUpdate = "update"
	OpDelete = "delete"
	OpAppend = "append"
)

// Change is what one event does to a read-model table, stated as the
// rules of projgen's read models rather than as SQL, so that a test can
// work out the rows a sequence of events must leave without trusting the
// statements under test.
type Change struct {
	// Op is OpInsert, OpUpdate (set included), OpDelete or OpAppend.
	Op string
	// Key are the key columns of the row the event changes. For a delete
	// of every row of an aggregate, it holds aggregate_id only, and
	// ByAggregate is set.
	Key         Row
	ByAggregate bool
	// Guard is the column that orders the events of a row
	// (aggregate_version or last_position), and Set holds its new value,
	// an int64. Empty for appends.
	Guard string
	// Set are the columns the event writes, with their values.
	Set Row
	// Keep are the columns an insert leaves as they are on a row that
	// exists, such as created_at.
	Keep []string
}

// Fold applies changes, in order, by the rules of projgen's read models,
// to a table whose key columns are key, and returns the rows they leave,
// in no particular order:
//   - an insert writes a new row, or updates a row whose guard is older;
//     it does nothing when the key's tombstone is as new as the event;
//   - an update changes a row whose guard is older, and nothing else;
//   - a delete removes a row whose guard is older, and leaves a tombstone
//     of the event's guard, which later inserts of older events respect;
//   - an append adds a row unless its key is there already.
func Fold(key []string, changes []Change) ([]Row, error) {
	var rows []Row
	tombstones := map[string]int64{}
	find := func(key Row) int {
		return slices.IndexFunc(rows, func(r Row) bool { return matches(r, key) })
	}
	for i, c := range changes {
		guard, err := guardOf(c)
		if err != nil {
			return nil, fmt.Errorf("change %d: %w", i, err)
		}
		at := find(c.Key)
		switch c.Op {
		case OpInsert:
			if t, ok := tombstones[keyString(c.Key)]; ok && t >= guard {
				continue
			}
			switch {
			case at < 0:
				rows = append(rows, merged(c.Key, c.Set, nil))
			case older(rows[at], c.Guard, guard):
				rows[at] = merged(rows[at], c.Set, c.Keep)
			}
		case OpUpdate:
			if at >= 0 && older(rows[at], c.Guard, guard) {
				rows[at] = merged(rows[at], c.Set, nil)
			}
		case OpDelete:
			rows = slices.DeleteFunc(rows, func(r Row) bool {
				gone := matches(r, c.Key) && older(r, c.Guard, guard)
				if gone {
					k := keyString(project(r, key))
					tombstones[k] = max(tombstones[k], guard)
				}
				return gone
			})
			if !c.ByAggregate {
				k := keyString(c.Key)
				tombstones[k] = max(tombstones[k], guard)
			}
		case OpAppend:
			if at < 0 {
				rows = append(rows, merged(c.Key, c.Set, nil))
			}
		default:
			return nil, fmt.Errorf("change %d: unknown operation %q", i, c.Op)
		}
	}
	return rows, nil
}

// AssertFolded fails the test unless table, whose key columns are key,
// holds exactly the rows that Fold works out from changes: as many rows,
// and each of them with the columns it states.
func AssertFolded(t testing.TB, db projection.DBTX, table string, key []string, changes []Change) {
	t.Helper()
	assertFolded(t, db, table, key, changes, func(Row) bool { return true })
}

// AssertFoldedWhere is AssertFolded for a filtered table, which holds only
// the rows whose column has the value pass: the rows Fold works out are
// those of the table and of its held rows together, and table must hold
// exactly those that pass.
func AssertFoldedWhere(t testing.TB, db projection.DBTX, table string, key []string, column string, pass any, changes []Change) {
	t.Helper()
	assertFolded(t, db, table, key, changes, func(r Row) bool { return fmt.Sprint(r[column]) == fmt.Sprint(pass) })
}

// assertFolded fails the test unless table holds exactly the rows Fold
// works out from changes that keep accepts.
func assertFolded(t testing.TB, db projection.DBTX, table string, key []string, changes []Change, keep func(Row) bool) {
	t.Helper()
	rows, err := Fold(key, changes)
	if err != nil {
		t.Fatalf("fold the changes of %s: %v", table, err)
	}
	rows = slices.DeleteFunc(rows, func(r Row) bool { return !keep(r) })
	AssertCount(t, db, table, len(rows))
	for _, r := range rows {
		AssertRow(t, db, table, project(r, key), r)
	}
}

// guardOf returns the change's new guard value, 0 for appends.
func guardOf(c Change) (int64, error) {
	if c.Guard == "" {
		return 0, nil
	}
	g, ok := c.Set[c.Guard].(int64)
	if !ok {
		return 0, fmt.Errorf("guard %s is %T in Set, want an int64", c.Guard, c.Set[c.Guard])
	}
	return g, nil
}

// older reports whether row's guard is older than guard.
func older(row Row, column string, guard int64) bool {
	g, ok := row[column].(int64)
	return !ok || g < guard
}

// matches reports whether row has the values of key.
func matches(row, key Row) bool {
	for col, v := range key {
		if fmt.Sprint(row[col]) != fmt.Sprint(v) {
			return false
		}
	}
	return true
}

// merged returns base with set written over it, except the columns in
// keep that base has.
func merged(base, set Row, keep []string) Row {
	out := maps.Clone(base)
	for col, v := range set {
		if _, has := out[col]; has && slices.Contains(keep, col) {
			continue
		}
		out[col] = v
	}
	return out
}

// project returns the columns of row named by cols.
func project(row Row, cols []string) Row {
	out := Row{}
	for _, col := range cols {
		out[col] = row[col]
	}
	return out
}

// keyString is a key as a string, for maps.
func keyString(key Row) string {
	cols := slices.Sorted(maps.Keys(key))
	parts := make([]string, len(cols))
	for i, col := range cols {
		parts[i] = fmt.Sprintf("%s=%v", col, key[col])
	}
	return strings.Join(parts, ",")
}
