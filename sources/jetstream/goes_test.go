package jetstream_test

import (
	"bytes"
	"context"
	"encoding/gob"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/projgen/projgen/projection"
	js "github.com/projgen/projgen/sources/jetstream"
)

// The tests below publish messages as goes' source says its bus and its
// store publish them (see goes.go); they do not import goes.

// busEnvelope has the field names and types of the envelope goes' bus
// encodes with gob.
type busEnvelope struct {
	ID               uuid.UUID
	Name             string
	Time             time.Time
	Data             []byte
	AggregateName    string
	AggregateID      uuid.UUID
	AggregateVersion int
}

// storeEnvelope is the JSON envelope of goes' natsjs store.
type storeEnvelope struct {
	ID               uuid.UUID       `json:"id"`
	Name             string          `json:"name"`
	TimeNano         int64           `json:"time"`
	Data             json.RawMessage `json:"data"`
	AggregateName    string          `json:"agg_name,omitempty"`
	AggregateID      uuid.UUID       `json:"agg_id,omitempty"`
	AggregateVersion int             `json:"agg_version,omitempty"`
}

// goesEvent is an event to publish in a goes layout.
type goesEvent struct {
	name, aggregate string
	id              uuid.UUID
	version         int
	at              time.Time
}

// goesEvents returns versions 1..versions of n orders, in turns, with an
// event of a customer between every two.
func goesEvents(n, versions int, order, customer string) ([]goesEvent, []uuid.UUID) {
	ids := make([]uuid.UUID, n)
	for i := range ids {
		ids[i] = uuid.New()
	}
	var events []goesEvent
	at := time.Date(2026, 1, 2, 3, 4, 5, 6, time.UTC)
	for v := 1; v <= versions; v++ {
		for _, id := range ids {
			at = at.Add(time.Millisecond)
			events = append(events, goesEvent{name: order, aggregate: "order", id: id, version: v, at: at})
			if len(events)%3 == 0 {
				events = append(events, goesEvent{name: customer, aggregate: "customer", id: uuid.New(), version: 1, at: at})
			}
		}
	}
	return events, ids
}

// readAll reads src from 0 until it has caught up with head.
func readAll(t *testing.T, src projection.EventSource, topics []string, head uint64) []projection.Stored {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var events []projection.Stored
	var pos int64
	for {
		page, err := src.Read(ctx, pos, topics, 7)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range page.Events {
			if e.Position <= pos {
				t.Fatalf("position %d after %d", e.Position, pos)
			}
			pos = e.Position
		}
		events = append(events, page.Events...)
		pos = page.Through
		if page.Through == page.End && pos >= int64(head) {
			return events
		}
	}
}

// checkGoes checks that events are the order events of want, once each,
// every aggregate's in version order, with their meta and payload.
func checkGoes(t *testing.T, got []projection.Stored, want []goesEvent, order string) {
	t.Helper()
	var orders []goesEvent
	for _, e := range want {
		if e.name == order {
			orders = append(orders, e)
		}
	}
	if len(got) != len(orders) {
		t.Fatalf("read %d events, want %d", len(got), len(orders))
	}
	next := map[string]int64{}
	times := map[string]time.Time{}
	for _, e := range orders {
		times[fmt.Sprintf("%s/%d", e.id, e.version)] = e.at
	}
	for _, e := range got {
		want := next[e.AggregateID] + 1
		at := times[fmt.Sprintf("%s/%d", e.AggregateID, e.Version)]
		if e.Topic != order || e.Version != want || !e.Timestamp.Equal(at) || string(e.Data) != fmt.Sprintf(`{"v":%d}`, e.Version) {
			t.Fatalf("event at %d: %+v %s, want topic %s version %d at %v", e.Position, e.Meta, e.Data, order, want, at)
		}
		next[e.AggregateID] = want
	}
}

// TestGoesBusLayout reads events published as goes' NATS bus with its
// JetStream driver publishes them: one stream, the subject the event
// name, the body a gob envelope.
func TestGoesBusLayout(t *testing.T) {
	_, j := connect(t)
	ctx := context.Background()
	p := "t" + strings.ReplaceAll(uuid.NewString(), "-", "")[:12]
	order, customer := p+".order.placed", p+".customer.registered"
	layout := js.GoesBus{}
	stream := "PROJGEN_GOES_BUS_" + p
	if _, err := j.CreateStream(ctx, jetstream.StreamConfig{Name: stream, Subjects: []string{layout.FilterSubject(order), layout.FilterSubject(customer)}, Storage: jetstream.MemoryStorage}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = j.DeleteStream(context.Background(), stream) })
	if got, want := layout.FilterSubject(order), p+"_order_placed"; got != want {
		t.Errorf("subject of %s: %s, want %s", order, got, want)
	}
	events, _ := goesEvents(20, 5, order, customer)
	for _, e := range events {
		var buf bytes.Buffer
		env := busEnvelope{ID: uuid.New(), Name: e.name, Time: e.at, Data: fmt.Appendf(nil, `{"v":%d}`, e.version), AggregateName: e.aggregate, AggregateID: e.id, AggregateVersion: e.version}
		if err := gob.NewEncoder(&buf).Encode(env); err != nil {
			t.Fatal(err)
		}
		m := nats.NewMsg(layout.FilterSubject(e.name))
		m.Header.Set(nats.MsgIdHdr, env.ID.String())
		m.Data = buf.Bytes()
		if _, err := j.PublishMsg(ctx, m); err != nil {
			t.Fatal(err)
		}
	}
	src := js.NewSource(j, stream, layout)
	defer src.Close(ctx)
	checkGoes(t, readAll(t, src, []string{order}, uint64(len(events))), events, order)
}

// TestGoesStoreLayout reads events stored as goes' natsjs store stores
// them, a stream per aggregate type and a JSON envelope, through a
// stream that sources the aggregate streams into one sequence.
func TestGoesStoreLayout(t *testing.T) {
	_, j := connect(t)
	ctx := context.Background()
	ns := "t" + strings.ReplaceAll(uuid.NewString(), "-", "")[:12]
	layout := js.GoesStore{Namespace: ns}
	var sources []*jetstream.StreamSource
	for _, agg := range []string{"order", "customer"} {
		name := ns + "_agg_" + agg
		if _, err := j.CreateStream(ctx, jetstream.StreamConfig{Name: name, Subjects: []string{ns + "." + agg + ".>"}, Storage: jetstream.MemoryStorage}); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = j.DeleteStream(context.Background(), name) })
		sources = append(sources, &jetstream.StreamSource{Name: name})
	}
	all := ns + "_all"
	if _, err := j.CreateStream(ctx, jetstream.StreamConfig{Name: all, Sources: sources, Storage: jetstream.MemoryStorage}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = j.DeleteStream(context.Background(), all) })
	order, customer := "shop.order.placed", "shop.customer.registered"
	if got, want := layout.FilterSubject(order), ns+".*.*.shop_order_placed"; got != want {
		t.Errorf("subject of %s: %s, want %s", order, got, want)
	}
	events, _ := goesEvents(20, 5, order, customer)
	for _, e := range events {
		env := storeEnvelope{ID: uuid.New(), Name: e.name, TimeNano: e.at.UnixNano(), Data: fmt.Appendf(nil, `{"v":%d}`, e.version), AggregateName: e.aggregate, AggregateID: e.id, AggregateVersion: e.version}
		data, err := json.Marshal(env)
		if err != nil {
			t.Fatal(err)
		}
		m := nats.NewMsg(ns + "." + e.aggregate + "." + e.id.String() + "." + strings.ReplaceAll(e.name, ".", "_"))
		m.Header.Set(nats.MsgIdHdr, env.ID.String())
		m.Data = data
		if _, err := j.PublishMsg(ctx, m); err != nil {
			t.Fatal(err)
		}
	}
	str, err := j.Stream(ctx, all)
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, 30*time.Second, func() (bool, string) {
		info, err := str.Info(ctx)
		if err != nil {
			return false, err.Error()
		}
		return info.State.Msgs == uint64(len(events)), fmt.Sprintf("the sourced stream holds %d messages, want %d", info.State.Msgs, len(events))
	})
	src := js.NewSource(j, all, layout)
	defer src.Close(ctx)
	checkGoes(t, readAll(t, src, []string{order}, uint64(len(events))), events, order)
}
