// Package sample synthesises deterministic JSON values from OpenAPI schemas,
// for mock responses and for requests that must validate.
//
// Schemas are generic decoded JSON (map[string]any, []any, string, bool,
// float64/int/json.Number) in OpenAPI 3.0 flavour (nullable, boolean
// exclusiveMinimum/Maximum, example, readOnly/writeOnly, discriminator) or
// OpenAPI 3.1 / JSON Schema 2020-12 flavour (type arrays, const, examples,
// numeric exclusive bounds, prefixItems, $defs).
//
// Unless Options.IgnoreExamples is set, a schema's own example, else the
// first of its examples, else its default is returned as is when it is
// valid against the schema. Otherwise the value is synthesised: const, then
// the first fitting enum value, then by type. allOf branches are merged;
// oneOf/anyOf take the first branch whose value validates against the whole
// schema (oneOf: exactly one branch), setting the discriminator property to
// the branch's mapping key or schema name. Generated candidates that
// involve a choice are checked with jsonschema/v6 (see check.go), so the
// output is valid whenever the generator finds a way to make it so.
package sample

import (
	"encoding/json"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/dynapi/dynapi/internal/jsonptr"
	"github.com/dynapi/dynapi/internal/regexgen"
)

// Resolver returns the JSON value a local $ref ("#/components/schemas/Account") points to.
type Resolver func(ref string) (any, bool)

// Options steer generation.
type Options struct {
	Resolve        Resolver
	IgnoreExamples bool // synthesise even where the schema carries example/examples/default (used to build requests that must be valid)
	Request        bool // generating a request: skip readOnly properties; otherwise (response) skip writeOnly properties
	MaxDepth       int  // recursion limit for recursive schemas (0 means 8)
	// Checks, when set, keeps the schemas compiled to check candidates
	// for later calls that share it, which must resolve references
	// alike; nil compiles them for this call alone.
	Checks *Checks
}

const (
	defaultMaxDepth = 8
	// stopExtra is how many further levels a schema that must recurse
	// (a required self-reference) may take once MaxDepth is reached.
	stopExtra = 16
	// nodeBudget bounds the values generated in one call; past it only
	// required properties and minimal arrays are produced.
	nodeBudget = 10000
	// nodeLimit stops generation: past it containers are left empty, even
	// of required content, since references can require exponentially
	// more values than a schema holds. The value may then not be valid.
	nodeLimit = 5 * nodeBudget
	// workBudget bounds generation attempts; past it choices are no longer
	// validated.
	workBudget = 200000
)

// Generate returns a deterministic JSON value (map[string]any, []any, string,
// float64/int64 or json.Number, bool, nil) that is valid against schema.
func Generate(schema any, opts Options) any {
	g := &gen{opts: opts, maxDepth: opts.MaxDepth, stack: map[string]int{}}
	if opts.Checks != nil {
		if opts.Checks.c == nil {
			opts.Checks.c = newChecker(opts.Resolve)
		}
		g.check = opts.Checks.c
	}
	if g.maxDepth <= 0 {
		g.maxDepth = defaultMaxDepth
	}
	return g.gen(schema, state{})
}

type gen struct {
	opts     Options
	maxDepth int
	stack    map[string]int // $refs being generated, with their nesting count
	nodes    int
	work     int
	// failures counts choices that found no valid candidate and were not
	// undone by leaving the value out; see genObject and genArray.
	failures int
	check    *checker // made on the first candidate checked
}

type state struct {
	variant int  // > 0: produce a different value (unique array items)
	minimal bool // recursion limit reached: only what is required
	stop    bool // recursion cannot end: produce empty containers
}

func (g *gen) resolve(ref string) (any, bool) {
	if g.opts.Resolve == nil {
		return nil, false
	}
	return g.opts.Resolve(ref)
}

func (g *gen) overBudget() bool { return g.work > workBudget }

// push records refs as being generated and returns the state to generate
// with and a function undoing the push.
func (g *gen) push(refs []string, st state) (state, func()) {
	for _, r := range refs {
		g.stack[r]++
		if c := g.stack[r]; c > g.maxDepth {
			st.minimal = true
			if c > g.maxDepth+stopExtra {
				st.stop = true
			}
		}
	}
	return st, func() {
		for _, r := range refs {
			g.stack[r]--
		}
	}
}

func (g *gen) gen(s any, st state) any {
	g.work++
	g.nodes++
	if g.nodes > nodeBudget {
		st.minimal = true
	}
	if g.nodes > nodeLimit {
		st.stop = true
	}
	m, _ := s.(map[string]any)
	if b, ok := s.(bool); ok && !b {
		return nil
	}
	if !g.opts.IgnoreExamples && st.variant == 0 {
		// A document's example may break its own schema (UK Open Banking
		// writes "string" where a pattern allows four word characters):
		// only one that fits is answered as it is.
		if v, ok := g.example(m, 0); ok && g.valid(v, m) {
			return cloneJSON(v)
		}
	}
	n := newNode()
	var refs []string
	if ref, ok := m["$ref"].(string); ok {
		n.refName = ref
	}
	g.mergeInto(n, m, &refs, "")
	st, pop := g.push(refs, st)
	defer pop()
	var raw any = m
	if m == nil {
		raw = true
	}
	v := g.genNode(n, raw, st)
	if _, hasNot := m["not"]; hasNot && !g.overBudget() && !g.valid(v, raw) {
		// "not" does not steer generation; other variants may avoid it.
		f0 := g.failures
		for k := 1; k <= 3; k++ {
			g.failures = f0
			w := g.genNode(n, raw, state{variant: st.variant + k, minimal: st.minimal, stop: st.stop})
			if g.valid(w, raw) {
				g.failures = f0
				return w
			}
		}
		g.failures = f0 + 1
	}
	return v
}

// annotation keywords do not constrain values.
var annotations = map[string]bool{
	"description": true, "title": true, "summary": true, "deprecated": true,
	"externalDocs": true, "xml": true, "readOnly": true, "writeOnly": true,
	"nullable": true, "$comment": true, "example": true, "examples": true,
	"default": true, "$schema": true, "$id": true, "$anchor": true,
	"$defs": true, "definitions": true,
}

// wrapped returns the schema a pure wrapper ({$ref} or {allOf: [x]} plus
// annotations) stands for.
func (g *gen) wrapped(m map[string]any) (any, bool) {
	var inner any
	found := false
	for k, v := range m {
		switch {
		case annotations[k] || strings.HasPrefix(k, "x-"):
		case k == "$ref":
			ref, _ := v.(string)
			t, ok := g.resolve(ref)
			if !ok {
				return nil, false
			}
			if found {
				return nil, false
			}
			inner, found = t, true
		case k == "allOf":
			all, _ := v.([]any)
			if len(all) != 1 || found {
				return nil, false
			}
			inner, found = all[0], true
		default:
			return nil, false
		}
	}
	return inner, found
}

// example returns the schema's own example, first examples entry or
// default, looking through pure wrappers.
func (g *gen) example(m map[string]any, depth int) (any, bool) {
	if m == nil || depth > 16 {
		return nil, false
	}
	if v, ok := m["example"]; ok {
		return v, true
	}
	if ex, ok := m["examples"].([]any); ok && len(ex) > 0 {
		return ex[0], true
	}
	if v, ok := m["default"]; ok {
		return v, true
	}
	if inner, ok := g.wrapped(m); ok {
		im, _ := inner.(map[string]any)
		return g.example(im, depth+1)
	}
	return nil, false
}

// genNode generates a value for the merged constraints n; raw is the schema
// the value must validate against.
func (g *gen) genNode(n *node, raw any, st state) any {
	g.work++
	if n.isFalse {
		g.failures++
		return nil
	}
	if n.hasConst {
		return cloneJSON(n.constVal)
	}
	if n.hasEnum && len(n.enum) > 0 {
		k := st.variant % len(n.enum)
		if len(n.enum) == 1 {
			return cloneJSON(n.enum[0])
		}
		for i := range n.enum {
			v := n.enum[(k+i)%len(n.enum)]
			if g.overBudget() || g.valid(v, raw) {
				return cloneJSON(v)
			}
		}
		g.failures++
		return cloneJSON(n.enum[k])
	}
	if len(n.composites) > 0 {
		return g.genComposite(n, raw, st)
	}
	if n.disc != nil && !n.discSet && n.refName != "" {
		if v, ok := g.genInherited(n, raw, st); ok {
			return v
		}
	}
	cands := n.typeCandidates()
	if (st.minimal || st.stop) && slices.Contains(cands, "null") && (cands[0] == "object" || cands[0] == "array") {
		return nil
	}
	if len(cands) == 1 {
		return g.genType(n, cands[0], st)
	}
	f0 := g.failures
	var first any
	for i, t := range cands {
		v := g.genType(n, t, st)
		if i == 0 {
			first = v
		}
		if g.overBudget() {
			return v
		}
		// A candidate decides by validation; failures noted while making
		// a discarded one do not count.
		g.failures = f0
		if g.valid(v, raw) {
			return v
		}
	}
	g.failures = f0 + 1
	return first
}

// genComposite resolves the first pending oneOf/anyOf of n by trying its
// branches in order.
func (g *gen) genComposite(n *node, raw any, st state) any {
	c := n.composites[0]
	rest := n.clone()
	rest.composites = rest.composites[1:]
	branches := c.branches
	if st.minimal {
		// Past the recursion limit, try branches that do not recurse first.
		branches = nil
		var again []any
		for _, b := range c.branches {
			bm, _ := b.(map[string]any)
			if ref, _ := bm["$ref"].(string); ref != "" && g.stack[ref] > 0 {
				again = append(again, b)
			} else {
				branches = append(branches, b)
			}
		}
		branches = append(branches, again...)
	}
	f0 := g.failures
	var first any
	have := false
	for _, b := range branches {
		dv := ""
		bref := ""
		if bm, ok := b.(map[string]any); ok {
			bref, _ = bm["$ref"].(string)
		}
		if c.disc != nil && bref != "" {
			dv = discValue(c.disc, bref)
		}
		for pass := range 2 {
			if pass == 0 && dv == "" {
				continue
			}
			n2 := rest.clone()
			var refs []string
			g.mergeInto(n2, b, &refs, "")
			n2.discSet = true
			if pass == 0 {
				forceProperty(n2, c.disc, dv)
			}
			st2, pop := g.push(refs, st)
			var v any
			if !st2.stop || st.stop {
				// (a branch that only now hits the hard limit recurses
				// endlessly: leave it as a failed nil)
				v = g.genNode(n2, raw, st2)
			}
			pop()
			if !have {
				first, have = v, true
			}
			if g.overBudget() {
				return v
			}
			g.failures = f0
			if g.valid(v, raw) {
				return v
			}
		}
	}
	g.failures = f0 + 1
	return first
}

// genInherited generates an object reached through a $ref whose allOf
// parent declares a discriminator, with the discriminator property set to
// the $ref's mapping key or schema name.
func (g *gen) genInherited(n *node, raw any, st state) (any, bool) {
	prop, _ := n.disc["propertyName"].(string)
	if prop == "" {
		return nil, false
	}
	if _, declared := n.props[prop]; !declared {
		return nil, false
	}
	dv := discValue(n.disc, n.refName)
	if n.refName == n.discOwner && !mappedExplicitly(n.disc, n.refName) {
		return nil, false
	}
	n2 := n.clone()
	n2.discSet = true
	forceProperty(n2, n.disc, dv)
	f0 := g.failures
	v := g.genNode(n2, raw, st)
	if g.overBudget() {
		return v, true
	}
	g.failures = f0
	if g.valid(v, raw) {
		return v, true
	}
	return nil, false
}

func forceProperty(n *node, disc map[string]any, value string) {
	prop, _ := disc["propertyName"].(string)
	if prop == "" {
		return
	}
	n.props[prop] = append(n.props[prop], map[string]any{"const": value})
	n.addRequired(prop)
}

func mappedExplicitly(disc map[string]any, ref string) bool {
	mapping, _ := disc["mapping"].(map[string]any)
	for _, k := range sortedKeys(mapping) {
		if s, _ := mapping[k].(string); s == ref || "#/components/schemas/"+s == ref {
			return true
		}
	}
	return false
}

// discValue is the discriminator value naming the schema at ref: its
// mapping key, else the schema name.
func discValue(disc map[string]any, ref string) string {
	mapping, _ := disc["mapping"].(map[string]any)
	for _, k := range sortedKeys(mapping) {
		if s, _ := mapping[k].(string); s == ref || "#/components/schemas/"+s == ref {
			return k
		}
	}
	name := ref[strings.LastIndexByte(ref, '/')+1:]
	return jsonptr.Unescape(name)
}

func (g *gen) genType(n *node, t string, st state) any {
	switch t {
	case "object":
		return g.genObject(n, st)
	case "array":
		return g.genArray(n, st)
	case "integer", "number":
		v, ok := genNumber(n, t == "integer", st.variant)
		if !ok {
			g.failures++
		}
		return v
	case "boolean":
		return st.variant%2 == 0
	case "null":
		return nil
	}
	v, ok := genString(n, st.variant)
	if !ok {
		g.failures++
	}
	return v
}

// flagged reports whether schema s carries key (readOnly/writeOnly), looking
// through $ref and allOf.
func (g *gen) flagged(s any, key string, depth int) bool {
	m, _ := s.(map[string]any)
	if m == nil || depth > 16 {
		return false
	}
	if b, _ := m[key].(bool); b {
		return true
	}
	if ref, ok := m["$ref"].(string); ok {
		if t, ok := g.resolve(ref); ok && g.flagged(t, key, depth+1) {
			return true
		}
	}
	all, _ := m["allOf"].([]any)
	return slices.ContainsFunc(all, func(b any) bool { return g.flagged(b, key, depth+1) })
}

func allOfSchema(list []any) any {
	switch len(list) {
	case 0:
		return map[string]any{}
	case 1:
		return list[0]
	}
	return map[string]any{"allOf": slices.Clone(list)}
}

// propSchema returns the schema property name has in n.
func (n *node) propSchema(name string) any {
	if ps, ok := n.props[name]; ok {
		return allOfSchema(ps)
	}
	var list []any
	for _, p := range sortedKeys(n.patProps) {
		if regexgen.Matches(p, name) {
			list = append(list, n.patProps[p]...)
		}
	}
	if len(list) == 0 {
		list = n.addl
	}
	return allOfSchema(list)
}

func (g *gen) genObject(n *node, st state) any {
	obj := map[string]any{}
	if st.stop {
		return obj
	}
	child := state{variant: st.variant, minimal: st.minimal}
	required := map[string]bool{}
	for _, r := range n.required {
		required[r] = true
	}
	names := sortedKeys(n.props)
	for _, r := range n.required {
		if _, ok := n.props[r]; !ok {
			names = append(names, r)
		}
	}
	slices.Sort(names)
	skip := "writeOnly"
	if g.opts.Request {
		skip = "readOnly"
	}
	var optional, spare []string
	for _, name := range names {
		if !required[name] {
			if !n.allowed(name) {
				continue
			}
			if st.minimal || g.flagged(allOfSchema(n.props[name]), skip, 0) {
				spare = append(spare, name)
				continue
			}
			optional = append(optional, name)
			if v, ok := g.genOptional(n.propSchema(name), child); ok {
				obj[name] = v
			}
			continue
		}
		obj[name] = g.gen(n.propSchema(name), child)
	}
	// dependentRequired
	for changed := true; changed; {
		changed = false
		for _, k := range sortedKeys(n.depReq) {
			if _, ok := obj[k]; !ok {
				continue
			}
			for _, d := range n.depReq[k] {
				if _, ok := obj[d]; !ok {
					obj[d] = g.gen(n.propSchema(d), child)
					changed = true
				}
			}
		}
	}
	// minProperties: first the declared properties left out, then new ones.
	for _, name := range spare {
		if len(obj) >= n.minProps {
			break
		}
		if v, ok := g.genOptional(n.propSchema(name), child); ok {
			obj[name] = v
			optional = append(optional, name)
		}
	}
	if len(obj) < n.minProps {
		g.extraProperties(n, obj, n.minProps, child)
		if len(obj) < n.minProps {
			g.failures++
		}
	}
	if len(obj) == 0 && len(n.props) == 0 && len(n.addl) > 0 && len(n.closed) == 0 &&
		!st.minimal && n.maxProps != 0 {
		// A dictionary: show one entry.
		g.extraProperties(n, obj, 1, child)
	}
	if n.maxProps >= 0 && len(obj) > n.maxProps {
		for i := len(optional) - 1; i >= 0 && len(obj) > n.maxProps; i-- {
			delete(obj, optional[i])
		}
	}
	return obj
}

// extraProperties adds undeclared properties until obj has want of them.
func (g *gen) extraProperties(n *node, obj map[string]any, want int, child state) {
	pats := sortedKeys(n.patProps)
	for _, c := range n.closed {
		for _, p := range c.patterns {
			if !slices.Contains(pats, p) {
				pats = append(pats, p)
			}
		}
	}
	for i := 0; len(obj) < want && i < want+32; i++ {
		var cands []string
		if len(n.closed) == 0 {
			cands = append(cands, "additionalProp"+strconv.Itoa(i+1))
		}
		for _, p := range pats {
			if s, ok := regexgen.Variant(p, 1, -1, i); ok {
				cands = append(cands, s)
			}
		}
		for _, name := range cands {
			if _, dup := obj[name]; dup || !n.allowed(name) {
				continue
			}
			if v, ok := g.genOptional(n.propSchema(name), child); ok {
				obj[name] = v
			}
			break
		}
	}
}

// genOptional generates a value that may be left out: ok is false when no
// valid value was found, and the failure is then forgotten.
func (g *gen) genOptional(s any, st state) (any, bool) {
	before := g.failures
	v := g.gen(s, st)
	if g.failures > before {
		g.failures = before
		return nil, false
	}
	return v, true
}

func (g *gen) genArray(n *node, st state) any {
	items := []any{}
	if st.stop {
		return items
	}
	count := n.minItems
	optionalItem := false
	if count == 0 && !st.minimal && n.maxItems != 0 {
		count = 1
		optionalItem = len(n.prefix) == 0 && len(n.contains) == 0
	}
	if !st.minimal && len(n.prefix) > count {
		count = len(n.prefix)
	}
	if n.itemsFalse && count > len(n.prefix) {
		count = max(len(n.prefix), 0)
	}
	if len(n.contains) > 0 && count == 0 {
		count = 1
	}
	if n.maxItems >= 0 && count > n.maxItems {
		count = n.maxItems
	}
	limit := count + 32
	for attempt := 0; len(items) < count; attempt++ {
		i := len(items)
		var list []any
		if i < len(n.prefix) {
			list = slices.Clone(n.prefix[i])
		} else {
			list = slices.Clone(n.items)
		}
		if i == 0 {
			list = append(list, n.contains...)
		}
		child := state{variant: st.variant, minimal: st.minimal}
		if n.unique {
			child.variant = st.variant + attempt
		}
		if optionalItem {
			// The one item shown in an array that may be empty.
			if v, ok := g.genOptional(allOfSchema(list), child); ok {
				items = append(items, v)
			}
			break
		}
		v := g.gen(allOfSchema(list), child)
		if n.unique && slices.ContainsFunc(items, func(x any) bool { return jsonEqual(x, v) }) {
			if attempt < limit {
				continue
			}
			g.failures++ // not enough distinct values: keep the duplicate
			limit = math.MaxInt
		}
		items = append(items, v)
	}
	if len(items) < n.minItems {
		g.failures++
	}
	return items
}

// cloneJSON deep-copies a decoded JSON value, normalising YAML-style maps
// and timestamps.
func cloneJSON(v any) any {
	switch x := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = cloneJSON(e)
		}
		return out
	case map[any]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			ks, ok := k.(string)
			if !ok {
				b, _ := json.Marshal(k)
				ks = strings.Trim(string(b), `"`)
			}
			out[ks] = cloneJSON(e)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = cloneJSON(e)
		}
		return out
	case time.Time:
		if x.Hour() == 0 && x.Minute() == 0 && x.Second() == 0 && x.Nanosecond() == 0 && x.Location() == time.UTC {
			return x.Format("2006-01-02")
		}
		return x.Format(time.RFC3339Nano)
	}
	return v
}
