package model

import (
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"path"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"unicode"

	"github.com/projgen/projgen/generator/config"
	"github.com/projgen/projgen/generator/diag"
	"github.com/projgen/projgen/generator/load"
	"github.com/projgen/projgen/generator/names"
)

// Input is what Build needs: the configuration, the module, its loaded
// aggregate packages and the migrations already on disk.
type Input struct {
	// Config is projgen.yaml.
	Config *config.Config
	// Module is the Go module.
	Module *load.Module
	// Packages are the loaded aggregate packages, by import path.
	Packages map[string]*load.Package
	// Migrations are the migration directories on disk, by directory
	// (relative to the module root): those of the projections, and any
	// other directory with a projgen.sum, whose tables no projection wants
	// any more.
	Migrations map[string]*load.MigrationDir
	// AllowDestructive permits migrations that drop columns or tables, or
	// change column types.
	AllowDestructive bool
	// AcceptEdited accepts migration files that differ from projgen.sum,
	// and records them as they are.
	AcceptEdited bool
}

// Runtime packages that generated code imports.
const (
	// RuntimeModule is the runtime's module: projgen's projection/
	// directory, a module of its own, so that users' modules do not
	// require the CLI's.
	RuntimeModule = "github.com/projgen/projgen/projection"
	// RuntimePackage is the runtime package generated code imports.
	RuntimePackage = RuntimeModule
	// RuntimeTestPackage is the test helper package generated tests import.
	RuntimeTestPackage = RuntimeModule + "/projectiontest"
	// GomockPackage is gomock, used by the generated mocks.
	GomockPackage = "go.uber.org/mock/gomock"
	// GomockModule provides it.
	GomockModule = "go.uber.org/mock"
	// UUIDModule is google/uuid.
	UUIDModule = uuidPath
)

// Build computes the module's projections, tables and migrations. Errors in
// projgen.yaml name the line of the setting; errors about events name the
// Go declaration.
func Build(in Input) (*Module, error) {
	b := &builder{in: in, cfg: in.Config}
	m := &Module{
		Path:            in.Module.Path,
		Dir:             in.Module.Dir,
		MigrationFormat: in.Config.Migrations,
	}
	for i := range in.Config.Projections {
		if p := b.projection(i); p != nil {
			m.Projections = append(m.Projections, p)
		}
	}
	b.checkNameCollisions(m.Projections)
	b.checkTombstoneNames(m.Projections)
	if err := b.errs.Err(); err != nil {
		return nil, err
	}
	m.Registry = b.registry(m)
	m.MigrationDirs = b.migrations(m.Projections)
	for _, md := range m.MigrationDirs {
		if md.Package != nil {
			m.Registry.MigrationDirs = append(m.Registry.MigrationDirs, md)
		}
	}
	m.Unprojected = b.unprojected()
	m.EventStore = eventStoreOf(in.Config.Source)
	m.Imports = imports(m.Projections, m.EventStore, m.MigrationFormat)
	if err := b.errs.Err(); err != nil {
		return nil, err
	}
	return m, nil
}

type builder struct {
	in   Input
	cfg  *config.Config
	errs diag.List
}

func (b *builder) errorf(yamlPath, format string, args ...any) *diag.Error {
	e := diag.Errorf(b.cfg.Pos(yamlPath), format, args...)
	b.errs = append(b.errs, e)
	return e
}

// goPackage returns the package at a module-relative directory.
func (b *builder) goPackage(dir string, aggregates []string) GoPackage {
	importPath := b.in.Module.Path
	if dir != "." {
		importPath += "/" + dir
	}
	for _, a := range aggregates {
		if pkg := b.in.Packages[a]; pkg != nil && pkg.Path == importPath {
			return GoPackage{Path: importPath, Name: pkg.Name, Dir: dir}
		}
	}
	return GoPackage{Path: importPath, Name: packageName(path.Base(dir)), Dir: dir}
}

// packageName derives a Go package name from a directory name: lower case,
// letters and digits only ("tenant_activity" → "tenantactivity").
func packageName(dir string) string {
	var sb strings.Builder
	for _, r := range strings.ToLower(dir) {
		if r < unicode.MaxASCII && (unicode.IsLetter(r) || unicode.IsDigit(r) && sb.Len() > 0) {
			sb.WriteRune(r)
		}
	}
	if sb.Len() == 0 || names.IsGoKeyword(sb.String()) {
		return "projection" + sb.String()
	}
	return sb.String()
}

func (b *builder) projection(i int) *Projection {
	cp := &b.cfg.Projections[i]
	pp := config.ProjectionPath(i)
	for j, a := range cp.Aggregates {
		pkg := b.in.Packages[a]
		if pkg == nil {
			b.errorf(fmt.Sprintf("%s.aggregates[%d]", pp, j), "aggregate package %s was not loaded", a).
				WithHint("check the import path")
			return nil
		}
		if pkg.Name == "main" {
			b.errorf(fmt.Sprintf("%s.aggregates[%d]", pp, j), "%s is a program (package main), not an aggregate package: the registry cannot import it", a).
				WithHint("move the events into a package of their own and list that one")
			return nil
		}
	}
	if name := path.Base(cp.Dir); cp.Dir != "." && names.IsGoKeyword(name) {
		b.errorf(pp+".dir", "dir %s would make a package named %s, a Go keyword", cp.Dir, name).
			WithHint("generate the projection into another directory, such as %s", path.Join(path.Dir(cp.Dir), name+"s"))
		return nil
	}
	p := &Projection{
		Name:         cp.Name,
		Pattern:      cp.Pattern,
		Package:      b.goPackage(cp.Dir, cp.Aggregates),
		MigrationDir: MigrationDirOf(cp.Dir),
	}
	p.Names = projectionNames(cp.Name)
	p.Files = projectionFiles(cp.Dir, cp.Name)
	p.KeyType = b.aggregateKeyType(cp)
	t := &tableBuilder{b: b, cp: cp, pp: pp, p: p}
	if !t.build() {
		return nil
	}
	p.Queries = buildQueries(p.Table)
	return p
}

// MigrationDirOf is the migrations directory of a projection generated
// into dir: dir/migrations, next to its code.
func MigrationDirOf(dir string) string { return path.Join(dir, "migrations") }

func projectionNames(name string) Names {
	base := names.Exported(name)
	return Names{
		Base:               base,
		Projection:         base + "Projection",
		NewProjection:      "New" + base + "Projection",
		ReadModel:          base + "ReadModel",
		Postgres:           "Postgres" + base + "ReadModel",
		NewPostgres:        "NewPostgres" + base + "ReadModel",
		Mock:               "Mock" + base + "ReadModel",
		MockRecorder:       "Mock" + base + "ReadModelMockRecorder",
		NewMock:            "NewMock" + base + "ReadModel",
		View:               "view",
		Fold:               base + "Fold",
		FoldReadModel:      "fold" + base + "ReadModel",
		Row:                base + "Row",
		Filter:             base + "Filter",
		ListOptions:        base + "ListOptions",
		Queries:            base + "Queries",
		PostgresQueries:    "Postgres" + base + "Queries",
		NewPostgresQueries: "NewPostgres" + base + "Queries",
		Get:                "Get" + base + "Row",
		List:               "List" + base + "Rows",
		Count:              "Count" + base + "Rows",
	}
}

// handler names the projection's method that applies events with the
// read-model method name: the name unexported, unless that is a Go
// keyword (Select, Range) or the projection's read-model field (View),
// which would not compile.
func handler(method string, n Names) string {
	h := names.Unexported(method)
	if h == "" || names.IsGoKeyword(h) || h == n.View {
		return "apply" + method
	}
	return h
}

func projectionFiles(dir, name string) Files {
	f := func(suffix string) string { return path.Join(dir, name+suffix) }
	return Files{
		ReadModel:    f("_read_model_gen.go"),
		Projection:   f("_projection_gen.go"),
		Postgres:     f("_postgres_gen.go"),
		Mock:         f("_mock_gen_test.go"),
		Test:         f("_projection_gen_test.go"),
		PostgresTest: f("_postgres_gen_test.go"),
		Fold:         f("_fold_gen.go"),
		Queries:      f("_queries_gen.go"),
	}
}

// aggregateKeyType is the SQL type of aggregate IDs: the key type recorded
// for tables keyed by aggregate, otherwise what the aggregates' ID fields
// say (text if any is a string), uuid by default.
func (b *builder) aggregateKeyType(cp *config.Projection) string {
	if cp.Key.From == config.KeyAggregate {
		return cp.Key.Type
	}
	kt := "uuid"
	for _, a := range cp.Aggregates {
		if pkg := b.in.Packages[a]; pkg != nil && KeyTypeOf(pkg.IDType) != "uuid" {
			kt = "text"
		}
	}
	return kt
}

// KeyTypeOf returns the SQL type of aggregate IDs of the given Go type:
// text for strings, bigint for integers, uuid otherwise (and when the type
// is unknown).
func KeyTypeOf(t *load.Type) string {
	switch {
	case t == nil:
		return config.KeyUUID
	case t.Kind == load.String:
		return config.KeyText
	case t.Kind >= load.Int && t.Kind <= load.Uint64:
		return config.KeyBigint
	}
	return config.KeyUUID
}

// reservedParams are names a parameter must not take, since generated code
// declares them in the same scope: the method's ctx and meta, the
// receivers and locals of generated methods and tests, and the packages
// generated files import.
var reservedParams = map[string]bool{
	// Parameters, receivers and locals of generated methods.
	"ctx": true, "meta": true, "m": true, "p": true, "mr": true, "query": true, "err": true,
	"ret": true, "ret0": true, "data": true, "e": true, "mock": true,
	// Locals of generated tests.
	"t": true, "tc": true, "ctrl": true, "view": true, "proj": true, "failing": true,
	"failure": true, "pool": true, "readModel": true, "aggregateID": true, "rowKey": true,
	"replay": true, "payload": true, "events": true, "eventErr": true, "changes": true,
	// Packages generated files import.
	"context": true, "fmt": true, "projection": true, "projectiontest": true, "uuid": true,
	"time": true, "gomock": true, "reflect": true, "json": true, "sql": true, "netip": true,
	"net": true, "bytes": true, "errors": true, "testing": true, "slices": true,
}

// userDeclared is what the user's files of pkg declare, as far as p's
// names go. A file at one of p's generated paths that lost projgen's
// header is the user's, unless --force (AcceptEdited) says to take it
// back, in which case its declarations are about to be regenerated.
func (b *builder) userDeclared(pkg *load.Package, p *Projection) map[string]string {
	if !b.in.AcceptEdited {
		return pkg.Declared
	}
	ours := map[string]bool{}
	for _, f := range p.Files.All() {
		ours[path.Base(f)] = true
	}
	out := map[string]string{}
	for name, pos := range pkg.Declared {
		file, _, _ := strings.Cut(filepath.ToSlash(pos), ":")
		if !ours[path.Base(file)] {
			out[name] = pos
		}
	}
	return out
}

// checkNameCollisions reports generated Go names that the user's own code
// in the same package already declares, and projections whose names clash
// in one package.
func (b *builder) checkNameCollisions(ps []*Projection) {
	owner := map[string]map[string]string{}
	for _, p := range ps {
		idx := b.configIndex(p.Name)
		declared := map[string]string{}
		for _, pkg := range b.in.Packages {
			if pkg.Path == p.Package.Path {
				declared = b.userDeclared(pkg, p)
			}
		}
		if owner[p.Package.Path] == nil {
			owner[p.Package.Path] = map[string]string{}
		}
		for _, n := range []string{p.Names.Projection, p.Names.NewProjection, p.Names.ReadModel,
			p.Names.Postgres, p.Names.NewPostgres, p.Names.Mock, p.Names.MockRecorder, p.Names.NewMock,
			p.Names.Fold, p.Names.FoldReadModel, p.Names.Row, p.Names.Filter, p.Names.ListOptions,
			p.Names.Queries, p.Names.PostgresQueries, p.Names.NewPostgresQueries} {
			if pos, ok := declared[n]; ok {
				b.errs = append(b.errs, diag.Errorf(pos, "%s is already declared in package %s, and projection %q generates it",
					n, p.Package.Name, p.Name).
					WithHint("rename your declaration, or give the projection another name in %s; "+
						"if the file is projgen's and lost its first line, run again with --force to regenerate it", b.cfg.Pos(config.ProjectionPath(idx)+".name")))
			}
			if other, ok := owner[p.Package.Path][n]; ok && other != p.Name {
				b.errorf(config.ProjectionPath(idx)+".name", "projections %q and %q both generate %s in package %s",
					other, p.Name, n, p.Package.Name).WithHint("rename one of them")
			}
			owner[p.Package.Path][n] = p.Name
		}
		for _, m := range p.Methods {
			if m.Args == nil {
				continue
			}
			if pos, ok := declared[m.Args.Type]; ok {
				b.errs = append(b.errs, diag.Errorf(pos, "%s is already declared in package %s, and projection %q generates it for method %s",
					m.Args.Type, p.Package.Name, p.Name, m.Name).
					WithHint("rename your declaration, or the method in %s", b.cfg.Pos(config.ProjectionPath(idx))))
			}
			if other, ok := owner[p.Package.Path][m.Args.Type]; ok && other != p.Name {
				b.errorf(config.ProjectionPath(idx), "projections %q and %q both generate %s in package %s",
					other, p.Name, m.Args.Type, p.Package.Name).WithHint("rename the method of one of them")
			}
			owner[p.Package.Path][m.Args.Type] = p.Name
		}
		for _, m := range p.Methods {
			if m.Name == "EXPECT" {
				b.errorf(config.ProjectionPath(idx), "method name EXPECT is taken by the generated mock").
					WithHint("choose another method name")
			}
		}
	}
}

// checkTombstoneNames reports a tombstone table whose name is another
// projection's table: the two would share one table.
func (b *builder) checkTombstoneNames(ps []*Projection) {
	owner := map[string]string{}
	for _, p := range ps {
		owner[p.Table.Name] = p.Name
	}
	for _, p := range ps {
		for _, ts := range p.Table.Companions() {
			if other, ok := owner[ts.Name]; ok {
				b.errorf(config.ProjectionPath(b.configIndex(p.Name))+".table",
					"table %s of projection %q is also a companion table (held rows or tombstones) of projection %q's table %s", ts.Name, other, p.Name, p.Table.Name).
					WithHint("rename one of the two tables in %s", config.FileName)
			}
		}
	}
}

func (b *builder) configIndex(name string) int {
	_, i := b.cfg.Projection(name)
	return i
}

// registry lists every projection and the topic → payload table.
func (b *builder) registry(m *Module) *Registry {
	dir := b.cfg.Registry
	r := &Registry{
		Package: b.goPackage(dir, nil),
		File:    path.Join(dir, "projections_gen.go"),
	}
	r.Projections = slices.Clone(m.Projections)
	if len(r.Projections) > 0 {
		r.TestFile = path.Join(dir, "projections_gen_test.go")
	}
	slices.SortFunc(r.Projections, func(a, c *Projection) int { return strings.Compare(a.Name, c.Name) })
	for _, p := range r.Projections {
		imports := []string{p.Package.Path}
		for _, meth := range p.Methods {
			imports = append(imports, meth.Event.Package)
		}
		for _, imp := range imports {
			if !canImport(r.Package.Path, imp) {
				parent, _ := internalParent(imp)
				b.errorf("$.registry", "the registry %s cannot import %s, which is internal to %s", dir, imp, parent).
					WithHint("move the registry under %s: set registry: %s in projgen.yaml", parent,
						path.Join(strings.TrimPrefix(strings.TrimPrefix(parent, b.in.Module.Path), "/"), "projections"))
				return r
			}
		}
	}
	byTopic := map[string]*load.Event{}
	for _, p := range m.Projections {
		for _, meth := range p.Methods {
			ev := meth.Event
			if old, ok := byTopic[meth.Topic]; ok {
				if old.Package != ev.Package || old.Name != ev.Name {
					b.errorf(config.ProjectionPath(b.configIndex(p.Name)), "topic %q is the topic of both %s.%s and %s.%s",
						meth.Topic, old.PackageName, old.Name, ev.PackageName, ev.Name).
						WithHint("a topic must name one payload type; fix the topic of one of them")
				}
				continue
			}
			byTopic[meth.Topic] = ev
			r.EventTypes = append(r.EventTypes, EventType{Topic: meth.Topic, Event: ev})
		}
	}
	sort.Slice(r.EventTypes, func(i, j int) bool { return r.EventTypes[i].Topic < r.EventTypes[j].Topic })
	return r
}

// unprojected lists events that discovery finds in the loaded packages but
// that no projection lists.
func (b *builder) unprojected() []*load.Event {
	listed := map[string]bool{}
	for _, cp := range b.cfg.Projections {
		for _, e := range cp.Events {
			agg := cmp.Or(e.Aggregate, cp.Aggregates[0])
			listed[agg+"."+e.Type] = true
		}
	}
	var out []*load.Event
	paths := make([]string, 0, len(b.in.Packages))
	for p := range b.in.Packages {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	for _, p := range paths {
		for _, e := range b.in.Packages[p].Discovered {
			if !listed[p+"."+e.Name] {
				out = append(out, e)
			}
		}
	}
	return out
}

// imports lists the packages from other modules that generated code
// imports.
func imports(ps []*Projection, store EventStore, format string) []Import {
	out := []Import{
		{Package: RuntimePackage, Module: RuntimeModule},
		{Package: "github.com/jackc/pgx/v5/pgxpool", Module: "github.com/jackc/pgx/v5"},
		{Package: PgxStdlibPackage, Module: "github.com/jackc/pgx/v5"},
		{Package: RuntimeTestPackage, Module: RuntimeModule, Test: true},
		{Package: GomockPackage, Module: GomockModule, Test: true},
	}
	if store.Package != "" {
		out = append(out, Import{Package: store.Package, Module: store.Package})
	}
	if len(ps) > 0 {
		out = append(out, migrationTool(format)...)
	}
	if store.Driver != "" {
		out = append(out, Import{Package: store.Driver, Module: store.DriverModule})
	}
	for _, p := range ps {
		for _, m := range p.Methods {
			for _, prm := range m.Params {
				if usesPath(prm.Type, uuidPath) {
					return append(out, Import{Package: uuidPath, Module: UUIDModule, Test: true})
				}
			}
		}
	}
	return out
}

func usesPath(t *load.Type, importPath string) bool {
	if t == nil {
		return false
	}
	if t.Name != nil && t.Name.Path == importPath {
		return true
	}
	if usesPath(t.Elem, importPath) || usesPath(t.Key, importPath) {
		return true
	}
	for _, a := range t.TypeArgs {
		if usesPath(a, importPath) {
			return true
		}
	}
	for _, f := range t.Fields {
		if usesPath(f.Type, importPath) {
			return true
		}
	}
	return false
}

// identifier returns name if it fits PostgreSQL's 63-byte limit, and
// otherwise a shortened name ending in a hash of the whole, so that it
// stays unique and deterministic.
func identifier(name string) string {
	if len(name) <= 63 {
		return name
	}
	sum := sha256.Sum256([]byte(name))
	return name[:54] + "_" + hex.EncodeToString(sum[:4])
}
