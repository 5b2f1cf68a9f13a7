package apidoc_test

import (
	"encoding/json"
	"net/http"
	"path/filepath"
	"testing"

	"github.com/dynapi/dynapi/internal/enginetest"
)

// TestOpenAPIGolden pins /openapi.json (rewrite with -args -update): the built-in banking core as its
// document is served, a system-level and a bank-level entity's record API
// and two dynamic documents' operations from the documents themselves: a
// bank-level one mounted at /shop whose components are renamed where they
// clash (its Account against the banking core's) and whose path-level
// parameters and a response referred to outside its components are
// merged. The dynamic endpoints' ids, made at random, are the one value
// replaced.
func TestOpenAPIGolden(t *testing.T) {
	inst := enginetest.New(t)
	inst.CreateBank(t, "gh.29.uk")
	inst.CreateEntity(t, "/admin/v1/dynamic-entities", accountEntityDef)
	inst.GrantAdmin(t, "gh.29.uk", "CanCreateBankLevelDynamicEntity")
	inst.CreateEntity(t, "/admin/v1/banks/gh.29.uk/dynamic-entities", `{"Payee": {"description": "A payee", "required": ["name"],
	  "properties": {"name": {"type": "string", "example": "Landlord"}}}, "hasPersonalEntity": true}`)
	inst.Admin().MustCreate(t, "/admin/v1/dynamic-endpoints", enginetest.ThingsDocument)
	inst.GrantAdmin(t, "gh.29.uk", "CanCreateBankLevelDynamicEndpoint")
	inst.Admin().MustCreate(t, "/admin/v1/banks/gh.29.uk/dynamic-endpoints", enginetest.ReadFile(t, filepath.Join("testdata", "apidoc-shop.yaml")))

	r := inst.Admin().Get(t, "/openapi.json")
	if r.Status != http.StatusOK {
		t.Fatalf("GET /openapi.json: %d %s", r.Status, r.Body)
	}
	var doc map[string]any
	if err := json.Unmarshal(r.Body, &doc); err != nil {
		t.Fatal(err)
	}
	for _, item := range doc["paths"].(map[string]any) {
		for _, op := range item.(map[string]any) {
			if o, ok := op.(map[string]any); ok && o["x-dynapi-dynamic-endpoint-id"] != nil {
				o["x-dynapi-dynamic-endpoint-id"] = "ID"
			}
		}
	}
	got, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	enginetest.Golden(t, filepath.Join("testdata", "openapi.golden.json"), append(got, '\n'))
}
