// Package order is the aggregate of a shop order.
package order

import "github.com/google/uuid"

// Order is the aggregate.
type Order struct {
	ID       uuid.UUID
	Version  int64
	Customer string
	Total    int64
	Street   string
	Paid     int64
	Carrier  string
}

// Placed: a customer placed the order.
type Placed struct {
	Customer string
	Total    int64
}

// AddressChanged: the order is to be delivered elsewhere.
type AddressChanged struct {
	Street string
}

// Paid: the customer paid.
type Paid struct {
	Amount int64
}

// Shipped: the order left the warehouse.
type Shipped struct {
	Carrier string
}

// Cancelled: the order was cancelled before it shipped.
type Cancelled struct {
	Reason string
}

// RegisterEvents registers the order's event types with the topics the
// stream records them under.
func RegisterEvents(register func(topic string, newEvent func() any)) {
	register("order.placed", func() any { return &Placed{} })
	register("order.address_changed", func() any { return &AddressChanged{} })
	register("order.paid", func() any { return &Paid{} })
	register("order.shipped", func() any { return &Shipped{} })
	register("order.cancelled", func() any { return &Cancelled{} })
}
