package projection

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// TrackingTableSQL creates the table where the runner keeps each
// projection's position, when it does not exist. Runner.Setup runs it; it
// can also go in a migration. The table lives on the search_path of the
// runner's pool, next to the read models, so that a batch and the position
// it reaches commit in one transaction.
const TrackingTableSQL = `CREATE TABLE IF NOT EXISTS projgen_tracking (
	name text PRIMARY KEY,
	position bigint NOT NULL,
	updated_at timestamptz NOT NULL DEFAULT now()
)`

// Defaults of the Runner's optional fields. A batch of 500 keeps
// transactions short while paying for a round trip per many events.
const (
	defaultBatchSize    = 500
	defaultPollInterval = time.Second
)

// Bounds of the wait between retries of a transient error: it starts at
// minRetryDelay and doubles up to maxRetryDelay, so that a database that is
// restarting is neither hammered nor waited on for long once it is back.
const (
	minRetryDelay = 100 * time.Millisecond
	maxRetryDelay = 30 * time.Second
)

// Runner applies events to projections, exactly once: for each batch it
// opens one transaction on Pool, builds the projection on it
// (Registration.New(tx)), applies the events, and advances the
// projection's tracking row in the same transaction, then commits. A crash
// loses nothing and applies nothing twice.
//
// Each projection runs on one connection of Pool, which holds the
// projection's advisory lock and carries its transactions, while Source
// reads on connections of its own. Run therefore needs a pool of at least
// one connection per projection and one more (pool_max_conns in the URL);
// it says so rather than wait forever for a connection.
type Runner struct {
	// Pool is the database of the read models and of the tracking table.
	Pool *pgxpool.Pool
	// Source is where events are read from.
	Source EventSource
	// Types decodes stored payloads; generated registries return it as
	// EventTypes().
	Types EventTypes
	// Registrations are the projections to run; generated registries
	// return them as Registrations().
	Registrations []Registration
	// BatchSize is the most events applied in one transaction; default 500.
	BatchSize int
	// PollInterval is how long to wait when caught up; default 1s.
	PollInterval time.Duration
	// Logger receives progress, waits and retries; default slog.Default().
	Logger *slog.Logger
}

// Status is where a projection stands.
type Status struct {
	// Name is the projection's name.
	Name string
	// Position is the position the projection has reached: every event up
	// to it has been applied, or is of a topic it does not read.
	Position int64
	// Head is the position of the last event the source lets a reader see.
	Head int64
	// Lag is Head - Position, never negative.
	Lag int64
	// UpdatedAt is when the position last changed; zero if it never has.
	UpdatedAt time.Time
}

// errPositionMoved reports that a projection's tracking row changed under
// a batch, which only another runner or a rebuild ignoring the advisory
// lock can cause. The batch is rolled back and retried from the new
// position, so it is a transient error.
var errPositionMoved = errors.New("tracking position moved during the batch")

// Setup creates the tracking table if it does not exist. It takes a
// transaction-level advisory lock first because two sessions running
// CREATE TABLE IF NOT EXISTS at once can still collide in the catalog.
func (r *Runner) Setup(ctx context.Context) error {
	if r.Pool == nil {
		return errors.New("projection runner: setup: Pool is nil")
	}
	err := pgx.BeginFunc(ctx, r.Pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtextextended('projgen:setup', 0))`); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, TrackingTableSQL)
		return err
	})
	if err != nil {
		return fmt.Errorf("projection runner: create tracking table: %w", err)
	}
	return nil
}

// Run runs every registered projection until ctx is done or one fails.
// Only one runner process runs a given projection at a time: each holds a
// PostgreSQL session advisory lock on a connection of its own while it
// runs, and the others wait for the lock. Transient errors (connection
// errors, serialization failure 40001, deadlock 40P01) are retried with
// exponential backoff, from 100ms up to 30s. A poison event, one the
// projection returns an error for or whose payload does not decode, stops
// the runner with an error that wraps an *EventError naming its position,
// topic and aggregate; it is never skipped, since skipping would silently
// leave the read model wrong. Run returns nil when ctx is cancelled.
func (r *Runner) Run(ctx context.Context) error {
	if len(r.Registrations) == 0 {
		return errors.New("projection runner: no projections to run")
	}
	if err := r.check(true, len(r.Registrations)+1); err != nil {
		return err
	}
	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	errs := make([]error, len(r.Registrations))
	var wg sync.WaitGroup
	for i, reg := range r.Registrations {
		wg.Go(func() {
			err := r.retry(runCtx, reg.Name, func(progress func()) error {
				return r.withLock(runCtx, reg.Name, func(conn *pgxpool.Conn) error {
					return r.run(runCtx, conn, reg, true, progress)
				})
			})
			// Once the context is done, every projection returns the
			// error that cancellation caused: that is stopping, not
			// failing. One that failed first has cancelled the context
			// after recording its error.
			if err == nil || runCtx.Err() != nil {
				return
			}
			errs[i] = fmt.Errorf("projection %q: %w", reg.Name, err)
			r.logger().Error("projection stopped", "projection", reg.Name, "error", err)
			cancel()
		})
	}
	wg.Wait()
	return errors.Join(errs...)
}

// CatchUp applies every event available now to the named projection, then
// returns (no waiting, no polling): what tests and one-off jobs use. "Now"
// is when it holds the projection's advisory lock, which it waits for like
// Run; transient errors are retried as Run does.
func (r *Runner) CatchUp(ctx context.Context, name string) error {
	reg, err := r.registration(name)
	if err != nil {
		return err
	}
	if err := r.check(true, 2); err != nil {
		return err
	}
	err = r.retry(ctx, name, func(progress func()) error {
		return r.withLock(ctx, name, func(conn *pgxpool.Conn) error {
			return r.run(ctx, conn, reg, false, progress)
		})
	})
	if err != nil {
		return fmt.Errorf("catch up projection %q: %w", name, err)
	}
	return nil
}

// Rebuild empties the projection's tables (TRUNCATE of Registration.Tables,
// quoted) and resets its position to 0, in one transaction, under the
// advisory lock; the next Run or CatchUp replays every event. It waits
// while another runner runs the projection, so a running Run must be
// stopped first.
func (r *Runner) Rebuild(ctx context.Context, name string) error {
	reg, err := r.registration(name)
	if err != nil {
		return err
	}
	if err := r.check(false, 1); err != nil {
		return err
	}
	err = r.retry(ctx, name, func(func()) error {
		return r.withLock(ctx, name, func(conn *pgxpool.Conn) error {
			return pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
				if len(reg.Tables) > 0 {
					quoted := make([]string, len(reg.Tables))
					for i, t := range reg.Tables {
						quoted[i] = pgx.Identifier{t}.Sanitize()
					}
					if _, err := tx.Exec(ctx, "TRUNCATE "+strings.Join(quoted, ", ")); err != nil {
						return fmt.Errorf("truncate %s: %w", strings.Join(quoted, ", "), err)
					}
				}
				if _, err := tx.Exec(ctx, resetSQL, name); err != nil {
					return fmt.Errorf("reset position: %w", err)
				}
				return nil
			})
		})
	})
	if err != nil {
		return fmt.Errorf("rebuild projection %q: %w", name, err)
	}
	r.logger().Info("projection rebuilt; the next run replays every event", "projection", name, "tables", reg.Tables)
	return nil
}

// Status returns the status of every registered projection, sorted by
// name. It takes no lock: it reads committed positions, which is what a
// monitor wants while runners work.
func (r *Runner) Status(ctx context.Context) ([]Status, error) {
	if err := r.check(true, 1); err != nil {
		return nil, err
	}
	head, err := r.Source.Head(ctx)
	if err != nil {
		return nil, fmt.Errorf("projection status: %w", err)
	}
	// Every registered name, tracked or not yet; sorted by bytes, as Go
	// sorts strings, whatever the database's collation.
	rows, err := r.Pool.Query(ctx, `SELECT n.name, coalesce(t.position, 0), t.updated_at
FROM unnest($1::text[]) AS n(name) LEFT JOIN projgen_tracking t ON t.name = n.name
ORDER BY n.name COLLATE "C"`, r.names())
	if err != nil {
		return nil, fmt.Errorf("projection status: %w", err)
	}
	statuses, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (Status, error) {
		var s Status
		var updated *time.Time
		if err := row.Scan(&s.Name, &s.Position, &updated); err != nil {
			return s, err
		}
		if updated != nil {
			s.UpdatedAt = *updated
		}
		s.Head, s.Lag = head, max(head-s.Position, 0)
		return s, nil
	})
	if err != nil {
		return nil, fmt.Errorf("projection status: %w", err)
	}
	return statuses, nil
}

// Statements on the tracking table. trackSQL advances a position only
// from the one the batch started at ($3): should another session have
// moved it, despite the advisory lock, the batch affects no row and is
// rolled back rather than applied twice.
const (
	positionSQL = `SELECT position FROM projgen_tracking WHERE name = $1`
	trackSQL    = `INSERT INTO projgen_tracking (name, position, updated_at) VALUES ($1, $2, now())
ON CONFLICT (name) DO UPDATE SET position = EXCLUDED.position, updated_at = now()
WHERE projgen_tracking.position = $3`
	resetSQL = `INSERT INTO projgen_tracking (name, position, updated_at) VALUES ($1, 0, now())
ON CONFLICT (name) DO UPDATE SET position = EXCLUDED.position, updated_at = now()`
)

// lockKey is the advisory lock key of the projection named $1. It includes
// the current schema because the tracking table is found on the
// search_path: projections of the same name tracked in two schemas of one
// database are different projections and must not wait for each other.
const lockKey = `hashtextextended('projgen:' || coalesce(current_schema(), '') || ':' || $1::text, 0)`

// run applies events to reg on conn. With follow it goes on as events
// become available, until ctx is done, and returns ctx's error then.
// Without, it stops at the source's head as it is when run starts, so
// that it ends even while writers keep appending.
func (r *Runner) run(ctx context.Context, conn *pgxpool.Conn, reg Registration, follow bool, progress func()) error {
	var pos int64
	err := conn.QueryRow(ctx, positionSQL, reg.Name).Scan(&pos)
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return fmt.Errorf("read position: %w", err)
	}
	r.logger().Info("projection started", "projection", reg.Name, "position", pos, "follow", follow)
	head, err := r.Source.Head(ctx)
	if err != nil {
		return err
	}
	for {
		caughtUp, err := r.step(ctx, conn, reg, &pos, head, !follow)
		if err != nil {
			return err
		}
		progress()
		if !follow {
			if caughtUp {
				r.logger().Debug("projection caught up", "projection", reg.Name, "position", pos)
				return nil
			}
			continue
		}
		if caughtUp {
			if err := sleep(ctx, r.pollInterval()); err != nil {
				return err
			}
		}
		if head, err = r.Source.Head(ctx); err != nil {
			return err
		}
	}
}

// step reads one batch after *pos and applies it, advancing *pos. It
// reports whether the projection has caught up with head. When it has,
// every event of its topics up to head is applied, so its position moves
// to head even if the last events there are of other topics: lag then
// reads 0, and those events are not read again. With bounded, events past
// head are left for later.
func (r *Runner) step(ctx context.Context, conn *pgxpool.Conn, reg Registration, pos *int64, head int64, bounded bool) (caughtUp bool, err error) {
	limit := r.batchSize()
	events, err := r.Source.Events(ctx, *pos, reg.Topics, limit)
	if err != nil {
		return false, err
	}
	// A source that returned an event out of order would make the
	// tracked position skip or repeat events: refuse it.
	last := *pos
	for _, e := range events {
		if e.Position <= last {
			return false, fmt.Errorf("event source returned position %d after %d: events must come in increasing position order", e.Position, last)
		}
		last = e.Position
	}
	caughtUp = len(events) < limit
	if bounded {
		if i := slices.IndexFunc(events, func(e Stored) bool { return e.Position > head }); i >= 0 {
			events, caughtUp = events[:i], true
		}
	}
	target := *pos
	if len(events) > 0 {
		target = events[len(events)-1].Position
	}
	if caughtUp {
		target = max(target, head)
	}
	if target == *pos {
		return caughtUp, nil
	}
	if err := r.apply(ctx, conn, reg, *pos, target, events); err != nil {
		return false, err
	}
	r.logger().Debug("projection applied events", "projection", reg.Name, "events", len(events), "position", target)
	*pos = target
	return caughtUp, nil
}

// apply applies events to reg and moves its position from from to to, in
// one transaction on conn: either both happen or neither does.
func (r *Runner) apply(ctx context.Context, conn *pgxpool.Conn, reg Registration, from, to int64, events []Stored) error {
	tx, err := conn.Begin(ctx)
	if err != nil {
		return fmt.Errorf("begin batch: %w", err)
	}
	defer func() {
		// After Commit this does nothing. The context may be cancelled
		// already; a rollback that cannot be sent leaves the
		// connection closed, which rolls back as well.
		cleanup, cancel := cleanupContext(ctx)
		defer cancel()
		_ = tx.Rollback(cleanup)
	}()
	p := reg.New(tx)
	for _, s := range events {
		data, err := r.Types.Decode(s.Topic, s.Data)
		if err != nil {
			return &EventError{Meta: s.Meta, Err: err}
		}
		if err := p.Process(ctx, Event{Meta: s.Meta, Data: data}); err != nil {
			// Generated projections name the event themselves for
			// some errors; wrapping those again would name it twice.
			if ee := (*EventError)(nil); errors.As(err, &ee) {
				return err
			}
			return &EventError{Meta: s.Meta, Err: err}
		}
	}
	tag, err := tx.Exec(ctx, trackSQL, reg.Name, to, from)
	if err != nil {
		return fmt.Errorf("advance position to %d: %w", to, err)
	}
	if tag.RowsAffected() != 1 {
		return fmt.Errorf("advance position from %d to %d: %w", from, to, errPositionMoved)
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("commit batch up to position %d: %w", to, err)
	}
	return nil
}

// registration returns the registration named name.
func (r *Runner) registration(name string) (Registration, error) {
	for _, reg := range r.Registrations {
		if reg.Name == name {
			return reg, nil
		}
	}
	return Registration{}, fmt.Errorf("projection runner: no projection named %q (have %s)", name, strings.Join(r.names(), ", "))
}

// names returns the names of the registered projections.
func (r *Runner) names() []string {
	names := make([]string, len(r.Registrations))
	for i, reg := range r.Registrations {
		names[i] = reg.Name
	}
	return names
}

// check reports a runner that cannot work, before it starts: a missing
// field, a duplicate name, or a pool too small for conns connections
// at once, which would otherwise wait for a connection forever.
func (r *Runner) check(needSource bool, conns int) error {
	switch {
	case r.Pool == nil:
		return errors.New("projection runner: Pool is nil")
	case needSource && r.Source == nil:
		return errors.New("projection runner: Source is nil")
	case needSource && r.Types == nil:
		return errors.New("projection runner: Types is nil")
	}
	seen := make(map[string]bool, len(r.Registrations))
	for i, reg := range r.Registrations {
		switch {
		case reg.Name == "":
			return fmt.Errorf("projection runner: registration %d has no name", i)
		case reg.New == nil:
			return fmt.Errorf("projection runner: projection %q has no New", reg.Name)
		case seen[reg.Name]:
			return fmt.Errorf("projection runner: two projections named %q", reg.Name)
		}
		seen[reg.Name] = true
	}
	if maxConns := int(r.Pool.Config().MaxConns); maxConns < conns {
		return fmt.Errorf("projection runner: the pool allows %d connections but %d are needed (one per projection, one more to read events): raise pool_max_conns", maxConns, conns)
	}
	return nil
}

// batchSize returns BatchSize, or its default when it is not set.
func (r *Runner) batchSize() int {
	if r.BatchSize > 0 {
		return r.BatchSize
	}
	return defaultBatchSize
}

// pollInterval returns PollInterval, or its default when it is not set.
func (r *Runner) pollInterval() time.Duration {
	if r.PollInterval > 0 {
		return r.PollInterval
	}
	return defaultPollInterval
}

// logger returns Logger, or slog.Default() when it is not set.
func (r *Runner) logger() *slog.Logger {
	if r.Logger != nil {
		return r.Logger
	}
	return slog.Default()
}
