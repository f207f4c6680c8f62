// Package stream is the shop's event writer: it publishes each event of
// an aggregate to JetStream, on shop.<aggregate type>.<id>, with its
// topic, aggregate and version in headers and its JSON as the body.
package stream

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"

	"github.com/google/uuid"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Subjects are the subjects of the shop's stream.
const Subjects = "shop.>"

// Append publishes the event of version version of the aggregate id,
// recorded under topic, and fails when the aggregate's subject has moved
// on since lastSeq (0: never written), so that two writers of one
// aggregate cannot interleave. It returns the subject's new sequence.
func Append(ctx context.Context, js jetstream.JetStream, aggregateType string, id uuid.UUID, version int64, topic string, event any, lastSeq uint64) (uint64, error) {
	data, err := json.Marshal(event)
	if err != nil {
		return 0, fmt.Errorf("encode %s: %w", topic, err)
	}
	msg := &nats.Msg{
		Subject: "shop." + aggregateType + "." + id.String(),
		Header: nats.Header{
			"Projgen-Topic":        {topic},
			"Projgen-Aggregate-Id": {id.String()},
			"Projgen-Version":      {strconv.FormatInt(version, 10)},
		},
		Data: data,
	}
	ack, err := js.PublishMsg(ctx, msg, jetstream.WithExpectLastSequencePerSubject(lastSeq))
	if err != nil {
		return 0, fmt.Errorf("publish %s of %s: %w", topic, id, err)
	}
	return ack.Sequence, nil
}
