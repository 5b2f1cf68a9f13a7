package jsonschemas

import (
	"slices"
	"strings"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// Codes of PatternRisk.
const (
	// CodeUnboundedArray: an array without maxItems whose items reach a
	// backtracking pattern, so one request can ask for any number of
	// backtracking matches.
	CodeUnboundedArray = "pattern_unbounded_array"
	// CodeUnboundedObject: the same for an object without maxProperties
	// whose additional or pattern properties (or their names) reach one.
	CodeUnboundedObject = "pattern_unbounded_object"
	// CodeUnboundedString: a string without maxLength checked by a
	// backtracking pattern, whose every match may run to its timeout.
	CodeUnboundedString = "pattern_unbounded_string"
)

// PatternRisk is a place in a schema where a backtracking pattern meets
// input of unbounded size: worth a warning when the schema is submitted,
// since requests are refused once they spend their budget on it.
type PatternRisk struct {
	// Location is the schema's location: its resource URL, "#", and the
	// JSON pointer of the schema within it.
	Location string
	Code     string
	Message  string
}

// PatternRisks finds PatternRisks in the schemas of one document, each
// place once however many schemas reach it. Use one per document; it is
// not safe for concurrent use.
type PatternRisks struct {
	// reaches records, for every schema already explored, whether
	// validating against it can run a backtracking match.
	reaches  map[*jsonschema.Schema]bool
	reported map[*jsonschema.Schema]bool
}

// Find returns the risks reachable from s not reported before, sorted by
// location.
func (f *PatternRisks) Find(s *Schema) []PatternRisk {
	if !s.backtracking {
		return nil
	}
	if f.reaches == nil {
		f.reaches, f.reported = map[*jsonschema.Schema]bool{}, map[*jsonschema.Schema]bool{}
	}
	nodes := f.explore(s.s)
	var out []PatternRisk
	for _, n := range nodes {
		if f.reported[n] {
			continue
		}
		if r, ok := f.risk(n); ok {
			f.reported[n] = true
			out = append(out, r)
		}
	}
	slices.SortFunc(out, func(a, b PatternRisk) int { return strings.Compare(a.Location, b.Location) })
	return out
}

// explore records whether each schema reachable from root, and not
// explored before, reaches a backtracking pattern: those holding one do,
// and so does every schema referring to one that does. It returns the
// newly explored schemas.
func (f *PatternRisks) explore(root *jsonschema.Schema) []*jsonschema.Schema {
	var nodes []*jsonschema.Schema
	parents := map[*jsonschema.Schema][]*jsonschema.Schema{}
	walk(root, func(n *jsonschema.Schema) bool {
		if _, known := f.reaches[n]; known {
			return false
		}
		nodes = append(nodes, n)
		for _, c := range appendChildren(nil, n) {
			if c != nil {
				parents[c] = append(parents[c], n)
			}
		}
		return true
	})
	for _, n := range nodes {
		f.reaches[n] = false
	}
	// Start from the new schemas holding a pattern and from the schemas
	// explored before that reach one (only those are true so far).
	var todo []*jsonschema.Schema
	for _, n := range nodes {
		if ownBacktracking(n) {
			f.reaches[n] = true
			todo = append(todo, n)
		}
	}
	for c := range parents {
		if f.reaches[c] {
			todo = append(todo, c)
		}
	}
	for len(todo) > 0 {
		n := todo[len(todo)-1]
		todo = todo[:len(todo)-1]
		for _, p := range parents[n] {
			if !f.reaches[p] {
				f.reaches[p] = true
				todo = append(todo, p)
			}
		}
	}
	return nodes
}

// risk returns the risk s itself poses, if any.
func (f *PatternRisks) risk(s *jsonschema.Schema) (PatternRisk, bool) {
	switch {
	case s.MaxItems == nil && f.anyReaches(s.Items, s.AdditionalItems, s.Items2020, s.Contains, s.UnevaluatedItems):
		return PatternRisk{Location: s.Location, Code: CodeUnboundedArray,
			Message: "an array without maxItems whose items are checked by a backtracking pattern: each item costs a match, " +
				"and requests that use up their time for pattern matching are refused; set maxItems"}, true
	case s.MaxProperties == nil && (f.anyReaches(s.AdditionalProperties, s.PropertyNames, s.UnevaluatedProperties) ||
		f.patternPropertiesReach(s)):
		return PatternRisk{Location: s.Location, Code: CodeUnboundedObject,
			Message: "an object without maxProperties whose members or names are checked by a backtracking pattern: each member costs a match, " +
				"and requests that use up their time for pattern matching are refused; set maxProperties"}, true
	case s.Pattern != nil && isBacktracking(s.Pattern) && s.MaxLength == nil:
		return PatternRisk{Location: s.Location, Code: CodeUnboundedString,
			Message: "the pattern " + s.Pattern.String() + " needs the backtracking engine and the string has no maxLength: " +
				"a long value can run its match to the " + PatternTimeout.String() + " timeout; set maxLength"}, true
	}
	return PatternRisk{}, false
}

// anyReaches reports whether any of the subschemas (a *Schema, a
// []*Schema of tuple items, or anything else, which reaches nothing)
// reaches a backtracking pattern. Tuple items are bounded by the tuple.
func (f *PatternRisks) anyReaches(subschemas ...any) bool {
	for _, x := range subschemas {
		if s, ok := x.(*jsonschema.Schema); ok && s != nil && f.reaches[s] {
			return true
		}
	}
	return false
}

func (f *PatternRisks) patternPropertiesReach(s *jsonschema.Schema) bool {
	for re, p := range s.PatternProperties {
		if isBacktracking(re) || f.reaches[p] {
			return true
		}
	}
	return false
}
