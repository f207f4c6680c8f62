package verify

import (
	"slices"
	"strings"
	"testing"
)

func TestModChanges(t *testing.T) {
	const head = "module example.com/m\n\n"
	tests := []struct {
		name          string
		before, after string
		want          []string
	}{
		{
			name:   "nothing changed",
			before: head + "go 1.25.0\n\nrequire github.com/google/uuid v1.6.0\n",
			after:  head + "go 1.25.0\n\nrequire (\n\tgithub.com/google/uuid v1.6.0\n)\n",
		},
		{
			name:   "go line raised, toolchain added",
			before: head + "go 1.22\n",
			after:  head + "go 1.25.0\n\ntoolchain go1.26.8\n",
			want:   []string{"go line 1.22 => 1.25.0", "added toolchain go1.26.8"},
		},
		{
			name:   "toolchain changed",
			before: head + "go 1.25.0\n\ntoolchain go1.25.1\n",
			after:  head + "go 1.25.0\n\ntoolchain go1.26.0\n",
			want:   []string{"toolchain go1.25.1 => go1.26.0"},
		},
		{
			name:   "toolchain removed",
			before: head + "go 1.25.0\n\ntoolchain go1.25.1\n",
			after:  head + "go 1.25.0\n",
			want:   []string{"removed toolchain go1.25.1"},
		},
		{
			// Direct requirements first, then indirect ones, each by path.
			name: "added, upgraded, downgraded, removed",
			before: head + "go 1.22\n\nrequire (\n\tgithub.com/google/uuid v1.3.0\n\tgithub.com/google/go-cmp v0.6.0\n" +
				"\tgolang.org/x/text v0.14.0 // indirect\n\texample.com/gone v1.0.0\n)\n",
			after: head + "go 1.25.0\n\nrequire (\n\tgithub.com/projgen/projgen/projection v0.0.0\n\tgithub.com/google/uuid v1.6.0\n" +
				"\tgithub.com/google/go-cmp v0.5.9\n\tgithub.com/jackc/pgx/v5 v5.12.0\n)\n\n" +
				"require (\n\tgolang.org/x/text v0.41.0 // indirect\n\tgithub.com/jackc/puddle/v2 v2.2.3 // indirect\n)\n",
			want: []string{
				"go line 1.22 => 1.25.0",
				"removed example.com/gone v1.0.0",
				"downgraded github.com/google/go-cmp v0.6.0 => v0.5.9",
				"upgraded github.com/google/uuid v1.3.0 => v1.6.0",
				"added github.com/jackc/pgx/v5 v5.12.0",
				"added github.com/projgen/projgen/projection v0.0.0",
				"added github.com/jackc/puddle/v2 v2.2.3 (indirect)",
				"upgraded golang.org/x/text v0.14.0 => v0.41.0 (indirect)",
			},
		},
		{
			// Only versions count: an // indirect comment that comes or
			// goes is no change of what the module builds with.
			name:   "indirect marker only",
			before: head + "go 1.25.0\n\nrequire github.com/jackc/pgx/v5 v5.12.0 // indirect\n",
			after:  head + "go 1.25.0\n\nrequire github.com/jackc/pgx/v5 v5.12.0\n",
		},
		{
			name:   "go line added",
			before: head,
			after:  head + "go 1.25.0\n",
			want:   []string{"added go line 1.25.0"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := modChanges([]byte(tt.before), []byte(tt.after))
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("modChanges:\n got %q\nwant %q", got, tt.want)
			}
		})
	}

	if _, err := modChanges([]byte("module\n"), []byte(head)); err == nil || !strings.Contains(err.Error(), "go.mod before go get") {
		t.Errorf("modChanges of a go.mod that does not parse: %v", err)
	}
}

func TestWorkChanges(t *testing.T) {
	got, err := workChanges([]byte("go 1.22\n\nuse ./m\n"), []byte("go 1.25.0\n\nuse ./m\n"))
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"go line 1.22 => 1.25.0"}; !slices.Equal(got, want) {
		t.Errorf("workChanges = %q, want %q", got, want)
	}
	if _, err := workChanges([]byte("go 1.22\n"), []byte("use (\n")); err == nil {
		t.Error("workChanges of a go.work that does not parse: no error")
	}
}
