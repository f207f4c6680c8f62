package load_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/projgen/projgen/generator/diag"
	"github.com/projgen/projgen/generator/load"
)

// modulePath is the module path of every throwaway module of these tests.
const modulePath = "example.com/m"

// pkgPath is the import path of the package the tests load, in directory x.
const pkgPath = modulePath + "/x"

func TestMain(m *testing.M) {
	// The go command must not reach the network, nor pick up a go.work
	// above the temporary directories, nor switch toolchains.
	for k, v := range map[string]string{"GOPROXY": "off", "GOWORK": "off", "GOTOOLCHAIN": "local", "GOFLAGS": "-mod=mod"} {
		os.Setenv(k, v)
	}
	os.Exit(m.Run())
}

// writeModule writes a module example.com/m with the given files (paths
// relative to the module root, slash-separated) into a new temporary
// directory, and returns that directory.
func writeModule(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	all := map[string]string{"go.mod": "module " + modulePath + "\n\ngo 1.26\n"}
	for name, src := range files {
		all[name] = src
	}
	for name, src := range all {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// loadX writes a module whose package x has the given files (names
// relative to x/) and loads x, failing the test on any error.
func loadX(t *testing.T, files map[string]string) *load.Package {
	t.Helper()
	pkg, err := tryLoadX(t, files)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	return pkg
}

// tryLoadX is loadX returning Load's error instead of failing.
func tryLoadX(t *testing.T, files map[string]string) (*load.Package, error) {
	t.Helper()
	inX := map[string]string{}
	for name, src := range files {
		inX["x/"+name] = src
	}
	dir := writeModule(t, inX)
	pkgs, err := load.Load(context.Background(), dir, []string{pkgPath})
	if err != nil {
		return nil, err
	}
	if len(pkgs) != 1 || pkgs[0].Path != pkgPath {
		t.Fatalf("Load returned %d packages, want just %s", len(pkgs), pkgPath)
	}
	return pkgs[0], nil
}

// discovered describes the discovered events as "Name" or "Name@topic",
// in order.
func discovered(p *load.Package) []string {
	var out []string
	for _, e := range p.Discovered {
		if e.Topic != "" {
			out = append(out, e.Name+"@"+e.Topic)
		} else {
			out = append(out, e.Name)
		}
	}
	return out
}

func TestDiscovery(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		files     map[string]string
		rule      load.Rule
		want      []string // discovered(pkg)
		aggregate string
		skip      string // set for a reported bug
	}{
		{
			name: "markers, with and without topic, win over events.go",
			files: map[string]string{
				"x.go": `package x

//projgen:event
type Zeta struct{ N int }

type NotMarked struct{}

//projgen:event x.alpha
type Alpha struct{}

type Trailing struct{} //projgen:event x.trailing

type (
	//projgen:event
	Grouped struct{}
	Other   struct{}
)

//projgen:eventually another directive
type Lookalike struct{}
`,
				"events.go": `package x

type InEventsFile struct{}
`,
			},
			rule: load.RuleMarker,
			want: []string{"Zeta", "Alpha@x.alpha", "Trailing@x.trailing", "Grouped"},
		},
		{
			name: "aggregate Register method taking a func",
			files: map[string]string{
				"account.go": `package x

type RegisterFunc func(events ...any)

type Account struct{ ID string }

func (a *Account) Register(r RegisterFunc) { r(&Opened{}, &Closed{}, Account{}) }
`,
				"events.go": `package x

type Closed struct{ Reason string }

type Opened struct{ Owner string }

type Unregistered struct{}
`,
			},
			rule:      load.RuleRegistration,
			want:      []string{"Opened", "Closed"},
			aggregate: "Account",
		},
		{
			name: "RegisterEvents with factory functions gives topics",
			files: map[string]string{
				"x.go": `package x

type A struct{ N int }
type B struct{}
type C struct{}

func RegisterEvents(register func(string, func() any)) {
	register("x.a", func() any { return &A{} })
	register("x.b", func() any { return B{} })
}
`,
			},
			rule: load.RuleRegistration,
			want: []string{"A@x.a", "B@x.b"},
		},
		{
			name: "generic Register[T] call",
			files: map[string]string{
				"x.go": `package x

var factories = map[string]func() any{}

func Register[T any](name string) { factories[name] = func() any { return new(T) } }

type Second struct{}
type First struct{}
type Unused struct{}

func init() {
	Register[First]("x.first")
	Register[Second]("x.second")
}
`,
			},
			rule: load.RuleRegistration,
			want: []string{"First@x.first", "Second@x.second"},
		},
		{
			name: "new(T) in a registration call",
			files: map[string]string{
				"x.go": `package x

type P struct{}
type Q struct{}

func registerAll(events ...any) {}

func init() { registerAll(new(Q), new(P)) }
`,
			},
			rule: load.RuleRegistration,
			want: []string{"Q", "P"},
		},
		{
			name: "registration wins over methods and events.go",
			files: map[string]string{
				"x.go": `package x

type Reg struct{}

type WithMethod struct{}

func (WithMethod) EventType() string { return "with" }

func init() { MustRegister(Reg{}) }

func MustRegister(any) {}
`,
				"events.go": `package x

type InFile struct{}
`,
			},
			rule: load.RuleRegistration,
			want: []string{"Reg"},
		},
		{
			name: "EventType and GetType methods",
			files: map[string]string{
				"x.go": `package x

import (
	"fmt"
	"strings"
)

const topicB = "x.b"

type A struct{}

func (A) EventType() string { return "x.a" }

type B struct{}

func (*B) GetType() string { return topicB }

type C struct{}

func (e C) GetType() string { return fmt.Sprintf("%T", e) }

type D struct{}

func (e *D) EventType() string { return fmt.Sprintf("%T", e) }

type E struct{}

func (E) EventType() string { return strings.ToLower("E") }

type WrongSignature struct{}

func (WrongSignature) EventType() int { return 1 }

type NoMethod struct{}

// X is the aggregate, named like the package: never an event.
type X struct{ ID string }

func (X) GetType() string { return "aggregate" }
`,
			},
			rule:      load.RuleMethod,
			want:      []string{"A@x.a", "B@x.b", "C@x.C", "D@*x.D", "E"},
			aggregate: "X",
		},
		{
			name: "embedded base with a GetType method is not an event",
			files: map[string]string{
				"x.go": `package x

type BaseEvent struct{ Type string }

func (e BaseEvent) GetType() string { return e.Type }

type Opened struct {
	BaseEvent
	Owner string
}

type Closed struct{ BaseEvent }
`,
			},
			rule: load.RuleMethod,
			want: []string{"Opened", "Closed"},
		},
		{
			name: "structs of events.go, event.go and *_events.go",
			files: map[string]string{
				"events.go": `package x

type Created struct {
	Address Address
	Items   []Item
	Tags    map[string]*Tag
}

type Address struct{ City string }

type Item struct{ N int }

type Tag struct{ V string }

type Status string

type internal struct{}

type Renamed struct{ Name string }

// X is the aggregate, named like the package.
type X struct{ ID string }
`,
				"event.go": `package x

type Paid struct{ Amount int64 }
`,
				"order_events.go": `package x

type Shipped struct{}
`,
				"x.go": `package x

type Elsewhere struct{}
`,
			},
			rule:      load.RuleEventsFile,
			want:      []string{"Paid", "Created", "Renamed", "Shipped"},
			aggregate: "X",
		},
		{
			name: "aggregate embedding AggregateRoot",
			files: map[string]string{
				"base.go": `package x

type AggregateRoot struct{ Version int64 }
`,
				"events.go": `package x

type Order struct {
	AggregateRoot
	ID string
}

type Placed struct{ Total int64 }
`,
			},
			rule:      load.RuleEventsFile,
			want:      []string{"Placed"},
			aggregate: "Order",
		},
		{
			name: "nothing matches",
			files: map[string]string{
				"x.go": `package x

type Foo struct{}
`,
			},
			rule: load.RuleNone,
			want: nil,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if tt.skip != "" {
				t.Skip(tt.skip)
			}
			pkg := loadX(t, tt.files)
			if pkg.Rule != tt.rule {
				t.Errorf("Rule = %v, want %v", pkg.Rule, tt.rule)
			}
			if got := discovered(pkg); !slices.Equal(got, tt.want) {
				t.Errorf("Discovered = %q, want %q", got, tt.want)
			}
			if pkg.Aggregate != tt.aggregate {
				t.Errorf("Aggregate = %q, want %q", pkg.Aggregate, tt.aggregate)
			}
			for _, e := range pkg.Discovered {
				if e.Package != pkgPath || e.PackageName != "x" || e.Type == nil {
					t.Errorf("event %s: Package %q, PackageName %q, Type %v", e.Name, e.Package, e.PackageName, e.Type)
				}
				if !regexp.MustCompile(`\.go:\d+:\d+$`).MatchString(e.Pos) {
					t.Errorf("event %s: Pos %q is not file:line:col", e.Name, e.Pos)
				}
			}
		})
	}
}

func TestRuleString(t *testing.T) {
	t.Parallel()
	seen := map[string]bool{}
	for _, r := range []load.Rule{load.RuleNone, load.RuleExplicit, load.RuleMarker, load.RuleRegistration, load.RuleMethod, load.RuleEventsFile} {
		s := r.String()
		if s == "" || seen[s] {
			t.Errorf("Rule(%d).String() = %q: empty or not unique", r, s)
		}
		seen[s] = true
	}
}

func TestNothingFoundCandidates(t *testing.T) {
	t.Parallel()
	pkg := loadX(t, map[string]string{
		"x.go": `package x

type Zebra struct{ N int }

type Level int

type Handler interface{ Handle() }

type hidden struct{}

type Apple struct{}

// X is the aggregate.
type X struct{ ID string }

type Alias = Apple
`,
	})
	if len(pkg.Discovered) != 0 || pkg.Rule != load.RuleNone {
		t.Fatalf("Discovered = %q by %v, want none", discovered(pkg), pkg.Rule)
	}
	want := []string{"Zebra", "Level", "Apple"}
	if got := pkg.Candidates(); !slices.Equal(got, want) {
		t.Errorf("Candidates() = %q, want %q", got, want)
	}

	_, err := pkg.Event("Missing")
	var de *diag.Error
	if !errors.As(err, &de) {
		t.Fatalf("Event(Missing) = %v, want a diag.Error", err)
	}
	if !strings.Contains(de.Msg, "has no type Missing") {
		t.Errorf("Event(Missing) message = %q", de.Msg)
	}
	for _, c := range want {
		if !strings.Contains(de.Hint, c+" (") {
			t.Errorf("Event(Missing) hint does not list %s:\n%s", c, de.Hint)
		}
	}
	if strings.Contains(de.Hint, "Handler") || strings.Contains(de.Hint, "hidden") {
		t.Errorf("Event(Missing) hint lists an interface or unexported type:\n%s", de.Hint)
	}

	// The explicit list may name a type discovery did not pick.
	e, err := pkg.Event("Zebra")
	if err != nil || e.Name != "Zebra" || len(e.Fields) != 1 || e.Fields[0].Name != "N" {
		t.Errorf("Event(Zebra) = %+v, %v", e, err)
	}
	if again, _ := pkg.Event("Zebra"); again != e {
		t.Errorf("Event(Zebra) twice gives two events")
	}
	// A non-struct event is projected as one value.
	if e, err := pkg.Event("Level"); err != nil || e.IsStruct() || e.Type.Kind != load.Int {
		t.Errorf("Event(Level) = %+v, %v", e, err)
	}
	if _, err := pkg.Event("Handler"); err == nil || !strings.Contains(err.Error(), "interface") {
		t.Errorf("Event(Handler) = %v, want an error about an interface", err)
	}
}

// fieldDesc describes fields as "Name" or "Name/json", in order.
func fieldDesc(fs []*load.Field) []string {
	var out []string
	for _, f := range fs {
		if f.JSON != "" {
			out = append(out, f.Name+"/"+f.JSON)
		} else {
			out = append(out, f.Name)
		}
	}
	return out
}

const fieldsSrc = `package x

//projgen:event
type Tagged struct {
	Name    string ` + "`json:\"name,omitempty\"`" + `
	Skipped string ` + "`json:\"-\"`" + `
	hidden  string
	Plain   int
	Opts    string ` + "`json:\",omitempty\"`" + `
}

type Base struct {
	At     string ` + "`json:\"at\"`" + `
	Shared string
}

type Other struct {
	Shared string
	Extra  int
}

type Ptr struct{ Inner string }

type inner struct{ Low string }

//projgen:event
type Embedding struct {
	Base
	Other
	*Ptr
	inner
	Top string
}

//projgen:event
type Shadowing struct {
	Base
	Shared bool
}

type Meta struct{ Trace string }

type Left struct{ Meta }

type Right struct{ Meta }

//projgen:event
type Diamond struct {
	Left
	Right
	Own string
}
`

// Mirrors of the types of fieldsSrc, so that encoding/json can say what
// it encodes.
type (
	jsonMeta    struct{ Trace string }
	jsonLeft    struct{ jsonMeta }
	jsonRight   struct{ jsonMeta }
	jsonDiamond struct {
		jsonLeft
		jsonRight
		Own string
	}
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

func TestSyntaxError(t *testing.T) {
	t.Parallel()
	_, err := tryLoadX(t, map[string]string{
		"ok.go":  "package x\n\ntype Fine struct{}\n",
		"bad.go": "package x\n\ntype T struct {\n\tA int,\n}\n",
	})
	if err == nil {
		t.Fatal("Load accepted a syntax error")
	}
	if !diag.IsInput(err) {
		t.Errorf("diag.IsInput(%v) = false", err)
	}
	msg := err.Error()
	pos := regexp.MustCompile(`bad\.go:4:7`)
	if n := len(pos.FindAllString(msg, -1)); n != 1 {
		t.Errorf("the error names bad.go:4:7 %d times, want once:\n%s", n, msg)
	}
	var l diag.List
	if errors.As(err, &l) {
		if len(l) != 1 {
			t.Errorf("got %d errors, want 1:\n%s", len(l), msg)
		} else if !pos.MatchString(l[0].Pos) {
			t.Errorf("Pos = %q, want …bad.go:4:7", l[0].Pos)
		}
	}
}

func TestTypeErrors(t *testing.T) {
	t.Parallel()
	t.Run("in a generated file, ignored", func(t *testing.T) {
		t.Parallel()
		pkg := loadX(t, map[string]string{
			"x.go":                "package x\n\n//projgen:event\ntype Created struct{ N int }\n\nfunc Helper() {}\n\nvar counter int\n",
			"x_projection_gen.go": generatedPrefix + "\ntype XProjection struct{}\n\nvar _ int = \"not an int\"\n",
			// Another generator's file is the user's, as far as projgen
			// is concerned.
			"mock_gen.go": "// Code generated by mockgen. DO NOT EDIT.\n\npackage x\n\ntype MockThing struct{}\n",
		})
		if !slices.Equal(pkg.Generated, []string{"x_projection_gen.go"}) {
			t.Errorf("Generated = %q, want [x_projection_gen.go]", pkg.Generated)
		}
		for _, name := range []string{"Created", "Helper", "counter", "MockThing"} {
			pos, ok := pkg.Declared[name]
			if !ok {
				t.Errorf("Declared lacks %s: %v", name, pkg.Declared)
				continue
			}
			if !regexp.MustCompile(`\.go:\d+:\d+$`).MatchString(pos) {
				t.Errorf("Declared[%s] = %q, not file:line:col", name, pos)
			}
		}
		if want := "x.go:4:6"; !strings.HasSuffix(pkg.Declared["Created"], want) {
			t.Errorf("Declared[Created] = %q, want …%s", pkg.Declared["Created"], want)
		}
		if pos, ok := pkg.Declared["XProjection"]; ok {
			t.Errorf("Declared holds XProjection of the generated file (%s)", pos)
		}
		if got := discovered(pkg); !slices.Equal(got, []string{"Created"}) {
			t.Errorf("Discovered = %q", got)
		}
		if _, err := pkg.Event("XProjection"); err == nil {
			t.Errorf("Event(XProjection) found a type of a generated file")
		}
	})
	t.Run("in a user file, reported", func(t *testing.T) {
		t.Parallel()
		_, err := tryLoadX(t, map[string]string{
			"x.go": "package x\n\ntype Created struct{ N int }\n\nvar _ int = \"not an int\"\n",
		})
		if err == nil {
			t.Fatal("Load accepted a type error in a user file")
		}
		if !diag.IsInput(err) {
			t.Errorf("diag.IsInput(%v) = false", err)
		}
		if !regexp.MustCompile(`x\.go:5:\d+: `).MatchString(err.Error()) {
			t.Errorf("error does not name x.go:5:col:\n%v", err)
		}
	})
	t.Run("header not first, user file", func(t *testing.T) {
		t.Parallel()
		_, err := tryLoadX(t, map[string]string{
			"x.go":   "package x\n\ntype Created struct{ N int }\n",
			"gen.go": "// Copyright.\n\n// Code generated by someone else. DO NOT EDIT.\n\npackage x\n\nvar _ int = \"s\"\n",
		})
		if err == nil {
			t.Fatal("Load ignored a type error in a file without projgen's header")
		}
	})
}

func TestLoadMissingPackage(t *testing.T) {
	t.Parallel()
	dir := writeModule(t, map[string]string{"x/x.go": "package x\n"})
	_, err := load.Load(context.Background(), dir, []string{modulePath + "/nope"})
	if err == nil || !diag.IsInput(err) {
		t.Fatalf("Load of a missing package = %v, want an input error", err)
	}
	if pkgs, err := load.Load(context.Background(), dir, nil); pkgs != nil || err != nil {
		t.Errorf("Load of nothing = %v, %v", pkgs, err)
	}
}

func TestList(t *testing.T) {
	t.Parallel()
	dir := writeModule(t, map[string]string{
		"root.go":            "package m\n",
		"b/c/c.go":           "package c\n",
		"a/a.go":             "package apackage\n",
		"testonly/x_test.go": "package testonly\n",
	})
	listed, err := load.List(context.Background(), dir)
	if err != nil {
		t.Fatalf("List: %v", err)
	}
	want := []load.Listed{
		{Path: modulePath, Name: "m", Dir: dir},
		{Path: modulePath + "/a", Name: "apackage", Dir: filepath.Join(dir, "a")},
		{Path: modulePath + "/b/c", Name: "c", Dir: filepath.Join(dir, "b", "c")},
	}
	if !reflect.DeepEqual(listed, want) {
		t.Errorf("List = %+v\nwant %+v", listed, want)
	}
	// Resolve works on what List returns.
	if l, err := load.Resolve(listed, "apackage"); err != nil || l.Path != modulePath+"/a" {
		t.Errorf("Resolve(apackage) = %+v, %v", l, err)
	}
}

func TestResolve(t *testing.T) {
	t.Parallel()
	listed := []load.Listed{
		{Path: "example.com/m/billing/invoice", Name: "invoice"},
		{Path: "example.com/m/github/installation", Name: "installation"},
		{Path: "example.com/m/gitlab/installation", Name: "installation"},
		{Path: "example.com/m/shop/order", Name: "order"},
		{Path: "example.com/m/v2api", Name: "api"},
	}
	tests := []struct {
		name     string
		want     string   // the resolved path, or "" for an error
		msg      string   // part of the error message
		hint     []string // parts of the error's hint
		notInMsg string
	}{
		{name: "order", want: "example.com/m/shop/order"},
		{name: "api", want: "example.com/m/v2api"},
		{name: "v2api", want: "example.com/m/v2api"},
		{name: "github/installation", want: "example.com/m/github/installation"},
		{name: "/gitlab/installation/", want: "example.com/m/gitlab/installation"},
		{name: "example.com/m/gitlab/installation", want: "example.com/m/gitlab/installation"},
		{name: "billing/invoice", want: "example.com/m/billing/invoice"},
		{
			name: "installation",
			msg:  `aggregate "installation" is ambiguous: 2 packages match`,
			hint: []string{"example.com/m/github/installation", "example.com/m/gitlab/installation"},
		},
		{
			name:     "ordr",
			msg:      `no package "ordr"`,
			hint:     []string{"did you mean example.com/m/shop/order?"},
			notInMsg: "invoice",
		},
		{
			name: "invoices",
			msg:  `no package "invoices"`,
			hint: []string{"did you mean example.com/m/billing/invoice?"},
		},
		{
			name: "zzzzzzzzzzzz",
			msg:  `no package "zzzzzzzzzzzz"`,
			hint: []string{"packages: ", "example.com/m/shop/order"},
		},
		{name: "hop/order", msg: `no package "hop/order"`},
	}
	for _, tt := range tests {
		got, err := load.Resolve(listed, tt.name)
		if tt.want != "" {
			if err != nil || got.Path != tt.want {
				t.Errorf("Resolve(%q) = %q, %v; want %q", tt.name, got.Path, err, tt.want)
			}
			continue
		}
		var de *diag.Error
		if !errors.As(err, &de) {
			t.Errorf("Resolve(%q) = %q, %v; want a diag.Error", tt.name, got.Path, err)
			continue
		}
		if !strings.Contains(de.Msg, tt.msg) {
			t.Errorf("Resolve(%q) message %q does not say %q", tt.name, de.Msg, tt.msg)
		}
		for _, h := range tt.hint {
			if !strings.Contains(de.Hint, h) {
				t.Errorf("Resolve(%q) hint %q does not say %q", tt.name, de.Hint, h)
			}
		}
		if tt.notInMsg != "" && strings.Contains(de.Error(), tt.notInMsg) {
			t.Errorf("Resolve(%q) error mentions %q:\n%s", tt.name, tt.notInMsg, de.Error())
		}
	}
	if _, err := load.Resolve(nil, "x"); err == nil || !strings.Contains(err.Error(), "no Go packages") {
		t.Errorf("Resolve in an empty module = %v", err)
	}
}

func TestReadModule(t *testing.T) {
	t.Parallel()
	dir := writeModule(t, nil)
	mod, err := load.ReadModule(dir)
	if err != nil {
		t.Fatalf("ReadModule: %v", err)
	}
	if mod.Path != modulePath || mod.Dir != dir || !strings.HasPrefix(string(mod.GoMod), "module "+modulePath) {
		t.Errorf("ReadModule = %+v", mod)
	}

	_, err = load.ReadModule(t.TempDir())
	if err == nil || !diag.IsInput(err) || !strings.Contains(err.Error(), "no go.mod") {
		t.Errorf("ReadModule without go.mod = %v, want an input error", err)
	}

	noModule := t.TempDir()
	if err := os.WriteFile(filepath.Join(noModule, "go.mod"), []byte("go 1.26\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := load.ReadModule(noModule); err == nil || !diag.IsInput(err) {
		t.Errorf("ReadModule with no module line = %v, want an input error", err)
	}
}

func TestReadMigrations(t *testing.T) {
	t.Parallel()
	dir := writeModule(t, map[string]string{
		"a/migrations/000001_create_as.up.sql":   "CREATE TABLE as_ (id bigint);\n",
		"a/migrations/000001_create_as.down.sql": "DROP TABLE as_;\n",
		"a/migrations/README":                    "not a migration\n",
	})
	got, err := load.ReadMigrations(dir, []string{"a/migrations", "none/migrations"})
	if err != nil {
		t.Fatalf("ReadMigrations: %v", err)
	}
	if md := got["a/migrations"]; md == nil || len(md.Migrations) != 1 || md.Migrations[0].Version != 1 ||
		md.Migrations[0].Name != "create_as" || !strings.Contains(md.Migrations[0].Up, "CREATE TABLE") {
		t.Errorf("a/migrations = %+v", md)
	} else if len(md.Files) != 2 || md.Sum != nil {
		t.Errorf("a/migrations: files %v, sum %q; want the two migration files and no projgen.sum", md.Files, md.Sum)
	}
	if md, ok := got["none/migrations"]; !ok || len(md.Migrations) != 0 {
		t.Errorf("none/migrations = %+v, %v; want present and empty", md, ok)
	}
}
