package render

import (
	"fmt"
	"testing"

	"github.com/dave/jennifer/jen"
)

// TestRawString checks that a text becomes a raw string literal, or an
// interpreted one when it holds a backquote, which a raw one cannot.
func TestRawString(t *testing.T) {
	for _, tc := range []struct{ text, want string }{
		{"two\nlines\n", "const s = `two\nlines\n`"},
		{"a `quoted` word", "const s = \"a `quoted` word\""},
	} {
		got := fmt.Sprintf("%#v", jen.Const().Id("s").Op("=").Add(rawString(tc.text)))
		if got != tc.want {
			t.Errorf("rawString(%q) renders %q, want %q", tc.text, got, tc.want)
		}
	}
}
