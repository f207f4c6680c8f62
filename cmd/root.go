// Package cmd is projgen's command line: flags, prompts and printing. The
// work is done by package generator and its stages.
package cmd

import (
	"context"
	"errors"
	"fmt"
	"io"
	"runtime/debug"
	"strings"

	"github.com/spf13/cobra"

	"github.com/projgen/projgen/generator/cache"
	"github.com/projgen/projgen/generator/diag"
	"github.com/projgen/projgen/generator/model"
)

// Exit codes.
const (
	// ExitOK: success.
	ExitOK = 0
	// ExitFailed: check found drift, or the generated tests failed.
	ExitFailed = 1
	// ExitUsage: bad input or usage; nothing was written.
	ExitUsage = 2
)

// Build describes the projgen binary.
type Build struct {
	// GoMod is projgen's own go.mod: the versions of the modules it offers
	// to users' go.mod.
	GoMod []byte
	// Cache is where projgen records what it rendered, so that a run keeps
	// the files of projections whose inputs did not change; nil renders
	// every projection every time.
	Cache *cache.Cache
}

// IO is where a command reads and writes.
type IO struct {
	In       io.Reader
	Out, Err io.Writer
	// Terminal reports whether In and Out are a terminal, so that `new`
	// may prompt.
	Terminal bool
}

// exitError carries an exit code other than 2 and a message already
// printed, or to print.
type exitError struct {
	code int
	msg  string
}

func (e *exitError) Error() string { return e.msg }

// Execute runs projgen with args and returns the process exit code.
func Execute(ctx context.Context, build Build, args []string, stdio IO) int {
	root := newRoot(build, stdio)
	root.SetArgs(args)
	root.SetIn(stdio.In)
	root.SetOut(stdio.Out)
	root.SetErr(stdio.Err)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return ExitOK
	}
	if ctx.Err() != nil {
		return interrupted(stdio, err)
	}
	var ee *exitError
	if errors.As(err, &ee) {
		if ee.msg != "" {
			fmt.Fprintln(stdio.Err, "projgen:", ee.msg)
		}
		return ee.code
	}
	if diag.IsInput(err) {
		fmt.Fprintln(stdio.Err, "projgen:", err)
		return ExitUsage
	}
	var ue *usageError
	if errors.As(err, &ue) {
		fmt.Fprintf(stdio.Err, "projgen: %v\nRun '%s --help' for usage.\n", ue.err, strings.TrimSpace("projgen "+ue.cmd))
		return ExitUsage
	}
	fmt.Fprintln(stdio.Err, "projgen:", err)
	return ExitFailed
}

// interrupted reports a run that SIGINT or SIGTERM ended, truthfully: the
// tree is as it was unless the files were all written (interruptedAfterWrite).
// The exit status is 130 whatever the failure the interrupt caused.
func interrupted(stdio IO, err error) int {
	var ia *interruptedAfterWrite
	var ee *exitError
	switch {
	case errors.As(err, &ia):
		fmt.Fprintln(stdio.Err, "projgen:", ia)
	case errors.As(err, &ee) && ee.code == ExitInterrupted:
		if ee.msg != "" {
			fmt.Fprintln(stdio.Err, "projgen:", ee.msg)
		}
	default:
		fmt.Fprintln(stdio.Err, "projgen: interrupted; nothing was written")
	}
	return ExitInterrupted
}

// usageError is a flag or argument error.
type usageError struct {
	cmd string
	err error
}

func (e *usageError) Error() string { return e.err.Error() }

func newRoot(build Build, stdio IO) *cobra.Command {
	root := &cobra.Command{
		Use:   "projgen",
		Short: "Generate the read side of event-sourced Go services",
		Long: `projgen generates the read side of an event-sourced Go service from its
aggregates' events: for each projection, a read-model interface, the
projection that calls it, a PostgreSQL implementation, SQL migrations, a
registry entry and tests, next to the aggregate. Every choice is recorded in
projgen.yaml, so that 'projgen generate' reproduces the same bytes and
'projgen check' fails in CI when the code has drifted from the events.`,
		Example: `  projgen new --aggregate installation     # add a projection, generate, gofmt, go test
  projgen generate                         # regenerate everything in projgen.yaml
  projgen check                            # exit 1 with a diff when generated code is stale`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	// An argument that names no command is a usage error (exit 2), not
	// cobra's plain error.
	root.Args = func(c *cobra.Command, a []string) error {
		if len(a) > 0 {
			return &usageError{cmd: "", err: fmt.Errorf("unknown command %q; the commands are new, generate, check and version", a[0])}
		}
		return nil
	}
	root.RunE = func(c *cobra.Command, _ []string) error { return c.Help() }
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return &usageError{cmd: c.Name(), err: err}
	})
	root.PersistentFlags().String("dir", ".", "the module root: the directory that holds go.mod")
	mustRegister(root, "dir", func(*cobra.Command, []string, string) ([]cobra.Completion, cobra.ShellCompDirective) {
		return nil, cobra.ShellCompDirectiveFilterDirs
	})
	root.AddCommand(newNewCmd(build, stdio), newGenerateCmd(build, stdio), newCheckCmd(build, stdio), newVersionCmd(stdio))
	for _, c := range root.Commands() {
		args := c.Args
		c.Args = func(c *cobra.Command, a []string) error {
			if args == nil {
				return nil
			}
			if err := args(c, a); err != nil {
				return &usageError{cmd: c.Name(), err: err}
			}
			return nil
		}
	}
	return root
}

func newVersionCmd(stdio IO) *cobra.Command {
	return &cobra.Command{
		Use:     "version",
		Short:   "Print projgen's version",
		Example: "  projgen version",
		Args:    cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			version, goVersion := "(devel)", ""
			if info, ok := debug.ReadBuildInfo(); ok {
				version, goVersion = info.Main.Version, info.GoVersion
			}
			fmt.Fprintf(stdio.Out, "projgen %s %s\n", version, goVersion)
			return nil
		},
	}
}

// runtimeVersion is the version of the runtime module that this binary
// was built with, from its build information (debug.ReadBuildInfo), for
// users' go.mod; or "" for a development build, whose runtime is a
// directory (a replace directive) or a (devel) version no user can
// require.
func runtimeVersion(info *debug.BuildInfo, ok bool) string {
	if !ok {
		return ""
	}
	for _, d := range info.Deps {
		if d.Path != model.RuntimeModule {
			continue
		}
		if d.Replace != nil || d.Version == "" || d.Version == "(devel)" {
			return ""
		}
		return d.Version
	}
	return ""
}
