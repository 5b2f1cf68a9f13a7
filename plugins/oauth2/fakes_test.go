package oauth2_test

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
	"github.com/dynapi/dynapi/engine/access"
	"github.com/dynapi/dynapi/plugins/boltstore"
	"github.com/dynapi/dynapi/plugins/oauth2"
)

// consumers is a fake consumer registry with plain-text secrets.
type consumers struct {
	mu      sync.Mutex
	byKey   map[string]*access.Consumer // replaced, never changed in place
	secrets map[string]string
}

func newConsumers() *consumers {
	return &consumers{byKey: map[string]*access.Consumer{}, secrets: map[string]string{}}
}

func (c *consumers) add(id, key, secret, owner string, enabled bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.byKey[key] = &access.Consumer{ID: id, Key: key, Enabled: enabled, CreatedBy: owner}
	c.secrets[key] = secret
}

func (c *consumers) setEnabled(key string, enabled bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	con := *c.byKey[key]
	con.Enabled = enabled
	c.byKey[key] = &con
}

func (c *consumers) ConsumerByKey(key string) (*access.Consumer, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	con, ok := c.byKey[key]
	return con, ok
}

func (c *consumers) CheckConsumerSecret(key, secret string) (*access.Consumer, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	con, ok := c.byKey[key]
	if !ok || c.secrets[key] != secret || !con.Enabled {
		return nil, engine.NewError(http.StatusUnauthorized, engine.CodeUnauthorized, "invalid consumer")
	}
	return con, nil
}

// users is a fake user directory.
type users struct {
	mu   sync.Mutex
	byID map[string]access.User
}

func (u *users) User(_ context.Context, id string) (*access.User, error) {
	u.mu.Lock()
	defer u.mu.Unlock()
	usr, ok := u.byID[id]
	if !ok {
		return nil, engine.NewError(http.StatusNotFound, engine.CodeNotFound, "no such user").WithCause(engine.ErrNotFound)
	}
	return &usr, nil
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

func bearer(tok string) creds { return creds{"Authorization": "Bearer " + tok} }

func openStore(t testing.TB) *boltstore.Store {
	t.Helper()
	s, err := boltstore.Open(filepath.Join(t.TempDir(), "dynapi.db"), boltstore.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// fixture is an issuer on a real store with two consumers.
type fixture struct {
	store     *boltstore.Store
	consumers *consumers
	users     *users
	clock     *clock
	issuer    *oauth2.Issuer
}

func newFixture(t testing.TB, mod ...func(*oauth2.Options)) *fixture {
	t.Helper()
	f := &fixture{store: openStore(t), consumers: newConsumers(), clock: newClock(),
		users: &users{byID: map[string]access.User{"u-1": {ID: "u-1", Username: "alice"}}}}
	f.consumers.add("c-1", "key-1", "s3cret-1", "u-1", true)
	f.consumers.add("c-2", "key-2", "s3cret-2", "u-2", true)
	f.issuer = f.newIssuer(t, mod...)
	return f
}

func (f *fixture) options(mod ...func(*oauth2.Options)) oauth2.Options {
	o := oauth2.Options{Store: f.store, Consumers: f.consumers, Issuer: "dynapi",
		Audience: "dynapi-api", Now: f.clock.Now}
	for _, m := range mod {
		m(&o)
	}
	return o
}

func (f *fixture) newIssuer(t testing.TB, mod ...func(*oauth2.Options)) *oauth2.Issuer {
	t.Helper()
	i, err := oauth2.New(context.Background(), f.options(mod...))
	if err != nil {
		t.Fatal(err)
	}
	return i
}

func (f *fixture) token(t testing.TB, i *oauth2.Issuer) string {
	t.Helper()
	resp, err := i.ClientCredentials(context.Background(), "key-1", "s3cret-1", "client_credentials", "")
	if err != nil {
		t.Fatal(err)
	}
	return resp.AccessToken
}
