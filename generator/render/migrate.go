package render

import (
	"github.com/dave/jennifer/jen"

	"github.com/projgen/projgen/generator/config"
	"github.com/projgen/projgen/generator/model"
)

// migrationPackage is the runtime's package of migration directories.
const migrationPackage = model.RuntimePackage + "/migration"

// registryMigrations renders the registry's list of migration
// directories.
func registryMigrations(f *jen.File, reg *model.Registry) {
	f.Add(doc("MigrationDirs returns the module's migration directories, sorted, each with the table its migration " +
		"tool records the applied versions in: what the runner main's -migrate applies."))
	f.Func().Id("MigrationDirs").Params().Index().Qual(migrationPackage, "Dir").Block(
		jen.Return(jen.Index().Qual(migrationPackage, "Dir").ValuesFunc(func(g *jen.Group) {
			for _, md := range reg.MigrationDirs {
				g.Line().Add(keyed(jen.Null(),
					jen.Id("Path"), jen.Lit(md.Dir),
					jen.Id("Files"), jen.Qual(md.Package.Path, model.EmbedFunc).Call(),
					jen.Id("VersionTable"), jen.Lit(md.VersionTable),
				))
			}
			g.Line()
		})),
	)
}

// runnerMigrate renders the runner main's -migrate: create the events
// table, apply every directory's migrations with the tool projgen.yaml
// names, and create the runner's tables.
func (r *renderer) runnerMigrate(f *jen.File, reg *model.Registry) {
	errNil := jen.Err().Op("!=").Nil()
	pool := jen.Id("pool").Op("*").Qual(pgxpool, "Pool")
	var events []jen.Code
	what := "applies the migrations of every projection"
	if r.m.EventStore.Name == config.SourceProjgen {
		what = "creates the events table when -events is the default and it is missing, then " + what
		events = []jen.Code{
			jen.If(jen.Id("o").Dot("events").Op("==").Lit("events")).Block(
				jen.If(jen.List(jen.Id("_"), jen.Err()).Op(":=").Id("pool").Dot("Exec").Call(jen.Id("ctx"), jen.Qual(runtime, "EventsTableSQL")), errNil).Block(
					jen.Return(jen.Qual("fmt", "Errorf").Call(jen.Lit("create the events table: %w"), jen.Err())),
				),
			),
		}
	}
	f.Add(doc("migrateUp " + what + " with " + r.m.MigrationFormat + ", each directory recording its versions in a table of its own, " +
		"and creates the runner's tables. It is safe to run again: it applies only what is missing."))
	f.Func().Id("migrateUp").Params(jen.Id("ctx").Qual("context", "Context"), jen.Id("o").Id("options"), pool.Clone()).Error().Block(
		append(events,
			jen.For(jen.List(jen.Id("_"), jen.Id("dir")).Op(":=").Range().Qual(reg.Package.Path, "MigrationDirs").Call()).Block(
				jen.If(jen.Err().Op(":=").Id("migrateDir").Call(jen.Id("ctx"), jen.Id("pool"), jen.Id("dir")), errNil).Block(
					jen.Return(jen.Qual("fmt", "Errorf").Call(jen.Lit("migrate %s: %w"), jen.Id("dir").Dot("Path"), jen.Err())),
				),
			),
			jen.Return(jen.Parens(jen.Op("&").Qual(runtime, "Runner").Values(jen.Dict{jen.Id("Pool"): jen.Id("pool")})).Dot("Setup").Call(jen.Id("ctx"))),
		)...,
	)
	f.Line()
	if r.m.MigrationFormat == config.GooseFormat {
		r.gooseDir(f)
		return
	}
	r.golangMigrateDir(f)
}

// golangMigrateDir renders migrateDir with golang-migrate.
func (r *renderer) golangMigrateDir(f *jen.File) {
	errNil := jen.Err().Op("!=").Nil()
	m := model.MigrateModule
	f.Add(doc("migrateDir applies the migrations of dir that the database lacks, with golang-migrate, and says where it stands."))
	f.Func().Id("migrateDir").Params(jen.Id("_").Qual("context", "Context"), jen.Id("pool").Op("*").Qual(pgxpool, "Pool"), jen.Id("dir").Qual(migrationPackage, "Dir")).Error().Block(
		jen.Comment("Closing the handle, which migrate does, leaves the pool open."),
		jen.List(jen.Id("driver"), jen.Err()).Op(":=").Qual(m+"/database/pgx/v5", "WithInstance").Call(
			jen.Qual(model.PgxStdlibPackage, "OpenDBFromPool").Call(jen.Id("pool")),
			jen.Op("&").Qual(m+"/database/pgx/v5", "Config").Values(jen.Dict{jen.Id("MigrationsTable"): jen.Id("dir").Dot("VersionTable")})),
		jen.If(errNil).Block(jen.Return(jen.Err())),
		jen.List(jen.Id("files"), jen.Err()).Op(":=").Qual(m+"/source/iofs", "New").Call(jen.Id("dir").Dot("Files"), jen.Lit(".")),
		jen.If(errNil).Block(jen.Return(jen.Err())),
		jen.List(jen.Id("m"), jen.Err()).Op(":=").Qual(m, "NewWithInstance").Call(jen.Lit("iofs"), jen.Id("files"), jen.Lit("pgx5"), jen.Id("driver")),
		jen.If(errNil).Block(jen.Return(jen.Err())),
		jen.Defer().Id("m").Dot("Close").Call(),
		jen.If(jen.Err().Op(":=").Id("m").Dot("Up").Call(), errNil.Clone().Op("&&").Op("!").Qual("errors", "Is").Call(jen.Err(), jen.Qual(m, "ErrNoChange"))).Block(
			jen.Return(jen.Err()),
		),
		jen.List(jen.Id("version"), jen.Id("_"), jen.Err()).Op(":=").Id("m").Dot("Version").Call(),
		jen.If(errNil).Block(jen.Return(jen.Err())),
		jen.Qual("fmt", "Printf").Call(jen.Lit("%s: at version %d (%s)\n"), jen.Id("dir").Dot("Path"), jen.Id("version"), jen.Id("dir").Dot("VersionTable")),
		jen.Return(jen.Nil()),
	)
	f.Line()
}

// gooseDir renders migrateDir with goose.
func (r *renderer) gooseDir(f *jen.File) {
	errNil := jen.Err().Op("!=").Nil()
	g := model.GooseModule
	f.Add(doc("migrateDir applies the migrations of dir that the database lacks, with goose, and says where it stands."))
	f.Func().Id("migrateDir").Params(jen.Id("ctx").Qual("context", "Context"), jen.Id("pool").Op("*").Qual(pgxpool, "Pool"), jen.Id("dir").Qual(migrationPackage, "Dir")).Error().Block(
		jen.Comment("Closing the handle leaves the pool open."),
		jen.Id("db").Op(":=").Qual(model.PgxStdlibPackage, "OpenDBFromPool").Call(jen.Id("pool")),
		jen.Defer().Id("db").Dot("Close").Call(),
		jen.List(jen.Id("provider"), jen.Err()).Op(":=").Qual(g, "NewProvider").Call(jen.Qual(g, "DialectPostgres"), jen.Id("db"), jen.Id("dir").Dot("Files"),
			jen.Qual(g, "WithTableName").Call(jen.Id("dir").Dot("VersionTable"))),
		jen.If(errNil).Block(jen.Return(jen.Err())),
		jen.If(jen.List(jen.Id("_"), jen.Err()).Op(":=").Id("provider").Dot("Up").Call(jen.Id("ctx")), errNil).Block(jen.Return(jen.Err())),
		jen.List(jen.Id("version"), jen.Err()).Op(":=").Id("provider").Dot("GetDBVersion").Call(jen.Id("ctx")),
		jen.If(errNil).Block(jen.Return(jen.Err())),
		jen.Qual("fmt", "Printf").Call(jen.Lit("%s: at version %d (%s)\n"), jen.Id("dir").Dot("Path"), jen.Id("version"), jen.Id("dir").Dot("VersionTable")),
		jen.Return(jen.Nil()),
	)
	f.Line()
}
