package order

import (
	"github.com/google/uuid"
	"github.com/modernice/goes/codec"
	"github.com/modernice/goes/event"
)

// Event names. goes stores each event under its name, so these strings are
// the topics.
const (
	Placed    = "shop.order.placed"     // data: PlacedData
	ItemAdded = "shop.order.item_added" // data: LineItem
	Tagged    = "shop.order.tagged"     // data: []string
	Paid      = "shop.order.paid"       // data: int (the amount in cents)
	Shipped   = "shop.order.shipped"    // data: struct{} (nothing to carry)
	Cancelled = "shop.order.cancelled"  // data: string (the reason)
	Archived  = "shop.order.archived"   // data: ArchivedData (empty, soft-deletes)
)

// Events lists every order event.
var Events = [...]string{Placed, ItemAdded, Tagged, Paid, Shipped, Cancelled, Archived}

// LineItem is one line of an order; it is also the data of ItemAdded.
type LineItem struct {
	SKU      string `json:"sku"`
	Quantity int    `json:"quantity"`
	Price    int    `json:"price"`
}

// PlacedData is the data of Placed.
type PlacedData struct {
	CustomerID uuid.UUID  `json:"customerId"`
	Items      []LineItem `json:"items"`
	Note       *string    `json:"note,omitempty"`
}

// ArchivedData is the data of Archived. It has no fields; SoftDelete makes
// goes' repositories treat the order as deleted.
type ArchivedData struct{}

// SoftDelete implements aggregate.SoftDeleter.
func (ArchivedData) SoftDelete() bool { return true }

// Typed events, as goes' docs alias them.
type (
	PlacedEvent    = event.Of[PlacedData]
	ItemAddedEvent = event.Of[LineItem]
	TaggedEvent    = event.Of[[]string]
	PaidEvent      = event.Of[int]
	ShippedEvent   = event.Of[struct{}]
	CancelledEvent = event.Of[string]
	ArchivedEvent  = event.Of[ArchivedData]
)

// RegisterEvents registers the data type of every order event.
func RegisterEvents(r codec.Registerer) {
	codec.Register[PlacedData](r, Placed)
	codec.Register[LineItem](r, ItemAdded)
	codec.Register[[]string](r, Tagged)
	codec.Register[int](r, Paid)
	codec.Register[struct{}](r, Shipped)
	codec.Register[string](r, Cancelled)
	codec.Register[ArchivedData](r, Archived)
}
