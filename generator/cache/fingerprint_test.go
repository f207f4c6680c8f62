package cache

import (
	"go/constant"
	"go/parser"
	"testing"
)

type inner struct {
	Name   string
	hidden int
}

type node struct {
	Value any
	Next  *node
	Kids  []*node
	Attrs map[string]any
	In    inner
	Pair  [2]string
}

func mustFingerprint(t *testing.T, v any) [32]byte {
	t.Helper()
	sum, err := Fingerprint(v)
	if err != nil {
		t.Fatalf("Fingerprint(%#v): %v", v, err)
	}
	return sum
}

// TestFingerprintTellsValuesApart lists pairs of values that a renderer
// could tell apart, and requires different fingerprints for each.
func TestFingerprintTellsValuesApart(t *testing.T) {
	expr := func(src string) any {
		e, err := parser.ParseExpr(src)
		if err != nil {
			t.Fatal(err)
		}
		return e
	}
	for _, tt := range []struct {
		name string
		a, b any
	}{
		{"int64 and float64 in an interface", node{Value: int64(1)}, node{Value: float64(1)}},
		{"a string and a number", node{Value: "1"}, node{Value: int64(1)}},
		{"nil and an empty string", node{Value: nil}, node{Value: ""}},
		{"nil and an empty slice", node{Kids: nil}, node{Kids: []*node{}}},
		{"nil and an empty map", node{Attrs: nil}, node{Attrs: map[string]any{}}},
		{"an unexported field", node{In: inner{"x", 1}}, node{In: inner{"x", 2}}},
		{"where strings split", node{Pair: [2]string{"ab", ""}}, node{Pair: [2]string{"a", "b"}}},
		{"an exact integer and a float", node{Value: constant.MakeInt64(1)}, node{Value: constant.MakeFloat64(1)}},
		{"close floats", node{Value: constant.MakeFloat64(0.1)}, node{Value: constant.MakeFloat64(0.10000000000000002)}},
		{"a string constant and an integer", node{Value: constant.MakeString("1")}, node{Value: constant.MakeInt64(1)}},
		{"large integers", node{Value: constant.MakeFromLiteral("123456789012345678901234567890", 5, 0)},
			node{Value: constant.MakeFromLiteral("123456789012345678901234567891", 5, 0)}},
		{"parsed conditions", node{Value: expr("Amount > 100")}, node{Value: expr("Amount >= 100")}},
		{"a map value", node{Attrs: map[string]any{"a": 1}}, node{Attrs: map[string]any{"a": 2}}},
		{"a map key", node{Attrs: map[string]any{"a": 1}}, node{Attrs: map[string]any{"b": 1}}},
		{"a list's order", node{Kids: []*node{{Value: "a"}, {Value: "b"}}}, node{Kids: []*node{{Value: "b"}, {Value: "a"}}}},
		{"depth", &node{Next: &node{}}, &node{Next: &node{Next: &node{}}}},
	} {
		if mustFingerprint(t, tt.a) == mustFingerprint(t, tt.b) {
			t.Errorf("%s: %#v and %#v have the same fingerprint", tt.name, tt.a, tt.b)
		}
	}
}

// TestFingerprintOfEqualValues requires the same fingerprint for values
// built apart that are equal: maps filled in another order, trees
// copied, conditions parsed twice.
func TestFingerprintOfEqualValues(t *testing.T) {
	build := func(order []string) *node {
		n := &node{Attrs: map[string]any{}, In: inner{"in", 3}}
		for i, k := range order {
			n.Attrs[k] = []int{i % 2, len(k)}
			n.Kids = append(n.Kids, &node{Value: "kid"})
		}
		e, err := parser.ParseExpr(`!IsArchived && Status == "active"`)
		if err != nil {
			t.Fatal(err)
		}
		n.Value = e
		return n
	}
	keys := []string{"b", "a", "d", "c", "e", "f", "g", "h"}
	reversed := []string{"h", "g", "f", "e", "c", "d", "a", "b"}
	a, b := build(keys), build(reversed)
	// The same entries, whatever the insertion order.
	for i, k := range keys {
		a.Attrs[k] = []int{0, len(k)}
		b.Attrs[reversed[i]] = []int{0, len(reversed[i])}
	}
	if mustFingerprint(t, a) != mustFingerprint(t, b) {
		t.Error("equal trees built apart have different fingerprints")
	}
}

// TestFingerprintEndsOnCycles fingerprints values that reach themselves.
func TestFingerprintEndsOnCycles(t *testing.T) {
	n := &node{}
	n.Next = n
	n.Kids = []*node{n, n}
	m := map[string]any{}
	m["self"] = m
	n.Attrs = m
	s := []any{nil}
	s[0] = s
	n.Value = s
	mustFingerprint(t, n)
	other := &node{}
	other.Next = other
	if mustFingerprint(t, n) == mustFingerprint(t, other) {
		t.Error("different cycles have the same fingerprint")
	}
}

// TestFingerprintRefusesFunctions: a function's behaviour is not in its
// value, so a value holding one has no fingerprint.
func TestFingerprintRefusesFunctions(t *testing.T) {
	for _, v := range []any{node{Value: func() {}}, node{Value: make(chan int)}} {
		if _, err := Fingerprint(v); err == nil {
			t.Errorf("Fingerprint(%#v) = nil error", v)
		}
	}
}

// TestFingerprintSkipsTaggedFields checks that a field tagged
// `fingerprint:"-"` changes nothing, and that its untagged neighbour does.
func TestFingerprintSkipsTaggedFields(t *testing.T) {
	type event struct {
		Name string
		Pos  string `fingerprint:"-"`
	}
	a := mustFingerprint(t, &event{Name: "Created", Pos: "events.go:3:6"})
	if b := mustFingerprint(t, &event{Name: "Created", Pos: "../x/events.go:3:6"}); a != b {
		t.Error("a tagged field changed the fingerprint")
	}
	if b := mustFingerprint(t, &event{Name: "Opened", Pos: "events.go:3:6"}); a == b {
		t.Error("an untagged field did not change the fingerprint")
	}
}
