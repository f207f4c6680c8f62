package goes_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/projgen/projgen/projection"
	goes "github.com/projgen/projgen/sources/goes"
)

// stressRunsEnv names the variable that sets how many rounds
// TestConcurrentWritersReadExactlyOnce runs: 20 by default, 2 with -short.
const stressRunsEnv = "PROJGEN_GOES_STRESS_RUNS"

func stressRuns(t *testing.T) int {
	if s := os.Getenv(stressRunsEnv); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			t.Fatalf("%s=%q: want a positive number", stressRunsEnv, s)
		}
		return n
	}
	if testing.Short() {
		return 2
	}
	return 20
}

// TestConcurrentWritersReadExactlyOnce has writers insert events in goes'
// stored format while two readers page through the source: goes-style
// transactions of several INSERTs (some rolled back, some pausing between
// statements), from writers whose clocks disagree; transactions held open
// while the others commit; and other code's multi-row INSERTs and COPY.
// Each reader must read every committed event of its topics exactly once,
// in position order, none skipped: what it read is, in the end, exactly
// the log joined to goes' table, and the log holds every committed event
// once.
func TestConcurrentWritersReadExactlyOnce(t *testing.T) {
	for run := range stressRuns(t) {
		t.Run(fmt.Sprint("round ", run), func(t *testing.T) {
			t.Parallel()
			stressRound(t, uint64(run))
		})
	}
}

// key identifies an event in goes' table: an aggregate's version.
type key struct {
	aggregate string
	version   int64
}

// readEvent is what the test compares of an event read.
type readEvent struct {
	position int64
	key
	topic string
}

func stressRound(t *testing.T, seed uint64) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	pool := openDB(t)
	// Some events are there before Install, as in a service that adopts
	// projgen later.
	var w written
	{
		o := newOrder(0)
		events := []goesEvent{o.next(), o.next(), o.next()}
		if err := goesInsert(ctx, pool, events...); err != nil {
			t.Fatal(err)
		}
		w.add(events...)
	}
	install(t, pool)
	writers := widePool(t, pool, 6)
	readers := widePool(t, pool, 4)

	var wg sync.WaitGroup
	kinds := []func(ctx context.Context, pool *pgxpool.Pool, rng *rand.Rand, w *written) error{goesWriter, goesWriter, lateWriter, otherCodeWriter}
	errs := make([]error, len(kinds))
	for i, kind := range kinds {
		wg.Go(func() { errs[i] = kind(ctx, writers, rand.New(rand.NewPCG(seed, uint64(i))), &w) })
	}
	writing := make(chan struct{})
	go func() { wg.Wait(); close(writing) }()

	subset := []string{paid, shipped}
	type result struct {
		events []readEvent
		err    error
	}
	results := make([]chan result, 2)
	for i, topics := range [][]string{allTopics, subset} {
		results[i] = make(chan result, 1)
		go func() {
			events, err := follow(ctx, goes.NewSource(readers), topics, rand.New(rand.NewPCG(seed, 100+uint64(i))), writing, func() (int64, error) {
				var head int64
				err := readers.QueryRow(ctx, `SELECT coalesce(max(position), 0) FROM projgen_goes_log`).Scan(&head)
				return head, err
			})
			results[i] <- result{events, err}
		}()
	}
	<-writing
	if err := errors.Join(errs...); err != nil {
		t.Fatalf("writers: %v", err)
	}
	all, some := <-results[0], <-results[1]
	if all.err != nil || some.err != nil {
		t.Fatalf("readers: %v", errors.Join(all.err, some.err))
	}

	// The log holds every committed event once, and nothing else.
	committed := w.all()
	var inTable, inLog, distinct, unlogged int
	err := pool.QueryRow(ctx, `SELECT (SELECT count(*) FROM events), (SELECT count(*) FROM projgen_goes_log), (SELECT count(DISTINCT event_id) FROM projgen_goes_log),
	(SELECT count(*) FROM events e WHERE NOT EXISTS (SELECT FROM projgen_goes_log l WHERE l.event_id = e.id))`).Scan(&inTable, &inLog, &distinct, &unlogged)
	if err != nil {
		t.Fatal(err)
	}
	if inTable != len(committed) || inLog != len(committed) || distinct != len(committed) || unlogged != 0 {
		t.Fatalf("%d events committed; goes' table holds %d, the log %d (%d distinct), %d events are not logged", len(committed), inTable, inLog, distinct, unlogged)
	}
	want := map[key]bool{}
	for _, e := range committed {
		want[key{e.AggregateID.String(), int64(e.AggregateVersion)}] = true
	}

	for _, r := range []struct {
		name   string
		topics []string
		got    []readEvent
	}{{"every topic", allTopics, all.events}, {"paid and shipped", subset, some.events}} {
		expected := logOrder(t, pool, r.topics)
		if !slices.Equal(r.got, expected) {
			missing, extra := diff(expected, r.got), diff(r.got, expected)
			t.Errorf("reader of %s read %d events, the log holds %d: missing %v, extra %v", r.name, len(r.got), len(expected), missing, extra)
		}
		for _, e := range expected {
			if !want[e.key] {
				t.Errorf("the log holds %+v, which no writer committed", e)
			}
		}
	}
	if len(all.events) != len(committed) {
		t.Errorf("read %d events of every topic, %d committed", len(all.events), len(committed))
	}
	t.Logf("%d events committed, %d read of every topic, %d of paid and shipped", len(committed), len(all.events), len(some.events))
}

// follow reads topics from s in pages of random sizes until writing is
// closed and it has read through the log's head then. It checks each page
// as the runner does.
func follow(ctx context.Context, s *goes.Source, topics []string, rng *rand.Rand, writing <-chan struct{}, head func() (int64, error)) ([]readEvent, error) {
	var got []readEvent
	var after int64
	final := int64(-1)
	for {
		page, err := s.Read(ctx, after, topics, 1+rng.IntN(40))
		if err != nil {
			return got, err
		}
		if page.Through < after || page.Through > page.End {
			return got, fmt.Errorf("page after %d reaches %d, end %d", after, page.Through, page.End)
		}
		last := after
		for _, e := range page.Events {
			if e.Position <= last || e.Position > page.Through {
				return got, fmt.Errorf("page after %d through %d holds position %d after %d", after, page.Through, e.Position, last)
			}
			if !slices.Contains(topics, e.Topic) {
				return got, fmt.Errorf("read topic %q, asked for %q", e.Topic, topics)
			}
			last = e.Position
			got = append(got, readEvent{e.Position, key{e.AggregateID, e.Version}, e.Topic})
		}
		after = page.Through
		if final < 0 {
			select {
			case <-writing:
				if final, err = head(); err != nil {
					return got, err
				}
			default:
			}
		}
		if final >= 0 && after >= final {
			return got, nil
		}
		if page.Through == page.End {
			if err := sleepCtx(ctx, time.Duration(rng.IntN(3))*time.Millisecond); err != nil {
				return got, err
			}
		}
	}
}

// logOrder returns the committed events of topics in log order, as the
// runner must apply them.
func logOrder(t *testing.T, pool *pgxpool.Pool, topics []string) []readEvent {
	t.Helper()
	rows, err := pool.Query(context.Background(), `SELECT l.position, e.aggregate_id::text, e.aggregate_version, e.name
FROM projgen_goes_log l JOIN events e ON e.id = l.event_id WHERE e.name = ANY($1) ORDER BY l.position`, topics)
	if err != nil {
		t.Fatal(err)
	}
	events, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (readEvent, error) {
		var e readEvent
		err := row.Scan(&e.position, &e.aggregate, &e.version, &e.topic)
		return e, err
	})
	if err != nil {
		t.Fatal(err)
	}
	return events
}

// diff returns at most ten of the events of a that are not in b.
func diff(a, b []readEvent) []readEvent {
	var d []readEvent
	for _, e := range a {
		if !slices.Contains(b, e) && len(d) < 10 {
			d = append(d, e)
		}
	}
	return d
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// goesWriter writes as goes' Insert does: transactions of one to six
// INSERTs over its own orders, pausing between statements now and then,
// rolling back one in ten, its clock up to a second off.
func goesWriter(ctx context.Context, pool *pgxpool.Pool, rng *rand.Rand, w *written) error {
	skew := time.Duration(rng.IntN(2000)-1000) * time.Millisecond
	orders := []*order{newOrder(skew), newOrder(skew), newOrder(skew)}
	for written := 0; written < 150; {
		tx, err := pool.Begin(ctx)
		if err != nil {
			return err
		}
		var events []goesEvent
		var from []*order
		for range 1 + rng.IntN(6) {
			o := orders[rng.IntN(len(orders))]
			e := o.next()
			if err := insertGoes(ctx, tx, e); err != nil {
				_ = tx.Rollback(ctx)
				return err
			}
			events, from = append(events, e), append(from, o)
			if rng.IntN(6) == 0 {
				time.Sleep(time.Duration(rng.IntN(3000)) * time.Microsecond)
			}
		}
		if rng.IntN(10) == 0 {
			if err := tx.Rollback(ctx); err != nil {
				return err
			}
			for _, o := range from {
				o.undo(1)
			}
			continue
		}
		if err := tx.Commit(ctx); err != nil {
			return err
		}
		w.add(events...)
		written += len(events)
		if rng.IntN(4) == 0 {
			orders[rng.IntN(len(orders))] = newOrder(skew)
		}
	}
	return nil
}

// lateWriter raises events, inserts them, and holds its transaction open
// for 100 to 250ms while the others commit; one in four it rolls back.
// Its events' times are earlier than many committed meanwhile.
func lateWriter(ctx context.Context, pool *pgxpool.Pool, rng *rand.Rand, w *written) error {
	o := newOrder(0)
	for i := range 4 {
		tx, err := pool.Begin(ctx)
		if err != nil {
			return err
		}
		var events []goesEvent
		for range 2 + rng.IntN(3) {
			events = append(events, o.next())
		}
		if err := insertGoes(ctx, tx, events...); err != nil {
			_ = tx.Rollback(ctx)
			return err
		}
		time.Sleep(time.Duration(100+rng.IntN(150)) * time.Millisecond)
		if i == 1 {
			if err := tx.Rollback(ctx); err != nil {
				return err
			}
			o.undo(len(events))
			continue
		}
		if err := tx.Commit(ctx); err != nil {
			return err
		}
		w.add(events...)
	}
	return nil
}

// otherCodeWriter writes goes' table as other code might: multi-row
// INSERT statements outside a transaction, and COPY.
func otherCodeWriter(ctx context.Context, pool *pgxpool.Pool, rng *rand.Rand, w *written) error {
	o := newOrder(0)
	for i := range 30 {
		var events []goesEvent
		for range 1 + rng.IntN(6) {
			events = append(events, o.next())
		}
		if i%3 == 2 {
			rows := make([][]any, len(events))
			for j, e := range events {
				args := goesArgs(e)
				args[5] = e.AggregateVersion // COPY's binary format wants the integer
				rows[j] = args
			}
			if _, err := pool.CopyFrom(ctx, pgx.Identifier{"events"}, []string{"id", "name", "time", "aggregate_id", "aggregate_name", "aggregate_version", "data"}, pgx.CopyFromRows(rows)); err != nil {
				return err
			}
		} else {
			sql := `INSERT INTO events (id, name, time, aggregate_id, aggregate_name, aggregate_version, data) VALUES `
			var args []any
			for j, e := range events {
				if j > 0 {
					sql += ", "
				}
				n := len(args)
				sql += fmt.Sprintf("($%d, $%d, $%d, $%d, $%d, $%d, $%d)", n+1, n+2, n+3, n+4, n+5, n+6, n+7)
				args = append(args, goesArgs(e)...)
			}
			if _, err := pool.Exec(ctx, sql, args...); err != nil {
				return err
			}
		}
		w.add(events...)
		time.Sleep(time.Duration(rng.IntN(5)) * time.Millisecond)
	}
	return nil
}

var _ projection.EventSource = (*goes.Source)(nil)
