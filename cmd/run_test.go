package cmd

import (
	"slices"
	"testing"

	"github.com/projgen/projgen/generator/render"
	"github.com/projgen/projgen/generator/verify"
	"github.com/projgen/projgen/generator/write"
)

// TestNeedsRequire checks when a run completes go.mod and go.sum (go get,
// then go list over every package): only when it writes or deletes a
// file, or go.mod lacks a module; a run that changes nothing skips it.
func TestNeedsRequire(t *testing.T) {
	file := func(status write.Status) write.Change {
		return write.Change{File: render.File{Path: "x/x_gen.go"}, Status: status}
	}
	for _, tt := range []struct {
		name    string
		changes []write.Change
		missing []string
		want    bool
	}{
		{"nothing changes", []write.Change{file(write.Unchanged), file(write.Unchanged)}, nil, false},
		{"a file is created", []write.Change{file(write.Unchanged), file(write.Create)}, nil, true},
		{"a file is updated", []write.Change{file(write.Update)}, nil, true},
		{"a file is deleted", []write.Change{file(write.Unchanged), file(write.Delete)}, nil, true},
		{"go.mod lacks the runtime", []write.Change{file(write.Unchanged)}, []string{"github.com/projgen/projgen/projection@v0.1.0"}, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			plan := &write.Plan{Changes: tt.changes}
			if got := needsRequire(plan, &verify.Requirements{Missing: tt.missing}); got != tt.want {
				t.Errorf("needsRequire = %v, want %v", got, tt.want)
			}
		})
	}
}

// TestWrittenIsWhatGofmtChecks checks that only the files a plan creates
// or updates are gofmt-checked, and that the summary says so.
func TestWrittenIsWhatGofmtChecks(t *testing.T) {
	plan := &write.Plan{Changes: []write.Change{
		{File: render.File{Path: "a/a_gen.go"}, Status: write.Create},
		{File: render.File{Path: "a/b_gen.go"}, Status: write.Unchanged},
		{File: render.File{Path: "a/c_gen.go"}, Status: write.Update},
		{File: render.File{Path: "a/d_gen.go"}, Status: write.Delete},
		{File: render.File{Path: "a/migrations/1.up.sql"}, Status: write.Create},
	}}
	var got []string
	for _, f := range written(plan) {
		got = append(got, f.Path)
	}
	if want := []string{"a/a_gen.go", "a/c_gen.go", "a/migrations/1.up.sql"}; !slices.Equal(got, want) {
		t.Errorf("written = %v, want %v", got, want)
	}
	for _, tt := range []struct {
		written, all int
		want         string
	}{
		{10, 10, "10 Go files"},
		{2, 10, "2 Go files written, 8 unchanged"},
		{0, 3, "0 Go files written, 3 unchanged"},
	} {
		if got := describeGofmt(tt.written, tt.all); got != tt.want {
			t.Errorf("describeGofmt(%d, %d) = %q, want %q", tt.written, tt.all, got, tt.want)
		}
	}
}
