package projection

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
)

// EventsTableSQL creates the events table PostgresSource reads, named
// events, when it does not exist. It is one statement, so that it can sit
// in a migration or be passed to Exec alone.
//
// position must come from a sequence that caches one value per session,
// as identity columns do by default: PostgresSource reads the sequence to
// know which positions have been drawn. The unique constraint on (topic,
// position) is there for its index, which serves the runner's reads by
// topic; position alone is unique already, so it rejects nothing.
//
// Tables created by earlier versions have a transaction_id column as well;
// UpgradeEventsTableSQL is their migration.
const EventsTableSQL = `CREATE TABLE IF NOT EXISTS events (
	position bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	aggregate_id text NOT NULL,
	version bigint NOT NULL,
	topic text NOT NULL,
	payload jsonb NOT NULL,
	recorded_at timestamptz NOT NULL DEFAULT now(),
	UNIQUE (aggregate_id, version),
	UNIQUE (topic, position)
)`

// UpgradeEventsTableSQL is the migration of an events table made by an
// earlier version of projgen, or by other tools, for PostgresSource: it
// makes the position sequence cache one value, which PostgresSource
// requires and checks, and drops the transaction_id column that earlier
// versions read and nothing reads now. Apply it once no runner of an
// earlier version is left, since those read the column. It is idempotent,
// and names the table events; edit the two names for another.
const UpgradeEventsTableSQL = `DO $$
BEGIN
	EXECUTE format('ALTER SEQUENCE %s CACHE 1', pg_get_serial_sequence('events', 'position'));
END
$$;
ALTER TABLE events DROP COLUMN IF EXISTS transaction_id`

// PostgresSource reads a PostgreSQL events table (see EventsTableSQL). It
// is safe for concurrent use, and meant to be shared by every projection
// of a runner.
//
// Reading is gap-free whoever writes the table: Append, plain INSERTs or
// COPY from other code, several statements in one transaction, writers
// that wait on locks or write other tables first. Positions come from a
// sequence, drawn when rows are inserted, so a committed event can sit
// above a position that a transaction still open holds; a reader that
// took the committed one and moved past would never see the other.
// PostgresSource therefore reads only up to a watermark below which every
// position is final. It reads the sequence's last value, then which
// transactions hold a write lock on the table (pg_locks): writers take
// that lock before they draw a position and keep it until they end, so
// once those transactions have ended, every position up to that value is
// committed or never will be.
//
// Only transactions that write the events table hold readers back: a long
// transaction on other tables, or in another database of the server, does
// not. One that writes events and stays open holds every reader at the
// position before its first event, and Backlog names it.
//
// The events table must be read on the primary, where its writers' locks
// are, and its position sequence must cache one value (the default): a
// session that cached values could insert them later, below the
// watermark. NewPostgresSource's reads check the cache and refuse
// otherwise. A writer that calls nextval itself and inserts the value
// later, outside the INSERT, is not seen.
type PostgresSource struct {
	db   DBTX
	name string // quoted, possibly schema-qualified

	// refreshing serialises refreshes of the watermark, so that the
	// projections of a runner that catch up at once share one.
	refreshing sync.Mutex
	// mu guards the fields below it.
	mu   sync.Mutex
	wm   watermark
	meta *eventsTable
}

var _ EventSource = (*PostgresSource)(nil)

// eventsTable is what PostgresSource learns of its table once.
type eventsTable struct {
	oid      uint32
	sequence string // qualified and quoted, as pg_get_serial_sequence gives it
}

// A reader that has caught up with the watermark while writers hold it
// checks again whether they have ended, up to recheckCount times, after
// firstRecheck and then twice as long each time: most append transactions
// end within milliseconds, and waiting that long beats a poll interval of
// latency.
const (
	recheckCount = 4
	firstRecheck = time.Millisecond
)

// NewPostgresSource returns a source that reads and appends to table
// through db, usually a *pgxpool.Pool. The table name is quoted; a name
// with a dot, such as "store.events", is taken as schema.table. An
// unqualified name is found on the connection's search_path.
func NewPostgresSource(db DBTX, table string) *PostgresSource {
	return &PostgresSource{db: db, name: pgx.Identifier(strings.Split(table, ".")).Sanitize()}
}

// Read returns up to limit events after position after of the topics, in
// position order, reading no further than the watermark (see
// PostgresSource). It reads in windows of positions (see ReadWindows).
func (s *PostgresSource) Read(ctx context.Context, after int64, topics []string, limit int) (Page, error) {
	if limit <= 0 {
		return Page{}, fmt.Errorf("read %s: limit %d: %w", s.name, limit, errBadLimit)
	}
	end, err := s.watermark(ctx, after, true)
	if err != nil {
		return Page{}, err
	}
	if end <= after || len(topics) == 0 {
		end = max(end, after)
		return Page{Through: end, End: end}, nil
	}
	return ReadWindows(after, end, limit, func(events []Stored, from, to int64, limit int) ([]Stored, error) {
		return s.readWindow(ctx, events, from, to, topics, limit)
	})
}

// readWindow appends to events, up to limit in all, the events of the
// topics with positions in (from, to], in position order.
func (s *PostgresSource) readWindow(ctx context.Context, events []Stored, from, to int64, topics []string, limit int) ([]Stored, error) {
	query := `SELECT position, aggregate_id, version, topic, payload, recorded_at
FROM ` + s.name + `
WHERE position > $1 AND position <= $2 AND topic = ANY($3)
ORDER BY position
LIMIT $4`
	rows, err := s.db.Query(ctx, query, from, to, topics, limit-len(events))
	if err != nil {
		return nil, fmt.Errorf("read %s after position %d: %w", s.name, from, err)
	}
	events, err = pgx.AppendRows(events, rows, func(row pgx.CollectableRow) (Stored, error) {
		var e Stored
		err := row.Scan(&e.Position, &e.AggregateID, &e.Version, &e.Topic, &e.Data, &e.Timestamp)
		return e, err
	})
	if err != nil {
		return nil, fmt.Errorf("read %s after position %d: %w", s.name, from, err)
	}
	return events, nil
}

// Backlog reports the events of topics after position after, the head,
// and the transactions that hold the reader back: it is held back when
// committed events of its topics lie past the watermark. A source that has
// just started has seen no writer end yet, so it holds readers back to
// their own position while any transaction that wrote events is open.
func (s *PostgresSource) Backlog(ctx context.Context, after int64, topics []string) (Backlog, error) {
	// A missing table is reported as describe words it, with what to do.
	if _, err := s.describe(ctx); err != nil {
		return Backlog{}, err
	}
	var b Backlog
	var oldest *time.Time
	query := `SELECT (SELECT coalesce(max(position), 0) FROM ` + s.name + `), count(*), min(recorded_at)
FROM ` + s.name + ` WHERE position > $1 AND topic = ANY($2)`
	if err := s.db.QueryRow(ctx, query, after, topics).Scan(&b.Head, &b.Events, &oldest); err != nil {
		return Backlog{}, fmt.Errorf("read backlog of %s: %w", s.name, err)
	}
	if oldest != nil {
		b.Oldest = *oldest
	}
	safe, err := s.watermark(ctx, b.Head, false)
	if err != nil {
		return Backlog{}, err
	}
	s.mu.Lock()
	held, ok := s.wm.heldBy()
	s.mu.Unlock()
	through := max(safe, after)
	if !ok || b.Head <= through || b.Events == 0 {
		return b, nil
	}
	// Only committed events of the topics past the watermark are held
	// from this reader; other topics' are not its concern.
	var heldEvents int64
	if err := s.db.QueryRow(ctx, `SELECT count(*) FROM `+s.name+` WHERE position > $1 AND topic = ANY($2)`, through, topics).Scan(&heldEvents); err != nil {
		return Backlog{}, fmt.Errorf("read backlog of %s: %w", s.name, err)
	}
	if heldEvents == 0 {
		return b, nil
	}
	holders, err := s.holders(ctx, held.writers)
	if err != nil {
		return Backlog{}, err
	}
	// The source saw the writers first at held.at, which, in a process
	// that has just started, is about now; a holder's transaction that
	// began earlier tells better how long readers may have been held.
	since := held.at
	for _, h := range holders {
		if !h.TransactionStart.IsZero() && h.TransactionStart.Before(since) {
			since = h.TransactionStart
		}
	}
	b.HeldBack = &HeldBack{Through: through, Since: since, Holders: holders}
	return b, nil
}

// watermark returns the watermark, refreshing it when it is not past
// after. With recheck, a reader that the refresh leaves where it is waits
// a little for the writers that hold it.
func (s *PostgresSource) watermark(ctx context.Context, after int64, recheck bool) (int64, error) {
	if safe := s.safe(); safe > after {
		return safe, nil
	}
	s.refreshing.Lock()
	defer s.refreshing.Unlock()
	// Another reader may have refreshed while this one waited.
	if safe := s.safe(); safe > after {
		return safe, nil
	}
	meta, err := s.describe(ctx)
	if err != nil {
		return 0, err
	}
	var last int64
	if err := s.db.QueryRow(ctx, `SELECT CASE WHEN is_called THEN last_value ELSE last_value - 1 END FROM `+meta.sequence).Scan(&last); err != nil {
		return 0, fmt.Errorf("read %s's position sequence %s: %w", s.name, meta.sequence, err)
	}
	writers, err := s.writers(ctx, meta)
	if err != nil {
		return 0, err
	}
	s.mu.Lock()
	safe := s.wm.observe(last, writers, time.Now())
	s.mu.Unlock()
	for i, delay := 0, firstRecheck; recheck && safe <= after && safe < last && i < recheckCount; i, delay = i+1, 2*delay {
		if err := sleep(ctx, delay); err != nil {
			return 0, err
		}
		if writers, err = s.writers(ctx, meta); err != nil {
			return 0, err
		}
		s.mu.Lock()
		safe = s.wm.recheck(writers)
		s.mu.Unlock()
	}
	return safe, nil
}

// safe returns the watermark as it stands.
func (s *PostgresSource) safe() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.wm.safe
}

// describe returns the table's oid and position sequence, looked up once.
func (s *PostgresSource) describe(ctx context.Context) (*eventsTable, error) {
	s.mu.Lock()
	meta := s.meta
	s.mu.Unlock()
	if meta != nil {
		return meta, nil
	}
	var oid *uint32
	var sequence *string
	var cache *int64
	err := s.db.QueryRow(ctx, `SELECT to_regclass($1)::oid, q.seq, s.seqcache
FROM (SELECT CASE WHEN to_regclass($1) IS NOT NULL THEN pg_get_serial_sequence($1, 'position') END AS seq) q
LEFT JOIN pg_sequence s ON s.seqrelid = to_regclass(q.seq)`, s.name).Scan(&oid, &sequence, &cache)
	switch {
	case err != nil:
		return nil, fmt.Errorf("look up events table %s: %w", s.name, err)
	case oid == nil:
		return nil, fmt.Errorf("events table %s does not exist on the search_path: create it with projection.EventsTableSQL, or name its schema (schema.events)", s.name)
	case sequence == nil || cache == nil:
		return nil, fmt.Errorf("events table %s: its position column is not an identity or serial column, so there is no sequence to read positions from", s.name)
	case *cache != 1:
		return nil, fmt.Errorf("events table %s: sequence %s caches %d values per session, so positions can be inserted out of order and readers would skip them: run ALTER SEQUENCE %s CACHE 1", s.name, *sequence, *cache, *sequence)
	}
	meta = &eventsTable{oid: *oid, sequence: *sequence}
	s.mu.Lock()
	s.meta = meta
	s.mu.Unlock()
	return meta, nil
}

// writers returns the transactions that hold, or wait for, a lock on the
// table that lets them insert. Weaker locks (readers, SELECT FOR UPDATE,
// VACUUM) are left out: they draw no positions.
func (s *PostgresSource) writers(ctx context.Context, meta *eventsTable) ([]writer, error) {
	rows, err := s.db.Query(ctx, `SELECT virtualtransaction, coalesce(pid, 0) FROM pg_locks
WHERE locktype = 'relation'
	AND database = (SELECT oid FROM pg_database WHERE datname = current_database())
	AND relation = $1
	AND mode IN ('RowExclusiveLock', 'ShareRowExclusiveLock', 'ExclusiveLock', 'AccessExclusiveLock')`, meta.oid)
	if err != nil {
		return nil, fmt.Errorf("read the writers of %s from pg_locks: %w", s.name, err)
	}
	writers, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (writer, error) {
		var w writer
		err := row.Scan(&w.vxid, &w.pid)
		return w, err
	})
	if err != nil {
		return nil, fmt.Errorf("read the writers of %s from pg_locks: %w", s.name, err)
	}
	return writers, nil
}

// holders describes the sessions of writers from pg_stat_activity. A
// prepared transaction has no session; it is described as such.
func (s *PostgresSource) holders(ctx context.Context, writers []writer) ([]Holder, error) {
	pids := make([]int, 0, len(writers))
	var holders []Holder
	for _, w := range writers {
		if w.pid == 0 {
			holders = append(holders, Holder{State: "prepared transaction " + w.vxid})
			continue
		}
		pids = append(pids, w.pid)
	}
	rows, err := s.db.Query(ctx, `SELECT pid, coalesce(application_name, ''), coalesce(host(client_addr), ''), xact_start, coalesce(state, '')
FROM pg_stat_activity WHERE pid = ANY($1) ORDER BY xact_start NULLS LAST, pid`, pids)
	if err != nil {
		return nil, fmt.Errorf("read the sessions holding %s back: %w", s.name, err)
	}
	found, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (Holder, error) {
		var h Holder
		var start *time.Time
		err := row.Scan(&h.PID, &h.Application, &h.Client, &start, &h.State)
		if start != nil {
			h.TransactionStart = *start
		}
		return h, err
	})
	if err != nil {
		return nil, fmt.Errorf("read the sessions holding %s back: %w", s.name, err)
	}
	return append(found, holders...), nil
}

// Append stores events (for tests, demos and simple writers): it inserts
// them in one statement and returns their positions, in the order of
// events. Each Stored's Meta.Position and Timestamp are ignored (assigned
// by the table). An empty Data is stored as JSON null, which decodes to a
// payload's zero value. Append through a pgx.Tx to append in a transaction
// of one's own; plain INSERTs into the table work as well.
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
				s.name, i, e.AggregateID, e.Version)
		}
		ids[i], versions[i], topics[i], payloads[i] = e.AggregateID, e.Version, e.Topic, string(data)
	}
	// Rows are inserted in the order given so that positions follow it.
	query := `INSERT INTO ` + s.name + ` (aggregate_id, version, topic, payload)
SELECT e.aggregate_id, e.version, e.topic, e.payload::jsonb
FROM unnest($1::text[], $2::bigint[], $3::text[], $4::text[]) WITH ORDINALITY AS e(aggregate_id, version, topic, payload, ord)
ORDER BY e.ord
RETURNING position, aggregate_id, version`
	rows, err := s.db.Query(ctx, query, ids, versions, topics, payloads)
	if err != nil {
		return nil, fmt.Errorf("append to %s: %w", s.name, err)
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
			return nil, fmt.Errorf("append to %s: %w", s.name, err)
		}
		byKey[k] = position
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("append to %s: %w", s.name, err)
	}
	positions := make([]int64, len(events))
	for i, e := range events {
		p, ok := byKey[key{e.AggregateID, e.Version}]
		if !ok {
			return nil, fmt.Errorf("append to %s: no position returned for aggregate %s version %d", s.name, e.AggregateID, e.Version)
		}
		positions[i] = p
	}
	return positions, nil
}

// errBadLimit is the cause of Read called with a limit that is not
// positive, which would read nothing and look like being caught up.
var errBadLimit = errors.New("limit must be positive")
