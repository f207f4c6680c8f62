// Package command is a stand-in for github.com/modernice/goes/command at
// v0.9.0: commands, command contexts, the handler registration that
// aggregates use, and the registry constructor. Signatures follow upstream;
// the bodies are this repository's own. There is no command bus here.
package command

import (
	"fmt"

	"github.com/google/uuid"
	"github.com/modernice/goes/codec"
	"github.com/modernice/goes/event"
)

// Command is a command whose payload type is not known statically.
type Command = Of[any]

// Of is a command carrying a payload of type Payload.
type Of[Payload any] interface {
	ID() uuid.UUID
	Name() string
	Payload() Payload
	Aggregate() event.AggregateRef
}

// Option sets a field of a command made by New.
type Option func(*Cmd[any])

// Cmd is the concrete command.
type Cmd[Payload any] struct {
	Data Data[Payload]
}

// Data holds a Cmd's fields.
type Data[Payload any] struct {
	ID            uuid.UUID
	Name          string
	Payload       Payload
	AggregateName string
	AggregateID   uuid.UUID
}

// ID sets the command id.
func ID(id uuid.UUID) Option { return func(c *Cmd[any]) { c.Data.ID = id } }

// Aggregate names the aggregate the command is for.
func Aggregate(name string, id uuid.UUID) Option {
	return func(c *Cmd[any]) { c.Data.AggregateName, c.Data.AggregateID = name, id }
}

// New makes a command with a random id.
func New[P any](name string, pl P, opts ...Option) Cmd[P] {
	tmp := Cmd[any]{Data: Data[any]{ID: uuid.New(), Name: name, Payload: pl}}
	for _, o := range opts {
		o(&tmp)
	}
	d := tmp.Data
	return Cmd[P]{Data: Data[P]{ID: d.ID, Name: d.Name, Payload: pl, AggregateName: d.AggregateName, AggregateID: d.AggregateID}}
}

func (c Cmd[P]) ID() uuid.UUID  { return c.Data.ID }
func (c Cmd[P]) Name() string   { return c.Data.Name }
func (c Cmd[P]) Payload() P     { return c.Data.Payload }
func (c Cmd[P]) Command() Of[P] { return c }
func (c Cmd[P]) Any() Cmd[any]  { return Any[P](c) }
func (c Cmd[P]) Aggregate() event.AggregateRef {
	return event.AggregateRef{Name: c.Data.AggregateName, ID: c.Data.AggregateID}
}

func rebuild[To, From any](c Of[From], pl To) Cmd[To] {
	id, name := c.Aggregate().Split()
	return New(c.Name(), pl, ID(c.ID()), Aggregate(name, id))
}

// Any erases the payload type.
func Any[P any](c Of[P]) Cmd[any] { return rebuild[any](c, any(c.Payload())) }

// TryCast changes the payload type and reports whether it could.
func TryCast[To, From any](c Of[From]) (Cmd[To], bool) {
	pl, ok := any(c.Payload()).(To)
	if !ok {
		return Cmd[To]{}, false
	}
	return rebuild(c, pl), true
}

// Cast changes the payload type and panics when the payload is not a To.
func Cast[To, From any](c Of[From]) Cmd[To] {
	pl, ok := any(c.Payload()).(To)
	if !ok {
		var want To
		panic(fmt.Sprintf("command.Cast: %q carries %T, not %T", c.Name(), c.Payload(), want))
	}
	return rebuild(c, pl)
}

// NewRegistry makes the codec registry for command payloads.
func NewRegistry(opts ...codec.Option) *codec.Registry { return codec.New(opts...) }
