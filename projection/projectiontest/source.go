package projectiontest

import (
	"context"
	"slices"

	"github.com/projgen/projgen/projection"
)

// Events is an EventSource over events held in memory, in position order:
// what a test uses to run projections over the events an event-sourcing
// library stored, read back through the library's own API. Positions must
// increase; every event is final, so the source is gap-free by
// construction.
type Events []projection.Stored

var _ projection.EventSource = Events(nil)

// Read returns up to limit events after position after whose topic is one
// of topics.
func (s Events) Read(_ context.Context, after int64, topics []string, limit int) (projection.Page, error) {
	page := projection.Page{Through: s.end(), End: s.end()}
	for _, e := range s {
		if e.Position <= after || !slices.Contains(topics, e.Topic) {
			continue
		}
		if len(page.Events) == limit {
			page.Through = page.Events[len(page.Events)-1].Position
			break
		}
		page.Events = append(page.Events, e)
	}
	if page.Through < after {
		page.Through = after
	}
	return page, nil
}

// Backlog reports the events of topics after position after.
func (s Events) Backlog(_ context.Context, after int64, topics []string) (projection.Backlog, error) {
	b := projection.Backlog{Head: s.end()}
	for _, e := range s {
		if e.Position > after && slices.Contains(topics, e.Topic) {
			if b.Events == 0 {
				b.Oldest = e.Timestamp
			}
			b.Events++
		}
	}
	return b, nil
}

func (s Events) end() int64 {
	if len(s) == 0 {
		return 0
	}
	return s[len(s)-1].Position
}
