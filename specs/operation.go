package specs

import "strings"

// Kind is how a parameter's text is turned into a typed value before its
// schema is checked.
type Kind uint8

// Parameter kinds, read from the schema's type.
const (
	KindString Kind = iota
	KindInteger
	KindNumber
	KindBoolean
	KindArray
	KindObject
	KindJSON // a "content" parameter: the text is a JSON document
)

// Operation is one compiled method + path of a document.
type Operation struct {
	ID      string
	Method  string // upper case
	Path    string // the template as written in the document
	Summary string
	Pointer string // JSON pointer of the operation in the OpenAPI 3 form
	Params  []*Parameter
	Body    *Body // nil when the operation takes no body
	// Responses in the order mock mode prefers them: 2xx ascending, then
	// default, then the others.
	Responses []*Response
	// Access is who may call the operation, as the document declares it.
	Access Access
}

// Access is an operation's own access rule. By default (the zero value) an
// operation needs the dynamic role made for it. x-dynapi-roles names other
// roles, any one of which passes; an empty list opens the operation to any
// authenticated caller. x-dynapi-public: true together with security: []
// opens it to everyone.
type Access struct {
	Public        bool
	RolesDeclared bool
	Roles         []string
}

// PathParamIndex is the position of the path parameter name among the
// template's parameters (engine.PathValues' index), -1 when op has none
// of that name.
func (op *Operation) PathParamIndex(name string) int {
	for _, p := range op.Params {
		if p.In == "path" && p.Name == name {
			return p.PathIndex
		}
	}
	return -1
}

// Parameter is one compiled path, query, header or cookie parameter.
type Parameter struct {
	Name        string
	In          string // path, query, header, cookie
	Required    bool
	Style       string
	Explode     bool
	Kind        Kind
	ItemKind    Kind // element kind of an array parameter
	JSONContent bool
	PathIndex   int     // position among the template's parameters (path only)
	Schema      *Schema // nil: anything goes
	Pointer     string

	schemaNode any
	node       map[string]any
}

// Node returns the parameter object as written in the document.
func (p *Parameter) Node() map[string]any { return p.node }

// SchemaNode returns the parameter's schema as written in the document
// (after Swagger 2.0 conversion), for building samples.
func (p *Parameter) SchemaNode() any { return p.schemaNode }

// Body is an operation's compiled request body.
type Body struct {
	Required bool
	Media    []*BodyMedia
}

// BodyMedia is one accepted request media type.
type BodyMedia struct {
	Type   string  // lower case, as declared, e.g. "application/json"
	Schema *Schema // nil: not validated
	props  map[string]propKind
	node   map[string]any
}

// Node returns the media type object as written in the document.
func (m *BodyMedia) Node() map[string]any { return m.node }

// IsJSON tells whether the media type carries JSON.
func (m *BodyMedia) IsJSON() bool { return isJSONMedia(m.Type) }

// Response is one declared response of an operation.
type Response struct {
	Code   string // as declared: "200", "2XX", "default"
	Status int    // 200 for "200" and "2XX", 0 for "default"
	// Media are the response's media types in the document's order.
	Media []*ResponseMedia
	node  map[string]any
}

// Node returns the response object as written in the document, refs
// resolved at its top.
func (r *Response) Node() map[string]any { return r.node }

// propKind is the kind of one form field.
type propKind struct{ kind, item Kind }

func isJSONMedia(mt string) bool {
	base, _, _ := strings.Cut(mt, ";")
	base = strings.TrimSpace(base)
	return base == "application/json" || strings.HasSuffix(base, "+json") || strings.HasSuffix(base, "/json") || base == "*/*"
}

// kinds reads the value kind (and element kind for arrays) from a schema.
func (d *Document) kinds(schema any) (Kind, Kind) {
	k := d.kindOf(schema, 0)
	if k != KindArray {
		return k, KindString
	}
	m, _ := d.Deref(schema).(map[string]any)
	return k, d.kindOf(m["items"], 0)
}

func (d *Document) kindOf(schema any, depth int) Kind {
	m, ok := d.Deref(schema).(map[string]any)
	if !ok || depth > 8 {
		return KindString
	}
	switch t := m["type"].(type) {
	case string:
		return kindByName(t)
	case []any:
		for _, e := range t {
			if s, ok := e.(string); ok && s != "null" {
				return kindByName(s)
			}
		}
	}
	for _, key := range []string{"allOf", "oneOf", "anyOf"} {
		if branches, ok := m[key].([]any); ok {
			for _, b := range branches {
				if k := d.kindOf(b, depth+1); k != KindString {
					return k
				}
			}
		}
	}
	switch {
	case m["items"] != nil:
		return KindArray
	case m["properties"] != nil:
		return KindObject
	}
	return KindString
}

func kindByName(t string) Kind {
	switch t {
	case "integer":
		return KindInteger
	case "number":
		return KindNumber
	case "boolean":
		return KindBoolean
	case "array":
		return KindArray
	case "object":
		return KindObject
	}
	return KindString
}

// propertyKinds returns the kinds of an object schema's properties, for
// coercing form fields.
func (d *Document) propertyKinds(schema any) map[string]propKind {
	m, ok := d.Deref(schema).(map[string]any)
	if !ok {
		return nil
	}
	out := map[string]propKind{}
	var collect func(m map[string]any, depth int)
	collect = func(m map[string]any, depth int) {
		if depth > 8 {
			return
		}
		props, _ := m["properties"].(map[string]any)
		for name, p := range props {
			k, item := d.kinds(p)
			out[name] = propKind{k, item}
		}
		if all, ok := m["allOf"].([]any); ok {
			for _, b := range all {
				if bm, ok := d.Deref(b).(map[string]any); ok {
					collect(bm, depth+1)
				}
			}
		}
	}
	collect(m, 0)
	return out
}
