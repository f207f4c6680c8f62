package main

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"golang.org/x/mod/modfile"
	"golang.org/x/mod/semver"

	"github.com/projgen/projgen/generator/model"
)

// TestRuntimeModule checks the runtime module that users' modules
// require: its go line is the lowest its dependencies allow, and neither
// its requirements nor its packages' dependencies include the CLI's.
func TestRuntimeModule(t *testing.T) {
	rt := readModFile(t, filepath.Join("projection", "go.mod"))
	if rt.Module.Mod.Path != model.RuntimeModule {
		t.Fatalf("projection/go.mod is module %s, want model.RuntimeModule %s", rt.Module.Mod.Path, model.RuntimeModule)
	}

	// The go line is the highest of the modules in its build list: the
	// go command allows no lower, and nothing needs a higher one.
	out := goOutput(t, "projection", "list", "-m", "-f", "{{if not .Main}}{{.Path}} {{.GoVersion}}{{end}}", "all")
	highest, by := "", ""
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		path, v, _ := strings.Cut(line, " ")
		if v != "" && (highest == "" || semver.Compare("v"+v, "v"+highest) > 0) {
			highest, by = v, path
		}
	}
	if rt.Go.Version != highest {
		t.Errorf("projection/go.mod says go %s; the highest go line of its dependencies is %s (%s)", rt.Go.Version, highest, by)
	}

	// The CLI's own dependencies stay out of users' modules.
	root := readModFile(t, "go.mod")
	// pgx's pool needs golang.org/x/sync too, which the CLI renders with.
	shared := map[string]bool{"github.com/jackc/pgx/v5": true, "github.com/google/uuid": true, "golang.org/x/sync": true, model.RuntimeModule: true}
	cli := map[string]bool{root.Module.Mod.Path: true}
	for _, r := range root.Require {
		if !r.Indirect && !shared[r.Mod.Path] {
			cli[r.Mod.Path] = true
		}
	}
	for _, r := range rt.Require {
		if cli[r.Mod.Path] {
			t.Errorf("projection/go.mod requires %s, a dependency of the CLI", r.Mod.Path)
		}
	}
	deps := goOutput(t, "projection", "list", "-deps", "-test", "-f", "{{with .Module}}{{.Path}}{{end}}", "./...")
	for _, m := range strings.Fields(deps) {
		if cli[m] {
			t.Errorf("the runtime's packages depend on %s, a dependency of the CLI", m)
		}
	}

	// go.mod and go.sum are tidy.
	goOutput(t, "projection", "mod", "tidy", "-diff")
}

// TestReadmeCommands checks that the README's first command points the
// example at this checkout's runtime module, and that .ci/run runs the
// README's second command, which covers every module of the repository.
func TestReadmeCommands(t *testing.T) {
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	blocks := regexp.MustCompile("(?s)## The two commands.*?```sh\n(.*?)\n```.*?```sh\n(.*?)\n```").FindSubmatch(readme)
	if blocks == nil {
		t.Fatal("README.md: no section \"The two commands\" with two sh blocks")
	}
	run, test := string(blocks[1]), string(blocks[2])
	if want := "-replace=" + model.RuntimeModule + "=\"$PWD/projection\""; !strings.Contains(run, want) {
		t.Errorf("README's first command %q lacks %s", run, want)
	}
	// The second command tests the root module, the runtime module and
	// every module under sources/, each once, the sources in any order.
	const base = "go test ./... && go -C projection test ./..."
	rest, ok := strings.CutPrefix(test, base)
	if !ok {
		t.Errorf("README's second command is %q, want it to begin with %q", test, base)
	}
	mods, err := filepath.Glob(filepath.Join("sources", "*", "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]bool{}
	for _, m := range mods {
		want["go -C "+filepath.ToSlash(filepath.Dir(m))+" test ./..."] = true
	}
	for _, part := range strings.Split(rest, " && ")[1:] {
		if !want[part] {
			t.Errorf("README's second command runs %q, which is not the tests of a module under sources/ (or runs them twice)", part)
		}
		delete(want, part)
	}
	if rest != "" && !strings.HasPrefix(rest, " && ") {
		t.Errorf("README's second command is %q: want %q followed by \" && go -C sources/NAME test ./...\" per source module", test, base)
	}
	for part := range want {
		t.Errorf("README's second command does not run %q", part)
	}
	f, err := os.Open(filepath.Join(".ci", "run"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	last := ""
	for sc := bufio.NewScanner(f); sc.Scan(); {
		if line := strings.TrimSpace(sc.Text()); line != "" && !strings.HasPrefix(line, "#") {
			last = line
		}
	}
	if last != test {
		t.Errorf(".ci/run ends with %q, not the README's test command %q", last, test)
	}
}

func readModFile(t *testing.T, path string) *modfile.File {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	f, err := modfile.Parse(path, data, nil)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// goOutput runs the go command in dir and returns its standard output.
func goOutput(t *testing.T, dir string, args ...string) string {
	t.Helper()
	c := exec.Command("go", args...)
	c.Dir = dir
	var stderr strings.Builder
	c.Stderr = &stderr
	out, err := c.Output()
	if err != nil {
		t.Fatalf("go %s in %s: %v\n%s%s", strings.Join(args, " "), dir, err, out, stderr.String())
	}
	return string(out)
}
