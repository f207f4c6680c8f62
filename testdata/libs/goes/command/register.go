package command

import (
	"fmt"
	"sort"
)

// Registerer accepts a handler for a command name.
type Registerer interface {
	RegisterCommandHandler(commandName string, handler func(Context) error)
}

// Handlers keeps one handler per command name; aggregate.Base embeds it.
type Handlers map[string]func(Context) error

// RegisterCommandHandler sets the handler of commandName.
func (h Handlers) RegisterCommandHandler(commandName string, handler func(Context) error) {
	h[commandName] = handler
}

// CommandNames returns the names that have a handler (sorted here; upstream
// gives map order).
func (h Handlers) CommandNames() []string {
	names := make([]string, 0, len(h))
	for n := range h {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// CommandHandler returns the handler of commandName, or nil.
func (h Handlers) CommandHandler(commandName string) func(Context) error { return h[commandName] }

// HandleCommand runs the handler registered for the command's name.
func (h Handlers) HandleCommand(ctx Context) error {
	fn := h[ctx.Name()]
	if fn == nil {
		return fmt.Errorf("command: no handler for %q", ctx.Name())
	}
	return fn(ctx)
}

// RegisterHandler registers a typed handler for commandName; it panics when a
// command of that name carries a payload of another type.
func RegisterHandler[Payload any](r Registerer, commandName string, handler func(Ctx[Payload]) error) {
	r.RegisterCommandHandler(commandName, func(ctx Context) error {
		typed, ok := TryCastContext[Payload](ctx)
		if !ok {
			var want Payload
			panic(fmt.Sprintf("command.RegisterHandler: %q carries %T, the handler wants %T", commandName, ctx.Payload(), want))
		}
		return handler(typed)
	})
}

// HandleWith registers handler for each of commandNames, of which there must
// be at least one.
func HandleWith[Payload any](r Registerer, handler func(Ctx[Payload]) error, commandNames ...string) {
	if len(commandNames) == 0 {
		panic("command.HandleWith: no command names")
	}
	for _, n := range commandNames {
		RegisterHandler(r, n, handler)
	}
}

// ApplyWith registers a handler that passes the payload to apply.
func ApplyWith[Payload any](r Registerer, apply func(Payload) error, commandNames ...string) {
	HandleWith(r, func(ctx Ctx[Payload]) error { return apply(ctx.Payload()) }, commandNames...)
}
