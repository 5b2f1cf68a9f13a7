package admin_test

import (
	"fmt"
	"net/http"
	"slices"
	"sync"
	"testing"

	"github.com/dynapi/dynapi/internal/enginetest"
)

// heldRoles lists the roles userID holds, as "role@bank".
func heldRoles(t testing.TB, inst *enginetest.Engine, userID string) []string {
	t.Helper()
	r := inst.Admin().Get(t, "/admin/v1/users/"+userID+"/entitlements")
	if r.Status != http.StatusOK {
		t.Fatalf("entitlements of %s: %d %s", userID, r.Status, r.Body)
	}
	var held []string
	for _, e := range r.JSON(t)["list"].([]any) {
		e := e.(map[string]any)
		held = append(held, e["role_name"].(string)+"@"+e["bank_id"].(string))
	}
	return held
}

// roleExists tells whether /admin/v1/roles lists name.
func roleExists(t testing.TB, inst *enginetest.Engine, name string) bool {
	t.Helper()
	for _, r := range inst.Admin().Get(t, "/admin/v1/roles").JSON(t)["roles"].([]any) {
		if r.(map[string]any)["role_name"] == name {
			return true
		}
	}
	return false
}

// auditEntries returns the audit log entries with action.
func auditEntries(t testing.TB, inst *enginetest.Engine, action string) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, e := range inst.Admin().Get(t, "/admin/v1/audit-log?limit=1000").JSON(t)["entries"].([]any) {
		if e := e.(map[string]any); e["action"] == action {
			out = append(out, e)
		}
	}
	return out
}

// TestReplaceDocument replaces a document in place over HTTP, at system
// and at bank level: operations that stay keep their roles and every
// entitlement to them, removed operations lose theirs, new operations'
// roles are granted to the updater; same id; it holds after a restart.
func TestReplaceDocument(t *testing.T) {
	for _, level := range []struct{ name, bank, prefix, updateRole string }{
		{"system level", "", "/admin/v1/dynamic-endpoints", "CanUpdateDynamicEndpoint"},
		{"bank level", "bank-r", "/admin/v1/banks/bank-r/dynamic-endpoints", "CanUpdateBankLevelDynamicEndpoint"},
	} {
		t.Run(level.name, func(t *testing.T) {
			dir := t.TempDir()
			inst := enginetest.New(t, enginetest.InDir(dir))
			served := "/docs"
			if level.bank != "" {
				if r := inst.Admin().Send(t, enginetest.Request{Method: "POST", Path: "/admin/v1/banks", Header: enginetest.JSONHeader(),
					Body: enginetest.MustJSON(t, map[string]string{"bank_id": level.bank, "short_name": "R", "full_name": "Bank R"})}); r.Status != http.StatusCreated {
					t.Fatalf("create bank: %d %s", r.Status, r.Body)
				}
				served = "/banks/" + level.bank + "/docs"
				inst.Grant(t, inst.AdminID(t), level.bank, "CanCreateBankLevelDynamicEndpoint")
			}
			created := inst.Admin().MustCreate(t, level.prefix, enginetest.OperationsDocument("/docs", "keepOp", "dropOp"))
			id := created["dynamic_endpoint_id"].(string)
			before := enginetest.OperationRoles(t, created)

			aliceID, alice := userWith(t, inst, "alice")
			inst.Grant(t, aliceID, level.bank, before["keepOp"])
			inst.Grant(t, aliceID, level.bank, before["dropOp"])
			bobID, bob := userWith(t, inst, "bob")
			inst.Grant(t, bobID, level.bank, level.updateRole)

			r := inst.Token(bob).Send(t, enginetest.Request{Method: "PUT", Path: level.prefix + "/" + id, Header: enginetest.JSONHeader(),
				Body: enginetest.OperationsDocument("/docs", "keepOp", "newOp")})
			if r.Status != http.StatusOK {
				t.Fatalf("replace: %d %s", r.Status, r.Body)
			}
			after := enginetest.OperationRoles(t, r.JSON(t))
			if got := r.JSON(t)["dynamic_endpoint_id"]; got != id {
				t.Fatalf("the replacement has id %v, want %s", got, id)
			}
			if after["keepOp"] != before["keepOp"] || after["newOp"] == "" {
				t.Fatalf("roles before %v, after %v", before, after)
			}
			if n := len(auditEntries(t, inst, "dynamic_endpoint.replace")); n != 1 {
				t.Fatalf("%d replace entries in the audit log, want 1", n)
			}

			check := func(t *testing.T, inst *enginetest.Engine, alice, bob string) {
				for _, c := range []struct {
					who, path string
					want      int
				}{
					{alice, "/keepOp", http.StatusOK},
					{alice, "/dropOp", http.StatusNotFound},
					{alice, "/newOp", http.StatusForbidden},
					{bob, "/newOp", http.StatusOK},
				} {
					if r := inst.Token(c.who).Get(t, served+c.path); r.Status != c.want {
						t.Errorf("GET %s: %d, want %d: %s", c.path, r.Status, c.want, r.Body)
					}
				}
				held := heldRoles(t, inst, aliceID)
				if !slices.Contains(held, before["keepOp"]+"@"+level.bank) || slices.Contains(held, before["dropOp"]+"@"+level.bank) {
					t.Errorf("alice holds %v: the kept role must stay, the dropped one go", held)
				}
				if held := heldRoles(t, inst, bobID); !slices.Contains(held, after["newOp"]+"@"+level.bank) {
					t.Errorf("the updater holds %v, not the new operation's role %s", held, after["newOp"])
				}
				if roleExists(t, inst, before["dropOp"]) || !roleExists(t, inst, after["newOp"]) {
					t.Errorf("the dropped operation's role must go and the new one's exist")
				}
			}
			t.Run("served", func(t *testing.T) { check(t, inst, alice, bob) })
			inst.Close(t)
			t.Run("after a restart", func(t *testing.T) {
				inst := enginetest.New(t, enginetest.InDir(dir))
				check(t, inst, inst.Login(t, "alice", "Passw0rd-of-alice"), inst.Login(t, "bob", "Passw0rd-of-bob"))
			})
		})
	}
}

// TestReplaceDocumentRefused: a replacement that is refused changes
// nothing: the current version answers, its roles and entitlements stay,
// and nothing is audited.
func TestReplaceDocumentRefused(t *testing.T) {
	inst := enginetest.New(t)
	created := inst.Admin().MustCreate(t, "/admin/v1/dynamic-endpoints", enginetest.OperationsDocument("/docs", "keepOp", "dropOp"))
	id := created["dynamic_endpoint_id"].(string)
	roles := enginetest.OperationRoles(t, created)
	other := inst.Admin().MustCreate(t, "/admin/v1/dynamic-endpoints", enginetest.OperationsDocument("/other", "otherOp"))
	otherID := other["dynamic_endpoint_id"].(string)
	if r := inst.Admin().Send(t, enginetest.Request{Method: "POST", Path: "/admin/v1/banks", Header: enginetest.JSONHeader(),
		Body: enginetest.MustJSON(t, map[string]string{"bank_id": "bank-x", "short_name": "X", "full_name": "Bank X"})}); r.Status != http.StatusCreated {
		t.Fatalf("create bank: %d %s", r.Status, r.Body)
	}
	inst.Grant(t, inst.AdminID(t), "bank-x", "CanUpdateBankLevelDynamicEndpoint")
	aliceID, alice := userWith(t, inst, "alice")
	inst.Grant(t, aliceID, "", roles["dropOp"])

	for _, c := range []struct {
		name, path string
		body       []byte
		status     int
		code       string
	}{
		{"unknown id", "/admin/v1/dynamic-endpoints/no-such-id", enginetest.OperationsDocument("/docs", "keepOp"), 404, "not_found"},
		{"a system document through its bank path", "/admin/v1/banks/bank-x/dynamic-endpoints/" + id,
			enginetest.OperationsDocument("/docs", "keepOp"), 404, "not_found"},
		{"not a document", "/admin/v1/dynamic-endpoints/" + id, []byte(`{"openapi":`), 400, "invalid_document"},
		{"empty body", "/admin/v1/dynamic-endpoints/" + id, nil, 400, "invalid_document"},
		{"routes of another document", "/admin/v1/dynamic-endpoints/" + id + "?mount=/other", enginetest.OperationsDocument("/docs", "otherOp"), 409, "route_conflict"},
		{"a reserved path", "/admin/v1/dynamic-endpoints/" + id + "?mount=/admin", enginetest.OperationsDocument("/docs", "keepOp"), 409, "route_conflict"},
		{"a role that does not exist", "/admin/v1/dynamic-endpoints/" + id,
			[]byte(`{"openapi":"3.0.3","info":{"title":"t","version":"1"},"paths":{"/docs/x":{"get":{"operationId":"x",
			  "x-dynapi-roles":["NoSuchRole"],"responses":{"200":{"description":"ok"}}}}}}`), 400, "invalid_document"},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := inst.Admin().Send(t, enginetest.Request{Method: "PUT", Path: c.path, Body: c.body})
			if r.Status != c.status || r.Problem(t).Code != c.code {
				t.Fatalf("%d %s, want %d %s", r.Status, r.Body, c.status, c.code)
			}
			if r := inst.Token(alice).Get(t, "/docs/dropOp"); r.Status != http.StatusOK {
				t.Fatalf("the current version no longer answers: %d %s", r.Status, r.Body)
			}
			if !roleExists(t, inst, roles["dropOp"]) || !slices.Contains(heldRoles(t, inst, aliceID), roles["dropOp"]+"@") {
				t.Fatal("a refused replacement took a role or an entitlement away")
			}
			if n := len(auditEntries(t, inst, "dynamic_endpoint.replace")); n != 0 {
				t.Fatalf("a refused replacement was audited %d times", n)
			}
		})
	}
	if _, err := inst.Endpoints.Get("", otherID); err != nil {
		t.Fatalf("the other document: %v", err)
	}
}

// TestDocumentChangesAreAudited: creating, re-hosting and deleting a
// document each leave one audit entry, written with the change, and a
// deletion takes the document's roles and every entitlement to them.
func TestDocumentChangesAreAudited(t *testing.T) {
	inst := enginetest.New(t)
	created := inst.Admin().MustCreate(t, "/admin/v1/dynamic-endpoints", enginetest.OperationsDocument("/docs", "oneOp"))
	id := created["dynamic_endpoint_id"].(string)
	role := enginetest.OperationRoles(t, created)["oneOp"]
	aliceID, _ := userWith(t, inst, "alice")
	inst.Grant(t, aliceID, "", role)
	if r := inst.Admin().Send(t, enginetest.Request{Method: "PUT", Path: "/admin/v1/dynamic-endpoints/" + id + "/host", Header: enginetest.JSONHeader(),
		Body: []byte(`{"host":"obp_mock"}`)}); r.Status != http.StatusOK {
		t.Fatalf("set host: %d %s", r.Status, r.Body)
	}
	if r := inst.Admin().Delete(t, "/admin/v1/dynamic-endpoints/"+id); r.Status != http.StatusNoContent {
		t.Fatalf("delete: %d %s", r.Status, r.Body)
	}
	for _, action := range []string{"dynamic_endpoint.create", "dynamic_endpoint.set_host", "dynamic_endpoint.delete"} {
		entries := auditEntries(t, inst, action)
		if len(entries) != 1 || entries[0]["target"] != id {
			t.Errorf("%s: %v", action, entries)
		}
	}
	if roleExists(t, inst, role) || slices.Contains(heldRoles(t, inst, aliceID), role+"@") {
		t.Fatal("the deleted document's role or an entitlement to it is left")
	}
}

// TestEntityChangesCommitWithRolesAndAudit: creating, updating and
// deleting an entity definition each leave one audit entry; creation
// makes its four roles and grants them to the creator; deletion removes
// them with every entitlement to them; a refused definition changes
// nothing.
func TestEntityChangesCommitWithRolesAndAudit(t *testing.T) {
	inst := enginetest.New(t)
	const def = `{"Gadget": {"required": ["name"], "properties": {"name": {"type": "string", "example": "g"}}}}`
	id := inst.CreateEntity(t, "/admin/v1/dynamic-entities", def)
	me := inst.AdminID(t)
	roles := []string{"CanCreateDynamicEntity_SystemGadget", "CanGetDynamicEntity_SystemGadget",
		"CanUpdateDynamicEntity_SystemGadget", "CanDeleteDynamicEntity_SystemGadget"}
	for _, role := range roles {
		if !roleExists(t, inst, role) || !slices.Contains(heldRoles(t, inst, me), role+"@") {
			t.Fatalf("role %s missing or not granted to the creator", role)
		}
	}
	aliceID, _ := userWith(t, inst, "alice")
	inst.Grant(t, aliceID, "", roles[1])

	if r := inst.Admin().Send(t, enginetest.Request{Method: "POST", Path: "/admin/v1/dynamic-entities", Header: enginetest.JSONHeader(), Body: []byte(def)}); r.Status != http.StatusConflict {
		t.Fatalf("a second Gadget: %d %s", r.Status, r.Body)
	}
	const wider = `{"Gadget": {"required": ["name"], "properties": {"name": {"type": "string", "example": "g"},
	  "colour": {"type": "string", "example": "red"}}}}`
	if r := inst.Admin().Send(t, enginetest.Request{Method: "PUT", Path: "/admin/v1/dynamic-entities/" + id, Header: enginetest.JSONHeader(), Body: []byte(wider)}); r.Status != http.StatusOK {
		t.Fatalf("update: %d %s", r.Status, r.Body)
	}
	if r := inst.Admin().Delete(t, "/admin/v1/dynamic-entities/"+id); r.Status != http.StatusNoContent {
		t.Fatalf("delete: %d %s", r.Status, r.Body)
	}
	for _, action := range []string{"dynamic_entity.create", "dynamic_entity.update", "dynamic_entity.delete"} {
		if entries := auditEntries(t, inst, action); len(entries) != 1 || entries[0]["target"] != id {
			t.Errorf("%s: %v", action, entries)
		}
	}
	for _, role := range roles {
		if roleExists(t, inst, role) {
			t.Errorf("role %s outlives its entity", role)
		}
	}
	if held := heldRoles(t, inst, aliceID); len(held) != 0 {
		t.Errorf("alice still holds %v", held)
	}
}

// TestRecordWritesCheckReferencesOnEveryPath: a record whose reference to
// a user points to nothing is refused alike by the record API and by a
// document answered by the dynamic_entity host, and one whose reference
// resolves is stored by both: they write through the same checks.
func TestRecordWritesCheckReferencesOnEveryPath(t *testing.T) {
	inst := enginetest.New(t)
	inst.CreateEntity(t, "/admin/v1/dynamic-entities", `{"Thing": {"required": ["name", "owner"], "properties": {
	  "name": {"type": "string", "example": "lamp"}, "owner": {"type": "reference:User", "example": "u-1"}}}}`)
	inst.Admin().MustCreate(t, "/admin/v1/dynamic-endpoints", enginetest.ReadFile(t, "testdata/owned-entity.yaml"))
	mapping := `{"operation_id": "createThing", "request_mapping": {"name": {"entity": "Thing", "field": "name"},
	  "owner": {"entity": "Thing", "field": "owner"}}, "response_mapping": {"name": {"entity": "Thing", "field": "name"},
	  "owner": {"entity": "Thing", "field": "owner"}}}`
	if r := inst.Admin().Send(t, enginetest.Request{Method: "POST", Path: "/admin/v1/endpoint-mappings", Header: enginetest.JSONHeader(), Body: []byte(mapping)}); r.Status != http.StatusCreated {
		t.Fatalf("mapping: %d %s", r.Status, r.Body)
	}
	me := inst.AdminID(t)
	for _, path := range []string{"/entities/Thing", "/owned/things"} {
		for _, c := range []struct {
			owner  string
			status int
		}{{"no-such-user", http.StatusBadRequest}, {me, http.StatusCreated}} {
			t.Run(path+" owner "+c.owner, func(t *testing.T) {
				r := inst.Admin().Send(t, enginetest.Request{Method: "POST", Path: path, Header: enginetest.JSONHeader(),
					Body: enginetest.MustJSON(t, map[string]string{"name": "lamp", "owner": c.owner})})
				if r.Status != c.status {
					t.Fatalf("%d %s, want %d", r.Status, r.Body, c.status)
				}
				if c.status == http.StatusBadRequest && !enginetest.HasViolation(r.Problem(t), "body", "/owner", "reference") {
					t.Fatalf("no violation at /owner: %s", r.Body)
				}
			})
		}
	}
}

// TestConnectorChangesAreAudited: every change to connector methods,
// method routings and endpoint mappings leaves exactly one audit entry
// naming what changed, and a refused change leaves none.
func TestConnectorChangesAreAudited(t *testing.T) {
	inst := enginetest.New(t)
	script := inst.CreateScript(t, "getBanks", `return [];`, 0)
	if r := inst.Admin().Send(t, enginetest.Request{Method: "PUT", Path: "/admin/v1/connector-methods/" + script, Header: enginetest.JSONHeader(),
		Body: enginetest.MustJSON(t, map[string]any{"method_body": "return [];", "programming_lang": "js"})}); r.Status != http.StatusOK {
		t.Fatalf("update script: %d %s", r.Status, r.Body)
	}
	routing := inst.CreateRouting(t, map[string]any{"method_name": "getBanks", "connector_name": "internal", "is_bank_id_exact_match": false})
	if r := inst.Admin().Send(t, enginetest.Request{Method: "PUT", Path: "/admin/v1/method-routings/" + routing, Header: enginetest.JSONHeader(),
		Body: enginetest.MustJSON(t, map[string]any{"method_name": "getBanks", "connector_name": "mapped"})}); r.Status != http.StatusOK {
		t.Fatalf("update routing: %d %s", r.Status, r.Body)
	}
	r := inst.Admin().Send(t, enginetest.Request{Method: "POST", Path: "/admin/v1/endpoint-mappings", Header: enginetest.JSONHeader(),
		Body: []byte(`{"operation_id": "someOp", "request_mapping": {}, "response_mapping": {}}`)})
	if r.Status != http.StatusCreated {
		t.Fatalf("create mapping: %d %s", r.Status, r.Body)
	}
	mapping := r.JSON(t)["endpoint_mapping_id"].(string)

	// Refused: a second script for the method, a second mapping for the
	// operation, an unknown routing.
	for _, req := range []enginetest.Request{
		{Method: "POST", Path: "/admin/v1/connector-methods", Header: enginetest.JSONHeader(),
			Body: enginetest.MustJSON(t, map[string]any{"method_name": "getBanks", "method_body": "return [];", "programming_lang": "js"})},
		{Method: "POST", Path: "/admin/v1/endpoint-mappings", Header: enginetest.JSONHeader(),
			Body: []byte(`{"operation_id": "someOp", "request_mapping": {}, "response_mapping": {}}`)},
		{Method: "DELETE", Path: "/admin/v1/method-routings/no-such-routing"},
	} {
		if r := inst.Admin().Send(t, req); r.Status < 400 {
			t.Fatalf("%s %s: %d, want a refusal", req.Method, req.Path, r.Status)
		}
	}

	for _, req := range []string{"/admin/v1/method-routings/" + routing, "/admin/v1/connector-methods/" + script, "/admin/v1/endpoint-mappings/" + mapping} {
		if r := inst.Admin().Delete(t, req); r.Status != http.StatusNoContent {
			t.Fatalf("DELETE %s: %d %s", req, r.Status, r.Body)
		}
	}
	for _, c := range []struct{ action, target string }{
		{"connector_method.create", script}, {"connector_method.update", script}, {"connector_method.delete", script},
		{"method_routing.create", routing}, {"method_routing.update", routing}, {"method_routing.delete", routing},
		{"endpoint_mapping.create", mapping}, {"endpoint_mapping.delete", mapping},
	} {
		if entries := auditEntries(t, inst, c.action); len(entries) != 1 || entries[0]["target"] != c.target {
			t.Errorf("%s: %v, want one entry for %s", c.action, entries, c.target)
		}
	}
}

// TestReplaceDocumentUnderLoad replaces a document again and again while
// a user who holds the role of an operation every version keeps calls it:
// every call answers 200, never a 404 or 403 from a moment between two
// versions, and the operations that come and go answer 200 or 404.
func TestReplaceDocumentUnderLoad(t *testing.T) {
	inst := enginetest.New(t)
	created := inst.Admin().MustCreate(t, "/admin/v1/dynamic-endpoints", enginetest.OperationsDocument("/load", "stayOp", "v0Op"))
	id := created["dynamic_endpoint_id"].(string)
	aliceID, alice := userWith(t, inst, "alice")
	inst.Grant(t, aliceID, "", enginetest.OperationRoles(t, created)["stayOp"])

	done := make(chan struct{})
	var failures []string
	var mu sync.Mutex
	var readers sync.WaitGroup
	for range 3 {
		readers.Go(func() {
			for {
				select {
				case <-done:
					return
				default:
				}
				stay := inst.Token(alice).Get(t, "/load/stayOp")
				other := inst.Admin().Get(t, "/load/v1Op")
				if stay.Status != http.StatusOK || other.Status != http.StatusOK && other.Status != http.StatusNotFound {
					mu.Lock()
					failures = append(failures, fmt.Sprintf("stayOp %d, v1Op %d: %s", stay.Status, other.Status, stay.Body))
					mu.Unlock()
				}
			}
		})
	}
	for i := range 20 {
		r := inst.Admin().Send(t, enginetest.Request{Method: "PUT", Path: "/admin/v1/dynamic-endpoints/" + id,
			Body: enginetest.OperationsDocument("/load", "stayOp", fmt.Sprintf("v%dOp", i%2))})
		if r.Status != http.StatusOK {
			t.Errorf("replace %d: %d %s", i, r.Status, r.Body)
		}
	}
	close(done)
	readers.Wait()
	if len(failures) > 0 {
		t.Fatalf("%d failed calls, first: %s", len(failures), failures[0])
	}
}
