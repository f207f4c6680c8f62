// Package projection is the small runtime that projgen's generated code
// imports. It defines what an event is, what a projection is, and what a
// read model writes through, so that generated projections, their Postgres
// read models and the runner agree on one vocabulary.
//
// The package keeps no global state: a module's projections and its topic →
// payload table are returned by functions in the generated registry, and are
// passed to whatever runs them.
package projection

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// Meta is what the event store records about an event besides its payload.
type Meta struct {
	// AggregateID identifies the stream the event belongs to. It is a
	// string so that both uuid and text stream ids fit. Generated read
	// models pass it as a parameter of the column's type: a text column
	// stores it as it is, and before writing to a uuid column they check
	// it with CheckUUID, which returns an *EventError for an ID that is
	// not a UUID.
	AggregateID string
	// Version is the aggregate's version after this event, starting at 1.
	// Read models store it and ignore any event whose version is not newer,
	// which makes every statement safe to replay.
	Version int64
	// Position is the event's global position in the store. The runner
	// tracks it to resume, and append-only tables use it as their key.
	Position int64
	// Timestamp is when the event was recorded.
	Timestamp time.Time
	// Topic is the string the event store records for the event's type.
	Topic string
}

// Event is one stored event: its metadata and its decoded payload. Data
// holds a payload value T or a pointer *T; generated projections accept both.
type Event struct {
	Meta
	Data any
}

// Projection maps events to calls on a read model. Generated projections
// hold no logic beyond that mapping and the filters in projgen.yaml.
type Projection interface {
	// Name is the projection's stable name, used to track its position.
	Name() string
	// Topics lists the topics the projection handles; the runner reads only
	// these.
	Topics() []string
	// Process applies one event. Events of other types are ignored.
	Process(ctx context.Context, e Event) error
}

// DBTX is what a generated Postgres read model writes through. It is
// satisfied by *pgxpool.Pool, *pgx.Conn and pgx.Tx, so the same read model
// runs on a pool in tests and on the runner's transaction in production.
type DBTX interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// Registration describes one projection of a module: enough for a runner to
// build it on a transaction, subscribe to its topics and rebuild its tables.
type Registration struct {
	// Name is the projection's name, as returned by Projection.Name.
	Name string
	// Topics are the topics the projection handles.
	Topics []string
	// Tables are the read-model tables the projection writes, unqualified:
	// a rebuild replays into copies of them and swaps their rows in.
	Tables []string
	// New builds the projection over a read model that writes through db.
	New func(db DBTX) Projection
	// OnError says what the runner does with an event the projection
	// fails on: Stop there (the default) or Park it and go on.
	OnError ErrorPolicy
	// Pipeline lets the runner send the statements of a batch to the
	// server together, in the batch's transaction, rather than one round
	// trip each. Exec on the DBTX that New is given then queues the
	// statement and returns an empty CommandTag and a nil error; a
	// statement's error comes when the batch is sent, and names the
	// event it was queued for. Query and QueryRow send what is queued
	// first, so they see it. Set it for projections that do not read
	// Exec's CommandTag, as generated read models do not.
	Pipeline bool
	// Fold, when set, lets Rebuild fold the events per row in memory
	// and write the final rows with COPY, rather than replay them one
	// statement each. It replays them when the fold meets what it cannot
	// fold exactly as the statements would run (an event the projection
	// fails on, a row COPY refuses), so the rows are the same either
	// way. Generated registrations set it.
	Fold *Fold
}

// EventTypes maps each topic to a constructor of an empty payload to decode
// the stored event into. Generated registries return one for the module. A
// topic mapped to nil names an event without a payload type, which
// projections tell by its topic alone.
type EventTypes map[string]func() any

// ErrUnknownTopic is returned by EventTypes.Decode for a topic that no
// projection of the module handles.
var ErrUnknownTopic = errors.New("unknown topic")

// ErrNilPayload is the cause given by generated projections for an event
// whose payload is a nil pointer, which only a faulty decoder produces.
var ErrNilPayload = errors.New("nil event payload")

// Decode returns a new payload for topic with the JSON data decoded into it.
// The payload is a pointer, *T; it is nil, whatever data holds, for a topic
// without a payload type. Stores that encode payloads otherwise call
// the constructor, t[topic](), and decode into its result themselves.
func (t EventTypes) Decode(topic string, data []byte) (any, error) {
	newPayload, ok := t[topic]
	if !ok {
		return nil, fmt.Errorf("decode %q: %w", topic, ErrUnknownTopic)
	}
	if newPayload == nil {
		return nil, nil
	}
	v := newPayload()
	if err := json.Unmarshal(data, v); err != nil {
		return nil, fmt.Errorf("decode %q: %w", topic, err)
	}
	return v, nil
}

// ErrPayloadType is the cause given by generated projections for an event
// whose topic they handle but whose payload is not of the topic's type,
// which only a faulty decoder or a topic reused for another type produces.
var ErrPayloadType = errors.New("payload of another type than its topic's")

// EventError reports an event that could not be processed. It names the
// event's position, topic and aggregate so that a poison event can be found
// in the store.
type EventError struct {
	Meta Meta
	Err  error
}

// Error describes the event and the cause.
func (e *EventError) Error() string {
	return fmt.Sprintf("event at position %d (topic %q, aggregate %s, version %d): %v",
		e.Meta.Position, e.Meta.Topic, e.Meta.AggregateID, e.Meta.Version, e.Err)
}

// Unwrap returns the cause.
func (e *EventError) Unwrap() error { return e.Err }

// CheckUUID returns an *EventError naming the event of meta when its
// AggregateID is not a UUID, which column, a uuid column, needs. Generated
// read models call it before they write: PostgreSQL would refuse the ID
// with a bare invalid_text_representation error (22P02) that names neither
// the event nor the column.
func CheckUUID(meta Meta, column string) error {
	if err := uuid.Validate(meta.AggregateID); err != nil {
		return &EventError{Meta: meta, Err: fmt.Errorf("aggregate ID %q does not fit the uuid column %s: %w", meta.AggregateID, column, err)}
	}
	return nil
}

// CheckBigint returns an *EventError naming the event of meta when its
// AggregateID is not a decimal int64, which column, a bigint column,
// needs. Generated read models call it before they write, as CheckUUID.
func CheckBigint(meta Meta, column string) error {
	if _, err := strconv.ParseInt(meta.AggregateID, 10, 64); err != nil {
		return &EventError{Meta: meta, Err: fmt.Errorf("aggregate ID %q does not fit the bigint column %s: %w", meta.AggregateID, column, err)}
	}
	return nil
}

// JSON makes pgx encode a value as JSON whatever its dynamic type.
// Generated read models wrap interface-typed fields in it: pgx takes a
// string or []byte given for a jsonb column as JSON text already, so a
// string held in an `any` field would otherwise be refused or misread.
type JSON struct {
	Value any
}

// MarshalJSON encodes the wrapped value.
func (j JSON) MarshalJSON() ([]byte, error) { return json.Marshal(j.Value) }
