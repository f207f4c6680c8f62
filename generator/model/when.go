package model

import (
	"fmt"
	"go/ast"
	"go/constant"
	"go/parser"
	"go/token"
	"strconv"
	"strings"

	"github.com/projgen/projgen/generator/load"
)

// Expr is a parsed condition: a Go expression over the event's fields.
type Expr = ast.Expr

// Sample is a value given to one field by a generated test of a condition.
type Sample struct {
	// Nil is true for a nil pointer, slice, map or interface.
	Nil bool
	// NonNil is true for any non-nil value of such a field.
	NonNil bool
	// Value is the constant value otherwise.
	Value constant.Value
}

// ParseCondition parses a when: condition and checks it against the
// event's fields. Conditions are boolean fields, comparisons of a field with
// a constant, and !, && and || of those, in Go syntax:
//
//	IsActive
//	!IsArchived && Amount > 100
//	Status == "active" || Reason != nil
//
// It also finds field values that make the condition hold and fail, for the
// generated tests, and reports a condition that cannot do both.
func ParseCondition(src string, event *load.Event) (*Condition, error) {
	expr, err := parser.ParseExpr(src)
	if err != nil {
		return nil, fmt.Errorf("condition %q is not a Go expression: %v", src, err)
	}
	c := &conditionChecker{event: event, candidates: map[string][]Sample{}}
	if err := c.boolExpr(expr); err != nil {
		return nil, fmt.Errorf("condition %q: %w", src, err)
	}
	holds, fails, err := c.solve(expr)
	if err != nil {
		return nil, fmt.Errorf("condition %q: %w", src, err)
	}
	return &Condition{Source: src, Expr: expr, Holds: holds, Fails: fails}, nil
}

type conditionChecker struct {
	event      *load.Event
	candidates map[string][]Sample
	order      []string
}

func (c *conditionChecker) field(name string) *load.Field {
	for _, f := range c.event.Fields {
		if f.Name == name {
			return f
		}
	}
	return nil
}

func (c *conditionChecker) fieldNames() string {
	var names []string
	for _, f := range c.event.Fields {
		names = append(names, f.Name)
	}
	if len(names) == 0 {
		return fmt.Sprintf("%s has no fields", c.event.Name)
	}
	return fmt.Sprintf("the fields of %s are %s", c.event.Name, strings.Join(names, ", "))
}

func (c *conditionChecker) addCandidates(field string, s ...Sample) {
	if _, ok := c.candidates[field]; !ok {
		c.order = append(c.order, field)
	}
	c.candidates[field] = append(c.candidates[field], s...)
}

// boolExpr checks that e is a boolean condition.
func (c *conditionChecker) boolExpr(e ast.Expr) error {
	switch e := e.(type) {
	case *ast.ParenExpr:
		return c.boolExpr(e.X)
	case *ast.UnaryExpr:
		if e.Op != token.NOT {
			return fmt.Errorf("operator %s is not allowed here", e.Op)
		}
		return c.boolExpr(e.X)
	case *ast.BinaryExpr:
		switch e.Op {
		case token.LAND, token.LOR:
			if err := c.boolExpr(e.X); err != nil {
				return err
			}
			return c.boolExpr(e.Y)
		case token.EQL, token.NEQ, token.LSS, token.LEQ, token.GTR, token.GEQ:
			return c.comparison(e)
		}
		return fmt.Errorf("operator %s is not allowed: use comparisons, !, && and ||", e.Op)
	case *ast.Ident:
		f := c.field(e.Name)
		if f == nil {
			return fmt.Errorf("%s is not a field of %s: %s", e.Name, c.event.Name, c.fieldNames())
		}
		if f.Type.Kind != load.Bool {
			return fmt.Errorf("field %s is %s, not a bool: compare it with a constant", e.Name, withArticle(f.Type.String()))
		}
		c.addCandidates(e.Name, boolSamples()...)
		return nil
	}
	return fmt.Errorf("%s is not allowed: use boolean fields, comparisons with constants, !, && and ||", exprString(e))
}

func boolSamples() []Sample {
	return []Sample{{Value: constant.MakeBool(true)}, {Value: constant.MakeBool(false)}}
}

// comparison checks field OP constant, in either order.
func (c *conditionChecker) comparison(e *ast.BinaryExpr) error {
	fieldSide, constSide := e.X, e.Y
	if _, ok := fieldSide.(*ast.Ident); !ok || c.field(fieldSide.(*ast.Ident).Name) == nil {
		fieldSide, constSide = e.Y, e.X
	}
	id, ok := fieldSide.(*ast.Ident)
	if !ok || c.field(id.Name) == nil {
		return fmt.Errorf("%s compares no field of %s: %s", exprString(e), c.event.Name, c.fieldNames())
	}
	f := c.field(id.Name)
	ordered := e.Op != token.EQL && e.Op != token.NEQ
	if isNilIdent(constSide) {
		if !nillable(f.Type) {
			return fmt.Errorf("field %s is %s, which cannot be nil", f.Name, withArticle(f.Type.String()))
		}
		if ordered {
			return fmt.Errorf("%s: nil can only be compared with == or !=", exprString(e))
		}
		c.addCandidates(f.Name, Sample{Nil: true}, Sample{NonNil: true})
		return nil
	}
	v, err := constValue(constSide)
	if err != nil {
		return fmt.Errorf("%s: %w", exprString(e), err)
	}
	kind := f.Type.Kind
	switch {
	case kind == load.Bool && v.Kind() == constant.Bool:
		if ordered {
			return fmt.Errorf("%s: booleans can only be compared with == or !=", exprString(e))
		}
		c.addCandidates(f.Name, boolSamples()...)
	case kind == load.String && v.Kind() == constant.String:
		c.addCandidates(f.Name, Sample{Value: v}, Sample{Value: constant.MakeString(constant.StringVal(v) + "-other")})
		if ordered {
			c.addCandidates(f.Name, Sample{Value: constant.MakeString("")})
		}
	case isInteger(kind) && v.Kind() == constant.Int:
		lo, hi := intRange(kind)
		if constant.Compare(v, token.LSS, lo) || constant.Compare(v, token.GTR, hi) {
			return fmt.Errorf("%s does not fit field %s, %s (from %s to %s)", v.ExactString(), f.Name, withArticle(f.Type.String()), lo.ExactString(), hi.ExactString())
		}
		one := constant.MakeInt64(1)
		// The constant and its neighbours, as far as the field holds them.
		for _, cand := range []constant.Value{v, constant.BinaryOp(v, token.ADD, one), constant.BinaryOp(v, token.SUB, one)} {
			if !constant.Compare(cand, token.LSS, lo) && !constant.Compare(cand, token.GTR, hi) {
				c.addCandidates(f.Name, Sample{Value: cand})
			}
		}
	case isFloat(kind) && (v.Kind() == constant.Int || v.Kind() == constant.Float):
		half := constant.MakeFloat64(0.5)
		fv := constant.ToFloat(v)
		c.addCandidates(f.Name, Sample{Value: fv}, Sample{Value: constant.BinaryOp(fv, token.ADD, half)},
			Sample{Value: constant.BinaryOp(fv, token.SUB, half)})
	default:
		return fmt.Errorf("field %s is %s and cannot be compared with %s", f.Name, withArticle(f.Type.String()), exprString(constSide))
	}
	return nil
}

func isNilIdent(e ast.Expr) bool {
	id, ok := e.(*ast.Ident)
	return ok && id.Name == "nil"
}

// constValue evaluates a literal, true, false, or a negated number.
func constValue(e ast.Expr) (constant.Value, error) {
	switch e := e.(type) {
	case *ast.BasicLit:
		v := constant.MakeFromLiteral(e.Value, e.Kind, 0)
		if v.Kind() == constant.Unknown || e.Kind == token.IMAG || e.Kind == token.CHAR {
			return nil, fmt.Errorf("%s is not a number or a string", e.Value)
		}
		return v, nil
	case *ast.Ident:
		switch e.Name {
		case "true":
			return constant.MakeBool(true), nil
		case "false":
			return constant.MakeBool(false), nil
		}
		return nil, fmt.Errorf("%s is not a field or a constant; compare fields with literal values", e.Name)
	case *ast.UnaryExpr:
		if e.Op == token.SUB {
			if v, err := constValue(e.X); err == nil && (v.Kind() == constant.Int || v.Kind() == constant.Float) {
				return constant.UnaryOp(token.SUB, v, 0), nil
			}
		}
	case *ast.ParenExpr:
		return constValue(e.X)
	}
	return nil, fmt.Errorf("%s is not a constant", exprString(e))
}

func nillable(t *load.Type) bool {
	switch t.Kind {
	case load.Pointer, load.Slice, load.Map, load.Interface:
		return true
	}
	return false
}

func isInteger(k load.Kind) bool  { return k >= load.Int && k <= load.Uint64 }
func isUnsigned(k load.Kind) bool { return k >= load.Uint && k <= load.Uint64 }
func isFloat(k load.Kind) bool    { return k == load.Float32 || k == load.Float64 }

// maxAssignments bounds the search for test values.
const maxAssignments = 1 << 12

// solve finds field values under which the condition holds and fails, by
// trying the candidate values of each field: for comparisons, the constant
// and its neighbours.
func (c *conditionChecker) solve(expr ast.Expr) (holds, fails map[string]Sample, err error) {
	fields := append([]string(nil), c.order...)
	for _, f := range fields {
		c.candidates[f] = dedupe(c.candidates[f])
	}
	total := 1
	for _, f := range fields {
		total *= len(c.candidates[f])
		if total > maxAssignments {
			return nil, nil, fmt.Errorf("it compares too many values to test; split it or simplify it")
		}
	}
	idx := make([]int, len(fields))
	for n := 0; n < total; n++ {
		assign := map[string]Sample{}
		rest := n
		for i, f := range fields {
			idx[i] = rest % len(c.candidates[f])
			rest /= len(c.candidates[f])
			assign[f] = c.candidates[f][idx[i]]
		}
		v, err := eval(expr, assign)
		if err != nil {
			return nil, nil, err
		}
		if v && holds == nil {
			holds = assign
		}
		if !v && fails == nil {
			fails = assign
		}
		if holds != nil && fails != nil {
			return holds, fails, nil
		}
	}
	if holds == nil {
		return nil, nil, fmt.Errorf("it never holds, so the event would never be projected")
	}
	return nil, nil, fmt.Errorf("it always holds; remove it, since it filters nothing")
}

func dedupe(s []Sample) []Sample {
	seen := map[string]bool{}
	var out []Sample
	for _, x := range s {
		k := x.key()
		if !seen[k] {
			seen[k] = true
			out = append(out, x)
		}
	}
	return out
}

func (s Sample) key() string {
	switch {
	case s.Nil:
		return "nil"
	case s.NonNil:
		return "non-nil"
	}
	return s.Value.ExactString()
}

// eval evaluates a checked condition under an assignment of field values.
func eval(e ast.Expr, assign map[string]Sample) (bool, error) {
	switch e := e.(type) {
	case *ast.ParenExpr:
		return eval(e.X, assign)
	case *ast.UnaryExpr:
		v, err := eval(e.X, assign)
		return !v, err
	case *ast.Ident:
		return constant.BoolVal(assign[e.Name].Value), nil
	case *ast.BinaryExpr:
		switch e.Op {
		case token.LAND, token.LOR:
			x, err := eval(e.X, assign)
			if err != nil {
				return false, err
			}
			y, err := eval(e.Y, assign)
			if e.Op == token.LAND {
				return x && y, err
			}
			return x || y, err
		}
		x, xNil := operand(e.X, assign)
		y, yNil := operand(e.Y, assign)
		if xNil != nil || yNil != nil {
			same := xNil != nil && yNil != nil && *xNil == *yNil
			if e.Op == token.EQL {
				return same, nil
			}
			return !same, nil
		}
		if x.Kind() == constant.Float || y.Kind() == constant.Float {
			x, y = constant.ToFloat(x), constant.ToFloat(y)
		}
		return constant.Compare(x, e.Op, y), nil
	}
	return false, fmt.Errorf("cannot evaluate %s", exprString(e))
}

// operand returns a comparison operand's value, or for nil comparisons
// whether it is nil.
func operand(e ast.Expr, assign map[string]Sample) (constant.Value, *bool) {
	if isNilIdent(e) {
		t := true
		return nil, &t
	}
	if id, ok := e.(*ast.Ident); ok {
		if s, ok := assign[id.Name]; ok {
			if s.Nil || s.NonNil {
				isNil := s.Nil
				return nil, &isNil
			}
			return s.Value, nil
		}
	}
	v, _ := constValue(e)
	return v, nil
}

func exprString(e ast.Expr) string {
	switch e := e.(type) {
	case *ast.Ident:
		return e.Name
	case *ast.BasicLit:
		return e.Value
	case *ast.ParenExpr:
		return "(" + exprString(e.X) + ")"
	case *ast.UnaryExpr:
		return e.Op.String() + exprString(e.X)
	case *ast.BinaryExpr:
		return exprString(e.X) + " " + e.Op.String() + " " + exprString(e.Y)
	case *ast.SelectorExpr:
		return exprString(e.X) + "." + e.Sel.Name
	case *ast.CallExpr:
		return exprString(e.Fun) + "(…)"
	}
	return strconv.Quote(fmt.Sprintf("%T", e))
}

// intRange returns the smallest and largest values of an integer kind; int
// and uint are taken as 64 bits, as on every platform projgen supports.
func intRange(k load.Kind) (lo, hi constant.Value) {
	bits := map[load.Kind]uint{
		load.Int: 64, load.Int8: 8, load.Int16: 16, load.Int32: 32, load.Int64: 64,
		load.Uint: 64, load.Uint8: 8, load.Uint16: 16, load.Uint32: 32, load.Uint64: 64,
	}[k]
	one := constant.MakeInt64(1)
	if isUnsigned(k) {
		return constant.MakeInt64(0), constant.BinaryOp(constant.Shift(one, token.SHL, bits), token.SUB, one)
	}
	half := constant.Shift(one, token.SHL, bits-1)
	return constant.UnaryOp(token.SUB, half, 0), constant.BinaryOp(half, token.SUB, one)
}
