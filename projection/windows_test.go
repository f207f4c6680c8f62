package projection_test

import (
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/projgen/projgen/projection"
)

// TestReadWindowsReadsEveryEventOnce pages through random sparse
// positions with ReadWindows over a slice: the pages hold every position
// once, in order; each page but the last is full; and no window reaches
// past end or asks for more than the page still needs.
func TestReadWindowsReadsEveryEventOnce(t *testing.T) {
	for seed := range uint64(200) {
		rng := rand.New(rand.NewPCG(seed, 1))
		end := int64(1 + rng.IntN(5000))
		every := 1 + rng.IntN(300)
		var stored []int64
		for p := int64(1); p <= end; p++ {
			if rng.IntN(every) == 0 {
				stored = append(stored, p)
			}
		}
		limit := 1 + rng.IntN(50)
		read := func(events []projection.Stored, from, to int64, limit int) ([]projection.Stored, error) {
			if to > end || from >= to || len(events) >= limit {
				t.Fatalf("seed %d: window (%d, %d] with %d of %d events, end %d", seed, from, to, len(events), limit, end)
			}
			for _, p := range stored {
				if p > from && p <= to && len(events) < limit {
					events = append(events, projection.Stored{Meta: projection.Meta{Position: p}})
				}
			}
			return events, nil
		}
		var got []int64
		for after := int64(0); after < end; {
			page, err := projection.ReadWindows(after, end, limit, read)
			if err != nil {
				t.Fatal(err)
			}
			if page.Through < end && len(page.Events) != limit {
				t.Fatalf("seed %d: a page of %d events through %d of %d; want %d", seed, len(page.Events), page.Through, end, limit)
			}
			if page.Through <= after || page.End != end {
				t.Fatalf("seed %d: page after %d through %d, end %d", seed, after, page.Through, page.End)
			}
			for _, e := range page.Events {
				got = append(got, e.Position)
			}
			after = page.Through
		}
		if !slices.Equal(got, stored) {
			t.Fatalf("seed %d: read %d positions; want %d", seed, len(got), len(stored))
		}
	}
}
