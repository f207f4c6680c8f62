// Package handler is a stand-in for github.com/modernice/goes/command/handler
// at v0.9.0, keeping only the part an aggregate embeds: BaseHandler. The
// upstream package also subscribes aggregates to a command bus (New, Of,
// BeforeHandle, AfterHandle); that is left out.
package handler

import "github.com/modernice/goes/command"

// Base lets an aggregate register and run its own command handlers.
type Base struct {
	command.Handlers
}

// BaseHandler is an alias of Base, the name upstream's examples embed.
type BaseHandler = Base

// Option configures a Base.
type Option func(*Base)

// NewBase makes an empty Base.
func NewBase(opts ...Option) *BaseHandler {
	b := &Base{Handlers: command.Handlers{}}
	for _, o := range opts {
		o(b)
	}
	return b
}

// RegisterCommandHandler makes Base a command.Registerer.
func (b *Base) RegisterCommandHandler(name string, handler func(command.Context) error) {
	b.Handlers.RegisterCommandHandler(name, handler)
}

// CommandNames returns the names of the registered commands.
func (b *Base) CommandNames() []string { return b.Handlers.CommandNames() }

// HandleCommand runs the handler registered for the command's name.
func (b *Base) HandleCommand(ctx command.Context) error { return b.Handlers.HandleCommand(ctx) }
