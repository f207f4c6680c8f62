package projectiontest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/projgen/projgen/projection"
)

// Queries are a read model's generated queries, for QueriesReadTheTable:
// R is the row type, F the filter.
type Queries[R, F any] struct {
	// Table is the table they read, and Key its key columns, in order.
	Table string
	Key   []string
	// Tombstones is the table of deleted rows' keys, empty when none.
	Tombstones string
	// Columns returns a row's fields by column name.
	Columns func(R) Row
	// Get calls the generated Get with the key, by column, as pgx scans
	// the columns into any.
	Get func(ctx context.Context, key Row) (R, error)
	// List calls the generated List.
	List func(ctx context.Context, filter F, limit int, after string) (projection.ListPage[R], error)
	// Count calls the generated Count.
	Count func(ctx context.Context, filter F) (int64, error)
	// Filters are the filters List and Count take.
	Filters []Filter[F]
	// DB is the Recorder the queries run on, for the index check of
	// ExplainRowsEnv.
	DB *Recorder
}

// Filter is one filter of a generated List.
type Filter[F any] struct {
	// Column is the column it tests.
	Column string
	// Equal returns the filter of the rows whose column holds v, as pgx
	// scans it into any; nil for a range.
	Equal func(v any) F
	// Between returns the filter of the rows whose column is in [from,
	// before); nil for an equality.
	Between func(from, before time.Time) F
}

// As converts v, a value as pgx scans it into any, to T: a uuid's
// [16]byte to uuid.UUID, an int32 to a named integer.
func As[T any](v any) T {
	var zero T
	to := reflect.TypeOf(zero)
	rv := reflect.ValueOf(v)
	if !rv.IsValid() {
		return zero
	}
	if to.Kind() == reflect.Pointer {
		p := reflect.New(to.Elem())
		p.Elem().Set(rv.Convert(to.Elem()))
		return p.Interface().(T)
	}
	return rv.Convert(to).Interface().(T)
}

// Ptr returns a pointer to v converted to T, as a filter field wants it.
func Ptr[T any](v any) *T {
	t := As[T](v)
	return &t
}

// QueriesReadTheTable writes random histories of reg's events through a
// Runner, as FastRebuildEqualsReplay does, and reads every row back
// through the generated queries: Get for every row, every page of List at
// page sizes 1, 2 and 3 and with the default, List and Count with each
// filter, for values the rows hold; and Get for every deleted key that no
// later event brought back, which must be projection.ErrNotFound. The
// rows it expects are the table's own, read with a plain SELECT; the test
// fails on a row the queries return otherwise, miss or repeat. With
// ExplainRowsEnv set, it then fills the table with that many rows and
// fails for each List that PostgreSQL would plan without an index.
func QueriesReadTheTable[R, F any](t testing.TB, pool *pgxpool.Pool, reg projection.Registration, types projection.EventTypes, aggregateIDs []string, q Queries[R, F], opts ...HistoryOption) {
	t.Helper()
	seed, _ := replaySettings(t)
	rng := rand.New(rand.NewPCG(seed, 1))
	ctx := context.Background()
	setUp(t, pool, "QueriesReadTheTable")
	topics := topicsOf(types, reg.Topics)
	read := 0
	for trial := range rebuildTrials {
		where := fmt.Sprintf("seed %d (rerun with %s=%d), history %d of %d", seed, ReplaySeedEnv, seed, trial+1, rebuildTrials)
		emptyTables(t, pool, append([]string{"events", "projgen_tracking", "projgen_dead_letters"}, reg.Tables...))
		events, err := history(rng, types, topics, aggregateIDs, rebuildMinEvents+rng.IntN(rebuildMaxEvents-rebuildMinEvents+1), opts...)
		if err != nil {
			t.Fatalf("QueriesReadTheTable: %v", err)
		}
		source := projection.NewPostgresSource(pool, "events")
		if _, err := source.Append(ctx, events...); err != nil {
			t.Fatalf("QueriesReadTheTable: %v", err)
		}
		runner := &projection.Runner{Pool: pool, Source: source, Types: types, Registrations: []projection.Registration{reg}, Logger: discard()}
		if err := runner.CatchUp(ctx, reg.Name); err != nil {
			t.Fatalf("QueriesReadTheTable: replaying %d random events: %v\n%s", len(events), err, where)
		}
		want := tableRows(t, pool, q.Table, q.Key)
		read += len(want)
		checkQueries(t, ctx, q, want, where)
		if q.Tombstones != "" {
			present := map[string]bool{}
			for _, w := range want {
				present[describe(project(w, q.Key))] = true
			}
			for _, key := range tableRows(t, pool, q.Tombstones, q.Key) {
				// A newer event may have brought the row back after its
				// delete: the tombstone then only keeps older ones out.
				if present[describe(project(key, q.Key))] {
					continue
				}
				if _, err := q.Get(ctx, project(key, q.Key)); !errors.Is(err, projection.ErrNotFound) {
					t.Errorf("QueriesReadTheTable: Get of the deleted %s = %v, want projection.ErrNotFound\n%s", describe(project(key, q.Key)), err, where)
				}
			}
		}
	}
	if read == 0 {
		t.Errorf("QueriesReadTheTable: the random histories left no rows in %s, so nothing was read (seed %d)", q.Table, seed)
	}
	if n := explainRows(t); n > 0 && q.DB != nil {
		emptyTables(t, pool, reg.Tables)
		q.DB.take()
		listsUseIndexes(t, pool, q, n)
	}
}

// checkQueries reads want, every row of q.Table in key order, through q.
func checkQueries[R, F any](t testing.TB, ctx context.Context, q Queries[R, F], want []Row, where string) {
	t.Helper()
	for _, w := range want {
		got, err := q.Get(ctx, project(w, q.Key))
		if err != nil {
			t.Fatalf("QueriesReadTheTable: Get %s: %v\n%s", describe(project(w, q.Key)), err, where)
		}
		if diff := rowDiff(w, q.Columns(got)); diff != "" {
			t.Errorf("QueriesReadTheTable: Get %s returned another row: %s\n%s", describe(project(w, q.Key)), diff, where)
		}
	}
	var none F
	for _, limit := range []int{1, 2, 3, 0} {
		checkList(t, ctx, q, none, limit, want, fmt.Sprintf("List of every row, pages of %d", limit), where)
	}
	if n, err := q.Count(ctx, none); err != nil || n != int64(len(want)) {
		t.Errorf("QueriesReadTheTable: Count of every row = %d, %v; the table has %d\n%s", n, err, len(want), where)
	}
	for _, f := range q.Filters {
		for _, w := range want {
			v := w[f.Column]
			var filter F
			var match func(Row) bool
			var what string
			if f.Equal != nil {
				filter, what = f.Equal(v), fmt.Sprintf("%s = %v", f.Column, v)
				match = func(r Row) bool { return canonical(r[f.Column]) == canonical(v) }
			} else {
				at, ok := v.(time.Time)
				if !ok {
					continue
				}
				from, before := at.Add(-time.Second), at.Add(time.Second)
				filter, what = f.Between(from, before), fmt.Sprintf("%s in [%v, %v)", f.Column, from, before)
				match = func(r Row) bool {
					tv, ok := r[f.Column].(time.Time)
					return ok && !tv.Before(from) && tv.Before(before)
				}
			}
			var sub []Row
			for _, r := range want {
				if match(r) {
					sub = append(sub, r)
				}
			}
			checkList(t, ctx, q, filter, 2, sub, "List of "+what, where)
			if n, err := q.Count(ctx, filter); err != nil || n != int64(len(sub)) {
				t.Errorf("QueriesReadTheTable: Count of %s = %d, %v; the table has %d\n%s", what, n, err, len(sub), where)
			}
		}
	}
}

// checkList walks every page of a List of filter and compares the rows,
// in order, with want.
func checkList[R, F any](t testing.TB, ctx context.Context, q Queries[R, F], filter F, limit int, want []Row, what, where string) {
	t.Helper()
	var got []Row
	after := ""
	for pages := 0; ; pages++ {
		if pages > len(want)+1 {
			t.Fatalf("QueriesReadTheTable: %s: more pages than rows\n%s", what, where)
		}
		page, err := q.List(ctx, filter, limit, after)
		if err != nil {
			t.Fatalf("QueriesReadTheTable: %s: %v\n%s", what, err, where)
		}
		if size := projection.PageSize(limit); len(page.Rows) > size || (page.Next != "" && len(page.Rows) != size) {
			t.Errorf("QueriesReadTheTable: %s: a page of %d rows, with next %q\n%s", what, len(page.Rows), page.Next, where)
		}
		for _, r := range page.Rows {
			got = append(got, q.Columns(r))
		}
		if page.Next == "" {
			break
		}
		after = page.Next
	}
	if len(got) != len(want) {
		t.Errorf("QueriesReadTheTable: %s: %d rows, the table has %d\n%s", what, len(got), len(want), where)
		return
	}
	for i := range want {
		if diff := rowDiff(want[i], got[i]); diff != "" {
			t.Errorf("QueriesReadTheTable: %s: row %d: %s\n%s", what, i+1, diff, where)
			return
		}
	}
}

// tableRows reads every row of table, ordered by key, as pgx scans the
// columns into any.
func tableRows(t testing.TB, db projection.DBTX, table string, key []string) []Row {
	t.Helper()
	order := make([]string, len(key))
	for i, k := range key {
		order[i] = pgx.Identifier{k}.Sanitize()
	}
	rows, err := db.Query(context.Background(), "SELECT * FROM "+pgx.Identifier{table}.Sanitize()+" ORDER BY "+strings.Join(order, ", "))
	if err != nil {
		t.Fatalf("read %s: %v", table, err)
	}
	maps, err := pgx.CollectRows(rows, pgx.RowToMap)
	if err != nil {
		t.Fatalf("read %s: %v", table, err)
	}
	out := make([]Row, len(maps))
	for i, m := range maps {
		out[i] = Row(m)
	}
	return out
}

// rowDiff describes the columns of want whose value got does not hold,
// and got's columns that want lacks; empty when they agree.
func rowDiff(want, got Row) string {
	var diffs []string
	for c, w := range want {
		g, ok := got[c]
		if !ok {
			diffs = append(diffs, c+" is missing")
		} else if canonical(w) != canonical(g) {
			diffs = append(diffs, fmt.Sprintf("%s is %s, want %s", c, canonical(g), canonical(w)))
		}
	}
	for c := range got {
		if _, ok := want[c]; !ok {
			diffs = append(diffs, c+" is not a column")
		}
	}
	slices.Sort(diffs)
	return strings.Join(diffs, "; ")
}

// canonical writes a column's value one way, whether pgx scanned it into
// any or into the row's field: a uuid as text, a time in UTC, a pointer
// by its value, numbers by their value, JSON as the values it holds.
func canonical(v any) string {
	rv := reflect.ValueOf(v)
	for rv.IsValid() && (rv.Kind() == reflect.Pointer || rv.Kind() == reflect.Interface) {
		if rv.IsNil() {
			return "NULL"
		}
		rv = rv.Elem()
	}
	if !rv.IsValid() {
		return "NULL"
	}
	switch x := rv.Interface().(type) {
	case time.Time:
		return x.UTC().Format(time.RFC3339Nano)
	case json.RawMessage:
		var any any
		if json.Unmarshal(x, &any) == nil {
			return canonicalJSON(any)
		}
	case fmt.Stringer:
		if rv.Kind() == reflect.Struct && rv.Type().PkgPath() == "github.com/jackc/pgx/v5/pgtype" {
			return x.String()
		}
	}
	switch rv.Kind() {
	case reflect.Array:
		if rv.Len() == 16 && rv.Type().Elem().Kind() == reflect.Uint8 {
			b := make([]byte, 16)
			reflect.Copy(reflect.ValueOf(b), rv)
			return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
		}
	case reflect.Slice:
		if rv.IsNil() {
			return "NULL"
		}
		if rv.Type().Elem().Kind() == reflect.Uint8 {
			return fmt.Sprintf("%x", rv.Bytes())
		}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return fmt.Sprint(rv.Int())
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return fmt.Sprint(rv.Uint())
	case reflect.Float32, reflect.Float64:
		return fmt.Sprint(rv.Float())
	case reflect.String:
		return rv.String()
	case reflect.Bool:
		return fmt.Sprint(rv.Bool())
	}
	return canonicalJSON(rv.Interface())
}

// canonicalJSON writes v as the JSON values it holds: a struct field by
// its JSON name, numbers as JSON numbers, maps sorted.
func canonicalJSON(v any) string {
	data, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprintf("%#v", v)
	}
	var any any
	if err := json.Unmarshal(data, &any); err != nil {
		return string(data)
	}
	if any == nil {
		// pgx scans a JSON null into any as nil, as it does SQL NULL.
		return "NULL"
	}
	data, _ = json.Marshal(any)
	return string(data)
}
