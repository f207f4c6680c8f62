package render

import (
	"fmt"
	"strings"

	"github.com/dave/jennifer/jen"

	"github.com/projgen/projgen/generator/model"
	"github.com/projgen/projgen/generator/names"
)

// queries renders the projection's typed reads: the row type, the filter
// and list options, the Queries interface and its Postgres
// implementation.
func (r *renderer) queries(p *model.Projection) *jen.File {
	f := r.newFile(p.Package, p)
	n, q, t := p.Names, p.Queries, p.Table
	rowDoc := fmt.Sprintf("%s is a row of %s, as the %s projection writes it: a field per column, named by the column in JSON.", n.Row, t.Name, p.Name)
	if t.Tombstones != nil {
		rowDoc += " Deleted rows are not in the table, so no query returns them."
	}
	if t.Filter != nil {
		rowDoc += fmt.Sprintf(" Rows whose %s is not %v wait in %s, which no query reads.", t.Filter.Column.Name, t.Filter.Pass, t.Filter.Held.Name)
	}
	f.Add(doc(rowDoc))
	f.Type().Id(n.Row).StructFunc(func(g *jen.Group) {
		for _, fld := range q.Fields {
			g.Add(doc(fmt.Sprintf("%s is %s (%s%s).", fld.Name, fld.Column.Name, fld.Column.SQLType, nullability(fld.Column))))
			g.Id(fld.Name).Add(goType(fld.Type)).Tag(map[string]string{"json": fld.Column.Name})
		}
	})
	r.queryFilter(f, p)
	f.Add(doc(fmt.Sprintf("%s are the options of %s: the rows it selects, the size of a page and where it starts.", n.ListOptions, n.List)))
	f.Type().Id(n.ListOptions).Struct(
		jen.Id(n.Filter),
		doc(fmt.Sprintf("Limit is the rows of a page: %s.DefaultPageSize when zero, at most %s.MaxPageSize.", "projection", "projection")),
		jen.Id("Limit").Int(),
		doc("After is the Next of the page before, empty for the first page."),
		jen.Id("After").String(),
	)
	f.Add(doc(fmt.Sprintf("%s reads %s. %s implements it on PostgreSQL; a test can implement it with a fake.", n.Queries, t.Name, n.PostgresQueries)))
	f.Type().Id(n.Queries).Interface(
		doc(getDoc(p)),
		jen.Id(n.Get).Params(getParams(q)...).Params(jen.Id(n.Row), jen.Error()),
		doc(listDoc(p)),
		jen.Id(n.List).Params(jen.Id("ctx").Qual("context", "Context"), jen.Id("opts").Id(n.ListOptions)).
			Params(jen.Qual(runtime, "ListPage").Types(jen.Id(n.Row)), jen.Error()),
		doc(fmt.Sprintf("%s counts the rows of %s that filter selects.", n.Count, t.Name)),
		jen.Id(n.Count).Params(jen.Id("ctx").Qual("context", "Context"), jen.Id("filter").Id(n.Filter)).Params(jen.Int64(), jen.Error()),
	)
	f.Add(doc(fmt.Sprintf("%s implements %s on the table %s. Every value is a parameter.", n.PostgresQueries, n.Queries, t.Name)))
	f.Type().Id(n.PostgresQueries).Struct(jen.Id("db").Qual(runtime, "DBTX"))
	f.Var().Id("_").Id(n.Queries).Op("=").Parens(jen.Op("*").Id(n.PostgresQueries)).Parens(jen.Nil())
	f.Add(doc(fmt.Sprintf("%s returns the queries of %s on db: a pool, a connection or a transaction.", n.NewPostgresQueries, t.Name)))
	f.Func().Id(n.NewPostgresQueries).Params(jen.Id("db").Qual(runtime, "DBTX")).Op("*").Id(n.PostgresQueries).Block(
		jen.Return(jen.Op("&").Id(n.PostgresQueries).Values(jen.Dict{jen.Id("db"): jen.Id("db")})),
	)
	r.queryMethods(f, p)
	return f
}

func nullability(c *model.Column) string {
	if c.NotNull {
		return ""
	}
	return ", NULL when no event set it"
}

// selectList is the columns of the row, quoted, in the row's order.
func selectList(q *model.Queries) string {
	cols := make([]string, len(q.Fields))
	for i, f := range q.Fields {
		cols[i] = names.SQLIdent(f.Column.Name)
	}
	return strings.Join(cols, ", ")
}

// keyOrder is the key's columns, quoted, as ORDER BY and a row
// comparison list them.
func keyOrder(q *model.Queries) string {
	cols := make([]string, len(q.Key))
	for i, f := range q.Key {
		cols[i] = names.SQLIdent(f.Column.Name)
	}
	return strings.Join(cols, ", ")
}

func getParams(q *model.Queries) []jen.Code {
	params := []jen.Code{jen.Id("ctx").Qual("context", "Context")}
	for _, k := range q.Key {
		params = append(params, jen.Id(k.Param).Add(goType(k.Type)))
	}
	return params
}

func getDoc(p *model.Projection) string {
	var keys []string
	for _, k := range p.Queries.Key {
		keys = append(keys, k.Column.Name)
	}
	return fmt.Sprintf("%s returns the row of %s with the key %s. When there is none, the error is a *projection.NotFoundError: errors.Is(err, projection.ErrNotFound).",
		p.Names.Get, p.Table.Name, strings.Join(keys, ", "))
}

func listDoc(p *model.Projection) string {
	return fmt.Sprintf("%s returns a page of the rows of %s that opts selects, in the order of the key (%s), which is stable: "+
		"a row that is there for the whole walk through the pages is on exactly one of them.",
		p.Names.List, p.Table.Name, strings.ReplaceAll(keyOrder(p.Queries), `"`, ""))
}

// queryFilter renders the filter struct and its conditions method.
func (r *renderer) queryFilter(f *jen.File, p *model.Projection) {
	n, q, t := p.Names, p.Queries, p.Table
	f.Add(doc(fmt.Sprintf("%s selects rows of %s for %s and %s: each field that is set is a condition, and a row must meet all of them; "+
		"the zero value selects every row. Each condition is on an indexed column.", n.Filter, t.Name, n.List, n.Count)))
	f.Type().Id(n.Filter).StructFunc(func(g *jen.Group) {
		for _, qf := range q.Filters {
			if qf.Range {
				g.Add(doc(fmt.Sprintf("%s and %s select the rows whose %s is at or after %s and before %s.", qf.From, qf.Before, qf.Field.Column.Name, qf.From, qf.Before)))
				g.Id(qf.From).Op("*").Qual("time", "Time")
				g.Id(qf.Before).Op("*").Qual("time", "Time")
				continue
			}
			g.Add(doc(fmt.Sprintf("%s selects the rows whose %s is this value.", qf.Equal, qf.Field.Column.Name)))
			g.Id(qf.Equal).Op("*").Add(goType(qf.Type))
		}
	})
	var body []jen.Code
	cond := func(field, op string, col *model.Column) jen.Code {
		return jen.If(jen.Id("filter").Dot(field).Op("!=").Nil()).Block(
			jen.Id("args").Op("=").Append(jen.Id("args"), jen.Op("*").Id("filter").Dot(field)),
			jen.Id("where").Op("=").Append(jen.Id("where"),
				jen.Add(rawString(names.SQLIdent(col.Name)+" "+op+" $")).Op("+").Qual("strconv", "Itoa").Call(jen.Len(jen.Id("args")))),
		)
	}
	for _, qf := range q.Filters {
		if qf.Range {
			body = append(body, cond(qf.From, ">=", qf.Field.Column), cond(qf.Before, "<", qf.Field.Column))
		} else {
			body = append(body, cond(qf.Equal, "=", qf.Field.Column))
		}
	}
	body = append(body, jen.Return(jen.Id("where"), jen.Id("args")))
	f.Add(doc("conditions returns filter's conditions, their values appended to args as the parameters they name."))
	f.Func().Params(jen.Id("filter").Id(n.Filter)).Id("conditions").Params(jen.Id("args").Index().Any()).
		Params(jen.Id("where").Index().String(), jen.Id("_").Index().Any()).Block(body...)
}

// queryMethods renders Get, List and Count, and the scan of a row.
func (r *renderer) queryMethods(f *jen.File, p *model.Projection) {
	n, q, t := p.Names, p.Queries, p.Table
	recv := jen.Id("q").Op("*").Id(n.PostgresQueries)
	errf := func(method string) jen.Code {
		return jen.Qual("fmt", "Errorf").Call(jen.Lit(t.Name+": "+method+": %w"), jen.Err())
	}
	scan := "scan" + n.Row
	var dests []jen.Code
	for _, fld := range q.Fields {
		dests = append(dests, jen.Op("&").Id("r").Dot(fld.Name))
	}
	f.Add(doc(fmt.Sprintf("%s scans a row of %s, its columns in %s's order.", scan, t.Name, n.Row)))
	f.Func().Id(scan).Params(jen.Id("row").Interface(jen.Id("Scan").Params(jen.Id("dest").Op("...").Any()).Error())).
		Params(jen.Id("r").Id(n.Row), jen.Err().Error()).Block(
		jen.Err().Op("=").Id("row").Dot("Scan").Call(dests...),
		jen.Return(),
	)

	// Get.
	var where []string
	var keyVals []jen.Code
	for i, k := range q.Key {
		where = append(where, fmt.Sprintf("%s = $%d", names.SQLIdent(k.Column.Name), i+1))
		keyVals = append(keyVals, jen.Id(k.Param))
	}
	f.Add(doc(getDoc(p)))
	f.Func().Params(recv.Clone()).Id(n.Get).Params(getParams(q)...).Params(jen.Id(n.Row), jen.Error()).Block(
		jen.Const().Id("query").Op("=").Add(rawString("SELECT "+selectList(q)+" FROM "+names.SQLIdent(t.Name)+" WHERE "+strings.Join(where, " AND "))),
		jen.List(jen.Id("r"), jen.Err()).Op(":=").Id(scan).Call(jen.Id("q").Dot("db").Dot("QueryRow").Call(append([]jen.Code{jen.Id("ctx"), jen.Id("query")}, keyVals...)...)),
		jen.If(jen.Err().Op("!=").Nil()).Block(
			jen.Return(jen.Id(n.Row).Values(), jen.Qual(runtime, "QueryError").Call(append([]jen.Code{jen.Err(), jen.Lit(t.Name), jen.Lit(n.Get)}, keyVals...)...)),
		),
		jen.Return(jen.Id("r"), jen.Nil()),
	)

	// List.
	page := jen.Qual(runtime, "ListPage").Types(jen.Id(n.Row))
	var cursorVars, cursorPtrs, cursorArgs, lastKey []jen.Code
	for _, k := range q.Key {
		cursorVars = append(cursorVars, jen.Var().Id(k.Param).Add(goType(k.Type)))
		cursorPtrs = append(cursorPtrs, jen.Op("&").Id(k.Param))
		cursorArgs = append(cursorArgs, jen.Id(k.Param))
		lastKey = append(lastKey, jen.Id("last").Dot(k.Name))
	}
	after := []jen.Code{}
	after = append(after, cursorVars...)
	after = append(after,
		jen.If(jen.Err().Op(":=").Qual(runtime, "DecodeCursor").Call(append([]jen.Code{jen.Id("opts").Dot("After")}, cursorPtrs...)...), jen.Err().Op("!=").Nil()).Block(
			jen.Return(page.Clone().Values(), errf(n.List)),
		),
	)
	var cmp jen.Code
	if len(q.Key) == 1 {
		after = append(after, jen.Id("args").Op("=").Append(jen.Id("args"), cursorArgs[0]))
		cmp = jen.Add(rawString(keyOrder(q)+" > $")).Op("+").Qual("strconv", "Itoa").Call(jen.Len(jen.Id("args")))
	} else {
		// ($n-1, $n): the key's two values are the last arguments.
		after = append(after, jen.Id("args").Op("=").Append(append([]jen.Code{jen.Id("args")}, cursorArgs...)...))
		cmp = jen.Add(rawString("("+keyOrder(q)+") > ($")).Op("+").Qual("strconv", "Itoa").Call(jen.Len(jen.Id("args")).Op("-").Lit(1)).
			Op("+").Lit(", $").Op("+").Qual("strconv", "Itoa").Call(jen.Len(jen.Id("args"))).Op("+").Lit(")")
	}
	after = append(after, jen.Id("where").Op("=").Append(jen.Id("where"), cmp))
	f.Add(doc(listDoc(p)))
	f.Func().Params(recv.Clone()).Id(n.List).Params(jen.Id("ctx").Qual("context", "Context"), jen.Id("opts").Id(n.ListOptions)).
		Params(page.Clone(), jen.Error()).Block(
		jen.List(jen.Id("where"), jen.Id("args")).Op(":=").Id("opts").Dot(n.Filter).Dot("conditions").Call(jen.Nil()),
		jen.If(jen.Id("opts").Dot("After").Op("!=").Lit("")).Block(after...),
		jen.Id("limit").Op(":=").Qual(runtime, "PageSize").Call(jen.Id("opts").Dot("Limit")),
		jen.Id("args").Op("=").Append(jen.Id("args"), jen.Id("limit").Op("+").Lit(1)),
		jen.Id("query").Op(":=").Add(rawString("SELECT "+selectList(q)+" FROM "+names.SQLIdent(t.Name))).Op("+").Qual(runtime, "Where").Call(jen.Id("where")).
			Op("+").Add(rawString(" ORDER BY "+keyOrder(q)+" LIMIT $")).Op("+").Qual("strconv", "Itoa").Call(jen.Len(jen.Id("args"))),
		jen.List(jen.Id("rows"), jen.Err()).Op(":=").Id("q").Dot("db").Dot("Query").Call(jen.Id("ctx"), jen.Id("query"), jen.Id("args").Op("...")),
		jen.If(jen.Err().Op("!=").Nil()).Block(jen.Return(page.Clone().Values(), errf(n.List))),
		jen.Defer().Id("rows").Dot("Close").Call(),
		jen.Var().Id("p").Add(page.Clone()),
		jen.For(jen.Id("rows").Dot("Next").Call()).Block(
			jen.List(jen.Id("r"), jen.Err()).Op(":=").Id(scan).Call(jen.Id("rows")),
			jen.If(jen.Err().Op("!=").Nil()).Block(jen.Return(page.Clone().Values(), errf(n.List))),
			jen.Id("p").Dot("Rows").Op("=").Append(jen.Id("p").Dot("Rows"), jen.Id("r")),
		),
		jen.If(jen.Err().Op(":=").Id("rows").Dot("Err").Call(), jen.Err().Op("!=").Nil()).Block(jen.Return(page.Clone().Values(), errf(n.List))),
		jen.If(jen.Len(jen.Id("p").Dot("Rows")).Op(">").Id("limit")).Block(
			jen.Id("p").Dot("Rows").Op("=").Id("p").Dot("Rows").Index(jen.Empty(), jen.Id("limit")),
			jen.Id("last").Op(":=").Id("p").Dot("Rows").Index(jen.Id("limit").Op("-").Lit(1)),
			jen.Var().Err().Error(),
			jen.If(jen.List(jen.Id("p").Dot("Next"), jen.Err()).Op("=").Qual(runtime, "EncodeCursor").Call(lastKey...), jen.Err().Op("!=").Nil()).Block(
				jen.Return(page.Clone().Values(), errf(n.List)),
			),
		),
		jen.Return(jen.Id("p"), jen.Nil()),
	)

	// Count.
	f.Add(doc(fmt.Sprintf("%s counts the rows of %s that filter selects.", n.Count, t.Name)))
	f.Func().Params(recv.Clone()).Id(n.Count).Params(jen.Id("ctx").Qual("context", "Context"), jen.Id("filter").Id(n.Filter)).Params(jen.Int64(), jen.Error()).Block(
		jen.List(jen.Id("where"), jen.Id("args")).Op(":=").Id("filter").Dot("conditions").Call(jen.Nil()),
		jen.Var().Id("count").Int64(),
		jen.If(jen.Err().Op(":=").Id("q").Dot("db").Dot("QueryRow").Call(jen.Id("ctx"),
			jen.Add(rawString("SELECT count(*) FROM "+names.SQLIdent(t.Name))).Op("+").Qual(runtime, "Where").Call(jen.Id("where")), jen.Id("args").Op("...")).
			Dot("Scan").Call(jen.Op("&").Id("count")), jen.Err().Op("!=").Nil()).Block(
			jen.Return(jen.Lit(0), errf(n.Count)),
		),
		jen.Return(jen.Id("count"), jen.Nil()),
	)
}

// queriesTest renders the test that reads every row of random histories
// back through the generated queries (projectiontest.QueriesReadTheTable).
func queriesTest(f *jen.File, p *model.Projection) {
	n, q, t := p.Names, p.Queries, p.Table
	types, ids := historyInputs(p)
	var keys []jen.Code
	var getArgs []jen.Code
	for _, k := range q.Key {
		keys = append(keys, jen.Lit(k.Column.Name))
		getArgs = append(getArgs, jen.Qual(runtimeTest, "As").Types(goType(k.Type)).Call(jen.Id("key").Index(jen.Lit(k.Column.Name))))
	}
	columns := jen.Dict{}
	for _, fld := range q.Fields {
		columns[jen.Lit(fld.Column.Name)] = jen.Id("r").Dot(fld.Name)
	}
	var filters []jen.Code
	for _, qf := range q.Filters {
		if qf.Range {
			filters = append(filters, jen.Values(jen.Dict{
				jen.Id("Column"): jen.Lit(qf.Field.Column.Name),
				jen.Id("Between"): jen.Func().Params(jen.List(jen.Id("from"), jen.Id("before")).Qual("time", "Time")).Id(n.Filter).Block(
					jen.Return(jen.Id(n.Filter).Values(jen.Dict{jen.Id(qf.From): jen.Op("&").Id("from"), jen.Id(qf.Before): jen.Op("&").Id("before")})),
				),
			}))
			continue
		}
		filters = append(filters, jen.Values(jen.Dict{
			jen.Id("Column"): jen.Lit(qf.Field.Column.Name),
			jen.Id("Equal"): jen.Func().Params(jen.Id("v").Any()).Id(n.Filter).Block(
				jen.Return(jen.Id(n.Filter).Values(jen.Dict{jen.Id(qf.Equal): jen.Qual(runtimeTest, "Ptr").Types(goType(qf.Type)).Call(jen.Id("v"))})),
			),
		}))
	}
	spec := jen.Dict{
		jen.Id("Table"):   jen.Lit(t.Name),
		jen.Id("Key"):     jen.Index().String().Values(keys...),
		jen.Id("Columns"): jen.Func().Params(jen.Id("r").Id(n.Row)).Qual(runtimeTest, "Row").Block(jen.Return(jen.Qual(runtimeTest, "Row").Values(columns))),
		jen.Id("Get"): jen.Func().Params(jen.Id("ctx").Qual("context", "Context"), jen.Id("key").Qual(runtimeTest, "Row")).Params(jen.Id(n.Row), jen.Error()).Block(
			jen.Return(jen.Id("queries").Dot(n.Get).Call(append([]jen.Code{jen.Id("ctx")}, getArgs...)...)),
		),
		jen.Id("List"): jen.Func().Params(jen.Id("ctx").Qual("context", "Context"), jen.Id("filter").Id(n.Filter), jen.Id("limit").Int(), jen.Id("after").String()).
			Params(jen.Qual(runtime, "ListPage").Types(jen.Id(n.Row)), jen.Error()).Block(
			jen.Return(jen.Id("queries").Dot(n.List).Call(jen.Id("ctx"), jen.Id(n.ListOptions).Values(jen.Dict{
				jen.Id(n.Filter): jen.Id("filter"), jen.Id("Limit"): jen.Id("limit"), jen.Id("After"): jen.Id("after"),
			}))),
		),
		jen.Id("Count"): jen.Id("queries").Dot(n.Count),
		jen.Id("DB"):    jen.Id("db"),
	}
	if t.Tombstones != nil {
		spec[jen.Id("Tombstones")] = jen.Lit(t.Tombstones.Name)
	}
	if len(filters) > 0 {
		spec[jen.Id("Filters")] = jen.Index().Qual(runtimeTest, "Filter").Types(jen.Id(n.Filter)).Values(filters...)
	}
	name := "Test" + n.Base + "Queries"
	f.Add(doc(fmt.Sprintf("%s replays random histories of the projection's events into %s, then reads every row back through %s: "+
		"%s for every row and every deleted key, every page of %s, and %s and %s with each filter, against the table's own rows. "+
		"It needs a database: set %s to run it.",
		name, t.Name, n.PostgresQueries, n.Get, n.List, n.List, n.Count, "PROJGEN_TEST_DATABASE_URL")))
	f.Func().Id(name).Params(jen.Id("t").Op("*").Qual("testing", "T")).Block(
		jen.Id("pool").Op(":=").Qual(runtimeTest, "Open").Call(jen.Id("t"), jen.Lit("migrations")),
		jen.Id("reg").Op(":=").Qual(runtime, "Registration").Add(registration(p).(*jen.Statement).Clone()),
		jen.Id("types").Op(":=").Add(eventTypes(types)),
		jen.Id("db").Op(":=").Qual(runtimeTest, "Record").Call(jen.Id("pool")),
		jen.Id("queries").Op(":=").Id(n.NewPostgresQueries).Call(jen.Id("db")),
		jen.Qual(runtimeTest, "QueriesReadTheTable").Call(append([]jen.Code{jen.Id("t"), jen.Id("pool"), jen.Id("reg"), jen.Id("types"),
			jen.Index().String().Values(ids...),
			jen.Qual(runtimeTest, "Queries").Types(jen.Id(n.Row), jen.Id(n.Filter)).Values(spec)}, historyOptions(p)...)...),
	)
}
