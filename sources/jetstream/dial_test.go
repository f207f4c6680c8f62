package jetstream_test

import (
	"context"
	"os"
	"reflect"
	"strings"
	"testing"

	"github.com/nats-io/nats.go/jetstream"

	js "github.com/projgen/projgen/sources/jetstream"
)

func TestParseLayout(t *testing.T) {
	tests := []struct {
		name string
		want js.Layout
		err  string
	}{
		{name: "", want: js.Headers{}},
		{name: "headers", want: js.Headers{}},
		{name: "goes-bus", want: js.GoesBus{}},
		{name: "goes-store", want: js.GoesStore{}},
		{name: "Headers", err: `unknown layout "Headers": use one of headers, goes-bus, goes-store`},
		{name: "goes", err: `unknown layout "goes"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := js.ParseLayout(tt.name)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("ParseLayout(%q) = %v, %v; want the error %q", tt.name, got, err, tt.err)
				}
				return
			}
			if err != nil || !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("ParseLayout(%q) = %#v, %v; want %#v", tt.name, got, err, tt.want)
			}
		})
	}
	for _, name := range js.LayoutNames() {
		if _, err := js.ParseLayout(name); err != nil {
			t.Errorf("ParseLayout refuses %q, which LayoutNames lists: %v", name, err)
		}
	}
}

// TestDialReadsTheStream reads, through a source of its own connection,
// what another connection published.
func TestDialReadsTheStream(t *testing.T) {
	_, j := connect(t)
	s := newStream(t, j, jetstream.MemoryStorage)
	ctx := context.Background()
	for v := int64(1); v <= 3; v++ {
		if _, err := j.PublishMsg(ctx, s.orderMsg("order-1", v)); err != nil {
			t.Fatal(err)
		}
	}
	src, closeSource, err := js.Dial(os.Getenv(natsURLEnv), s.name, js.Headers{})
	if err != nil {
		t.Fatal(err)
	}
	defer closeSource()
	page, err := src.Read(ctx, 0, orderTopics, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Events) != 3 || page.Events[2].Version != 3 || page.Events[2].AggregateID != "order-1" {
		t.Fatalf("read %+v; want the 3 events of order-1", page.Events)
	}
}

func TestDialNamesTheServerItCannotReach(t *testing.T) {
	_, _, err := js.Dial("nats://127.0.0.1:1", "EVENTS", js.Headers{})
	if err == nil || !strings.Contains(err.Error(), "nats://127.0.0.1:1") {
		t.Fatalf("Dial to a closed port = %v; want an error naming the URL", err)
	}
}
