package jetstream_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"os/signal"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/projgen/projgen/projection"
	js "github.com/projgen/projgen/sources/jetstream"
)

// The environment of a runner helper process: the test binary, started
// again with helperEnv set to "runner" or "balancer", runs the orders
// projection from a test's stream into a test's schema, as a runner
// main would, until SIGTERM: "runner" with one projection.Runner,
// "balancer" partitioned, with a js.Balancer.
const (
	helperEnv           = "PROJGEN_JS_HELPER"
	helperSchemaEnv     = "PROJGEN_JS_HELPER_SCHEMA"
	helperStreamEnv     = "PROJGEN_JS_HELPER_STREAM"
	helperPrefixEnv     = "PROJGEN_JS_HELPER_PREFIX"
	helperPartitionsEnv = "PROJGEN_JS_HELPER_PARTITIONS"
	helperDelayEnv      = "PROJGEN_JS_HELPER_DELAY"
	helperBatchEnv      = "PROJGEN_JS_HELPER_BATCH"
	// helperBarrierEnv names a file the helper waits for, once
	// connected, before it runs, so that a benchmark starts its
	// processes together.
	helperBarrierEnv = "PROJGEN_JS_HELPER_BARRIER"
)

// helperLease is the Lease of the helpers' runners.
const helperLease = 2 * time.Second

// runHelper is the main of a runner helper process; it returns the exit
// code.
func runHelper(mode string) int {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	fail := func(err error) int {
		fmt.Fprintln(os.Stderr, "helper:", err)
		return 2
	}
	partitions, _ := strconv.Atoi(os.Getenv(helperPartitionsEnv))
	batch, _ := strconv.Atoi(os.Getenv(helperBatchEnv))
	delay, _ := time.ParseDuration(os.Getenv(helperDelayEnv))
	nc, err := nats.Connect(os.Getenv(natsURLEnv))
	if err != nil {
		return fail(err)
	}
	defer nc.Close()
	j, err := jetstream.New(nc)
	if err != nil {
		return fail(err)
	}
	pool, err := poolOn(ctx, os.Getenv(helperSchemaEnv), int32(partitions+3))
	if err != nil {
		return fail(err)
	}
	defer pool.Close()
	logger := slog.New(slog.NewTextHandler(os.Stderr, nil))
	s := &testStream{name: os.Getenv(helperStreamEnv), prefix: os.Getenv(helperPrefixEnv)}
	src := js.NewSource(j, s.name, s.layout(true))
	src.Logger = logger
	runner := projection.Runner{
		Pool:         pool,
		Types:        eventTypes(),
		BatchSize:    batch,
		PollInterval: 50 * time.Millisecond,
		Lease:        helperLease,
		ID:           fmt.Sprint("helper ", os.Getpid()),
		Logger:       logger,
	}
	reg := ordersRegistration("orders", delay)
	if barrier := os.Getenv(helperBarrierEnv); barrier != "" {
		for {
			if _, err := os.Stat(barrier); err == nil {
				break
			}
			if sleepCtx(ctx, 5*time.Millisecond) != nil {
				return 0
			}
		}
	}
	switch mode {
	case "runner":
		runner.Source = src
		runner.Registrations = []projection.Registration{reg}
		err = runner.Run(ctx)
	case "balancer":
		var parts []js.Partition
		if parts, err = js.Partitioned(reg, src, partitions); err == nil {
			b := &js.Balancer{Runner: runner, Partitions: parts, Interval: 200 * time.Millisecond}
			err = b.Run(ctx)
		}
	default:
		err = fmt.Errorf("no helper mode %q", mode)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "helper: run:", err)
		return 1
	}
	return 0
}

// helper is a runner helper process and what it has logged.
type helper struct {
	cmd *exec.Cmd
	log *syncBuffer
}

// id is the helper's runner ID, as the tracking table shows it.
func (h *helper) id() string { return fmt.Sprint("helper ", h.cmd.Process.Pid) }

// started reports whether the helper has taken a projection.
func (h *helper) started() bool { return strings.Contains(h.log.String(), "projection started") }

// signal sends sig to the helper.
func (h *helper) signal(t *testing.T, sig syscall.Signal) {
	t.Helper()
	if err := h.cmd.Process.Signal(sig); err != nil {
		t.Fatal(err)
	}
}

// helperConfig is what a helper runs.
type helperConfig struct {
	mode       string
	schema     string
	stream     *testStream
	partitions int
	delay      time.Duration
	batch      int
	barrier    string
}

// startHelper starts a runner helper process, killed when the test ends.
func startHelper(t testing.TB, c helperConfig) *helper {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(),
		helperEnv+"="+c.mode,
		helperSchemaEnv+"="+c.schema,
		helperStreamEnv+"="+c.stream.name,
		helperPrefixEnv+"="+c.stream.prefix,
		helperPartitionsEnv+"="+strconv.Itoa(c.partitions),
		helperDelayEnv+"="+c.delay.String(),
		helperBatchEnv+"="+strconv.Itoa(c.batch),
		helperBarrierEnv+"="+c.barrier,
	)
	h := &helper{cmd: cmd, log: &syncBuffer{}}
	cmd.Stdout, cmd.Stderr = h.log, h.log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		if t.Failed() {
			t.Logf("helper %d logged:\n%s", cmd.Process.Pid, tail(h.log.String(), 4000))
		}
	})
	return h
}

// sleepCtx waits for d, or returns ctx's error when ctx is done first.
func sleepCtx(ctx context.Context, d time.Duration) error {
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(d):
		return nil
	}
}

// tail returns the last n bytes of s.
func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return "..." + s[len(s)-n:]
}

// syncBuffer is a bytes.Buffer safe for a process's output and a test
// reading it at once.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// tracked is a projection's tracking row.
type tracked struct {
	position int64
	holder   string
}

// tracking returns the tracking rows by name.
func tracking(t testing.TB, pool *pgxpool.Pool) map[string]tracked {
	t.Helper()
	rows, err := pool.Query(context.Background(), `SELECT name, position, coalesce(holder, '') FROM projgen_tracking`)
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]tracked{}
	for rows.Next() {
		var name string
		var tr tracked
		if err := rows.Scan(&name, &tr.position, &tr.holder); err != nil {
			t.Fatal(err)
		}
		m[name] = tr
	}
	if err := rows.Err(); err != nil && !errors.Is(err, pgx.ErrNoRows) {
		t.Fatal(err)
	}
	return m
}

// waitPositions waits until each of names is tracked at head or beyond.
func waitPositions(t testing.TB, pool *pgxpool.Pool, head uint64, timeout time.Duration, names ...string) {
	t.Helper()
	waitFor(t, timeout, func() (bool, string) {
		tr := tracking(t, pool)
		for _, n := range names {
			if tr[n].position < int64(head) {
				return false, fmt.Sprintf("projections at %v, want all of %v at %d", tr, names, head)
			}
		}
		return true, ""
	})
}

// partitionNames returns the names of n partitions of orders.
func partitionNames(n int) []string {
	names := make([]string, n)
	for i := range names {
		names[i] = js.PartitionName("orders", i)
	}
	return names
}

// TestRunnerProjectsOrders runs the orders projection from a stream with
// a projection.Runner, unpartitioned and in four partitions, and checks
// the rows; then again after more events.
func TestRunnerProjectsOrders(t *testing.T) {
	_, j := connect(t)
	pool, _ := openDB(t, 8)
	ctx := context.Background()
	s := newStream(t, j, jetstream.MemoryStorage)
	src := js.NewSource(j, s.name, s.layout(true))
	defer src.Close(ctx)
	ids := orderIDs("e2e", 100)
	s.publishOrders(t, ids, 1, 10, 4)
	r := &projection.Runner{Pool: pool, Source: src, Types: eventTypes(), Registrations: []projection.Registration{ordersRegistration("orders", 0)}, BatchSize: 100}
	if err := r.CatchUp(ctx, "orders"); err != nil {
		t.Fatal(err)
	}
	checkOrders(t, pool, ids, 10)
	head := s.publishOrders(t, ids, 11, 15, 2)
	if err := r.CatchUp(ctx, "orders"); err != nil {
		t.Fatal(err)
	}
	checkOrders(t, pool, ids, 15)
	if got := tracking(t, pool)["orders"].position; got != int64(head) {
		t.Errorf("tracked at %d, want the head %d", got, head)
	}

	t.Run("partitioned", func(t *testing.T) {
		pool, _ := openDB(t, 8)
		parts, err := js.Partitioned(ordersRegistration("orders", 0), src, 4)
		if err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		errs := make([]error, len(parts))
		for i, p := range parts {
			r := &projection.Runner{Pool: pool, Source: p.Source, Types: eventTypes(), Registrations: []projection.Registration{p.Registration}, BatchSize: 100}
			wg.Go(func() { errs[i] = r.CatchUp(ctx, p.Registration.Name) })
		}
		wg.Wait()
		if err := errors.Join(errs...); err != nil {
			t.Fatal(err)
		}
		checkOrders(t, pool, ids, 15)
		waitPositions(t, pool, head, time.Second, partitionNames(4)...)
	})

	// Status reads the backlog from the stream.
	s.publishOrders(t, ids[:3], 16, 16, 1)
	st, err := r.Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(st) != 1 || st[0].Position != int64(head) || st[0].Head != int64(head)+3 || st[0].Lag != 3 || st[0].LagTime <= 0 {
		t.Errorf("status %+v, want position %d, head %d, lag 3", st, head, head+3)
	}
}

// TestKillMidBatchLosesNothing kills runner processes with SIGKILL in the
// middle of their batches, over and over, while more events are
// published, then lets one finish: every event is applied exactly once,
// every order's in version order.
func TestKillMidBatchLosesNothing(t *testing.T) {
	if testing.Short() {
		t.Skip("starts and kills runner processes")
	}
	_, j := connect(t)
	pool, schema := openDB(t, 4)
	s := newStream(t, j, jetstream.FileStorage)
	ids := orderIDs("k", 200)
	s.publishOrders(t, ids, 1, 10, 2)
	published := make(chan error, 1)
	go func() {
		time.Sleep(500 * time.Millisecond)
		_, err := s.publish(ids, 11, 20, 2)
		published <- err
	}()
	cfg := helperConfig{mode: "runner", schema: schema, stream: s, delay: 2 * time.Millisecond, batch: 50}
	kills, last := 0, int64(0)
	for kills < 6 {
		h := startHelper(t, cfg)
		// Once the helper has committed a batch, the next one takes
		// 100ms at least (50 events of 2ms): a kill a little later
		// falls in the middle of it.
		waitFor(t, 30*time.Second, func() (bool, string) {
			p := tracking(t, pool)["orders"].position
			return p > last, fmt.Sprintf("the helper did not commit a batch past %d", last)
		})
		time.Sleep(time.Duration(20+kills*37%60) * time.Millisecond)
		h.signal(t, syscall.SIGKILL)
		_ = h.cmd.Wait()
		kills++
		last = tracking(t, pool)["orders"].position
	}
	if err := <-published; err != nil {
		t.Fatal(err)
	}
	head := s.head(t)
	if last >= int64(head) {
		t.Fatalf("the runners finished before the last kill: publish more events")
	}
	cfg.delay = 0
	h := startHelper(t, cfg)
	waitPositions(t, pool, head, time.Minute, "orders")
	h.signal(t, syscall.SIGTERM)
	if err := h.cmd.Wait(); err != nil {
		t.Errorf("helper after SIGTERM: %v", err)
	}
	t.Logf("%d kills, each after a batch, the last at position %d of %d", kills, last, head)
	checkOrders(t, pool, ids, 20)
}

// TestPartitionedKillOneOfTwo runs the orders projection in four
// partitions over two runner processes: each takes two. Killed with
// SIGKILL while events are being published, one leaves its partitions to
// the other, which catches up: every order's events applied once each,
// in version order.
func TestPartitionedKillOneOfTwo(t *testing.T) {
	if testing.Short() {
		t.Skip("starts and kills runner processes")
	}
	const partitions = 4
	_, j := connect(t)
	pool, schema := openDB(t, 4)
	s := newStream(t, j, jetstream.FileStorage)
	ids := orderIDs("pk", 200)
	s.publishOrders(t, ids, 1, 10, 2)
	cfg := helperConfig{mode: "balancer", schema: schema, stream: s, partitions: partitions, delay: 2 * time.Millisecond, batch: 50}
	one, two := startHelper(t, cfg), startHelper(t, cfg)
	names := partitionNames(partitions)
	holders := func() map[string][]string {
		m := map[string][]string{}
		tr := tracking(t, pool)
		for _, n := range names {
			if h := tr[n].holder; h != "" {
				m[h] = append(m[h], n)
			}
		}
		return m
	}
	waitFor(t, 30*time.Second, func() (bool, string) {
		h := holders()
		return len(h[one.id()]) == 2 && len(h[two.id()]) == 2, fmt.Sprintf("partitions held %v, want two by each helper", h)
	})
	t.Logf("balanced: %v", holders())
	published := make(chan error, 1)
	go func() {
		_, err := s.publish(ids, 11, 20, 2)
		published <- err
	}()
	time.Sleep(700 * time.Millisecond)
	before := tracking(t, pool)
	one.signal(t, syscall.SIGKILL)
	killed := time.Now()
	_ = one.cmd.Wait()
	waitFor(t, 30*time.Second, func() (bool, string) {
		h := holders()
		return len(h[two.id()]) == partitions, fmt.Sprintf("partitions held %v, want all by %s", h, two.id())
	})
	t.Logf("the survivor took every partition %v after the kill", time.Since(killed).Round(time.Millisecond))
	if err := <-published; err != nil {
		t.Fatal(err)
	}
	head := s.head(t)
	for _, n := range names {
		if before[n].position >= int64(head) {
			t.Fatalf("partition %s had caught up before the kill: publish more events", n)
		}
	}
	waitPositions(t, pool, head, time.Minute, names...)
	two.signal(t, syscall.SIGTERM)
	if err := two.cmd.Wait(); err != nil {
		t.Errorf("helper after SIGTERM: %v", err)
	}
	checkOrders(t, pool, ids, 20)
}

// TestPartitionedMemberJoinsAndFreezes starts one partitioned runner
// process, which takes every partition, then a second, which gets half;
// then freezes the first with SIGSTOP while events are published: once
// its lease runs out the second runs every partition, and once thawed
// the first rejoins and takes its share back. Every event is applied
// once, every order's in version order.
func TestPartitionedMemberJoinsAndFreezes(t *testing.T) {
	if testing.Short() {
		t.Skip("starts and freezes runner processes")
	}
	const partitions = 4
	_, j := connect(t)
	pool, schema := openDB(t, 4)
	s := newStream(t, j, jetstream.FileStorage)
	ids := orderIDs("pf", 100)
	s.publishOrders(t, ids, 1, 10, 2)
	cfg := helperConfig{mode: "balancer", schema: schema, stream: s, partitions: partitions, delay: time.Millisecond, batch: 50}
	names := partitionNames(partitions)
	holders := func() map[string]int {
		m := map[string]int{}
		tr := tracking(t, pool)
		for _, n := range names {
			if h := tr[n].holder; h != "" {
				m[h]++
			}
		}
		return m
	}
	shares := func(want map[*helper]int) func() (bool, string) {
		return func() (bool, string) {
			h := holders()
			for p, n := range want {
				if h[p.id()] != n {
					return false, fmt.Sprintf("partitions held %v, want %d by %s", h, n, p.id())
				}
			}
			return true, ""
		}
	}
	one := startHelper(t, cfg)
	waitFor(t, 30*time.Second, shares(map[*helper]int{one: partitions}))
	two := startHelper(t, cfg)
	waitFor(t, 30*time.Second, shares(map[*helper]int{one: 2, two: 2}))
	published := make(chan error, 1)
	go func() {
		_, err := s.publish(ids, 11, 20, 2)
		published <- err
	}()
	one.signal(t, syscall.SIGSTOP)
	frozen := time.Now()
	waitFor(t, helperLease+30*time.Second, shares(map[*helper]int{two: partitions}))
	t.Logf("with a lease of %v, the other process ran every partition %v after the freeze", helperLease, time.Since(frozen).Round(time.Millisecond))
	one.signal(t, syscall.SIGCONT)
	waitFor(t, 30*time.Second, shares(map[*helper]int{one: 2, two: 2}))
	if err := <-published; err != nil {
		t.Fatal(err)
	}
	waitPositions(t, pool, s.head(t), time.Minute, names...)
	checkOrders(t, pool, ids, 20)
	if !strings.Contains(one.log.String(), "lost its session") {
		t.Errorf("the thawed process did not say it lost its session:\n%s", tail(one.log.String(), 3000))
	}
}
