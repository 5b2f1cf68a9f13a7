package dynapi_test

import (
	"net/http"
	"strconv"
	"strings"
	"testing"
)

// TestEndpointMappings serves a dynamic_entity document from entity records
// through OBP-style endpoint mappings.
func TestEndpointMappings(t *testing.T) {
	inst := open(t, "")
	createEntity(t, inst, "/admin/v1/dynamic-entities", `{"PetEntity": {"required": ["name", "pet_number"], "properties": {
	  "name": {"type": "string", "example": "Rex"}, "pet_number": {"type": "integer", "example": 1}}}, "hasPersonalEntity": false}`)
	created := mustCreate(t, inst, "/admin/v1/dynamic-endpoints", readFile(t, "testdata/pets-entity.yaml"))
	if created["host"] != "dynamic_entity" {
		t.Fatalf("host %v", created["host"])
	}
	if r := do(t, inst, request{method: "GET", path: "/entity-pets/pets/1"}); r.status != http.StatusNotImplemented {
		t.Fatalf("an operation without a mapping: %d %s", r.status, r.body)
	}
	response := `{"id": {"entity": "PetEntity", "field": "pet_number", "query": "pet_number"}, "name": {"entity": "PetEntity", "field": "name"}}`
	reqMapping := `{"id": {"entity": "PetEntity", "field": "pet_number"}, "name": {"entity": "PetEntity", "field": "name"}}`
	for _, op := range []string{"listPets", "createPet", "showPet", "updatePet", "deletePet"} {
		body := `{"operation_id": "` + op + `", "request_mapping": ` + reqMapping + `, "response_mapping": ` + response + `}`
		if r := do(t, inst, request{method: "POST", path: "/admin/v1/endpoint-mappings", headers: jsonHeaders(), body: []byte(body)}); r.status != 201 {
			t.Fatalf("mapping %s: %d %s", op, r.status, r.body)
		}
	}
	// OBP sends the mappings as JSON strings; a second mapping for an
	// operation is a conflict.
	dup := `{"operation_id": "showPet", "request_mapping": "{}", "response_mapping": ` + strconv.Quote(response) + `}`
	if r := do(t, inst, request{method: "POST", path: "/admin/v1/endpoint-mappings", headers: jsonHeaders(), body: []byte(dup)}); r.status != 409 {
		t.Fatalf("duplicate mapping: %d %s", r.status, r.body)
	}

	steps := []struct {
		name, method, path, body string
		status                   int
		contains                 string
	}{
		{"create", "POST", "/entity-pets/pets", `{"id": 7, "name": "Rex"}`, 201, `"name":"Rex"`},
		{"create another", "POST", "/entity-pets/pets", `{"id": 8, "name": "Tom"}`, 201, `"id":8`},
		{"get one", "GET", "/entity-pets/pets/7", "", 200, `"name":"Rex"`},
		{"get missing", "GET", "/entity-pets/pets/9", "", 404, ""},
		{"list", "GET", "/entity-pets/pets", "", 200, `"name":"Tom"`},
		{"update", "PUT", "/entity-pets/pets/7", `{"name": "Max"}`, 200, `"name":"Max"`},
		{"read the update", "GET", "/entity-pets/pets/7", "", 200, `"name":"Max"`},
		{"delete", "DELETE", "/entity-pets/pets/7", "", 204, ""},
		{"deleted", "GET", "/entity-pets/pets/7", "", 404, ""},
		{"the record is gone from the entity", "GET", "/entities/PetEntity?pet_number=7", "", 200, `"pet_entity_list":[]`},
	}
	for _, s := range steps {
		t.Run(s.name, func(t *testing.T) {
			req := request{method: s.method, path: s.path}
			if s.body != "" {
				req.body, req.headers = []byte(s.body), jsonHeaders()
			}
			r := do(t, inst, req)
			if r.status != s.status || !strings.Contains(string(r.body), s.contains) {
				t.Fatalf("%d %s", r.status, r.body)
			}
		})
	}
}
