package goes

import (
	"slices"
	"time"
)

// horizon is how far readers of the log may read: every position at or
// below reach is final, committed or never to be.
//
// It moves by sightings. A sighting pairs the log sequence's last value,
// read first, with the transactions that held a write lock on the log
// table when pg_locks was read just after. Any position up to that value
// was drawn by one of those transactions or by one that had ended before
// pg_locks was read, because a writer locks the log before it draws and
// unlocks it only when it ends. So a sighting becomes final when the last
// of its transactions is seen gone.
//
// Transactions never come back once gone, so a transaction open at an
// older sighting that is still open was open at every newer one: the open
// sets of the pending sightings only grow from oldest to newest. Two
// neighbours with the same open set become final together, and only the
// newer, higher one is kept; so the pending list is never longer than the
// number of writers at once.
//
// A horizon is not safe for concurrent use: Source guards it.
type horizon struct {
	reach   int64
	pending []sighting // oldest, and lowest, first
}

// sighting is one read of the sequence and of pg_locks.
type sighting struct {
	// last is the sequence's last value.
	last int64
	// open are the transactions that held a write lock on the log then
	// and have not been seen gone since.
	open []txn
	// since is when the oldest of the sightings merged into this one was
	// taken: how long readers have been waiting on its transactions.
	since time.Time
}

// txn is a transaction with a write lock on the log.
type txn struct {
	// vxid is its virtual transaction id, never reused while the server
	// runs.
	vxid string
	// pid is its backend's process id, 0 for a prepared transaction.
	pid int
}

// see records a sighting: last, read before locks, the transactions
// writing the log now. It returns the new reach.
func (h *horizon) see(last int64, locks []txn, now time.Time) int64 {
	h.forget(locks)
	top := h.reach
	if len(h.pending) > 0 {
		top = h.pending[len(h.pending)-1].last
	}
	if last > top {
		h.pending = append(h.pending, sighting{last: last, open: slices.Clone(locks), since: now})
		h.squash()
	}
	return h.move(locks)
}

// look checks the pending sightings against the transactions writing the
// log now, with no new sequence value. It returns the new reach.
func (h *horizon) look(locks []txn) int64 {
	h.forget(locks)
	return h.move(locks)
}

// forget removes, from every pending sighting, the transactions that are
// no longer among locks.
func (h *horizon) forget(locks []txn) {
	for i := range h.pending {
		h.pending[i].open = slices.DeleteFunc(h.pending[i].open, func(x txn) bool {
			return !slices.ContainsFunc(locks, func(y txn) bool { return y.vxid == x.vxid })
		})
	}
	h.squash()
}

// squash keeps, of neighbouring sightings waiting for the same
// transactions, only the newer one, with the older one's since.
func (h *horizon) squash() {
	for i := len(h.pending) - 2; i >= 0; i-- {
		if sameTxns(h.pending[i].open, h.pending[i+1].open) {
			h.pending[i+1].since = h.pending[i].since
			h.pending = slices.Delete(h.pending, i, i+1)
		}
	}
}

// move makes final every pending sighting, oldest first, that waits for
// no transaction, and returns the reach. While a prepared transaction
// writes the log nothing moves: preparing hands a transaction's locks to
// a new virtual transaction id, so a prepared one may hold a position
// drawn by a transaction the horizon saw go.
func (h *horizon) move(locks []txn) int64 {
	if slices.ContainsFunc(locks, func(x txn) bool { return x.pid == 0 }) {
		return h.reach
	}
	n := 0
	for n < len(h.pending) && len(h.pending[n].open) == 0 {
		h.reach = h.pending[n].last
		n++
	}
	h.pending = slices.Delete(h.pending, 0, n)
	return h.reach
}

// waiting returns the oldest pending sighting, false when none is.
func (h *horizon) waiting() (sighting, bool) {
	if len(h.pending) == 0 {
		return sighting{}, false
	}
	return h.pending[0], true
}

// sameTxns reports whether a and b hold the same transactions.
func sameTxns(a, b []txn) bool {
	if len(a) != len(b) {
		return false
	}
	for _, x := range a {
		if !slices.ContainsFunc(b, func(y txn) bool { return y.vxid == x.vxid }) {
			return false
		}
	}
	return true
}
