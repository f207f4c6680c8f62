package projection

import (
	"context"
	"time"
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
//
// A source must be gap-free: once it has returned a page through position
// P, no event with a position at or below P may appear later, whoever
// writes it and however late its transaction commits. The runner resumes
// after the last position it applied, so an event that appeared below it
// would never be applied.
type EventSource interface {
	// Read returns the events after position after whose topic is one of
	// topics, in increasing position order, at most limit of them.
	Read(ctx context.Context, after int64, topics []string, limit int) (Page, error)
	// Backlog reports what a reader at position after, reading topics,
	// has still to apply: the store's head, the number and age of the
	// events left, and what holds readers back, if anything does.
	Backlog(ctx context.Context, after int64, topics []string) (Backlog, error)
}

// Page is one read of a source.
type Page struct {
	// Events are the events read, in increasing position order.
	Events []Stored
	// Through is how far the page reaches: every event of the topics with
	// a position in (after, Through] is in Events, and none will ever
	// appear there later. The runner moves the projection to Through,
	// past events of other topics too, so that it never reads them again.
	Through int64
	// End is how far a reader could read when the page was read: every
	// event at or below End is final. Through == End means the reader has
	// caught up; Through < End means there is more to read now.
	End int64
}

// Backlog is what a projection has still to apply.
type Backlog struct {
	// Head is the position of the newest committed event, of any topic, 0
	// when there is none.
	Head int64
	// Events is the number of committed events of the projection's topics
	// after its position.
	Events int64
	// Oldest is when the oldest of those events was recorded; zero when
	// there are none.
	Oldest time.Time
	// HeldBack is set when committed events of the topics exist that the
	// reader may not read yet, because a transaction that could still add
	// events before them is open.
	HeldBack *HeldBack
}

// HeldBack describes transactions that keep committed events from readers.
type HeldBack struct {
	// Through is how far readers may read while the transactions last.
	Through int64
	// Since is when readers began to be held: when the source first saw
	// the transactions writing, or when the oldest of them began, if
	// that is earlier.
	Since time.Time
	// Holders are the sessions of the transactions.
	Holders []Holder
}

// Holder is a database session, as pg_stat_activity shows it.
type Holder struct {
	// PID is the session's backend process id, for pg_terminate_backend.
	PID int
	// Application is the session's application_name.
	Application string
	// Client is the client's address, empty for a Unix socket.
	Client string
	// TransactionStart is when the session's transaction began.
	TransactionStart time.Time
	// State is the session's state, such as "idle in transaction".
	State string
}

// ReadWindows reads a page of up to limit events after position after,
// and through end at most, for an EventSource over a SQL table: it calls
// read for windows of positions (from, to], the first limit positions
// wide and each next one twice as wide, until it has limit events or has
// read through end. read appends to events the window's events of the
// source's topics, in position order, at most limit in all.
//
// A window bounds what one query can cost whatever plan the server
// picks: on a table loaded in bulk and not analyzed yet, PostgreSQL's
// planner scans every matching event up to end and sorts them, for every
// page, which makes a replay quadratic in the number of events. Doubling
// the window keeps the number of queries logarithmic where the topics
// are rare.
func ReadWindows(after, end int64, limit int, read func(events []Stored, from, to int64, limit int) ([]Stored, error)) (Page, error) {
	var events []Stored
	for from, width := after, int64(limit); ; width *= 2 {
		to := min(end, from+width)
		var err error
		if events, err = read(events, from, to, limit); err != nil {
			return Page{}, err
		}
		if len(events) >= limit {
			return Page{Events: events, Through: events[len(events)-1].Position, End: end}, nil
		}
		if to >= end {
			return Page{Events: events, Through: end, End: end}, nil
		}
		from = to
	}
}
