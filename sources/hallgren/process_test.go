package hallgren_test

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/url"
	"os"
	"os/exec"
	"os/signal"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/hallgren/eventsourcing/aggregate"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/projgen/projgen/projection"
	"github.com/projgen/projgen/projection/projectiontest"
	"github.com/projgen/projgen/sources/hallgren"
)

// The environment of a runner helper process: the test binary, started
// again with helperEnv set, runs the accounts projection over the SQLite
// store at helperStoreEnv into the PostgreSQL schema helperSchemaEnv, as a
// runner main would, until SIGTERM. It sleeps helperDelayEnv per event and
// prints "processing P" for each event before its batch commits.
const (
	helperEnv       = "PROJGEN_HALLGREN_HELPER"
	helperStoreEnv  = "PROJGEN_HALLGREN_HELPER_STORE"
	helperSchemaEnv = "PROJGEN_HALLGREN_HELPER_SCHEMA"
	helperDelayEnv  = "PROJGEN_HALLGREN_HELPER_DELAY"
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
	cfg.MaxConns = 3
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		fmt.Fprintln(os.Stderr, "helper:", err)
		return 2
	}
	defer pool.Close()
	db, err := openSQLite(os.Getenv(helperStoreEnv))
	if err != nil {
		fmt.Fprintln(os.Stderr, "helper:", err)
		return 2
	}
	defer db.Close()
	delay, _ := time.ParseDuration(os.Getenv(helperDelayEnv))
	var mu sync.Mutex
	seen := func(p int64) {
		mu.Lock()
		defer mu.Unlock()
		fmt.Fprintln(os.Stderr, "processing", p)
	}
	r := runner(pool, hallgren.NewSource(db, ""), registration(delay, seen))
	r.ID = fmt.Sprint("helper ", os.Getpid())
	r.Logger = slog.New(slog.NewTextHandler(os.Stderr, nil))
	if err := r.Run(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "helper: run:", err)
		return 1
	}
	return 0
}

// syncBuffer is a bytes.Buffer safe for a process's output and a test.
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

// helper is a runner helper process and what it has printed.
type helper struct {
	cmd *exec.Cmd
	log *syncBuffer
}

// startHelper starts a runner helper process over the store into the
// pool's schema, sleeping delay per event. It is killed when the test
// ends.
func startHelper(t *testing.T, pool *pgxpool.Pool, s *store, delay time.Duration) *helper {
	t.Helper()
	var schema string
	if err := pool.QueryRow(context.Background(), "SELECT current_schema()").Scan(&schema); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), helperEnv+"=runner", helperStoreEnv+"="+s.path, helperSchemaEnv+"="+schema,
		helperDelayEnv+"="+delay.String())
	h := &helper{cmd: cmd, log: &syncBuffer{}}
	cmd.Stdout, cmd.Stderr = h.log, h.log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		if t.Failed() {
			log := h.log.String()
			if len(log) > 4000 {
				log = "…" + log[len(log)-4000:]
			}
			t.Logf("helper %d printed:\n%s", cmd.Process.Pid, log)
		}
	})
	return h
}

// processed returns the last position the helper has processed, whether
// its batch committed or not, 0 before any.
func (h *helper) processed() int64 {
	log := h.log.String()
	i := strings.LastIndex(log, "processing ")
	if i < 0 {
		return 0
	}
	line, _, _ := strings.Cut(log[i+len("processing "):], "\n")
	p, _ := strconv.ParseInt(line, 10, 64)
	return p
}

// position returns the projection's tracked position.
func position(t *testing.T, pool *pgxpool.Pool) int64 {
	t.Helper()
	var p int64
	err := pool.QueryRow(context.Background(), `SELECT coalesce((SELECT position FROM projgen_tracking WHERE name = 'accounts'), 0)`).Scan(&p)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// saveMany saves n new accounts of a few events each, in Saves of one to
// three events, and returns them.
func saveMany(t *testing.T, s *store, prefix string, n int) []*Account {
	t.Helper()
	accounts := make([]*Account, n)
	for i := range accounts {
		a := open(fmt.Sprint(prefix, i))
		s.save(t, a)
		for j := range 2 + i%4 {
			a.deposit(int64(j + 1))
			if j%2 == 1 {
				s.save(t, a)
			}
		}
		if i%3 == 0 {
			a.withdraw(1)
			a.close()
		}
		s.save(t, a)
		accounts[i] = a
	}
	return accounts
}

// TestKillMidBatchLosesNothing runs the projection in runner processes
// over the library's store, and kills them with SIGKILL in the middle of
// their batches, over and over, while the library saves more accounts;
// then lets one finish. Every event is applied exactly once: each row is
// the account the library loads back, applied once per event.
func TestKillMidBatchLosesNothing(t *testing.T) {
	if testing.Short() {
		t.Skip("starts and kills runner processes")
	}
	pool := projectiontest.Open(t, migrations(t, readModelSQL))
	s := newStore(t, "WAL")
	saveMany(t, s, "first ", 300)

	// The library keeps saving while runners are killed.
	writing, stopWriting := context.WithCancel(context.Background())
	wrote := make(chan int)
	go func() {
		n := 0
		for writing.Err() == nil {
			a := open(fmt.Sprint("live ", n))
			a.deposit(5)
			if err := saveQuietly(s, a); err != nil {
				t.Error(err)
				break
			}
			n++
			time.Sleep(5 * time.Millisecond)
		}
		wrote <- n
	}()

	rng := rand.New(rand.NewPCG(3, 4))
	const kills = 5
	midBatch, advanced := 0, 0
	var last int64
	for range kills {
		h := startHelper(t, pool, s, 2*time.Millisecond)
		waitFor(t, func() bool { return h.processed() > last }, "the helper did not start processing")
		time.Sleep(time.Duration(100+rng.IntN(200)) * time.Millisecond)
		h.signal(t, syscall.SIGKILL)
		_ = h.cmd.Wait()
		at := position(t, pool)
		if h.processed() > at {
			midBatch++ // it had processed events its batch never committed
		}
		if at > last {
			advanced++
			last = at
		}
	}
	stopWriting()
	live := <-wrote
	head := s.head(t)
	if last >= head {
		t.Fatalf("the runners caught up before the last kill (position %d of %d): save more events", last, head)
	}
	if midBatch == 0 {
		t.Errorf("no kill landed in the middle of a batch")
	}
	h := startHelper(t, pool, s, 0)
	wait, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := (&projection.Runner{Pool: pool}).Wait(wait, "accounts", head); err != nil {
		t.Fatal(err)
	}
	h.signal(t, syscall.SIGTERM)
	if err := h.cmd.Wait(); err != nil {
		t.Errorf("helper after SIGTERM: %v", err)
	}
	t.Logf("%d kills, %d mid-batch, %d after progress, the last at position %d of %d; %d accounts saved while killing", kills, midBatch, advanced, last, head, live)
	checkRows(t, pool, s)
}

// saveQuietly saves a, returning the error, for goroutines.
func saveQuietly(s *store, a *Account) error {
	if err := aggregate.Save(s.es, a); err != nil {
		return fmt.Errorf("save account: %w", err)
	}
	return nil
}

// signal sends sig to the helper.
func (h *helper) signal(t *testing.T, sig syscall.Signal) {
	t.Helper()
	if err := h.cmd.Process.Signal(sig); err != nil {
		t.Fatal(err)
	}
}

// waitFor waits up to 30 seconds for cond.
func waitFor(t *testing.T, cond func() bool, msg string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal(msg)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// openSQLite opens a library database at path for a Source.
func openSQLite(path string) (*sql.DB, error) {
	return sql.Open("sqlite3", "file:"+path+"?"+url.Values{"_journal_mode": {"WAL"}}.Encode())
}
