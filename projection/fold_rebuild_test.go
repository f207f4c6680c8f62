package projection_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"reflect"
	"strings"
	"sync"
	"testing"

	"github.com/projgen/projgen/projection"
)

// appender adds a row of applied per event, and nothing else: an
// append-only read model. Over FoldRows it folds the same row.
type appender struct {
	db    projection.DBTX
	rows  *projection.FoldRows
	name  string
	topic string
	fail  func(projection.Event) error
}

func (a *appender) Name() string     { return a.name }
func (a *appender) Topics() []string { return []string{a.topic} }

func (a *appender) Process(ctx context.Context, e projection.Event) error {
	if a.fail != nil {
		if err := a.fail(e); err != nil {
			return err
		}
	}
	p := e.Data.(*payload)
	if a.rows != nil {
		return a.rows.Apply(e.Meta, "Append", e.Position, e.Topic, e.AggregateID, e.Version, p.Value)
	}
	_, err := a.db.Exec(ctx, `INSERT INTO applied (position, topic, aggregate_id, version, value) VALUES ($1, $2, $3, $4, $5)
ON CONFLICT (position) DO NOTHING`, e.Position, e.Topic, e.AggregateID, e.Version, p.Value)
	return err
}

// appenderFold describes applied to a fast rebuild.
func appenderFold(name string, fail func(projection.Event) error) *projection.Fold {
	columns := []string{"position", "topic", "aggregate_id", "version", "value"}
	return &projection.Fold{
		Table: "applied", Columns: columns, Key: []string{"position"},
		Statements: []projection.FoldStatement{{Method: "Append", Kind: projection.FoldAppend, Columns: columns}},
		New: func(rows *projection.FoldRows) projection.Projection {
			return &appender{rows: rows, name: name, topic: "a", fail: fail}
		},
	}
}

// logBuffer collects a runner's log, for tests that check what it says.
type logBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestFastRebuildFoldsAndCopies rebuilds an append-only projection with
// its Fold: the rows are those of the replay, the position is the last
// event's, and the log says the events were folded, in as many passes as
// shares of two keys take.
func TestFastRebuildFoldsAndCopies(t *testing.T) {
	f := newFixture(t)
	reg := projection.Registration{Name: f.name, Topics: []string{"a"}, Tables: []string{"applied"},
		New: func(db projection.DBTX) projection.Projection { return &appender{db: db, name: f.name, topic: "a"} }}
	r := f.runner(t, reg)
	var events []projection.Stored
	for i := range 9 {
		events = append(events, ev(fmt.Sprint("agg-", i%3), int64(i/3+1), "a", fmt.Sprint(i)))
	}
	appendVisible(t, f.source, events...)
	catchUp(t, r, f.name)
	want := f.state(t)

	log := &logBuffer{}
	reg.Fold = appenderFold(f.name, nil)
	r = f.runner(t, reg)
	r.Logger, r.RebuildChunk = slog.New(slog.NewTextHandler(log, nil)), 2
	if err := r.Rebuild(context.Background(), f.name); err != nil {
		t.Fatal(err)
	}
	if got := f.state(t); !reflect.DeepEqual(got, want) {
		t.Errorf("after the fast rebuild: %+v, want the replay's %+v", got, want)
	}
	if !strings.Contains(log.String(), "folded the events") || !strings.Contains(log.String(), "passes=") || strings.Contains(log.String(), "passes=1 ") {
		t.Errorf("the log does not show a fold in several passes:\n%s", log)
	}
}

// TestFastRebuildReplaysWhatItCannotFold rebuilds with Folds the rebuild
// must not trust, and checks that it replayed instead, leaving the rows a
// replay leaves or failing as a replay fails: a projection with a table
// its fold does not write, and one that fails on an event.
func TestFastRebuildReplaysWhatItCannotFold(t *testing.T) {
	t.Run("a table the fold does not write", func(t *testing.T) {
		f := newFixture(t)
		reg := f.registration([]string{"a"}, nil)
		r := f.runner(t, reg)
		appendVisible(t, f.source, ev("x", 1, "a", "1"), ev("x", 2, "a", "2"))
		catchUp(t, r, f.name)
		want := f.state(t)
		reg.Fold = appenderFold(f.name, nil)
		log := &logBuffer{}
		r = f.runner(t, reg)
		r.Logger = slog.New(slog.NewTextHandler(log, nil))
		if err := r.Rebuild(context.Background(), f.name); err != nil {
			t.Fatal(err)
		}
		if got := f.state(t); !reflect.DeepEqual(got, want) {
			t.Errorf("after the rebuild: %+v, want %+v (counts is not the fold's, so only a replay fills it)", got, want)
		}
		if !strings.Contains(log.String(), "the projection writes counts, which the fold does not") {
			t.Errorf("the log does not say why the rebuild replayed:\n%s", log)
		}
	})
	t.Run("an event the projection fails on", func(t *testing.T) {
		f := newFixture(t)
		var broken bool
		fail := func(e projection.Event) error {
			if broken && e.Version == 2 {
				return errBoom
			}
			return nil
		}
		reg := projection.Registration{Name: f.name, Topics: []string{"a"}, Tables: []string{"applied"},
			New: func(db projection.DBTX) projection.Projection {
				return &appender{db: db, name: f.name, topic: "a", fail: fail}
			},
			Fold: appenderFold(f.name, fail)}
		r := f.runner(t, reg)
		ps := appendVisible(t, f.source, ev("x", 1, "a", "1"), ev("x", 2, "a", "2"), ev("x", 3, "a", "3"))
		catchUp(t, r, f.name)
		before := f.state(t)
		broken = true
		err := r.Rebuild(context.Background(), f.name)
		var ee *projection.EventError
		if !errors.As(err, &ee) || ee.Meta.Position != ps[1] || !errors.Is(err, errBoom) {
			t.Fatalf("Rebuild over a poison event = %v, want the replay's error at %d", err, ps[1])
		}
		if got := f.state(t); !reflect.DeepEqual(got, before) {
			t.Errorf("after the failed rebuild: %+v, want as before: %+v", got, before)
		}
	})
}
