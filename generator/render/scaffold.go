package render

import (
	"path"
	"strings"

	"github.com/dave/jennifer/jen"

	"github.com/projgen/projgen/generator/config"
	"github.com/projgen/projgen/generator/model"
)

// RunnerMain is where projgen new writes the runner's main, once.
const RunnerMain = "cmd/projections/main.go"

// pgxpool is the package of the runner main's connection pool.
const pgxpool = "github.com/jackc/pgx/v5/pgxpool"

// runnerDoc is the runner main's package comment.
const runnerDoc = `// Command projections runs this module's projections: it reads the events,
// applies each to the read models, and records how far each projection
// got, in one transaction, so that every event is applied exactly once.
// projgen wrote this file once, with the module's first projection; it is
// yours to change, and projgen never rewrites it.
//
// Usage:
//
//	projections [-park NAMES] [-lease D] [-poll D]         run every projection until interrupted
//	projections -status                                    print where each projection stands
//	projections -wait POSITION [-only NAMES] [-timeout D]  wait until the projections reach POSITION
//	projections -rebuild NAME                              replay a projection into new tables, swapped in
//	projections -retry-parked NAME                         apply a projection's parked events again
//	projections -migrate                                   apply the migrations, create the runner's tables
//	projections -catch-up                                  apply the events stored now, and exit
//
// DATABASE_URL names the PostgreSQL database of the read-model tables and
// of the runner's own; apply the migrations first. The exit status
// is 0 on success and after SIGINT or SIGTERM, 1 when something fails (a
// stopped projection for -status, a timeout for -wait), and 2 when the
// command line is wrong. projections -h lists the flags, with examples.`

// runnerUsage is what projections -h prints before the flags; NAME stands
// for a projection of the module.
const runnerUsage = `Usage:
  projections [-park names] [-lease duration] [-poll duration]
        run every projection until interrupted (SIGINT or SIGTERM)
  projections -status
        print where each projection stands; exit 1 if one has stopped
  projections -wait position [-only names] [-timeout duration]
        wait until the projections have reached position; exit 1 if they do not
  projections -rebuild name
        replay a projection into new tables and swap them in
  projections -retry-parked name
        apply a projection's parked events again, once their cause is fixed
  projections -migrate
        apply every projection's migrations and create the runner's tables
  projections -catch-up
        apply every event stored now to each projection, and exit

Examples:
  projections -migrate
  projections -park NAME -lease 30s
  projections -wait 1042 -only NAME -timeout 5s
  projections -rebuild NAME

DATABASE_URL names the PostgreSQL database of the read models.
The exit status is 0 on success, 1 on failure, 2 for a wrong command line.

Flags:
`

// jetStreamUsage is what projections -h adds for a JetStream stream.
const jetStreamUsage = `
The events are read from the JetStream stream -events on the NATS server
NATS_URL names (nats://127.0.0.1:4222 when unset). Run the same command,
with the same -partitions, in several processes to share the projections:
  NATS_URL=nats://nats:4222 projections -events EVENTS -partitions 12
`

// runnerMain renders the sidecar that runs the module's projections. It is
// scaffolding: written once, by new, and the user's from then on, so it
// carries no generated-code header.
func (r *renderer) runnerMain(reg *model.Registry) *jen.File {
	f := jen.NewFilePathName(r.m.Path+"/cmd/projections", "main")
	f.ImportNames(map[string]string{
		model.RuntimePackage: "projection",
		reg.Package.Path:     reg.Package.Name,
		pgxpool:              "pgxpool",
	})
	f.ImportNames(toolImportNames())
	// golang-migrate's driver is package pgx, as pgx is.
	f.ImportAlias(model.MigrateModule+"/database/pgx/v5", "pgxmigrate")
	if p := r.m.EventStore.Package; p != "" {
		f.ImportName(p, path.Base(p))
	}
	doc := runnerDoc
	switch r.m.EventStore.Name {
	case config.SourceGoes:
		doc += "\n//\n// The events are goes' (projgen.yaml's source: goes): the -events table in\n" +
			"// GOES_DATABASE_URL's database when it is set, else in DATABASE_URL's."
	case config.SourceHallgren:
		doc += "\n//\n// The events are hallgren/eventsourcing's (projgen.yaml's source: hallgren):\n" +
			"// the -events table of the SQLite database HALLGREN_DATABASE names."
	case config.SourceJetStream:
		doc += "\n//\n// The events are in a NATS JetStream stream (projgen.yaml's source: jetstream):\n" +
			"// the -events stream, in the -layout, on the server NATS_URL names\n" +
			"// (nats://127.0.0.1:4222 when unset). With -partitions N each projection is\n" +
			"// split into N partitions by aggregate, which the runner processes started\n" +
			"// with the same N share; a dead one's partitions move to the others."
	}
	f.PackageComment(doc)
	example := "NAME"
	if len(reg.Projections) > 0 {
		example = reg.Projections[0].Name
	}
	f.Comment("usage introduces the flags in projections -h.")
	usage := runnerUsage
	if r.m.EventStore.Name == config.SourceJetStream {
		usage = strings.Replace(usage, "\nDATABASE_URL names", jetStreamUsage+"\nDATABASE_URL names", 1)
	}
	f.Const().Id("usage").Op("=").Add(rawString(strings.ReplaceAll(usage, "NAME", example)))
	f.Line()
	f.Comment("options are what the command line asks for.")
	f.Type().Id("options").Struct(
		jen.Id("db").Op("*").Qual(pgxpool, "Config"),
		jen.Id("events").String(),
		jen.Id("status").Bool(),
		jen.Id("waiting").Bool(),
		jen.Id("position").Int64(),
		jen.Id("only").Index().String(),
		jen.Id("timeout").Qual("time", "Duration"),
		jen.Id("rebuild").String(),
		jen.Id("retryParked").String(),
		jen.Id("migrate").Bool(),
		jen.Id("catchUp").Bool(),
		jen.Id("park").Index().String(),
		jen.List(jen.Id("lease"), jen.Id("poll")).Qual("time", "Duration"),
		r.storeOptions(),
	)
	f.Line()
	f.Func().Id("main").Params().Block(
		jen.Id("registrations").Op(":=").Qual(reg.Package.Path, "Registrations").Call(),
		jen.Id("o").Op(":=").Id("parseFlags").Call(jen.Id("registrations")),
		jen.List(jen.Id("ctx"), jen.Id("stop")).Op(":=").Qual("os/signal", "NotifyContext").Call(
			jen.Qual("context", "Background").Call(), jen.Qual("os", "Interrupt"), jen.Qual("syscall", "SIGTERM")),
		jen.Defer().Id("stop").Call(),
		jen.If(
			jen.Err().Op(":=").Id("run").Call(jen.Id("ctx"), jen.Id("o"), jen.Id("registrations")),
			jen.Err().Op("!=").Nil(),
		).Block(
			jen.Qual("fmt", "Fprintln").Call(jen.Qual("os", "Stderr"), jen.Lit("projections:"), jen.Err()),
			jen.Qual("os", "Exit").Call(jen.Lit(1)),
		),
	)
	f.Line()
	r.runnerFlags(f)
	r.runnerRun(f, reg)
	return f
}

// openSource renders the function that opens the event store projgen.yaml's
// source: names.
func (r *renderer) openSource(f *jen.File) {
	o := func(field string) *jen.Statement { return jen.Id("o").Dot(field) }
	errNil := jen.Err().Op("!=").Nil()
	params := []jen.Code{jen.Id("ctx").Qual("context", "Context"), jen.Id("o").Id("options"), jen.Id("pool").Op("*").Qual(pgxpool, "Pool")}
	results := []jen.Code{jen.Qual(runtime, "EventSource"), jen.Func().Params(), jen.Error()}
	noop := jen.Func().Params().Block()
	switch store := r.m.EventStore; store.Name {
	case config.SourceGoes:
		f.Add(doc("openSource reads goes' events table: in GOES_DATABASE_URL's database when it is set, else in DATABASE_URL's. " +
			"It installs the log that orders goes' events first (goes.Install, idempotent). The function it returns closes what it opened."))
		f.Func().Id("openSource").Params(params...).Params(results...).Block(
			jen.List(jen.Id("events"), jen.Id("closeEvents")).Op(":=").List(jen.Id("pool"), noop.Clone()),
			jen.If(jen.Id("url").Op(":=").Qual("os", "Getenv").Call(jen.Lit("GOES_DATABASE_URL")), jen.Id("url").Op("!=").Lit("")).Block(
				jen.Var().Err().Error(),
				jen.If(jen.List(jen.Id("events"), jen.Err()).Op("=").Qual(pgxpool, "New").Call(jen.Id("ctx"), jen.Id("url")), errNil).Block(
					jen.Return(jen.Nil(), jen.Nil(), jen.Qual("fmt", "Errorf").Call(jen.Lit("connect to GOES_DATABASE_URL: %w"), jen.Err())),
				),
				jen.Id("closeEvents").Op("=").Id("events").Dot("Close"),
			),
			jen.If(jen.Err().Op(":=").Qual(store.Package, "Install").Call(jen.Id("ctx"), jen.Id("events"), jen.Qual(store.Package, "Table").Call(o("events"))), errNil).Block(
				jen.Id("closeEvents").Call(),
				jen.Return(jen.Nil(), jen.Nil(), jen.Qual("fmt", "Errorf").Call(jen.Lit("install the log of goes' events: %w"), jen.Err())),
			),
			jen.Return(jen.Qual(store.Package, "NewSource").Call(jen.Id("events"), jen.Qual(store.Package, "Table").Call(o("events"))), jen.Id("closeEvents"), jen.Nil()),
		)
	case config.SourceHallgren:
		f.Anon(store.Driver)
		f.Add(doc("openSource reads hallgren/eventsourcing's SQL store: the -events table of the SQLite database that " +
			"HALLGREN_DATABASE names, as the application opens it (a file name or a file: URI). The function it returns closes it."))
		f.Func().Id("openSource").Params(jen.Id("_").Qual("context", "Context"), jen.Id("o").Id("options"), jen.Id("_").Op("*").Qual(pgxpool, "Pool")).Params(results...).Block(
			jen.Id("name").Op(":=").Qual("os", "Getenv").Call(jen.Lit("HALLGREN_DATABASE")),
			jen.If(jen.Id("name").Op("==").Lit("")).Block(
				jen.Return(jen.Nil(), jen.Nil(), jen.Qual("errors", "New").Call(jen.Lit("set HALLGREN_DATABASE to the SQLite database of hallgren's SQL store, such as file:/var/lib/app/events.db"))),
			),
			jen.List(jen.Id("db"), jen.Err()).Op(":=").Qual("database/sql", "Open").Call(jen.Lit("sqlite3"), jen.Id("name")),
			jen.If(errNil).Block(jen.Return(jen.Nil(), jen.Nil(), jen.Qual("fmt", "Errorf").Call(jen.Lit("open HALLGREN_DATABASE: %w"), jen.Err()))),
			jen.Return(jen.Qual(store.Package, "NewSource").Call(jen.Id("db"), o("events")), jen.Func().Params().Block(jen.Id("db").Dot("Close").Call()), jen.Nil()),
		)
	case config.SourceJetStream:
		f.Add(doc("openSource reads the JetStream stream -events, in the -layout, on the NATS server NATS_URL names " +
			"(the local one when unset). The function it returns closes the connection."))
		f.Func().Id("openSource").Params(jen.Id("_").Qual("context", "Context"), jen.Id("o").Id("options"), jen.Id("_").Op("*").Qual(pgxpool, "Pool")).Params(results...).Block(
			jen.List(jen.Id("source"), jen.Id("closeSource"), jen.Err()).Op(":=").Qual(store.Package, "Dial").Call(
				jen.Qual("os", "Getenv").Call(jen.Lit("NATS_URL")), o("events"), o("layout")),
			jen.If(errNil).Block(jen.Return(jen.Nil(), jen.Nil(), jen.Qual("fmt", "Errorf").Call(jen.Lit("%w (set NATS_URL to the NATS server of the stream)"), jen.Err()))),
			jen.Return(jen.Id("source"), jen.Id("closeSource"), jen.Nil()),
		)
		f.Line()
		f.Add(doc("retryPartitions applies the parked events of every partition of o.retryParked again."))
		f.Func().Id("retryPartitions").Params(jen.Id("ctx").Qual("context", "Context"), jen.Id("runner").Op("*").Qual(runtime, "Runner"), jen.Id("o").Id("options")).Error().Block(
			jen.Id("applied").Op(":=").Lit(0),
			jen.For(jen.List(jen.Id("_"), jen.Id("name")).Op(":=").Range().Qual(store.Package, "PartitionNames").Call(jen.Index().String().Values(o("retryParked")), o("partitions"))).Block(
				jen.List(jen.Id("n"), jen.Err()).Op(":=").Id("runner").Dot("RetryParked").Call(jen.Id("ctx"), jen.Id("name")),
				jen.Id("applied").Op("+=").Id("n"),
				jen.If(errNil).Block(
					printf(jen.Lit("%s: %d parked events applied\n"), o("retryParked"), jen.Id("applied")),
					jen.Return(jen.Err()),
				),
			),
			printf(jen.Lit("%s: %d parked events applied\n"), o("retryParked"), jen.Id("applied")),
			jen.Return(jen.Nil()),
		)
	default:
		f.Add(doc("openSource reads projgen's own events table, in DATABASE_URL's database too; there is nothing to close."))
		f.Func().Id("openSource").Params(jen.Id("_").Qual("context", "Context"), jen.Id("o").Id("options"), jen.Id("pool").Op("*").Qual(pgxpool, "Pool")).Params(results...).Block(
			jen.Return(jen.Qual(runtime, "NewPostgresSource").Call(jen.Id("pool"), o("events")), noop.Clone(), jen.Nil()),
		)
	}
	f.Line()
}

// runnerFlags renders the runner main's parsing of its command line.
func (r *renderer) runnerFlags(f *jen.File) {
	o := func(field string) *jen.Statement { return jen.Id("o").Dot(field) }
	set := func(name string) *jen.Statement { return jen.Id("set").Index(jen.Lit(name)) }
	usageError := func(args ...jen.Code) *jen.Statement { return jen.Id("usageError").Call(args...) }
	regs := jen.Id("registrations")
	joinKnown := jen.Qual("strings", "Join").Call(jen.Id("known"), jen.Lit(", "))

	f.Add(doc("parseFlags reads the flags and DATABASE_URL. On a mistake it says what to do and exits with status 2."))
	f.Func().Id("parseFlags").Params(regs.Clone().Index().Qual(runtime, "Registration")).Id("options").Block(
		jen.Id("o").Op(":=").Id("options").Values(),
		r.eventsFlag(),
		jen.Qual("flag", "BoolVar").Call(jen.Op("&").Add(o("status")), jen.Lit("status"), jen.False(), jen.Lit("print where each projection stands, and exit")),
		jen.Qual("flag", "Int64Var").Call(jen.Op("&").Add(o("position")), jen.Lit("wait"), jen.Lit(0), jen.Lit("wait until the runner has brought the projections to `position`, and exit")),
		jen.Id("only").Op(":=").Qual("flag", "String").Call(jen.Lit("only"), jen.Lit(""), jen.Lit("with -wait, wait only for these comma-separated projection `names`")),
		jen.Qual("flag", "DurationVar").Call(jen.Op("&").Add(o("timeout")), jen.Lit("timeout"), jen.Lit(30).Op("*").Qual("time", "Second"), jen.Lit("with -wait, how long to wait; 0 waits until interrupted")),
		jen.Qual("flag", "StringVar").Call(jen.Op("&").Add(o("rebuild")), jen.Lit("rebuild"), jen.Lit(""), jen.Lit("replay projection `name` into new tables, swap them in, and exit")),
		jen.Qual("flag", "StringVar").Call(jen.Op("&").Add(o("retryParked")), jen.Lit("retry-parked"), jen.Lit(""), jen.Lit("apply the parked events of projection `name` again, and exit")),
		jen.Qual("flag", "BoolVar").Call(jen.Op("&").Add(o("migrate")), jen.Lit("migrate"), jen.False(), jen.Lit(r.migrateUsage())),
		jen.Qual("flag", "BoolVar").Call(jen.Op("&").Add(o("catchUp")), jen.Lit("catch-up"), jen.False(), jen.Lit("apply every event stored now to each projection, and exit")),
		jen.Id("park").Op(":=").Qual("flag", "String").Call(jen.Lit("park"), jen.Lit(""), jen.Lit("park the poison events of these comma-separated projection `names` in projgen_dead_letters, rather than stop there")),
		jen.Qual("flag", "DurationVar").Call(jen.Op("&").Add(o("lease")), jen.Lit("lease"), jen.Lit(0), jen.Lit("how long a runner that stops responding keeps its projections from a standby; 0 for the default, 10s")),
		jen.Qual("flag", "DurationVar").Call(jen.Op("&").Add(o("poll")), jen.Lit("poll"), jen.Lit(0), jen.Lit("how often a projection that has caught up looks for new events; 0 for the default, 100ms")),
		r.storeFlags(),
		jen.Qual("flag", "Usage").Op("=").Func().Params().Block(
			jen.Qual("fmt", "Fprint").Call(jen.Qual("flag", "CommandLine").Dot("Output").Call(), jen.Id("usage")),
			jen.Qual("flag", "PrintDefaults").Call(),
		),
		jen.Qual("flag", "Parse").Call(),
		jen.Id("set").Op(":=").Map(jen.String()).Bool().Values(),
		jen.Qual("flag", "Visit").Call(jen.Func().Params(jen.Id("f").Op("*").Qual("flag", "Flag")).Block(
			jen.Id("set").Index(jen.Lit("-").Op("+").Id("f").Dot("Name")).Op("=").True(),
		)),
		jen.Var().Id("modes").Index().String(),
		jen.For(jen.List(jen.Id("_"), jen.Id("mode")).Op(":=").Range().Index().String().Values(
			jen.Lit("-status"), jen.Lit("-wait"), jen.Lit("-rebuild"), jen.Lit("-retry-parked"), jen.Lit("-migrate"), jen.Lit("-catch-up"),
		)).Block(
			jen.If(jen.Id("set").Index(jen.Id("mode"))).Block(
				jen.Id("modes").Op("=").Append(jen.Id("modes"), jen.Id("mode")),
			),
		),
		jen.Switch().Block(
			jen.Case(jen.Qual("flag", "NArg").Call().Op(">").Lit(0)).Block(
				usageError(jen.Lit("unexpected argument %q: projections takes flags only"), jen.Qual("flag", "Arg").Call(jen.Lit(0))),
			),
			jen.Case(jen.Len(jen.Id("modes")).Op(">").Lit(1)).Block(
				usageError(jen.Lit("%s cannot go together: give one of them"), jen.Qual("strings", "Join").Call(jen.Id("modes"), jen.Lit(" and "))),
			),
			jen.Case(jen.Parens(set("-only").Op("||").Add(set("-timeout"))).Op("&&").Op("!").Add(set("-wait"))).Block(
				usageError(jen.Lit("-only and -timeout go with -wait POSITION")),
			),
			jen.Case(o("position").Op("<").Lit(0)).Block(
				usageError(jen.Lit("-wait %d: give a position of 0 or more"), o("position")),
			),
			jen.Case(o("timeout").Op("<").Lit(0).Op("||").Add(o("lease")).Op("<").Lit(0).Op("||").Add(o("poll")).Op("<").Lit(0)).Block(
				usageError(jen.Lit("-timeout, -lease and -poll take a duration of 0 or more, such as 500ms or 30s")),
			),
			jen.Case(o("events").Op("==").Lit("")).Block(
				usageError(jen.Lit("-events needs the name of the events "+r.eventsNoun())),
			),
		),
		o("waiting").Op("=").Add(set("-wait")),
		jen.If(set("-only")).Block(
			o("only").Op("=").Id("checkNames").Call(jen.Lit("-only"), jen.Id("splitNames").Call(jen.Op("*").Id("only")), regs),
		),
		jen.If(set("-park")).Block(
			o("park").Op("=").Id("checkNames").Call(jen.Lit("-park"), jen.Id("splitNames").Call(jen.Op("*").Id("park")), regs),
		),
		jen.If(set("-rebuild")).Block(
			jen.Id("checkNames").Call(jen.Lit("-rebuild"), jen.Index().String().Values(o("rebuild")), regs),
		),
		jen.If(set("-retry-parked")).Block(
			jen.Id("checkNames").Call(jen.Lit("-retry-parked"), jen.Index().String().Values(o("retryParked")), regs),
		),
		jen.Id("url").Op(":=").Qual("os", "Getenv").Call(jen.Lit("DATABASE_URL")),
		jen.If(jen.Id("url").Op("==").Lit("")).Block(
			usageError(jen.Lit("set DATABASE_URL to the PostgreSQL database, such as postgres://user:password@localhost:5432/app")),
		),
		jen.Var().Err().Error(),
		jen.If(
			jen.List(o("db"), jen.Err()).Op("=").Qual(pgxpool, "ParseConfig").Call(jen.Id("url")),
			jen.Err().Op("!=").Nil(),
		).Block(
			usageError(jen.Lit("DATABASE_URL: %v"), jen.Err()),
		),
		r.checkStoreFlags(),
		jen.Return(jen.Id("o")),
	)
	f.Line()
	f.Add(doc("splitNames splits a comma-separated list of names."))
	f.Func().Id("splitNames").Params(jen.Id("list").String()).Index().String().Block(
		jen.Var().Id("names").Index().String(),
		jen.For(jen.List(jen.Id("_"), jen.Id("name")).Op(":=").Range().Qual("strings", "Split").Call(jen.Id("list"), jen.Lit(","))).Block(
			jen.If(
				jen.Id("name").Op("=").Qual("strings", "TrimSpace").Call(jen.Id("name")),
				jen.Id("name").Op("!=").Lit(""),
			).Block(
				jen.Id("names").Op("=").Append(jen.Id("names"), jen.Id("name")),
			),
		),
		jen.Return(jen.Id("names")),
	)
	f.Line()
	f.Add(doc("checkNames returns the projection names given to a flag, after it has checked that there is one at least " +
		"and that each is registered; it exits with status 2 otherwise."))
	f.Func().Id("checkNames").Params(
		jen.Id("flagName").String(), jen.Id("names").Index().String(), regs.Clone().Index().Qual(runtime, "Registration"),
	).Index().String().Block(
		jen.Var().Id("known").Index().String(),
		jen.For(jen.List(jen.Id("_"), jen.Id("r")).Op(":=").Range().Add(regs)).Block(
			jen.Id("known").Op("=").Append(jen.Id("known"), jen.Id("r").Dot("Name")),
		),
		jen.If(jen.Len(jen.Id("names")).Op("==").Lit(0).Op("||").Id("names").Index(jen.Lit(0)).Op("==").Lit("")).Block(
			usageError(jen.Lit("%s needs a projection name; the projections are %s"), jen.Id("flagName"), joinKnown),
		),
		jen.For(jen.List(jen.Id("_"), jen.Id("name")).Op(":=").Range().Id("names")).Block(
			jen.If(jen.Op("!").Qual("slices", "Contains").Call(jen.Id("known"), jen.Id("name"))).Block(
				usageError(jen.Lit("%s: no projection named %q; the projections are %s"), jen.Id("flagName"), jen.Id("name"), joinKnown),
			),
		),
		jen.Return(jen.Id("names")),
	)
	f.Line()
	f.Add(doc("usageError exits with status 2 after saying what is wrong with the command line."))
	f.Func().Id("usageError").Params(jen.Id("format").String(), jen.Id("args").Op("...").Any()).Block(
		jen.Qual("fmt", "Fprintf").Call(jen.Qual("os", "Stderr"), jen.Lit("projections: %s\nRun projections -h for the flags, with examples.\n"),
			jen.Qual("fmt", "Sprintf").Call(jen.Id("format"), jen.Id("args").Op("..."))),
		jen.Qual("os", "Exit").Call(jen.Lit(2)),
	)
	f.Line()
}

// runnerRun renders what the runner main does once its command line is
// read: run the projections, or print or wait for where they stand, or
// rebuild one, or retry its parked events.
func (r *renderer) runnerRun(f *jen.File, reg *model.Registry) {
	o := func(field string) *jen.Statement { return jen.Id("o").Dot(field) }
	s := func(field string) *jen.Statement { return jen.Id("s").Dot(field) }
	errNil := jen.Err().Op("!=").Nil()
	rfc3339 := func(t jen.Code) jen.Code { return jen.Add(t).Dot("Format").Call(jen.Qual("time", "RFC3339")) }
	runnerParam := jen.Id("runner").Op("*").Qual(runtime, "Runner")

	f.Comment("run connects to the database and does what the flags ask.")
	f.Func().Id("run").Params(
		jen.Id("ctx").Qual("context", "Context"), jen.Id("o").Id("options"), jen.Id("registrations").Index().Qual(runtime, "Registration"),
	).Error().Block(
		jen.For(jen.Id("i").Op(":=").Range().Id("registrations")).Block(
			jen.If(jen.Qual("slices", "Contains").Call(o("park"), jen.Id("registrations").Index(jen.Id("i")).Dot("Name"))).Block(
				jen.Id("registrations").Index(jen.Id("i")).Dot("OnError").Op("=").Qual(runtime, "Park"),
			),
		),
		jen.Comment("Each projection runs on a connection of its own, which holds its lock."),
		o("db").Dot("MaxConns").Op("=").Max(o("db").Dot("MaxConns"), jen.Int32().Call(jen.Len(jen.Id("registrations")).Op("+").Lit(2))),
		r.partitionConns(),
		jen.List(jen.Id("pool"), jen.Err()).Op(":=").Qual(pgxpool, "NewWithConfig").Call(jen.Id("ctx"), o("db")),
		jen.If(errNil).Block(jen.Return(jen.Qual("fmt", "Errorf").Call(jen.Lit("connect: %w"), jen.Err()))),
		jen.Defer().Id("pool").Dot("Close").Call(),
		jen.If(o("migrate")).Block(jen.Return(jen.Id("migrateUp").Call(jen.Id("ctx"), jen.Id("o"), jen.Id("pool")))),
		jen.List(jen.Id("source"), jen.Id("closeSource"), jen.Err()).Op(":=").Id("openSource").Call(jen.Id("ctx"), jen.Id("o"), jen.Id("pool")),
		jen.If(errNil).Block(jen.Return(jen.Err())),
		jen.Defer().Id("closeSource").Call(),
		jen.Id("runner").Op(":=").Op("&").Add(keyed(jen.Qual(runtime, "Runner"),
			jen.Id("Pool"), jen.Id("pool"),
			jen.Id("Source"), jen.Id("source"),
			jen.Id("Types"), jen.Qual(reg.Package.Path, "EventTypes").Call(),
			jen.Id("Registrations"), jen.Id("registrations"),
			jen.Id("Lease"), o("lease"),
			jen.Id("PollInterval"), o("poll"),
		)),
		jen.If(jen.Err().Op(":=").Id("runner").Dot("Setup").Call(jen.Id("ctx")), errNil).Block(jen.Return(jen.Err())),
		r.runPartitioned(),
		jen.Switch().Block(
			jen.Case(o("status")).Block(
				jen.Return(jen.Id("printStatus").Call(jen.Id("ctx"), jen.Id("runner"))),
			),
			jen.Case(o("waiting")).Block(
				jen.Return(jen.Id("wait").Call(jen.Id("ctx"), jen.Id("runner"), jen.Id("o"))),
			),
			jen.Case(o("rebuild").Op("!=").Lit("")).Block(
				jen.If(jen.Err().Op(":=").Id("runner").Dot("Rebuild").Call(jen.Id("ctx"), o("rebuild")), errNil).Block(jen.Return(jen.Err())),
				printf(jen.Lit("%s: rebuilt\n"), o("rebuild")),
				jen.Return(jen.Nil()),
			),
			jen.Case(o("retryParked").Op("!=").Lit("")).Block(
				jen.List(jen.Id("n"), jen.Err()).Op(":=").Id("runner").Dot("RetryParked").Call(jen.Id("ctx"), o("retryParked")),
				printf(jen.Lit("%s: %d parked events applied\n"), o("retryParked"), jen.Id("n")),
				jen.Return(jen.Err()),
			),
			jen.Case(o("catchUp")).Block(
				jen.For(jen.List(jen.Id("_"), jen.Id("r")).Op(":=").Range().Id("registrations")).Block(
					jen.If(jen.Err().Op(":=").Id("runner").Dot("CatchUp").Call(jen.Id("ctx"), jen.Id("r").Dot("Name")), errNil).Block(jen.Return(jen.Err())),
				),
				jen.Return(jen.Id("printStatus").Call(jen.Id("ctx"), jen.Id("runner"))),
			),
		),
		jen.Return(jen.Id("runner").Dot("Run").Call(jen.Id("ctx"))),
	)
	f.Line()

	r.openSource(f)
	r.runnerMigrate(f, reg)

	f.Add(doc("printStatus prints where each projection stands, and returns an error naming the projections that have stopped."))
	f.Func().Id("printStatus").Params(jen.Id("ctx").Qual("context", "Context"), runnerParam.Clone()).Error().Block(
		jen.List(jen.Id("statuses"), jen.Err()).Op(":=").Id("runner").Dot("Status").Call(jen.Id("ctx")),
		jen.If(errNil).Block(jen.Return(jen.Err())),
		jen.Var().Id("stopped").Index().String(),
		jen.For(jen.List(jen.Id("_"), jen.Id("s")).Op(":=").Range().Id("statuses")).Block(
			printf(jen.Lit("%s: %s, position %d, head %d, lag %d events (%.1fs), %d parked\n"),
				jen.Line().Add(s("Name")), s("State"), s("Position"), s("Head"), s("Lag"), s("LagTime").Dot("Seconds").Call(), s("Parked")),
			jen.If(s("HolderPID").Op("!=").Lit(0)).Block(
				jen.Id("holder").Op(":=").Qual("fmt", "Sprintf").Call(jen.Lit("backend pid %d"), s("HolderPID")),
				jen.If(s("Holder").Op("!=").Lit("")).Block(
					jen.Id("holder").Op("=").Qual("fmt", "Sprintf").Call(jen.Lit("%s (backend pid %d) since %s"),
						s("Holder"), s("HolderPID"), rfc3339(s("HeldSince"))),
				),
				printf(jen.Lit("  held by %s\n"), jen.Id("holder")),
			),
			jen.If(s("State").Op("==").Qual(runtime, "Stopped")).Block(
				jen.Id("stopped").Op("=").Append(jen.Id("stopped"), s("Name")),
			),
			jen.If(jen.Id("f").Op(":=").Add(s("Failure")), jen.Id("f").Op("!=").Nil()).Block(
				printf(jen.Lit("  stopped at position %d (topic %q, aggregate %s, version %d) at %s: %s\n"),
					jen.Line().Id("f").Dot("Event").Dot("Position"), jen.Id("f").Dot("Event").Dot("Topic"),
					jen.Id("f").Dot("Event").Dot("AggregateID"), jen.Id("f").Dot("Event").Dot("Version"),
					rfc3339(jen.Id("f").Dot("At")), jen.Id("f").Dot("Error")),
			),
			jen.If(jen.Id("b").Op(":=").Add(s("HeldBack")), jen.Id("b").Op("!=").Nil()).Block(
				jen.Id("holders").Op(":=").Make(jen.Index().String(), jen.Len(jen.Id("b").Dot("Holders"))),
				jen.For(jen.List(jen.Id("i"), jen.Id("h")).Op(":=").Range().Id("b").Dot("Holders")).Block(
					jen.Id("holders").Index(jen.Id("i")).Op("=").Id("h").Dot("State").Comment("a prepared transaction, which has no session"),
					jen.If(jen.Id("h").Dot("PID").Op("!=").Lit(0)).Block(
						jen.Id("holders").Index(jen.Id("i")).Op("=").Qual("fmt", "Sprintf").Call(jen.Lit("pid %d (%s, %s)"),
							jen.Id("h").Dot("PID"), jen.Qual("cmp", "Or").Call(jen.Id("h").Dot("Application"), jen.Lit("no application_name")), jen.Id("h").Dot("State")),
					),
				),
				printf(jen.Lit("  held back since %s by %s\n"), rfc3339(jen.Id("b").Dot("Since")), jen.Qual("strings", "Join").Call(jen.Id("holders"), jen.Lit(", "))),
			),
		),
		jen.If(jen.Len(jen.Id("stopped")).Op(">").Lit(0)).Block(
			jen.Return(jen.Qual("fmt", "Errorf").Call(
				jen.Lit("stopped: %s; fix the cause and restart the runner, which tries the event again, or restart it with -park %s"),
				jen.Line().Qual("strings", "Join").Call(jen.Id("stopped"), jen.Lit(", ")), jen.Qual("strings", "Join").Call(jen.Id("stopped"), jen.Lit(",")))),
		),
		jen.Return(jen.Nil()),
	)
	f.Line()

	f.Add(doc("wait waits until each projection of o.only, or every one, has reached o.position, for o.timeout at most."))
	f.Func().Id("wait").Params(jen.Id("ctx").Qual("context", "Context"), runnerParam.Clone(), jen.Id("o").Id("options")).Error().Block(
		jen.If(o("timeout").Op(">").Lit(0)).Block(
			jen.Var().Id("cancel").Qual("context", "CancelFunc"),
			jen.List(jen.Id("ctx"), jen.Id("cancel")).Op("=").Qual("context", "WithTimeout").Call(jen.Id("ctx"), o("timeout")),
			jen.Defer().Id("cancel").Call(),
		),
		jen.Id("names").Op(":=").Add(o("only")),
		jen.If(jen.Len(jen.Id("names")).Op("==").Lit(0)).Block(
			jen.For(jen.List(jen.Id("_"), jen.Id("r")).Op(":=").Range().Id("runner").Dot("Registrations")).Block(
				jen.Id("names").Op("=").Append(jen.Id("names"), jen.Id("r").Dot("Name")),
			),
		),
		jen.For(jen.List(jen.Id("_"), jen.Id("name")).Op(":=").Range().Id("names")).Block(
			jen.Err().Op(":=").Id("runner").Dot("Wait").Call(jen.Id("ctx"), jen.Id("name"), o("position")),
			jen.If(jen.Qual("errors", "Is").Call(jen.Err(), jen.Qual("context", "DeadlineExceeded"))).Block(
				jen.Return(jen.Qual("fmt", "Errorf").Call(
					jen.Lit("timed out after %s: %w (projections -status shows where each projection stands)"), o("timeout"), jen.Err())),
			),
			jen.If(errNil).Block(jen.Return(jen.Err())),
		),
		jen.Return(jen.Nil()),
	)
}

// printf renders a call of fmt.Printf.
func printf(args ...jen.Code) *jen.Statement { return jen.Qual("fmt", "Printf").Call(args...) }

// rawString writes s as a raw string literal, which keeps a text of many
// lines readable in the source; as an interpreted one if s holds a
// backquote.
func rawString(s string) jen.Code {
	if strings.Contains(s, "`") {
		return jen.Lit(s)
	}
	return jen.Op("`" + s + "`")
}

// The parts of the runner main that only a JetStream stream has: its
// layout and its partitions. Each renders nothing for other stores.

// storeOptions renders the options fields of the store's own flags.
func (r *renderer) storeOptions() jen.Code {
	if r.m.EventStore.Name != config.SourceJetStream {
		return jen.Null()
	}
	return jen.Id("layout").Qual(r.m.EventStore.Package, "Layout").Line().Id("partitions").Int()
}

// eventsNoun is what the -events flag names: the stream, for JetStream,
// else the table.
func (r *renderer) eventsNoun() string {
	if r.m.EventStore.Name == config.SourceJetStream {
		return "stream"
	}
	return "table"
}

// eventsFlag renders the -events flag, whose default is the name that
// projgen's table, goes' and hallgren's have, or the stream's of the
// README.
func (r *renderer) eventsFlag() jen.Code {
	def := "events"
	if r.m.EventStore.Name == config.SourceJetStream {
		def = "EVENTS"
	}
	return jen.Qual("flag", "StringVar").Call(jen.Op("&").Id("o").Dot("events"), jen.Lit("events"), jen.Lit(def), jen.Lit("the "+r.eventsNoun()+" the events are stored in"))
}

// storeFlags renders the store's own flags.
func (r *renderer) storeFlags() jen.Code {
	store := r.m.EventStore
	if store.Name != config.SourceJetStream {
		return jen.Null()
	}
	return jen.Id("layout").Op(":=").Qual("flag", "String").Call(jen.Lit("layout"), jen.Qual(store.Package, "HeadersLayout"),
		jen.Lit("how the stream's messages hold the events: ").Op("+").Qual("strings", "Join").Call(jen.Qual(store.Package, "LayoutNames").Call(), jen.Lit(", "))).
		Line().Qual("flag", "IntVar").Call(jen.Op("&").Id("o").Dot("partitions"), jen.Lit("partitions"), jen.Lit(0),
		jen.Lit("split each projection by aggregate into `n` partitions, shared by the processes run with the same n; 0 runs each whole"))
}

// checkStoreFlags renders the checks of the store's own flags.
func (r *renderer) checkStoreFlags() jen.Code {
	store := r.m.EventStore
	if store.Name != config.SourceJetStream {
		return jen.Null()
	}
	usageError := func(args ...jen.Code) *jen.Statement { return jen.Id("usageError").Call(args...) }
	return jen.If(jen.List(jen.Id("o").Dot("layout"), jen.Err()).Op("=").Qual(store.Package, "ParseLayout").Call(jen.Op("*").Id("layout")), jen.Err().Op("!=").Nil()).Block(
		usageError(jen.Lit("-layout: %v"), jen.Err()),
	).Line().Switch().Block(
		jen.Case(jen.Id("o").Dot("partitions").Op("<").Lit(0)).Block(
			usageError(jen.Lit("-partitions %d: give 0, or the number of partitions"), jen.Id("o").Dot("partitions")),
		),
		jen.Case(jen.Id("o").Dot("partitions").Op(">").Lit(0).Op("&&").Id("o").Dot("catchUp")).Block(
			usageError(jen.Lit("-catch-up does not take -partitions: run the partitioned processes, and -wait for them")),
		),
		jen.Case(jen.Id("o").Dot("partitions").Op(">").Lit(0).Op("&&").Id("o").Dot("rebuild").Op("!=").Lit("")).Block(
			usageError(jen.Lit("-rebuild does not take -partitions: a partitioned read model is rebuilt as a whole "+
				"(stop the runners, empty its tables, delete the rows of projgen_tracking named %s#0 to #%d, start them again)"),
				jen.Id("o").Dot("rebuild"), jen.Id("o").Dot("partitions").Op("-").Lit(1)),
		),
	)
}

// partitionConns renders the pool size of a partitioned run.
func (r *renderer) partitionConns() jen.Code {
	store := r.m.EventStore
	if store.Name != config.SourceJetStream {
		return jen.Null()
	}
	return jen.If(jen.Id("o").Dot("partitions").Op(">").Lit(0)).Block(
		jen.Comment("Each process may end up running every partition."),
		jen.Id("o").Dot("db").Dot("MaxConns").Op("=").Max(jen.Id("o").Dot("db").Dot("MaxConns"),
			jen.Qual(store.Package, "PoolSize").Call(jen.Len(jen.Id("registrations")), jen.Id("o").Dot("partitions"))),
	)
}

// runPartitioned renders the run of a partitioned projection: a balancer
// per projection, or, for -status, -wait and -retry-parked, the runner
// over the partitions.
func (r *renderer) runPartitioned() jen.Code {
	store := r.m.EventStore
	if store.Name != config.SourceJetStream {
		return jen.Null()
	}
	o := func(field string) *jen.Statement { return jen.Id("o").Dot(field) }
	return jen.If(o("partitions").Op(">").Lit(0)).Block(
		jen.If(jen.Op("!").Add(o("status")).Op("&&").Op("!").Add(o("waiting")).Op("&&").Add(o("retryParked")).Op("==").Lit("")).Block(
			jen.Return(jen.Qual(store.Package, "RunPartitioned").Call(jen.Id("ctx"), jen.Op("*").Id("runner"), o("partitions"))),
		),
		jen.Comment("-status, -wait and -retry-parked act on the partitions."),
		jen.If(jen.List(jen.Id("runner").Dot("Registrations"), jen.Err()).Op("=").Qual(store.Package, "PartitionRegistrations").Call(jen.Id("registrations"), o("partitions")), jen.Err().Op("!=").Nil()).Block(
			jen.Return(jen.Err()),
		),
		o("only").Op("=").Qual(store.Package, "PartitionNames").Call(o("only"), o("partitions")),
		jen.If(o("retryParked").Op("!=").Lit("")).Block(
			jen.Return(jen.Id("retryPartitions").Call(jen.Id("ctx"), jen.Id("runner"), jen.Id("o"))),
		),
	)
}

// migrateUsage is the -migrate flag's usage.
func (r *renderer) migrateUsage() string {
	events := ""
	if r.m.EventStore.Name == config.SourceProjgen {
		events = ", create the events table"
	}
	return "apply every projection's migrations with " + r.m.MigrationFormat + events + ", create the runner's tables, and exit"
}
