package jwtbearer_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/MicahParks/jwkset"
	"github.com/golang-jwt/jwt/v5"

	"github.com/dynapi/dynapi/engine"
	"github.com/dynapi/dynapi/engine/identity"
	"github.com/dynapi/dynapi/internal/authtest"
	"github.com/dynapi/dynapi/plugins/jwtbearer"
)

const (
	issuer   = "https://idp.example/realms/bank"
	audience = "dynapi"
)

// Keys are made once: RSA generation is slow under the race detector.
var (
	rsaKey = sync.OnceValue(func() *rsa.PrivateKey {
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			panic(err)
		}
		return k
	})
	ecKey    = sync.OnceValue(func() *ecdsa.PrivateKey { return newEC() })
	otherKey = sync.OnceValue(func() *ecdsa.PrivateKey { return newEC() })
)

func newEC() *ecdsa.PrivateKey {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		panic(err)
	}
	return k
}

// pubKey is a public key published under kid with use.
type pubKey struct {
	kid string
	key any
	use jwkset.USE
}

func jwks(t testing.TB, keys ...pubKey) []byte {
	t.Helper()
	var set jwkset.JWKSMarshal
	for _, k := range keys {
		use := k.use
		if use == "" {
			use = jwkset.UseSig
		}
		jwk, err := jwkset.NewJWKFromKey(k.key, jwkset.JWKOptions{
			Metadata: jwkset.JWKMetadataOptions{KID: k.kid, USE: use}})
		if err != nil {
			t.Fatal(err)
		}
		set.Keys = append(set.Keys, jwk.Marshal())
	}
	b, err := json.Marshal(set)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func defaultKeys() []pubKey {
	return []pubKey{
		{kid: "rsa-1", key: &rsaKey().PublicKey},
		{kid: "ec-1", key: &ecKey().PublicKey},
		{kid: "enc-1", key: &otherKey().PublicKey, use: jwkset.UseEnc},
	}
}

// idp serves a JWK Set on loopback and counts fetches.
type idp struct {
	set  atomic.Pointer[[]byte]
	hits atomic.Int64
	// stall, when set, is signalled by each fetch, which then waits for
	// its caller to go away.
	stall atomic.Pointer[chan struct{}]
	srv   *httptest.Server
}

func newIDP(t testing.TB, keys ...pubKey) *idp {
	t.Helper()
	p := &idp{}
	p.publish(t, keys...)
	p.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p.hits.Add(1)
		if stall := p.stall.Load(); stall != nil {
			*stall <- struct{}{}
			<-r.Context().Done()
			return
		}
		w.Header().Set("Content-Type", "application/jwk-set+json")
		_, _ = w.Write(*p.set.Load())
	}))
	t.Cleanup(p.srv.Close)
	return p
}

func (p *idp) publish(t testing.TB, keys ...pubKey) {
	b := jwks(t, keys...)
	p.set.Store(&b)
}

// users is a fake directory that creates external users on first sight.
type users struct {
	mu      sync.Mutex
	byKey   map[string]*identity.User // provider + " " + subject
	created int
	locked  map[string]bool      // by subject
	since   map[string]time.Time // by user id: tokens issued before are revoked
	err     error
}

func newUsers() *users {
	return &users{byKey: map[string]*identity.User{}, locked: map[string]bool{}, since: map[string]time.Time{}}
}

func (u *users) SessionValid(id string, issuedAt time.Time) bool {
	u.mu.Lock()
	defer u.mu.Unlock()
	return !issuedAt.Before(u.since[id])
}

func (u *users) ExternalUser(_ context.Context, provider, subject, username, email string) (*identity.User, error) {
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.err != nil {
		return nil, u.err
	}
	k := provider + " " + subject
	usr, ok := u.byKey[k]
	if !ok {
		u.created++
		usr = &identity.User{ID: "u-" + subject, Username: username, Email: email, Provider: provider}
		u.byKey[k] = usr
	}
	cp := *usr
	cp.Locked = u.locked[subject]
	return &cp, nil
}

// now is the fixed time of every test.
var now = authtest.Epoch

func clock() time.Time { return now }

// claims are valid claims for the provider, with overrides; a nil value
// removes the claim.
func claims(over map[string]any) jwt.MapClaims {
	c := jwt.MapClaims{"iss": issuer, "aud": []string{audience, "account"}, "sub": "s-1",
		"preferred_username": "alice", "email": "alice@example.com",
		"iat": now.Unix(), "exp": now.Add(5 * time.Minute).Unix()}
	for k, v := range over {
		if v == nil {
			delete(c, k)
		} else {
			c[k] = v
		}
	}
	return c
}

func newAuth(t testing.TB, o jwtbearer.Options) *jwtbearer.Authenticator {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	if o.Issuer == "" {
		o.Issuer = issuer
	}
	if o.Audience == "" {
		o.Audience = audience
	}
	if o.Now == nil {
		o.Now = clock
	}
	a, err := jwtbearer.New(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func wantUnauthorized(t *testing.T, err error) {
	t.Helper()
	var e *engine.Error
	if !errors.As(err, &e) || e.Status != 401 || e.Code != engine.CodeUnauthorized {
		t.Fatalf("error = %v, want a 401 unauthorized", err)
	}
}

func TestAuthenticate(t *testing.T) {
	p := newIDP(t, defaultKeys()...)
	u := newUsers()
	a := newAuth(t, jwtbearer.Options{JWKSURL: p.srv.URL, HTTPClient: p.srv.Client(), Users: u})
	rk, ek := rsaKey(), ecKey()
	ok := claims(nil)
	tampered := []byte(authtest.Sign(t, jwt.SigningMethodRS256, rk, "rsa-1", ok))
	tampered[len(tampered)-20] ^= 'A' ^ 'B'

	tests := []struct {
		name     string
		creds    authtest.Creds
		status   int // 0 success, -1 ErrNoCredentials, else 401
		username string
		email    string
	}{
		{name: "RS256", creds: authtest.Bearer(authtest.Sign(t, jwt.SigningMethodRS256, rk, "rsa-1", ok)), username: "alice", email: "alice@example.com"},
		{name: "PS256", creds: authtest.Bearer(authtest.Sign(t, jwt.SigningMethodPS256, rk, "rsa-1", ok)), username: "alice", email: "alice@example.com"},
		{name: "ES256", creds: authtest.Bearer(authtest.Sign(t, jwt.SigningMethodES256, ek, "ec-1", ok)), username: "alice", email: "alice@example.com"},
		{name: "no kid tries every key", creds: authtest.Bearer(authtest.Sign(t, jwt.SigningMethodES256, ek, "", ok)), username: "alice", email: "alice@example.com"},
		{name: "audience as a string", creds: authtest.Bearer(authtest.Sign(t, jwt.SigningMethodRS256, rk, "rsa-1", claims(map[string]any{"aud": audience}))), username: "alice", email: "alice@example.com"},
		{name: "username falls back to sub", creds: authtest.Bearer(authtest.Sign(t, jwt.SigningMethodRS256, rk, "rsa-1", claims(map[string]any{"sub": "s-9", "preferred_username": nil, "email": nil}))), username: "s-9"},
		{name: "expired within leeway", creds: authtest.Bearer(authtest.Sign(t, jwt.SigningMethodRS256, rk, "rsa-1", claims(map[string]any{"exp": now.Add(-10 * time.Second).Unix()}))), username: "alice", email: "alice@example.com"},
		{name: "no header", creds: authtest.Creds{}, status: -1},
		{name: "DirectLogin", creds: authtest.Creds{"Authorization": `DirectLogin token="x"`}, status: -1},
		{name: "opaque token", creds: authtest.Bearer("2YotnFZFEjr1zCsicMWpAA"), status: -1},
		{name: "other issuer", creds: authtest.Bearer(authtest.Sign(t, jwt.SigningMethodRS256, rk, "rsa-1", claims(map[string]any{"iss": "https://evil.example"}))), status: -1},
		{name: "other issuer HS256", creds: authtest.Bearer(authtest.Sign(t, jwt.SigningMethodHS256, []byte("k"), "", claims(map[string]any{"iss": "dynapi"}))), status: -1},
		{name: "expired", creds: authtest.Bearer(authtest.Sign(t, jwt.SigningMethodRS256, rk, "rsa-1", claims(map[string]any{"exp": now.Add(-time.Minute).Unix()}))), status: 401},
		{name: "no exp", creds: authtest.Bearer(authtest.Sign(t, jwt.SigningMethodRS256, rk, "rsa-1", claims(map[string]any{"exp": nil}))), status: 401},
		{name: "not yet valid", creds: authtest.Bearer(authtest.Sign(t, jwt.SigningMethodRS256, rk, "rsa-1", claims(map[string]any{"nbf": now.Add(time.Minute).Unix()}))), status: 401},
		{name: "issued in the future", creds: authtest.Bearer(authtest.Sign(t, jwt.SigningMethodRS256, rk, "rsa-1", claims(map[string]any{"iat": now.Add(time.Hour).Unix()}))), status: 401},
		{name: "wrong audience", creds: authtest.Bearer(authtest.Sign(t, jwt.SigningMethodRS256, rk, "rsa-1", claims(map[string]any{"aud": "account"}))), status: 401},
		{name: "no audience", creds: authtest.Bearer(authtest.Sign(t, jwt.SigningMethodRS256, rk, "rsa-1", claims(map[string]any{"aud": nil}))), status: 401},
		{name: "no sub", creds: authtest.Bearer(authtest.Sign(t, jwt.SigningMethodRS256, rk, "rsa-1", claims(map[string]any{"sub": nil}))), status: 401},
		{name: "alg none", creds: authtest.Bearer(authtest.Sign(t, jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, "rsa-1", ok)), status: 401},
		{name: "HS256 keyed with the public key", creds: authtest.Bearer(authtest.Sign(t, jwt.SigningMethodHS256, *p.set.Load(), "rsa-1", ok)), status: 401},
		{name: "tampered signature", creds: authtest.Bearer(string(tampered)), status: 401},
		{name: "signed by a stranger under a known kid", creds: authtest.Bearer(authtest.Sign(t, jwt.SigningMethodES256, newEC(), "ec-1", ok)), status: 401},
		{name: "key published for encryption", creds: authtest.Bearer(authtest.Sign(t, jwt.SigningMethodES256, otherKey(), "enc-1", ok)), status: 401},
		{name: "RSA key with ES256", creds: authtest.Bearer(authtest.Sign(t, jwt.SigningMethodES256, ek, "rsa-1", ok)), status: 401},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pr, err := a.Authenticate(context.Background(), tt.creds)
			switch tt.status {
			case 0:
				if err != nil {
					t.Fatal(err)
				}
				sub := "s-1"
				if tt.username == "s-9" {
					sub = "s-9"
				}
				want := identity.Principal{UserID: "u-" + sub, Username: tt.username, Method: "jwt_bearer"}
				if !reflect.DeepEqual(*pr, want) {
					t.Fatalf("principal %+v, want %+v", *pr, want)
				}
			case -1:
				if !errors.Is(err, identity.ErrNoCredentials) {
					t.Fatalf("error = %v, want ErrNoCredentials", err)
				}
			default:
				wantUnauthorized(t, err)
			}
		})
	}
	if u.created != 2 {
		t.Fatalf("%d users created, want 2 (s-1 and s-9)", u.created)
	}
	if got := u.byKey[issuer+" s-1"]; got.Email != "alice@example.com" || got.Username != "alice" || got.Provider != issuer {
		t.Fatalf("created user %+v", got)
	}
	if a.Name() != "jwt_bearer" {
		t.Fatal(a.Name())
	}
}

func TestUserMapping(t *testing.T) {
	p := newIDP(t, defaultKeys()...)
	u := newUsers()
	a := newAuth(t, jwtbearer.Options{JWKSURL: p.srv.URL, HTTPClient: p.srv.Client(), Users: u,
		UsernameClaim: "upn", EmailClaim: "mail"})
	ctx := context.Background()
	tok := authtest.Sign(t, jwt.SigningMethodRS256, rsaKey(), "rsa-1",
		claims(map[string]any{"sub": "s-2", "upn": "bob@corp", "mail": "bob@corp.example"}))
	pr, err := a.Authenticate(ctx, authtest.Bearer(tok))
	if err != nil {
		t.Fatal(err)
	}
	if pr.UserID != "u-s-2" || pr.Username != "bob@corp" {
		t.Fatalf("principal %+v", pr)
	}
	if got := u.byKey[issuer+" s-2"]; got == nil || got.Email != "bob@corp.example" || got.Provider != issuer {
		t.Fatalf("created user %+v", got)
	}
	u.since["u-s-2"] = now.Add(time.Second) // sessions revoked after the token's iat
	_, err = a.Authenticate(ctx, authtest.Bearer(tok))
	wantUnauthorized(t, err)
	newer := authtest.Sign(t, jwt.SigningMethodRS256, rsaKey(), "rsa-1",
		claims(map[string]any{"sub": "s-2", "upn": "bob@corp", "iat": now.Add(time.Second).Unix()}))
	if _, err := a.Authenticate(ctx, authtest.Bearer(newer)); err != nil {
		t.Fatalf("a token issued after the revocation: %v", err)
	}
	u.locked["s-2"] = true
	_, err = a.Authenticate(ctx, authtest.Bearer(tok))
	wantUnauthorized(t, err)
	u.err = engine.NewError(400, engine.CodeBadRequest, "subject too long")
	_, err = a.Authenticate(ctx, authtest.Bearer(tok))
	wantUnauthorized(t, err)
	u.err = engine.Internal(errors.New("disk on fire"))
	_, err = a.Authenticate(ctx, authtest.Bearer(tok))
	if e := engine.AsError(err); e.Status != 500 {
		t.Fatalf("store failure = %v, want a 500", err)
	}
}

func TestConsumers(t *testing.T) {
	p := newIDP(t, defaultKeys()...)
	cons := authtest.NewConsumers()
	cons.Add("c-web", "web", "", "", true)
	cons.Add("c-cli", "cli", "", "", true)
	cons.Add("c-gone", "gone", "", "", false)
	a := newAuth(t, jwtbearer.Options{JWKSURL: p.srv.URL, HTTPClient: p.srv.Client(), Users: newUsers(),
		Consumers: cons})
	tests := []struct {
		name     string
		over     map[string]any
		consumer string
		fail     bool
	}{
		{name: "azp", over: map[string]any{"azp": "web"}, consumer: "c-web"},
		{name: "client_id", over: map[string]any{"client_id": "cli"}, consumer: "c-cli"},
		{name: "azp wins", over: map[string]any{"azp": "web", "client_id": "cli"}, consumer: "c-web"},
		{name: "no client claim", over: nil, consumer: ""},
		{name: "disabled consumer", over: map[string]any{"azp": "gone"}, fail: true},
		{name: "unknown consumer", over: map[string]any{"azp": "nope"}, fail: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tok := authtest.Sign(t, jwt.SigningMethodRS256, rsaKey(), "rsa-1", claims(tt.over))
			pr, err := a.Authenticate(context.Background(), authtest.Bearer(tok))
			if tt.fail {
				wantUnauthorized(t, err)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if pr.ConsumerID != tt.consumer {
				t.Fatalf("consumer %q, want %q", pr.ConsumerID, tt.consumer)
			}
		})
	}
}

func TestJWKSFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "jwks.json")
	if err := os.WriteFile(path, jwks(t, defaultKeys()...), 0o600); err != nil {
		t.Fatal(err)
	}
	a := newAuth(t, jwtbearer.Options{JWKSFile: path, Users: newUsers()})
	ctx := context.Background()
	if _, err := a.Authenticate(ctx, authtest.Bearer(authtest.Sign(t, jwt.SigningMethodES256, ecKey(), "ec-1", claims(nil)))); err != nil {
		t.Fatal(err)
	}
	_, err := a.Authenticate(ctx, authtest.Bearer(authtest.Sign(t, jwt.SigningMethodES256, newEC(), "unknown", claims(nil))))
	wantUnauthorized(t, err)
}

func TestProviderRotatesKeys(t *testing.T) {
	p := newIDP(t, defaultKeys()...)
	a := newAuth(t, jwtbearer.Options{JWKSURL: p.srv.URL, HTTPClient: p.srv.Client(), Users: newUsers()})
	ctx := context.Background()
	fresh := newEC()
	p.publish(t, pubKey{kid: "ec-2", key: &fresh.PublicKey})
	before := p.hits.Load()
	// The unknown kid makes the set be fetched again at once.
	if _, err := a.Authenticate(ctx, authtest.Bearer(authtest.Sign(t, jwt.SigningMethodES256, fresh, "ec-2", claims(nil)))); err != nil {
		t.Fatalf("token of the rotated key: %v", err)
	}
	if p.hits.Load() != before+1 {
		t.Fatalf("%d fetches for an unknown kid, want 1", p.hits.Load()-before)
	}
	// The old keys are gone with the new set.
	_, err := a.Authenticate(ctx, authtest.Bearer(authtest.Sign(t, jwt.SigningMethodES256, ecKey(), "ec-1", claims(nil))))
	wantUnauthorized(t, err)
	// Another unknown kid soon after is refused at once, without a fetch:
	// forged kids cannot make the provider be hammered or requests wait.
	start := time.Now()
	_, err = a.Authenticate(ctx, authtest.Bearer(authtest.Sign(t, jwt.SigningMethodES256, newEC(), "forged", claims(nil))))
	wantUnauthorized(t, err)
	if d := time.Since(start); d > time.Second {
		t.Fatalf("unknown kid took %v", d)
	}
	if p.hits.Load() != before+1 {
		t.Fatalf("%d fetches, want 1", p.hits.Load()-before)
	}
	// Tokens of other issuers never make the set be fetched.
	for range 5 {
		_, err := a.Authenticate(ctx, authtest.Bearer(authtest.Sign(t, jwt.SigningMethodES256, newEC(), "x",
			claims(map[string]any{"iss": "https://other.example"}))))
		if !errors.Is(err, identity.ErrNoCredentials) {
			t.Fatal(err)
		}
	}
	if p.hits.Load() != before+1 {
		t.Fatalf("foreign tokens caused fetches")
	}
}

// tick sends the background refresh one tick. The refresh takes a tick
// only once the fetch of the tick before is over.
func tick(t *testing.T, ticks chan<- time.Time) {
	t.Helper()
	select {
	case ticks <- now:
	case <-time.After(5 * time.Second):
		t.Fatal("the background refresh took no tick")
	}
}

// noTick checks that nothing takes a tick any more.
func noTick(t *testing.T, ticks chan<- time.Time) {
	t.Helper()
	select {
	case ticks <- now:
		t.Fatal("the background refresh took a tick after it was stopped")
	default:
	}
}

func TestBackgroundRefreshStopsWithContext(t *testing.T) {
	p := newIDP(t, defaultKeys()...)
	ticks := make(chan time.Time)
	ctx, cancel := context.WithCancel(context.Background())
	a, err := jwtbearer.New(ctx, jwtbearer.Options{Issuer: issuer, Audience: audience, JWKSURL: p.srv.URL,
		HTTPClient: p.srv.Client(), Users: newUsers(), RefreshTicks: ticks, Now: clock})
	if err != nil {
		t.Fatal(err)
	}
	// A key published later is picked up by the background refresh.
	fresh := newEC()
	p.publish(t, pubKey{kid: "ec-3", key: &fresh.PublicKey})
	// Taking the third tick, the refresh has done the fetches of two.
	for range 3 {
		tick(t, ticks)
	}
	if got := p.hits.Load(); got < 3 {
		t.Fatalf("%d fetches after 2 refreshes, want the first and 2 more", got)
	}
	if _, err := a.Authenticate(context.Background(), authtest.Bearer(authtest.Sign(t, jwt.SigningMethodES256, fresh, "ec-3", claims(nil)))); err != nil {
		t.Fatal(err)
	}
	cancel()
	select {
	case <-a.RefreshStopped():
	case <-time.After(5 * time.Second):
		t.Fatal("the background refresh went on after the context ended")
	}
	n := p.hits.Load()
	noTick(t, ticks)
	if got := p.hits.Load(); got != n {
		t.Fatalf("%d fetches after the context ended", got-n)
	}
}

func TestClose(t *testing.T) {
	p := newIDP(t, defaultKeys()...)
	ticks := make(chan time.Time)
	a := newAuth(t, jwtbearer.Options{JWKSURL: p.srv.URL, HTTPClient: p.srv.Client(), Users: newUsers(),
		RefreshTicks: ticks})
	// Close comes while a refresh waits for the provider.
	stall := make(chan struct{})
	p.stall.Store(&stall)
	tick(t, ticks)
	select {
	case <-stall:
	case <-time.After(5 * time.Second):
		t.Fatal("the refresh did not fetch")
	}
	closed := make(chan struct{})
	go func() { a.Close(); close(closed) }()
	select {
	case <-closed:
	case <-time.After(5 * time.Second):
		t.Fatal("Close did not return")
	}
	select {
	case <-a.RefreshStopped():
	default:
		t.Fatal("Close returned before the background refresh did")
	}
	n := p.hits.Load()
	noTick(t, ticks)
	if got := p.hits.Load(); got != n {
		t.Fatalf("%d fetches after Close", got-n)
	}
	a.Close() // again: returns at once
}

func TestNewRefuses(t *testing.T) {
	p := newIDP(t, defaultKeys()...)
	down := httptest.NewServer(http.NotFoundHandler())
	down.Close()
	bad := filepath.Join(t.TempDir(), "bad.json")
	if err := os.WriteFile(bad, []byte(`{"keys":[{"kty":"EC"}]}`), 0o600); err != nil {
		t.Fatal(err)
	}
	base := jwtbearer.Options{Issuer: issuer, Audience: audience, Users: newUsers(), JWKSURL: p.srv.URL}
	tests := []struct {
		name string
		mod  func(*jwtbearer.Options)
	}{
		{"no issuer", func(o *jwtbearer.Options) { o.Issuer = "" }},
		{"no audience", func(o *jwtbearer.Options) { o.Audience = "" }},
		{"no users", func(o *jwtbearer.Options) { o.Users = nil }},
		{"no keys", func(o *jwtbearer.Options) { o.JWKSURL = "" }},
		{"plain http to a remote host", func(o *jwtbearer.Options) { o.JWKSURL = "http://idp.example/jwks" }},
		{"not a URL", func(o *jwtbearer.Options) { o.JWKSURL = "::" }},
		{"provider down", func(o *jwtbearer.Options) { o.JWKSURL = down.URL }},
		{"provider answers 404", func(o *jwtbearer.Options) { o.HTTPClient = &http.Client{Transport: notFound{}} }},
		{"missing file", func(o *jwtbearer.Options) { o.JWKSURL = ""; o.JWKSFile = filepath.Join(t.TempDir(), "nope.json") }},
		{"bad file", func(o *jwtbearer.Options) { o.JWKSURL = ""; o.JWKSFile = bad }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := base
			tt.mod(&o)
			if a, err := jwtbearer.New(context.Background(), o); err == nil {
				a.Close()
				t.Fatal("New succeeded")
			}
		})
	}
}

type notFound struct{}

func (notFound) RoundTrip(r *http.Request) (*http.Response, error) {
	return &http.Response{StatusCode: 404, Body: http.NoBody, Request: r, Header: http.Header{}}, nil
}

func BenchmarkAuthenticate(b *testing.B) {
	p := newIDP(b, defaultKeys()...)
	a := newAuth(b, jwtbearer.Options{JWKSURL: p.srv.URL, HTTPClient: p.srv.Client(), Users: newUsers()})
	ctx := context.Background()
	for _, m := range []struct {
		name   string
		method jwt.SigningMethod
		key    any
		kid    string
	}{
		{"RS256", jwt.SigningMethodRS256, rsaKey(), "rsa-1"},
		{"ES256", jwt.SigningMethodES256, ecKey(), "ec-1"},
	} {
		c := authtest.Bearer(authtest.Sign(b, m.method, m.key, m.kid, claims(nil)))
		b.Run(m.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := a.Authenticate(ctx, c); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
