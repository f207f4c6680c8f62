package order

import (
	"github.com/google/uuid"
	"github.com/modernice/goes/codec"
	"github.com/modernice/goes/command"
)

// Command names.
const (
	PlaceCmd   = "shop.order.place"    // payload: PlacePayload
	AddItemCmd = "shop.order.add_item" // payload: LineItem
	TagCmd     = "shop.order.tag"      // payload: []string
	PayCmd     = "shop.order.pay"      // payload: int
	ShipCmd    = "shop.order.ship"     // payload: struct{}
	CancelCmd  = "shop.order.cancel"   // payload: string
)

// PlacePayload is the payload of PlaceCmd.
type PlacePayload struct {
	CustomerID uuid.UUID  `json:"customerId"`
	Items      []LineItem `json:"items"`
}

// Place returns the command that places order id.
func Place(id, customerID uuid.UUID, items ...LineItem) command.Cmd[PlacePayload] {
	return command.New(PlaceCmd, PlacePayload{CustomerID: customerID, Items: items}, command.Aggregate(AggregateName, id))
}

// AddItem returns the command that adds item to order id.
func AddItem(id uuid.UUID, item LineItem) command.Cmd[LineItem] {
	return command.New(AddItemCmd, item, command.Aggregate(AggregateName, id))
}

// Tag returns the command that tags order id.
func Tag(id uuid.UUID, tags ...string) command.Cmd[[]string] {
	return command.New(TagCmd, tags, command.Aggregate(AggregateName, id))
}

// Pay returns the command that pays amount for order id.
func Pay(id uuid.UUID, amount int) command.Cmd[int] {
	return command.New(PayCmd, amount, command.Aggregate(AggregateName, id))
}

// Ship returns the command that ships order id.
func Ship(id uuid.UUID) command.Cmd[struct{}] {
	return command.New(ShipCmd, struct{}{}, command.Aggregate(AggregateName, id))
}

// Cancel returns the command that cancels order id.
func Cancel(id uuid.UUID, reason string) command.Cmd[string] {
	return command.New(CancelCmd, reason, command.Aggregate(AggregateName, id))
}

// RegisterCommands registers the payload type of every order command.
func RegisterCommands(r codec.Registerer) {
	codec.Register[PlacePayload](r, PlaceCmd)
	codec.Register[LineItem](r, AddItemCmd)
	codec.Register[[]string](r, TagCmd)
	codec.Register[int](r, PayCmd)
	codec.Register[struct{}](r, ShipCmd)
	codec.Register[string](r, CancelCmd)
}
