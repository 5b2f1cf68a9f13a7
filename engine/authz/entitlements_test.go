package authz

import (
	"fmt"
	"reflect"
	"slices"
	"sync"
	"testing"

	"github.com/dynapi/dynapi/engine"
	"github.com/dynapi/dynapi/engine/audit"
	"github.com/dynapi/dynapi/engine/viewtx"
	"github.com/dynapi/dynapi/internal/accesstest"
)

func TestGrantErrors(t *testing.T) {
	e := newEnv(t)
	target := e.user("target")
	anyBank := e.user("anybank")
	oneBank := e.user("onebank")
	nobody := e.user("nobody")
	e.bank("b1")
	e.bank("b2")
	e.grant(anyBank.ID, "", RoleCanCreateEntitlementAtAnyBank)
	e.grant(oneBank.ID, "b1", RoleCanCreateEntitlementAtOneBank)
	e.grant(target.ID, "", RoleCanGetAnyUser)
	system := audit.Actor{}
	tests := []struct {
		name         string
		actor        audit.Actor
		user, bank   string
		role         string
		status       int
		code         string
		missingRoles []string
	}{
		{"unknown role", system, target.ID, "", "CanFly", 400, CodeUnknownRole, nil},
		{"bank role without bank", system, target.ID, "", RoleCanCreateBankLevelDynamicEndpoint, 400, CodeBankIDRequired, nil},
		{"system role with bank", system, target.ID, "b1", RoleCanCreateUser, 400, CodeBankIDNotAllowed, nil},
		{"bank missing", system, target.ID, "nob", RoleCanGetBankLevelDynamicEndpoints, 404, engine.CodeNotFound, nil},
		{"user missing", system, "no-such-user", "", RoleCanCreateUser, 404, engine.CodeNotFound, nil},
		{"duplicate", system, target.ID, "", RoleCanGetAnyUser, 409, CodeEntitlementExists, nil},
		{"forbidden system role", audit.Actor{UserID: nobody.ID}, target.ID, "", RoleCanCreateUser, 403, engine.CodeForbidden,
			[]string{RoleCanCreateEntitlementAtAnyBank}},
		{"forbidden bank role", audit.Actor{UserID: nobody.ID}, target.ID, "b1", RoleCanGetBankLevelDynamicEndpoints, 403, engine.CodeForbidden,
			[]string{RoleCanCreateEntitlementAtAnyBank, RoleCanCreateEntitlementAtOneBank}},
		{"one-bank granter at other bank", audit.Actor{UserID: oneBank.ID}, target.ID, "b2", RoleCanGetBankLevelDynamicEndpoints, 403, engine.CodeForbidden,
			[]string{RoleCanCreateEntitlementAtAnyBank, RoleCanCreateEntitlementAtOneBank}},
		{"one-bank granter and a system role", audit.Actor{UserID: oneBank.ID}, target.ID, "", RoleCanCreateUser, 403, engine.CodeForbidden,
			[]string{RoleCanCreateEntitlementAtAnyBank}},
		// Validation comes before authorisation, authorisation before existence.
		{"forbidden actor, unknown role", audit.Actor{UserID: nobody.ID}, target.ID, "", "CanFly", 400, CodeUnknownRole, nil},
		{"forbidden actor, missing user", audit.Actor{UserID: nobody.ID}, "no-such-user", "", RoleCanCreateUser, 403, engine.CodeForbidden,
			[]string{RoleCanCreateEntitlementAtAnyBank}},
		{"one-bank granter ok", audit.Actor{UserID: oneBank.ID}, target.ID, "b1", RoleCanGetBankLevelDynamicEndpoints, 0, "", nil},
		{"any-bank granter, bank role", audit.Actor{UserID: anyBank.ID}, target.ID, "b2", RoleCanGetBankLevelDynamicEndpoints, 0, "", nil},
		{"any-bank granter, system role", audit.Actor{UserID: anyBank.ID}, target.ID, "", RoleCanCreateUser, 0, "", nil},
		{"system actor", system, target.ID, "", RoleCanLockUser, 0, "", nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			auditBefore := len(e.actions())
			ent, err := e.s.Grant(e.ctx(), tc.actor, tc.user, tc.bank, tc.role)
			if tc.status == 0 {
				if err != nil {
					t.Fatal(err)
				}
				if ent.UserID != tc.user || ent.BankID != tc.bank || ent.RoleName != tc.role || ent.ID == "" {
					t.Fatalf("entitlement %+v", ent)
				}
				if !e.s.Has(tc.user, tc.bank, tc.role) {
					t.Fatal("view does not have the grant")
				}
				entries, _, _ := e.log.List(e.ctx(), 0, 1000)
				last := entries[len(entries)-1]
				if last.Action != "entitlement.grant" || last.Target != ent.ID || last.UserID != tc.actor.UserID || last.BankID != tc.bank {
					t.Fatalf("audit %+v", last)
				}
				return
			}
			got := accesstest.WantErr(t, err, tc.status, tc.code)
			if !slices.Equal(got.MissingRoles, tc.missingRoles) {
				t.Errorf("missing roles %v, want %v", got.MissingRoles, tc.missingRoles)
			}
			if tc.status == 403 && len(tc.missingRoles) == 2 && got.BankID != tc.bank {
				t.Errorf("bank %q", got.BankID)
			}
			if len(e.actions()) != auditBefore {
				t.Error("a refused grant was audit-logged")
			}
		})
	}
}

func TestRevoke(t *testing.T) {
	e := newEnv(t)
	target := e.user("target")
	anyBank := e.user("anybank")
	oneBank := e.user("onebank")
	nobody := e.user("nobody")
	e.bank("b1")
	e.bank("b2")
	e.grant(anyBank.ID, "", RoleCanDeleteEntitlementAtAnyBank)
	e.grant(oneBank.ID, "b1", RoleCanDeleteEntitlementAtOneBank)
	sys := e.grant(target.ID, "", RoleCanCreateUser)
	atB1 := e.grant(target.ID, "b1", RoleCanGetBankLevelDynamicEndpoints)
	atB2 := e.grant(target.ID, "b2", RoleCanGetBankLevelDynamicEndpoints)
	atB2b := e.grant(target.ID, "b2", RoleCanCreateBankLevelDynamicEndpoint)
	sys2 := e.grant(target.ID, "", RoleCanLockUser)
	tests := []struct {
		name    string
		actor   audit.Actor
		id      string
		status  int
		code    string
		missing []string
	}{
		{"missing", audit.Actor{}, "nope", 404, engine.CodeNotFound, nil},
		{"nobody, system", audit.Actor{UserID: nobody.ID}, sys.ID, 403, engine.CodeForbidden, []string{RoleCanDeleteEntitlementAtAnyBank}},
		{"nobody, bank", audit.Actor{UserID: nobody.ID}, atB1.ID, 403, engine.CodeForbidden,
			[]string{RoleCanDeleteEntitlementAtAnyBank, RoleCanDeleteEntitlementAtOneBank}},
		{"one-bank, other bank", audit.Actor{UserID: oneBank.ID}, atB2.ID, 403, engine.CodeForbidden,
			[]string{RoleCanDeleteEntitlementAtAnyBank, RoleCanDeleteEntitlementAtOneBank}},
		{"one-bank, system", audit.Actor{UserID: oneBank.ID}, sys.ID, 403, engine.CodeForbidden, []string{RoleCanDeleteEntitlementAtAnyBank}},
		{"one-bank ok", audit.Actor{UserID: oneBank.ID}, atB1.ID, 0, "", nil},
		{"any-bank ok", audit.Actor{UserID: anyBank.ID}, atB2.ID, 0, "", nil},
		{"any-bank, system ok", audit.Actor{UserID: anyBank.ID}, sys.ID, 0, "", nil},
		{"system ok", audit.Actor{}, atB2b.ID, 0, "", nil},
		{"twice", audit.Actor{}, atB2b.ID, 404, engine.CodeNotFound, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := e.s.Revoke(e.ctx(), tc.actor, tc.id)
			if tc.status != 0 {
				got := accesstest.WantErr(t, err, tc.status, tc.code)
				if !slices.Equal(got.MissingRoles, tc.missing) {
					t.Errorf("missing roles %v", got.MissingRoles)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			_, err = e.s.Entitlement(e.ctx(), tc.id)
			accesstest.WantErr(t, err, 404, engine.CodeNotFound)
		})
	}
	list, err := e.s.EntitlementsOf(e.ctx(), target.ID)
	if err != nil || len(list) != 1 || list[0].ID != sys2.ID {
		t.Fatalf("left: %v %v", list, err)
	}
	if e.s.Has(target.ID, "b1", RoleCanGetBankLevelDynamicEndpoints) || e.s.Has(target.ID, "", RoleCanCreateUser) {
		t.Error("view still has revoked entitlements")
	}
	if !e.s.Has(target.ID, "b1", RoleCanLockUser) {
		t.Error("a system role counts at every bank")
	}
	// Granting again after a revoke works.
	e.grant(target.ID, "", RoleCanCreateUser)
}

func TestEntitlementRequests(t *testing.T) {
	e := newEnv(t)
	asker := e.user("asker")
	granter := e.user("granter")
	rejecter := e.user("rejecter")
	e.bank("b1")
	e.grant(granter.ID, "b1", RoleCanCreateEntitlementAtOneBank)
	e.grant(rejecter.ID, "", RoleCanDeleteEntitlementRequestsAtAnyBank)
	e.grant(asker.ID, "", RoleCanGetAnyUser)
	me := audit.Actor{UserID: asker.ID}
	tests := []struct {
		name, bank, role string
		status           int
		code             string
	}{
		{"unknown role", "", "CanFly", 400, CodeUnknownRole},
		{"bank role without bank", "", RoleCanGetBankLevelDynamicEndpoints, 400, CodeBankIDRequired},
		{"system role with bank", "b1", RoleCanCreateUser, 400, CodeBankIDNotAllowed},
		{"bank missing", "nob", RoleCanGetBankLevelDynamicEndpoints, 404, engine.CodeNotFound},
		{"held", "", RoleCanGetAnyUser, 409, CodeEntitlementExists},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := e.s.RequestEntitlement(e.ctx(), me, tc.bank, tc.role)
			accesstest.WantErr(t, err, tc.status, tc.code)
		})
	}
	r1, err := e.s.RequestEntitlement(e.ctx(), me, "b1", RoleCanGetBankLevelDynamicEndpoints)
	if err != nil || r1.Status != RequestPending {
		t.Fatalf("%+v %v", r1, err)
	}
	_, err = e.s.RequestEntitlement(e.ctx(), me, "b1", RoleCanGetBankLevelDynamicEndpoints)
	accesstest.WantErr(t, err, 409, CodeEntitlementRequestExists)
	r2, err := e.s.RequestEntitlement(e.ctx(), me, "", RoleCanCreateUser)
	if err != nil {
		t.Fatal(err)
	}
	if list, _ := e.s.EntitlementRequests(e.ctx(), RequestPending); len(list) != 2 {
		t.Fatalf("pending %v", list)
	}
	_, err = e.s.EntitlementRequests(e.ctx(), "bogus")
	accesstest.WantErr(t, err, 400, engine.CodeBadRequest)

	_, err = e.s.DecideEntitlementRequest(e.ctx(), audit.Actor{UserID: rejecter.ID}, r1.ID, true)
	accesstest.WantErr(t, err, 403, engine.CodeForbidden)
	_, err = e.s.DecideEntitlementRequest(e.ctx(), audit.Actor{UserID: granter.ID}, r2.ID, true)
	accesstest.WantErr(t, err, 403, engine.CodeForbidden) // a system role: one bank is not enough
	_, err = e.s.DecideEntitlementRequest(e.ctx(), audit.Actor{UserID: granter.ID}, "nope", true)
	accesstest.WantErr(t, err, 404, engine.CodeNotFound)
	got, err := e.s.DecideEntitlementRequest(e.ctx(), audit.Actor{UserID: granter.ID}, r1.ID, true)
	if err != nil || got.Status != RequestGranted {
		t.Fatalf("%+v %v", got, err)
	}
	if !e.s.Has(asker.ID, "b1", RoleCanGetBankLevelDynamicEndpoints) {
		t.Fatal("granted request gave no entitlement")
	}
	_, err = e.s.DecideEntitlementRequest(e.ctx(), audit.Actor{UserID: granter.ID}, r1.ID, false)
	accesstest.WantErr(t, err, 409, CodeEntitlementRequestClosed)
	_, err = e.s.DecideEntitlementRequest(e.ctx(), audit.Actor{UserID: granter.ID}, r2.ID, false)
	accesstest.WantErr(t, err, 403, engine.CodeForbidden)
	if got, err := e.s.DecideEntitlementRequest(e.ctx(), audit.Actor{UserID: rejecter.ID}, r2.ID, false); err != nil || got.Status != RequestRejected {
		t.Fatalf("%+v %v", got, err)
	}
	if e.s.Has(asker.ID, "", RoleCanCreateUser) {
		t.Fatal("rejected request granted")
	}
	// Decided requests do not block asking again.
	r3, err := e.s.RequestEntitlement(e.ctx(), me, "", RoleCanCreateUser)
	if err != nil {
		t.Fatal(err)
	}
	mine, _ := e.s.EntitlementRequestsOf(e.ctx(), asker.ID)
	if len(mine) != 3 {
		t.Fatalf("mine %v", mine)
	}
	if err := e.s.DeleteEntitlementRequest(e.ctx(), audit.Actor{}, r3.ID); err != nil {
		t.Fatal(err)
	}
	if n := e.count(bucketRequestsPending); n != 0 {
		t.Fatalf("%d pending keys", n)
	}
	want := []string{"entitlement_request.create", "entitlement_request.create", "entitlement.grant",
		"entitlement_request.grant", "entitlement_request.reject", "entitlement_request.create", "entitlement_request.delete"}
	if got := e.actions(); !slices.Equal(got[len(got)-len(want):], want) {
		t.Errorf("audit %v", got)
	}
}

func TestJustInTime(t *testing.T) {
	off := newEnv(t)
	u := off.user("u")
	if ok, err := off.s.GrantJustInTime(off.ctx(), u.ID, "", []string{RoleCanCreateUser}); ok || err != nil {
		t.Fatalf("disabled: %v %v", ok, err)
	}

	e := newEnv(t, func(o *Options) {
		o.JustInTimeEntitlements = true
		o.JustInTimeRoles = []string{"CanGetBankLevel*", RoleCanCreateUser, RoleCanLockUser}
	})
	u = e.user("u")
	e.bank("b1")
	tests := []struct {
		name     string
		bank     string
		roles    []string
		granted  bool
		wantHeld []string
	}{
		{"none fits", "", []string{"CanFly", RoleCanGetBankLevelDynamicEndpoints}, false, nil},
		{"outside the allow-list", "", []string{RoleCanCreateEntitlementAtAnyBank, RoleCanReadAuditLog}, false, nil},
		{"bank role at missing bank", "nob", []string{RoleCanGetBankLevelDynamicEndpoints}, false, nil},
		{"first fitting", "b1", []string{"CanFly", RoleCanGetBankLevelDynamicEndpoints, RoleCanCreateUser}, true,
			[]string{RoleCanGetBankLevelDynamicEndpoints}},
		{"held already", "b1", []string{RoleCanGetBankLevelDynamicEndpoints}, true, nil},
		{"system role at a bank", "b1", []string{RoleCanLockUser}, true, []string{RoleCanLockUser}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			before := len(e.actions())
			ok, err := e.s.GrantJustInTime(e.ctx(), u.ID, tc.bank, tc.roles)
			if err != nil || ok != tc.granted {
				t.Fatalf("got %v %v", ok, err)
			}
			acts := e.actions()[before:]
			if len(acts) != len(tc.wantHeld) {
				t.Fatalf("audit %v", acts)
			}
			for i, r := range tc.wantHeld {
				if acts[i] != "entitlement.grant_just_in_time" || !e.s.Has(u.ID, tc.bank, r) {
					t.Fatalf("audit %v, has %v", acts, e.s.Has(u.ID, tc.bank, r))
				}
			}
		})
	}
	if e.s.Has(u.ID, "b1", RoleCanCreateUser) {
		t.Error("granted more than the first fitting role")
	}
	if ents, _ := e.s.EntitlementsOf(e.ctx(), u.ID); len(ents) != 2 || ents[0].BankID != "" {
		t.Errorf("system role granted at a bank: %+v", ents)
	}
	_, err := e.s.GrantJustInTime(e.ctx(), "nope", "", []string{RoleCanLockUser})
	accesstest.WantErr(t, err, 404, engine.CodeNotFound)
}

func TestHasConcurrentGrants(t *testing.T) {
	e := newEnv(t)
	e.bank("b1")
	const users = 8
	ids := make([]string, users)
	for i := range ids {
		ids[i] = e.user(fmt.Sprintf("u%d", i)).ID
	}
	roles := []string{RoleCanCreateUser, RoleCanGetAnyUser, RoleCanLockUser}
	bankRoles := []string{RoleCanGetBankLevelDynamicEndpoints, RoleCanCreateBankLevelDynamicEndpoint}
	stop := make(chan struct{})
	var readers sync.WaitGroup
	for range 4 {
		readers.Go(func() {
			seen := make(map[string]bool)
			for {
				select {
				case <-stop:
					return
				default:
				}
				for _, id := range ids {
					// Once seen, an entitlement never disappears.
					for _, r := range roles {
						has := e.s.Has(id, "", r)
						if seen[id+r] && !has {
							t.Error("an entitlement disappeared")
							return
						}
						seen[id+r] = has
					}
					_ = e.s.HasAny(id, "b1", bankRoles)
				}
			}
		})
	}
	var writers sync.WaitGroup
	for _, id := range ids {
		writers.Go(func() {
			for _, r := range roles {
				if _, err := e.s.Grant(e.ctx(), audit.Actor{}, id, "", r); err != nil {
					t.Error(err)
				}
			}
			for _, r := range bankRoles {
				if _, err := e.s.Grant(e.ctx(), audit.Actor{}, id, "b1", r); err != nil {
					t.Error(err)
				}
			}
		})
	}
	writers.Wait()
	close(stop)
	readers.Wait()
	for _, id := range ids {
		for _, r := range roles {
			if !e.s.Has(id, "", r) || !e.s.Has(id, "b1", r) {
				t.Fatalf("missing %s", r)
			}
		}
		for _, r := range bankRoles {
			if !e.s.Has(id, "b1", r) || e.s.Has(id, "", r) || e.s.Has(id, "b2", r) {
				t.Fatalf("bank role %s", r)
			}
		}
	}
}

func TestHasAllocatesNothing(t *testing.T) {
	e := newEnv(t)
	u := e.user("u")
	e.bank("b1")
	e.grant(u.ID, "b1", RoleCanGetBankLevelDynamicEndpoints)
	e.grant(u.ID, "", RoleCanCreateUser)
	roles := []string{RoleCanCreateDynamicEndpoint, RoleCanGetBankLevelDynamicEndpoints}
	checks := map[string]func(){
		"Has bank":     func() { _ = e.s.Has(u.ID, "b1", RoleCanGetBankLevelDynamicEndpoints) },
		"Has system":   func() { _ = e.s.Has(u.ID, "b1", RoleCanCreateUser) },
		"Has miss":     func() { _ = e.s.Has(u.ID, "b2", RoleCanGetBankLevelDynamicEndpoints) },
		"HasAny":       func() { _ = e.s.HasAny(u.ID, "b1", roles) },
		"banks.Exists": func() { _ = e.banks.Exists("b1") },
	}
	for name, f := range checks {
		if n := testing.AllocsPerRun(200, f); n != 0 {
			t.Errorf("%s allocates %v times", name, n)
		}
	}
}

func BenchmarkHasAny(b *testing.B) {
	e, user := newBenchEnv(b)
	roles := []string{RoleCanCreateDynamicEndpoint, RoleCanUpdateDynamicEndpoint, RoleCanGetBankLevelDynamicEndpoints}
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if !e.HasAny(user, "bank-2", roles) {
				b.Fatal("denied")
			}
		}
	})
}

// newBenchEnv fills a service with 1000 users, 10 banks and 3000
// entitlements, and returns it with the id of user-42, who holds a bank
// role at bank-2.
func newBenchEnv(b *testing.B) (*Service, string) {
	e := newEnv(b)
	for i := range 10 {
		e.bank(fmt.Sprintf("bank-%d", i))
	}
	users := make([]string, 1000)
	for i := range users {
		users[i] = e.user(fmt.Sprintf("user-%d", i)).ID
	}
	err := e.w.Update(b.Context(), func(tx *viewtx.Tx) error {
		for i, id := range users {
			grants := [][2]string{{"", RoleCanGetAnyUser}, {fmt.Sprintf("bank-%d", i%10), RoleCanGetBankLevelDynamicEndpoints},
				{fmt.Sprintf("bank-%d", (i+1)%10), RoleCanCreateEntitlementAtOneBank}}
			for _, g := range grants {
				if _, err := e.s.GrantRolesTx(tx, audit.Actor{}, id, g[0], []string{g[1]}); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	return e.s, users[42]
}
func TestUserLookupAndDelete(t *testing.T) {
	e := newEnv(t)
	u := e.user("alice")
	other := e.user("bob")
	e.bank("b1")
	e.grant(u.ID, "", RoleCanCreateUser)
	e.grant(u.ID, "b1", RoleCanGetEntitlementsForOneBank)
	e.grant(other.ID, "", RoleCanCreateUser)
	if _, err := e.s.RequestEntitlement(e.ctx(), audit.Actor{UserID: u.ID}, "", RoleCanGetAnyUser); err != nil {
		t.Fatal(err)
	}
	if got, err := e.ids.UserByName(e.ctx(), "Alice"); err != nil || got.ID != u.ID {
		t.Fatalf("UserByName: %v %v", got, err)
	}
	tests := []struct {
		name string
		err  error
	}{
		{"User missing", func() error { _, err := e.ids.User(e.ctx(), "nope"); return err }()},
		{"UserByName missing", func() error { _, err := e.ids.UserByName(e.ctx(), "nope"); return err }()},
		{"SetLocked missing", func() error { _, err := e.ids.SetLocked(e.ctx(), audit.Actor{}, "nope", true); return err }()},
		{"DeleteUser missing", e.deleteUser(audit.Actor{}, "nope")},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { accesstest.WantErr(t, tc.err, 404, engine.CodeNotFound) })
	}

	if err := e.deleteUser(audit.Actor{UserID: other.ID}, u.ID); err != nil {
		t.Fatal(err)
	}
	if e.s.Has(u.ID, "", RoleCanCreateUser) || e.s.Has(u.ID, "b1", RoleCanGetEntitlementsForOneBank) {
		t.Error("view still has the deleted user's entitlements")
	}
	if !e.s.Has(other.ID, "", RoleCanCreateUser) {
		t.Error("another user's entitlement went too")
	}
	if n := e.count(bucketEnts); n != 1 {
		t.Errorf("%d entitlements stored, want 1", n)
	}
	if n := e.count(bucketEntsByUser) + e.count(bucketEntsByKey) + e.count(bucketEntsByRole); n != 3 {
		t.Errorf("%d index entries, want 3", n)
	}
	if n := e.count(bucketRequests) + e.count(bucketRequestsPending); n != 0 {
		t.Errorf("%d requests left", n)
	}
	_, err := e.s.EntitlementsOf(e.ctx(), u.ID)
	accesstest.WantErr(t, err, 404, engine.CodeNotFound)
	_, err = e.ids.UserByName(e.ctx(), "alice")
	accesstest.WantErr(t, err, 404, engine.CodeNotFound)
	// The name is free again.
	e.user("alice")
	// The views agree with a fresh load.
	if s2 := e.reopen(); !reflect.DeepEqual(*s2.ents.Load(), *e.s.ents.Load()) {
		t.Error("incremental view differs from a reload")
	}
}
