package admin_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/dynapi/dynapi/internal/enginetest"
	"github.com/dynapi/dynapi/internal/testpaths"
)

// bodiesFixture is what the body-policy table works on: a bank, a user, a
// consumer, a document, an entity, a script and a routing, each made
// through the API.
type bodiesFixture struct {
	userID, consumerID, endpointID, entityID, scriptID, routingID string
	userToken                                                     string
}

func newBodiesFixture(t *testing.T, inst *enginetest.Engine) bodiesFixture {
	t.Helper()
	var f bodiesFixture
	inst.CreateBank(t, "bodybank")
	f.userID = inst.CreateUser(t, "body-user", "Body-user-passw0rd").ID
	f.userToken = inst.Login(t, "body-user", "Body-user-passw0rd")
	f.consumerID = mustStatus(t, inst, "POST", "/admin/v1/consumers", `{"name": "body app"}`, http.StatusCreated)["consumer_id"].(string)
	f.entityID = inst.CreateEntity(t, "/admin/v1/dynamic-entities", `{"BodyPet": {"required": ["name"], "properties": {
	  "name": {"type": "string", "example": "Rex"}, "pet_number": {"type": "integer", "example": 1}}}, "hasPersonalEntity": false}`)
	f.endpointID = inst.Admin().MustCreate(t, "/admin/v1/dynamic-endpoints", enginetest.ReadFile(t, testpaths.Root("http", "recordapi", "testdata", "pets-entity.yaml")))["dynamic_endpoint_id"].(string)
	f.scriptID = mustStatus(t, inst, "POST", "/admin/v1/connector-methods",
		`{"method_name": "getAccounts", "programming_lang": "js", "method_body": "return {}"}`, http.StatusCreated)["connector_method_id"].(string)
	f.routingID = mustStatus(t, inst, "POST", "/admin/v1/method-routings",
		`{"method_name": "getBank", "connector_name": "mapped", "is_bank_id_exact_match": true, "bank_id_pattern": "bodybank", "parameters": []}`,
		http.StatusCreated)["method_routing_id"].(string)
	return f
}

// mustStatus sends body as the super admin and fails unless the answer has
// status; it returns the answer's JSON object.
func mustStatus(t testing.TB, inst *enginetest.Engine, method, path, body string, status int) map[string]any {
	t.Helper()
	r := inst.Admin().Send(t, enginetest.Request{Method: method, Path: path, Header: enginetest.JSONHeader(), Body: []byte(body)})
	if r.Status != status {
		t.Fatalf("%s %s: %d, want %d; %s", method, path, r.Status, status, r.Body)
	}
	return r.JSON(t)
}

// TestBodyPolicy sends every management route that reads a body, and the
// record API, a body with an unknown member and one with a duplicate key:
// each is a 400 validation_failed naming the member's pointer in the body,
// and nothing changes (the audit log and the user list stay as they were).
func TestBodyPolicy(t *testing.T) {
	inst := enginetest.New(t)
	f := newBodiesFixture(t, inst)
	cases := []struct {
		name, method, path string
		user               bool   // sent as the plain user rather than the super admin
		unknown, dup       string // a body with an unknown member at /bogus (or unknownAt), one with a duplicate key at dupAt
		unknownAt, dupAt   string
		unknownCode        string // the violation's code for the unknown member, if not unknown_member
		// The entity definition format answers in its own words: 400
		// invalid_definition, location definition, an unknown member
		// being an unknown "keyword".
		unknownInDefinition, dupInDefinition bool
	}{
		{name: "create user", method: "POST", path: "/admin/v1/users",
			unknown: `{"username": "u2", "email": "u2@example.com", "password": "U2-passw0rd-long", "bogus": 1}`,
			dup:     `{"username": "u2", "email": "u2@example.com", "password": "U2-passw0rd-long", "username": "u3"}`, dupAt: "/username"},
		{name: "create user: a name OBP does not document", method: "POST", path: "/admin/v1/users",
			unknown:   `{"username": "u2", "email": "u2@example.com", "password": "U2-passw0rd-long", "first_name": "A", "nickname": "B"}`,
			unknownAt: "/nickname"},
		{name: "reset password", method: "PUT", path: "/admin/v1/users/" + f.userID + "/password",
			unknown: `{"password": "New-passw0rd-long", "bogus": true}`,
			dup:     `{"password": "New-passw0rd-long", "password": "Other-passw0rd-long"}`, dupAt: "/password"},
		{name: "grant entitlement", method: "POST", path: "/admin/v1/users/" + f.userID + "/entitlements",
			unknown: `{"bank_id": "", "role_name": "CanGetAnyUser", "bogus": null}`,
			dup:     `{"bank_id": "", "role_name": "CanGetAnyUser", "bank_id": "bodybank"}`, dupAt: "/bank_id"},
		{name: "request entitlement", method: "POST", path: "/my/entitlement-requests", user: true,
			unknown: `{"bank_id": "", "role_name": "CanGetAnyUser", "bogus": "x"}`,
			dup:     `{"bank_id": "", "role_name": "CanGetAnyUser", "role_name": "CanCreateUser"}`, dupAt: "/role_name"},
		{name: "change own password", method: "PUT", path: "/my/password", user: true,
			unknown: `{"current_password": "Body-user-passw0rd", "new_password": "Body-user-passw0rd-2", "bogus": 1}`,
			dup:     `{"current_password": "Body-user-passw0rd", "new_password": "a", "new_password": "b"}`, dupAt: "/new_password"},
		{name: "create consumer", method: "POST", path: "/admin/v1/consumers",
			unknown: `{"name": "app 2", "bogus": 1}`, dup: `{"name": "app 2", "name": "app 3"}`, dupAt: "/name"},
		{name: "create own consumer", method: "POST", path: "/my/consumers", user: true,
			unknown: `{"name": "app 2", "bogus": 1}`, dup: `{"name": "app 2", "name": "app 3"}`, dupAt: "/name"},
		{name: "disable consumer", method: "PUT", path: "/admin/v1/consumers/" + f.consumerID,
			unknown: `{"enabled": false, "bogus": 1}`, dup: `{"enabled": true, "enabled": false}`, dupAt: "/enabled"},
		{name: "dynamic endpoint host", method: "PUT", path: "/admin/v1/dynamic-endpoints/" + f.endpointID + "/host",
			unknown: `{"host": "obp_mock", "bogus": 1}`, dup: `{"host": "obp_mock", "host": "dynamic_entity"}`, dupAt: "/host"},
		{name: "create entity", method: "POST", path: "/admin/v1/dynamic-entities",
			unknown:   `{"Other": {"properties": {"a": {"type": "string", "example": "x", "bogus": 1}}}, "hasPersonalEntity": false}`,
			unknownAt: "/Other/properties/a/bogus", unknownInDefinition: true,
			dup: `{"Other": {"properties": {"a": {"type": "string", "type": "integer"}}}}`, dupAt: "/Other/properties/a/type", dupInDefinition: true},
		{name: "update entity", method: "PUT", path: "/admin/v1/dynamic-entities/" + f.entityID,
			unknown: `{"definition": {"BodyPet": {"properties": {"name": {"type": "string", "example": "Rex"}}}}, "defaults": {}, "bogus": 1}`,
			dup:     `{"definition": {"BodyPet": {"properties": {"name": {"type": "string", "example": "Rex"}}}}, "defaults": {}, "defaults": {}}`, dupAt: "/defaults",
			dupInDefinition: true},
		{name: "create routing", method: "POST", path: "/admin/v1/method-routings",
			unknown:   `{"method_name": "getBank", "connector_name": "rest", "parameters": [{"key": "url", "value": "http://127.0.0.1:1", "bogus": 1}]}`,
			unknownAt: "/parameters/0/bogus",
			dup:       `{"method_name": "getBank", "connector_name": "rest", "connector_name": "mapped"}`, dupAt: "/connector_name"},
		{name: "update routing", method: "PUT", path: "/admin/v1/method-routings/" + f.routingID,
			unknown: `{"method_name": "getBank", "connector_name": "mapped", "bogus": 1}`,
			dup:     `{"method_name": "getBank", "method_name": "getBanks"}`, dupAt: "/method_name"},
		{name: "create script", method: "POST", path: "/admin/v1/connector-methods",
			unknown: `{"method_name": "getTransactions", "programming_lang": "js", "method_body": "return {}", "bogus": 1}`,
			dup:     `{"method_name": "getTransactions", "programming_lang": "js", "method_body": "return {}", "method_body": "return 1"}`, dupAt: "/method_body"},
		{name: "update script", method: "PUT", path: "/admin/v1/connector-methods/" + f.scriptID,
			unknown: `{"method_name": "getAccounts", "programming_lang": "js", "method_body": "return 2", "bogus": 1}`,
			dup:     `{"method_name": "getAccounts", "programming_lang": "js", "method_body": "return 2", "timeout_ms": 5, "timeout_ms": 6}`, dupAt: "/timeout_ms"},
		{name: "create mapping", method: "POST", path: "/admin/v1/endpoint-mappings",
			unknown: `{"operation_id": "showPet", "request_mapping": {}, "response_mapping": {}, "bogus": 1}`,
			dup:     `{"operation_id": "showPet", "operation_id": "listPets", "request_mapping": {}, "response_mapping": {}}`, dupAt: "/operation_id"},
		{name: "create bank", method: "POST", path: "/admin/v1/banks",
			unknown: `{"bank_id": "bodybank2", "short_name": "b2", "full_name": "Bank 2", "bogus": 1}`,
			dup:     `{"bank_id": "bodybank2", "bank_id": "bodybank3", "short_name": "b2", "full_name": "Bank 2"}`, dupAt: "/bank_id"},
		{name: "create record", method: "POST", path: "/entities/BodyPet",
			unknown: `{"name": "Rex", "bogus": 1}`, unknownCode: "additionalProperties",
			dup: `{"name": "Rex", "name": "Max"}`, dupAt: "/name"},
		{name: "replace record", method: "PUT", path: "/entities/BodyPet/1",
			dup: `{"pet_number": 1, "pet_number": 2}`, dupAt: "/pet_number"},
	}
	auditBefore := auditLength(t, inst)
	usersBefore := len(inst.Admin().Get(t, "/admin/v1/users").JSON(t)["users"].([]any))
	for _, c := range cases {
		for _, v := range []struct {
			kind, body, at, code string
			inDefinition         bool
		}{
			{"unknown member", c.unknown, or(c.unknownAt, "/bogus"), or(c.unknownCode, "unknown_member"), c.unknownInDefinition},
			{"duplicate key", c.dup, c.dupAt, "duplicate_key", c.dupInDefinition},
		} {
			if v.body == "" {
				continue
			}
			t.Run(c.name+"/"+v.kind, func(t *testing.T) {
				caller := inst.Admin()
				if c.user {
					caller = inst.Token(f.userToken)
				}
				r := caller.Send(t, enginetest.Request{Method: c.method, Path: c.path, Header: enginetest.JSONHeader(), Body: []byte(v.body)})
				if r.Status != http.StatusBadRequest {
					t.Fatalf("status %d, want 400; %s", r.Status, r.Body)
				}
				p := r.Problem(t)
				problem, location, code := "validation_failed", "body", v.code
				if v.inDefinition {
					problem, location = "invalid_definition", "definition"
					if v.kind == "unknown member" {
						code = "keyword"
					}
				}
				if p.Code != problem || !enginetest.HasViolation(p, location, v.at, code) {
					t.Fatalf("want %s naming %s %s (%s); got %s", problem, location, v.at, code, r.Body)
				}
			})
		}
	}
	if n := auditLength(t, inst); n != auditBefore {
		t.Errorf("the refused bodies changed something: audit log %d entries, was %d", n, auditBefore)
	}
	if n := len(inst.Admin().Get(t, "/admin/v1/users").JSON(t)["users"].([]any)); n != usersBefore {
		t.Errorf("users: %d, was %d", n, usersBefore)
	}
}

// TestBodyPolicyExceptions: the members the policy lets through. OBP's
// createUser documents first_name and last_name, which dynapi does not
// keep: they are accepted and ignored. An entity defined with
// ?allow_undeclared=true takes records with members it does not declare.
func TestBodyPolicyExceptions(t *testing.T) {
	inst := enginetest.New(t)
	r := inst.Admin().Send(t, enginetest.Request{Method: "POST", Path: "/admin/v1/users", Header: enginetest.JSONHeader(),
		Body: []byte(`{"username": "obp-user", "email": "obp@example.com", "password": "Obp-user-passw0rd", "first_name": "Ada", "last_name": "Lovelace"}`)})
	if r.Status != http.StatusCreated {
		t.Fatalf("OBP's createUser body: %d %s", r.Status, r.Body)
	}
	if u := r.JSON(t); u["username"] != "obp-user" || strings.Contains(string(r.Body), "Lovelace") {
		t.Fatalf("created %s", r.Body)
	}
	inst.CreateEntity(t, "/admin/v1/dynamic-entities?allow_undeclared=true",
		`{"LoosePet": {"properties": {"name": {"type": "string", "example": "Rex"}}}, "hasPersonalEntity": false}`)
	r = inst.Admin().Send(t, enginetest.Request{Method: "POST", Path: "/entities/LoosePet", Header: enginetest.JSONHeader(), Body: []byte(`{"name": "Rex", "colour": "brown"}`)})
	if r.Status != http.StatusCreated || !strings.Contains(string(r.Body), `"colour":"brown"`) {
		t.Fatalf("a record with an undeclared member: %d %s", r.Status, r.Body)
	}
}

// auditLength counts the audit log's entries.
func auditLength(t testing.TB, inst *enginetest.Engine) int {
	t.Helper()
	return len(inst.Admin().Get(t, "/admin/v1/audit-log?limit=1000").JSON(t)["entries"].([]any))
}

func or(s, def string) string {
	if s != "" {
		return s
	}
	return def
}
