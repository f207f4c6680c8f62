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
}

// Result is everything one run computed.
type Result struct {
	// Model is the module's model.
	Model *model.Module
	// Output is the rendered files.
	Output *render.Output
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

// Build computes the model of cfg over the loaded packages and the
// migrations on disk, and renders every file, including projgen.yaml.
func Build(mod *load.Module, cfg *config.Config, pkgs map[string]*load.Package, opts Options) (*Result, error) {
	var dirs []string
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
	})
	if err != nil {
		return nil, err
	}
	out, err := render.Render(m, cfg)
	if err != nil {
		return nil, err
	}
	return &Result{Model: m, Output: out}, nil
}

// Generate runs the whole pipeline for cfg: load, then Build.
func Generate(ctx context.Context, mod *load.Module, cfg *config.Config, opts Options) (*Result, error) {
	pkgs, err := Load(ctx, mod, Aggregates(cfg))
	if err != nil {
		return nil, err
	}
	return Build(mod, cfg, pkgs, opts)
}
