// Package event is a stand-in for github.com/get-eventually/go-eventually/event
// at v0.4.2: the Event type and its envelope. Signatures follow upstream; the
// bodies are this repository's own. The stores (Store, Appender, Streamer,
// NewInMemoryStore) are left out.
package event

import (
	"github.com/get-eventually/go-eventually/message"
	"github.com/get-eventually/go-eventually/version"
)

// Event is a message that tells what happened.
type Event message.Message

// Envelope carries an Event and its Metadata.
type Envelope message.GenericEnvelope

// StreamID names an event stream; for an aggregate it is its ID's String().
type StreamID string

// Persisted is an event as read back from a store.
type Persisted struct {
	StreamID
	version.Version
	Envelope
}

// ToEnvelope wraps evt with no metadata.
func ToEnvelope(evt Event) Envelope { return Envelope{Message: evt} }

// ToEnvelopes wraps each event with no metadata.
func ToEnvelopes(events ...Event) []Envelope {
	out := make([]Envelope, len(events))
	for i, e := range events {
		out[i] = ToEnvelope(e)
	}
	return out
}

// Stream is a one-shot sequence of persisted events.
type Stream = message.Stream[Persisted]

// NewStream wraps produce.
func NewStream(produce func(yield func(Persisted) bool) error) *Stream {
	return message.NewStream(produce)
}

// SliceToStream yields events in order.
func SliceToStream(events []Persisted) *Stream {
	return NewStream(func(yield func(Persisted) bool) error {
		for _, e := range events {
			if !yield(e) {
				break
			}
		}
		return nil
	})
}
