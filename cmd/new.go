package cmd

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/goccy/go-yaml"
	"github.com/spf13/cobra"

	"github.com/projgen/projgen/generator"
	"github.com/projgen/projgen/generator/config"
	"github.com/projgen/projgen/generator/diag"
	"github.com/projgen/projgen/generator/load"
	"github.com/projgen/projgen/generator/model"
)

// newFlags are the flags of projgen new.
type newFlags struct {
	aggregates       []string
	events           []string
	name, table      string
	pattern, out     string
	key, keyColumn   string
	keyScope         string
	keyType          string
	topics           string
	source           string
	ops, methods     []string
	when, set        []string
	fields, columns  []string
	migrations       string
	yes              bool
	allowDestructive bool
	write            writeOptions
}

func newNewCmd(build Build, stdio IO) *cobra.Command {
	var f newFlags
	c := &cobra.Command{
		Use:   "new",
		Short: "Add a projection for an aggregate, generate it, and test it",
		Long: `new adds a projection of an aggregate's events to projgen.yaml, generates
its read-model interface, projection, PostgreSQL read model, migration,
registry entry and tests next to the aggregate, checks gofmt and runs
go test on what it wrote.

The aggregate is a package of the module, named by its package name, the
end of its import path, its import path, or its directory (./billing/invoice). Its events are found, first
rule that finds any: --events; types marked //projgen:event; types passed
to a Register call; types with an EventType() or GetType() method; structs
in events.go.

Each event gets an operation (insert, update, set, delete, append or
ignore) from its name: Created/Added/Registered/Started/Opened/Placed
insert, Deleted/Removed delete, events without fields set a flag
(Suspended sets is_suspended), others update. When no name creates, the
first event that carries the aggregate's ID inserts, or else the first one
registered. --op, --method, --when, --set, --fields and --column change
one event each, written Event=value; every choice is recorded in
projgen.yaml.

Without --aggregate, in a terminal, new asks its questions as a wizard and
prints the equivalent command; Ctrl-C leaves it with nothing written (exit
status 130). Without a terminal, --aggregate is required.

Exit status: 0 success; 1 the generated tests failed (the files are
written); 2 bad input or usage, with nothing written.`,
		Example: `  # The seed's installation projection: one table keyed by aggregate ID.
  projgen new --aggregate installation

  # Events stored under their bare type name, with string aggregate IDs.
  projgen new --aggregate account --topics '{{.Type}}' --key-type text

  # Choose the events, the projection and table names.
  projgen new --aggregate installation --events Created,Suspended,Unsuspended --name installation --table github_installations

  # Per-event operations, method names and constant values.
  projgen new --aggregate installation --op Suspended=set --set Suspended.is_suspended=true --method Suspended=SuspendInstallation

  # Denormalization: repositories keyed by RepositoryID, in their own package.
  projgen new --aggregate installation --key RepositoryID --name github_repository --out github/repository

  # Filtering: project endpoints only while they are active.
  projgen new --aggregate endpoint --when Created=IsActive

  # Cross-aggregate: an append-only activity table in projections/tenant_activity.
  projgen new --aggregate endpoint --aggregate installation --name tenant_activity --events endpoint.Created,installation.Created --fields endpoint.Created=TenantID --fields installation.Created=TenantID`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			dir, _ := c.Flags().GetString("dir")
			return runNew(c, build, stdio, dir, f)
		},
	}
	fl := c.Flags()
	fl.StringSliceVarP(&f.aggregates, "aggregate", "a", nil, "aggregate package: name, path suffix, import path or ./directory (repeat for cross-aggregate)")
	fl.StringSliceVar(&f.events, "events", nil, "events to project, comma-separated (default: the discovered ones)")
	fl.StringVar(&f.name, "name", "", "projection name in snake_case (default: from the aggregate)")
	fl.StringVar(&f.table, "table", "", "table name (default: the plural of the name)")
	fl.StringVar(&f.pattern, "pattern", "", "simple, denormalized, filtered or cross-aggregate (default: from the other flags)")
	fl.StringVar(&f.out, "out", "", "package directory to generate into, relative to the module root (default: the aggregate's, or projections/NAME)")
	fl.StringVar(&f.key, "key", "", "event field that keys the rows, for a denormalized table (such as RepositoryID)")
	fl.StringVar(&f.keyColumn, "key-column", "", "name of the key column (default: aggregate_id, the key field's, or position)")
	fl.StringVar(&f.keyType, "key-type", "", "SQL type of aggregate IDs, uuid, text or bigint (default: from the aggregate's ID type: text for strings, bigint for integers, uuid otherwise)")
	fl.StringVar(&f.source, "source", "", "event store the scaffolded runner reads, with the first projection: projgen, hallgren, goes or jetstream (default: the aggregate's library's store; jetstream when go.mod requires nats.go; else projgen's events table)")
	fl.StringVar(&f.topics, "topics", "", "topic template of the events, with {{.ImportPath}}, {{.Package}} and {{.Type}} (default: how the aggregate's event-sourcing library stores them, else projgen.yaml's topics)")
	fl.StringVar(&f.keyScope, "key-scope", "", "with --key: aggregate when the field identifies a row within its aggregate only, global when it is unique everywhere (default: global for a UUID field, aggregate otherwise)")
	fl.StringArrayVar(&f.ops, "op", nil, "operation of an event: Event=insert|update|set|delete|append|ignore")
	fl.StringArrayVar(&f.methods, "method", nil, "read-model method of an event: Event=MethodName")
	fl.StringArrayVar(&f.when, "when", nil, `condition on an event's fields: Event=IsActive, Event="Amount > 100"`)
	fl.StringArrayVar(&f.set, "set", nil, "constant column value: Event.column=value (true, false, a number, a string or null)")
	fl.StringArrayVar(&f.fields, "fields", nil, "fields of an event to project: Event=A,B (default: all)")
	fl.StringArrayVar(&f.columns, "column", nil, "column of a field: Event.Field=column")
	fl.StringVar(&f.migrations, "migrations", "", "migration layout of a new projgen.yaml: golang-migrate (default) or goose")
	fl.BoolVarP(&f.yes, "yes", "y", false, "accept every default and never prompt")
	fl.BoolVar(&f.write.noTest, "no-test", false, "do not run go test on the generated packages")
	fl.BoolVar(&f.write.force, "force", false, "overwrite files at generated paths that projgen does not own, and accept edited migrations")
	fl.BoolVar(&f.allowDestructive, "allow-destructive", false, "allow migrations that drop or change columns")
	registerNewCompletion(c)
	return c
}

func runNew(c *cobra.Command, build Build, stdio IO, dir string, f newFlags) error {
	start := time.Now()
	ctx := c.Context()
	if len(f.aggregates) == 0 {
		if !stdio.Terminal || f.yes {
			return &usageError{cmd: "new", err: errors.New("no --aggregate given, and there is no terminal to ask in: " +
				"pass --aggregate NAME (and --events, --name, --table, --op ... as needed), or run projgen new in a terminal for the wizard")}
		}
		return runWizard(c, build, stdio, dir, f)
	}
	choices, err := f.choices()
	if err != nil {
		return err
	}
	mod, err := load.ReadModule(dir)
	if err != nil {
		return err
	}
	// Finding the packages and reading projgen.yaml take about as long,
	// in a module of hundreds: both at once.
	var found []load.Listed
	finding := make(chan struct{})
	go func() {
		defer close(finding)
		found, _ = load.FindPackages(mod) // on error, go list resolves
	}()
	cfg, err := newConfig(mod, f)
	<-finding
	if err != nil {
		return err
	}
	paths, err := resolveAggregates(ctx, mod, found, f.aggregates)
	if err != nil {
		return err
	}
	pkgs, err := generator.Load(ctx, mod, generator.Aggregates(cfg, paths...))
	if err != nil {
		return err
	}
	var aggregates []*load.Package
	for _, p := range paths {
		aggregates = append(aggregates, pkgs[p])
	}
	proj, ignored, err := model.NewProjectionExplained(mod, cfg, aggregates, choices)
	if err != nil {
		return err
	}
	if err := settleModule(cfg, mod, aggregates, f.source); err != nil {
		return err
	}
	rerun, err := addProjection(cfg, proj)
	if err != nil {
		return err
	}
	if err := cfg.Validate(); err != nil {
		return err
	}
	res, err := generator.Generate(ctx, generator.Request{Module: mod, Config: cfg, Packages: pkgs,
		Options: generator.Options{AllowDestructive: f.allowDestructive, Force: f.write.force, WithConfig: true, Only: proj.Name, Cache: build.Cache}})
	if err != nil {
		return err
	}
	handled := 0
	for _, e := range proj.Events {
		if e.Op != config.Ignore {
			handled++
		}
	}
	verb := "new projection"
	if rerun {
		verb = "projection (already in projgen.yaml, regenerated)"
	}
	header := fmt.Sprintf("projgen: %s %s: %d events handled, %d ignored, table %s, in %s/",
		verb, proj.Name, handled, len(proj.Events)-handled, proj.Table, proj.Dir)
	// Every ignored event is shown with why, and how to project it, so
	// that none is left out unseen.
	for _, ig := range ignored {
		header += fmt.Sprintf("\n  ignored   %s: %s; to project it: %s", ig.Event, ig.Reason, ig.Project)
	}
	f.write.next = proj.Name
	return writeAndVerify(ctx, output{build: build, stdio: stdio, header: header, start: start}, res, f.write)
}

// newConfig returns the projgen.yaml both ways of projgen new start
// from: the module's, or a new one, in the layout asked for.
func newConfig(mod *load.Module, f newFlags) (*config.Config, error) {
	cfg, err := readOrNewConfig(mod)
	if err != nil {
		return nil, err
	}
	if err := setMigrations(cfg, f.migrations); err != nil {
		return nil, err
	}
	return cfg, nil
}

// resolveAggregates returns the import paths of the packages --aggregate
// names, in order. It resolves them among found, the packages found from
// the files (load.FindPackages), which takes milliseconds; when a name
// does not resolve there to one package, it asks go list, whose answer
// and error messages are the go command's.
func resolveAggregates(ctx context.Context, mod *load.Module, found []load.Listed, names []string) ([]string, error) {
	if paths, err := resolveIn(found, names); err == nil {
		return paths, nil
	}
	listed, err := load.List(ctx, mod.Dir)
	if err != nil {
		return nil, err
	}
	return resolveIn(listed, names)
}

// resolveIn resolves each name among listed.
func resolveIn(listed []load.Listed, names []string) ([]string, error) {
	var paths []string
	for _, a := range names {
		l, err := load.Resolve(listed, a)
		if err != nil {
			return nil, err
		}
		paths = append(paths, l.Path)
	}
	return paths, nil
}

// readOrNewConfig reads projgen.yaml, or starts a new one.
func readOrNewConfig(mod *load.Module) (*config.Config, error) {
	path := filepath.Join(mod.Dir, config.FileName)
	cfg, err := config.Read(path)
	if errors.Is(err, config.ErrNotFound) {
		cfg = config.New()
		cfg.SetFile(path)
		return cfg, nil
	}
	return cfg, err
}

// setMigrations sets the migration layout of a new projgen.yaml. An
// existing file keeps its layout: its migrations are written already.
func setMigrations(cfg *config.Config, format string) error {
	switch {
	case format == "" || format == cfg.Migrations:
		return nil
	case !slices.Contains(config.MigrationFormats(), format):
		return &usageError{cmd: "new", err: fmt.Errorf("--migrations %s: use %s or %s", format, config.MigrateFormat, config.GooseFormat)}
	case len(cfg.Projections) > 0:
		return diag.Errorf(cfg.Pos("$.migrations"), "projgen.yaml writes %s migrations, not %s", cfg.Migrations, format).
			WithHint("the layout is set once for the module; change migrations: in projgen.yaml if no migration was applied yet")
	}
	cfg.Migrations = format
	return nil
}

// addProjection adds proj to cfg. A projection of the same name with the
// same settings is a re-run; with other settings, an error.
// settleModule makes the module-wide choices of a projgen.yaml that has no
// projection yet, from its first projection's aggregates: the registry
// goes where it can import them (model.DefaultRegistry), and the runner
// reads source, or the store of their library (model.DefaultSource). A
// registry directory the user chose stays. Later, source can only repeat
// the recorded one: the runner main is scaffolded once.
func settleModule(cfg *config.Config, mod *load.Module, aggregates []*load.Package, source string) error {
	if len(cfg.Projections) > 0 {
		if source != "" && source != cmp.Or(cfg.Source, config.SourceProjgen) {
			return &usageError{cmd: "new", err: fmt.Errorf("--source %s: this module's runner reads %s, as projgen.yaml says; "+
				"to change it, edit source: in projgen.yaml and the runner main in cmd/projections", source, cmp.Or(cfg.Source, config.SourceProjgen))}
		}
		return nil
	}
	if cfg.Registry == config.New().Registry {
		cfg.Registry = model.DefaultRegistry(mod, aggregates)
	}
	cfg.Source = cmp.Or(source, model.DefaultSource(mod, aggregates))
	if cfg.Source == config.SourceProjgen {
		cfg.Source = ""
	}
	return nil
}

func addProjection(cfg *config.Config, proj config.Projection) (rerun bool, err error) {
	old, i := cfg.Projection(proj.Name)
	if old == nil {
		cfg.Projections = append(cfg.Projections, proj)
		return false, nil
	}
	a, errA := yaml.Marshal(old)
	b, errB := yaml.Marshal(proj)
	if errA == nil && errB == nil && bytes.Equal(a, b) {
		return true, nil
	}
	return false, diag.Errorf(cfg.Pos(config.ProjectionPath(i)), "projection %q already exists with other settings", proj.Name).
		WithHint("pass --name to add another projection of this aggregate, or edit projgen.yaml and run projgen generate")
}

// choices turns the per-event flags into model.Choices.
func (f newFlags) choices() (model.Choices, error) {
	ch := model.Choices{
		Name: f.name, Pattern: f.pattern, Table: f.table, Out: f.out,
		KeyField: f.key, KeyColumn: f.keyColumn, KeyScope: f.keyScope, KeyType: f.keyType, Topics: f.topics, Events: f.events,
	}
	var err error
	if ch.Ops, err = eventValues("op", f.ops); err != nil {
		return ch, err
	}
	if ch.Methods, err = eventValues("method", f.methods); err != nil {
		return ch, err
	}
	if ch.When, err = eventValues("when", f.when); err != nil {
		return ch, err
	}
	fields, err := eventValues("fields", f.fields)
	if err != nil {
		return ch, err
	}
	for ev, list := range fields {
		if ch.Fields == nil {
			ch.Fields = map[string][]string{}
		}
		for _, s := range strings.Split(list, ",") {
			if s = strings.TrimSpace(s); s != "" {
				ch.Fields[ev] = append(ch.Fields[ev], s)
			}
		}
		if len(ch.Fields[ev]) == 0 {
			return ch, &usageError{cmd: "new", err: fmt.Errorf("--fields %s= lists no fields: name them, such as --fields %s=A,B, or leave the flag out to project all", ev, ev)}
		}
	}
	for _, s := range f.set {
		ev, col, value, err := eventSubValue("set", s)
		if err != nil {
			return ch, err
		}
		var v any
		if err := yaml.Unmarshal([]byte(value), &v); err != nil {
			return ch, &usageError{cmd: "new", err: fmt.Errorf("--set %s: %q is not a value: %v", s, value, err)}
		}
		if ch.Set == nil {
			ch.Set = map[string]map[string]any{}
		}
		if ch.Set[ev] == nil {
			ch.Set[ev] = map[string]any{}
		}
		ch.Set[ev][col] = v
	}
	for _, s := range f.columns {
		ev, field, col, err := eventSubValue("column", s)
		if err != nil {
			return ch, err
		}
		if ch.Columns == nil {
			ch.Columns = map[string]map[string]string{}
		}
		if ch.Columns[ev] == nil {
			ch.Columns[ev] = map[string]string{}
		}
		ch.Columns[ev][field] = col
	}
	return ch, nil
}

// eventValues parses Event=value flags.
func eventValues(flag string, values []string) (map[string]string, error) {
	if len(values) == 0 {
		return nil, nil
	}
	out := map[string]string{}
	for _, v := range values {
		ev, value, ok := strings.Cut(v, "=")
		if !ok || ev == "" {
			return nil, &usageError{cmd: "new", err: fmt.Errorf("--%s %q: write it as Event=value", flag, v)}
		}
		out[strings.TrimSpace(ev)] = strings.TrimSpace(value)
	}
	return out, nil
}

// eventSubValue parses Event.name=value flags; Event may itself be
// qualified (pkg.Event.name=value).
func eventSubValue(flag, v string) (ev, name, value string, err error) {
	lhs, value, ok := strings.Cut(v, "=")
	i := strings.LastIndex(lhs, ".")
	if !ok || i <= 0 || i == len(lhs)-1 {
		return "", "", "", &usageError{cmd: "new", err: fmt.Errorf("--%s %q: write it as Event.name=value", flag, v)}
	}
	return strings.TrimSpace(lhs[:i]), strings.TrimSpace(lhs[i+1:]), strings.TrimSpace(value), nil
}
