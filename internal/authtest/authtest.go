// Package authtest holds test doubles for the authenticator plugins' tests:
// a fake clock, request credentials, a user directory, a consumer registry
// and a throwaway bolt store.
package authtest

import (
	"context"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dynapi/dynapi/engine"
	"github.com/dynapi/dynapi/engine/identity"
	"github.com/dynapi/dynapi/internal/fakeclock"
	"github.com/dynapi/dynapi/plugins/boltstore"
)

// Epoch is the time a new Clock starts at.
var Epoch = fakeclock.Epoch

// ClientAddr is the client address every Creds reports.
const ClientAddr = "192.0.2.7"

// Clock is the fake clock of fakeclock, under the name the
// authenticators' tests know.
type Clock = fakeclock.Clock

// NewClock returns a clock set to Epoch.
func NewClock() *Clock { return fakeclock.New() }

// Creds are request credentials: header names, in any case, to values.
type Creds map[string]string

// Header returns the value of the header name, matched case-insensitively,
// or "".
func (c Creds) Header(name string) string {
	for k, v := range c {
		if strings.EqualFold(k, name) {
			return v
		}
	}
	return ""
}

// ClientAddr returns the package's ClientAddr.
func (c Creds) ClientAddr() string { return ClientAddr }

// Header returns credentials holding the one header name: value.
func Header(name, value string) Creds { return Creds{name: value} }

// Bearer returns credentials with an Authorization header for a bearer token.
func Bearer(token string) Creds { return Header("Authorization", "Bearer "+token) }

// Users is a fake user directory with plain-text passwords, safe for
// concurrent use.
type Users struct {
	mu        sync.Mutex
	byID      map[string]identity.User
	passwords map[string]string    // username -> password
	since     map[string]time.Time // user id -> sessions revoked before
	err       error                // returned by CheckPassword when set
	lookups   atomic.Int64         // calls to User
}

// NewUsers returns an empty directory.
func NewUsers() *Users {
	return &Users{byID: map[string]identity.User{}, passwords: map[string]string{}, since: map[string]time.Time{}}
}

// Add adds or replaces the local, unlocked user id with a username and
// password.
func (u *Users) Add(id, name, password string) {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.byID[id] = identity.User{ID: id, Username: name, Provider: "local"}
	u.passwords[name] = password
}

// Remove deletes the user id; its password stays but no longer matches a
// user.
func (u *Users) Remove(id string) {
	u.mu.Lock()
	defer u.mu.Unlock()
	delete(u.byID, id)
}

// SetLocked locks or unlocks the user id.
func (u *Users) SetLocked(id string, locked bool) {
	u.mu.Lock()
	defer u.mu.Unlock()
	usr := u.byID[id]
	usr.Locked = locked
	u.byID[id] = usr
}

// Revoke ends the sessions of user id issued before at.
func (u *Users) Revoke(id string, at time.Time) {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.since[id] = at
}

// SessionValid reports whether user id exists, is not locked, and had no
// sessions revoked after issuedAt.
func (u *Users) SessionValid(id string, issuedAt time.Time) bool {
	u.mu.Lock()
	defer u.mu.Unlock()
	usr, ok := u.byID[id]
	return ok && !usr.Locked && !issuedAt.Before(u.since[id])
}

// SetErr makes CheckPassword return err, or work again when err is nil.
func (u *Users) SetErr(err error) {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.err = err
}

// Lookups returns how many times User has been called.
func (u *Users) Lookups() int64 { return u.lookups.Load() }

// CheckPassword returns the unlocked user with this username and password,
// else a 401 *engine.Error, or the error set with SetErr.
func (u *Users) CheckPassword(_ context.Context, username, password, _ string) (*identity.User, error) {
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

// User returns a copy of the user id, else a 404 *engine.Error wrapping
// engine.ErrNotFound. It counts its calls (see Lookups).
func (u *Users) User(_ context.Context, id string) (*identity.User, error) {
	u.lookups.Add(1)
	u.mu.Lock()
	defer u.mu.Unlock()
	usr, ok := u.byID[id]
	if !ok {
		return nil, engine.NewError(http.StatusNotFound, engine.CodeNotFound, "no such user").WithCause(engine.ErrNotFound)
	}
	return &usr, nil
}

// Consumers is a fake consumer registry with plain-text secrets, safe for
// concurrent use. A consumer it has handed out is never changed in place.
type Consumers struct {
	mu      sync.Mutex
	byKey   map[string]*identity.Consumer // replaced, never changed in place
	secrets map[string]string             // key -> secret
}

// NewConsumers returns an empty registry.
func NewConsumers() *Consumers {
	return &Consumers{byKey: map[string]*identity.Consumer{}, secrets: map[string]string{}}
}

// Add adds the consumer id under key, or replaces the one the key names.
func (c *Consumers) Add(id, key, secret, owner string, enabled bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.byKey[key] = &identity.Consumer{ID: id, Key: key, Enabled: enabled, CreatedBy: owner}
	c.secrets[key] = secret
}

// SetEnabled enables or disables the consumer with key, which must exist.
func (c *Consumers) SetEnabled(key string, enabled bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	con := *c.byKey[key]
	con.Enabled = enabled
	c.byKey[key] = &con
}

// Remove deletes the consumer with key.
func (c *Consumers) Remove(key string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.byKey, key)
	delete(c.secrets, key)
}

// ConsumerByKey returns the consumer with key, enabled or not.
func (c *Consumers) ConsumerByKey(key string) (*identity.Consumer, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	con, ok := c.byKey[key]
	return con, ok
}

// CheckConsumerSecret returns the enabled consumer with key and secret,
// else a 401 *engine.Error.
func (c *Consumers) CheckConsumerSecret(key, secret string) (*identity.Consumer, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	con, ok := c.byKey[key]
	if !ok || c.secrets[key] != secret || !con.Enabled {
		return nil, engine.NewError(http.StatusUnauthorized, engine.CodeUnauthorized, "invalid consumer")
	}
	return con, nil
}

// OpenStore opens a bolt store at path without fsync, or in a fresh
// temporary directory when path is "", and closes it when the test ends.
func OpenStore(t testing.TB, path string) *boltstore.Store {
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
