package access_test

import (
	"context"
	"testing"

	"github.com/dynapi/dynapi/engine/access"
	"github.com/dynapi/dynapi/engine/audit"
	"github.com/dynapi/dynapi/engine/authz"
	"github.com/dynapi/dynapi/engine/banks"
	"github.com/dynapi/dynapi/engine/identity"
	"github.com/dynapi/dynapi/internal/accesstest"
	"github.com/dynapi/dynapi/internal/fakeclock"
)

// env is access control on a fresh bolt store with a fake clock.
type env struct {
	t     testing.TB
	clock *fakeclock.Clock
	s     *access.Service
	opts  access.Options
}

func newEnv(t testing.TB, mod ...func(*access.Options)) *env {
	t.Helper()
	c := fakeclock.New()
	opts := access.Options{Store: accesstest.Store(t), Now: c.Now,
		PasswordHashing: identity.PasswordHashing{MemoryKiB: 64, Iterations: 1, Parallelism: 1}}
	for _, m := range mod {
		m(&opts)
	}
	e := &env{t: t, clock: c, opts: opts}
	e.s = e.reopen()
	return e
}

// reopen returns a new service on the same store, as after a restart.
func (e *env) reopen() *access.Service {
	e.t.Helper()
	s, err := access.New(e.t.Context(), e.opts)
	if err != nil {
		e.t.Fatal(err)
	}
	return s
}

func (e *env) ctx() context.Context { return e.t.Context() }

func (e *env) user(name string) *identity.User {
	e.t.Helper()
	u, err := e.s.Identity.CreateUser(e.ctx(), audit.Actor{}, identity.NewUser{Username: name, Password: accesstest.GoodPassword})
	if err != nil {
		e.t.Fatalf("CreateUser %s: %v", name, err)
	}
	return u
}

func (e *env) grant(userID, bankID, role string) *authz.Entitlement {
	e.t.Helper()
	ent, err := e.s.Authz.Grant(e.ctx(), audit.Actor{}, userID, bankID, role)
	if err != nil {
		e.t.Fatalf("Grant %s %s %s: %v", userID, bankID, role, err)
	}
	return ent
}

// actions returns the audit log's actions, oldest first.
func (e *env) actions() []string { return accesstest.Actions(e.t, e.s.Audit) }

// users counts the users.
func (e *env) users() int {
	e.t.Helper()
	list, _, err := e.s.Identity.Users(e.ctx(), "", 1000)
	if err != nil {
		e.t.Fatal(err)
	}
	return len(list)
}

// consumers counts the consumers.
func (e *env) consumers() int {
	e.t.Helper()
	list, err := e.s.Identity.Consumers(e.ctx(), "")
	if err != nil {
		e.t.Fatal(err)
	}
	return len(list)
}

// systemEnts counts the system-wide entitlements.
func (e *env) systemEnts() int {
	e.t.Helper()
	list, err := e.s.Authz.EntitlementsAtBank(e.ctx(), "")
	if err != nil {
		e.t.Fatal(err)
	}
	return len(list)
}

// setRoles sets owner's dynamic roles in a transaction of their own.
func (e *env) setRoles(owner string, roles []authz.Role) (removed []string, err error) {
	err = e.s.Update(e.ctx(), func(tx *access.Tx) error {
		removed, err = tx.SetDynamicRoles(audit.Actor{}, owner, roles)
		return err
	})
	return removed, err
}

// addRoles adds owner's dynamic roles in a transaction of their own.
func (e *env) addRoles(owner string, roles []authz.Role) error {
	return e.s.Update(e.ctx(), func(tx *access.Tx) error { return tx.AddDynamicRoles(audit.Actor{}, owner, roles) })
}

// bank creates a bank as the system, granting nobody.
func (e *env) bank(id string) {
	e.t.Helper()
	if _, err := e.s.CreateBank(e.ctx(), audit.Actor{}, banks.Bank{ID: id, ShortName: id}); err != nil {
		e.t.Fatalf("CreateBank %s: %v", id, err)
	}
}
