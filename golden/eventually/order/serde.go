package order

import (
	"encoding/json"
	"fmt"

	"github.com/get-eventually/go-eventually/message"
	"github.com/get-eventually/go-eventually/serde"
)

// go-eventually's stores take one serde.Bytes[message.Message] for every
// event, and its Deserialize gets only the bytes of the "event" column, not
// the "type" column. So the bytes must say which event they hold. This
// service wraps each event as {"type": Name(), "data": <the event as JSON>}
// (go-eventually's own test domain does the same with a Protobuf oneof).
// The decoders table below is the only place that lists the event types.

// EventSerde is what this service passes to postgres.NewEventStore and
// postgres.NewAggregateRepository as the message serde.
var EventSerde serde.Bytes[message.Message] = serde.Chain[message.Message, WireEvent, []byte](
	serde.Fuse[message.Message, WireEvent](
		serde.SerializerFunc[message.Message, WireEvent](toWire),
		serde.DeserializerFunc[message.Message, WireEvent](fromWire),
	),
	serde.NewJSON(func() WireEvent { return WireEvent{} }),
)

// StateSerde is the aggregate state serde for postgres.NewAggregateRepository:
// the "state" column of the aggregates table holds the Order as JSON.
var StateSerde serde.Bytes[*Order] = serde.NewJSON(func() *Order { return new(Order) })

// WireEvent is the JSON shape of the "event" column.
type WireEvent struct {
	Type string          `json:"type"`
	Data json.RawMessage `json:"data"`
}

var decoders = map[string]func(json.RawMessage) (message.Message, error){
	WasCreated{}.Name():    decodeAs[WasCreated],
	ItemWasAdded{}.Name():  decodeAs[ItemWasAdded],
	TagsWereAdded{}.Name(): decodeAs[TagsWereAdded],
	WasPaid{}.Name():       decodeAs[WasPaid],
	WasShipped{}.Name():    decodeAs[WasShipped],
	WasCancelled{}.Name():  decodeAs[WasCancelled],
}

func decodeAs[T message.Message](raw json.RawMessage) (message.Message, error) {
	var v T
	if err := json.Unmarshal(raw, &v); err != nil {
		return nil, err
	}
	return v, nil
}

func toWire(msg message.Message) (WireEvent, error) {
	if _, ok := decoders[msg.Name()]; !ok {
		return WireEvent{}, fmt.Errorf("order: %T (%q) is not an order event", msg, msg.Name())
	}
	b, err := json.Marshal(msg)
	if err != nil {
		return WireEvent{}, err
	}
	return WireEvent{Type: msg.Name(), Data: b}, nil
}

func fromWire(w WireEvent) (message.Message, error) {
	dec, ok := decoders[w.Type]
	if !ok {
		return nil, fmt.Errorf("order: unknown event type %q", w.Type)
	}
	return dec(w.Data)
}
