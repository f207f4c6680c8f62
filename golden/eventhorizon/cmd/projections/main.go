// Command projections runs this module's projections: it reads the events,
// applies each to the read models, and records how far each projection
// got, in one transaction, so that every event is applied exactly once.
// projgen wrote this file once, with the module's first projection; it is
// yours to change, and projgen never rewrites it.
//
// Usage:
//
//	projections [-park NAMES] [-lease D] [-poll D]         run every projection until interrupted
//	projections -status                                    print where each projection stands
//	projections -wait POSITION [-only NAMES] [-timeout D]  wait until the projections reach POSITION
//	projections -rebuild NAME                              replay a projection into new tables, swapped in
//	projections -retry-parked NAME                         apply a projection's parked events again
//	projections -migrate                                   apply the migrations, create the runner's tables
//	projections -catch-up                                  apply the events stored now, and exit
//
// DATABASE_URL names the PostgreSQL database of the read-model tables and
// of the runner's own; apply the migrations first. The exit status
// is 0 on success and after SIGINT or SIGTERM, 1 when something fails (a
// stopped projection for -status, a timeout for -wait), and 2 when the
// command line is wrong. projections -h lists the flags, with examples.
package main

import (
	"cmp"
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"slices"
	"strings"
	"syscall"
	"time"

	"example.com/eventhorizon/projections"
	"github.com/golang-migrate/migrate/v4"
	pgxmigrate "github.com/golang-migrate/migrate/v4/database/pgx/v5"
	"github.com/golang-migrate/migrate/v4/source/iofs"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/projgen/projgen/projection"
	"github.com/projgen/projgen/projection/migration"
)

// usage introduces the flags in projections -h.
const usage = `Usage:
  projections [-park names] [-lease duration] [-poll duration]
        run every projection until interrupted (SIGINT or SIGTERM)
  projections -status
        print where each projection stands; exit 1 if one has stopped
  projections -wait position [-only names] [-timeout duration]
        wait until the projections have reached position; exit 1 if they do not
  projections -rebuild name
        replay a projection into new tables and swap them in
  projections -retry-parked name
        apply a projection's parked events again, once their cause is fixed
  projections -migrate
        apply every projection's migrations and create the runner's tables
  projections -catch-up
        apply every event stored now to each projection, and exit

Examples:
  projections -migrate
  projections -park booking -lease 30s
  projections -wait 1042 -only booking -timeout 5s
  projections -rebuild booking

DATABASE_URL names the PostgreSQL database of the read models.
The exit status is 0 on success, 1 on failure, 2 for a wrong command line.

Flags:
`

// options are what the command line asks for.
type options struct {
	db          *pgxpool.Config
	events      string
	status      bool
	waiting     bool
	position    int64
	only        []string
	timeout     time.Duration
	rebuild     string
	retryParked string
	migrate     bool
	catchUp     bool
	park        []string
	lease, poll time.Duration
}

func main() {
	registrations := projections.Registrations()
	o := parseFlags(registrations)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, o, registrations); err != nil {
		fmt.Fprintln(os.Stderr, "projections:", err)
		os.Exit(1)
	}
}

// parseFlags reads the flags and DATABASE_URL. On a mistake it says what to
// do and exits with status 2.
func parseFlags(registrations []projection.Registration) options {
	o := options{}
	flag.StringVar(&o.events, "events", "events", "the table the events are stored in")
	flag.BoolVar(&o.status, "status", false, "print where each projection stands, and exit")
	flag.Int64Var(&o.position, "wait", 0, "wait until the runner has brought the projections to `position`, and exit")
	only := flag.String("only", "", "with -wait, wait only for these comma-separated projection `names`")
	flag.DurationVar(&o.timeout, "timeout", 30*time.Second, "with -wait, how long to wait; 0 waits until interrupted")
	flag.StringVar(&o.rebuild, "rebuild", "", "replay projection `name` into new tables, swap them in, and exit")
	flag.StringVar(&o.retryParked, "retry-parked", "", "apply the parked events of projection `name` again, and exit")
	flag.BoolVar(&o.migrate, "migrate", false, "apply every projection's migrations with golang-migrate, create the events table, create the runner's tables, and exit")
	flag.BoolVar(&o.catchUp, "catch-up", false, "apply every event stored now to each projection, and exit")
	park := flag.String("park", "", "park the poison events of these comma-separated projection `names` in projgen_dead_letters, rather than stop there")
	flag.DurationVar(&o.lease, "lease", 0, "how long a runner that stops responding keeps its projections from a standby; 0 for the default, 10s")
	flag.DurationVar(&o.poll, "poll", 0, "how often a projection that has caught up looks for new events; 0 for the default, 100ms")
	flag.Usage = func() {
		fmt.Fprint(flag.CommandLine.Output(), usage)
		flag.PrintDefaults()
	}
	flag.Parse()
	set := map[string]bool{}
	flag.Visit(func(f *flag.Flag) {
		set["-"+f.Name] = true
	})
	var modes []string
	for _, mode := range []string{"-status", "-wait", "-rebuild", "-retry-parked", "-migrate", "-catch-up"} {
		if set[mode] {
			modes = append(modes, mode)
		}
	}
	switch {
	case flag.NArg() > 0:
		usageError("unexpected argument %q: projections takes flags only", flag.Arg(0))
	case len(modes) > 1:
		usageError("%s cannot go together: give one of them", strings.Join(modes, " and "))
	case (set["-only"] || set["-timeout"]) && !set["-wait"]:
		usageError("-only and -timeout go with -wait POSITION")
	case o.position < 0:
		usageError("-wait %d: give a position of 0 or more", o.position)
	case o.timeout < 0 || o.lease < 0 || o.poll < 0:
		usageError("-timeout, -lease and -poll take a duration of 0 or more, such as 500ms or 30s")
	case o.events == "":
		usageError("-events needs the name of the events table")
	}
	o.waiting = set["-wait"]
	if set["-only"] {
		o.only = checkNames("-only", splitNames(*only), registrations)
	}
	if set["-park"] {
		o.park = checkNames("-park", splitNames(*park), registrations)
	}
	if set["-rebuild"] {
		checkNames("-rebuild", []string{o.rebuild}, registrations)
	}
	if set["-retry-parked"] {
		checkNames("-retry-parked", []string{o.retryParked}, registrations)
	}
	url := os.Getenv("DATABASE_URL")
	if url == "" {
		usageError("set DATABASE_URL to the PostgreSQL database, such as postgres://user:password@localhost:5432/app")
	}
	var err error
	if o.db, err = pgxpool.ParseConfig(url); err != nil {
		usageError("DATABASE_URL: %v", err)
	}
	return o
}

// splitNames splits a comma-separated list of names.
func splitNames(list string) []string {
	var names []string
	for _, name := range strings.Split(list, ",") {
		if name = strings.TrimSpace(name); name != "" {
			names = append(names, name)
		}
	}
	return names
}

// checkNames returns the projection names given to a flag, after it has
// checked that there is one at least and that each is registered; it exits
// with status 2 otherwise.
func checkNames(flagName string, names []string, registrations []projection.Registration) []string {
	var known []string
	for _, r := range registrations {
		known = append(known, r.Name)
	}
	if len(names) == 0 || names[0] == "" {
		usageError("%s needs a projection name; the projections are %s", flagName, strings.Join(known, ", "))
	}
	for _, name := range names {
		if !slices.Contains(known, name) {
			usageError("%s: no projection named %q; the projections are %s", flagName, name, strings.Join(known, ", "))
		}
	}
	return names
}

// usageError exits with status 2 after saying what is wrong with the
// command line.
func usageError(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "projections: %s\nRun projections -h for the flags, with examples.\n", fmt.Sprintf(format, args...))
	os.Exit(2)
}

// run connects to the database and does what the flags ask.
func run(ctx context.Context, o options, registrations []projection.Registration) error {
	for i := range registrations {
		if slices.Contains(o.park, registrations[i].Name) {
			registrations[i].OnError = projection.Park
		}
	}
	// Each projection runs on a connection of its own, which holds its lock.
	o.db.MaxConns = max(o.db.MaxConns, int32(len(registrations)+2))
	pool, err := pgxpool.NewWithConfig(ctx, o.db)
	if err != nil {
		return fmt.Errorf("connect: %w", err)
	}
	defer pool.Close()
	if o.migrate {
		return migrateUp(ctx, o, pool)
	}
	source, closeSource, err := openSource(ctx, o, pool)
	if err != nil {
		return err
	}
	defer closeSource()
	runner := &projection.Runner{
		Pool:          pool,
		Source:        source,
		Types:         projections.EventTypes(),
		Registrations: registrations,
		Lease:         o.lease,
		PollInterval:  o.poll,
	}
	if err := runner.Setup(ctx); err != nil {
		return err
	}
	switch {
	case o.status:
		return printStatus(ctx, runner)
	case o.waiting:
		return wait(ctx, runner, o)
	case o.rebuild != "":
		if err := runner.Rebuild(ctx, o.rebuild); err != nil {
			return err
		}
		fmt.Printf("%s: rebuilt\n", o.rebuild)
		return nil
	case o.retryParked != "":
		n, err := runner.RetryParked(ctx, o.retryParked)
		fmt.Printf("%s: %d parked events applied\n", o.retryParked, n)
		return err
	case o.catchUp:
		for _, r := range registrations {
			if err := runner.CatchUp(ctx, r.Name); err != nil {
				return err
			}
		}
		return printStatus(ctx, runner)
	}
	return runner.Run(ctx)
}

// openSource reads projgen's own events table, in DATABASE_URL's database
// too; there is nothing to close.
func openSource(_ context.Context, o options, pool *pgxpool.Pool) (projection.EventSource, func(), error) {
	return projection.NewPostgresSource(pool, o.events), func() {}, nil
}

// migrateUp creates the events table when -events is the default and it is
// missing, then applies the migrations of every projection with
// golang-migrate, each directory recording its versions in a table of its
// own, and creates the runner's tables. It is safe to run again: it applies
// only what is missing.
func migrateUp(ctx context.Context, o options, pool *pgxpool.Pool) error {
	if o.events == "events" {
		if _, err := pool.Exec(ctx, projection.EventsTableSQL); err != nil {
			return fmt.Errorf("create the events table: %w", err)
		}
	}
	for _, dir := range projections.MigrationDirs() {
		if err := migrateDir(ctx, pool, dir); err != nil {
			return fmt.Errorf("migrate %s: %w", dir.Path, err)
		}
	}
	return (&projection.Runner{Pool: pool}).Setup(ctx)
}

// migrateDir applies the migrations of dir that the database lacks, with
// golang-migrate, and says where it stands.
func migrateDir(_ context.Context, pool *pgxpool.Pool, dir migration.Dir) error {
	// Closing the handle, which migrate does, leaves the pool open.
	driver, err := pgxmigrate.WithInstance(stdlib.OpenDBFromPool(pool), &pgxmigrate.Config{MigrationsTable: dir.VersionTable})
	if err != nil {
		return err
	}
	files, err := iofs.New(dir.Files, ".")
	if err != nil {
		return err
	}
	m, err := migrate.NewWithInstance("iofs", files, "pgx5", driver)
	if err != nil {
		return err
	}
	defer m.Close()
	if err := m.Up(); err != nil && !errors.Is(err, migrate.ErrNoChange) {
		return err
	}
	version, _, err := m.Version()
	if err != nil {
		return err
	}
	fmt.Printf("%s: at version %d (%s)\n", dir.Path, version, dir.VersionTable)
	return nil
}

// printStatus prints where each projection stands, and returns an error
// naming the projections that have stopped.
func printStatus(ctx context.Context, runner *projection.Runner) error {
	statuses, err := runner.Status(ctx)
	if err != nil {
		return err
	}
	var stopped []string
	for _, s := range statuses {
		fmt.Printf("%s: %s, position %d, head %d, lag %d events (%.1fs), %d parked\n",
			s.Name, s.State, s.Position, s.Head, s.Lag, s.LagTime.Seconds(), s.Parked)
		if s.HolderPID != 0 {
			holder := fmt.Sprintf("backend pid %d", s.HolderPID)
			if s.Holder != "" {
				holder = fmt.Sprintf("%s (backend pid %d) since %s", s.Holder, s.HolderPID, s.HeldSince.Format(time.RFC3339))
			}
			fmt.Printf("  held by %s\n", holder)
		}
		if s.State == projection.Stopped {
			stopped = append(stopped, s.Name)
		}
		if f := s.Failure; f != nil {
			fmt.Printf("  stopped at position %d (topic %q, aggregate %s, version %d) at %s: %s\n",
				f.Event.Position, f.Event.Topic, f.Event.AggregateID, f.Event.Version, f.At.Format(time.RFC3339), f.Error)
		}
		if b := s.HeldBack; b != nil {
			holders := make([]string, len(b.Holders))
			for i, h := range b.Holders {
				holders[i] = h.State // a prepared transaction, which has no session
				if h.PID != 0 {
					holders[i] = fmt.Sprintf("pid %d (%s, %s)", h.PID, cmp.Or(h.Application, "no application_name"), h.State)
				}
			}
			fmt.Printf("  held back since %s by %s\n", b.Since.Format(time.RFC3339), strings.Join(holders, ", "))
		}
	}
	if len(stopped) > 0 {
		return fmt.Errorf("stopped: %s; fix the cause and restart the runner, which tries the event again, or restart it with -park %s",
			strings.Join(stopped, ", "), strings.Join(stopped, ","))
	}
	return nil
}

// wait waits until each projection of o.only, or every one, has reached
// o.position, for o.timeout at most.
func wait(ctx context.Context, runner *projection.Runner, o options) error {
	if o.timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, o.timeout)
		defer cancel()
	}
	names := o.only
	if len(names) == 0 {
		for _, r := range runner.Registrations {
			names = append(names, r.Name)
		}
	}
	for _, name := range names {
		err := runner.Wait(ctx, name, o.position)
		if errors.Is(err, context.DeadlineExceeded) {
			return fmt.Errorf("timed out after %s: %w (projections -status shows where each projection stands)", o.timeout, err)
		}
		if err != nil {
			return err
		}
	}
	return nil
}
