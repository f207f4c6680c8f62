package cmd

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/AlecAivazis/survey/v2"
	"github.com/AlecAivazis/survey/v2/core"
	"github.com/AlecAivazis/survey/v2/terminal"
	"github.com/goccy/go-yaml"
	"github.com/spf13/cobra"

	"github.com/projgen/projgen/generator"
	"github.com/projgen/projgen/generator/cache"
	"github.com/projgen/projgen/generator/config"
	"github.com/projgen/projgen/generator/load"
	"github.com/projgen/projgen/generator/model"
	"github.com/projgen/projgen/generator/write"
)

// ExitInterrupted is the exit status when the wizard is interrupted with
// Ctrl-C, as a shell reports a process ended by SIGINT. Nothing is written.
const ExitInterrupted = 130

// wizard asks projgen new's questions in a terminal. Its answers become
// the same model.Choices the flags give, so the two paths write the same
// bytes.
type wizard struct {
	opts []survey.AskOpt
}

func newWizard(stdio IO) (*wizard, error) {
	in, okIn := stdio.In.(terminal.FileReader)
	out, okOut := stdio.Out.(terminal.FileWriter)
	if !okIn || !okOut {
		return nil, errors.New("the wizard needs a terminal")
	}
	return &wizard{opts: []survey.AskOpt{survey.WithStdio(in, out, stdio.Err)}}, nil
}

// ask asks one question; Ctrl-C stops the wizard with nothing written.
func (w *wizard) ask(p survey.Prompt, answer any, opts ...survey.AskOpt) error {
	err := survey.AskOne(p, answer, append(slices.Clone(w.opts), opts...)...)
	if errors.Is(err, terminal.InterruptErr) {
		return &exitError{code: ExitInterrupted, msg: "interrupted; nothing was written"}
	}
	return err
}

// session is one run of the wizard: what it loaded, and the choices the
// answers so far make.
type session struct {
	*wizard
	ctx        context.Context
	mod        *load.Module
	cfg        *config.Config
	f          newFlags
	cache      *cache.Cache
	offered    []*load.Package
	pkgs       map[string]*load.Package
	aggregates []*load.Package
	ch         model.Choices
}

// draft is what projgen new would write for a set of choices: what the
// flag path computes before it writes.
type draft struct {
	proj    config.Projection
	ignored []model.Ignored
	rerun   bool
	res     *generator.Result
	plan    *write.Plan
}

// preview runs the flag path's steps for ch on a copy of projgen.yaml, up
// to the files it would write. Every answer is checked with it, so that a
// bad answer is refused with the flag path's message when it is given.
func (s *session) preview(ch model.Choices) (*draft, error) {
	cfg := *s.cfg
	cfg.Projections = slices.Clone(s.cfg.Projections)
	proj, ignored, err := model.NewProjectionExplained(s.mod, &cfg, s.aggregates, ch)
	if err != nil {
		return nil, err
	}
	if err := settleModule(&cfg, s.mod, s.aggregates, ""); err != nil {
		return nil, err
	}
	rerun, err := addProjection(&cfg, proj)
	if err != nil {
		return nil, err
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	res, err := generator.Generate(s.ctx, generator.Request{Module: s.mod, Config: &cfg, Packages: s.pkgs,
		Options: generator.Options{AllowDestructive: s.f.allowDestructive, Force: s.f.write.force, WithConfig: true, Only: proj.Name, Cache: s.cache}})
	if err != nil {
		return nil, err
	}
	if err := res.Plan.Err(); err != nil {
		return nil, err
	}
	return &draft{proj: proj, ignored: ignored, rerun: rerun, res: res, plan: res.Plan}, nil
}

// check is a survey validator: the answer, applied to a copy of the
// choices by apply, must give a projection the flag path accepts.
func (s *session) check(apply func(ch *model.Choices, answer string)) survey.AskOpt {
	return survey.WithValidator(func(answer any) error {
		ch := cloneChoices(s.ch)
		apply(&ch, answerString(answer))
		_, err := s.preview(ch)
		return err
	})
}

// checkList is check for a multiple choice.
func (s *session) checkList(apply func(ch *model.Choices, answer []string)) survey.AskOpt {
	return survey.WithValidator(func(answer any) error {
		ch := cloneChoices(s.ch)
		apply(&ch, answerList(answer))
		_, err := s.preview(ch)
		return err
	})
}

// input asks a question with a text answer, checked by apply and then
// applied to the session's choices.
func (s *session) input(p *survey.Input, apply func(ch *model.Choices, answer string)) (string, error) {
	var answer string
	if err := s.ask(p, &answer, survey.WithValidator(survey.Required), s.check(apply)); err != nil {
		return "", err
	}
	apply(&s.ch, answer)
	return answer, nil
}

// multiSelect asks a multiple choice of at least one option, checked by
// apply and then applied to the session's choices.
func (s *session) multiSelect(p *survey.MultiSelect, apply func(ch *model.Choices, answer []string)) ([]string, error) {
	var answer []string
	if err := s.ask(p, &answer, survey.WithValidator(survey.MinItems(1)), s.checkList(apply)); err != nil {
		return nil, err
	}
	apply(&s.ch, answer)
	return answer, nil
}

// answerString is a validator's answer as text: an Input's string, or a
// Select's option.
func answerString(answer any) string {
	switch a := answer.(type) {
	case core.OptionAnswer:
		return a.Value
	case string:
		return a
	}
	return fmt.Sprint(answer)
}

// answerList is a MultiSelect validator's answer as its options' values.
func answerList(answer any) []string {
	opts, _ := answer.([]core.OptionAnswer)
	out := make([]string, len(opts))
	for i, o := range opts {
		out[i] = o.Value
	}
	return out
}

// runWizard is projgen new without --aggregate, in a terminal.
func runWizard(c *cobra.Command, build Build, stdio IO, dir string, f newFlags) error {
	w, err := newWizard(stdio)
	if err != nil {
		return err
	}
	ctx := c.Context()
	mod, err := load.ReadModule(dir)
	if err != nil {
		return err
	}
	cfg, err := newConfig(mod, f)
	if err != nil {
		return err
	}
	listed, err := load.List(ctx, mod.Dir)
	if err != nil {
		return err
	}
	offered, err := load.FindAggregates(ctx, mod.Dir, listed)
	if err != nil {
		return err
	}
	if len(offered) == 0 {
		return &usageError{cmd: "new", err: errors.New("no package of the module has events that projgen finds: " +
			"write the aggregate's events first (structs in events.go, or types marked " + load.Marker + "), and make its package compile")}
	}
	s := &session{wizard: w, ctx: ctx, mod: mod, cfg: cfg, f: f, cache: build.Cache, offered: offered}
	aggregate, err := s.chooseAggregate()
	if err != nil {
		return err
	}
	start := time.Now()
	if err := s.load(aggregate); err != nil {
		return err
	}
	if done, err := s.existing(build, stdio, dir, start); done || err != nil {
		return err
	}
	if err := s.askPattern(); err != nil {
		return err
	}
	if err := s.askEvents(); err != nil {
		return err
	}
	if err := s.askOperations(); err != nil {
		return err
	}
	if err := s.askNames(); err != nil {
		return err
	}
	if err := s.askCustomize(); err != nil {
		return err
	}
	return s.confirm(build, stdio, dir, start)
}

// chooseAggregate asks for the aggregate, among the packages that are
// aggregates.
func (s *session) chooseAggregate() (string, error) {
	var paths []string
	for _, p := range s.offered {
		paths = append(paths, p.Path)
	}
	var aggregate string
	err := s.ask(&survey.Select{
		Message: "Aggregate:",
		Options: paths,
		Help: "The package whose events the projection reads, as --aggregate names it. Type to filter. " +
			"Only packages whose events projgen finds are listed: by //projgen:event markers, Register calls, " +
			"EventType()/GetType() methods, or the structs of events.go.",
	}, &aggregate)
	return aggregate, err
}

// load loads the aggregates as the flag path does, with those of
// projgen.yaml, which the generated registry lists too.
func (s *session) load(paths ...string) error {
	pkgs, err := generator.Load(s.ctx, s.mod, generator.Aggregates(s.cfg, paths...))
	if err != nil {
		return err
	}
	s.pkgs = pkgs
	s.aggregates = nil
	for _, p := range paths {
		s.aggregates = append(s.aggregates, pkgs[p])
	}
	return nil
}

// existing offers, for an aggregate that has a projection already,
// another projection of it or a re-run. done is set when it re-ran one.
func (s *session) existing(build Build, stdio IO, dir string, start time.Time) (done bool, err error) {
	pkg := s.aggregates[0]
	var names []string
	for _, p := range s.cfg.Projections {
		if slices.Contains(p.Aggregates, pkg.Path) {
			names = append(names, p.Name)
		}
	}
	if len(names) == 0 {
		return false, nil
	}
	const another = "Add another projection of it"
	options := []string{another}
	for _, name := range names {
		options = append(options, "Re-run projection "+name)
	}
	var choice string
	if err := s.ask(&survey.Select{
		Message: fmt.Sprintf("%s already has %s. What now?", pkg.Name, plural(len(names), "projection")),
		Options: options,
		Help: "Another projection gets a name of its own. A re-run regenerates the projection as projgen.yaml records it, " +
			"as projgen generate does; nothing is overwritten silently.",
	}, &choice); err != nil {
		return false, err
	}
	name, ok := strings.CutPrefix(choice, "Re-run projection ")
	if !ok {
		s.ch.Name = uniqueName(s.cfg, model.DefaultName(pkg))
		return false, nil
	}
	res, err := generator.Generate(s.ctx, generator.Request{Module: s.mod, Config: s.cfg, Packages: s.pkgs,
		Options: generator.Options{Force: s.f.write.force, WithConfig: true, Cache: s.cache}})
	if err != nil {
		return true, err
	}
	fmt.Fprintf(stdio.Out, "Equivalent command: projgen generate%s\n", dirFlag(dir))
	return true, writeAndVerify(s.ctx, output{build: build, stdio: stdio, header: "projgen: projection " + name + " regenerated", start: start}, res, s.f.write)
}

// askPattern asks for the pattern first, since it decides which events a
// projection takes by default, then what the pattern needs: the key field
// of a denormalized table, the other aggregates of a cross-aggregate one.
func (s *session) askPattern() error {
	var pattern string
	if err := s.ask(&survey.Select{
		Message: "Pattern:",
		Options: config.Patterns(),
		Default: config.Simple,
		Help: "simple: one table keyed by aggregate ID. denormalized: a child table keyed by an event field " +
			"(repositories of an installation). filtered: events projected only when a condition holds. " +
			"cross-aggregate: events of several aggregates in one append-only table of its own package.",
	}, &pattern); err != nil {
		return err
	}
	s.ch.Pattern = pattern
	switch pattern {
	case config.Denormalized:
		return s.askKeyField()
	case config.CrossAggregate:
		return s.askOtherAggregates()
	}
	return nil
}

// askKeyField asks which event field keys the rows of a denormalized
// table, among the fields of the aggregate's events.
func (s *session) askKeyField() error {
	var fields []string
	for _, ev := range s.aggregates[0].Discovered {
		for _, f := range ev.Fields {
			if !slices.Contains(fields, f.Name) {
				fields = append(fields, f.Name)
			}
		}
	}
	if len(fields) == 0 {
		return &usageError{cmd: "new", err: errors.New("the aggregate's events have no fields to key a denormalized table by")}
	}
	var field string
	if err := s.ask(&survey.Select{
		Message: "Key field:",
		Options: fields,
		Help: "The event field that identifies a row of the child table, such as RepositoryID (--key). " +
			"The events that carry it are projected, and the aggregate's deletion deletes its rows.",
	}, &field, s.check(func(ch *model.Choices, v string) { ch.KeyField = v })); err != nil {
		return err
	}
	s.ch.KeyField = field
	return nil
}

// askOtherAggregates asks for the other aggregates of a cross-aggregate
// projection, and loads them with the first.
func (s *session) askOtherAggregates() error {
	first := s.aggregates[0]
	var options []string
	for _, p := range s.offered {
		if p.Path != first.Path {
			options = append(options, p.Path)
		}
	}
	var others []string
	if err := s.ask(&survey.MultiSelect{
		Message: "Other aggregates:",
		Options: options,
		Help:    "The packages whose events join the first aggregate's in the projection (--aggregate, repeated): space toggles, enter accepts.",
	}, &others, survey.WithValidator(survey.MinItems(1))); err != nil {
		return err
	}
	return s.load(append([]string{first.Path}, others...)...)
}

// askEvents asks for the events, with those the pattern takes by default
// selected. Only events are offered: what discovery found, without the
// value types their fields use.
func (s *session) askEvents() error {
	defaults, err := model.NewProjection(s.mod, s.cfg, s.aggregates, s.ch)
	if err != nil {
		return err
	}
	byKey := map[string]*load.Event{}
	var options []string
	for _, pkg := range s.aggregates {
		for _, ev := range pkg.Discovered {
			key := eventKey(s.aggregates, config.Event{Type: ev.Name, Aggregate: pkg.Path})
			byKey[key] = ev
			options = append(options, key)
		}
	}
	def := handled(s.aggregates, defaults)
	events, err := s.multiSelect(&survey.MultiSelect{
		Message:     "Events:",
		Options:     options,
		Default:     def,
		Description: func(value string, _ int) string { return eventFields(byKey[value]) },
		Help: "The events the projection handles (--events): space toggles, enter accepts. " +
			"The ones the pattern projects by default are selected; the others are recorded as ignored.",
	}, func(ch *model.Choices, events []string) {
		// Only a choice other than the default is recorded as one, as
		// --events would be: the flags and the wizard write the same.
		ch.Events = nil
		if !slices.Equal(events, def) {
			ch.Events = events
		}
	})
	if err != nil {
		return err
	}
	if s.ch.Pattern == config.Filtered {
		return s.askConditions(events, byKey)
	}
	return nil
}

// askConditions asks for each event's condition, empty for none.
func (s *session) askConditions(events []string, byKey map[string]*load.Event) error {
	for _, key := range events {
		apply := func(ch *model.Choices, cond string) {
			setEntry(&ch.When, key, strings.TrimSpace(cond), "")
		}
		var cond string
		if err := s.ask(&survey.Input{
			Message: fmt.Sprintf("Condition for %s (empty: always):", key),
			Help: "A condition on the event's fields in Go syntax (--when): IsActive, !Archived, Amount > 100, Status == \"open\". " +
				"The fields: " + eventFields(byKey[key]),
		}, &cond, s.check(apply)); err != nil {
			return err
		}
		apply(&s.ch, cond)
	}
	return nil
}

// askOperations asks for each chosen event's operation.
func (s *session) askOperations() error {
	proposed, err := model.NewProjection(s.mod, s.cfg, s.aggregates, s.ch)
	if err != nil {
		return err
	}
	var events []config.Event
	for _, e := range proposed.Events {
		if e.Op != config.Ignore {
			events = append(events, e)
		}
	}
	appending := false
	for i, e := range events {
		def := e.Op
		if appending {
			def = config.Append
		}
		// A table appends for every event or for none: once an event
		// appends, the events not asked yet are checked as appending
		// too, and offered append first, so that all can append.
		apply := func(ch *model.Choices, op string) {
			setOp(ch, s.aggregates, e, op)
			if op == config.Append {
				for _, later := range events[i+1:] {
					setOp(ch, s.aggregates, later, config.Append)
				}
			}
		}
		var op string
		if err := s.ask(&survey.Select{
			Message: fmt.Sprintf("Operation for %s:", eventKey(s.aggregates, e)),
			Options: config.Operations(),
			Default: def,
			Help: "insert: upsert the row. update: set the event's fields. set: write constants, such as is_suspended = true. " +
				"delete: delete the row. append: one row per event, for every event of the table. ignore: not projected. " +
				"The default follows the event's name (--op).",
		}, &op, s.check(apply)); err != nil {
			return err
		}
		setOp(&s.ch, s.aggregates, e, op)
		appending = appending || op == config.Append
	}
	return nil
}

// setOp records an event's operation when it is not the default e has.
func setOp(ch *model.Choices, aggregates []*load.Package, e config.Event, op string) {
	setEntry(&ch.Ops, eventKey(aggregates, e), op, e.Op)
}

// setEntry sets m[key] to value, or deletes it when value is the default.
func setEntry(m *map[string]string, key, value, def string) {
	if value == def {
		delete(*m, key)
		return
	}
	if *m == nil {
		*m = map[string]string{}
	}
	(*m)[key] = value
}

// askNames asks for the projection's, the table's and the key column's
// names, each with the default that the answers so far give.
func (s *session) askNames() error {
	questions := []struct {
		message, help string
		def           func(p config.Projection) string
		apply         func(ch *model.Choices, v string)
	}{
		{"Projection name:", "The projection's name (--name): lower-case letters, digits and underscores, starting with a letter, " +
			"such as installation or tenant_activity. It names the Go types (InstallationProjection) and the runner's tracking row.",
			func(p config.Projection) string { return p.Name }, func(ch *model.Choices, v string) { ch.Name = v }},
		{"Table name:", "The read-model table (--table), by default the plural of the name: a plain SQL name of lower-case letters, " +
			"digits and underscores, starting with a letter, at most 63 bytes, that no other projection uses.",
			func(p config.Projection) string { return p.Table }, func(ch *model.Choices, v string) { ch.Table = v }},
		{"Key column:", "The table's primary key column (--key-column): a plain SQL name of lower-case letters, digits and underscores.",
			func(p config.Projection) string { return p.Key.Column }, func(ch *model.Choices, v string) { ch.KeyColumn = v }},
	}
	for _, q := range questions {
		def := q.def(names(s.mod, s.cfg, s.aggregates, s.ch))
		if _, err := s.input(&survey.Input{Message: q.message, Default: def, Help: q.help}, q.apply); err != nil {
			return err
		}
	}
	return nil
}

// askCustomize asks, when the user wants to, for the package directory
// and each event's fields, columns, method and constants. The common path
// answers no once and keeps the defaults.
func (s *session) askCustomize() error {
	more := false
	if err := s.ask(&survey.Confirm{
		Message: "Customize the package directory, fields, columns, method names or constants?",
		Default: false,
		Help: "Yes asks for the directory of the generated package (--out), and for each event the fields it projects (--fields), " +
			"their columns (--column), its read-model method (--method) and the constants it writes (--set). No keeps the defaults.",
	}, &more); err != nil || !more {
		return err
	}
	if err := s.askOut(); err != nil {
		return err
	}
	p, err := s.preview(s.ch)
	if err != nil {
		return err
	}
	for _, e := range p.proj.Events {
		if e.Op == config.Ignore {
			continue
		}
		if err := s.customizeEvent(e); err != nil {
			return err
		}
	}
	return nil
}

// askOut asks for the package directory.
func (s *session) askOut() error {
	def := names(s.mod, s.cfg, s.aggregates, s.ch).Dir
	_, err := s.input(&survey.Input{
		Message: "Package directory:",
		Default: def,
		Help: "The directory of the generated package (--out), relative to the module root and slash-separated, inside the module, " +
			"such as github/repository. By default the aggregate's, or projections/NAME for a cross-aggregate projection.",
	}, func(ch *model.Choices, v string) {
		ch.Out = ""
		if v != def {
			ch.Out = v
		}
	})
	return err
}

// customizeEvent asks for one event's fields, their columns, its method
// and its constants.
func (s *session) customizeEvent(e config.Event) error {
	key := eventKey(s.aggregates, e)
	ev, err := s.eventOf(e)
	if err != nil {
		return err
	}
	if e.Op != config.Delete && ev.IsStruct() && len(ev.Fields) > 0 {
		fields, err := s.askFields(key, e, ev)
		if err != nil {
			return err
		}
		if err := s.askColumns(key, e, fields); err != nil {
			return err
		}
	}
	if _, err := s.input(&survey.Input{
		Message: fmt.Sprintf("Method for %s:", key),
		Default: e.Method,
		Help:    "The read-model method that applies the event (--method): an exported Go name, such as SuspendInstallation, that no other event of the projection uses.",
	}, func(ch *model.Choices, v string) { setEntry(&ch.Methods, key, v, e.Method) }); err != nil {
		return err
	}
	if e.Op == config.Delete {
		return nil
	}
	return s.askConstants(key, e)
}

// eventOf returns the loaded event a projection's event names.
func (s *session) eventOf(e config.Event) (*load.Event, error) {
	pkg := s.aggregates[0]
	for _, p := range s.aggregates {
		if p.Path == e.Aggregate {
			pkg = p
		}
	}
	return pkg.Event(e.Type)
}

// askFields asks which of an event's fields it projects.
func (s *session) askFields(key string, e config.Event, ev *load.Event) ([]string, error) {
	var options []string
	for _, f := range ev.Fields {
		options = append(options, f.Name)
	}
	def := e.Fields
	if len(def) == 0 {
		def = options
	}
	return s.multiSelect(&survey.MultiSelect{
		Message: fmt.Sprintf("Fields of %s:", key),
		Options: options,
		Default: def,
		Help:    "The event's fields the projection writes to columns (--fields): space toggles, enter accepts. By default all of them.",
	}, func(ch *model.Choices, fields []string) {
		delete(ch.Fields, key)
		if !slices.Equal(fields, def) {
			if ch.Fields == nil {
				ch.Fields = map[string][]string{}
			}
			ch.Fields[key] = fields
		}
	})
}

// askColumns asks for the column of each projected field, by default the
// one the generated table gives it.
func (s *session) askColumns(key string, e config.Event, fields []string) error {
	p, err := s.preview(s.ch)
	if err != nil {
		return err
	}
	defaults := fieldColumns(p.res.Model, p.proj.Name, e)
	for _, field := range fields {
		def, ok := defaults[field]
		if !ok {
			continue // the key field: its column is the key column
		}
		apply := func(ch *model.Choices, col string) {
			cols := maps.Clone(ch.Columns[key])
			setEntry(&cols, field, col, def)
			if ch.Columns == nil {
				ch.Columns = map[string]map[string]string{}
			}
			ch.Columns[key] = cols
			if len(cols) == 0 {
				delete(ch.Columns, key)
			}
		}
		if _, err := s.input(&survey.Input{
			Message: fmt.Sprintf("Column of %s.%s:", key, field),
			Default: def,
			Help:    "The column the field is written to (--column): a plain SQL name of lower-case letters, digits and underscores that no other column of the table has.",
		}, apply); err != nil {
			return err
		}
	}
	return nil
}

// fieldColumns returns the column of each field an event's method
// writes, as the model of the generated code has it.
func fieldColumns(m *model.Module, projection string, e config.Event) map[string]string {
	out := map[string]string{}
	for _, p := range m.Projections {
		if p.Name != projection {
			continue
		}
		for _, meth := range p.Methods {
			if meth.Event.Name != e.Type || e.Aggregate != "" && meth.Event.Package != e.Aggregate {
				continue
			}
			for _, param := range meth.Params {
				if param.Field != nil && param.Column != nil && param != meth.KeyParam {
					out[param.Field.Name] = param.Column.Name
				}
			}
		}
	}
	return out
}

// askConstants asks for the constant values an event writes, written
// column=value as --set takes them.
func (s *session) askConstants(key string, e config.Event) error {
	def := formatSet(e.Set)
	apply := func(ch *model.Choices, v string) {
		set, err := parseSet(key, v)
		if err != nil || v == def {
			// The default, or an answer that check refuses with err.
			delete(ch.Set, key)
			return
		}
		if ch.Set == nil {
			ch.Set = map[string]map[string]any{}
		}
		ch.Set[key] = set
	}
	var answer string
	if err := s.ask(&survey.Input{
		Message: fmt.Sprintf("Constants of %s:", key),
		Default: def,
		Help: "Constant values the event writes (--set), column=value, separated by commas: true, false, a number, a string " +
			"(quoted when it holds a comma) or null, such as is_suspended=true. The columns are plain SQL names. Enter keeps the default.",
	}, &answer, survey.WithValidator(func(a any) error {
		if _, err := parseSet(key, answerString(a)); err != nil {
			return err
		}
		return nil
	}), s.check(apply)); err != nil {
		return err
	}
	apply(&s.ch, answer)
	return nil
}

// parseSet parses constants written column=value, separated by commas,
// as --set Event.column=value flags: the flag path's parser and messages.
func parseSet(key, answer string) (map[string]any, error) {
	var flags newFlags
	for _, part := range splitOutsideQuotes(answer) {
		if part = strings.TrimSpace(part); part != "" {
			flags.set = append(flags.set, key+"."+part)
		}
	}
	ch, err := flags.choices()
	if err != nil {
		return nil, err
	}
	return ch.Set[key], nil
}

// splitOutsideQuotes splits s at the commas outside quotes.
func splitOutsideQuotes(s string) []string {
	var out []string
	var quote rune
	start := 0
	for i, r := range s {
		switch {
		case quote != 0 && r == quote:
			quote = 0
		case quote != 0:
		case r == '"' || r == '\'':
			quote = r
		case r == ',':
			out = append(out, s[start:i])
			start = i + 1
		}
	}
	return append(out, s[start:])
}

// formatSet writes constants as askConstants reads them, sorted by column.
func formatSet(set map[string]any) string {
	var parts []string
	for _, col := range slices.Sorted(maps.Keys(set)) {
		parts = append(parts, col+"="+formatValue(set[col]))
	}
	return strings.Join(parts, ", ")
}

// formatValue writes a constant as --set reads it back: as YAML, and a
// string with a comma double-quoted, so that a list of them splits.
func formatValue(v any) string {
	if s, ok := v.(string); ok && strings.Contains(s, ",") {
		quoted, err := json.Marshal(s)
		if err == nil {
			return string(quoted)
		}
	}
	out, err := yaml.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return strings.TrimSpace(string(out))
}

// confirm shows what the answers write, asks to write it, and prints the
// equivalent command either way.
func (s *session) confirm(build Build, stdio IO, dir string, start time.Time) error {
	d, err := s.preview(s.ch)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdio.Out, "projgen will write, for projection %s (table %s, in %s/):\n", d.proj.Name, d.proj.Table, d.proj.Dir)
	listChanges(stdio, d.plan)
	for _, ig := range d.ignored {
		fmt.Fprintf(stdio.Out, "  ignored   %s: %s; to project it: %s\n", ig.Event, ig.Reason, ig.Project)
	}
	ok := true
	if err := s.ask(&survey.Confirm{Message: "Write these files and run go test?", Default: true,
		Help: "Yes writes these files and projgen.yaml, then runs go test on them; no writes nothing. " +
			"Either way the equivalent command is printed."}, &ok); err != nil {
		return err
	}
	fmt.Fprintf(stdio.Out, "Equivalent command: %s\n", equivalentCommand(s.mod, s.cfg, s.aggregates, s.ch, dir))
	if !ok {
		fmt.Fprintln(stdio.Out, "projgen: nothing was written")
		return nil
	}
	verb := "new projection"
	if d.rerun {
		verb = "projection (already in projgen.yaml, regenerated)"
	}
	s.f.write.listed = true
	s.f.write.next = d.proj.Name
	header := fmt.Sprintf("projgen: %s %s: table %s, in %s/", verb, d.proj.Name, d.proj.Table, d.proj.Dir)
	return writeAndVerify(s.ctx, output{build: build, stdio: stdio, header: header, start: start}, d.res, s.f.write)
}

// cloneChoices copies ch deeply, so that a validator's trial answer does
// not change the session's choices.
func cloneChoices(ch model.Choices) model.Choices {
	out := ch
	out.Events = slices.Clone(ch.Events)
	out.Ops, out.Methods, out.When = maps.Clone(ch.Ops), maps.Clone(ch.Methods), maps.Clone(ch.When)
	out.Set = cloneNested(ch.Set)
	out.Columns = cloneNested(ch.Columns)
	out.Fields = maps.Clone(ch.Fields)
	for k, v := range out.Fields {
		out.Fields[k] = slices.Clone(v)
	}
	return out
}

// cloneNested copies a map of maps.
func cloneNested[V any](m map[string]map[string]V) map[string]map[string]V {
	out := maps.Clone(m)
	for k, v := range out {
		out[k] = maps.Clone(v)
	}
	return out
}

// names returns the projection the choices give, for default answers; on
// error, the zero projection.
func names(mod *load.Module, cfg *config.Config, aggregates []*load.Package, ch model.Choices) config.Projection {
	p, _ := model.NewProjection(mod, cfg, aggregates, ch)
	return p
}

// handled lists the events a default projection handles, as choices name
// them.
func handled(aggregates []*load.Package, p config.Projection) []string {
	var out []string
	for _, e := range p.Events {
		if e.Op != config.Ignore {
			out = append(out, eventKey(aggregates, e))
		}
	}
	return out
}

// eventFields describes an event's fields for the events question.
func eventFields(ev *load.Event) string {
	if ev == nil {
		return ""
	}
	if !ev.IsStruct() {
		return ev.Type.String()
	}
	var fields []string
	for _, f := range ev.Fields {
		fields = append(fields, f.Name+" "+f.Type.String())
	}
	if len(fields) == 0 {
		return "no fields"
	}
	return strings.Join(fields, ", ")
}

// eventKey is how choices name an event of a projection: its type, or
// pkg.Type, by package name, when the projection has several aggregates.
func eventKey(aggregates []*load.Package, e config.Event) string {
	if len(aggregates) > 1 {
		for _, p := range aggregates {
			if p.Path == e.Aggregate {
				return p.Name + "." + e.Type
			}
		}
	}
	return e.Type
}

func plural(n int, noun string) string {
	if n == 1 {
		return "a " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

// uniqueName returns name, or name_2, name_3... when projgen.yaml has it.
func uniqueName(cfg *config.Config, name string) string {
	out := name
	for n := 2; ; n++ {
		if p, _ := cfg.Projection(out); p == nil {
			return out
		}
		out = fmt.Sprintf("%s_%d", name, n)
	}
}

func dirFlag(dir string) string {
	if dir == "" || dir == "." {
		return ""
	}
	return " --dir " + shellQuote(dir)
}

// equivalentCommand is the projgen new command that writes what the
// wizard's answers write: the flags of every answer that differs from the
// default the flag path would take.
func equivalentCommand(mod *load.Module, cfg *config.Config, aggregates []*load.Package, ch model.Choices, dir string) string {
	args := []string{"projgen", "new"}
	for _, p := range aggregates {
		args = append(args, "--aggregate", p.Name)
	}
	if len(ch.Events) > 0 {
		args = append(args, "--events", strings.Join(ch.Events, ","))
	}
	// The flag path picks the pattern from --key, --when and the number
	// of aggregates: --pattern only when that picks another.
	inferred := ch
	inferred.Pattern = ""
	if ch.Pattern != "" && ch.Pattern != names(mod, cfg, aggregates, inferred).Pattern {
		args = append(args, "--pattern", ch.Pattern)
	}
	if ch.KeyField != "" {
		args = append(args, "--key", ch.KeyField)
	}
	args = appendEntries(args, "--when", ch.When)
	args = appendEntries(args, "--op", ch.Ops)
	args = appendNames(args, mod, cfg, aggregates, ch)
	for _, k := range slices.Sorted(maps.Keys(ch.Fields)) {
		args = append(args, "--fields", k+"="+strings.Join(ch.Fields[k], ","))
	}
	for _, k := range slices.Sorted(maps.Keys(ch.Columns)) {
		for _, field := range slices.Sorted(maps.Keys(ch.Columns[k])) {
			args = append(args, "--column", k+"."+field+"="+ch.Columns[k][field])
		}
	}
	args = appendEntries(args, "--method", ch.Methods)
	for _, k := range slices.Sorted(maps.Keys(ch.Set)) {
		for _, col := range slices.Sorted(maps.Keys(ch.Set[k])) {
			args = append(args, "--set", k+"."+col+"="+formatValue(ch.Set[k][col]))
		}
	}
	if cfg.Migrations != config.MigrateFormat {
		args = append(args, "--migrations", cfg.Migrations)
	}
	args = append(args, "--yes")
	for i, a := range args {
		args[i] = shellQuote(a)
	}
	return strings.Join(args, " ") + dirFlag(dir)
}

// appendEntries appends a flag per entry of an Event=value map, sorted.
func appendEntries(args []string, flag string, m map[string]string) []string {
	for _, k := range slices.Sorted(maps.Keys(m)) {
		args = append(args, flag, k+"="+m[k])
	}
	return args
}

// appendNames appends --name, --table, --key-column and --out, each when
// the answer differs from the default the earlier ones give.
func appendNames(args []string, mod *load.Module, cfg *config.Config, aggregates []*load.Package, ch model.Choices) []string {
	base := ch
	base.Name, base.Table, base.KeyColumn, base.Out = "", "", "", ""
	if def := names(mod, cfg, aggregates, base); ch.Name != "" && ch.Name != def.Name {
		args = append(args, "--name", ch.Name)
		base.Name = ch.Name
	}
	def := names(mod, cfg, aggregates, base)
	if ch.Table != "" && ch.Table != def.Table {
		args = append(args, "--table", ch.Table)
	}
	if ch.KeyColumn != "" && ch.KeyColumn != def.Key.Column {
		args = append(args, "--key-column", ch.KeyColumn)
	}
	if ch.Out != "" && ch.Out != def.Dir {
		args = append(args, "--out", ch.Out)
	}
	return args
}

// shellQuote quotes an argument for a POSIX shell when it needs it.
func shellQuote(s string) string {
	if s != "" && strings.IndexFunc(s, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_./,=:@", r))
	}) < 0 {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// count writes n nouns: "1 projection", "3 projections".
func count(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}
