package model

import (
	"path"
	"strings"

	"github.com/projgen/projgen/generator/load"
)

// internalParent returns the import path that a package must be within to
// import importPath: the parent of importPath's last internal element, as
// the go command rules, and false when importPath has none.
func internalParent(importPath string) (string, bool) {
	switch i := strings.LastIndex(importPath, "/internal/"); {
	case strings.HasSuffix(importPath, "/internal"):
		return strings.TrimSuffix(importPath, "/internal"), true
	case i >= 0:
		return importPath[:i], true
	case strings.HasPrefix(importPath, "internal/") || importPath == "internal":
		return "", true
	}
	return "", false
}

// canImport reports whether the package importer may import imported.
func canImport(importer, imported string) bool {
	parent, ok := internalParent(imported)
	return !ok || importer == parent || strings.HasPrefix(importer, parent+"/")
}

// DefaultRegistry is the registry directory of a new projgen.yaml for the
// aggregates of its first projection: projections at the module root, or,
// when an aggregate is internal to a directory below the root
// (services/billing/internal/invoice), projections in that directory, so
// that the registry can import it.
func DefaultRegistry(mod *load.Module, pkgs []*load.Package) string {
	dir := "projections"
	for _, pkg := range pkgs {
		parent, ok := internalParent(pkg.Path)
		if !ok || parent == mod.Path {
			continue
		}
		if rel, ok := strings.CutPrefix(parent, mod.Path+"/"); ok {
			dir = path.Join(rel, "projections")
		}
	}
	return dir
}
