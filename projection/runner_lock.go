package projection

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// lockKey is the advisory lock key of the projection named $1. It includes
// the current schema because the tracking table is found on the
// search_path: projections of the same name tracked in two schemas of one
// database are different projections and must not wait for each other. A
// rebuild's replay, tracked in a schema of its own, is one of those.
const lockKey = `hashtextextended('projgen:' || coalesce(current_schema(), '') || ':' || $1::text, 0)`

// pausedSQL reports whether a rebuild or a retry has asked for the
// projection $1. It first withdraws a request whose session has gone, so
// that a rebuild killed half-way does not keep the projection paused.
const pausedSQL = `WITH stale AS (
	UPDATE projgen_tracking SET pause_requested_at = NULL, pause_pid = NULL
	WHERE name = $1 AND pause_requested_at IS NOT NULL
		AND NOT EXISTS (SELECT 1 FROM pg_stat_activity a WHERE a.pid = projgen_tracking.pause_pid)
	RETURNING name
)
SELECT EXISTS (SELECT 1 FROM projgen_tracking t WHERE t.name = $1 AND t.pause_requested_at IS NOT NULL)
	AND NOT EXISTS (SELECT 1 FROM stale)`

// holding is a projection this runner holds: the connection that holds
// its advisory lock and carries its batches, where it stands, and the
// aggregates whose events it parks.
type holding struct {
	conn     *pgxpool.Conn
	name     string
	position int64
	// parked holds the aggregates that have events in the dead-letter
	// table: their later events are parked behind them.
	parked map[string]bool
}

// hold runs fn on a connection of its own that holds the advisory lock of
// the projection name, waiting for the lock while another session holds
// it. With scope, a schema, the connection finds that schema first on its
// search_path, where a rebuild keeps the tables it replays into.
//
// The lock is a session lock so that it spans every batch of a run. The
// session is given a lease: the server ends it after Lease without a
// statement, in a transaction or not, which releases the lock should this
// process freeze or lose the network. At the end the connection is closed
// rather than returned to the pool, since ending the session is the one
// sure way to release the lock and the lease's settings.
func (r *Runner) hold(ctx context.Context, name, scope string, fn func(h *holding) error) error {
	conn, err := r.Pool.Acquire(ctx)
	if err != nil {
		return fmt.Errorf("acquire connection: %w", err)
	}
	defer r.release(ctx, conn, name)
	if scope != "" {
		if _, err := conn.Exec(ctx, `SELECT set_config('search_path', $1 || ', ' || current_setting('search_path'), false)`, pgx.Identifier{scope}.Sanitize()); err != nil {
			return fmt.Errorf("use schema %s: %w", scope, err)
		}
	}
	if err := r.lock(ctx, conn, name); err != nil {
		return err
	}
	if err := r.setLease(ctx, conn); err != nil {
		return err
	}
	h := &holding{conn: conn, name: name, parked: map[string]bool{}}
	err = conn.QueryRow(ctx, `INSERT INTO projgen_tracking (name, position, holder, holder_pid, held_since)
VALUES ($1, 0, $2, pg_backend_pid(), now())
ON CONFLICT (name) DO UPDATE SET holder = EXCLUDED.holder, holder_pid = EXCLUDED.holder_pid, held_since = EXCLUDED.held_since
RETURNING position`, name, r.id()).Scan(&h.position)
	if err != nil {
		return fmt.Errorf("read position: %w", err)
	}
	if err := h.heartbeat(ctx); err != nil {
		return err
	}
	rows, err := conn.Query(ctx, `SELECT DISTINCT aggregate_id FROM projgen_dead_letters WHERE projection = $1`, name)
	if err != nil {
		return fmt.Errorf("read parked events: %w", err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return fmt.Errorf("read parked events: %w", err)
	}
	for _, id := range ids {
		h.parked[id] = true
	}
	return fn(h)
}

// lock takes the advisory lock of the projection name on conn, waiting
// for it while another session holds it.
func (r *Runner) lock(ctx context.Context, conn *pgxpool.Conn, name string) error {
	var locked bool
	if err := conn.QueryRow(ctx, `SELECT pg_try_advisory_lock(`+lockKey+`)`, name).Scan(&locked); err != nil {
		return fmt.Errorf("take advisory lock: %w", err)
	}
	if locked {
		return nil
	}
	r.logger().Info("another runner holds the projection; standing by", "projection", name)
	if _, err := conn.Exec(ctx, `SELECT pg_advisory_lock(`+lockKey+`)`, name); err != nil {
		return fmt.Errorf("wait for advisory lock: %w", err)
	}
	return nil
}

// setLease has the server end conn's session after Lease of silence,
// idle or idle in a transaction, and after Lease of unacknowledged
// sends. idle_session_timeout is new in PostgreSQL 14: before it, a
// runner frozen between batches keeps its lock until the connection
// breaks, which is logged.
func (r *Runner) setLease(ctx context.Context, conn *pgxpool.Conn) error {
	ms := fmt.Sprint(r.lease().Milliseconds())
	for _, setting := range []string{"idle_in_transaction_session_timeout", "tcp_user_timeout", "idle_session_timeout"} {
		_, err := conn.Exec(ctx, `SELECT set_config($1, $2, false)`, setting, ms)
		var pgErr *pgconn.PgError
		if errors.As(err, &pgErr) && pgErr.Code == "42704" { // undefined_object: an older server
			r.logger().Warn("the server lacks a setting that bounds how long a frozen runner keeps its projection", "setting", setting)
			continue
		}
		if err != nil {
			return fmt.Errorf("set %s: %w", setting, err)
		}
	}
	return nil
}

// heartbeat proves to the server that the runner is alive, which renews
// its lease, and returns errPaused when a rebuild or retry asks for the
// projection.
func (h *holding) heartbeat(ctx context.Context) error {
	var paused bool
	if err := h.conn.QueryRow(ctx, pausedSQL, h.name).Scan(&paused); err != nil {
		return fmt.Errorf("read the projection's tracking row: %w", err)
	}
	if paused {
		return errPaused
	}
	return nil
}

// waitUnpaused waits until no rebuild or retry asks for the projection.
func (r *Runner) waitUnpaused(ctx context.Context, name string) error {
	for {
		var paused bool
		if err := r.Pool.QueryRow(ctx, pausedSQL, name).Scan(&paused); err != nil && !isTransient(err) {
			return fmt.Errorf("read the projection's tracking row: %w", err)
		}
		if !paused {
			return nil
		}
		if err := sleep(ctx, r.pollInterval()); err != nil {
			return err
		}
	}
}

// release ends the session of conn, which releases the advisory lock of
// the projection name and every setting of the lease, after saying in the
// tracking row that nobody holds the projection.
func (r *Runner) release(ctx context.Context, conn *pgxpool.Conn, name string) {
	cleanup, cancel := cleanupContext(ctx)
	defer cancel()
	// The lock is released explicitly as well: the server ends a closed
	// session a moment after the client has gone, and until then Status
	// would show the projection as held.
	if !conn.Conn().IsClosed() {
		_, _ = conn.Exec(cleanup, `WITH released AS (
	UPDATE projgen_tracking SET holder = NULL, holder_pid = NULL, held_since = NULL
	WHERE name = $1 AND holder_pid = pg_backend_pid()
	RETURNING 1)
SELECT pg_advisory_unlock_all(), (SELECT count(*) FROM released)`, name)
	}
	closeSession(ctx, conn)
}

// closeSession closes conn instead of returning it to the pool, which ends
// its session with its advisory locks and settings.
func closeSession(ctx context.Context, conn *pgxpool.Conn) {
	cleanup, cancel := cleanupContext(ctx)
	defer cancel()
	_ = conn.Hijack().Close(cleanup)
}

// retry calls fn until it succeeds, fails with an error that is not
// transient, or ctx is done, waiting longer after each transient error.
// fn calls progress after each batch that succeeds, which resets the
// wait, so that a failure hours later does not start at the cap.
func (r *Runner) retry(ctx context.Context, name string, fn func(progress func()) error) error {
	var delay time.Duration
	progress := func() { delay = 0 }
	for {
		err := fn(progress)
		if err == nil || ctx.Err() != nil || !isTransient(err) {
			return err
		}
		delay = min(max(2*delay, minRetryDelay), maxRetryDelay)
		// Jitter keeps runners that failed together from retrying in
		// step against a database that is coming back.
		wait := delay/2 + rand.N(delay/2+1)
		r.logger().Warn("transient error; retrying", "projection", name, "error", err, "retry_in", wait)
		if err := sleep(ctx, wait); err != nil {
			return err
		}
	}
}

// isTransient reports whether err may go away if the same work is tried
// again: a lost or refused connection, a serialization failure, a
// deadlock, a server shutting down, a session the server ended because
// its lease ran out. Anything else, such as a poison event or a missing
// table, would fail again the same way.
func isTransient(err error) bool {
	if err == nil {
		return false
	}
	if errors.Is(err, errPositionMoved) {
		return true
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		switch pgErr.Code {
		case "40001", // serialization_failure
			"40P01", // deadlock_detected
			"53300", // too_many_connections
			"57P01", // admin_shutdown
			"57P02", // crash_shutdown
			"57P03", // cannot_connect_now
			"57P05", // idle_session_timeout
			"25P03": // idle_in_transaction_session_timeout
			return true
		}
		return strings.HasPrefix(pgErr.Code, "08") // connection_exception
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return false
	}
	var connectErr *pgconn.ConnectError
	var netErr net.Error
	return errors.As(err, &connectErr) ||
		pgconn.SafeToRetry(err) ||
		errors.Is(err, pgconn.ErrConnClosed) ||
		errors.As(err, &netErr) ||
		errors.Is(err, io.EOF) ||
		errors.Is(err, io.ErrUnexpectedEOF)
}

// sleep waits for d, or returns ctx's error when ctx is done first.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// cleanupContext returns a context for work that must happen even when
// ctx is cancelled, such as a rollback or an unlock, bounded so that a
// dead connection cannot hold the runner.
func cleanupContext(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
}
