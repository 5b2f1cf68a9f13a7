package access

import (
	"errors"
	"net/http"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/dynapi/dynapi/engine"
	"github.com/dynapi/dynapi/engine/audit"
)

func TestConsumers(t *testing.T) {
	e := newEnv(t)
	owner := e.user("owner")
	c, secret, err := e.s.CreateConsumer(e.ctx(), audit.Actor{UserID: owner.ID}, "my app")
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Key) != 43 || len(secret) != 43 || c.Key == secret || !c.Enabled || c.CreatedBy != owner.ID {
		t.Fatalf("consumer %+v secret %q", c, secret)
	}
	other, otherSecret, _ := e.s.CreateConsumer(e.ctx(), audit.Actor{}, "system app")
	want401 := engine.NewError(http.StatusUnauthorized, engine.CodeUnauthorized, "invalid client credentials")
	tests := []struct {
		name, key, secret string
		ok                bool
	}{
		{"right", c.Key, secret, true},
		{"wrong secret", c.Key, secret[:42] + "x", false},
		{"other's secret", c.Key, otherSecret, false},
		{"empty secret", c.Key, "", false},
		{"unknown key", "nope", secret, false},
		{"other right", other.Key, otherSecret, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := e.s.CheckConsumerSecret(tc.key, tc.secret)
			if tc.ok {
				if err != nil || got.Key != tc.key {
					t.Fatalf("%+v %v", got, err)
				}
				return
			}
			if got != nil || !reflect.DeepEqual(err, want401) {
				t.Fatalf("got %+v %#v", got, err)
			}
		})
	}

	if _, ok := e.s.ConsumerByKey(c.Key); !ok {
		t.Fatal("ConsumerByKey")
	}
	if _, err := e.s.SetConsumerEnabled(e.ctx(), audit.Actor{}, c.ID, false); err != nil {
		t.Fatal(err)
	}
	if _, err := e.s.CheckConsumerSecret(c.Key, secret); !reflect.DeepEqual(err, want401) {
		t.Fatalf("disabled consumer: %v", err)
	}
	if _, ok := e.s.ConsumerByKey(c.Key); ok {
		t.Fatal("ConsumerByKey returns a disabled consumer")
	}
	if got, _ := e.s.Consumer(e.ctx(), c.ID); got.Enabled {
		t.Fatal("stored as enabled")
	}
	if _, err := e.s.SetConsumerEnabled(e.ctx(), audit.Actor{}, c.ID, true); err != nil {
		t.Fatal(err)
	}
	if _, err := e.s.CheckConsumerSecret(c.Key, secret); err != nil {
		t.Fatal(err)
	}
	// Read on every authenticated request: the shared view, no copy.
	if allocs := testing.AllocsPerRun(100, func() { _, _ = e.s.ConsumerByKey(c.Key) }); allocs != 0 {
		t.Fatalf("ConsumerByKey allocates %v times per call", allocs)
	}

	errTests := []struct {
		name   string
		run    func() error
		status int
		code   string
	}{
		{"missing", func() error { _, err := e.s.Consumer(e.ctx(), "nope"); return err }, 404, engine.CodeNotFound},
		{"enable missing", func() error { _, err := e.s.SetConsumerEnabled(e.ctx(), audit.Actor{}, "nope", true); return err }, 404, engine.CodeNotFound},
		{"empty name", func() error { _, _, err := e.s.CreateConsumer(e.ctx(), audit.Actor{}, " "); return err }, 400, engine.CodeValidationFailed},
		{"bad key", func() error {
			_, err := e.s.CreateConsumerWith(e.ctx(), audit.Actor{}, "x", "a key", strings.Repeat("s", 32))
			return err
		}, 400, engine.CodeValidationFailed},
		{"short secret", func() error {
			_, err := e.s.CreateConsumerWith(e.ctx(), audit.Actor{}, "x", "key", "short")
			return err
		}, 400, engine.CodeValidationFailed},
		{"duplicate key", func() error {
			_, err := e.s.CreateConsumerWith(e.ctx(), audit.Actor{}, "x", c.Key, strings.Repeat("s", 32))
			return err
		}, 409, CodeConsumerKeyExists},
	}
	for _, tc := range errTests {
		t.Run(tc.name, func(t *testing.T) { wantErr(t, tc.run(), tc.status, tc.code) })
	}

	e.clock.Advance(time.Second) // consumers list oldest first
	configured, err := e.s.CreateConsumerWith(e.ctx(), audit.Actor{}, "configured", "my-key", strings.Repeat("s", 40))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.s.CheckConsumerSecret("my-key", strings.Repeat("s", 40)); err != nil {
		t.Fatal(err)
	}
	mine, _ := e.s.Consumers(e.ctx(), owner.ID)
	all, _ := e.s.Consumers(e.ctx(), "")
	if len(mine) != 1 || len(all) != 3 || all[2].ID != configured.ID {
		t.Fatalf("mine %v all %v", mine, all)
	}
	// A restart loads the same view.
	s2 := e.reopen()
	if _, err := s2.CheckConsumerSecret(c.Key, secret); err != nil {
		t.Fatal(err)
	}
}

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
			wantErr(t, e.addRoles(tc.owner, tc.roles), tc.status, tc.code)
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
	wantErr(t, err, 400, CodeUnknownRole)

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

func TestSetDynamicRolesAndTx(t *testing.T) {
	e := newEnv(t)
	u := e.user("u")
	if err := e.addRoles("ep", []Role{{Name: "CanKeep"}, {Name: "CanDrop"}}); err != nil {
		t.Fatal(err)
	}
	e.grant(u.ID, "", "CanKeep")
	e.grant(u.ID, "", "CanDrop")
	removed, err := e.setRoles("ep", []Role{{Name: "CanKeep"}, {Name: "CanNew"}})
	if err != nil || !slices.Equal(removed, []string{"CanDrop"}) {
		t.Fatalf("%v %v", removed, err)
	}
	if !e.s.Has(u.ID, "", "CanKeep") || e.s.Has(u.ID, "", "CanDrop") {
		t.Fatal("kept role lost its entitlement, or dropped one kept it")
	}
	if _, ok := e.s.Role("CanNew"); !ok {
		t.Fatal("CanNew missing")
	}

	// Inside the caller's transaction: atomic with the caller's own write,
	// visible once it commits.
	err = e.s.Update(e.ctx(), func(tx *Tx) error {
		if err := tx.Put("endpoints", "ep2", []byte("{}")); err != nil {
			return err
		}
		if err := tx.AddDynamicRoles(audit.Actor{UserID: u.ID}, "ep2", []Role{{Name: "CanTx"}}); err != nil {
			return err
		}
		if err := tx.GrantRoles(audit.Actor{UserID: u.ID}, u.ID, "", []Role{{Name: "CanTx"}, {Name: "CanKeep"}}); err != nil {
			return err
		}
		return tx.Audit(audit.Actor{UserID: u.ID}, "dynamic_endpoint.create", "ep2", "", nil)
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := e.s.Role("CanTx"); !ok || !e.s.Has(u.ID, "", "CanTx") {
		t.Fatal("CanTx missing, or not granted, after the commit")
	}
	// A rolled-back transaction leaves nothing, audit and views included.
	before := len(e.actions())
	boom := errors.New("boom")
	err = e.s.Update(e.ctx(), func(tx *Tx) error {
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
	if _, ok := e.s.Role("CanKeep"); !ok || !e.s.Has(u.ID, "", "CanKeep") || !e.s.Has(u.ID, "", "CanTx") || len(e.actions()) != before {
		t.Fatal("rolled-back removal took effect")
	}
	if again := e.reopen(); !again.Has(u.ID, "", "CanKeep") || !again.Has(u.ID, "", "CanTx") {
		t.Fatal("rolled-back removal reached the store")
	}
	removed, err = e.setRoles("ep", nil)
	if err != nil || !slices.Equal(removed, []string{"CanKeep", "CanNew"}) {
		t.Fatalf("%v %v", removed, err)
	}
	// A dynamic role registered as static since keeps its entitlements
	// when its last owner goes.
	if err := e.addRoles("ep3", []Role{{Name: "CanLater"}}); err != nil {
		t.Fatal(err)
	}
	e.grant(u.ID, "", "CanLater")
	e.s.RegisterRoles(Role{Name: "CanLater"})
	removed, err = e.removeRoles("ep3")
	if r, ok := e.s.Role("CanLater"); err != nil || removed != nil || !ok || r.Dynamic || !e.s.Has(u.ID, "", "CanLater") {
		t.Fatalf("%v %v %+v %v", removed, err, r, ok)
	}
}

func TestAuditLog(t *testing.T) {
	e := newEnv(t)
	a := audit.Actor{UserID: "admin-id", ConsumerID: "consumer-id", CorrelationID: "corr-1"}
	u, err := e.s.CreateUser(e.ctx(), a, NewUser{Username: "alice", Password: goodPassword})
	if err != nil {
		t.Fatal(err)
	}
	e.bank("b1")
	if _, err := e.s.SetLocked(e.ctx(), a, u.ID, true); err != nil {
		t.Fatal(err)
	}
	if err := e.s.Audit.Record(e.ctx(), a, "dynamic_endpoint.create", "ep-1", "b1", map[string]any{
		"title": "x", "client_secret": "s3cr3t", "nested": map[string]any{"Password": "hunter2", "ok": 1},
	}); err != nil {
		t.Fatal(err)
	}
	// Failed changes write nothing.
	_, _ = e.s.CreateUser(e.ctx(), a, NewUser{Username: "alice", Password: goodPassword})
	_, _ = e.s.Grant(e.ctx(), a, u.ID, "", "CanFly")

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
		t.Run("limit "+itoa(limit), func(t *testing.T) {
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
	e := newEnv(t, func(o *Options) {
		o.Passwords = PasswordPolicy{MinLength: 12, RequireUpper: true, RequireLower: true, RequireDigit: true, RequireSymbol: true}
	})
	res, err := e.s.Bootstrap(e.ctx(), BootstrapOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if !res.Created || res.AdminUsername != "admin" || len(res.GeneratedPassword) != 24 || res.GeneratedConsumerSecret == "" || res.ConsumerKey == "" {
		t.Fatalf("%+v", res)
	}
	admin, err := e.s.CheckPassword(e.ctx(), "admin", res.GeneratedPassword, "")
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range StaticRoles() {
		if has := e.s.Has(admin.ID, "", r.Name); has == r.RequiresBankID {
			t.Errorf("admin has %s: %v", r.Name, has)
		}
	}
	c, err := e.s.CheckConsumerSecret(res.ConsumerKey, res.GeneratedConsumerSecret)
	if err != nil || c.CreatedBy != admin.ID {
		t.Fatalf("%+v %v", c, err)
	}
	users, consumers, ents, audit := e.count(bucketUsers), e.count(bucketConsumers), e.count(bucketEnts), len(e.actions())
	if acts := e.actions(); acts[len(acts)-1] != "bootstrap" {
		t.Errorf("audit %v", acts)
	}

	// A restart: nothing created.
	s2 := e.reopen()
	res2, err := s2.Bootstrap(e.ctx(), BootstrapOptions{AdminPassword: "Other-Password-1"})
	if err != nil || res2.Created || res2.GeneratedPassword != "" || res2.GeneratedConsumerSecret != "" || res2.AdminUsername != "admin" {
		t.Fatalf("%+v %v", res2, err)
	}
	if e.count(bucketUsers) != users || e.count(bucketConsumers) != consumers || e.count(bucketEnts) != ents || len(e.actions()) != audit {
		t.Fatal("a second bootstrap wrote")
	}

	// An upgrade registering a new system role grants it to the admin.
	s3 := e.reopen()
	s3.RegisterRoles(Role{Name: "CanDoNewThings"}, Role{Name: "CanDoAtBank", RequiresBankID: true})
	if res3, err := s3.Bootstrap(e.ctx(), BootstrapOptions{}); err != nil || res3.Created {
		t.Fatalf("%+v %v", res3, err)
	}
	if !s3.Has(admin.ID, "", "CanDoNewThings") || s3.Has(admin.ID, "", "CanDoAtBank") {
		t.Fatal("upgrade grants")
	}
	if e.count(bucketEnts) != ents+1 || e.count(bucketUsers) != users {
		t.Fatal("upgrade wrote too much")
	}
}

func TestBootstrapConfigured(t *testing.T) {
	e := newEnv(t)
	_, err := e.s.Bootstrap(e.ctx(), BootstrapOptions{AdminPassword: "short"})
	wantErr(t, err, 400, engine.CodeValidationFailed)
	if e.count(bucketUsers) != 0 {
		t.Fatal("a refused bootstrap wrote")
	}
	secret := strings.Repeat("k", 40)
	res, err := e.s.Bootstrap(e.ctx(), BootstrapOptions{AdminUsername: "root", AdminPassword: goodPassword,
		ConsumerKey: "boot-key", ConsumerSecret: secret})
	if err != nil || !res.Created || res.GeneratedPassword != "" || res.GeneratedConsumerSecret != "" || res.ConsumerKey != "boot-key" {
		t.Fatalf("%+v %v", res, err)
	}
	if _, err := e.s.CheckPassword(e.ctx(), "root", goodPassword, ""); err != nil {
		t.Fatal(err)
	}
	if _, err := e.s.CheckConsumerSecret("boot-key", secret); err != nil {
		t.Fatal(err)
	}
}

func TestThrottleBounded(t *testing.T) {
	th := newThrottle(ThrottleOptions{})
	now := time.Now()
	for i := range maxThrottleEntries + 10 {
		th.end("u"+itoa(i), "addr-"+itoa(i), failed, now)
	}
	for name, m := range map[string]map[string]*failures{"pairs": th.pairs, "users": th.users, "addresses": th.addrs} {
		if n := len(m); n > maxThrottleEntries {
			t.Fatalf("%s: %d entries", name, n)
		}
	}
}
