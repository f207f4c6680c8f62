package jetstream

import (
	"bytes"
	"encoding/gob"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/projgen/projgen/projection"
)

// The two ways github.com/modernice/goes stores events in JetStream, as
// its source shows them (backend/nats/jetstream.go and backend/natsjs,
// alike from v0.7.1 to v0.9.0; read from goes v0.9.0 publishing, too).
// Both carry the aggregate in the body, so the layouts below decode the
// body, and both encode the payload with goes' codec, JSON unless the
// application registered another encoding (then EventTypes.Decode cannot
// read it). Before v0.7.1 the bus published on the event name as it
// was, dots included: such streams are not the GoesBus layout.

// GoesBus is the layout of goes' NATS event bus with its JetStream
// driver (backend/nats, Use(JetStream())): every event in one stream,
// "goes" by default, on the subject the bus's SubjectFunc gives its
// name, the name itself by default with ".", "*" and ">" replaced by
// "_"; the body a gob-encoded envelope of the event's ID, name, time,
// payload and aggregate name, ID and version, and the event ID in the
// Nats-Msg-Id header. One stream orders every event, so a Source over it
// serves projections of any aggregates.
type GoesBus struct {
	// Subject is the bus's SubjectFunc, when the application set one;
	// nil means goes' default. Source replaces ".", "*" and ">" in what
	// it returns by "_", as the bus does.
	Subject func(eventName string) string
}

// goesReplacer makes a subject token of an event name, as goes does.
var goesReplacer = strings.NewReplacer(".", "_", ">", "_", "*", "_")

// FilterSubject returns the subject goes' bus publishes topic's events on.
func (g GoesBus) FilterSubject(topic string) string {
	if g.Subject != nil {
		return goesReplacer.Replace(g.Subject(topic))
	}
	return goesReplacer.Replace(topic)
}

// goesBusEnvelope is the envelope goes' bus encodes with gob. gob matches
// fields by name, so the names and types are what matters.
type goesBusEnvelope struct {
	ID               uuid.UUID
	Name             string
	Time             time.Time
	Data             []byte
	AggregateName    string
	AggregateID      uuid.UUID
	AggregateVersion int
}

// Decode reads the gob envelope.
func (GoesBus) Decode(m Message) (projection.Stored, error) {
	var env goesBusEnvelope
	if err := gob.NewDecoder(bytes.NewReader(m.Data)).Decode(&env); err != nil {
		return projection.Stored{}, fmt.Errorf("decode goes envelope (gob): %w", err)
	}
	return goesStored(env.Name, env.Time, env.AggregateID, env.AggregateVersion, env.Data), nil
}

// GoesStore is the layout of goes' JetStream event store (backend/natsjs,
// deprecated by goes itself): a stream per aggregate type,
// <namespace>_agg_<aggregateName>, with the subjects
// <namespace>.<aggregateName>.<aggregateID>.<eventName> ("." "*" ">" and
// " " in names replaced by "_"), the body a JSON envelope
// {"id","name","time" (Unix nanoseconds),"data","agg_name","agg_id",
// "agg_version"}. Sequences are per stream, so a Source over one of those
// streams serves projections of that aggregate type only; for
// projections over several, create a stream that sources the aggregate
// streams (StreamConfig.Sources), which orders their events in one
// sequence, each aggregate's in its own order, and read that one.
type GoesStore struct {
	// Namespace is the store's namespace, "goes" when empty.
	Namespace string
}

// goesStoreEnvelope is the JSON envelope of goes' natsjs store.
type goesStoreEnvelope struct {
	Name             string          `json:"name"`
	TimeNano         int64           `json:"time"`
	Data             json.RawMessage `json:"data"`
	AggregateID      uuid.UUID       `json:"agg_id"`
	AggregateVersion int             `json:"agg_version"`
}

// goesStoreReplacer makes a subject token of a name, as goes' store does.
var goesStoreReplacer = strings.NewReplacer(".", "_", "*", "_", ">", "_", " ", "_")

// FilterSubject returns the subjects of topic's events in every
// aggregate stream of the namespace.
func (g GoesStore) FilterSubject(topic string) string {
	ns := g.Namespace
	if ns == "" {
		ns = "goes"
	}
	return ns + ".*.*." + goesStoreReplacer.Replace(topic)
}

// Decode reads the JSON envelope.
func (GoesStore) Decode(m Message) (projection.Stored, error) {
	var env goesStoreEnvelope
	if err := json.Unmarshal(m.Data, &env); err != nil {
		return projection.Stored{}, fmt.Errorf("decode goes envelope (JSON): %w", err)
	}
	return goesStored(env.Name, time.Unix(0, env.TimeNano), env.AggregateID, env.AggregateVersion, env.Data), nil
}

// goesStored is the event of a goes envelope. An event without an
// aggregate has the nil UUID as its aggregate ID and version 0.
func goesStored(name string, at time.Time, id uuid.UUID, version int, data []byte) projection.Stored {
	return projection.Stored{
		Meta: projection.Meta{AggregateID: id.String(), Version: int64(version), Timestamp: at, Topic: name},
		Data: data,
	}
}
