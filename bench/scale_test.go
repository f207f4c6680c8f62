package bench

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/tools/go/packages"
)

// Settings of TestGenerationScale.
const (
	// scaleBenchEnv, set to 1, runs it.
	scaleBenchEnv = "PROJGEN_GEN_BENCH"
	// scaleSizesEnv lists the numbers of aggregates, comma-separated;
	// default 10,100,300.
	scaleSizesEnv = "PROJGEN_GEN_SIZES"
	// scaleRunsEnv sets how many times each command runs; default 3.
	scaleRunsEnv = "PROJGEN_GEN_RUNS"
	// floorEnv makes the test binary the floor program: it loads the
	// packages named in it, comma-separated, from the current directory,
	// as projgen's loader does, and exits.
	floorEnv = "PROJGEN_GEN_FLOOR"
)

// Shape of the synthetic aggregates: events per aggregate, fields per
// event.
const (
	eventsPerAggregate = 8
	fieldsPerEvent     = 6
)

// TestMain makes the test binary the floor program when floorEnv is set.
func TestMain(m *testing.M) {
	if pkgs := os.Getenv(floorEnv); pkgs != "" {
		os.Exit(floor(strings.Split(pkgs, ",")))
	}
	os.Exit(m.Run())
}

// floor does only what every projgen command must: one packages.Load of
// the aggregates, in the mode projgen's loader uses.
func floor(pkgs []string) int {
	cfg := &packages.Config{Mode: packages.NeedName | packages.NeedFiles | packages.NeedSyntax | packages.NeedTypes | packages.NeedTypesInfo}
	loaded, err := packages.Load(cfg, pkgs...)
	if err != nil || packages.PrintErrors(loaded) > 0 || len(loaded) != len(pkgs) {
		fmt.Fprintln(os.Stderr, "floor:", err)
		return 1
	}
	return 0
}

// TestGenerationScale measures projgen on synthetic modules of N
// aggregates × 8 events × 6 fields, their events found three ways in
// turn (events.go, //projgen:event, an EventType method), beside the
// floor: a program that does only the same packages.Load. For each N it
// prints the median wall time and the peak RSS of check, of generate
// with nothing changed, of generate after one event gained a field, and
// of new for one more aggregate, each with the floor's, measured just
// before it in the same directory after one run of the floor to warm
// the go command's caches, and the ratio.
func TestGenerationScale(t *testing.T) {
	if os.Getenv(scaleBenchEnv) != "1" {
		t.Skipf("set %s=1 to measure generation at scale (minutes)", scaleBenchEnv)
	}
	sizes := []int{10, 100, 300}
	if v := os.Getenv(scaleSizesEnv); v != "" {
		sizes = nil
		for _, s := range strings.Split(v, ",") {
			n, err := strconv.Atoi(s)
			if err != nil || n < 1 {
				t.Fatalf("%s=%q: want numbers of aggregates, such as 10,100", scaleSizesEnv, v)
			}
			sizes = append(sizes, n)
		}
	}
	runs := 3
	if v := os.Getenv(scaleRunsEnv); v != "" {
		var err error
		if runs, err = strconv.Atoi(v); err != nil || runs < 1 {
			t.Fatalf("%s=%q: want a positive number", scaleRunsEnv, v)
		}
	}
	root, projgen, self := buildProjgen(t)
	for _, n := range sizes {
		s := newSynthetic(t, root, projgen, n)
		measure := func(what string, loads, env []string, prepare func() string, args ...string) {
			var cmd, base []sample
			floorEnv := []string{floorEnv + "=" + strings.Join(loads, ",")}
			for range runs {
				dir := prepare()
				// The first go list in a directory does more than the
				// next ones: both start warm.
				run(t, dir, floorEnv, self)
				base = append(base, run(t, dir, floorEnv, self))
				cmd = append(cmd, run(t, dir, env, append([]string{projgen}, args...)...))
			}
			c, f := medianSample(cmd), medianSample(base)
			t.Logf("N=%-4d %-37s %7.2fs (floor %5.2fs) %5.2f× the floor; peak RSS %4d MB (floor's %4d MB, %.2f×)",
				n, what, c.wall.Seconds(), f.wall.Seconds(), c.wall.Seconds()/f.wall.Seconds(), c.rss>>20, f.rss>>20, float64(c.rss)/float64(f.rss))
		}
		// projgen's cache is where a user's is, warm from the setup's
		// generate, as it is after a developer's first run; the run
		// without it is a fresh CI machine's.
		noCache := []string{"PROJGEN_CACHE=off"}
		// check records go vet's verdict: the first check after the
		// setup runs it, the next ones find it, until a file it reads
		// changes.
		run(t, s.dir, nil, projgen, "check", "--quiet")
		measure("check, nothing changed", s.packages, nil, s.same, "check", "--quiet")
		measure("check, a test changed: go vet runs", s.packages, nil, s.testChanged, "check", "--quiet")
		s.removeTest()
		// A CI machine without projgen's cache renders every projection
		// and runs go vet.
		measure("check, no cache", s.packages, noCache, s.same, "check", "--quiet")
		measure("generate, nothing changed", s.packages, nil, s.same, "generate", "--no-test")
		measure("generate, nothing changed, no cache", s.packages, noCache, s.same, "generate", "--no-test")
		measure("generate, one event changed", s.packages, nil, s.oneEventChanged, "generate", "--no-test")
		// new loads the aggregate it adds too: so does its floor.
		measure("new, one more aggregate", append(slices.Clone(s.packages), "example.com/synth/agg/"+s.extra), nil, s.fresh,
			"new", "--aggregate", s.extra, "--yes", "--no-test")
	}
}

// buildProjgen builds projgen from the repository, and returns the
// repository's root, the built projgen and the test binary, which is the
// floor program.
func buildProjgen(t *testing.T) (root, projgen, self string) {
	t.Helper()
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	projgen = filepath.Join(t.TempDir(), "projgen")
	if out, err := exec.Command("go", "build", "-C", root, "-o", projgen, ".").CombinedOutput(); err != nil {
		t.Fatalf("build projgen: %v\n%s", err, out)
	}
	if self, err = os.Executable(); err != nil {
		t.Fatal(err)
	}
	return root, projgen, self
}

// sample is one command's wall time and peak resident memory.
type sample struct {
	wall time.Duration
	rss  int64
}

// run runs args in dir with env added, and returns its sample; a
// command that fails fails the test.
func run(t *testing.T, dir string, env []string, args ...string) sample {
	t.Helper()
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	start := time.Now()
	out, err := cmd.CombinedOutput()
	wall := time.Since(start)
	if err != nil {
		t.Fatalf("%s in %s: %v\n%s", strings.Join(args, " "), dir, err, out)
	}
	rss := int64(0)
	if u, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		rss = u.Maxrss << 10 // kilobytes on Linux
	}
	return sample{wall, rss}
}

// medianSample returns the sample of median wall time, and the median
// peak RSS.
func medianSample(s []sample) sample {
	walls := make([]time.Duration, len(s))
	rss := make([]int64, len(s))
	for i, x := range s {
		walls[i], rss[i] = x.wall, x.rss
	}
	return sample{median(walls), median(rss)}
}

// synthetic is a generated module of n aggregates with their projections
// generated, and one more aggregate that no projection uses yet.
type synthetic struct {
	t        *testing.T
	dir      string // the module, with every projection generated
	packages []string
	extra    string // the aggregate new adds
	changed  int    // how many events oneEventChanged has changed
	tests    int    // how many times testChanged has changed its test
}

// newSynthetic writes the module and generates its projections: new for
// the first aggregate, whose projgen.yaml entry is then repeated for the
// others, and one generate.
func newSynthetic(t *testing.T, root, projgen string, n int) *synthetic {
	t.Helper()
	dir := t.TempDir()
	if keep := os.Getenv("PROJGEN_GEN_KEEP"); keep != "" {
		dir = filepath.Join(keep, fmt.Sprint(n))
	}
	s := &synthetic{t: t, dir: dir, extra: aggregateName(n)}
	writeAggregates(t, root, dir, n+1)
	for i := range n {
		s.packages = append(s.packages, "example.com/synth/agg/"+aggregateName(i))
	}
	start := time.Now()
	run(t, dir, nil, projgen, "new", "--aggregate", aggregateName(0), "--yes", "--no-test")
	cfg, err := os.ReadFile(filepath.Join(dir, "projgen.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	head, entry, ok := strings.Cut(string(cfg), "projections:\n")
	if !ok {
		t.Fatalf("projgen.yaml has no projections:\n%s", cfg)
	}
	var all strings.Builder
	all.WriteString(head + "projections:\n" + entry)
	for i := 1; i < n; i++ {
		all.WriteString(strings.ReplaceAll(strings.ReplaceAll(entry, aggregateName(0), aggregateName(i)), aggregateType(0), aggregateType(i)))
	}
	if err := os.WriteFile(filepath.Join(dir, "projgen.yaml"), []byte(all.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	run(t, dir, nil, projgen, "generate", "--no-test")
	t.Logf("N=%-4d set up in %s: %d aggregates × %d events × %d fields", n, time.Since(start).Round(time.Millisecond), n, eventsPerAggregate, fieldsPerEvent)
	return s
}

// writeAggregates writes into dir a module of n synthetic aggregates
// that requires projgen's runtime at root.
func writeAggregates(t *testing.T, root, dir string, n int) {
	t.Helper()
	files := map[string]string{"go.mod": fmt.Sprintf(`module example.com/synth

go 1.25.0

require github.com/projgen/projgen/projection v0.0.0

replace github.com/projgen/projgen/projection => %s
`, filepath.Join(root, "projection"))}
	for i := range n {
		for file, src := range aggregateFiles(i) {
			files[filepath.Join("agg", aggregateName(i), file)] = src
		}
	}
	for name, src := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// same returns the module as it is.
func (s *synthetic) same() string { return s.dir }

// fresh returns a copy of the module, for a command that changes it.
func (s *synthetic) fresh() string {
	dir := s.t.TempDir()
	if out, err := exec.Command("cp", "-a", s.dir+"/.", dir).CombinedOutput(); err != nil {
		s.t.Fatalf("copy the module: %v\n%s", err, out)
	}
	return dir
}

// testFile is the test of the first aggregate that testChanged writes.
const testFile = "agg/a0000/touched_test.go"

// testChanged returns the module with a test of a generated package
// changed, another way each time, so that check must run go vet again.
func (s *synthetic) testChanged() string {
	s.tests++
	src := fmt.Sprintf("package %s\n\n// Change %d.\n", aggregateName(0), s.tests)
	if err := os.WriteFile(filepath.Join(s.dir, filepath.FromSlash(testFile)), []byte(src), 0o644); err != nil {
		s.t.Fatal(err)
	}
	return s.dir
}

// removeTest removes the test testChanged wrote.
func (s *synthetic) removeTest() {
	if err := os.Remove(filepath.Join(s.dir, filepath.FromSlash(testFile))); err != nil {
		s.t.Fatal(err)
	}
}

// oneEventChanged returns a copy of the module in which one more event,
// of another aggregate each time, has a new field.
func (s *synthetic) oneEventChanged() string {
	dir := s.fresh()
	i := s.changed % len(s.packages)
	s.changed++
	p := filepath.Join(dir, "agg", aggregateName(i), eventsFile(i))
	src, err := os.ReadFile(p)
	if err != nil {
		s.t.Fatal(err)
	}
	changed := strings.Replace(string(src), "\tField1 string\n", "\tField1 string\n\tAddedLater string\n", 1)
	if changed == string(src) {
		s.t.Fatalf("%s: no field to add a field after", p)
	}
	if err := os.WriteFile(p, []byte(changed), 0o644); err != nil {
		s.t.Fatal(err)
	}
	return dir
}

// aggregateName is the package name of aggregate i.
func aggregateName(i int) string { return fmt.Sprintf("a%04d", i) }

// aggregateType is the aggregate type of aggregate i.
func aggregateType(i int) string { return fmt.Sprintf("Agg%04d", i) }

// eventsFile is the file of aggregate i's events, by its discovery style.
func eventsFile(i int) string {
	return [...]string{"events.go", "marked.go", "typed.go"}[i%3]
}

// aggregateFiles returns the source files of aggregate i: the aggregate
// and its events, found by projgen's rule for events.go, for
// //projgen:event, or for an EventType method, by i.
func aggregateFiles(i int) map[string]string {
	name, typ := aggregateName(i), aggregateType(i)
	agg := fmt.Sprintf(`// Package %s is synthetic aggregate %d.
package %s

// %s is the aggregate.
type %s struct {
	ID      string
	Version int64
}
`, name, i, name, typ, typ)
	var events strings.Builder
	fmt.Fprintf(&events, "package %s\n", name)
	verbs := [eventsPerAggregate]string{"Created", "Renamed", "Moved", "Priced", "Tagged", "Rated", "Archived", "Deleted"}
	for e, verb := range verbs {
		if i%3 == 1 {
			events.WriteString("\n//projgen:event\n")
		} else {
			events.WriteString("\n")
		}
		fmt.Fprintf(&events, "// %s is event %d of %s.\ntype %s struct {\n", verb, e, typ, verb)
		for f := range fieldsPerEvent {
			fmt.Fprintf(&events, "\tField%d %s\n", f, [...]string{"int64", "string", "bool", "float64", "string", "int64"}[f])
		}
		events.WriteString("}\n")
		if i%3 == 2 {
			fmt.Fprintf(&events, "\n// EventType is the event's topic.\nfunc (%s) EventType() string { return %q }\n", verb, name+"."+verb)
		}
	}
	return map[string]string{name + ".go": agg, eventsFile(i): events.String()}
}

// TestSetupByNew measures what issue 14 found quadratic: setting up a
// module of N aggregates with one projgen new each, as a team adopting
// projgen does. Each new loads every aggregate, as its floor does, so
// the floor itself grows with the module; what must not grow is the
// ratio of each new to the floor. It prints, for the first, middle and
// last tenth of the calls, the median new and the median floor beside it.
func TestSetupByNew(t *testing.T) {
	if os.Getenv(scaleBenchEnv) != "1" {
		t.Skipf("set %s=1 to measure the setup of a module by one new per aggregate (minutes)", scaleBenchEnv)
	}
	n := 100
	if v := os.Getenv(scaleSizesEnv); v != "" {
		var err error
		if n, err = strconv.Atoi(v); err != nil || n < 10 {
			t.Fatalf("%s=%q: want one number of aggregates, 10 or more", scaleSizesEnv, v)
		}
	}
	root, projgen, self := buildProjgen(t)
	dir := t.TempDir()
	writeAggregates(t, root, dir, n)
	start := time.Now()
	news, floors := make([]time.Duration, n), make([]time.Duration, n)
	var loaded []string
	for i := range n {
		loaded = append(loaded, "example.com/synth/agg/"+aggregateName(i))
		floors[i] = run(t, dir, []string{floorEnv + "=" + strings.Join(loaded, ",")}, self).wall
		news[i] = run(t, dir, nil, projgen, "new", "--aggregate", aggregateName(i), "--yes", "--no-test").wall
	}
	var total time.Duration
	for _, d := range news {
		total += d
	}
	t.Logf("N=%d set up by %d news in %s of new (%s with the floors beside them)", n, n,
		total.Round(time.Millisecond), time.Since(start).Round(time.Millisecond))
	tenth := n / 10
	for _, part := range []struct {
		what string
		from int
	}{{"first", 0}, {"middle", n/2 - tenth/2}, {"last", n - tenth}} {
		c, f := median(news[part.from:part.from+tenth]), median(floors[part.from:part.from+tenth])
		t.Logf("%-6s tenth (new %3d–%3d): new %5.2fs, floor %5.2fs, %4.2f× the floor",
			part.what, part.from+1, part.from+tenth, c.Seconds(), f.Seconds(), c.Seconds()/f.Seconds())
	}
}
