// Package goes is a projection.EventSource for the PostgreSQL backend of
// modernice/goes, matching the stored format of goes v0.9.0
// (backend/postgres): one row per event in a table named events (goes'
// Table option), in goes' database (goes' Database option, "goes" by
// default), with the columns id uuid, name varchar(255), time bigint
// (Unix nanoseconds), aggregate_id uuid, aggregate_name varchar(255),
// aggregate_version integer and data jsonb. It does not import goes.
//
// An event reaches projections as a projection.Stored with Topic = name,
// AggregateID = aggregate_id as a string (empty for an event without an
// aggregate), Version = aggregate_version (0 without an aggregate),
// Timestamp = time as Unix nanoseconds, and Data = data, the JSON goes'
// default codec wrote (as jsonb gives it back: keys reordered, spaces
// normalised).
//
// # What goes promises, and what this source adds
//
// goes keeps no position. Its rows are ordered only by (time, id), and
// time is the writer's clock when the event was raised, not when its
// transaction committed: a writer whose transaction commits late, or whose
// clock is behind, adds events below ones a reader has already passed.
// The ids are random. So no column of goes' table can be a position that
// a runner resumes after without skipping events.
//
// The source therefore keeps its own order. Install creates an ordering
// table, projgen_goes_log (position, event_id, name), and an AFTER INSERT
// trigger on goes' table that appends every inserted event to it, in the
// same transaction, with a position drawn from the log's identity
// sequence. Every writer is covered, whatever it is: goes' Insert, plain
// INSERTs or COPY from other code. The events already in goes' table when
// Install runs are given positions first, in (time, id) order, in one
// statement, while goes' table is locked against inserts, so that none
// falls between that backfill and the trigger.
//
// A position is drawn when the event is inserted, not when it commits, so
// a committed event can still sit above a position that an open
// transaction holds. The source reads only up to a horizon below which
// every position is final, found as projection.PostgresSource finds its
// watermark (docs/DESIGN.md, Decision 1): it reads the log sequence's last
// value L, then, from pg_locks, the transactions holding a write lock on
// the log. The trigger takes that lock before it draws a position and
// keeps it until the transaction ends, so every position up to L was
// drawn by one of those transactions or by one already ended; once all of
// them have ended, every position up to L is committed or never will be.
// Only transactions that insert goes events hold readers back, and Backlog
// names them.
//
// An event deleted from goes' table (goes' repositories delete an
// aggregate's events) is no longer read; its position stays in the log,
// unused. An event id inserted again gets a new position.
//
// # Requirements
//
// goes' table must be read on the primary, where its writers' locks are.
// The trigger must stay enabled: a session with session_replication_role
// = replica (logical replication's apply workers, some restore tools)
// does not fire it, and its events get no position until Install runs
// again, which appends them after the log's last position. The log's
// sequence must cache one value per session, as Install creates it. The
// server must be PostgreSQL 11 or later. Events are never updated by goes;
// an UPDATE of a logged row is not seen.
package goes
