package render

import (
	"bytes"
	"fmt"
	"go/format"
	"text/template"

	"github.com/projgen/projgen/generator/model"
	"github.com/projgen/projgen/templates"
)

// goTemplates are the Go files of a fixed shape, which read better as
// text/template than as jennifer calls: the file is there as it is
// written. The rest of projgen's Go varies with the events, and is
// jennifer's.
type goTemplates struct{ t *template.Template }

func newGoTemplates() (*goTemplates, error) {
	t, err := template.New("go").ParseFS(templates.FS, "*.go.tmpl")
	if err != nil {
		return nil, fmt.Errorf("parse Go templates: %w", err)
	}
	return &goTemplates{t: t}, nil
}

// source executes the template name with data, and formats the result
// with go/format, once, as jennifer's files are.
func (g *goTemplates) source(name string, data any) ([]byte, error) {
	var b bytes.Buffer
	if err := g.t.ExecuteTemplate(&b, name, data); err != nil {
		return nil, fmt.Errorf("render %s: %w", name, err)
	}
	src, err := format.Source(b.Bytes())
	if err != nil {
		return nil, fmt.Errorf("format the output of %s: %w", name, err)
	}
	return src, nil
}

// migrationEmbedData is what migrations_gen.go.tmpl receives.
type migrationEmbedData struct {
	// Package is the package's name.
	Package string
	// Func is the function that returns the migrations.
	Func string
	// Doc is Func's doc comment, its lines with their slashes.
	Doc string
}

// migrationEmbed renders the file of md's package that embeds md's
// migrations and returns them as a file system.
func (g *goTemplates) migrationEmbed(md *model.MigrationDir) ([]byte, error) {
	return g.source("migrations_gen.go.tmpl", migrationEmbedData{
		Package: md.Package.Name,
		Func:    model.EmbedFunc,
		Doc: "// " + wrap(model.EmbedFunc+" returns the migrations of this package's projections, the files of "+
			md.Dir+", at the root of the file system: what the runner main's -migrate applies.", "// "),
	})
}
