package booking

import (
	"time"

	eh "github.com/looplab/eventhorizon"
	"github.com/looplab/eventhorizon/uuid"
)

func init() {
	eh.RegisterCommand(func() eh.Command { return &RequestBooking{} })
	eh.RegisterCommand(func() eh.Command { return &RescheduleBooking{} })
	eh.RegisterCommand(func() eh.Command { return &ConfirmBooking{} })
	eh.RegisterCommand(func() eh.Command { return &CancelBooking{} })
}

const (
	RequestBookingCommand    eh.CommandType = "RequestBooking"
	RescheduleBookingCommand eh.CommandType = "RescheduleBooking"
	ConfirmBookingCommand    eh.CommandType = "ConfirmBooking"
	CancelBookingCommand     eh.CommandType = "CancelBooking"
)

// RequestBooking asks for a room.
type RequestBooking struct {
	ID     uuid.UUID
	Guest  string
	Room   int
	Arrive time.Time
	Nights int
}

func (c RequestBooking) AggregateID() uuid.UUID          { return c.ID }
func (c RequestBooking) AggregateType() eh.AggregateType { return BookingAggregateType }
func (c RequestBooking) CommandType() eh.CommandType     { return RequestBookingCommand }

// RescheduleBooking moves the stay.
type RescheduleBooking struct {
	ID     uuid.UUID
	Arrive time.Time
	Nights int
}

func (c RescheduleBooking) AggregateID() uuid.UUID          { return c.ID }
func (c RescheduleBooking) AggregateType() eh.AggregateType { return BookingAggregateType }
func (c RescheduleBooking) CommandType() eh.CommandType     { return RescheduleBookingCommand }

// ConfirmBooking confirms the booking.
type ConfirmBooking struct {
	ID uuid.UUID
}

func (c ConfirmBooking) AggregateID() uuid.UUID          { return c.ID }
func (c ConfirmBooking) AggregateType() eh.AggregateType { return BookingAggregateType }
func (c ConfirmBooking) CommandType() eh.CommandType     { return ConfirmBookingCommand }

// CancelBooking cancels it.
type CancelBooking struct {
	ID uuid.UUID
}

func (c CancelBooking) AggregateID() uuid.UUID          { return c.ID }
func (c CancelBooking) AggregateType() eh.AggregateType { return BookingAggregateType }
func (c CancelBooking) CommandType() eh.CommandType     { return CancelBookingCommand }
