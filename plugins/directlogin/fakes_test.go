package directlogin_test

import (
	"context"
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dynapi/dynapi/engine"
	"github.com/dynapi/dynapi/engine/access"
	"github.com/dynapi/dynapi/plugins/boltstore"
	"github.com/dynapi/dynapi/plugins/directlogin"
)

// users is a fake user directory with plain-text passwords.
type users struct {
	mu        sync.Mutex
	byID      map[string]access.User
	passwords map[string]string // username -> password
	err       error             // returned by CheckPassword when set
	lookups   atomic.Int64      // calls to User
}

func newUsers() *users {
	return &users{byID: map[string]access.User{}, passwords: map[string]string{}}
}

func (u *users) add(id, name, password string) {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.byID[id] = access.User{ID: id, Username: name, Provider: "local"}
	u.passwords[name] = password
}

func (u *users) setLocked(id string, locked bool) {
	u.mu.Lock()
	defer u.mu.Unlock()
	usr := u.byID[id]
	usr.Locked = locked
	u.byID[id] = usr
}

func (u *users) CheckPassword(_ context.Context, username, password, _ string) (*access.User, error) {
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.err != nil {
		return nil, u.err
	}
	if pw, ok := u.passwords[username]; ok && pw == password {
		for _, usr := range u.byID {
			if usr.Username == username && !usr.Locked {
				return &usr, nil
			}
		}
	}
	return nil, engine.NewError(http.StatusUnauthorized, engine.CodeUnauthorized, "invalid username or password")
}

func (u *users) User(_ context.Context, id string) (*access.User, error) {
	u.lookups.Add(1)
	u.mu.Lock()
	defer u.mu.Unlock()
	usr, ok := u.byID[id]
	if !ok {
		return nil, engine.NewError(http.StatusNotFound, engine.CodeNotFound, "no such user").WithCause(engine.ErrNotFound)
	}
	return &usr, nil
}

// consumers is a fake consumer registry.
type consumers struct {
	mu    sync.Mutex
	byKey map[string]*access.Consumer // replaced, never changed in place
}

func newConsumers() *consumers { return &consumers{byKey: map[string]*access.Consumer{}} }

func (c *consumers) add(id, key string, enabled bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.byKey[key] = &access.Consumer{ID: id, Key: key, Enabled: enabled}
}

func (c *consumers) ConsumerByKey(key string) (*access.Consumer, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	con, ok := c.byKey[key]
	return con, ok
}

// clock is a fake clock safe for concurrent use.
type clock struct{ ns atomic.Int64 }

func newClock() *clock {
	c := &clock{}
	c.ns.Store(time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC).UnixNano())
	return c
}
func (c *clock) Now() time.Time          { return time.Unix(0, c.ns.Load()).UTC() }
func (c *clock) Advance(d time.Duration) { c.ns.Add(int64(d)) }

// creds are request headers.
type creds map[string]string

func (c creds) Header(name string) string {
	for k, v := range c {
		if strings.EqualFold(k, name) {
			return v
		}
	}
	return ""
}
func (c creds) ClientAddr() string { return "192.0.2.7" }

func header(name, value string) creds { return creds{name: value} }

// openStore opens a bolt store in a fresh directory.
func openStore(t testing.TB, path string) *boltstore.Store {
	t.Helper()
	if path == "" {
		path = filepath.Join(t.TempDir(), "dynapi.db")
	}
	s, err := boltstore.Open(path, boltstore.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// fixture is a plugin on a real store with one user and two consumers.
type fixture struct {
	store     *boltstore.Store
	users     *users
	consumers *consumers
	clock     *clock
	plugin    *directlogin.Plugin
}

func newFixture(t testing.TB) *fixture {
	t.Helper()
	f := &fixture{store: openStore(t, ""), users: newUsers(), consumers: newConsumers(), clock: newClock()}
	f.users.add("u-1", "alice", "correct horse")
	f.users.add("u-2", "bob", "battery staple")
	f.consumers.add("c-1", "key-1", true)
	f.consumers.add("c-2", "key-off", false)
	f.plugin = f.newPlugin(t)
	return f
}

func (f *fixture) newPlugin(t testing.TB) *directlogin.Plugin {
	t.Helper()
	p, err := directlogin.New(context.Background(), directlogin.Options{
		Store: f.store, Users: f.users, Consumers: f.consumers, TTL: time.Hour, Now: f.clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func (f *fixture) login(t testing.TB, user, password, key string) string {
	t.Helper()
	tok, err := f.plugin.Login(context.Background(), header("DirectLogin",
		fmt.Sprintf(`username=%q, password=%q, consumer_key=%q`, user, password, key)))
	if err != nil {
		t.Fatalf("login: %v", err)
	}
	return tok
}

func tokenHeader(tok string) creds { return header("DirectLogin", `token="`+tok+`"`) }
