package projection

import (
	"cmp"
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// Statements on the tracking table. Both advance a position only from the
// one the batch started at ($3), and only while no rebuild has asked for
// the projection: should another session have moved it, despite the
// advisory lock, or a rebuild be waiting, the batch affects no row and is
// rolled back rather than applied twice.
const (
	// trackSQL moves the position and clears a recorded failure, which
	// the batch has got past.
	trackSQL = `UPDATE projgen_tracking SET position = $2, updated_at = now(),
	error = NULL, error_position = NULL, error_topic = NULL, error_aggregate_id = NULL, error_version = NULL, failed_at = NULL
WHERE name = $1 AND position = $3 AND pause_requested_at IS NULL`
	// stopSQL moves the position to just before a poison event and
	// records it.
	stopSQL = `UPDATE projgen_tracking SET position = $2, updated_at = now(),
	error = $4, error_position = $5, error_topic = $6, error_aggregate_id = $7, error_version = $8, failed_at = now()
WHERE name = $1 AND position = $3 AND pause_requested_at IS NULL`
	// whyNotSQL tells a rebuild's request from a moved position.
	whyNotSQL = `SELECT pause_requested_at IS NOT NULL FROM projgen_tracking WHERE name = $1`
	// parkSQL stores a parked event; an event parked already stays as it
	// was.
	parkSQL = `INSERT INTO projgen_dead_letters (projection, position, aggregate_id, version, topic, payload, recorded_at, error)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (projection, position) DO NOTHING`
)

// applyPage applies the page's events to reg and moves its position to
// the page's Through, in one transaction.
//
// When an event fails for a reason that is not transient, the batch is
// rolled back and the event is found exactly: it is the one processing
// stopped at. By reg's policy, the events before it are then committed
// with the position just before it and the failure recorded (Stop), or
// the batch is applied again with the event parked (Park), until it
// commits.
func (r *Runner) applyPage(ctx context.Context, h *holding, reg Registration, page Page) error {
	poison := map[int]error{}
	for {
		failed, err := r.attempt(ctx, h, reg, page, poison)
		if err == nil || failed < 0 || isTransient(err) {
			return err
		}
		ee := eventError(page.Events[failed].Meta, err)
		if reg.OnError == Park {
			r.logger().Warn("parking an event the projection fails on", "projection", reg.Name, "error", ee)
			poison[failed] = ee
			continue
		}
		if err := r.stopAt(ctx, h, reg, page.Events[:failed], ee); err != nil {
			return err
		}
		return ee
	}
}

// attempt applies the page in one transaction, parking the events of
// poison, by index, and every event of an aggregate parked before. It
// commits and moves h past the page, or returns the index of the event
// that failed (-1 when the failure is not an event's) and the error.
func (r *Runner) attempt(ctx context.Context, h *holding, reg Registration, page Page, poison map[int]error) (int, error) {
	return r.batch(ctx, h, reg, page.Events, poison, trackSQL, page.Through)
}

// stopAt applies events, the ones before the poison event ee, and records
// that the projection stopped at ee, in one transaction, so that its
// position is exact and the next run starts at ee.
func (r *Runner) stopAt(ctx context.Context, h *holding, reg Registration, events []Stored, ee *EventError) error {
	m := ee.Meta
	failed, err := r.batch(ctx, h, reg, events, nil, stopSQL, m.Position-1, ee.Err.Error(), m.Position, m.Topic, m.AggregateID, m.Version)
	if err != nil && failed >= 0 {
		return eventError(events[failed].Meta, err)
	}
	return err
}

// batch applies events in one transaction, parking the events of poison,
// by index, and every event of an aggregate parked before, moves the
// tracking row to position with sql (trackSQL or stopSQL, whose
// arguments after the first three are extra), and commits; then h stands
// at position. It returns the index of the event that failed (-1 when
// the failure is not an event's) and the error.
func (r *Runner) batch(ctx context.Context, h *holding, reg Registration, events []Stored, poison map[int]error, sql string, position int64, extra ...any) (int, error) {
	tx, err := h.conn.Begin(ctx)
	if err != nil {
		return -1, fmt.Errorf("begin batch: %w", err)
	}
	defer rollback(ctx, tx)
	var db DBTX = tx
	var pipe *pipeline
	if reg.Pipeline {
		pipe = newPipeline(tx)
		db = pipe
	}
	p := reg.New(db)
	// behind holds the aggregates this batch parks.
	behind := map[string]bool{}
	for i, e := range events {
		cause, parked := poison[i]
		if behind[e.AggregateID] || h.parked[e.AggregateID] {
			cause, parked = parkedBehind(e.AggregateID), true
		}
		if parked {
			if err := park(ctx, tx, reg.Name, e, cause); err != nil {
				return -1, err
			}
			behind[e.AggregateID] = true
			continue
		}
		if pipe != nil {
			pipe.event = i
		}
		if err := r.process(ctx, p, e); err != nil {
			if pipe != nil {
				// An earlier event's statement may be the cause, sent
				// by a Query of this event's or still queued: blame
				// the first that failed.
				if flushErr := pipe.flush(ctx); flushErr != nil || pipe.failed >= 0 {
					return pipe.failed, cmp.Or(flushErr, pipe.err)
				}
			}
			return i, err
		}
	}
	if err := r.track(ctx, tx, pipe, h, sql, position, extra...); err != nil {
		if pipe != nil && pipe.failed >= 0 {
			return pipe.failed, err
		}
		return -1, err
	}
	if err := tx.Commit(ctx); err != nil {
		return -1, fmt.Errorf("commit batch up to position %d: %w", position, err)
	}
	h.position = position
	for id := range behind {
		h.parked[id] = true
	}
	return -1, nil
}

// process decodes one stored event and applies it to p.
func (r *Runner) process(ctx context.Context, p Projection, s Stored) error {
	data, err := r.Types.Decode(s.Topic, s.Data)
	if err != nil {
		return err
	}
	return p.Process(ctx, Event{Meta: s.Meta, Data: data})
}

// track runs sql, trackSQL or stopSQL, to move h's tracking row to
// position within tx, and tells why when it cannot. With a pipeline, the
// statement goes last in the pipeline's round trip, after the events'
// statements still queued.
func (r *Runner) track(ctx context.Context, tx pgx.Tx, pipe *pipeline, h *holding, sql string, position int64, extra ...any) error {
	args := append([]any{h.name, position, h.position}, extra...)
	var tag pgconn.CommandTag
	var err error
	if pipe != nil {
		tag, err = pipe.finish(ctx, sql, args...)
	} else {
		tag, err = tx.Exec(ctx, sql, args...)
	}
	if err != nil {
		if pipe != nil && pipe.failed >= 0 {
			return err
		}
		return fmt.Errorf("advance position to %d: %w", position, err)
	}
	if tag.RowsAffected() == 1 {
		return nil
	}
	var paused bool
	if err := tx.QueryRow(ctx, whyNotSQL, h.name).Scan(&paused); err != nil {
		return fmt.Errorf("advance position to %d: %w", position, err)
	}
	if paused {
		return errPaused
	}
	return fmt.Errorf("advance position from %d to %d: %w", h.position, position, errPositionMoved)
}

// parkedBehind is the cause recorded for an event parked only because an
// earlier event of its aggregate is.
func parkedBehind(aggregateID string) error {
	return fmt.Errorf("parked behind an earlier parked event of aggregate %s", aggregateID)
}

// park stores e in the dead-letter table with its cause.
func park(ctx context.Context, tx pgx.Tx, projection string, e Stored, cause error) error {
	data := e.Data
	if data == nil {
		data = []byte{}
	}
	_, err := tx.Exec(ctx, parkSQL, projection, e.Position, e.AggregateID, e.Version, e.Topic, data, e.Timestamp, cause.Error())
	if err != nil {
		return fmt.Errorf("park the event at position %d: %w", e.Position, err)
	}
	return nil
}

// eventError wraps err in an *EventError for the event of m, unless it is
// one already: generated projections name the event themselves for some
// errors, and wrapping those again would name it twice.
func eventError(m Meta, err error) *EventError {
	if ee := (*EventError)(nil); errors.As(err, &ee) {
		return ee
	}
	return &EventError{Meta: m, Err: err}
}

// rollback rolls tx back; after Commit it does nothing. The context may
// be cancelled already; a rollback that cannot be sent leaves the
// connection closed, which rolls back as well.
func rollback(ctx context.Context, tx pgx.Tx) {
	cleanup, cancel := cleanupContext(ctx)
	defer cancel()
	_ = tx.Rollback(cleanup)
}
