package enginetest

import (
	"context"
	"net"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/dynapi/dynapi"
	"github.com/dynapi/dynapi/engine/identity"
	"github.com/dynapi/dynapi/internal/authtest"
)

// The super admin and first consumer every instance bootstraps unless an
// Option changes them.
const (
	AdminUsername  = "admin"
	AdminPassword  = "Test-admin-passw0rd"
	ConsumerKey    = "test-consumer-key"
	ConsumerSecret = "test-consumer-secret-0123456789abcdef"
)

// Hashing is a cheap argon2id cost: tests log in often and at once, and
// measure no hashing; production uses identity.DefaultPasswordHashing.
var Hashing = identity.PasswordHashing{MemoryKiB: 64, Iterations: 1, Parallelism: 1}

// Config is the configuration of a test instance on dir: the test super
// admin and consumer and the cheap password hashing, on the real clock.
func Config(dir string) dynapi.Config {
	return dynapi.Config{DataDir: dir, Admin: identity.BootstrapOptions{
		AdminUsername: AdminUsername, AdminPassword: AdminPassword,
		ConsumerKey: ConsumerKey, ConsumerSecret: ConsumerSecret},
		PasswordHashing: Hashing,
		// The event worker follows the fake clock closely; receivers are
		// httptest servers on loopback.
		Events: dynapi.EventsConfig{PollInterval: 10 * time.Millisecond, CallbackAllow: []string{"127.0.0.1"}}}
}

// Option changes the configuration New starts an instance with.
type Option func(*dynapi.Config)

// InDir opens the instance on dir instead of a fresh temporary directory,
// to start again on what an earlier instance stored.
func InDir(dir string) Option { return func(c *dynapi.Config) { c.DataDir = dir } }

// Configure lets a test set any other field of the configuration.
func Configure(f func(*dynapi.Config)) Option { return Option(f) }

// Engine is a running instance under test. Its Clock drives token
// lifetimes, lockouts and audit times; tests advance it instead of
// sleeping.
type Engine struct {
	*dynapi.Instance
	// Clock is the instance's clock, set to authtest.Epoch at start.
	Clock *authtest.Clock
	// Dir is the data directory, for a later InDir.
	Dir string

	adminToken string
	closeOnce  sync.Once
	listenOnce sync.Once
	addr       string
	// loopback carries the loopback callers' requests; Close drops its
	// kept connections first, since the server's shutdown waits for a
	// connection that was opened but never sent a request.
	loopback http.Transport
}

// New opens an instance and, when it has a configured admin password, logs
// the super admin in. The instance closes when the test ends, or earlier
// with Close.
func New(t testing.TB, opts ...Option) *Engine {
	t.Helper()
	e, err := Start(t, opts...)
	if err != nil {
		t.Fatalf("open instance: %v", err)
	}
	return e
}

// Start is New for tests of an instance that may not start: it returns
// the error of a failed start instead of failing the test.
func Start(t testing.TB, opts ...Option) (*Engine, error) {
	t.Helper()
	clock := authtest.NewClock()
	cfg := Config("")
	cfg.Now = clock.Now
	for _, o := range opts {
		o(&cfg)
	}
	if cfg.DataDir == "" {
		cfg.DataDir = t.TempDir()
	}
	inst, err := dynapi.Open(context.Background(), cfg)
	if err != nil {
		return nil, err
	}
	e := &Engine{Instance: inst, Clock: clock, Dir: cfg.DataDir}
	t.Cleanup(func() { e.Close(t) })
	if cfg.Admin.AdminPassword != "" {
		e.adminToken = e.Login(t, cfg.Admin.AdminUsername, cfg.Admin.AdminPassword)
	}
	return e, nil
}

// Close stops the instance, waiting for requests in flight, and closes its
// store; later calls do nothing.
func (e *Engine) Close(t testing.TB) {
	t.Helper()
	e.closeOnce.Do(func() {
		e.loopback.CloseIdleConnections()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := e.Instance.Close(ctx); err != nil {
			t.Errorf("close: %v", err)
		}
	})
}

// Login gets a DirectLogin token through the first consumer, failing the
// test unless the login succeeds.
func (e *Engine) Login(t testing.TB, username, password string) string {
	t.Helper()
	r := e.Anonymous().Send(t, Request{Method: "POST", Path: "/my/logins/direct", Header: map[string]string{
		"DirectLogin": `username="` + username + `", password="` + password + `", consumer_key="` + ConsumerKey + `"`}})
	if r.Status != 201 {
		t.Fatalf("login %s: %d %s", username, r.Status, r.Body)
	}
	token, _ := r.JSON(t)["token"].(string)
	return token
}

// listen serves the instance on a loopback listener, once, and returns its
// address; the listener closes with the dynapi.
func (e *Engine) listen(t testing.TB) string {
	t.Helper()
	e.listenOnce.Do(func() {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		go func() { _ = e.Server.Serve(ln) }()
		e.addr = ln.Addr().String()
	})
	if e.addr == "" {
		t.Fatal("the loopback listener did not start")
	}
	return e.addr
}

// WithConfig opens the instance with cfg, a configuration the test built
// itself (usually from Config); the instance keeps the fake clock unless
// cfg sets Now.
func WithConfig(cfg dynapi.Config) Option {
	return func(c *dynapi.Config) {
		now := c.Now
		*c = cfg
		if c.Now == nil {
			c.Now = now
		}
	}
}
