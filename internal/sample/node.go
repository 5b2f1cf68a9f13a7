package sample

import (
	"maps"
	"math/big"
	"reflect"
	"slices"
	"strings"

	"github.com/dynapi/dynapi/internal/regexgen"
)

// node is the merge of a schema with everything it pulls in through $ref and
// allOf: the constraints generation has to satisfy at one instance location.
// It only steers generation; validation always runs against the raw schema.
type node struct {
	isFalse bool

	types []string // nil: not constrained

	hasEnum  bool
	enum     []any
	hasConst bool
	constVal any

	// objects
	props     map[string][]any // property -> schemas that all apply
	patProps  map[string][]any
	addl      []any       // additionalProperties schemas
	closed    []closedSet // parts with additionalProperties: false
	required  []string
	minProps  int
	maxProps  int // -1: none
	depReq    map[string][]string
	disc      map[string]any // discriminator met through allOf
	discOwner string         // $ref of the schema that declared disc
	discSet   bool           // a discriminator value has been forced already
	refName   string         // $ref this location was reached through

	// arrays
	items      []any   // schemas of items after the prefix
	itemsFalse bool    // no items allowed after the prefix
	prefix     [][]any // prefixItems / tuple items
	contains   []any
	minItems   int
	maxItems   int // -1: none
	unique     bool

	// strings
	minLen   int
	maxLen   int // -1: none
	patterns []string
	format   string

	// numbers
	minimum, maximum, exMin, exMax, multipleOf *big.Rat

	composites []composite

	seen    map[uintptr]bool
	seenRef map[string]bool
}

// closedSet is the property names one additionalProperties:false part allows.
type closedSet struct {
	names    map[string]bool
	patterns []string
}

// composite is a oneOf or anyOf still to be resolved by picking a branch.
type composite struct {
	one      bool
	branches []any
	disc     map[string]any
}

func newNode() *node {
	return &node{
		maxProps: -1, maxItems: -1, maxLen: -1,
		props: map[string][]any{}, patProps: map[string][]any{},
		seen: map[uintptr]bool{}, seenRef: map[string]bool{},
	}
}

func (n *node) clone() *node {
	c := *n
	c.types = slices.Clone(n.types)
	c.enum = slices.Clone(n.enum)
	c.props = map[string][]any{}
	for k, v := range n.props {
		c.props[k] = slices.Clone(v)
	}
	c.patProps = map[string][]any{}
	for k, v := range n.patProps {
		c.patProps[k] = slices.Clone(v)
	}
	c.addl = slices.Clone(n.addl)
	c.closed = slices.Clone(n.closed)
	c.required = slices.Clone(n.required)
	c.depReq = maps.Clone(n.depReq)
	c.items = slices.Clone(n.items)
	c.prefix = slices.Clone(n.prefix)
	c.contains = slices.Clone(n.contains)
	c.patterns = slices.Clone(n.patterns)
	c.composites = slices.Clone(n.composites)
	c.seen = maps.Clone(n.seen)
	c.seenRef = maps.Clone(n.seenRef)
	return &c
}

// allowed reports whether every additionalProperties:false part admits name.
func (n *node) allowed(name string) bool {
	for _, c := range n.closed {
		if c.names[name] {
			continue
		}
		ok := false
		for _, p := range c.patterns {
			if regexgen.Matches(p, name) {
				ok = true
				break
			}
		}
		if !ok {
			return false
		}
	}
	return true
}

func (n *node) addRequired(name string) {
	if !slices.Contains(n.required, name) {
		n.required = append(n.required, name)
	}
}

func mapPtr(m map[string]any) uintptr { return reflect.ValueOf(m).Pointer() }

// mergeInto merges schema s (and what it references) into n. refs collects
// the $refs resolved on the way, for recursion accounting; owner is the $ref
// s was reached through.
func (g *gen) mergeInto(n *node, s any, refs *[]string, owner string) {
	var m map[string]any
	switch v := s.(type) {
	case bool:
		if !v {
			n.isFalse = true
		}
		return
	case map[string]any:
		m = v
	default:
		return
	}
	if m == nil || n.seen[mapPtr(m)] {
		return
	}
	n.seen[mapPtr(m)] = true
	n.mergeOwn(m, owner)
	if ref, ok := m["$ref"].(string); ok && !n.seenRef[ref] {
		n.seenRef[ref] = true
		*refs = append(*refs, ref)
		if target, ok := g.resolve(ref); ok {
			g.mergeInto(n, target, refs, ref)
		}
	}
	if all, ok := m["allOf"].([]any); ok {
		for _, b := range all {
			g.mergeInto(n, b, refs, owner)
		}
	}
}

func schemaTypes(m map[string]any) []string {
	var ts []string
	switch t := m["type"].(type) {
	case string:
		ts = []string{t}
	case []any:
		for _, x := range t {
			if s, ok := x.(string); ok {
				ts = append(ts, s)
			}
		}
	default:
		return nil
	}
	if b, _ := m["nullable"].(bool); b && !slices.Contains(ts, "null") {
		ts = append(ts, "null")
	}
	return ts
}

func intersectTypes(a, b []string) []string {
	var out []string
	for _, t := range a {
		switch {
		case slices.Contains(b, t):
			out = append(out, t)
		case t == "number" && slices.Contains(b, "integer"):
			out = append(out, "integer")
		case t == "integer" && slices.Contains(b, "number"):
			out = append(out, "integer")
		}
	}
	return slices.Compact(out)
}

func ratKey(m map[string]any, k string) *big.Rat {
	v, ok := m[k]
	if !ok {
		return nil
	}
	r, ok := toRat(v)
	if !ok {
		return nil
	}
	return r
}

func intKey(m map[string]any, k string) (int, bool) {
	v, ok := m[k]
	if !ok {
		return 0, false
	}
	return toInt(v)
}

func maxRat(a, b *big.Rat) *big.Rat {
	if a == nil || b != nil && b.Cmp(a) > 0 {
		return b
	}
	return a
}

func minRat(a, b *big.Rat) *big.Rat {
	if a == nil || b != nil && b.Cmp(a) < 0 {
		return b
	}
	return a
}

func (n *node) mergeOwn(m map[string]any, owner string) {
	if ts := schemaTypes(m); ts != nil {
		if n.types == nil {
			n.types = ts
		} else if both := intersectTypes(n.types, ts); len(both) > 0 {
			n.types = both
		}
	}
	if e, ok := m["enum"].([]any); ok {
		if !n.hasEnum {
			n.hasEnum, n.enum = true, slices.Clone(e)
		} else {
			var both []any
			for _, a := range n.enum {
				if slices.ContainsFunc(e, func(b any) bool { return jsonEqual(a, b) }) {
					both = append(both, a)
				}
			}
			if len(both) > 0 {
				n.enum = both
			}
		}
	}
	if c, ok := m["const"]; ok && !n.hasConst {
		n.hasConst, n.constVal = true, c
	}

	// objects
	props, _ := m["properties"].(map[string]any)
	for _, k := range sortedKeys(props) {
		n.props[k] = append(n.props[k], props[k])
	}
	pats, _ := m["patternProperties"].(map[string]any)
	for _, k := range sortedKeys(pats) {
		n.patProps[k] = append(n.patProps[k], pats[k])
	}
	switch a := m["additionalProperties"].(type) {
	case bool:
		if !a {
			c := closedSet{names: map[string]bool{}}
			for k := range props {
				c.names[k] = true
			}
			c.patterns = sortedKeys(pats)
			n.closed = append(n.closed, c)
		}
	case map[string]any:
		n.addl = append(n.addl, a)
	}
	if req, ok := m["required"].([]any); ok {
		for _, r := range req {
			if s, ok := r.(string); ok {
				n.addRequired(s)
			}
		}
	}
	if v, ok := intKey(m, "minProperties"); ok {
		n.minProps = max(n.minProps, v)
	}
	if v, ok := intKey(m, "maxProperties"); ok && (n.maxProps < 0 || v < n.maxProps) {
		n.maxProps = max(v, 0)
	}
	for _, key := range []string{"dependentRequired", "dependencies"} {
		deps, _ := m[key].(map[string]any)
		for _, k := range sortedKeys(deps) {
			list, ok := deps[k].([]any)
			if !ok {
				continue
			}
			if n.depReq == nil {
				n.depReq = map[string][]string{}
			}
			for _, x := range list {
				if s, ok := x.(string); ok && !slices.Contains(n.depReq[k], s) {
					n.depReq[k] = append(n.depReq[k], s)
				}
			}
		}
	}
	if d, ok := m["discriminator"].(map[string]any); ok && n.disc == nil {
		if _, hasComposite := m["oneOf"]; !hasComposite {
			if _, hasAny := m["anyOf"]; !hasAny {
				n.disc, n.discOwner = d, owner
			}
		}
	}

	// arrays
	switch it := m["items"].(type) {
	case bool:
		if !it {
			n.itemsFalse = true
		}
	case map[string]any:
		n.items = append(n.items, it)
	case []any:
		n.mergePrefix(it)
		switch ai := m["additionalItems"].(type) {
		case bool:
			if !ai {
				n.itemsFalse = true
			}
		case map[string]any:
			n.items = append(n.items, ai)
		}
	}
	if p, ok := m["prefixItems"].([]any); ok {
		n.mergePrefix(p)
	}
	if c, ok := m["contains"]; ok {
		n.contains = append(n.contains, c)
	}
	if v, ok := intKey(m, "minItems"); ok {
		n.minItems = max(n.minItems, v)
	}
	if v, ok := intKey(m, "maxItems"); ok && (n.maxItems < 0 || v < n.maxItems) {
		n.maxItems = max(v, 0)
	}
	if u, _ := m["uniqueItems"].(bool); u {
		n.unique = true
	}

	// strings
	if v, ok := intKey(m, "minLength"); ok {
		n.minLen = max(n.minLen, v)
	}
	if v, ok := intKey(m, "maxLength"); ok && (n.maxLen < 0 || v < n.maxLen) {
		n.maxLen = max(v, 0)
	}
	if p, ok := m["pattern"].(string); ok && !slices.Contains(n.patterns, p) {
		n.patterns = append(n.patterns, p)
	}
	if f, ok := m["format"].(string); ok && n.format == "" {
		n.format = strings.ToLower(f)
	}

	// numbers: 3.0 boolean exclusive flags turn minimum/maximum exclusive.
	minV, maxV := ratKey(m, "minimum"), ratKey(m, "maximum")
	if b, ok := m["exclusiveMinimum"].(bool); ok {
		if b && minV != nil {
			n.exMin = maxRat(n.exMin, minV)
			minV = nil
		}
	} else {
		n.exMin = maxRat(n.exMin, ratKey(m, "exclusiveMinimum"))
	}
	if b, ok := m["exclusiveMaximum"].(bool); ok {
		if b && maxV != nil {
			n.exMax = minRat(n.exMax, maxV)
			maxV = nil
		}
	} else {
		n.exMax = minRat(n.exMax, ratKey(m, "exclusiveMaximum"))
	}
	n.minimum = maxRat(n.minimum, minV)
	n.maximum = minRat(n.maximum, maxV)
	if mo := ratKey(m, "multipleOf"); mo != nil && mo.Sign() > 0 {
		if n.multipleOf == nil {
			n.multipleOf = mo
		} else {
			n.multipleOf = ratLCM(n.multipleOf, mo)
		}
	}

	d, _ := m["discriminator"].(map[string]any)
	for _, k := range []string{"oneOf", "anyOf"} {
		if bs, ok := m[k].([]any); ok && len(bs) > 0 {
			n.composites = append(n.composites, composite{one: k == "oneOf", branches: bs, disc: d})
		}
	}
}

func (n *node) mergePrefix(items []any) {
	for i, it := range items {
		if i < len(n.prefix) {
			n.prefix[i] = append(n.prefix[i], it)
		} else {
			n.prefix = append(n.prefix, []any{it})
		}
	}
}

// lower returns the effective lower bound and whether it is exclusive.
func (n *node) lower() (*big.Rat, bool) {
	if n.exMin != nil && (n.minimum == nil || n.exMin.Cmp(n.minimum) >= 0) {
		return n.exMin, true
	}
	return n.minimum, false
}

func (n *node) upper() (*big.Rat, bool) {
	if n.exMax != nil && (n.maximum == nil || n.exMax.Cmp(n.maximum) <= 0) {
		return n.exMax, true
	}
	return n.maximum, false
}

// typeCandidates lists the types to try, non-null ones first.
func (n *node) typeCandidates() []string {
	if n.types != nil {
		var out []string
		null := false
		for _, t := range n.types {
			if t == "null" {
				null = true
				continue
			}
			out = append(out, t)
		}
		if null {
			out = append(out, "null")
		}
		if len(out) == 0 {
			return []string{"null"}
		}
		return out
	}
	switch {
	case len(n.props) > 0 || len(n.patProps) > 0 || len(n.required) > 0 || n.minProps > 0 ||
		n.maxProps >= 0 || len(n.addl) > 0 || len(n.closed) > 0 || n.disc != nil:
		return []string{"object"}
	case len(n.items) > 0 || len(n.prefix) > 0 || n.itemsFalse || len(n.contains) > 0 ||
		n.minItems > 0 || n.maxItems >= 0 || n.unique:
		return []string{"array"}
	case n.minLen > 0 || n.maxLen >= 0 || len(n.patterns) > 0:
		return []string{"string"}
	case n.format == "int32" || n.format == "int64":
		return []string{"integer"}
	case n.format == "float" || n.format == "double" || n.minimum != nil || n.maximum != nil ||
		n.exMin != nil || n.exMax != nil || n.multipleOf != nil:
		return []string{"number"}
	}
	return []string{"string"}
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
