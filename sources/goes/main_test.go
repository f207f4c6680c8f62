package goes_test

import (
	"context"
	"encoding/json"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/projgen/projgen/projection/projectiontest"
)

// defaultTestURL is the database the tests use when
// PROJGEN_TEST_DATABASE_URL is not set.
const defaultTestURL = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"

// TestMain points the tests at the local server when
// PROJGEN_TEST_DATABASE_URL is not set (once, since parallel tests may not
// call t.Setenv), and runs the runner helper processes of the kill test.
func TestMain(m *testing.M) {
	if os.Getenv(helperEnv) == "runner" {
		os.Exit(runHelper())
	}
	if os.Getenv(projectiontest.URLEnv) == "" {
		os.Setenv(projectiontest.URLEnv, defaultTestURL)
	}
	os.Exit(m.Run())
}

// openDB returns a pool on a fresh schema holding goes' events table, as
// goes creates it, and the test read model. Nothing is installed yet.
func openDB(t *testing.T) *pgxpool.Pool {
	t.Helper()
	return projectiontest.Open(t, "testdata/migrations")
}

// widePool returns another pool on pool's schema with room for conns
// connections.
func widePool(t *testing.T, pool *pgxpool.Pool, conns int32) *pgxpool.Pool {
	t.Helper()
	cfg := pool.Config()
	cfg.MaxConns = conns
	p, err := pgxpool.NewWithConfig(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Close)
	return p
}

// schemaOf returns the schema pool's connections work in.
func schemaOf(t *testing.T, pool *pgxpool.Pool) string {
	t.Helper()
	var schema string
	if err := pool.QueryRow(context.Background(), "SELECT current_schema()").Scan(&schema); err != nil {
		t.Fatal(err)
	}
	return schema
}

// goesEvent is an event as goes' EventStore.Insert receives it: the
// values of event.Event's ID, Name, Time, Aggregate and Data.
type goesEvent struct {
	ID               uuid.UUID
	Name             string
	Time             time.Time
	AggregateID      uuid.UUID
	AggregateName    string
	AggregateVersion int
	Data             any
}

// goesInsertSQL is the statement goes v0.9.0's Insert builds with
// squirrel for each event, for its default table.
const goesInsertSQL = `INSERT INTO events (id,name,time,aggregate_id,aggregate_name,aggregate_version,data) VALUES ($1,$2,$3,$4,$5,$6,$7)`

// goesArgs are the arguments goes passes for e: the aggregate columns as
// strings or NULL, the time in Unix nanoseconds, the data as the JSON
// codec's bytes.
func goesArgs(e goesEvent) []any {
	data, err := json.Marshal(e.Data)
	if err != nil {
		panic(err)
	}
	var aggregateID, aggregateName, aggregateVersion any = e.AggregateID.String(), e.AggregateName, strconv.Itoa(e.AggregateVersion)
	if e.AggregateVersion == 0 && e.AggregateName == "" && e.AggregateID == uuid.Nil {
		aggregateVersion = nil
	}
	if e.AggregateID == uuid.Nil {
		aggregateID = nil
	}
	if e.AggregateName == "" {
		aggregateName = nil
	}
	return []any{e.ID, e.Name, e.Time.UnixNano(), aggregateID, aggregateName, aggregateVersion, data}
}

// insertGoes runs goes' INSERT of each event on tx, one statement each.
func insertGoes(ctx context.Context, tx pgx.Tx, events ...goesEvent) error {
	for _, e := range events {
		if _, err := tx.Exec(ctx, goesInsertSQL, goesArgs(e)...); err != nil {
			return err
		}
	}
	return nil
}

// goesInsert writes events as goes' Insert does: in one transaction, one
// INSERT per event.
func goesInsert(ctx context.Context, pool *pgxpool.Pool, events ...goesEvent) error {
	return pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error { return insertGoes(ctx, tx, events...) })
}

// The order aggregate of the tests, as golden/goes names its events.
const (
	aggregateName = "shop.order"
	placed        = "shop.order.placed"     // placedData
	itemAdded     = "shop.order.item_added" // lineItem
	tagged        = "shop.order.tagged"     // []string, which the test projection does not read
	paid          = "shop.order.paid"       // int
	shipped       = "shop.order.shipped"    // struct{}
)

var allTopics = []string{placed, itemAdded, tagged, paid, shipped}

type lineItem struct {
	SKU      string `json:"sku"`
	Quantity int    `json:"quantity"`
	Price    int    `json:"price"`
}

type placedData struct {
	CustomerID uuid.UUID  `json:"customerId"`
	Items      []lineItem `json:"items"`
}

// order is a stream of order events that a writer raises one by one.
type order struct {
	id       uuid.UUID
	customer uuid.UUID
	version  int
	skew     time.Duration // the writer's clock, off by this much
}

func newOrder(skew time.Duration) *order {
	return &order{id: uuid.New(), customer: uuid.New(), skew: skew}
}

// streamTopic is the topic of an order's version v: placed first, then a
// mix, shipped every tenth.
func streamTopic(v int) string {
	switch {
	case v == 1:
		return placed
	case v%10 == 0:
		return shipped
	case v%5 == 0:
		return paid
	case v%7 == 3:
		return tagged
	default:
		return itemAdded
	}
}

// next raises the order's next event, at the writer's clock.
func (o *order) next() goesEvent {
	o.version++
	e := goesEvent{
		ID: uuid.New(), Name: streamTopic(o.version), Time: time.Now().Add(o.skew),
		AggregateID: o.id, AggregateName: aggregateName, AggregateVersion: o.version,
	}
	switch e.Name {
	case placed:
		e.Data = placedData{CustomerID: o.customer, Items: []lineItem{{SKU: "mug", Quantity: 1, Price: 1500}}}
	case itemAdded:
		e.Data = lineItem{SKU: "sku-" + strconv.Itoa(o.version), Quantity: o.version % 3, Price: 100 * o.version}
	case tagged:
		e.Data = []string{"gift", "v" + strconv.Itoa(o.version)}
	case paid:
		e.Data = 42 * o.version
	case shipped:
		e.Data = struct{}{}
	}
	return e
}

// undo takes back the events of a transaction that rolled back.
func (o *order) undo(n int) { o.version -= n }

// written is the set of committed events, shared by writers.
type written struct {
	mu     sync.Mutex
	events []goesEvent
}

func (w *written) add(events ...goesEvent) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.events = append(w.events, events...)
}

func (w *written) all() []goesEvent {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]goesEvent(nil), w.events...)
}

// syncBuffer is a strings.Builder that a process and the test share.
type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// waitFor polls cond until it holds, failing the test after 20 seconds.
func waitFor(t *testing.T, cond func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		ok, desc := cond()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting: %s", desc)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// logHead returns the last position of the log, 0 when it is empty.
func logHead(t *testing.T, pool *pgxpool.Pool) int64 {
	t.Helper()
	var head int64
	if err := pool.QueryRow(context.Background(), `SELECT coalesce(max(position), 0) FROM projgen_goes_log`).Scan(&head); err != nil {
		t.Fatal(err)
	}
	return head
}
