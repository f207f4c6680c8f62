package hallgren_test

import (
	"context"
	"flag"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hallgren/eventsourcing/aggregate"
	"github.com/hallgren/eventsourcing/core"

	"github.com/projgen/projgen/projection"
	"github.com/projgen/projgen/sources/hallgren"
)

// rounds is how many times TestConcurrentWritersReadInOrder runs; raise it
// for a longer stress: go test -run ConcurrentWriters -hallgren.rounds=500.
var rounds = flag.Int("hallgren.rounds", 20, "rounds of TestConcurrentWritersReadInOrder")

// saved is an event that a writer saw the library save.
type saved struct {
	id      string
	version int64
	reason  string
}

// TestConcurrentWritersReadInOrder checks the ordering argument of Source:
// writers save accounts concurrently through the library's aggregate.Save,
// while a saboteur's Saves fail after drawing a seq and roll back, and two
// readers page through Source as they do, one over every topic and one
// over two of them. Each reader reads every event of its topics exactly
// once, in increasing seq order, and misses none, although it moves past
// every position it is given. Rounds alternate WAL and rollback-journal
// mode.
func TestConcurrentWritersReadInOrder(t *testing.T) {
	n := *rounds
	if testing.Short() {
		n = min(n, 3)
	}
	for round := range n {
		journal := []string{"WAL", "DELETE"}[round%2]
		t.Run(fmt.Sprintf("round %d %s", round, journal), func(t *testing.T) {
			concurrentRound(t, journal)
		})
		if t.Failed() {
			return
		}
	}
}

// concurrentRound is one round of TestConcurrentWritersReadInOrder.
func concurrentRound(t *testing.T, journal string) {
	const writers, perWriter = 4, 15
	s := newStore(t, journal)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	var mu sync.Mutex
	var want []saved
	writing := make(chan struct{})
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			for i := range perWriter {
				a := open(fmt.Sprintf("w%d-%d", w, i))
				for j := range i % 4 {
					a.deposit(int64(j + 1))
				}
				events := a.Events()
				if err := aggregate.Save(s.es, a); err != nil {
					t.Error(err)
					return
				}
				if i%3 == 0 {
					a.withdraw(1)
					a.close()
					events = append(events, a.Events()...)
					if err := aggregate.Save(s.es, a); err != nil {
						t.Error(err)
						return
					}
				}
				mu.Lock()
				for _, e := range events {
					want = append(want, saved{e.AggregateID(), int64(e.Version()), e.Reason()})
				}
				mu.Unlock()
			}
		})
	}
	// The saboteur's Saves insert one event, then fail on the unique
	// index of (id, type, version) and roll back: a seq is drawn and given
	// back while readers read.
	wg.Go(func() {
		for i := range perWriter {
			e := core.Event{AggregateID: fmt.Sprint("saboteur-", i), Version: 1, AggregateType: "Account", Reason: "Deposited",
				Timestamp: time.Now(), Data: []byte(`{"Amount":1,"Balance":1}`)}
			if err := s.es.Save([]core.Event{e, e}); err == nil {
				t.Error("a Save of two events of the same version succeeded")
				return
			}
		}
	})
	go func() { wg.Wait(); close(writing) }()

	read := func(topics []string, limit int) ([]projection.Stored, error) {
		db := s.reader(t, nil)
		src := hallgren.NewSource(db, "")
		var got []projection.Stored
		var after int64
		for done := false; ; {
			select {
			case <-writing:
				done = true
			default:
			}
			// Once the writers are done, one more pass to the end
			// reads what they saved last.
			for {
				page, err := src.Read(ctx, after, topics, limit)
				if err != nil {
					return got, err
				}
				if page.Through < after {
					return got, fmt.Errorf("page through %d after %d", page.Through, after)
				}
				got = append(got, page.Events...)
				after = page.Through
				if page.Through == page.End {
					break
				}
			}
			if done {
				return got, nil
			}
			time.Sleep(time.Millisecond)
		}
	}
	subset := []string{"Deposited", "Closed"}
	var all, some []projection.Stored
	var errAll, errSome error
	var readers sync.WaitGroup
	readers.Go(func() { all, errAll = read(topics, 7) })
	readers.Go(func() { some, errSome = read(subset, 3) })
	readers.Wait()
	if errAll != nil || errSome != nil {
		t.Fatal(errAll, errSome)
	}
	if t.Failed() {
		return
	}

	// Exactly once and in order, against the table and against the
	// writers.
	var seqs, subsetSeqs []int64
	rows, err := s.db.Query(`SELECT seq, reason FROM events ORDER BY seq`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var seq int64
		var reason string
		if err := rows.Scan(&seq, &reason); err != nil {
			t.Fatal(err)
		}
		seqs = append(seqs, seq)
		if slices.Contains(subset, reason) {
			subsetSeqs = append(subsetSeqs, seq)
		}
	}
	rows.Close()
	if len(seqs) != len(want) {
		t.Fatalf("the table holds %d events, the writers saved %d", len(seqs), len(want))
	}
	positions := func(events []projection.Stored) []int64 {
		ps := make([]int64, len(events))
		for i, e := range events {
			ps[i] = e.Position
		}
		return ps
	}
	for _, c := range []struct {
		name      string
		got, want []int64
	}{{"every topic", positions(all), seqs}, {"two topics", positions(some), subsetSeqs}} {
		if !slices.Equal(c.got, c.want) {
			missing, extra := difference(c.want, c.got), difference(c.got, c.want)
			t.Errorf("reader of %s read %d events, want %d; missing %v, extra %v, in order %v",
				c.name, len(c.got), len(c.want), head(missing), head(extra), slices.IsSorted(c.got))
		}
	}
	var got []saved
	for _, e := range all {
		got = append(got, saved{e.AggregateID, e.Version, e.Topic})
	}
	less := func(a, b saved) int {
		if a.id != b.id {
			return strings.Compare(a.id, b.id)
		}
		return int(a.version - b.version)
	}
	slices.SortFunc(got, less)
	slices.SortFunc(want, less)
	if !slices.Equal(got, want) {
		t.Errorf("the reader read other events than the writers saved")
	}
}

// difference returns the values of a not in b.
func difference(a, b []int64) []int64 {
	in := make(map[int64]bool, len(b))
	for _, v := range b {
		in[v] = true
	}
	var d []int64
	for _, v := range a {
		if !in[v] {
			d = append(d, v)
		}
	}
	return d
}

// head returns the first ten values of s.
func head(s []int64) []int64 { return s[:min(len(s), 10)] }
