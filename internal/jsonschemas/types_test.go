package jsonschemas_test

import (
	"encoding/json"
	"testing"
)

// TestFitsByKind: a schema that asks only for a kind of value is checked
// from the text's first byte; any other assertion, and "integer", which
// the first byte cannot tell, need the full validation. Whenever
// FitsByKind says a text fits, validation agrees.
func TestFitsByKind(t *testing.T) {
	texts := []string{`{"a":1}`, ` [1,2]`, `"s"`, `true`, `null`, `1.5`, `-2`, "\n{}"}
	for _, tc := range []struct {
		name   string
		schema string
		fits   []string // the texts FitsByKind accepts
	}{
		{"object", `{"type": "object"}`, []string{`{"a":1}`, "\n{}"}},
		{"object with annotations", `{"type": "object", "title": "T", "description": "d", "example": {"a": 1}, "examples": [{}], "readOnly": true}`, []string{`{"a":1}`, "\n{}"}},
		{"object or null", `{"type": ["object", "null"]}`, []string{`{"a":1}`, `null`, "\n{}"}},
		{"number", `{"type": "number"}`, []string{`1.5`, `-2`}},
		{"integer", `{"type": "integer"}`, nil},
		{"empty", `{}`, texts},
		{"true", `true`, texts},
		{"false", `false`, nil},
		{"properties", `{"type": "object", "properties": {"a": {"type": "string"}}}`, nil},
		{"required", `{"type": "object", "required": ["a"]}`, nil},
		{"format", `{"type": "string", "format": "date"}`, nil},
		{"enum", `{"enum": ["s"]}`, nil},
		{"reference", `{"$defs": {"o": {"type": "object"}}, "$ref": "#/$defs/o"}`, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var doc any
			if err := json.Unmarshal([]byte(tc.schema), &doc); err != nil {
				t.Fatal(err)
			}
			s := compile(t, doc)
			want := map[string]bool{}
			for _, text := range tc.fits {
				want[text] = true
			}
			for _, text := range texts {
				got := s.FitsByKind([]byte(text))
				if got != want[text] {
					t.Errorf("FitsByKind(%q) = %v, want %v", text, got, want[text])
				}
				var v any
				if err := json.Unmarshal([]byte(text), &v); err != nil {
					t.Fatal(err)
				}
				if got && s.Validate(v) != nil {
					t.Errorf("FitsByKind(%q) but validation refuses it: %v", text, s.Validate(v))
				}
			}
		})
	}
}
