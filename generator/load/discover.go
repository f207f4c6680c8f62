package load

import (
	"go/ast"
	"go/constant"
	"go/token"
	"go/types"
	"path/filepath"
	"slices"
	"strings"
)

// Marker is the comment directive that marks an event type. An optional
// argument gives the event's topic: //projgen:event order.placed
const Marker = "//projgen:event"

// discover finds the aggregate type and the events, trying the rules in
// order and keeping the first that finds any.
func (p *Package) discover() {
	p.Library = p.libraryOf()
	p.Aggregate = p.findAggregate()
	p.IDType = p.aggregateIDType()
	p.Collections = p.aggregateCollections()
	cmds := p.commands()
	rules := []struct {
		rule Rule
		find func() []found
	}{
		{RuleMarker, p.markedTypes},
		{RuleRegistration, p.registeredTypes},
		{RuleMethod, p.typesWithTypeMethod},
		{RuleEventsFile, p.eventsFileTypes},
	}
	for _, r := range rules {
		var events []*Event
		for _, f := range r.find() {
			if cmds.has(f) {
				continue
			}
			if f.cnst != nil {
				e, err := p.newConstEvent(f.cnst, f.payload)
				if err != nil {
					p.rejected[f.cnst.Name()] = err.Error()
					continue
				}
				p.handled[e.Name] = e
				events = append(events, e)
				continue
			}
			e, err := p.newEvent(f.obj, f.topic)
			if err != nil {
				p.rejected[f.obj.Name()] = err.Error()
				continue
			}
			p.handled[e.Name] = e
			events = append(events, e)
		}
		if len(events) > 0 {
			p.Discovered, p.Rule = events, r.rule
			return
		}
	}
}

// found is a type a rule picked, with the topic the source gives it, or
// the constant that names an event, with its payload type (nil for none).
type found struct {
	obj     *types.TypeName
	topic   string
	cnst    *types.Const
	payload types.Type
}

// markedTypes implements rule 2: types whose doc comment holds the marker.
func (p *Package) markedTypes() []found {
	var out []found
	p.eachTypeSpec(func(gd *ast.GenDecl, ts *ast.TypeSpec, obj *types.TypeName) {
		for _, cg := range []*ast.CommentGroup{ts.Doc, gd.Doc, ts.Comment} {
			if topic, ok := markerTopic(cg); ok && (cg != gd.Doc || len(gd.Specs) == 1) {
				out = append(out, found{obj: obj, topic: topic})
				return
			}
		}
	})
	return out
}

func markerTopic(cg *ast.CommentGroup) (string, bool) {
	if cg == nil {
		return "", false
	}
	for _, c := range cg.List {
		if rest, ok := strings.CutPrefix(c.Text, Marker); ok && (rest == "" || rest[0] == ' ' || rest[0] == '\t') {
			return strings.TrimSpace(rest), true
		}
	}
	return "", false
}

// eachTypeSpec calls fn for each type declared in the user's files, in
// source order.
func (p *Package) eachTypeSpec(fn func(*ast.GenDecl, *ast.TypeSpec, *types.TypeName)) {
	for _, f := range p.userFiles() {
		for _, decl := range f.Decls {
			gd, ok := decl.(*ast.GenDecl)
			if !ok || gd.Tok != token.TYPE {
				continue
			}
			for _, spec := range gd.Specs {
				ts := spec.(*ast.TypeSpec)
				if obj, ok := p.pkg.TypesInfo.Defs[ts.Name].(*types.TypeName); ok && !obj.IsAlias() && obj.Parent() == p.pkg.Types.Scope() {
					fn(gd, ts, obj)
				}
			}
		}
	}
}

// userFiles returns the package's files that are not projgen's, sorted by
// file name so that discovery is deterministic.
func (p *Package) userFiles() []*ast.File {
	var out []*ast.File
	for _, f := range p.pkg.Syntax {
		if !p.isGenerated(f) {
			out = append(out, f)
		}
	}
	slices.SortFunc(out, func(a, b *ast.File) int {
		return strings.Compare(p.fileName(a), p.fileName(b))
	})
	return out
}

func (p *Package) fileName(f *ast.File) string {
	return filepath.Base(p.pkg.Fset.File(f.Pos()).Name())
}

// registeredTypes implements rule 3: types passed to a registration call,
// as T{}, &T{}, new(T), a function returning one of those, or a type
// argument. A call registers when its function's name, or the name of the
// function it is written in, contains "register":
//
//	r(&Created{}, &Paid{})                      // in func (a *A) Register(r RegisterFunc)
//	Register("order.placed", func() Data { return Placed{} })
//	eventsourcing.Register[Placed](r, "order.placed")
//
// A string constant passed with a single type is its topic. When topics
// are constants of a named type (eventhorizon's eh.EventType), the other
// constants of that type that the package declares are events without a
// payload type, told apart by their topic alone.
func (p *Package) registeredTypes() []found {
	var out []found
	seen := map[*types.TypeName]bool{}
	topicTypes := map[*types.TypeName]bool{}
	usedTopics := map[string]bool{}
	seenConst := map[*types.Const]bool{}
	for _, f := range p.userFiles() {
		for _, decl := range f.Decls {
			inRegister := false
			if fd, ok := decl.(*ast.FuncDecl); ok {
				inRegister = isRegisterName(fd.Name.Name)
			}
			ast.Inspect(decl, func(n ast.Node) bool {
				call, ok := n.(*ast.CallExpr)
				if !ok {
					return true
				}
				fun, typeArgs := unwrapCallee(call.Fun)
				if !inRegister && !isRegisterName(calleeName(fun)) {
					return true
				}
				if f, ok := p.namedRegistration(call, typeArgs); ok {
					if !seenConst[f.cnst] {
						seenConst[f.cnst] = true
						out = append(out, f)
					}
					return true
				}
				var objs []*types.TypeName
				for _, ta := range typeArgs {
					objs = append(objs, p.localType(ta)...)
				}
				var topics []string
				var topicType *types.TypeName
				for i, arg := range call.Args {
					if tv, ok := p.pkg.TypesInfo.Types[arg]; ok && tv.Value != nil && tv.Value.Kind() == constant.String {
						topics = append(topics, constant.StringVal(tv.Value))
						if named, ok := types.Unalias(tv.Type).(*types.Named); ok {
							topicType = named.Obj()
						}
						continue
					}
					if registersEvents(p.registeredAs(call, i)) {
						objs = append(objs, p.constructed(arg)...)
					}
				}
				topic := ""
				if len(objs) == 1 && len(topics) == 1 {
					topic = topics[0]
					usedTopics[topic] = true
					if topicType != nil {
						topicTypes[topicType] = true
					}
				}
				for _, obj := range objs {
					if !seen[obj] && obj.Name() != p.Aggregate {
						seen[obj] = true
						out = append(out, found{obj: obj, topic: topic})
					}
				}
				return true
			})
		}
	}
	if len(out) == 0 {
		return nil
	}
	return append(out, p.payloadlessEvents(topicTypes, usedTopics)...)
}

// namedRegistration recognises goes' registration of an event, where the
// event is its name and its payload type may be anything, shared with
// other events or commands: codec.Register[PlacedData](r, Placed), with
// Placed a string constant of the package. It applies to packages written
// with goes only: elsewhere, Register[T](r, topic) registers the type T.
func (p *Package) namedRegistration(call *ast.CallExpr, typeArgs []ast.Expr) (found, bool) {
	if p.Library != Goes || len(typeArgs) != 1 {
		return found{}, false
	}
	payload := p.pkg.TypesInfo.TypeOf(typeArgs[0])
	for _, arg := range call.Args {
		if c := p.localConst(arg); c != nil && c.Val().Kind() == constant.String && payload != nil {
			return found{cnst: c, payload: payload}, true
		}
	}
	return found{}, false
}

// localConst returns the package-level constant of this package that expr
// names, or nil.
func (p *Package) localConst(expr ast.Expr) *types.Const {
	id, ok := ast.Unparen(expr).(*ast.Ident)
	if !ok {
		return nil
	}
	c, ok := p.pkg.TypesInfo.Uses[id].(*types.Const)
	if !ok || c.Pkg() != p.pkg.Types || c.Parent() != p.pkg.Types.Scope() {
		return nil
	}
	return c
}

// payloadlessEvents returns the package's constants of the topic types
// whose values no registration gave a payload, in source order.
func (p *Package) payloadlessEvents(topicTypes map[*types.TypeName]bool, used map[string]bool) []found {
	var out []found
	for _, f := range p.userFiles() {
		for _, decl := range f.Decls {
			gd, ok := decl.(*ast.GenDecl)
			if !ok || gd.Tok != token.CONST {
				continue
			}
			for _, spec := range gd.Specs {
				for _, id := range spec.(*ast.ValueSpec).Names {
					c, ok := p.pkg.TypesInfo.Defs[id].(*types.Const)
					if !ok || c.Val().Kind() != constant.String || used[constant.StringVal(c.Val())] {
						continue
					}
					if named, ok := types.Unalias(c.Type()).(*types.Named); ok && topicTypes[named.Obj()] {
						out = append(out, found{cnst: c})
					}
				}
			}
		}
	}
	return out
}

// registeredAs returns the type that a registration call declares for
// its argument i: the result type of a factory (func() eh.Command), or
// the parameter's own type. It is nil when the call declares nothing more
// than any, as hallgren's RegisterFunc does.
func (p *Package) registeredAs(call *ast.CallExpr, i int) types.Type {
	if sig, ok := p.pkg.TypesInfo.TypeOf(call.Args[i]).(*types.Signature); ok && sig.Results().Len() == 1 {
		return sig.Results().At(0).Type()
	}
	sig, ok := p.pkg.TypesInfo.TypeOf(call.Fun).(*types.Signature)
	if !ok {
		return nil
	}
	var param types.Type
	switch n := sig.Params().Len(); {
	case sig.Variadic() && i >= n-1:
		param = sig.Params().At(n - 1).Type().(*types.Slice).Elem()
	case i < n:
		param = sig.Params().At(i).Type()
	default:
		return nil
	}
	if fn, ok := param.Underlying().(*types.Signature); ok && fn.Results().Len() == 1 {
		return fn.Results().At(0).Type()
	}
	return param
}

// notEventKinds are words that, in the name of the type a registration
// declares, say that it registers something other than events: the
// commands, aggregates and handlers that libraries register beside them
// (eventhorizon's RegisterCommand takes a func() eh.Command).
var notEventKinds = []string{"command", "aggregate", "handler", "saga", "projector", "query"}

// registersEvents reports whether a registration that declares type t
// registers events: unless t is a named type whose name says it is a
// command, an aggregate or a handler.
func registersEvents(t types.Type) bool {
	if t == nil {
		return true
	}
	if ptr, ok := types.Unalias(t).(*types.Pointer); ok {
		t = ptr.Elem()
	}
	named, ok := types.Unalias(t).(*types.Named)
	if !ok {
		return true
	}
	name := strings.ToLower(named.Obj().Name())
	for _, k := range notEventKinds {
		if strings.Contains(name, k) {
			return false
		}
	}
	return true
}

func isRegisterName(name string) bool {
	return strings.Contains(strings.ToLower(name), "register")
}

// unwrapCallee strips type arguments from a call's function expression.
func unwrapCallee(fun ast.Expr) (ast.Expr, []ast.Expr) {
	switch f := fun.(type) {
	case *ast.IndexExpr:
		return f.X, []ast.Expr{f.Index}
	case *ast.IndexListExpr:
		return f.X, f.Indices
	case *ast.ParenExpr:
		return unwrapCallee(f.X)
	}
	return fun, nil
}

func calleeName(fun ast.Expr) string {
	switch f := fun.(type) {
	case *ast.Ident:
		return f.Name
	case *ast.SelectorExpr:
		return f.Sel.Name
	}
	return ""
}

// constructed returns the local types an expression constructs: T{}, &T{},
// new(T), or a function literal whose results are such expressions.
func (p *Package) constructed(expr ast.Expr) []*types.TypeName {
	switch e := ast.Unparen(expr).(type) {
	case *ast.CompositeLit:
		return p.localType(e.Type)
	case *ast.UnaryExpr:
		if e.Op == token.AND {
			return p.constructed(e.X)
		}
	case *ast.CallExpr:
		if id, ok := e.Fun.(*ast.Ident); ok && id.Name == "new" && len(e.Args) == 1 {
			if _, isBuiltin := p.pkg.TypesInfo.Uses[id].(*types.Builtin); isBuiltin {
				return p.localType(e.Args[0])
			}
		}
	case *ast.FuncLit:
		var out []*types.TypeName
		ast.Inspect(e.Body, func(n ast.Node) bool {
			if _, nested := n.(*ast.FuncLit); nested {
				return false
			}
			if ret, ok := n.(*ast.ReturnStmt); ok {
				for _, r := range ret.Results {
					out = append(out, p.constructed(r)...)
				}
			}
			return true
		})
		return out
	}
	return nil
}

// localType returns the type named by expr when it is declared at package
// level in this package.
func (p *Package) localType(expr ast.Expr) []*types.TypeName {
	if expr == nil {
		return nil
	}
	tv, ok := p.pkg.TypesInfo.Types[expr]
	if !ok || !tv.IsType() {
		return nil
	}
	t := tv.Type
	if ptr, ok := types.Unalias(t).(*types.Pointer); ok {
		t = ptr.Elem()
	}
	named, ok := types.Unalias(t).(*types.Named)
	if !ok || named.Obj().Pkg() != p.pkg.Types || named.Obj().Parent() != p.pkg.Types.Scope() {
		return nil
	}
	return []*types.TypeName{named.Obj()}
}

// typeMethodNames are the methods that name an event's type (rule 4).
var typeMethodNames = []string{"EventType", "GetType"}

// typeMethods are the methods that name an event's type in this package:
// go-eventually's events also name theirs with Name().
func (p *Package) typeMethods() []string {
	if p.Library == Eventually {
		return append(typeMethodNames[:len(typeMethodNames):len(typeMethodNames)], "Name")
	}
	return typeMethodNames
}

// typesWithTypeMethod implements rule 4: types with an EventType() string
// or GetType() string method, on the value or the pointer. When the method
// returns a constant, or fmt.Sprintf("%T", receiver), that is the topic.
//
// A type that only appears inside the others, such as a base struct they
// embed to share its GetType method, is a value type, not an event.
func (p *Package) typesWithTypeMethod() []found {
	var cands []found
	for _, obj := range p.typeNames() {
		if obj.Name() == p.Aggregate {
			continue
		}
		for _, name := range p.typeMethods() {
			m := stringMethod(obj.Type(), name)
			if m == nil {
				continue
			}
			cands = append(cands, found{obj: obj, topic: p.methodTopic(m)})
			break
		}
	}
	return withoutValueTypes(cands)
}

// withoutValueTypes drops the candidates used as fields, embedded or not,
// of other candidates.
func withoutValueTypes(cands []found) []found {
	used := map[*types.TypeName]bool{}
	for _, c := range cands {
		st, ok := c.obj.Type().Underlying().(*types.Struct)
		if !ok {
			continue
		}
		for i := range st.NumFields() {
			for _, n := range namedIn(st.Field(i).Type()) {
				if n != c.obj {
					used[n] = true
				}
			}
		}
	}
	var out []found
	for _, c := range cands {
		if !used[c.obj] {
			out = append(out, c)
		}
	}
	return out
}

// stringMethod returns t's or *t's method name() string, or nil.
func stringMethod(t types.Type, name string) *types.Func {
	ms := types.NewMethodSet(types.NewPointer(t))
	sel := ms.Lookup(nil, name)
	if sel == nil {
		return nil
	}
	fn, ok := sel.Obj().(*types.Func)
	if !ok {
		return nil
	}
	sig := fn.Type().(*types.Signature)
	if sig.Params().Len() != 0 || sig.Results().Len() != 1 {
		return nil
	}
	if b, ok := sig.Results().At(0).Type().Underlying().(*types.Basic); !ok || b.Kind() != types.String {
		return nil
	}
	return fn
}

// methodTopic returns the topic a type method returns when it is plain to
// see: a string constant, or fmt.Sprintf("%T", receiver), which formats as
// the package name and type name.
func (p *Package) methodTopic(fn *types.Func) string {
	decl := p.funcDecl(fn)
	if decl == nil || decl.Body == nil || len(decl.Body.List) != 1 {
		return ""
	}
	ret, ok := decl.Body.List[0].(*ast.ReturnStmt)
	if !ok || len(ret.Results) != 1 {
		return ""
	}
	res := ret.Results[0]
	if tv, ok := p.pkg.TypesInfo.Types[res]; ok && tv.Value != nil && tv.Value.Kind() == constant.String {
		return constant.StringVal(tv.Value)
	}
	call, ok := res.(*ast.CallExpr)
	if !ok || len(call.Args) != 2 {
		return ""
	}
	sel, ok := call.Fun.(*ast.SelectorExpr)
	if !ok || sel.Sel.Name != "Sprintf" {
		return ""
	}
	if pkgName, ok := p.pkg.TypesInfo.Uses[identOf(sel.X)].(*types.PkgName); !ok || pkgName.Imported().Path() != "fmt" {
		return ""
	}
	format, ok := p.pkg.TypesInfo.Types[call.Args[0]]
	if !ok || format.Value == nil || constant.StringVal(format.Value) != "%T" {
		return ""
	}
	argType := p.pkg.TypesInfo.TypeOf(call.Args[1])
	if argType == nil {
		return ""
	}
	return types.TypeString(argType, func(pkg *types.Package) string { return pkg.Name() })
}

func identOf(e ast.Expr) *ast.Ident {
	id, _ := e.(*ast.Ident)
	return id
}

func (p *Package) funcDecl(fn *types.Func) *ast.FuncDecl {
	for _, f := range p.pkg.Syntax {
		for _, d := range f.Decls {
			if fd, ok := d.(*ast.FuncDecl); ok && p.pkg.TypesInfo.Defs[fd.Name] == fn {
				return fd
			}
		}
	}
	return nil
}

// eventsFileTypes implements rule 5: exported struct types declared in
// events.go, event.go or *_events.go, except value types used only as
// fields of the others.
func (p *Package) eventsFileTypes() []found {
	var cands []*types.TypeName
	p.eachTypeSpec(func(_ *ast.GenDecl, ts *ast.TypeSpec, obj *types.TypeName) {
		file := filepath.Base(p.pkg.Fset.Position(ts.Pos()).Filename)
		if file != "events.go" && file != "event.go" && !strings.HasSuffix(file, "_events.go") {
			return
		}
		if _, ok := obj.Type().Underlying().(*types.Struct); ok && obj.Exported() && obj.Name() != p.Aggregate {
			cands = append(cands, obj)
		}
	})
	var picked []found
	for _, c := range cands {
		picked = append(picked, found{obj: c})
	}
	return withoutValueTypes(picked)
}

// namedIn returns the named types a field type refers to: itself, or the
// element of a pointer, slice, array or map.
func namedIn(t types.Type) []*types.TypeName {
	switch t := types.Unalias(t).(type) {
	case *types.Named:
		return []*types.TypeName{t.Obj()}
	case *types.Pointer:
		return namedIn(t.Elem())
	case *types.Slice:
		return namedIn(t.Elem())
	case *types.Array:
		return namedIn(t.Elem())
	case *types.Map:
		return append(namedIn(t.Key()), namedIn(t.Elem())...)
	}
	return nil
}

// baseFieldNames are names of embedded types that make a struct an
// aggregate in common event-sourcing libraries.
var baseFieldNames = []string{"AggregateRoot", "AggregateBase", "BaseAggregate", "Aggregate", "Root"}

// findAggregate returns the name of the package's aggregate type: a type
// with a Register method that takes a function (hallgren/eventsourcing
// style), a type that embeds an aggregate base, or the struct named like
// the package.
func (p *Package) findAggregate() string {
	objs := p.typeNames()
	for _, obj := range objs {
		if hasRegisterMethod(obj) {
			return obj.Name()
		}
	}
	for _, obj := range objs {
		st, ok := obj.Type().Underlying().(*types.Struct)
		if !ok {
			continue
		}
		for i := range st.NumFields() {
			if f := st.Field(i); f.Embedded() && slices.Contains(baseFieldNames, f.Name()) {
				return obj.Name()
			}
		}
	}
	want := strings.ReplaceAll(strings.ToLower(p.Name), "_", "")
	for _, obj := range objs {
		if _, ok := obj.Type().Underlying().(*types.Struct); ok && strings.ToLower(obj.Name()) == want {
			return obj.Name()
		}
	}
	return ""
}

func hasRegisterMethod(obj *types.TypeName) bool {
	ms := types.NewMethodSet(types.NewPointer(obj.Type()))
	sel := ms.Lookup(nil, "Register")
	if sel == nil {
		return false
	}
	sig, ok := sel.Obj().Type().(*types.Signature)
	if !ok || sig.Params().Len() != 1 {
		return false
	}
	_, isFunc := sig.Params().At(0).Type().Underlying().(*types.Signature)
	return isFunc
}

// aggregateCollections returns the names of the aggregate struct's own
// fields that hold collections: slices, arrays and maps.
func (p *Package) aggregateCollections() []string {
	if p.Aggregate == "" {
		return nil
	}
	st, ok := p.pkg.Types.Scope().Lookup(p.Aggregate).Type().Underlying().(*types.Struct)
	if !ok {
		return nil
	}
	var out []string
	for i := range st.NumFields() {
		f := st.Field(i)
		switch f.Type().Underlying().(type) {
		case *types.Slice, *types.Array, *types.Map:
			if !f.Embedded() {
				out = append(out, f.Name())
			}
		}
	}
	return out
}

// aggregateIDType returns the type of the aggregate's ID: its ID field (ID,
// Id or AggregateID), or else the result of its ID method (ID(),
// AggregateID() or EntityID(), as the aggregate bases of
// hallgren/eventsourcing and eventhorizon give them), looking through
// embedded structs.
func (p *Package) aggregateIDType() *Type {
	if p.Aggregate == "" {
		return nil
	}
	obj := p.pkg.Types.Scope().Lookup(p.Aggregate)
	for _, name := range []string{"ID", "AggregateID", "Id", "EntityID"} {
		v, _, _ := types.LookupFieldOrMethod(obj.Type(), true, p.pkg.Types, name)
		var t types.Type
		switch v := v.(type) {
		case *types.Var:
			if v.IsField() {
				t = v.Type()
			}
		case *types.Func:
			if sig := v.Type().(*types.Signature); sig.Params().Len() == 0 && sig.Results().Len() == 1 {
				t = sig.Results().At(0).Type()
			}
		}
		if t == nil {
			continue
		}
		if id, err := convertType(t, 0); err == nil {
			return id
		}
	}
	return nil
}
