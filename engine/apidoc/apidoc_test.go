package apidoc

import (
	"encoding/json"
	"strings"
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

// TestApidocDocumentComponents checks how a document's components are
// merged: a name another document took gets the document's title, then a
// number; references into a component, nested or with an escaped name,
// follow the new name; other local references are inlined; security
// schemes are left out.
func TestApidocDocumentComponents(t *testing.T) {
	d := &doc{paths: map[string]any{}, components: map[string]map[string]any{"schemas": {}}, ids: map[string]bool{}}
	d.addBuiltin(nil, map[string]any{"Account": map[string]any{"type": "object"}, "Shop_Account": map[string]any{"type": "string"}})
	tree := map[string]any{
		"paths": map[string]any{"/x": map[string]any{"get": map[string]any{"responses": map[string]any{
			"200": map[string]any{"$ref": "#/paths/~1x/get/responses/default"},
			"default": map[string]any{"description": "d", "content": map[string]any{"application/json": map[string]any{
				"schema": map[string]any{"$ref": "#/components/schemas/Account"}}}}}}}},
		"components": map[string]any{
			"schemas": map[string]any{
				"Account": map[string]any{"properties": map[string]any{"a/b": map[string]any{"$ref": "#/components/schemas/a~1b"}}},
				"a/b":     map[string]any{"$ref": "#/components/schemas/Account/properties/a~1b"},
			},
			"securitySchemes": map[string]any{"key": map[string]any{"type": "apiKey"}},
		},
	}
	resolve := func(ref string) (any, bool) {
		if ref == "#/paths/~1x/get/responses/default" {
			return tree["paths"].(map[string]any)["/x"].(map[string]any)["get"].(map[string]any)["responses"].(map[string]any)["default"], true
		}
		return nil, false
	}
	item := tree["paths"].(map[string]any)["/x"].(map[string]any)
	d.addDocument(source{tree: tree, resolve: resolve, prefix: "Shop", tag: "Shop",
		ops: []served{{path: "/shop/x", method: "get", op: item["get"].(map[string]any), item: item, id: "getX"}}})
	out, err := json.Marshal(map[string]any{"paths": d.paths, "components": d.componentsOut()})
	if err != nil {
		t.Fatal(err)
	}
	var got struct {
		Paths      map[string]map[string]map[string]any `json:"paths"`
		Components map[string]map[string]any            `json:"components"`
	}
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatal(err)
	}
	schemas := got.Components["schemas"]
	for _, c := range []struct{ name, want string }{
		{"Account", `{"type":"object"}`},
		{"Shop_Account", `{"type":"string"}`},
		{"Shop_Account_2", `{"properties":{"a/b":{"$ref":"#/components/schemas/a~1b"}}}`},
		{"a/b", `{"$ref":"#/components/schemas/Shop_Account_2/properties/a~1b"}`},
	} {
		t.Run(c.name, func(t *testing.T) {
			if raw, _ := json.Marshal(schemas[c.name]); string(raw) != c.want {
				t.Errorf("components/schemas/%s = %s, want %s", c.name, raw, c.want)
			}
		})
	}
	if _, ok := got.Components["securitySchemes"]["key"]; ok {
		t.Error("the document's security scheme was copied")
	}
	resp, _ := json.Marshal(got.Paths["/shop/x"]["get"]["responses"])
	want := `{"200":{"content":{"application/json":{"schema":{"$ref":"#/components/schemas/Shop_Account_2"}}},"description":"d"},` +
		`"default":{"content":{"application/json":{"schema":{"$ref":"#/components/schemas/Shop_Account_2"}}},"description":"d"}}`
	if string(resp) != want {
		t.Errorf("responses = %s, want %s", resp, want)
	}
}

// TestCacheKeepsTheDescription: while the sources stay as they are, the
// description is built once and its bytes shared.
func TestCacheKeepsTheDescription(t *testing.T) {
	var c Cache
	builds := 0
	src := Sources{Builtin: []Describer{func() (map[string]any, map[string]any) {
		builds++
		return map[string]any{"/hello": map[string]any{}}, map[string]any{}
	}}, Version: "test"}
	first, err := c.JSON(src)
	if err != nil {
		t.Fatal(err)
	}
	second, err := c.JSON(src)
	if err != nil {
		t.Fatal(err)
	}
	if builds != 1 || &first[0] != &second[0] {
		t.Errorf("built %d times; shared bytes: %v", builds, &first[0] == &second[0])
	}
	if !strings.Contains(string(first), `"/hello"`) {
		t.Errorf("description %s lacks the built-in path", first)
	}
}
