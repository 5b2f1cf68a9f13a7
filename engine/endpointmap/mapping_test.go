package endpointmap_test

import (
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/dynapi/dynapi/internal/enginetest"
	"github.com/dynapi/dynapi/internal/testpaths"
)

// TestEndpointMappings serves a dynamic_entity document from entity records
// through OBP-style endpoint mappings.
func TestEndpointMappings(t *testing.T) {
	inst := enginetest.New(t)
	inst.CreateEntity(t, "/admin/v1/dynamic-entities", `{"PetEntity": {"required": ["name", "pet_number"], "properties": {
	  "name": {"type": "string", "example": "Rex"}, "pet_number": {"type": "integer", "example": 1}}}, "hasPersonalEntity": false}`)
	created := inst.Admin().MustCreate(t, "/admin/v1/dynamic-endpoints", enginetest.ReadFile(t, testpaths.Root("http", "recordapi", "testdata", "pets-entity.yaml")))
	if created["host"] != "dynamic_entity" {
		t.Fatalf("host %v", created["host"])
	}
	if r := inst.Admin().Get(t, "/entity-pets/pets/1"); r.Status != http.StatusNotImplemented {
		t.Fatalf("an operation without a mapping: %d %s", r.Status, r.Body)
	}
	response := `{"id": {"entity": "PetEntity", "field": "pet_number", "query": "pet_number"}, "name": {"entity": "PetEntity", "field": "name"}}`
	reqMapping := `{"id": {"entity": "PetEntity", "field": "pet_number"}, "name": {"entity": "PetEntity", "field": "name"}}`
	for _, op := range []string{"listPets", "createPet", "showPet", "updatePet", "deletePet"} {
		body := `{"operation_id": "` + op + `", "request_mapping": ` + reqMapping + `, "response_mapping": ` + response + `}`
		if r := inst.Admin().Send(t, enginetest.Request{Method: "POST", Path: "/admin/v1/endpoint-mappings", Header: enginetest.JSONHeader(), Body: []byte(body)}); r.Status != 201 {
			t.Fatalf("mapping %s: %d %s", op, r.Status, r.Body)
		}
	}
	// OBP sends the mappings as JSON strings; a second mapping for an
	// operation is a conflict.
	dup := `{"operation_id": "showPet", "request_mapping": "{}", "response_mapping": ` + strconv.Quote(response) + `}`
	if r := inst.Admin().Send(t, enginetest.Request{Method: "POST", Path: "/admin/v1/endpoint-mappings", Header: enginetest.JSONHeader(), Body: []byte(dup)}); r.Status != 409 {
		t.Fatalf("duplicate mapping: %d %s", r.Status, r.Body)
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
			req := enginetest.Request{Method: s.method, Path: s.path}
			if s.body != "" {
				req.Body, req.Header = []byte(s.body), enginetest.JSONHeader()
			}
			r := inst.Admin().Send(t, req)
			if r.Status != s.status || !strings.Contains(string(r.Body), s.contains) {
				t.Fatalf("%d %s", r.Status, r.Body)
			}
		})
	}
}
