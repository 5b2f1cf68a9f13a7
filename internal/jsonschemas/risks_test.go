package jsonschemas_test

import (
	"strings"
	"testing"

	"github.com/dynapi/dynapi/internal/jsonschemas"
)

// TestPatternRisks finds each place where a backtracking pattern meets
// unbounded input, through references, once per finder.
func TestPatternRisks(t *testing.T) {
	bounded := map[string]any{"type": "string", "maxLength": 35, "pattern": catastrophic}
	s := compile(t, map[string]any{
		"$defs": map[string]any{"Ref": bounded},
		"type":  "object",
		"properties": map[string]any{
			"refs":        map[string]any{"type": "array", "items": map[string]any{"$ref": "#/$defs/Ref"}},
			"capped":      map[string]any{"type": "array", "maxItems": 10, "items": map[string]any{"$ref": "#/$defs/Ref"}},
			"nested":      map[string]any{"type": "array", "items": map[string]any{"type": "object", "properties": map[string]any{"r": map[string]any{"$ref": "#/$defs/Ref"}}}},
			"byName":      map[string]any{"type": "object", "additionalProperties": bounded},
			"long":        map[string]any{"type": "string", "pattern": catastrophic},
			"linear":      map[string]any{"type": "array", "items": map[string]any{"type": "string", "pattern": `^a+$`}},
			"cappedNames": map[string]any{"type": "object", "maxProperties": 5, "additionalProperties": bounded},
		},
	})
	var f jsonschemas.PatternRisks
	got := map[string]string{}
	for _, r := range f.Find(s) {
		_, at, _ := strings.Cut(r.Location, "#")
		got[at] = r.Code
	}
	want := map[string]string{
		"/properties/refs":   jsonschemas.CodeUnboundedArray,
		"/properties/nested": jsonschemas.CodeUnboundedArray,
		"/properties/byName": jsonschemas.CodeUnboundedObject,
		"/properties/long":   jsonschemas.CodeUnboundedString,
	}
	if len(got) != len(want) {
		t.Errorf("risks %v, want %v", got, want)
	}
	for at, code := range want {
		if got[at] != code {
			t.Errorf("at %s: %q, want %q (all: %v)", at, got[at], code, got)
		}
	}
	if again := f.Find(s); len(again) != 0 {
		t.Errorf("reported twice: %v", again)
	}
	if plain := compile(t, map[string]any{"type": "array", "items": map[string]any{"pattern": `^\d+$`}}); len(f.Find(plain)) != 0 {
		t.Error("a linear-time pattern is no risk")
	}
}

// TestPatternRisksAcrossSchemas: a schema explored for one operation
// still counts for the next one that reaches it.
func TestPatternRisksAcrossSchemas(t *testing.T) {
	c := jsonschemas.NewCompiler("self-contained")
	doc := map[string]any{
		"$defs": map[string]any{
			"Ref":  map[string]any{"type": "string", "maxLength": 35, "pattern": catastrophic},
			"Refs": map[string]any{"type": "array", "items": map[string]any{"$ref": "#/$defs/Ref"}},
		},
	}
	if err := c.AddResource("https://dynapi.invalid/d.json", doc); err != nil {
		t.Fatal(err)
	}
	var f jsonschemas.PatternRisks
	for _, step := range []struct {
		at   string
		want int
	}{{"#/$defs/Ref", 0}, {"#/$defs/Refs", 1}, {"#/$defs/Refs", 0}} {
		s, err := c.Compile("https://dynapi.invalid/d.json" + step.at)
		if err != nil {
			t.Fatal(err)
		}
		if got := f.Find(jsonschemas.NewSchema(s)); len(got) != step.want {
			t.Errorf("%s: %v, want %d risks", step.at, got, step.want)
		}
	}
}
