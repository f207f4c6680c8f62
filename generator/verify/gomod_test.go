package verify_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"golang.org/x/mod/modfile"

	"github.com/projgen/projgen/generator/model"
	"github.com/projgen/projgen/generator/verify"
)

// repoRoot is the repository's root, two levels up from generator/verify.
func repoRoot(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	return root
}

// parseGoMod reads and parses a go.mod.
func parseGoMod(t *testing.T, path string) *modfile.File {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	f, err := modfile.Parse(path, data, nil)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// required maps the module paths a go.mod requires to their versions.
func required(f *modfile.File) map[string]string {
	out := map[string]string{}
	for _, r := range f.Require {
		out[r.Mod.Path] = r.Mod.Version
	}
	return out
}

// writeFiles writes files (slash-separated paths relative to dir).
func writeFiles(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, data := range files {
		path := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// goRun runs the go command in dir and fails the test if it fails.
func goRun(t *testing.T, dir string, args ...string) {
	t.Helper()
	c := exec.Command("go", args...)
	c.Dir = dir
	if out, err := c.CombinedOutput(); err != nil {
		t.Fatalf("go %s in %s: %v\n%s", strings.Join(args, " "), dir, err, out)
	}
}

// generated stands for what projgen writes: a package that imports the
// runtime and pgx, with tests that import the runtime's test helpers,
// gomock and uuid.
var generated = map[string]string{
	"gen/gen.go": `package gen

import (
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/projgen/projgen/projection"
)

// Pool and Meta use the imports.
var (
	Pool *pgxpool.Pool
	Meta projection.Meta
)
`,
	"gen/gen_test.go": `package gen

import (
	"testing"

	"github.com/google/uuid"
	"github.com/projgen/projgen/projection/projectiontest"
	"go.uber.org/mock/gomock"
)

func TestImports(t *testing.T) {
	_, _, _ = uuid.New, projectiontest.ReplaySafe, gomock.NewController
}
`,
}

// own is the user's own code: a package that uses uuid and go-cmp.
const own = `package own

import (
	"github.com/google/go-cmp/cmp"
	"github.com/google/uuid"
)

// Diff uses both imports.
func Diff() string { return cmp.Diff(uuid.Nil.String(), "") }
`

// TestRequire runs go get as projgen new does, on modules with older Go
// lines and dependencies, and checks that minimal version selection
// decides: the go line is raised only to the runtime's, only the versions
// the runtime's requirements force are upgraded, nothing is downgraded,
// and the whole module builds and vets afterwards.
func TestRequire(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the go command, which may download modules")
	}
	root := repoRoot(t)
	runtimeGo := parseGoMod(t, filepath.Join(root, "projection", "go.mod")).Go.Version
	known := verify.Versions(mustRead(t, filepath.Join(root, "go.mod")))
	replace := "replace " + model.RuntimeModule + " => " + filepath.Join(root, "projection") + "\n"
	missing := []string{
		model.RuntimeModule + "@v0.0.0",
		"github.com/jackc/pgx/v5@" + known["github.com/jackc/pgx/v5"],
		model.GomockModule + "@" + known[model.GomockModule],
	}
	slices.Sort(missing)

	tests := []struct {
		name string
		// files of the module, in m/ (go.mod and go.sum made by go mod
		// tidy from them), and around it.
		goMod string
		files map[string]string
		// work, when set, is a go.work in the parent directory.
		work string
		// dropSum are go.sum lines, by prefix, to remove after go mod
		// tidy: checksums the module lacks before projgen runs.
		dropSum []string
		// want are lines Require must report, and unchanged the modules
		// whose version must stay.
		want      []string
		unchanged []string
		wantGo    string
	}{
		{
			// A module already on the runtime's go line, with an older
			// uuid that the runtime's requirements raise, and a go-cmp
			// they do not touch.
			name:      "keeps the go line and the versions MVS does not force",
			goMod:     "go " + runtimeGo + "\n\nrequire (\n\tgithub.com/google/go-cmp v0.5.9\n\tgithub.com/google/uuid v1.3.0\n)\n",
			files:     map[string]string{"own/own.go": own},
			want:      []string{"go.mod: upgraded github.com/google/uuid v1.3.0 => v1.6.0", "go.mod: added github.com/projgen/projgen/projection v0.0.0"},
			unchanged: []string{"github.com/google/go-cmp"},
			wantGo:    runtimeGo,
		},
		{
			// An older go line is raised exactly to the runtime's, and no
			// further.
			name:      "raises an older go line to the runtime's",
			goMod:     "go 1.22\n\nrequire (\n\tgithub.com/google/go-cmp v0.5.9\n\tgithub.com/google/uuid v1.3.0\n)\n",
			files:     map[string]string{"own/own.go": own},
			want:      []string{"go.mod: go line 1.22 => " + runtimeGo},
			unchanged: []string{"github.com/google/go-cmp"},
			wantGo:    runtimeGo,
		},
		{
			// The module graph selects a newer pgx than projgen's: lib
			// requires v5.13.0 for a package the module does not import,
			// so go.mod does not list pgx. It is added at v5.13.0, where
			// go get pgx@v5.12.0 would have downgraded (here: failed).
			name:  "never downgrades",
			goMod: "go " + runtimeGo + "\n\nrequire example.com/lib v0.0.0\n\nreplace example.com/lib => ../lib\n",
			files: map[string]string{
				"own/own.go":      "package own\n\nimport _ \"example.com/lib\"\n",
				"../lib/go.mod":   "module example.com/lib\n\ngo " + runtimeGo + "\n\nrequire github.com/jackc/pgx/v5 v5.13.0\n",
				"../lib/lib.go":   "package lib\n",
				"../lib/db/db.go": "package db\n\nimport _ \"github.com/jackc/pgx/v5\"\n",
			},
			want:      []string{"go.mod: added github.com/jackc/pgx/v5 v5.13.0"},
			unchanged: []string{"example.com/lib"},
			wantGo:    runtimeGo,
		},
		{
			// go.sum lacks a checksum the user's own code needs: after
			// Require, the whole module builds, not only the generated
			// packages.
			name:      "completes go.sum for the whole module",
			goMod:     "go " + runtimeGo + "\n\nrequire (\n\tgithub.com/google/go-cmp v0.5.9\n\tgithub.com/google/uuid v1.6.0\n)\n",
			files:     map[string]string{"own/own.go": own},
			dropSum:   []string{"github.com/google/go-cmp v0.5.9 h1:"},
			want:      []string{"go.mod: added github.com/projgen/projgen/projection v0.0.0"},
			unchanged: []string{"github.com/google/go-cmp", "github.com/google/uuid"},
			wantGo:    runtimeGo,
		},
		{
			// Inside a workspace: go get edits the module's go.mod, raises
			// go.work's go line, and the workspace builds.
			name:      "in a go.work workspace",
			goMod:     "go 1.22\n\nrequire (\n\tgithub.com/google/go-cmp v0.5.9\n\tgithub.com/google/uuid v1.3.0\n)\n",
			files:     map[string]string{"own/own.go": own},
			work:      "go 1.22\n\nuse ./m\n",
			want:      []string{"go.mod: go line 1.22 => " + runtimeGo, "../go.work: go line 1.22 => " + runtimeGo, "go.mod: upgraded github.com/google/uuid v1.3.0 => v1.6.0"},
			unchanged: []string{"github.com/google/go-cmp"},
			wantGo:    runtimeGo,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			top := t.TempDir()
			dir := filepath.Join(top, "m")
			writeFiles(t, dir, tt.files)
			writeFiles(t, dir, map[string]string{"go.mod": "module example.com/m\n\n" + tt.goMod + "\n" + replace})
			if tt.work != "" {
				writeFiles(t, top, map[string]string{"go.work": tt.work})
				// go mod tidy, below, would use the workspace.
				t.Setenv("GOWORK", "off")
			}
			goRun(t, dir, "mod", "tidy")
			t.Setenv("GOWORK", "")
			if len(tt.dropSum) > 0 {
				var keep []string
				for _, l := range strings.SplitAfter(string(mustRead(t, filepath.Join(dir, "go.sum"))), "\n") {
					if !slices.ContainsFunc(tt.dropSum, func(p string) bool { return strings.HasPrefix(l, p) }) {
						keep = append(keep, l)
					}
				}
				writeFiles(t, dir, map[string]string{"go.sum": strings.Join(keep, "")})
			}
			before := required(parseGoMod(t, filepath.Join(dir, "go.mod")))

			writeFiles(t, dir, generated)
			reqs := &verify.Requirements{Missing: missing}
			changes, err := reqs.Require(context.Background(), dir, []string{"gen"})
			if err != nil {
				t.Fatal(err)
			}
			for _, w := range tt.want {
				if !slices.Contains(changes, w) {
					t.Errorf("changes lack %q:\n%s", w, strings.Join(changes, "\n"))
				}
			}
			for _, c := range changes {
				if strings.Contains(c, "downgraded") || strings.Contains(c, "removed") {
					t.Errorf("change %q", c)
				}
			}
			f := parseGoMod(t, filepath.Join(dir, "go.mod"))
			if f.Go.Version != tt.wantGo {
				t.Errorf("go line %s, want %s", f.Go.Version, tt.wantGo)
			}
			after := required(f)
			for _, m := range tt.unchanged {
				if after[m] != before[m] {
					t.Errorf("%s %s => %s, want it unchanged", m, before[m], after[m])
				}
			}
			// What the generated code imports is required directly.
			for _, m := range []string{model.RuntimeModule, "github.com/jackc/pgx/v5", model.GomockModule} {
				i := slices.IndexFunc(f.Require, func(r *modfile.Require) bool { return r.Mod.Path == m })
				if i < 0 || f.Require[i].Indirect {
					t.Errorf("go.mod does not require %s directly:\n%s", m, mustRead(t, filepath.Join(dir, "go.mod")))
				}
			}
			if tt.work != "" {
				work, err := modfile.ParseWork("go.work", mustRead(t, filepath.Join(top, "go.work")), nil)
				if err != nil {
					t.Fatal(err)
				}
				if work.Go.Version != tt.wantGo {
					t.Errorf("go.work's go line %s, want %s", work.Go.Version, tt.wantGo)
				}
			}
			// The whole module builds and vets, the generated tests
			// included, with the go.sum lines Require wrote.
			goRun(t, dir, "build", "./...")
			goRun(t, dir, "vet", "./...")
			if tt.work != "" {
				// The module's own go.mod and go.sum suffice for the
				// generated packages, outside the workspace too.
				t.Setenv("GOWORK", "off")
				goRun(t, dir, "vet", "./gen")
			}
		})
	}
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return data
}
