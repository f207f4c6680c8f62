package projection

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// pipeline is the DBTX of a pipelined projection's batch (see
// Registration.Pipeline): Exec queues the statement, and flush sends what
// is queued in one round trip, in the batch's transaction. Each statement
// is remembered with the event it was queued for, so that a failure
// names the event exactly: in a transaction the server runs the
// statements in order and fails the rest once one fails, so the first
// error is the failed statement's.
type pipeline struct {
	tx pgx.Tx
	// event is the index, in the batch, of the event being processed.
	event  int
	queued pgx.Batch
	events []int // the event of each queued statement
	// failed is the event whose statement failed, -1 while none has,
	// and err its error: a projection that gets the error from Query
	// returns it as its own event's.
	failed int
	err    error
}

// newPipeline returns the pipeline of a batch in tx.
func newPipeline(tx pgx.Tx) *pipeline { return &pipeline{tx: tx, failed: -1} }

// Exec queues the statement and returns an empty tag and no error; its
// error comes from flush.
func (p *pipeline) Exec(_ context.Context, sql string, args ...any) (pgconn.CommandTag, error) {
	p.queued.Queue(sql, args...)
	p.events = append(p.events, p.event)
	return pgconn.CommandTag{}, nil
}

// Query sends what is queued, then runs the query, so that it sees the
// statements before it.
func (p *pipeline) Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error) {
	if err := p.flush(ctx); err != nil {
		return nil, err
	}
	return p.tx.Query(ctx, sql, args...)
}

// QueryRow sends what is queued, then runs the query.
func (p *pipeline) QueryRow(ctx context.Context, sql string, args ...any) pgx.Row {
	if err := p.flush(ctx); err != nil {
		return errRow{err}
	}
	return p.tx.QueryRow(ctx, sql, args...)
}

// flush sends the queued statements and reads their results. When a
// statement fails it records its event in failed.
func (p *pipeline) flush(ctx context.Context) error {
	_, err := p.send(ctx)
	return err
}

// finish queues the statement that closes the batch, sends it with the
// statements before it in one round trip, and returns its command tag.
// Its failure is no event's.
func (p *pipeline) finish(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error) {
	p.event = -1
	p.Exec(ctx, sql, args...)
	return p.send(ctx)
}

// send sends the queued statements and reads their results, and returns
// the last one's command tag. When a statement fails it records its
// event in failed.
func (p *pipeline) send(ctx context.Context) (pgconn.CommandTag, error) {
	var tag pgconn.CommandTag
	if p.queued.Len() == 0 {
		return tag, nil
	}
	queued, events := p.queued, p.events
	p.queued, p.events = pgx.Batch{}, nil
	results := p.tx.SendBatch(ctx, &queued)
	for _, event := range events {
		var err error
		if tag, err = results.Exec(); err != nil {
			results.Close()
			p.failed, p.err = event, err
			return tag, err
		}
	}
	if err := results.Close(); err != nil {
		return tag, fmt.Errorf("send the batch's statements: %w", err)
	}
	return tag, nil
}

// errRow is a row whose Scan returns err.
type errRow struct{ err error }

func (r errRow) Scan(...any) error { return r.err }
