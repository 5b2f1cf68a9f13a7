package oauth2_test

import (
	"context"
	"testing"

	"github.com/dynapi/dynapi/internal/authtest"
	"github.com/dynapi/dynapi/plugins/boltstore"
	"github.com/dynapi/dynapi/plugins/oauth2"
)

// fixture is an issuer on a real store with two consumers and one user,
// u-1, who owns the first.
type fixture struct {
	store     *boltstore.Store
	consumers *authtest.Consumers
	users     *authtest.Users
	clock     *authtest.Clock
	issuer    *oauth2.Issuer
}

func newFixture(t testing.TB, mod ...func(*oauth2.Options)) *fixture {
	t.Helper()
	f := &fixture{store: authtest.OpenStore(t, ""), consumers: authtest.NewConsumers(),
		users: authtest.NewUsers(), clock: authtest.NewClock()}
	f.users.Add("u-1", "alice", "")
	f.consumers.Add("c-1", "key-1", "s3cret-1", "u-1", true)
	f.consumers.Add("c-2", "key-2", "s3cret-2", "u-2", true)
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
