package verify

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"go/parser"
	"go/token"
	"hash"
	"io"
	"io/fs"
	"maps"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/projgen/projgen/generator/cache"
)

// vetEnv are the go command's settings that change what go vet builds
// and how it checks it: the toolchain and its analyzers, the target, the
// flags, cgo's compilers, the workspace.
var vetEnv = []string{
	"GOVERSION", "GOROOT", "GOOS", "GOARCH", "GO386", "GOAMD64", "GOARM", "GOARM64", "GOPPC64", "GORISCV64", "GOWASM",
	"GOFLAGS", "GOEXPERIMENT", "GOFIPS140", "GOWORK", "CGO_ENABLED", "CC", "CXX",
	"CGO_CFLAGS", "CGO_CPPFLAGS", "CGO_CXXFLAGS", "CGO_FFLAGS", "CGO_LDFLAGS",
}

// VetInputs returns a fingerprint of everything go vet reads when it vets
// the packages in dirs (slash-separated, relative to root, the root of
// the module modPath), their tests included, so that a vet that passed
// on the same fingerprint need not run again:
//   - the go command's settings (vetEnv), which name the toolchain;
//   - go.mod and go.sum, and go.work and go.work.sum in a workspace;
//   - every file in dirs, and every file below them that a //go:embed
//     pattern in them may name;
//   - every package those files import from outside dirs, with the
//     packages they import, as go list -deps lists them: a standard
//     package by its path, one of a module version by the module's path
//     and version, whose files can not change, and one of the main
//     module, of the workspace or of a directory replacement by the
//     content of its files.
//
// It returns nil, and no error, when the inputs can not be pinned down:
// with a vendor directory, whose files stand in for module versions, or
// when go list reports a package broken, which go vet must then report.
func VetInputs(ctx context.Context, root, modPath string, dirs []string) ([]byte, error) {
	if _, err := os.Stat(filepath.Join(root, "vendor", "modules.txt")); err == nil {
		return nil, nil
	}
	h := sha256.New()
	fmt.Fprintf(h, "projgen vet inputs 1\n")
	env, err := goEnv(ctx, root, vetEnv)
	if err != nil {
		return nil, err
	}
	for _, k := range vetEnv {
		fmt.Fprintf(h, "env %s=%q\n", k, env[k])
	}
	if strings.Contains(env["GOFLAGS"], "-mod=vendor") {
		return nil, nil
	}
	modFiles := []string{filepath.Join(root, "go.mod"), filepath.Join(root, "go.sum")}
	if w := env["GOWORK"]; w != "" && w != "off" {
		// go env gives the workspace file's absolute path.
		modFiles = append(modFiles, w, w+".sum")
	}
	for _, f := range modFiles {
		if err := hashFile(h, f, filepath.Base(f)); err != nil {
			return nil, err
		}
	}
	vetted := map[string]bool{}
	for _, d := range dirs {
		vetted[importPath(modPath, d)] = true
	}
	imports := map[string]bool{}
	for _, d := range dirs {
		if err := hashVetted(h, root, d, imports); err != nil {
			return nil, err
		}
	}
	var outside []string
	for p := range imports {
		if !vetted[p] && p != "C" && p != "unsafe" {
			outside = append(outside, p)
		}
	}
	slices.Sort(outside)
	pinned, err := hashImports(ctx, h, root, outside)
	if err != nil || !pinned {
		return nil, err
	}
	return h.Sum(nil), nil
}

// goEnv returns the values of the go command's settings names.
func goEnv(ctx context.Context, root string, names []string) (map[string]string, error) {
	out, err := gocmd(ctx, root, append([]string{"env", "-json"}, names...)...)
	if err != nil {
		return nil, err
	}
	env := map[string]string{}
	if err := json.Unmarshal([]byte(out), &env); err != nil {
		return nil, fmt.Errorf("go env: %w", err)
	}
	return env, nil
}

// importPath is the import path of the package in dir, relative to the
// root of the module modPath.
func importPath(modPath, dir string) string {
	if dir = path.Clean(dir); dir == "." {
		return modPath
	}
	return modPath + "/" + dir
}

// hashVetted writes into h the name and content of every file of dir,
// and of the trees below it that its //go:embed patterns may reach, and
// adds to imports what its Go files import, whatever their build
// constraints: more than go vet reads, never less.
func hashVetted(h hash.Hash, root, dir string, imports map[string]bool) error {
	abs := filepath.Join(root, filepath.FromSlash(dir))
	entries, err := os.ReadDir(abs)
	if err != nil {
		return fmt.Errorf("vet inputs: %w", err)
	}
	embeds := map[string]bool{}
	for _, e := range entries {
		if !e.Type().IsRegular() {
			continue
		}
		name := path.Join(dir, e.Name())
		data, err := os.ReadFile(filepath.Join(abs, e.Name()))
		if err != nil {
			return fmt.Errorf("vet inputs: %w", err)
		}
		writeSum(h, name, sha256.Sum256(data))
		if !strings.HasSuffix(name, ".go") {
			continue
		}
		if f, err := parser.ParseFile(token.NewFileSet(), name, data, parser.ImportsOnly); err == nil {
			for _, imp := range f.Imports {
				if p, err := strconv.Unquote(imp.Path.Value); err == nil {
					imports[p] = true
				}
			}
		}
		for _, tree := range embedTrees(data) {
			embeds[tree] = true
		}
	}
	for _, t := range slices.Sorted(maps.Keys(embeds)) {
		if err := hashTree(h, abs, dir, t); err != nil {
			return err
		}
	}
	return nil
}

// embedTrees returns, for each pattern of the //go:embed lines of a Go
// file, the first element of its path, which names the file or tree it
// matches within, or "." when that element is itself a pattern, or the
// line quotes its patterns.
func embedTrees(src []byte) []string {
	var trees []string
	for line := range bytes.Lines(src) {
		rest, ok := bytes.CutPrefix(bytes.TrimSpace(line), []byte("//go:embed"))
		if !ok {
			continue
		}
		if bytes.ContainsAny(rest, "\"`") {
			// A quoted pattern may hold spaces: the whole directory.
			trees = append(trees, ".")
			continue
		}
		for _, field := range strings.Fields(string(rest)) {
			p := strings.TrimPrefix(field, "all:")
			first, _, _ := strings.Cut(p, "/")
			if first == "" || strings.ContainsAny(first, `*?[\`) {
				first = "."
			}
			trees = append(trees, first)
		}
	}
	return trees
}

// hashTree writes into h every regular file below abs/tree, by its path
// under dir.
func hashTree(h hash.Hash, abs, dir, tree string) error {
	start := filepath.Join(abs, filepath.FromSlash(tree))
	err := filepath.WalkDir(start, func(p string, d fs.DirEntry, err error) error {
		if errors.Is(err, fs.ErrNotExist) {
			// The build reports a pattern that matches nothing.
			return nil
		}
		if err != nil || !d.Type().IsRegular() {
			return err
		}
		rel, err := filepath.Rel(abs, p)
		if err != nil {
			return err
		}
		return hashFile(h, p, path.Join(dir, filepath.ToSlash(rel)))
	})
	if err != nil {
		return fmt.Errorf("vet inputs: %w", err)
	}
	return nil
}

// hashFile writes into h the content of the file at p, by name; a file
// that does not exist is written as missing.
func hashFile(h hash.Hash, p, name string) error {
	f, err := os.Open(p)
	if errors.Is(err, fs.ErrNotExist) {
		fmt.Fprintf(h, "missing %s\n", name)
		return nil
	}
	if err != nil {
		return fmt.Errorf("vet inputs: %w", err)
	}
	defer f.Close()
	fh := sha256.New()
	if _, err := io.Copy(fh, f); err != nil {
		return fmt.Errorf("vet inputs: %w", err)
	}
	writeSum(h, name, [sha256.Size]byte(fh.Sum(nil)))
	return nil
}

// writeSum writes into h the record of a file: its name and the SHA-256
// of its content.
func writeSum(h hash.Hash, name string, sum [sha256.Size]byte) {
	fmt.Fprintf(h, "file %s %x\n", name, sum)
}

// listedPackage is what hashImports reads of go list's report of a
// package.
type listedPackage struct {
	ImportPath string
	Dir        string
	Standard   bool
	EmbedFiles []string
	Module     *struct {
		Path, Version string
		Main          bool
		Replace       *struct{ Path, Version string }
	}
	Error *struct{ Err string }
}

// hashImports writes into h the packages paths, and their dependencies:
// what of them can change. It returns false when one of them is broken,
// or of no module.
func hashImports(ctx context.Context, h hash.Hash, root string, paths []string) (bool, error) {
	if len(paths) == 0 {
		return true, nil
	}
	args := append([]string{"list", "-e", "-deps", "-json=ImportPath,Dir,Standard,EmbedFiles,Module,Error", "--"}, paths...)
	out, err := gocmd(ctx, root, args...)
	if err != nil {
		return false, err
	}
	dec := json.NewDecoder(strings.NewReader(out))
	for {
		var p listedPackage
		if err := dec.Decode(&p); errors.Is(err, io.EOF) {
			return true, nil
		} else if err != nil {
			return false, fmt.Errorf("go list -deps: %w", err)
		}
		switch m := p.Module; {
		case p.Error != nil:
			return false, nil
		case p.Standard:
			fmt.Fprintf(h, "std %s\n", p.ImportPath)
		case m == nil:
			return false, nil
		case !m.Main && (m.Replace == nil || m.Replace.Version != ""):
			// A module version: its files are the ones go.sum pins.
			fmt.Fprintf(h, "module %s %s@%s", p.ImportPath, m.Path, m.Version)
			if m.Replace != nil {
				fmt.Fprintf(h, " => %s@%s", m.Replace.Path, m.Replace.Version)
			}
			fmt.Fprintln(h)
		default:
			if err := hashPackage(h, p); err != nil {
				return false, err
			}
		}
	}
}

// hashPackage writes into h the files of a package whose files can
// change: its directory's, and what it embeds.
func hashPackage(h hash.Hash, p listedPackage) error {
	fmt.Fprintf(h, "package %s\n", p.ImportPath)
	entries, err := os.ReadDir(p.Dir)
	if err != nil {
		return fmt.Errorf("vet inputs: %w", err)
	}
	for _, e := range entries {
		if e.Type().IsRegular() {
			if err := hashFile(h, filepath.Join(p.Dir, e.Name()), e.Name()); err != nil {
				return err
			}
		}
	}
	for _, f := range p.EmbedFiles {
		if err := hashFile(h, filepath.Join(p.Dir, filepath.FromSlash(f)), f); err != nil {
			return err
		}
	}
	return nil
}

// VetTarget is what check vets: packages of one module.
type VetTarget struct {
	// Root is the module root, and ModulePath the module's path.
	Root, ModulePath string
	// Dirs are the package directories, slash-separated, relative to
	// Root, sorted.
	Dirs []string
}

// Fingerprint is VetInputs of a target, computed in the background.
type Fingerprint struct {
	target VetTarget
	done   chan struct{}
	inputs []byte
}

// StartFingerprint starts computing VetInputs of t. Cancelling ctx stops
// it.
func StartFingerprint(ctx context.Context, t VetTarget) *Fingerprint {
	f := &Fingerprint{target: t, done: make(chan struct{})}
	go func() {
		defer close(f.done)
		// An error leaves the fingerprint nil: go vet then runs.
		f.inputs, _ = VetInputs(ctx, t.Root, t.ModulePath, t.Dirs)
	}()
	return f
}

// Wait returns the fingerprint once it is computed: nil when it could not
// be, and on a nil Fingerprint.
func (f *Fingerprint) Wait() []byte {
	if f == nil {
		return nil
	}
	<-f.done
	return f.inputs
}

// VetOnce runs go vet on t's packages, their tests included, unless c
// records that it passed on the same inputs: early's fingerprint, when
// it is of the same directories, or else one computed now. After a pass
// it records the verdict, if the inputs are still the ones it started
// from, so that a file edited while go vet ran is vetted again next
// time; a failure is never recorded. With c nil, go vet always runs. It
// returns go vet's output, and ErrVetFailed when go vet fails.
func VetOnce(ctx context.Context, c *cache.Cache, t VetTarget, early *Fingerprint) (string, error) {
	if c == nil {
		return Vet(ctx, t.Root, t.Dirs)
	}
	inputs := early.Wait()
	if early == nil || !slices.Equal(early.target.Dirs, t.Dirs) {
		inputs, _ = VetInputs(ctx, t.Root, t.ModulePath, t.Dirs)
	}
	if inputs != nil {
		if _, ok := c.Get(c.Key(inputs)); ok {
			return "", nil
		}
	}
	out, err := Vet(ctx, t.Root, t.Dirs)
	if err != nil || inputs == nil {
		return out, err
	}
	if after, _ := VetInputs(ctx, t.Root, t.ModulePath, t.Dirs); bytes.Equal(after, inputs) {
		// An entry of no files is a verdict; one that can not be
		// written is found missing next time, and go vet runs again.
		_ = c.Put(c.Key(inputs), nil)
	}
	return out, nil
}
