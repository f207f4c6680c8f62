// Package model turns projgen.yaml and the loaded events into everything
// the renderers write: projections with their Go names, read-model
// methods with their parameters, tables with their columns, and the
// migrations that bring the database to those tables. Every name is
// computed here, once; renderers only print.
package model

import (
	"github.com/projgen/projgen/generator/config"
	"github.com/projgen/projgen/generator/load"
)

// Module is everything projgen generates for one Go module.
type Module struct {
	// Path is the module path.
	Path string
	// Dir is the module root, absolute.
	Dir string
	// MigrationFormat is golang-migrate or goose.
	MigrationFormat string
	// Projections are the module's projections, in projgen.yaml order.
	Projections []*Projection
	// Registry is the package that lists every projection.
	Registry *Registry
	// EventStore is the event store the runner main reads.
	EventStore EventStore
	// MigrationDirs are the migration directories, with the migrations
	// that are to be written, sorted by directory.
	MigrationDirs []*MigrationDir
	// Unprojected lists, for messages, events that discovery finds in an
	// aggregate package but that no projection lists, handled or ignored.
	Unprojected []*load.Event
	// Imports are the packages generated code imports from outside the
	// standard library and the module, with the modules that provide them.
	Imports []Import
}

// Import is a package imported by generated code from another module.
type Import struct {
	// Package is the import path.
	Package string
	// Module is the module that provides it.
	Module string
	// Test is true when only tests import it.
	Test bool
}

// GoPackage is a Go package that generated files belong to.
type GoPackage struct {
	// Path is the import path.
	Path string
	// Name is the package name.
	Name string
	// Dir is the directory, slash-separated and relative to the module root.
	Dir string
}

// Projection is one projection: its Go types, its read model's methods and
// its table.
type Projection struct {
	// Name is the projection's name, snake_case; Name() returns it.
	Name string
	// Pattern is the seed pattern it follows.
	Pattern string
	// Package is where its files go.
	Package GoPackage
	// Names are its Go identifiers.
	Names Names
	// Files are the names of its files, relative to the module root.
	Files Files
	// Methods are the read model's methods, one per handled event, in
	// projgen.yaml order.
	Methods []*Method
	// Ignored are the events listed with op ignore.
	Ignored []*load.Event
	// Table is the read-model table.
	Table *Table
	// Queries are the typed reads of Table.
	Queries *Queries
	// KeyType is the SQL type of aggregate IDs in this projection (uuid or
	// text), which also picks sample IDs in tests.
	KeyType string
	// MigrationDir is the directory of its migrations, relative to the
	// module root.
	MigrationDir string
}

// Names are a projection's Go identifiers.
type Names struct {
	// Base is the exported form of the projection's name, "Installation".
	Base string
	// Projection is the projection type, "InstallationProjection".
	Projection string
	// NewProjection is its constructor.
	NewProjection string
	// ReadModel is the read-model interface, "InstallationReadModel".
	ReadModel string
	// Postgres is the Postgres read model, "PostgresInstallationReadModel".
	Postgres string
	// NewPostgres is its constructor.
	NewPostgres string
	// Mock is the gomock mock of the read model.
	Mock string
	// MockRecorder is the mock's recorder type.
	MockRecorder string
	// NewMock is the mock's constructor.
	NewMock string
	// View is the projection's field that holds its read model, and its
	// constructor's parameter.
	View string
	// Fold is the function that describes the projection's table to a
	// fast rebuild, "InstallationFold", and FoldReadModel the read model
	// that folds events in memory for it.
	Fold, FoldReadModel string
	// Row is the row type of the table, "InstallationRow"; Filter the
	// conditions of List and Count, "InstallationFilter", and ListOptions
	// List's, "InstallationListOptions".
	Row, Filter, ListOptions string
	// Queries is the interface of the reads, "InstallationQueries";
	// PostgresQueries implements it, NewPostgresQueries returns one.
	Queries, PostgresQueries, NewPostgresQueries string
	// Get, List and Count are the queries' methods:
	// "GetInstallationRow", "ListInstallationRows",
	// "CountInstallationRows".
	Get, List, Count string
}

// Files are the files of one projection, relative to the module root.
type Files struct {
	ReadModel    string
	Projection   string
	Postgres     string
	Mock         string
	Test         string
	PostgresTest string
	// Fold holds the projection's fold read model, for fast rebuilds.
	Fold string
	// Queries holds the row type and the queries of the table.
	Queries string
}

// All returns the files, in the order above.
func (f Files) All() []string {
	return []string{f.ReadModel, f.Projection, f.Postgres, f.Mock, f.Test, f.PostgresTest, f.Fold, f.Queries}
}

// Method is one read-model method: the event it applies and what it does.
type Method struct {
	// Name is the method name.
	Name string
	// Handler is the projection's unexported method that applies the
	// event with Name: Name unexported, or apply+Name when that would be
	// a Go keyword or the projection's View field.
	Handler string
	// Event is the event it applies.
	Event *load.Event
	// Topic is the event's topic.
	Topic string
	// Op is insert, update, set, delete or append.
	Op string
	// Params are the event values passed to the method, after ctx and meta.
	Params []*Param
	// When is the condition under which the projection calls the method,
	// or nil.
	When *Condition
	// Writes are the columns the statement writes and where each value
	// comes from, key first.
	Writes []*Write
	// ByAggregate is true when the method applies to every row of the
	// aggregate (an event that does not carry a field-keyed table's key).
	ByAggregate bool
	// KeyParam is the parameter that keys the row in a field-keyed table.
	KeyParam *Param
	// ScopeWrite is the aggregate ID the statement matches a row's Scope
	// column by, nil when the table has no Scope or the method matches
	// every row of the aggregate anyway (ByAggregate).
	ScopeWrite *Write
	// Args is the struct the method takes its parameters in, nil when it
	// takes them one by one (see MaxPositionalParams).
	Args *ArgsStruct
	// Statement is the kind of statement the method runs, and
	// MovesToHeld, for a MoveStatement, whether it moves rows into its
	// table's held rows rather than out of them. The Postgres read model
	// renders the statement, and the fold read model folds it.
	Statement   Statement
	MovesToHeld bool
	// FilterInSQL is true for an insert whose condition the statement
	// applies through its table's Filter: the projection calls the read
	// model whatever the condition, and the row goes to the table or to
	// its held rows.
	FilterInSQL bool
	// IDCheck is set when the aggregate ID is written to or matched by a
	// column that not every string fits (uuid, bigint). The method checks
	// the ID first, so that one that does not fit is an error naming the
	// event rather than a bare SQL error.
	IDCheck *IDCheck
}

// Statement is the kind of statement a read-model method runs, named as
// its SQL template.
type Statement string

// The statements of read-model methods.
const (
	// InsertStatement upserts the row, guarded by its table's Guard, and
	// skips a key whose tombstone is as new as the event.
	InsertStatement Statement = "insert"
	// InsertFilteredStatement is an insert into a table with a Filter:
	// the row goes to the table or to its held rows by the filter value.
	InsertFilteredStatement Statement = "insert_filtered"
	// UpdateStatement sets columns of the matching rows, in the table and
	// in its held rows.
	UpdateStatement Statement = "update"
	// MoveStatement sets a Filter's column to a constant, which moves the
	// matching rows to the side their new state belongs on.
	MoveStatement Statement = "move"
	// DeleteStatement deletes the matching rows and leaves tombstones.
	DeleteStatement Statement = "delete"
	// AppendStatement adds a row per event.
	AppendStatement Statement = "append"
)

// IDCheck is how a method checks the aggregate ID before it writes.
type IDCheck struct {
	// Column is the column the ID goes to.
	Column *Column
	// Func is the runtime function that checks it: CheckUUID or
	// CheckBigint.
	Func string
	// Want says what the column takes, for messages: "a UUID".
	Want string
	// NotFitting is an aggregate ID the check refuses, for tests.
	NotFitting string
}

// idCheckOf returns the check of aggregate IDs written to c, or nil when
// every string fits.
func idCheckOf(c *Column) *IDCheck {
	switch c.SQLType {
	case "uuid":
		return &IDCheck{Column: c, Func: "CheckUUID", Want: "a UUID", NotFitting: "not-a-uuid"}
	case "bigint":
		return &IDCheck{Column: c, Func: "CheckBigint", Want: "an integer", NotFitting: "not-an-integer"}
	}
	return nil
}

// MaxPositionalParams is the most event values a read-model method takes
// as parameters of its own. A method with more takes one struct of them
// (Method.Args), as sqlc does past its query_parameter_limit: four
// positional values still read at a glance in a call, while a longer list,
// often of the same types side by side (two uuid.UUIDs, several
// strings), is easy to get out of order without a compiler to notice.
const MaxPositionalParams = 4

// ArgsStruct is the struct a read-model method with many parameters takes
// them in: one field per parameter, named as the event's field.
type ArgsStruct struct {
	// Type is the struct type's name, <Method>Params.
	Type string
	// Name is the parameter's name in the method, arg.
	Name string
}

// Param is one parameter of a read-model method, taken from the event.
type Param struct {
	// Name is the Go parameter name.
	Name string
	// Field is the event field it comes from; nil when the whole payload
	// is passed (non-struct events).
	Field *load.Field
	// Type is its Go type.
	Type *load.Type
	// Column is the column it is written to.
	Column *Column
	// Conv says how it is passed to pgx.
	Conv Conversion
	// ArgsField is its field in the method's Args struct, empty when the
	// method takes its parameters one by one.
	ArgsField string
}

// Conversion says how a Go value is passed to pgx.
type Conversion int

const (
	// AsIs passes the value unchanged; pgx encodes it.
	AsIs Conversion = iota
	// ByteSlice passes a byte array as a slice, value[:], for bytea.
	ByteSlice
	// AsJSON passes an interface value as projection.JSON{Value: value},
	// so that pgx marshals it even when it holds a string.
	AsJSON
)

// Source says where a written value comes from.
type Source int

// Value sources.
const (
	// FromParam is a method parameter.
	FromParam Source = iota
	// FromAggregateID is meta.AggregateID.
	FromAggregateID
	// FromVersion is meta.Version.
	FromVersion
	// FromPosition is meta.Position.
	FromPosition
	// FromTimestamp is meta.Timestamp.
	FromTimestamp
	// FromConstant is a constant from projgen.yaml.
	FromConstant
)

// Write is one column a statement writes or matches.
type Write struct {
	// Column is the column.
	Column *Column
	// Source is where the value comes from.
	Source Source
	// Param is the parameter, for FromParam.
	Param *Param
	// Constant is the value, for FromConstant: bool, int64, float64,
	// string or nil.
	Constant any
}

// Table is a read-model table.
type Table struct {
	// Name is the table name.
	Name string
	// Key is the key column.
	Key *Column
	// KeyFrom is aggregate, field or position.
	KeyFrom string
	// Columns are all columns in order: key, bookkeeping, then data.
	Columns []*Column
	// Indexes are the secondary indexes.
	Indexes []*Index
	// Retired are the indexes projgen made before and no longer wants,
	// which a migration of an existing table drops: the plain index of a
	// column made unique since.
	Retired []*Index
	// AppendOnly is true for tables with one row per event.
	AppendOnly bool
	// Guard is the column that orders events for a row: a statement
	// changes the row only when the event is newer than the last one
	// applied. It is aggregate_version for rows keyed by aggregate, whose
	// events all come from one stream, and last_position for rows keyed by
	// a field, which events of several aggregates may touch, since only the
	// global position orders those. Append-only tables need none.
	Guard *Column
	// Scope is the aggregate_id column when it is part of the key: rows
	// keyed by a field that identifies them within their aggregate only
	// (key scope aggregate), so that two aggregates' rows of the same
	// field value stay apart. Nil otherwise.
	Scope *Column
	// Filter is set when the table holds only the rows whose current
	// state passes a filtered projection's condition, nil otherwise.
	Filter *Filter
	// Tombstones is the table that keeps the key and guard of each
	// deleted row, nil when no event deletes rows. A deleted row leaves
	// nothing for the guard to compare with, so without it an older
	// event replayed after the delete would insert the row again; with
	// it, inserts skip keys whose tombstone is as new as the event.
	// Readers see a table without the deleted rows, and no column to
	// filter on.
	Tombstones *Table
}

// Filter is a filter on a row's state: a boolean column that the
// condition of an inserting event tests (when: IsActive) and that other
// events set (Activated, Deactivated). The table holds the rows whose
// column has the value Pass; the others wait in Held, with all their
// columns, and events that set the column move rows between the two, so
// that the table holds the rows whose current state passes whatever order
// the events come in.
type Filter struct {
	// Column is the tested column.
	Column *Column
	// Pass is the value of a row the table holds.
	Pass bool
	// Held is the table of the rows that fail: the same columns, named
	// <table>_held.
	Held *Table
}

// Column lookup by name.
func (t *Table) Column(name string) *Column {
	for _, c := range t.Columns {
		if c.Name == name {
			return c
		}
	}
	return nil
}

// Role says what a column holds.
type Role int

// Column roles.
const (
	// DataColumn holds an event field or a constant.
	DataColumn Role = iota
	// KeyColumn is the table's primary key.
	KeyColumn
	// AggregateColumn holds the aggregate ID in tables keyed otherwise.
	AggregateColumn
	// VersionColumn holds the aggregate version of the last applied event.
	VersionColumn
	// PositionColumn holds the position of the last applied event.
	PositionColumn
	// CreatedColumn holds the timestamp of the event that created the row.
	CreatedColumn
	// UpdatedColumn holds the timestamp of the last applied event.
	UpdatedColumn
)

// Column is a table column.
type Column struct {
	// Name is the column name, unquoted.
	Name string
	// SQLType is its PostgreSQL type, such as text or numeric(20).
	SQLType string
	// NotNull is true for NOT NULL columns.
	NotNull bool
	// Default is a SQL literal default, or empty.
	Default string
	// Role says what it holds.
	Role Role
	// GoType is the Go type written to it, for data columns fed by fields.
	GoType *load.Type
}

// Index is a secondary index.
type Index struct {
	// Name is the index name.
	Name string
	// Columns are the indexed columns.
	Columns []string
	// Unique is true for a UNIQUE index.
	Unique bool
}

// Registry is the generated package that lists every projection of the
// module and the topic → payload table.
type Registry struct {
	// Package is where it goes.
	Package GoPackage
	// MigrationDirs are the migration directories it lists for the
	// runner main's -migrate: those a projection lives in, sorted.
	MigrationDirs []*MigrationDir
	// File is its file, relative to the module root.
	File string
	// TestFile is its test, which checks every registration; empty when
	// there is no projection to check.
	TestFile string
	// Projections are all projections, sorted by name.
	Projections []*Projection
	// EventTypes are the topic → payload entries, sorted by topic.
	EventTypes []EventType
}

// Files returns the registry's files: File, and TestFile when set.
func (r *Registry) Files() []string {
	if r.TestFile == "" {
		return []string{r.File}
	}
	return []string{r.File, r.TestFile}
}

// EventType maps a topic to its payload type.
type EventType struct {
	Topic string
	Event *load.Event
}

// Condition is a filter on an event's fields.
type Condition struct {
	// Source is the condition as written in projgen.yaml.
	Source string
	// Expr is its parsed form.
	Expr Expr
	// Holds and Fails are field values that make the condition hold and
	// fail, for the generated tests: field name → value.
	Holds, Fails map[string]Sample
}

// EventStore is the event store the scaffolded runner main reads:
// projgen's own events table, or another store through a source module.
type EventStore struct {
	// Name is the store, as projgen.yaml's source: says: projgen, goes...
	Name string
	// Package is the import path of the source's package; empty for
	// projgen's own table, which the runtime reads.
	Package string
	// Driver is the import path of the database/sql driver the runner
	// main imports for the store, and DriverModule its module; empty
	// when the store needs none.
	Driver, DriverModule string
}

// HallgrenSourceModule is the module of the source for
// hallgren/eventsourcing's SQL store; its package has the same path.
const HallgrenSourceModule = "github.com/projgen/projgen/sources/hallgren"

// SQLiteDriver is the database/sql driver of hallgren's SQL store, which
// runs on SQLite.
const SQLiteDriver = "github.com/mattn/go-sqlite3"

// GoesSourceModule is the module of the source for goes' PostgreSQL
// backend; its package has the same path.
const GoesSourceModule = "github.com/projgen/projgen/sources/goes"

// JetStreamSourceModule is the module of the source for NATS JetStream
// streams; its package has the same path.
const JetStreamSourceModule = "github.com/projgen/projgen/sources/jetstream"

// NATSModule is nats.go, the client of NATS. A module that requires it
// directly keeps its events in JetStream, unless its event library has a
// store projgen reads.
const NATSModule = "github.com/nats-io/nats.go"

// The migration tools the runner main's -migrate applies the migrations
// with, as projgen.yaml's migrations: says, at the newest versions whose
// go line (1.24.0 and 1.23.0) is below the runtime's, so that adding them
// does not raise a module's go line.
const (
	MigrateModule  = "github.com/golang-migrate/migrate/v4"
	MigrateVersion = "v4.19.1"
	GooseModule    = "github.com/pressly/goose/v3"
	GooseVersion   = "v3.26.0"
	// PgxStdlibPackage opens a database/sql handle on the runner's pool,
	// which both tools take.
	PgxStdlibPackage = "github.com/jackc/pgx/v5/stdlib"
)

// migrationTool lists the packages of format's tool the runner main
// imports.
func migrationTool(format string) []Import {
	if format == config.GooseFormat {
		return []Import{{Package: GooseModule, Module: GooseModule}}
	}
	return []Import{
		{Package: MigrateModule, Module: MigrateModule},
		{Package: MigrateModule + "/database/pgx/v5", Module: MigrateModule},
		{Package: MigrateModule + "/source/iofs", Module: MigrateModule},
	}
}

// eventStoreOf is the EventStore that projgen.yaml's source: names.
func eventStoreOf(name string) EventStore {
	switch name {
	case config.SourceGoes:
		return EventStore{Name: name, Package: GoesSourceModule}
	case config.SourceHallgren:
		return EventStore{Name: name, Package: HallgrenSourceModule, Driver: SQLiteDriver, DriverModule: SQLiteDriver}
	case config.SourceJetStream:
		return EventStore{Name: name, Package: JetStreamSourceModule}
	}
	return EventStore{Name: config.SourceProjgen}
}
