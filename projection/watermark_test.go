package projection

import (
	"math/rand/v2"
	"testing"
	"time"
)

func TestWatermark(t *testing.T) {
	a, b, c := writer{"3/1", 11}, writer{"4/1", 12}, writer{"5/1", 13}
	prepared := writer{"-1/7", 0}
	now := time.Unix(1000, 0)
	type step struct {
		// last < 0 is a recheck without a sequence value.
		last    int64
		writers []writer
		want    int64
	}
	tests := []struct {
		name  string
		steps []step
	}{
		{"no writers", []step{{5, nil, 5}, {9, nil, 9}}},
		{"a writer holds what was drawn while it wrote", []step{{5, []writer{a}, 0}, {7, []writer{a}, 0}, {7, nil, 7}}},
		{"positions drawn after a writer's observation wait only for it", []step{
			{5, []writer{a}, 0},
			{8, []writer{a, b}, 0},
			{-1, []writer{b}, 5}, // a ended: 5 is final; 8 waits for b
			{-1, nil, 8},
		}},
		{"a writer ending first does not release a later one's positions", []step{
			{5, []writer{a}, 0},
			{8, []writer{a, b}, 0},
			{-1, []writer{a}, 0}, // b ended, but a may still hold positions up to 5
			{-1, nil, 8},
		}},
		{"the C/A/B case", []step{
			// C appends X and stays open; A blocks on C's key; B appends
			// Z and stays open.
			{1, []writer{c}, 0},
			{2, []writer{c, a}, 0},
			{4, []writer{c, a, b}, 0},
			// C rolls back, A commits with 2, 3 and 5: 4 is B's. Only
			// what was drawn before B began is final.
			{5, []writer{b}, 2},
			{-1, []writer{b}, 2},
			// B commits: everything is final.
			{-1, nil, 5},
		}},
		{"a prepared transaction holds everything", []step{
			{3, []writer{prepared}, 0},
			{6, []writer{prepared}, 0},
			{6, nil, 6},
		}},
		{"the sequence standing still adds nothing", []step{{4, nil, 4}, {4, []writer{a}, 4}, {-1, []writer{a}, 4}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var w watermark
			for i, s := range tt.steps {
				var got int64
				if s.last < 0 {
					got = w.recheck(s.writers)
				} else {
					got = w.observe(s.last, s.writers, now.Add(time.Duration(i)*time.Second))
				}
				if got != s.want {
					t.Fatalf("step %d (%+v): watermark %d, want %d (pending %+v)", i, s, got, s.want, w.pending)
				}
			}
		})
	}
}

func TestWatermarkHeldBy(t *testing.T) {
	a, b := writer{"3/1", 11}, writer{"4/1", 12}
	var w watermark
	if _, ok := w.heldBy(); ok {
		t.Fatal("an empty watermark is held")
	}
	t0 := time.Unix(1000, 0)
	w.observe(5, []writer{a}, t0)
	w.observe(6, []writer{a}, t0.Add(time.Second))
	w.observe(9, []writer{a, b}, t0.Add(2*time.Second))
	held, ok := w.heldBy()
	if !ok || !held.at.Equal(t0) || len(held.writers) != 1 || held.writers[0] != a || held.last != 6 {
		t.Errorf("heldBy = %+v, %v; want a since %v, through 6", held, ok, t0)
	}
	if len(w.pending) != 2 {
		t.Errorf("pending %+v: observations with the same writers are not merged", w.pending)
	}
}

// TestWatermarkNeverPassesALiveWriter simulates writers that draw positions
// and end at random, observed at random moments, and checks the one rule:
// the watermark never reaches a position whose writer is still open.
func TestWatermarkNeverPassesALiveWriter(t *testing.T) {
	for seed := range uint64(200) {
		rng := rand.New(rand.NewPCG(seed, 1))
		var w watermark
		var next int64                // the sequence's last value
		drawn := map[string][]int64{} // positions each live writer drew
		var live []writer
		for step := range 300 {
			switch rng.IntN(4) {
			case 0: // a writer begins
				v := writer{vxid: string(rune('a'+step%26)) + "/" + string(rune('0'+step)), pid: step + 1}
				live = append(live, v)
			case 1: // a live writer draws a position
				if len(live) > 0 {
					v := live[rng.IntN(len(live))]
					next++
					drawn[v.vxid] = append(drawn[v.vxid], next)
				}
			case 2: // a live writer ends
				if len(live) > 0 {
					i := rng.IntN(len(live))
					delete(drawn, live[i].vxid)
					live = append(live[:i], live[i+1:]...)
				}
			case 3: // a reader observes
				var got int64
				if rng.IntN(2) == 0 {
					got = w.observe(next, live, time.Now())
				} else {
					got = w.recheck(live)
				}
				for _, v := range live {
					for _, p := range drawn[v.vxid] {
						if p <= got {
							t.Fatalf("seed %d step %d: watermark %d passes position %d of live writer %s", seed, step, got, p, v.vxid)
						}
					}
				}
			}
		}
		// Once every writer has ended, the watermark reaches the end.
		if got := w.observe(next, nil, time.Now()); got != next {
			t.Fatalf("seed %d: with no writers left, watermark %d, want %d", seed, got, next)
		}
	}
}
