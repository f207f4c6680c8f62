package projection

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Defaults of a fast rebuild.
//   - It holds at most 100,000 keys' rows at once, tens of megabytes for
//     rows of ten columns, so that a store of any size folds in bounded
//     memory: past it, it folds the keys in shares, one pass of the
//     events each.
//   - It reads pages of 10,000 events, so that a read's round trip is
//     small beside folding the page.
const (
	defaultRebuildChunk = 100_000
	foldPageSize        = 10_000
)

// foldStats is what a fast rebuild did.
type foldStats struct {
	events, rows, passes int
	through              int64
}

// fill replays every event into the tables of the schema shadow: by
// folding them per row and copying the final rows when reg has a Fold,
// or by replaying them otherwise, and also when the fold refuses an
// event it cannot fold exactly as the statements would run, or COPY
// fails: the replay then fails, parks or applies exactly as it would
// have. tables are the shadow's tables, unqualified and quoted.
func (r *Runner) fill(ctx context.Context, conn *pgxpool.Conn, reg Registration, shadow string, tables []string) error {
	if reg.Fold != nil {
		start := time.Now()
		stats, err := r.fold(ctx, conn, reg, shadow)
		if err == nil {
			r.logger().Info("rebuild: folded the events and copied the rows", "projection", reg.Name,
				"events", stats.events, "rows", stats.rows, "passes", stats.passes, "position", stats.through, "took", time.Since(start))
			return nil
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		r.logger().Warn("rebuild: cannot fold the events exactly; replaying them instead", "projection", reg.Name, "cause", err)
		if err := truncate(ctx, conn, shadow, tables); err != nil {
			return err
		}
	}
	return r.replay(ctx, reg, shadow)
}

// truncate empties the schema's tables.
func truncate(ctx context.Context, conn *pgxpool.Conn, schema string, tables []string) error {
	qualified := make([]string, len(tables))
	for i, t := range tables {
		qualified[i] = pgx.Identifier{schema}.Sanitize() + "." + t
	}
	if _, err := conn.Exec(ctx, "TRUNCATE "+strings.Join(qualified, ", ")); err != nil {
		return fmt.Errorf("empty the rebuild's tables: %w", err)
	}
	return nil
}

// fold folds every event of reg into the tables of the schema shadow, a
// share of the keys per pass, and moves the projection's position there
// to the last event it folded.
func (r *Runner) fold(ctx context.Context, conn *pgxpool.Conn, reg Registration, shadow string) (foldStats, error) {
	var stats foldStats
	types, err := columnTypes(ctx, conn, shadow, reg.Fold.Table)
	if err != nil {
		return stats, err
	}
	written := []string{reg.Fold.Table, reg.Fold.Held, reg.Fold.Tombstones}
	for _, t := range written {
		if t != "" && !slices.Contains(reg.Tables, t) {
			return stats, fmt.Errorf("the fold writes %s, which is not among the registration's tables %v", t, reg.Tables)
		}
	}
	for _, t := range reg.Tables {
		if !slices.Contains(written, t) {
			return stats, fmt.Errorf("the projection writes %s, which the fold does not", t)
		}
	}
	plan, err := newFoldPlan(reg.Fold, types)
	if err != nil {
		return stats, err
	}
	pending := []foldChunk{{}}
	bound := int64(-1)
	for len(pending) > 0 {
		chunk := pending[len(pending)-1]
		pending = pending[:len(pending)-1]
		rows := plan.newRows(chunk, r.rebuildChunk())
		n, through, err := r.foldPass(ctx, reg, rows, bound)
		if err != nil {
			return stats, err
		}
		bound = through
		pending = append(pending, rows.splits...)
		copied, err := rows.copyInto(ctx, conn, shadow)
		if err != nil {
			return stats, err
		}
		stats.events, stats.rows, stats.passes = stats.events+n, stats.rows+copied, stats.passes+1
	}
	stats.through = bound
	_, err = conn.Exec(ctx, `INSERT INTO `+pgx.Identifier{shadow, "projgen_tracking"}.Sanitize()+` (name, position) VALUES ($1, $2)
ON CONFLICT (name) DO UPDATE SET position = EXCLUDED.position, updated_at = now()`, reg.Name, bound)
	if err != nil {
		return stats, fmt.Errorf("record the folded position: %w", err)
	}
	return stats, nil
}

// foldPass folds the events of reg through bound into rows, or through
// the end the source can read now when bound is negative, and returns how
// many it folded and the position it folded through.
func (r *Runner) foldPass(ctx context.Context, reg Registration, rows *FoldRows, bound int64) (int, int64, error) {
	p := reg.Fold.New(rows)
	ctx, cancel := context.WithCancel(ctx)
	pages := r.foldPages(ctx, reg.Topics, bound)
	defer func() {
		// Stop the reader and the decoder, and wait for them, so that
		// no read outlives the pass.
		cancel()
		for range pages {
		}
	}()
	folded, through := 0, int64(0)
	for d := range pages {
		if d.err != nil {
			return folded, through, d.err
		}
		for i, s := range d.page.Events {
			if d.errs[i] != nil {
				return folded, through, eventError(s.Meta, d.errs[i])
			}
			if err := p.Process(ctx, Event{Meta: s.Meta, Data: d.data[i]}); err != nil {
				return folded, through, eventError(s.Meta, err)
			}
		}
		folded += len(d.page.Events)
		through = d.page.Through
	}
	// The pages end early only when ctx is done.
	return folded, through, ctx.Err()
}

// decodedPage is a page of events with their payloads decoded, or the
// error of each that did not decode.
type decodedPage struct {
	page Page
	data []any
	errs []error
	err  error
}

// foldPages reads the events of topics from the start through bound, or
// through the end the source can read at its first read when bound is
// negative, and delivers them page by page, decoded, on the channel it
// returns, which it closes after the page through bound or an error. A
// reader and a decoder run in goroutines of their own, a page ahead each
// at most, so that reading, decoding and folding share the cores and at
// most four pages are held. Cancelling ctx stops both.
func (r *Runner) foldPages(ctx context.Context, topics []string, bound int64) <-chan decodedPage {
	read := make(chan decodedPage, 1)
	go func() {
		defer close(read)
		for after := int64(0); bound < 0 || after < bound; {
			page, err := r.Source.Read(ctx, after, topics, foldPageSize)
			if err == nil {
				err = checkPage(page, after)
			}
			if err != nil {
				send(ctx, read, decodedPage{err: err})
				return
			}
			if bound < 0 {
				bound = page.End
			}
			page = page.upTo(bound)
			if !send(ctx, read, decodedPage{page: page}) {
				return
			}
			after = page.Through
		}
	}()
	decoded := make(chan decodedPage, 1)
	go func() {
		defer close(decoded)
		for d := range read {
			d.data, d.errs = make([]any, len(d.page.Events)), make([]error, len(d.page.Events))
			for i, s := range d.page.Events {
				d.data[i], d.errs[i] = r.Types.Decode(s.Topic, s.Data)
			}
			if !send(ctx, decoded, d) {
				return
			}
		}
	}()
	return decoded
}

// send sends v on c unless ctx is done first, and reports whether it
// sent.
func send[T any](ctx context.Context, c chan<- T, v T) bool {
	select {
	case c <- v:
		return true
	case <-ctx.Done():
		return false
	}
}

// copyInto writes the rows and tombstones with COPY into the tables of
// schema, and returns how many rows it wrote. Rows are copied in groups
// of those whose statements wrote the same columns, so that the columns
// none wrote get their defaults, as they do from an INSERT that leaves
// them out.
func (r *FoldRows) copyInto(ctx context.Context, conn *pgxpool.Conn, schema string) (int, error) {
	f := r.plan.fold
	main, held := map[string][]*foldRow{}, map[string][]*foldRow{}
	var tombs [][]any
	for k, e := range r.rows {
		if e.main != nil {
			sig := e.main.signature()
			main[sig] = append(main[sig], e.main)
		}
		if e.held != nil {
			sig := e.held.signature()
			held[sig] = append(held[sig], e.held)
		}
		if e.hasTomb {
			t := []any{k.a}
			if len(f.Key) == 2 {
				t = append(t, k.b)
			}
			tombs = append(tombs, append(t, e.tomb))
		}
	}
	n := 0
	for _, side := range []struct {
		table  string
		groups map[string][]*foldRow
	}{{f.Table, main}, {f.Held, held}} {
		for sig, rows := range side.groups {
			copied, err := r.copyRows(ctx, conn, pgx.Identifier{schema, side.table}, sig, rows)
			if err != nil {
				return n, err
			}
			n += copied
		}
	}
	if len(tombs) > 0 {
		columns := append(append([]string(nil), f.Key...), f.Guard)
		if _, err := conn.CopyFrom(ctx, pgx.Identifier{schema, f.Tombstones}, columns, pgx.CopyFromRows(tombs)); err != nil {
			return n, fmt.Errorf("copy the tombstones into %s: %w", f.Tombstones, err)
		}
	}
	return n, nil
}

// copyRows copies rows, whose written columns are those of sig, into
// table.
func (r *FoldRows) copyRows(ctx context.Context, conn *pgxpool.Conn, table pgx.Identifier, sig string, rows []*foldRow) (int, error) {
	var columns []string
	var at []int
	for i, c := range r.plan.fold.Columns {
		if sig[i] == '1' {
			columns, at = append(columns, c), append(at, i)
		}
	}
	values := make([]any, len(at))
	n, err := conn.CopyFrom(ctx, table, columns, pgx.CopyFromSlice(len(rows), func(i int) ([]any, error) {
		for j, c := range at {
			values[j] = rows[i].values[c]
		}
		return values, nil
	}))
	if err != nil {
		return int(n), fmt.Errorf("copy the rows into %s: %w", table.Sanitize(), err)
	}
	return int(n), nil
}

// signature says which columns of the row statements wrote, a byte each.
func (row *foldRow) signature() string {
	b := make([]byte, len(row.set))
	for i, s := range row.set {
		b[i] = '0'
		if s {
			b[i] = '1'
		}
	}
	return string(b)
}

// columnTypes returns the type name of each column of the schema's
// table.
func columnTypes(ctx context.Context, conn *pgxpool.Conn, schema, table string) (map[string]string, error) {
	rows, err := conn.Query(ctx, `SELECT a.attname, t.typname FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid
WHERE a.attrelid = $1::regclass AND a.attnum > 0 AND NOT a.attisdropped`, pgx.Identifier{schema, table}.Sanitize())
	if err != nil {
		return nil, fmt.Errorf("read the columns of %s: %w", table, err)
	}
	types := map[string]string{}
	var name, typ string
	_, err = pgx.ForEachRow(rows, []any{&name, &typ}, func() error {
		types[name] = typ
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read the columns of %s: %w", table, err)
	}
	if len(types) == 0 {
		return nil, errors.New("table " + table + " has no columns")
	}
	return types, nil
}

// rebuildChunk returns RebuildChunk, or its default when it is not set.
func (r *Runner) rebuildChunk() int {
	if r.RebuildChunk > 0 {
		return r.RebuildChunk
	}
	return defaultRebuildChunk
}
