package projection

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"
)

// Stored is an event as the store keeps it: metadata and the encoded
// payload. The runner decodes Data with EventTypes.Decode before a
// projection sees it, so that a source needs to know nothing of Go types.
type Stored struct {
	Meta
	// Data is the payload, JSON.
	Data []byte
}

// EventSource reads stored events in position order. The runner reads
// through it, so any store can feed projections; PostgresSource is the one
// bundled.
type EventSource interface {
	// Events returns up to limit events with a position greater than after
	// and one of the topics, in position order. It must never return an
	// event while an event with a smaller position may still appear, or
	// the runner, which resumes after the last position it applied, would
	// skip that event.
	Events(ctx context.Context, after int64, topics []string, limit int) ([]Stored, error)
	// Head returns the position of the last event a reader may see, 0 when
	// there is none. Every event up to Head is visible to Events: the
	// runner relies on it to advance past events of topics it does not
	// read, and Status reports it.
	Head(ctx context.Context) (int64, error)
}

// EventsTableSQL creates the events table PostgresSource reads, named
// events, when it does not exist. It is one statement, so that it can sit
// in a migration or be passed to Exec alone.
//
// transaction_id records the writing transaction, which is what lets a
// reader tell events that are final from events an open transaction may
// still precede (see PostgresSource). The unique constraint on (topic,
// position) is there for its index, which serves the runner's reads by
// topic; position alone is unique already, so it rejects nothing.
const EventsTableSQL = `CREATE TABLE IF NOT EXISTS events (
	position bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	aggregate_id text NOT NULL,
	version bigint NOT NULL,
	topic text NOT NULL,
	payload jsonb NOT NULL,
	recorded_at timestamptz NOT NULL DEFAULT now(),
	transaction_id xid8 NOT NULL DEFAULT pg_current_xact_id(),
	UNIQUE (aggregate_id, version),
	UNIQUE (topic, position)
)`

// PostgresSource reads a PostgreSQL events table (see EventsTableSQL).
//
// Positions come from a sequence, so they are handed out when a row is
// inserted, not when its transaction commits: a transaction that is still
// open may hold a smaller position than one that has committed. A reader
// that took the committed event and moved its position past it would never
// see the other. So PostgresSource never returns an event whose position a
// still-open transaction could still precede: it only reads events whose
// transaction_id is older than pg_snapshot_xmin(pg_current_snapshot()), the
// oldest transaction still running, so concurrent writers that commit out
// of position order do not make it skip events. The price is latency: an
// event becomes readable only once every transaction that started writing
// before it has ended.
//
// The rule compares transaction ids, which are handed out at a
// transaction's first write, with positions, which are drawn when events
// are inserted. It holds when a transaction draws both together: Append
// takes the id and then the positions in one statement, which leaves a
// window of microseconds. A transaction that writes other tables first
// and appends its events later holds an old id with new positions: if a
// newer transaction draws a smaller position in between and is still open
// when the older commits, the older one's events pass the rule before the
// newer one's, and a reader moves past the newer one's position. Writers
// should therefore append events as the first write of their transaction.
// Only a reader that orders and resumes by (transaction_id, position),
// which the int64 position of EventSource cannot express, closes the gap
// for every writer.
type PostgresSource struct {
	db    DBTX
	table string // quoted, possibly schema-qualified
}

var _ EventSource = (*PostgresSource)(nil)

// NewPostgresSource returns a source that reads and appends to table
// through db, usually a *pgxpool.Pool. The table name is quoted; a name
// with a dot, such as "store.events", is taken as schema.table. An
// unqualified name is found on the connection's search_path.
func NewPostgresSource(db DBTX, table string) *PostgresSource {
	return &PostgresSource{db: db, table: pgx.Identifier(strings.Split(table, ".")).Sanitize()}
}

// Append stores events (for tests, demos and simple writers): it inserts
// them in one statement and returns their positions, in the order of
// events. Each Stored's Meta.Position and Timestamp are ignored (assigned
// by the table). An empty Data is stored as JSON null, which decodes to a
// payload's zero value. Append through a pgx.Tx to append in a transaction
// of one's own.
func (s *PostgresSource) Append(ctx context.Context, events ...Stored) ([]int64, error) {
	if len(events) == 0 {
		return nil, nil
	}
	ids := make([]string, len(events))
	versions := make([]int64, len(events))
	topics := make([]string, len(events))
	payloads := make([]string, len(events))
	for i, e := range events {
		data := e.Data
		if len(data) == 0 {
			data = []byte("null")
		}
		if !json.Valid(data) {
			return nil, fmt.Errorf("append to %s: event %d (aggregate %s, version %d): payload is not valid JSON",
				s.table, i, e.AggregateID, e.Version)
		}
		ids[i], versions[i], topics[i], payloads[i] = e.AggregateID, e.Version, e.Topic, string(data)
	}
	// The transaction id is taken in a materialized CTE, before any row
	// draws its position, so that id and positions are drawn as close
	// together as one statement allows, which is what the visibility rule
	// of Events assumes (see PostgresSource); column defaults give no such
	// order. Rows are inserted in the order given so that positions follow
	// it.
	query := `WITH tx AS MATERIALIZED (SELECT pg_current_xact_id() AS id)
INSERT INTO ` + s.table + ` (aggregate_id, version, topic, payload, transaction_id)
SELECT e.aggregate_id, e.version, e.topic, e.payload::jsonb, tx.id
FROM tx, unnest($1::text[], $2::bigint[], $3::text[], $4::text[]) WITH ORDINALITY AS e(aggregate_id, version, topic, payload, ord)
ORDER BY e.ord
RETURNING position, aggregate_id, version`
	rows, err := s.db.Query(ctx, query, ids, versions, topics, payloads)
	if err != nil {
		return nil, fmt.Errorf("append to %s: %w", s.table, err)
	}
	// RETURNING does not promise an order, so positions are matched back
	// to events by (aggregate_id, version), which the table keeps unique.
	type key struct {
		id      string
		version int64
	}
	byKey := make(map[key]int64, len(events))
	for rows.Next() {
		var k key
		var position int64
		if err := rows.Scan(&position, &k.id, &k.version); err != nil {
			rows.Close()
			return nil, fmt.Errorf("append to %s: %w", s.table, err)
		}
		byKey[k] = position
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("append to %s: %w", s.table, err)
	}
	positions := make([]int64, len(events))
	for i, e := range events {
		p, ok := byKey[key{e.AggregateID, e.Version}]
		if !ok {
			return nil, fmt.Errorf("append to %s: no position returned for aggregate %s version %d", s.table, e.AggregateID, e.Version)
		}
		positions[i] = p
	}
	return positions, nil
}

// Events returns up to limit events after the position after whose topic is
// one of topics, in position order, leaving out every event an open
// transaction could still precede (see PostgresSource).
func (s *PostgresSource) Events(ctx context.Context, after int64, topics []string, limit int) ([]Stored, error) {
	if limit <= 0 {
		return nil, fmt.Errorf("read %s: limit %d: %w", s.table, limit, errBadLimit)
	}
	if len(topics) == 0 {
		return nil, nil
	}
	query := `SELECT position, aggregate_id, version, topic, payload, recorded_at
FROM ` + s.table + `
WHERE position > $1
	AND topic = ANY($2)
	AND transaction_id < pg_snapshot_xmin(pg_current_snapshot())
ORDER BY position
LIMIT $3`
	rows, err := s.db.Query(ctx, query, after, topics, limit)
	if err != nil {
		return nil, fmt.Errorf("read %s after position %d: %w", s.table, after, err)
	}
	events, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (Stored, error) {
		var e Stored
		err := row.Scan(&e.Position, &e.AggregateID, &e.Version, &e.Topic, &e.Data, &e.Timestamp)
		return e, err
	})
	if err != nil {
		return nil, fmt.Errorf("read %s after position %d: %w", s.table, after, err)
	}
	return events, nil
}

// Head returns the position of the last event Events may return now, 0
// when there is none. It applies the same visibility rule as Events, so
// that every event up to it is readable.
func (s *PostgresSource) Head(ctx context.Context) (int64, error) {
	query := `SELECT coalesce(max(position), 0) FROM ` + s.table + `
WHERE transaction_id < pg_snapshot_xmin(pg_current_snapshot())`
	var head int64
	if err := s.db.QueryRow(ctx, query).Scan(&head); err != nil {
		return 0, fmt.Errorf("read head of %s: %w", s.table, err)
	}
	return head, nil
}

// errBadLimit is the cause of Events called with a limit that is not
// positive, which would read nothing and look like being caught up.
var errBadLimit = errors.New("limit must be positive")
