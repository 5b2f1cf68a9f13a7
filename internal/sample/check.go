package sample

import (
	"net/url"
	"strconv"
	"strings"
	"sync"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/dynapi/dynapi/internal/jsonptr"
	"github.com/dynapi/dynapi/internal/jsonschemas"
)

// The generator checks its own candidates (oneOf exclusivity, enum values,
// examples, alternatives) with jsonschema/v6, through internal/jsonschemas,
// as draft 2020-12. A schema may be written for OpenAPI 3.0 or 3.1: each
// checked schema is compiled from a copy in which OpenAPI 3.0's nullable
// and boolean exclusive bounds are rewritten into their 2020-12 form, which
// means what both versions mean; $ref siblings always apply; $id and
// $schema are left out. The targets
// of local references are copied too, and the references point at the
// copies. A reference that cannot be resolved is left out, as if absent,
// and a schema that does not compile accepts every value.

// checkBase starts the URLs of the resources checked schemas compile in.
const checkBase = "https://dynapi.invalid/sample-"

// The members of root: copies of the schemas checked, by number, and of
// the targets of references, by reference.
const (
	checkedKey = "x-dynapi-checked"
	refsKey    = "x-dynapi-refs"
)

// Checks keeps the schemas compiled to check candidates across calls of
// Generate with the same Resolver (one document's schemas), so each is
// compiled once for all of them; see Options.Checks. It holds copies of
// the schemas checked until it is dropped. Not safe for concurrent use.
type Checks struct{ c *checker }

// checker compiles the schemas one generation checks candidates against.
// Each schema node is copied once, wherever it is met again the copy is
// referenced, and compiled once.
type checker struct {
	resolve Resolver
	// root is the resource every checked schema compiles in.
	root map[string]any
	// nodes holds what is known of each schema node copied, by the node's
	// address; the entry keeps the node alive so the address stays its.
	nodes map[uintptr]*copied
	// placed holds where the target of each reference met is copied to,
	// "" when it cannot be resolved.
	placed map[string]string
	// compiler compiles in root, added as the resource at url; inRoot
	// counts the schemas compiled there, roots the resources added.
	compiler *jsonschema.Compiler
	url      string
	inRoot   int
	roots    int
}

// copied is one schema node, where its copy is in root and, once
// compiled, its compilation (nil when it did not compile).
type copied struct {
	node     map[string]any
	at       string
	compiled bool
	schema   *jsonschemas.Schema
}

func newChecker(resolve Resolver) *checker {
	return &checker{resolve: resolve, nodes: map[uintptr]*copied{}, placed: map[string]string{},
		root: map[string]any{checkedKey: map[string]any{}, refsKey: map[string]any{}}}
}

// valid reports whether v is valid against schema s. A pure wrapper
// ({"$ref": ...} or a single allOf, with annotations) is looked through:
// it validates as what it wraps, which is then compiled once for all the
// wrappers naming it.
func (g *gen) valid(v, s any) bool {
	if g.check == nil {
		g.check = newChecker(g.opts.Resolve)
	}
	for range maxUnwrap {
		m, _ := s.(map[string]any)
		inner, ok := g.wrapped(m)
		if !ok {
			break
		}
		s = inner
	}
	return g.check.valid(v, s)
}

// maxUnwrap bounds the wrappers valid looks through (a chain of
// references may run in a circle).
const maxUnwrap = 16

// valid reports whether v is valid against schema s.
func (c *checker) valid(v, s any) bool {
	switch s := s.(type) {
	case bool:
		return s
	case map[string]any:
		if s == nil {
			return true
		}
		schema := c.schema(s)
		return schema == nil || schema.Validate(v) == nil
	}
	return true
}

// schema compiles m once; nil when it does not compile.
func (c *checker) schema(m map[string]any) *jsonschemas.Schema {
	n, ok := c.nodes[mapPtr(m)]
	if !ok {
		checked := c.root[checkedKey].(map[string]any)
		name := strconv.Itoa(len(checked))
		checked[name] = c.convert(m, jsonptr.Append("", checkedKey, name))
		n = c.nodes[mapPtr(m)]
	}
	if n.compiled {
		return n.schema
	}
	n.compiled = true
	if c.compiler == nil || c.inRoot == locationsPerRoot {
		c.addRoot()
	}
	c.inRoot++
	if s, err := c.compiler.Compile(c.url + "#" + fragment(n.at)); err == nil {
		n.schema = jsonschemas.NewSchema(s)
	}
	return n.schema
}

// locationsPerRoot bounds the schemas compiled in one root resource:
// jsonschema/v6 copies a root's bookkeeping each time it compiles a new
// location in it, so n locations in one root would cost O(n²) (see
// specs/compile.go). References compile once per root.
const locationsPerRoot = 64

// addRoot adds root once more as a resource of its own, to compile the
// next schemas in. The compiler reads root as it is when it compiles, so
// what convert adds later is found.
func (c *checker) addRoot() {
	if c.compiler == nil {
		c.compiler = jsonschemas.NewCompiler("sample schemas are self-contained")
		c.compiler.DefaultDraft(jsonschema.Draft2020)
	}
	c.url = checkBase + strconv.Itoa(c.roots) + ".json"
	c.roots++
	c.inRoot = 0
	if err := c.compiler.AddResource(c.url, c.root); err != nil {
		panic(err) // a fresh URL of the checker's own naming
	}
}

// schemaMaps are keywords whose members are named schemas; dataKeywords
// hold instance data, never schemas.
var (
	schemaMaps   = map[string]bool{"properties": true, "patternProperties": true, "$defs": true, "definitions": true, "dependentSchemas": true}
	dataKeywords = map[string]bool{"example": true, "examples": true, "enum": true, "const": true, "default": true}
)

// convert copies the schema s, to be placed at the pointer at of root, in
// its draft 2020-12 form. A schema node copied before becomes a reference
// to its copy.
func (c *checker) convert(s any, at string) any {
	switch x := s.(type) {
	case map[string]any:
		if x == nil {
			return x
		}
		if n, ok := c.nodes[mapPtr(x)]; ok {
			return map[string]any{"$ref": "#" + fragment(n.at)}
		}
		c.nodes[mapPtr(x)] = &copied{node: x, at: at}
		out := make(map[string]any, len(x))
		for k, v := range x {
			switch {
			case k == "$id" || k == "$schema":
				// left out: the copy is read as 2020-12 and its
				// references point into root
			case dataKeywords[k] || strings.HasPrefix(k, "x-"):
				out[k] = v
			case schemaMaps[k]:
				if members, ok := v.(map[string]any); ok {
					converted := make(map[string]any, len(members))
					for name, member := range members {
						converted[name] = c.convert(member, jsonptr.Append(at, k, name))
					}
					v = converted
				}
				out[k] = v
			default:
				out[k] = c.convert(v, jsonptr.Append(at, k))
			}
		}
		if ref, ok := out["$ref"].(string); ok {
			if to := c.place(ref); to != "" {
				out["$ref"] = "#" + fragment(to)
			} else {
				delete(out, "$ref")
			}
		}
		jsonschemas.RewriteNullable(out)
		rewriteBounds(out)
		return out
	case []any:
		out := make([]any, len(x))
		for i, v := range x {
			out[i] = c.convert(v, jsonptr.Append(at, strconv.Itoa(i)))
		}
		return out
	}
	return s
}

// place copies the target of the reference ref into root, once, and
// returns where; "" when it cannot be resolved.
func (c *checker) place(ref string) string {
	if at, done := c.placed[ref]; done {
		return at
	}
	var target any
	ok := false
	if c.resolve != nil {
		target, ok = c.resolve(ref)
	}
	if !ok {
		c.placed[ref] = ""
		return ""
	}
	at := jsonptr.Append("", refsKey, ref)
	c.placed[ref] = at // before converting: the target may refer to itself
	c.root[refsKey].(map[string]any)[ref] = c.convert(target, at)
	return at
}

// fragment is a JSON pointer as a URL fragment.
func fragment(pointer string) string {
	return (&url.URL{Fragment: pointer}).EscapedFragment()
}

// rewriteBounds turns OpenAPI 3.0's boolean exclusiveMinimum and
// exclusiveMaximum into 2020-12's numeric ones, in place: true moves the
// bound over, false (or no bound) drops the flag.
func rewriteBounds(m map[string]any) {
	for _, pair := range [...][2]string{{"exclusiveMinimum", "minimum"}, {"exclusiveMaximum", "maximum"}} {
		exclusive, isBool := m[pair[0]].(bool)
		if !isBool {
			continue
		}
		bound, has := m[pair[1]]
		if !exclusive || !has {
			delete(m, pair[0])
			continue
		}
		m[pair[0]] = bound
		delete(m, pair[1])
	}
}

// formatSchemas holds, for each format met, a compiled schema that
// asserts it on strings, for candidates made from a pattern; a format the
// library does not know accepts every string. Formats come from
// documents, so the cache starts afresh past formatCacheLimit entries.
var formatSchemas struct {
	sync.Mutex
	byName map[string]*jsonschemas.Schema
}

const formatCacheLimit = 256

// validFormat reports whether s has format.
func validFormat(format, s string) bool {
	formatSchemas.Lock()
	schema, ok := formatSchemas.byName[format]
	formatSchemas.Unlock()
	if !ok {
		schema = compileFormat(format)
		formatSchemas.Lock()
		if len(formatSchemas.byName) >= formatCacheLimit || formatSchemas.byName == nil {
			formatSchemas.byName = map[string]*jsonschemas.Schema{}
		}
		formatSchemas.byName[format] = schema
		formatSchemas.Unlock()
	}
	return schema == nil || schema.Validate(s) == nil
}

// compileFormat compiles {"format": format}; nil when it does not compile.
func compileFormat(format string) *jsonschemas.Schema {
	compiler := jsonschemas.NewCompiler("format schemas are self-contained")
	compiler.DefaultDraft(jsonschema.Draft2020)
	const url = "https://dynapi.invalid/format.json"
	if err := compiler.AddResource(url, map[string]any{"format": format}); err != nil {
		return nil
	}
	compiled, err := compiler.Compile(url)
	if err != nil {
		return nil
	}
	return jsonschemas.NewSchema(compiled)
}
