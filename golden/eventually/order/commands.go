package order

import (
	"context"
	"fmt"
	"time"

	"github.com/get-eventually/go-eventually/aggregate"
	"github.com/get-eventually/go-eventually/command"
)

// Repository types for the order, as go-eventually's examples alias them.
type (
	Getter     = aggregate.Getter[ID, *Order]
	Saver      = aggregate.Saver[ID, *Order]
	Repository = aggregate.Repository[ID, *Order]
)

// Commands are plain types with a Name(), like events; they carry the id of
// the order they are for. go-eventually has no registry for either.

// CreateCommand creates an order.
type CreateCommand struct {
	ID       ID
	Customer string
}

// Name implements message.Message.
func (CreateCommand) Name() string { return "CreateOrder" }

// AddItemCommand adds a line.
type AddItemCommand struct {
	ID       ID
	SKU      string
	Quantity int
	Price    int
}

// Name implements message.Message.
func (AddItemCommand) Name() string { return "AddOrderItem" }

// PayCommand pays an order.
type PayCommand struct {
	ID     ID
	Amount int
}

// Name implements message.Message.
func (PayCommand) Name() string { return "PayOrder" }

// ShipCommand ships an order.
type ShipCommand struct {
	ID ID
}

// Name implements message.Message.
func (ShipCommand) Name() string { return "ShipOrder" }

// CancelCommand cancels an order.
type CancelCommand struct {
	ID     ID
	Reason string
}

// Name implements message.Message.
func (CancelCommand) Name() string { return "CancelOrder" }

var (
	_ command.Handler[CreateCommand]  = CreateCommandHandler{}
	_ command.Handler[AddItemCommand] = AddItemCommandHandler{}
	_ command.Handler[PayCommand]     = PayCommandHandler{}
	_ command.Handler[ShipCommand]    = ShipCommandHandler{}
	_ command.Handler[CancelCommand]  = CancelCommandHandler{}
)

// CreateCommandHandler handles CreateCommand.
type CreateCommandHandler struct {
	Clock      func() time.Time
	Repository Saver
}

// Handle implements command.Handler.
func (h CreateCommandHandler) Handle(ctx context.Context, cmd command.Envelope[CreateCommand]) error {
	o, err := Create(cmd.Message.ID, cmd.Message.Customer, h.Clock())
	if err != nil {
		return fmt.Errorf("order.CreateCommandHandler: %w", err)
	}
	return h.Repository.Save(ctx, o)
}

// update loads the order, runs fn on it and saves it.
func update(ctx context.Context, repo Repository, id ID, fn func(*Order) error) error {
	o, err := repo.Get(ctx, id)
	if err != nil {
		return err
	}
	if err := fn(o); err != nil {
		return err
	}
	return repo.Save(ctx, o)
}

// AddItemCommandHandler handles AddItemCommand.
type AddItemCommandHandler struct{ Repository Repository }

// Handle implements command.Handler.
func (h AddItemCommandHandler) Handle(ctx context.Context, cmd command.Envelope[AddItemCommand]) error {
	c := cmd.Message
	return update(ctx, h.Repository, c.ID, func(o *Order) error { return o.AddItem(c.SKU, c.Quantity, c.Price) })
}

// PayCommandHandler handles PayCommand.
type PayCommandHandler struct {
	Clock      func() time.Time
	Repository Repository
}

// Handle implements command.Handler.
func (h PayCommandHandler) Handle(ctx context.Context, cmd command.Envelope[PayCommand]) error {
	return update(ctx, h.Repository, cmd.Message.ID, func(o *Order) error { return o.Pay(cmd.Message.Amount, h.Clock()) })
}

// ShipCommandHandler handles ShipCommand.
type ShipCommandHandler struct{ Repository Repository }

// Handle implements command.Handler.
func (h ShipCommandHandler) Handle(ctx context.Context, cmd command.Envelope[ShipCommand]) error {
	return update(ctx, h.Repository, cmd.Message.ID, (*Order).Ship)
}

// CancelCommandHandler handles CancelCommand.
type CancelCommandHandler struct{ Repository Repository }

// Handle implements command.Handler.
func (h CancelCommandHandler) Handle(ctx context.Context, cmd command.Envelope[CancelCommand]) error {
	return update(ctx, h.Repository, cmd.Message.ID, func(o *Order) error { return o.Cancel(cmd.Message.Reason) })
}
