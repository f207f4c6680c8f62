package cmd

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"runtime/debug"
	"slices"
	"strings"
	"time"

	"github.com/projgen/projgen/generator"
	"github.com/projgen/projgen/generator/model"
	"github.com/projgen/projgen/generator/render"
	"github.com/projgen/projgen/generator/verify"
	"github.com/projgen/projgen/generator/write"
)

// writeOptions are the flags shared by new and generate.
type writeOptions struct {
	force  bool
	noTest bool
	// listed is set when the files were listed already (by the wizard's
	// summary), so that they are not listed again.
	listed bool
	// next names the projection new added, whose next steps are printed
	// at the end; empty for generate.
	next string
}

// output is where a command reports the run it writes, and how.
type output struct {
	// build is projgen's own build, whose versions go.mod requires.
	build Build
	stdio IO
	// header is the summary's first line.
	header string
	// start is when the command began, for the time it took.
	start time.Time
}

// writeAndVerify applies a run's plan, all or none, makes go.mod require
// what the files import, checks gofmt on the files it writes and runs go
// test on their packages, and prints a summary.
func writeAndVerify(ctx context.Context, out output, res *generator.Result, opts writeOptions) error {
	plan := res.Plan
	if err := plan.Err(); err != nil {
		return err
	}
	unformatted, err := verify.Gofmt(written(plan))
	if err != nil {
		return err
	}
	if len(unformatted) > 0 {
		return fmt.Errorf("generated files are not gofmt-clean: %s; this is a bug in projgen, please report it", strings.Join(unformatted, ", "))
	}
	reqs, err := verify.Plan(filepath.Join(res.Module.Dir, "go.mod"), res.Module.GoMod, res.Model.Imports, knownVersions(out.build))
	if err != nil {
		return err
	}
	// An interrupt before this point leaves the tree as it was; the
	// writes themselves are renames, done at once.
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := plan.Apply(); err != nil {
		return err
	}
	if err := finish(ctx, out, res, reqs, opts); err != nil {
		if ctx.Err() != nil {
			return &interruptedAfterWrite{written: plan.Count(write.Create) + plan.Count(write.Update) + plan.Count(write.Delete)}
		}
		return err
	}
	wrote := plan.Count(write.Create) + plan.Count(write.Update)
	deleted := ""
	if n := plan.Count(write.Delete); n > 0 {
		deleted = fmt.Sprintf(", %d deleted", n)
	}
	fmt.Fprintf(out.stdio.Out, "done in %.1fs: %s written%s, %d unchanged\n",
		time.Since(out.start).Seconds(), count(wrote, "file"), deleted, plan.Count(write.Unchanged))
	if opts.next != "" {
		printNextSteps(out.stdio.Out, res.Model, opts.next, relativeDir(res.Module.Dir))
	}
	return nil
}

// written returns the files the plan creates or updates: the only ones
// whose formatting can have changed.
func written(plan *write.Plan) []render.File {
	var files []render.File
	for _, c := range plan.Changes {
		if c.Status == write.Create || c.Status == write.Update {
			files = append(files, c.File)
		}
	}
	return files
}

// knownVersions returns the versions of the modules generated code may
// import: the runtime at the version this projgen was built with, the
// other modules at the versions of projgen's go.mod.
func knownVersions(build Build) map[string]string {
	known := verify.Versions(build.GoMod)
	known[model.RuntimeModule] = runtimeVersion(debug.ReadBuildInfo())
	// Sources for other stores are released with the runtime, at its version.
	known[model.GoesSourceModule] = known[model.RuntimeModule]
	known[model.HallgrenSourceModule] = known[model.RuntimeModule]
	known[model.JetStreamSourceModule] = known[model.RuntimeModule]
	// The runner main's -migrate tool, at the version the model pins.
	known[model.MigrateModule] = model.MigrateVersion
	known[model.GooseModule] = model.GooseVersion
	return known
}

// needsRequire reports whether go.mod and go.sum may need more: when the
// plan writes or deletes a file, or go.mod lacks a module the generated
// code imports.
func needsRequire(plan *write.Plan, reqs *verify.Requirements) bool {
	return len(reqs.Missing) > 0 || plan.Count(write.Unchanged) < len(plan.Changes)
}

// interruptedAfterWrite reports an interrupt that came once the files
// were written: the tree holds the complete new set, and go.mod or the
// tests may not be finished.
type interruptedAfterWrite struct {
	written int
}

func (e *interruptedAfterWrite) Error() string {
	return fmt.Sprintf("interrupted after writing all %s of the run; go.mod and go test may not be finished: run projgen generate to finish", count(e.written, "file"))
}

// finish does what follows the writes: go.mod's requirements, gofmt's
// report and go test.
func finish(ctx context.Context, out output, res *generator.Result, reqs *verify.Requirements, opts writeOptions) error {
	stdio, mod, plan := out.stdio, res.Module, res.Plan
	fmt.Fprintln(stdio.Out, out.header)
	if !opts.listed {
		listChanges(stdio, plan)
	}
	// With no file to write and no module to require, go.mod and go.sum
	// stay as the last run left them, and go list over every package
	// would find nothing to add: skip it. go test below still builds the
	// packages, and names a go.sum line an interrupted run left out.
	var changed []string
	if needsRequire(plan, reqs) {
		dirs := changedPackages(plan)
		if len(dirs) == 0 {
			dirs = goDirs(mod.Dir, res)
		}
		var err error
		if changed, err = reqs.Require(ctx, mod.Dir, dirs); err != nil {
			return err
		}
	}
	for _, c := range changed {
		fmt.Fprintln(stdio.Out, c)
	}
	for _, n := range res.Notes {
		fmt.Fprintf(stdio.Err, "projgen: note: %s\n", n)
	}
	fmt.Fprintf(stdio.Out, "gofmt: ok (%s)\n", describeGofmt(countGo(written(plan)), countGo(res.Output.Files)))
	tested := "not run (--no-test)"
	dirs := changedPackages(plan)
	if len(dirs) == 0 {
		// Nothing changed, but the last run's tests may have failed: test
		// every package projgen owns again. go test's cache makes this
		// cheap when they passed.
		dirs = goDirs(mod.Dir, res)
	}
	if !opts.noTest && len(dirs) > 0 {
		result, err := verify.Test(ctx, mod.Dir, dirs)
		if errors.Is(err, verify.ErrTestsFailed) {
			fmt.Fprint(stdio.Out, result.Output)
			done := "the files are written"
			if plan.Count(write.Create)+plan.Count(write.Update)+plan.Count(write.Delete) == 0 {
				done = "no file changed"
			}
			return &exitError{code: ExitFailed, msg: fmt.Sprintf("%s failed; %s: fix the problem and run projgen generate", result.Command, done)}
		}
		if err != nil {
			return err
		}
		tested = testSummary(result)
	} else if !opts.noTest {
		tested = "no generated package to test"
	}
	fmt.Fprintf(stdio.Out, "go test: %s\n", tested)
	return nil
}

// goDirs returns the directories of the generated Go files that are on
// disk, the runner's main included while it exists, relative to root.
func goDirs(root string, res *generator.Result) []string {
	var dirs []string
	for _, f := range res.Output.Files {
		if !strings.HasSuffix(f.Path, ".go") {
			continue
		}
		if _, err := os.Stat(filepath.Join(root, filepath.FromSlash(f.Path))); err != nil {
			continue
		}
		if dir := path.Dir(f.Path); !slices.Contains(dirs, dir) {
			dirs = append(dirs, dir)
		}
	}
	slices.Sort(dirs)
	return dirs
}

// listChanges prints the files a plan creates, updates or deletes.
func listChanges(stdio IO, plan *write.Plan) {
	for _, c := range plan.Changes {
		if c.Status != write.Unchanged {
			fmt.Fprintf(stdio.Out, "  %-9s %s\n", c.Status, c.File.Path)
		}
	}
}

// countGo counts the Go files of files.
func countGo(files []render.File) int {
	n := 0
	for _, f := range files {
		if strings.HasSuffix(f.Path, ".go") {
			n++
		}
	}
	return n
}

// describeGofmt says which Go files gofmt checked: those written, of all
// rendered, since the others are the same bytes as on disk.
func describeGofmt(written, all int) string {
	if written == all {
		return count(all, "Go file")
	}
	return fmt.Sprintf("%s written, %d unchanged", count(written, "Go file"), all-written)
}

// changedPackages returns the package directories whose files changed; a
// changed migration counts for the package next to it, whose tests apply it.
func changedPackages(plan *write.Plan) []string {
	var dirs []string
	for _, c := range plan.Changes {
		if c.Status == write.Unchanged {
			continue
		}
		dir := path.Dir(c.File.Path)
		switch {
		case c.Status == write.Delete:
			continue
		case strings.HasSuffix(c.File.Path, ".go"):
		case path.Base(dir) == "migrations":
			dir = path.Dir(dir)
		default:
			continue
		}
		if !slices.Contains(dirs, dir) {
			dirs = append(dirs, dir)
		}
	}
	slices.Sort(dirs)
	return dirs
}

// testSummary says what go test did: how many tests passed, and how many
// were skipped and why, so that "ok" never hides database tests that did
// not run.
func testSummary(r verify.TestResult) string {
	out := fmt.Sprintf("ok, %s passed", count(r.Passed, "test"))
	if r.Skipped > 0 {
		out += fmt.Sprintf(", %d skipped", r.Skipped)
		if len(r.SkipReasons) > 0 {
			out += " (" + strings.Join(r.SkipReasons, "; ") + ")"
		}
	}
	return out + fmt.Sprintf(" (%s, %.1fs)", r.Command, r.Duration.Seconds())
}

// relativeDir is dir as a cd command from the current directory takes it:
// "" when it is the current directory, relative when it is below it,
// absolute otherwise.
func relativeDir(dir string) string {
	wd, err := os.Getwd()
	if err != nil || wd == dir {
		return ""
	}
	if rel, err := filepath.Rel(wd, dir); err == nil && !strings.HasPrefix(rel, "..") {
		return rel
	}
	return dir
}
