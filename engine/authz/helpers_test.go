package authz

import (
	"context"
	"testing"

	"github.com/dynapi/dynapi/engine"
	"github.com/dynapi/dynapi/engine/audit"
	"github.com/dynapi/dynapi/engine/banks"
	"github.com/dynapi/dynapi/engine/identity"
	"github.com/dynapi/dynapi/engine/viewtx"
	"github.com/dynapi/dynapi/internal/accesstest"
	"github.com/dynapi/dynapi/internal/fakeclock"
)

// env is a service, with the users and banks it grants to, on a fresh
// bolt store with a fake clock.
type env struct {
	t     testing.TB
	store engine.Store
	clock *fakeclock.Clock
	w     *viewtx.Writer
	log   *audit.Log
	ids   *identity.Service
	banks *banks.Service
	s     *Service
	opts  Options
}

func newEnv(t testing.TB, mod ...func(*Options)) *env {
	t.Helper()
	st := accesstest.Store(t)
	c := fakeclock.New()
	w := viewtx.NewWriter(st)
	log := audit.New(st, c.Now)
	ids, err := identity.New(t.Context(), identity.Options{Writer: w, Audit: log, Now: c.Now,
		PasswordHashing: identity.PasswordHashing{MemoryKiB: 64, Iterations: 1, Parallelism: 1}})
	if err != nil {
		t.Fatal(err)
	}
	bk, err := banks.New(t.Context(), w, log, c.Now)
	if err != nil {
		t.Fatal(err)
	}
	opts := Options{Writer: w, Audit: log, Now: c.Now}
	for _, m := range mod {
		m(&opts)
	}
	s, err := New(t.Context(), opts)
	if err != nil {
		t.Fatal(err)
	}
	return &env{t: t, store: st, clock: c, w: w, log: log, ids: ids, banks: bk, s: s, opts: opts}
}

// reopen returns a new service on the same store, as after a restart.
func (e *env) reopen() *Service {
	e.t.Helper()
	s, err := New(e.t.Context(), e.opts)
	if err != nil {
		e.t.Fatal(err)
	}
	return s
}

func (e *env) ctx() context.Context { return e.t.Context() }

func (e *env) user(name string) *identity.User {
	e.t.Helper()
	u, err := e.ids.CreateUser(e.ctx(), audit.Actor{}, identity.NewUser{Username: name, Password: accesstest.GoodPassword})
	if err != nil {
		e.t.Fatalf("CreateUser %s: %v", name, err)
	}
	return u
}

func (e *env) bank(id string) {
	e.t.Helper()
	err := e.w.Update(e.ctx(), func(tx *viewtx.Tx) error {
		_, err := e.banks.CreateTx(tx, audit.Actor{}, banks.Bank{ID: id, ShortName: id})
		return err
	})
	if err != nil {
		e.t.Fatalf("CreateBank %s: %v", id, err)
	}
}

func (e *env) grant(userID, bankID, role string) *Entitlement {
	e.t.Helper()
	ent, err := e.s.Grant(e.ctx(), audit.Actor{}, userID, bankID, role)
	if err != nil {
		e.t.Fatalf("Grant %s %s %s: %v", userID, bankID, role, err)
	}
	return ent
}

// deleteUser deletes a user with its grants, as access control does.
func (e *env) deleteUser(a audit.Actor, id string) error {
	return e.w.Update(e.ctx(), func(tx *viewtx.Tx) error {
		if err := identity.RequireUser(tx, id); err != nil {
			return err
		}
		if err := e.s.DeleteUserGrantsTx(tx, a, id); err != nil {
			return err
		}
		return e.ids.DeleteUserTx(tx, a, id)
	})
}

// actions returns the audit log's actions, oldest first.
func (e *env) actions() []string { return accesstest.Actions(e.t, e.log) }

// count returns the number of keys in bucket.
func (e *env) count(bucket string) int { return accesstest.Count(e.t, e.store, bucket) }

// addRoles adds owner's dynamic roles in a transaction of their own.
func (e *env) addRoles(owner string, roles []Role) error {
	return e.w.Update(e.ctx(), func(tx *viewtx.Tx) error { return e.s.AddDynamicRolesTx(tx, audit.Actor{}, owner, roles) })
}

// setRoles sets owner's dynamic roles in a transaction of their own.
func (e *env) setRoles(owner string, roles []Role) (removed []string, err error) {
	err = e.w.Update(e.ctx(), func(tx *viewtx.Tx) error {
		removed, err = e.s.SetDynamicRolesTx(tx, audit.Actor{}, owner, roles)
		return err
	})
	return removed, err
}

// removeRoles removes owner's dynamic roles in a transaction of their own.
func (e *env) removeRoles(owner string) (removed []string, err error) {
	return e.setRoles(owner, nil)
}
