package projection

import (
	"slices"
	"time"
)

// watermark computes how far readers of a table whose positions come from
// a sequence may read without ever skipping an event.
//
// Positions are drawn when rows are inserted, not when their transactions
// commit, so a committed event may sit above a position an open
// transaction still holds. The watermark therefore advances by
// observations: the sequence's last value L, read first, then the set W of
// transactions that hold a write lock on the table, read after it. A
// transaction takes that lock before it draws a position and keeps it
// until it ends, so every position at or below L was drawn by a member of
// W or by a transaction that had ended already. Once every member of W has
// ended, every position at or below L is final, committed or never to be.
//
// The members of W still alive at one observation were alive at every
// later one, since none can come back, so the live sets of pending
// observations nest: each is a subset of the next. Observations with the
// same live set are merged into the one with the larger L, which bounds
// the pending list by the number of concurrent writers.
//
// A watermark is not safe for concurrent use; PostgresSource guards it.
type watermark struct {
	// safe is the watermark: every position at or below it is final.
	safe int64
	// pending are the observations not yet passed, in increasing order of
	// last.
	pending []observation
}

// observation is what the watermark learnt at one moment.
type observation struct {
	// last is the sequence's last value.
	last int64
	// writers are the transactions that held a write lock then and have
	// not been seen to end since, by virtual transaction id.
	writers []writer
	// at is when the writers were first seen.
	at time.Time
}

// writer is a transaction holding a write lock on the table.
type writer struct {
	// vxid is its virtual transaction id, unique for the server's life.
	vxid string
	// pid is its session's backend process id; 0 for a prepared
	// transaction, which has no session.
	pid int
}

// observe records an observation: last, the sequence's last value, read
// before current, the transactions writing now. It returns the watermark.
// A prepared transaction among the writers may be one that drew a
// position under another identity before it was prepared, so while one
// exists no observation is passed.
func (w *watermark) observe(last int64, current []writer, now time.Time) int64 {
	w.prune(current)
	top := w.safe
	if n := len(w.pending); n > 0 {
		top = w.pending[n-1].last
	}
	if last > top {
		w.pending = append(w.pending, observation{last: last, writers: slices.Clone(current), at: now})
		w.merge()
	}
	return w.advance(current)
}

// recheck prunes the writers that have ended, given the transactions
// writing now, without a new sequence value. It returns the watermark.
func (w *watermark) recheck(current []writer) int64 {
	w.prune(current)
	return w.advance(current)
}

// prune drops, from every pending observation, the writers that are not
// writing now: they have ended.
func (w *watermark) prune(current []writer) {
	alive := make(map[string]bool, len(current))
	for _, c := range current {
		alive[c.vxid] = true
	}
	for i := range w.pending {
		w.pending[i].writers = slices.DeleteFunc(w.pending[i].writers, func(x writer) bool { return !alive[x.vxid] })
	}
	w.merge()
}

// merge folds each observation into the next when both wait for the same
// writers: the later one has the larger last, and ends at the same time.
// It keeps the earlier time, which is how long readers have been held.
func (w *watermark) merge() {
	for i := 0; i+1 < len(w.pending); {
		if sameWriters(w.pending[i].writers, w.pending[i+1].writers) {
			w.pending[i+1].at = w.pending[i].at
			w.pending = slices.Delete(w.pending, i, i+1)
			continue
		}
		i++
	}
}

// advance passes every pending observation whose writers have all ended,
// unless a prepared transaction writes, and returns the watermark.
func (w *watermark) advance(current []writer) int64 {
	if slices.ContainsFunc(current, func(c writer) bool { return c.pid == 0 }) {
		return w.safe
	}
	done := 0
	for done < len(w.pending) && len(w.pending[done].writers) == 0 {
		w.safe = w.pending[done].last
		done++
	}
	w.pending = slices.Delete(w.pending, 0, done)
	return w.safe
}

// heldBy returns the oldest pending observation: the writers that keep the
// watermark where it is, and since when. It reports false when nothing is
// pending.
func (w *watermark) heldBy() (observation, bool) {
	if len(w.pending) == 0 {
		return observation{}, false
	}
	return w.pending[0], true
}

// sameWriters reports whether a and b hold the same transactions. The sets
// nest, so comparing lengths would do; comparing members keeps the
// watermark safe even if an observation broke that rule.
func sameWriters(a, b []writer) bool {
	if len(a) != len(b) {
		return false
	}
	in := make(map[string]bool, len(a))
	for _, x := range a {
		in[x.vxid] = true
	}
	for _, x := range b {
		if !in[x.vxid] {
			return false
		}
	}
	return true
}
