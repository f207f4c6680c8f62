// Package write puts rendered files on disk, all of them or none, or
// compares them with what is there and shows the differences as a unified
// diff. It never overwrites a file it does not own.
package write

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/aymanbagabas/go-udiff"

	"github.com/projgen/projgen/generator/diag"
	"github.com/projgen/projgen/generator/load"
	"github.com/projgen/projgen/generator/render"
)

// Status says what writing a file does.
type Status int

// File statuses.
const (
	// Unchanged: the file on disk has the rendered content.
	Unchanged Status = iota
	// Create: the file does not exist.
	Create
	// Update: the file exists with other content and projgen owns it.
	Update
	// Conflict: a file that projgen does not own is in the way.
	Conflict
	// Delete: a file projgen generated, for a projection that is gone.
	Delete
)

// String names the status as the summary prints it.
func (s Status) String() string {
	switch s {
	case Create:
		return "created"
	case Update:
		return "updated"
	case Conflict:
		return "conflict"
	case Delete:
		return "deleted"
	}
	return "unchanged"
}

// Change is what writing one file does.
type Change struct {
	// File is the rendered file.
	File render.File
	// Status says what writing it does.
	Status Status
	// Old is the file's content on disk, if it exists.
	Old []byte
	// Reason explains a conflict.
	Reason string
}

// Plan is what writing a set of rendered files would do.
type Plan struct {
	// Root is the module root the paths are relative to.
	Root string
	// Changes are one per file, sorted by path.
	Changes []Change
}

// Options changes how files are planned.
type Options struct {
	// Force overwrites files at generated paths that lack projgen's
	// header, and migrations that differ.
	Force bool
	// OnDisk are the paths of files whose rendered content the caller has
	// just read from disk: the plan takes them as unchanged without
	// reading them again.
	OnDisk map[string]bool
}

// NewPlan compares the rendered files with the disk. Orphans are projgen's
// files on disk that are no longer rendered: the plan deletes them.
func NewPlan(root string, files []render.File, orphans []string, opts Options) (*Plan, error) {
	p := &Plan{Root: root}
	for _, o := range orphans {
		old, err := os.ReadFile(p.abs(o))
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", o, err)
		}
		p.Changes = append(p.Changes, Change{File: render.File{Path: o, Kind: render.Generated}, Status: Delete, Old: old})
	}
	for _, f := range files {
		c := Change{File: f}
		if opts.OnDisk[f.Path] {
			c.Old, c.Status = f.Data, Unchanged
			p.Changes = append(p.Changes, c)
			continue
		}
		old, err := os.ReadFile(p.abs(f.Path))
		switch {
		case errors.Is(err, os.ErrNotExist):
			c.Status = Create
		case err != nil:
			return nil, fmt.Errorf("read %s: %w", f.Path, err)
		case bytes.Equal(old, f.Data):
			c.Old, c.Status = old, Unchanged
		default:
			c.Old, c.Status = old, Update
			switch f.Kind {
			case render.Scaffold:
				c.Status = Unchanged
			case render.Generated:
				if !opts.Force && !load.IsGenerated(f.Path, old) {
					c.Status, c.Reason = Conflict, fmt.Sprintf("it lacks the line %q, so it is yours, not projgen's", load.Header)
				}
			case render.Migration:
				if !opts.Force {
					c.Status, c.Reason = Conflict, "a different migration already has this name"
				}
			}
		}
		p.Changes = append(p.Changes, c)
	}
	slices.SortFunc(p.Changes, func(a, b Change) int { return strings.Compare(a.File.Path, b.File.Path) })
	return p, nil
}

func (p *Plan) abs(rel string) string {
	return filepath.Join(p.Root, filepath.FromSlash(rel))
}

// Err returns the plan's conflicts as an input error, or nil.
func (p *Plan) Err() error {
	var errs diag.List
	for _, c := range p.Changes {
		if c.Status == Conflict {
			errs = append(errs, diag.Errorf(diag.Rel(p.abs(c.File.Path)), "projgen would write this file, but %s", c.Reason).
				WithHint("move it out of the way, or run again with --force to overwrite it"))
		}
	}
	return errs.Err()
}

// Count returns how many files have the status.
func (p *Plan) Count(s Status) int {
	n := 0
	for _, c := range p.Changes {
		if c.Status == s {
			n++
		}
	}
	return n
}

// Changed reports whether applying the plan writes or deletes anything.
func (p *Plan) Changed() bool { return p.Count(Create)+p.Count(Update)+p.Count(Delete) > 0 }

// Apply writes the plan's new and changed files and deletes its orphans,
// all or none: each file is first written to a temporary file beside it,
// and only when all are written are they renamed into place and the
// orphans removed. If a rename or removal fails, what was already done is
// undone.
func (p *Plan) Apply() error {
	if err := p.Err(); err != nil {
		return err
	}
	type pending struct {
		c   Change
		tmp string
	}
	var todo []pending
	var madeDirs []string
	cleanup := func() {
		for _, t := range todo {
			if t.tmp != "" {
				os.Remove(t.tmp)
			}
		}
		for i := len(madeDirs) - 1; i >= 0; i-- {
			os.Remove(madeDirs[i])
		}
	}
	for _, c := range p.Changes {
		switch c.Status {
		case Delete:
			todo = append(todo, pending{c: c})
			continue
		case Create, Update:
		default:
			continue
		}
		target := p.abs(c.File.Path)
		made, err := mkdirAll(filepath.Dir(target))
		madeDirs = append(madeDirs, made...)
		if err != nil {
			cleanup()
			return fmt.Errorf("write %s: %w", c.File.Path, err)
		}
		tmp, err := writeTemp(target, c.File.Data)
		if err != nil {
			cleanup()
			return fmt.Errorf("write %s: %w", c.File.Path, err)
		}
		todo = append(todo, pending{c: c, tmp: tmp})
	}
	for i, t := range todo {
		target := p.abs(t.c.File.Path)
		var err error
		if t.c.Status == Delete {
			err = os.Remove(target)
		} else {
			err = os.Rename(t.tmp, target)
		}
		if err != nil {
			for _, done := range todo[:i] {
				undo := p.abs(done.c.File.Path)
				if done.c.Status == Create {
					os.Remove(undo)
				} else {
					os.WriteFile(undo, done.c.Old, 0o644)
				}
			}
			todo = todo[i:]
			cleanup()
			return fmt.Errorf("write %s: %w", t.c.File.Path, err)
		}
	}
	for _, t := range todo {
		if t.c.Status == Delete {
			removeEmptyDirs(p.Root, filepath.Dir(p.abs(t.c.File.Path)))
		}
	}
	return nil
}

// removeEmptyDirs removes dir and its parents up to root while they are
// empty, so that deleting a projection's files leaves no empty package.
func removeEmptyDirs(root, dir string) {
	for dir != root && strings.HasPrefix(dir, root) {
		if os.Remove(dir) != nil {
			return
		}
		dir = filepath.Dir(dir)
	}
}

// mkdirAll creates dir and its missing parents, and returns the ones it
// created, outermost first.
func mkdirAll(dir string) ([]string, error) {
	var missing []string
	for d := dir; ; d = filepath.Dir(d) {
		if _, err := os.Stat(d); err == nil {
			break
		}
		missing = append([]string{d}, missing...)
		if filepath.Dir(d) == d {
			break
		}
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return missing, err
	}
	return missing, nil
}

func writeTemp(target string, data []byte) (string, error) {
	f, err := os.CreateTemp(filepath.Dir(target), "."+filepath.Base(target)+".projgen-*")
	if err != nil {
		return "", err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		os.Remove(f.Name())
		return "", err
	}
	if err := f.Close(); err != nil {
		os.Remove(f.Name())
		return "", err
	}
	if err := os.Chmod(f.Name(), 0o644); err != nil {
		os.Remove(f.Name())
		return "", err
	}
	return f.Name(), nil
}

// Diff returns a unified diff of every file the plan would create or
// change, sorted by path. Paths are labelled a/ and b/ like git's.
func (p *Plan) Diff() string {
	var b strings.Builder
	for _, c := range p.Changes {
		if c.Status == Unchanged {
			continue
		}
		from, to := "a/"+c.File.Path, "b/"+c.File.Path
		switch c.Status {
		case Create:
			from = "/dev/null"
		case Delete:
			to = "/dev/null"
		}
		b.WriteString(udiff.Unified(from, to, string(c.Old), string(c.File.Data)))
	}
	return b.String()
}
