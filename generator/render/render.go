// Package render writes the model as files: Go source with jennifer, SQL
// from the templates in package templates. It decides nothing; every name
// and type comes from the model.
package render

import (
	"bytes"
	"fmt"
	"maps"
	"path"
	goruntime "runtime"
	"slices"
	"strings"

	"github.com/dave/jennifer/jen"
	"golang.org/x/sync/errgroup"

	"github.com/projgen/projgen/generator/cache"
	"github.com/projgen/projgen/generator/config"
	"github.com/projgen/projgen/generator/load"
	"github.com/projgen/projgen/generator/model"
	"github.com/projgen/projgen/projection/migration"
)

// Header is the first line of every generated Go file.
const Header = load.Header

// Kind says who owns a file and how it may be written.
type Kind int

const (
	// Generated files are projgen's: rewritten whenever they differ.
	Generated Kind = iota
	// Migration files are written once and never rewritten; projgen.sum
	// guards them.
	Migration
	// Config is projgen.yaml.
	Config
	// Scaffold files are the user's once written: projgen writes them only
	// when they do not exist.
	Scaffold
	// Checksum files (projgen.sum) are projgen's, rewritten whenever they
	// differ.
	Checksum
)

// File is one rendered file.
type File struct {
	// Path is slash-separated and relative to the module root.
	Path string
	// Data is the content.
	Data []byte
	// Kind says how it may be written.
	Kind Kind
}

// Output is everything one run renders.
type Output struct {
	// Files are the files, sorted by path.
	Files []File
	// Packages are the directories of the Go packages written, sorted.
	Packages []string
}

// Options say what Render renders beyond the module's generated files.
type Options struct {
	// Config, when set, as projgen new sets it, is rendered as
	// projgen.yaml, with the runner's main, which is written only when it
	// does not exist.
	Config *config.Config
	// Skip names the projections whose Go files are not rendered: the
	// caller has them already.
	Skip map[string]bool
	// SkipRegistry leaves the registry's files out, for the same reason.
	SkipRegistry bool
}

// Render renders the module's files: for each projection its read model,
// projection, Postgres read model, mock and tests, but for those opts
// skips; the registry; the new migrations and the checksum files; and
// projgen.yaml and the runner's main when opts has a config.
func Render(m *model.Module, opts Options) (*Output, error) {
	sql, err := newSQL()
	if err != nil {
		return nil, err
	}
	gotmpl, err := newGoTemplates()
	if err != nil {
		return nil, err
	}
	var u units
	for _, p := range m.Projections {
		if !opts.Skip[p.Name] {
			u.add(func() ([]File, error) {
				return (&renderer{m: projectionView(m, p), sql: sql}).projectionFiles(p)
			})
		}
	}
	// The registry stays when the last projection goes, empty, so that
	// the runner main that imports it still builds.
	reg := m.Registry
	if !opts.SkipRegistry {
		view := registryView(m)
		u.add(func() ([]File, error) { return goFile(reg.File, Generated, (&renderer{m: view}).registry(reg)) })
		if reg.TestFile != "" {
			u.add(func() ([]File, error) { return goFile(reg.TestFile, Generated, (&renderer{m: view}).registryTest(reg)) })
		}
	}
	for _, md := range m.Registry.MigrationDirs {
		u.add(func() ([]File, error) {
			data, err := gotmpl.migrationEmbed(md)
			return one(md.EmbedFile, Generated, data, err)
		})
	}
	for _, md := range m.MigrationDirs {
		u.add(func() ([]File, error) { return (&renderer{m: m, sql: sql}).migrations(md) })
	}
	if cfg := opts.Config; cfg != nil {
		u.add(func() ([]File, error) {
			data, err := cfg.Marshal()
			return one(config.FileName, Config, data, err)
		})
		if len(m.Projections) > 0 {
			u.add(func() ([]File, error) { return goFile(RunnerMain, Scaffold, (&renderer{m: m}).runnerMain(reg)) })
		}
	}
	files, err := u.run()
	if err != nil {
		return nil, err
	}
	slices.SortFunc(files, func(a, b File) int { return strings.Compare(a.Path, b.Path) })
	out := &Output{Files: files}
	pkgs := map[string]bool{reg.Package.Dir: true}
	for _, p := range m.Projections {
		pkgs[p.Package.Dir] = true
	}
	for dir := range pkgs {
		out.Packages = append(out.Packages, dir)
	}
	slices.Sort(out.Packages)
	return out, nil
}

// units are the parts of a rendering, each its own set of files, which
// run renders in parallel, at most GOMAXPROCS at once: a projection's
// files, the registry's, projgen.yaml. Each renders by a renderer of its
// own and only reads the model, so that the files are the same whichever
// finishes first.
type units struct {
	render []func() ([]File, error)
}

// add adds a unit.
func (u *units) add(render func() ([]File, error)) { u.render = append(u.render, render) }

// run renders every unit and returns their files, in the order of the
// units.
func (u *units) run() ([]File, error) {
	files := make([][]File, len(u.render))
	var g errgroup.Group
	g.SetLimit(goruntime.GOMAXPROCS(0))
	for i, render := range u.render {
		g.Go(func() error {
			var err error
			files[i], err = render()
			return err
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	return slices.Concat(files...), nil
}

// one returns the file at path, or the error of rendering it.
func one(path string, kind Kind, data []byte, err error) ([]File, error) {
	if err != nil {
		return nil, fmt.Errorf("render %s: %w", path, err)
	}
	return []File{{Path: path, Data: data, Kind: kind}}, nil
}

// goFile formats f as the Go file at path.
func goFile(path string, kind Kind, f *jen.File) ([]File, error) {
	data, err := goSource(f)
	return one(path, kind, data, err)
}

// migrations renders the new migrations of md and its projgen.sum.
func (r *renderer) migrations(md *model.MigrationDir) ([]File, error) {
	var files []File
	sums := maps.Clone(md.Files)
	if sums == nil {
		sums = map[string][]byte{}
	}
	for _, mig := range md.New {
		up, down, err := r.migration(md, mig)
		if err != nil {
			return nil, err
		}
		files = append(files, File{Path: mig.UpFile, Data: up, Kind: Migration})
		sums[path.Base(mig.UpFile)] = up
		if mig.DownFile != "" {
			files = append(files, File{Path: mig.DownFile, Data: down, Kind: Migration})
			sums[path.Base(mig.DownFile)] = down
		}
	}
	return append(files, File{Path: path.Join(md.Dir, migration.SumFile), Data: migration.Sum(sums), Kind: Checksum}), nil
}

// projectionView returns what the renderer of projection p may read of
// module m: p, and the module's settings that p's files depend on. It is
// the whole of the inputs of p's files, so that its fingerprint
// (Fingerprint) proves two renderings the same.
func projectionView(m *model.Module, p *model.Projection) *model.Module {
	return &model.Module{
		MigrationFormat: m.MigrationFormat,
		EventStore:      m.EventStore,
		Projections:     []*model.Projection{p},
	}
}

// registryView returns what the registry's renderer may read of module
// m: the registry and the projections, whose packages and event types it
// imports.
func registryView(m *model.Module) *model.Module {
	return &model.Module{Registry: m.Registry, Projections: m.Projections}
}

// Fingerprints are hashes of everything the rendering of each set of Go
// files reads: two renderings of the same fingerprint, by the same
// projgen build, write the same bytes.
type Fingerprints struct {
	// Projections are each projection's, of the value projectionView
	// gives, by name; a projection holding what has no fingerprint (a
	// function) has none, and is always rendered.
	Projections map[string][]byte
	// Registry is the registry's, of the value registryView gives, with
	// each projection in it by its fingerprint; nil when a projection has
	// none.
	Registry []byte
}

// Fingerprint returns the fingerprints of m's Go files, the projections'
// in parallel.
func Fingerprint(m *model.Module) Fingerprints {
	sums := make([][]byte, len(m.Projections))
	var g errgroup.Group
	g.SetLimit(goruntime.GOMAXPROCS(0))
	for i, p := range m.Projections {
		g.Go(func() error {
			if sum, err := cache.Fingerprint(projectionView(m, p)); err == nil {
				sums[i] = sum[:]
			}
			return nil
		})
	}
	_ = g.Wait() // a projection without a fingerprint is rendered
	fps := Fingerprints{Projections: map[string][]byte{}}
	of := map[*model.Projection][]byte{}
	for i, p := range m.Projections {
		if sums[i] != nil {
			fps.Projections[p.Name] = sums[i]
			of[p] = sums[i]
		}
	}
	if len(of) < len(m.Projections) {
		return fps
	}
	// The registry's view holds every projection, each of which its own
	// fingerprint covers whole: hash those, not the projections again.
	inputs := struct {
		Registry         model.Registry
		Registered, View [][]byte
	}{Registry: *m.Registry, View: sums}
	inputs.Registry.Projections = nil
	for _, p := range m.Registry.Projections {
		inputs.Registered = append(inputs.Registered, of[p])
	}
	if sum, err := cache.Fingerprint(inputs); err == nil {
		fps.Registry = sum[:]
	}
	return fps
}

// projectionFiles renders the Go files of projection p: its read model,
// projection, Postgres read model, mock, tests and fold read model.
func (r *renderer) projectionFiles(p *model.Projection) ([]File, error) {
	steps := []struct {
		file string
		gen  func(*model.Projection) *jen.File
	}{
		{p.Files.ReadModel, r.readModel},
		{p.Files.Projection, r.projection},
		{p.Files.Postgres, r.postgres},
		{p.Files.Mock, r.mock},
		{p.Files.Test, r.projectionTest},
		{p.Files.PostgresTest, r.postgresTest},
		{p.Files.Fold, r.fold},
		{p.Files.Queries, r.queries},
	}
	files := make([]File, 0, len(steps))
	for _, s := range steps {
		f := s.gen(p)
		if r.err != nil {
			return nil, fmt.Errorf("render %s: %w", s.file, r.err)
		}
		data, err := goSource(f)
		if err != nil {
			return nil, fmt.Errorf("render %s: %w", s.file, err)
		}
		files = append(files, File{Path: s.file, Data: data, Kind: Generated})
	}
	return files, nil
}

type renderer struct {
	m   *model.Module
	sql *sqlTemplates
	err error
}

func (r *renderer) fail(err error) {
	if r.err == nil {
		r.err = err
	}
}

// newFile starts a Go file of a projection's package with the header.
func (r *renderer) newFile(pkg model.GoPackage, p *model.Projection) *jen.File {
	f := jen.NewFilePathName(pkg.Path, pkg.Name)
	f.HeaderComment(Header)
	importNames(f, r.m, p)
	return f
}

// goSource renders a jennifer file, which jennifer formats with go/format,
// once, then groups its imports as goimports does: the standard library
// first.
func goSource(f *jen.File) ([]byte, error) {
	var b bytes.Buffer
	if err := f.Render(&b); err != nil {
		return nil, err
	}
	return groupImports(b.Bytes()), nil
}

// importBlock starts and ends the import declaration jennifer writes for
// more than one import: one sorted block, an import per line.
const (
	importStart = "\nimport (\n"
	importEnd   = "\n)\n"
)

// groupImports moves the standard library's imports of src, formatted
// source as jennifer writes it, into a group of their own before the
// others, as goimports does. Each group stays sorted, as gofmt sorts it,
// so the source stays formatted without formatting it again.
func groupImports(src []byte) []byte {
	start := bytes.Index(src, []byte(importStart))
	if start < 0 {
		return src
	}
	body := start + len(importStart)
	n := bytes.Index(src[body:], []byte(importEnd))
	if n < 0 {
		return src
	}
	var std, others []string
	for _, line := range strings.Split(string(src[body:body+n]), "\n") {
		if line == "" {
			continue
		}
		if isStandard(line) {
			std = append(std, line)
		} else {
			others = append(others, line)
		}
	}
	if len(std) == 0 || len(others) == 0 {
		return src
	}
	var out bytes.Buffer
	out.Grow(len(src) + 1)
	out.Write(src[:body])
	out.WriteString(strings.Join(std, "\n") + "\n\n" + strings.Join(others, "\n"))
	out.Write(src[body+n:])
	return out.Bytes()
}

// isStandard reports whether an import line, such as `\tname "path"`,
// imports a package of the standard library: one whose path's first
// element has no dot.
func isStandard(line string) bool {
	_, quoted, ok := strings.Cut(line, `"`)
	if !ok {
		return false
	}
	path, _, _ := strings.Cut(quoted, `"`)
	first, _, _ := strings.Cut(path, "/")
	return !strings.Contains(first, ".")
}

// eventType is the event's Go type, qualified when it lives in another
// package than the file.
func eventType(ev *load.Event) *jen.Statement {
	if ev.ByTopic() {
		return jen.Add(goType(ev.Type))
	}
	return jen.Qual(ev.Package, ev.Name)
}

// methodDoc describes what a read-model method does, for doc comments.
func methodDoc(p *model.Projection, m *model.Method) string {
	table := p.Table.Name
	var what string
	switch m.Op {
	case config.Insert:
		what = fmt.Sprintf("inserts the event's row into %s, or updates the row when it exists and is older", table)
	case config.Update:
		what = fmt.Sprintf("sets the event's fields on its row of %s", table)
	case config.Set:
		what = fmt.Sprintf("sets %s on its row of %s", describeSets(m), table)
	case config.Delete:
		what = fmt.Sprintf("deletes its row from %s", table)
		if ts := p.Table.Tombstones; ts != nil && m.ByAggregate {
			what += fmt.Sprintf(" and records their keys in %s", ts.Name)
		} else if ts != nil {
			what += fmt.Sprintf(" and records the row's key in %s", ts.Name)
		}
	case config.Append:
		what = fmt.Sprintf("appends a row for the event to %s", table)
	}
	if m.ByAggregate {
		what = strings.Replace(what, "its row", "the aggregate's rows", 1)
	}
	return fmt.Sprintf("%s applies %s: it %s.", m.Name, eventRef(p, m.Event), what)
}

func describeSets(m *model.Method) string {
	var parts []string
	for _, w := range m.Writes {
		if w.Source == model.FromConstant {
			parts = append(parts, fmt.Sprintf("%s = %v", w.Column.Name, sqlConstant(w.Constant)))
		}
	}
	for _, prm := range m.Params {
		if prm != m.KeyParam && prm.Column != nil {
			parts = append(parts, prm.Column.Name)
		}
	}
	return strings.Join(parts, ", ")
}

func sqlConstant(v any) string {
	switch v := v.(type) {
	case nil:
		return "NULL"
	case string:
		return "'" + strings.ReplaceAll(v, "'", "''") + "'"
	}
	return fmt.Sprint(v)
}

// eventRef names an event in comments: Created, or installation.Created
// when it lives in another package.
func eventRef(p *model.Projection, ev *load.Event) string {
	if ev.Package == p.Package.Path {
		return ev.Name
	}
	return ev.PackageName + "." + ev.Name
}

// metaParams are the first parameters of every read-model method.
func metaParams() []jen.Code {
	return []jen.Code{
		jen.Id("ctx").Qual("context", "Context"),
		jen.Id("meta").Qual(model.RuntimePackage, "Meta"),
	}
}

// params are a method's parameters: ctx, meta, then the event's values.
// A list too long for one line of about 100 columns is written one
// parameter a line.
func params(m *model.Method) []jen.Code {
	out := metaParams()
	if m.Args != nil {
		return append(out, jen.Id(m.Args.Name).Id(m.Args.Type))
	}
	width := len(m.Name) + len("(ctx context.Context, meta projection.Meta) error")
	for _, p := range m.Params {
		out = append(out, jen.Id(p.Name).Add(goType(p.Type)))
		width += len(", ") + len(p.Name) + 1 + len(p.Type.String())
	}
	if width <= 100 {
		return out
	}
	lines := make([]jen.Code, 0, len(out)+1)
	for _, c := range out {
		lines = append(lines, jen.Line().Add(c))
	}
	return append(lines, jen.Line())
}

func (r *renderer) readModel(p *model.Projection) *jen.File {
	f := r.newFile(p.Package, p)
	var methods []jen.Code
	for _, m := range p.Methods {
		methods = append(methods, doc(methodDoc(p, m)), jen.Id(m.Name).Params(params(m)...).Error())
	}
	f.Add(doc(fmt.Sprintf("%s is the read side of the %s projection: one method per event it handles, "+
		"each taking the event's metadata and fields. %s calls it; %s implements it on PostgreSQL, "+
		"and %s mocks it in tests.", p.Names.ReadModel, p.Name, p.Names.Projection, p.Names.Postgres, p.Names.Mock)))
	f.Type().Id(p.Names.ReadModel).Interface(methods...)
	for _, m := range p.Methods {
		if m.Args == nil {
			continue
		}
		f.Line()
		f.Add(doc(fmt.Sprintf("%s are the values %s takes from %s, one field per field of the event.", m.Args.Type, m.Name, eventRef(p, m.Event))))
		f.Type().Id(m.Args.Type).StructFunc(func(g *jen.Group) {
			for _, prm := range m.Params {
				g.Id(prm.ArgsField).Add(goType(prm.Type))
			}
		})
	}
	return f
}

// doc writes text as a // comment, wrapped at 76 characters.
func doc(text string) *jen.Statement {
	return jen.Comment("// " + wrap(text, "// "))
}

// wrap breaks text into lines of at most 76 characters, each after the
// first starting with indent.
func wrap(text, indent string) string {
	var lines []string
	line := ""
	for _, w := range strings.Fields(text) {
		if line != "" && len(indent)+len(line)+1+len(w) > 76 {
			lines = append(lines, line)
			line = ""
		}
		if line != "" {
			line += " "
		}
		line += w
	}
	if line != "" {
		lines = append(lines, line)
	}
	return strings.Join(lines, "\n"+indent)
}
