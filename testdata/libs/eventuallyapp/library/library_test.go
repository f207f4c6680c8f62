// Package library_test runs the projection projgen generated over events
// in the form go-eventually's postgres store keeps them: the aggregate
// records events with aggregate.RecordThat, the service's serde (which
// go-eventually's stores take) encodes each into the event column, with
// its Name() in the type column and the version of its stream. The source
// gives the runner the payload that serde wrapped. The rows are checked
// against the commands given and against the aggregate the library
// rehydrates from the same stored bytes. It builds once `projgen new` has
// generated the registry.
package library_test

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"testing"
	"time"

	"github.com/get-eventually/go-eventually/event"
	"github.com/projgen/projgen/projection"
	"github.com/projgen/projgen/projection/projectiontest"

	"example.com/eventuallyapp/order"
	"example.com/eventuallyapp/projections"
)

// want is what the commands given to one order make of its row.
type want struct {
	customer  string
	amount    *int64
	shipped   bool
	reason    *string
	version   int64 // of its last event the projection applies
	persisted []event.Persisted
}

func TestLibraryStoredEvents(t *testing.T) {
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(7, 8))
	now := time.Date(2026, 12, 2, 12, 0, 0, 0, time.UTC)
	var source projectiontest.Events
	wants := map[order.ID]*want{}
	for i := range 70 {
		id := order.ID(fmt.Sprintf("order-%d-%d", i, rng.IntN(1000)))
		w := &want{customer: fmt.Sprint("customer-", i)}
		o, err := order.Create(id, w.customer, now)
		must(t, err)
		for range rng.IntN(6) {
			switch rng.IntN(5) {
			case 0:
				_ = o.AddItem("tea", 1, 700)
			case 1:
				_ = o.AddTags("gift")
			case 2:
				amount := 100 + rng.IntN(900)
				if o.Pay(amount, now) == nil {
					w.amount = ptr(int64(amount))
				}
			case 3:
				if o.Ship() == nil {
					w.shipped = true
				}
			case 4:
				reason := fmt.Sprint("reason ", rng.IntN(9))
				if o.Cancel(reason) == nil {
					w.reason = &reason
				}
			}
		}
		for v, env := range o.FlushRecordedEvents() {
			column, err := order.EventSerde.Serialize(env.Message)
			must(t, err)
			s := stored(t, string(id), int64(v+1), int64(len(source)+1), env.Message.Name(), column)
			source = append(source, s)
			if name := env.Message.Name(); name != (order.ItemWasAdded{}).Name() && name != (order.TagsWereAdded{}).Name() {
				w.version = int64(v + 1)
			}
			back, err := order.EventSerde.Deserialize(column)
			must(t, err)
			w.persisted = append(w.persisted, event.Persisted{StreamID: event.StreamID(id), Envelope: event.ToEnvelope(back)})
		}
		wants[id] = w
	}

	pool := projectiontest.Open(t, filepath.Join("..", "order", "migrations"))
	runner := &projection.Runner{Pool: pool, Source: source, Types: projections.EventTypes(), Registrations: projections.Registrations()}
	must(t, runner.Setup(ctx))
	must(t, runner.CatchUp(ctx, "order"))

	projectiontest.AssertCount(t, pool, "orders", len(wants))
	for id, w := range wants {
		var o order.Order
		for _, p := range w.persisted {
			must(t, o.Apply(p.Message))
		}
		if o.Customer != w.customer || (w.reason != nil && o.CancelReason != *w.reason) {
			t.Fatalf("order %s: the library rehydrates %+v, the commands gave %+v", id, o, w)
		}
		var amount, reason any
		if w.amount != nil {
			amount = *w.amount
		}
		if w.reason != nil {
			reason = o.CancelReason
		}
		projectiontest.AssertRow(t, pool, "orders", projectiontest.Row{"aggregate_id": string(id)}, projectiontest.Row{
			"customer": o.Customer, "amount": amount, "is_shipped": w.shipped, "reason": reason,
			"aggregate_version": w.version,
		})
	}
}

// stored is one row of go-eventually's events table as a source reads it:
// the type column is the topic, and the payload is what the service's
// serde wrapped in the event column.
func stored(t *testing.T, stream string, version, position int64, typ string, column []byte) projection.Stored {
	t.Helper()
	var wire order.WireEvent
	if err := json.Unmarshal(column, &wire); err != nil {
		t.Fatalf("event column %s: %v", column, err)
	}
	return projection.Stored{
		Meta: projection.Meta{AggregateID: stream, Version: version, Position: position, Topic: typ},
		Data: wire.Data,
	}
}

func ptr[T any](v T) *T { return &v }

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
