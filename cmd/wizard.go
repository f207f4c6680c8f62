package cmd

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/AlecAivazis/survey/v2"
	"github.com/AlecAivazis/survey/v2/terminal"
	"github.com/spf13/cobra"

	"github.com/projgen/projgen/generator"
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

// runWizard is projgen new without --aggregate, in a terminal.
func runWizard(c *cobra.Command, build Build, stdio IO, dir string, f newFlags) error {
	w, err := newWizard(stdio)
	if err != nil {
		return err
	}
	ctx := c.Context()
	mod, cfg, listed, err := prepareNew(ctx, dir, f)
	if err != nil {
		return err
	}
	if len(listed) == 0 {
		return &usageError{cmd: "new", err: errors.New("the module has no Go packages: write the aggregate's events first")}
	}

	// 1. The aggregate.
	var paths []string
	for _, l := range listed {
		paths = append(paths, l.Path)
	}
	var aggregate string
	if err := w.ask(&survey.Select{
		Message: "Aggregate:",
		Options: paths,
		Help: "The package whose events the projection reads. Type to filter. " +
			"Its events are found by //projgen:event markers, Register calls, EventType()/GetType() methods, or the structs of events.go.",
	}, &aggregate); err != nil {
		return err
	}
	start := time.Now()
	pkgs, err := generator.Load(ctx, mod, generator.Aggregates(cfg, aggregate))
	if err != nil {
		return err
	}
	pkg := pkgs[aggregate]

	// An aggregate with a projection already: another one, or a re-run.
	ch := model.Choices{}
	var existing []string
	for _, p := range cfg.Projections {
		if slices.Contains(p.Aggregates, aggregate) {
			existing = append(existing, p.Name)
		}
	}
	if len(existing) > 0 {
		const another = "Add another projection of it"
		options := []string{another}
		for _, name := range existing {
			options = append(options, "Re-run projection "+name)
		}
		var choice string
		if err := w.ask(&survey.Select{
			Message: fmt.Sprintf("%s already has %s. What now?", pkg.Name, plural(len(existing), "projection")),
			Options: options,
			Help:    "A re-run regenerates the projection as projgen.yaml records it, as projgen generate does; nothing is overwritten silently.",
		}, &choice); err != nil {
			return err
		}
		if name, ok := strings.CutPrefix(choice, "Re-run projection "); ok {
			res, err := generator.Build(mod, cfg, pkgs, generator.Options{AcceptEdited: f.write.force}, true)
			if err != nil {
				return err
			}
			fmt.Fprintf(stdio.Out, "Equivalent command: projgen generate%s\n", dirFlag(dir))
			return writeAndVerify(ctx, build, stdio, mod, res, f.write, start, "projgen: projection "+name+" regenerated")
		}
		ch.Name = uniqueName(cfg, model.DefaultName(pkg))
	}

	// 2. The events.
	defaults, err := model.NewProjection(mod, cfg, []*load.Package{pkg}, model.Choices{Name: ch.Name})
	if err != nil {
		return err
	}
	var discovered, options []string
	for _, e := range pkg.Discovered {
		discovered = append(discovered, e.Name)
	}
	options = append(options, discovered...)
	for _, name := range pkg.Candidates() {
		if !slices.Contains(options, name) {
			options = append(options, name)
		}
	}
	var chosenEvents []string
	if err := w.ask(&survey.MultiSelect{
		Message:     "Events:",
		Options:     options,
		Default:     handled(defaults),
		Description: func(value string, _ int) string { return eventFields(pkg, value) },
		Help: "The events the projection handles: space toggles, enter accepts. " +
			"The ones discovery found, and that the default operations handle, are selected.",
	}, &chosenEvents, survey.WithValidator(survey.MinItems(1))); err != nil {
		return err
	}
	if !slices.Equal(chosenEvents, handled(defaults)) {
		// Only a choice other than the default is recorded as one, as
		// --events would be: the flags and the wizard write the same.
		ch.Events = chosenEvents
	}

	// 3. The pattern, and each event's operation.
	var pattern string
	if err := w.ask(&survey.Select{
		Message: "Pattern:",
		Options: config.Patterns(),
		Default: config.Simple,
		Help: "simple: one table keyed by aggregate ID. denormalized: a child table keyed by an event field " +
			"(repositories of an installation). filtered: events projected only when a condition holds. " +
			"cross-aggregate: events of several aggregates in one append-only table of its own package.",
	}, &pattern); err != nil {
		return err
	}
	ch.Pattern = pattern
	aggregates := []*load.Package{pkg}
	switch pattern {
	case config.Denormalized:
		if err := w.keyField(pkg, chosenEvents, &ch); err != nil {
			return err
		}
	case config.Filtered:
		if err := w.conditions(pkg, chosenEvents, &ch); err != nil {
			return err
		}
	case config.CrossAggregate:
		more, err := w.otherAggregates(ctx, mod, paths, pkg, &chosenEvents)
		ch.Events = chosenEvents
		if err != nil {
			return err
		}
		aggregates = append(aggregates, more...)
		for _, p := range more {
			pkgs[p.Path] = p
		}
	}
	proposed, err := model.NewProjection(mod, cfg, aggregates, ch)
	if err != nil {
		return err
	}
	ch.Ops = map[string]string{}
	for _, e := range proposed.Events {
		key := eventKey(aggregates, e)
		if !slices.Contains(chosenEvents, key) {
			continue
		}
		var op string
		if err := w.ask(&survey.Select{
			Message: fmt.Sprintf("Operation for %s:", key),
			Options: config.Operations(),
			Default: e.Op,
			Help: "insert: upsert the row. update: set the event's fields. set: write constants, such as is_suspended = true. " +
				"delete: delete the row. append: one row per event. ignore: not projected. The default follows the event's name.",
		}, &op); err != nil {
			return err
		}
		if op != e.Op {
			ch.Ops[key] = op
		}
	}

	// 4. Names.
	proposed, err = model.NewProjection(mod, cfg, aggregates, ch)
	if err != nil {
		return err
	}
	questions := []struct {
		message, help, def string
		answer             *string
	}{
		{"Projection name:", "snake_case; it names the Go types (InstallationProjection) and the runner's tracking row.", proposed.Name, &ch.Name},
		{"Table name:", "The read-model table; by default the plural of the name.", "", &ch.Table},
		{"Key column:", "The table's primary key column.", "", &ch.KeyColumn},
	}
	for i, q := range questions {
		def := q.def
		switch i {
		case 1:
			def = names(mod, cfg, aggregates, ch).Table
		case 2:
			def = names(mod, cfg, aggregates, ch).Key.Column
		}
		var answer string
		if err := w.ask(&survey.Input{Message: q.message, Default: def, Help: q.help}, &answer,
			survey.WithValidator(survey.Required)); err != nil {
			return err
		}
		*q.answer = answer
	}

	// 5. Summary and confirmation.
	proj, ignored, err := model.NewProjectionExplained(mod, cfg, aggregates, ch)
	if err != nil {
		return err
	}
	if err := settleModule(cfg, mod, aggregates, ""); err != nil {
		return err
	}
	rerun, err := addProjection(cfg, proj)
	if err != nil {
		return err
	}
	if err := cfg.Validate(); err != nil {
		return err
	}
	res, err := generator.Build(mod, cfg, pkgs, generator.Options{AllowDestructive: f.allowDestructive, AcceptEdited: f.write.force}, true)
	if err != nil {
		return err
	}
	plan, err := write.NewPlan(mod.Dir, res.Output.Files, res.Orphans, write.Options{Force: f.write.force})
	if err != nil {
		return err
	}
	fmt.Fprintf(stdio.Out, "projgen will write, for projection %s (table %s, in %s/):\n", proj.Name, proj.Table, proj.Dir)
	listChanges(stdio, plan)
	for _, ig := range ignored {
		fmt.Fprintf(stdio.Out, "  ignored   %s: %s; to project it: %s\n", ig.Event, ig.Reason, ig.Project)
	}
	ok := true
	if err := w.ask(&survey.Confirm{Message: "Write these files and run go test?", Default: true,
		Help: "Yes writes these files and projgen.yaml, then runs go test on them; no writes nothing."}, &ok); err != nil {
		return err
	}
	if !ok {
		fmt.Fprintln(stdio.Out, "projgen: nothing was written")
		return nil
	}
	fmt.Fprintf(stdio.Out, "Equivalent command: %s\n", equivalentCommand(mod, cfg, aggregates, ch, dir))
	verb := "new projection"
	if rerun {
		verb = "projection (already in projgen.yaml, regenerated)"
	}
	f.write.listed = true
	return writeAndVerify(ctx, build, stdio, mod, res, f.write, start,
		fmt.Sprintf("projgen: %s %s: table %s, in %s/", verb, proj.Name, proj.Table, proj.Dir))
}

// names returns the projection the choices give, for default answers; on
// error, the zero projection.
func names(mod *load.Module, cfg *config.Config, aggregates []*load.Package, ch model.Choices) config.Projection {
	p, _ := model.NewProjection(mod, cfg, aggregates, ch)
	return p
}

// keyField asks which event field keys the rows of a denormalized table.
func (w *wizard) keyField(pkg *load.Package, events []string, ch *model.Choices) error {
	var fields []string
	for _, name := range events {
		ev, err := pkg.Event(name)
		if err != nil {
			return err
		}
		for _, f := range ev.Fields {
			if !slices.Contains(fields, f.Name) {
				fields = append(fields, f.Name)
			}
		}
	}
	if len(fields) == 0 {
		return &usageError{cmd: "new", err: errors.New("the chosen events have no fields to key a denormalized table by")}
	}
	return w.ask(&survey.Select{
		Message: "Key field:",
		Options: fields,
		Help:    "The event field that identifies a row of the child table, such as RepositoryID. Events without it apply to all rows of the aggregate.",
	}, &ch.KeyField)
}

// conditions asks for each event's condition, empty for none.
func (w *wizard) conditions(pkg *load.Package, events []string, ch *model.Choices) error {
	ch.When = map[string]string{}
	for _, name := range events {
		var cond string
		if err := w.ask(&survey.Input{
			Message: fmt.Sprintf("Condition for %s (empty: always):", name),
			Help:    "A condition on the event's fields, in Go syntax: IsActive, !Archived, Amount > 100, Status == \"open\". " + eventFields(pkg, name),
		}, &cond); err != nil {
			return err
		}
		if cond = strings.TrimSpace(cond); cond != "" {
			ch.When[name] = cond
		}
	}
	return nil
}

// otherAggregates asks for the other aggregates of a cross-aggregate
// projection and for their events, loads them, and names every chosen
// event by package, as the flags do: endpoint.Created.
func (w *wizard) otherAggregates(ctx context.Context, mod *load.Module, paths []string, first *load.Package, chosen *[]string) ([]*load.Package, error) {
	var others []string
	if err := w.ask(&survey.MultiSelect{
		Message: "Other aggregates:",
		Options: slices.DeleteFunc(slices.Clone(paths), func(p string) bool { return p == first.Path }),
		Help:    "The packages whose events join the first aggregate's in the projection.",
	}, &others, survey.WithValidator(survey.MinItems(1))); err != nil {
		return nil, err
	}
	loaded, err := generator.Load(ctx, mod, others)
	if err != nil {
		return nil, err
	}
	events := make([]string, len(*chosen))
	for i, e := range *chosen {
		events[i] = first.Name + "." + e
	}
	var out []*load.Package
	for _, path := range others {
		pkg := loaded[path]
		var names []string
		for _, e := range pkg.Discovered {
			names = append(names, e.Name)
		}
		var chosen []string
		if err := w.ask(&survey.MultiSelect{
			Message:     fmt.Sprintf("Events of %s:", pkg.Name),
			Options:     names,
			Default:     names,
			Description: func(value string, _ int) string { return eventFields(pkg, value) },
			Help:        "The events of this aggregate the projection records.",
		}, &chosen, survey.WithValidator(survey.MinItems(1))); err != nil {
			return nil, err
		}
		for _, e := range chosen {
			events = append(events, pkg.Name+"."+e)
		}
		out = append(out, pkg)
	}
	*chosen = events
	return out, nil
}

// handled lists the events a default projection handles.
func handled(p config.Projection) []string {
	var out []string
	for _, e := range p.Events {
		if e.Op != config.Ignore {
			out = append(out, e.Type)
		}
	}
	return out
}

// eventFields describes an event's fields for the events question.
func eventFields(pkg *load.Package, name string) string {
	ev, err := pkg.Event(name)
	if err != nil {
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

// eventKey is how choices name an event of a projection.
func eventKey(aggregates []*load.Package, e config.Event) string {
	if len(aggregates) == 1 {
		return e.Type
	}
	for _, p := range aggregates {
		if p.Path == e.Aggregate {
			return p.Name + "." + e.Type
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
	base := model.Choices{}
	def := names(mod, cfg, aggregates, base)
	if ch.Events != nil && !slices.Equal(ch.Events, handled(def)) {
		args = append(args, "--events", strings.Join(ch.Events, ","))
		base.Events = ch.Events
	}
	def = names(mod, cfg, aggregates, base)
	if ch.Pattern != "" && ch.Pattern != def.Pattern {
		args = append(args, "--pattern", ch.Pattern)
		base.Pattern = ch.Pattern
	}
	if ch.KeyField != "" {
		args = append(args, "--key", ch.KeyField)
		base.KeyField = ch.KeyField
	}
	for _, k := range slices.Sorted(maps.Keys(ch.When)) {
		args = append(args, "--when", k+"="+ch.When[k])
	}
	base.When = ch.When
	for _, k := range slices.Sorted(maps.Keys(ch.Ops)) {
		args = append(args, "--op", k+"="+ch.Ops[k])
	}
	base.Ops = ch.Ops
	def = names(mod, cfg, aggregates, base)
	if ch.Name != def.Name {
		args = append(args, "--name", ch.Name)
		base.Name = ch.Name
	}
	def = names(mod, cfg, aggregates, base)
	if ch.Table != def.Table {
		args = append(args, "--table", ch.Table)
	}
	if ch.KeyColumn != def.Key.Column {
		args = append(args, "--key-column", ch.KeyColumn)
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
