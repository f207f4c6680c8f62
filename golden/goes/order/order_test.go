package order_test

import (
	"context"
	"encoding/json"
	"reflect"
	"sort"
	"testing"
	"time"

	"example.com/goesapp/order"
	"github.com/google/uuid"
	"github.com/modernice/goes/codec"
	"github.com/modernice/goes/command"
	"github.com/modernice/goes/event"
)

// row is one row of goes' postgres events table (backend/postgres): the
// event's id, name, time in Unix nanoseconds, aggregate id, name and
// version, and the data as the codec encodes it (JSON by default).
type row struct {
	ID               uuid.UUID
	Name             string
	Time             int64
	AggregateID      uuid.UUID
	AggregateName    string
	AggregateVersion int
	Data             []byte
}

// store turns an event into a row the way the postgres store's Insert does.
func store(t *testing.T, enc codec.Encoding, evt event.Event) row {
	t.Helper()
	b, err := enc.Marshal(evt.Data())
	if err != nil {
		t.Fatalf("marshal %s: %v", evt.Name(), err)
	}
	id, name, v := evt.Aggregate()
	return row{evt.ID(), evt.Name(), evt.Time().UnixNano(), id, name, v, b}
}

// load turns a row back into an event the way the postgres store reads it.
func load(t *testing.T, enc codec.Encoding, r row) event.Event {
	t.Helper()
	data, err := enc.Unmarshal(r.Data, r.Name)
	if err != nil {
		t.Fatalf("unmarshal %s: %v", r.Name, err)
	}
	return event.New(r.Name, data,
		event.ID(r.ID),
		event.Time(time.Unix(0, r.Time)),
		event.Aggregate(r.AggregateID, r.AggregateName, r.AggregateVersion))
}

func TestEventsRoundTripThroughTheCodec(t *testing.T) {
	reg := event.NewRegistry()
	order.RegisterEvents(reg)

	id, customer := uuid.New(), uuid.New()
	o := order.New(id)
	must(t, o.Place(customer, []order.LineItem{{SKU: "mug", Quantity: 2, Price: 1500}}))
	must(t, o.AddItem(order.LineItem{SKU: "tea", Quantity: 1, Price: 1200}))
	must(t, o.Tag("gift", "rush"))
	must(t, o.Pay(4200))
	must(t, o.Ship())
	must(t, o.Archive())

	wantData := map[string]string{
		order.Placed:    `{"customerId":"` + customer.String() + `","items":[{"sku":"mug","quantity":2,"price":1500}]}`,
		order.ItemAdded: `{"sku":"tea","quantity":1,"price":1200}`,
		order.Tagged:    `["gift","rush"]`,
		order.Paid:      `4200`,
		order.Shipped:   `{}`,
		order.Archived:  `{}`,
	}

	replayed := order.New(id)
	for i, evt := range o.AggregateChanges() {
		r := store(t, reg, evt)
		if r.AggregateName != order.AggregateName || r.AggregateID != id || r.AggregateVersion != i+1 {
			t.Errorf("%s: stored under aggregate %s %s v%d", r.Name, r.AggregateName, r.AggregateID, r.AggregateVersion)
		}
		if want := wantData[r.Name]; string(r.Data) != want {
			t.Errorf("%s: data column %s, want %s", r.Name, r.Data, want)
		}
		if !json.Valid(r.Data) {
			t.Errorf("%s: data is not JSON", r.Name)
		}
		back := load(t, reg, r)
		if !reflect.DeepEqual(back.Data(), evt.Data()) {
			t.Errorf("%s: decoded %#v, want %#v", r.Name, back.Data(), evt.Data())
		}
		if !back.Time().Equal(evt.Time()) || back.ID() != evt.ID() {
			t.Errorf("%s: id or time changed on the way", r.Name)
		}
		replayed.ApplyEvent(back)
	}

	if replayed.Total != 4200 || replayed.Status != order.StatusShipped || !replayed.Archived ||
		!reflect.DeepEqual(replayed.Tags, []string{"gift", "rush"}) || replayed.CustomerID != customer {
		t.Errorf("replayed order differs: %+v", *replayed)
	}

	if _, err := reg.Unmarshal([]byte(`{}`), order.PlaceCmd); err == nil {
		t.Error("a command name decoded through the event registry")
	}
}

func TestCancelledCarriesAString(t *testing.T) {
	reg := codec.New()
	order.RegisterEvents(reg)
	o := order.New(uuid.New())
	must(t, o.Place(uuid.New(), []order.LineItem{{SKU: "mug", Quantity: 1, Price: 1}}))
	must(t, o.Cancel("changed my mind"))
	r := store(t, reg, o.AggregateChanges()[1])
	if string(r.Data) != `"changed my mind"` {
		t.Fatalf("data column %s", r.Data)
	}
	if got := load(t, reg, r).Data(); got != "changed my mind" {
		t.Fatalf("decoded %#v", got)
	}
}

func TestCommandsRoundTripAndReachTheAggregate(t *testing.T) {
	reg := command.NewRegistry()
	order.RegisterCommands(reg)

	id := uuid.New()
	o := order.New(id)
	cmds := []command.Command{
		order.Place(id, uuid.New(), order.LineItem{SKU: "mug", Quantity: 1, Price: 900}).Any(),
		order.Tag(id, "vip").Any(),
		order.Pay(id, 900).Any(),
		order.Ship(id).Any(),
	}
	for _, c := range cmds {
		b, err := reg.Marshal(c.Payload())
		if err != nil {
			t.Fatal(err)
		}
		pl, err := reg.Unmarshal(b, c.Name())
		if err != nil {
			t.Fatal(err)
		}
		ref := c.Aggregate()
		decoded := command.New(c.Name(), pl, command.ID(c.ID()), command.Aggregate(ref.Name, ref.ID))
		if err := o.HandleCommand(command.NewContext[any](context.Background(), decoded)); err != nil {
			t.Fatalf("%s: %v", c.Name(), err)
		}
	}
	if o.Status != order.StatusShipped || len(o.AggregateChanges()) != 4 {
		t.Fatalf("after the commands: status %d, %d changes", o.Status, len(o.AggregateChanges()))
	}
	got := o.CommandNames()
	sort.Strings(got) // upstream returns them in map order
	if want := []string{order.AddItemCmd, order.CancelCmd, order.PayCmd, order.PlaceCmd, order.ShipCmd, order.TagCmd}; !reflect.DeepEqual(got, want) {
		t.Errorf("command names %v, want %v", got, want)
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
