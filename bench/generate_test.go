// Package bench measures projgen: the whole pipeline on the example module,
// and its stages apart, so that the cost of the go command's package
// loading is told from projgen's own.
//
//	go test -bench . -benchmem ./bench
package bench

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/projgen/projgen/generator"
	"github.com/projgen/projgen/generator/config"
	"github.com/projgen/projgen/generator/load"
	"github.com/projgen/projgen/internal/moduletest"
)

// example copies golden/registry, the example module with five
// projections, into a temporary directory whose runtime requirement points
// at this repository, and reads it.
func example(b *testing.B) (*load.Module, *config.Config) {
	b.Helper()
	root, err := filepath.Abs("..")
	if err != nil {
		b.Fatal(err)
	}
	dir := moduletest.Copy(b, root, filepath.Join(root, "golden", "registry"))
	mod, err := load.ReadModule(dir)
	if err != nil {
		b.Fatal(err)
	}
	cfg, err := config.Read(filepath.Join(dir, config.FileName))
	if err != nil {
		b.Fatal(err)
	}
	return mod, cfg
}

// BenchmarkGenerate is what projgen generate and check do before writing:
// one packages.Load of the five aggregates, the model, rendering every
// file, and the plan.
func BenchmarkGenerate(b *testing.B) {
	mod, cfg := example(b)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := generator.Generate(ctx, generator.Request{Module: mod, Config: cfg}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkBuild is projgen's own work, with the packages loaded once:
// scanning the module, replaying the migrations, the model, rendering
// every Go and SQL file, and comparing them with the disk.
func BenchmarkBuild(b *testing.B) {
	mod, cfg := example(b)
	pkgs, err := generator.Load(context.Background(), mod, generator.Aggregates(cfg))
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := generator.Generate(context.Background(), generator.Request{Module: mod, Config: cfg, Packages: pkgs}); err != nil {
			b.Fatal(err)
		}
	}
}
