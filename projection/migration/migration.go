// Package migration reads a directory of SQL migrations in the layouts of
// golang-migrate (NNN_name.up.sql and NNN_name.down.sql) and goose (one
// NNN_name.sql file with -- +goose Up and -- +goose Down sections), so that
// tests and tools can apply them without either tool.
package migration

import (
	"cmp"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// Migration is one version of a migration directory.
type Migration struct {
	// Version is the number the file names start with.
	Version int64
	// Name is the rest of the name: "create_installations".
	Name string
	// Files are the file names, without directory, sorted.
	Files []string
	// Up is the SQL that applies the migration.
	Up string
	// Down is the SQL that reverts it, or empty.
	Down string
}

var (
	migrateFile = regexp.MustCompile(`^(\d+)_(.*)\.(up|down)\.sql$`)
	gooseFile   = regexp.MustCompile(`^(\d+)_(.*)\.sql$`)
)

// Read reads the migrations in dir, sorted by version. Files named
// otherwise are skipped. A missing directory holds no migrations.
func Read(dir string) ([]Migration, error) {
	ms, _, err := ReadFiles(dir)
	return ms, err
}

// ReadFiles is Read, and also returns the content of every migration file
// by name, as Sum and Check take them.
func ReadFiles(dir string) ([]Migration, map[string][]byte, error) {
	entries, err := os.ReadDir(dir)
	if os.IsNotExist(err) {
		return nil, map[string][]byte{}, nil
	}
	if err != nil {
		return nil, nil, fmt.Errorf("read migrations: %w", err)
	}
	byVersion := map[int64]*Migration{}
	files := map[string][]byte{}
	for _, e := range entries {
		name := e.Name()
		if e.IsDir() {
			continue
		}
		var version, rest, part string
		if m := migrateFile.FindStringSubmatch(name); m != nil {
			version, rest, part = m[1], m[2], m[3]
		} else if m := gooseFile.FindStringSubmatch(name); m != nil {
			version, rest, part = m[1], m[2], "goose"
		} else {
			continue
		}
		v, err := strconv.ParseInt(version, 10, 64)
		if err != nil {
			return nil, nil, fmt.Errorf("%s: version %s is out of range", filepath.Join(dir, name), version)
		}
		data, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			return nil, nil, fmt.Errorf("read migrations: %w", err)
		}
		files[name] = data
		m := byVersion[v]
		if m == nil {
			m = &Migration{Version: v, Name: rest}
			byVersion[v] = m
		} else if m.Name != rest {
			return nil, nil, fmt.Errorf("%s: version %d is also used by %s", filepath.Join(dir, name), v, m.Files[0])
		}
		m.Files = append(m.Files, name)
		switch part {
		case "up":
			m.Up = string(data)
		case "down":
			m.Down = string(data)
		case "goose":
			up, down, err := SplitGoose(string(data))
			if err != nil {
				return nil, nil, fmt.Errorf("%s: %w", filepath.Join(dir, name), err)
			}
			m.Up, m.Down = up, down
		}
	}
	out := make([]Migration, 0, len(byVersion))
	for _, m := range byVersion {
		slices.Sort(m.Files)
		out = append(out, *m)
	}
	slices.SortFunc(out, func(a, b Migration) int { return cmp.Compare(a.Version, b.Version) })
	return out, files, nil
}

// SplitGoose splits a goose migration into its up and down SQL. The goose
// annotations are SQL comments, so each section runs as it is.
func SplitGoose(src string) (up, down string, err error) {
	const upMark, downMark = "-- +goose Up", "-- +goose Down"
	i := strings.Index(src, upMark)
	if i < 0 {
		return "", "", fmt.Errorf("no %q annotation: goose migrations need one", upMark)
	}
	rest := src[i+len(upMark):]
	if j := strings.Index(rest, downMark); j >= 0 {
		return rest[:j], rest[j+len(downMark):], nil
	}
	return rest, "", nil
}
