package directlogin_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/dynapi/dynapi/internal/authtest"
	"github.com/dynapi/dynapi/plugins/boltstore"
	"github.com/dynapi/dynapi/plugins/directlogin"
)

// fixture is a plugin on a real store with two users and two consumers.
type fixture struct {
	store     *boltstore.Store
	users     *authtest.Users
	consumers *authtest.Consumers
	clock     *authtest.Clock
	plugin    *directlogin.Plugin
}

func newFixture(t testing.TB) *fixture {
	t.Helper()
	f := &fixture{store: authtest.OpenStore(t, ""), users: authtest.NewUsers(),
		consumers: authtest.NewConsumers(), clock: authtest.NewClock()}
	f.users.Add("u-1", "alice", "correct horse")
	f.users.Add("u-2", "bob", "battery staple")
	f.consumers.Add("c-1", "key-1", "", "", true)
	f.consumers.Add("c-2", "key-off", "", "", false)
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
	tok, _, err := f.plugin.Login(context.Background(), authtest.Header("DirectLogin",
		fmt.Sprintf(`username=%q, password=%q, consumer_key=%q`, user, password, key)))
	if err != nil {
		t.Fatalf("login: %v", err)
	}
	return tok
}

func tokenHeader(tok string) authtest.Creds {
	return authtest.Header("DirectLogin", `token="`+tok+`"`)
}
