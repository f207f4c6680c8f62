// Package config reads, validates and writes projgen.yaml, the file that
// records every choice made for a module's projections, so that generate
// and check reproduce the same output from the source and this file alone.
package config

import (
	"bytes"
	"errors"
	"fmt"
	"go/token"
	"os"
	"path"
	"slices"
	"strconv"
	"strings"
	"text/template"
	"unicode"

	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/parser"

	"github.com/projgen/projgen/generator/diag"
	"github.com/projgen/projgen/generator/names"
)

// FileName is the name of the configuration file at the module root.
const FileName = "projgen.yaml"

// Version is the configuration format this projgen reads and writes.
const Version = 1

// DefaultTopics is the default topic template: the event's import path and
// type name, example.com/shop/order.Placed.
const DefaultTopics = "{{.ImportPath}}.{{.Type}}"

// Migration formats.
const (
	// MigrateFormat is golang-migrate's layout: NNNNNN_name.up.sql and
	// NNNNNN_name.down.sql.
	MigrateFormat = "golang-migrate"
	// GooseFormat is goose's layout: one NNNNNN_name.sql file with
	// -- +goose Up and -- +goose Down sections.
	GooseFormat = "goose"
)

// MigrationFormats lists the migration layouts, golang-migrate's first:
// it is the default.
func MigrationFormats() []string { return []string{MigrateFormat, GooseFormat} }

// Patterns: the four kinds of projection of the seed guide.
const (
	// Simple projects one aggregate into one table keyed by aggregate ID.
	Simple = "simple"
	// Denormalized projects events of one aggregate into a child table keyed
	// by an event field.
	Denormalized = "denormalized"
	// Filtered projects an event only when its condition holds.
	Filtered = "filtered"
	// CrossAggregate projects events of several aggregates into one table,
	// in a package of its own.
	CrossAggregate = "cross-aggregate"
)

// Patterns lists the patterns in the order they are offered.
func Patterns() []string { return []string{Simple, Denormalized, Filtered, CrossAggregate} }

// Operations: what an event does to the read model.
const (
	// Insert inserts the row, or updates it when it exists (an upsert).
	Insert = "insert"
	// Update sets the event's fields on the existing row.
	Update = "update"
	// Set sets constant values on the existing row.
	Set = "set"
	// Delete deletes the row.
	Delete = "delete"
	// Append inserts a new row for every event, keyed by its position.
	Append = "append"
	// Ignore handles nothing: the event is known but not projected.
	Ignore = "ignore"
)

// Operations lists the operations in the order they are offered.
func Operations() []string { return []string{Insert, Update, Set, Delete, Append, Ignore} }

// Key sources: what identifies a row.
const (
	// KeyAggregate keys rows by the event's aggregate ID.
	KeyAggregate = "aggregate"
	// KeyField keys rows by a field of the events.
	KeyField = "field"
	// KeyPosition keys rows by the event's position in the store, one row
	// per event.
	KeyPosition = "position"
)

// Config is the content of projgen.yaml.
type Config struct {
	// Version is the format version, 1.
	Version int `yaml:"version"`
	// Migrations is the migration layout: golang-migrate or goose.
	Migrations string `yaml:"migrations"`
	// Registry is the directory, relative to the module root, of the
	// package that lists every projection of the module.
	Registry string `yaml:"registry"`
	// Source is the event store the runner main reads: projgen (its own
	// events table, the default), hallgren, goes or jetstream. It only
	// shapes the runner main that new scaffolds once.
	Source string `yaml:"source,omitempty"`
	// Topics is the template that gives new events their default topic,
	// with {{.ImportPath}}, {{.Package}} and {{.Type}}.
	Topics string `yaml:"topics"`
	// Projections are the module's projections, in the order they were
	// added.
	Projections []Projection `yaml:"projections"`

	file     string
	document *ast.File
}

// Projection records one projection.
type Projection struct {
	// Name is the projection's name, in snake_case. It names its Go types
	// and its tracking row.
	Name string `yaml:"name"`
	// Pattern is one of the four patterns.
	Pattern string `yaml:"pattern"`
	// Aggregates are the import paths of the packages whose events are
	// projected.
	Aggregates []string `yaml:"aggregates"`
	// Dir is the directory, relative to the module root, of the package
	// the projection is generated into.
	Dir string `yaml:"dir"`
	// Table is the read-model table.
	Table string `yaml:"table"`
	// Topics is the topic template of this projection's events, when it
	// differs from the module's: the event-sourcing library the aggregate
	// uses stores them that way ({{.Type}} for hallgren/eventsourcing).
	Topics string `yaml:"topics,omitempty"`
	// Key says what identifies a row of the table.
	Key Key `yaml:"key"`
	// Events are the projected events, in the order of the read model's
	// methods.
	Events []Event `yaml:"events"`
	// Unique are data columns whose values no two rows share: each gets
	// a UNIQUE index, which the queries' filters use too.
	Unique []string `yaml:"unique,omitempty"`
}

// Key says what identifies a row.
type Key struct {
	// Column is the key column's name.
	Column string `yaml:"column"`
	// From is aggregate, field or position.
	From string `yaml:"from"`
	// Type is the key column's SQL type when rows are keyed by aggregate ID:
	// uuid, text or bigint.
	Type string `yaml:"type,omitempty"`
	// Field is the event field that keys the rows when From is field. Every
	// projected event must carry it.
	Field string `yaml:"field,omitempty"`
	// Scope says, when From is field, whether the field identifies a row
	// within its aggregate only (aggregate: the key is aggregate_id and
	// the field together) or across all aggregates (global: the field
	// alone). Empty is global, as projgen.yaml files written before scope
	// existed mean; projgen new writes it.
	Scope string `yaml:"scope,omitempty"`
}

// Key scopes, for Key.Scope.
const (
	// ScopeAggregate keys rows by the aggregate and the field: IDs that
	// are unique only within one aggregate (line 0 of every order).
	ScopeAggregate = "aggregate"
	// ScopeGlobal keys rows by the field alone: IDs unique everywhere.
	ScopeGlobal = "global"
)

// KeyScopes lists the key scopes.
func KeyScopes() []string { return []string{ScopeAggregate, ScopeGlobal} }

// SQL types of aggregate IDs, for Key.Type of rows keyed by aggregate.
const (
	// KeyUUID is for UUIDs, and for IDs of any other type.
	KeyUUID = "uuid"
	// KeyText is for string IDs.
	KeyText = "text"
	// KeyBigint is for integer IDs.
	KeyBigint = "bigint"
)

// KeyTypes lists the SQL types of aggregate IDs.
func KeyTypes() []string { return []string{KeyUUID, KeyText, KeyBigint} }

// Event records how one event is projected.
type Event struct {
	// Type is the event's Go type name in its aggregate package.
	Type string `yaml:"type"`
	// Aggregate is the import path of the event's package, required when
	// the projection has several aggregates.
	Aggregate string `yaml:"aggregate,omitempty"`
	// Topic is the string the event store records for the event, when
	// the source or the user fixes it; empty means the topic template's,
	// worked out at every generate.
	Topic string `yaml:"topic,omitempty"`
	// Op is what the event does: insert, update, set, delete, append or
	// ignore.
	Op string `yaml:"op"`
	// Method is the read-model method that applies the event. Ignored
	// events have none.
	Method string `yaml:"method,omitempty"`
	// When is a condition on the event's fields, in Go syntax: the event
	// is projected only when it holds ("IsActive", "Amount > 100").
	When string `yaml:"when,omitempty"`
	// Set gives constant column values the event writes, with its fields:
	// is_suspended: true.
	Set map[string]any `yaml:"set,omitempty"`
	// Fields limits the projected fields to these; empty means all.
	Fields []string `yaml:"fields,omitempty"`
	// Columns renames the columns of fields: field name → column name.
	Columns map[string]string `yaml:"columns,omitempty"`
}

// The event stores a runner main can read, for Config.Source.
const (
	// SourceProjgen is projgen's own events table (projection.PostgresSource).
	SourceProjgen = "projgen"
	// SourceHallgren is hallgren/eventsourcing's SQL store.
	SourceHallgren = "hallgren"
	// SourceGoes is goes' PostgreSQL backend.
	SourceGoes = "goes"
	// SourceJetStream is a NATS JetStream stream.
	SourceJetStream = "jetstream"
)

// Sources lists the event stores a runner main can read: those whose
// source the scaffolded runner main can build.
func Sources() []string {
	return []string{SourceProjgen, SourceHallgren, SourceGoes, SourceJetStream}
}

// New returns an empty configuration with the defaults filled in.
func New() *Config {
	return &Config{Version: Version, Migrations: MigrateFormat, Registry: "projections", Topics: DefaultTopics, file: FileName}
}

// ErrNotFound is returned by Read when there is no projgen.yaml.
var ErrNotFound = errors.New("no " + FileName)

// Read reads and validates the configuration file at path.
func Read(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("%s: %w", diag.Rel(path), ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("read configuration: %w", err)
	}
	return Parse(path, data)
}

// Parse parses and validates a configuration. file names it in errors.
func Parse(file string, data []byte) (*Config, error) {
	c := &Config{file: file}
	// Parse once: the document gives the values and, for messages, the
	// positions.
	doc, err := parser.ParseBytes(data, 0)
	if err != nil {
		return nil, c.yamlError(err)
	}
	if len(doc.Docs) > 0 && doc.Docs[0].Body != nil {
		if err := yaml.NodeToValue(doc.Docs[0].Body, c, yaml.DisallowUnknownField()); err != nil {
			return nil, c.yamlError(err)
		}
	}
	c.document = doc
	if err := c.Validate(); err != nil {
		return nil, err
	}
	return c, nil
}

func (c *Config) yamlError(err error) error {
	var ye yaml.Error
	if errors.As(err, &ye) {
		pos := ""
		if tk := ye.GetToken(); tk != nil && tk.Position != nil {
			pos = diag.Pos(c.file, tk.Position.Line, tk.Position.Column)
		}
		return diag.Errorf(pos, "%s", ye.GetMessage()).
			WithHint("fix %s; `projgen new --help` lists what each setting means", FileName)
	}
	return diag.Errorf(diag.Rel(c.file), "%v", err)
}

// File returns the path the configuration was read from or will be written
// to.
func (c *Config) File() string { return c.file }

// SetFile sets the path used in positions and by Write.
func (c *Config) SetFile(path string) { c.file = path }

// Pos returns the position of the node at a YAML path such as
// "$.projections[0].events[2].op", for messages. When the node is not
// there it returns the position of the nearest enclosing one; when the
// configuration was not read from a file, or the path is about a
// projection not in the file yet (being added by new), it returns "", since
// no line of the file is about it.
func (c *Config) Pos(yamlPath string) string {
	if c.document == nil {
		// Not read from a file: being written by new, so no line of the
		// file is about it yet.
		return ""
	}
	{
		for p := yamlPath; p != "" && p != "$"; p = parentPath(p) {
			if p == "$.projections" && strings.HasPrefix(yamlPath, "$.projections[") {
				// A projection not in the file yet, being added by new:
				// no line of the file is about it.
				return ""
			}
			yp, err := yaml.PathString(p)
			if err != nil {
				continue
			}
			node, err := yp.FilterFile(c.document)
			if err != nil || node == nil {
				continue
			}
			if tk := node.GetToken(); tk != nil && tk.Position != nil {
				return diag.Pos(c.file, tk.Position.Line, tk.Position.Column)
			}
		}
	}
	return diag.Rel(c.file)
}

func parentPath(p string) string {
	i := strings.LastIndexAny(p, ".[")
	if i <= 0 {
		return ""
	}
	return p[:i]
}

// ProjectionPath is the YAML path of the i-th projection.
func ProjectionPath(i int) string { return "$.projections[" + strconv.Itoa(i) + "]" }

// EventPath is the YAML path of the j-th event of the i-th projection.
func EventPath(i, j int) string { return ProjectionPath(i) + ".events[" + strconv.Itoa(j) + "]" }

// Projection returns the projection with the given name and its index, or
// -1.
func (c *Config) Projection(name string) (*Projection, int) {
	for i := range c.Projections {
		if c.Projections[i].Name == name {
			return &c.Projections[i], i
		}
	}
	return nil, -1
}

// Marshal encodes the configuration as projgen.yaml, with a header that says
// what the file is. Map keys are sorted, so the output is deterministic.
func (c *Config) Marshal() ([]byte, error) {
	body, err := yaml.MarshalWithOptions(c, yaml.IndentSequence(true))
	if err != nil {
		return nil, fmt.Errorf("encode %s: %w", FileName, err)
	}
	var b bytes.Buffer
	b.WriteString("# projgen.yaml records every projection of this module and every choice\n")
	b.WriteString("# made for it. Edit it, then run `projgen generate`; `projgen check` fails\n")
	b.WriteString("# when the generated code no longer matches it and the events.\n")
	b.Write(body)
	return b.Bytes(), nil
}

// Validate checks what can be checked without the Go source: known
// patterns and operations, unique names and tables, and settings that fit
// together. Errors name the line of the setting.
func (c *Config) Validate() error {
	var errs diag.List
	add := func(path, format string, args ...any) *diag.Error {
		e := diag.Errorf(c.Pos(path), format, args...)
		errs = append(errs, e)
		return e
	}
	if c.Version != Version {
		add("$.version", "version is %d; this projgen reads version %d", c.Version, Version).
			WithHint("set version: %d", Version)
	}
	if !slices.Contains(MigrationFormats(), c.Migrations) {
		add("$.migrations", "unknown migration format %q", c.Migrations).
			WithHint("use %s or %s", MigrateFormat, GooseFormat)
	}
	if _, err := template.New("topics").Option("missingkey=error").Parse(c.Topics); err != nil || c.Topics == "" {
		add("$.topics", "topics template %q does not parse", c.Topics).
			WithHint("use a Go template with {{.ImportPath}}, {{.Package}} and {{.Type}}, such as %s", DefaultTopics)
	}
	if c.Source != "" && !slices.Contains(Sources(), c.Source) {
		add("$.source", "unknown source %q", c.Source).
			WithHint("use one of %s", strings.Join(Sources(), ", "))
	}
	if !validDir(c.Registry) {
		add("$.registry", "registry %q is not a directory inside the module", c.Registry).
			WithHint(`use a relative, slash-separated path such as "projections"`)
	}
	names := map[string]int{}
	tables := map[string]int{}
	for i := range c.Projections {
		p := &c.Projections[i]
		pp := ProjectionPath(i)
		if !isSnake(p.Name) {
			add(pp+".name", "projection name %q is not a snake_case name", p.Name).
				WithHint("use lower-case letters, digits and underscores, starting with a letter, such as installation or tenant_activity")
		} else if j, dup := names[p.Name]; dup {
			add(pp+".name", "projection %q is defined twice (also projection %d)", p.Name, j+1).
				WithHint("give one of them another name")
		} else {
			names[p.Name] = i
		}
		if !slices.Contains(Patterns(), p.Pattern) {
			add(pp+".pattern", "unknown pattern %q", p.Pattern).
				WithHint("use one of %s", strings.Join(Patterns(), ", "))
		}
		if _, err := template.New("topics").Option("missingkey=error").Parse(p.Topics); err != nil {
			add(pp+".topics", "topics template %q does not parse", p.Topics).
				WithHint("use a Go template with {{.ImportPath}}, {{.Package}} and {{.Type}}, such as {{.Type}}, or remove it to use the module's")
		}
		if len(p.Aggregates) == 0 {
			add(pp+".aggregates", "projection %q lists no aggregates", p.Name).
				WithHint("list the import paths of the packages whose events it projects")
		}
		if !validDir(p.Dir) {
			add(pp+".dir", "dir %q is not a directory inside the module", p.Dir).
				WithHint("use a relative, slash-separated path such as internal/installation")
		}
		if !isSQLName(p.Table) {
			add(pp+".table", "table name %q is not a plain SQL name", p.Table).
				WithHint("use lower-case letters, digits and underscores, starting with a letter")
		} else if j, dup := tables[p.Table]; dup {
			add(pp+".table", "table %q is also the table of projection %q", p.Table, c.Projections[j].Name).
				WithHint("give each projection its own table")
		} else {
			tables[p.Table] = i
		}
		c.validateKey(p, pp, add)
		c.validateEvents(p, i, add)
	}
	return errs.Err()
}

func (c *Config) validateKey(p *Projection, pp string, add func(string, string, ...any) *diag.Error) {
	k := p.Key
	if !isSQLName(k.Column) {
		add(pp+".key.column", "key column %q is not a plain SQL name", k.Column).
			WithHint("use lower-case letters, digits and underscores, such as aggregate_id")
	}
	switch k.From {
	case KeyAggregate:
		if !slices.Contains(KeyTypes(), k.Type) {
			add(pp+".key.type", "key type %q: rows keyed by aggregate ID need type uuid, text or bigint", k.Type).
				WithHint("use uuid when aggregate IDs are UUIDs, bigint when they are integers, text otherwise")
		}
	case KeyField:
		if k.Field == "" {
			add(pp+".key.from", "key from field names no field").
				WithHint("set key.field to the event field that identifies a row, such as RepositoryID")
		}
		if k.Scope != "" && !slices.Contains(KeyScopes(), k.Scope) {
			add(pp+".key.scope", "unknown key scope %q", k.Scope).
				WithHint("use aggregate when the field identifies a row within its aggregate only, global when it is unique across aggregates")
		}
	case KeyPosition:
	default:
		add(pp+".key.from", "unknown key source %q", k.From).
			WithHint("use aggregate, field or position")
	}
}

func (c *Config) validateEvents(p *Projection, i int, add func(string, string, ...any) *diag.Error) {
	if len(p.Events) == 0 {
		add(ProjectionPath(i)+".events", "projection %q has no events", p.Name).
			WithHint("list the events it projects, or remove it")
	}
	methods := map[string]int{}
	seen := map[string]int{}
	appends := 0
	handled := 0
	for j := range p.Events {
		e := &p.Events[j]
		ep := EventPath(i, j)
		if e.Type == "" {
			add(ep+".type", "event has no type").WithHint("set type to the event's Go type name")
		}
		if e.Aggregate != "" && !slices.Contains(p.Aggregates, e.Aggregate) {
			add(ep+".aggregate", "aggregate %q is not in the projection's aggregates", e.Aggregate).
				WithHint("add it to aggregates, or fix the import path")
		}
		if e.Aggregate == "" && len(p.Aggregates) > 1 {
			add(ep, "event %s does not say which of the %d aggregates it comes from", e.Type, len(p.Aggregates)).
				WithHint("set aggregate to its package's import path")
		}
		id := e.Aggregate + "." + e.Type
		if j2, dup := seen[id]; dup {
			add(ep+".type", "event %s is listed twice (also event %d)", e.Type, j2+1).
				WithHint("list each event once")
		}
		seen[id] = j
		if !slices.Contains(Operations(), e.Op) {
			add(ep+".op", "unknown operation %q for event %s", e.Op, e.Type).
				WithHint("use one of %s", strings.Join(Operations(), ", "))
			continue
		}
		if e.Op == Ignore {
			if e.Method != "" || e.When != "" || len(e.Set) > 0 {
				add(ep, "ignored event %s has a method, condition or set values", e.Type).
					WithHint("remove them, or choose another operation")
			}
			continue
		}
		handled++
		if e.Op == Append {
			appends++
		}
		if !isExportedIdent(e.Method) {
			add(ep+".method", "method %q of event %s is not an exported Go name", e.Method, e.Type).
				WithHint("use a name such as Create%s", names.Exported(p.Name))
		} else if j2, dup := methods[e.Method]; dup {
			add(ep+".method", "method %s is used by events %s and %s", e.Method, p.Events[j2].Type, e.Type).
				WithHint("give each event its own method")
		} else {
			methods[e.Method] = j
		}
		if len(e.Set) > 0 && e.Op == Delete {
			add(ep+".set", "event %s sets constant values but deletes its row", e.Type).
				WithHint("constant values go with insert, update, set or append")
		}
		if e.Op == Set && len(e.Set) == 0 {
			add(ep+".set", "event %s has operation set but no values", e.Type).
				WithHint("add set: {column: value}, such as set: {is_suspended: true}")
		}
		for col := range e.Set {
			if !isSQLName(col) {
				add(ep+".set", "set column %q is not a plain SQL name", col).
					WithHint("use lower-case letters, digits and underscores")
			}
		}
		for field, col := range e.Columns {
			if !isSQLName(col) {
				add(ep+".columns."+field, "column %q for field %s is not a plain SQL name", col, field).
					WithHint("use lower-case letters, digits and underscores")
			}
		}
	}
	if appends > 0 && appends != handled {
		add(ProjectionPath(i)+".events", "projection %q mixes append with other operations", p.Name).
			WithHint("an append-only table gets one row per event: make every handled event append, or split the projection")
	}
	if appends > 0 && p.Key.From != KeyPosition {
		add(ProjectionPath(i)+".key.from", "projection %q appends rows, so its rows are keyed by position", p.Name).
			WithHint("set key: {column: position, from: position}")
	}
	if appends == 0 && handled > 0 && p.Key.From == KeyPosition {
		add(ProjectionPath(i)+".key.from", "projection %q is keyed by position but appends nothing", p.Name).
			WithHint("use op: append for its events, or key rows by aggregate or field")
	}
}

// validDir reports whether dir is a clean, relative, slash-separated path
// inside the module ("." is the module root).
func validDir(dir string) bool {
	if dir == "" || strings.Contains(dir, `\`) || path.IsAbs(dir) || path.Clean(dir) != dir {
		return false
	}
	return dir != ".." && !strings.HasPrefix(dir, "../")
}

// isSnake reports whether s is a snake_case name starting with a letter.
func isSnake(s string) bool { return isSQLName(s) }

// isSQLName reports whether s is a plain SQL name: lower-case letters,
// digits and underscores, starting with a letter or underscore, at most 63
// bytes (PostgreSQL's limit). Letters may be non-ASCII; projgen quotes
// every identifier it writes.
func isSQLName(s string) bool {
	if s == "" || len(s) > 63 {
		return false
	}
	for i, r := range s {
		switch {
		case r == '_', unicode.IsLetter(r) && !unicode.IsUpper(r):
		case r >= '0' && r <= '9' && i > 0:
		default:
			return false
		}
	}
	return true
}

func isExportedIdent(s string) bool {
	return token.IsIdentifier(s) && token.IsExported(s)
}
