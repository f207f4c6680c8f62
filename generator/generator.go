// Package generator runs projgen's pipeline, one stage after the other:
// config → load → model → render → plan, behind one entry point,
// Generate, that every command calls. The CLI then applies the plan
// (package write) and checks the result (package verify). No stage knows
// of the CLI.
package generator

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"

	"golang.org/x/sync/errgroup"

	"github.com/projgen/projgen/generator/cache"
	"github.com/projgen/projgen/generator/config"
	"github.com/projgen/projgen/generator/load"
	"github.com/projgen/projgen/generator/model"
	"github.com/projgen/projgen/generator/render"
	"github.com/projgen/projgen/generator/write"
)

// Options are the settings of one run.
type Options struct {
	// AllowDestructive permits migrations that drop or change columns.
	AllowDestructive bool
	// Force accepts migrations that differ from projgen.sum, and plans to
	// overwrite files at generated paths that projgen does not own.
	Force bool
	// WithConfig renders projgen.yaml too, and the runner main, which is
	// written only when it does not exist: what projgen new writes.
	WithConfig bool
	// Only, when set, as projgen new sets it to the projection it adds,
	// renders the Go files of that projection alone, and of those whose
	// migration directory gets a new migration; the others' files are
	// taken as they are on disk, where they all are, so that adding
	// projections one at a time costs each time the same.
	Only string
	// Cache, when set, records the hashes of the files each projection
	// renders, so that a later run keeps a projection's files as they are
	// on disk, without rendering them, when its inputs and the projgen
	// build are the same and the files on disk are the ones recorded.
	Cache *cache.Cache
}

// Request is what one run generates from.
type Request struct {
	// Module is the module, as load.ReadModule reads it.
	Module *load.Module
	// Config is projgen.yaml, with the projection projgen new adds, if any.
	Config *config.Config
	// Packages are aggregate packages loaded already, by import path, as
	// projgen new loads them to make its projection; the run loads the
	// others the config names, with one packages.Load.
	Packages map[string]*load.Package
	// Options are the run's settings.
	Options Options
}

// Result is everything one run computed.
type Result struct {
	// Module is the module generated for.
	Module *load.Module
	// Model is the module's model.
	Model *model.Module
	// Output is the rendered files.
	Output *render.Output
	// Orphans are projgen's Go files on disk that the run no longer
	// generates, because their projection is gone; slash-separated,
	// relative to the module root, sorted.
	Orphans []string
	// Plan is what writing Output changes on disk: every file created,
	// updated, deleted, unchanged, or in conflict (Plan.Err), which
	// check reports as drift and the others refuse to write.
	Plan *write.Plan
	// Notes are what the user should know but that does not stop the
	// run, each a sentence that says what to do.
	Notes []string
	// Kept are the projections whose Go files the run took as they are on
	// disk instead of rendering them, by Options.Only or by the cache, in
	// projgen.yaml order.
	Kept []string
	// RegistryKept is true when the run took the registry's files as they
	// are on disk, by the cache.
	RegistryKept bool

	onDisk map[string]bool // the paths of the kept files
}

// Aggregates returns the import paths of every aggregate of cfg, and of
// extra, sorted and without duplicates: the packages one load needs.
func Aggregates(cfg *config.Config, extra ...string) []string {
	var paths []string
	for _, p := range cfg.Projections {
		paths = append(paths, p.Aggregates...)
	}
	paths = append(paths, extra...)
	slices.Sort(paths)
	return slices.Compact(paths)
}

// Load loads the given aggregate packages with one packages.Load call.
func Load(ctx context.Context, mod *load.Module, paths []string) (map[string]*load.Package, error) {
	pkgs, err := load.Load(ctx, mod.Dir, paths)
	if err != nil {
		return nil, err
	}
	out := make(map[string]*load.Package, len(pkgs))
	for _, p := range pkgs {
		out[p.Path] = p
	}
	return out, nil
}

// Generate runs the pipeline for req: it loads the aggregates req lacks,
// builds the model over them and what is on disk (the migrations and
// projgen's files), renders every file, and plans their writes. Every
// command runs it: generate writes the plan, check shows it as a diff,
// and new and its wizard after adding a projection to the config.
func Generate(ctx context.Context, req Request) (*Result, error) {
	// What is on disk does not depend on the packages: read it while the
	// go command lists them.
	var disk *onDiskState
	var diskErr error
	read := make(chan struct{})
	go func() {
		defer close(read)
		disk, diskErr = readDisk(req.Module, req.Config)
	}()
	pkgs, err := loadMissing(ctx, req)
	<-read
	if err != nil {
		return nil, err
	}
	if diskErr != nil {
		return nil, diskErr
	}
	res, err := build(req.Module, req.Config, pkgs, disk, req.Options)
	if err != nil {
		return nil, err
	}
	res.Plan, err = write.NewPlan(req.Module.Dir, res.Output.Files, res.Orphans, write.Options{Force: req.Options.Force, OnDisk: res.onDisk})
	if err != nil {
		return nil, err
	}
	return res, nil
}

// loadMissing returns req's packages with the aggregates of its config
// that it lacks loaded.
func loadMissing(ctx context.Context, req Request) (map[string]*load.Package, error) {
	var missing []string
	for _, p := range Aggregates(req.Config) {
		if req.Packages[p] == nil {
			missing = append(missing, p)
		}
	}
	if len(missing) == 0 {
		return req.Packages, nil
	}
	loaded, err := Load(ctx, req.Module, missing)
	if err != nil {
		return nil, err
	}
	maps.Copy(loaded, req.Packages)
	return loaded, nil
}

// keptFiles returns, by projection name, the Go files on disk of the
// projections the run need not render:
//   - with opts.Only set, every projection but that one whose files are
//     all on disk and whose migration directory gets no new migration;
//   - with opts.Cache set, every projection whose inputs the cache has
//     seen rendered by this build into exactly the files on disk.
//
// It returns the registry's files on disk too, when the cache proves them
// current.
func keptFiles(root string, m *model.Module, fps render.Fingerprints, opts Options) (map[string][]render.File, []render.File, error) {
	migrating := map[string]bool{}
	for _, md := range m.MigrationDirs {
		if len(md.New) > 0 {
			migrating[md.Dir] = true
		}
	}
	// Reading and hashing the files is most of the work: spread it over
	// the processors, as rendering is.
	found := make([][]render.File, len(m.Projections))
	var registry []render.File
	var g errgroup.Group
	g.SetLimit(runtime.GOMAXPROCS(0))
	if opts.Cache != nil && fps.Registry != nil {
		g.Go(func() error {
			var err error
			registry, err = cached(root, opts.Cache, fps.Registry, m.Registry.Files())
			return err
		})
	}
	for i, p := range m.Projections {
		g.Go(func() error {
			var err error
			switch {
			case opts.Only != "" && p.Name != opts.Only && !migrating[p.MigrationDir]:
				found[i], err = onDisk(root, p.Files.All())
			case opts.Cache != nil:
				if fp := fps.Projections[p.Name]; fp != nil {
					found[i], err = cached(root, opts.Cache, fp, p.Files.All())
				}
			}
			return err
		})
	}
	if err := g.Wait(); err != nil {
		return nil, nil, err
	}
	kept := map[string][]render.File{}
	for i, p := range m.Projections {
		if found[i] != nil {
			kept[p.Name] = found[i]
		}
	}
	return kept, registry, nil
}

// cached returns the files at paths on disk when c records that this
// build rendered the inputs of fingerprint fp into exactly them, and nil
// otherwise.
func cached(root string, c *cache.Cache, fp []byte, paths []string) ([]render.File, error) {
	sums, ok := c.Get(c.Key(fp))
	if !ok || !slices.Equal(sumPaths(sums), paths) {
		return nil, nil
	}
	files, err := onDisk(root, paths)
	if files == nil || err != nil {
		return nil, err
	}
	for i, f := range files {
		if cache.Sum(f.Path, f.Data) != sums[i] {
			return nil, nil
		}
	}
	return files, nil
}

func sumPaths(sums []cache.FileSum) []string {
	paths := make([]string, len(sums))
	for i, s := range sums {
		paths[i] = s.Path
	}
	return paths
}

// record puts in c, for the registry and every projection that out has
// rendered, the hashes of their files. What can not be recorded is
// rendered again next time, so errors other than the first are dropped
// and the first is returned only to be reported.
func record(c *cache.Cache, m *model.Module, fps render.Fingerprints, out *render.Output, kept map[string][]render.File, registryKept bool) error {
	if c == nil {
		return nil
	}
	data := make(map[string][]byte, len(out.Files))
	for _, f := range out.Files {
		data[f.Path] = f.Data
	}
	var first error
	put := func(fp []byte, paths []string) {
		if fp == nil {
			return
		}
		sums := make([]cache.FileSum, 0, len(paths))
		for _, path := range paths {
			d, ok := data[path]
			if !ok {
				return
			}
			sums = append(sums, cache.Sum(path, d))
		}
		if err := c.Put(c.Key(fp), sums); err != nil && first == nil {
			first = err
		}
	}
	for _, p := range m.Projections {
		if kept[p.Name] == nil {
			put(fps.Projections[p.Name], p.Files.All())
		}
	}
	if !registryKept {
		put(fps.Registry, m.Registry.Files())
	}
	return first
}

// onDisk returns the files at paths, relative to root, as generated files,
// or nil when one of them is missing.
func onDisk(root string, paths []string) ([]render.File, error) {
	files := make([]render.File, 0, len(paths))
	for _, p := range paths {
		data, err := os.ReadFile(filepath.Join(root, filepath.FromSlash(p)))
		if errors.Is(err, fs.ErrNotExist) {
			return nil, nil
		}
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", p, err)
		}
		files = append(files, render.File{Path: p, Data: data, Kind: render.Generated})
	}
	return files, nil
}

// onDiskState is what a run reads of the module besides its packages:
// projgen's files and the migrations.
type onDiskState struct {
	scan       *load.Scan
	migrations map[string]*load.MigrationDir
}

// readDisk scans the module for projgen's files and reads the migrations
// of every directory that has a projgen.sum or that a projection of cfg
// migrates in.
func readDisk(mod *load.Module, cfg *config.Config) (*onDiskState, error) {
	scan, err := load.ScanModule(mod.Dir)
	if err != nil {
		return nil, err
	}
	dirs := slices.Clone(scan.SumDirs)
	for _, p := range cfg.Projections {
		dirs = append(dirs, model.MigrationDirOf(p.Dir))
	}
	slices.Sort(dirs)
	migrations, err := load.ReadMigrations(mod.Dir, slices.Compact(dirs))
	if err != nil {
		return nil, err
	}
	return &onDiskState{scan: scan, migrations: migrations}, nil
}

// build computes the model of cfg over the loaded packages and what is on
// disk, and renders every file.
func build(mod *load.Module, cfg *config.Config, pkgs map[string]*load.Package, disk *onDiskState, opts Options) (*Result, error) {
	scan, migrations := disk.scan, disk.migrations
	m, err := model.Build(model.Input{
		Config:           cfg,
		Module:           mod,
		Packages:         pkgs,
		Migrations:       migrations,
		AllowDestructive: opts.AllowDestructive,
		AcceptEdited:     opts.Force,
	})
	if err != nil {
		return nil, err
	}
	ropts := render.Options{}
	if opts.WithConfig {
		ropts.Config = cfg
	}
	var fps render.Fingerprints
	if opts.Cache != nil {
		fps = render.Fingerprint(m)
	}
	kept, keptRegistry, err := keptFiles(mod.Dir, m, fps, opts)
	if err != nil {
		return nil, err
	}
	ropts.Skip = map[string]bool{}
	for name := range kept {
		ropts.Skip[name] = true
	}
	ropts.SkipRegistry = keptRegistry != nil
	out, err := render.Render(m, ropts)
	if err != nil {
		return nil, err
	}
	for _, files := range kept {
		out.Files = append(out.Files, files...)
	}
	out.Files = append(out.Files, keptRegistry...)
	slices.SortFunc(out.Files, func(a, b render.File) int { return strings.Compare(a.Path, b.Path) })
	rendered := map[string]bool{}
	for _, f := range out.Files {
		rendered[f.Path] = true
	}
	res := &Result{Module: mod, Model: m, Output: out}
	if err := record(opts.Cache, m, fps, out, kept, keptRegistry != nil); err != nil {
		res.Notes = append(res.Notes, fmt.Sprintf("%v; projgen renders every projection until it can write its cache (set %s=off to do without it)", err, cache.Env))
	}
	res.onDisk = map[string]bool{}
	res.RegistryKept = keptRegistry != nil
	for _, f := range keptRegistry {
		res.onDisk[f.Path] = true
	}
	for _, p := range m.Projections {
		if kept[p.Name] != nil {
			res.Kept = append(res.Kept, p.Name)
			for _, f := range kept[p.Name] {
				res.onDisk[f.Path] = true
			}
		}
	}
	for _, g := range scan.Generated {
		if !rendered[g] {
			res.Orphans = append(res.Orphans, g)
		}
	}
	for _, e := range m.Unprojected {
		res.Notes = append(res.Notes, fmt.Sprintf("%s.%s (%s) is an event no projection lists; add it to projgen.yaml, with op: ignore if it is left out on purpose",
			e.PackageName, e.Name, e.Pos))
	}
	return res, nil
}
