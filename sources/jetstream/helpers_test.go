package jetstream_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/projgen/projgen/projection"
	"github.com/projgen/projgen/projection/projectiontest"
	js "github.com/projgen/projgen/sources/jetstream"
)

const (
	defaultDatabaseURL = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"
	// natsURLEnv names the NATS server the tests use.
	natsURLEnv     = "PROJGEN_TEST_NATS_URL"
	defaultNATSURL = "nats://127.0.0.1:4222"
	// stressEnv, set to 1, makes the concurrency tests run many rounds.
	stressEnv = "PROJGEN_JS_STRESS"
)

func TestMain(m *testing.M) {
	if os.Getenv(projectiontest.URLEnv) == "" {
		os.Setenv(projectiontest.URLEnv, defaultDatabaseURL)
	}
	if os.Getenv(natsURLEnv) == "" {
		os.Setenv(natsURLEnv, defaultNATSURL)
	}
	if mode := os.Getenv(helperEnv); mode != "" {
		os.Exit(runHelper(mode))
	}
	os.Exit(m.Run())
}

// connect connects to the test NATS server. Without one the test skips,
// or fails with PROJGEN_REQUIRE_DB=1, which CI sets for both servers.
func connect(t testing.TB) (*nats.Conn, jetstream.JetStream) {
	t.Helper()
	nc, err := nats.Connect(os.Getenv(natsURLEnv), nats.Timeout(2*time.Second))
	if err != nil {
		if os.Getenv(projectiontest.RequireEnv) == "1" {
			t.Fatalf("%s=1 but NATS at %s is not reachable: %v (start it with: nats-server -js -a 127.0.0.1 -p 4222)", projectiontest.RequireEnv, os.Getenv(natsURLEnv), err)
		}
		t.Skipf("skipping: no NATS at %s (%v); set %s", os.Getenv(natsURLEnv), err, natsURLEnv)
	}
	t.Cleanup(nc.Close)
	j, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	return nc, j
}

// testStream is a stream of one test, deleted when the test ends: its
// subjects are <prefix>.>.
type testStream struct {
	js     jetstream.JetStream
	name   string
	prefix string
}

// newStream creates a stream for the test.
func newStream(t testing.TB, j jetstream.JetStream, storage jetstream.StorageType) *testStream {
	t.Helper()
	id := strings.ReplaceAll(uuid.NewString(), "-", "")[:12]
	s := &testStream{js: j, name: "PROJGEN_" + id, prefix: "t" + id}
	ctx := context.Background()
	if _, err := j.CreateStream(ctx, jetstream.StreamConfig{Name: s.name, Subjects: []string{s.prefix + ".>"}, Storage: storage}); err != nil {
		t.Fatalf("create stream: %v", err)
	}
	t.Cleanup(func() { _ = j.DeleteStream(context.Background(), s.name) })
	return s
}

// orderSubjects is the Headers layout of the tests: order topics are on
// <prefix>.order.<id>; customer topics, which no projection reads, on
// <prefix>.customer.<id>.
func (s *testStream) layout(filtered bool) js.Headers {
	if !filtered {
		return js.Headers{}
	}
	m := map[string]string{}
	for _, t := range orderTopics {
		m[t] = s.prefix + ".order.>"
	}
	m["customer.registered"] = s.prefix + ".customer.>"
	return js.Headers{Subjects: m}
}

// The topics of the test projection, by version: an order is placed,
// then items are added, over and over.
var orderTopics = []string{"order.placed", "order.item_added", "order.paid"}

func topicOf(version int64) string {
	if version == 1 {
		return orderTopics[0]
	}
	return orderTopics[1+int(version)%2]
}

// amount is the payload of the test events.
type amount struct {
	Amount int64 `json:"amount"`
}

// amountOf is the amount of an order's event with version v.
func amountOf(id string, v int64) int64 { return int64(len(id)) + v }

// orderMsg is the message of version v of order id.
func (s *testStream) orderMsg(id string, v int64) *nats.Msg {
	data, _ := json.Marshal(amount{Amount: amountOf(id, v)})
	subject, err := js.Subject(s.prefix, "order", id)
	if err != nil {
		panic(err)
	}
	return js.NewMessage(subject, topicOf(v), id, v, data)
}

// customerMsg is a message of a topic no test projection reads.
func (s *testStream) customerMsg(id string) *nats.Msg {
	return js.NewMessage(s.prefix+".customer."+id, "customer.registered", id, 1, []byte(`{}`))
}

// publishOrders publishes events versions from..to of each order, in
// turns over the orders, on one connection each of publishers, and a
// customer event after every tenth; it returns the last sequence.
func (s *testStream) publishOrders(t testing.TB, orders []string, from, to int64, publishers int) uint64 {
	t.Helper()
	head, err := s.publish(orders, from, to, publishers)
	if err != nil {
		t.Fatalf("publish: %v", err)
	}
	return head
}

// publish is publishOrders for any goroutine.
func (s *testStream) publish(orders []string, from, to int64, publishers int) (uint64, error) {
	var wg sync.WaitGroup
	errs := make(chan error, publishers)
	for p := range publishers {
		wg.Go(func() {
			nc, err := nats.Connect(os.Getenv(natsURLEnv))
			if err != nil {
				errs <- err
				return
			}
			defer nc.Close()
			j, _ := jetstream.New(nc, jetstream.WithPublishAsyncMaxPending(2000))
			n := 0
			for v := from; v <= to; v++ {
				for i, id := range orders {
					if i%publishers != p {
						continue
					}
					if _, err := j.PublishMsgAsync(s.orderMsg(id, v)); err != nil {
						errs <- err
						return
					}
					if n++; n%10 == 0 {
						if _, err := j.PublishMsgAsync(s.customerMsg(fmt.Sprintf("c%d-%d", p, n))); err != nil {
							errs <- err
							return
						}
					}
				}
			}
			select {
			case <-j.PublishAsyncComplete():
			case <-time.After(time.Minute):
				errs <- fmt.Errorf("publisher %d: acks did not come within a minute", p)
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		return 0, err
	}
	str, err := s.js.Stream(context.Background(), s.name)
	if err != nil {
		return 0, err
	}
	info, err := str.Info(context.Background())
	if err != nil {
		return 0, err
	}
	return info.State.LastSeq, nil
}

// head returns the stream's last sequence.
func (s *testStream) head(t testing.TB) uint64 {
	t.Helper()
	str, err := s.js.Stream(context.Background(), s.name)
	if err != nil {
		t.Fatal(err)
	}
	info, err := str.Info(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return info.State.LastSeq
}

// orderIDs returns n order IDs.
func orderIDs(prefix string, n int) []string {
	ids := make([]string, n)
	for i := range ids {
		ids[i] = fmt.Sprintf("%s-%04d", prefix, i)
	}
	return ids
}

// ordersSQL is the test read model: per order, the last version applied,
// how many events were applied and delivered, the versions in the order
// they were applied, and a total of the amounts.
const ordersSQL = `CREATE TABLE orders (
	id text PRIMARY KEY,
	version bigint NOT NULL,
	applied integer NOT NULL,
	deliveries integer NOT NULL,
	versions bigint[] NOT NULL,
	total bigint NOT NULL
)`

// openDB returns a pool on a fresh schema with the orders table and the
// runner's tables, allowing maxConns connections.
func openDB(t testing.TB, maxConns int32) (*pgxpool.Pool, string) {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "001_orders.up.sql"), []byte(ordersSQL+";\n"+projection.RunnerTablesSQL), 0o644); err != nil {
		t.Fatal(err)
	}
	pool := projectiontest.Open(t, dir)
	var schema string
	if err := pool.QueryRow(context.Background(), "SELECT current_schema()").Scan(&schema); err != nil {
		t.Fatal(err)
	}
	pool.Close()
	pool, err := poolOn(context.Background(), schema, maxConns)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	return pool, schema
}

// poolOn returns a pool on schema of the test database.
func poolOn(ctx context.Context, schema string, maxConns int32) (*pgxpool.Pool, error) {
	cfg, err := pgxpool.ParseConfig(os.Getenv(projectiontest.URLEnv))
	if err != nil {
		return nil, err
	}
	cfg.ConnConfig.RuntimeParams["search_path"] = schema
	cfg.MaxConns = maxConns
	return pgxpool.NewWithConfig(ctx, cfg)
}

// orders is the hand-written projection of the tests, idempotent by
// version as generated read models are: an event whose version is not
// newer than the row's changes nothing but the deliveries counter, which
// counts every event the runner applied, so that an event applied twice
// shows.
type orders struct {
	db   projection.DBTX
	name string
	// delay is slept before each event, to make batches long.
	delay time.Duration
}

func (o *orders) Name() string     { return o.name }
func (o *orders) Topics() []string { return orderTopics }

func (o *orders) Process(ctx context.Context, e projection.Event) error {
	a, ok := e.Data.(*amount)
	if !ok {
		return fmt.Errorf("payload of type %T, want *amount", e.Data)
	}
	if o.delay > 0 {
		time.Sleep(o.delay)
	}
	_, err := o.db.Exec(ctx, `INSERT INTO orders AS o (id, version, applied, deliveries, versions, total)
VALUES ($1, $2, 1, 1, ARRAY[$2::bigint], $3)
ON CONFLICT (id) DO UPDATE SET
	deliveries = o.deliveries + 1,
	applied = o.applied + (EXCLUDED.version > o.version)::int,
	versions = CASE WHEN EXCLUDED.version > o.version THEN o.versions || EXCLUDED.version ELSE o.versions END,
	total = o.total + CASE WHEN EXCLUDED.version > o.version THEN EXCLUDED.total ELSE 0 END,
	version = GREATEST(o.version, EXCLUDED.version)`, e.AggregateID, e.Version, a.Amount)
	return err
}

// ordersRegistration registers the orders projection under name.
func ordersRegistration(name string, delay time.Duration) projection.Registration {
	return projection.Registration{
		Name:   name,
		Topics: orderTopics,
		Tables: []string{"orders"},
		New:    func(db projection.DBTX) projection.Projection { return &orders{db: db, name: name, delay: delay} },
	}
}

// eventTypes decodes every order topic into *amount.
func eventTypes() projection.EventTypes {
	types := projection.EventTypes{}
	for _, t := range orderTopics {
		types[t] = func() any { return new(amount) }
	}
	return types
}

// checkOrders checks that every order has had every version from 1 to
// last applied once, in order, and nothing else.
func checkOrders(t testing.TB, pool *pgxpool.Pool, ids []string, last int64) {
	t.Helper()
	rows, err := pool.Query(context.Background(), `SELECT id, version, applied, deliveries, versions, total FROM orders`)
	if err != nil {
		t.Fatal(err)
	}
	type row struct {
		version, total      int64
		applied, deliveries int
		versions            []int64
	}
	got := map[string]row{}
	for rows.Next() {
		var id string
		var r row
		if err := rows.Scan(&id, &r.version, &r.applied, &r.deliveries, &r.versions, &r.total); err != nil {
			t.Fatal(err)
		}
		got[id] = r
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if len(got) != len(ids) {
		t.Errorf("%d order rows, want %d", len(got), len(ids))
	}
	bad := 0
	for _, id := range ids {
		r, ok := got[id]
		var total int64
		ordered := len(r.versions) == int(last)
		for v := int64(1); v <= last; v++ {
			total += amountOf(id, v)
			if ordered && r.versions[v-1] != v {
				ordered = false
			}
		}
		if !ok || r.version != last || r.applied != int(last) || r.deliveries != int(last) || !ordered || r.total != total {
			if bad++; bad <= 5 {
				t.Errorf("order %s: %+v (found %v), want version %d applied and delivered %d times, versions 1..%d in order, total %d", id, r, ok, last, last, last, total)
			}
		}
	}
	if bad > 5 {
		t.Errorf("... %d orders wrong in all", bad)
	}
}

// waitFor polls cond until it holds, failing the test after a minute.
func waitFor(t testing.TB, timeout time.Duration, cond func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		ok, msg := cond()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("after %v: %s", timeout, msg)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
