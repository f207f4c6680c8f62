package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/projgen/projgen/generator/config"
)

// TestMigrationTools generates the installation projection of the example
// module in each migration layout, adds a field to its Created event and
// regenerates, which writes a second migration, then has golang-migrate and
// goose themselves apply the whole history to PostgreSQL, up and down
// (testdata/migrate-tools).
func TestMigrationTools(t *testing.T) {
	if testing.Short() {
		t.Skip("runs golang-migrate and goose against PostgreSQL")
	}
	env := append(os.Environ(), "PROJGEN_TEST_DATABASE_URL="+databaseURL(), "TABLE=installations", "COLUMN=plan")
	for _, format := range []string{config.MigrateFormat, config.GooseFormat} {
		dir := copyModule(t, filepath.Join("testdata", "registry"))
		if code, out := projgen(t, "new", "--aggregate", "installation", "--migrations", format, "--yes", "--no-test", "--dir", dir); code != 0 {
			t.Fatalf("projgen new --migrations %s: exit %d\n%s", format, code, out)
		}
		events := filepath.Join(dir, "github", "installation", "events.go")
		src, err := os.ReadFile(events)
		if err != nil {
			t.Fatal(err)
		}
		src = []byte(strings.Replace(string(src), "\tTenantID       string\n", "\tTenantID       string\n\tPlan           string\n", 1))
		if err := os.WriteFile(events, src, 0o644); err != nil {
			t.Fatal(err)
		}
		if code, out := projgen(t, "generate", "--no-test", "--dir", dir); code != 0 {
			t.Fatalf("projgen generate: exit %d\n%s", code, out)
		}
		migrations := filepath.Join(dir, "github", "installation", "migrations")
		names, _ := filepath.Glob(filepath.Join(migrations, "000002_*"))
		if len(names) == 0 {
			t.Fatalf("%s: no second migration after adding a field", format)
		}
		if format == config.GooseFormat {
			env = append(env, "GOOSE_DIR="+migrations)
		} else {
			env = append(env, "MIGRATE_DIR="+migrations)
		}
	}
	c := exec.Command("go", "test", "-count=1", "-v", "./...")
	c.Dir = filepath.Join("testdata", "migrate-tools")
	c.Env = env
	out, err := c.CombinedOutput()
	if err != nil {
		t.Fatalf("go test in testdata/migrate-tools: %v\n%s", err, out)
	}
	for _, test := range []string{"TestGolangMigrate", "TestGoose"} {
		if !strings.Contains(string(out), "--- PASS: "+test) {
			t.Errorf("%s did not pass:\n%s", test, out)
		}
	}
}
