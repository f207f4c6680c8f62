// Package generator runs projgen's pipeline, one stage after the other:
// config → load → model → render. The CLI then writes the result (package
// write) and checks it (package verify). No stage knows of the CLI.
package generator

import (
	"context"
	"slices"

	"github.com/projgen/projgen/generator/config"
	"github.com/projgen/projgen/generator/load"
	"github.com/projgen/projgen/generator/model"
	"github.com/projgen/projgen/generator/render"
)

// Options are the settings of one run.
type Options struct {
	// AllowDestructive permits migrations that drop or change columns.
	AllowDestructive bool
	// AcceptEdited accepts migrations that differ from projgen.sum.
	AcceptEdited bool
}

// Result is everything one run computed.
type Result struct {
	// Model is the module's model.
	Model *model.Module
	// Output is the rendered files.
	Output *render.Output
	// Orphans are projgen's Go files on disk that the run no longer
	// generates, because their projection is gone; slash-separated,
	// relative to the module root, sorted.
	Orphans []string
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

// Build computes the model of cfg over the loaded packages and what is on
// disk: the migrations, and projgen's files. It renders every file,
// including projgen.yaml when withConfig is set.
func Build(mod *load.Module, cfg *config.Config, pkgs map[string]*load.Package, opts Options, withConfig bool) (*Result, error) {
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
	m, err := model.Build(model.Input{
		Config:           cfg,
		Module:           mod,
		Packages:         pkgs,
		Migrations:       migrations,
		AllowDestructive: opts.AllowDestructive,
		AcceptEdited:     opts.AcceptEdited,
	})
	if err != nil {
		return nil, err
	}
	var out *render.Output
	if withConfig {
		out, err = render.Render(m, cfg)
	} else {
		out, err = render.Render(m, nil)
	}
	if err != nil {
		return nil, err
	}
	rendered := map[string]bool{}
	for _, f := range out.Files {
		rendered[f.Path] = true
	}
	res := &Result{Model: m, Output: out}
	for _, g := range scan.Generated {
		if !rendered[g] {
			res.Orphans = append(res.Orphans, g)
		}
	}
	return res, nil
}

// Generate runs the whole pipeline for cfg: load, then Build.
func Generate(ctx context.Context, mod *load.Module, cfg *config.Config, opts Options) (*Result, error) {
	pkgs, err := Load(ctx, mod, Aggregates(cfg))
	if err != nil {
		return nil, err
	}
	return Build(mod, cfg, pkgs, opts, false)
}
