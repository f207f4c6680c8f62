package model

import (
	"bytes"
	"cmp"
	"text/template"

	"github.com/projgen/projgen/generator/config"
	"github.com/projgen/projgen/generator/load"
)

// TopicData is what a topic template sees: {{.ImportPath}}, {{.Package}}
// and {{.Type}}.
type TopicData struct {
	// ImportPath is the import path of the event's package.
	ImportPath string
	// Package is the package's name.
	Package string
	// Type is the event's name: its Go type name, or for an event that
	// has no type of its own, the constant that names it.
	Type string
}

// topicTemplate is the template that gives a projection's events their
// topics: the projection's own, or the module's.
func topicTemplate(cfg *config.Config, cp *config.Projection) string {
	return cmp.Or(cp.Topics, cfg.Topics)
}

// templateTopic executes a topic template for one event.
func templateTopic(tmplText string, pkg *load.Package, ev *load.Event) (string, error) {
	tmpl, err := template.New("topics").Option("missingkey=error").Parse(tmplText)
	if err != nil {
		return "", err
	}
	var b bytes.Buffer
	if err := tmpl.Execute(&b, TopicData{ImportPath: pkg.Path, Package: pkg.Name, Type: ev.Name}); err != nil {
		return "", err
	}
	return b.String(), nil
}
