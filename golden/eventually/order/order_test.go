package order_test

import (
	"context"
	"encoding/json"
	"reflect"
	"strconv"
	"testing"
	"time"

	"example.com/eventuallyapp/order"
	"github.com/get-eventually/go-eventually/aggregate"
	"github.com/get-eventually/go-eventually/command"
	"github.com/get-eventually/go-eventually/event"
	"github.com/get-eventually/go-eventually/message"
	"github.com/get-eventually/go-eventually/serde"
	"github.com/get-eventually/go-eventually/version"
)

// row is one row of go-eventually's postgres events table
// (postgres/migrations, postgres/append_domain_events.go).
type row struct {
	EventStreamID string
	Type          string
	Version       version.Version
	Event         []byte
	Metadata      []byte
}

// appendRows turns recorded events into rows the way the postgres store's
// append does: the stream id is the aggregate id's String(), the type is the
// event's Name(), the event bytes come from the message serde, and two keys
// are added to the metadata.
func appendRows(t *testing.T, s serde.Bytes[message.Message], id event.StreamID, old version.Version, events []event.Envelope) []row {
	t.Helper()
	newVersion := old + version.Version(len(events))
	rows := make([]row, 0, len(events))
	for i, e := range events {
		b, err := s.Serialize(e.Message)
		if err != nil {
			t.Fatal(err)
		}
		md := e.Metadata.
			With("Recorded-At", time.Now().Format(time.RFC3339Nano)).
			With("Recorded-With-New-Overall-Version", strconv.Itoa(int(newVersion)))
		mb, err := json.Marshal(md)
		if err != nil {
			t.Fatal(err)
		}
		rows = append(rows, row{string(id), e.Message.Name(), old + version.Version(i) + 1, b, mb})
	}
	return rows
}

func TestEventsRoundTripThroughTheSerde(t *testing.T) {
	now := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	o, err := order.Create("ord-1001", "ada", now)
	must(t, err)
	must(t, o.AddItem("mug", 2, 1500))
	must(t, o.AddTags("gift", "rush"))
	must(t, o.Pay(3000, now.Add(time.Hour)))
	must(t, o.Ship())

	recorded := o.FlushRecordedEvents()
	rows := appendRows(t, order.EventSerde, event.StreamID(o.AggregateID().String()), 0, recorded)

	wantEvent := map[string]string{
		"OrderWasCreated":    `{"type":"OrderWasCreated","data":{"ID":"ord-1001","Customer":"ada","CreatedAt":"2025-03-01T12:00:00Z"}}`,
		"OrderItemWasAdded":  `{"type":"OrderItemWasAdded","data":{"SKU":"mug","Quantity":2,"Price":1500}}`,
		"OrderTagsWereAdded": `{"type":"OrderTagsWereAdded","data":["gift","rush"]}`,
		"OrderWasPaid":       `{"type":"OrderWasPaid","data":{"Amount":3000,"PaidAt":"2025-03-01T13:00:00Z"}}`,
		"OrderWasShipped":    `{"type":"OrderWasShipped","data":{}}`,
	}

	persisted := make([]event.Persisted, 0, len(rows))
	for i, r := range rows {
		if r.EventStreamID != "ord-1001" || r.Version != version.Version(i+1) {
			t.Errorf("%s: stored in stream %q at version %d", r.Type, r.EventStreamID, r.Version)
		}
		if want := wantEvent[r.Type]; string(r.Event) != want {
			t.Errorf("%s: event column %s, want %s", r.Type, r.Event, want)
		}
		var md message.Metadata
		must(t, json.Unmarshal(r.Metadata, &md))
		if md["Recorded-With-New-Overall-Version"] != "5" || md["Recorded-At"] == "" {
			t.Errorf("%s: metadata %v", r.Type, md)
		}
		msg, err := order.EventSerde.Deserialize(r.Event)
		must(t, err)
		if msg.Name() != r.Type || !reflect.DeepEqual(msg, recorded[i].Message) {
			t.Errorf("%s: decoded %#v, want %#v", r.Type, msg, recorded[i].Message)
		}
		persisted = append(persisted, event.Persisted{
			StreamID: event.StreamID(r.EventStreamID),
			Version:  r.Version,
			Envelope: event.Envelope{Message: msg, Metadata: md},
		})
	}

	back := order.Type.Factory()
	must(t, aggregate.RehydrateFromEvents[order.ID](back, event.SliceToStream(persisted)))
	if back.Version() != 5 || back.Status != order.StatusShipped || back.Total != 3000 ||
		back.ID != "ord-1001" || !reflect.DeepEqual(back.Tags, []string{"gift", "rush"}) {
		t.Errorf("rehydrated order differs: version %d, %+v", back.Version(), *back)
	}
}

func TestPerTypeJSONSerde(t *testing.T) {
	shipped := serde.NewJSON(func() order.WasShipped { return order.WasShipped{} })
	b, err := shipped.Serialize(order.WasShipped{})
	must(t, err)
	if string(b) != `{}` {
		t.Errorf("WasShipped encodes as %s", b)
	}
	tags := serde.NewJSON(func() order.TagsWereAdded { return nil })
	b, err = tags.Serialize(order.TagsWereAdded{"a", "b"})
	must(t, err)
	got, err := tags.Deserialize(b)
	must(t, err)
	if string(b) != `["a","b"]` || !reflect.DeepEqual(got, order.TagsWereAdded{"a", "b"}) {
		t.Errorf("TagsWereAdded: %s decodes to %#v", b, got)
	}
}

func TestStateSerde(t *testing.T) {
	o, err := order.Create("ord-7", "bob", time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC))
	must(t, err)
	b, err := order.StateSerde.Serialize(o)
	must(t, err)
	back, err := order.StateSerde.Deserialize(b)
	must(t, err)
	if back.ID != "ord-7" || back.Customer != "bob" || back.Status != order.StatusOpen {
		t.Errorf("state %s decodes to %+v", b, *back)
	}
}

// memRepo keeps roots in memory, for the command handler test.
type memRepo map[order.ID]*order.Order

func (m memRepo) Get(_ context.Context, id order.ID) (*order.Order, error) {
	o, ok := m[id]
	if !ok {
		return nil, aggregate.ErrRootNotFound
	}
	return o, nil
}

func (m memRepo) Save(_ context.Context, o *order.Order) error {
	o.FlushRecordedEvents()
	m[o.AggregateID()] = o
	return nil
}

func TestCommandHandlers(t *testing.T) {
	ctx := context.Background()
	repo := memRepo{}
	clock := func() time.Time { return time.Unix(0, 0).UTC() }
	must(t, order.CreateCommandHandler{Clock: clock, Repository: repo}.Handle(ctx, command.ToEnvelope(order.CreateCommand{ID: "ord-9", Customer: "cy"})))
	must(t, order.AddItemCommandHandler{Repository: repo}.Handle(ctx, command.ToEnvelope(order.AddItemCommand{ID: "ord-9", SKU: "tea", Quantity: 1, Price: 700})))
	must(t, order.CancelCommandHandler{Repository: repo}.Handle(ctx, command.ToEnvelope(order.CancelCommand{ID: "ord-9", Reason: "late"})))
	if o := repo["ord-9"]; o.Status != order.StatusCancelled || o.Version() != 3 || o.CancelReason != "late" {
		t.Errorf("after the commands: version %d, %+v", o.Version(), *o)
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
