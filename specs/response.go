package specs

import (
	"cmp"
	"strings"

	"github.com/dynapi/dynapi/engine"
	"github.com/dynapi/dynapi/internal/jsonschemas"
)

// ResponseMedia is one media type of a declared response, with its
// examples as the document writes them.
type ResponseMedia struct {
	// Type is the media type as declared, parameters included
	// ("application/json; charset=utf-8").
	Type string
	// Examples are the media type's example, then its named examples in
	// the document's order.
	Examples []*Example
	schema   any    // the schema as written, nil when none
	schemaAt string // the schema's JSON pointer, "" when none
	doc      *Document
}

// Example is one example of a response media type.
type Example struct {
	Name    string // "" for the media type's single example
	Value   any
	Pointer string // where the value is in the document (OpenAPI 3 form)
	// Fits is false when the value breaks the media type's schema; the
	// document was warned about it (example_mismatch).
	Fits bool
}

// IsJSON tells whether the media type carries JSON.
func (m *ResponseMedia) IsJSON() bool { return isJSONMedia(strings.ToLower(m.Type)) }

// SchemaNode returns the media type's schema as written in the document (in
// the OpenAPI 3 form), for building samples; nil when it declares none.
func (m *ResponseMedia) SchemaNode() any { return m.schema }

// SchemaPointer is the JSON pointer of the media type's schema in the
// document (in the OpenAPI 3 form); "" when it declares none.
func (m *ResponseMedia) SchemaPointer() string { return m.schemaAt }

// responseMedia reads the media types of a response object found at at, in
// the document's order, and checks each example against its media type's
// schema: an example that breaks it is marked and warned about, naming the
// operation, the response and where the example breaks the schema, so mock
// answers need not repeat the document's mistake.
func (d *Document) responseMedia(c *compiler, op *Operation, r *Response, at string) []*ResponseMedia {
	content, _ := r.node["content"].(map[string]any)
	contentAt := ptr(at, "content")
	var out []*ResponseMedia
	for _, mt := range d.order.keys(contentAt, content) {
		media, _ := content[mt].(map[string]any)
		mediaAt := ptr(contentAt, mt)
		m := &ResponseMedia{Type: mt, doc: d}
		if s, ok := media["schema"]; ok {
			m.schema, m.schemaAt = s, ptr(mediaAt, "schema")
		}
		if v, ok := media["example"]; ok {
			m.Examples = append(m.Examples, &Example{Value: v, Pointer: ptr(mediaAt, "example"), Fits: true})
		}
		examples, _ := media["examples"].(map[string]any)
		examplesAt := ptr(mediaAt, "examples")
		for _, name := range d.order.keys(examplesAt, examples) {
			if eo, ok := d.Deref(examples[name]).(map[string]any); ok {
				if v, ok := eo["value"]; ok {
					m.Examples = append(m.Examples, &Example{Name: name, Value: v, Pointer: ptr(examplesAt, name, "value"), Fits: true})
				}
			}
		}
		d.checkResponseExamples(c, op, r, m)
		out = append(out, m)
	}
	return out
}

// checkResponseExamples marks the examples of m that break its schema. A
// schema that does not compile costs that check alone; the compiled schema
// is not kept. An example operations share by reference is validated once
// and warned about for each operation.
func (d *Document) checkResponseExamples(c *compiler, op *Operation, r *Response, m *ResponseMedia) {
	if m.schemaAt == "" || len(m.Examples) == 0 {
		return
	}
	for _, ex := range m.Examples {
		misfit, ok := c.misfits[ex.Pointer]
		if !ok {
			misfit = c.misfit(m.schemaAt, ex.Value)
			c.misfits[ex.Pointer] = misfit
		}
		if misfit == "" {
			continue
		}
		ex.Fits = false
		d.warn(ex.Pointer, "example_mismatch", "operation "+op.ID+", response "+r.Code+" ("+m.Type+
			"): the example does not match its schema"+misfit+"; mock answers a value made from the schema instead")
	}
}

// misfit says where v breaks the schema at schemaAt (" at POINTER: why"),
// "" when it fits or the schema does not compile.
func (c *compiler) misfit(schemaAt string, v any) string {
	schema, err := c.compile(schemaAt)
	if err != nil {
		return ""
	}
	verr := schema.Validate(v)
	if verr == nil {
		return ""
	}
	if vs := jsonschemas.Violations(verr, "example", "", words); len(vs) > 0 {
		return " at " + cmp.Or(vs[0].Pointer, "/") + ": " + vs[0].Message
	}
	return " at /"
}

// CompileSchema compiles the media type's schema on its own, for checking
// answers at request time; nil when it declares none. Each call compiles
// afresh, so a caller keeps what it needs: documents keep no compiled
// response schema. Safe to call while the document serves.
func (m *ResponseMedia) CompileSchema() (*Schema, error) {
	if m.schemaAt == "" {
		return nil, nil
	}
	return m.doc.CompileSchemaAt(m.schemaAt)
}

// CompileSchemaAt compiles the schema at a JSON pointer of the document
// (/components/schemas/Name) on its own, as CompileSchema does.
func (d *Document) CompileSchemaAt(pointer string) (*Schema, error) {
	c := d.schemaCompiler()
	url := defaultSchemaBase + "responses.json"
	if err := c.AddResource(url, d.tree); err != nil {
		return nil, engine.Internal(err)
	}
	s, err := c.Compile(url + "#" + pointer)
	if err != nil {
		return nil, invalid("", engine.Violation{Location: "document", Pointer: pointer, Code: "invalid_schema",
			Message: "the schema cannot be compiled: " + cleanSchemaError(err.Error(), url)})
	}
	return &Schema{jsonschemas.NewSchema(s)}, nil
}
