package instance_test

import (
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dynapi/dynapi/engine/instance"
)

// createUser makes a user through the management API and returns its id.
func createUser(t testing.TB, inst *instance.Instance, username, password string) string {
	t.Helper()
	r := do(t, inst, request{method: "POST", path: "/admin/v1/users", headers: jsonHeaders(),
		body: mustJSON(t, map[string]string{"username": username, "password": password, "email": username + "@example.com"})})
	if r.status != http.StatusCreated {
		t.Fatalf("create user %s: %d %s", username, r.status, r.body)
	}
	return r.json(t)["user_id"].(string)
}

func jsonHeaders() map[string]string { return map[string]string{"Content-Type": "application/json"} }

// as returns headers carrying a DirectLogin token.
func as(token string) map[string]string {
	return map[string]string{"Authorization": directLogin(token), "Content-Type": "application/json"}
}

// grant gives a user a role through the management API.
func grant(t testing.TB, inst *instance.Instance, userID, bankID, role string) string {
	t.Helper()
	r := do(t, inst, request{method: "POST", path: "/admin/v1/users/" + userID + "/entitlements", headers: jsonHeaders(),
		body: mustJSON(t, map[string]string{"bank_id": bankID, "role_name": role})})
	if r.status != http.StatusCreated {
		t.Fatalf("grant %s at %q: %d %s", role, bankID, r.status, r.body)
	}
	return r.json(t)["entitlement_id"].(string)
}

func createBank(t testing.TB, inst *instance.Instance, id string) {
	t.Helper()
	r := do(t, inst, request{method: "POST", path: "/admin/v1/banks", headers: jsonHeaders(),
		body: mustJSON(t, map[string]string{"bank_id": id, "short_name": id, "full_name": "Bank " + id})})
	if r.status != http.StatusCreated {
		t.Fatalf("create bank %s: %d %s", id, r.status, r.body)
	}
}

// TestRolesAndEntitlements grants and revokes system and bank roles and
// checks every 401, 403 and 404 a guard gives.
func TestRolesAndEntitlements(t *testing.T) {
	inst := open(t, "")
	bobID := createUser(t, inst, "bob", "Bob-passw0rd-1")
	bob := login(t, inst, "bob", "Bob-passw0rd-1")
	createBank(t, inst, "gh.29.uk")
	createBank(t, inst, "other.bank")
	doc := readFile(t, filepath.Join(sharedSpecs, "obp-dynamic-endpoint/dynamicEndpointSwagger.json"))

	forbidden := func(t *testing.T, r response, role, bank string) {
		t.Helper()
		if r.status != http.StatusForbidden {
			t.Fatalf("status %d, want 403: %s", r.status, r.body)
		}
		p := r.problem(t)
		if p.Code != "forbidden" || !strings.Contains(strings.Join(p.MissingRoles, ","), role) || p.BankID != bank {
			t.Fatalf("403 must name %s at %q: %s", role, bank, r.body)
		}
	}

	t.Run("no credentials", func(t *testing.T) {
		r := do(t, inst, request{method: "GET", path: "/admin/v1/users", anonymous: true})
		if r.status != 401 || r.header.Get("WWW-Authenticate") == "" {
			t.Fatalf("%d %v", r.status, r.header)
		}
	})
	t.Run("system role missing, granted, revoked", func(t *testing.T) {
		forbidden(t, do(t, inst, request{method: "GET", path: "/admin/v1/users", headers: as(bob)}), "CanGetAnyUser", "")
		id := grant(t, inst, bobID, "", "CanGetAnyUser")
		if r := do(t, inst, request{method: "GET", path: "/admin/v1/users", headers: as(bob)}); r.status != 200 {
			t.Fatalf("after grant: %d %s", r.status, r.body)
		}
		if r := do(t, inst, request{method: "DELETE", path: "/admin/v1/users/" + bobID + "/entitlements/" + id}); r.status != 204 {
			t.Fatalf("revoke: %d %s", r.status, r.body)
		}
		forbidden(t, do(t, inst, request{method: "GET", path: "/admin/v1/users", headers: as(bob)}), "CanGetAnyUser", "")
	})
	t.Run("bank role at one bank only", func(t *testing.T) {
		path := "/admin/v1/banks/gh.29.uk/dynamic-endpoints"
		forbidden(t, do(t, inst, request{method: "POST", path: path, headers: as(bob), body: doc}), "CanCreateBankLevelDynamicEndpoint", "gh.29.uk")
		grant(t, inst, bobID, "gh.29.uk", "CanCreateBankLevelDynamicEndpoint")
		if r := do(t, inst, request{method: "POST", path: path, headers: as(bob), body: doc}); r.status != 201 {
			t.Fatalf("after grant: %d %s", r.status, r.body)
		}
		forbidden(t, do(t, inst, request{method: "POST", path: "/admin/v1/banks/other.bank/dynamic-endpoints", headers: as(bob), body: doc}),
			"CanCreateBankLevelDynamicEndpoint", "other.bank")
		if r := do(t, inst, request{method: "POST", path: "/admin/v1/banks/no.such.bank/dynamic-endpoints", headers: as(bob), body: doc}); r.status != 404 {
			t.Fatalf("unknown bank: %d %s", r.status, r.body)
		}
		// The creator got the bank-scoped dynamic roles and can call.
		if r := do(t, inst, request{method: "GET", path: "/banks/gh.29.uk/dynamic-endpoint/accounts/1", headers: as(bob)}); r.status != 200 {
			t.Fatalf("creator calls the bank-level operation: %d %s", r.status, r.body)
		}
	})
	t.Run("grant refusals", func(t *testing.T) {
		cases := []struct {
			name, bank, role string
			status           int
			code             string
		}{
			{"bank role without bank", "", "CanCreateBankLevelDynamicEndpoint", 400, "bank_id_required"},
			{"system role with bank", "gh.29.uk", "CanCreateUser", 400, "bank_id_not_allowed"},
			{"unknown role", "", "CanFlyToTheMoon", 400, "unknown_role"},
			{"unknown bank", "no.such.bank", "CanCreateBankLevelDynamicEndpoint", 404, "not_found"},
			{"duplicate", "gh.29.uk", "CanCreateBankLevelDynamicEndpoint", 409, "entitlement_exists"},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				r := do(t, inst, request{method: "POST", path: "/admin/v1/users/" + bobID + "/entitlements", headers: jsonHeaders(),
					body: mustJSON(t, map[string]string{"bank_id": tc.bank, "role_name": tc.role})})
				if r.status != tc.status || r.problem(t).Code != tc.code {
					t.Fatalf("got %d %s, want %d %s", r.status, r.body, tc.status, tc.code)
				}
			})
		}
	})
	t.Run("granting needs a granting role", func(t *testing.T) {
		r := do(t, inst, request{method: "POST", path: "/admin/v1/users/" + bobID + "/entitlements", headers: as(bob),
			body: mustJSON(t, map[string]string{"bank_id": "", "role_name": "CanCreateUser"})})
		forbidden(t, r, "CanCreateEntitlementAtAnyBank", "")
	})
	t.Run("my entitlements", func(t *testing.T) {
		r := do(t, inst, request{method: "GET", path: "/my/entitlements", headers: as(bob)})
		if r.status != 200 || !strings.Contains(string(r.body), "CanCreateBankLevelDynamicEndpoint") {
			t.Fatalf("%d %s", r.status, r.body)
		}
	})
	t.Run("roles list", func(t *testing.T) {
		r := do(t, inst, request{method: "GET", path: "/admin/v1/roles", headers: as(bob)})
		body := string(r.body)
		if r.status != 200 || !strings.Contains(body, `"role_name":"CanCreateUser","requires_bank_id":false`) ||
			!strings.Contains(body, `"role_name":"CanCreateEntitlementAtOneBank","requires_bank_id":true`) {
			t.Fatalf("%d %s", r.status, r.body)
		}
	})
}

// TestDynamicRoleLifecycle follows a document's roles from POST to DELETE.
func TestDynamicRoleLifecycle(t *testing.T) {
	inst := open(t, "")
	aliceID := createUser(t, inst, "alice", "Alice-passw0rd")
	alice := login(t, inst, "alice", "Alice-passw0rd")
	created := mustCreate(t, inst, "/admin/v1/dynamic-endpoints", readFile(t, filepath.Join(sharedSpecs, "petstore-oas3/petstore.yaml")))
	id := created["dynamic_endpoint_id"].(string)
	const role = "CanGetDynamicEndpoint_showPetById"

	if r := do(t, inst, request{method: "GET", path: "/v1/pets/1"}); r.status != 200 {
		t.Fatalf("the creator cannot call: %d %s", r.status, r.body)
	}
	r := do(t, inst, request{method: "GET", path: "/v1/pets/1", headers: as(alice)})
	if r.status != 403 || !strings.Contains(strings.Join(r.problem(t).MissingRoles, ","), role) {
		t.Fatalf("another user: %d %s", r.status, r.body)
	}
	if r := do(t, inst, request{method: "GET", path: "/v1/pets/1", anonymous: true}); r.status != 401 || r.header.Get("WWW-Authenticate") == "" {
		t.Fatalf("anonymous: %d %s %v", r.status, r.body, r.header)
	}
	grant(t, inst, aliceID, "", role)
	if r := do(t, inst, request{method: "GET", path: "/v1/pets/1", headers: as(alice)}); r.status != 200 {
		t.Fatalf("after grant: %d %s", r.status, r.body)
	}
	if r := do(t, inst, request{method: "DELETE", path: "/admin/v1/dynamic-endpoints/" + id}); r.status != 204 {
		t.Fatalf("delete: %d", r.status)
	}
	if roles := do(t, inst, request{method: "GET", path: "/admin/v1/roles"}); strings.Contains(string(roles.body), role) {
		t.Errorf("the role outlived its document")
	}
	if mine := do(t, inst, request{method: "GET", path: "/my/entitlements", headers: as(alice)}); strings.Contains(string(mine.body), role) {
		t.Errorf("the entitlement outlived its role: %s", mine.body)
	}
}

// TestDocumentAccessRules checks x-dynapi-roles and x-dynapi-public.
func TestDocumentAccessRules(t *testing.T) {
	inst := open(t, "")
	createUser(t, inst, "carol", "Carol-passw0rd")
	carol := login(t, inst, "carol", "Carol-passw0rd")
	doc := `{"openapi":"3.0.3","info":{"title":"rules","version":"1"},"servers":[{"url":"/rules"}],"paths":{
	  "/open":{"get":{"operationId":"open","security":[],"x-dynapi-public":true,"responses":{"200":{"description":"d"}}}},
	  "/anyone":{"get":{"operationId":"anyone","x-dynapi-roles":[],"responses":{"200":{"description":"d"}}}},
	  "/admins":{"get":{"operationId":"admins","x-dynapi-roles":["CanCreateUser"],"responses":{"200":{"description":"d"}}}}}}`
	created := mustCreate(t, inst, "/admin/v1/dynamic-endpoints", []byte(doc))
	if strings.Contains(string(mustJSON(t, created["operations"])), "DynamicEndpoint_open") {
		t.Errorf("a public operation got a role: %v", created["operations"])
	}
	cases := []struct {
		path    string
		headers map[string]string
		anon    bool
		status  int
	}{
		{"/rules/open", nil, true, 200},
		{"/rules/anyone", nil, true, 401},
		{"/rules/anyone", as(carol), false, 200},
		{"/rules/admins", as(carol), false, 403},
		{"/rules/admins", nil, false, 200},
	}
	for _, tc := range cases {
		t.Run(fmt.Sprintf("%s %v", tc.path, tc.status), func(t *testing.T) {
			if r := do(t, inst, request{method: "GET", path: tc.path, headers: tc.headers, anonymous: tc.anon}); r.status != tc.status {
				t.Fatalf("%d %s", r.status, r.body)
			}
		})
	}
	bad := strings.Replace(doc, `["CanCreateUser"]`, `["CanNothing"]`, 1)
	bad = strings.Replace(bad, `/rules`, `/rules2`, 1)
	if r := postDocument(t, inst, "/admin/v1/dynamic-endpoints", []byte(bad), ""); r.status != 400 || !hasViolation(r.problem(t), "document", "*", "unknown_role") {
		t.Fatalf("unknown role in a document: %d %s", r.status, r.body)
	}
}

// TestEntitlementRequests: a user asks, an admin grants or rejects.
func TestEntitlementRequests(t *testing.T) {
	inst := open(t, "")
	createUser(t, inst, "dave", "Dave-passw0rd")
	dave := login(t, inst, "dave", "Dave-passw0rd")
	ask := func(role string) string {
		r := do(t, inst, request{method: "POST", path: "/my/entitlement-requests", headers: as(dave),
			body: mustJSON(t, map[string]string{"bank_id": "", "role_name": role})})
		if r.status != 201 {
			t.Fatalf("request %s: %d %s", role, r.status, r.body)
		}
		return r.json(t)["entitlement_request_id"].(string)
	}
	granted, rejected := ask("CanGetAnyUser"), ask("CanCreateUser")
	list := do(t, inst, request{method: "GET", path: "/admin/v1/entitlement-requests"})
	if !strings.Contains(string(list.body), granted) || !strings.Contains(string(list.body), rejected) {
		t.Fatalf("admin list: %s", list.body)
	}
	if r := do(t, inst, request{method: "POST", path: "/admin/v1/entitlement-requests/" + granted + "/grant"}); r.status != 200 {
		t.Fatalf("grant: %d %s", r.status, r.body)
	}
	if r := do(t, inst, request{method: "POST", path: "/admin/v1/entitlement-requests/" + rejected + "/reject"}); r.status != 200 {
		t.Fatalf("reject: %d %s", r.status, r.body)
	}
	if r := do(t, inst, request{method: "GET", path: "/admin/v1/users", headers: as(dave)}); r.status != 200 {
		t.Fatalf("granted request: %d", r.status)
	}
	if r := do(t, inst, request{method: "POST", path: "/admin/v1/users", headers: as(dave), body: []byte(`{}`)}); r.status != 403 {
		t.Fatalf("rejected request: %d", r.status)
	}
}
