package cmd

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/spf13/cobra"

	"github.com/projgen/projgen/internal/moduletest"
)

// seedModule copies golden/seed, the example module after the README's
// four projections: five aggregates, a program, the registry and two
// packages of generated projections.
func seedModule(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	return moduletest.Copy(t, root, filepath.Join(root, "golden", "seed"))
}

// runComplete runs cobra's hidden __complete command, as the shell scripts
// do, and returns the candidates and the directive it prints last.
func runComplete(t *testing.T, args ...string) ([]string, cobra.ShellCompDirective) {
	t.Helper()
	var out, errOut bytes.Buffer
	if code := Execute(context.Background(), Build{}, append([]string{"__complete"}, args...), IO{Out: &out, Err: &errOut}); code != ExitOK {
		t.Fatalf("__complete %q: exit %d\n%s%s", args, code, out.String(), errOut.String())
	}
	lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
	last := lines[len(lines)-1]
	d, err := strconv.Atoi(strings.TrimPrefix(last, ":"))
	if !strings.HasPrefix(last, ":") || err != nil {
		t.Fatalf("__complete %q: the last line %q is not a directive:\n%s", args, last, out.String())
	}
	return lines[:len(lines)-1], cobra.ShellCompDirective(d)
}

func TestComplete(t *testing.T) {
	t.Parallel()
	seed := seedModule(t)
	badMod := t.TempDir()
	if err := os.WriteFile(filepath.Join(badMod, "go.mod"), []byte("module\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	const (
		noFile  = cobra.ShellCompDirectiveNoFileComp
		noSpace = cobra.ShellCompDirectiveNoSpace
		failed  = cobra.ShellCompDirectiveNoFileComp | cobra.ShellCompDirectiveError
	)
	installationEvents := []string{"Created", "Suspended", "Unsuspended", "RepositoryAdded", "RepositoryRemoved", "Deleted"}
	with := func(prefix string, names []string, suffix string) []string {
		var out []string
		for _, n := range names {
			out = append(out, prefix+n+suffix)
		}
		return out
	}
	tests := []struct {
		name string
		args []string // after __complete, with --dir seed added unless it has one
		want []string
		dir  cobra.ShellCompDirective
	}{
		{"pattern", []string{"new", "--pattern", ""}, []string{"simple", "denormalized", "filtered", "cross-aggregate"}, noFile},
		{"pattern prefix", []string{"new", "--pattern", "d"}, []string{"denormalized"}, noFile},
		{"migrations", []string{"new", "--migrations", ""}, []string{"golang-migrate", "goose"}, noFile},
		{"source", []string{"new", "--source", ""}, []string{"projgen", "hallgren", "goes", "jetstream"}, noFile},
		{"key type", []string{"new", "--key-type", ""}, []string{"uuid", "text", "bigint"}, noFile},
		{"key scope", []string{"new", "--key-scope", ""}, []string{"aggregate", "global"}, noFile},
		{"free text", []string{"new", "--table", ""}, nil, noFile},
		{"dir of new", []string{"new", "--dir", ""}, nil, cobra.ShellCompDirectiveFilterDirs},
		{"dir of check", []string{"check", "--dir", ""}, nil, cobra.ShellCompDirectiveFilterDirs},

		// Not cmd/projections (a program), nor projections,
		// projections/tenant_activity and github/repository (projgen's).
		{"aggregate", []string{"new", "--aggregate", ""}, []string{"invoice", "product", "installation", "order", "endpoint"}, noFile},
		{"aggregate short flag", []string{"new", "-a", "in"}, []string{"invoice", "installation"}, noFile},
		{"aggregate by path", []string{"new", "--aggregate", "github/"}, []string{"github/installation"}, noFile},
		{"aggregate by import path", []string{"new", "--aggregate", "example.com/registry/shop"}, []string{"example.com/registry/shop/order"}, noFile},
		{"second aggregate", []string{"new", "--aggregate", "endpoint,i"}, []string{"endpoint,invoice", "endpoint,installation"}, noFile},
		{"generated package", []string{"new", "--aggregate", "rep"}, nil, noFile},

		{"events", []string{"new", "-a", "installation", "--events", ""}, installationEvents, noFile},
		{"more events", []string{"new", "-a", "installation", "--events", "Created,S"}, []string{"Created,Suspended"}, noFile},
		{"events without an aggregate", []string{"new", "--events", ""}, nil, noFile},
		{"op event", []string{"new", "-a", "installation", "--op", ""}, with("", installationEvents, "="), noFile | noSpace},
		{"op event prefix", []string{"new", "-a", "installation", "--op", "Repo"}, []string{"RepositoryAdded=", "RepositoryRemoved="}, noFile | noSpace},
		{"op", []string{"new", "-a", "installation", "--op", "Suspended="}, with("Suspended=", []string{"insert", "update", "set", "delete", "append", "ignore"}, ""), noFile},
		{"op prefix", []string{"new", "-a", "installation", "--op", "Suspended=i"}, []string{"Suspended=insert", "Suspended=ignore"}, noFile},
		{"op of no event", []string{"new", "-a", "installation", "--op", "Nope="}, nil, noFile},
		{"method", []string{"new", "-a", "installation", "--method", "Su"}, []string{"Suspended="}, noFile | noSpace},
		{"method name", []string{"new", "-a", "installation", "--method", "Suspended="}, nil, noFile},
		{"when", []string{"new", "-a", "endpoint", "--when", ""}, []string{"Created=", "Activated=", "Deactivated="}, noFile | noSpace},
		{"fields", []string{"new", "-a", "installation", "--fields", "Created="}, []string{"Created=InstallationID", "Created=AccountLogin", "Created=TenantID"}, noFile},
		{"more fields", []string{"new", "-a", "installation", "--fields", "Created=TenantID,"}, []string{"Created=TenantID,InstallationID", "Created=TenantID,AccountLogin"}, noFile},
		{"column event", []string{"new", "-a", "installation", "--column", "Cr"}, []string{"Created."}, noFile | noSpace},
		{"column field", []string{"new", "-a", "installation", "--column", "Created.A"}, []string{"Created.AccountLogin="}, noFile | noSpace},
		{"column name", []string{"new", "-a", "installation", "--column", "Created.AccountLogin="}, nil, noFile},
		{"set", []string{"new", "-a", "installation", "--set", "Sus"}, []string{"Suspended."}, noFile | noSpace},
		{"set column", []string{"new", "-a", "installation", "--set", "Suspended."}, nil, noFile},
		{"key", []string{"new", "-a", "installation", "--key", "Repo"}, []string{"RepositoryID", "RepositoryName", "RepositoryURL"}, noFile},
		// With several aggregates, events are named pkg.Type, and the
		// name's dot is not the one before the field.
		{"cross-aggregate events", []string{"new", "-a", "endpoint", "-a", "installation", "--fields", "e"}, []string{"endpoint.Created=", "endpoint.Activated=", "endpoint.Deactivated="}, noFile | noSpace},
		{"cross-aggregate fields", []string{"new", "-a", "endpoint,installation", "--fields", "endpoint.Created="}, []string{"endpoint.Created=TenantID", "endpoint.Created=URL", "endpoint.Created=IsActive"}, noFile},
		{"cross-aggregate column", []string{"new", "-a", "endpoint", "-a", "installation", "--column", "installation.Created.T"}, []string{"installation.Created.TenantID="}, noFile | noSpace},

		{"unknown aggregate", []string{"new", "-a", "nope", "--op", ""}, nil, failed},
		{"no module", []string{"new", "--dir", filepath.Join(seed, "nope"), "--aggregate", ""}, nil, failed},
		{"no module for events", []string{"new", "--dir", filepath.Join(seed, "nope"), "-a", "installation", "--events", ""}, nil, failed},
		{"bad go.mod", []string{"new", "--dir", badMod, "--aggregate", ""}, nil, failed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			args := tt.args
			if !slices.Contains(args, "--dir") {
				args = append([]string{args[0], "--dir", seed}, args[1:]...)
			}
			got, dir := runComplete(t, args...)
			if !slices.Equal(got, tt.want) {
				t.Errorf("__complete %q = %q, want %q", args, got, tt.want)
			}
			if dir != tt.dir {
				t.Errorf("__complete %q: directive %d, want %d", args, dir, tt.dir)
			}
		})
	}
}

// TestCompletionScripts checks that cobra's completion command still works
// beside projgen's own argument checks.
func TestCompletionScripts(t *testing.T) {
	t.Parallel()
	for shell, want := range map[string]string{
		"bash": "# bash completion V2 for projgen",
		"zsh":  "#compdef projgen",
		"fish": "# fish completion for projgen",
	} {
		var out, errOut bytes.Buffer
		if code := Execute(context.Background(), Build{}, []string{"completion", shell}, IO{Out: &out, Err: &errOut}); code != ExitOK {
			t.Errorf("projgen completion %s: exit %d\n%s", shell, code, errOut.String())
			continue
		}
		if !strings.Contains(out.String(), want) {
			t.Errorf("projgen completion %s does not print a %s script: it lacks %q", shell, shell, want)
		}
	}
}
