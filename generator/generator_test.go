package generator_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"testing"

	"github.com/projgen/projgen/generator"
	"github.com/projgen/projgen/generator/cache"
	"github.com/projgen/projgen/generator/config"
	"github.com/projgen/projgen/generator/load"
	"github.com/projgen/projgen/generator/render"
	"github.com/projgen/projgen/generator/write"
	"github.com/projgen/projgen/internal/moduletest"
)

// goldenModule copies golden/name, a module with every file projgen
// generates, and reads its module and projgen.yaml.
func goldenModule(t *testing.T, name string) (*load.Module, *config.Config) {
	t.Helper()
	dir := moduletest.Copy(t, "..", filepath.Join("..", "golden", name))
	mod, err := load.ReadModule(dir)
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Read(filepath.Join(dir, config.FileName))
	if err != nil {
		t.Fatal(err)
	}
	return mod, cfg
}

func names(cfg *config.Config) []string {
	var out []string
	for _, p := range cfg.Projections {
		out = append(out, p.Name)
	}
	return out
}

func files(res *generator.Result) map[string][]byte {
	out := map[string][]byte{}
	for _, f := range res.Output.Files {
		out[f.Path] = f.Data
	}
	return out
}

// TestCacheKeepsOnlyWhatItProves runs Generate on golden modules, whose
// files are all up to date, with and without the cache, and checks that
// the cache never changes a byte of the output: it keeps a projection's
// files only when its inputs, the projgen build and the files on disk
// are the ones it recorded, and renders every other projection.
func TestCacheKeepsOnlyWhatItProves(t *testing.T) {
	ctx := context.Background()
	for _, name := range []string{"registry", "operations", "seed"} {
		t.Run(name, func(t *testing.T) {
			mod, cfg := goldenModule(t, name)
			pkgs, err := generator.Load(ctx, mod, generator.Aggregates(cfg))
			if err != nil {
				t.Fatal(err)
			}
			dir := t.TempDir()
			run := func(c *cache.Cache) *generator.Result {
				t.Helper()
				res, err := generator.Generate(ctx, generator.Request{Module: mod, Config: cfg, Packages: pkgs,
					Options: generator.Options{Cache: c}})
				if err != nil {
					t.Fatal(err)
				}
				return res
			}
			// Without a cache, every file is rendered: the reference.
			want := run(nil)
			if want.Kept != nil {
				t.Fatalf("without a cache, kept %v", want.Kept)
			}
			if n := want.Plan.Count(write.Unchanged); n != len(want.Plan.Changes) {
				t.Fatalf("golden/%s is not up to date: %d of %d files unchanged\n%s", name, n, len(want.Plan.Changes), want.Plan.Diff())
			}
			same := func(t *testing.T, res *generator.Result) {
				t.Helper()
				got, exp := files(res), files(want)
				if len(got) != len(exp) {
					t.Fatalf("%d files, want %d", len(got), len(exp))
				}
				for p, data := range exp {
					if !bytes.Equal(got[p], data) {
						t.Errorf("%s differs from the rendering without a cache", p)
					}
				}
			}

			cold := run(cache.Open(dir, "build A"))
			if cold.Kept != nil || cold.RegistryKept {
				t.Errorf("an empty cache kept %v, and the registry: %v", cold.Kept, cold.RegistryKept)
			}
			same(t, cold)

			warm := run(cache.Open(dir, "build A"))
			if !slices.Equal(warm.Kept, names(cfg)) || !warm.RegistryKept {
				t.Errorf("the second run kept %v and the registry %v, want every projection, %v, and the registry", warm.Kept, warm.RegistryKept, names(cfg))
			}
			same(t, warm)
			if n := warm.Plan.Count(write.Unchanged); n != len(warm.Plan.Changes) {
				t.Errorf("with the cache, %d of %d files unchanged", n, len(warm.Plan.Changes))
			}

			// Another build of projgen proves nothing.
			if other := run(cache.Open(dir, "build B")); other.Kept != nil || other.RegistryKept {
				t.Errorf("another build kept %v, and the registry: %v", other.Kept, other.RegistryKept)
			}

			// A generated file edited by hand is not what the cache
			// recorded: its projection is rendered, and the plan puts the
			// file back.
			first := cfg.Projections[0].Name
			edited := warm.Model.Projections[0].Files.Postgres
			path := filepath.Join(mod.Dir, filepath.FromSlash(edited))
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, append(data, "// edited by hand\n"...), 0o644); err != nil {
				t.Fatal(err)
			}
			res := run(cache.Open(dir, "build A"))
			if slices.Contains(res.Kept, first) || len(res.Kept) != len(cfg.Projections)-1 {
				t.Errorf("after an edit of %s, kept %v: want every projection but %s", edited, res.Kept, first)
			}
			same(t, res)
			for _, c := range res.Plan.Changes {
				if want := write.Unchanged; c.File.Path == edited {
					want = write.Update
					if c.Status != want {
						t.Errorf("%s: %v, want %v", c.File.Path, c.Status, want)
					}
				}
			}
			if err := os.WriteFile(path, data, 0o644); err != nil {
				t.Fatal(err)
			}

			// So is an edited registry.
			regPath := filepath.Join(mod.Dir, filepath.FromSlash(warm.Model.Registry.File))
			regData, err := os.ReadFile(regPath)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(regPath, append(regData, "// edited by hand\n"...), 0o644); err != nil {
				t.Fatal(err)
			}
			if res := run(cache.Open(dir, "build A")); res.RegistryKept || len(res.Kept) != len(cfg.Projections) {
				t.Errorf("after an edit of the registry, kept %v, and the registry: %v", res.Kept, res.RegistryKept)
			} else {
				same(t, res)
			}
			if err := os.WriteFile(regPath, regData, 0o644); err != nil {
				t.Fatal(err)
			}

			// Changed inputs are another key: the projection whose table
			// is renamed is rendered, with the new name.
			renamed := *cfg
			renamed.Projections = slices.Clone(cfg.Projections)
			renamed.Projections[0].Table = "renamed_by_the_test"
			res, err = generator.Generate(ctx, generator.Request{Module: mod, Config: &renamed, Packages: pkgs,
				Options: generator.Options{AllowDestructive: true, Cache: cache.Open(dir, "build A")}})
			if err != nil {
				t.Fatal(err)
			}
			if slices.Contains(res.Kept, first) || len(res.Kept) != len(cfg.Projections)-1 || res.RegistryKept {
				t.Errorf("after renaming the table of %s, kept %v, and the registry: %v", first, res.Kept, res.RegistryKept)
			}
			if got := files(res)[edited]; !bytes.Contains(got, []byte("renamed_by_the_test")) {
				t.Errorf("%s does not name the new table", edited)
			}
		})
	}
}

// TestCacheRecordsWhatItRendered checks the cache entries against the
// rendered files: each projection's entry lists its files, in order, with
// the SHA-256 of their content.
func TestCacheRecordsWhatItRendered(t *testing.T) {
	ctx := context.Background()
	mod, cfg := goldenModule(t, "registry")
	c := cache.Open(t.TempDir(), "build A")
	res, err := generator.Generate(ctx, generator.Request{Module: mod, Config: cfg, Options: generator.Options{Cache: c}})
	if err != nil {
		t.Fatal(err)
	}
	out := files(res)
	fps := render.Fingerprint(res.Model)
	for _, p := range res.Model.Projections {
		sums, ok := c.Get(c.Key(fps.Projections[p.Name]))
		if !ok {
			t.Fatalf("%s: no entry", p.Name)
		}
		var paths []string
		for _, s := range sums {
			paths = append(paths, s.Path)
			if s != cache.Sum(s.Path, out[s.Path]) {
				t.Errorf("%s: the entry's sum of %s is not the rendered file's", p.Name, s.Path)
			}
		}
		if !slices.Equal(paths, p.Files.All()) {
			t.Errorf("%s: the entry lists %v, want %v", p.Name, paths, p.Files.All())
		}
	}
}

// TestFieldsLeftOutOfFingerprintsAreNotRendered checks the contract of
// `fingerprint:"-"` on every golden module: with every tagged field of
// the model set to another value, the rendering is byte for byte the
// same, so that leaving them out of the cache's keys can never keep a
// stale file.
func TestFieldsLeftOutOfFingerprintsAreNotRendered(t *testing.T) {
	ctx := context.Background()
	modules, err := filepath.Glob(filepath.Join("..", "golden", "*", config.FileName))
	if err != nil || len(modules) < 5 {
		t.Fatalf("found %d golden modules (%v)", len(modules), err)
	}
	for _, m := range modules {
		name := filepath.Base(filepath.Dir(m))
		t.Run(name, func(t *testing.T) {
			mod, cfg := goldenModule(t, name)
			res, err := generator.Generate(ctx, generator.Request{Module: mod, Config: cfg})
			if err != nil {
				t.Fatal(err)
			}
			want, err := render.Render(res.Model, render.Options{})
			if err != nil {
				t.Fatal(err)
			}
			if n := scrambleUnfingerprinted(reflect.ValueOf(res.Model), map[uintptr]bool{}); n == 0 {
				t.Fatal("found no field tagged fingerprint:\"-\" to change")
			}
			got, err := render.Render(res.Model, render.Options{})
			if err != nil {
				t.Fatal(err)
			}
			if len(got.Files) != len(want.Files) {
				t.Fatalf("%d files, want %d", len(got.Files), len(want.Files))
			}
			for i, f := range want.Files {
				if got.Files[i].Path != f.Path || !bytes.Equal(got.Files[i].Data, f.Data) {
					t.Errorf("%s changed with the fields the fingerprint leaves out", f.Path)
				}
			}
		})
	}
}

// scrambleUnfingerprinted sets every settable string field tagged
// `fingerprint:"-"` reachable from v to another value, and returns how
// many it set.
func scrambleUnfingerprinted(v reflect.Value, seen map[uintptr]bool) int {
	switch v.Kind() {
	case reflect.Pointer:
		if v.IsNil() || seen[v.Pointer()] {
			return 0
		}
		seen[v.Pointer()] = true
		return scrambleUnfingerprinted(v.Elem(), seen)
	case reflect.Interface:
		return scrambleUnfingerprinted(v.Elem(), seen)
	case reflect.Struct:
		n := 0
		for i := range v.NumField() {
			f := v.Field(i)
			if v.Type().Field(i).Tag.Get(cache.Tag) == "-" && f.Kind() == reflect.String && f.CanSet() {
				f.SetString("elsewhere/" + f.String() + ":99:1")
				n++
				continue
			}
			n += scrambleUnfingerprinted(f, seen)
		}
		return n
	case reflect.Slice, reflect.Array:
		n := 0
		for i := range v.Len() {
			n += scrambleUnfingerprinted(v.Index(i), seen)
		}
		return n
	case reflect.Map:
		n := 0
		for it := v.MapRange(); it.Next(); {
			n += scrambleUnfingerprinted(it.Value(), seen)
		}
		return n
	}
	return 0
}

// TestCacheKeepsEveryProjectionFromAnotherDirectory runs Generate from
// the module root, then from a package directory, as go generate does:
// positions in the model differ, and the second run keeps every
// projection all the same.
func TestCacheKeepsEveryProjectionFromAnotherDirectory(t *testing.T) {
	ctx := context.Background()
	mod, cfg := goldenModule(t, "seed")
	c := cache.Open(t.TempDir(), "build A")
	run := func() *generator.Result {
		t.Helper()
		res, err := generator.Generate(ctx, generator.Request{Module: mod, Config: cfg, Options: generator.Options{Cache: c}})
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	t.Chdir(mod.Dir)
	if first := run(); first.Kept != nil {
		t.Fatalf("an empty cache kept %v", first.Kept)
	}
	t.Chdir(filepath.Join(mod.Dir, filepath.FromSlash(cfg.Projections[0].Dir)))
	if again := run(); !slices.Equal(again.Kept, names(cfg)) || !again.RegistryKept {
		t.Errorf("from %s, kept %v and the registry %v; want every projection, %v, and the registry",
			cfg.Projections[0].Dir, again.Kept, again.RegistryKept, names(cfg))
	}
}
