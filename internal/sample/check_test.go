package sample

import (
	"testing"
)

// TestCheckedExamples shows how candidates are checked, through the
// schema's own example: it is answered only when jsonschema/v6 finds it
// valid against the schema read as draft 2020-12 after the OpenAPI 3.0
// rewrite, references resolved in the document. Each case runs alone and
// with a Checks shared by all cases, which must not change the answer.
func TestCheckedExamples(t *testing.T) {
	components := map[string]any{
		"Code": map[string]any{"type": "string", "maxLength": 3},
		"A B":  map[string]any{"type": "integer", "maximum": 5},
		"Node": map[string]any{"type": "object", "properties": map[string]any{
			"next": map[string]any{"$ref": "#/components/schemas/Node"}}},
	}
	doc := map[string]any{"components": map[string]any{"schemas": components}}
	shared := &Checks{}
	for _, c := range []struct {
		name   string
		schema map[string]any
		fits   bool
	}{
		{"nullable allows null", map[string]any{"type": "string", "nullable": true, "example": nil}, true},
		{"null without nullable", map[string]any{"type": "string", "example": nil}, false},
		{"boolean exclusiveMinimum excludes its bound", map[string]any{"type": "integer", "minimum": 0, "exclusiveMinimum": true, "example": 0}, false},
		{"false exclusiveMinimum keeps it", map[string]any{"type": "integer", "minimum": 0, "exclusiveMinimum": false, "example": 0}, true},
		{"numeric exclusiveMaximum", map[string]any{"type": "number", "exclusiveMaximum": 1, "example": 1}, false},
		{"reference sibling applies", map[string]any{"$ref": "#/components/schemas/Code", "example": "toolong"}, false},
		{"reference fits", map[string]any{"$ref": "#/components/schemas/Code", "example": "abc"}, true},
		{"escaped reference", map[string]any{"$ref": "#/components/schemas/A%20B", "example": 6}, false},
		{"recursive reference", map[string]any{"$ref": "#/components/schemas/Node", "example": map[string]any{"next": map[string]any{"next": 5}}}, false},
		{"recursive reference fits", map[string]any{"$ref": "#/components/schemas/Node", "example": map[string]any{"next": map[string]any{}}}, true},
		{"unresolvable reference is left out", map[string]any{"$ref": "#/nowhere", "type": "integer", "example": "x"}, false},
		{"enum values are data", map[string]any{"enum": []any{map[string]any{"$ref": "#/a"}, map[string]any{"$ref": "#/b"}}, "example": map[string]any{"$ref": "#/b"}}, true},
		{"format asserted", map[string]any{"type": "string", "format": "date", "example": "2024-13-45"}, false},
		{"oneOf exclusive", map[string]any{"oneOf": []any{map[string]any{"type": "integer"}, map[string]any{"type": "number"}}, "example": 1}, false},
		{"$id and $schema left out", map[string]any{"$id": "https://elsewhere.example/s", "$schema": "http://json-schema.org/draft-04/schema#",
			"$ref": "#/components/schemas/Code", "example": "toolong"}, false},
		{"pattern with lookahead", map[string]any{"type": "string", "pattern": `^(?!0)\d+$`, "example": "012"}, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			for _, checks := range []*Checks{nil, shared} {
				got := Generate(c.schema, Options{Resolve: resolverFor(doc), Checks: checks})
				if fits := jsonEqual(got, c.schema["example"]); fits != c.fits {
					t.Errorf("shared checks %v: got %s; example answered: %v, want %v", checks != nil, mustJSON(got), fits, c.fits)
				}
			}
		})
	}
}

// TestValidFormat checks the format check of strings made from a pattern:
// formats the library knows are asserted, others accept every string.
func TestValidFormat(t *testing.T) {
	for _, c := range []struct {
		format, s string
		want      bool
	}{
		{"date", "2024-02-29", true},
		{"date", "2023-02-29", false},
		{"uuid", "0b7e0bd4-5d8a-4b5c-9a41-3c1b2f7e9d10", true},
		{"uuid", "not-a-uuid", false},
		{"email", "a@b.example", true},
		{"email", "ab.example", false},
		{"unknown-format", "anything", true},
	} {
		t.Run(c.format+" "+c.s, func(t *testing.T) {
			if got := validFormat(c.format, c.s); got != c.want {
				t.Errorf("validFormat(%q, %q) = %v, want %v", c.format, c.s, got, c.want)
			}
		})
	}
}
