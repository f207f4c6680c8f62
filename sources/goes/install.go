package goes

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/jackc/pgx/v5"
)

// DefaultTable is the table goes' PostgreSQL event store writes unless its
// Table option says otherwise.
const DefaultTable = "events"

// DefaultLog is the name of the ordering table Install creates.
const DefaultLog = "projgen_goes_log"

// Option configures Install, Uninstall and NewSource. Give all three the
// same options.
type Option func(*config)

// Table names goes' events table: what goes' Table option names, "events"
// by default. The name is quoted, so it is taken exactly as written: goes
// puts its option into SQL unquoted, where PostgreSQL folds it to lower
// case, so pass a name goes was given in mixed case in lower case. A name
// with a dot, such as "store.events", is schema.table; an unqualified one
// is found on the connection's search_path.
func Table(name string) Option {
	return func(c *config) { c.table = strings.Split(name, ".") }
}

// Log names the ordering table, "projgen_goes_log" by default. It is
// quoted, as Table's is. An unqualified name is put in the schema of goes'
// table, wherever the search_path points.
func Log(name string) Option {
	return func(c *config) { c.log = strings.Split(name, ".") }
}

// config is what the options set.
type config struct {
	table []string
	log   []string
}

func newConfig(opts []Option) config {
	c := config{table: []string{DefaultTable}, log: []string{DefaultLog}}
	for _, o := range opts {
		o(&c)
	}
	return c
}

// Beginner begins transactions: *pgxpool.Pool, *pgx.Conn and pgx.Tx do.
type Beginner interface {
	Begin(ctx context.Context) (pgx.Tx, error)
}

// names are the objects of one installation, qualified and quoted.
type names struct {
	events  string // goes' table
	log     string // the ordering table
	fn      string // the trigger function, in the log's schema
	trigger string // the trigger on goes' table (unqualified: triggers belong to their table)
	// triggerName is trigger unquoted, as pg_trigger has it.
	triggerName string
	index       string // the log's index by name and position (unqualified: it goes in the log's schema)
	logOID      uint32 // 0 before the log exists
	evOID       uint32
}

// resolve finds goes' table and names the log and its objects from it.
func (c config) resolve(ctx context.Context, db interface {
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}) (names, error) {
	given := pgx.Identifier(c.table).Sanitize()
	var oid *uint32
	var schema, table *string
	err := db.QueryRow(ctx, `SELECT c.oid, n.nspname, c.relname
FROM (SELECT to_regclass($1) AS oid) r
LEFT JOIN pg_class c ON c.oid = r.oid
LEFT JOIN pg_namespace n ON n.oid = c.relnamespace`, given).Scan(&oid, &schema, &table)
	if err != nil {
		return names{}, fmt.Errorf("look up goes' events table %s: %w", given, err)
	}
	if oid == nil || schema == nil || table == nil {
		return names{}, fmt.Errorf("goes' events table %s does not exist on the search_path: connect goes' event store once (it creates the table), or name the table with goes.Table (schema.table)", given)
	}
	log := c.log
	if len(log) == 1 {
		log = []string{*schema, log[0]}
	}
	base := log[len(log)-1]
	// PostgreSQL cuts names at 63 bytes; a cut trigger name would not be
	// found again.
	if len(base+"_name_position") > 63 {
		return names{}, fmt.Errorf("the ordering table's name %q is too long: keep it to 49 bytes, so that its trigger and index names fit PostgreSQL's 63", base)
	}
	n := names{
		events:      pgx.Identifier{*schema, *table}.Sanitize(),
		log:         pgx.Identifier(log).Sanitize(),
		fn:          pgx.Identifier(append(slices.Clone(log[:len(log)-1]), base+"_append")).Sanitize(),
		trigger:     pgx.Identifier{base + "_append"}.Sanitize(),
		triggerName: base + "_append",
		index:       pgx.Identifier{base + "_name_position"}.Sanitize(),
		evOID:       *oid,
	}
	var logOID *uint32
	if err := db.QueryRow(ctx, `SELECT to_regclass($1)::oid`, n.log).Scan(&logOID); err != nil {
		return names{}, fmt.Errorf("look up the ordering table %s: %w", n.log, err)
	}
	if logOID != nil {
		n.logOID = *logOID
	}
	return n, nil
}

// goesColumns are the columns the source reads from goes' table, with the
// types goes creates or accepts (format_type's spelling).
var goesColumns = []struct {
	name  string
	types []string
}{
	{"id", []string{"uuid"}},
	{"name", []string{"character varying", "text"}},
	{"time", []string{"bigint"}},
	{"aggregate_id", []string{"uuid"}},
	{"aggregate_version", []string{"integer"}},
	{"data", []string{"jsonb"}},
}

// checkColumns refuses a goes table without the columns the trigger and
// the reads use, before a trigger that would make goes' inserts fail is
// installed.
func checkColumns(ctx context.Context, tx pgx.Tx, n names) error {
	rows, err := tx.Query(ctx, `SELECT attname, format_type(atttypid, NULL) FROM pg_attribute
WHERE attrelid = $1 AND attnum > 0 AND NOT attisdropped`, n.evOID)
	if err != nil {
		return fmt.Errorf("read the columns of %s: %w", n.events, err)
	}
	have := map[string]string{}
	var name, typ string
	if _, err := pgx.ForEachRow(rows, []any{&name, &typ}, func() error { have[name] = typ; return nil }); err != nil {
		return fmt.Errorf("read the columns of %s: %w", n.events, err)
	}
	var problems []string
	for _, c := range goesColumns {
		switch t, ok := have[c.name]; {
		case !ok:
			problems = append(problems, fmt.Sprintf("no column %s", c.name))
		case !slices.Contains(c.types, t):
			problems = append(problems, fmt.Sprintf("column %s is %s, not %s", c.name, t, c.types[0]))
		}
	}
	if len(problems) > 0 {
		return fmt.Errorf("%s is not a goes events table: %s", n.events, strings.Join(problems, "; "))
	}
	return nil
}

// bodyTag quotes the trigger function's body.
const bodyTag = "$projgen_goes$"

// Install makes goes' events table readable by a Source: it creates the
// ordering table (Log) if it is missing, gives every event of goes' table
// that the log lacks a position, in (time, id) order and in one statement,
// and (re)creates the trigger that gives each event inserted afterwards
// its position in the inserting transaction. It runs in one transaction
// that first locks goes' table against inserts (SHARE ROW EXCLUSIVE),
// waiting for the transactions inserting now to end, so that no event
// falls between the backfill and the trigger; goes' writers wait for
// Install in turn, for as long as the backfill takes.
//
// Install is idempotent, and safe to run from several processes at once,
// which the lock serialises. Run again, it repairs: events that reached
// goes' table while the trigger was missing or disabled are appended to
// the log, after every position it holds. It needs the privileges of goes'
// table's owner (to lock it and create a trigger on it) and CREATE on the
// log's schema. goes' writers need no new privilege: the trigger's
// function runs as the role that ran Install.
func Install(ctx context.Context, db Beginner, opts ...Option) error {
	c := newConfig(opts)
	err := pgx.BeginFunc(ctx, db, func(tx pgx.Tx) error {
		n, err := c.resolve(ctx, tx)
		if err != nil {
			return err
		}
		if strings.Contains(n.log+n.fn, bodyTag) {
			return fmt.Errorf("the ordering table's name %s contains %s, which quotes the trigger function's body", n.log, bodyTag)
		}
		if err := checkColumns(ctx, tx, n); err != nil {
			return err
		}
		steps := []struct{ what, sql string }{
			{"lock " + n.events + " against inserts", `LOCK TABLE ` + n.events + ` IN SHARE ROW EXCLUSIVE MODE`},
			{"create " + n.log, `CREATE TABLE IF NOT EXISTS ` + n.log + ` (
	position bigint GENERATED ALWAYS AS IDENTITY (CACHE 1) PRIMARY KEY,
	event_id uuid NOT NULL UNIQUE,
	name text NOT NULL
)`},
			{"index " + n.log, `CREATE INDEX IF NOT EXISTS ` + n.index + ` ON ` + n.log + ` (name, position)`},
			{"backfill " + n.log, `INSERT INTO ` + n.log + ` (event_id, name)
SELECT e.id, e.name FROM ` + n.events + ` e
WHERE NOT EXISTS (SELECT FROM ` + n.log + ` l WHERE l.event_id = e.id)
ORDER BY e.time, e.id`},
			{"create " + n.fn, `CREATE OR REPLACE FUNCTION ` + n.fn + `() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS ` + bodyTag + `
BEGIN
	INSERT INTO ` + n.log + ` (event_id, name)
	SELECT e.id, e.name FROM projgen_new_events e ORDER BY e.time, e.id
	ON CONFLICT (event_id) DO UPDATE SET position = DEFAULT, name = EXCLUDED.name;
	RETURN NULL;
END
` + bodyTag},
			{"drop the old trigger", `DROP TRIGGER IF EXISTS ` + n.trigger + ` ON ` + n.events},
			{"create the trigger", `CREATE TRIGGER ` + n.trigger + ` AFTER INSERT ON ` + n.events + `
REFERENCING NEW TABLE AS projgen_new_events
FOR EACH STATEMENT EXECUTE FUNCTION ` + n.fn + `()`},
		}
		for _, s := range steps {
			if _, err := tx.Exec(ctx, s.sql); err != nil {
				return fmt.Errorf("%s: %w", s.what, err)
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("install the projgen goes source: %w", err)
	}
	return nil
}

// Uninstall drops the trigger, its function and the ordering table. The
// positions go with the table: projections that read them must be rebuilt
// after a new Install, which numbers the events afresh.
func Uninstall(ctx context.Context, db Beginner, opts ...Option) error {
	c := newConfig(opts)
	err := pgx.BeginFunc(ctx, db, func(tx pgx.Tx) error {
		n, err := c.resolve(ctx, tx)
		if err != nil {
			return err
		}
		for _, sql := range []string{
			`DROP TRIGGER IF EXISTS ` + n.trigger + ` ON ` + n.events,
			`DROP FUNCTION IF EXISTS ` + n.fn + `()`,
			`DROP TABLE IF EXISTS ` + n.log,
		} {
			if _, err := tx.Exec(ctx, sql); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("uninstall the projgen goes source: %w", err)
	}
	return nil
}
