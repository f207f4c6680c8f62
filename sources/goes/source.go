package goes

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/projgen/projgen/projection"
)

// Source reads goes' events table in the order of the log Install keeps,
// as a projection.EventSource. It is safe for concurrent use, and meant to
// be shared by every projection of a runner. See the package comment for
// why its reads are gap-free.
type Source struct {
	db  projection.DBTX
	cfg config

	// refreshing serialises refreshes of the horizon, so that projections
	// catching up at once share one.
	refreshing sync.Mutex
	// mu guards the fields below it.
	mu      sync.Mutex
	horizon horizon
	names   *logged
}

var _ projection.EventSource = (*Source)(nil)

// logged is what Source learns about the installation, once.
type logged struct {
	names
	sequence string // the log's position sequence, qualified and quoted
}

// A reader that has caught up while writers hold the horizon looks again
// whether they have ended, up to recheckCount times, after firstRecheck
// and then twice as long each time: goes' Insert transactions last
// milliseconds, and waiting for them beats waiting a poll interval.
const (
	recheckCount = 4
	firstRecheck = time.Millisecond
)

// NewSource returns a source that reads goes' events table and the log
// through db, usually a *pgxpool.Pool on goes' database (goes' default
// database is named goes). Give it the options given to Install.
func NewSource(db projection.DBTX, opts ...Option) *Source {
	return &Source{db: db, cfg: newConfig(opts)}
}

// Read returns up to limit events of topics after position after, in
// position order, reading no further than the horizon below which every
// position is final. It reads in windows of positions (see
// projection.ReadWindows).
func (s *Source) Read(ctx context.Context, after int64, topics []string, limit int) (projection.Page, error) {
	if limit <= 0 {
		return projection.Page{}, fmt.Errorf("read goes events: limit %d: limit must be positive", limit)
	}
	n, err := s.describe(ctx)
	if err != nil {
		return projection.Page{}, err
	}
	end, err := s.reach(ctx, n, after, true)
	if err != nil {
		return projection.Page{}, err
	}
	if end <= after || len(topics) == 0 {
		end = max(end, after)
		return projection.Page{Through: end, End: end}, nil
	}
	return projection.ReadWindows(after, end, limit, func(events []projection.Stored, from, to int64, limit int) ([]projection.Stored, error) {
		return s.readWindow(ctx, n, events, from, to, topics, limit)
	})
}

// readWindow appends to events, up to limit in all, the logged events of
// the topics with positions in (from, to], in position order.
func (s *Source) readWindow(ctx context.Context, n *logged, events []projection.Stored, from, to int64, topics []string, limit int) ([]projection.Stored, error) {
	// An event deleted from goes' table after it was logged has no row to
	// join: it is gone, and read by no one from then on.
	query := `SELECT l.position, e.name, e.time, coalesce(e.aggregate_id::text, ''), coalesce(e.aggregate_version, 0), coalesce(e.data, 'null'::jsonb)
FROM ` + n.log + ` l JOIN ` + n.events + ` e ON e.id = l.event_id
WHERE l.position > $1 AND l.position <= $2 AND l.name = ANY($3)
ORDER BY l.position
LIMIT $4`
	rows, err := s.db.Query(ctx, query, from, to, topics, limit-len(events))
	if err != nil {
		return nil, fmt.Errorf("read %s after position %d: %w", n.events, from, err)
	}
	events, err = pgx.AppendRows(events, rows, func(row pgx.CollectableRow) (projection.Stored, error) {
		var e projection.Stored
		var nanos int64
		err := row.Scan(&e.Position, &e.Topic, &nanos, &e.AggregateID, &e.Version, &e.Data)
		e.Timestamp = time.Unix(0, nanos)
		return e, err
	})
	if err != nil {
		return nil, fmt.Errorf("read %s after position %d: %w", n.events, from, err)
	}
	return events, nil
}

// Backlog reports the events of topics after position after, the head of
// the log, and the transactions that hold the reader back, if committed
// events of its topics lie past the horizon. A source that has just
// started has seen no writer end yet, so it holds readers back while any
// transaction writing the log is open. Oldest is the oldest event's goes
// time, the writer's clock when the event was raised.
func (s *Source) Backlog(ctx context.Context, after int64, topics []string) (projection.Backlog, error) {
	n, err := s.describe(ctx)
	if err != nil {
		return projection.Backlog{}, err
	}
	var b projection.Backlog
	var oldest *int64
	query := `SELECT (SELECT coalesce(max(position), 0) FROM ` + n.log + `), count(*), min(e.time)
FROM ` + n.log + ` l JOIN ` + n.events + ` e ON e.id = l.event_id
WHERE l.position > $1 AND l.name = ANY($2)`
	if err := s.db.QueryRow(ctx, query, after, topics).Scan(&b.Head, &b.Events, &oldest); err != nil {
		return projection.Backlog{}, fmt.Errorf("read the backlog of %s: %w", n.events, err)
	}
	if oldest != nil {
		b.Oldest = time.Unix(0, *oldest)
	}
	reach, err := s.reach(ctx, n, b.Head, false)
	if err != nil {
		return projection.Backlog{}, err
	}
	s.mu.Lock()
	held, ok := s.horizon.waiting()
	s.mu.Unlock()
	through := max(reach, after)
	if !ok || b.Head <= through || b.Events == 0 {
		return b, nil
	}
	var heldEvents int64
	if err := s.db.QueryRow(ctx, `SELECT count(*) FROM `+n.log+` l JOIN `+n.events+` e ON e.id = l.event_id
WHERE l.position > $1 AND l.name = ANY($2)`, through, topics).Scan(&heldEvents); err != nil {
		return projection.Backlog{}, fmt.Errorf("read the backlog of %s: %w", n.events, err)
	}
	if heldEvents == 0 {
		return b, nil
	}
	holders, err := s.holders(ctx, n, held.open)
	if err != nil {
		return projection.Backlog{}, err
	}
	since := held.since
	for _, h := range holders {
		if !h.TransactionStart.IsZero() && h.TransactionStart.Before(since) {
			since = h.TransactionStart
		}
	}
	b.HeldBack = &projection.HeldBack{Through: through, Since: since, Holders: holders}
	return b, nil
}

// reach returns the horizon, moving it when it is not past after. With
// recheck, a reader it leaves where it is waits a little for the writers
// that hold it.
func (s *Source) reach(ctx context.Context, n *logged, after int64, recheck bool) (int64, error) {
	if r := s.current(); r > after {
		return r, nil
	}
	s.refreshing.Lock()
	defer s.refreshing.Unlock()
	if r := s.current(); r > after {
		return r, nil
	}
	// The sequence first, then pg_locks: the order the horizon's
	// reasoning needs.
	var last int64
	if err := s.db.QueryRow(ctx, `SELECT CASE WHEN is_called THEN last_value ELSE last_value - 1 END FROM `+n.sequence).Scan(&last); err != nil {
		return 0, fmt.Errorf("read %s's position sequence %s: %w", n.log, n.sequence, err)
	}
	locks, err := s.writers(ctx, n)
	if err != nil {
		return 0, err
	}
	s.mu.Lock()
	r := s.horizon.see(last, locks, time.Now())
	s.mu.Unlock()
	for i, delay := 0, firstRecheck; recheck && r <= after && r < last && i < recheckCount; i, delay = i+1, 2*delay {
		if err := sleep(ctx, delay); err != nil {
			return 0, err
		}
		if locks, err = s.writers(ctx, n); err != nil {
			return 0, err
		}
		s.mu.Lock()
		r = s.horizon.look(locks)
		s.mu.Unlock()
	}
	return r, nil
}

// current returns the horizon's reach as it stands.
func (s *Source) current() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.horizon.reach
}

// describe finds goes' table, the log, its sequence and the trigger,
// once, and refuses an installation that would not give every event a
// position.
func (s *Source) describe(ctx context.Context) (*logged, error) {
	s.mu.Lock()
	l := s.names
	s.mu.Unlock()
	if l != nil {
		return l, nil
	}
	n, err := s.cfg.resolve(ctx, s.db)
	if err != nil {
		return nil, err
	}
	if n.logOID == 0 {
		return nil, fmt.Errorf("the ordering table %s of goes' table %s does not exist: run goes.Install with the source's options", n.log, n.events)
	}
	var sequence *string
	var cache *int64
	var enabled *string
	err = s.db.QueryRow(ctx, `SELECT q.seq, s.seqcache, (SELECT tgenabled::text FROM pg_trigger WHERE tgrelid = $2 AND tgname = $3)
FROM (SELECT pg_get_serial_sequence($1, 'position') AS seq) q
LEFT JOIN pg_sequence s ON s.seqrelid = to_regclass(q.seq)`, n.log, n.evOID, n.triggerName).Scan(&sequence, &cache, &enabled)
	switch {
	case err != nil:
		return nil, fmt.Errorf("look up the ordering table %s: %w", n.log, err)
	case sequence == nil || cache == nil:
		return nil, fmt.Errorf("the ordering table %s has no position sequence: it was not made by goes.Install; drop it and run goes.Install", n.log)
	case *cache != 1:
		return nil, fmt.Errorf("the ordering table %s: sequence %s caches %d values per session, so positions can be committed out of order and readers would skip them: run ALTER SEQUENCE %s CACHE 1", n.log, *sequence, *cache, *sequence)
	case enabled == nil:
		return nil, fmt.Errorf("goes' table %s has no trigger %s, so new events get no position: run goes.Install, which also gives positions to the events inserted meanwhile", n.events, n.trigger)
	case *enabled == "D":
		return nil, fmt.Errorf("the trigger %s on goes' table %s is disabled, so new events get no position: enable it (ALTER TABLE %s ENABLE TRIGGER %s), then run goes.Install for the events inserted meanwhile", n.trigger, n.events, n.events, n.trigger)
	}
	l = &logged{names: n, sequence: *sequence}
	s.mu.Lock()
	s.names = l
	s.mu.Unlock()
	return l, nil
}

// writers returns the transactions that hold, or wait for, a lock on the
// log that lets them insert: the trigger takes RowExclusiveLock. Weaker
// locks draw no position.
func (s *Source) writers(ctx context.Context, n *logged) ([]txn, error) {
	rows, err := s.db.Query(ctx, `SELECT virtualtransaction, coalesce(pid, 0) FROM pg_locks
WHERE locktype = 'relation'
	AND database = (SELECT oid FROM pg_database WHERE datname = current_database())
	AND relation = $1
	AND mode IN ('RowExclusiveLock', 'ShareRowExclusiveLock', 'ExclusiveLock', 'AccessExclusiveLock')`, n.logOID)
	if err != nil {
		return nil, fmt.Errorf("read the writers of %s from pg_locks: %w", n.log, err)
	}
	locks, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (txn, error) {
		var t txn
		err := row.Scan(&t.vxid, &t.pid)
		return t, err
	})
	if err != nil {
		return nil, fmt.Errorf("read the writers of %s from pg_locks: %w", n.log, err)
	}
	return locks, nil
}

// holders describes the sessions of open transactions from
// pg_stat_activity; a prepared transaction has none, and says so.
func (s *Source) holders(ctx context.Context, n *logged, open []txn) ([]projection.Holder, error) {
	var pids []int
	var prepared []projection.Holder
	for _, t := range open {
		if t.pid == 0 {
			prepared = append(prepared, projection.Holder{State: "prepared transaction " + t.vxid})
			continue
		}
		pids = append(pids, t.pid)
	}
	rows, err := s.db.Query(ctx, `SELECT pid, coalesce(application_name, ''), coalesce(host(client_addr), ''), xact_start, coalesce(state, '')
FROM pg_stat_activity WHERE pid = ANY($1) ORDER BY xact_start NULLS LAST, pid`, pids)
	if err != nil {
		return nil, fmt.Errorf("read the sessions holding %s back: %w", n.log, err)
	}
	found, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (projection.Holder, error) {
		var h projection.Holder
		var start *time.Time
		err := row.Scan(&h.PID, &h.Application, &h.Client, &start, &h.State)
		if start != nil {
			h.TransactionStart = *start
		}
		return h, err
	})
	if err != nil {
		return nil, fmt.Errorf("read the sessions holding %s back: %w", n.log, err)
	}
	return append(found, prepared...), nil
}

// sleep waits for d, or returns ctx's error when ctx ends first.
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
