package cmd

import (
	"context"
	"errors"
	"fmt"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/projgen/projgen/generator"
	"github.com/projgen/projgen/generator/config"
	"github.com/projgen/projgen/generator/diag"
	"github.com/projgen/projgen/generator/load"
	"github.com/projgen/projgen/generator/verify"
	"github.com/projgen/projgen/generator/write"
)

func newGenerateCmd(build Build, stdio IO) *cobra.Command {
	var opts writeOptions
	var allowDestructive bool
	c := &cobra.Command{
		Use:   "generate",
		Short: "Regenerate every projection recorded in projgen.yaml",
		Long: `generate regenerates every projection recorded in projgen.yaml from the
current events. Files whose content has not changed are not rewritten. When
a table's columns change, it writes a new migration; migrations already
written are never rewritten.`,
		Example: `  projgen generate
  projgen generate --dir ./services/registry --no-test

  # In a Go file of the module, so that go generate ./... runs it:
  //go:generate go run github.com/projgen/projgen generate --no-test`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			start := time.Now()
			dir, _ := c.Flags().GetString("dir")
			mod, cfg, err := readConfig(dir)
			if err != nil {
				return err
			}
			res, err := generator.Generate(c.Context(), generator.Request{Module: mod, Config: cfg,
				Options: generator.Options{AllowDestructive: allowDestructive, Force: opts.force, Cache: build.Cache}})
			if err != nil {
				return err
			}
			header := fmt.Sprintf("projgen: %s from %s", count(len(cfg.Projections), "projection"), config.FileName)
			return writeAndVerify(c.Context(), output{build: build, stdio: stdio, header: header, start: start}, res, opts)
		},
	}
	c.Flags().BoolVar(&opts.noTest, "no-test", false, "do not run go test on the generated packages")
	c.Flags().BoolVar(&opts.force, "force", false, "overwrite files at generated paths that projgen does not own, and accept edited migrations")
	c.Flags().BoolVar(&allowDestructive, "allow-destructive", false, "allow migrations that drop or change columns")
	return c
}

// readConfig reads the module and its projgen.yaml, which must exist.
func readConfig(dir string) (*load.Module, *config.Config, error) {
	mod, err := load.ReadModule(dir)
	if err != nil {
		return nil, nil, err
	}
	cfg, err := config.Read(filepath.Join(mod.Dir, config.FileName))
	if errors.Is(err, config.ErrNotFound) {
		return nil, nil, diag.Errorf(diag.Rel(mod.Dir), "no %s here, so there is nothing to generate", config.FileName).
			WithHint("add a projection first: projgen new --aggregate NAME")
	}
	return mod, cfg, err
}

func newCheckCmd(build Build, stdio IO) *cobra.Command {
	var quiet bool
	c := &cobra.Command{
		Use:   "check",
		Short: "Fail when generated code differs from what projgen.yaml and the events give",
		Long: `check regenerates everything in memory and compares it with the files on
disk. It writes nothing. It exits 0 when they agree and the generated
packages build and pass go vet. It exits 1 when they do not agree, with a
unified diff of every changed, missing and orphaned file (generated for a
projection that is gone), sorted by path, and the command that fixes them,
and 1 when the packages do not build, with go vet's report. A needed migration shows as a missing file. Run it in CI
to catch generated code that has drifted from the events.

An edited migration, or a problem with the events or projgen.yaml, is not
drift but an error: check exits 2 and says what to do.`,
		Example: `  projgen check
  projgen check --quiet || echo "run projgen generate"

  # GitHub Actions
  - name: generated code is up to date
    run: go run github.com/projgen/projgen check`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			dir, _ := c.Flags().GetString("dir")
			mod, cfg, err := readConfig(dir)
			if err != nil {
				return err
			}
			// go vet's verdict is recorded by a fingerprint of what it reads
			// (verify.VetInputs), which is computed while the generation
			// runs, for the packages that the config says are projgen's;
			// drift or an error stops it.
			fingerprinting, stop := context.WithCancel(c.Context())
			defer stop()
			var early *verify.Fingerprint
			if build.Cache != nil {
				early = verify.StartFingerprint(fingerprinting, verify.VetTarget{Root: mod.Dir, ModulePath: mod.Path, Dirs: vetDirsOf(cfg)})
			}
			// Plan destructive migrations too: that one is needed is drift;
			// generate refuses to write it without --allow-destructive.
			res, err := generator.Generate(c.Context(), generator.Request{Module: mod, Config: cfg,
				Options: generator.Options{AllowDestructive: true, Cache: build.Cache}})
			if err != nil {
				stop()
				early.Wait()
				return err
			}
			plan := res.Plan
			if differ := len(plan.Changes) - plan.Count(write.Unchanged); differ > 0 {
				stop()
				early.Wait()
				if quiet {
					return &exitError{code: ExitFailed}
				}
				fmt.Fprint(stdio.Out, plan.Diff())
				return &exitError{code: ExitFailed, msg: fmt.Sprintf("check: %s; run `projgen generate` to update them", describeDrift(plan))}
			}
			// Up to date is not enough: the generated packages must build,
			// their tests included, or a failed run would look fixed.
			vetted, err := verify.VetOnce(c.Context(), build.Cache, verify.VetTarget{Root: mod.Dir, ModulePath: mod.Path, Dirs: goDirs(mod.Dir, res)}, early)
			if errors.Is(err, verify.ErrVetFailed) {
				if !quiet {
					fmt.Fprint(stdio.Out, vetted)
				}
				return &exitError{code: ExitFailed, msg: "check: the generated code is up to date, but its packages do not build or go vet fails (above); fix them, then run projgen generate"}
			} else if err != nil {
				return err
			}
			if !quiet {
				fmt.Fprintf(stdio.Out, "projgen check: %d generated files are up to date\n", len(plan.Changes))
			}
			return nil
		},
	}
	c.Flags().BoolVarP(&quiet, "quiet", "q", false, "print nothing: report by exit status only")
	return c
}

// vetDirsOf returns the directories of the Go packages that cfg says
// projgen generates into, as goDirs finds them after check's run when
// nothing drifted: each projection's and the registry's.
func vetDirsOf(cfg *config.Config) []string {
	dirs := []string{path.Clean(cfg.Registry)}
	for _, p := range cfg.Projections {
		dirs = append(dirs, path.Clean(p.Dir))
	}
	slices.Sort(dirs)
	return slices.Compact(dirs)
}

// describeDrift counts a plan's changes for check's message.
func describeDrift(plan *write.Plan) string {
	var parts []string
	for _, s := range []struct {
		n    int
		what string
	}{
		{plan.Count(write.Update) + plan.Count(write.Conflict), "changed"},
		{plan.Count(write.Create), "missing"},
		{plan.Count(write.Delete), "orphaned"},
	} {
		if s.n > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", s.n, s.what))
		}
	}
	return strings.Join(parts, ", ") + " generated files differ from what projgen generates"
}
