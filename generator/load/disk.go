package load

import (
	"bytes"
	"errors"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/projgen/projgen/generator/diag"
	"github.com/projgen/projgen/projection/migration"
)

// MigrationDir is what a migration directory holds on disk.
type MigrationDir struct {
	// Migrations are its migrations, in version order.
	Migrations []migration.Migration
	// Files are its migration files' contents, by name.
	Files map[string][]byte
	// Sum is its projgen.sum, or nil when it has none.
	Sum []byte
}

// ReadMigrations reads each migration directory (relative to the module
// root); a directory that does not exist holds nothing.
func ReadMigrations(root string, dirs []string) (map[string]*MigrationDir, error) {
	out := map[string]*MigrationDir{}
	for _, dir := range dirs {
		abs := filepath.Join(root, filepath.FromSlash(dir))
		ms, files, err := migration.ReadFiles(abs)
		if err != nil {
			return nil, diag.Errorf(diag.Rel(abs), "%v", err).
				WithHint("fix or remove the file; migration files are named NNNNNN_name.up.sql and NNNNNN_name.down.sql, or NNNNNN_name.sql for goose")
		}
		md := &MigrationDir{Migrations: ms, Files: files}
		md.Sum, err = os.ReadFile(filepath.Join(abs, migration.SumFile))
		if err != nil && !errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("read %s: %w", migration.SumFile, err)
		}
		out[dir] = md
	}
	return out, nil
}

// Scan is what projgen owns in a module's tree.
type Scan struct {
	// Generated are the Go files that start with projgen's header, slash
	// separated and relative to the module root, sorted.
	Generated []string
	// SumDirs are the directories that hold a projgen.sum: the migration
	// directories projgen manages, whether a projection still uses them or
	// not. Sorted.
	SumDirs []string
}

// ScanModule walks the module rooted at root for the files projgen owns. It
// skips what the go command skips: directories whose names start with . or
// _, testdata, vendor, and nested modules.
func ScanModule(root string) (*Scan, error) {
	sc := &Scan{}
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		name := d.Name()
		if d.IsDir() {
			return skipDir(root, path, name)
		}
		rel, err := filepath.Rel(root, path)
		if err != nil {
			return err
		}
		rel = filepath.ToSlash(rel)
		switch {
		case name == migration.SumFile:
			sc.SumDirs = append(sc.SumDirs, filepath.ToSlash(filepath.Dir(rel)))
		case strings.HasSuffix(name, ".go"):
			head, err := readHead(path)
			if err != nil {
				return err
			}
			if IsGenerated(path, head) {
				sc.Generated = append(sc.Generated, rel)
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("scan module: %w", err)
	}
	return sc, nil
}

// skipDir returns filepath.SkipDir for the directories below root that
// the go command's ./... skips: those whose names start with . or _,
// testdata, vendor, and nested modules.
func skipDir(root, path, name string) error {
	if path == root {
		return nil
	}
	if strings.HasPrefix(name, ".") || strings.HasPrefix(name, "_") || name == "testdata" || name == "vendor" {
		return filepath.SkipDir
	}
	if _, err := os.Stat(filepath.Join(path, "go.mod")); err == nil {
		return filepath.SkipDir
	}
	return nil
}

// headSize is how much of a Go file ScanModule reads: the header and the
// package clause come first, and a module can hold many large files.
const headSize = 8 << 10

// readHead reads the start of a file, up to headSize bytes.
func readHead(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	buf := make([]byte, headSize)
	n, err := io.ReadFull(f, buf)
	if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) {
		return nil, err
	}
	return buf[:n], nil
}

// IsGenerated reports whether Go source is projgen's: ast.IsGenerated
// finds a generated-code comment before its package clause, and it is
// projgen's header. Files of other generators, and hand-written files, are
// not projgen's.
func IsGenerated(filename string, src []byte) bool {
	if !strings.HasSuffix(filename, ".go") {
		return false
	}
	f, err := parser.ParseFile(token.NewFileSet(), filename, src, parser.PackageClauseOnly|parser.ParseComments)
	if err != nil {
		// A file too broken to parse is still projgen's if it starts
		// with the header.
		return bytes.HasPrefix(src, []byte(Header+"\n"))
	}
	return hasHeader(f)
}

// hasHeader reports whether a parsed file is generated, with projgen's
// header.
func hasHeader(f *ast.File) bool {
	if !ast.IsGenerated(f) {
		return false
	}
	for _, cg := range f.Comments {
		for _, c := range cg.List {
			if c.Text == Header {
				return true
			}
		}
	}
	return false
}
