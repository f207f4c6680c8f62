package render

import (
	"bytes"
	"fmt"
	"path"
	"testing"

	"github.com/dave/jennifer/jen"

	"github.com/projgen/projgen/generator/model"
)

// jenniferMigrationEmbed is migrations_gen.go as projgen rendered it with
// jennifer before the template: kept here, beside the template, to show
// they agree and to measure which is faster.
func jenniferMigrationEmbed(md *model.MigrationDir) ([]byte, error) {
	f := jen.NewFilePathName(md.Package.Path, md.Package.Name)
	f.HeaderComment(Header)
	f.Comment("projectionMigrations holds the migrations of this package's projections:")
	f.Comment("a package variable, as embed needs, that nothing writes.")
	f.Comment("")
	f.Comment("//go:embed migrations/*.sql")
	f.Var().Id("projectionMigrations").Qual("embed", "FS")
	f.Line()
	f.Add(doc(model.EmbedFunc + " returns the migrations of this package's projections, the files of " +
		md.Dir + ", at the root of the file system: what the runner main's -migrate applies."))
	f.Func().Id(model.EmbedFunc).Params().Qual("io/fs", "FS").Block(
		jen.List(jen.Id("files"), jen.Err()).Op(":=").Qual("io/fs", "Sub").Call(jen.Id("projectionMigrations"), jen.Lit("migrations")),
		jen.If(jen.Err().Op("!=").Nil()).Block(
			jen.Panic(jen.Err()).Comment("\"migrations\" is a valid path, which Sub does not refuse"),
		),
		jen.Return(jen.Id("files")),
	)
	return goSource(f)
}

func migrationDirs() []*model.MigrationDir {
	var dirs []*model.MigrationDir
	for _, dir := range []string{"installation", "internal/billing/subscription", "a/very/deeply/nested/directory/of/a/module/with/a/long/path"} {
		name := path.Base(dir)
		dirs = append(dirs, &model.MigrationDir{
			Dir:     dir + "/migrations",
			Package: &model.GoPackage{Path: "example.com/m/" + dir, Name: name, Dir: dir},
		})
	}
	return dirs
}

// TestMigrationEmbedTemplateAsJennifer checks that the template renders
// migrations_gen.go byte for byte as jennifer did.
func TestMigrationEmbedTemplateAsJennifer(t *testing.T) {
	g, err := newGoTemplates()
	if err != nil {
		t.Fatal(err)
	}
	for _, md := range migrationDirs() {
		want, err := jenniferMigrationEmbed(md)
		if err != nil {
			t.Fatal(err)
		}
		got, err := g.migrationEmbed(md)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s: the template renders\n%s\njennifer rendered\n%s", md.Dir, got, want)
		}
	}
}

// BenchmarkMigrationEmbed renders migrations_gen.go with the template and
// with jennifer, each formatted once with go/format:
//
//	go test -run '^$' -bench MigrationEmbed -benchmem ./generator/render
func BenchmarkMigrationEmbed(b *testing.B) {
	g, err := newGoTemplates()
	if err != nil {
		b.Fatal(err)
	}
	md := migrationDirs()[1]
	for _, way := range []struct {
		name   string
		render func(*model.MigrationDir) ([]byte, error)
	}{
		{"template", g.migrationEmbed},
		{"jennifer", jenniferMigrationEmbed},
	} {
		b.Run(way.name, func(b *testing.B) {
			for b.Loop() {
				if _, err := way.render(md); err != nil {
					b.Fatal(fmt.Errorf("%s: %w", way.name, err))
				}
			}
		})
	}
}
