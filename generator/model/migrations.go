package model

import (
	"fmt"
	"hash/fnv"
	"path"
	"slices"
	"strings"

	"github.com/projgen/projgen/generator/config"
	"github.com/projgen/projgen/generator/diag"
	"github.com/projgen/projgen/generator/schema"
	"github.com/projgen/projgen/projection/migration"
)

// MigrationDir is one directory of migrations: what is there, and what is
// to be added.
type MigrationDir struct {
	// Dir is the directory, relative to the module root.
	Dir string
	// Format is golang-migrate or goose.
	Format string
	// Existing are the migrations already there.
	Existing []migration.Migration
	// Files are the existing migration files' contents, by name, which
	// projgen.sum sums with the new ones.
	Files map[string][]byte
	// Tables are the wanted tables whose migrations live here.
	Tables []*Table
	// New are the migrations to write, in version order.
	New []*Migration
	// Package is the Go package of the directory Dir is in, which embeds
	// its migrations for the runner main's -migrate; nil when no
	// projection lives there any more.
	Package *GoPackage
	// EmbedFile is the file of Package that embeds them.
	EmbedFile string
	// VersionTable is the table the migration tool records this
	// directory's applied versions in: the tool's own name for it,
	// schema_migrations or goose_db_version, and the package's directory,
	// since every directory numbers its migrations from 1.
	VersionTable string
}

// EmbedFunc is the function of a projection package, in MigrationDir's
// EmbedFile, that returns the package's migrations.
const EmbedFunc = "ProjectionMigrations"

// versionTable is the table the migration tool of format records the
// versions of the migrations in dir in: its own default name, then the
// package directory's path as an identifier, hashed when it would pass
// PostgreSQL's 63 bytes.
func versionTable(format, dir string) string {
	prefix := "schema_migrations_"
	if format == config.GooseFormat {
		prefix = "goose_db_version_"
	}
	var b strings.Builder
	for _, r := range strings.ToLower(path.Dir(dir)) {
		if (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9') {
			b.WriteRune(r)
		} else {
			b.WriteByte('_')
		}
	}
	name := prefix + b.String()
	if len(name) > 63 {
		h := fnv.New32a()
		h.Write([]byte(dir))
		name = fmt.Sprintf("%s_%08x", name[:54], h.Sum32())
	}
	return name
}

// Migration is a migration to write.
type Migration struct {
	// Version is its number.
	Version int64
	// Name describes it: create_installations, add_plan_to_installations.
	Name string
	// Changes are its steps.
	Changes []schema.Change
	// UpFile is the file of the up migration (the only file for goose),
	// relative to the module root.
	UpFile string
	// DownFile is the file of the down migration, empty for goose.
	DownFile string
}

// Companions returns the tables that work with t and change in its
// migrations: its held rows and its tombstones, those it has.
func (t *Table) Companions() []*Table {
	var out []*Table
	if t.Filter != nil {
		out = append(out, t.Filter.Held)
	}
	if t.Tombstones != nil {
		out = append(out, t.Tombstones)
	}
	return out
}

// PrimaryKey returns the names of the table's key columns: the key, after
// the scope column when there is one.
func (t *Table) PrimaryKey() []string {
	if t.Scope != nil {
		return []string{t.Scope.Name, t.Key.Name}
	}
	return []string{t.Key.Name}
}

// VersionWidth is the number of digits of migration versions.
const VersionWidth = 6

// Schema returns the table as the schema package describes it.
func (t *Table) Schema() *schema.Table {
	st := &schema.Table{Name: t.Name, PrimaryKey: t.PrimaryKey()}
	for _, c := range t.Columns {
		st.Columns = append(st.Columns, &schema.Column{
			Name: c.Name, Type: schema.NormalizeType(c.SQLType), NotNull: c.NotNull, Default: c.Default,
		})
	}
	st.Indexes = schemaIndexes(t.Indexes)
	st.Retired = schemaIndexes(t.Retired)
	return st
}

// schemaIndexes returns indexes as the schema package describes them.
func schemaIndexes(indexes []*Index) []*schema.Index {
	var out []*schema.Index
	for _, ix := range indexes {
		out = append(out, &schema.Index{Name: ix.Name, Columns: ix.Columns, Unique: ix.Unique})
	}
	return out
}

// migrations replays each directory's migrations and plans the new ones
// that bring its tables to what the projections want. A directory with a
// projgen.sum that no projection uses any more gets migrations that drop
// its tables.
func (b *builder) migrations(ps []*Projection) []*MigrationDir {
	byDir := map[string]*MigrationDir{}
	var dirs []*MigrationDir
	get := func(dir string) *MigrationDir {
		md := byDir[dir]
		if md == nil {
			md = &MigrationDir{Dir: dir, Format: b.cfg.Migrations, VersionTable: versionTable(b.cfg.Migrations, dir)}
			if on := b.in.Migrations[dir]; on != nil {
				md.Existing, md.Files = on.Migrations, on.Files
			}
			byDir[dir] = md
			dirs = append(dirs, md)
		}
		return md
	}
	for _, p := range ps {
		md := get(p.MigrationDir)
		md.Tables = append(md.Tables, p.Table)
		md.Package = &p.Package
		md.EmbedFile = path.Join(p.Package.Dir, "migrations_gen.go")
	}
	for dir := range b.in.Migrations {
		get(dir)
	}
	slices.SortFunc(dirs, func(a, c *MigrationDir) int { return strings.Compare(a.Dir, c.Dir) })
	for _, md := range dirs {
		if b.checkSums(md) {
			b.plan(md, ps)
		}
	}
	return dirs
}

// checkSums compares a directory's migration files with its projgen.sum,
// unless edits are accepted. A directory without one is taken as it is.
func (b *builder) checkSums(md *MigrationDir) bool {
	on := b.in.Migrations[md.Dir]
	if on == nil || on.Sum == nil || b.in.AcceptEdited {
		return true
	}
	sumPath := diag.Rel(path.Join(b.in.Module.Dir, md.Dir, migration.SumFile))
	mismatches, err := migration.Check(on.Sum, on.Files)
	if err != nil {
		b.errs = append(b.errs, diag.Errorf(sumPath, "%v", err).
			WithHint("restore it from version control; projgen generate --force rewrites it from the files as they are"))
		return false
	}
	for _, m := range mismatches {
		file := diag.Rel(path.Join(b.in.Module.Dir, md.Dir, m.File))
		var e *diag.Error
		switch m.Problem {
		case "edited":
			e = diag.Errorf(file, "migration edited after projgen wrote it: it no longer matches %s", sumPath)
		case "added":
			e = diag.Errorf(file, "migration not in %s: it was added by hand", sumPath)
		default:
			e = diag.Errorf(file, "migration removed: %s still lists it", sumPath)
		}
		b.errs = append(b.errs, e.WithHint("databases may already have applied the migration as it was: revert the change, "+
			"and let projgen generate write a new migration for what you meant.\n"+
			"If the change is deliberate, run projgen generate --force to record the files as they are."))
	}
	return len(mismatches) == 0
}

func (b *builder) plan(md *MigrationDir, ps []*Projection) {
	current := &schema.Schema{}
	next := int64(1)
	for _, m := range md.Existing {
		if err := current.Apply(m.Up); err != nil {
			b.errs = append(b.errs, diag.Errorf(diag.Rel(path.Join(b.in.Module.Dir, md.Dir, m.Files[0])), "%v", err).
				WithHint("projgen replays the migrations to learn the current tables; fix the statement, or write it in a form projgen reads"))
			return
		}
		next = m.Version + 1
	}
	type step struct {
		table   *Table
		name    string
		changes []schema.Change
	}
	// A table and its tombstone table change in one migration: neither
	// works without the other.
	var steps []step
	wanted := map[string]bool{}
	for _, t := range md.Tables {
		st := step{table: t, name: t.Name, changes: schema.Diff(current.Table(t.Name), t.Schema())}
		wanted[t.Name] = true
		for _, extra := range t.Companions() {
			st.changes = append(st.changes, schema.Diff(current.Table(extra.Name), extra.Schema())...)
			wanted[extra.Name] = true
		}
		steps = append(steps, st)
	}
	for _, ct := range current.Tables {
		if !wanted[ct.Name] {
			steps = append(steps, step{name: ct.Name, changes: schema.Diff(ct, nil)})
		}
	}
	for _, st := range steps {
		if len(st.changes) == 0 {
			continue
		}
		if !b.in.AllowDestructive {
			if d := destructive(st.changes); len(d) > 0 {
				b.destructiveError(md, st.table, st.name, d, ps)
				continue
			}
		}
		m := &Migration{Version: next, Name: migrationName(st.name, st.changes), Changes: st.changes}
		prefix := path.Join(md.Dir, fmt.Sprintf("%0*d_%s", VersionWidth, next, m.Name))
		if md.Format == config.GooseFormat {
			m.UpFile = prefix + ".sql"
		} else {
			m.UpFile, m.DownFile = prefix+".up.sql", prefix+".down.sql"
		}
		md.New = append(md.New, m)
		next++
	}
	nullableInDatabase(md, current, ps)
}

// nullableInDatabase gives a pointer type to each row field whose column
// may be NULL in the database once md's migrations are applied, though
// the model's column is NOT NULL: a column added to a table that has
// rows, which the existing rows leave NULL. current is the schema of the
// existing migrations.
func nullableInDatabase(md *MigrationDir, current *schema.Schema, ps []*Projection) {
	added := map[[2]string]bool{}
	for _, m := range md.New {
		for _, c := range m.Changes {
			if c.Column != nil && (c.Kind == schema.AddColumn && !c.Column.NotNull || c.Kind == schema.DropNotNull) {
				added[[2]string{c.Table.Name, c.Column.Name}] = true
			}
		}
	}
	for _, p := range ps {
		if p.Queries == nil || p.MigrationDir != md.Dir {
			continue
		}
		have := current.Table(p.Table.Name)
		for _, f := range p.Queries.Fields {
			nullable := added[[2]string{p.Table.Name, f.Column.Name}]
			if have != nil {
				if hc := have.Column(f.Column.Name); hc != nil && !hc.NotNull {
					nullable = true
				}
			}
			if nullable && !nilable(f.Type) {
				f.Type = pointerTo(f.Type)
			}
		}
	}
}

func destructive(changes []schema.Change) []schema.Change {
	var out []schema.Change
	for _, c := range changes {
		if c.Destructive() {
			out = append(out, c)
		}
	}
	return out
}

func (b *builder) destructiveError(md *MigrationDir, t *Table, table string, changes []schema.Change, ps []*Projection) {
	var what []string
	for _, c := range changes {
		what = append(what, c.String())
	}
	if t == nil {
		b.errs = append(b.errs, diag.Errorf(diag.Rel(path.Join(b.in.Module.Dir, md.Dir)),
			"table %s is created by these migrations, but no projection in %s wants it any more", table, config.FileName).
			WithHint("if its projection was removed on purpose, run projgen generate --allow-destructive to write a migration that drops it.\n"+
				"If it was renamed, put its old name back in %s.", config.FileName))
		return
	}
	name := ""
	for _, p := range ps {
		if p.Table == t {
			name = p.Name
		}
	}
	b.errorf(config.ProjectionPath(b.configIndex(name)),
		"table %s would need a destructive migration: %s", t.Name, strings.Join(what, "; ")).
		WithHint("the existing migrations create the table with columns the events no longer give it.\n" +
			"If a field was renamed, keep its old column with columns: {NewName: old_column} on the event in projgen.yaml.\n" +
			"If the data may go, run again with --allow-destructive to write a migration that drops or changes it.")
}

// migrationName names a migration after what it does.
func migrationName(table string, changes []schema.Change) string {
	if !slices.ContainsFunc(changes, func(c schema.Change) bool { return c.Kind != schema.CreateTable }) {
		// A new table with its tombstones, or the tombstones alone.
		return "create_" + changes[0].Table.Name
	}
	if len(changes) == 1 && changes[0].Kind == schema.DropTable {
		return "drop_" + table
	}
	var added []string
	for _, c := range changes {
		if c.Kind != schema.AddColumn {
			return "alter_" + table
		}
		added = append(added, c.Column.Name)
	}
	name := "add_" + strings.Join(added, "_and_") + "_to_" + table
	if len(added) > 3 || len(name) > 80 {
		return "alter_" + table
	}
	return name
}
