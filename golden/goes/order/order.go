// Package order is an order aggregate written the way goes' README, guide and
// todo example write aggregates.
package order

import (
	"errors"
	"fmt"

	"github.com/google/uuid"
	"github.com/modernice/goes/aggregate"
	"github.com/modernice/goes/command"
	"github.com/modernice/goes/command/handler"
	"github.com/modernice/goes/event"
)

// AggregateName is the aggregate_name of every order event.
const AggregateName = "shop.order"

// Status is where an order is in its life.
type Status int

const (
	StatusNew Status = iota
	StatusOpen
	StatusPaid
	StatusShipped
	StatusCancelled
)

// Order is an event-sourced order.
type Order struct {
	*aggregate.Base
	*handler.BaseHandler

	CustomerID   uuid.UUID
	Items        []LineItem
	Tags         []string
	Total        int
	Status       Status
	CancelReason string
	Archived     bool
}

// New returns the order with the given id, with its event appliers and
// command handlers registered.
func New(id uuid.UUID) *Order {
	o := &Order{
		Base:        aggregate.New(AggregateName, id),
		BaseHandler: handler.NewBase(),
	}

	event.ApplyWith(o, o.placed, Placed)
	event.ApplyWith(o, o.itemAdded, ItemAdded)
	event.ApplyWith(o, o.tagged, Tagged)
	event.ApplyWith(o, o.paid, Paid)
	event.ApplyWith(o, o.shipped, Shipped)
	event.ApplyWith(o, o.cancelled, Cancelled)
	event.ApplyWith(o, o.archived, Archived)

	command.ApplyWith(o, func(p PlacePayload) error { return o.Place(p.CustomerID, p.Items) }, PlaceCmd)
	command.ApplyWith(o, o.AddItem, AddItemCmd)
	command.ApplyWith(o, func(tags []string) error { return o.Tag(tags...) }, TagCmd)
	command.ApplyWith(o, o.Pay, PayCmd)
	command.HandleWith(o, func(command.Ctx[struct{}]) error { return o.Ship() }, ShipCmd)
	command.ApplyWith(o, o.Cancel, CancelCmd)

	return o
}

var errNotOpen = errors.New("order is not open")

// Place places the order.
func (o *Order) Place(customerID uuid.UUID, items []LineItem) error {
	if o.Status != StatusNew {
		return errors.New("order already placed")
	}
	if customerID == uuid.Nil || len(items) == 0 {
		return errors.New("an order needs a customer and at least one item")
	}
	aggregate.Next(o, Placed, PlacedData{CustomerID: customerID, Items: items})
	return nil
}

func (o *Order) placed(evt PlacedEvent) {
	o.CustomerID = evt.Data().CustomerID
	o.Items = append([]LineItem(nil), evt.Data().Items...)
	o.Total = 0
	for _, it := range o.Items {
		o.Total += it.Price * it.Quantity
	}
	o.Status = StatusOpen
}

// AddItem adds a line to an open order.
func (o *Order) AddItem(item LineItem) error {
	if o.Status != StatusOpen {
		return errNotOpen
	}
	aggregate.Next(o, ItemAdded, item)
	return nil
}

func (o *Order) itemAdded(evt ItemAddedEvent) {
	o.Items = append(o.Items, evt.Data())
	o.Total += evt.Data().Price * evt.Data().Quantity
}

// Tag adds tags to the order.
func (o *Order) Tag(tags ...string) error {
	if len(tags) == 0 {
		return nil
	}
	aggregate.Next(o, Tagged, tags)
	return nil
}

func (o *Order) tagged(evt TaggedEvent) {
	o.Tags = append(o.Tags, evt.Data()...)
}

// Pay pays the whole total of an open order.
func (o *Order) Pay(amount int) error {
	if o.Status != StatusOpen {
		return errNotOpen
	}
	if amount != o.Total {
		return fmt.Errorf("paid %d, total is %d", amount, o.Total)
	}
	aggregate.Next(o, Paid, amount)
	return nil
}

func (o *Order) paid(PaidEvent) { o.Status = StatusPaid }

// Ship ships a paid order.
func (o *Order) Ship() error {
	if o.Status != StatusPaid {
		return errors.New("only a paid order ships")
	}
	aggregate.Next(o, Shipped, struct{}{})
	return nil
}

func (o *Order) shipped(ShippedEvent) { o.Status = StatusShipped }

// Cancel cancels an open order.
func (o *Order) Cancel(reason string) error {
	if o.Status != StatusOpen {
		return errNotOpen
	}
	aggregate.Next(o, Cancelled, reason)
	return nil
}

func (o *Order) cancelled(evt CancelledEvent) {
	o.Status = StatusCancelled
	o.CancelReason = evt.Data()
}

// Archive soft-deletes a shipped or cancelled order.
func (o *Order) Archive() error {
	if o.Status != StatusShipped && o.Status != StatusCancelled {
		return errors.New("only a finished order is archived")
	}
	aggregate.Next(o, Archived, ArchivedData{})
	return nil
}

func (o *Order) archived(ArchivedEvent) { o.Archived = true }
