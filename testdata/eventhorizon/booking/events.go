package booking

import (
	"time"

	eh "github.com/looplab/eventhorizon"
)

const (
	// BookingRequestedEvent is when a guest asks for a room.
	BookingRequestedEvent eh.EventType = "BookingRequested"
	// BookingRescheduledEvent moves the stay to other dates.
	BookingRescheduledEvent eh.EventType = "BookingRescheduled"
	// BookingConfirmedEvent is when the hotel confirms the booking.
	BookingConfirmedEvent eh.EventType = "BookingConfirmed"
	// BookingCancelledEvent is when the guest cancels.
	BookingCancelledEvent eh.EventType = "BookingCancelled"
)

func init() {
	// Only some events carry data; the others are their type alone.
	eh.RegisterEventData(BookingRequestedEvent, func() eh.EventData {
		return &BookingRequestedData{}
	})
	eh.RegisterEventData(BookingRescheduledEvent, func() eh.EventData {
		return &BookingRescheduledData{}
	})
}

// BookingRequestedData is the data of BookingRequestedEvent.
type BookingRequestedData struct {
	Guest  string    `bson:"guest"`
	Room   int       `bson:"room"`
	Arrive time.Time `bson:"arrive"`
	Nights int       `bson:"nights"`
}

// BookingRescheduledData is the data of BookingRescheduledEvent.
type BookingRescheduledData struct {
	Arrive time.Time `bson:"arrive"`
	Nights int       `bson:"nights"`
}
