package model

import (
	"cmp"
	"fmt"
	"path"
	"path/filepath"
	"slices"
	"strings"

	"github.com/projgen/projgen/generator/config"
	"github.com/projgen/projgen/generator/diag"
	"github.com/projgen/projgen/generator/load"
	"github.com/projgen/projgen/generator/names"
)

// Choices are what `projgen new` was told, by flags or by the wizard.
// Empty values take defaults. Event names are type names, qualified by
// package name ("endpoint.Created") when several aggregates are projected.
type Choices struct {
	// Name is the projection's name.
	Name string
	// Pattern is simple, denormalized, filtered or cross-aggregate.
	Pattern string
	// Table is the table name.
	Table string
	// Out is the package directory, relative to the module root.
	Out string
	// KeyField keys the rows by an event field (denormalized).
	KeyField string
	// KeyColumn names the key column.
	KeyColumn string
	// KeyScope is aggregate or global, for KeyField; empty picks by the
	// field's type.
	KeyScope string
	// KeyType is the SQL type of aggregate IDs, uuid, text or bigint;
	// empty picks by the aggregate's ID type.
	KeyType string
	// Topics is the topic template of the projection's events; empty
	// picks the way the aggregate's event-sourcing library stores them,
	// or else the module's template.
	Topics string
	// Events are the events to project; empty means the discovered ones.
	Events []string
	// Ops, Methods and When are per event.
	Ops, Methods, When map[string]string
	// Set gives constant column values per event.
	Set map[string]map[string]any
	// Fields limits the projected fields per event.
	Fields map[string][]string
	// Columns renames the columns of fields per event: field → column.
	Columns map[string]map[string]string
}

// NewProjection computes the projection `projgen new` adds: the given
// choices, with every other setting at its default, so that the result can
// be recorded in projgen.yaml and regenerated exactly.
func NewProjection(mod *load.Module, cfg *config.Config, pkgs []*load.Package, ch Choices) (config.Projection, error) {
	p, _, err := NewProjectionExplained(mod, cfg, pkgs, ch)
	return p, err
}

// Ignored is an event a new projection ignores, and why: what projgen new
// shows, so that no event is left out unseen.
type Ignored struct {
	// Event is how choices name it: Type, or pkg.Type.
	Event string
	// Reason says why it is ignored.
	Reason string
	// Project says how to project it instead: a flag or a command.
	Project string
}

// NewProjectionExplained is NewProjection, with the events the projection
// ignores and why, in the projection's order.
func NewProjectionExplained(mod *load.Module, cfg *config.Config, pkgs []*load.Package, ch Choices) (config.Projection, []Ignored, error) {
	d := &defaulter{mod: mod, cfg: cfg, pkgs: pkgs, ch: ch, reasons: map[string]Ignored{}}
	p, err := d.projection()
	if err != nil {
		return p, nil, err
	}
	var ignored []Ignored
	for _, e := range p.Events {
		if e.Op != config.Ignore {
			continue
		}
		key := e.Type
		if e.Aggregate != "" {
			key = path.Base(e.Aggregate) + "." + e.Type
		}
		why, ok := d.reasons[key]
		if !ok {
			why = Ignored{Reason: "the projection does not list it", Project: "--events with it among them"}
		}
		why.Event = key
		ignored = append(ignored, why)
	}
	return p, ignored, nil
}

type defaulter struct {
	mod  *load.Module
	cfg  *config.Config
	pkgs []*load.Package
	ch   Choices
	// reasons are why events are ignored, by how choices name them.
	reasons map[string]Ignored
}

// chosen is an event picked for the projection.
type chosen struct {
	pkg *load.Package
	ev  *load.Event
	key string // how the user names it: Type, or pkg.Type
}

func (d *defaulter) projection() (config.Projection, error) {
	ch := d.ch
	if len(d.pkgs) == 0 {
		return config.Projection{}, diag.Errorf("", "no aggregate given").WithHint("pass --aggregate NAME")
	}
	for _, pkg := range d.pkgs {
		if pkg.Name == "main" {
			return config.Projection{}, diag.Errorf("", "%s is a program (package main), not an aggregate package: the registry cannot import it", pkg.Path).
				WithHint("move the events into a package of their own and pass that one to --aggregate")
		}
	}
	pattern := ch.Pattern
	if pattern == "" {
		switch {
		case len(d.pkgs) > 1:
			pattern = config.CrossAggregate
		case ch.KeyField != "":
			pattern = config.Denormalized
		case len(ch.When) > 0:
			pattern = config.Filtered
		default:
			pattern = config.Simple
		}
	}
	if !slices.Contains(config.Patterns(), pattern) {
		return config.Projection{}, diag.Errorf("", "unknown pattern %q", pattern).
			WithHint("use one of %s", strings.Join(config.Patterns(), ", "))
	}
	if ch.KeyType != "" && (ch.KeyField != "" || len(d.pkgs) > 1) {
		return config.Projection{}, diag.Errorf("", "--key-type %s sets the type of rows keyed by aggregate ID, and these rows are keyed otherwise", ch.KeyType).
			WithHint("leave --key-type out: the aggregate_id column takes the aggregates' ID type")
	}
	if ch.KeyScope != "" && ch.KeyField == "" {
		return config.Projection{}, diag.Errorf("", "--key-scope %s applies to rows keyed by an event field, and no --key was given", ch.KeyScope).
			WithHint("pass --key FIELD with it, or leave --key-scope out")
	}
	if pattern == config.Denormalized && ch.KeyField == "" {
		return config.Projection{}, diag.Errorf("", "a denormalized projection is keyed by an event field, and none was given").
			WithHint("pass --key FIELD, such as --key RepositoryID")
	}
	if pattern != config.CrossAggregate && len(d.pkgs) > 1 {
		return config.Projection{}, diag.Errorf("", "pattern %s projects one aggregate, and %d were given", pattern, len(d.pkgs)).
			WithHint("use --pattern cross-aggregate, or pass one --aggregate")
	}
	events, err := d.events(pattern)
	if err != nil {
		return config.Projection{}, err
	}
	first := d.pkgs[0]
	p := config.Projection{Pattern: pattern}
	for _, pkg := range d.pkgs {
		p.Aggregates = append(p.Aggregates, pkg.Path)
	}
	p.Name = cmp.Or(ch.Name, d.defaultName(pattern))
	p.Table = cmp.Or(ch.Table, names.Plural(p.Name))
	if p.Topics = cmp.Or(ch.Topics, libraryTopics(first.Library)); p.Topics == d.cfg.Topics {
		p.Topics = ""
	}
	p.Dir = ch.Out
	if p.Dir == "" {
		if pattern == config.CrossAggregate {
			p.Dir = "projections/" + p.Name
		} else {
			p.Dir = d.relDir(first.Dir)
		}
	}
	switch {
	case pattern == config.CrossAggregate:
		p.Key = config.Key{Column: cmp.Or(ch.KeyColumn, EventPositionKey), From: config.KeyPosition}
	case ch.KeyField != "":
		p.Key = config.Key{Column: cmp.Or(ch.KeyColumn, sqlName(ch.KeyField)), From: config.KeyField, Field: ch.KeyField,
			Scope: cmp.Or(ch.KeyScope, keyScope(events, ch.KeyField))}
	default:
		p.Key = config.Key{Column: cmp.Or(ch.KeyColumn, AggregateIDColumn), From: config.KeyAggregate, Type: cmp.Or(ch.KeyType, KeyTypeOf(first.IDType))}
	}
	handled := map[string]bool{}
	for _, c := range events {
		handled[c.pkg.Path+"."+c.ev.Name] = true
	}
	methods := map[string]bool{}
	for _, c := range d.all(events) {
		e, err := d.event(p, pattern, c, handled[c.pkg.Path+"."+c.ev.Name], events, methods)
		if err != nil {
			return config.Projection{}, err
		}
		p.Events = append(p.Events, e)
	}
	appendOnly(&p, ch.KeyColumn)
	d.firstInserts(&p, events)
	return p, d.unused(events)
}

// appendOnly keys the rows by event position when every handled event
// appends: such a table has one row per event, whatever the pattern.
func appendOnly(p *config.Projection, keyColumn string) {
	handled := 0
	for _, e := range p.Events {
		switch e.Op {
		case config.Ignore:
		case config.Append:
			handled++
		default:
			return
		}
	}
	if handled > 0 {
		p.Key = config.Key{Column: cmp.Or(keyColumn, EventPositionKey), From: config.KeyPosition}
	}
}

// firstInserts makes an event insert the row when no event does by its
// name, in a table keyed by aggregate: OrderPlaced, InvoiceIssued and
// hallgren's Born start their aggregates as much as Created does, and a
// table that only updates would stay empty. The event is the first that
// carries the aggregate's ID (OrderID in an order), or else the first
// handled, which for registered events is the first registered. An
// operation the user chose is kept.
func (d *defaulter) firstInserts(p *config.Projection, events []chosen) {
	if p.Key.From != config.KeyAggregate {
		return
	}
	for _, e := range p.Events {
		if e.Op == config.Insert {
			return
		}
	}
	candidate := func(e *config.Event) bool {
		_, chosen := d.ch.Ops[e.Type]
		return !chosen && (e.Op == config.Update || e.Op == config.Set)
	}
	carries := map[string]bool{}
	for _, c := range events {
		carries[c.ev.Name] = d.carriesAggregateID(c)
	}
	for _, want := range []bool{true, false} {
		for i := range p.Events {
			if e := &p.Events[i]; candidate(e) && (!want || carries[e.Type]) {
				e.Op = config.Insert
				return
			}
		}
	}
}

// carriesAggregateID reports whether an event has a field that names its
// aggregate's ID: ID, AggregateID, or the aggregate's name with ID
// (OrderID in an order).
func (d *defaulter) carriesAggregateID(c chosen) bool {
	for _, f := range c.ev.Fields {
		name, ok := strings.CutSuffix(f.Name, "ID")
		if !ok {
			name, ok = strings.CutSuffix(f.Name, "Id")
		}
		if ok && (name == "" || name == "Aggregate" || d.isAggregateName(c.pkg, name)) {
			return true
		}
	}
	return false
}

// unused reports per-event choices that name no chosen event.
func (d *defaulter) unused(events []chosen) error {
	known := map[string]bool{}
	for _, c := range events {
		known[c.key] = true
	}
	for _, m := range []map[string]string{d.ch.Ops, d.ch.Methods, d.ch.When} {
		for k := range m {
			if !known[k] {
				return diag.Errorf("", "%s is not one of the projected events", k).
					WithHint("the projected events are %s", keys(events))
			}
		}
	}
	var others []string
	for k := range d.ch.Set {
		others = append(others, k)
	}
	for k := range d.ch.Fields {
		others = append(others, k)
	}
	for k := range d.ch.Columns {
		others = append(others, k)
	}
	slices.Sort(others)
	for _, k := range others {
		if !known[k] {
			return diag.Errorf("", "%s is not one of the projected events", k).WithHint("the projected events are %s", keys(events))
		}
	}
	return nil
}

func keys(events []chosen) string {
	var out []string
	for _, c := range events {
		out = append(out, c.key)
	}
	return strings.Join(out, ", ")
}

func (d *defaulter) relDir(dir string) string {
	rel, err := filepath.Rel(d.mod.Dir, dir)
	if err != nil {
		return "."
	}
	return filepath.ToSlash(rel)
}

// DefaultName is the name new gives a simple projection of pkg.
func DefaultName(pkg *load.Package) string { return sqlName(pkg.Name) }

func (d *defaulter) defaultName(pattern string) string {
	switch pattern {
	case config.Denormalized:
		n := strings.TrimSuffix(sqlName(d.ch.KeyField), "_id")
		return cmp.Or(n, "child")
	case config.CrossAggregate:
		return "activity"
	}
	return DefaultName(d.pkgs[0])
}

// eventKey is how choices name an event of the projection's aggregates.
func (d *defaulter) eventKey(pkg *load.Package, ev *load.Event) string {
	return EventName(d.pkgs, pkg, ev)
}

// EventName is how Choices name an event of pkg, one of the aggregates a
// projection reads: its type name, or pkg.Type when there are several, so
// that two aggregates' Created stay apart. The per-event flags of projgen
// new and their completion take these names.
func EventName(aggregates []*load.Package, pkg *load.Package, ev *load.Event) string {
	if len(aggregates) > 1 {
		return pkg.Name + "." + ev.Name
	}
	return ev.Name
}

// events returns the chosen events: the explicit list, or the discovered
// events (for a denormalized projection, those that carry the key field).
func (d *defaulter) events(pattern string) ([]chosen, error) {
	if len(d.ch.Events) > 0 {
		var out []chosen
		seen := map[*load.Event]string{}
		for _, name := range d.ch.Events {
			c, err := d.lookup(name)
			if err != nil {
				return nil, err
			}
			// An alias is its type: listing both names lists one event.
			if first, dup := seen[c.ev]; dup {
				return nil, diag.Errorf("", "--events lists %s twice: %s and %s are one type", c.ev.Name, first, name).
					WithHint("list it once, as %s", c.ev.Name)
			}
			seen[c.ev] = name
			out = append(out, c)
		}
		return out, nil
	}
	var out []chosen
	keyed := 0
	for _, pkg := range d.pkgs {
		if len(pkg.Discovered) == 0 {
			return nil, d.nothingFound(pkg)
		}
		for _, ev := range pkg.Discovered {
			if pattern == config.Denormalized && hasField(ev, d.ch.KeyField) {
				keyed++
			}
			// A child row goes with its parent: the aggregate's own
			// deletion deletes every row of the aggregate.
			if pattern == config.Denormalized && !hasField(ev, d.ch.KeyField) && !d.deletesAggregate(pkg, ev) {
				continue
			}
			out = append(out, chosen{pkg: pkg, ev: ev, key: d.eventKey(pkg, ev)})
		}
	}
	if len(out) == 0 || pattern == config.Denormalized && keyed == 0 {
		return nil, diag.Errorf("", "no event of %s carries the key field %s", d.pkgs[0].Path, d.ch.KeyField).
			WithHint("pass --key with a field the child events carry, or list them with --events")
	}
	return out, nil
}

// deletesAggregate reports whether ev deletes the package's aggregate
// itself: Deleted, Removed, InstallationDeleted.
func (d *defaulter) deletesAggregate(pkg *load.Package, ev *load.Event) bool {
	words := names.Words(ev.Name)
	if len(words) == 0 {
		return false
	}
	switch strings.ToLower(words[len(words)-1]) {
	case "deleted", "removed":
	default:
		return false
	}
	return len(words) == 1 || d.isAggregateName(pkg, strings.Join(words[:len(words)-1], ""))
}

// keyScope is the scope of a key field: global when its type is a UUID,
// which is unique wherever it is made, and aggregate otherwise, since an
// ID such as a line number is often unique only within its aggregate,
// and two aggregates' rows would overwrite each other.
func keyScope(events []chosen, field string) string {
	for _, c := range events {
		for _, f := range c.ev.Fields {
			if f.Name != field {
				continue
			}
			if ct, err := MapType(f.Type); err == nil && ct.SQL == "uuid" {
				return config.ScopeGlobal
			}
			return config.ScopeAggregate
		}
	}
	return config.ScopeAggregate
}

func hasField(ev *load.Event, name string) bool {
	for _, f := range ev.Fields {
		if f.Name == name {
			return true
		}
	}
	return false
}

// all returns every discovered event of the aggregates, with the chosen
// ones first in their order; the others are recorded as ignored, so that
// projgen check can tell new events from ones left out on purpose.
func (d *defaulter) all(events []chosen) []chosen {
	out := slices.Clone(events)
	seen := map[string]bool{}
	for _, c := range events {
		seen[c.pkg.Path+"."+c.ev.Name] = true
	}
	for _, pkg := range d.pkgs {
		for _, ev := range pkg.Discovered {
			if !seen[pkg.Path+"."+ev.Name] {
				out = append(out, chosen{pkg: pkg, ev: ev, key: d.eventKey(pkg, ev)})
			}
		}
	}
	return out
}

func (d *defaulter) lookup(name string) (chosen, error) {
	pkgName, typeName, qualified := strings.Cut(name, ".")
	if !qualified {
		typeName = pkgName
	}
	var found []chosen
	var errs []error
	for _, pkg := range d.pkgs {
		if qualified && pkg.Name != pkgName && !strings.HasSuffix(pkg.Path, "/"+pkgName) {
			continue
		}
		ev, err := pkg.Event(typeName)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		found = append(found, chosen{pkg: pkg, ev: ev, key: d.eventKey(pkg, ev)})
	}
	switch len(found) {
	case 1:
		return found[0], nil
	case 0:
		if len(errs) == 1 {
			return chosen{}, errs[0]
		}
		return chosen{}, diag.Errorf("", "no aggregate has an event %s", name).
			WithHint("qualify it with its package name, such as endpoint.Created")
	}
	var qs []string
	for _, f := range found {
		qs = append(qs, f.pkg.Name+"."+f.ev.Name)
	}
	return chosen{}, diag.Errorf("", "event %s is ambiguous", name).WithHint("qualify it: %s", strings.Join(qs, " or "))
}

// nothingFound reports a package in which discovery found no events.
func (d *defaulter) nothingFound(pkg *load.Package) error {
	e := diag.Errorf("", "found no events in %s", pkg.Path)
	cands := pkg.Candidates()
	if len(cands) == 0 {
		return e.WithHint("it declares no exported types; events are Go types, usually structs")
	}
	return e.WithHint("projgen looks for, in order: --events, //projgen:event markers, types passed to a Register call, "+
		"types with an EventType() or GetType() method, and structs in events.go.\n"+
		"Its types that could be events: %s.\nPass --events %s, or mark them with %s.",
		strings.Join(cands, ", "), strings.Join(cands[:min(len(cands), 3)], ","), load.Marker)
}

// event computes one event's settings.
func (d *defaulter) event(p config.Projection, pattern string, c chosen, handled bool, events []chosen, methods map[string]bool) (config.Event, error) {
	e := config.Event{Type: c.ev.Name}
	if len(d.pkgs) > 1 {
		e.Aggregate = c.pkg.Path
	}
	if !handled {
		e.Op = config.Ignore
		if pattern == config.Denormalized && len(d.ch.Events) == 0 {
			d.reasons[c.key] = Ignored{Reason: fmt.Sprintf("it does not carry the key field %s", d.ch.KeyField),
				Project: "a projection of its own: projgen new --aggregate " + c.pkg.Name}
		}
		return e, nil
	}
	op, fields := d.defaultOp(pattern, c, events)
	// An event the user lists is projected: the child-entity rule only
	// sorts the events projgen found on its own.
	if op == config.Ignore && len(d.ch.Events) > 0 {
		delete(d.reasons, c.key)
		op, fields = d.listedOp(c), nil
	}
	if chosenOp, ok := d.ch.Ops[c.key]; ok {
		op, fields = chosenOp, nil
		if op == config.Ignore {
			d.reasons[c.key] = Ignored{Reason: "--op " + c.key + "=ignore", Project: "--op " + c.key + "=update, or insert"}
		}
	}
	e.Op = op
	if !slices.Contains(config.Operations(), e.Op) {
		return e, diag.Errorf("", "unknown operation %q for %s", e.Op, c.key).
			WithHint("use one of %s", strings.Join(config.Operations(), ", "))
	}
	if e.Op == config.Ignore {
		return e, nil
	}
	topic, err := d.topic(p, c)
	if err != nil {
		return e, err
	}
	e.Topic = topic
	e.When = d.ch.When[c.key]
	e.Fields = d.ch.Fields[c.key]
	if e.Fields == nil {
		e.Fields = fields
	}
	e.Columns = d.ch.Columns[c.key]
	if e.Columns == nil {
		e.Columns = d.payloadColumn(c)
	}
	e.Columns = bookkeepingRenames(p, c.ev, e.Fields, e.Columns)
	e.Set = d.ch.Set[c.key]
	if e.Set == nil {
		e.Set = d.defaultSet(pattern, e.Op, c, events)
	}
	if e.Op == config.Set && len(e.Set) == 0 {
		e.Set = map[string]any{"is_" + sqlName(d.eventStem(c.pkg, c.ev.Name)): true}
	}
	e.Method = d.ch.Methods[c.key]
	if e.Method == "" {
		e.Method = d.defaultMethod(e.Op, c, methods)
	}
	methods[e.Method] = true
	return e, nil
}

// topic is the topic projgen.yaml records for an event: the one its
// source gives it. Other events take theirs from the topic template when
// the projection is generated, so that editing the template takes effect;
// the template is tried here so that one that fails is reported now.
func (d *defaulter) topic(p config.Projection, c chosen) (string, error) {
	if c.ev.Topic != "" {
		return c.ev.Topic, nil
	}
	tmpl := topicTemplate(d.cfg, &p)
	if _, err := templateTopic(tmpl, c.pkg, c.ev); err != nil {
		return "", diag.Errorf(d.cfg.Pos("$.topics"), "topics template %q (--topics or projgen.yaml's topics): %v", tmpl, err).
			WithHint("use {{.ImportPath}}, {{.Package}} and {{.Type}}, such as {{.Type}} or %s", config.DefaultTopics)
	}
	return "", nil
}

// defaultOp follows the event's name: Created, Added, Registered,
// Started, Opened, Placed and Initiated insert; Deleted and Removed delete; others update, or, when they carry
// no fields, set a flag. A cross-aggregate projection appends.
//
// In a projection keyed by aggregate ID, an event that adds or removes
// something other than the aggregate (RepositoryAdded in an installation)
// concerns a child entity: upserting or deleting the aggregate's row would
// be wrong, so it is ignored, and belongs in a denormalized projection.
//
// A child-entity event that also carries fields of the aggregate itself
// (LineAdded with the invoice's new TotalCents) updates those fields
// instead: the fields returned are the ones to project, nil for all.
func (d *defaulter) defaultOp(pattern string, c chosen, events []chosen) (string, []string) {
	if pattern == config.CrossAggregate {
		return config.Append, nil
	}
	op, before := verbOp(c.ev.Name)
	if op == "" {
		return plainOp(c.ev), nil
	}
	if pattern != config.Denormalized && len(before) > 0 && d.namesChild(c, before) {
		if shared := d.aggregateFields(c, events); len(shared) > 0 {
			return config.Update, shared
		}
		child := strings.Join(before, "")
		d.reasons[c.key] = Ignored{
			Reason:  fmt.Sprintf("it changes %s, a child entity or value, not the %s's row", withArticle(names.Snake(child)), strings.ToLower(cmp.Or(c.pkg.Aggregate, c.pkg.Name))),
			Project: d.childCommand(c),
		}
		return config.Ignore, nil
	}
	return op, nil
}

// bookkeepingRenames names the column of each projected field whose
// column would be one of the table's bookkeeping columns (a CreatedAt
// field and created_at) event_<column>, in projgen.yaml's columns, so
// that the choice is recorded rather than made silently. Columns the user
// named stay; the key field keeps the key column.
func bookkeepingRenames(p config.Projection, ev *load.Event, fields []string, cols map[string]string) map[string]string {
	taken := map[string]bool{p.Key.Column: true, AggregateIDColumn: true, VersionColumnName: true,
		PositionColumnName: true, CreatedAtColumn: true, UpdatedAtColumn: true}
	for _, f := range ev.Fields {
		if f.Name == p.Key.Field || (len(fields) > 0 && !slices.Contains(fields, f.Name)) {
			continue
		}
		if _, named := cols[f.Name]; named {
			continue
		}
		if col := identifier(sqlName(cmp.Or(f.JSON, f.Name))); taken[col] {
			if cols == nil {
				cols = map[string]string{}
			}
			cols[f.Name] = identifier("event_" + col)
		}
	}
	return cols
}

// withArticle puts "a" or "an" before a word, by how its first letter
// sounds: an int64, a uint8, a []string.
func withArticle(word string) string {
	if word != "" && strings.ContainsRune("aeioAEIO", rune(word[0])) {
		return "an " + word
	}
	return "a " + word
}

// verbOp returns the operation the last creating or deleting verb of an
// event's name implies, insert for a creating verb (Created, Opened...), delete
// for Deleted and Removed, with the words of the name before that verb;
// "" when the name has none.
func verbOp(name string) (op string, before []string) {
	words := names.EventWords(name)
	for i := len(words) - 1; i >= 0; i-- {
		switch strings.ToLower(words[i]) {
		case "created", "added", "registered", "started", "opened", "placed", "initiated":
			return config.Insert, words[:i]
		case "deleted", "removed":
			return config.Delete, words[:i]
		}
	}
	return "", nil
}

// plainOp is the operation of an event whose name implies none: set a
// flag for one without fields, update otherwise.
func plainOp(ev *load.Event) string {
	if len(ev.Fields) == 0 && ev.IsStruct() {
		return config.Set
	}
	return config.Update
}

// listedOp is the operation of an event the user listed that the rules
// for found events would ignore: what its name says, or an update.
func (d *defaulter) listedOp(c chosen) string {
	op, _ := verbOp(c.ev.Name)
	return cmp.Or(op, plainOp(c.ev))
}

// childCommand is the command that projects a child-entity event into a
// table of its own, keyed by its first ID field.
func (d *defaulter) childCommand(c chosen) string {
	for _, f := range c.ev.Fields {
		if strings.HasSuffix(f.Name, "ID") {
			return fmt.Sprintf("projgen new --aggregate %s --key %s --name %s", c.pkg.Name, f.Name, strings.TrimSuffix(sqlName(f.Name), "_id"))
		}
	}
	return "projgen new --aggregate " + c.pkg.Name + " --key FIELD"
}

// aggregateFields returns the fields of c's event that an event of the
// aggregate itself, one that is not about a child entity, also carries:
// state of the aggregate that the child-entity event changes.
func (d *defaulter) aggregateFields(c chosen, events []chosen) []string {
	own := map[string]bool{}
	for _, o := range events {
		if o.pkg != c.pkg || o.ev == c.ev || d.aboutChild(o) {
			continue
		}
		for _, f := range o.ev.Fields {
			own[f.Name] = true
		}
	}
	var shared []string
	for _, f := range c.ev.Fields {
		if own[f.Name] {
			shared = append(shared, f.Name)
		}
	}
	return shared
}

// aboutChild reports whether an event's name says it adds or removes
// something other than the aggregate: RepositoryAdded in an installation.
func (d *defaulter) aboutChild(c chosen) bool {
	op, before := verbOp(c.ev.Name)
	return op != "" && len(before) > 0 && d.namesChild(c, before)
}

// namesChild reports whether prefix, the words of an event's name before
// its verb, names a child entity: it is not the aggregate's name, and the
// event carries the child's ID (RepositoryAdded carries RepositoryID), or
// the aggregate holds a collection of that name (ItemAdded in an order
// with Items).
// Words such as Was (WasCreated) or the aggregate's own name
// (OrderCreatedEvent) name no child, and neither does a prefix the event
// carries no ID of, so such an event creates or deletes the aggregate.
func (d *defaulter) namesChild(c chosen, prefix []string) bool {
	name := strings.Join(prefix, "")
	if d.isAggregateName(c.pkg, name) {
		return false
	}
	for _, coll := range c.pkg.Collections {
		if strings.EqualFold(coll, name) || strings.EqualFold(coll, names.Exported(names.Plural(names.Snake(name)))) {
			return true
		}
	}
	for _, f := range c.ev.Fields {
		if strings.EqualFold(f.Name, name+"ID") || strings.EqualFold(f.Name, name+"Id") {
			return true
		}
	}
	return false
}

// payloadColumn names the column of a non-struct event's payload after
// what it changes, when an event of the aggregate already has that
// column: Renamed writes name, PriceChanged price. Otherwise the column
// takes the event's name, and nil is returned.
func (d *defaulter) payloadColumn(c chosen) map[string]string {
	if c.ev.IsStruct() {
		return nil
	}
	var target string
	switch words := names.Words(c.ev.Name); {
	case len(words) > 0 && strings.EqualFold(words[len(words)-1], "renamed"):
		target = "name"
	case len(words) > 1 && slices.Contains([]string{"changed", "updated", "set"}, strings.ToLower(words[len(words)-1])):
		target = sqlName(strings.Join(words[:len(words)-1], ""))
	default:
		return nil
	}
	for _, ev := range c.pkg.Discovered {
		for _, f := range ev.Fields {
			if sqlName(cmp.Or(f.JSON, f.Name)) == target {
				return map[string]string{c.ev.Name: target}
			}
		}
	}
	return nil
}

// isAggregateName reports whether name names the package's aggregate.
func (d *defaulter) isAggregateName(pkg *load.Package, name string) bool {
	name = strings.ToLower(name)
	return name == strings.ToLower(pkg.Aggregate) || name == strings.ToLower(strings.ReplaceAll(pkg.Name, "_", ""))
}

// negations pair events that undo each other, so that the second sets the
// first's flag back to false: Suspended and Unsuspended.
var negations = []struct{ prefix, positive, negative string }{
	{prefix: "Un"}, {prefix: "De"}, {prefix: "Dis"},
	{positive: "Enabled", negative: "Disabled"},
}

// defaultSet gives a fieldless set event a boolean flag: Suspended sets
// is_suspended to true, and Unsuspended sets it back to false. A
// cross-aggregate event records what happened in activity_type.
func (d *defaulter) defaultSet(pattern, op string, c chosen, events []chosen) map[string]any {
	if pattern == config.CrossAggregate {
		return map[string]any{"activity_type": sqlName(c.pkg.Name) + "_" + sqlName(c.ev.Name)}
	}
	if op != config.Set {
		return nil
	}
	name := c.ev.Name
	for _, n := range negations {
		for _, other := range events {
			if other.pkg != c.pkg {
				continue
			}
			o := other.ev.Name
			switch {
			case n.prefix != "" && strings.EqualFold(name, n.prefix+o):
				return map[string]any{d.flagColumn(c.pkg, o): false}
			case n.positive != "" && strings.HasSuffix(name, n.negative) &&
				o == strings.TrimSuffix(name, n.negative)+n.positive:
				return map[string]any{d.flagColumn(c.pkg, o): false}
			}
		}
	}
	return map[string]any{d.flagColumn(c.pkg, name): true}
}

// flagColumn is the boolean column an event named event sets: a column
// that an event of the aggregate already fills from a bool field of the
// same stem (Activated sets the is_active that Created's IsActive
// fills), so that one fact has one column, or else is_<event>.
func (d *defaulter) flagColumn(pkg *load.Package, event string) string {
	stem := sqlName(d.eventStem(pkg, event))
	for _, ev := range pkg.Discovered {
		for _, f := range ev.Fields {
			if f.Type == nil || f.Type.Kind != load.Bool || f.Type.Name != nil {
				continue
			}
			col := sqlName(cmp.Or(f.JSON, f.Name))
			root := strings.TrimSuffix(strings.TrimPrefix(col, "is_"), "e")
			if len(root) >= 4 && strings.HasPrefix(stem, root) && strings.HasPrefix(col, "is_") {
				return col
			}
		}
	}
	return "is_" + stem
}

// eventStem is what an event's name says happened, for flag columns: the
// name without a library's type suffix (BookingConfirmedEvent) and without
// the aggregate's name in front (BookingConfirmed in a booking), so that
// the flag is is_confirmed.
func (d *defaulter) eventStem(pkg *load.Package, event string) string {
	words := names.EventWords(event)
	for len(words) > 1 && d.isAggregateName(pkg, words[0]) {
		words = words[1:]
	}
	return strings.Join(words, "")
}

// defaultMethod names the method after the event (Suspended →
// SuspendInstallation, RepositoryAdded → AddRepository); appends are
// Record<Aggregate><Event>. A name already taken gets the aggregate's name.
func (d *defaulter) defaultMethod(op string, c chosen, taken map[string]bool) string {
	object := names.Exported(cmp.Or(c.pkg.Aggregate, c.pkg.Name))
	var m string
	if op == config.Append {
		ev := c.ev.Name
		if strings.HasPrefix(ev, object) {
			ev = strings.TrimPrefix(ev, object)
		}
		m = "Record" + object + ev
	} else {
		m = names.MethodName(c.ev.Name, object)
	}
	if taken[m] {
		m += object
	}
	for n := 2; taken[m]; n++ {
		m = fmt.Sprintf("%s%d", strings.TrimRight(m, "0123456789"), n)
	}
	return m
}
