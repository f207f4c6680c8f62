package goes

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

func TestHorizonWaitsForWriters(t *testing.T) {
	var h horizon
	now := time.Now()
	a, b := txn{"3/1", 10}, txn{"4/1", 11}
	if r := h.see(2, []txn{a}, now); r != 0 {
		t.Fatalf("with A writing, reach %d, want 0", r)
	}
	if r := h.see(4, []txn{a, b}, now.Add(time.Second)); r != 0 {
		t.Fatalf("with A and B writing, reach %d, want 0", r)
	}
	// A ends: the first sighting is final; the second waits for B.
	if r := h.look([]txn{b}); r != 2 {
		t.Fatalf("after A ended, reach %d, want 2", r)
	}
	if s, ok := h.waiting(); !ok || s.last != 4 || !slices.Equal(s.open, []txn{b}) || !s.since.Equal(now.Add(time.Second)) {
		t.Fatalf("waiting = %+v, %v", s, ok)
	}
	if r := h.see(4, nil, now); r != 4 {
		t.Fatalf("after B ended, reach %d, want 4", r)
	}
	if _, ok := h.waiting(); ok {
		t.Fatal("something still waits")
	}
}

func TestHorizonSquashesSightings(t *testing.T) {
	var h horizon
	now := time.Now()
	a := txn{"3/1", 10}
	for last := int64(1); last <= 50; last++ {
		h.see(last, []txn{a}, now.Add(time.Duration(last)))
	}
	if len(h.pending) != 1 || h.pending[0].last != 50 || !h.pending[0].since.Equal(now.Add(1)) {
		t.Fatalf("pending %+v, want one sighting at 50 since the first", h.pending)
	}
}

func TestHorizonStopsForPreparedTransactions(t *testing.T) {
	var h horizon
	prepared := txn{"-1/7", 0}
	if r := h.see(3, []txn{prepared}, time.Now()); r != 0 {
		t.Fatalf("reach %d with a prepared transaction, want 0", r)
	}
	// Even a sighting whose own writers have all ended waits while a
	// prepared transaction writes.
	h = horizon{}
	h.see(3, []txn{{"3/1", 10}}, time.Now())
	if r := h.look([]txn{prepared}); r != 0 {
		t.Fatalf("reach %d with a prepared transaction, want 0", r)
	}
	if r := h.look(nil); r != 3 {
		t.Fatalf("reach %d once it ended, want 3", r)
	}
}

// TestHorizonNeverPassesALiveWriter simulates writers that lock the log,
// draw positions and end, with a reader whose two reads (the sequence,
// then pg_locks) other steps fall between: the reach never reaches a
// position an open transaction holds, and catches up once all have
// ended.
func TestHorizonNeverPassesALiveWriter(t *testing.T) {
	for seed := range uint64(300) {
		t.Run(fmt.Sprint(seed), func(t *testing.T) { simulate(t, seed) })
	}
}

func simulate(t *testing.T, seed uint64) {
	rng := rand.New(rand.NewPCG(seed, 1))
	type writer struct {
		txn
		drawn []int64
	}
	var (
		seq    int64
		live   []*writer
		nextID int
		h      horizon
	)
	step := func() {
		switch n := rng.IntN(10); {
		case n < 3 || len(live) == 0:
			nextID++
			pid := nextID
			if rng.IntN(40) == 0 {
				pid = 0 // prepared
			}
			live = append(live, &writer{txn: txn{fmt.Sprintf("%d/1", nextID), pid}})
		case n < 7:
			w := live[rng.IntN(len(live))]
			seq++
			w.drawn = append(w.drawn, seq)
		default:
			i := rng.IntN(len(live))
			live = slices.Delete(live, i, i+1)
		}
	}
	locks := func() []txn {
		var ts []txn
		for _, w := range live {
			ts = append(ts, w.txn)
		}
		return ts
	}
	check := func(reach int64) {
		for _, w := range live {
			for _, p := range w.drawn {
				if p <= reach {
					t.Fatalf("reach %d passes position %d of open transaction %s", reach, p, w.vxid)
				}
			}
		}
	}
	for range 400 {
		step()
		switch rng.IntN(3) {
		case 0:
			last := seq
			for range rng.IntN(4) {
				step()
			}
			check(h.see(last, locks(), time.Now()))
		case 1:
			check(h.look(locks()))
		default:
			continue
		}
		if len(h.pending) > len(live)+1 {
			t.Fatalf("%d sightings pending with %d writers", len(h.pending), len(live))
		}
	}
	live = nil
	if r := h.see(seq, nil, time.Now()); r != seq {
		t.Fatalf("with every writer ended, reach %d, want %d", r, seq)
	}
}
