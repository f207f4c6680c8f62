package load

import (
	"context"
	"os"
)

// FindAggregates loads the listed packages and returns, in the order
// listed, those that are aggregates: packages in which discovery finds
// events, as --aggregate would. The rest cannot be given to --aggregate
// with success, so the wizard does not offer them: programs (package
// main, such as cmd/projections), packages whose Go files are all
// projgen's (the registry, a cross-aggregate projection's package), and
// packages that do not compile, whose errors --aggregate reports.
func FindAggregates(ctx context.Context, dir string, listed []Listed) ([]*Package, error) {
	var paths []string
	for _, l := range listed {
		if l.Name != "main" {
			paths = append(paths, l.Path)
		}
	}
	if len(paths) == 0 {
		return nil, nil
	}
	byPath, err := loadByPath(ctx, dir, paths)
	if err != nil {
		return nil, err
	}
	wd, _ := os.Getwd() // on error, positions stay absolute
	var out []*Package
	for _, path := range paths {
		p := byPath[path]
		if p == nil {
			continue
		}
		pkg := newPackage(p, wd)
		if len(pkg.errors()) > 0 || len(pkg.Generated) == len(p.Syntax) {
			continue
		}
		pkg.discover()
		if len(pkg.Discovered) > 0 {
			out = append(out, pkg)
		}
	}
	return out, nil
}
