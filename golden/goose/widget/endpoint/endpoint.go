// Package endpoint is the aggregate of a widget registry endpoint: a URL a
// tenant registers, which can be switched off and on.
package endpoint

import "github.com/google/uuid"

// Endpoint is the aggregate.
type Endpoint struct {
	ID       uuid.UUID
	Version  int64
	TenantID string
	URL      string
	IsActive bool
}

// RegisterFunc registers event types with an event store.
type RegisterFunc func(events ...any)

// Register tells the event store the endpoint's event types.
func (e *Endpoint) Register(r RegisterFunc) {
	r(&Created{}, &Activated{}, &Deactivated{})
}

// Transition changes the state by one event.
func (e *Endpoint) Transition(event any) {
	switch ev := event.(type) {
	case *Created:
		e.TenantID, e.URL, e.IsActive = ev.TenantID, ev.URL, ev.IsActive
	case *Activated:
		e.IsActive = true
	case *Deactivated:
		e.IsActive = false
	}
	e.Version++
}

// Created: a tenant registered an endpoint.
type Created struct {
	TenantID string
	URL      string
	IsActive bool
}

// Activated: the endpoint was switched on.
type Activated struct{}

// Deactivated: the endpoint was switched off.
type Deactivated struct{}
