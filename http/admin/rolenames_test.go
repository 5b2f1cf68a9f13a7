package admin_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/dynapi/dynapi/internal/enginetest"
	"github.com/dynapi/dynapi/internal/rolename"
)

// longOperationDoc is a document at mount whose one GET operation has
// operationId id and, when roles is not "", x-dynapi-roles roles.
func longOperationDoc(mount, id, roles string) []byte {
	access := ""
	if roles != "" {
		access = `,"x-dynapi-roles":` + roles
	}
	return fmt.Appendf(nil, `{"openapi":"3.0.3","info":{"title":"long","version":"1"},"servers":[{"url":%q}],"paths":{
	  "/thing":{"get":{"operationId":%q%s,"responses":{"200":{"description":"d"}}}}}}`, mount, id, access)
}

// missingRole returns the one role a 403 response names.
func missingRole(t *testing.T, r enginetest.Response) string {
	t.Helper()
	if r.Status != http.StatusForbidden {
		t.Fatalf("want 403, got %d %s", r.Status, r.Body)
	}
	p := r.Problem(t)
	if len(p.MissingRoles) != 1 {
		t.Fatalf("missing roles %v, want one", p.MissingRoles)
	}
	return p.MissingRoles[0]
}

// TestLongOperationIDRole: an operationId too long for a role name still
// gets a role, shortened deterministically to a name access control holds,
// grants and checks; a second document with the same operationId gets a
// different one.
func TestLongOperationIDRole(t *testing.T) {
	inst := enginetest.New(t)
	userID := inst.CreateUser(t, "lena", "Lena-passw0rd").ID
	lena := inst.Login(t, "lena", "Lena-passw0rd")
	long := "get" + strings.Repeat("VeryLongOperationName", 7) // 150 characters

	roles := map[string]bool{}
	for _, mount := range []string{"/long1", "/long2"} {
		t.Run(mount, func(t *testing.T) {
			inst.Admin().MustCreate(t, "/admin/v1/dynamic-endpoints", longOperationDoc(mount, long, ""))
			if r := inst.Admin().Get(t, mount+"/thing"); r.Status != http.StatusOK {
				t.Fatalf("the creator cannot call: %d %s", r.Status, r.Body)
			}
			role := missingRole(t, inst.Token(lena).Get(t, mount+"/thing"))
			if len(role) != rolename.Max || !strings.HasPrefix(role, "CanGetDynamicEndpoint_getVeryLong") {
				t.Fatalf("role %q (%d characters), want a %d-character CanGetDynamicEndpoint_ name", role, len(role), rolename.Max)
			}
			if roles[role] {
				t.Fatalf("role %q shared by two documents", role)
			}
			roles[role] = true
			inst.Grant(t, userID, "", role)
			if r := inst.Token(lena).Get(t, mount+"/thing"); r.Status != http.StatusOK {
				t.Fatalf("after grant: %d %s", r.Status, r.Body)
			}
		})
	}
}

// TestDocumentRoleNames: x-dynapi-roles takes the role names access
// control takes, no more and no fewer.
func TestDocumentRoleNames(t *testing.T) {
	inst := enginetest.New(t)
	cases := []struct {
		name, roles, code string
	}{
		// '.' and '-' are fine in a role name: the role just does not exist.
		{"dot", `["Can.X"]`, "unknown_role"},
		{"dash", `["Can-X"]`, "unknown_role"},
		{"longest", `["C` + strings.Repeat("x", rolename.Max-1) + `"]`, "unknown_role"},
		{"too long", `["C` + strings.Repeat("x", rolename.Max) + `"]`, "invalid"},
		{"digit first", `["1Can"]`, "invalid"},
		{"space", `["Can X"]`, "invalid"},
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := inst.Admin().Post(t, "/admin/v1/dynamic-endpoints", longOperationDoc(fmt.Sprintf("/names%d", i), "op", tc.roles))
			if r.Status != http.StatusBadRequest {
				t.Fatalf("want 400, got %d %s", r.Status, r.Body)
			}
			pointer := "*"
			if tc.code == "invalid" {
				pointer = "/paths/~1thing/get/x-dynapi-roles/0"
			}
			if !enginetest.HasViolation(r.Problem(t), "document", pointer, tc.code) {
				t.Fatalf("want a %s violation at %s: %s", tc.code, pointer, r.Body)
			}
		})
	}
}

// TestEntityRoleForMethod: each method on an entity's records needs the
// role the one method-to-verb table names, PATCH the Update role and HEAD
// the Get role; an entity name too long for its roles gets roles shortened
// to fit, which its creator holds.
func TestEntityRoleForMethod(t *testing.T) {
	inst := enginetest.New(t)
	inst.CreateEntity(t, "/admin/v1/dynamic-entities", customerDef)
	rec := inst.Admin().Send(t, enginetest.Request{Method: "POST", Path: "/entities/Customer", Header: enginetest.JSONHeader(), Body: []byte(`{"name":"Jane Doe"}`)})
	if rec.Status != http.StatusCreated {
		t.Fatalf("create record: %d %s", rec.Status, rec.Body)
	}
	one := "/entities/Customer/" + rec.JSON(t)["customer"].(map[string]any)["customer_id"].(string)
	userID := inst.CreateUser(t, "omar", "Omar-passw0rd").ID
	omar := inst.Login(t, "omar", "Omar-passw0rd")

	cases := []struct {
		method, path, body, role string
	}{
		{"GET", "/entities/Customer", "", "CanGetDynamicEntity_SystemCustomer"},
		{"GET", one, "", "CanGetDynamicEntity_SystemCustomer"},
		{"POST", "/entities/Customer", `{"name":"Joe Bloggs"}`, "CanCreateDynamicEntity_SystemCustomer"},
		{"PUT", one, `{"name":"Joe Bloggs"}`, "CanUpdateDynamicEntity_SystemCustomer"},
		{"PATCH", one, `{"name":"Joe Bloggs"}`, "CanUpdateDynamicEntity_SystemCustomer"},
		{"DELETE", one, "", "CanDeleteDynamicEntity_SystemCustomer"},
	}
	for _, tc := range cases {
		t.Run(tc.method+" "+tc.path, func(t *testing.T) {
			r := inst.Token(omar).Send(t, enginetest.Request{Method: tc.method, Path: tc.path, Header: enginetest.JSONHeader(), Body: []byte(tc.body)})
			if role := missingRole(t, r); role != tc.role {
				t.Fatalf("%s needs %s, want %s", tc.method, role, tc.role)
			}
		})
	}
	t.Run("HEAD", func(t *testing.T) {
		if r := inst.Token(omar).Send(t, enginetest.Request{Method: "HEAD", Path: one, Header: enginetest.JSONHeader()}); r.Status != http.StatusForbidden {
			t.Fatalf("HEAD without the Get role: %d", r.Status)
		}
		inst.Grant(t, userID, "", "CanGetDynamicEntity_SystemCustomer")
		if r := inst.Token(omar).Send(t, enginetest.Request{Method: "HEAD", Path: one, Header: enginetest.JSONHeader()}); r.Status != http.StatusOK {
			t.Fatalf("HEAD with the Get role: %d", r.Status)
		}
	})
	t.Run("long entity name", func(t *testing.T) {
		name := "Customer" + strings.Repeat("WithAVeryLongName", 6)
		inst.CreateEntity(t, "/admin/v1/dynamic-entities", strings.Replace(customerDef, `"Customer"`, `"`+name+`"`, 1))
		if r := inst.Admin().Send(t, enginetest.Request{Method: "POST", Path: "/entities/" + name, Header: enginetest.JSONHeader(), Body: []byte(`{"name":"Jane Doe"}`)}); r.Status != http.StatusCreated {
			t.Fatalf("the creator cannot create a record: %d %s", r.Status, r.Body)
		}
		role := missingRole(t, inst.Token(omar).Get(t, "/entities/"+name))
		if len(role) != rolename.Max || !strings.HasPrefix(role, "CanGetDynamicEntity_SystemCustomerWith") {
			t.Fatalf("role %q (%d characters), want a %d-character CanGetDynamicEntity_ name", role, len(role), rolename.Max)
		}
	})
}
