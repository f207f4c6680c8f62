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

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// withLock runs fn on a connection of its own that holds the advisory lock
// of the projection name, waiting for the lock while another session holds
// it. The lock is a session lock so that it spans every batch of a run;
// when the lock's state is in doubt at the end, the connection is closed
// rather than returned to the pool, since ending the session is the one
// sure way to release it.
func (r *Runner) withLock(ctx context.Context, name string, fn func(conn *pgxpool.Conn) error) error {
	conn, err := r.Pool.Acquire(ctx)
	if err != nil {
		return fmt.Errorf("acquire connection: %w", err)
	}
	locked := false
	defer func() { r.unlock(ctx, conn, name, locked) }()
	if err := conn.QueryRow(ctx, `SELECT pg_try_advisory_lock(`+lockKey+`)`, name).Scan(&locked); err != nil {
		return fmt.Errorf("take advisory lock: %w", err)
	}
	if !locked {
		r.logger().Info("another runner holds the projection; waiting for it", "projection", name)
		if _, err := conn.Exec(ctx, `SELECT pg_advisory_lock(`+lockKey+`)`, name); err != nil {
			return fmt.Errorf("wait for advisory lock: %w", err)
		}
		locked = true
	}
	return fn(conn)
}

// unlock releases the advisory lock taken by withLock and gives the
// connection back, or closes it when the lock may be held still.
func (r *Runner) unlock(ctx context.Context, conn *pgxpool.Conn, name string, locked bool) {
	cleanup, cancel := cleanupContext(ctx)
	defer cancel()
	if conn.Conn().IsClosed() {
		conn.Release()
		return
	}
	if locked {
		var released bool
		err := conn.QueryRow(cleanup, `SELECT pg_advisory_unlock(`+lockKey+`)`, name).Scan(&released)
		if err == nil && released {
			conn.Release()
			return
		}
		r.logger().Warn("could not release advisory lock; closing its connection", "projection", name, "error", err)
	}
	// Not locked here means taking the lock failed, perhaps after the
	// server granted it: ending the session settles that too.
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
// deadlock, a server shutting down. Anything else, such as a poison event
// or a missing table, would fail again the same way.
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
			"57P03": // cannot_connect_now
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
