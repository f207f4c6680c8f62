// Package library_test runs the projection projgen generated over events
// in the form eventhorizon stores them: the aggregate handles commands and
// records events, the library's JSON codec encodes each one as a store
// keeps it, and the stored bytes are all the runner's source reads. The
// rows are checked against the commands that were given. It builds once
// `projgen new` has generated the registry.
package library_test

import (
	"context"
	"encoding/json"
	"math/rand/v2"
	"path/filepath"
	"testing"
	"time"

	eh "github.com/looplab/eventhorizon"
	ehjson "github.com/looplab/eventhorizon/codec/json"
	"github.com/looplab/eventhorizon/uuid"
	"github.com/projgen/projgen/projection"
	"github.com/projgen/projgen/projection/projectiontest"

	"example.com/eventhorizon/booking"
	"example.com/eventhorizon/projections"
)

// want is what the commands given to one booking make of it.
type want struct {
	guest                string
	room, nights         int
	arrive               time.Time
	confirmed, cancelled bool
	version              int
}

func TestLibraryStoredEvents(t *testing.T) {
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(3, 4))
	codec := &ehjson.EventCodec{}
	var source projectiontest.Events
	wants := map[uuid.UUID]*want{}
	day := time.Date(2026, 12, 24, 0, 0, 0, 0, time.UTC)
	for i := range 60 {
		id := uuid.New()
		a := booking.NewBookingAggregate(id)
		w := &want{guest: "guest", room: 100 + i, nights: 1 + rng.IntN(5), arrive: day.AddDate(0, 0, rng.IntN(30))}
		cmds := []eh.Command{&booking.RequestBooking{ID: id, Guest: w.guest, Room: w.room, Arrive: w.arrive, Nights: w.nights}}
		for range rng.IntN(4) {
			switch rng.IntN(3) {
			case 0:
				w.arrive, w.nights = day.AddDate(0, 1, rng.IntN(30)), 1+rng.IntN(5)
				cmds = append(cmds, &booking.RescheduleBooking{ID: id, Arrive: w.arrive, Nights: w.nights})
			case 1:
				w.confirmed = true
				cmds = append(cmds, &booking.ConfirmBooking{ID: id})
			case 2:
				w.cancelled = true
				cmds = append(cmds, &booking.CancelBooking{ID: id})
			}
			if w.cancelled {
				break
			}
		}
		for _, c := range cmds {
			if err := a.HandleCommand(ctx, c); err != nil {
				t.Fatal(err)
			}
		}
		for _, e := range a.UncommittedEvents() {
			b, err := codec.MarshalEvent(ctx, e)
			if err != nil {
				t.Fatal(err)
			}
			source = append(source, decodeStored(t, b, int64(len(source)+1)))
		}
		w.version = len(a.UncommittedEvents())
		wants[id] = w
	}

	pool := projectiontest.Open(t, filepath.Join("..", "booking", "migrations"))
	runner := &projection.Runner{Pool: pool, Source: source, Types: projections.EventTypes(), Registrations: projections.Registrations()}
	if err := runner.Setup(ctx); err != nil {
		t.Fatal(err)
	}
	if err := runner.CatchUp(ctx, "booking"); err != nil {
		t.Fatal(err)
	}
	projectiontest.AssertCount(t, pool, "bookings", len(wants))
	for id, w := range wants {
		projectiontest.AssertRow(t, pool, "bookings", projectiontest.Row{"aggregate_id": id.String()}, projectiontest.Row{
			"guest": w.guest, "room": int64(w.room), "nights": int64(w.nights),
			"is_confirmed": w.confirmed, "is_cancelled": w.cancelled, "aggregate_version": int64(w.version),
		})
		var arrive time.Time
		if err := pool.QueryRow(ctx, `SELECT arrive FROM bookings WHERE aggregate_id = $1`, id).Scan(&arrive); err != nil {
			t.Fatal(err)
		}
		if !arrive.Equal(w.arrive) {
			t.Errorf("booking %s: arrive %v, want %v", id, arrive, w.arrive)
		}
	}
}

// decodeStored reads the envelope of an event as eventhorizon's JSON codec
// stored it: what a source over an eventhorizon store gives the runner.
func decodeStored(t *testing.T, b []byte, position int64) projection.Stored {
	t.Helper()
	var env struct {
		EventType   string          `json:"event_type"`
		Data        json.RawMessage `json:"data"`
		Timestamp   time.Time       `json:"timestamp"`
		AggregateID string          `json:"aggregate_id"`
		Version     int64           `json:"version"`
	}
	if err := json.Unmarshal(b, &env); err != nil {
		t.Fatalf("stored event %s: %v", b, err)
	}
	return projection.Stored{
		Meta: projection.Meta{AggregateID: env.AggregateID, Version: env.Version, Position: position, Timestamp: env.Timestamp, Topic: env.EventType},
		Data: env.Data,
	}
}
