// Package diag carries the errors projgen reports about its user's input:
// a position (file:line or file:line:col) where there is one, what is wrong,
// and what to do about it. The CLI exits with status 2 for these, and with 1
// for everything else.
package diag

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// Error is one problem in the user's input.
type Error struct {
	// Pos is where the problem is, as file:line or file:line:col, or empty.
	Pos string
	// Msg says what is wrong.
	Msg string
	// Hint says what to do next, or is empty.
	Hint string
}

// Errorf returns an Error at pos with a formatted message.
func Errorf(pos, format string, args ...any) *Error {
	return &Error{Pos: pos, Msg: fmt.Sprintf(format, args...)}
}

// WithHint sets the error's hint and returns the error.
func (e *Error) WithHint(format string, args ...any) *Error {
	e.Hint = fmt.Sprintf(format, args...)
	return e
}

// Error formats the error as "pos: msg", with the hint on the next line.
func (e *Error) Error() string {
	var b strings.Builder
	if e.Pos != "" {
		b.WriteString(e.Pos)
		b.WriteString(": ")
	}
	b.WriteString(e.Msg)
	if e.Hint != "" {
		b.WriteString("\n\t")
		b.WriteString(strings.ReplaceAll(e.Hint, "\n", "\n\t"))
	}
	return b.String()
}

// List is several input errors, reported together.
type List []*Error

// Error formats the errors one after another.
func (l List) Error() string {
	lines := make([]string, len(l))
	for i, e := range l {
		lines[i] = e.Error()
	}
	return strings.Join(lines, "\n")
}

// Err returns l as an error, or nil when l is empty.
func (l List) Err() error {
	if len(l) == 0 {
		return nil
	}
	return l
}

// IsInput reports whether err is, or wraps, a problem with the user's input.
func IsInput(err error) bool {
	var e *Error
	var l List
	return errors.As(err, &e) || errors.As(err, &l)
}

// Pos formats a position as file:line:col, dropping the parts that are zero.
// The file is made relative to the working directory when it is inside it,
// as the go command prints it.
func Pos(file string, line, col int) string {
	if file == "" {
		return ""
	}
	file = Rel(file)
	switch {
	case line <= 0:
		return file
	case col <= 0:
		return fmt.Sprintf("%s:%d", file, line)
	}
	return fmt.Sprintf("%s:%d:%d", file, line, col)
}

// Rel returns path relative to the working directory when it lies inside it,
// and path unchanged otherwise.
func Rel(path string) string {
	if !filepath.IsAbs(path) {
		return path
	}
	wd, err := os.Getwd()
	if err != nil {
		return path
	}
	return RelTo(wd, path)
}

// RelTo returns path relative to the directory dir when it lies inside
// it, and path unchanged otherwise: Rel, for a caller that has the
// working directory already.
func RelTo(dir, path string) string {
	if !filepath.IsAbs(path) || dir == "" {
		return path
	}
	rel, err := filepath.Rel(dir, path)
	if err != nil || strings.HasPrefix(rel, "..") {
		return path
	}
	return rel
}
