package projection_test

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/projgen/projgen/projection"
)

type created struct {
	Name  string   `json:"name"`
	Tags  []string `json:"tags"`
	Count int      `json:"count"`
}

type renamed struct {
	Name string
}

// types is an event-type table as generated registries return it.
func types() projection.EventTypes {
	return projection.EventTypes{
		"order.created": func() any { return &created{} },
		"order.renamed": func() any { return &renamed{} },
	}
}

func TestDecode(t *testing.T) {
	tests := []struct {
		topic string
		data  string
		want  any
	}{
		{"order.created", `{"name":"a","tags":["x","y"],"count":3}`, &created{Name: "a", Tags: []string{"x", "y"}, Count: 3}},
		{"order.created", `{}`, &created{}},
		{"order.created", `{"name":"b","extra":true}`, &created{Name: "b"}},
		{"order.renamed", `{"Name":"c"}`, &renamed{Name: "c"}},
	}
	for _, tt := range tests {
		got, err := types().Decode(tt.topic, []byte(tt.data))
		if err != nil {
			t.Errorf("Decode(%q, %s): %v", tt.topic, tt.data, err)
			continue
		}
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("Decode(%q, %s) = %#v, want %#v", tt.topic, tt.data, got, tt.want)
		}
	}
}

func TestDecodeNewPayloadEachTime(t *testing.T) {
	ts := types()
	a, err := ts.Decode("order.created", []byte(`{"name":"a","count":1}`))
	if err != nil {
		t.Fatal(err)
	}
	b, err := ts.Decode("order.created", []byte(`{"name":"b"}`))
	if err != nil {
		t.Fatal(err)
	}
	if a == b {
		t.Fatal("Decode returned the same payload twice")
	}
	if got := a.(*created); got.Name != "a" || got.Count != 1 {
		t.Errorf("first payload changed to %#v by the second Decode", got)
	}
	if got := b.(*created); got.Count != 0 {
		t.Errorf("second payload = %#v, carries a value of the first", got)
	}
}

func TestDecodeUnknownTopic(t *testing.T) {
	got, err := types().Decode("order.deleted", []byte(`{}`))
	if !errors.Is(err, projection.ErrUnknownTopic) {
		t.Fatalf("Decode of an unknown topic = %v, want ErrUnknownTopic", err)
	}
	if got != nil {
		t.Errorf("Decode of an unknown topic returned %#v", got)
	}
	if !strings.Contains(err.Error(), `"order.deleted"`) {
		t.Errorf("error %q does not name the topic", err)
	}
}

func TestDecodeBadJSON(t *testing.T) {
	for _, data := range []string{`{"name":`, `{"count":"many"}`, `[1,2]`, ``} {
		got, err := types().Decode("order.created", []byte(data))
		if err == nil {
			t.Errorf("Decode(%q) = %#v, want an error", data, got)
			continue
		}
		if errors.Is(err, projection.ErrUnknownTopic) {
			t.Errorf("Decode(%q) = %v, is ErrUnknownTopic", data, err)
		}
		if !strings.Contains(err.Error(), `"order.created"`) {
			t.Errorf("Decode(%q) = %q, does not name the topic", data, err)
		}
		if got != nil {
			t.Errorf("Decode(%q) returned %#v with the error", data, got)
		}
	}
}

func TestEventError(t *testing.T) {
	cause := errors.New("column does not exist")
	var err error = &projection.EventError{
		Meta: projection.Meta{
			AggregateID: "8f14e45f-ceea-4f6b-9f2d-0b3a2c5d6e7f",
			Version:     7,
			Position:    1234,
			Topic:       "order.created",
		},
		Err: cause,
	}
	msg := err.Error()
	for _, want := range []string{"position 1234", `topic "order.created"`, "aggregate 8f14e45f-ceea-4f6b-9f2d-0b3a2c5d6e7f", "version 7", "column does not exist"} {
		if !strings.Contains(msg, want) {
			t.Errorf("Error() = %q, want it to contain %q", msg, want)
		}
	}
	if !errors.Is(err, cause) {
		t.Errorf("errors.Is(EventError, cause) = false")
	}
	if errors.Unwrap(err) != cause {
		t.Errorf("Unwrap() = %v, want the cause", errors.Unwrap(err))
	}
	var ee *projection.EventError
	if !errors.As(errors.Join(errors.New("batch failed"), err), &ee) || ee.Meta.Position != 1234 {
		t.Errorf("errors.As did not find the EventError in a wrapped error")
	}
	wrapped := &projection.EventError{Err: projection.ErrNilPayload}
	if !errors.Is(wrapped, projection.ErrNilPayload) {
		t.Errorf("EventError does not unwrap to ErrNilPayload")
	}
}

func TestCheckUUID(t *testing.T) {
	meta := projection.Meta{AggregateID: "6f1c2a3e-0000-4000-8000-000000000001", Position: 7, Topic: "a"}
	if err := projection.CheckUUID(meta, "things.aggregate_id"); err != nil {
		t.Errorf("CheckUUID(%q) = %v, want nil", meta.AggregateID, err)
	}
	meta.AggregateID = "order-42"
	err := projection.CheckUUID(meta, "things.aggregate_id")
	var ee *projection.EventError
	if !errors.As(err, &ee) || ee.Meta.Position != 7 || !strings.Contains(err.Error(), "order-42") || !strings.Contains(err.Error(), "things.aggregate_id") {
		t.Errorf("CheckUUID(%q) = %v, want an *EventError naming the event, the ID and the column", meta.AggregateID, err)
	}
}

func TestCheckBigint(t *testing.T) {
	for _, tt := range []struct {
		id string
		ok bool
	}{
		{"42", true}, {"-7", true}, {"9223372036854775807", true},
		{"9223372036854775808", false}, {"order-42", false}, {"", false}, {" 1", false}, {"1.5", false},
	} {
		meta := projection.Meta{AggregateID: tt.id, Position: 7, Topic: "a"}
		err := projection.CheckBigint(meta, "things.aggregate_id")
		var ee *projection.EventError
		switch {
		case tt.ok && err != nil:
			t.Errorf("CheckBigint(%q) = %v, want nil", tt.id, err)
		case !tt.ok && (!errors.As(err, &ee) || ee.Meta.Position != 7 || !strings.Contains(err.Error(), "things.aggregate_id")):
			t.Errorf("CheckBigint(%q) = %v, want an *EventError naming the event and the column", tt.id, err)
		}
	}
}

// TestDecodeWithoutPayloadType shows that a topic mapped to nil, an event
// without a payload type, decodes to a nil payload whatever its stored
// data: nothing, null, or the envelope's empty object.
func TestDecodeWithoutPayloadType(t *testing.T) {
	ts := types()
	ts["order.confirmed"] = nil
	for _, data := range []string{"", "null", "{}", `{"ignored":1}`} {
		got, err := ts.Decode("order.confirmed", []byte(data))
		if err != nil || got != nil {
			t.Errorf("Decode(order.confirmed, %q) = %#v, %v; want nil, nil", data, got, err)
		}
	}
}
