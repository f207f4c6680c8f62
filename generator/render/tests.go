package render

import (
	"fmt"
	"go/constant"
	"slices"

	"github.com/dave/jennifer/jen"

	"github.com/projgen/projgen/generator/config"
	"github.com/projgen/projgen/generator/load"
	"github.com/projgen/projgen/generator/model"
)

const (
	gomock      = model.GomockPackage
	runtimeTest = model.RuntimeTestPackage
)

// keyed writes a composite literal with its fields in the given order,
// one a line: Type{\n k: v,\n ...}.
func keyed(typ jen.Code, kv ...jen.Code) jen.Code {
	return jen.Add(typ).ValuesFunc(func(g *jen.Group) {
		for i := 0; i+1 < len(kv); i += 2 {
			g.Line().Add(kv[i]).Op(":").Add(kv[i+1])
		}
		g.Line()
	})
}

// metaValue writes a projection.Meta literal.
func metaValue(aggregateID jen.Code, version, position int, topic string) jen.Code {
	return keyed(jen.Qual(runtime, "Meta"),
		jen.Id("AggregateID"), aggregateID,
		jen.Id("Version"), jen.Lit(version),
		jen.Id("Position"), jen.Lit(position),
		jen.Id("Timestamp"), sampleTime(position),
		jen.Id("Topic"), jen.Lit(topic),
	)
}

// samples declares one local variable per parameter, holding its sample
// value, and returns the declarations and the samples by parameter name.
// A condition's values replace the samples of the fields it tests.
func samples(s *sampler, m *model.Method, override map[string]model.Sample) ([]jen.Code, map[string]sample) {
	var out []jen.Code
	byName := map[string]sample{}
	for _, prm := range m.Params {
		var smp sample
		if v, ok := override[fieldName(prm)]; ok && prm.Field != nil {
			smp = sampleFor(s, prm.Type, prm.Name, v)
		} else {
			smp = s.next(prm.Type, prm.Name)
		}
		byName[prm.Name] = smp
		out = append(append(out, smp.pre...), jen.Id(prm.Name).Op(":=").Add(smp.value))
	}
	return out, byName
}

func fieldName(prm *model.Param) string {
	if prm.Field == nil {
		return ""
	}
	return prm.Field.Name
}

// sampleFor writes the value a condition test gives a field.
func sampleFor(s *sampler, t *load.Type, name string, v model.Sample) sample {
	switch {
	case v.Nil:
		c := jen.Parens(goType(t)).Parens(jen.Nil())
		return sample{value: c, row: jen.Nil()}
	case v.NonNil:
		return s.next(t, name)
	}
	var lit jen.Code
	switch v.Value.Kind() {
	case constant.Bool:
		lit = jen.Lit(constant.BoolVal(v.Value))
	case constant.String:
		lit = jen.Lit(constant.StringVal(v.Value))
	case constant.Float:
		f, _ := constant.Float64Val(v.Value)
		lit = jen.Lit(f)
	default:
		lit = jen.Op(v.Value.ExactString())
	}
	if t.Name != nil || t.Kind != load.Bool && t.Kind != load.String {
		lit = jen.Add(goType(t)).Call(lit)
	}
	return sample{value: lit, row: lit}
}

// fieldFor is the field of the event the condition's name refers to.
func fieldFor(ev *load.Event, name string) *load.Field {
	for _, f := range ev.Fields {
		if f.Name == name {
			return f
		}
	}
	return nil
}

// eventValue declares data, the event payload carrying the parameters'
// values, plus any tested field that is not a parameter.
func eventValue(s *sampler, m *model.Method, holds map[string]model.Sample) []jen.Code {
	ev := m.Event
	if !ev.HasPayload() {
		// The event is its topic, in the metadata; it has no payload.
		return []jen.Code{jen.Var().Id("data").Any()}
	}
	if !ev.IsStruct() {
		return []jen.Code{jen.Id("data").Op(":=").Id(m.Params[0].Name)}
	}
	out := []jen.Code{jen.Var().Id("data").Add(eventType(ev))}
	set := map[string]bool{}
	for _, prm := range m.Params {
		out = append(out, jen.Id("data").Dot(prm.Field.Name).Op("=").Id(prm.Name))
		set[prm.Field.Name] = true
	}
	for _, f := range ev.Fields {
		if v, ok := holds[f.Name]; ok && !set[f.Name] {
			smp := sampleFor(s, f.Type, "field", v)
			out = append(append(out, smp.pre...), jen.Id("data").Dot(f.Name).Op("=").Add(smp.value))
		}
	}
	return out
}

// projectionTest renders the unit tests of the projection: one per event,
// asserting the exact read-model call for a value and a pointer payload
// (and, for filtered events, that no call is made when the condition
// fails), and tests for other events, nil payloads and errors.
func (r *renderer) projectionTest(p *model.Projection) *jen.File {
	f := r.newFile(p.Package, p)
	n := p.Names
	s := &sampler{}
	aggregateID := jen.Lit(sampleAggregateID(p.KeyType, 1))
	for i, m := range p.Methods {
		var holds map[string]model.Sample
		if m.When != nil {
			holds = m.When.Holds
		}
		body := []jen.Code{
			jen.Id("ctx").Op(":=").Qual("context", "Background").Call(),
			jen.Id("meta").Op(":=").Add(metaValue(aggregateID, i+1, i+1, m.Topic)),
		}
		decls, _ := samples(s, m, holds)
		body = append(body, decls...)
		body = append(body, eventValue(s, m, holds)...)
		cases := []jen.Code{
			jen.Values(jen.Lit("value"), jen.Id("data"), jen.True()),
			jen.Values(jen.Lit("pointer"), jen.Op("&").Id("data"), jen.True()),
		}
		if !m.Event.HasPayload() {
			cases = []jen.Code{jen.Values(jen.Lit("no payload"), jen.Id("data"), jen.True())}
		}
		// A condition the read model applies to the row's state is not
		// the projection's to check: it calls the read model either way.
		if m.When != nil && !m.FilterInSQL {
			body = append(body, jen.Id("failing").Op(":=").Id("data"))
			for _, name := range sortedKeys(m.When.Fails) {
				fld := fieldFor(m.Event, name)
				smp := sampleFor(s, fld.Type, "failing", m.When.Fails[name])
				body = append(append(body, smp.pre...), jen.Id("failing").Dot(name).Op("=").Add(smp.value))
			}
			cases = append(cases, jen.Values(jen.Lit("condition fails"), jen.Id("failing"), jen.False()))
		}
		expectArgs := []jen.Code{jen.Id("ctx"), jen.Id("meta")}
		for _, prm := range m.Params {
			expectArgs = append(expectArgs, jen.Id(prm.Name))
		}
		expectArgs = packArgs(m, expectArgs)
		body = append(body, jen.For(jen.List(jen.Id("_"), jen.Id("tc")).Op(":=").Range().Index().Struct(
			jen.Id("name").String(),
			jen.Id("payload").Any(),
			jen.Id("calls").Bool(),
		).Values(cases...)).Block(
			jen.Id("t").Dot("Run").Call(jen.Id("tc").Dot("name"), jen.Func().Params(jen.Id("t").Op("*").Qual("testing", "T")).Block(
				jen.Id("ctrl").Op(":=").Qual(gomock, "NewController").Call(jen.Id("t")),
				jen.Id("view").Op(":=").Id(n.NewMock).Call(jen.Id("ctrl")),
				jen.If(jen.Id("tc").Dot("calls")).Block(
					jen.Id("view").Dot("EXPECT").Call().Dot(m.Name).Call(expectArgs...).Dot("Return").Call(jen.Nil()),
				),
				jen.Id("proj").Op(":=").Id(n.NewProjection).Call(jen.Id("view")),
				jen.If(
					jen.Err().Op(":=").Id("proj").Dot("Process").Call(jen.Id("ctx"), jen.Qual(runtime, "Event").Values(
						jen.Id("Meta").Op(":").Id("meta"),
						jen.Id("Data").Op(":").Id("tc").Dot("payload"),
					)),
					jen.Err().Op("!=").Nil(),
				).Block(jen.Id("t").Dot("Fatalf").Call(jen.Lit("Process: %v"), jen.Err())),
			)),
		))
		comment := fmt.Sprintf("Test%s%s checks that %s, as a value and as a pointer, becomes exactly the call %s with the event's metadata and fields.",
			n.Projection, m.Name, eventRef(p, m.Event), m.Name)
		if !m.Event.HasPayload() {
			comment = fmt.Sprintf("Test%s%s checks that an event of topic %q, which has no payload, becomes exactly the call %s with the event's metadata.",
				n.Projection, m.Name, m.Topic, m.Name)
		}
		if m.When != nil {
			comment += fmt.Sprintf(" It also checks that the event is not projected when %s fails.", m.When.Source)
		}
		f.Add(doc(comment))
		f.Func().Id("Test" + n.Projection + m.Name).Params(jen.Id("t").Op("*").Qual("testing", "T")).Block(body...)
		f.Line()
	}
	r.otherEventsTest(f, p, s)
	return f
}

func sortedKeys(m map[string]model.Sample) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	for i := 1; i < len(out); i++ {
		for j := i; j > 0 && out[j] < out[j-1]; j-- {
			out[j], out[j-1] = out[j-1], out[j]
		}
	}
	return out
}

// otherEventsTest renders the tests that other events are ignored, that a
// nil payload is an error, and that read-model errors are returned.
func (r *renderer) otherEventsTest(f *jen.File, p *model.Projection, s *sampler) {
	n := p.Names
	others := []jen.Code{jen.Nil(), jen.Lit("unknown"), jen.Struct().Values()}
	for _, ev := range p.Ignored {
		if ev.HasPayload() {
			others = append(others, jen.New(eventType(ev)))
		}
	}
	newProjection := []jen.Code{
		jen.Id("ctrl").Op(":=").Qual(gomock, "NewController").Call(jen.Id("t")),
		jen.Id("view").Op(":=").Id(n.NewMock).Call(jen.Id("ctrl")),
		jen.Id("proj").Op(":=").Id(n.NewProjection).Call(jen.Id("view")),
	}
	f.Add(doc(fmt.Sprintf("Test%sIgnoresOtherEvents checks that events the projection does not handle, "+
		"including the ones projgen.yaml ignores, make no call and no error.", n.Projection)))
	f.Func().Id("Test" + n.Projection + "IgnoresOtherEvents").Params(jen.Id("t").Op("*").Qual("testing", "T")).Block(
		append(newProjection,
			jen.For(jen.List(jen.Id("_"), jen.Id("payload")).Op(":=").Range().Index().Any().ValuesFunc(func(g *jen.Group) {
				for _, o := range others {
					g.Line().Add(o)
				}
				g.Line()
			})).Block(
				jen.Id("e").Op(":=").Qual(runtime, "Event").Values(
					jen.Id("Meta").Op(":").Qual(runtime, "Meta").Values(jen.Id("Topic").Op(":").Lit("unknown")),
					jen.Id("Data").Op(":").Id("payload"),
				),
				jen.If(jen.Err().Op(":=").Id("proj").Dot("Process").Call(jen.Qual("context", "Background").Call(), jen.Id("e")),
					jen.Err().Op("!=").Nil()).Block(
					jen.Id("t").Dot("Errorf").Call(jen.Lit("Process(%T): %v"), jen.Id("payload"), jen.Err()),
				),
			),
		)...,
	)
	if len(p.Methods) == 0 {
		return
	}
	r.nilPayloadTest(f, p, newProjection)
	r.wrongPayloadTest(f, p, newProjection)
	r.readModelErrorsTest(f, p, s, newProjection)
}

// nilPayloadTest renders the test that a nil pointer payload is an error,
// for the first event that has a payload type.
func (r *renderer) nilPayloadTest(f *jen.File, p *model.Projection, newProjection []jen.Code) {
	n := p.Names
	i := slices.IndexFunc(p.Methods, func(m *model.Method) bool { return m.Event.HasPayload() })
	if i < 0 {
		return
	}
	first := p.Methods[i]
	event := jen.Dict{jen.Id("Data"): jen.Parens(jen.Op("*").Add(eventType(first.Event))).Parens(jen.Nil())}
	if first.Event.ByTopic() {
		event[jen.Id("Meta")] = jen.Qual(runtime, "Meta").Values(jen.Id("Topic").Op(":").Lit(first.Topic))
	}
	f.Line()
	f.Add(doc(fmt.Sprintf("Test%sNilPayload checks that a nil *%s is reported, not dereferenced.", n.Projection, eventRef(p, first.Event))))
	f.Func().Id("Test" + n.Projection + "NilPayload").Params(jen.Id("t").Op("*").Qual("testing", "T")).Block(
		append(newProjection,
			jen.Err().Op(":=").Id("proj").Dot("Process").Call(jen.Qual("context", "Background").Call(), jen.Qual(runtime, "Event").Values(event)),
			jen.If(jen.Op("!").Qual("errors", "Is").Call(jen.Err(), jen.Qual(runtime, "ErrNilPayload"))).Block(
				jen.Id("t").Dot("Errorf").Call(jen.Lit("Process(nil payload) = %v, want projection.ErrNilPayload"), jen.Err()),
			),
		)...,
	)
}

// wrongPayloadTest renders, for events told by their topic, the test that
// a payload of another type than the topic's is an error naming the event,
// not a call with a zero value and not silence.
func (r *renderer) wrongPayloadTest(f *jen.File, p *model.Projection, newProjection []jen.Code) {
	var topics []jen.Code
	for _, m := range p.Methods {
		if m.Event.ByTopic() && m.Event.HasPayload() {
			topics = append(topics, jen.Line().Lit(m.Topic))
		}
	}
	if len(topics) == 0 {
		return
	}
	n := p.Names
	f.Line()
	f.Comment("notAPayload is of no event's payload type.")
	f.Type().Id("notAPayload").Struct()
	f.Line()
	f.Add(doc(fmt.Sprintf("Test%sWrongPayloadType checks that an event whose payload is not of its topic's type "+
		"is an error wrapping projection.ErrPayloadType that names the event.", n.Projection)))
	f.Func().Id("Test" + n.Projection + "WrongPayloadType").Params(jen.Id("t").Op("*").Qual("testing", "T")).Block(
		append(newProjection,
			jen.For(jen.List(jen.Id("_"), jen.Id("topic")).Op(":=").Range().Index().String().Values(append(topics, jen.Line())...)).Block(
				jen.Err().Op(":=").Id("proj").Dot("Process").Call(jen.Qual("context", "Background").Call(), jen.Qual(runtime, "Event").Values(
					jen.Id("Meta").Op(":").Qual(runtime, "Meta").Values(jen.Id("Topic").Op(":").Id("topic"), jen.Id("Position").Op(":").Lit(7)),
					jen.Id("Data").Op(":").Id("notAPayload").Values(),
				)),
				jen.Var().Id("eventErr").Op("*").Qual(runtime, "EventError"),
				jen.If(jen.Op("!").Qual("errors", "Is").Call(jen.Err(), jen.Qual(runtime, "ErrPayloadType")).Op("||").
					Op("!").Qual("errors", "As").Call(jen.Err(), jen.Op("&").Id("eventErr")).Op("||").Id("eventErr").Dot("Meta").Dot("Position").Op("!=").Lit(7)).Block(
					jen.Id("t").Dot("Errorf").Call(jen.Lit("Process(%s, notAPayload) = %v, want an *projection.EventError wrapping projection.ErrPayloadType"), jen.Id("topic"), jen.Err()),
				),
			),
		)...,
	)
}

// readModelErrorsTest renders the test that Process returns the read
// model's errors, on the first event.
func (r *renderer) readModelErrorsTest(f *jen.File, p *model.Projection, s *sampler, newProjection []jen.Code) {
	n := p.Names
	first := p.Methods[0]
	var holds map[string]model.Sample
	if first.When != nil {
		holds = first.When.Holds
	}
	body := []jen.Code{
		jen.Id("ctx").Op(":=").Qual("context", "Background").Call(),
		jen.Id("meta").Op(":=").Add(metaValue(jen.Lit(sampleAggregateID(p.KeyType, 1)), 1, 1, first.Topic)),
	}
	decls, _ := samples(s, first, holds)
	body = append(body, decls...)
	body = append(body, eventValue(s, first, holds)...)
	anyArgs := []jen.Code{jen.Qual(gomock, "Any").Call(), jen.Qual(gomock, "Any").Call()}
	values := len(first.Params)
	if first.Args != nil {
		values = 1 // the Args struct
	}
	for range values {
		anyArgs = append(anyArgs, jen.Qual(gomock, "Any").Call())
	}
	body = append(body, newProjection...)
	body = append(body,
		jen.Id("failure").Op(":=").Qual("errors", "New").Call(jen.Lit("read model failed")),
		jen.Id("view").Dot("EXPECT").Call().Dot(first.Name).Call(anyArgs...).Dot("Return").Call(jen.Id("failure")),
		jen.Err().Op(":=").Id("proj").Dot("Process").Call(jen.Id("ctx"), jen.Qual(runtime, "Event").Values(
			jen.Id("Meta").Op(":").Id("meta"),
			jen.Id("Data").Op(":").Id("data"),
		)),
		jen.If(jen.Op("!").Qual("errors", "Is").Call(jen.Err(), jen.Id("failure"))).Block(
			jen.Id("t").Dot("Errorf").Call(jen.Lit("Process = %v, want the read model's error"), jen.Err()),
		),
	)
	f.Line()
	f.Add(doc(fmt.Sprintf("Test%sReturnsReadModelErrors checks that Process returns what the read model returns.", n.Projection)))
	f.Func().Id("Test" + n.Projection + "ReturnsReadModelErrors").Params(jen.Id("t").Op("*").Qual("testing", "T")).Block(body...)
}

// step is one event applied by the Postgres test.
type step struct {
	method   *model.Method
	version  int
	position int
}

// postgresTest renders the read model's test against a real database:
// each method is applied, then applied again as a replay, and the row is
// checked after each; an older event applied after newer ones changes
// nothing.
func (r *renderer) postgresTest(p *model.Projection) *jen.File {
	f := r.newFile(p.Package, p)
	n := p.Names
	s := &sampler{n: 1000}
	table := p.Table
	var steps []step
	for _, op := range []string{config.Insert, config.Append, config.Update, config.Set, config.Delete} {
		for _, m := range p.Methods {
			if m.Op == op {
				v := len(steps) + 1
				steps = append(steps, step{method: m, version: v, position: 100 + v})
			}
		}
	}
	body := []jen.Code{
		jen.Id("pool").Op(":=").Qual(runtimeTest, "Open").Call(jen.Id("t"), jen.Lit("migrations")),
		jen.Id("ctx").Op(":=").Qual("context", "Background").Call(),
		jen.Id("readModel").Op(":=").Id(n.NewPostgres).Call(jen.Id("pool")),
		jen.Id("aggregateID").Op(":=").Lit(sampleAggregateID(p.KeyType, 1)),
	}
	key := jen.Dict{jen.Lit(table.Key.Name): jen.Id("aggregateID")}
	if table.KeyFrom == config.KeyField {
		for _, st := range steps {
			if kp := st.method.KeyParam; kp != nil {
				smp := s.next(kp.Type, "rowKey")
				body = append(append(body, smp.pre...), jen.Id("rowKey").Op(":=").Add(smp.value))
				key = jen.Dict{jen.Lit(table.Key.Name): jen.Id("rowKey")}
				if kp.Conv == model.ByteSlice {
					key = jen.Dict{jen.Lit(table.Key.Name): jen.Id("rowKey").Index(jen.Op(":"))}
				}
				if table.Scope != nil {
					key[jen.Lit(table.Scope.Name)] = jen.Id("aggregateID")
				}
				break
			}
		}
	}
	var keyCols []jen.Code
	for _, c := range table.PrimaryKey() {
		keyCols = append(keyCols, jen.Lit(c))
	}
	// The rows each step must leave are worked out by the read model's
	// rules (projectiontest.Fold), from what each event does, not by
	// this renderer, which writes the statements under test.
	body = append(body,
		doc("changes states what each event applied so far does, by the rules of the read model rather than its SQL: "+
			"projectiontest.AssertFolded works out the rows they leave."),
		jen.Var().Id("changes").Index().Qual(runtimeTest, "Change"),
	)
	assertFolded := assertFolded(p, keyCols)
	exists := false
	var stale []jen.Code
	var staleEvent string
	for i, st := range steps {
		m := st.method
		decls, args, rows := callValues(s, m, nil)
		block := append([]jen.Code{jen.Id("meta").Op(":=").Add(metaValue(jen.Id("aggregateID"), st.version, st.position, m.Topic))}, decls...)
		change := jen.Id("changes").Op("=").Append(jen.Id("changes"), foldChange(p, st, rows))
		switch m.Op {
		case config.Insert, config.Append:
			if stale == nil && m.Op == config.Insert {
				staleEvent = eventRef(p, m.Event)
				stale = append(append([]jen.Code{}, block...), jen.If(
					jen.Err().Op(":=").Id("readModel").Dot(m.Name).Call(packArgs(m, args)...), jen.Err().Op("!=").Nil(),
				).Block(jen.Id("t").Dot("Fatalf").Call(jen.Lit(m.Name+" (older event): %v"), jen.Err())), change)
			}
			exists = true
		case config.Delete:
			exists = false
		}
		block = append(block, change, jen.For(jen.Id("replay").Op(":=").Range().Lit(2)).Block(
			jen.If(jen.Err().Op(":=").Id("readModel").Dot(m.Name).Call(packArgs(m, args)...), jen.Err().Op("!=").Nil()).Block(
				jen.Id("t").Dot("Fatalf").Call(jen.Lit(m.Name+" (replay %d): %v"), jen.Id("replay"), jen.Err()),
			),
			assertFolded,
		))
		body = append(body, doc(fmt.Sprintf("%s at version %d: %s; applying it again, as a replay, changes nothing.",
			eventRef(p, m.Event), st.version, stepDoc(m))))
		body = append(body, jen.Block(block...))
		// An older event applied after newer ones must change nothing: check
		// it after the last update, before any delete.
		last := i == len(steps)-1 || steps[i+1].method.Op == config.Delete
		if last && exists && stale != nil && m.Op != config.Insert && !table.AppendOnly {
			stale = append(stale, assertFolded)
			body = append(body, doc(fmt.Sprintf("%s again, older than the events applied since: the guard keeps the row as it is.", staleEvent)))
			body = append(body, jen.Block(stale...))
			stale = []jen.Code{}
		}
	}
	body = append(body, r.filterScenario(p, s, keyCols)...)
	body = append(body, r.idNotFitting(p, s, steps)...)
	body = append(body, r.newOwner(p, s, steps, key)...)
	f.Add(doc(fmt.Sprintf("Test%s applies each method of the read model to a fresh schema, with the migrations "+
		"applied, and checks the table's rows after each. It needs a database: set %s to run it.",
		n.Postgres, "PROJGEN_TEST_DATABASE_URL")))
	f.Func().Id("Test" + n.Postgres).Params(jen.Id("t").Op("*").Qual("testing", "T")).Block(body...)
	f.Line()
	r.replayTest(f, p, steps)
	f.Line()
	fastRebuildTest(f, p)
	queriesTest(f, p)
	return f
}

// historyOptions are the projectiontest.UniqueField options of the tests
// of random histories: each event field written to a unique column.
func historyOptions(p *model.Projection) []jen.Code {
	unique := map[string]bool{}
	for _, ix := range p.Table.Indexes {
		if ix.Unique {
			for _, c := range ix.Columns {
				unique[c] = true
			}
		}
	}
	var opts []jen.Code
	for _, m := range p.Methods {
		for _, w := range m.Writes {
			if w.Source == model.FromParam && w.Param.Field != nil && unique[w.Column.Name] {
				opts = append(opts, jen.Qual(runtimeTest, "UniqueField").Call(jen.Lit(m.Topic), jen.Lit(w.Param.Field.Name)))
			}
		}
	}
	return opts
}

// historyInputs are what the tests of random histories take: the event
// types of the projection's methods, and four sample aggregate IDs.
func historyInputs(p *model.Projection) ([]model.EventType, []jen.Code) {
	var types []model.EventType
	for _, m := range p.Methods {
		types = append(types, model.EventType{Topic: m.Topic, Event: m.Event})
	}
	var ids []jen.Code
	for i := range 4 {
		ids = append(ids, jen.Lit(sampleAggregateID(p.KeyType, i+1)))
	}
	return types, ids
}

// fastRebuildTest renders the test that a fast rebuild, which folds the
// events with the projection's Fold and copies the rows, leaves the rows
// a replay through the Postgres read model does, over random histories
// (projectiontest.FastRebuildEqualsReplay).
func fastRebuildTest(f *jen.File, p *model.Projection) {
	types, ids := historyInputs(p)
	name := "Test" + p.Names.Base + "FastRebuildEqualsReplay"
	f.Add(doc(fmt.Sprintf("%s replays random histories of the projection's events into %s through %s, "+
		"then rebuilds the tables with %s, folding the events in memory and copying the rows, in one pass and in many: "+
		"every row must be the same. It needs a database: set %s to run it.",
		name, p.Table.Name, p.Names.Postgres, p.Names.Fold, "PROJGEN_TEST_DATABASE_URL")))
	f.Func().Id(name).Params(jen.Id("t").Op("*").Qual("testing", "T")).Block(
		jen.Id("pool").Op(":=").Qual(runtimeTest, "Open").Call(jen.Id("t"), jen.Lit("migrations")),
		jen.Id("reg").Op(":=").Qual(runtime, "Registration").Add(registration(p).(*jen.Statement).Clone()),
		jen.Id("types").Op(":=").Add(eventTypes(types)),
		jen.Qual(runtimeTest, "FastRebuildEqualsReplay").Call(append([]jen.Code{jen.Id("t"), jen.Id("pool"), jen.Id("reg"), jen.Id("types"),
			jen.Index().String().Values(ids...)}, historyOptions(p)...)...),
	)
}

// replayTest renders the test that the projection, over the Postgres read
// model, is replay-safe: its events, the steps of the Postgres test on one
// row, are applied once in order, and then replayed, alone, as prefixes,
// twice over and out of order, by projectiontest.ReplaySafe, which fails
// when any table changes.
func (r *renderer) replayTest(f *jen.File, p *model.Projection, steps []step) {
	n := p.Names
	s := &sampler{n: 2000}
	body := []jen.Code{
		jen.Id("pool").Op(":=").Qual(runtimeTest, "Open").Call(jen.Id("t"), jen.Lit("migrations")),
		jen.Id("aggregateID").Op(":=").Lit(sampleAggregateID(p.KeyType, 1)),
	}
	for _, st := range steps {
		if kp := st.method.KeyParam; kp != nil {
			smp := s.next(kp.Type, "rowKey")
			body = append(append(body, smp.pre...), jen.Id("rowKey").Op(":=").Add(smp.value))
			break
		}
	}
	body = append(body,
		jen.Var().Id("events").Index().Qual(runtime, "Event"),
		doc("changes states what each event does, by the rules of the read model rather than its SQL: "+
			"projectiontest.AssertFolded works out the rows they leave."),
		jen.Var().Id("changes").Index().Qual(runtimeTest, "Change"),
	)
	for _, st := range steps {
		m := st.method
		var holds map[string]model.Sample
		if m.When != nil {
			holds = m.When.Holds
		}
		var block []jen.Code
		rows := map[string]sample{}
		for _, prm := range m.Params {
			if prm == m.KeyParam {
				block = append(block, jen.Id(prm.Name).Op(":=").Id("rowKey"))
				continue
			}
			smp := s.next(prm.Type, prm.Name)
			if v, ok := holds[fieldName(prm)]; ok && prm.Field != nil {
				smp = sampleFor(s, prm.Type, prm.Name, v)
			}
			rows[prm.Name] = smp
			block = append(append(block, smp.pre...), jen.Id(prm.Name).Op(":=").Add(smp.value))
		}
		block = append(block, eventValue(s, m, holds)...)
		block = append(block, jen.Id("events").Op("=").Append(jen.Id("events"), jen.Qual(runtime, "Event").Values(jen.Dict{
			jen.Id("Meta"): metaValue(jen.Id("aggregateID"), st.version, st.position, m.Topic),
			jen.Id("Data"): jen.Id("data"),
		})))
		block = append(block, jen.Id("changes").Op("=").Append(jen.Id("changes"), foldChange(p, st, rows)))
		body = append(body, doc(fmt.Sprintf("%s at version %d.", eventRef(p, m.Event), st.version)), jen.Block(block...))
	}
	tables := []jen.Code{jen.Lit(p.Table.Name)}
	for _, c := range p.Table.Companions() {
		tables = append(tables, jen.Lit(c.Name))
	}
	newProjection := jen.Func().Params(jen.Id("db").Qual(runtime, "DBTX")).Qual(runtime, "Projection").Block(
		jen.Return(jen.Id(n.NewProjection).Call(jen.Id(n.NewPostgres).Call(jen.Id("db")))),
	)
	body = append(body, jen.Qual(runtimeTest, "ReplaySafe").Call(append([]jen.Code{jen.Id("t"), jen.Id("pool"), newProjection, jen.Id("events")}, tables...)...))
	var keyCols []jen.Code
	for _, c := range p.Table.PrimaryKey() {
		keyCols = append(keyCols, jen.Lit(c))
	}
	body = append(body, assertFolded(p, keyCols))
	f.Add(doc(fmt.Sprintf("Test%sIsReplaySafe applies the projection's events to one row of %s, through %s, "+
		"then replays them alone, as prefixes, twice over and out of order: no table may change. "+
		"It needs a database: set %s to run it.", n.Postgres, p.Table.Name, n.Postgres, "PROJGEN_TEST_DATABASE_URL")))
	f.Func().Id("Test" + n.Postgres + "IsReplaySafe").Params(jen.Id("t").Op("*").Qual("testing", "T")).Block(body...)
}

// callValues declares one local per parameter of m holding its sample,
// the row key's being rowKey, declared already, and returns the
// declarations, the arguments of a call of m (ctx, meta, then the
// values; packArgs puts them in m's Args struct) and the samples by
// parameter name. A value of override replaces the sample of the field it
// names.
func callValues(s *sampler, m *model.Method, override map[string]model.Sample) (decls, args []jen.Code, rows map[string]sample) {
	args = []jen.Code{jen.Id("ctx"), jen.Id("meta")}
	rows = map[string]sample{}
	for _, prm := range m.Params {
		if prm == m.KeyParam {
			args = append(args, jen.Id("rowKey"))
			continue
		}
		smp := s.next(prm.Type, prm.Name)
		if v, ok := override[fieldName(prm)]; ok && prm.Field != nil {
			smp = sampleFor(s, prm.Type, prm.Name, v)
		}
		rows[prm.Name] = smp
		decls = append(append(decls, smp.pre...), jen.Id(prm.Name).Op(":=").Add(smp.value))
		args = append(args, jen.Id(prm.Name))
	}
	return decls, args, rows
}

// idNotFitting renders, for a method that writes the aggregate ID to a
// column not every string fits (uuid, bigint), a call with an ID that does
// not fit: it must fail with an *projection.EventError that names the
// event, before any SQL is sent.
func (r *renderer) idNotFitting(p *model.Projection, s *sampler, steps []step) []jen.Code {
	var m *model.Method
	for _, st := range steps {
		if st.method.IDCheck != nil {
			m = st.method
			break
		}
	}
	if m == nil {
		return nil
	}
	c := m.IDCheck
	decls, args, _ := callValues(s, m, nil)
	block := append([]jen.Code{jen.Id("meta").Op(":=").Add(metaValue(jen.Lit(c.NotFitting), 1, 999, m.Topic))}, decls...)
	block = append(block,
		jen.Err().Op(":=").Id("readModel").Dot(m.Name).Call(packArgs(m, args)...),
		jen.Var().Id("eventErr").Op("*").Qual(runtime, "EventError"),
		jen.If(jen.Op("!").Qual("errors", "As").Call(jen.Err(), jen.Op("&").Id("eventErr")).Op("||").Id("eventErr").Dot("Meta").Dot("Position").Op("!=").Lit(999)).Block(
			jen.Id("t").Dot("Errorf").Call(jen.Lit(fmt.Sprintf("%s with an aggregate ID that is not %s = %%v, want a *projection.EventError naming the event", m.Name, c.Want)), jen.Err()),
		),
	)
	return []jen.Code{
		doc(fmt.Sprintf("%s with an aggregate ID that is not %s, which %s.%s holds: an error naming the event.",
			eventRef(p, m.Event), c.Want, p.Table.Name, c.Column.Name)),
		jen.Block(block...),
	}
}

// filterScenario renders, for a filtered table, the case its filter is
// for, on an aggregate of its own: the row created failing the condition
// is not in the table; the event that sets the state that passes brings
// it in with its fields; the one that fails takes it out, and the first
// brings it back.
func (r *renderer) filterScenario(p *model.Projection, s *sampler, keyCols []jen.Code) []jen.Code {
	f := p.Table.Filter
	if f == nil {
		return nil
	}
	var insert, release, withhold *model.Method
	for _, m := range p.Methods {
		switch {
		case m.FilterInSQL:
			insert = m
		case m.Op != config.Insert && writesConstant(m, f.Column, f.Pass):
			release = m
		case m.Op != config.Insert && writesConstant(m, f.Column, !f.Pass):
			withhold = m
		}
	}
	if insert == nil || release == nil || withhold == nil {
		return nil
	}
	body := []jen.Code{
		jen.Id("aggregateID").Op(":=").Lit(sampleAggregateID(p.KeyType, 4)),
		// The rows of the steps above stay where they are.
		jen.Id("changes").Op(":=").Append(jen.Index().Qual(runtimeTest, "Change").Parens(jen.Nil()), jen.Id("changes").Op("...")),
	}
	for i, m := range []*model.Method{insert, release, withhold, release} {
		st := step{method: m, version: i + 1, position: 900 + i}
		var fails map[string]model.Sample
		if m == insert {
			fails = m.When.Fails
		}
		decls, args, rows := callValues(s, m, fails)
		block := append([]jen.Code{jen.Id("meta").Op(":=").Add(metaValue(jen.Id("aggregateID"), st.version, st.position, m.Topic))}, decls...)
		block = append(block,
			jen.Id("changes").Op("=").Append(jen.Id("changes"), foldChange(p, st, rows)),
			jen.If(jen.Err().Op(":=").Id("readModel").Dot(m.Name).Call(packArgs(m, args)...), jen.Err().Op("!=").Nil()).Block(
				jen.Id("t").Dot("Fatalf").Call(jen.Lit(m.Name+": %v"), jen.Err()),
			),
			assertFolded(p, keyCols),
		)
		body = append(body, jen.Block(block...))
	}
	return []jen.Code{
		doc(fmt.Sprintf("An aggregate whose %s fails the condition (%s): its row is not in %s until %s, leaves it on %s, "+
			"and comes back on %s again, with the fields %s gave it.",
			eventRef(p, insert.Event), insert.When.Source, p.Table.Name, eventRef(p, release.Event), eventRef(p, withhold.Event),
			eventRef(p, release.Event), eventRef(p, insert.Event))),
		jen.Block(body...),
	}
}

// writesConstant reports whether m writes the constant v to column c.
func writesConstant(m *model.Method, c *model.Column, v bool) bool {
	for _, w := range m.Writes {
		if w.Column == c && w.Source == model.FromConstant && w.Constant == v {
			return true
		}
	}
	return false
}

// assertFolded renders the check that the table holds the rows the
// changes leave, those that pass its filter when it has one.
func assertFolded(p *model.Projection, keyCols []jen.Code) jen.Code {
	args := []jen.Code{jen.Id("t"), jen.Id("pool"), jen.Lit(p.Table.Name), jen.Index().String().Values(keyCols...)}
	if f := p.Table.Filter; f != nil {
		args = append(args, jen.Lit(f.Column.Name), jen.Lit(f.Pass), jen.Id("changes"))
		return jen.Qual(runtimeTest, "AssertFoldedWhere").Call(args...)
	}
	return jen.Qual(runtimeTest, "AssertFolded").Call(append(args, jen.Id("changes"))...)
}

// foldChange renders the projectiontest.Change of a step: the operation, the
// row it keys, its guard, and the value of each column it writes, as the
// Postgres test expects them.
func foldChange(p *model.Projection, st step, rows map[string]sample) jen.Code {
	m, t := st.method, p.Table
	op := m.Op
	if op == config.Set {
		op = config.Update
	}
	key := jen.Dict{}
	if m.ByAggregate {
		key[jen.Lit(model.AggregateIDColumn)] = jen.Id("aggregateID")
	} else {
		k := expected(m.Writes[0], st, rows)
		if kp := m.KeyParam; kp != nil && kp.Conv == model.ByteSlice {
			k = jen.Id("rowKey").Index(jen.Op(":"))
		}
		key[jen.Lit(t.Key.Name)] = k
		if t.Scope != nil {
			key[jen.Lit(t.Scope.Name)] = jen.Id("aggregateID")
		}
	}
	set := jen.Dict{}
	var keep []jen.Code
	for _, w := range m.Writes[1:] {
		set[jen.Lit(w.Column.Name)] = expected(w, st, rows)
		if w.Column.Role == model.CreatedColumn {
			keep = append(keep, jen.Lit(w.Column.Name))
		}
	}
	fields := []jen.Code{jen.Id("Op"), jen.Lit(op), jen.Id("Key"), jen.Qual(runtimeTest, "Row").Values(key)}
	if m.ByAggregate {
		fields = append(fields, jen.Id("ByAggregate"), jen.True())
	}
	if t.Guard != nil {
		fields = append(fields, jen.Id("Guard"), jen.Lit(t.Guard.Name))
	}
	fields = append(fields, jen.Id("Set"), jen.Qual(runtimeTest, "Row").Values(set))
	if len(keep) > 0 {
		fields = append(fields, jen.Id("Keep"), jen.Index().String().Values(keep...))
	}
	return keyed(jen.Qual(runtimeTest, "Change"), fields...)
}

// newOwner renders, for a table keyed by an event field, the row's key
// inserted by two other aggregates, later than every step: with a key of
// global scope the row belongs to the aggregate of its latest event; with
// a key scoped by aggregate each aggregate keeps a row of its own. A
// tombstone older than the event does not hold it back.
func (r *renderer) newOwner(p *model.Projection, s *sampler, steps []step, key jen.Dict) []jen.Code {
	if p.Table.KeyFrom != config.KeyField {
		return nil
	}
	var insert *model.Method
	for _, st := range steps {
		if st.method.Op == config.Insert && st.method.KeyParam != nil {
			insert = st.method
			break
		}
	}
	if insert == nil {
		return nil
	}
	var out []jen.Code
	// Aggregate 2 inserts the row anew, and aggregate 3 the same key then:
	// with a key of global scope the upsert must move the row to it, not
	// only its version; with a key scoped by aggregate, each has a row of
	// its own, and aggregate 2's is left as it was.
	scoped := p.Table.Scope != nil
	rowOf := func(owner, position int) jen.Code {
		k := key
		if scoped {
			rowKey := jen.Id("rowKey")
			if insert.KeyParam.Conv == model.ByteSlice {
				rowKey = jen.Id("rowKey").Index(jen.Op(":"))
			}
			k = jen.Dict{
				jen.Lit(p.Table.Key.Name):   rowKey,
				jen.Lit(p.Table.Scope.Name): jen.Lit(sampleAggregateID(p.KeyType, owner)),
			}
		}
		return jen.Qual(runtimeTest, "AssertRow").Call(jen.Id("t"), jen.Id("pool"), jen.Lit(p.Table.Name),
			jen.Qual(runtimeTest, "Row").Values(k),
			jen.Qual(runtimeTest, "Row").Values(jen.Dict{
				jen.Lit(model.AggregateIDColumn):  jen.Lit(sampleAggregateID(p.KeyType, owner)),
				jen.Lit(model.PositionColumnName): jen.Lit(int64(position)),
			}))
	}
	for i, owner := range []int{2, 3} {
		position := 100 + len(steps) + 1 + i
		other := jen.Lit(sampleAggregateID(p.KeyType, owner))
		decls, args, _ := callValues(s, insert, nil)
		block := append([]jen.Code{jen.Id("meta").Op(":=").Add(metaValue(other, 1, position, insert.Topic))}, decls...)
		block = append(block,
			jen.If(jen.Err().Op(":=").Id("readModel").Dot(insert.Name).Call(packArgs(insert, args)...), jen.Err().Op("!=").Nil()).Block(
				jen.Id("t").Dot("Fatalf").Call(jen.Lit(insert.Name+" (another aggregate): %v"), jen.Err()),
			),
			rowOf(owner, position),
		)
		what := "the row is that aggregate's now"
		if scoped {
			what = "it has a row of its own"
			if i > 0 {
				what += ", beside aggregate 2's, which is as it was"
				block = append(block, rowOf(2, position-1))
			}
		}
		out = append(out, doc(fmt.Sprintf("%s from aggregate %d, after every event above: %s.",
			eventRef(p, insert.Event), owner, what)), jen.Block(block...))
	}
	return out
}

// expected is the value a write leaves in its column, as the test writes
// it: literals only, since each step is a block of its own.
func expected(w *model.Write, st step, rows map[string]sample) jen.Code {
	switch w.Source {
	case model.FromAggregateID:
		return jen.Id("aggregateID")
	case model.FromVersion:
		return jen.Lit(int64(st.version))
	case model.FromPosition:
		return jen.Lit(int64(st.position))
	case model.FromTimestamp:
		return sampleTime(st.position)
	case model.FromConstant:
		return constantValue(w.Constant)
	}
	if smp, ok := rows[w.Param.Name]; ok {
		if w.Param.Conv == model.AsJSON {
			return convert(w.Param.Conv, jen.Add(smp.row))
		}
		return smp.row
	}
	return jen.Id("rowKey")
}

func stepDoc(m *model.Method) string {
	switch m.Op {
	case config.Insert:
		return m.Name + " inserts the row"
	case config.Append:
		return m.Name + " appends a row"
	case config.Delete:
		return m.Name + " deletes the row"
	}
	return m.Name + " updates the row"
}
