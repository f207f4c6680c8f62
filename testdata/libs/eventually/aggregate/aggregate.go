// Package aggregate is a stand-in for github.com/get-eventually/go-eventually/aggregate
// at v0.4.2: the Root interface, the BaseRoot that roots embed, Type,
// RecordThat and the repository interfaces. Signatures follow upstream; the
// bodies are this repository's own. The repository implementations
// (EventSourcedRepository, RehydrateFromState, the scenario helpers) are
// left out.
package aggregate

import (
	"context"
	"errors"
	"fmt"

	"github.com/get-eventually/go-eventually/event"
	"github.com/get-eventually/go-eventually/version"
)

// ID is an aggregate id: anything with a String method. The string is the
// event stream id.
type ID interface {
	fmt.Stringer
}

// Aggregate folds events into state.
type Aggregate interface {
	Apply(event.Event) error
}

// Internal is used by the repositories.
type Internal interface {
	FlushRecordedEvents() []event.Envelope
}

// Root is an aggregate root with an id of type I. Its unexported methods
// come from BaseRoot, so a root must embed it.
type Root[I ID] interface {
	Aggregate
	Internal

	AggregateID() I
	Version() version.Version

	setVersion(version.Version)
	recordThat(Aggregate, ...event.Envelope) error
}

// Type names an aggregate type and makes empty roots of it.
type Type[I ID, T Root[I]] struct {
	Name    string
	Factory func() T
}

// RecordThat applies events to root and keeps them as uncommitted.
func RecordThat[I ID](root Root[I], events ...event.Envelope) error {
	return root.recordThat(root, events...)
}

// BaseRoot tracks a root's version and uncommitted events.
type BaseRoot struct {
	version  version.Version
	recorded []event.Envelope
}

// Version is the number of events the root has seen.
func (r *BaseRoot) Version() version.Version { return r.version }

// FlushRecordedEvents returns the uncommitted events and forgets them.
func (r *BaseRoot) FlushRecordedEvents() []event.Envelope {
	out := r.recorded
	r.recorded = nil
	return out
}

func (r *BaseRoot) setVersion(v version.Version) { r.version = v }

func (r *BaseRoot) recordThat(a Aggregate, events ...event.Envelope) error {
	for _, e := range events {
		if err := a.Apply(e.Message); err != nil {
			return fmt.Errorf("aggregate: record %s: %w", e.Message.Name(), err)
		}
		r.recorded = append(r.recorded, e)
		r.version++
	}
	return nil
}

// RehydrateFromEvents applies the stream's events in order, setting the
// root's version to each event's, then reports the stream's error.
func RehydrateFromEvents[I ID](root Root[I], stream *event.Stream) error {
	for e := range stream.Iter() {
		if err := root.Apply(e.Message); err != nil {
			return fmt.Errorf("aggregate: rehydrate: %w", err)
		}
		root.setVersion(e.Version)
	}
	if err := stream.Err(); err != nil {
		return fmt.Errorf("aggregate: rehydrate: stream: %w", err)
	}
	return nil
}

// ErrRootNotFound is returned by Get for an unknown id.
var ErrRootNotFound = errors.New("aggregate: no root with that id")

// Getter loads roots.
type Getter[I ID, T Root[I]] interface {
	Get(ctx context.Context, id I) (T, error)
}

// Saver stores roots.
type Saver[I ID, T Root[I]] interface {
	Save(ctx context.Context, root T) error
}

// Repository loads and stores roots.
type Repository[I ID, T Root[I]] interface {
	Getter[I, T]
	Saver[I, T]
}

// FusedRepository joins a Getter and a Saver.
type FusedRepository[I ID, T Root[I]] struct {
	Getter[I, T]
	Saver[I, T]
}
