// Package library_test runs the runner main projgen scaffolded for this
// module (source: jetstream) on orders the shop's own writer published.
package library_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/projgen/projgen/projection/projectiontest"
	pjs "github.com/projgen/projgen/sources/jetstream"

	"example.com/shop/order"
	"example.com/shop/stream"
)

// shop is one test's stream, read models and the orders published.
type shop struct {
	t      *testing.T
	js     jetstream.JetStream
	stream string
	pool   *pgxpool.Pool
	dbURL  string
	bin    string
	orders []*want
}

// want is what the events published for one order make of its row.
type want struct {
	id       uuid.UUID
	version  int64
	lastSeq  uint64
	customer string
	total    int64
	street   string
	amount   int64
	carrier  string
	reason   string
}

// TestScaffoldedRunnerOnJetStream publishes orders, runs the runner main,
// kills it with SIGKILL while it projects, publishes more while it is
// down, and restarts it: every row must then be what the events say.
func TestScaffoldedRunnerOnJetStream(t *testing.T) {
	s := newShop(t)
	s.place(300)
	s.publishVersions(2, 3)
	run := s.start()
	s.waitRows(`SELECT count(*) FROM orders`, func(n int) bool { return n > 0 })
	kill(run)
	s.publishVersions(4, 5)
	run = s.start()
	defer kill(run)
	s.waitPositions("order")
	s.check()
}

// TestScaffoldedRunnerPartitionedKillOne runs the main in two processes
// that share the projection in four partitions, kills one with SIGKILL
// while events are published, and checks that the other took its
// partitions over: every order's events applied once, in order.
func TestScaffoldedRunnerPartitionedKillOne(t *testing.T) {
	s := newShop(t)
	s.place(200)
	args := []string{"-partitions", "4", "-lease", "2s"}
	one, two := s.start(args...), s.start(args...)
	defer kill(two)
	names := pjs.PartitionNames([]string{"order"}, 4)
	s.waitHolders(names, 2)
	s.publishVersions(2, 3)
	kill(one)
	s.publishVersions(4, 5)
	s.waitHolders(names, 1)
	s.waitPositions(names...)
	s.check()
}

// newShop creates a stream and a schema with the module's migrations,
// and builds the runner main.
func newShop(t *testing.T) *shop {
	if testing.Short() {
		t.Skip("builds and runs the runner main against NATS and PostgreSQL")
	}
	natsURL := cmpOr(os.Getenv("PROJGEN_TEST_NATS_URL"), nats.DefaultURL)
	nc, err := nats.Connect(natsURL, nats.Timeout(2*time.Second))
	if err != nil {
		if os.Getenv(projectiontest.RequireEnv) == "1" {
			t.Fatalf("NATS at %s: %v", natsURL, err)
		}
		t.Skipf("skipping: no NATS at %s: %v", natsURL, err)
	}
	t.Cleanup(nc.Close)
	t.Setenv("NATS_URL", natsURL)
	js, err := jetstream.New(nc)
	must(t, err)
	name := "SHOP_" + strings.ReplaceAll(uuid.NewString(), "-", "")[:12]
	_, err = js.CreateStream(context.Background(), jetstream.StreamConfig{Name: name, Subjects: []string{stream.Subjects}, Storage: jetstream.FileStorage})
	if err != nil {
		t.Fatalf("create stream (another stream may hold %s): %v", stream.Subjects, err)
	}
	t.Cleanup(func() { _ = js.DeleteStream(context.Background(), name) })
	pool := projectiontest.Open(t, filepath.Join("..", "order", "migrations"))
	var schema string
	must(t, pool.QueryRow(context.Background(), `SELECT current_schema()`).Scan(&schema))
	url := os.Getenv(projectiontest.URLEnv)
	sep := "?"
	if strings.Contains(url, "?") {
		sep = "&"
	}
	bin := filepath.Join(t.TempDir(), "projections")
	if out, err := exec.Command("go", "build", "-o", bin, "example.com/shop/cmd/projections").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return &shop{t: t, js: js, stream: name, pool: pool, dbURL: url + sep + "search_path=" + schema, bin: bin}
}

// place publishes n new orders' Placed events.
func (s *shop) place(n int) {
	for range n {
		i := len(s.orders)
		w := &want{id: uuid.New(), customer: fmt.Sprint("customer-", i), total: int64(100 + i)}
		s.orders = append(s.orders, w)
		s.publish(w, "order.placed", order.Placed{Customer: w.customer, Total: w.total})
	}
}

// publishVersions publishes versions from to to of every order, a
// version of each in turn, so that aggregates interleave in the stream.
func (s *shop) publishVersions(from, to int64) {
	for v := from; v <= to; v++ {
		for i, w := range s.orders {
			switch {
			case v%2 == 0:
				w.street = fmt.Sprintf("street %d of %d", v, i)
				s.publish(w, "order.address_changed", order.AddressChanged{Street: w.street})
			case v == 3:
				w.amount = w.total
				s.publish(w, "order.paid", order.Paid{Amount: w.amount})
			case i%2 == 0:
				w.carrier = "carrier " + fmt.Sprint(v)
				s.publish(w, "order.shipped", order.Shipped{Carrier: w.carrier})
			default:
				w.reason = "reason " + fmt.Sprint(v)
				s.publish(w, "order.cancelled", order.Cancelled{Reason: w.reason})
			}
		}
	}
}

// publish appends the order's next event with the shop's writer.
func (s *shop) publish(w *want, topic string, event any) {
	s.t.Helper()
	seq, err := stream.Append(context.Background(), s.js, "order", w.id, w.version+1, topic, event, w.lastSeq)
	must(s.t, err)
	w.version++
	w.lastSeq = seq
}

// start starts the runner main with args.
func (s *shop) start(args ...string) *exec.Cmd {
	s.t.Helper()
	c := exec.Command(s.bin, append([]string{"-events", s.stream}, args...)...)
	c.Env = append(os.Environ(), "DATABASE_URL="+s.dbURL)
	c.Stderr = os.Stderr
	must(s.t, c.Start())
	return c
}

// kill kills the process with SIGKILL and reaps it.
func kill(c *exec.Cmd) {
	_ = c.Process.Signal(syscall.SIGKILL)
	_ = c.Wait()
}

// waitRows polls a count query until ok accepts it. A query that fails
// is tried again: the runner creates projgen_tracking as it starts.
func (s *shop) waitRows(query string, ok func(int) bool, args ...any) {
	s.t.Helper()
	s.waitFor(func() (bool, string) {
		var n int
		if err := s.pool.QueryRow(context.Background(), query, args...).Scan(&n); err != nil {
			return false, fmt.Sprintf("%s: %v", query, err)
		}
		return ok(n), fmt.Sprintf("%s is %d", query, n)
	})
}

// waitPositions waits until each of names is tracked at the stream's last
// sequence.
func (s *shop) waitPositions(names ...string) {
	s.t.Helper()
	info, err := s.js.Stream(context.Background(), s.stream)
	must(s.t, err)
	head := int64(info.CachedInfo().State.LastSeq)
	for _, name := range names {
		s.waitRows(`SELECT count(*) FROM projgen_tracking WHERE name = $1 AND position >= $2`,
			func(n int) bool { return n == 1 }, name, head)
	}
}

// waitHolders waits until the partitions are held by exactly holders
// runners.
func (s *shop) waitHolders(names []string, holders int) {
	s.t.Helper()
	s.waitRows(`SELECT count(DISTINCT holder) + count(*) FILTER (WHERE holder IS NULL) * 100 FROM projgen_tracking WHERE name = ANY($1)`,
		func(n int) bool { return n == holders }, names)
}

// waitFor polls cond for a minute at most.
func (s *shop) waitFor(cond func() (bool, string)) {
	s.t.Helper()
	deadline := time.Now().Add(time.Minute)
	for {
		ok, last := cond()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("timed out: %s", last)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// check compares every row with what the events published say.
func (s *shop) check() {
	s.t.Helper()
	projectiontest.AssertCount(s.t, s.pool, "orders", len(s.orders))
	for _, w := range s.orders {
		row := projectiontest.Row{
			"customer": w.customer, "total": w.total, "street": w.street, "amount": w.amount,
			"aggregate_version": w.version, "carrier": nil, "reason": nil,
		}
		if w.carrier != "" {
			row["carrier"] = w.carrier
		}
		if w.reason != "" {
			row["reason"] = w.reason
		}
		projectiontest.AssertRow(s.t, s.pool, "orders", projectiontest.Row{"aggregate_id": w.id}, row)
	}
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
