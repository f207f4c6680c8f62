package jetstream

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/projgen/projgen/projection"
)

// Message is a message as the stream stores it, what a Layout reads an
// event from.
type Message struct {
	// Sequence is the message's stream sequence, the event's position.
	Sequence uint64
	// Subject is the subject the message was published on.
	Subject string
	// Header holds the message's headers, nil when it has none.
	Header nats.Header
	// Data is the message's body.
	Data []byte
	// Time is when the server stored the message.
	Time time.Time
}

// Layout is how events are stored in a stream's messages: on which
// subjects, and with their topic, aggregate and version where.
type Layout interface {
	// FilterSubject returns a subject, wildcards allowed, under which
	// every message of topic is stored, for the server to filter on, or
	// "" when the layout's subjects do not tell the topic. Messages of
	// other topics may match it too: the source drops them. A subject
	// that misses some of topic's messages makes the source pass over
	// them.
	FilterSubject(topic string) string
	// Decode reads the event a message stores. Position is set by the
	// source, from the message's sequence.
	Decode(m Message) (projection.Stored, error)
}

// The headers of the Headers layout.
const (
	// TopicHeader holds the event's topic, the string projections know
	// its type by.
	TopicHeader = "Projgen-Topic"
	// AggregateIDHeader holds the ID of the aggregate the event belongs to.
	AggregateIDHeader = "Projgen-Aggregate-Id"
	// VersionHeader holds the aggregate's version after the event, in
	// decimal, starting at 1.
	VersionHeader = "Projgen-Version"
	// TimeHeader optionally holds when the event happened, RFC 3339 with
	// nanoseconds; without it the event's time is when the server stored
	// the message.
	TimeHeader = "Projgen-Time"
)

// Headers is the layout of events published by a writer of their own: a
// subject per aggregate, such as events.<aggregateType>.<aggregateID>,
// the topic, aggregate ID and version in the headers TopicHeader,
// AggregateIDHeader and VersionHeader, and the payload, JSON, as the
// body. NewMessage builds such a message.
type Headers struct {
	// Subjects maps a topic to the subject filter its messages are
	// published under, such as "events.order.>" for the topics of the
	// order aggregate, so that the server sends a projection only the
	// messages of its aggregate types. A topic it does not map is read
	// from every subject of the stream. The map must name the subjects
	// the writers publish the topic on: a filter that matches none of
	// them makes the projection pass over its events as over other
	// subjects'.
	Subjects map[string]string
}

// FilterSubject returns the subject Subjects maps topic to.
func (h Headers) FilterSubject(topic string) string { return h.Subjects[topic] }

// Decode reads the event from the message's headers and body.
func (Headers) Decode(m Message) (projection.Stored, error) {
	topic := m.Header.Get(TopicHeader)
	if topic == "" {
		return projection.Stored{}, fmt.Errorf("no %s header", TopicHeader)
	}
	id := m.Header.Get(AggregateIDHeader)
	if id == "" {
		return projection.Stored{}, fmt.Errorf("no %s header", AggregateIDHeader)
	}
	version, err := strconv.ParseInt(m.Header.Get(VersionHeader), 10, 64)
	if err != nil {
		return projection.Stored{}, fmt.Errorf("header %s: %w", VersionHeader, err)
	}
	at := m.Time
	if s := m.Header.Get(TimeHeader); s != "" {
		if at, err = time.Parse(time.RFC3339Nano, s); err != nil {
			return projection.Stored{}, fmt.Errorf("header %s: %w", TimeHeader, err)
		}
	}
	return projection.Stored{
		Meta: projection.Meta{AggregateID: id, Version: version, Timestamp: at, Topic: topic},
		Data: m.Data,
	}, nil
}

// NewMessage returns the message that stores an event in the Headers
// layout, to publish with JetStream's PublishMsg. The message has no time
// header: the event's time is when the server stores it.
func NewMessage(subject, topic, aggregateID string, version int64, payload []byte) *nats.Msg {
	m := nats.NewMsg(subject)
	m.Header.Set(TopicHeader, topic)
	m.Header.Set(AggregateIDHeader, aggregateID)
	m.Header.Set(VersionHeader, strconv.FormatInt(version, 10))
	m.Data = payload
	return m
}

// Subject returns prefix.aggregateType.aggregateID, the subject of an
// aggregate's events in the Headers layout. It refuses tokens that are
// empty or hold a character NATS gives a meaning in subjects: a dot, a
// wildcard or white space.
func Subject(prefix, aggregateType, aggregateID string) (string, error) {
	for _, token := range []string{aggregateType, aggregateID} {
		if token == "" || strings.ContainsAny(token, ".*> \t\r\n") {
			return "", fmt.Errorf("subject token %q: %w", token, errBadToken)
		}
	}
	return prefix + "." + aggregateType + "." + aggregateID, nil
}

var errBadToken = errors.New("empty, or holds a dot, a wildcard or white space")
