package render

import (
	"strings"
	"testing"

	"github.com/dave/jennifer/jen"
	"golang.org/x/tools/imports"
)

// TestGoSourceGroupsImportsAsGoimports renders files that import
// different mixes of packages, aliased or not, and checks goSource's
// output against goimports itself: goimports in format-only mode must
// change nothing, and the standard library must come first.
func TestGoSourceGroupsImportsAsGoimports(t *testing.T) {
	for _, tt := range []struct {
		name    string
		imports [][2]string // path, name ("" for the package's own)
	}{
		{"one standard", [][2]string{{"context", ""}}},
		{"one other", [][2]string{{"github.com/google/uuid", ""}}},
		{"standard only", [][2]string{{"fmt", ""}, {"context", ""}, {"encoding/json", ""}}},
		{"others only", [][2]string{{"github.com/jackc/pgx/v5", "pgx"}, {"github.com/google/uuid", ""}}},
		{"mixed", [][2]string{{"github.com/projgen/projgen/projection", ""}, {"fmt", ""}, {"example.com/m/a", ""}, {"context", ""}}},
		{"aliased", [][2]string{{"example.com/z/events", "zevents"}, {"time", ""}, {"example.com/a/events", "aevents"}, {"errors", ""}}},
		{"dotless module", [][2]string{{"mymodule/internal/x", ""}, {"fmt", ""}, {"github.com/google/uuid", ""}}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f := jen.NewFile("p")
			f.HeaderComment(Header)
			for i, imp := range tt.imports {
				if imp[1] != "" {
					f.ImportAlias(imp[0], imp[1])
				}
				f.Var().Id("v"+string(rune('a'+i))).Qual(imp[0], "T")
			}
			got, err := goSource(f)
			if err != nil {
				t.Fatal(err)
			}
			want, err := imports.Process("", got, &imports.Options{Comments: true, TabIndent: true, TabWidth: 8, FormatOnly: true})
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != string(want) {
				t.Errorf("goimports changes goSource's output:\n%s\nto:\n%s", got, want)
			}
			block := string(got)
			if i := strings.Index(block, "import"); i >= 0 {
				block = block[i:]
			}
			if std, other := strings.Index(block, `"fmt"`), strings.Index(block, `"github.com`); std >= 0 && other >= 0 && std > other {
				t.Errorf("the standard library does not come first:\n%s", got)
			}
		})
	}
}
