package load

import (
	"go/ast"
	"go/types"
)

// commandSet is what a package uses as commands: types and name
// constants that it hands to a command package's API. Discovery never
// takes them for events.
type commandSet struct {
	types  map[*types.TypeName]bool
	consts map[*types.Const]bool
}

// has reports whether a rule's pick is a command.
func (s commandSet) has(f found) bool {
	return (f.obj != nil && s.types[f.obj]) || (f.cnst != nil && s.consts[f.cnst])
}

// commandPackageNames are the names of the packages whose API takes
// commands, in the libraries projgen knows: goes' and go-eventually's
// command packages.
var commandPackageNames = []string{"command", "commands"}

// commands finds the package's commands by how they are used, not by
// their names: the local types passed as type arguments to a command
// package's generics (go-eventually's command.Handler[CreateOrder],
// command.Envelope[CreateOrder]), and the local string constants passed to
// its functions (goes' command.New(PlaceCmd, ...),
// command.ApplyWith(o, fn, PlaceCmd)). Both libraries register or name
// commands the same way as events, so their use is what tells them apart.
func (p *Package) commands() commandSet {
	s := commandSet{types: map[*types.TypeName]bool{}, consts: map[*types.Const]bool{}}
	for id, inst := range p.pkg.TypesInfo.Instances {
		if !isCommandAPI(p.pkg.TypesInfo.Uses[id]) {
			continue
		}
		for i := range inst.TypeArgs.Len() {
			if named, ok := types.Unalias(inst.TypeArgs.At(i)).(*types.Named); ok && named.Obj().Pkg() == p.pkg.Types {
				s.types[named.Obj()] = true
			}
		}
	}
	for _, f := range p.userFiles() {
		ast.Inspect(f, func(n ast.Node) bool {
			call, ok := n.(*ast.CallExpr)
			if !ok {
				return true
			}
			fun, _ := unwrapCallee(call.Fun)
			sel, ok := fun.(*ast.SelectorExpr)
			if !ok || !isCommandAPI(p.pkg.TypesInfo.Uses[sel.Sel]) {
				return true
			}
			for _, arg := range call.Args {
				if c := p.localConst(arg); c != nil {
					s.consts[c] = true
				}
			}
			return true
		})
	}
	return s
}

// isCommandAPI reports whether obj is declared in a command package of
// another module's library.
func isCommandAPI(obj types.Object) bool {
	if obj == nil || obj.Pkg() == nil {
		return false
	}
	for _, name := range commandPackageNames {
		if obj.Pkg().Name() == name {
			return true
		}
	}
	return false
}
