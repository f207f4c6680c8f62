package verify

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"golang.org/x/mod/modfile"
	"golang.org/x/mod/module"
	"golang.org/x/mod/semver"

	"github.com/projgen/projgen/generator/diag"
	"github.com/projgen/projgen/generator/model"
)

// Requirements says which modules generated code needs that the user's
// go.mod does not require yet, and at which versions: the ones projgen
// was built and tested with.
type Requirements struct {
	// Missing are the modules to add, as path@version, sorted; and the
	// runtime module when go.mod requires an older version than the one
	// the generated code was written for.
	Missing []string
}

// Plan works out what the user's go.mod lacks for the generated code's
// imports. known maps module paths to the versions projgen was built with.
// It fails, before anything is written, when a module is missing and no
// version is known.
func Plan(goModPath string, goMod []byte, imports []model.Import, known map[string]string) (*Requirements, error) {
	// Parse reads replace directives too, which ParseLax skips; ParseLax
	// still reads the requirements of a go.mod Parse rejects.
	f, err := modfile.Parse(goModPath, goMod, nil)
	if err != nil {
		if f, err = modfile.ParseLax(goModPath, goMod, nil); err != nil {
			return nil, diag.Errorf(diag.Rel(goModPath), "%v", err)
		}
	}
	required := map[string]string{}
	for _, r := range f.Require {
		required[r.Mod.Path] = r.Mod.Version
	}
	replaced := map[string]bool{}
	for _, r := range f.Replace {
		replaced[r.Old.Path] = true
	}
	reqs := &Requirements{}
	for _, imp := range imports {
		version := known[imp.Module]
		if have, ok := required[imp.Module]; ok {
			// Generated code calls the runtime it was generated for: an
			// older one is raised to it, unless go.mod replaces it.
			if imp.Module == model.RuntimeModule && !replaced[imp.Module] && semver.IsValid(version) &&
				semver.Compare(have, version) < 0 && !slices.Contains(reqs.Missing, imp.Module+"@"+version) {
				reqs.Missing = append(reqs.Missing, imp.Module+"@"+version)
			}
			continue
		}
		switch {
		case isProjgenModule(imp.Module) && (version == "" || version == "(devel)"):
			return nil, diag.Errorf(diag.Rel(goModPath), "go.mod does not require %s, which the generated code imports, "+
				"and this projgen is a development build, so it cannot say which version to add", imp.Module).
				WithHint("require it from your checkout of projgen: go mod edit -require=%[1]s@v0.0.0 -replace=%[1]s=/path/to/projgen/%[2]s",
					imp.Module, strings.TrimPrefix(imp.Module, "github.com/projgen/projgen/"))
		case version == "":
			return nil, diag.Errorf(diag.Rel(goModPath), "go.mod does not require %s, which the generated code imports", imp.Module).
				WithHint("add it: go get %s", imp.Package)
		}
		if err := module.Check(imp.Module, version); err != nil {
			return nil, fmt.Errorf("version of %s: %w", imp.Module, err)
		}
		required[imp.Module] = version
		reqs.Missing = append(reqs.Missing, imp.Module+"@"+version)
	}
	slices.Sort(reqs.Missing)
	return reqs, nil
}

// Require adds the missing modules to the go.mod in root as go get does,
// then makes go.sum hold every checksum the whole module needs, so that
// go build ./... and go vet ./... pass. dirs are the directories of the
// generated packages that the run wrote, relative to root and slash
// separated: when no module is missing, only they can lack a checksum,
// and only they are listed. It returns
// what changed, one line each, as a person would say it:
// "go.mod: added M v1.2.3", "go.mod: upgraded M v1.0.0 => v1.2.0",
// "go.mod: go line 1.22 => 1.25.0", "../go.work: go line 1.22 => 1.25.0".
//
// The runtime module is added first, then the others, each at the
// version given or the one the module graph selects already, whichever
// is higher: so minimal version selection decides, the go line is raised
// only as far as the new requirements need, and no other requirement is
// ever downgraded. Inside a go.work workspace the go command runs in
// workspace mode, where go get edits this module's go.mod (and may raise
// go.work's go line, reported too); go.mod and go.sum are completed for
// the generated packages, so that they build with GOWORK=off too, and
// the other checksums the module lacks go to go.work.sum.
func (r *Requirements) Require(ctx context.Context, root string, dirs []string) ([]string, error) {
	goModPath := filepath.Join(root, "go.mod")
	before, err := os.ReadFile(goModPath)
	if err != nil {
		return nil, fmt.Errorf("require modules: %w", err)
	}
	work, err := workspace(ctx, root)
	if err != nil {
		return nil, err
	}
	var workBefore []byte
	if work != "" {
		if workBefore, err = os.ReadFile(work); err != nil {
			return nil, fmt.Errorf("require modules: %w", err)
		}
	}

	var runtime, others []string
	for _, m := range r.Missing {
		if strings.HasPrefix(m, model.RuntimeModule+"@") {
			runtime = append(runtime, m)
		} else {
			others = append(others, m)
		}
	}
	// The runtime first: its requirements may select newer versions of
	// the others than projgen's.
	for _, batch := range [][]string{runtime, others} {
		if err := goGet(ctx, root, batch); err != nil {
			return nil, err
		}
	}

	// go get, which loads no package of the module, marks the modules it
	// adds indirect and lists only some of what they need. Outside a
	// workspace, go list -mod=mod loads every package of the module and
	// its tests, completing go.mod (the generated code's imports direct)
	// and writing every go.sum line. Workspace mode refuses -mod=mod: go
	// get -t on the generated packages completes go.mod and go.sum for
	// them, and go list, there, writes any other missing checksum to
	// go.work.sum.
	//
	// With no module added, no version changed for the module's other
	// packages: listing the generated packages, dirs, is enough.
	pkgs := []string{"./..."}
	if len(r.Missing) == 0 && len(dirs) > 0 {
		pkgs = packageArgs(dirs)
	}
	list := append([]string{"list", "-mod=mod", "-e", "-deps", "-test"}, pkgs...)
	if work != "" {
		if len(dirs) > 0 {
			if _, err := gocmd(ctx, root, append([]string{"get", "-t"}, packageArgs(dirs)...)...); err != nil {
				return nil, err
			}
		}
		list = append([]string{"list", "-e", "-deps", "-test"}, pkgs...)
	}
	if _, err := gocmd(ctx, root, list...); err != nil {
		return nil, err
	}

	after, err := os.ReadFile(goModPath)
	if err != nil {
		return nil, fmt.Errorf("require modules: %w", err)
	}
	var out []string
	changed, err := modChanges(before, after)
	if err != nil {
		return nil, err
	}
	for _, c := range changed {
		out = append(out, "go.mod: "+c)
	}
	if work != "" {
		workAfter, err := os.ReadFile(work)
		if err != nil {
			return nil, fmt.Errorf("require modules: %w", err)
		}
		changed, err := workChanges(workBefore, workAfter)
		if err != nil {
			return nil, err
		}
		name := work
		if rel, err := filepath.Rel(root, work); err == nil {
			name = filepath.ToSlash(rel)
		}
		for _, c := range changed {
			out = append(out, name+": "+c)
		}
	}
	return out, nil
}

// workspace returns the go.work file that the go command uses in dir, or
// "" when it runs in single-module mode there (no go.work, or GOWORK=off).
func workspace(ctx context.Context, dir string) (string, error) {
	out, err := gocmd(ctx, dir, "env", "GOWORK")
	if err != nil {
		return "", err
	}
	work := strings.TrimSpace(out)
	if work == "off" {
		return "", nil
	}
	return work, nil
}

// goGet runs go get for the modules (path@version), each at its version
// or at the one the module graph selects already, if that is higher, so
// that nothing is downgraded.
func goGet(ctx context.Context, root string, mods []string) error {
	if len(mods) == 0 {
		return nil
	}
	paths := make([]string, len(mods))
	for i, m := range mods {
		paths[i], _, _ = strings.Cut(m, "@")
	}
	selected, err := selectedVersions(ctx, root, paths)
	if err != nil {
		return err
	}
	args := []string{"get"}
	for i, m := range mods {
		_, version, _ := strings.Cut(m, "@")
		if s := selected[paths[i]]; semver.IsValid(s) && semver.Compare(s, version) > 0 {
			version = s
		}
		args = append(args, paths[i]+"@"+version)
	}
	_, err = gocmd(ctx, root, args...)
	return err
}

// selectedVersions returns the versions that the module graph of root
// selects for the modules in paths; modules not in the graph are left out.
func selectedVersions(ctx context.Context, root string, paths []string) (map[string]string, error) {
	out, err := gocmd(ctx, root, append([]string{"list", "-m", "-e", "-json"}, paths...)...)
	if err != nil {
		return nil, err
	}
	versions := map[string]string{}
	dec := json.NewDecoder(strings.NewReader(out))
	for {
		var m struct {
			Path, Version string
			Error         *struct{ Err string }
		}
		if err := dec.Decode(&m); errors.Is(err, io.EOF) {
			return versions, nil
		} else if err != nil {
			return nil, fmt.Errorf("go list -m in %s: %w", filepath.Base(root), err)
		}
		if m.Error == nil && m.Version != "" {
			versions[m.Path] = m.Version
		}
	}
}

// modChanges compares two versions of a go.mod: its go and toolchain
// lines, then its requirements, the direct ones first, by path.
func modChanges(before, after []byte) ([]string, error) {
	b, err := modfile.Parse("go.mod", before, nil)
	if err != nil {
		return nil, fmt.Errorf("go.mod before go get: %w", err)
	}
	a, err := modfile.Parse("go.mod", after, nil)
	if err != nil {
		return nil, fmt.Errorf("go.mod after go get: %w", err)
	}
	out := goLineChanges(goLine(b.Go), goLine(a.Go), toolchain(b.Toolchain), toolchain(a.Toolchain))
	type req struct {
		version  string
		indirect bool
	}
	reqs := func(f *modfile.File) map[string]req {
		m := map[string]req{}
		for _, r := range f.Require {
			m[r.Mod.Path] = req{r.Mod.Version, r.Indirect}
		}
		return m
	}
	old, now := reqs(b), reqs(a)
	var paths []string
	for p := range old {
		paths = append(paths, p)
	}
	for p := range now {
		if _, ok := old[p]; !ok {
			paths = append(paths, p)
		}
	}
	slices.Sort(paths)
	var direct, indirect []string
	for _, p := range paths {
		o, wasThere := old[p]
		n, isThere := now[p]
		var c string
		switch {
		case !isThere:
			c = fmt.Sprintf("removed %s %s", p, o.version)
		case !wasThere:
			c = fmt.Sprintf("added %s %s", p, n.version)
		case n.version == o.version:
			continue
		case semver.Compare(n.version, o.version) > 0:
			c = fmt.Sprintf("upgraded %s %s => %s", p, o.version, n.version)
		default:
			c = fmt.Sprintf("downgraded %s %s => %s", p, o.version, n.version)
		}
		if (isThere && n.indirect) || (!isThere && o.indirect) {
			indirect = append(indirect, c+" (indirect)")
		} else {
			direct = append(direct, c)
		}
	}
	return append(append(out, direct...), indirect...), nil
}

// workChanges compares the go and toolchain lines of two versions of a
// go.work, the lines go get may raise.
func workChanges(before, after []byte) ([]string, error) {
	b, err := modfile.ParseWork("go.work", before, nil)
	if err != nil {
		return nil, fmt.Errorf("go.work before go get: %w", err)
	}
	a, err := modfile.ParseWork("go.work", after, nil)
	if err != nil {
		return nil, fmt.Errorf("go.work after go get: %w", err)
	}
	return goLineChanges(goLine(b.Go), goLine(a.Go), toolchain(b.Toolchain), toolchain(a.Toolchain)), nil
}

func goLine(g *modfile.Go) string {
	if g == nil {
		return ""
	}
	return g.Version
}

func toolchain(t *modfile.Toolchain) string {
	if t == nil {
		return ""
	}
	return t.Name
}

// goLineChanges says how the go and toolchain lines changed.
func goLineChanges(goBefore, goAfter, tcBefore, tcAfter string) []string {
	var out []string
	switch {
	case goBefore == goAfter:
	case goBefore == "":
		out = append(out, "added go line "+goAfter)
	case goAfter == "":
		out = append(out, "removed go line "+goBefore)
	default:
		out = append(out, fmt.Sprintf("go line %s => %s", goBefore, goAfter))
	}
	switch {
	case tcBefore == tcAfter:
	case tcBefore == "":
		out = append(out, "added toolchain "+tcAfter)
	case tcAfter == "":
		out = append(out, "removed toolchain "+tcBefore)
	default:
		out = append(out, fmt.Sprintf("toolchain %s => %s", tcBefore, tcAfter))
	}
	return out
}

// gocmd runs the go command in dir and returns its standard output.
func gocmd(ctx context.Context, dir string, args ...string) (string, error) {
	cmd := goCommand(ctx, dir, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout = &stdout
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("go %s in %s: %w\n%s", strings.Join(args, " "), filepath.Base(dir), err, stderr.String())
	}
	return stdout.String(), nil
}

// Versions reads the module versions a go.mod requires, such as projgen's
// own, to offer them to users' modules.
func Versions(goMod []byte) map[string]string {
	f, err := modfile.ParseLax("go.mod", goMod, nil)
	if err != nil {
		return nil
	}
	out := map[string]string{}
	for _, r := range f.Require {
		out[r.Mod.Path] = r.Mod.Version
	}
	return out
}

// isProjgenModule reports whether a module is one of projgen's own that
// generated code imports: the runtime, or a source for another store.
// They are released with projgen, at its version.
func isProjgenModule(path string) bool {
	return strings.HasPrefix(path, "github.com/projgen/projgen/")
}
