package projectiontest

import (
	"reflect"
	"testing"
)

func TestFold(t *testing.T) {
	key := []string{"id"}
	insert := func(id string, v int64, name string) Change {
		return Change{Op: OpInsert, Key: Row{"id": id}, Guard: "version", Set: Row{"version": v, "name": name, "created": v}, Keep: []string{"created"}}
	}
	update := func(id string, v int64, name string) Change {
		return Change{Op: OpUpdate, Key: Row{"id": id}, Guard: "version", Set: Row{"version": v, "name": name}}
	}
	del := func(id string, v int64) Change {
		return Change{Op: OpDelete, Key: Row{"id": id}, Guard: "version", Set: Row{"version": v}}
	}
	tests := []struct {
		name    string
		changes []Change
		want    []Row
	}{
		{"insert then update", []Change{insert("a", 1, "x"), update("a", 2, "y")},
			[]Row{{"id": "a", "version": int64(2), "name": "y", "created": int64(1)}}},
		{"an older update changes nothing", []Change{insert("a", 2, "x"), update("a", 1, "y")},
			[]Row{{"id": "a", "version": int64(2), "name": "x", "created": int64(2)}}},
		{"an insert of a row that exists keeps created", []Change{insert("a", 1, "x"), insert("a", 3, "z")},
			[]Row{{"id": "a", "version": int64(3), "name": "z", "created": int64(1)}}},
		{"an update of no row does nothing", []Change{update("a", 2, "y")}, nil},
		{"a replayed insert after a delete stays deleted", []Change{insert("a", 1, "x"), del("a", 2), insert("a", 1, "x")}, nil},
		{"a newer insert after a delete comes back", []Change{insert("a", 1, "x"), del("a", 2), insert("a", 3, "w")},
			[]Row{{"id": "a", "version": int64(3), "name": "w", "created": int64(3)}}},
		{"a delete of every row of an aggregate", []Change{
			{Op: OpInsert, Key: Row{"id": "r1"}, Guard: "version", Set: Row{"version": int64(1), "owner": "A"}},
			{Op: OpInsert, Key: Row{"id": "r2"}, Guard: "version", Set: Row{"version": int64(2), "owner": "B"}},
			{Op: OpDelete, Key: Row{"owner": "A"}, ByAggregate: true, Guard: "version", Set: Row{"version": int64(5)}},
			{Op: OpInsert, Key: Row{"id": "r1"}, Guard: "version", Set: Row{"version": int64(1), "owner": "A"}},
		}, []Row{{"id": "r2", "version": int64(2), "owner": "B"}}},
		{"appends keep the first row of a key", []Change{
			{Op: OpAppend, Key: Row{"id": "p1"}, Set: Row{"v": 1}},
			{Op: OpAppend, Key: Row{"id": "p1"}, Set: Row{"v": 2}},
		}, []Row{{"id": "p1", "v": 1}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Fold(key, tt.changes)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) && len(got)+len(tt.want) > 0 {
				t.Errorf("Fold = %v, want %v", got, tt.want)
			}
		})
	}
	if _, err := Fold(key, []Change{{Op: OpInsert, Key: Row{"id": "a"}, Guard: "version", Set: Row{"version": 1}}}); err == nil {
		t.Error("Fold of a guard that is not an int64: no error")
	}
}
