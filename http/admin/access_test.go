package admin_test

import (
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dynapi/dynapi/internal/enginetest"
	"github.com/dynapi/dynapi/internal/testpaths"
)

// forbidden checks a 403 names the missing role at the bank.
func forbidden(role, bank string) func(t *testing.T, r enginetest.Response) {
	return func(t *testing.T, r enginetest.Response) {
		t.Helper()
		p := r.Problem(t)
		if !strings.Contains(strings.Join(p.MissingRoles, ","), role) || p.BankID != bank {
			t.Fatalf("403 must name %s at %q: %s", role, bank, r.Body)
		}
	}
}

// challenged checks a 401 asks for credentials.
func challenged(t *testing.T, r enginetest.Response) {
	t.Helper()
	if r.Header.Get("WWW-Authenticate") == "" {
		t.Fatalf("no WWW-Authenticate: %v", r.Header)
	}
}

// bodyContains checks the answer's body holds every part.
func bodyContains(parts ...string) func(t *testing.T, r enginetest.Response) {
	return func(t *testing.T, r enginetest.Response) {
		t.Helper()
		for _, p := range parts {
			if !strings.Contains(string(r.Body), p) {
				t.Fatalf("no %s in %s", p, r.Body)
			}
		}
	}
}

// TestRolesAndEntitlements grants and revokes system and bank roles and
// checks every 401, 403 and 404 a guard gives.
func TestRolesAndEntitlements(t *testing.T) {
	e := enginetest.New(t)
	bob := e.CreateUser(t, "bob", "Bob-passw0rd-1")
	e.CreateBank(t, "gh.29.uk")
	e.CreateBank(t, "other.bank")
	doc := enginetest.ReadFile(t, filepath.Join(testpaths.Shared("specs"), "obp-dynamic-endpoint/dynamicEndpointSwagger.json"))
	asBob := e.As(bob)
	postDoc := func(path string) enginetest.Request {
		return enginetest.JSONRequest(t, http.MethodPost, path, doc)
	}
	get := func(path string) enginetest.Request { return enginetest.Request{Method: http.MethodGet, Path: path} }

	e.Run(t, enginetest.Scenario{Name: "no credentials", Caller: e.Anonymous(), Request: get("/admin/v1/users"),
		WantStatus: 401, WantProblem: "unauthorized", Check: challenged})

	t.Run("system role missing, granted, revoked", func(t *testing.T) {
		e.Run(t, enginetest.Scenario{Name: "missing", Caller: asBob, Request: get("/admin/v1/users"),
			WantStatus: 403, WantProblem: "forbidden", Check: forbidden("CanGetAnyUser", "")})
		id := e.Grant(t, bob.ID, "", "CanGetAnyUser")
		e.Run(t,
			enginetest.Scenario{Name: "granted", Caller: asBob, Request: get("/admin/v1/users"), WantStatus: 200},
			enginetest.Scenario{Name: "revoke", Caller: e.Admin(),
				Request:    enginetest.Request{Method: http.MethodDelete, Path: "/admin/v1/users/" + bob.ID + "/entitlements/" + id},
				WantStatus: 204, WantAudit: []enginetest.Audit{{Action: "entitlement.revoke"}}},
			enginetest.Scenario{Name: "revoked", Caller: asBob, Request: get("/admin/v1/users"),
				WantStatus: 403, WantProblem: "forbidden", Check: forbidden("CanGetAnyUser", "")},
		)
	})
	t.Run("bank role at one bank only", func(t *testing.T) {
		const path = "/admin/v1/banks/gh.29.uk/dynamic-endpoints"
		e.Run(t, enginetest.Scenario{Name: "missing", Caller: asBob, Request: postDoc(path),
			WantStatus: 403, WantProblem: "forbidden", Check: forbidden("CanCreateBankLevelDynamicEndpoint", "gh.29.uk")})
		e.Grant(t, bob.ID, "gh.29.uk", "CanCreateBankLevelDynamicEndpoint")
		e.Run(t,
			enginetest.Scenario{Name: "granted", Caller: asBob, Request: postDoc(path), WantStatus: 201,
				WantAudit: []enginetest.Audit{{Action: "dynamic_endpoint.create", UserID: bob.ID, BankID: "gh.29.uk"}}},
			enginetest.Scenario{Name: "other bank", Caller: asBob, Request: postDoc("/admin/v1/banks/other.bank/dynamic-endpoints"),
				WantStatus: 403, WantProblem: "forbidden", Check: forbidden("CanCreateBankLevelDynamicEndpoint", "other.bank")},
			enginetest.Scenario{Name: "unknown bank", Caller: asBob, Request: postDoc("/admin/v1/banks/no.such.bank/dynamic-endpoints"),
				WantStatus: 404},
			// The creator got the bank-scoped dynamic roles and can call.
			enginetest.Scenario{Name: "creator calls the bank-level operation", Caller: asBob,
				Request: get("/banks/gh.29.uk/dynamic-endpoint/accounts/1"), WantStatus: 200},
		)
	})
	grantAs := func(c enginetest.Caller, name, bank, role string, status int, code string) enginetest.Scenario {
		return enginetest.Scenario{Name: name, Caller: c, WantStatus: status, WantProblem: code,
			Request: enginetest.JSONRequest(t, http.MethodPost, "/admin/v1/users/"+bob.ID+"/entitlements",
				map[string]string{"bank_id": bank, "role_name": role})}
	}
	t.Run("grant refusals", func(t *testing.T) {
		e.Run(t,
			grantAs(e.Admin(), "bank role without bank", "", "CanCreateBankLevelDynamicEndpoint", 400, "bank_id_required"),
			grantAs(e.Admin(), "system role with bank", "gh.29.uk", "CanCreateUser", 400, "bank_id_not_allowed"),
			grantAs(e.Admin(), "unknown role", "", "CanFlyToTheMoon", 400, "unknown_role"),
			grantAs(e.Admin(), "unknown bank", "no.such.bank", "CanCreateBankLevelDynamicEndpoint", 404, "not_found"),
			grantAs(e.Admin(), "duplicate", "gh.29.uk", "CanCreateBankLevelDynamicEndpoint", 409, "entitlement_exists"),
		)
	})
	granting := grantAs(asBob, "granting needs a granting role", "", "CanCreateUser", 403, "forbidden")
	granting.Check = forbidden("CanCreateEntitlementAtAnyBank", "")
	e.Run(t, granting,
		enginetest.Scenario{Name: "my entitlements", Caller: asBob, Request: get("/my/entitlements"), WantStatus: 200,
			Check: bodyContains("CanCreateBankLevelDynamicEndpoint")},
		enginetest.Scenario{Name: "roles list", Caller: asBob, Request: get("/admin/v1/roles"), WantStatus: 200,
			Check: bodyContains(`"role_name":"CanCreateUser","requires_bank_id":false`,
				`"role_name":"CanCreateEntitlementAtOneBank","requires_bank_id":true`)},
	)
}

// TestDynamicRoleLifecycle follows a document's roles from POST to DELETE.
func TestDynamicRoleLifecycle(t *testing.T) {
	e := enginetest.New(t)
	alice := e.CreateUser(t, "alice", "Alice-passw0rd")
	created := e.Admin().MustCreate(t, "/admin/v1/dynamic-endpoints", enginetest.ReadFile(t, filepath.Join(testpaths.Shared("specs"), "petstore-oas3/petstore.yaml")))
	id := created["dynamic_endpoint_id"].(string)
	const role = "CanGetDynamicEndpoint_showPetById"
	pet := enginetest.Request{Method: http.MethodGet, Path: "/v1/pets/1"}

	e.Run(t,
		enginetest.Scenario{Name: "the creator calls", Caller: e.Admin(), Request: pet, WantStatus: 200},
		enginetest.Scenario{Name: "another user", Caller: e.As(alice), Request: pet, WantStatus: 403, WantProblem: "forbidden",
			Check: forbidden(role, "")},
		enginetest.Scenario{Name: "anonymous", Caller: e.Anonymous(), Request: pet, WantStatus: 401, Check: challenged},
	)
	e.Grant(t, alice.ID, "", role)
	e.Run(t,
		enginetest.Scenario{Name: "after grant", Caller: e.As(alice), Request: pet, WantStatus: 200},
		enginetest.Scenario{Name: "delete", Caller: e.Admin(),
			Request: enginetest.Request{Method: http.MethodDelete, Path: "/admin/v1/dynamic-endpoints/" + id}, WantStatus: 204,
			WantAudit: []enginetest.Audit{{Action: "dynamic_endpoint.delete", Target: id}}},
	)
	if roles := e.Admin().Get(t, "/admin/v1/roles"); strings.Contains(string(roles.Body), role) {
		t.Errorf("the role outlived its document")
	}
	if mine := e.As(alice).Get(t, "/my/entitlements"); strings.Contains(string(mine.Body), role) {
		t.Errorf("the entitlement outlived its role: %s", mine.Body)
	}
}

// TestDocumentAccessRules checks x-dynapi-roles and x-dynapi-public.
func TestDocumentAccessRules(t *testing.T) {
	e := enginetest.New(t)
	carol := e.CreateUser(t, "carol", "Carol-passw0rd")
	doc := `{"openapi":"3.0.3","info":{"title":"rules","version":"1"},"servers":[{"url":"/rules"}],"paths":{
	  "/open":{"get":{"operationId":"open","security":[],"x-dynapi-public":true,"responses":{"200":{"description":"d"}}}},
	  "/anyone":{"get":{"operationId":"anyone","x-dynapi-roles":[],"responses":{"200":{"description":"d"}}}},
	  "/admins":{"get":{"operationId":"admins","x-dynapi-roles":["CanCreateUser"],"responses":{"200":{"description":"d"}}}}}}`
	created := e.Admin().MustCreate(t, "/admin/v1/dynamic-endpoints", []byte(doc))
	if strings.Contains(string(enginetest.MustJSON(t, created["operations"])), "DynamicEndpoint_open") {
		t.Errorf("a public operation got a role: %v", created["operations"])
	}
	call := func(c enginetest.Caller, path string, status int) enginetest.Scenario {
		return enginetest.Scenario{Name: fmt.Sprintf("%s %s %v", c, path, status), Caller: c,
			Request: enginetest.Request{Method: http.MethodGet, Path: path}, WantStatus: status}
	}
	e.Run(t,
		call(e.Anonymous(), "/rules/open", 200),
		call(e.Anonymous(), "/rules/anyone", 401),
		call(e.As(carol), "/rules/anyone", 200),
		call(e.As(carol), "/rules/admins", 403),
		call(e.Admin(), "/rules/admins", 200),
	)
	bad := strings.Replace(doc, `["CanCreateUser"]`, `["CanNothing"]`, 1)
	bad = strings.Replace(bad, `/rules`, `/rules2`, 1)
	e.Run(t, enginetest.Scenario{Name: "unknown role in a document", Caller: e.Admin(),
		Request: enginetest.Request{Method: http.MethodPost, Path: "/admin/v1/dynamic-endpoints", Body: []byte(bad)}, WantStatus: 400,
		Check: func(t *testing.T, r enginetest.Response) {
			if !enginetest.HasViolation(r.Problem(t), "document", "*", "unknown_role") {
				t.Fatalf("no unknown_role violation: %s", r.Body)
			}
		}})
}

// TestEntitlementRequests: a user asks, an admin grants or rejects.
func TestEntitlementRequests(t *testing.T) {
	e := enginetest.New(t)
	dave := e.CreateUser(t, "dave", "Dave-passw0rd")
	ask := func(role string) string {
		r := e.As(dave).PostJSON(t, "/my/entitlement-requests", map[string]string{"bank_id": "", "role_name": role})
		if r.Status != 201 {
			t.Fatalf("request %s: %d %s", role, r.Status, r.Body)
		}
		return r.JSON(t)["entitlement_request_id"].(string)
	}
	granted, rejected := ask("CanGetAnyUser"), ask("CanCreateUser")
	post := func(path string) enginetest.Request { return enginetest.Request{Method: http.MethodPost, Path: path} }
	e.Run(t,
		enginetest.Scenario{Name: "admin list", Caller: e.Admin(),
			Request: enginetest.Request{Method: http.MethodGet, Path: "/admin/v1/entitlement-requests"}, WantStatus: 200,
			Check: bodyContains(granted, rejected)},
		enginetest.Scenario{Name: "grant", Caller: e.Admin(), Request: post("/admin/v1/entitlement-requests/" + granted + "/grant"),
			WantStatus: 200, WantAudit: []enginetest.Audit{{Action: "entitlement_request.grant", Target: granted}}},
		enginetest.Scenario{Name: "reject", Caller: e.Admin(), Request: post("/admin/v1/entitlement-requests/" + rejected + "/reject"),
			WantStatus: 200, WantAudit: []enginetest.Audit{{Action: "entitlement_request.reject", Target: rejected}}},
		enginetest.Scenario{Name: "granted request", Caller: e.As(dave),
			Request: enginetest.Request{Method: http.MethodGet, Path: "/admin/v1/users"}, WantStatus: 200},
		enginetest.Scenario{Name: "rejected request", Caller: e.As(dave),
			Request: enginetest.JSONRequest(t, http.MethodPost, "/admin/v1/users", `{}`), WantStatus: 403},
	)
}
