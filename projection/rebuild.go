package projection

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Rebuild replays every event into new copies of the projection's tables
// and swaps their rows in, so that readers never see an empty or partial
// table: until the swap commits they read the old rows, and from then on
// the new ones.
//
//  1. It creates a schema of its own, projgen_rebuild_<hash>, holding
//     empty copies of the tables (CREATE TABLE ... LIKE ... INCLUDING
//     ALL), of the tracking table and of the dead-letter table.
//  2. It replays every event into them, with that schema first on the
//     search_path, while live runners go on with the live tables. With
//     Registration.Fold it folds the events per row in memory instead,
//     RebuildChunk keys at a time, and writes the final rows with COPY;
//     it falls back to the replay when the fold cannot run exactly as
//     the statements would (see Fold).
//  3. It asks the live runner to let go of the projection, which it does
//     at its next batch or poll, takes the projection, replays what came
//     in meanwhile, and in one transaction replaces the rows of each live
//     table by the new ones (DELETE and INSERT, so that the tables keep
//     their grants, views and indexes), and the projection's position and
//     parked events by the replay's.
//  4. It drops its schema and gives the projection back.
//
// A rebuild that a live runner does not let go to within Lease and a
// little more fails with an error naming that runner, and changes
// nothing; so does one that meets a poison event under the Stop policy.
func (r *Runner) Rebuild(ctx context.Context, name string) error {
	reg, err := r.registration(name)
	if err != nil {
		return err
	}
	if err := r.check(true, 3); err != nil {
		return err
	}
	if err := r.rebuild(ctx, reg); err != nil {
		return fmt.Errorf("rebuild projection %q: %w", name, err)
	}
	r.logger().Info("projection rebuilt", "projection", name, "tables", reg.Tables)
	return nil
}

// rebuildLockKey is the advisory lock key a rebuild of the projection
// named $1 holds, in the current schema as lockKey is.
const rebuildLockKey = `hashtextextended('projgen:rebuild:' || coalesce(current_schema(), '') || ':' || $1, 0)`

func (r *Runner) rebuild(ctx context.Context, reg Registration) error {
	conn, err := r.Pool.Acquire(ctx)
	if err != nil {
		return fmt.Errorf("acquire connection: %w", err)
	}
	defer closeSession(ctx, conn)
	var shadow string
	var alone bool
	err = conn.QueryRow(ctx, `SELECT 'projgen_rebuild_' || substr(md5(coalesce(current_schema(), '') || ':' || $1), 1, 16),
	pg_try_advisory_lock(`+rebuildLockKey+`)`, reg.Name).Scan(&shadow, &alone)
	if err != nil {
		return err
	}
	if !alone {
		return errors.New("another rebuild of it is running: wait for it to finish")
	}
	// Closing the session releases the lock too, but only once the
	// server has ended it, which a rebuild right after this one could
	// beat: let go of it first.
	defer func() {
		cleanup, cancel := cleanupContext(ctx)
		defer cancel()
		_, _ = conn.Exec(cleanup, `SELECT pg_advisory_unlock(`+rebuildLockKey+`)`, reg.Name)
	}()
	live, err := liveTables(ctx, conn, reg.Tables)
	if err != nil {
		return err
	}
	if err := createShadow(ctx, conn, shadow, live); err != nil {
		return err
	}
	defer func() {
		cleanup, cancel := cleanupContext(ctx)
		defer cancel()
		_, _ = conn.Exec(cleanup, "DROP SCHEMA IF EXISTS "+pgx.Identifier{shadow}.Sanitize()+" CASCADE")
	}()
	r.logger().Info("rebuild: replaying every event into new tables", "projection", reg.Name, "schema", shadow)
	tables := make([]string, len(live))
	for i, t := range live {
		tables[i] = unqualified(t)
	}
	if err := r.fill(ctx, conn, reg, shadow, tables); err != nil {
		return err
	}
	return r.takeOver(ctx, conn, reg.Name, func() error {
		if err := r.replayTail(ctx, conn, reg, shadow); err != nil {
			return err
		}
		return swap(ctx, conn, reg.Name, shadow, live)
	})
}

// replayTail replays into the schema shadow the events that came in
// while it was filled. When none of the projection's topics did, it only
// moves the shadow's position to where the source can read, on conn:
// the rebuild holds the projection, so a replay would do the same, after
// taking a connection and a lease of its own.
func (r *Runner) replayTail(ctx context.Context, conn *pgxpool.Conn, reg Registration, shadow string) error {
	tracking := pgx.Identifier{shadow, "projgen_tracking"}.Sanitize()
	var position int64
	err := conn.QueryRow(ctx, `SELECT position FROM `+tracking+` WHERE name = $1`, reg.Name).Scan(&position)
	if errors.Is(err, pgx.ErrNoRows) {
		return r.replay(ctx, reg, shadow)
	}
	if err != nil {
		return fmt.Errorf("read the rebuild's position: %w", err)
	}
	page, err := r.Source.Read(ctx, position, reg.Topics, 1)
	if err != nil {
		return err
	}
	if err := checkPage(page, position); err != nil {
		return err
	}
	if len(page.Events) > 0 || page.Through < page.End {
		return r.replay(ctx, reg, shadow)
	}
	if _, err := conn.Exec(ctx, `UPDATE `+tracking+` SET position = $2, updated_at = now() WHERE name = $1`, reg.Name, page.Through); err != nil {
		return fmt.Errorf("move the rebuild's position to %d: %w", page.Through, err)
	}
	return nil
}

// replay catches the projection up in the schema scope: its tables,
// tracking row and dead letters there.
func (r *Runner) replay(ctx context.Context, reg Registration, scope string) error {
	return r.retry(ctx, reg.Name, func(progress func()) error {
		return r.hold(ctx, reg.Name, scope, func(h *holding) error {
			return r.follow(ctx, h, reg, false, progress)
		})
	})
}

// liveTables returns the schema-qualified, quoted names of tables, the
// runner's own tables after them, as the connection's search_path finds
// them.
func liveTables(ctx context.Context, conn *pgxpool.Conn, tables []string) ([]string, error) {
	names := append(append([]string(nil), tables...), "projgen_tracking", "projgen_dead_letters")
	live := make([]string, len(names))
	for i, t := range names {
		var qualified *string
		err := conn.QueryRow(ctx, `SELECT quote_ident(n.nspname) || '.' || quote_ident(c.relname)
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.oid = to_regclass($1)`, pgx.Identifier{t}.Sanitize()).Scan(&qualified)
		if errors.Is(err, pgx.ErrNoRows) || (err == nil && qualified == nil) {
			return nil, fmt.Errorf("table %q does not exist on the search_path: apply the projection's migrations first", t)
		}
		if err != nil {
			return nil, fmt.Errorf("look up table %q: %w", t, err)
		}
		live[i] = *qualified
	}
	return live, nil
}

// createShadow creates the schema shadow, afresh, with an empty copy of
// each live table under its unqualified name.
func createShadow(ctx context.Context, conn *pgxpool.Conn, shadow string, live []string) error {
	schema := pgx.Identifier{shadow}.Sanitize()
	statements := []string{"DROP SCHEMA IF EXISTS " + schema + " CASCADE", "CREATE SCHEMA " + schema}
	for _, t := range live {
		statements = append(statements, "CREATE TABLE "+schema+"."+unqualified(t)+" (LIKE "+t+" INCLUDING ALL)")
	}
	for _, s := range statements {
		if _, err := conn.Exec(ctx, s); err != nil {
			return fmt.Errorf("create the rebuild's tables: %s: %w", s, err)
		}
	}
	return nil
}

// unqualified returns the table part of a qualified, quoted name made by
// liveTables.
func unqualified(qualified string) string {
	// quote_ident doubles quotes inside names, so the last dot outside
	// quotes ends the schema: scan from the end.
	inQuotes := false
	for i := len(qualified) - 1; i >= 0; i-- {
		switch qualified[i] {
		case '"':
			inQuotes = !inQuotes
		case '.':
			if !inQuotes {
				return qualified[i+1:]
			}
		}
	}
	return qualified
}

// swap replaces, in one transaction, the rows of each live table by the
// rows of its copy in shadow, and the projection's position and parked
// events by the replay's. The last two entries of live are the tracking
// and dead-letter tables.
func swap(ctx context.Context, conn *pgxpool.Conn, name, shadow string, live []string) error {
	schema := pgx.Identifier{shadow}.Sanitize()
	tables, runner := live[:len(live)-2], live[len(live)-2:]
	return pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
		for _, t := range tables {
			var columns string
			err := tx.QueryRow(ctx, `SELECT string_agg(quote_ident(attname), ', ' ORDER BY attnum) FROM pg_attribute
WHERE attrelid = $1::regclass AND attnum > 0 AND NOT attisdropped AND attgenerated = ''`, t).Scan(&columns)
			if err != nil {
				return fmt.Errorf("read the columns of %s: %w", t, err)
			}
			if _, err := tx.Exec(ctx, "DELETE FROM "+t); err != nil {
				return fmt.Errorf("swap in %s: %w", t, err)
			}
			copyRows := "INSERT INTO " + t + " (" + columns + ") OVERRIDING SYSTEM VALUE SELECT " + columns + " FROM " + schema + "." + unqualified(t)
			if _, err := tx.Exec(ctx, copyRows); err != nil {
				return fmt.Errorf("swap in %s: %w", t, err)
			}
		}
		tracking, deadLetters := runner[0], runner[1]
		statements := []string{
			"DELETE FROM " + deadLetters + " WHERE projection = $1",
			"INSERT INTO " + deadLetters + " SELECT * FROM " + schema + ".projgen_dead_letters WHERE projection = $1",
			`UPDATE ` + tracking + ` SET position = s.position, updated_at = now(),
	error = s.error, error_position = s.error_position, error_topic = s.error_topic,
	error_aggregate_id = s.error_aggregate_id, error_version = s.error_version, failed_at = s.failed_at
FROM ` + schema + `.projgen_tracking s WHERE ` + tracking + `.name = $1 AND s.name = $1`,
		}
		for _, s := range statements {
			if _, err := tx.Exec(ctx, s, name); err != nil {
				return fmt.Errorf("swap in the position and parked events: %w", err)
			}
		}
		return nil
	})
}

// takeOver runs fn while conn holds the projection name, coordinating with
// a runner that holds it: it asks that runner to let go (pause_requested_at
// in the tracking row), waits for the lock, and withdraws the request at
// the end, when runners take the projection back. It fails, rather than
// wait on, a runner that does not let go within Lease and a little more.
func (r *Runner) takeOver(ctx context.Context, conn *pgxpool.Conn, name string, fn func() error) error {
	if _, err := conn.Exec(ctx, `INSERT INTO projgen_tracking (name, position) VALUES ($1, 0) ON CONFLICT (name) DO NOTHING`, name); err != nil {
		return fmt.Errorf("create the tracking row: %w", err)
	}
	var asked bool
	err := conn.QueryRow(ctx, `WITH ask AS (
	UPDATE projgen_tracking SET pause_requested_at = now(), pause_pid = pg_backend_pid()
	WHERE name = $1 AND (pause_requested_at IS NULL
		OR NOT EXISTS (SELECT 1 FROM pg_stat_activity a WHERE a.pid = projgen_tracking.pause_pid))
	RETURNING 1)
SELECT EXISTS (SELECT 1 FROM ask)`, name).Scan(&asked)
	if err != nil {
		return fmt.Errorf("ask the runner to let go: %w", err)
	}
	if !asked {
		return errors.New("another rebuild or retry of parked events is running: wait for it to finish")
	}
	defer func() {
		cleanup, cancel := cleanupContext(ctx)
		defer cancel()
		_, _ = conn.Exec(cleanup, `UPDATE projgen_tracking SET pause_requested_at = NULL, pause_pid = NULL
WHERE name = $1 AND pause_pid = pg_backend_pid()`, name)
	}()
	deadline := time.Now().Add(r.lease() + 2*r.pollInterval() + time.Second)
	for {
		var locked bool
		if err := conn.QueryRow(ctx, `SELECT pg_try_advisory_lock(`+lockKey+`)`, name).Scan(&locked); err != nil {
			return fmt.Errorf("take advisory lock: %w", err)
		}
		if locked {
			break
		}
		if time.Now().After(deadline) {
			return r.notLettingGo(ctx, conn, name)
		}
		if err := sleep(ctx, 10*time.Millisecond); err != nil {
			return err
		}
	}
	defer func() {
		cleanup, cancel := cleanupContext(ctx)
		defer cancel()
		_, _ = conn.Exec(cleanup, `SELECT pg_advisory_unlock(`+lockKey+`)`, name)
	}()
	return fn()
}

// notLettingGo describes the runner that holds the projection name and did
// not let go of it when asked.
func (r *Runner) notLettingGo(ctx context.Context, conn *pgxpool.Conn, name string) error {
	var holder *string
	var pid *int
	_ = conn.QueryRow(ctx, `SELECT holder, holder_pid FROM projgen_tracking WHERE name = $1`, name).Scan(&holder, &pid)
	who := "a runner"
	if holder != nil && pid != nil {
		who = fmt.Sprintf("runner %s (backend pid %d)", *holder, *pid)
	}
	return fmt.Errorf("%s holds the projection and did not let go of it within %s: it may be an older runner that does not know rebuilds; stop it and try again", who, r.lease()+2*r.pollInterval()+time.Second)
}

// RetryParked applies the named projection's parked events again, once
// the cause is fixed: each aggregate's in position order, each event in a
// transaction that deletes its dead letter. An event that fails again
// keeps its dead letter, with the new error and one more attempt, and so
// do the later events of its aggregate. It coordinates with a live runner
// as Rebuild does, and returns how many events it applied and an error
// naming the first that still fails.
func (r *Runner) RetryParked(ctx context.Context, name string) (int, error) {
	reg, err := r.registration(name)
	if err != nil {
		return 0, err
	}
	if err := r.check(true, 1); err != nil {
		return 0, err
	}
	conn, err := r.Pool.Acquire(ctx)
	if err != nil {
		return 0, fmt.Errorf("retry parked events of %q: acquire connection: %w", name, err)
	}
	defer closeSession(ctx, conn)
	applied := 0
	var failures []error
	err = r.takeOver(ctx, conn, name, func() error {
		rows, err := conn.Query(ctx, `SELECT position, aggregate_id, version, topic, payload, recorded_at
FROM projgen_dead_letters WHERE projection = $1 ORDER BY position`, name)
		if err != nil {
			return err
		}
		parked, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (Stored, error) {
			var s Stored
			err := row.Scan(&s.Position, &s.AggregateID, &s.Version, &s.Topic, &s.Data, &s.Timestamp)
			return s, err
		})
		if err != nil {
			return err
		}
		failed := map[string]bool{}
		for _, s := range parked {
			if failed[s.AggregateID] {
				continue
			}
			err := r.retryOne(ctx, conn, reg, s)
			if err != nil && isTransient(err) {
				return err
			}
			if err != nil {
				failed[s.AggregateID] = true
				failures = append(failures, eventError(s.Meta, err))
				continue
			}
			applied++
		}
		return nil
	})
	if err != nil {
		return applied, fmt.Errorf("retry parked events of %q: %w", name, err)
	}
	if len(failures) > 0 {
		return applied, fmt.Errorf("retry parked events of %q: the events of %d aggregate(s) still fail; the first: %w", name, len(failures), failures[0])
	}
	r.logger().Info("parked events applied", "projection", name, "events", applied)
	return applied, nil
}

// retryOne applies one parked event and deletes its dead letter, in one
// transaction; when it fails, it records the new error.
func (r *Runner) retryOne(ctx context.Context, conn *pgxpool.Conn, reg Registration, s Stored) error {
	err := pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
		if err := r.process(ctx, reg.New(tx), s); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `DELETE FROM projgen_dead_letters WHERE projection = $1 AND position = $2`, reg.Name, s.Position)
		return err
	})
	if err == nil || isTransient(err) {
		return err
	}
	if _, uerr := conn.Exec(ctx, `UPDATE projgen_dead_letters SET error = $3, attempts = attempts + 1
WHERE projection = $1 AND position = $2`, reg.Name, s.Position, err.Error()); uerr != nil {
		return errors.Join(err, uerr)
	}
	return err
}
