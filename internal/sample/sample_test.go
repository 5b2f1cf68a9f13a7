package sample

import (
	"encoding/json"
	"os"
	"slices"
	"strings"
	"testing"
)

type schemaCase struct {
	Name          string         `json:"name"`
	OAS           string         `json:"oas"`
	Schema        any            `json:"schema"`
	Components    map[string]any `json:"components"`
	Defs          map[string]any `json:"defs"`
	Request       bool           `json:"request"`
	Examples      bool           `json:"examples"`
	MaxDepth      int            `json:"maxDepth"`
	Absent        []string       `json:"absent"`
	Present       []string       `json:"present"`
	SameAsExample bool           `json:"sameAsExample"`
	Discriminator bool           `json:"discriminator"`
	// ValidateAs replaces the schema for validation (an unresolvable $ref
	// stands for {}).
	ValidateAs any `json:"validateAs"`
	// NoValidation gives the reason a case cannot be checked with
	// jsonschema (it rejects schemas whose $refs loop without consuming
	// data); such cases still check determinism and termination.
	NoValidation string `json:"noValidation"`
}

func loadCases(t *testing.T) []schemaCase {
	t.Helper()
	data, err := os.ReadFile("testdata/schemas.yaml")
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := parseYAML(t, data).([]any)
	var cases []schemaCase
	for _, r := range raw {
		m, _ := r.(map[string]any)
		b, _ := json.Marshal(m)
		var c schemaCase
		// Decode the case fields through JSON; the schema itself is kept
		// as parsed.
		if err := json.Unmarshal(b, &c); err != nil {
			t.Fatal(err)
		}
		c.Schema = m["schema"]
		c.ValidateAs = m["validateAs"]
		cases = append(cases, c)
	}
	return cases
}

// caseDocument places the case's schema in a document next to its
// components and $defs, so local $refs resolve the same way for the
// generator and the validator.
func caseDocument(c schemaCase) map[string]any {
	doc := map[string]any{"x-case": c.Schema}
	if c.Components != nil {
		doc["components"] = map[string]any{"schemas": c.Components}
	}
	if c.Defs != nil {
		doc["$defs"] = c.Defs
	}
	return doc
}

func TestGenerate(t *testing.T) {
	for _, c := range loadCases(t) {
		t.Run(c.Name, func(t *testing.T) {
			doc := caseDocument(c)
			opts := Options{
				Resolve:        resolverFor(doc),
				IgnoreExamples: !c.Examples,
				Request:        c.Request,
				MaxDepth:       c.MaxDepth,
			}
			v := Generate(doc["x-case"], opts)
			again := Generate(doc["x-case"], opts)
			if a, b := mustJSON(v), mustJSON(again); a != b {
				t.Errorf("not deterministic:\n%s\n%s", a, b)
			}

			t.Logf("%s", mustJSON(v))
			if c.Discriminator {
				checkDiscriminator(t, c.Schema, v)
			}
			if c.NoValidation != "" {
				t.Skipf("not validated: %s", c.NoValidation)
			}
			oas31 := c.OAS == "3.1"
			vdoc := deepCopy(doc)
			if c.ValidateAs != nil {
				vdoc.(map[string]any)["x-case"] = deepCopy(c.ValidateAs)
			}
			if !oas31 {
				rewrite30(vdoc, vdoc, "")
			}
			const base = "https://dynapi.invalid/case.json"
			comp := newCompiler(oas31)
			if err := comp.AddResource(base, vdoc); err != nil {
				t.Fatal(err)
			}
			sch, err := comp.Compile(base + "#/x-case")
			if err != nil {
				t.Fatalf("compile: %v", err)
			}
			if err := validateValue(sch, v); err != nil {
				t.Errorf("generated %s\n%v", mustJSON(v), err)
			}

			obj, _ := v.(map[string]any)
			for _, p := range c.Absent {
				if _, ok := obj[p]; ok {
					t.Errorf("property %q should be absent: %s", p, mustJSON(v))
				}
			}
			for _, p := range c.Present {
				if _, ok := obj[p]; !ok {
					t.Errorf("property %q should be present: %s", p, mustJSON(v))
				}
			}
			if c.SameAsExample {
				want := schemaExample(c.Schema)
				if !jsonEqual(v, want) {
					t.Errorf("got %s, want the schema's example %s", mustJSON(v), mustJSON(want))
				}
			}
		})
	}
}

func schemaExample(s any) any {
	m, _ := s.(map[string]any)
	if v, ok := m["example"]; ok {
		return v
	}
	if ex, ok := m["examples"].([]any); ok && len(ex) > 0 {
		return ex[0]
	}
	return m["default"]
}

// checkDiscriminator checks that the discriminator property names one of
// the oneOf branches: a mapping key or a branch's schema name.
func checkDiscriminator(t *testing.T, schema, v any) {
	t.Helper()
	m, _ := schema.(map[string]any)
	disc, _ := m["discriminator"].(map[string]any)
	prop, _ := disc["propertyName"].(string)
	var names []string
	mapping, _ := disc["mapping"].(map[string]any)
	for k := range mapping {
		names = append(names, k)
	}
	branches, _ := m["oneOf"].([]any)
	for _, b := range branches {
		bm, _ := b.(map[string]any)
		if ref, ok := bm["$ref"].(string); ok {
			names = append(names, ref[strings.LastIndexByte(ref, '/')+1:])
		}
	}
	obj, _ := v.(map[string]any)
	got, _ := obj[prop].(string)
	if !slices.Contains(names, got) {
		t.Errorf("discriminator %s = %q, want one of %v", prop, got, names)
	}
}

// TestGenerateWithoutResolver checks that a missing resolver is treated
// like unresolvable references.
func TestGenerateWithoutResolver(t *testing.T) {
	s := map[string]any{
		"type":     "object",
		"required": []any{"a"},
		"properties": map[string]any{
			"a": map[string]any{"$ref": "#/components/schemas/A"},
		},
	}
	v := Generate(s, Options{})
	obj, ok := v.(map[string]any)
	if !ok {
		t.Fatalf("got %T", v)
	}
	if _, ok := obj["a"]; !ok {
		t.Errorf("required property missing: %v", v)
	}
}

// TestGenerateNumberTypes checks the Go types of generated numbers and that
// schema numbers may arrive as float64, int or json.Number.
func TestGenerateNumberTypes(t *testing.T) {
	for _, min := range []any{float64(2), 2, json.Number("2"), int64(2), uint8(2)} {
		v := Generate(map[string]any{"type": "integer", "minimum": min, "multipleOf": json.Number("3")}, Options{})
		if _, ok := v.(int64); !ok {
			t.Errorf("integer generated as %T (%v)", v, v)
		}
		if r, _ := toRat(v); r == nil || r.Cmp(ratInt(3)) != 0 {
			t.Errorf("minimum %T: got %v", min, v)
		}
	}
	v := Generate(map[string]any{"type": "number", "minimum": 0.015, "multipleOf": 0.01}, Options{})
	switch v.(type) {
	case float64, json.Number:
	default:
		t.Errorf("number generated as %T", v)
	}
}

// TestGenerateDoesNotAlias checks that returned examples are copies.
func TestGenerateDoesNotAlias(t *testing.T) {
	example := map[string]any{"a": []any{"x"}}
	s := map[string]any{"type": "object", "example": example}
	v := Generate(s, Options{}).(map[string]any)
	v["a"].([]any)[0] = "changed"
	if example["a"].([]any)[0] != "x" {
		t.Error("Generate returned the schema's own example map")
	}
}
