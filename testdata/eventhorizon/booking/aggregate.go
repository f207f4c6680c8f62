// Package booking is a hotel booking, written in eventhorizon's documented
// style.
package booking

import (
	"context"
	"errors"
	"time"

	eh "github.com/looplab/eventhorizon"
	"github.com/looplab/eventhorizon/aggregatestore/events"
	"github.com/looplab/eventhorizon/uuid"
)

func init() {
	eh.RegisterAggregate(func(id uuid.UUID) eh.Aggregate {
		return NewBookingAggregate(id)
	})
}

// BookingAggregateType is the type name of the aggregate.
const BookingAggregateType eh.AggregateType = "Booking"

// BookingAggregate is the aggregate root.
type BookingAggregate struct {
	*events.AggregateBase

	requested bool
	confirmed bool
	cancelled bool
}

var _ = eh.Aggregate(&BookingAggregate{})

// NewBookingAggregate returns a booking with an ID.
func NewBookingAggregate(id uuid.UUID) *BookingAggregate {
	return &BookingAggregate{AggregateBase: events.NewAggregateBase(BookingAggregateType, id)}
}

// HandleCommand decides which events a command records.
func (a *BookingAggregate) HandleCommand(ctx context.Context, cmd eh.Command) error {
	now := time.Now()
	switch cmd := cmd.(type) {
	case *RequestBooking:
		if a.requested {
			return errors.New("already requested")
		}
		a.AppendEvent(BookingRequestedEvent, &BookingRequestedData{
			Guest: cmd.Guest, Room: cmd.Room, Arrive: cmd.Arrive, Nights: cmd.Nights,
		}, now)
	case *RescheduleBooking:
		if a.cancelled {
			return errors.New("cancelled")
		}
		a.AppendEvent(BookingRescheduledEvent, &BookingRescheduledData{Arrive: cmd.Arrive, Nights: cmd.Nights}, now)
	case *ConfirmBooking:
		if a.cancelled {
			return errors.New("cancelled")
		}
		a.AppendEvent(BookingConfirmedEvent, nil, now)
	case *CancelBooking:
		a.AppendEvent(BookingCancelledEvent, nil, now)
	default:
		return errors.New("unknown command")
	}
	return nil
}

// ApplyEvent changes the aggregate's state.
func (a *BookingAggregate) ApplyEvent(ctx context.Context, event eh.Event) error {
	switch event.EventType() {
	case BookingRequestedEvent:
		a.requested = true
	case BookingConfirmedEvent:
		a.confirmed = true
	case BookingCancelledEvent:
		a.cancelled = true
	}
	return nil
}
