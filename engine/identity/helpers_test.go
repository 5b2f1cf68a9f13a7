package identity

import (
	"context"
	"testing"

	"github.com/dynapi/dynapi/engine"
	"github.com/dynapi/dynapi/engine/audit"
	"github.com/dynapi/dynapi/engine/viewtx"
	"github.com/dynapi/dynapi/internal/accesstest"
	"github.com/dynapi/dynapi/internal/fakeclock"
)

// fastHash keeps tests quick: argon2id with 64 KiB and one lane.
var fastHash = PasswordHashing{MemoryKiB: 64, Iterations: 1, Parallelism: 1}

const goodPassword = accesstest.GoodPassword

// env is a service on a fresh bolt store with a fake clock.
type env struct {
	t     testing.TB
	store engine.Store
	clock *fakeclock.Clock
	w     *viewtx.Writer
	log   *audit.Log
	s     *Service
	opts  Options
}

func newEnv(t testing.TB, mod ...func(*Options)) *env {
	t.Helper()
	st := accesstest.Store(t)
	c := fakeclock.New()
	w := viewtx.NewWriter(st)
	log := audit.New(st, c.Now)
	opts := Options{Writer: w, Audit: log, Now: c.Now, PasswordHashing: fastHash}
	for _, m := range mod {
		m(&opts)
	}
	s, err := New(t.Context(), opts)
	if err != nil {
		t.Fatal(err)
	}
	return &env{t: t, store: st, clock: c, w: w, log: log, s: s, opts: opts}
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

func (e *env) user(name string) *User {
	e.t.Helper()
	u, err := e.s.CreateUser(e.ctx(), audit.Actor{}, NewUser{Username: name, Password: goodPassword})
	if err != nil {
		e.t.Fatalf("CreateUser %s: %v", name, err)
	}
	return u
}

// deleteUser deletes a user in a transaction of its own.
func (e *env) deleteUser(a audit.Actor, id string) error {
	return e.w.Update(e.ctx(), func(tx *viewtx.Tx) error { return e.s.DeleteUserTx(tx, a, id) })
}

// bootstrap runs Bootstrap granting the admin nothing.
func (e *env) bootstrap(opts BootstrapOptions) (*BootstrapResult, error) {
	return e.s.Bootstrap(e.ctx(), opts, func(*viewtx.Tx, string) (int, error) { return 0, nil })
}

// actions returns the audit log's actions, oldest first.
func (e *env) actions() []string { return accesstest.Actions(e.t, e.log) }

// count returns the number of keys in bucket.
func (e *env) count(bucket string) int { return accesstest.Count(e.t, e.store, bucket) }
