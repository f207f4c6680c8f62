// Package command is a stand-in for github.com/get-eventually/go-eventually/command
// at v0.4.2: commands and their handlers. Signatures follow upstream; the
// bodies are this repository's own. The scenario test helpers are left out.
package command

import (
	"context"

	"github.com/get-eventually/go-eventually/message"
)

// Command is a message that asks for something to be done.
type Command message.Message

// Envelope carries a Command of type T and its Metadata.
type Envelope[T Command] message.Envelope[T]

// GenericEnvelope is an Envelope whose Command type is not known statically.
type GenericEnvelope Envelope[Command]

// ToGenericEnvelope erases the Command type.
func (e Envelope[T]) ToGenericEnvelope() GenericEnvelope {
	return GenericEnvelope{Message: e.Message, Metadata: e.Metadata}
}

// FromGenericEnvelope recovers the Command type, reporting whether it could.
func FromGenericEnvelope[T Command](e GenericEnvelope) (Envelope[T], bool) {
	c, ok := e.Message.(T)
	if !ok {
		return Envelope[T]{}, false
	}
	return Envelope[T]{Message: c, Metadata: e.Metadata}, true
}

// ToEnvelope wraps cmd with no metadata.
func ToEnvelope[T Command](cmd T) Envelope[T] { return Envelope[T]{Message: cmd} }

// Handler handles commands of type T.
type Handler[T Command] interface {
	Handle(ctx context.Context, cmd Envelope[T]) error
}

// HandlerFunc is a function Handler.
type HandlerFunc[T Command] func(context.Context, Envelope[T]) error

// Handle calls fn.
func (fn HandlerFunc[T]) Handle(ctx context.Context, cmd Envelope[T]) error { return fn(ctx, cmd) }
