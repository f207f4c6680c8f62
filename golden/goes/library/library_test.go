// Package library_test runs the projection projgen generated over events
// in the form goes' postgres backend stores them: the aggregate records
// events with aggregate.Next, goes' codec encodes each one's data as the
// data column holds it, and the rows (name, aggregate id and version,
// data) are all the runner's source reads. The rows are checked against
// the commands given and the aggregate that goes replays from the same
// stored rows. It builds once `projgen new` has generated the registry.
package library_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"testing"

	"github.com/google/uuid"
	"github.com/modernice/goes/codec"
	"github.com/modernice/goes/event"
	"github.com/projgen/projgen/projection"
	"github.com/projgen/projgen/projection/projectiontest"

	"example.com/goesapp/order"
	"example.com/goesapp/projections"
)

// want is what the commands given to one order make of its row.
type want struct {
	customer  uuid.UUID
	tags      []string // the last Tagged event's
	paid      *int64
	shipped   bool
	cancelled *string
	archived  bool
	version   int64 // of its last event the projection applies
}

func TestLibraryStoredEvents(t *testing.T) {
	ctx := context.Background()
	reg := codec.New()
	order.RegisterEvents(reg)
	rng := rand.New(rand.NewPCG(5, 6))
	var source projectiontest.Events
	wants := map[uuid.UUID]*want{}
	for i := range 80 {
		id, w := uuid.New(), &want{customer: uuid.New()}
		o := order.New(id)
		must(t, o.Place(w.customer, []order.LineItem{{SKU: fmt.Sprint("sku-", i), Quantity: 1, Price: 100}}))
		for range rng.IntN(6) {
			switch rng.IntN(5) {
			case 0:
				_ = o.AddItem(order.LineItem{SKU: "more", Quantity: 2, Price: 50})
			case 1:
				tags := []string{fmt.Sprint("t", rng.IntN(9)), "gift"}
				if o.Tag(tags...) == nil {
					w.tags = tags
				}
			case 2:
				amount := 100 + rng.IntN(900)
				if o.Pay(amount) == nil {
					w.paid = ptr(int64(amount))
				}
			case 3:
				if o.Ship() == nil {
					w.shipped = true
				}
			case 4:
				reason := fmt.Sprint("reason ", rng.IntN(9))
				if o.Cancel(reason) == nil {
					w.cancelled = &reason
				}
			}
		}
		if rng.IntN(3) == 0 && o.Archive() == nil {
			w.archived = true
		}
		for _, evt := range o.AggregateChanges() {
			data, err := reg.Marshal(evt.Data())
			if err != nil {
				t.Fatal(err)
			}
			aggID, _, version := evt.Aggregate()
			if evt.Name() != order.ItemAdded { // the projection ignores it: a child entity
				w.version = int64(version)
			}
			source = append(source, projection.Stored{
				Meta: projection.Meta{AggregateID: aggID.String(), Version: int64(version), Position: int64(len(source) + 1),
					Timestamp: evt.Time(), Topic: evt.Name()},
				Data: data,
			})
		}
		wants[id] = w
	}

	pool := projectiontest.Open(t, filepath.Join("..", "order", "migrations"))
	runner := &projection.Runner{Pool: pool, Source: source, Types: projections.EventTypes(), Registrations: projections.Registrations()}
	must(t, runner.Setup(ctx))
	must(t, runner.CatchUp(ctx, "order"))

	projectiontest.AssertCount(t, pool, "orders", len(wants))
	for id, w := range wants {
		replayed := replay(t, reg, id, source)
		if replayed.CustomerID != w.customer {
			t.Fatalf("order %s: goes replays customer %s, the commands gave %s", id, replayed.CustomerID, w.customer)
		}
		var cancelled any
		if w.cancelled != nil {
			cancelled = replayed.CancelReason
		}
		var paid any
		if w.paid != nil {
			paid = *w.paid
		}
		projectiontest.AssertRow(t, pool, "orders", projectiontest.Row{"aggregate_id": id.String()}, projectiontest.Row{
			"customer_id": w.customer.String(), "paid": paid, "is_shipped": w.shipped, "cancelled": cancelled,
			"is_archived": w.archived, "aggregate_version": w.version,
		})
		var tagged []string
		must(t, pool.QueryRow(ctx, `SELECT tagged FROM orders WHERE aggregate_id = $1`, id).Scan(&tagged))
		if !slices.Equal(tagged, w.tags) {
			t.Errorf("order %s: tagged %q, want the last Tagged event's %q", id, tagged, w.tags)
		}
	}
}

// replay rebuilds an order the way goes loads it: each stored row's data
// decoded by the codec under the row's name, applied in version order.
func replay(t *testing.T, reg *codec.Registry, id uuid.UUID, source projectiontest.Events) *order.Order {
	t.Helper()
	o := order.New(id)
	for _, s := range source {
		if s.AggregateID != id.String() {
			continue
		}
		data, err := reg.Unmarshal(s.Data, s.Topic)
		if err != nil {
			t.Fatal(err)
		}
		o.ApplyEvent(event.New(s.Topic, data, event.Aggregate(id, order.AggregateName, int(s.Version))))
	}
	return o
}

func ptr[T any](v T) *T { return &v }

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
