// Package order is the aggregate of a shop order.
package order

import (
	"time"

	"github.com/google/uuid"
)

// Order is the aggregate.
type Order struct {
	ID       uuid.UUID
	Version  int64
	Customer string
	Total    int64
	Status   Status
}

// Status is where an order stands.
type Status string

// The statuses of an order.
const (
	StatusPlaced    Status = "placed"
	StatusShipped   Status = "shipped"
	StatusCancelled Status = "cancelled"
)

// Placed: a customer placed the order.
type Placed struct {
	Customer string
	Total    int64
	Lines    []Line
}

// Line is one line of an order. It is a value inside Placed, not an event.
type Line struct {
	SKU      string
	Quantity int
}

// Shipped: the order left the warehouse.
type Shipped struct {
	Carrier   string
	ShippedAt time.Time
}

// Cancelled: the order was cancelled before it shipped.
type Cancelled struct {
	Reason string
}

// RegisterEvents registers the order's event types, with the topics the
// event store records, through register.
func RegisterEvents(register func(topic string, newEvent func() any)) {
	register("order.placed", func() any { return &Placed{} })
	register("order.shipped", func() any { return &Shipped{} })
	register("order.cancelled", func() any { return &Cancelled{} })
}
