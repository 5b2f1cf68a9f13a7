package specs_test

import (
	"encoding/json"
	"testing"

	"github.com/dynapi/dynapi/specs"
)

func TestInline(t *testing.T) {
	const doc = `{"openapi": "3.0.3", "info": {"title": "t", "version": "1"}, "paths": {},
"components": {"schemas": {
  "Pet": {"type": "object", "properties": {"owner": {"$ref": "#/components/schemas/Owner"}}},
  "Owner": {"type": "object", "properties": {"name": {"type": "string"}}},
  "Node": {"type": "object", "properties": {"next": {"$ref": "#/components/schemas/Node"}}}}}}`
	d, err := specs.Load([]byte(doc), "application/json", specs.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ name, in, want string }{
		{"nested reference", `{"$ref": "#/components/schemas/Pet"}`,
			`{"properties":{"owner":{"properties":{"name":{"type":"string"}},"type":"object"}},"type":"object"}`},
		{"in an array", `{"items": [{"$ref": "#/components/schemas/Owner"}]}`,
			`{"items":[{"properties":{"name":{"type":"string"}},"type":"object"}]}`},
		{"missing target", `{"$ref": "#/components/schemas/Nope"}`, `{}`},
		{"no reference", `{"type": "integer"}`, `{"type":"integer"}`},
	} {
		t.Run(c.name, func(t *testing.T) {
			var in any
			if err := json.Unmarshal([]byte(c.in), &in); err != nil {
				t.Fatal(err)
			}
			got, _ := json.Marshal(d.Inline(in))
			if string(got) != c.want {
				t.Fatalf("Inline(%s) = %s, want %s", c.in, got, c.want)
			}
		})
	}
	t.Run("recursive schema ends", func(t *testing.T) {
		out, _ := json.Marshal(d.Inline(map[string]any{"$ref": "#/components/schemas/Node"}))
		if len(out) == 0 || len(out) > 4096 {
			t.Fatalf("recursive schema inlined to %d bytes", len(out))
		}
	})
}
