package apidoc

import (
	"encoding/json"
	"testing"
)

// TestApidocBuiltin checks that described built-in routes are merged as
// they are, with their operation ids reserved against later clashes.
func TestApidocBuiltin(t *testing.T) {
	describe := func() (paths, schemas map[string]any) {
		return map[string]any{
				"/things": map[string]any{"get": map[string]any{"operationId": "getThings", "responses": map[string]any{}}},
				"/things/{id}": map[string]any{
					"get":  map[string]any{"operationId": "getThing", "responses": map[string]any{}},
					"post": map[string]any{"responses": map[string]any{}},
				},
			}, map[string]any{
				"Thing": map[string]any{"type": "object"},
			}
	}
	other := func() (paths, schemas map[string]any) {
		return map[string]any{"/things/{id}": map[string]any{"put": map[string]any{"operationId": "putThing"}}},
			map[string]any{"Other": map[string]any{"type": "string"}}
	}
	out := Build(Sources{Builtin: []Describer{describe, other}, Version: "test"})
	raw, err := json.Marshal(out)
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		OpenAPI    string                               `json:"openapi"`
		Paths      map[string]map[string]map[string]any `json:"paths"`
		Components struct {
			Schemas map[string]any `json:"schemas"`
		} `json:"components"`
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	if doc.OpenAPI != "3.1.0" || doc.Paths["/things"]["get"]["operationId"] != "getThings" ||
		len(doc.Paths["/things/{id}"]) != 3 || doc.Components.Schemas["Thing"] == nil || doc.Components.Schemas["Other"] == nil {
		t.Fatalf("built-in routes not merged: %s", raw)
	}
}

// TestApidocOperationIDs checks that a clashing operation id gets a
// numbered suffix and that an empty one stays empty.
func TestApidocOperationIDs(t *testing.T) {
	d := &doc{paths: map[string]any{}, components: map[string]map[string]any{"schemas": {}}, ids: map[string]bool{}}
	d.addBuiltin(map[string]any{"/a": map[string]any{"get": map[string]any{"operationId": "getAccount"}}}, nil)
	for _, c := range []struct{ in, want string }{
		{"getAccount", "getAccount_2"}, {"getAccount", "getAccount_3"}, {"listAccount", "listAccount"},
		{"listAccount", "listAccount_2"}, {"", ""}, {"", ""},
	} {
		if got := d.operationID(c.in); got != c.want {
			t.Errorf("operationID(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}
