// Package aggregate is a stand-in for github.com/modernice/goes/aggregate at
// v0.9.0: the Base that aggregates embed and Next, which raises an event.
// Signatures follow upstream; the bodies are this repository's own. There
// are no repositories here.
package aggregate

import (
	"time"

	"github.com/google/uuid"
	"github.com/modernice/goes/command"
	"github.com/modernice/goes/event"
)

// Aggregate is an aggregate with a UUID id, which is what goes uses.
type Aggregate = Of[uuid.UUID]

// Of is an event-sourced aggregate with an id of type ID.
type Of[ID comparable] interface {
	Aggregate() (ID, string, int)
	AggregateChanges() []event.Event
	ApplyEvent(event.Event)
}

// Committer records and commits changes.
type Committer interface {
	RecordChange(...event.Event)
	Commit()
}

// SoftDeleter is implemented by event data that soft-deletes its aggregate.
type SoftDeleter interface{ SoftDelete() bool }

// SoftRestorer is implemented by event data that restores a soft-deleted
// aggregate.
type SoftRestorer interface{ SoftRestore() bool }

// Ref names one aggregate.
type Ref = event.AggregateRef

// Option configures a Base.
type Option func(*Base)

// Version sets the starting version.
func Version(v int) Option { return func(b *Base) { b.Version = v } }

type eventHandlers = event.Handlers
type commandHandlers = command.Handlers

// Base is embedded (as *aggregate.Base) into every goes aggregate. Its event
// handler table makes the aggregate an event.Registerer, its command handler
// table a command.Registerer.
type Base struct {
	ID      uuid.UUID
	Name    string
	Version int
	Changes []event.Event

	eventHandlers
	commandHandlers
}

// New makes a Base for the aggregate called name with the given id.
func New(name string, id uuid.UUID, opts ...Option) *Base {
	b := &Base{ID: id, Name: name, eventHandlers: eventHandlers{}, commandHandlers: commandHandlers{}}
	for _, o := range opts {
		o(b)
	}
	return b
}

func (b *Base) Ref() Ref                            { return Ref{Name: b.Name, ID: b.ID} }
func (b *Base) ModelID() uuid.UUID                  { return b.ID }
func (b *Base) Aggregate() (uuid.UUID, string, int) { return b.ID, b.Name, b.Version }
func (b *Base) AggregateID() uuid.UUID              { return b.ID }
func (b *Base) AggregateName() string               { return b.Name }
func (b *Base) AggregateVersion() int               { return b.Version }
func (b *Base) CurrentVersion() int                 { return b.Version + len(b.Changes) }
func (b *Base) AggregateChanges() []event.Event     { return b.Changes }
func (b *Base) RecordChange(events ...event.Event)  { b.Changes = append(b.Changes, events...) }
func (b *Base) DiscardChanges()                     { b.Changes = b.Changes[:0] }
func (b *Base) ApplyEvent(e event.Event)            { b.eventHandlers.HandleEvent(e) }
func (b *Base) SetVersion(v int)                    { b.Version = v }

// Commit moves the version to that of the last change and drops the changes.
func (b *Base) Commit() {
	if n := len(b.Changes); n > 0 {
		_, _, b.Version = b.Changes[n-1].Aggregate()
		b.Changes = b.Changes[:0]
	}
}

// UncommittedVersion is the version after the uncommitted changes.
func UncommittedVersion(a Aggregate) int {
	_, _, v := a.Aggregate()
	if ch := a.AggregateChanges(); len(ch) > 0 {
		if _, _, last := ch[len(ch)-1].Aggregate(); last > v {
			return last
		}
	}
	return v
}

// NextVersion is the version the next event gets.
func NextVersion(a Aggregate) int { return UncommittedVersion(a) + 1 }

// Next makes the aggregate's next event, applies it and, when the aggregate
// is a Committer, records it as a change. Its time is later than that of the
// previous change.
func Next[Data any](a Aggregate, name string, data Data, opts ...event.Option) event.Evt[Data] {
	id, aname, _ := a.Aggregate()
	t := time.Now()
	if ch := a.AggregateChanges(); len(ch) > 0 {
		if prev := ch[len(ch)-1].Time(); !t.After(prev) {
			t = prev.Add(time.Nanosecond)
		}
	}
	opts = append([]event.Option{event.Aggregate(id, aname, NextVersion(a)), event.Time(t)}, opts...)
	evt := event.New(name, data, opts...)
	a.ApplyEvent(evt.Any())
	if c, ok := a.(Committer); ok {
		c.RecordChange(evt.Any())
	}
	return evt
}
