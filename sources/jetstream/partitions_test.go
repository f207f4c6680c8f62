package jetstream_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/projgen/projgen/projection"
	js "github.com/projgen/projgen/sources/jetstream"
)

// TestRunPartitionedRunsEveryPartition runs the orders projection in
// three partitions in this process, in a pool of exactly PoolSize: every
// partition reaches the stream's head, every order has each of its
// versions applied once, in order, and Status of the partitions'
// registrations over the whole stream shows each at the head.
func TestRunPartitionedRunsEveryPartition(t *testing.T) {
	const partitions = 3
	_, j := connect(t)
	pool, _ := openDB(t, js.PoolSize(1, partitions))
	s := newStream(t, j, jetstream.MemoryStorage)
	ids := orderIDs("rp", 60)
	s.publishOrders(t, ids, 1, 5, 2)
	src := js.NewSource(j, s.name, s.layout(true))
	runner := projection.Runner{Pool: pool, Source: src, Types: eventTypes(),
		Registrations: []projection.Registration{ordersRegistration("orders", 0)}, Lease: helperLease}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- js.RunPartitioned(ctx, runner, partitions) }()
	head := s.head(t)
	waitPositions(t, pool, head, 30*time.Second, partitionNames(partitions)...)
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("RunPartitioned after its context ended: %v", err)
	}
	checkOrders(t, pool, ids, 5)

	regs, err := js.PartitionRegistrations(runner.Registrations, partitions)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, r := range regs {
		names = append(names, r.Name)
	}
	if !slices.Equal(names, partitionNames(partitions)) {
		t.Fatalf("PartitionRegistrations named %v; want %v", names, partitionNames(partitions))
	}
	runner.Registrations = regs
	statuses, err := runner.Status(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, st := range statuses {
		if st.Position < int64(head) || st.Head != int64(head) {
			t.Errorf("status of %s: position %d, head %d; want both at %d", st.Name, st.Position, st.Head, head)
		}
	}
	if len(statuses) != partitions {
		t.Errorf("%d statuses; want one per partition, %d", len(statuses), partitions)
	}
}

func TestRunPartitionedRefusesASmallPool(t *testing.T) {
	_, j := connect(t)
	pool, _ := openDB(t, js.PoolSize(2, 4)-1)
	runner := projection.Runner{Pool: pool, Source: js.NewSource(j, "NONE", js.Headers{}), Types: eventTypes(),
		Registrations: []projection.Registration{ordersRegistration("a", 0), ordersRegistration("b", 0)}}
	err := js.RunPartitioned(context.Background(), runner, 4)
	if err == nil || !strings.Contains(err.Error(), "raise pool_max_conns") || !strings.Contains(err.Error(), "11 are needed") {
		t.Fatalf("RunPartitioned on a pool one connection short = %v; want an error asking for 11 connections", err)
	}
	runner.Registrations = nil
	if err := js.RunPartitioned(context.Background(), runner, 4); err == nil || !strings.Contains(err.Error(), "no Registrations") {
		t.Fatalf("RunPartitioned without registrations = %v; want an error", err)
	}
}
