// Command projgen generates the read side of event-sourced Go services:
// projections, read models, PostgreSQL implementations, migrations and
// tests, from an aggregate's events. Run projgen --help for its commands.
package main

import (
	"context"
	_ "embed"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"golang.org/x/term"

	"github.com/projgen/projgen/cmd"
	"github.com/projgen/projgen/generator/cache"
)

// goMod is projgen's own go.mod: the versions of the modules it adds to
// users' go.mod are the ones it is built and tested with.
//
//go:embed go.mod
var goMod []byte

func main() {
	os.Exit(run())
}

func run() int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	renderCache, err := cache.Default()
	if err != nil {
		fmt.Fprintln(os.Stderr, "projgen: warning:", err)
	}
	return cmd.Execute(ctx, cmd.Build{GoMod: goMod, Cache: renderCache}, os.Args[1:], cmd.IO{
		In:       os.Stdin,
		Out:      os.Stdout,
		Err:      os.Stderr,
		Terminal: term.IsTerminal(int(os.Stdin.Fd())) && term.IsTerminal(int(os.Stdout.Fd())),
	})
}
