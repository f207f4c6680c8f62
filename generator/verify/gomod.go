package verify

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"slices"
	"strings"

	"golang.org/x/mod/modfile"
	"golang.org/x/mod/module"

	"github.com/projgen/projgen/generator/diag"
	"github.com/projgen/projgen/generator/model"
)

// Requirements says which modules generated code needs that the user's
// go.mod does not require yet, and at which versions: the ones projgen
// was built and tested with.
type Requirements struct {
	// Missing are the modules to add, as path@version, sorted.
	Missing []string
}

// Plan works out what the user's go.mod lacks for the generated code's
// imports. known maps module paths to the versions projgen was built with.
// It fails, before anything is written, when a module is missing and no
// version is known.
func Plan(goModPath string, goMod []byte, imports []model.Import, known map[string]string) (*Requirements, error) {
	f, err := modfile.ParseLax(goModPath, goMod, nil)
	if err != nil {
		return nil, diag.Errorf(diag.Rel(goModPath), "%v", err)
	}
	required := map[string]bool{}
	for _, r := range f.Require {
		required[r.Mod.Path] = true
	}
	reqs := &Requirements{}
	for _, imp := range imports {
		if required[imp.Module] {
			continue
		}
		version := known[imp.Module]
		switch {
		case imp.Module == model.RuntimeModule && (version == "" || version == "(devel)"):
			return nil, diag.Errorf(diag.Rel(goModPath), "go.mod does not require %s, which the generated code imports, "+
				"and this projgen is a development build, so it cannot say which version to add", imp.Module).
				WithHint("require your checkout of projgen: go mod edit -require=%[1]s@v0.0.0 -replace=%[1]s=/path/to/projgen", imp.Module)
		case version == "":
			return nil, diag.Errorf(diag.Rel(goModPath), "go.mod does not require %s, which the generated code imports", imp.Module).
				WithHint("add it: go get %s", imp.Package)
		}
		if err := module.Check(imp.Module, version); err != nil {
			return nil, fmt.Errorf("version of %s: %w", imp.Module, err)
		}
		required[imp.Module] = true
		reqs.Missing = append(reqs.Missing, imp.Module+"@"+version)
	}
	slices.Sort(reqs.Missing)
	return reqs, nil
}

// Require adds the missing modules to go.mod at their versions, then lets
// the go command add the indirect requirements and go.sum lines that the
// generated packages (dirs, relative to root) need, as go mod tidy would
// for them, without touching the rest of go.mod. Versions are never
// looked up: each module comes at the version given or already required.
func (r *Requirements) Require(ctx context.Context, root string, dirs []string) error {
	if len(r.Missing) > 0 {
		args := []string{"mod", "edit"}
		for _, m := range r.Missing {
			args = append(args, "-require="+m)
		}
		if err := gocmd(ctx, root, args...); err != nil {
			return err
		}
	}
	if len(dirs) == 0 {
		return nil
	}
	args := []string{"list", "-mod=mod", "-e", "-deps", "-test"}
	for _, d := range dirs {
		args = append(args, "./"+path.Clean(d))
	}
	return gocmd(ctx, root, args...)
}

func gocmd(ctx context.Context, root string, args ...string) error {
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Dir = root
	cmd.Env = os.Environ()
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("go %s in %s: %w\n%s", strings.Join(args, " "), filepath.Base(root), err, stderr.String())
	}
	return nil
}

// Versions reads the module versions a go.mod requires, such as projgen's
// own, to offer them to users' modules.
func Versions(goMod []byte) map[string]string {
	f, err := modfile.ParseLax("go.mod", goMod, nil)
	if err != nil {
		return nil
	}
	out := map[string]string{}
	for _, r := range f.Require {
		out[r.Mod.Path] = r.Mod.Version
	}
	return out
}
