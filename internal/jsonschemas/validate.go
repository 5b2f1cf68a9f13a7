package jsonschemas

import (
	"fmt"
	"runtime/debug"
	"slices"
	"strconv"

	"github.com/dynapi/dynapi/internal/jsonptr"
	"github.com/petermattis/goid"
	"github.com/santhosh-tekuri/jsonschema/v6"
)

// Schema is a compiled JSON Schema and the one way the engine validates a
// value with one: a panic inside the schema library comes back as a
// *PanicError instead of ending the process, and backtracking pattern
// matches are bounded by a Budget. Safe for concurrent use.
type Schema struct {
	s *jsonschema.Schema
	// backtracking is whether validating can reach a pattern the
	// backtracking engine matches: only then is a budget registered.
	backtracking bool
	// kindsOnly is set when the type keyword is all the schema asserts;
	// kinds are then the kinds of value it accepts (FitsByKind).
	kindsOnly bool
	kinds     int
}

// NewSchema wraps a schema compiled by a compiler from NewCompiler,
// finding out once whether it reaches a backtracking pattern.
func NewSchema(s *jsonschema.Schema) *Schema {
	kinds, kindsOnly := typeKinds(s)
	return &Schema{s: s, backtracking: reachesBacktracking(s), kinds: kinds, kindsOnly: kindsOnly}
}

// Backtracking reports whether validating can run a backtracking pattern
// match, which is when a Budget is used: callers sharing one budget among
// several schemas need make it only then.
func (s *Schema) Backtracking() bool { return s.backtracking }

// Validate checks v (decoded JSON: numbers as json.Number, float64 or Go
// integers) against the schema, with a budget of DefaultPatternBudget for
// its backtracking matches. See ValidateWithin for what it returns.
func (s *Schema) Validate(v any) error { return s.ValidateWithin(v, nil) }

// ValidateWithin checks v against the schema, charging backtracking
// pattern matches to b, which the validations of one request may share;
// nil is a fresh budget of DefaultPatternBudget. It returns nil; a
// *jsonschema.ValidationError listing the faults; a *PatternError naming
// a value whose match could not finish within the budget or
// PatternTimeout (validation stops there: nothing after it was checked);
// or a *PanicError when the schema library panicked, which is a bug to
// log and answer as an internal error, never the client's fault.
func (s *Schema) ValidateWithin(v any, b *Budget) (err error) {
	if !s.backtracking {
		defer recoverInto(&err, v)
		return s.s.Validate(v)
	}
	if b == nil {
		b = NewBudget(0)
	}
	id := goid.Get()
	prev := budgets.swap(id, b)
	defer func() {
		budgets.swap(id, prev)
		if r := recover(); r != nil {
			err = recovered(r, v)
		}
	}()
	return s.s.Validate(v)
}

// recoverInto turns a panic of the validation of v into *err.
func recoverInto(err *error, v any) {
	if r := recover(); r != nil {
		*err = recovered(r, v)
	}
}

func recovered(r any, v any) error {
	if u, ok := r.(*unchecked); ok {
		return &PatternError{Pointer: find(v, u.value), Pattern: u.pattern, Reason: u.why}
	}
	return &PanicError{Value: r, Stack: debug.Stack()}
}

// PatternError names a value whose backtracking match could not finish in
// time. The validation stopped at it, so neither it nor what came after
// was checked. Its violation code is CodePatternBudget.
type PatternError struct {
	// Pointer is the JSON pointer of the value (or of the member whose name
	// was being matched) within the validated value.
	Pointer string
	Pattern string
	// Reason says which limit the match reached.
	Reason string
}

// Error implements error.
func (e *PatternError) Error() string {
	return fmt.Sprintf("the value at %q was not checked against the pattern %s: %s", e.Pointer, e.Pattern, e.Reason)
}

// message says in plain English why the value was refused.
func (e *PatternError) message() string {
	return "was not checked against the pattern " + e.Pattern + ": " + e.Reason
}

// PanicError is a panic inside the schema library, recovered.
type PanicError struct {
	Value any
	Stack []byte
}

// Error implements error, for logs: the panic value and its stack.
func (e *PanicError) Error() string {
	return fmt.Sprintf("the JSON Schema validator panicked: %v\n%s", e.Value, e.Stack)
}

// find returns the JSON pointer of the first string in v, or member name,
// equal to s, visiting members in name order; "" when there is none. It
// runs only when a value could not be checked, to name it.
func find(v any, s string) string {
	at, _ := findIn(v, s, "")
	return at
}

func findIn(v any, s, at string) (string, bool) {
	switch v := v.(type) {
	case string:
		return at, v == s
	case []any:
		for i, x := range v {
			if p, ok := findIn(x, s, at+"/"+strconv.Itoa(i)); ok {
				return p, true
			}
		}
	case map[string]any:
		names := make([]string, 0, len(v))
		for name := range v {
			names = append(names, name)
		}
		slices.Sort(names)
		for _, name := range names {
			p := jsonptr.Append(at, name)
			if name == s {
				return p, true
			}
			if p, ok := findIn(v[name], s, p); ok {
				return p, true
			}
		}
	}
	return "", false
}

// reachesBacktracking reports whether validating against s can run a
// backtracking match. A dynamic or recursive reference counts as one,
// since where it leads is decided while validating.
func reachesBacktracking(s *jsonschema.Schema) bool {
	found := false
	walk(s, func(n *jsonschema.Schema) bool {
		found = found || ownBacktracking(n) || n.DynamicRef != nil || n.RecursiveRef != nil
		return !found
	})
	return found
}

// ownBacktracking reports whether s itself holds a backtracking pattern:
// its pattern or one of its patternProperties' names.
func ownBacktracking(s *jsonschema.Schema) bool {
	if s.Pattern != nil && isBacktracking(s.Pattern) {
		return true
	}
	for re := range s.PatternProperties {
		if isBacktracking(re) {
			return true
		}
	}
	return false
}

// walk visits s and the schemas reachable from it, each once; visit
// returns whether to go on into the subschemas of the schema it is given.
func walk(s *jsonschema.Schema, visit func(*jsonschema.Schema) bool) {
	seen := map[*jsonschema.Schema]bool{}
	stack := []*jsonschema.Schema{s}
	for len(stack) > 0 {
		n := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if n == nil || seen[n] {
			continue
		}
		seen[n] = true
		if visit(n) {
			stack = appendChildren(stack, n)
		}
	}
}

// appendChildren appends every subschema s refers to.
func appendChildren(out []*jsonschema.Schema, s *jsonschema.Schema) []*jsonschema.Schema {
	out = append(out, s.Ref, s.RecursiveRef, s.Not, s.If, s.Then, s.Else, s.PropertyNames, s.UnevaluatedProperties,
		s.Contains, s.Items2020, s.UnevaluatedItems, s.ContentSchema)
	if s.DynamicRef != nil {
		out = append(out, s.DynamicRef.Ref)
	}
	out = append(out, s.AllOf...)
	out = append(out, s.AnyOf...)
	out = append(out, s.OneOf...)
	out = append(out, s.PrefixItems...)
	for _, p := range s.Properties {
		out = append(out, p)
	}
	for _, p := range s.PatternProperties {
		out = append(out, p)
	}
	for _, p := range s.DependentSchemas {
		out = append(out, p)
	}
	for _, d := range s.Dependencies {
		if p, ok := d.(*jsonschema.Schema); ok {
			out = append(out, p)
		}
	}
	for _, x := range []any{s.AdditionalProperties, s.AdditionalItems, s.Items} {
		switch x := x.(type) {
		case *jsonschema.Schema:
			out = append(out, x)
		case []*jsonschema.Schema:
			out = append(out, x...)
		}
	}
	return out
}
