package load_test

import (
	"encoding/json"
	"fmt"
	"reflect"
	"regexp"
	"slices"
	"testing"

	"github.com/projgen/projgen/generator/load"
)

func TestFields(t *testing.T) {
	t.Parallel()
	pkg := loadX(t, map[string]string{"x.go": fieldsSrc})
	byName := map[string]*load.Event{}
	for _, e := range pkg.Discovered {
		byName[e.Name] = e
	}
	tests := []struct {
		event string
		want  []string
		skip  string
	}{
		// json tags name fields; "-" and unexported fields are skipped;
		// a tag with no name keeps the Go name.
		{"Tagged", []string{"Name/name", "Plain", "Opts"}, ""},
		// Embedded structs are flattened, exported or not; of two
		// fields of one name at one depth neither is kept; a pointer
		// to a struct is a field of its own.
		{"Embedding", []string{"At/at", "Extra", "Ptr", "Low", "Top"}, ""},
		// A shallower field wins over an embedded one.
		{"Shadowing", []string{"At/at", "Shared"}, ""},
		// Trace is reached twice at depth 2, so encoding/json drops it.
		{"Diamond", []string{"Own"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.event, func(t *testing.T) {
			if tt.skip != "" {
				t.Skip(tt.skip)
			}
			e := byName[tt.event]
			if e == nil {
				t.Fatalf("event %s not discovered; got %q", tt.event, discovered(pkg))
			}
			if got := fieldDesc(e.Fields); !slices.Equal(got, tt.want) {
				t.Errorf("fields = %q, want %q", got, tt.want)
			}
		})
	}
	// The shallower Shared is the bool of Shadowing itself.
	if sh := byName["Shadowing"]; sh != nil && len(sh.Fields) == 2 && sh.Fields[1].Type.Kind != load.Bool {
		t.Errorf("Shadowing.Shared is a %v, want the bool declared in Shadowing", sh.Fields[1].Type)
	}
	// The pointer-embedded field keeps its pointer type.
	if em := byName["Embedding"]; em != nil {
		for _, f := range em.Fields {
			if f.Name == "Ptr" && (f.Type.Kind != load.Pointer || f.Type.String() != "*x.Ptr") {
				t.Errorf("Embedding.Ptr type = %v (%v), want *x.Ptr", f.Type, f.Type.Kind)
			}
			if !regexp.MustCompile(`x\.go:\d+:\d+$`).MatchString(f.Pos) {
				t.Errorf("field %s: Pos %q is not file:line:col", f.Name, f.Pos)
			}
		}
	}
}

func TestFieldsDiamondMatchesEncodingJSON(t *testing.T) {
	t.Parallel()
	// The expectation of the Diamond case above, checked against
	// encoding/json itself.
	data, err := json.Marshal(jsonDiamond{})
	if err != nil {
		t.Fatal(err)
	}
	if got := string(data); got != `{"Own":""}` {
		t.Errorf("encoding/json encodes Diamond as %s", got)
	}
}

const typesSrc = `package x

import "time"

type R = string

type Status string

type Pair[K comparable, V any] struct {
	Key K
	Val V
}

type ItemID [16]byte

//projgen:event
type T struct {
	Alias    R
	Enum     Status
	Raw      []byte
	One      byte
	Char     rune
	Small    uint8
	Gen      Pair[string, int]
	When     time.Time
	Took     time.Duration
	Counts   map[string]int
	Maybe    *int
	Item     ItemID
	Anon     struct{ X int }
	Any      any
	AliasPtr *R
}
`

func TestTypes(t *testing.T) {
	t.Parallel()
	pkg := loadX(t, map[string]string{"x.go": typesSrc})
	if len(pkg.Discovered) != 1 {
		t.Fatalf("Discovered = %q", discovered(pkg))
	}
	fields := map[string]*load.Type{}
	for _, f := range pkg.Discovered[0].Fields {
		fields[f.Name] = f.Type
	}
	named := func(path, pkg, name string) *load.TypeName {
		return &load.TypeName{Path: path, Package: pkg, Name: name}
	}
	tests := []struct {
		field  string
		str    string
		kind   load.Kind
		name   *load.TypeName
		check  func(*load.Type) string // "" when right
		detail string
	}{
		{field: "Alias", str: "string", kind: load.String},
		{field: "Enum", str: "x.Status", kind: load.String, name: named(pkgPath, "x", "Status")},
		{field: "Raw", str: "[]byte", kind: load.Slice, check: func(t *load.Type) string {
			if t.Elem == nil || t.Elem.Kind != load.Uint8 {
				return fmt.Sprintf("elem %v", t.Elem)
			}
			return ""
		}},
		{field: "One", str: "byte", kind: load.Uint8},
		{field: "Char", str: "rune", kind: load.Int32},
		{field: "Small", str: "uint8", kind: load.Uint8},
		{field: "Gen", str: "x.Pair[string, int]", kind: load.Struct, name: named(pkgPath, "x", "Pair"), check: func(t *load.Type) string {
			if len(t.TypeArgs) != 2 || t.TypeArgs[0].Kind != load.String || t.TypeArgs[1].Kind != load.Int {
				return fmt.Sprintf("type args %v", t.TypeArgs)
			}
			return ""
		}},
		{field: "When", str: "time.Time", kind: load.Struct, name: named("time", "time", "Time")},
		{field: "Took", str: "time.Duration", kind: load.Int64, name: named("time", "time", "Duration")},
		{field: "Counts", str: "map[string]int", kind: load.Map},
		{field: "Maybe", str: "*int", kind: load.Pointer},
		{field: "Item", str: "x.ItemID", kind: load.Array, name: named(pkgPath, "x", "ItemID"), check: func(t *load.Type) string {
			if t.Len != 16 || t.Elem == nil || t.Elem.Kind != load.Uint8 {
				return fmt.Sprintf("len %d elem %v", t.Len, t.Elem)
			}
			return ""
		}},
		{field: "Anon", str: "struct{X int}", kind: load.Struct},
		{field: "Any", str: "any", kind: load.Interface},
		{field: "AliasPtr", str: "*string", kind: load.Pointer},
	}
	for _, tt := range tests {
		typ := fields[tt.field]
		if typ == nil {
			t.Errorf("no field %s", tt.field)
			continue
		}
		if got := typ.String(); got != tt.str {
			t.Errorf("%s: String() = %q, want %q", tt.field, got, tt.str)
		}
		if typ.Kind != tt.kind {
			t.Errorf("%s: Kind = %v, want %v", tt.field, typ.Kind, tt.kind)
		}
		if !reflect.DeepEqual(typ.Name, tt.name) {
			t.Errorf("%s: Name = %+v, want %+v", tt.field, typ.Name, tt.name)
		}
		if tt.check != nil {
			if msg := tt.check(typ); msg != "" {
				t.Errorf("%s: %s", tt.field, msg)
			}
		}
	}
	if !fields["When"].Is("time", "Time") || fields["When"].Is("time", "Duration") {
		t.Errorf("Is: When is time.Time and not time.Duration")
	}
}

func TestKindString(t *testing.T) {
	t.Parallel()
	for k, want := range map[load.Kind]string{load.Bool: "bool", load.Uint8: "uint8", load.Struct: "struct", load.UnsafePointer: "unsafe.Pointer", load.Kind(99): "Kind(99)"} {
		if got := k.String(); got != want {
			t.Errorf("Kind(%d).String() = %q, want %q", int(k), got, want)
		}
	}
	if !load.String.IsBasic() || !load.Bool.IsBasic() || load.Pointer.IsBasic() || load.Invalid.IsBasic() {
		t.Errorf("IsBasic is wrong")
	}
}

// Header is projgen's header line, followed by the package clause.
const generatedPrefix = load.Header + "\n\npackage x\n"
