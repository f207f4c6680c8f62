package load

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"go/build"
	"go/parser"
	"go/token"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sort"
	"strings"

	"golang.org/x/sync/errgroup"

	"golang.org/x/mod/modfile"
	"golang.org/x/tools/go/packages"

	"github.com/projgen/projgen/generator/diag"
)

// Module is the Go module projgen works in.
type Module struct {
	// Path is the module path from go.mod.
	Path string
	// Dir is the module root, absolute.
	Dir string
	// GoMod is the content of go.mod.
	GoMod []byte
}

// ReadModule reads the go.mod of the module dir is in: dir's own, or the
// nearest parent's, as the go command finds it, so that projgen runs from
// any package directory (go generate runs there).
func ReadModule(dir string) (*Module, error) {
	start, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("module root: %w", err)
	}
	if fi, err := os.Stat(start); err != nil || !fi.IsDir() {
		return nil, diag.Errorf(diag.Rel(start), "%s is not a directory", diag.Rel(start)).
			WithHint("pass --dir the module's directory, or a directory inside it")
	}
	abs := start
	var data []byte
	for {
		data, err = os.ReadFile(filepath.Join(abs, "go.mod"))
		if !errors.Is(err, os.ErrNotExist) {
			break
		}
		parent := filepath.Dir(abs)
		if parent == abs {
			return nil, diag.Errorf(diag.Rel(start), "no go.mod here or in any parent directory: projgen works in a Go module").
				WithHint("run it inside the module, or pass --dir DIR")
		}
		abs = parent
	}
	gomod := filepath.Join(abs, "go.mod")
	if err != nil {
		return nil, fmt.Errorf("read go.mod: %w", err)
	}
	f, err := modfile.ParseLax(gomod, data, nil)
	if err != nil {
		return nil, diag.Errorf(diag.Rel(gomod), "%v", err).WithHint("fix go.mod; `go mod tidy` reports the same problem")
	}
	if f.Module == nil {
		return nil, diag.Errorf(diag.Rel(gomod), "go.mod has no module line").WithHint("add one, such as: module example.com/service")
	}
	return &Module{Path: f.Module.Mod.Path, Dir: abs, GoMod: data}, nil
}

// Listed is a package of the module, as listed without loading its types.
type Listed struct {
	// Path is the import path.
	Path string
	// Name is the package name.
	Name string
	// Dir is the package directory, absolute.
	Dir string
	// Generated reports whether every Go file of the package is projgen's:
	// a projection package of its own or the registry, which are no
	// aggregate's.
	Generated bool
}

// List lists the packages of the module rooted at dir, sorted by import
// path. It does not type-check anything, so it is fast even in large
// modules.
func List(ctx context.Context, dir string) ([]Listed, error) {
	cfg := &packages.Config{Context: ctx, Dir: dir, Mode: packages.NeedName | packages.NeedFiles}
	pkgs, err := packages.Load(cfg, "./...")
	if err != nil {
		return nil, fmt.Errorf("list packages: %w", err)
	}
	var out []Listed
	for _, p := range pkgs {
		if len(p.GoFiles) == 0 {
			continue
		}
		generated, err := allGenerated(p.GoFiles)
		if err != nil {
			return nil, fmt.Errorf("list packages: %w", err)
		}
		out = append(out, Listed{Path: p.PkgPath, Name: p.Name, Dir: filepath.Dir(p.GoFiles[0]), Generated: generated})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out, nil
}

// FindPackages lists the packages of mod as List does, from their files
// alone, without the go command: the directories ./... matches, each with
// the package clause of its Go files, tests aside, that this machine's
// build constraints select (go/build's Default context, which reads
// GOOS, GOARCH and CGO_ENABLED but not GOFLAGS' tags). A directory whose
// files name two packages is left out, as one that go list reports with
// an error. It takes milliseconds where go list takes a quarter of a
// second in a module of hundreds of packages, and serves to resolve the
// name projgen new is given; the load that follows checks the package.
func FindPackages(mod *Module) ([]Listed, error) {
	var dirs []goDir
	index := map[string]int{} // of dirs, by path: WalkDir interleaves a directory's files with its subdirectories
	err := filepath.WalkDir(mod.Dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		switch name := d.Name(); {
		case d.IsDir():
			return skipDir(mod.Dir, path, name)
		case strings.HasSuffix(name, ".go") && !strings.HasSuffix(name, "_test.go") && d.Type().IsRegular():
			dir := filepath.Dir(path)
			i, ok := index[dir]
			if !ok {
				i = len(dirs)
				index[dir] = i
				dirs = append(dirs, goDir{path: dir})
			}
			dirs[i].files = append(dirs[i].files, name)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("find packages: %w", err)
	}
	found := make([]*Listed, len(dirs))
	var g errgroup.Group
	g.SetLimit(runtime.GOMAXPROCS(0))
	for i, dir := range dirs {
		g.Go(func() error {
			var err error
			found[i], err = findPackage(mod, dir)
			return err
		})
	}
	if err := g.Wait(); err != nil {
		return nil, fmt.Errorf("find packages: %w", err)
	}
	var out []Listed
	for _, l := range found {
		if l != nil {
			out = append(out, *l)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out, nil
}

// goDir is a directory and its Go files, tests aside.
type goDir struct {
	path  string
	files []string
}

// findPackage returns the package in dir, or nil when its files are not
// built on this machine or name two packages.
func findPackage(mod *Module, dir goDir) (*Listed, error) {
	l := &Listed{Dir: dir.path, Generated: true}
	for _, name := range dir.files {
		path := filepath.Join(dir.path, name)
		head, err := readHead(path)
		if err != nil {
			return nil, err
		}
		if !matchFile(dir.path, name, head) {
			continue
		}
		f, err := parser.ParseFile(token.NewFileSet(), path, head, parser.PackageClauseOnly|parser.ParseComments)
		if err != nil {
			continue
		}
		if l.Name != "" && l.Name != f.Name.Name {
			return nil, nil
		}
		l.Name = f.Name.Name
		l.Generated = l.Generated && hasHeader(f)
	}
	if l.Name == "" {
		return nil, nil
	}
	rel, err := filepath.Rel(mod.Dir, dir.path)
	if err != nil {
		return nil, err
	}
	l.Path = mod.Path
	if rel != "." {
		l.Path += "/" + filepath.ToSlash(rel)
	}
	return l, nil
}

// matchFile reports whether the go command builds the file name of dir,
// by its name and its build constraints, on this machine (go/build's
// Default context), reading them from head, the start of the file, and
// from the file itself only when head ends before its imports do. A file
// that can not be read is not built: go list, or the load, says why.
func matchFile(dir, name string, head []byte) bool {
	ctxt := build.Default
	ctxt.OpenFile = func(string) (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(head)), nil }
	ok, err := ctxt.MatchFile(dir, name)
	if err != nil && len(head) == headSize {
		ok, err = build.Default.MatchFile(dir, name)
	}
	return ok && err == nil
}

// allGenerated reports whether every one of the files is projgen's. It
// reads only their starts, as ScanModule does.
func allGenerated(files []string) (bool, error) {
	for _, f := range files {
		head, err := readHead(f)
		if err != nil {
			return false, err
		}
		if !IsGenerated(f, head) {
			return false, nil
		}
	}
	return true, nil
}

// Resolve finds the package an aggregate name refers to: its import path,
// its package name, the last elements of its import path
// ("installation", "github/installation"), or its directory, written as
// the go command writes one, relative to the current directory
// ("./github/installation", "..") or absolute. When nothing or several
// match, the error lists the candidates.
func Resolve(listed []Listed, name string) (Listed, error) {
	if isDirName(name) {
		l, err := resolveDir(listed, name)
		// An absolute path that is no package's directory may still be
		// an import path's end, written with a slash before it.
		if err == nil || !filepath.IsAbs(name) {
			return l, err
		}
	}
	name = strings.Trim(name, "/")
	var matches []Listed
	for _, l := range listed {
		if l.Path == name {
			return l, nil
		}
		if l.Name == name || strings.HasSuffix(l.Path, "/"+name) {
			matches = append(matches, l)
		}
	}
	switch len(matches) {
	case 1:
		return matches[0], nil
	case 0:
		e := diag.Errorf("", "no package %q in this module", name)
		if near := nearest(listed, name); len(near) > 0 {
			return Listed{}, e.WithHint("did you mean %s? pass --aggregate with a package name or import path", strings.Join(near, " or "))
		}
		var all []string
		for _, l := range listed {
			all = append(all, l.Path)
		}
		if len(all) == 0 {
			return Listed{}, e.WithHint("the module has no Go packages yet")
		}
		if len(all) > 12 {
			all = append(all[:12], "…")
		}
		return Listed{}, e.WithHint("packages: %s", strings.Join(all, ", "))
	}
	var paths []string
	for _, m := range matches {
		paths = append(paths, m.Path)
	}
	return Listed{}, diag.Errorf("", "aggregate %q is ambiguous: %d packages match", name, len(matches)).
		WithHint("pass the import path of one of: %s", strings.Join(paths, ", "))
}

// isDirName reports whether an aggregate name is written as a directory:
// ., .., or a path that starts with one of them, or an absolute path.
func isDirName(name string) bool {
	return name == "." || name == ".." || strings.HasPrefix(name, "./") || strings.HasPrefix(name, "../") || filepath.IsAbs(name)
}

// resolveDir finds the package in the directory dir.
func resolveDir(listed []Listed, dir string) (Listed, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return Listed{}, fmt.Errorf("aggregate %s: %w", dir, err)
	}
	for _, l := range listed {
		if l.Dir == abs {
			return l, nil
		}
	}
	return Listed{}, diag.Errorf("", "no package of this module in %s", dir).
		WithHint("pass the directory of the aggregate's Go files, its package name or its import path")
}

// nearest returns the package names or paths closest to name, for "did you
// mean" suggestions.
func nearest(listed []Listed, name string) []string {
	best, out := 3, []string(nil)
	for _, l := range listed {
		for _, cand := range []string{l.Name, filepath.Base(l.Path)} {
			d := distance(strings.ToLower(cand), strings.ToLower(name))
			if strings.Contains(strings.ToLower(cand), strings.ToLower(name)) || strings.Contains(strings.ToLower(name), strings.ToLower(cand)) {
				d = min(d, 1)
			}
			if d < best {
				best, out = d, nil
			}
			if d == best && !slices.Contains(out, l.Path) {
				out = append(out, l.Path)
			}
		}
	}
	return out
}

// distance is the Levenshtein distance between a and b.
func distance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// Requires reports whether go.mod requires the module at path, directly
// or // indirect.
func (m *Module) Requires(path string) bool {
	return m.requires(path, true)
}

// RequiresDirectly reports whether go.mod requires the module path for
// the module's own code: a requirement not marked // indirect.
func (m *Module) RequiresDirectly(path string) bool {
	return m.requires(path, false)
}

// requires reports whether go.mod requires path, counting indirect
// requirements when indirect is true.
func (m *Module) requires(path string, indirect bool) bool {
	f, err := modfile.ParseLax("go.mod", m.GoMod, nil)
	if err != nil {
		return false
	}
	for _, r := range f.Require {
		if r.Mod.Path == path && (indirect || !r.Indirect) {
			return true
		}
	}
	return false
}
