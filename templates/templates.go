// Package templates holds the text templates projgen renders SQL from,
// the statements of the generated Postgres read models and migrations,
// and the Go files of a fixed shape. They are embedded in the projgen
// binary.
package templates

import "embed"

// FS holds the templates. It is read-only.
//
//go:embed *.sql.tmpl *.go.tmpl
var FS embed.FS
