package projection

import (
	"errors"
	"fmt"
	"hash/maphash"
	"reflect"
	"slices"
	"strconv"

	"github.com/google/uuid"
)

// FoldKind is what a read-model statement does to its rows, as a fast
// rebuild folds it in memory. Each kind mirrors one statement of projgen's
// generated Postgres read models, guard, tombstones and held rows
// included, so that folding a replay leaves the rows the statements leave.
type FoldKind int

// The statements a fast rebuild folds.
const (
	// FoldInsert inserts the row, or updates a row whose guard is
	// older; it does nothing for a key whose tombstone is as new as the
	// event.
	FoldInsert FoldKind = iota + 1
	// FoldInsertFiltered is FoldInsert on a table with held rows: the
	// row goes to the table when its filter column has the passing value
	// and to the held rows otherwise, and an older copy on the other side
	// goes.
	FoldInsertFiltered
	// FoldUpdate sets columns of the matching rows whose guard is older,
	// in the table and in the held rows alike.
	FoldUpdate
	// FoldMove sets the filter column, with other columns: it moves the
	// matching rows whose guard is older to the side their new state
	// belongs on, and updates those already there.
	FoldMove
	// FoldDelete removes the matching rows whose guard is older and
	// leaves their tombstones.
	FoldDelete
	// FoldAppend adds a row per event, unless its key is there already.
	FoldAppend
)

// FoldStatement describes one read-model method to a fast rebuild: what
// its statement does and which columns its values go to.
type FoldStatement struct {
	// Method is the read-model method, which FoldRows.Apply is given.
	Method string
	// Kind is what the statement does.
	Kind FoldKind
	// Columns are the columns of the values Apply is given, in order:
	// those the statement writes, and those it matches rows by.
	Columns []string
	// Match are the columns that pick the rows an update, move or delete
	// changes: the table's key, or aggregate_id for every row of an
	// aggregate. Inserts and appends match by the key.
	Match []string
	// Keep are the columns an insert leaves as they are on a row that
	// exists, such as created_at.
	Keep []string
	// ToHeld is set for a FoldMove that moves rows into the held rows,
	// rather than out of them.
	ToHeld bool
}

// Fold describes a projection's table to a fast rebuild, which folds the
// stored events per row in memory and writes the final rows with COPY,
// rather than replaying them statement by statement. Generated code
// returns one for each projection whose statements it can fold.
type Fold struct {
	// Table is the read-model table, unqualified, and Columns every
	// column the read model writes to it.
	Table   string
	Columns []string
	// Key are the columns of its primary key.
	Key []string
	// Guard is the column that orders the events of a row
	// (aggregate_version or last_position); empty for append-only
	// tables.
	Guard string
	// Tombstones is the table of deleted rows' keys and guards, empty
	// when no event deletes rows.
	Tombstones string
	// Held is the table of the rows whose filter column, Filter, does
	// not have the value Pass; empty when the table holds every row.
	Held   string
	Filter string
	Pass   bool
	// Statements are the read model's methods.
	Statements []FoldStatement
	// New builds the projection over a read model that folds into rows.
	New func(rows *FoldRows) Projection
}

// FoldRows holds the rows a fast rebuild folds, for the keys of one
// chunk: generated fold read models call Apply with each method's
// values.
type FoldRows struct {
	plan   *foldPlan
	chunk  foldChunk
	limit  int
	rows   map[foldKey]*foldEntry
	index  map[any]map[foldKey]struct{}
	splits []foldChunk
}

// foldKey is a row's primary key, of one or two columns, its values
// normalized so that equal keys in PostgreSQL are equal here.
type foldKey struct{ a, b any }

// foldEntry is what a key has: its row in the table, its row in the held
// rows, and its tombstone.
type foldEntry struct {
	main, held *foldRow
	tomb       int64
	hasTomb    bool
}

// foldRow is one row: a value per column of the Fold, and which columns a
// statement wrote. A column no statement wrote gets its default when the
// row is copied, as it does from an INSERT that leaves it out.
type foldRow struct {
	values []any
	set    []bool
}

// foldChunk is a share of the keys: those whose hash has prefix in its
// low bits bits.
type foldChunk struct {
	bits   uint
	prefix uint64
}

// foldPlan is a Fold resolved against its table's columns.
type foldPlan struct {
	fold       *Fold
	seed       maphash.Seed
	types      []string // type name of each column (pg_type.typname), for normalizing values
	key        []int    // column of each key column
	guard      int      // column of the guard, -1 when none
	filter     int      // column of the filter, -1 when none
	index      int      // column rows are matched by besides the key, -1 when none
	statements map[string]*foldStatement
}

// foldStatement is a FoldStatement resolved to column indexes.
type foldStatement struct {
	*FoldStatement
	cols    []int // column of each value
	keyAt   []int // value of each key column, for statements matching by key
	indexAt int   // value of the index column, for statements matching by it
	guardAt int   // value of the guard, -1 when none
	filter  int   // value of the filter column, -1 when none
	sets    []int // values an update or move writes
	updates []int // values an insert writes over an existing row
}

// newFoldPlan resolves f against types, the type name (pg_type.typname)
// of each column of its table by name, and refuses what it cannot fold
// exactly.
func newFoldPlan(f *Fold, types map[string]string) (*foldPlan, error) {
	p := &foldPlan{fold: f, seed: maphash.MakeSeed(), guard: -1, filter: -1, index: -1, statements: map[string]*foldStatement{}}
	col := map[string]int{}
	for i, c := range f.Columns {
		t, ok := types[c]
		if !ok {
			return nil, fmt.Errorf("table %s has no column %s", f.Table, c)
		}
		col[c] = i
		p.types = append(p.types, t)
	}
	find := func(c string) (int, error) {
		i, ok := col[c]
		if !ok {
			return 0, fmt.Errorf("column %s is not among the fold's columns", c)
		}
		return i, nil
	}
	if len(f.Key) == 0 || len(f.Key) > 2 {
		return nil, fmt.Errorf("table %s has a key of %d columns: a fast rebuild folds keys of one or two", f.Table, len(f.Key))
	}
	for _, k := range f.Key {
		i, err := find(k)
		if err != nil {
			return nil, err
		}
		p.key = append(p.key, i)
	}
	var err error
	if f.Guard != "" {
		if p.guard, err = find(f.Guard); err != nil {
			return nil, err
		}
	}
	if f.Held != "" {
		if p.filter, err = find(f.Filter); err != nil {
			return nil, err
		}
	}
	for i := range f.Statements {
		st, err := p.resolve(&f.Statements[i], find)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", f.Statements[i].Method, err)
		}
		p.statements[st.Method] = st
	}
	return p, nil
}

// resolve resolves one statement's columns.
func (p *foldPlan) resolve(s *FoldStatement, find func(string) (int, error)) (*foldStatement, error) {
	st := &foldStatement{FoldStatement: s, indexAt: -1, guardAt: -1, filter: -1}
	at := map[string]int{}
	for i, c := range s.Columns {
		ci, err := find(c)
		if err != nil {
			return nil, err
		}
		st.cols = append(st.cols, ci)
		at[c] = i
		switch ci {
		case p.guard:
			st.guardAt = i
		case p.filter:
			st.filter = i
		}
	}
	match := s.Match
	if s.Kind == FoldInsert || s.Kind == FoldInsertFiltered || s.Kind == FoldAppend {
		match = p.fold.Key
	}
	switch {
	case sameSet(match, p.fold.Key):
		for _, k := range p.fold.Key {
			i, ok := at[k]
			if !ok {
				return nil, fmt.Errorf("no value for key column %s", k)
			}
			st.keyAt = append(st.keyAt, i)
		}
	case len(match) == 1:
		i, ok := at[match[0]]
		if !ok {
			return nil, fmt.Errorf("no value for column %s, which it matches by", match[0])
		}
		ci := st.cols[i]
		if p.index >= 0 && p.index != ci {
			return nil, fmt.Errorf("statements match rows by two columns besides the key: a fast rebuild indexes one")
		}
		p.index, st.indexAt = ci, i
	default:
		return nil, fmt.Errorf("it matches rows by %v, neither the key %v nor one column", match, p.fold.Key)
	}
	if p.guard >= 0 && st.guardAt < 0 && s.Kind != FoldAppend {
		return nil, fmt.Errorf("no value for the guard %s", p.fold.Guard)
	}
	if s.Kind == FoldInsertFiltered && st.filter < 0 {
		return nil, fmt.Errorf("no value for the filter column %s", p.fold.Filter)
	}
	for i, c := range s.Columns {
		switch {
		case slices.Contains(match, c):
		case s.Kind == FoldUpdate || s.Kind == FoldMove:
			st.sets = append(st.sets, i)
		case !slices.Contains(s.Keep, c):
			st.updates = append(st.updates, i)
		}
	}
	return st, nil
}

// sameSet reports whether a and b hold the same strings.
func sameSet(a, b []string) bool {
	return len(a) == len(b) && !slices.ContainsFunc(a, func(s string) bool { return !slices.Contains(b, s) })
}

// newRows returns empty rows for the keys of chunk, which split
// themselves when they come to hold more than limit keys.
func (p *foldPlan) newRows(chunk foldChunk, limit int) *FoldRows {
	r := &FoldRows{plan: p, chunk: chunk, limit: max(limit, 1), rows: map[foldKey]*foldEntry{}}
	if p.index >= 0 {
		r.index = map[any]map[foldKey]struct{}{}
	}
	return r
}

// Apply folds what the read-model method named method does with values,
// the values of its statement's columns, for the event of meta. It
// returns an error for what it cannot fold exactly as the statement
// would run; the rebuild then replays the events instead.
func (r *FoldRows) Apply(meta Meta, method string, values ...any) error {
	st := r.plan.statements[method]
	if st == nil {
		return fmt.Errorf("fold: no statement for method %s", method)
	}
	if len(values) != len(st.cols) {
		return fmt.Errorf("fold: %s takes %d values, got %d", method, len(st.cols), len(values))
	}
	var guard int64
	if st.guardAt >= 0 {
		g, ok := values[st.guardAt].(int64)
		if !ok {
			return fmt.Errorf("fold: %s: the guard is %T, want int64", method, values[st.guardAt])
		}
		guard = g
	}
	var err error
	switch st.Kind {
	case FoldInsert, FoldInsertFiltered, FoldAppend:
		err = r.insert(st, guard, values)
	case FoldUpdate, FoldMove, FoldDelete:
		err = r.change(st, guard, values)
	default:
		err = fmt.Errorf("unknown kind %d", st.Kind)
	}
	if err != nil {
		return fmt.Errorf("fold %s of the event at position %d: %w", method, meta.Position, err)
	}
	return nil
}

// insert folds an insert, a filtered insert or an append.
func (r *FoldRows) insert(st *foldStatement, guard int64, values []any) error {
	k, err := r.key(st.keyAt, values)
	if err != nil {
		return err
	}
	if !r.mine(k) {
		return nil
	}
	e := r.rows[k]
	if e == nil {
		e = &foldEntry{}
	}
	blocked := e.hasTomb && e.tomb >= guard
	switch st.Kind {
	case FoldAppend:
		if e.main == nil {
			e.main = r.newRow(st, values)
		}
	case FoldInsert:
		if !blocked {
			e.main = r.upsert(e.main, st, guard, values)
		}
	case FoldInsertFiltered:
		// Both sides decide on the rows as they were before the
		// statement, as the statement's parts all see one snapshot.
		if passes(values[st.filter], r.plan.fold.Pass) {
			released := older(e.held, r.plan.guard, guard)
			if !blocked && !newer(e.held, r.plan.guard, guard) {
				e.main = r.upsert(e.main, st, guard, values)
			}
			if released {
				e.held = nil
			}
		} else {
			withheld := older(e.main, r.plan.guard, guard)
			if !blocked && !newer(e.main, r.plan.guard, guard) {
				e.held = r.upsert(e.held, st, guard, values)
			}
			if withheld {
				e.main = nil
			}
		}
	}
	r.store(k, e)
	return nil
}

// upsert inserts the row, or updates row when its guard is older.
func (r *FoldRows) upsert(row *foldRow, st *foldStatement, guard int64, values []any) *foldRow {
	if row == nil {
		return r.newRow(st, values)
	}
	if older(row, r.plan.guard, guard) {
		for _, i := range st.updates {
			row.write(st.cols[i], values[i])
		}
	}
	return row
}

// newRow returns a row of the values of st.
func (r *FoldRows) newRow(st *foldStatement, values []any) *foldRow {
	n := len(r.plan.fold.Columns)
	row := &foldRow{values: make([]any, n), set: make([]bool, n)}
	for i, c := range st.cols {
		row.write(c, values[i])
	}
	return row
}

// change folds an update, a move or a delete of the rows it matches.
func (r *FoldRows) change(st *foldStatement, guard int64, values []any) error {
	if st.indexAt < 0 {
		k, err := r.key(st.keyAt, values)
		if err != nil {
			return err
		}
		if !r.mine(k) {
			return nil
		}
		e := r.rows[k]
		if e == nil {
			e = &foldEntry{}
		}
		if err := r.changeRow(st, guard, values, e, false, nil); err != nil {
			return err
		}
		if st.Kind == FoldDelete && r.plan.fold.Tombstones != "" {
			e.bury(guard)
		}
		r.store(k, e)
		return nil
	}
	v, err := r.plan.normalize(st.cols[st.indexAt], values[st.indexAt])
	if err != nil {
		return err
	}
	for k := range r.index[v] {
		e := r.rows[k]
		if e == nil || !r.indexed(e, v) {
			delete(r.index[v], k)
			continue
		}
		if err := r.changeRow(st, guard, values, e, true, v); err != nil {
			return err
		}
		r.store(k, e)
	}
	return nil
}

// changeRow folds an update, move or delete of the rows of e: those of
// e whose index value is v when byIndex.
func (r *FoldRows) changeRow(st *foldStatement, guard int64, values []any, e *foldEntry, byIndex bool, v any) error {
	match := func(row *foldRow) bool {
		if row == nil || !older(row, r.plan.guard, guard) {
			return false
		}
		if !byIndex {
			return true
		}
		w, ok := r.indexValue(row)
		return ok && w == v
	}
	held, main := match(e.held), match(e.main)
	switch st.Kind {
	case FoldUpdate:
		for _, row := range []*foldRow{e.held, e.main} {
			if match(row) {
				r.set(row, st, values)
			}
		}
	case FoldMove:
		from, to := &e.held, &e.main
		if st.ToHeld {
			from, to = &e.main, &e.held
		}
		moved, arrive := match(*from), match(*to)
		if moved && *to != nil {
			return errors.New("the move would insert a second row of its key")
		}
		if arrive {
			r.set(*to, st, values)
		}
		if moved {
			// The moved row keeps the columns no statement wrote
			// unset: the statement copies their defaults, and
			// COPY leaves them to their defaults too.
			row := *from
			r.set(row, st, values)
			*from, *to = nil, row
		}
	case FoldDelete:
		if held && main && byIndex && r.plan.fold.Tombstones != "" {
			return errors.New("the delete would record one tombstone twice")
		}
		if held {
			e.held = nil
		}
		if main {
			e.main = nil
		}
		if (held || main) && byIndex && r.plan.fold.Tombstones != "" {
			e.bury(guard)
		}
	}
	return nil
}

// set writes the values an update or move sets.
func (r *FoldRows) set(row *foldRow, st *foldStatement, values []any) {
	for _, i := range st.sets {
		row.write(st.cols[i], values[i])
	}
}

// write sets column c of the row to v.
func (row *foldRow) write(c int, v any) {
	row.values[c], row.set[c] = v, true
}

// bury records a tombstone of guard, or keeps a newer one.
func (e *foldEntry) bury(guard int64) {
	if !e.hasTomb || e.tomb < guard {
		e.tomb, e.hasTomb = guard, true
	}
}

// older reports whether row exists and its guard is older than guard, as
// the statements' `guard < $n` does: a row without a guard is not.
func older(row *foldRow, col int, guard int64) bool {
	if row == nil {
		return false
	}
	if col < 0 {
		return true
	}
	g, ok := row.values[col].(int64)
	return ok && g < guard
}

// newer reports whether row exists and its guard is as new as guard or
// newer, as `guard >= $n` does.
func newer(row *foldRow, col int, guard int64) bool {
	if row == nil || col < 0 {
		return false
	}
	g, ok := row.values[col].(int64)
	return ok && g >= guard
}

// passes reports whether a filter value is pass, as `$n IS NOT DISTINCT
// FROM pass` does: NULL is not.
func passes(v any, pass bool) bool {
	switch b := v.(type) {
	case bool:
		return b == pass
	case *bool:
		return b != nil && *b == pass
	}
	return false
}

// store keeps e under k, or drops it when it holds nothing, and indexes
// its rows; it splits the chunk when it holds more keys than its limit.
func (r *FoldRows) store(k foldKey, e *foldEntry) {
	if e.main == nil && e.held == nil && !e.hasTomb {
		delete(r.rows, k)
		return
	}
	if _, ok := r.rows[k]; !ok {
		r.rows[k] = e
		if len(r.rows) > r.limit {
			r.split()
		}
	}
	if r.index == nil || r.rows[k] == nil {
		return
	}
	for _, row := range []*foldRow{e.main, e.held} {
		if v, ok := r.indexValue(row); ok {
			set := r.index[v]
			if set == nil {
				set = map[foldKey]struct{}{}
				r.index[v] = set
			}
			set[k] = struct{}{}
		}
	}
}

// indexed reports whether a row of e has the index value v.
func (r *FoldRows) indexed(e *foldEntry, v any) bool {
	for _, row := range []*foldRow{e.main, e.held} {
		if w, ok := r.indexValue(row); ok && w == v {
			return true
		}
	}
	return false
}

// indexValue returns row's normalized value of the column rows are
// indexed by, and false for no row or a NULL or unnormalizable value,
// which no statement matches.
func (r *FoldRows) indexValue(row *foldRow) (any, bool) {
	if row == nil {
		return nil, false
	}
	v, err := r.plan.normalize(r.plan.index, row.values[r.plan.index])
	return v, err == nil && v != nil
}

// split halves the chunk until it holds no more keys than its limit: it
// drops the keys of the other half, which a later pass folds.
func (r *FoldRows) split() {
	for len(r.rows) > r.limit && r.chunk.bits < 64 {
		bit := uint64(1) << r.chunk.bits
		r.splits = append(r.splits, foldChunk{bits: r.chunk.bits + 1, prefix: r.chunk.prefix | bit})
		r.chunk.bits++
		for k := range r.rows {
			if r.plan.hash(k)&bit != 0 {
				delete(r.rows, k)
			}
		}
	}
}

// mine reports whether k is among the chunk's keys.
func (r *FoldRows) mine(k foldKey) bool {
	if r.chunk.bits == 0 {
		return true
	}
	mask := uint64(1)<<r.chunk.bits - 1
	return r.plan.hash(k)&mask == r.chunk.prefix
}

// hash returns k's hash, which chunks share the keys by.
func (p *foldPlan) hash(k foldKey) uint64 { return maphash.Comparable(p.seed, k) }

// key returns the normalized primary key among values, at the positions
// at.
func (r *FoldRows) key(at []int, values []any) (foldKey, error) {
	var k foldKey
	for i, vi := range at {
		v, err := r.plan.normalize(r.plan.key[i], values[vi])
		if err != nil {
			return k, err
		}
		if v == nil {
			return k, fmt.Errorf("key column %s is NULL", r.plan.fold.Key[i])
		}
		if i == 0 {
			k.a = v
		} else {
			k.b = v
		}
	}
	return k, nil
}

// normalize returns v, a value for column c, in the form that makes
// values equal exactly when PostgreSQL finds them equal in the column:
// text of a uuid or integer column parsed, integers as int64, byte
// slices as strings.
func (p *foldPlan) normalize(c int, v any) (any, error) {
	typ := p.types[c]
	switch x := v.(type) {
	case nil:
		return nil, nil
	case string:
		return parseText(x, typ)
	case []byte:
		return string(x), nil
	case int64, uuid.UUID:
		return x, nil
	}
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.String:
		return parseText(rv.String(), typ)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return rv.Int(), nil
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		if u := rv.Uint(); u <= 1<<63-1 {
			return int64(u), nil
		}
	case reflect.Array:
		if rv.Type().Elem().Kind() == reflect.Uint8 && rv.Len() == 16 {
			var u uuid.UUID
			reflect.Copy(reflect.ValueOf(u[:]), rv)
			return u, nil
		}
	}
	if !rv.Type().Comparable() {
		return nil, fmt.Errorf("a %T value keys or matches rows, which a fast rebuild cannot compare", v)
	}
	return v, nil
}

// parseText returns text bound for a column of type typ (pg_type.typname)
// as the column holds it.
func parseText(s, typ string) (any, error) {
	switch typ {
	case "uuid":
		u, err := uuid.Parse(s)
		if err != nil {
			return nil, fmt.Errorf("%q for a uuid column: %w", s, err)
		}
		return u, nil
	case "int8", "int4", "int2":
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return nil, fmt.Errorf("%q for an %s column: %w", s, typ, err)
		}
		return n, nil
	case "text", "varchar":
		return s, nil
	}
	return nil, fmt.Errorf("text keys or matches a %s column, which a fast rebuild does not compare", typ)
}
