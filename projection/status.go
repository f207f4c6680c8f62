package projection

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// State is what a projection is doing.
type State string

// The states Status reports.
const (
	// Running: a runner holds the projection and applies its events.
	Running State = "running"
	// Idle: no runner holds the projection.
	Idle State = "idle"
	// Stopped: the projection stopped at an event it fails on; Failure
	// says which. A runner that takes it again tries that event again.
	Stopped State = "stopped"
	// Paused: a rebuild or a retry of parked events has asked for the
	// projection, and runners wait for it to finish.
	Paused State = "paused"
)

// Status is where a projection stands.
type Status struct {
	// Name is the projection's name.
	Name string
	// State is what the projection is doing.
	State State
	// Position is the position the projection has reached: every event up
	// to it has been applied, parked, or is of a topic it does not read.
	Position int64
	// Head is the position of the newest committed event, of any topic.
	Head int64
	// Lag is the number of committed events of the projection's topics
	// after Position.
	Lag int64
	// LagTime is the age of the oldest of those events; zero when Lag is.
	LagTime time.Duration
	// UpdatedAt is when the position last changed; zero if it never has.
	UpdatedAt time.Time
	// Holder is the runner that holds the projection (Runner.ID), and
	// HolderPID its session's backend process id; empty and 0 when no
	// runner holds it. HeldSince is when it took the projection.
	Holder    string
	HolderPID int
	HeldSince time.Time
	// Failure is the event the projection stopped at; nil unless State
	// is Stopped.
	Failure *Failure
	// Parked is the number of the projection's events in the dead-letter
	// table.
	Parked int64
	// HeldBack is set when an open transaction keeps committed events from
	// the projection.
	HeldBack *HeldBack
}

// Failure is an event a projection stopped at.
type Failure struct {
	// Event is the event's metadata; its Timestamp is not recorded.
	Event Meta
	// Error is the cause, as text.
	Error string
	// At is when the projection stopped.
	At time.Time
}

// ErrStopped is the cause of Wait's error when the projection stopped at
// an event before the position waited for.
var ErrStopped = errors.New("projection stopped at a poison event")

// statusSQL reads the tracking row of each name in $1, sorted by bytes as
// Go sorts strings whatever the database's collation, with the number of
// parked events and the session that holds the projection's advisory
// lock. A bigint advisory key shows in pg_locks as two oids, its high and
// low halves.
const statusSQL = `SELECT n.name, coalesce(t.position, 0), t.updated_at, t.holder, t.holder_pid, t.held_since,
	t.error, t.error_position, t.error_topic, t.error_aggregate_id, t.error_version, t.failed_at,
	coalesce(t.pause_requested_at IS NOT NULL, false),
	(SELECT count(*) FROM projgen_dead_letters d WHERE d.projection = n.name),
	(SELECT l.pid FROM pg_locks l
		WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1
			AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
			AND l.classid::bigint = (k.key >> 32) & 4294967295 AND l.objid::bigint = k.key & 4294967295
		LIMIT 1)
FROM unnest($1::text[]) AS n(name)
CROSS JOIN LATERAL (SELECT hashtextextended('projgen:' || coalesce(current_schema(), '') || ':' || n.name, 0) AS key) k
LEFT JOIN projgen_tracking t ON t.name = n.name
ORDER BY n.name COLLATE "C"`

// Status returns the status of every registered projection, sorted by
// name. It takes no lock: it reads committed positions, which is what a
// monitor wants while runners work.
func (r *Runner) Status(ctx context.Context) ([]Status, error) {
	if err := r.check(true, 1); err != nil {
		return nil, err
	}
	rows, err := r.Pool.Query(ctx, statusSQL, r.names())
	if err != nil {
		return nil, fmt.Errorf("projection status: %w", err)
	}
	statuses, err := pgx.CollectRows(rows, scanStatus)
	if err != nil {
		return nil, fmt.Errorf("projection status: %w", err)
	}
	for i := range statuses {
		s := &statuses[i]
		reg, _ := r.registration(s.Name)
		b, err := r.Source.Backlog(ctx, s.Position, reg.Topics)
		if err != nil {
			return nil, fmt.Errorf("projection status of %q: %w", s.Name, err)
		}
		s.Head, s.Lag, s.HeldBack = b.Head, b.Events, b.HeldBack
		if !b.Oldest.IsZero() {
			s.LagTime = max(time.Since(b.Oldest), 0)
		}
	}
	return statuses, nil
}

// scanStatus scans a row of statusSQL.
func scanStatus(row pgx.CollectableRow) (Status, error) {
	var s Status
	var updated, heldSince, failedAt *time.Time
	var holder, failure, topic, aggregate *string
	var holderPID, lockPID *int
	var position, version *int64
	var paused bool
	err := row.Scan(&s.Name, &s.Position, &updated, &holder, &holderPID, &heldSince,
		&failure, &position, &topic, &aggregate, &version, &failedAt, &paused, &s.Parked, &lockPID)
	if err != nil {
		return s, err
	}
	if updated != nil {
		s.UpdatedAt = *updated
	}
	s.State = Idle
	if lockPID != nil {
		s.State, s.HolderPID = Running, *lockPID
		// The row names the holder only if the lock's session wrote it.
		if holder != nil && holderPID != nil && *holderPID == *lockPID {
			s.Holder = *holder
			if heldSince != nil {
				s.HeldSince = *heldSince
			}
		}
	}
	if paused {
		s.State = Paused
	}
	if failure != nil {
		s.State = Stopped
		s.Failure = &Failure{Error: *failure}
		s.Failure.Event = Meta{Position: deref(position), Topic: deref(topic), AggregateID: deref(aggregate), Version: deref(version)}
		s.Failure.At = deref(failedAt)
	}
	return s, nil
}

// deref returns *p, or the zero value for nil.
func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}

// Wait returns once the named projection has reached position: it has
// applied the event there, or passed it because it reads another topic,
// or parked it. It is how a service reads its own writes: append, then
// Wait for the position Append returned, then query the read model. Wait
// needs only Pool: it polls the tracking row, briefly at first.
//
// It returns an error wrapping ErrStopped at once when the projection has
// stopped at an event at or before position, and ctx's error, with where
// the projection stands, when ctx ends first: give it a deadline.
func (r *Runner) Wait(ctx context.Context, name string, position int64) error {
	if r.Pool == nil {
		return errors.New("projection runner: Pool is nil")
	}
	if len(r.Registrations) > 0 {
		if _, err := r.registration(name); err != nil {
			return err
		}
	}
	const firstDelay, maxDelay = 2 * time.Millisecond, 100 * time.Millisecond
	for delay := firstDelay; ; delay = min(2*delay, maxDelay) {
		var at int64
		var failure *string
		var failedAt *int64
		err := r.Pool.QueryRow(ctx, `SELECT position, error, error_position FROM projgen_tracking WHERE name = $1`, name).Scan(&at, &failure, &failedAt)
		if err != nil && !errors.Is(err, pgx.ErrNoRows) {
			if ctx.Err() != nil {
				return fmt.Errorf("wait for projection %q to reach position %d: %w", name, position, ctx.Err())
			}
			return fmt.Errorf("wait for projection %q: %w", name, err)
		}
		if at >= position {
			return nil
		}
		if failure != nil && failedAt != nil && *failedAt <= position {
			return fmt.Errorf("wait for projection %q to reach position %d: %w at position %d: %s", name, position, ErrStopped, *failedAt, *failure)
		}
		if err := sleep(ctx, delay); err != nil {
			return fmt.Errorf("wait for projection %q to reach position %d: it is at position %d: %w", name, position, at, err)
		}
	}
}
