package projection

import (
	"errors"
	"fmt"
	"math"
	"testing"
)

func TestCursorRoundTrip(t *testing.T) {
	id, n := "6f1c2a3e-0000-4000-8000-000000000001", int64(math.MaxInt64)
	c, err := EncodeCursor(id, n)
	if err != nil {
		t.Fatal(err)
	}
	var gotID string
	var gotN int64
	if err := DecodeCursor(c, &gotID, &gotN); err != nil {
		t.Fatal(err)
	}
	if gotID != id || gotN != n {
		t.Errorf("DecodeCursor = %q, %d; want %q, %d", gotID, gotN, id, n)
	}
	for _, bad := range []string{"", "!!", "bnVsbA", c[:len(c)-2]} {
		var s string
		var i int64
		if err := DecodeCursor(bad, &s, &i); !errors.Is(err, ErrBadCursor) {
			t.Errorf("DecodeCursor(%q) = %v, want ErrBadCursor", bad, err)
		}
	}
	// A cursor of one key is not one of two.
	one, _ := EncodeCursor(id)
	if err := DecodeCursor(one, &gotID, &gotN); !errors.Is(err, ErrBadCursor) {
		t.Errorf("a cursor of one value for a key of two: %v", err)
	}
}

func TestNotFound(t *testing.T) {
	err := fmt.Errorf("get: %w", &NotFoundError{Table: "installations", Key: []any{"x"}})
	if !errors.Is(err, ErrNotFound) {
		t.Errorf("errors.Is(%v, ErrNotFound) = false", err)
	}
	var nf *NotFoundError
	if !errors.As(err, &nf) || nf.Table != "installations" {
		t.Errorf("errors.As = %v", nf)
	}
}

func TestPageSize(t *testing.T) {
	for in, want := range map[int]int{-1: DefaultPageSize, 0: DefaultPageSize, 1: 1, 999: 999, MaxPageSize: MaxPageSize, MaxPageSize + 1: MaxPageSize} {
		if got := PageSize(in); got != want {
			t.Errorf("PageSize(%d) = %d, want %d", in, got, want)
		}
	}
}
