package jetstream_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/projgen/projgen/projection"
	js "github.com/projgen/projgen/sources/jetstream"
)

// reader reads a source the way a runner does, checking each page
// against the contract of projection.EventSource.
type reader struct {
	src    projection.EventSource
	pos    int64
	events []projection.Stored
	pages  int
}

// read reads one page of at most limit events.
func (r *reader) read(ctx context.Context, limit int) (projection.Page, error) {
	page, err := r.src.Read(ctx, r.pos, orderTopics, limit)
	if err != nil {
		return page, err
	}
	r.pages++
	last := r.pos
	for _, e := range page.Events {
		if e.Position <= last {
			return page, fmt.Errorf("position %d after %d", e.Position, last)
		}
		last = e.Position
	}
	if len(page.Events) > limit || page.Through < last || page.End < page.Through || page.Through < r.pos {
		return page, fmt.Errorf("page of %d events (limit %d) up to %d, through %d, end %d, read after %d", len(page.Events), limit, last, page.Through, page.End, r.pos)
	}
	r.events = append(r.events, page.Events...)
	r.pos = page.Through
	return page, nil
}

// checkOnceInOrder checks that events hold versions 1..last of each of
// ids once each, every aggregate's in version order, with their meta.
func checkOnceInOrder(t *testing.T, events []projection.Stored, ids []string, last int64) {
	t.Helper()
	next := map[string]int64{}
	for _, e := range events {
		want := next[e.AggregateID] + 1
		if e.Version != want || e.Topic != topicOf(e.Version) {
			t.Fatalf("event at %d: %s version %d topic %s, want version %d topic %s", e.Position, e.AggregateID, e.Version, e.Topic, want, topicOf(want))
		}
		if string(e.Data) != fmt.Sprintf(`{"amount":%d}`, amountOf(e.AggregateID, e.Version)) || e.Timestamp.IsZero() {
			t.Fatalf("event at %d: data %s, time %v", e.Position, e.Data, e.Timestamp)
		}
		next[e.AggregateID] = want
	}
	for _, id := range ids {
		if next[id] != last {
			t.Errorf("order %s: read up to version %d, want %d", id, next[id], last)
		}
	}
	if len(events) != len(ids)*int(last) {
		t.Errorf("read %d events, want %d", len(events), len(ids)*int(last))
	}
}

// TestReadWhilePublishing publishes from several connections at once
// while a reader reads pages of random sizes, then checks that the
// reader read every order event exactly once, in position order, every
// order's versions in turn, and nothing of the customer subjects; with
// the server filtering by subject and without. It repeats, many times
// with PROJGEN_JS_STRESS=1.
func TestReadWhilePublishing(t *testing.T) {
	_, j := connect(t)
	rounds := 3
	if os.Getenv(stressEnv) == "1" {
		rounds = 30
	}
	for _, filtered := range []bool{true, false} {
		t.Run(fmt.Sprintf("filtered=%v", filtered), func(t *testing.T) {
			for round := range rounds {
				s := newStream(t, j, jetstream.MemoryStorage)
				src := js.NewSource(j, s.name, s.layout(filtered))
				ids := orderIDs(fmt.Sprintf("r%d", round), 60)
				const versions = 20
				ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
				done := make(chan struct{})
				var head uint64
				var pubErr error
				go func() {
					defer close(done)
					head, pubErr = s.publish(ids, 1, versions, 4)
				}()
				r := &reader{src: src}
				rng := rand.New(rand.NewPCG(uint64(round), 7))
				published := false
				for {
					page, err := r.read(ctx, 1+rng.IntN(80))
					if err != nil {
						cancel()
						t.Fatal(err)
					}
					if !published {
						select {
						case <-done:
							published = true
							if pubErr != nil {
								cancel()
								t.Fatal(pubErr)
							}
						default:
						}
						continue
					}
					if page.Through == page.End && page.Through >= int64(head) {
						break
					}
				}
				cancel()
				checkOnceInOrder(t, r.events, ids, versions)
				if r.pos != int64(head) {
					t.Errorf("read through %d, want the head %d", r.pos, head)
				}
				src.Close(context.Background())
			}
		})
	}
}

// TestThroughPassesOtherSubjectsAndDeletes reads a stream with customer
// messages between the orders and a deleted order event: pages reach the
// head past both, and reading again from any position returns exactly
// the order events after it.
func TestThroughPassesOtherSubjectsAndDeletes(t *testing.T) {
	_, j := connect(t)
	ctx := context.Background()
	for _, filtered := range []bool{true, false} {
		t.Run(fmt.Sprintf("filtered=%v", filtered), func(t *testing.T) {
			s := newStream(t, j, jetstream.MemoryStorage)
			src := js.NewSource(j, s.name, s.layout(filtered))
			defer src.Close(ctx)
			// 1 a/1, 2 customer, 3 b/1, 4 a/2 (deleted), 5 customer, 6 customer
			for _, m := range []struct {
				id string
				v  int64
			}{{"a", 1}, {"", 0}, {"b", 1}, {"a", 2}, {"", 0}, {"", 0}} {
				msg := s.customerMsg("x")
				if m.id != "" {
					msg = s.orderMsg(m.id, m.v)
				}
				if _, err := j.PublishMsg(ctx, msg); err != nil {
					t.Fatal(err)
				}
			}
			str, _ := j.Stream(ctx, s.name)
			if err := str.DeleteMsg(ctx, 4); err != nil {
				t.Fatal(err)
			}
			page, err := src.Read(ctx, 0, orderTopics, 10)
			if err != nil {
				t.Fatal(err)
			}
			if got := positions(page.Events); fmt.Sprint(got) != "[1 3]" || page.Through != 6 || page.End != 6 {
				t.Errorf("read from 0: events at %v, through %d, end %d; want [1 3] through 6 end 6", got, page.Through, page.End)
			}
			for after, want := range map[int64]string{0: "[1]", 1: "[3]", 2: "[3]", 3: "[]", 4: "[]", 5: "[]", 6: "[]"} {
				page, err := src.Read(ctx, after, orderTopics, 1)
				if err != nil {
					t.Fatal(err)
				}
				if got := fmt.Sprint(positions(page.Events)); got != want {
					t.Errorf("read 1 after %d: events at %s, want %s", after, got, want)
				}
				if want == "[]" && page.Through != 6 {
					t.Errorf("read 1 after %d: through %d, want 6: nothing of the topics lies after it", after, page.Through)
				}
			}
			b, err := src.Backlog(ctx, 1, orderTopics)
			if err != nil {
				t.Fatal(err)
			}
			if b.Head != 6 || b.HeldBack != nil || (filtered && b.Events != 1) || b.Oldest.IsZero() {
				t.Errorf("backlog after 1: %+v, want head 6 and, filtered, 1 event", b)
			}
			if b, err := src.Backlog(ctx, 6, orderTopics); err != nil || b.Head != 6 || b.Events != 0 {
				t.Errorf("backlog after 6: %+v, %v; want head 6, no events", b, err)
			}
		})
	}
}

func positions(events []projection.Stored) []int64 {
	ps := []int64{}
	for _, e := range events {
		ps = append(ps, e.Position)
	}
	return ps
}

// TestReadFailsOnAMessageItCannotDecode names the message's sequence and
// subject rather than skip it.
func TestReadFailsOnAMessageItCannotDecode(t *testing.T) {
	_, j := connect(t)
	ctx := context.Background()
	s := newStream(t, j, jetstream.MemoryStorage)
	src := js.NewSource(j, s.name, s.layout(true))
	defer src.Close(ctx)
	if _, err := j.Publish(ctx, s.prefix+".order.x", []byte(`{}`)); err != nil {
		t.Fatal(err)
	}
	_, err := src.Read(ctx, 0, orderTopics, 10)
	if err == nil || !contains(err.Error(), "sequence 1", "subject "+s.prefix+".order.x", "Projgen-Topic") {
		t.Errorf("read a message without headers: %v; want an error naming sequence 1, the subject and the header", err)
	}
}

func contains(s string, parts ...string) bool {
	for _, p := range parts {
		if !strings.Contains(s, p) {
			return false
		}
	}
	return true
}

// TestPartitionsSplitTheEvents reads a stream through four partitions
// concurrently, while it is being published: each reads exactly its
// aggregates' events, every aggregate's in order, and together they read
// every event once.
func TestPartitionsSplitTheEvents(t *testing.T) {
	_, j := connect(t)
	s := newStream(t, j, jetstream.MemoryStorage)
	src := js.NewSource(j, s.name, s.layout(true))
	defer src.Close(context.Background())
	parts, err := js.Partitioned(ordersRegistration("orders", 0), src, 4)
	if err != nil {
		t.Fatal(err)
	}
	ids := orderIDs("p", 80)
	const versions = 15
	done := make(chan uint64, 1)
	var pubErr error
	go func() {
		head, err := s.publish(ids, 1, versions, 3)
		pubErr = err
		done <- head
	}()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	readers := make([]*reader, len(parts))
	var head uint64
	published := make(chan struct{})
	go func() { head = <-done; close(published) }()
	var wg sync.WaitGroup
	errs := make([]error, len(parts))
	for i, p := range parts {
		if p.Registration.Name != fmt.Sprintf("orders#%d", i) || p.Registration.Tables != nil {
			t.Errorf("partition %d: registration %q with tables %v, want orders#%d without tables", i, p.Registration.Name, p.Registration.Tables, i)
		}
		readers[i] = &reader{src: p.Source}
		wg.Go(func() {
			for {
				page, err := readers[i].read(ctx, 1+rand.IntN(40))
				if err != nil {
					errs[i] = err
					return
				}
				select {
				case <-published:
					if page.Through == page.End && page.Through >= int64(head) {
						return
					}
				default:
				}
			}
		})
	}
	wg.Wait()
	if pubErr != nil {
		t.Fatal(pubErr)
	}
	var all []projection.Stored
	for i, r := range readers {
		if errs[i] != nil {
			t.Fatalf("partition %d: %v", i, errs[i])
		}
		for _, e := range r.events {
			if got := js.PartitionOf(e.AggregateID, 4); got != i {
				t.Fatalf("partition %d read an event of %s, which is in partition %d", i, e.AggregateID, got)
			}
		}
		if len(r.events) == 0 {
			t.Errorf("partition %d read nothing", i)
		}
		all = append(all, r.events...)
	}
	checkOnceInOrder(t, all, ids, versions)
}

// TestPartitionedRefusesNoPartitions checks the argument.
func TestPartitionedRefusesNoPartitions(t *testing.T) {
	if _, err := js.Partitioned(ordersRegistration("orders", 0), nil, 0); err == nil {
		t.Error("Partitioned into 0: no error")
	}
	// The hash is part of every partitioned read model: it must not change.
	for id, want := range map[string]int{"": 1, "order-1": 1, "5f0c1f7e-4a57-4a3e-9d36-2b1f0f5e9d1a": 2} {
		if got := js.PartitionOf(id, 3); got != want {
			t.Errorf("PartitionOf(%q, 3) = %d, want %d", id, got, want)
		}
	}
}

// TestReadTopicsOfSeveralSubjects reads topics the layout puts under two
// subject filters: nats-server 2.10 and later filter by both, older ones
// by neither, and the source drops the other messages itself.
func TestReadTopicsOfSeveralSubjects(t *testing.T) {
	nc, j := connect(t)
	ctx := context.Background()
	s := newStream(t, j, jetstream.MemoryStorage)
	src := js.NewSource(j, s.name, s.layout(true))
	defer src.Close(ctx)
	ids := orderIDs("s", 10)
	head := s.publishOrders(t, ids, 1, 10, 1)
	if _, err := j.PublishMsg(ctx, js.NewMessage(s.prefix+".other.x", "other", "x", 1, nil)); err != nil {
		t.Fatal(err)
	}
	topics := append([]string{"customer.registered"}, orderTopics...)
	var orders, customers int
	for pos := int64(0); ; {
		page, err := src.Read(ctx, pos, topics, 13)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range page.Events {
			switch e.Topic {
			case "customer.registered":
				customers++
			default:
				orders++
			}
		}
		pos = page.Through
		if page.Through == page.End {
			break
		}
	}
	if orders != 100 || customers != 10 {
		t.Errorf("read %d order and %d customer events, want 100 and 10 (server %s, head %d)", orders, customers, nc.ConnectedServerVersion(), head)
	}
}
