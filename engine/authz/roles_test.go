package authz

import (
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/dynapi/dynapi/engine"
	"github.com/dynapi/dynapi/engine/audit"
	"github.com/dynapi/dynapi/internal/accesstest"
)

func TestDynamicRoles(t *testing.T) {
	e := newEnv(t)
	u := e.user("u")
	e.bank("b1")
	shared := Role{Name: "CanUseShared", RequiresBankID: true}
	onlyA := Role{Name: "CanUseA"}
	if err := e.addRoles("endpoint-a", []Role{shared, onlyA, {Name: RoleCanGetAnyUser}}); err != nil {
		t.Fatal(err)
	}
	if err := e.addRoles("endpoint-b", []Role{shared}); err != nil {
		t.Fatal(err)
	}
	if r, ok := e.s.Role("CanUseShared"); !ok || !r.Dynamic || !r.RequiresBankID {
		t.Fatalf("role %+v %v", r, ok)
	}
	if r, _ := e.s.Role(RoleCanGetAnyUser); r.Dynamic {
		t.Fatal("a static role became dynamic")
	}
	names := func(s *Service) []string {
		var out []string
		for _, r := range s.Roles() {
			if r.Dynamic {
				out = append(out, r.Name)
			}
		}
		return out
	}
	if got := names(e.s); !slices.Equal(got, []string{"CanUseA", "CanUseShared"}) {
		t.Fatalf("dynamic roles %v", got)
	}
	if !slices.IsSortedFunc(e.s.Roles(), func(a, b Role) int { return strings.Compare(a.Name, b.Name) }) {
		t.Fatal("Roles not sorted")
	}
	e.grant(u.ID, "b1", "CanUseShared")
	e.grant(u.ID, "", "CanUseA")
	e.grant(u.ID, "", RoleCanGetAnyUser)

	errTests := []struct {
		name   string
		owner  string
		roles  []Role
		status int
		code   string
	}{
		{"static role of the other kind", "x", []Role{{Name: RoleCanCreateUser, RequiresBankID: true}}, 409, CodeRoleConflict},
		{"dynamic role of the other kind", "x", []Role{{Name: "CanUseShared"}}, 409, CodeRoleConflict},
		{"invalid name", "x", []Role{{Name: "1bad"}}, 400, engine.CodeValidationFailed},
		{"listed twice, two kinds", "x", []Role{{Name: "CanX"}, {Name: "CanX", RequiresBankID: true}}, 400, engine.CodeValidationFailed},
		{"no owner", "", []Role{{Name: "CanX"}}, 400, engine.CodeBadRequest},
	}
	for _, tc := range errTests {
		t.Run(tc.name, func(t *testing.T) {
			accesstest.WantErr(t, e.addRoles(tc.owner, tc.roles), tc.status, tc.code)
		})
	}
	if _, ok := e.s.Role("CanX"); ok {
		t.Fatal("a refused role exists")
	}

	// Persisted: a restart sees the roles.
	if got := names(e.reopen()); !slices.Equal(got, []string{"CanUseA", "CanUseShared"}) {
		t.Fatalf("after restart %v", got)
	}

	removed, err := e.removeRoles("endpoint-a")
	if err != nil || !slices.Equal(removed, []string{"CanUseA"}) {
		t.Fatalf("removed %v %v", removed, err)
	}
	if _, ok := e.s.Role("CanUseShared"); !ok || !e.s.Has(u.ID, "b1", "CanUseShared") {
		t.Fatal("a role still owned by endpoint-b went")
	}
	if _, ok := e.s.Role("CanUseA"); ok || e.s.Has(u.ID, "", "CanUseA") {
		t.Fatal("CanUseA or its entitlement stayed")
	}
	if !e.s.Has(u.ID, "", RoleCanGetAnyUser) {
		t.Fatal("a static role's entitlement went")
	}
	_, err = e.s.Grant(e.ctx(), audit.Actor{}, u.ID, "", "CanUseA")
	accesstest.WantErr(t, err, 400, CodeUnknownRole)

	if _, err := e.s.RequestEntitlement(e.ctx(), audit.Actor{UserID: u.ID}, "", RoleCanCreateUser); err != nil {
		t.Fatal(err)
	}
	other := e.user("other")
	if _, err := e.s.RequestEntitlement(e.ctx(), audit.Actor{UserID: other.ID}, "b1", "CanUseShared"); err != nil {
		t.Fatal(err)
	}
	removed, err = e.removeRoles("endpoint-b")
	if err != nil || !slices.Equal(removed, []string{"CanUseShared"}) {
		t.Fatalf("removed %v %v", removed, err)
	}
	if _, ok := e.s.Role("CanUseShared"); ok || e.s.Has(u.ID, "b1", "CanUseShared") {
		t.Fatal("last owner gone, role stayed")
	}
	ents, _ := e.s.EntitlementsOf(e.ctx(), u.ID)
	if len(ents) != 1 || ents[0].RoleName != RoleCanGetAnyUser {
		t.Fatalf("entitlements left %+v", ents)
	}
	if reqs, _ := e.s.EntitlementRequests(e.ctx(), ""); len(reqs) != 1 || reqs[0].RoleName != RoleCanCreateUser {
		t.Fatalf("requests left %+v", reqs)
	}
	for _, b := range []string{bucketRoles, bucketRolesByOwner} {
		if n := e.count(b); n != 0 {
			t.Errorf("%s has %d keys", b, n)
		}
	}
	if n := e.count(bucketEntsByRole); n != 1 {
		t.Errorf("by-role index has %d keys", n)
	}
	if removed, err := e.removeRoles("endpoint-b"); err != nil || removed != nil {
		t.Fatalf("removing twice: %v %v", removed, err)
	}
	acts := e.actions()
	if n := strings.Count(strings.Join(acts, " "), "entitlement.delete"); n != 2 {
		t.Errorf("audit %v", acts)
	}
	if s2 := e.reopen(); !reflect.DeepEqual(*s2.ents.Load(), *e.s.ents.Load()) || len(names(s2)) != 0 {
		t.Error("incremental views differ from a reload")
	}
}
