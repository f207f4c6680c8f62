package jetstream

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/projgen/projgen/projection"
)

// PoolSize is the connections a process needs to run projections
// projections, each split into partitions partitions, with
// RunPartitioned: it may end up running every partition (a connection
// each), and each projection's balancer has a session of its own, with
// one more for the pool to spare.
func PoolSize(projections, partitions int) int32 {
	return int32(projections*(partitions+1) + 1)
}

// RunPartitioned runs each of runner's Registrations split into n
// partitions, with a Balancer each, until ctx is done, and returns nil
// then; the other processes that run it with the same registrations and
// n share the partitions. runner is the template of the partitions'
// runners (see Balancer.Runner): its Source is the whole stream, and
// its Pool must allow PoolSize(len(runner.Registrations), n)
// connections.
func RunPartitioned(ctx context.Context, runner projection.Runner, n int) error {
	balancers, err := partitionBalancers(runner, n)
	if err != nil {
		return err
	}
	if need := PoolSize(len(balancers), n); runner.Pool.Config().MaxConns < need {
		return fmt.Errorf("run %d projections in %d partitions: the pool allows %d connections but %d are needed: raise pool_max_conns",
			len(balancers), n, runner.Pool.Config().MaxConns, need)
	}
	errs := make([]error, len(balancers))
	var wg sync.WaitGroup
	for i, b := range balancers {
		wg.Go(func() { errs[i] = b.Run(ctx) })
	}
	wg.Wait()
	return errors.Join(errs...)
}

// PartitionRegistrations returns the registrations of the partitions of
// regs, n each, in order: what the runner tracks, and what Status, Wait
// and RetryParked of a runner whose Source is the whole stream take.
func PartitionRegistrations(regs []projection.Registration, n int) ([]projection.Registration, error) {
	var out []projection.Registration
	for _, reg := range regs {
		parts, err := Partitioned(reg, nil, n)
		if err != nil {
			return nil, err
		}
		for _, p := range parts {
			out = append(out, p.Registration)
		}
	}
	return out, nil
}

// partitionBalancers returns a Balancer for each of runner's
// registrations, over n partitions of runner's Source.
func partitionBalancers(runner projection.Runner, n int) ([]*Balancer, error) {
	if runner.Pool == nil || runner.Source == nil {
		return nil, errors.New("run partitioned: the runner needs a Pool and a Source")
	}
	if len(runner.Registrations) == 0 {
		return nil, errors.New("run partitioned: the runner has no Registrations")
	}
	var out []*Balancer
	for _, reg := range runner.Registrations {
		parts, err := Partitioned(reg, runner.Source, n)
		if err != nil {
			return nil, err
		}
		b := &Balancer{Runner: runner, Partitions: parts}
		b.Runner.Registrations, b.Runner.Source = nil, nil
		out = append(out, b)
	}
	return out, nil
}

// PartitionNames returns the names of the partitions of each projection
// of names, n each, in order.
func PartitionNames(names []string, n int) []string {
	var out []string
	for _, name := range names {
		for i := range n {
			out = append(out, PartitionName(name, i))
		}
	}
	return out
}
