package jetstream_test

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// benchEnv, set to 1, runs TestBenchmarkProcesses; the other variables
// change its sizes.
const (
	benchEnv           = "PROJGEN_JS_BENCH"
	benchEventsEnv     = "PROJGEN_JS_BENCH_EVENTS"
	benchAggregatesEnv = "PROJGEN_JS_BENCH_AGGREGATES"
	benchPartitionsEnv = "PROJGEN_JS_BENCH_PARTITIONS"
)

func envInt(name string, def int) int {
	if n, err := strconv.Atoi(os.Getenv(name)); err == nil && n > 0 {
		return n
	}
	return def
}

// TestBenchmarkProcesses measures how many events per second runner
// processes apply from a stream: 100,000 events over 5,000 orders by
// default, published before the runners start, then one unpartitioned
// runner process, and the projection in 4 partitions over 1, 2 and 4
// balancer processes. The clock runs from the moment the processes,
// connected and waiting, are let go, to the moment every partition's
// tracked position is the stream's head: it includes the balancers
// sharing the partitions out. Results are logged; sources/jetstream/
// RESULTS.md records them.
//
//	PROJGEN_JS_BENCH=1 go test -run TestBenchmarkProcesses -v -timeout 30m
func TestBenchmarkProcesses(t *testing.T) {
	if os.Getenv(benchEnv) != "1" {
		t.Skipf("set %s=1 to measure", benchEnv)
	}
	events, aggregates, partitions := envInt(benchEventsEnv, 100000), envInt(benchAggregatesEnv, 5000), envInt(benchPartitionsEnv, 4)
	versions := int64(events / aggregates)
	_, j := connect(t)
	type run struct {
		mode       string
		processes  int
		partitions int
	}
	runs := []run{{"runner", 1, 1}, {"balancer", 1, partitions}, {"balancer", 2, partitions}, {"balancer", 4, partitions}}
	t.Logf("%d events over %d orders (%d versions each), %d CPUs, %s", aggregates*int(versions), aggregates, versions, runtime.NumCPU(), runtime.Version())
	for _, r := range runs {
		name := fmt.Sprintf("%s/processes=%d/partitions=%d", r.mode, r.processes, r.partitions)
		t.Run(name, func(t *testing.T) {
			pool, schema := openDB(t, 4)
			s := newStream(t, j, jetstream.FileStorage)
			ids := orderIDs("b", aggregates)
			start := time.Now()
			head := s.publishOrders(t, ids, 1, versions, 4)
			published := time.Since(start)
			barrier := filepath.Join(t.TempDir(), "go")
			cfg := helperConfig{mode: r.mode, schema: schema, stream: s, partitions: r.partitions, batch: 500, barrier: barrier}
			var hs []*helper
			for range r.processes {
				hs = append(hs, startHelper(t, cfg))
			}
			time.Sleep(time.Second) // connected, waiting at the barrier
			start = time.Now()
			if err := os.WriteFile(barrier, nil, 0o644); err != nil {
				t.Fatal(err)
			}
			names := []string{"orders"}
			if r.mode == "balancer" {
				names = partitionNames(r.partitions)
			}
			waitPositions(t, pool, head, 20*time.Minute, names...)
			took := time.Since(start)
			for _, h := range hs {
				h.signal(t, syscall.SIGTERM)
				_ = h.cmd.Wait()
			}
			checkOrders(t, pool, ids, versions)
			n := len(ids) * int(versions)
			t.Logf("RESULT %-32s %7d events in %6.2fs: %8.0f events/s (published %d messages in %.2fs)",
				name, n, took.Seconds(), float64(n)/took.Seconds(), head, published.Seconds())
		})
	}
}
