package event

import "fmt"

// Registerer accepts a handler for an event name.
type Registerer interface {
	RegisterEventHandler(eventName string, handler func(Event))
}

// Handlers keeps handlers per event name; aggregate.Base embeds it.
type Handlers map[string][]func(Event)

// RegisterEventHandler adds handler for eventName.
func (h Handlers) RegisterEventHandler(eventName string, handler func(Event)) {
	h[eventName] = append(h[eventName], handler)
}

// EventHandlers returns the handlers of eventName.
func (h Handlers) EventHandlers(eventName string) []func(Event) { return h[eventName] }

// HandleEvent runs every handler registered for the event's name.
func (h Handlers) HandleEvent(e Event) {
	for _, fn := range h[e.Name()] {
		fn(e)
	}
}

// RegisterHandler registers a typed handler for eventName; it panics when an
// event of that name carries data of another type.
func RegisterHandler[Data any](r Registerer, eventName string, handler func(Of[Data])) {
	r.RegisterEventHandler(eventName, func(e Event) {
		typed, ok := TryCast[Data](e)
		if !ok {
			var want Data
			panic(fmt.Sprintf("event.RegisterHandler: %q carries %T, the handler wants %T", eventName, e.Data(), want))
		}
		handler(typed)
	})
}

// ApplyWith registers handler for each of eventNames.
func ApplyWith[Data any](r Registerer, handler func(Of[Data]), eventNames ...string) {
	for _, n := range eventNames {
		RegisterHandler(r, n, handler)
	}
}

// HandleWith registers handler for each of eventNames.
func HandleWith[Data any](r Registerer, handler func(Of[Data]), eventNames ...string) {
	ApplyWith(r, handler, eventNames...)
}
