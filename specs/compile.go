package specs

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/dynapi/dynapi/engine"
	"github.com/dynapi/dynapi/internal/jsonschemas"
)

// defaultSchemaBase names compiled schemas when Options.SchemaBase is empty.
const defaultSchemaBase = "https://dynapi.invalid/documents/"

// Schema is a compiled JSON Schema, safe for concurrent use.
type Schema struct{ s *jsonschemas.Schema }

// Validate checks a decoded JSON value (numbers as json.Number, float64 or
// int) against the schema; see jsonschemas.Schema.Validate for the errors
// it returns.
func (s *Schema) Validate(v any) error { return s.s.Validate(v) }

// FitsByKind reports whether well-formed JSON text certainly fits the
// schema by its kind alone (see jsonschemas.Schema.FitsByKind).
func (s *Schema) FitsByKind(text []byte) bool { return s.s.FitsByKind(text) }

// compiler compiles the schemas of one document, each once within a root.
type compiler struct {
	c      *jsonschema.Compiler
	doc    *Document
	base   string // the URL prefix of every root
	url    string // the root compiling now
	roots  int    // roots added so far
	inRoot int    // locations compiled in the current root
	// risks finds where request schemas let a backtracking pattern meet
	// input of unbounded size; warned holds the places warned about, so
	// each is named once whichever root compiled it.
	risks  jsonschemas.PatternRisks
	warned map[string]bool
	// riskChecked holds the schemas searched for such patterns.
	riskChecked map[*Schema]bool
	// compiled holds each pointer's schema, or the error compiling it, so
	// a schema operations share by reference compiles once, whichever
	// root is current; examples holds the warnings of each media type
	// object whose examples were checked; misfits holds, for each response
	// example checked, why it breaks its schema ("" when it fits).
	compiled map[string]compiled
	examples map[string][]engine.Violation
	misfits  map[string]string
}

// compiled is the outcome of compiling one pointer.
type compiled struct {
	schema *Schema
	err    error
}

// locationsPerRoot bounds the locations compiled in one root resource.
// jsonschema/v6 copies a root's bookkeeping (every subschema it has
// processed) each time it compiles a new location in it, so n locations in
// one root cost O(n²): a 2,000-operation document took seconds. A fresh
// root of the same tree every locationsPerRoot locations keeps loading
// linear in the operations; components shared across roots compile once
// per root.
const locationsPerRoot = 64

// schemaCompiler is a JSON Schema compiler with the document's dialect:
// draft 2020-12 for OpenAPI 3.1; draft 4 for OpenAPI 3.0, whose schema
// object is an extended subset of it (boolean exclusiveMinimum, $ref
// siblings ignored).
func (doc *Document) schemaCompiler() *jsonschema.Compiler {
	c := jsonschemas.NewCompiler("documents must be self-contained", openAPIFormats...)
	if strings.HasPrefix(doc.SpecVersion, "3.1.") {
		c.DefaultDraft(jsonschema.Draft2020)
	} else {
		c.DefaultDraft(jsonschema.Draft4)
	}
	return c
}

// newCompiler prepares the document's tree for JSON Schema (OpenAPI 3.0
// keywords rewritten) and adds the whole document as a root resource, so
// every local $ref resolves inside it.
func newCompiler(doc *Document, base string) (*compiler, error) {
	if base == "" {
		base = defaultSchemaBase
	}
	c := doc.schemaCompiler()
	oas31 := strings.HasPrefix(doc.SpecVersion, "3.1.")
	doc.Warnings = append(doc.Warnings, rewriteSchemas(doc.tree, !oas31)...)
	cc := &compiler{c: c, doc: doc, base: strings.TrimSuffix(base, "/"), warned: map[string]bool{},
		riskChecked: map[*Schema]bool{}, compiled: map[string]compiled{}, examples: map[string][]engine.Violation{},
		misfits: map[string]string{}}
	if err := cc.addRoot(); err != nil {
		return nil, invalid("the document's schemas cannot be compiled: " + cleanSchemaError(err.Error(), cc.url))
	}
	return cc, nil
}

// addRoot adds the document once more as a root resource of its own and
// compiles the next locations in it.
func (c *compiler) addRoot() error {
	c.url = c.base + "/openapi.json"
	if c.roots > 0 {
		c.url = c.base + "/openapi-" + strconv.Itoa(c.roots) + ".json"
	}
	c.roots++
	c.inRoot = 0
	return c.c.AddResource(c.url, c.doc.tree)
}

// compile compiles the schema at a JSON pointer of the document, once. A
// request schema is also checked for backtracking patterns on unbounded
// input, each place found becoming a warning.
func (c *compiler) compile(pointer string) (*Schema, error) {
	s, err := c.compileOnce(pointer)
	if err == nil && !isResponseSchema(pointer) {
		c.warnRisks(s)
	}
	return s, err
}

// compileOnce compiles the schema at pointer unless it was compiled
// already. A schema that is nothing but a local reference
// ({"$ref": "#/..."}, as operations name their shared schemas) compiles as
// the schema its chain of such references ends at: both validate alike,
// and the operations sharing it then share one compilation instead of each
// adding a location to a root.
func (c *compiler) compileOnce(pointer string) (*Schema, error) {
	if done, ok := c.compiled[pointer]; ok {
		return done.schema, done.err
	}
	var done compiled
	if target := c.refTarget(pointer); target != pointer {
		done.schema, done.err = c.compileOnce(target)
		if e, ok := done.err.(*engine.Error); ok && len(e.Violations) == 1 {
			// named where the operation names it, as when compiled there
			done.err = invalid("", engine.Violation{Location: "document", Pointer: pointer, Code: "invalid_schema",
				Message: e.Violations[0].Message})
		}
	} else {
		done.schema, done.err = c.compileNew(pointer)
	}
	c.compiled[pointer] = done
	return done.schema, done.err
}

// refTarget follows the chain of schemas made of a local reference alone
// from pointer and returns where it ends: the reference's fragment, as the
// compiler would have followed it; pointer itself when the schema there is
// no such reference, or the chain points nowhere or runs in a circle, which
// the JSON Schema compiler judges. A pointer holding '%' is left to the
// compiler, which reads it as a fragment.
func (c *compiler) refTarget(pointer string) string {
	if strings.Contains(pointer, "%") {
		return pointer
	}
	at, seen := pointer, map[string]bool{pointer: true}
	for {
		node, _ := resolveFragment(c.doc.tree, at)
		m, _ := node.(map[string]any)
		ref, _ := m["$ref"].(string)
		if len(m) != 1 || !strings.HasPrefix(ref, "#/") {
			return at
		}
		next := ref[1:]
		if _, found := resolveFragment(c.doc.tree, next); !found || seen[next] {
			return pointer
		}
		at, seen[next] = next, true
	}
}

// compileNew compiles the schema at pointer in the current root, starting
// a new root every locationsPerRoot locations.
func (c *compiler) compileNew(pointer string) (*Schema, error) {
	if c.inRoot == locationsPerRoot {
		if err := c.addRoot(); err != nil {
			return nil, engine.Internal(err)
		}
	}
	c.inRoot++
	s, err := c.c.Compile(c.url + "#" + pointer)
	if err != nil {
		return nil, invalid("", engine.Violation{Location: "document", Pointer: pointer, Code: "invalid_schema",
			Message: "the schema cannot be compiled: " + cleanSchemaError(err.Error(), c.url)})
	}
	return &Schema{jsonschemas.NewSchema(s)}, nil
}

// warnRisks warns, once per place, where a request schema lets a
// backtracking pattern meet input of unbounded size; each schema is
// searched once.
func (c *compiler) warnRisks(schema *Schema) {
	if c.riskChecked[schema] {
		return
	}
	c.riskChecked[schema] = true
	for _, r := range c.risks.Find(schema.s) {
		_, at, _ := strings.Cut(r.Location, "#")
		if key := r.Code + " " + at; !c.warned[key] {
			c.warned[key] = true
			c.doc.warn(at, r.Code, r.Message)
		}
	}
}

// isResponseSchema tells a response's schema from a request's by where
// the operation builder compiles it from: under an operation's responses
// (/paths/{path}/{method}/responses/...) or a shared response
// (/components/responses/...). Responses are never validated per request,
// so their patterns cost no request anything.
func isResponseSchema(pointer string) bool {
	tokens := strings.Split(pointer, "/")
	// tokens[0] is the empty string before the pointer's first "/".
	return len(tokens) > 4 && tokens[1] == "paths" && tokens[4] == "responses" ||
		len(tokens) > 2 && tokens[1] == "components" && tokens[2] == "responses"
}

// cleanSchemaError drops our resource URL from a compiler message, leaving
// the JSON pointer the author can find.
func cleanSchemaError(msg, url string) string {
	return strings.ReplaceAll(msg, url+"#", "#")
}

// openAPIFormats are the formats OpenAPI adds to JSON Schema's.
var openAPIFormats = []*jsonschema.Format{
	{Name: "int32", Validate: intRange(math.MinInt32, math.MaxInt32)},
	{Name: "int64", Validate: intRange(math.MinInt64, math.MaxInt64)},
	{Name: "byte", Validate: func(v any) error {
		s, ok := v.(string)
		if !ok {
			return nil
		}
		if _, err := base64.StdEncoding.DecodeString(s); err != nil {
			return errors.New("not valid base64")
		}
		return nil
	}},
}

func intRange(lo, hi float64) func(v any) error {
	return func(v any) error {
		var f float64
		switch n := v.(type) {
		case json.Number:
			var err error
			if f, err = n.Float64(); err != nil {
				return nil
			}
		case float64:
			f = n
		case int:
			f = float64(n)
		case int64:
			f = float64(n)
		default:
			return nil
		}
		if f < lo || f > hi {
			return fmt.Errorf("%v is out of range", v)
		}
		return nil
	}
}

// rewriteSchemas prepares the tree for the JSON Schema compiler, in place:
// OpenAPI 3.0's nullable becomes a null type, draft 4's refusals (an empty
// required list, exclusiveMinimum without minimum) are dropped, and
// readOnly properties stop being required, since only requests are
// validated and a client never sends them; a oneOf with a branch that
// matches anything is read as anyOf (oneOfAnything).
func rewriteSchemas(tree any, oas30 bool) (warnings []engine.Violation) {
	walkObjects(tree, func(m map[string]any, at string) {
		if dropDuplicateEnum(m) {
			warnings = append(warnings, engine.Violation{Location: "document", Pointer: ptr(at, "enum"),
				Code: "enum_duplicate", Message: "the enum lists a value more than once; duplicates ignored"})
		}
		if oneOfAnything(m) {
			warnings = append(warnings, engine.Violation{Location: "document", Pointer: ptr(at, "oneOf"),
				Code: "one_of_read_as_any_of", Message: "a branch of this oneOf matches anything, so every value " +
					"matching another branch would match two and be refused; read as anyOf"})
		}
		rewriteSchema(tree, m, oas30)
	})
	return warnings
}

// oneOfAnything turns a oneOf holding an always-true branch (an empty
// schema {} or true) into an anyOf, as its authors meant: strictly, a
// value matching any other branch matches two and is refused (the Berlin
// Group file's update-authorisation bodies). It reports whether it did.
func oneOfAnything(m map[string]any) bool {
	branches, ok := m["oneOf"].([]any)
	if !ok || m["anyOf"] != nil || !slices.ContainsFunc(branches, alwaysTrue) {
		return false
	}
	delete(m, "oneOf")
	m["anyOf"] = branches
	return true
}

// alwaysTrue tells whether schema s matches every value: true, or an
// object without keywords.
func alwaysTrue(s any) bool {
	switch v := s.(type) {
	case bool:
		return v
	case map[string]any:
		return len(v) == 0
	}
	return false
}

// dropDuplicateEnum removes repeated enum values, which JSON Schema refuses
// and real documents contain. It reports whether it removed any.
func dropDuplicateEnum(m map[string]any) bool {
	enum, ok := m["enum"].([]any)
	if !ok || len(enum) < 2 {
		return false
	}
	seen := make(map[string]bool, len(enum))
	kept := make([]any, 0, len(enum))
	for _, v := range enum {
		key, err := json.Marshal(v)
		if err != nil || !seen[string(key)] {
			seen[string(key)] = true
			kept = append(kept, v)
		}
	}
	if len(kept) == len(enum) {
		return false
	}
	m["enum"] = kept
	return true
}

func rewriteSchema(tree any, m map[string]any, oas30 bool) {
	if oas30 {
		jsonschemas.RewriteNullable(m)
		for _, pair := range [][2]string{{"exclusiveMinimum", "minimum"}, {"exclusiveMaximum", "maximum"}} {
			if _, isBool := m[pair[0]].(bool); isBool && m[pair[1]] == nil {
				delete(m, pair[0])
			}
		}
	}
	req, ok := m["required"].([]any)
	if !ok {
		return
	}
	props, _ := m["properties"].(map[string]any)
	kept := req[:0:0]
	for _, name := range req {
		s, _ := name.(string)
		if p, ok := derefIn(tree, props[s]).(map[string]any); ok {
			if ro, _ := p["readOnly"].(bool); ro {
				continue
			}
		}
		kept = append(kept, name)
	}
	if len(kept) == 0 && oas30 {
		delete(m, "required")
		return
	}
	m["required"] = kept
}

// derefIn follows one local $ref inside tree.
func derefIn(tree, node any) any {
	if m, ok := node.(map[string]any); ok {
		if ref, ok := m["$ref"].(string); ok && strings.HasPrefix(ref, "#") {
			if target, ok := resolveFragment(tree, ref[1:]); ok {
				return target
			}
		}
	}
	return node
}
