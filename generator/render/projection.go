package render

import (
	"fmt"
	"go/ast"
	"go/token"

	"github.com/dave/jennifer/jen"

	"github.com/projgen/projgen/generator/model"
)

const runtime = model.RuntimePackage

// projection renders the projection type: Name, Topics, and a Process
// type switch that calls the read model, for T and *T payloads.
func (r *renderer) projection(p *model.Projection) *jen.File {
	f := r.newFile(p.Package, p)
	n := p.Names
	f.Add(doc(fmt.Sprintf("%s projects events into %s. It maps each event to one read-model call and holds "+
		"no other logic, as the read side should.", n.Projection, n.ReadModel)))
	f.Type().Id(n.Projection).Struct(jen.Id(n.View).Id(n.ReadModel))
	f.Line()
	f.Var().Id("_").Qual(runtime, "Projection").Op("=").Parens(jen.Op("*").Id(n.Projection)).Parens(jen.Nil())
	f.Line()
	f.Add(doc(fmt.Sprintf("%s returns a projection that applies events to %s.", n.NewProjection, n.View)))
	f.Func().Id(n.NewProjection).Params(jen.Id(n.View).Id(n.ReadModel)).Op("*").Id(n.Projection).Block(
		jen.Return(jen.Op("&").Id(n.Projection).Values(jen.Dict{jen.Id(n.View): jen.Id(n.View)})),
	)
	f.Line()
	f.Add(doc(fmt.Sprintf("Name returns %q, the name the runner tracks the projection's position under.", p.Name)))
	f.Func().Params(jen.Id("p").Op("*").Id(n.Projection)).Id("Name").Params().String().Block(jen.Return(jen.Lit(p.Name)))
	f.Line()
	var topics []jen.Code
	for _, m := range p.Methods {
		topics = append(topics, jen.Lit(m.Topic))
	}
	f.Add(doc("Topics returns the topics of the events the projection handles, in the order of its methods."))
	f.Func().Params(jen.Id("p").Op("*").Id(n.Projection)).Id("Topics").Params().Index().String().Block(
		jen.Return(jen.Index().String().ValuesFunc(func(g *jen.Group) {
			for _, t := range topics {
				g.Line().Add(t)
			}
			g.Line()
		})),
	)
	f.Line()
	f.Add(doc(processDoc(p)))
	f.Func().Params(jen.Id("p").Op("*").Id(n.Projection)).Id("Process").
		Params(jen.Id("ctx").Qual("context", "Context"), jen.Id("e").Qual(runtime, "Event")).Error().BlockFunc(func(g *jen.Group) {
		if c := topicCases(p); len(c) > 0 {
			g.Switch(jen.Id("e").Dot("Topic")).Block(c...)
		}
		if c := typeCases(p); len(c) > 0 {
			g.Switch(jen.Id("data").Op(":=").Id("e").Dot("Data").Assert(jen.Type())).Block(c...)
		}
		g.Return(jen.Nil())
	})
	for _, m := range p.Methods {
		f.Line()
		r.processHelper(f, p, m)
	}
	return f
}

// processDoc is the doc comment of Process.
func processDoc(p *model.Projection) string {
	for _, m := range p.Methods {
		if m.Event.ByTopic() {
			return "Process applies one event. Events named by a constant are told by their topic, " +
				"the others by their payload's type; a payload may be a value or a pointer. Other events are ignored."
		}
	}
	return "Process applies one event. Its payload may be a value or a pointer; events of other types are ignored."
}

// topicCases are Process's cases for events named by a constant, chosen
// by topic: those without a payload are applied from the envelope, the
// others take a value or a pointer of their payload type, and refuse any
// other payload.
func topicCases(p *model.Projection) []jen.Code {
	var out []jen.Code
	for _, m := range p.Methods {
		switch {
		case !m.Event.ByTopic():
		case !m.Event.HasPayload():
			out = append(out, jen.Case(jen.Lit(m.Topic)).Block(
				jen.Return(jen.Id("p").Dot(m.Handler).Call(jen.Id("ctx"), jen.Id("e").Dot("Meta"))),
			))
		default:
			out = append(out, jen.Case(jen.Lit(m.Topic)).Block(
				jen.Switch(jen.Id("data").Op(":=").Id("e").Dot("Data").Assert(jen.Type())).Block(payloadCases(m)...),
				jen.Return(jen.Op("&").Qual(runtime, "EventError").Values(
					jen.Id("Meta").Op(":").Id("e").Dot("Meta"),
					jen.Id("Err").Op(":").Qual("fmt", "Errorf").Call(jen.Lit("payload %T: %w"), jen.Id("e").Dot("Data"), jen.Qual(runtime, "ErrPayloadType")),
				)),
			))
		}
	}
	return out
}

// payloadCases are the cases of a type switch on an event's payload: a
// value, and a pointer that must not be nil.
func payloadCases(m *model.Method) []jen.Code {
	return []jen.Code{
		jen.Case(eventType(m.Event)).Block(
			jen.Return(jen.Id("p").Dot(m.Handler).Call(jen.Id("ctx"), jen.Id("e").Dot("Meta"), jen.Op("&").Id("data"))),
		),
		jen.Case(jen.Op("*").Add(eventType(m.Event))).Block(
			jen.If(jen.Id("data").Op("==").Nil()).Block(
				jen.Return(jen.Op("&").Qual(runtime, "EventError").Values(
					jen.Id("Meta").Op(":").Id("e").Dot("Meta"),
					jen.Id("Err").Op(":").Qual(runtime, "ErrNilPayload"),
				)),
			),
			jen.Return(jen.Id("p").Dot(m.Handler).Call(jen.Id("ctx"), jen.Id("e").Dot("Meta"), jen.Id("data"))),
		),
	}
}

// typeCases are Process's cases for events that are types of their own:
// a value and a pointer each.
func typeCases(p *model.Projection) []jen.Code {
	var out []jen.Code
	for _, m := range p.Methods {
		if !m.Event.ByTopic() {
			out = append(out, payloadCases(m)...)
		}
	}
	return out
}

// processHelper renders the method that applies one event type: the
// condition, if any, then the read-model call.
func (r *renderer) processHelper(f *jen.File, p *model.Projection, m *model.Method) {
	helper := m.Handler
	comment := fmt.Sprintf("%s applies %s with %s.", helper, eventRef(p, m.Event), m.Name)
	switch {
	case m.FilterInSQL:
		comment = fmt.Sprintf("%s applies %s with %s, which keeps the row in %s while %s holds of its state "+
			"and among the held rows of %s otherwise, as projgen.yaml's when: %s says.",
			helper, eventRef(p, m.Event), m.Name, p.Table.Name, m.When.Source, p.Table.Filter.Held.Name, m.When.Source)
	case m.When != nil:
		comment = fmt.Sprintf("%s applies %s with %s when %s, as projgen.yaml says.", helper, eventRef(p, m.Event), m.Name, m.When.Source)
	}
	args := []jen.Code{jen.Id("ctx"), jen.Id("meta")}
	for _, prm := range m.Params {
		if prm.Field == nil {
			args = append(args, jen.Op("*").Id("data"))
		} else {
			args = append(args, jen.Id("data").Dot(prm.Field.Name))
		}
	}
	args = packArgs(m, args)
	var body []jen.Code
	if m.When != nil && !m.FilterInSQL {
		body = append(body, jen.If(r.negate(m.When.Expr)).Block(jen.Return(jen.Nil())))
	}
	body = append(body, jen.Return(jen.Id("p").Dot(p.Names.View).Dot(m.Name).Call(args...)))
	params := []jen.Code{jen.Id("ctx").Qual("context", "Context"), jen.Id("meta").Qual(runtime, "Meta")}
	if m.Event.HasPayload() {
		params = append(params, jen.Id("data").Op("*").Add(eventType(m.Event)))
	}
	f.Add(doc(comment))
	f.Func().Params(jen.Id("p").Op("*").Id(p.Names.Projection)).Id(helper).Params(params...).Error().Block(body...)
}

// negate writes the condition under which the event is skipped.
func (r *renderer) negate(e ast.Expr) jen.Code {
	switch x := e.(type) {
	case *ast.UnaryExpr:
		if x.Op == token.NOT {
			return r.condition(x.X)
		}
	case *ast.Ident:
		return jen.Op("!").Add(r.condition(x))
	case *ast.BinaryExpr:
		if neg, ok := negated[x.Op]; ok {
			return jen.Add(r.condition(x.X)).Op(neg.String()).Add(r.condition(x.Y))
		}
	case *ast.ParenExpr:
		return r.negate(x.X)
	}
	return jen.Op("!").Parens(r.condition(e))
}

// negated inverts equality tests; ordered comparisons are negated with !,
// which is also right for NaN.
var negated = map[token.Token]token.Token{token.EQL: token.NEQ, token.NEQ: token.EQL}

// condition writes a checked condition over data's fields.
func (r *renderer) condition(e ast.Expr) jen.Code {
	switch x := e.(type) {
	case *ast.ParenExpr:
		return jen.Parens(r.condition(x.X))
	case *ast.UnaryExpr:
		return jen.Op(x.Op.String()).Add(r.condition(x.X))
	case *ast.BinaryExpr:
		return jen.Add(r.condition(x.X)).Op(x.Op.String()).Add(r.condition(x.Y))
	case *ast.BasicLit:
		return jen.Op(x.Value)
	case *ast.Ident:
		switch x.Name {
		case "true", "false", "nil":
			return jen.Id(x.Name)
		}
		return jen.Id("data").Dot(x.Name)
	}
	r.fail(fmt.Errorf("unexpected condition %T", e))
	return jen.Null()
}

// postgresDoc is the Postgres read model's doc comment: what guards its
// statements, as the table really has it.
func postgresDoc(p *model.Projection) string {
	n, t := p.Names, p.Table
	d := fmt.Sprintf("%s implements %s on the PostgreSQL table %s. Every statement takes its values as parameters", n.Postgres, n.ReadModel, t.Name)
	switch {
	case t.Guard == nil:
		d += ", and adds a row per event keyed by its position, so that replaying an event adds nothing."
		return d
	case t.Guard.Role == model.PositionColumn:
		d += fmt.Sprintf(" and changes a row only for an event newer than the row's %s, the position of its last event "+
			"(events of several aggregates may change one row, and only the position orders them)", t.Guard.Name)
	default:
		d += fmt.Sprintf(" and changes a row only for an event newer than the row's %s", t.Guard.Name)
	}
	if t.Tombstones != nil {
		d += fmt.Sprintf(". A deleted row leaves its key and %s in %s, and an insert skips a key whose tombstone is as new "+
			"as its event, so that an older event replayed after a delete does not bring the row back", t.Guard.Name, t.Tombstones.Name)
	}
	if f := t.Filter; f != nil {
		d += fmt.Sprintf(". The table holds the rows whose %s is %v; the others wait, with all their columns, in %s, "+
			"and an event that sets %s moves its row between the two, so that the table holds the rows whose current state "+
			"passes whatever order the events come in", f.Column.Name, f.Pass, f.Held.Name, f.Column.Name)
	}
	return d + ". Replaying an event changes nothing."
}

// postgres renders the Postgres read model: one parameterized, guarded
// statement per method.
func (r *renderer) postgres(p *model.Projection) *jen.File {
	f := r.newFile(p.Package, p)
	n := p.Names
	f.Add(doc(postgresDoc(p)))
	f.Type().Id(n.Postgres).Struct(jen.Id("db").Qual(runtime, "DBTX"))
	f.Line()
	f.Var().Id("_").Id(n.ReadModel).Op("=").Parens(jen.Op("*").Id(n.Postgres)).Parens(jen.Nil())
	f.Line()
	f.Add(doc(fmt.Sprintf("%s returns a read model that writes through db: a pool, a connection, or the "+
		"transaction the runner applies a batch of events in.", n.NewPostgres)))
	f.Func().Id(n.NewPostgres).Params(jen.Id("db").Qual(runtime, "DBTX")).Op("*").Id(n.Postgres).Block(
		jen.Return(jen.Op("&").Id(n.Postgres).Values(jen.Dict{jen.Id("db"): jen.Id("db")})),
	)
	for _, m := range p.Methods {
		f.Line()
		sql, args, err := r.methodSQL(p, m)
		if err != nil {
			r.fail(err)
			return f
		}
		call := []jen.Code{jen.Id("ctx"), jen.Id("query")}
		for _, w := range args {
			call = append(call, writeValue(m, w))
		}
		f.Add(doc(methodDoc(p, m)))
		var check []jen.Code
		if c := m.IDCheck; c != nil {
			check = []jen.Code{jen.If(
				jen.Err().Op(":=").Qual(runtime, c.Func).Call(jen.Id("meta"), jen.Lit(p.Table.Name+"."+c.Column.Name)),
				jen.Err().Op("!=").Nil(),
			).Block(jen.Return(jen.Err()))}
		}
		f.Func().Params(jen.Id("m").Op("*").Id(n.Postgres)).Id(m.Name).Params(params(m)...).Error().BlockFunc(func(g *jen.Group) {
			for _, c := range check {
				g.Add(c)
			}
			g.Const().Id("query").Op("=").Op("`" + sql + "`")
			g.If(
				jen.List(jen.Id("_"), jen.Err()).Op(":=").Id("m").Dot("db").Dot("Exec").Call(call...),
				jen.Err().Op("!=").Nil(),
			).Block(
				jen.Return(jen.Qual("fmt", "Errorf").Call(jen.Lit(fmt.Sprintf("%s: %s: %%w", p.Table.Name, m.Name)), jen.Err())),
			)
			g.Return(jen.Nil())
		})
	}
	return f
}

// writeValue is the Go expression of a value m writes.
func writeValue(m *model.Method, w *model.Write) jen.Code {
	switch w.Source {
	case model.FromAggregateID:
		return jen.Id("meta").Dot("AggregateID")
	case model.FromVersion:
		return jen.Id("meta").Dot("Version")
	case model.FromPosition:
		return jen.Id("meta").Dot("Position")
	case model.FromTimestamp:
		return jen.Id("meta").Dot("Timestamp")
	case model.FromConstant:
		return constantValue(w.Constant)
	}
	return convert(w.Param.Conv, paramRef(m, w.Param))
}

// paramRef is the Go expression of a parameter inside its method: the
// parameter, or its field of the method's Args struct.
func paramRef(m *model.Method, prm *model.Param) *jen.Statement {
	if m.Args != nil {
		return jen.Id(m.Args.Name).Dot(prm.ArgsField)
	}
	return jen.Id(prm.Name)
}

// packArgs turns the arguments of a call of m, ctx, meta and one per
// parameter, into ctx, meta and an Args struct literal when m takes one.
func packArgs(m *model.Method, args []jen.Code) []jen.Code {
	if m.Args == nil {
		return args
	}
	var fields []jen.Code
	for i, prm := range m.Params {
		fields = append(fields, jen.Id(prm.ArgsField), args[2+i])
	}
	return []jen.Code{args[0], args[1], keyed(jen.Id(m.Args.Type), fields...)}
}

// convert writes a value as it is passed to pgx.
func convert(conv model.Conversion, v *jen.Statement) jen.Code {
	switch conv {
	case model.ByteSlice:
		return v.Index(jen.Op(":"))
	case model.AsJSON:
		return jen.Qual(runtime, "JSON").Values(jen.Id("Value").Op(":").Add(v))
	}
	return v
}

// constantValue writes a projgen.yaml constant as a Go literal of the type
// pgx encodes for its column.
func constantValue(v any) jen.Code {
	switch v := v.(type) {
	case nil:
		return jen.Nil()
	case int64:
		return jen.Lit(v)
	}
	return jen.Lit(v)
}
