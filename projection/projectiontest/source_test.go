package projectiontest_test

import (
	"context"
	"testing"

	"github.com/projgen/projgen/projection"
	"github.com/projgen/projgen/projection/projectiontest"
)

// TestEventsPages reads a source of five events page by page, for one of
// two topics, and checks that every event of the topic comes once, in
// order, and that Through never passes an event not returned.
func TestEventsPages(t *testing.T) {
	var s projectiontest.Events
	for i, topic := range []string{"a", "b", "a", "a", "b"} {
		s = append(s, projection.Stored{Meta: projection.Meta{Position: int64(10 + i), Topic: topic}})
	}
	ctx := context.Background()
	var got []int64
	after := int64(0)
	for range 10 {
		page, err := s.Read(ctx, after, []string{"a"}, 2)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range page.Events {
			if e.Position > page.Through {
				t.Errorf("event at %d past Through %d", e.Position, page.Through)
			}
			got = append(got, e.Position)
		}
		if page.Through < after {
			t.Fatalf("Through %d went back from %d", page.Through, after)
		}
		after = page.Through
		if page.Through == page.End {
			break
		}
	}
	if want := []int64{10, 12, 13}; len(got) != len(want) || got[0] != want[0] || got[1] != want[1] || got[2] != want[2] {
		t.Errorf("read %v, want %v", got, want)
	}
	if b, _ := s.Backlog(ctx, 10, []string{"a"}); b.Events != 2 || b.Head != 14 {
		t.Errorf("Backlog after 10 = %+v, want 2 events, head 14", b)
	}
}
