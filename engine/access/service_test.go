package access_test

import (
	"errors"
	"reflect"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/dynapi/dynapi/engine"
	"github.com/dynapi/dynapi/engine/access"
	"github.com/dynapi/dynapi/engine/audit"
	"github.com/dynapi/dynapi/engine/authz"
	"github.com/dynapi/dynapi/engine/banks"
	"github.com/dynapi/dynapi/engine/identity"
	"github.com/dynapi/dynapi/internal/accesstest"
)

func TestAuditLog(t *testing.T) {
	e := newEnv(t)
	a := audit.Actor{UserID: "admin-id", ConsumerID: "consumer-id", CorrelationID: "corr-1"}
	u, err := e.s.Identity.CreateUser(e.ctx(), a, identity.NewUser{Username: "alice", Password: accesstest.GoodPassword})
	if err != nil {
		t.Fatal(err)
	}
	e.bank("b1")
	if _, err := e.s.Identity.SetLocked(e.ctx(), a, u.ID, true); err != nil {
		t.Fatal(err)
	}
	if err := e.s.Audit.Record(e.ctx(), a, "dynamic_endpoint.create", "ep-1", "b1", map[string]any{
		"title": "x", "client_secret": "s3cr3t", "nested": map[string]any{"Password": "hunter2", "ok": 1},
	}); err != nil {
		t.Fatal(err)
	}
	// Failed changes write nothing.
	_, _ = e.s.Identity.CreateUser(e.ctx(), a, identity.NewUser{Username: "alice", Password: accesstest.GoodPassword})
	_, _ = e.s.Authz.Grant(e.ctx(), a, u.ID, "", "CanFly")

	all, next, err := e.s.Audit.List(e.ctx(), 0, 0)
	if err != nil || next != 0 {
		t.Fatal(err, next)
	}
	wantActions := []string{"user.create", "bank.create", "user.lock", "dynamic_endpoint.create"}
	var got []string
	for i, en := range all {
		got = append(got, en.Action)
		if en.Seq != uint64(i+1) || en.At.IsZero() {
			t.Errorf("entry %d: %+v", i, en)
		}
	}
	if !slices.Equal(got, wantActions) {
		t.Fatalf("actions %v", got)
	}
	first := all[0]
	if first.UserID != a.UserID || first.ConsumerID != a.ConsumerID || first.CorrelationID != a.CorrelationID ||
		first.Target != u.ID || first.Details["username"] != "alice" || !first.At.Equal(e.clock.Now()) {
		t.Errorf("first entry %+v", first)
	}
	ext := all[3]
	if ext.BankID != "b1" || ext.Details["client_secret"] != "[redacted]" || ext.Details["title"] != "x" ||
		ext.Details["nested"].(map[string]any)["Password"] != "[redacted]" {
		t.Errorf("external entry %+v", ext)
	}

	for _, limit := range []int{1, 2, 3, 4, 5} {
		t.Run("limit "+strconv.Itoa(limit), func(t *testing.T) {
			var paged []audit.Entry
			after := uint64(0)
			for pages := 0; ; pages++ {
				if pages > 10 {
					t.Fatal("paging does not end")
				}
				page, next, err := e.s.Audit.List(e.ctx(), after, limit)
				if err != nil {
					t.Fatal(err)
				}
				if len(page) > limit {
					t.Fatalf("page of %d", len(page))
				}
				paged = append(paged, page...)
				if next == 0 {
					break
				}
				after = next
			}
			if !reflect.DeepEqual(paged, all) {
				t.Fatalf("paged %v", paged)
			}
		})
	}
	if page, next, _ := e.s.Audit.List(e.ctx(), 4, 10); len(page) != 0 || next != 0 {
		t.Fatalf("after the end: %v %d", page, next)
	}
}

func TestBootstrap(t *testing.T) {
	e := newEnv(t, func(o *access.Options) {
		o.Passwords = identity.PasswordPolicy{MinLength: 12, RequireUpper: true, RequireLower: true, RequireDigit: true, RequireSymbol: true}
	})
	res, err := e.s.Bootstrap(e.ctx(), identity.BootstrapOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if !res.Created || res.AdminUsername != "admin" || len(res.GeneratedPassword) != 24 || res.GeneratedConsumerSecret == "" || res.ConsumerKey == "" {
		t.Fatalf("%+v", res)
	}
	admin, err := e.s.Identity.CheckPassword(e.ctx(), "admin", res.GeneratedPassword, "")
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range authz.StaticRoles() {
		if has := e.s.Authz.Has(admin.ID, "", r.Name); has == r.RequiresBankID {
			t.Errorf("admin has %s: %v", r.Name, has)
		}
	}
	c, err := e.s.Identity.CheckConsumerSecret(res.ConsumerKey, res.GeneratedConsumerSecret)
	if err != nil || c.CreatedBy != admin.ID {
		t.Fatalf("%+v %v", c, err)
	}
	users, consumers, ents, entries := e.users(), e.consumers(), e.systemEnts(), len(e.actions())
	if acts := e.actions(); acts[len(acts)-1] != "bootstrap" {
		t.Errorf("audit %v", acts)
	}

	// A restart: nothing created.
	s2 := e.reopen()
	res2, err := s2.Bootstrap(e.ctx(), identity.BootstrapOptions{AdminPassword: "Other-Password-1"})
	if err != nil || res2.Created || res2.GeneratedPassword != "" || res2.GeneratedConsumerSecret != "" || res2.AdminUsername != "admin" {
		t.Fatalf("%+v %v", res2, err)
	}
	if e.users() != users || e.consumers() != consumers || e.systemEnts() != ents || len(e.actions()) != entries {
		t.Fatal("a second bootstrap wrote")
	}

	// An upgrade registering a new system role grants it to the admin.
	s3 := e.reopen()
	s3.Authz.RegisterRoles(authz.Role{Name: "CanDoNewThings"}, authz.Role{Name: "CanDoAtBank", RequiresBankID: true})
	if res3, err := s3.Bootstrap(e.ctx(), identity.BootstrapOptions{}); err != nil || res3.Created {
		t.Fatalf("%+v %v", res3, err)
	}
	if !s3.Authz.Has(admin.ID, "", "CanDoNewThings") || s3.Authz.Has(admin.ID, "", "CanDoAtBank") {
		t.Fatal("upgrade grants")
	}
	if e.systemEnts() != ents+1 || e.users() != users {
		t.Fatal("upgrade wrote too much")
	}
}

func TestCreateBank(t *testing.T) {
	e := newEnv(t)
	creator := e.user("creator")
	tests := []struct {
		name   string
		bank   banks.Bank
		status int
		code   string
	}{
		{"ok", banks.Bank{ID: "bank-1.x_y", ShortName: "B1"}, 0, ""},
		{"empty id", banks.Bank{}, 400, engine.CodeValidationFailed},
		{"leading dot", banks.Bank{ID: ".bank"}, 400, engine.CodeValidationFailed},
		{"slash", banks.Bank{ID: "a/b"}, 400, engine.CodeValidationFailed},
		{"too long", banks.Bank{ID: "a" + string(make([]byte, 128))}, 400, engine.CodeValidationFailed},
		{"long name", banks.Bank{ID: "ok2", FullName: string(make([]byte, 257))}, 400, engine.CodeValidationFailed},
		{"duplicate", banks.Bank{ID: "bank-1.x_y"}, 409, banks.CodeBankExists},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b, err := e.s.CreateBank(e.ctx(), audit.Actor{UserID: creator.ID}, tc.bank)
			if tc.status != 0 {
				accesstest.WantErr(t, err, tc.status, tc.code)
				return
			}
			if err != nil || b.ID != tc.bank.ID || b.CreatedAt.IsZero() {
				t.Fatalf("%+v %v", b, err)
			}
		})
	}
	if !e.s.Banks.Exists("bank-1.x_y") || e.s.Banks.Exists("ok2") {
		t.Error("Banks.Exists")
	}
	if !e.s.Authz.Has(creator.ID, "bank-1.x_y", authz.RoleCanCreateEntitlementAtOneBank) {
		t.Error("creator not granted CanCreateEntitlementAtOneBank")
	}
	if got := e.actions(); !slices.Equal(got, []string{"user.create", "bank.create", "entitlement.grant"}) {
		t.Errorf("audit %v", got)
	}
	if _, err := e.s.Banks.Get(e.ctx(), "nope"); err == nil {
		t.Error("missing bank found")
	}
	list, err := e.s.Banks.List(e.ctx())
	if err != nil || len(list) != 1 {
		t.Fatalf("%v %v", list, err)
	}
	// The creator can now grant bank roles there.
	other := e.user("other")
	if _, err := e.s.Authz.Grant(e.ctx(), audit.Actor{UserID: creator.ID}, other.ID, "bank-1.x_y", authz.RoleCanGetEntitlementsForOneBank); err != nil {
		t.Fatal(err)
	}
}

func TestSetDynamicRolesAndTx(t *testing.T) {
	e := newEnv(t)
	u := e.user("u")
	if err := e.addRoles("ep", []authz.Role{{Name: "CanKeep"}, {Name: "CanDrop"}}); err != nil {
		t.Fatal(err)
	}
	e.grant(u.ID, "", "CanKeep")
	e.grant(u.ID, "", "CanDrop")
	removed, err := e.setRoles("ep", []authz.Role{{Name: "CanKeep"}, {Name: "CanNew"}})
	if err != nil || !slices.Equal(removed, []string{"CanDrop"}) {
		t.Fatalf("%v %v", removed, err)
	}
	if !e.s.Authz.Has(u.ID, "", "CanKeep") || e.s.Authz.Has(u.ID, "", "CanDrop") {
		t.Fatal("kept role lost its entitlement, or dropped one kept it")
	}
	if _, ok := e.s.Authz.Role("CanNew"); !ok {
		t.Fatal("CanNew missing")
	}

	// Inside the caller's transaction: atomic with the caller's own write,
	// visible once it commits.
	err = e.s.Update(e.ctx(), func(tx *access.Tx) error {
		if err := tx.Put("endpoints", "ep2", []byte("{}")); err != nil {
			return err
		}
		if err := tx.AddDynamicRoles(audit.Actor{UserID: u.ID}, "ep2", []authz.Role{{Name: "CanTx"}}); err != nil {
			return err
		}
		if err := tx.GrantRoles(audit.Actor{UserID: u.ID}, u.ID, "", []authz.Role{{Name: "CanTx"}, {Name: "CanKeep"}}); err != nil {
			return err
		}
		return tx.Audit(audit.Actor{UserID: u.ID}, "dynamic_endpoint.create", "ep2", "", nil)
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := e.s.Authz.Role("CanTx"); !ok || !e.s.Authz.Has(u.ID, "", "CanTx") {
		t.Fatal("CanTx missing, or not granted, after the commit")
	}
	// A rolled-back transaction leaves nothing, audit and views included.
	before := len(e.actions())
	boom := errors.New("boom")
	err = e.s.Update(e.ctx(), func(tx *access.Tx) error {
		if _, err := tx.RemoveDynamicRoles(audit.Actor{}, "ep"); err != nil {
			return err
		}
		if _, err := tx.SetDynamicRoles(audit.Actor{}, "ep2", nil); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatal(err)
	}
	if _, ok := e.s.Authz.Role("CanKeep"); !ok || !e.s.Authz.Has(u.ID, "", "CanKeep") || !e.s.Authz.Has(u.ID, "", "CanTx") || len(e.actions()) != before {
		t.Fatal("rolled-back removal took effect")
	}
	if again := e.reopen(); !again.Authz.Has(u.ID, "", "CanKeep") || !again.Authz.Has(u.ID, "", "CanTx") {
		t.Fatal("rolled-back removal reached the store")
	}
	removed, err = e.setRoles("ep", nil)
	if err != nil || !slices.Equal(removed, []string{"CanKeep", "CanNew"}) {
		t.Fatalf("%v %v", removed, err)
	}
	// A dynamic role registered as static since keeps its entitlements
	// when its last owner goes.
	if err := e.addRoles("ep3", []authz.Role{{Name: "CanLater"}}); err != nil {
		t.Fatal(err)
	}
	e.grant(u.ID, "", "CanLater")
	e.s.Authz.RegisterRoles(authz.Role{Name: "CanLater"})
	removed, err = e.setRoles("ep3", nil)
	if r, ok := e.s.Authz.Role("CanLater"); err != nil || removed != nil || !ok || r.Dynamic || !e.s.Authz.Has(u.ID, "", "CanLater") {
		t.Fatalf("%v %v %+v %v", removed, err, r, ok)
	}
}

// TestDeleteUser: a user goes with its grants, its requests and its
// consumers' use, in one transaction audited in order; other users keep
// theirs, and a missing user is a 404 that changes nothing.
func TestDeleteUser(t *testing.T) {
	e := newEnv(t)
	u := e.user("alice")
	other := e.user("bob")
	e.grant(u.ID, "", authz.RoleCanCreateUser)
	e.grant(other.ID, "", authz.RoleCanCreateUser)
	if _, err := e.s.Authz.RequestEntitlement(e.ctx(), audit.Actor{UserID: u.ID}, "", authz.RoleCanGetAnyUser); err != nil {
		t.Fatal(err)
	}
	c, _, err := e.s.Identity.CreateConsumer(e.ctx(), audit.Actor{UserID: u.ID}, "app")
	if err != nil {
		t.Fatal(err)
	}
	before := len(e.actions())
	accesstest.WantErr(t, e.s.DeleteUser(e.ctx(), audit.Actor{}, "nope"), 404, engine.CodeNotFound)
	if len(e.actions()) != before {
		t.Fatal("a refused deletion was audited")
	}

	if err := e.s.DeleteUser(e.ctx(), audit.Actor{UserID: other.ID}, u.ID); err != nil {
		t.Fatal(err)
	}
	if got := e.actions()[before:]; !slices.Equal(got, []string{"entitlement.delete", "consumer.disable", "user.delete"}) {
		t.Errorf("audit %v", got)
	}
	if e.s.Authz.Has(u.ID, "", authz.RoleCanCreateUser) || !e.s.Authz.Has(other.ID, "", authz.RoleCanCreateUser) {
		t.Error("the view kept the deleted user's grant, or lost another's")
	}
	if reqs, err := e.s.Authz.EntitlementRequests(e.ctx(), ""); err != nil || len(reqs) != 0 {
		t.Errorf("requests left: %v %v", reqs, err)
	}
	if _, ok := e.s.Identity.ConsumerByKey(c.Key); ok {
		t.Error("the deleted user's consumer is still enabled")
	}
	if e.s.Identity.SessionValid(u.ID, e.clock.Now().Add(time.Hour)) {
		t.Error("the deleted user's sessions are valid")
	}
	if s2 := e.reopen(); s2.Authz.Has(u.ID, "", authz.RoleCanCreateUser) || !s2.Authz.Has(other.ID, "", authz.RoleCanCreateUser) {
		t.Error("a reload disagrees")
	}
}
