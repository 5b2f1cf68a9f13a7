package access

import (
	"context"
	"errors"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/dynapi/dynapi/engine"
	"github.com/dynapi/dynapi/engine/audit"
	"github.com/dynapi/dynapi/plugins/boltstore"
)

// fastHash keeps tests quick: argon2id with 64 KiB and one lane.
var fastHash = PasswordHashing{MemoryKiB: 64, Iterations: 1, Parallelism: 1}

// clock is a fake clock tests move by hand.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// env is a service on a fresh bolt store with a fake clock.
type env struct {
	t     testing.TB
	store engine.Store
	clock *clock
	s     *Service
	opts  Options
}

func newEnv(t testing.TB, mod ...func(*Options)) *env {
	t.Helper()
	st, err := boltstore.Open(filepath.Join(t.TempDir(), "access.db"), boltstore.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	c := newClock()
	opts := Options{Store: st, Now: c.Now, PasswordHashing: fastHash}
	for _, m := range mod {
		m(&opts)
	}
	s, err := New(t.Context(), opts)
	if err != nil {
		t.Fatal(err)
	}
	return &env{t: t, store: st, clock: c, s: s, opts: opts}
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

const goodPassword = "correct horse battery 9"

func (e *env) user(name string) *User {
	e.t.Helper()
	u, err := e.s.CreateUser(e.ctx(), audit.Actor{}, NewUser{Username: name, Password: goodPassword})
	if err != nil {
		e.t.Fatalf("CreateUser %s: %v", name, err)
	}
	return u
}

func (e *env) bank(id string) {
	e.t.Helper()
	if _, err := e.s.CreateBank(e.ctx(), audit.Actor{}, Bank{ID: id, ShortName: id}); err != nil {
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

// actions returns the audit log's actions, oldest first.
func (e *env) actions() []string {
	e.t.Helper()
	entries, _, err := e.s.Audit.List(e.ctx(), 0, 1000)
	if err != nil {
		e.t.Fatal(err)
	}
	var out []string
	for _, a := range entries {
		out = append(out, a.Action)
	}
	return out
}

// wantErr fails unless err is an *engine.Error with status and code.
func wantErr(t *testing.T, err error, status int, code string) *engine.Error {
	t.Helper()
	var e *engine.Error
	if !errors.As(err, &e) {
		t.Fatalf("got error %v (%T), want *engine.Error %d %s", err, err, status, code)
	}
	if e.Status != status || e.Code != code {
		t.Fatalf("got %d %s (%s), want %d %s", e.Status, e.Code, e.Message, status, code)
	}
	return e
}

func violationCodes(e *engine.Error) []string {
	var out []string
	for _, v := range e.Violations {
		out = append(out, v.Code)
	}
	slices.Sort(out)
	return out
}

// count returns the number of keys in bucket.
func (e *env) count(bucket string) int {
	e.t.Helper()
	n := 0
	err := e.store.View(e.ctx(), func(tx engine.Tx) error {
		return tx.Scan(bucket, "", func(string, []byte) error { n++; return nil })
	})
	if err != nil {
		e.t.Fatal(err)
	}
	return n
}

// addRoles adds owner's dynamic roles in a transaction of their own.
func (e *env) addRoles(owner string, roles []Role) error {
	return e.s.Update(e.ctx(), func(tx *Tx) error { return tx.AddDynamicRoles(audit.Actor{}, owner, roles) })
}

// setRoles sets owner's dynamic roles in a transaction of their own.
func (e *env) setRoles(owner string, roles []Role) (removed []string, err error) {
	err = e.s.Update(e.ctx(), func(tx *Tx) error {
		removed, err = tx.SetDynamicRoles(audit.Actor{}, owner, roles)
		return err
	})
	return removed, err
}

// removeRoles removes owner's dynamic roles in a transaction of their own.
func (e *env) removeRoles(owner string) (removed []string, err error) {
	return e.setRoles(owner, nil)
}
