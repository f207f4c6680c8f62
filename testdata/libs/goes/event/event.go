// Package event is a stand-in for github.com/modernice/goes/event at v0.9.0:
// the event types, the handler registration that aggregates use, and the
// registry constructor. Signatures follow upstream; the bodies are this
// repository's own and keep only what the testdata needs.
package event

import (
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/modernice/goes/codec"
)

// All is the wildcard event name.
const All = "*"

// Event is an event whose data type is not known statically.
type Event = Of[any]

// Of is an event carrying data of type Data.
type Of[Data any] interface {
	ID() uuid.UUID
	Name() string
	Time() time.Time
	Data() Data
	Aggregate() (id uuid.UUID, name string, version int)
}

// Option sets a field of an event made by New.
type Option func(*Evt[any])

// Evt is the concrete event.
type Evt[D any] struct {
	D Data[D]
}

// Data holds an Evt's fields.
type Data[D any] struct {
	ID               uuid.UUID
	Name             string
	Time             time.Time
	Data             D
	AggregateName    string
	AggregateID      uuid.UUID
	AggregateVersion int
}

// ID sets the event id.
func ID(id uuid.UUID) Option { return func(e *Evt[any]) { e.D.ID = id } }

// Time sets the event time.
func Time(t time.Time) Option { return func(e *Evt[any]) { e.D.Time = t } }

// Aggregate ties the event to an aggregate's stream at the given version.
func Aggregate(id uuid.UUID, name string, version int) Option {
	return func(e *Evt[any]) {
		e.D.AggregateID, e.D.AggregateName, e.D.AggregateVersion = id, name, version
	}
}

// New makes an event with a random id and the current time.
func New[D any](name string, data D, opts ...Option) Evt[D] {
	tmp := Evt[any]{D: Data[any]{ID: uuid.New(), Name: name, Time: time.Now(), Data: data}}
	for _, o := range opts {
		o(&tmp)
	}
	d := tmp.D
	return Evt[D]{D: Data[D]{
		ID: d.ID, Name: d.Name, Time: d.Time, Data: data,
		AggregateName: d.AggregateName, AggregateID: d.AggregateID, AggregateVersion: d.AggregateVersion,
	}}
}

func (e Evt[D]) ID() uuid.UUID   { return e.D.ID }
func (e Evt[D]) Name() string    { return e.D.Name }
func (e Evt[D]) Time() time.Time { return e.D.Time }
func (e Evt[D]) Data() D         { return e.D.Data }
func (e Evt[D]) Event() Of[D]    { return e }
func (e Evt[D]) Any() Evt[any]   { return Any[D](e) }
func (e Evt[D]) Aggregate() (uuid.UUID, string, int) {
	return e.D.AggregateID, e.D.AggregateName, e.D.AggregateVersion
}

func rebuild[To, From any](e Of[From], data To) Evt[To] {
	id, name, v := e.Aggregate()
	return New(e.Name(), data, ID(e.ID()), Time(e.Time()), Aggregate(id, name, v))
}

// Any erases the data type.
func Any[Data any](e Of[Data]) Evt[any] { return rebuild[any](e, any(e.Data())) }

// Cast changes the data type and panics when the data is not a To.
func Cast[To, From any](e Of[From]) Evt[To] {
	d, ok := any(e.Data()).(To)
	if !ok {
		var want To
		panic(fmt.Sprintf("event.Cast: %q carries %T, not %T", e.Name(), e.Data(), want))
	}
	return rebuild(e, d)
}

// TryCast changes the data type and reports whether it could.
func TryCast[To, From any](e Of[From]) (Evt[To], bool) {
	d, ok := any(e.Data()).(To)
	if !ok {
		return Evt[To]{}, false
	}
	return rebuild(e, d), true
}

// AggregateRef names one aggregate.
type AggregateRef struct {
	Name string
	ID   uuid.UUID
}

// IsZero reports whether both fields are empty.
func (r AggregateRef) IsZero() bool { return r == AggregateRef{} }

// Aggregate returns the id, the name and -1 as the version.
func (r AggregateRef) Aggregate() (uuid.UUID, string, int) { return r.ID, r.Name, -1 }

// Split returns the id and the name.
func (r AggregateRef) Split() (uuid.UUID, string) { return r.ID, r.Name }

// String renders the ref as Name(ID).
func (r AggregateRef) String() string { return r.Name + "(" + r.ID.String() + ")" }

// NewRegistry makes the codec registry for event data.
func NewRegistry(opts ...codec.Option) *codec.Registry { return codec.New(opts...) }
