package main

import (
	"bytes"
	"cmp"
	"context"
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aymanbagabas/go-udiff"

	"github.com/projgen/projgen/cmd"
	"github.com/projgen/projgen/internal/moduletest"
)

var update = flag.Bool("update", false, "rewrite golden/ with the output of the golden tests")

// goldenCase is one behaviour: an input module in testdata/INPUT and the
// projgen commands run on a copy of it, whose result must equal golden/NAME.
type goldenCase struct {
	name  string
	input string // testdata/INPUT; NAME when empty
	runs  [][]string
	// then is a directory of testdata whose files are copied into the
	// module after the runs: code a user writes on the generated code.
	then string
}

var goldenCases = []goldenCase{
	{
		// The example module: one projection of each aggregate, with every
		// default, as projgen new --yes gives them.
		name: "registry",
		runs: [][]string{
			{"new", "--aggregate", "installation", "--yes", "--no-test"},
			{"new", "--aggregate", "endpoint", "--yes", "--no-test"},
			{"new", "--aggregate", "order", "--yes", "--no-test"},
			{"new", "--aggregate", "invoice", "--yes", "--no-test"},
			{"new", "--aggregate", "product", "--yes", "--no-test"},
		},
		// An HTTP API on the installations read model, written on the
		// generated queries (README, "Serving the read model").
		then: "examples/registry_api",
	},
	{
		// The seed guide's four patterns and its two worked examples, on
		// the example module: the installation projection (simple), the
		// repositories of an installation in their own package
		// (denormalization), active endpoints (filtering), and tenant
		// activity across endpoints and installations (cross-aggregate).
		name:  "seed",
		input: "registry",
		runs: [][]string{
			{"new", "--aggregate", "installation", "--yes", "--no-test"},
			{"new", "--aggregate", "installation", "--key", "RepositoryID", "--name", "github_repository",
				"--out", "github/repository", "--yes", "--no-test"},
			{"new", "--aggregate", "endpoint", "--name", "active_endpoint", "--when", "Created=IsActive",
				"--yes", "--no-test"},
			{"new", "--aggregate", "endpoint", "--aggregate", "installation", "--name", "tenant_activity",
				"--events", "endpoint.Created,installation.Created",
				"--fields", "endpoint.Created=TenantID", "--fields", "installation.Created=TenantID",
				"--yes", "--no-test"},
		},
	},
	{
		// goose's migration layout: one file per version, with -- +goose
		// Up and -- +goose Down sections.
		name:  "goose",
		input: "registry",
		runs: [][]string{
			{"new", "--aggregate", "installation", "--migrations", "goose", "--yes", "--no-test"},
			{"new", "--aggregate", "order", "--yes", "--no-test"},
		},
	},
	{
		// Every operation, chosen with flags: insert, update and set with
		// constants, delete, append, ignore; renamed methods and columns,
		// chosen fields, a condition with a comparison, and a key of
		// global scope.
		name:  "operations",
		input: "registry",
		runs: [][]string{
			{"new", "--aggregate", "order", "--name", "order_status",
				"--set", "Placed.status=placed", "--set", "Shipped.status=shipped",
				"--op", "Cancelled=set", "--set", "Cancelled.status=cancelled", "--method", "Cancelled=MarkCancelled",
				"--fields", "Placed=Customer,Total", "--column", "Placed.Total=total_cents",
				"--when", "Placed=Total > 0",
				"--yes", "--no-test"},
			{"new", "--aggregate", "order", "--name", "order_history",
				"--op", "Placed=append", "--op", "Shipped=append", "--op", "Cancelled=append",
				"--yes", "--no-test"},
			{"new", "--aggregate", "product", "--op", "Discontinued=delete", "--op", "Renamed=ignore",
				"--table", "catalog_products", "--yes", "--no-test"},
			// Rows keyed by a field unique across aggregates: a
			// repository moves to the installation of its latest event.
			{"new", "--aggregate", "installation", "--key", "RepositoryID", "--key-scope", "global",
				"--name", "installation_repository", "--out", "github/repository", "--yes", "--no-test"},
		},
	},
	{
		// Aggregates in hallgren/eventsourcing's documented style, with
		// zero configuration: events stored under their bare type name,
		// random string IDs, the creation event by name (Opened) and by
		// being registered first (Born). library/ stores events with the
		// library and checks the rows.
		name: "hallgren",
		runs: [][]string{
			{"new", "--aggregate", "account", "--yes", "--no-test"},
			{"new", "--aggregate", "person", "--yes", "--no-test"},
		},
	},
	{
		// An aggregate in eventhorizon's documented style, with zero
		// configuration: commands registered beside the events are not
		// events, topics are the eh.EventType constants, and events
		// without data are projected by topic. library/ stores events
		// through the library's JSON codec and checks the rows.
		name: "eventhorizon",
		runs: [][]string{
			{"new", "--aggregate", "booking", "--yes", "--no-test"},
		},
	},
	{
		// An aggregate in modernice/goes' documented style, on the
		// stand-in of testdata/libs/goes, with zero configuration: events
		// are their name constants, with payloads of any type (a struct,
		// []string, int, string, struct{}), told apart by topic; the
		// commands registered the same way are not events, because they
		// are used with goes' command package. library/ stores events as
		// goes' postgres backend does and checks the rows.
		name:  "goes",
		input: "libs/goesapp",
		runs: [][]string{
			{"new", "--aggregate", "order", "--yes", "--no-test"},
		},
	},
	{
		// A shop whose own writer publishes its events to NATS JetStream,
		// in the source's Headers layout: the module requires nats.go,
		// so new picks source: jetstream and scaffolds a runner main that
		// reads the stream. library/ publishes orders, runs that main,
		// unpartitioned and in partitions over two processes, kills it
		// mid-run and checks the rows.
		name: "jetstream",
		runs: [][]string{
			{"new", "--aggregate", "order", "--yes", "--no-test"},
		},
	},
	{
		// An aggregate in go-eventually's style, on the stand-in of
		// testdata/libs/eventually: events are types named by Name(),
		// commands (also with Name()) are the types used with its command
		// package, passive names (WasCreated, ItemWasAdded) read as what
		// happened, and string IDs key text rows.
		name:  "eventually",
		input: "libs/eventuallyapp",
		runs: [][]string{
			{"new", "--aggregate", "order", "--yes", "--no-test"},
		},
	},
}

// repoRoot is the absolute path of this repository.
func repoRoot(t *testing.T) string {
	root, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	return root
}

// projgen runs the CLI in-process and returns its exit code and output.
func projgen(t *testing.T, args ...string) (int, string) {
	t.Helper()
	var out bytes.Buffer
	code := cmd.Execute(context.Background(), cmd.Build{GoMod: goMod}, args, cmd.IO{Out: &out, Err: &out})
	return code, out.String()
}

// copyModule copies a module of testdata/ into a new directory and points
// its requirement of the runtime module at this repository's.
func copyModule(t *testing.T, src string) string {
	t.Helper()
	return moduletest.Copy(t, repoRoot(t), src)
}

// readTree reads every file under dir, by slash-separated relative path,
// with go.mod's replace directive pointed back at ../../projection as in the repository.
func readTree(t *testing.T, dir string) map[string]string {
	t.Helper()
	files := moduletest.Tree(t, dir)
	if gomod, ok := files["go.mod"]; ok {
		files["go.mod"] = moduletest.Relative(gomod, repoRoot(t))
	}
	return files
}

// TestGolden runs each case's commands on a copy of its input module and
// compares every file of the result with golden/NAME. Run with -update to
// rewrite golden/, then review the diff before committing it.
func TestGolden(t *testing.T) {
	for _, gc := range goldenCases {
		t.Run(gc.name, func(t *testing.T) {
			dir := copyModule(t, filepath.Join("testdata", cmp.Or(gc.input, gc.name)))
			for _, args := range gc.runs {
				if code, out := projgen(t, append(args, "--dir", dir)...); code != 0 {
					t.Fatalf("projgen %s: exit %d\n%s", strings.Join(args, " "), code, out)
				}
			}
			if gc.then != "" {
				if err := os.CopyFS(dir, os.DirFS(filepath.Join("testdata", gc.then))); err != nil {
					t.Fatal(err)
				}
			}
			got := readTree(t, dir)
			goldenDir := filepath.Join("golden", gc.name)
			if *update {
				if err := os.RemoveAll(goldenDir); err != nil {
					t.Fatal(err)
				}
				for rel, data := range got {
					path := filepath.Join(goldenDir, filepath.FromSlash(rel))
					if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
						t.Fatal(err)
					}
					if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
						t.Fatal(err)
					}
				}
				return
			}
			compareTrees(t, readTree(t, goldenDir), got)

			// Running the same commands again changes no byte.
			for _, args := range gc.runs {
				if code, out := projgen(t, append(args, "--dir", dir)...); code != 0 {
					t.Fatalf("projgen %s, again: exit %d\n%s", strings.Join(args, " "), code, out)
				}
			}
			compareTrees(t, got, readTree(t, dir))

			// Determinism: regenerating from projgen.yaml gives the same
			// bytes, and check agrees.
			if code, out := projgen(t, "generate", "--no-test", "--dir", dir); code != 0 {
				t.Fatalf("projgen generate: exit %d\n%s", code, out)
			}
			compareTrees(t, got, readTree(t, dir))
			if code, out := projgen(t, "check", "--dir", dir); code != 0 {
				t.Fatalf("projgen check after generate: exit %d\n%s", code, out)
			}
		})
	}
}

// compareTrees reports every file that differs between want and got.
func compareTrees(t *testing.T, want, got map[string]string) {
	t.Helper()
	for path, w := range want {
		g, ok := got[path]
		switch {
		case !ok:
			t.Errorf("%s: missing from the output", path)
		case g != w:
			t.Errorf("%s differs from golden (run go test -run TestGolden -update, then review the diff):\n%s",
				path, udiff.Unified("golden/"+path, "output/"+path, w, g))
		}
	}
	for path := range got {
		if _, ok := want[path]; !ok {
			t.Errorf("%s: in the output but not in golden", path)
		}
	}
}

// TestGoldenModules builds each golden module and runs its tests: the
// generated code must pass go vet and its own tests, the database tests
// included, against the real server. The generated queries' tests also
// fill each table with 100,000 rows and require that PostgreSQL plans
// every List with an index (projectiontest.ExplainRowsEnv).
func TestGoldenModules(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and tests the golden modules")
	}
	for _, gc := range goldenCases {
		t.Run(gc.name, func(t *testing.T) {
			dir := filepath.Join("golden", gc.name)
			for _, args := range [][]string{{"vet", "./..."}, {"test", "-count=1", "./..."}} {
				c := exec.Command("go", args...)
				c.Dir = dir
				c.Env = append(os.Environ(), "PROJGEN_TEST_DATABASE_URL="+databaseURL(), "PROJGEN_EXPLAIN_ROWS=100000")
				out, err := c.CombinedOutput()
				if err != nil {
					t.Fatalf("go %s in %s: %v\n%s", strings.Join(args, " "), dir, err, out)
				}
				if args[0] == "test" && strings.Contains(string(out), "[no tests to run]") {
					t.Errorf("go test in %s ran no tests:\n%s", dir, out)
				}
			}
		})
	}
}
