package diag_test

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/projgen/projgen/generator/diag"
)

func TestError(t *testing.T) {
	tests := []struct {
		err  *diag.Error
		want string
	}{
		{diag.Errorf("a.go:3:1", "bad %s", "thing"), "a.go:3:1: bad thing"},
		{diag.Errorf("", "no position"), "no position"},
		{diag.Errorf("x.yaml:2", "wrong").WithHint("fix it\nthen rerun"), "x.yaml:2: wrong\n\tfix it\n\tthen rerun"},
	}
	for _, tt := range tests {
		if got := tt.err.Error(); got != tt.want {
			t.Errorf("Error() = %q, want %q", got, tt.want)
		}
	}
	list := diag.List{diag.Errorf("a", "one"), diag.Errorf("b", "two")}
	if got := list.Error(); got != "a: one\nb: two" {
		t.Errorf("List.Error() = %q", got)
	}
	if (diag.List{}).Err() != nil {
		t.Error("an empty List is an error")
	}
}

func TestIsInput(t *testing.T) {
	for _, tt := range []struct {
		err  error
		want bool
	}{
		{diag.Errorf("", "x"), true},
		{fmt.Errorf("wrapped: %w", diag.Errorf("", "x")), true},
		{diag.List{diag.Errorf("", "x")}.Err(), true},
		{fmt.Errorf("wrapped: %w", diag.List{diag.Errorf("", "x")}), true},
		{errors.New("disk full"), false},
		{nil, false},
	} {
		if got := diag.IsInput(tt.err); got != tt.want {
			t.Errorf("IsInput(%v) = %v, want %v", tt.err, got, tt.want)
		}
	}
}

func TestPos(t *testing.T) {
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	inside := filepath.Join(wd, "sub", "f.go")
	outside := filepath.Join(filepath.Dir(wd), "elsewhere.go")
	for _, tt := range []struct {
		file      string
		line, col int
		want      string
	}{
		{inside, 3, 7, filepath.Join("sub", "f.go") + ":3:7"},
		{inside, 3, 0, filepath.Join("sub", "f.go") + ":3"},
		{inside, 0, 0, filepath.Join("sub", "f.go")},
		{outside, 1, 1, outside + ":1:1"},
		{"rel.go", 2, 0, "rel.go:2"},
		{"", 1, 1, ""},
	} {
		if got := diag.Pos(tt.file, tt.line, tt.col); got != tt.want {
			t.Errorf("Pos(%q, %d, %d) = %q, want %q", tt.file, tt.line, tt.col, got, tt.want)
		}
	}
}
