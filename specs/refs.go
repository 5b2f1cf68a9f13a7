package specs

import (
	"maps"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/dynapi/dynapi/engine"
	"github.com/dynapi/dynapi/internal/jsonptr"
)

// namingMaps are keywords whose children are user-chosen names, never
// keywords: inside them "example" is a name like any other.
var namingMaps = map[string]bool{
	"properties": true, "patternProperties": true, "definitions": true, "$defs": true,
	"schemas": true, "responses": true, "parameters": true, "headers": true,
	"requestBodies": true, "securitySchemes": true, "links": true,
	"callbacks": true, "pathItems": true, "paths": true, "content": true,
	"encoding": true, "variables": true, "securityDefinitions": true,
	"webhooks": true, "dependentSchemas": true,
}

// dataKeywords hold instance data, never OpenAPI or schema objects, so a
// "$ref" key inside them is data too.
var dataKeywords = map[string]bool{"example": true, "enum": true, "const": true, "default": true}

// role says how the keys of a map are to be read while walking a document.
type role int

const (
	roleKeywords      role = iota // an OpenAPI or schema object
	roleNames                     // a map from user-chosen names to objects
	roleExamplesMap               // names to Example Objects
	roleExampleObject             // an Example Object: "value" is data
)

// walkObjects calls fn for every OpenAPI or schema object in tree (never
// for example data or name maps), with its JSON pointer, in a stable order.
func walkObjects(tree any, fn func(m map[string]any, at string)) {
	var walk func(node any, at string, r role)
	walk = func(node any, at string, r role) {
		switch v := node.(type) {
		case []any:
			for i, e := range v {
				walk(e, at+"/"+strconv.Itoa(i), roleKeywords)
			}
		case map[string]any:
			if r == roleKeywords || r == roleExampleObject {
				fn(v, at)
			}
			for _, k := range sortedKeys(v) {
				child, childAt := v[k], ptr(at, k)
				switch {
				case r == roleNames:
					walk(child, childAt, roleKeywords)
				case r == roleExamplesMap:
					walk(child, childAt, roleExampleObject)
				case k == "examples":
					if _, isMap := child.(map[string]any); isMap {
						walk(child, childAt, roleExamplesMap)
					}
				case dataKeywords[k], r == roleExampleObject && k == "value":
					// instance data: never holds objects of the document
				case namingMaps[k]:
					walk(child, childAt, roleNames)
				default:
					walk(child, childAt, roleKeywords)
				}
			}
		}
	}
	walk(tree, "", roleKeywords)
}

// checkRefs checks every $ref of doc. A local ref that lacks its '#'
// ("/responses/415Error") but resolves with it is fixed in place and
// reported as a warning; every other ref that does not resolve inside doc
// (missing target, another file, a URL) is returned as a fault naming where
// it is.
func checkRefs(doc any) (warnings, faults []engine.Violation) {
	walkObjects(doc, func(m map[string]any, at string) {
		ref, ok := m["$ref"].(string)
		if !ok {
			return
		}
		fixed, fault, changed := checkRef(doc, ref)
		switch {
		case fault != "":
			faults = append(faults, engine.Violation{Location: "document", Pointer: ptr(at, "$ref"),
				Code: engine.CodeUnresolvedRef, Message: fault})
		case changed:
			m["$ref"] = fixed
			warnings = append(warnings, engine.Violation{Location: "document", Pointer: ptr(at, "$ref"),
				Code: "ref_missing_hash", Message: "local reference " + strconv.Quote(ref) + " lacks its '#'; read as " + strconv.Quote(fixed)})
		}
	})
	return warnings, faults
}

// checkRef checks one reference. It returns the fixed reference and
// changed=true when a missing '#' was added, or a fault message when the
// reference cannot be resolved inside the document.
func checkRef(doc any, ref string) (fixed, fault string, changed bool) {
	switch {
	case strings.HasPrefix(ref, "#"):
		if _, ok := resolveFragment(doc, ref[1:]); !ok {
			return "", "reference " + strconv.Quote(ref) + " points to nothing in this document", false
		}
		return ref, "", false
	case strings.HasPrefix(ref, "/"):
		if _, ok := resolveFragment(doc, ref); ok {
			return "#" + ref, "", true
		}
	}
	return "", "reference " + strconv.Quote(ref) + " points outside this document; dynapi accepts self-contained documents only: bundle external files into one document first", false
}

// resolveFragment resolves a URI fragment holding a JSON pointer, which may
// be percent-encoded.
func resolveFragment(doc any, fragment string) (any, bool) {
	if strings.Contains(fragment, "%") {
		unescaped, err := url.PathUnescape(fragment)
		if err != nil {
			return nil, false
		}
		fragment = unescaped
	}
	return jsonptr.Lookup(doc, fragment)
}

// sortedKeys returns m's keys in order, so walks and messages are
// deterministic.
func sortedKeys(m map[string]any) []string { return slices.Sorted(maps.Keys(m)) }
