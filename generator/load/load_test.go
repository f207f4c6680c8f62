package load_test

import (
	"context"
	"errors"
	"go/ast"
	"go/token"
	"os"
	"path/filepath"
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

// moduleProxy is GOPROXY as the test binary found it, before TestMain
// turned the proxy off; TestDiscoveryRealLibraries needs it to fetch the
// real libraries into a cold module cache. TestMain sets it once.
var moduleProxy string

func TestMain(m *testing.M) {
	moduleProxy = os.Getenv("GOPROXY")
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

// TestDiscoveryRealLibraries loads the testdata modules that import the
// real event-sourcing libraries, from the module proxy, and checks that
// discovery finds exactly their events: not eventhorizon's commands or
// aggregate factory, and its events without data by their constants.
func TestDiscoveryRealLibraries(t *testing.T) {
	// The libraries may not be in the module cache yet: let the go command
	// fetch them, and hold go.sum as the testdata modules commit it.
	t.Setenv("GOPROXY", moduleProxy)
	t.Setenv("GOFLAGS", "-mod=readonly")
	type found struct{ name, topic string }
	for _, tt := range []struct {
		module, pkg string
		lib         load.Library
		idKind      load.Kind
		want        []found
	}{
		{"hallgren", "account", load.Hallgren, load.String, []found{
			{"Opened", ""}, {"Deposited", ""}, {"Withdrawn", ""}, {"Tagged", ""}, {"Closed", ""},
		}},
		{"eventhorizon", "booking", load.EventHorizon, load.Array, []found{
			{"BookingRequestedData", "BookingRequested"}, {"BookingRescheduledData", "BookingRescheduled"},
			{"BookingConfirmedEvent", "BookingConfirmed"}, {"BookingCancelledEvent", "BookingCancelled"},
		}},
	} {
		t.Run(tt.module, func(t *testing.T) {
			dir, err := filepath.Abs(filepath.Join("..", "..", "testdata", tt.module))
			if err != nil {
				t.Fatal(err)
			}
			pkgs, err := load.Load(context.Background(), dir, []string{"example.com/" + tt.module + "/" + tt.pkg})
			if err != nil {
				t.Fatal(err)
			}
			p := pkgs[0]
			var got []found
			for _, e := range p.Discovered {
				got = append(got, found{e.Name, e.Topic})
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("events = %v, want %v", got, tt.want)
			}
			if p.Library != tt.lib {
				t.Errorf("library = %q, want %q", p.Library, tt.lib)
			}
			if p.IDType == nil || p.IDType.Kind != tt.idKind {
				t.Errorf("ID type = %+v, want kind %v", p.IDType, tt.idKind)
			}
		})
	}
}

// TestGeneratedBodiesAreNotTypeChecked checks that the load drops the
// function bodies of projgen's files, and only theirs, and that the
// user's code still type-checks against what those files declare.
func TestGeneratedBodiesAreNotTypeChecked(t *testing.T) {
	t.Parallel()
	bodies := func(name, src string) (kept, dropped int) {
		t.Helper()
		f, err := load.ParseFile(token.NewFileSet(), name, []byte(src))
		if err != nil {
			t.Fatalf("ParseFile(%s): %v", name, err)
		}
		for _, d := range f.Decls {
			if fd, ok := d.(*ast.FuncDecl); ok && fd.Body != nil {
				kept++
			} else if ok {
				dropped++
			}
		}
		return kept, dropped
	}
	for _, c := range []struct {
		name, src     string
		kept, dropped int
	}{
		{"x_projection_gen.go", generatedPrefix + "\nfunc A() int { return 1 }\n\nfunc (T) B() {}\n\ntype T struct{}\n", 0, 2},
		{"x.go", "package x\n\nfunc A() int { return 1 }\n\nfunc (T) B() {}\n\ntype T struct{}\n", 2, 0},
		{"mock_gen.go", "// Code generated by mockgen. DO NOT EDIT.\n\npackage x\n\nfunc A() {}\n", 1, 0},
		// The header must come before the package clause, as Go's rule
		// for generated files says.
		{"late.go", "package x\n\n" + load.Header + "\n\nfunc A() {}\n", 1, 0},
	} {
		kept, dropped := bodies(c.name, c.src)
		if kept != c.kept || dropped != c.dropped {
			t.Errorf("%s: %d bodies kept, %d dropped; want %d and %d", c.name, kept, dropped, c.kept, c.dropped)
		}
	}
	// A generated body that would not type-check, and an import only it
	// uses, do not stop the load; the user's call of the generated
	// function is checked against its declaration.
	pkg := loadX(t, map[string]string{
		"x.go":                "package x\n\n//projgen:event\ntype Created struct{ N int }\n\nvar total int = Count(Created{})\n",
		"x_projection_gen.go": generatedPrefix + "\nimport \"strings\"\n\n// Count counts.\nfunc Count(c Created) int { return strings.Count(c, \"x\") + undefined }\n",
	})
	if got := discovered(pkg); !slices.Equal(got, []string{"Created"}) {
		t.Errorf("Discovered = %q", got)
	}
	_, err := tryLoadX(t, map[string]string{
		"x.go":                "package x\n\ntype Created struct{ N int }\n\nvar total string = Count(Created{})\n",
		"x_projection_gen.go": generatedPrefix + "\n// Count counts.\nfunc Count(c Created) int { return c.N }\n",
	})
	if err == nil || !strings.Contains(err.Error(), "x.go:5:") {
		t.Errorf("Load did not report the user's misuse of a generated function at x.go:5: %v", err)
	}
}
