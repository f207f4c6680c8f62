package cmd

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/projgen/projgen/generator"
	"github.com/projgen/projgen/generator/config"
	"github.com/projgen/projgen/generator/load"
	"github.com/projgen/projgen/generator/model"
)

// Shell completion of projgen new's flags. The candidates come from where
// new's validation takes them (package config, load.Resolve,
// model.EventName), and the module is read as new reads it, so that what
// completes is what new accepts. Free-text flags complete nothing rather
// than file names, which no flag of new takes.

// mustRegister registers the completion of a flag. Its only errors are a
// flag that does not exist or one registered twice: mistakes in this file,
// which every run of the tests finds.
func mustRegister(c *cobra.Command, flag string, f cobra.CompletionFunc) {
	if err := c.RegisterFlagCompletionFunc(flag, f); err != nil {
		panic(fmt.Sprintf("completion of --%s: %v", flag, err))
	}
}

// noFiles is the directive of every value of new: none is a file name.
const noFiles = cobra.ShellCompDirectiveNoFileComp

// failed is the directive of a completion that could not read the module.
const failed = cobra.ShellCompDirectiveNoFileComp | cobra.ShellCompDirectiveError

// registerNewCompletion registers the completion of every flag of new.
func registerNewCompletion(c *cobra.Command) {
	fixed := func(values func() []string) cobra.CompletionFunc {
		return func(_ *cobra.Command, _ []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
			return withPrefix(values(), toComplete), noFiles
		}
	}
	mustRegister(c, "pattern", fixed(config.Patterns))
	mustRegister(c, "migrations", fixed(config.MigrationFormats))
	mustRegister(c, "source", fixed(config.Sources))
	mustRegister(c, "key-type", fixed(config.KeyTypes))
	mustRegister(c, "key-scope", fixed(config.KeyScopes))
	for _, flag := range []string{"name", "table", "topics", "key-column"} {
		mustRegister(c, flag, cobra.NoFileCompletions)
	}

	mustRegister(c, "aggregate", completeAggregates)
	mustRegister(c, "events", withEvents(func(evs *events, toComplete string) ([]string, cobra.ShellCompDirective) {
		return listItems(evs.names, toComplete), noFiles
	}))
	mustRegister(c, "key", withEvents(func(evs *events, toComplete string) ([]string, cobra.ShellCompDirective) {
		var fields []string
		for _, n := range evs.names {
			for _, f := range evs.byName[n].Fields {
				if !slices.Contains(fields, f.Name) {
					fields = append(fields, f.Name)
				}
			}
		}
		return withPrefix(fields, toComplete), noFiles
	}))
	mustRegister(c, "op", withEvents(eventEquals(func(*load.Event) []string { return config.Operations() }, false)))
	mustRegister(c, "fields", withEvents(eventEquals(fieldNames, true)))
	mustRegister(c, "method", withEvents(eventEquals(nil, false)))
	mustRegister(c, "when", withEvents(eventEquals(nil, false)))
	mustRegister(c, "column", withEvents(eventDot(fieldNames)))
	mustRegister(c, "set", withEvents(eventDot(nil)))
}

// completeAggregates completes --aggregate with the module's packages that
// can be aggregates: not programs, which new rejects, and not packages
// projgen generated. Each is offered by its shortest name that begins
// with what is typed and that new resolves to it alone.
func completeAggregates(c *cobra.Command, _ []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
	dir, _ := c.Flags().GetString("dir")
	// The packages found from the files: completion must be quick, and
	// new resolves names among the same packages first.
	mod, err := load.ReadModule(dir)
	if err != nil {
		return nil, failed
	}
	listed, err := load.FindPackages(mod)
	if err != nil {
		return nil, failed
	}
	done, last := splitList(toComplete)
	var out []string
	for _, l := range listed {
		if l.Generated || l.Name == "main" {
			continue
		}
		for _, name := range aggregateNames(l) {
			if !strings.HasPrefix(name, last) {
				continue
			}
			if r, err := load.Resolve(listed, name); err == nil && r.Path == l.Path {
				if !slices.Contains(strings.Split(done, ","), name) {
					out = append(out, done+name)
				}
				break
			}
		}
	}
	return out, noFiles
}

// aggregateNames returns the names --aggregate takes for a package, from
// the shortest: its package name, then the ends of its import path, then
// the whole path.
func aggregateNames(l load.Listed) []string {
	names := []string{l.Name}
	elems := strings.Split(l.Path, "/")
	for i := len(elems) - 1; i >= 0; i-- {
		names = append(names, strings.Join(elems[i:], "/"))
	}
	return names
}

// events are the events of the aggregates --aggregate names, by the names
// the per-event flags take.
type events struct {
	// names are in the aggregates' order, then discovery's.
	names  []string
	byName map[string]*load.Event
}

// loadEvents loads the aggregates that --aggregate names from the module
// in --dir, as new does. With no --aggregate yet, there are no events.
func loadEvents(c *cobra.Command) (*events, error) {
	evs := &events{byName: map[string]*load.Event{}}
	names, _ := c.Flags().GetStringSlice("aggregate")
	if len(names) == 0 {
		return evs, nil
	}
	dir, _ := c.Flags().GetString("dir")
	ctx := completionContext(c)
	mod, err := load.ReadModule(dir)
	if err != nil {
		return nil, err
	}
	found, _ := load.FindPackages(mod) // on error, go list resolves
	paths, err := resolveAggregates(ctx, mod, found, names)
	if err != nil {
		return nil, err
	}
	// cobra parses the flags twice before it completes, and a slice
	// flag keeps the values of both: --aggregate installation reads as
	// installation,installation, which would qualify every event name.
	var unique []string
	for _, p := range paths {
		if !slices.Contains(unique, p) {
			unique = append(unique, p)
		}
	}
	paths = unique
	pkgs, err := generator.Load(ctx, mod, paths)
	if err != nil {
		return nil, err
	}
	aggregates := make([]*load.Package, len(paths))
	for i, p := range paths {
		aggregates[i] = pkgs[p]
	}
	for _, pkg := range aggregates {
		for _, ev := range pkg.Discovered {
			name := model.EventName(aggregates, pkg, ev)
			if _, dup := evs.byName[name]; !dup {
				evs.names = append(evs.names, name)
				evs.byName[name] = ev
			}
		}
	}
	return evs, nil
}

// completionContext is the command's context: cobra gives the one
// Execute was given to the command it completes.
func completionContext(c *cobra.Command) context.Context {
	if ctx := c.Context(); ctx != nil {
		return ctx
	}
	return context.Background()
}

// withEvents makes a completion function of one that completes from the
// aggregates' events. When the module cannot be read, nothing completes
// and the shell is told so.
func withEvents(f func(evs *events, toComplete string) ([]string, cobra.ShellCompDirective)) cobra.CompletionFunc {
	return func(c *cobra.Command, _ []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
		evs, err := loadEvents(c)
		if err != nil {
			return nil, failed
		}
		return f(evs, toComplete)
	}
}

// eventEquals completes Event=value flags: first the event names, each
// with "=" and no space after it; once the name is written, the values
// that values gives for the event, comma-separated when list is set, or
// nothing when values is nil.
func eventEquals(values func(*load.Event) []string, list bool) func(*events, string) ([]string, cobra.ShellCompDirective) {
	return func(evs *events, toComplete string) ([]string, cobra.ShellCompDirective) {
		name, typed, ok := strings.Cut(toComplete, "=")
		if !ok {
			return unfinished(withSuffix(withPrefix(evs.names, toComplete), "="))
		}
		ev := evs.byName[name]
		if ev == nil || values == nil {
			return nil, noFiles
		}
		var out []string
		if list {
			out = listItems(values(ev), typed)
		} else {
			out = withPrefix(values(ev), typed)
		}
		return withPrefixAdded(name+"=", out), noFiles
	}
}

// eventDot completes Event.name=value flags: first the event names, each
// with "." and no space after it; once the name is written, the names that
// subs gives for the event, each with "=", or nothing when subs is nil.
// Event names may hold a dot themselves (endpoint.Created), so the event
// is found by the names, not by the last dot.
func eventDot(subs func(*load.Event) []string) func(*events, string) ([]string, cobra.ShellCompDirective) {
	return func(evs *events, toComplete string) ([]string, cobra.ShellCompDirective) {
		for _, name := range evs.names {
			typed, ok := strings.CutPrefix(toComplete, name+".")
			if !ok {
				continue
			}
			if subs == nil || strings.Contains(typed, "=") {
				return nil, noFiles
			}
			return unfinished(withPrefixAdded(name+".", withSuffix(withPrefix(subs(evs.byName[name]), typed), "=")))
		}
		return unfinished(withSuffix(withPrefix(evs.names, toComplete), "."))
	}
}

// unfinished returns candidates that the user goes on typing after, such
// as Created=, with no space after them.
func unfinished(candidates []string) ([]string, cobra.ShellCompDirective) {
	if len(candidates) == 0 {
		return nil, noFiles
	}
	return candidates, noFiles | cobra.ShellCompDirectiveNoSpace
}

// fieldNames returns the names of an event's fields.
func fieldNames(ev *load.Event) []string {
	var out []string
	for _, f := range ev.Fields {
		out = append(out, f.Name)
	}
	return out
}

// splitList splits a comma-separated value being typed into the items
// written, with the comma after them, and the one being typed.
func splitList(s string) (done, last string) {
	i := strings.LastIndex(s, ",")
	return s[:i+1], s[i+1:]
}

// listItems completes the last item of a comma-separated value with the
// candidates not written yet.
func listItems(candidates []string, toComplete string) []string {
	done, last := splitList(toComplete)
	written := strings.Split(done, ",")
	var out []string
	for _, c := range withPrefix(candidates, last) {
		if !slices.Contains(written, c) {
			out = append(out, done+c)
		}
	}
	return out
}

// withPrefix returns the candidates that begin with prefix.
func withPrefix(candidates []string, prefix string) []string {
	var out []string
	for _, c := range candidates {
		if strings.HasPrefix(c, prefix) {
			out = append(out, c)
		}
	}
	return out
}

// withSuffix returns the candidates, each followed by suffix.
func withSuffix(candidates []string, suffix string) []string {
	out := make([]string, len(candidates))
	for i, c := range candidates {
		out[i] = c + suffix
	}
	return out
}

// withPrefixAdded returns the candidates, each after prefix.
func withPrefixAdded(prefix string, candidates []string) []string {
	out := make([]string, len(candidates))
	for i, c := range candidates {
		out[i] = prefix + c
	}
	return out
}
