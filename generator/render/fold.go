package render

import (
	"fmt"

	"github.com/dave/jennifer/jen"

	"github.com/projgen/projgen/generator/model"
)

// foldKind is the runtime's name for what a statement does.
func foldKind(s model.Statement) string {
	switch s {
	case model.InsertFilteredStatement:
		return "FoldInsertFiltered"
	case model.UpdateStatement:
		return "FoldUpdate"
	case model.MoveStatement:
		return "FoldMove"
	case model.DeleteStatement:
		return "FoldDelete"
	case model.AppendStatement:
		return "FoldAppend"
	}
	return "FoldInsert"
}

// fold renders the fold read model, which a fast rebuild folds events
// with in memory, and the function that describes the table and its
// statements to the rebuild.
func (r *renderer) fold(p *model.Projection) *jen.File {
	f := r.newFile(p.Package, p)
	n := p.Names
	f.Add(doc(fmt.Sprintf("%s implements %s for a fast rebuild: each method folds what its statement in %s "+
		"would do into rows held in memory, which the rebuild writes to %s with COPY once it has read every event.",
		n.FoldReadModel, n.ReadModel, n.Postgres, p.Table.Name)))
	f.Type().Id(n.FoldReadModel).Struct(jen.Id("rows").Op("*").Qual(runtime, "FoldRows"))
	f.Line()
	f.Var().Id("_").Id(n.ReadModel).Op("=").Id(n.FoldReadModel).Values()
	for _, m := range p.Methods {
		f.Line()
		f.Add(doc(fmt.Sprintf("%s folds %s: the %s statement of %s.%s.", m.Name, m.Event.Name, m.Statement, n.Postgres, m.Name)))
		f.Func().Params(jen.Id("m").Id(n.FoldReadModel)).Id(m.Name).Params(params(m)...).Error().BlockFunc(func(g *jen.Group) {
			if c := m.IDCheck; c != nil {
				g.If(
					jen.Err().Op(":=").Qual(runtime, c.Func).Call(jen.Id("meta"), jen.Lit(p.Table.Name+"."+c.Column.Name)),
					jen.Err().Op("!=").Nil(),
				).Block(jen.Return(jen.Err()))
			}
			args := []jen.Code{jen.Id("meta"), jen.Lit(m.Name)}
			for _, w := range foldWrites(m) {
				args = append(args, writeValue(m, w))
			}
			g.Return(jen.Id("m").Dot("rows").Dot("Apply").Call(args...))
		})
	}
	f.Line()
	f.Add(doc(fmt.Sprintf("%s describes %s and the statements of %s to a fast rebuild "+
		"(projection.Registration.Fold), which folds the stored events per row in memory and copies the final rows, "+
		"rather than replaying the events one statement each.", n.Fold, p.Table.Name, n.Postgres)))
	f.Func().Id(n.Fold).Params().Op("*").Qual(runtime, "Fold").Block(
		jen.Return(jen.Op("&").Add(keyed(jen.Qual(runtime, "Fold"), foldFields(p)...))),
	)
	return f
}

// foldFields are the fields of a projection's projection.Fold, names and
// values in turn.
func foldFields(p *model.Projection) []jen.Code {
	t, n := p.Table, p.Names
	var columns []string
	for _, c := range t.Columns {
		columns = append(columns, c.Name)
	}
	fields := []jen.Code{
		jen.Id("Table"), jen.Lit(t.Name),
		jen.Id("Columns"), stringList(columns),
		jen.Id("Key"), stringList(t.PrimaryKey()),
	}
	if t.Guard != nil {
		fields = append(fields, jen.Id("Guard"), jen.Lit(t.Guard.Name))
	}
	if t.Tombstones != nil {
		fields = append(fields, jen.Id("Tombstones"), jen.Lit(t.Tombstones.Name))
	}
	if fl := t.Filter; fl != nil {
		fields = append(fields, jen.Id("Held"), jen.Lit(fl.Held.Name), jen.Id("Filter"), jen.Lit(fl.Column.Name), jen.Id("Pass"), jen.Lit(fl.Pass))
	}
	statements := jen.Index().Qual(runtime, "FoldStatement").ValuesFunc(func(g *jen.Group) {
		for _, m := range p.Methods {
			g.Line().Add(foldStatement(m))
		}
		g.Line()
	})
	rows := jen.Id("rows")
	fields = append(fields,
		jen.Id("Statements"), statements,
		jen.Id("New"), jen.Func().Params(rows.Clone().Op("*").Qual(runtime, "FoldRows")).Qual(runtime, "Projection").Block(
			jen.Return(jen.Id(n.NewProjection).Call(jen.Id(n.FoldReadModel).Values(jen.Dict{jen.Id("rows"): jen.Id("rows")}))),
		),
	)
	return fields
}

// foldStatement is the projection.FoldStatement of m.
func foldStatement(m *model.Method) jen.Code {
	var columns []string
	for _, w := range foldWrites(m) {
		columns = append(columns, w.Column.Name)
	}
	fields := []jen.Code{
		jen.Id("Method"), jen.Lit(m.Name),
		jen.Id("Kind"), jen.Qual(runtime, foldKind(m.Statement)),
		jen.Id("Columns"), stringList(columns),
	}
	switch m.Statement {
	case model.InsertStatement, model.InsertFilteredStatement:
		var keep []string
		for _, w := range m.Writes {
			if w.Column.Role == model.CreatedColumn {
				keep = append(keep, w.Column.Name)
			}
		}
		if len(keep) > 0 {
			fields = append(fields, jen.Id("Keep"), stringList(keep))
		}
	case model.UpdateStatement, model.MoveStatement, model.DeleteStatement:
		match := []string{m.Writes[0].Column.Name}
		if m.ScopeWrite != nil {
			match = append(match, m.ScopeWrite.Column.Name)
		}
		fields = append(fields, jen.Id("Match"), stringList(match))
	}
	if m.Statement == model.MoveStatement && m.MovesToHeld {
		fields = append(fields, jen.Id("ToHeld"), jen.True())
	}
	return keyed(jen.Null(), fields...)
}

// foldWrites are the values a fold method passes to Apply, in the order
// of its statement's columns: what the statement writes, key first, then
// the aggregate an update, move or delete matches a scoped key by (an
// insert writes it).
func foldWrites(m *model.Method) []*model.Write {
	writes := m.Writes
	changes := m.Statement == model.UpdateStatement || m.Statement == model.MoveStatement || m.Statement == model.DeleteStatement
	if m.ScopeWrite != nil && changes {
		writes = append(append([]*model.Write(nil), writes...), m.ScopeWrite)
	}
	return writes
}

// stringList is a []string literal.
func stringList(list []string) jen.Code {
	return jen.Index().String().ValuesFunc(func(g *jen.Group) {
		for _, s := range list {
			g.Lit(s)
		}
	})
}
