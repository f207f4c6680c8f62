package jetstream

import (
	"context"
	"fmt"
	"hash/fnv"
	"strconv"

	"github.com/projgen/projgen/projection"
)

// Partition is one partition of a projection: the projection under a name
// of its own, <name>#<index>, and a source that returns only the events
// of the aggregates in the partition. The runner tracks, locks and
// applies it as any projection, so that it has one owner at a time, a
// standby takes it over when its owner dies, and each of its events is
// applied once.
type Partition struct {
	// Projection is the name of the projection partitioned.
	Projection string
	// Index is the partition's number, from 0, and Count how many there
	// are.
	Index, Count int
	// Registration is the projection's, named Projection#Index, without
	// Tables: see Partitioned.
	Registration projection.Registration
	// Source reads the partition's events.
	Source projection.EventSource
}

// Partitioned splits the projection of reg into n partitions by
// aggregate: an event belongs to partition PartitionOf(AggregateID, n),
// so that every event of an aggregate is in one partition, in position
// order, and the partition's rows, which generated read models key by
// aggregate, are written by that partition alone. Run the partitions
// with a Balancer in each process, or with a projection.Runner each (one
// Registration and its Source per Runner).
//
// n is part of what the read model is: the partitions' positions are
// tracked under their names, so a different n for the same projection
// would resume partitions from positions that other aggregates' events
// were applied to. Change n under a new projection name.
//
// The registrations have no Tables, so that a Rebuild of one partition
// cannot replace the rows of the others by its own: a partitioned read
// model is rebuilt as a whole (see the design document).
func Partitioned(reg projection.Registration, source projection.EventSource, n int) ([]Partition, error) {
	if n < 1 {
		return nil, fmt.Errorf("partition projection %q into %d: want at least 1 partition", reg.Name, n)
	}
	parts := make([]Partition, n)
	for i := range parts {
		r := reg
		r.Name = PartitionName(reg.Name, i)
		r.Tables = nil
		parts[i] = Partition{
			Projection:   reg.Name,
			Index:        i,
			Count:        n,
			Registration: r,
			Source:       &partitionSource{source: source, index: i, count: n},
		}
	}
	return parts, nil
}

// PartitionName returns the name partition i of the projection name is
// tracked under.
func PartitionName(name string, i int) string { return name + "#" + strconv.Itoa(i) }

// PartitionOf returns the partition of n the aggregate aggregateID is in:
// the 32-bit FNV-1a hash of the ID, modulo n. It never changes, since
// the read model's rows are where it put them.
func PartitionOf(aggregateID string, n int) int {
	h := fnv.New32a()
	_, _ = h.Write([]byte(aggregateID))
	return int(h.Sum32() % uint32(n))
}

// maxPartitionReads bounds the reads of the whole source behind one Read
// of a partition, so that a partition with few events returns its page
// while it is young rather than scan far for a full one.
const maxPartitionReads = 8

// partitionSource is a source of the events of one partition: it reads
// the whole source and keeps the partition's events, and reports Through
// as the whole source does, past other partitions' events, which are
// none of its own.
type partitionSource struct {
	source       projection.EventSource
	index, count int
}

// Read reads the source until it has limit events of the partition, or
// the source has no more now, or it has read maxPartitionReads times.
// Each read of the source asks for no more events than the page still
// has room for, so that none is read and dropped for want of room and
// the next read goes on where this one stopped.
func (p *partitionSource) Read(ctx context.Context, after int64, topics []string, limit int) (projection.Page, error) {
	page := projection.Page{Through: after, End: after}
	for range maxPartitionReads {
		whole, err := p.source.Read(ctx, page.Through, topics, limit-len(page.Events))
		if err != nil {
			if len(page.Events) > 0 || page.Through > after {
				return page, nil // the next Read meets the error again
			}
			return projection.Page{}, err
		}
		for _, e := range whole.Events {
			if PartitionOf(e.AggregateID, p.count) == p.index {
				page.Events = append(page.Events, e)
			}
		}
		progressed := whole.Through > page.Through
		page.Through, page.End = whole.Through, whole.End
		if len(page.Events) >= limit || whole.Through >= whole.End || !progressed {
			break
		}
	}
	return page, nil
}

// Backlog reports the whole source's backlog: the events the partition
// has still to apply are among those, and the source cannot count them
// apart without reading them.
func (p *partitionSource) Backlog(ctx context.Context, after int64, topics []string) (projection.Backlog, error) {
	return p.source.Backlog(ctx, after, topics)
}
