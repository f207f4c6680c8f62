// Package order is an order aggregate root written the way go-eventually's
// README and todolist example write them.
package order

import (
	"errors"
	"fmt"
	"time"

	"github.com/get-eventually/go-eventually/aggregate"
	"github.com/get-eventually/go-eventually/event"
)

// ID identifies an order. go-eventually takes any fmt.Stringer as an id; its
// String() is the event stream id.
type ID string

// String implements aggregate.ID.
func (id ID) String() string { return string(id) }

// Type is the order's aggregate type. Its Name is what postgres.AggregateRepository
// writes to the aggregates table's "type" column.
var Type = aggregate.Type[ID, *Order]{
	Name:    "Order",
	Factory: func() *Order { return new(Order) },
}

// Status is where an order is in its life.
type Status int

const (
	StatusNew Status = iota
	StatusOpen
	StatusPaid
	StatusShipped
	StatusCancelled
)

// Order is the aggregate root.
type Order struct {
	aggregate.BaseRoot

	ID           ID
	Customer     string
	CreatedAt    time.Time
	Items        []ItemWasAdded
	Tags         []string
	Total        int
	PaidAt       time.Time
	Status       Status
	CancelReason string
}

// AggregateID implements aggregate.Root.
func (o *Order) AggregateID() ID { return o.ID }

// Apply implements aggregate.Aggregate.
func (o *Order) Apply(evt event.Event) error {
	switch evt := evt.(type) {
	case WasCreated:
		o.ID, o.Customer, o.CreatedAt = evt.ID, evt.Customer, evt.CreatedAt
		o.Status = StatusOpen
	case ItemWasAdded:
		o.Items = append(o.Items, evt)
		o.Total += evt.Price * evt.Quantity
	case TagsWereAdded:
		o.Tags = append(o.Tags, evt...)
	case WasPaid:
		o.Status, o.PaidAt = StatusPaid, evt.PaidAt
	case WasShipped:
		o.Status = StatusShipped
	case WasCancelled:
		o.Status, o.CancelReason = StatusCancelled, evt.Reason
	default:
		return fmt.Errorf("order.Apply: unexpected event %T", evt)
	}
	return nil
}

// Errors returned by the order's methods.
var (
	ErrEmptyID     = errors.New("order: empty id")
	ErrNoCustomer  = errors.New("order: no customer")
	ErrNotOpen     = errors.New("order: not open")
	ErrWrongAmount = errors.New("order: amount differs from the total")
	ErrNotPaid     = errors.New("order: not paid")
)

// Create creates an order.
func Create(id ID, customer string, now time.Time) (*Order, error) {
	if id == "" {
		return nil, ErrEmptyID
	}
	if customer == "" {
		return nil, ErrNoCustomer
	}
	var o Order
	if err := aggregate.RecordThat[ID](&o, event.ToEnvelope(WasCreated{ID: id, Customer: customer, CreatedAt: now})); err != nil {
		return nil, fmt.Errorf("order.Create: %w", err)
	}
	return &o, nil
}

// AddItem adds a line to an open order.
func (o *Order) AddItem(sku string, quantity, price int) error {
	if o.Status != StatusOpen {
		return ErrNotOpen
	}
	return aggregate.RecordThat[ID](o, event.ToEnvelope(ItemWasAdded{SKU: sku, Quantity: quantity, Price: price}))
}

// AddTags tags the order.
func (o *Order) AddTags(tags ...string) error {
	if len(tags) == 0 {
		return nil
	}
	return aggregate.RecordThat[ID](o, event.ToEnvelope(TagsWereAdded(tags)))
}

// Pay pays the whole total of an open order.
func (o *Order) Pay(amount int, now time.Time) error {
	if o.Status != StatusOpen {
		return ErrNotOpen
	}
	if amount != o.Total {
		return ErrWrongAmount
	}
	return aggregate.RecordThat[ID](o, event.ToEnvelope(WasPaid{Amount: amount, PaidAt: now}))
}

// Ship ships a paid order.
func (o *Order) Ship() error {
	if o.Status != StatusPaid {
		return ErrNotPaid
	}
	return aggregate.RecordThat[ID](o, event.ToEnvelope(WasShipped{}))
}

// Cancel cancels an open order.
func (o *Order) Cancel(reason string) error {
	if o.Status != StatusOpen {
		return ErrNotOpen
	}
	return aggregate.RecordThat[ID](o, event.ToEnvelope(WasCancelled{Reason: reason}))
}
