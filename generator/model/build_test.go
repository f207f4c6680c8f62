package model_test

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/projgen/projgen/generator/config"
	"github.com/projgen/projgen/generator/diag"
	"github.com/projgen/projgen/generator/load"
	"github.com/projgen/projgen/generator/model"
	"github.com/projgen/projgen/projection/migration"
)

const (
	accountPath  = modulePath + "/bank/account"
	conflictPath = modulePath + "/bank/conflict"
	clashPath    = modulePath + "/bank/clash"
)

// accountProjection is the account projection of these tests, as it
// would be written in projgen.yaml.
func accountProjection() config.Projection {
	return config.Projection{
		Name:       "account",
		Pattern:    config.Simple,
		Aggregates: []string{accountPath},
		Dir:        "bank/account",
		Table:      "accounts",
		Key:        config.Key{Column: "aggregate_id", From: config.KeyAggregate, Type: "text"},
		Events: []config.Event{
			// Its CreatedAt would take the bookkeeping created_at.
			{Type: "Opened", Topic: "account.opened", Op: config.Insert, Method: "OpenAccount",
				Columns: map[string]string{"CreatedAt": "event_created_at"}},
			{Type: "Renamed", Topic: "account.renamed", Op: config.Update, Method: "RenameAccount"},
			{Type: "Frozen", Topic: "account.frozen", Op: config.Set, Method: "FreezeAccount", Set: map[string]any{"is_frozen": true}},
			{Type: "Imported", Topic: "account.imported", Op: config.Ignore},
			{Type: "Closed", Topic: "account.closed", Op: config.Delete, Method: "CloseAccount"},
		},
	}
}

// build validates a configuration of the given projections and runs
// model.Build on it with the packages of testModule and the given
// migrations on disk.
func build(t *testing.T, migrations map[string]*load.MigrationDir, ps ...config.Projection) (*model.Module, error) {
	t.Helper()
	mod, pkgs := loadModule(t, "bank/account", "bank/conflict", "bank/clash", "shop/widget")
	cfg := config.New()
	cfg.Projections = ps
	if err := cfg.Validate(); err != nil {
		t.Fatalf("the test's configuration is not valid: %v", err)
	}
	return model.Build(model.Input{Config: cfg, Module: mod, Packages: pkgs, Migrations: migrations})
}

// describeColumns describes a table's columns as "name type [NOT NULL]
// [DEFAULT x]", in order.
func describeColumns(tb *model.Table) []string {
	var out []string
	for _, c := range tb.Columns {
		s := c.Name + " " + c.SQLType
		if c.NotNull {
			s += " NOT NULL"
		}
		if c.Default != "" {
			s += " DEFAULT " + c.Default
		}
		out = append(out, s)
	}
	return out
}

// accountsSQL creates the accounts table as Build plans it, written by
// hand.
const accountsSQL = `CREATE TABLE "accounts" (
    "aggregate_id" text PRIMARY KEY,
    "aggregate_version" bigint NOT NULL,
    "last_position" bigint NOT NULL,
    "created_at" timestamptz NOT NULL,
    "updated_at" timestamptz NOT NULL,
    "owner" text NOT NULL,
    "plan" text NOT NULL,
    "note" text,
    "event_created_at" timestamptz NOT NULL,
    "tags" text[],
    "nickname" text,
    "is_frozen" boolean NOT NULL DEFAULT false
);

CREATE INDEX "accounts_created_at_idx" ON "accounts" ("created_at");
`

// accountsTombstonesSQL creates the tombstone table of accounts, whose
// Closed event deletes rows.
const accountsTombstonesSQL = `
CREATE TABLE "accounts_tombstones" (
    "aggregate_id" text PRIMARY KEY,
    "aggregate_version" bigint NOT NULL
);
`

func TestBuildTable(t *testing.T) {
	t.Parallel()
	m, err := build(t, nil, accountProjection())
	if err != nil {
		t.Fatalf("Build: %v", err)
	}
	if len(m.Projections) != 1 {
		t.Fatalf("got %d projections", len(m.Projections))
	}
	p := m.Projections[0]
	tb := p.Table
	want := []string{
		"aggregate_id text NOT NULL",
		"aggregate_version bigint NOT NULL",
		"last_position bigint NOT NULL",
		"created_at timestamptz NOT NULL",
		"updated_at timestamptz NOT NULL",
		// Set by Opened, the only insert: NOT NULL.
		"owner text NOT NULL",
		"plan text NOT NULL",
		// A pointer: nullable, although the insert sets it.
		"note text",
		// CreatedAt is a bookkeeping column's name.
		"event_created_at timestamptz NOT NULL",
		// A slice can be nil.
		"tags text[]",
		// Set only by a later event.
		"nickname text",
		// A flag only constants set starts as false.
		"is_frozen boolean NOT NULL DEFAULT false",
	}
	if got := describeColumns(tb); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("columns:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if tb.Name != "accounts" || tb.Key == nil || tb.Key.Name != "aggregate_id" || tb.KeyFrom != config.KeyAggregate || tb.AppendOnly {
		t.Errorf("table = %+v", tb)
	}
	if p.KeyType != "text" || p.Names.Projection != "AccountProjection" || p.Package.Path != accountPath || p.Package.Name != "account" {
		t.Errorf("projection = %+v", p)
	}
	var methods []string
	for _, meth := range p.Methods {
		methods = append(methods, meth.Name+":"+meth.Op)
	}
	if got, want := strings.Join(methods, " "), "OpenAccount:insert RenameAccount:update FreezeAccount:set CloseAccount:delete"; got != want {
		t.Errorf("methods = %s, want %s", got, want)
	}
	if len(p.Ignored) != 1 || p.Ignored[0].Name != "Imported" {
		t.Errorf("Ignored = %v", p.Ignored)
	}
	// The event's CreatedAt field goes to event_created_at.
	for _, prm := range p.Methods[0].Params {
		if prm.Field != nil && prm.Field.Name == "CreatedAt" && (prm.Column == nil || prm.Column.Name != "event_created_at") {
			t.Errorf("CreatedAt param column = %+v", prm.Column)
		}
	}
}

func TestBuildEveryInsert(t *testing.T) {
	t.Parallel()
	// With a second insert that does not set plan, plan is nullable;
	// owner, which both inserts set, stays NOT NULL.
	p := accountProjection()
	p.Events[3] = config.Event{Type: "Imported", Topic: "account.imported", Op: config.Insert, Method: "ImportAccount"}
	m, err := build(t, nil, p)
	if err != nil {
		t.Fatalf("Build: %v", err)
	}
	tb := m.Projections[0].Table
	for name, notNull := range map[string]bool{"owner": true, "plan": false, "event_created_at": false, "nickname": false} {
		c := tb.Column(name)
		if c == nil {
			t.Errorf("no column %s", name)
			continue
		}
		if c.NotNull != notNull {
			t.Errorf("column %s NOT NULL = %v, want %v", name, c.NotNull, notNull)
		}
	}
}

func TestBuildColumnTypeConflict(t *testing.T) {
	t.Parallel()
	_, err := build(t, nil, config.Projection{
		Name: "conflict", Pattern: config.Simple, Aggregates: []string{conflictPath}, Dir: "bank/conflict", Table: "conflicts",
		Key: config.Key{Column: "aggregate_id", From: config.KeyAggregate, Type: "uuid"},
		Events: []config.Event{
			{Type: "Opened", Topic: "conflict.opened", Op: config.Insert, Method: "OpenConflict"},
			{Type: "Changed", Topic: "conflict.changed", Op: config.Update, Method: "ChangeConflict"},
		},
	})
	if err == nil {
		t.Fatal("Build accepted one column with two SQL types")
	}
	if !diag.IsInput(err) {
		t.Errorf("diag.IsInput(%v) = false", err)
	}
	for _, s := range []string{"column level", "text", "field Changed.Level", "bigint", "field Opened.Level"} {
		if !strings.Contains(err.Error(), s) {
			t.Errorf("error does not say %q:\n%v", s, err)
		}
	}
}

func TestBuildNameDeclaredByUser(t *testing.T) {
	t.Parallel()
	_, pkgs := loadModule(t, "bank/clash")
	decl, ok := pkgs[clashPath].Declared["ClashProjection"]
	if !ok || !regexp.MustCompile(`clash\.go:6:6$`).MatchString(decl) {
		t.Fatalf("Declared[ClashProjection] = %q, %v; want …clash.go:6:6", decl, ok)
	}
	_, err := build(t, nil, config.Projection{
		Name: "clash", Pattern: config.Simple, Aggregates: []string{clashPath}, Dir: "bank/clash", Table: "clashes",
		Key:    config.Key{Column: "aggregate_id", From: config.KeyAggregate, Type: "uuid"},
		Events: []config.Event{{Type: "Opened", Topic: "clash.opened", Op: config.Insert, Method: "OpenClash"}},
	})
	if err == nil {
		t.Fatal("Build accepted a generated name the user declares")
	}
	var l diag.List
	if !errors.As(err, &l) || len(l) == 0 {
		t.Fatalf("error %v is not a diag.List", err)
	}
	e := l[0]
	if !regexp.MustCompile(`clash\.go:6:6$`).MatchString(e.Pos) {
		t.Errorf("error Pos = %q, want the declaration, …clash.go:6:6", e.Pos)
	}
	if !strings.Contains(e.Msg, "ClashProjection is already declared in package clash") {
		t.Errorf("error = %v", e)
	}
}

func TestBuildMigrations(t *testing.T) {
	t.Parallel()
	const dir = "bank/account/migrations"
	existing := func(sql string) map[string]*load.MigrationDir {
		return map[string]*load.MigrationDir{dir: {Migrations: []migration.Migration{{
			Version: 1, Name: "create_accounts",
			Files: []string{"000001_create_accounts.down.sql", "000001_create_accounts.up.sql"},
			Up:    sql, Down: `DROP TABLE "accounts";`,
		}}}}
	}
	tests := []struct {
		name       string
		migrations map[string]*load.MigrationDir
		want       []string // version_name up down
	}{
		{"empty directory", nil, []string{
			"1_create_accounts bank/account/migrations/000001_create_accounts.up.sql bank/account/migrations/000001_create_accounts.down.sql",
		}},
		{"table already created", existing(accountsSQL + accountsTombstonesSQL), nil},
		{"a column missing", existing(strings.Replace(accountsSQL, "    \"nickname\" text,\n", "", 1) + accountsTombstonesSQL), []string{
			"2_add_nickname_to_accounts bank/account/migrations/000002_add_nickname_to_accounts.up.sql bank/account/migrations/000002_add_nickname_to_accounts.down.sql",
		}},
		// A table created by a projgen that kept no tombstones gets them.
		{"tombstones missing", existing(accountsSQL), []string{
			"2_create_accounts_tombstones bank/account/migrations/000002_create_accounts_tombstones.up.sql bank/account/migrations/000002_create_accounts_tombstones.down.sql",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			m, err := build(t, tt.migrations, accountProjection())
			if err != nil {
				t.Fatalf("Build: %v", err)
			}
			if len(m.MigrationDirs) != 1 || m.MigrationDirs[0].Dir != dir || m.MigrationDirs[0].Format != config.MigrateFormat {
				t.Fatalf("MigrationDirs = %+v", m.MigrationDirs)
			}
			var got []string
			for _, mg := range m.MigrationDirs[0].New {
				got = append(got, fmt.Sprintf("%d_%s %s %s", mg.Version, mg.Name, mg.UpFile, mg.DownFile))
			}
			if strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
				t.Errorf("new migrations:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
		})
	}
}

func TestBuildFromNewProjection(t *testing.T) {
	t.Parallel()
	mod, pkgs := loadModule(t, "github/installation")
	inst := pkgs[installationPath]
	tests := []struct {
		name    string
		ch      model.Choices
		columns []string
		indexes []string
	}{
		{
			// The table of golden/registry's installations.
			name: "simple",
			columns: []string{
				"aggregate_id uuid NOT NULL",
				"aggregate_version bigint NOT NULL",
				"last_position bigint NOT NULL",
				"created_at timestamptz NOT NULL",
				"updated_at timestamptz NOT NULL",
				"installation_id bigint NOT NULL",
				"account_login text NOT NULL",
				"tenant_id text NOT NULL",
				"is_suspended boolean NOT NULL DEFAULT false",
			},
			indexes: []string{
				"installations_created_at_idx(created_at)",
				"installations_installation_id_idx(installation_id)",
				"installations_tenant_id_idx(tenant_id)",
			},
		},
		{
			name: "denormalized",
			ch:   model.Choices{KeyField: "RepositoryID"},
			columns: []string{
				"repository_id bigint NOT NULL",
				"aggregate_id uuid NOT NULL",
				"aggregate_version bigint NOT NULL",
				"last_position bigint NOT NULL",
				"created_at timestamptz NOT NULL",
				"updated_at timestamptz NOT NULL",
				"repository_name text NOT NULL",
			},
			// The key is (aggregate_id, repository_id), whose index
			// serves lookups by aggregate.
			indexes: []string{
				"repositories_created_at_idx(created_at)",
			},
		},
		{
			name: "denormalized, key of global scope",
			ch:   model.Choices{KeyField: "RepositoryID", KeyScope: config.ScopeGlobal},
			columns: []string{
				"repository_id bigint NOT NULL",
				"aggregate_id uuid NOT NULL",
				"aggregate_version bigint NOT NULL",
				"last_position bigint NOT NULL",
				"created_at timestamptz NOT NULL",
				"updated_at timestamptz NOT NULL",
				"repository_name text NOT NULL",
			},
			indexes: []string{
				"repositories_aggregate_id_idx(aggregate_id)",
				"repositories_created_at_idx(created_at)",
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := config.New()
			p, err := model.NewProjection(mod, cfg, []*load.Package{inst}, tt.ch)
			if err != nil {
				t.Fatalf("NewProjection: %v", err)
			}
			cfg.Projections = []config.Projection{p}
			if err := cfg.Validate(); err != nil {
				t.Fatalf("Validate: %v", err)
			}
			m, err := model.Build(model.Input{Config: cfg, Module: mod, Packages: pkgs})
			if err != nil {
				t.Fatalf("Build: %v", err)
			}
			tb := m.Projections[0].Table
			if got := describeColumns(tb); strings.Join(got, "\n") != strings.Join(tt.columns, "\n") {
				t.Errorf("columns:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tt.columns, "\n"))
			}
			var ixs []string
			for _, ix := range tb.Indexes {
				ixs = append(ixs, ix.Name+"("+strings.Join(ix.Columns, ",")+")")
			}
			if strings.Join(ixs, " ") != strings.Join(tt.indexes, " ") {
				t.Errorf("indexes = %q, want %q", ixs, tt.indexes)
			}
		})
	}
}

// TestBuildTableNothingInserts refuses a table that no event inserts rows
// into, which would stay empty, with advice naming the event to change.
func TestBuildTableNothingInserts(t *testing.T) {
	t.Parallel()
	p := accountProjection()
	p.Events[0].Op = config.Update
	_, err := build(t, nil, p)
	if err == nil {
		t.Fatal("Build accepted a table that no event inserts into")
	}
	if !diag.IsInput(err) {
		t.Errorf("diag.IsInput(%v) = false", err)
	}
	for _, s := range []string{"no event inserts rows into table accounts", "Opened (update)", "Closed (delete)", "op: insert", "--op Opened=insert"} {
		if !strings.Contains(err.Error(), s) {
			t.Errorf("error does not say %q:\n%v", s, err)
		}
	}
}

// TestBuildTombstoneNameTaken refuses a projection table named as another
// projection's tombstone table.
func TestBuildTombstoneNameTaken(t *testing.T) {
	t.Parallel()
	other := accountProjection()
	other.Name, other.Table, other.Dir = "account_log", "accounts_tombstones", "bank/account/log"
	other.Events = other.Events[:1]
	other.Events[0].Method = "LogOpened"
	_, err := build(t, nil, accountProjection(), other)
	if err == nil || !strings.Contains(err.Error(), `is also a companion table (held rows or tombstones) of projection "account"`) {
		t.Errorf("Build = %v, want an error naming the clash", err)
	}
}

// TestBuildStateFilter gives a filtered table whose condition is a boolean
// column that other events set a Filter with held rows, so that the row
// follows its state; a condition on the event alone gets none.
func TestBuildStateFilter(t *testing.T) {
	t.Parallel()
	widget := func(when string) config.Projection {
		return config.Projection{
			Name: "active_widget", Pattern: config.Filtered, Aggregates: []string{modulePath + "/shop/widget"}, Dir: "shop/widget",
			Table: "active_widgets", Key: config.Key{Column: "aggregate_id", From: config.KeyAggregate, Type: "uuid"},
			Events: []config.Event{
				{Type: "Created", Topic: "widget.created", Op: config.Insert, Method: "CreateWidget", When: when, Fields: []string{"Name", "IsActive"}},
				{Type: "Activated", Topic: "widget.activated", Op: config.Set, Method: "ActivateWidget", Set: map[string]any{"is_active": true}},
				{Type: "Deactivated", Topic: "widget.deactivated", Op: config.Set, Method: "DeactivateWidget", Set: map[string]any{"is_active": false}},
				{Type: "Renamed", Op: config.Ignore},
				{Type: "LineAdded", Op: config.Ignore},
			},
		}
	}
	tests := []struct {
		when string
		pass bool
		held bool
	}{
		{"IsActive", true, true},
		{"!IsActive", false, true},
		{"IsActive && Name != \"\"", false, false},
	}
	for _, tt := range tests {
		t.Run(tt.when, func(t *testing.T) {
			m, err := build(t, nil, widget(tt.when))
			if err != nil {
				t.Fatal(err)
			}
			p := m.Projections[0]
			f := p.Table.Filter
			if (f != nil) != tt.held {
				t.Fatalf("Filter = %+v, want one: %v", f, tt.held)
			}
			if f == nil {
				if !slices.ContainsFunc(p.Methods, func(m *model.Method) bool { return m.When != nil && !m.FilterInSQL }) {
					t.Error("the condition is not the projection's to check")
				}
				return
			}
			if f.Column.Name != "is_active" || f.Pass != tt.pass || f.Held.Name != "active_widgets_held" || !p.Methods[0].FilterInSQL {
				t.Errorf("Filter = column %s, pass %v, held %s; FilterInSQL %v", f.Column.Name, f.Pass, f.Held.Name, p.Methods[0].FilterInSQL)
			}
			if got := p.Table.Companions(); len(got) != 1 || got[0] != f.Held {
				t.Errorf("Companions = %v, want the held rows", got)
			}
		})
	}
}

// TestBuildNothingHandled refuses a projection whose every event is
// ignored, whose generated Process would not compile.
func TestBuildNothingHandled(t *testing.T) {
	t.Parallel()
	p := accountProjection()
	for i := range p.Events {
		p.Events[i] = config.Event{Type: p.Events[i].Type, Op: config.Ignore}
	}
	_, err := build(t, nil, p)
	if err == nil || !diag.IsInput(err) || !strings.Contains(err.Error(), "handles no event") || !strings.Contains(err.Error(), "--events") {
		t.Errorf("Build = %v, want an input error with advice", err)
	}
}

// TestBuildTopicsTemplate shows that the topics of events whose source
// names none come from the topic template at every build, the
// projection's over the module's, so that editing either takes effect,
// while a topic recorded for an event stays as it is.
func TestBuildTopicsTemplate(t *testing.T) {
	t.Parallel()
	mod, pkgs := loadModule(t, "bank/account")
	for _, tt := range []struct {
		name, module, projection string
		want                     []string
	}{
		{"module default", config.DefaultTopics, "", []string{accountPath + ".Opened", "account.renamed", accountPath + ".Closed"}},
		{"module edited", "{{.Package}}.{{.Type}}", "", []string{"account.Opened", "account.renamed", "account.Closed"}},
		{"projection's own", config.DefaultTopics, "{{.Type}}", []string{"Opened", "account.renamed", "Closed"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			p := accountProjection()
			p.Topics = tt.projection
			p.Events = []config.Event{
				{Type: "Opened", Op: config.Insert, Method: "OpenAccount", Columns: map[string]string{"CreatedAt": "event_created_at"}},
				{Type: "Renamed", Topic: "account.renamed", Op: config.Update, Method: "RenameAccount"},
				{Type: "Closed", Op: config.Delete, Method: "CloseAccount"},
			}
			cfg := config.New()
			cfg.Topics = tt.module
			cfg.Projections = []config.Projection{p}
			if err := cfg.Validate(); err != nil {
				t.Fatal(err)
			}
			m, err := model.Build(model.Input{Config: cfg, Module: mod, Packages: pkgs})
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, meth := range m.Projections[0].Methods {
				got = append(got, meth.Topic)
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("topics = %q, want %q", got, tt.want)
			}
		})
	}
}

// TestBuildBookkeepingCollision: a field whose column would be a
// bookkeeping column is an error that says how to name it, not a column
// renamed behind the user's back; new records the name it picks.
func TestBuildBookkeepingCollision(t *testing.T) {
	t.Parallel()
	p := accountProjection()
	p.Events[0].Columns = nil
	_, err := build(t, nil, p)
	if err == nil || !strings.Contains(err.Error(), "field CreatedAt of event Opened would go to column created_at, which the table keeps for its bookkeeping") ||
		!strings.Contains(err.Error(), "columns: {CreatedAt: event_created_at}") {
		t.Errorf("Build = %v, want the collision and the columns: to write", err)
	}
	mod, pkgs := loadModule(t, "bank/account")
	np, err := model.NewProjection(mod, config.New(), []*load.Package{pkgs[accountPath]}, model.Choices{Events: []string{"Opened", "Closed"}})
	if err != nil {
		t.Fatal(err)
	}
	if got := np.Events[0].Columns["CreatedAt"]; np.Events[0].Type != "Opened" || got != "event_created_at" {
		t.Errorf("new records %s columns %v, want CreatedAt: event_created_at", np.Events[0].Type, np.Events[0].Columns)
	}
}
