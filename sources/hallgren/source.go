// Package hallgren reads the events that github.com/hallgren/eventsourcing's
// SQL event store (github.com/hallgren/eventsourcing/eventstore/sql) writes,
// as a projection.EventSource, so that projgen's runner can project them.
//
// # SQLite, not PostgreSQL
//
// The library's SQL store runs on SQLite, not on PostgreSQL. Its Migrate
// creates the table with SQLite's AUTOINCREMENT and BLOB; its Save looks up
// the aggregate's version with ? placeholders (and inserts with $1..$7,
// SQLite takes both), which PostgreSQL refuses as a syntax error, and reads
// each position back with LastInsertId, which neither pgx's database/sql
// driver nor lib/pq supports. So the events stay
// in the library's SQLite database, which Source reads through
// database/sql, while the runner keeps the read models and its positions in
// PostgreSQL, committing both in one transaction there as always. Reading
// is idempotent and the runner tracks what it applied, so the two databases
// need no transaction in common.
//
// # What the store promises, and what Source adds
//
// The store gives each event a position, seq, from an INTEGER PRIMARY KEY
// AUTOINCREMENT column, inside Save's transaction. SQLite runs one write
// transaction at a time on a database, and a transaction takes the write
// lock before its first INSERT draws a seq and keeps it until it commits
// or rolls back. So one transaction's seqs are all above those of every
// transaction that committed before it, and below those of every later
// one: events become visible in seq order, and once a reader has seen seq
// P, no event at or below P can appear later. AUTOINCREMENT never hands
// out a seq again once a committed row had it, even after deletes; a
// transaction that rolls back leaves no event behind, so the seqs it drew
// may be reused by the next writer, above everything committed. That is
// the gap-free contract of projection.EventSource, and it holds without
// the watermark that PostgresSource needs (docs/DESIGN.md, Decision 1):
// there a sequence hands positions to concurrent transactions that commit
// in any order.
//
// Source adds the rest: it reads the head (the highest seq) first and then
// only events at or below it, so that a page is one consistent prefix of
// the log, whatever commits between the two statements; it filters by
// topic in the query; it retries reads that find the database locked (a
// rollback-journal writer committing) instead of failing the projection;
// and it checks once that the table is what the argument above needs.
//
// What it does not cover, because SQLite cannot tell it: a writer that
// inserts a seq of its own choosing below the head, a table without
// AUTOINCREMENT whose newest rows are deleted, connections in shared-cache
// mode with PRAGMA read_uncommitted (they see rows before they commit), and
// a database on a network file system whose locks do not work. The
// library's Save does none of these.
//
// # Opening the database
//
// Open the library's database with the same driver on both sides
// (github.com/mattn/go-sqlite3 needs cgo). WAL mode lets readers read while
// a writer writes: file:events.db?_journal_mode=WAL. Writers that save
// concurrently need _txlock=immediate: Save reads the aggregate's version
// before it inserts, and two deferred transactions that both read cannot
// both upgrade to write, so one fails with "database is locked" at once,
// whatever the busy timeout. Source never opens a transaction, so the
// option does not matter to it.
package hallgren

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/projgen/projgen/projection"
)

// DefaultTable is the table the library's Migrate creates and its Save
// writes.
const DefaultTable = "events"

// Source reads the library's events table: position = seq, topic = reason
// (the event's bare type name), AggregateID = id, Version = version,
// Timestamp = timestamp (RFC 3339, to the second, as the library writes
// it), Data = data (the payload, JSON). The aggregate type (type) and
// metadata columns are not read. Source is safe for concurrent use and
// meant to be shared by the projections of a runner.
type Source struct {
	db     *sql.DB
	schema string // unquoted, empty for the connection's default
	table  string // unquoted
	name   string // quoted, possibly schema-qualified

	// mu guards checked.
	mu      sync.Mutex
	checked bool
}

var _ projection.EventSource = (*Source)(nil)

// NewSource returns a source that reads table through db, a database opened
// with a SQLite driver. An empty table means DefaultTable. The name is
// quoted; one with a dot, such as "store.events", is taken as
// schema.table, for a database attached under the name store.
func NewSource(db *sql.DB, table string) *Source {
	if table == "" {
		table = DefaultTable
	}
	s := &Source{db: db, table: table}
	if i := strings.IndexByte(table, '.'); i >= 0 {
		s.schema, s.table = table[:i], table[i+1:]
		s.name = quote(s.schema) + "." + quote(s.table)
	} else {
		s.name = quote(table)
	}
	return s
}

// quote returns name as a SQLite identifier.
func quote(name string) string {
	return `"` + strings.ReplaceAll(name, `"`, `""`) + `"`
}

// errBadLimit is the cause of Read called with a limit that is not
// positive, which would read nothing and look like being caught up.
var errBadLimit = errors.New("limit must be positive")

// Read returns up to limit events after position after whose reason is one
// of topics, in seq order, reading no further than the head the store had
// when Read began.
func (s *Source) Read(ctx context.Context, after int64, topics []string, limit int) (projection.Page, error) {
	if limit <= 0 {
		return projection.Page{}, fmt.Errorf("read %s: limit %d: %w", s.name, limit, errBadLimit)
	}
	if err := s.check(ctx); err != nil {
		return projection.Page{}, err
	}
	var head int64
	err := s.retry(ctx, func() error {
		return s.db.QueryRowContext(ctx, `SELECT coalesce(max(seq), 0) FROM `+s.name).Scan(&head)
	})
	if err != nil {
		return projection.Page{}, fmt.Errorf("read the head of %s: %w", s.name, err)
	}
	if head <= after || len(topics) == 0 {
		end := max(head, after)
		return projection.Page{Through: end, End: end}, nil
	}
	query := `SELECT seq, id, version, reason, timestamp, data FROM ` + s.name + `
WHERE seq > ? AND seq <= ? AND reason IN (` + placeholders(len(topics)) + `)
ORDER BY seq
LIMIT ?`
	args := make([]any, 0, len(topics)+3)
	args = append(args, after, head)
	for _, t := range topics {
		args = append(args, t)
	}
	args = append(args, limit)
	var events []projection.Stored
	err = s.retry(ctx, func() error {
		events = events[:0]
		rows, err := s.db.QueryContext(ctx, query, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			e, err := scanEvent(rows)
			if err != nil {
				return err
			}
			events = append(events, e)
		}
		return rows.Err()
	})
	if err != nil {
		return projection.Page{}, fmt.Errorf("read %s after seq %d: %w", s.name, after, err)
	}
	page := projection.Page{Events: events, Through: head, End: head}
	if len(events) == limit {
		page.Through = events[len(events)-1].Position
	}
	return page, nil
}

// scanEvent reads one row of Read's query.
func scanEvent(rows *sql.Rows) (projection.Stored, error) {
	var e projection.Stored
	var version sql.NullInt64
	var timestamp sql.NullString
	if err := rows.Scan(&e.Position, &e.AggregateID, &version, &e.Topic, &timestamp, &e.Data); err != nil {
		return e, err
	}
	if !version.Valid {
		return e, fmt.Errorf("event at seq %d (reason %q, aggregate %s) has no version", e.Position, e.Topic, e.AggregateID)
	}
	e.Version = version.Int64
	if !timestamp.Valid {
		return e, fmt.Errorf("event at seq %d (reason %q, aggregate %s) has no timestamp", e.Position, e.Topic, e.AggregateID)
	}
	t, err := time.Parse(time.RFC3339, timestamp.String)
	if err != nil {
		return e, fmt.Errorf("event at seq %d (reason %q, aggregate %s): timestamp: %w", e.Position, e.Topic, e.AggregateID, err)
	}
	e.Timestamp = t
	return e, nil
}

// Backlog reports the head, and the number and age of the events of topics
// after position after. Nothing holds a SQLite reader back, so HeldBack is
// always nil: a committed event can be read at once, and every seq below
// it is final. Oldest is the earliest timestamp among the events, to the
// second.
func (s *Source) Backlog(ctx context.Context, after int64, topics []string) (projection.Backlog, error) {
	if err := s.check(ctx); err != nil {
		return projection.Backlog{}, err
	}
	var b projection.Backlog
	if len(topics) == 0 {
		err := s.retry(ctx, func() error {
			return s.db.QueryRowContext(ctx, `SELECT coalesce(max(seq), 0) FROM `+s.name).Scan(&b.Head)
		})
		if err != nil {
			return b, fmt.Errorf("read backlog of %s: %w", s.name, err)
		}
		return b, nil
	}
	// One statement, so one snapshot: the count never includes events
	// above the head it reports. strftime parses the offset the library
	// may have written, so the minimum is a minimum of instants.
	query := `SELECT (SELECT coalesce(max(seq), 0) FROM ` + s.name + `), count(*), min(CAST(strftime('%s', timestamp) AS INTEGER))
FROM ` + s.name + ` WHERE seq > ? AND reason IN (` + placeholders(len(topics)) + `)`
	args := make([]any, 0, len(topics)+1)
	args = append(args, after)
	for _, t := range topics {
		args = append(args, t)
	}
	var oldest sql.NullInt64
	err := s.retry(ctx, func() error {
		return s.db.QueryRowContext(ctx, query, args...).Scan(&b.Head, &b.Events, &oldest)
	})
	if err != nil {
		return projection.Backlog{}, fmt.Errorf("read backlog of %s: %w", s.name, err)
	}
	if oldest.Valid {
		b.Oldest = time.Unix(oldest.Int64, 0).UTC()
	}
	return b, nil
}

// placeholders returns n comma-separated placeholders.
func placeholders(n int) string {
	return strings.TrimSuffix(strings.Repeat("?, ", n), ", ")
}

// check makes sure, once, that the table exists with the columns Source
// reads and that seq is an INTEGER PRIMARY KEY AUTOINCREMENT, which the
// gap-free argument needs: a plain INTEGER PRIMARY KEY hands the seq of a
// deleted newest row out again.
func (s *Source) check(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.checked {
		return nil
	}
	schema := "main"
	if s.schema != "" {
		schema = s.schema
	}
	var ddl string
	err := s.retry(ctx, func() error {
		return s.db.QueryRowContext(ctx, `SELECT sql FROM `+quote(schema)+`.sqlite_master WHERE type = 'table' AND name = ?`, s.table).Scan(&ddl)
	})
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return fmt.Errorf("events table %s does not exist: create it with the library's Migrate (sql.Open(db).Migrate())", s.name)
	case err != nil:
		return fmt.Errorf("look up events table %s: %w", s.name, err)
	}
	columns := map[string]string{}
	var seqPK bool
	err = s.retry(ctx, func() error {
		rows, err := s.db.QueryContext(ctx, `SELECT name, type, pk FROM pragma_table_info(?, ?)`, s.table, schema)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var name, typ string
			var pk int
			if err := rows.Scan(&name, &typ, &pk); err != nil {
				return err
			}
			columns[strings.ToLower(name)] = strings.ToUpper(typ)
			if strings.EqualFold(name, "seq") && pk == 1 {
				seqPK = true
			}
		}
		return rows.Err()
	})
	if err != nil {
		return fmt.Errorf("read the columns of events table %s: %w", s.name, err)
	}
	var missing []string
	for _, c := range []string{"seq", "id", "version", "reason", "timestamp", "data"} {
		if _, ok := columns[c]; !ok {
			missing = append(missing, c)
		}
	}
	switch {
	case len(missing) > 0:
		return fmt.Errorf("events table %s has no column %s: it is not the library's events table", s.name, strings.Join(missing, ", "))
	case !seqPK || columns["seq"] != "INTEGER" || !strings.Contains(strings.ToUpper(ddl), "AUTOINCREMENT"):
		return fmt.Errorf("events table %s: seq must be INTEGER PRIMARY KEY AUTOINCREMENT, as the library's Migrate creates it: without AUTOINCREMENT SQLite hands a deleted newest seq out again, below readers that have passed it", s.name)
	}
	s.checked = true
	return nil
}

// Bounds of the wait between attempts at a read that found the database
// locked: a writer in rollback-journal mode locks readers out while it
// commits, which takes milliseconds.
const (
	firstBusyDelay = time.Millisecond
	maxBusyDelay   = 100 * time.Millisecond
)

// retry runs fn until it succeeds, fails otherwise than by finding the
// database locked, or ctx is done. A locked database is always transient,
// and the runner would stop the projection on an error it does not know
// as transient.
func (s *Source) retry(ctx context.Context, fn func() error) error {
	for delay := firstBusyDelay; ; delay = min(2*delay, maxBusyDelay) {
		err := fn()
		if err == nil || !isBusy(err) {
			return err
		}
		t := time.NewTimer(delay)
		select {
		case <-ctx.Done():
			t.Stop()
			return errors.Join(err, ctx.Err())
		case <-t.C:
		}
	}
}

// isBusy reports whether err is SQLite's SQLITE_BUSY or SQLITE_LOCKED. It
// goes by the message, which SQLite words the same through every driver,
// so that Source needs no driver of its own.
func isBusy(err error) bool {
	msg := err.Error()
	return strings.Contains(msg, "database is locked") || strings.Contains(msg, "database table is locked")
}
