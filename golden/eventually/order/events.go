package order

import "time"

// The domain events. go-eventually knows an event by its Name(), and its
// postgres store writes that name to the events table's "type" column.

// WasCreated is recorded when an order is created.
type WasCreated struct {
	ID        ID
	Customer  string
	CreatedAt time.Time
}

// Name implements message.Message.
func (WasCreated) Name() string { return "OrderWasCreated" }

// ItemWasAdded is recorded when a line is added.
type ItemWasAdded struct {
	SKU      string
	Quantity int
	Price    int
}

// Name implements message.Message.
func (ItemWasAdded) Name() string { return "OrderItemWasAdded" }

// TagsWereAdded is recorded when tags are added; the event is the list of
// tags itself, not a struct.
type TagsWereAdded []string

// Name implements message.Message.
func (TagsWereAdded) Name() string { return "OrderTagsWereAdded" }

// WasPaid is recorded when the order is paid.
type WasPaid struct {
	Amount int
	PaidAt time.Time
}

// Name implements message.Message.
func (WasPaid) Name() string { return "OrderWasPaid" }

// WasShipped is recorded when the order ships. It carries nothing.
type WasShipped struct{}

// Name implements message.Message.
func (WasShipped) Name() string { return "OrderWasShipped" }

// WasCancelled is recorded when the order is cancelled.
type WasCancelled struct {
	Reason string
}

// Name implements message.Message.
func (WasCancelled) Name() string { return "OrderWasCancelled" }
