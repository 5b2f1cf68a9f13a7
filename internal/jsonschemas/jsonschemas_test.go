package jsonschemas_test

import (
	"testing"

	"github.com/dynapi/dynapi/internal/jsonschemas"
)

func TestViolations(t *testing.T) {
	c := jsonschemas.NewCompiler("self-contained")
	schema := map[string]any{
		"type":                 "object",
		"required":             []any{"a"},
		"additionalProperties": false,
		"properties": map[string]any{
			"a": map[string]any{"type": "string"},
			"p": map[string]any{"type": "string", "pattern": `^(?=x)x\d$`},
		},
	}
	if err := c.AddResource("https://dynapi.invalid/t.json", schema); err != nil {
		t.Fatal(err)
	}
	s, err := c.Compile("https://dynapi.invalid/t.json")
	if err != nil {
		t.Fatal(err)
	}
	got := jsonschemas.Violations(s.Validate(map[string]any{"p": "xy", "z/": 1.0}), "body", "", jsonschemas.Words{Property: "field"})
	want := [][3]string{
		{"/a", "required", `missing required field "a"`},
		{"/p", "pattern", `must match the pattern ^(?=x)x\d$`},
		{"/z~1", "additionalProperties", `"z/" is not a declared field`},
	}
	if len(got) != len(want) {
		t.Fatalf("got %v", got)
	}
	for i, w := range want {
		if g := [3]string{got[i].Pointer, got[i].Code, got[i].Message}; g != w {
			t.Errorf("violation %d: got %q, want %q", i, g, w)
		}
	}
}
