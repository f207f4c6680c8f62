package render

import (
	"github.com/dave/jennifer/jen"

	"github.com/projgen/projgen/generator/model"
)

// RunnerMain is where projgen new writes the runner's main, once.
const RunnerMain = "cmd/projections/main.go"

// runnerMain renders the sidecar that runs the module's projections. It is
// scaffolding: written once, by new, and the user's from then on, so it
// carries no generated-code header.
func (r *renderer) runnerMain(reg *model.Registry) *jen.File {
	f := jen.NewFilePathName(r.m.Path+"/cmd/projections", "main")
	f.ImportNames(map[string]string{
		model.RuntimePackage:              "projection",
		reg.Package.Path:                  reg.Package.Name,
		"github.com/jackc/pgx/v5/pgxpool": "pgxpool",
	})
	f.PackageComment(`// Command projections runs this module's projections: it reads the events
// table, applies each event to the read models, and records how far each
// projection got, in one transaction, so that every event is applied
// exactly once. projgen wrote this file once, with the module's first
// projection; it is yours to change, and projgen never rewrites it.
//
// Usage:
//
//	projections                 run every projection until interrupted
//	projections -status         print where each projection stands
//	projections -rebuild NAME   empty a projection's tables; it replays every event on its next run
//
// DATABASE_URL names the PostgreSQL database that holds the events table
// and the read-model tables; apply the migrations first.`)
	flagStr := func(name, value, usage string) jen.Code {
		return jen.Qual("flag", "String").Call(jen.Lit(name), jen.Lit(value), jen.Lit(usage))
	}
	f.Func().Id("main").Params().Block(
		jen.Id("events").Op(":=").Add(flagStr("events", "events", "the table the events are stored in")),
		jen.Id("status").Op(":=").Qual("flag", "Bool").Call(jen.Lit("status"), jen.False(), jen.Lit("print where each projection stands, and exit")),
		jen.Id("rebuild").Op(":=").Add(flagStr("rebuild", "", "empty the named projection's tables and reset its position, and exit")),
		jen.Qual("flag", "Parse").Call(),
		jen.List(jen.Id("ctx"), jen.Id("stop")).Op(":=").Qual("os/signal", "NotifyContext").Call(
			jen.Qual("context", "Background").Call(), jen.Qual("os", "Interrupt"), jen.Qual("syscall", "SIGTERM")),
		jen.Defer().Id("stop").Call(),
		jen.If(
			jen.Err().Op(":=").Id("run").Call(jen.Id("ctx"), jen.Qual("os", "Getenv").Call(jen.Lit("DATABASE_URL")),
				jen.Op("*").Id("events"), jen.Op("*").Id("status"), jen.Op("*").Id("rebuild")),
			jen.Err().Op("!=").Nil(),
		).Block(
			jen.Qual("fmt", "Fprintln").Call(jen.Qual("os", "Stderr"), jen.Lit("projections:"), jen.Err()),
			jen.Qual("os", "Exit").Call(jen.Lit(1)),
		),
	)
	f.Line()
	regs := jen.Qual(reg.Package.Path, "Registrations").Call()
	f.Comment("run connects to the database and does what the flags ask.")
	f.Func().Id("run").Params(
		jen.Id("ctx").Qual("context", "Context"), jen.List(jen.Id("url"), jen.Id("events")).String(),
		jen.Id("status").Bool(), jen.Id("rebuild").String(),
	).Error().Block(
		jen.If(jen.Id("url").Op("==").Lit("")).Block(
			jen.Return(jen.Qual("errors", "New").Call(jen.Lit("set DATABASE_URL to the PostgreSQL database"))),
		),
		jen.List(jen.Id("cfg"), jen.Err()).Op(":=").Qual("github.com/jackc/pgx/v5/pgxpool", "ParseConfig").Call(jen.Id("url")),
		jen.If(jen.Err().Op("!=").Nil()).Block(jen.Return(jen.Qual("fmt", "Errorf").Call(jen.Lit("DATABASE_URL: %w"), jen.Err()))),
		jen.Id("registrations").Op(":=").Add(regs),
		jen.Comment("Each projection runs on a connection of its own, which holds its lock."),
		jen.Id("cfg").Dot("MaxConns").Op("=").Max(jen.Id("cfg").Dot("MaxConns"), jen.Int32().Call(jen.Len(jen.Id("registrations")).Op("+").Lit(2))),
		jen.List(jen.Id("pool"), jen.Err()).Op(":=").Qual("github.com/jackc/pgx/v5/pgxpool", "NewWithConfig").Call(jen.Id("ctx"), jen.Id("cfg")),
		jen.If(jen.Err().Op("!=").Nil()).Block(jen.Return(jen.Qual("fmt", "Errorf").Call(jen.Lit("connect: %w"), jen.Err()))),
		jen.Defer().Id("pool").Dot("Close").Call(),
		jen.Id("runner").Op(":=").Op("&").Add(keyed(jen.Qual(runtime, "Runner"),
			jen.Id("Pool"), jen.Id("pool"),
			jen.Id("Source"), jen.Qual(runtime, "NewPostgresSource").Call(jen.Id("pool"), jen.Id("events")),
			jen.Id("Types"), jen.Qual(reg.Package.Path, "EventTypes").Call(),
			jen.Id("Registrations"), jen.Id("registrations"),
		)),
		jen.If(jen.Err().Op(":=").Id("runner").Dot("Setup").Call(jen.Id("ctx")), jen.Err().Op("!=").Nil()).Block(jen.Return(jen.Err())),
		jen.Switch().Block(
			jen.Case(jen.Id("status")).Block(
				jen.List(jen.Id("statuses"), jen.Err()).Op(":=").Id("runner").Dot("Status").Call(jen.Id("ctx")),
				jen.If(jen.Err().Op("!=").Nil()).Block(jen.Return(jen.Err())),
				jen.For(jen.List(jen.Id("_"), jen.Id("s")).Op(":=").Range().Id("statuses")).Block(
					jen.Qual("fmt", "Printf").Call(jen.Lit("%-30s position %d, head %d, lag %d\n"),
						jen.Id("s").Dot("Name"), jen.Id("s").Dot("Position"), jen.Id("s").Dot("Head"), jen.Id("s").Dot("Lag")),
				),
				jen.Return(jen.Nil()),
			),
			jen.Case(jen.Id("rebuild").Op("!=").Lit("")).Block(
				jen.Return(jen.Id("runner").Dot("Rebuild").Call(jen.Id("ctx"), jen.Id("rebuild"))),
			),
		),
		jen.Return(jen.Id("runner").Dot("Run").Call(jen.Id("ctx"))),
	)
	return f
}
