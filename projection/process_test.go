package projection_test

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"os/exec"
	"os/signal"
	"reflect"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/projgen/projgen/projection"
	"github.com/projgen/projgen/projection/projectiontest"
)

// The environment of a runner helper process: the test binary, started
// again with helperEnv set, runs a counter projection as a runner main
// would, until SIGTERM.
const (
	helperEnv       = "PROJGEN_TEST_HELPER"
	helperSchemaEnv = "PROJGEN_TEST_HELPER_SCHEMA"
	helperNameEnv   = "PROJGEN_TEST_HELPER_NAME"
	helperDelayEnv  = "PROJGEN_TEST_HELPER_DELAY"
	helperLeaseEnv  = "PROJGEN_TEST_HELPER_LEASE"
	// helperPipelineEnv, set to 1, makes the helper's projection
	// pipelined (Registration.Pipeline).
	helperPipelineEnv = "PROJGEN_TEST_HELPER_PIPELINE"
)

// runHelper is the main of a runner helper process. It returns the exit
// code.
func runHelper() int {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	cfg, err := pgxpool.ParseConfig(os.Getenv(projectiontest.URLEnv))
	if err != nil {
		fmt.Fprintln(os.Stderr, "helper:", err)
		return 2
	}
	cfg.ConnConfig.RuntimeParams["search_path"] = os.Getenv(helperSchemaEnv)
	cfg.MaxConns = 4
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		fmt.Fprintln(os.Stderr, "helper:", err)
		return 2
	}
	defer pool.Close()
	delay, _ := time.ParseDuration(os.Getenv(helperDelayEnv))
	lease, _ := time.ParseDuration(os.Getenv(helperLeaseEnv))
	name, topics := os.Getenv(helperNameEnv), []string{"a", "b", "c"}
	r := &projection.Runner{
		Pool:   pool,
		Source: projection.NewPostgresSource(pool, "events"),
		Types:  eventTypes(),
		Registrations: []projection.Registration{{
			Name:     name,
			Topics:   topics,
			Tables:   []string{"counts", "applied"},
			Pipeline: os.Getenv(helperPipelineEnv) == "1",
			New: func(db projection.DBTX) projection.Projection {
				return &counter{db: db, name: name, topics: topics, fail: func(projection.Event) error {
					time.Sleep(delay)
					return nil
				}}
			},
		}},
		BatchSize:    50,
		PollInterval: 50 * time.Millisecond,
		Lease:        lease,
		ID:           fmt.Sprint("helper ", os.Getpid()),
		Logger:       slog.New(slog.NewTextHandler(os.Stderr, nil)),
	}
	if err := r.Run(ctx); err != nil {
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

// startHelper starts a runner helper process on the fixture's projection,
// which sleeps delay per event and has lease as its Lease. It is killed
// when the test ends.
func (f *fixture) startHelper(t *testing.T, delay, lease time.Duration) *helper {
	t.Helper()
	var schema string
	if err := f.pool.QueryRow(context.Background(), "SELECT current_schema()").Scan(&schema); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), helperEnv+"=runner", helperSchemaEnv+"="+schema, helperNameEnv+"="+f.name,
		helperDelayEnv+"="+delay.String(), helperLeaseEnv+"="+lease.String())
	if f.pipeline {
		cmd.Env = append(cmd.Env, helperPipelineEnv+"=1")
	}
	h := &helper{cmd: cmd, log: &syncBuffer{}}
	cmd.Stdout, cmd.Stderr = h.log, h.log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGCONT)
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		if t.Failed() {
			t.Logf("helper %d logged:\n%s", cmd.Process.Pid, h.log.String())
		}
	})
	return h
}

// started reports whether the helper has taken the projection.
func (h *helper) started() bool { return strings.Contains(h.log.String(), "projection started") }

// signal sends sig to the helper.
func (h *helper) signal(t *testing.T, sig syscall.Signal) {
	t.Helper()
	if err := h.cmd.Process.Signal(sig); err != nil {
		t.Fatal(err)
	}
}

// manyEvents returns n events over a, b and c, ten per aggregate.
func manyEvents(prefix string, n int) []projection.Stored {
	events := make([]projection.Stored, n)
	for i := range events {
		events[i] = ev(fmt.Sprintf("%s-%d", prefix, i/10), int64(i%10+1), string(rune('a'+i%3)), fmt.Sprint(i))
	}
	return events
}

// checkExactlyOnce checks that the projection applied every event once.
func (f *fixture) checkExactlyOnce(t *testing.T) {
	t.Helper()
	if got, want := f.state(t), f.expectedState(t, []string{"a", "b", "c"}); !reflect.DeepEqual(got, want) {
		missing, extra := difference(want.Applied, got.Applied), difference(got.Applied, want.Applied)
		t.Errorf("applied %d events at position %d, want %d at %d; missing %v, extra %v; counts %v, want %v",
			len(got.Applied), got.Position, len(want.Applied), want.Position, head(missing), head(extra), got.Counts, want.Counts)
	}
}

// TestKillMidBatchLosesNothing kills runner processes with SIGKILL in the
// middle of their batches, over and over, then lets one finish: every
// event is applied exactly once, with the statements sent one by one and
// pipelined.
func TestKillMidBatchLosesNothing(t *testing.T) {
	if testing.Short() {
		t.Skip("starts and kills runner processes")
	}
	for _, pipeline := range []bool{false, true} {
		t.Run(fmt.Sprint("pipeline=", pipeline), func(t *testing.T) {
			f := newFixture(t)
			f.pipeline = pipeline
			killMidBatch(t, f)
		})
	}
}

// killMidBatch is TestKillMidBatchLosesNothing on f.
func killMidBatch(t *testing.T, f *fixture) {
	f.runner(t, f.registration([]string{"a", "b", "c"}, nil)) // Setup
	ps := appendVisible(t, f.source, manyEvents("k", 2000)...)
	rng := rand.New(rand.NewPCG(1, 2))
	kills, advanced := 0, 0
	var last int64
	for kills < 8 {
		h := f.startHelper(t, time.Millisecond, 10*time.Second)
		waitFor(t, func() (bool, string) { return h.started(), "the helper did not start" })
		time.Sleep(time.Duration(50+rng.IntN(200)) * time.Millisecond)
		h.signal(t, syscall.SIGKILL)
		_ = h.cmd.Wait()
		kills++
		if s := f.state(t); s.Position > last {
			advanced++
			last = s.Position
		}
	}
	if last >= ps[len(ps)-1] {
		t.Fatalf("the runners finished before the last kill: raise the number of events")
	}
	h := f.startHelper(t, 0, 10*time.Second)
	r := f.runner(t, f.registration([]string{"a", "b", "c"}, nil))
	if err := r.Wait(waitCtx(t, time.Minute), f.name, ps[len(ps)-1]); err != nil {
		t.Fatal(err)
	}
	h.signal(t, syscall.SIGTERM)
	if err := h.cmd.Wait(); err != nil {
		t.Errorf("helper after SIGTERM: %v", err)
	}
	t.Logf("%d kills, %d of them after progress, the last at position %d of %d", kills, advanced, last, ps[len(ps)-1])
	f.checkExactlyOnce(t)
}

// TestStandbyTakesOver runs two runner processes on one projection: one
// applies, the other stands by. Killed with SIGKILL, the active one is
// replaced at once; frozen with SIGSTOP, it is replaced once its lease
// runs out, and when it thaws it applies nothing twice.
func TestStandbyTakesOver(t *testing.T) {
	if testing.Short() {
		t.Skip("starts, kills and freezes runner processes")
	}
	const lease = time.Second
	f := newFixture(t)
	f.runner(t, f.registration([]string{"a", "b", "c"}, nil)) // Setup
	appendVisible(t, f.source, manyEvents("first", 300)...)
	one, two := f.startHelper(t, 0, lease), f.startHelper(t, 0, lease)
	waitFor(t, func() (bool, string) {
		return one.started() || two.started(), "neither runner started"
	})
	active, standby := one, two
	if two.started() {
		active, standby = two, one
	}
	r := f.runner(t, f.registration([]string{"a", "b", "c"}, nil))
	ps := appendEvents(t, f.source, manyEvents("second", 300)...)
	if err := r.Wait(waitCtx(t, 30*time.Second), f.name, ps[len(ps)-1]); err != nil {
		t.Fatal(err)
	}
	if standby.started() {
		t.Fatalf("both runners took the projection:\n%s\n---\n%s", active.log.String(), standby.log.String())
	}
	if s := statusOf(t, r, f.name); s.State != projection.Running || s.Holder != fmt.Sprint("helper ", active.cmd.Process.Pid) {
		t.Errorf("status %+v, want running, held by helper %d", s, active.cmd.Process.Pid)
	}
	f.checkExactlyOnce(t)

	killed := time.Now()
	active.signal(t, syscall.SIGKILL)
	waitFor(t, func() (bool, string) { return standby.started(), "the standby did not take over a killed runner" })
	t.Logf("takeover after SIGKILL: %v", time.Since(killed).Round(time.Millisecond))
	ps = appendEvents(t, f.source, manyEvents("third", 300)...)
	if err := r.Wait(waitCtx(t, 30*time.Second), f.name, ps[len(ps)-1]); err != nil {
		t.Fatal(err)
	}
	f.checkExactlyOnce(t)

	// Freeze the runner that now applies, with a new standby beside it.
	frozen, next := standby, f.startHelper(t, 0, lease)
	waitFor(t, func() (bool, string) {
		return strings.Contains(next.log.String(), "standing by"), "the new runner does not stand by"
	})
	stopped := time.Now()
	frozen.signal(t, syscall.SIGSTOP)
	ps = appendEvents(t, f.source, manyEvents("fourth", 300)...)
	deadline := time.Now().Add(lease + 10*time.Second)
	for !next.started() {
		if time.Now().After(deadline) {
			t.Fatalf("the standby did not take over a frozen runner within %v", lease+10*time.Second)
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Logf("takeover after SIGSTOP with a lease of %v: %v", lease, time.Since(stopped).Round(time.Millisecond))
	if err := r.Wait(waitCtx(t, 30*time.Second), f.name, ps[len(ps)-1]); err != nil {
		t.Fatal(err)
	}
	frozen.signal(t, syscall.SIGCONT)
	ps = appendEvents(t, f.source, manyEvents("fifth", 300)...)
	if err := r.Wait(waitCtx(t, 30*time.Second), f.name, ps[len(ps)-1]); err != nil {
		t.Fatal(err)
	}
	time.Sleep(3 * 50 * time.Millisecond) // a few polls of the thawed runner
	f.checkExactlyOnce(t)
	if s := statusOf(t, r, f.name); s.Holder != fmt.Sprint("helper ", next.cmd.Process.Pid) {
		t.Errorf("after the thaw, held by %q, want the runner that took over, helper %d", s.Holder, next.cmd.Process.Pid)
	}
}
