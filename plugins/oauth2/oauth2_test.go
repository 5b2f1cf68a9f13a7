package oauth2_test

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/MicahParks/jwkset"
	"github.com/MicahParks/keyfunc/v3"
	"github.com/golang-jwt/jwt/v5"

	"github.com/dynapi/dynapi/engine"
	"github.com/dynapi/dynapi/engine/identity"
	"github.com/dynapi/dynapi/internal/authtest"
	"github.com/dynapi/dynapi/plugins/oauth2"
)

func wantStatus(t *testing.T, err error, status int, code string) {
	t.Helper()
	var e *engine.Error
	if !errors.As(err, &e) {
		t.Fatalf("error = %v (%T), want *engine.Error %d %s", err, err, status, code)
	}
	if e.Status != status || e.Code != code {
		t.Fatalf("error = %d %s %q, want %d %s", e.Status, e.Code, e.Message, status, code)
	}
}

// unverified decodes a token's header and claims without checking it.
func unverified(t *testing.T, tok string) (map[string]any, jwt.MapClaims) {
	t.Helper()
	claims := jwt.MapClaims{}
	parsed, _, err := jwt.NewParser().ParseUnverified(tok, claims)
	if err != nil {
		t.Fatal(err)
	}
	return parsed.Header, claims
}

func TestClientCredentials(t *testing.T) {
	f := newFixture(t, func(o *oauth2.Options) { o.Users = nil })
	tests := []struct {
		name                     string
		id, secret, grant, scope string
		status                   int
		code                     string
	}{
		{name: "success", id: "key-1", secret: "s3cret-1", grant: "client_credentials"},
		{name: "with scope", id: "key-1", secret: "s3cret-1", grant: "client_credentials", scope: "accounts payments:read"},
		{name: "wrong secret", id: "key-1", secret: "s3cret-2", grant: "client_credentials", status: 401, code: "invalid_client"},
		{name: "unknown client", id: "nope", secret: "s3cret-1", grant: "client_credentials", status: 401, code: "invalid_client"},
		{name: "empty secret", id: "key-1", grant: "client_credentials", status: 401, code: "invalid_client"},
		{name: "empty id", secret: "s3cret-1", grant: "client_credentials", status: 401, code: "invalid_client"},
		{name: "other grant", id: "key-1", secret: "s3cret-1", grant: "password", status: 400, code: "unsupported_grant_type"},
		{name: "no grant", id: "key-1", secret: "s3cret-1", status: 400, code: "invalid_request"},
		{name: "double space in scope", id: "key-1", secret: "s3cret-1", grant: "client_credentials", scope: "a  b", status: 400, code: "invalid_scope"},
		{name: "quote in scope", id: "key-1", secret: "s3cret-1", grant: "client_credentials", scope: `a"b`, status: 400, code: "invalid_scope"},
		{name: "huge scope", id: "key-1", secret: "s3cret-1", grant: "client_credentials", scope: strings.Repeat("a", 2000), status: 400, code: "invalid_scope"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, err := f.issuer.ClientCredentials(context.Background(), tt.id, tt.secret, tt.grant, tt.scope)
			if tt.status != 0 {
				wantStatus(t, err, tt.status, tt.code)
				if resp != nil {
					t.Fatal("a failure returned a token")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if resp.TokenType != "Bearer" || resp.ExpiresIn != 300 || resp.Scope != tt.scope {
				t.Fatalf("response %+v", resp)
			}
			js, _ := json.Marshal(resp)
			for _, field := range []string{`"access_token":`, `"token_type":"Bearer"`, `"expires_in":300`} {
				if !bytes.Contains(js, []byte(field)) {
					t.Fatalf("response JSON %s lacks %s", js, field)
				}
			}
			if tt.scope == "" && bytes.Contains(js, []byte("scope")) {
				t.Fatalf("response JSON %s has an empty scope", js)
			}
			hdr, claims := unverified(t, resp.AccessToken)
			if hdr["alg"] != "ES256" || hdr["kid"] == "" || hdr["typ"] != "at+jwt" {
				t.Fatalf("header %v", hdr)
			}
			now := float64(f.clock.Now().Unix())
			want := map[string]any{"iss": "dynapi", "aud": []any{"dynapi-api"}, "sub": "c-1",
				"client_id": "key-1", "uid": "u-1", "iat": now, "exp": now + 300}
			if tt.scope != "" {
				want["scope"] = tt.scope
			}
			for k, v := range want {
				if got, _ := json.Marshal(claims[k]); string(got) != mustJSON(v) {
					t.Errorf("claim %s = %s, want %s", k, got, mustJSON(v))
				}
			}
			if jti, _ := claims["jti"].(string); jti == "" {
				t.Error("no jti")
			}
			p, err := f.issuer.Authenticate(context.Background(), authtest.Bearer(resp.AccessToken))
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(*p, identity.Principal{UserID: "u-1", ConsumerID: "c-1", Method: "oauth2_client_credentials"}) {
				t.Fatalf("principal %+v", *p)
			}
		})
	}
}

func mustJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

func TestOwnerChecked(t *testing.T) {
	f := newFixture(t, func(o *oauth2.Options) { o.Users = nil })
	f.issuer = f.newIssuer(t, func(o *oauth2.Options) { o.Users = f.users })
	ctx := context.Background()
	if _, err := f.issuer.ClientCredentials(ctx, "key-1", "s3cret-1", "client_credentials", ""); err != nil {
		t.Fatal(err)
	}
	// key-2's owner u-2 does not exist.
	_, err := f.issuer.ClientCredentials(ctx, "key-2", "s3cret-2", "client_credentials", "")
	wantStatus(t, err, 401, "invalid_client")
	f.users.SetLocked("u-1", true)
	_, err = f.issuer.ClientCredentials(ctx, "key-1", "s3cret-1", "client_credentials", "")
	wantStatus(t, err, 401, "invalid_client")
}

// TestOwnerRevoked: a token stops working once its owner is locked or has
// its sessions revoked, also in another process (restart) that knows it
// only by its iat, and unlocking does not revive it.
func TestOwnerRevoked(t *testing.T) {
	f := newFixture(t)
	withUsers := func(o *oauth2.Options) { o.Users = f.users }
	f.issuer = f.newIssuer(t, withUsers)
	ctx := context.Background()
	before := f.token(t, f.issuer)
	f.clock.Advance(1500 * time.Millisecond)
	f.users.SetLocked("u-1", true)
	f.users.Revoke("u-1", f.clock.Now())
	restarted := f.newIssuer(t, withUsers)
	for name, i := range map[string]*oauth2.Issuer{"issuer": f.issuer, "restarted": restarted} {
		_, err := i.Authenticate(ctx, authtest.Bearer(before))
		wantStatus(t, err, 401, engine.CodeUnauthorized)
		t.Run(name+" after unlock", func(t *testing.T) {
			f.users.SetLocked("u-1", false)
			defer f.users.SetLocked("u-1", true)
			_, err := i.Authenticate(ctx, authtest.Bearer(before))
			wantStatus(t, err, 401, engine.CodeUnauthorized)
		})
	}
	f.users.SetLocked("u-1", false)
	after := f.token(t, f.issuer)
	if _, err := f.issuer.Authenticate(ctx, authtest.Bearer(after)); err != nil {
		t.Fatalf("a token issued after the unlock, in the same second: %v", err)
	}
	// Known only by its iat (whole seconds), a token of the revocation's
	// second is refused to be safe; one of the next second is not.
	f.clock.Advance(time.Second)
	if _, err := restarted.Authenticate(ctx, authtest.Bearer(f.token(t, f.issuer))); err != nil {
		t.Fatalf("a token issued a second after the unlock, known by its iat: %v", err)
	}
}

func TestDisabledConsumer(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	tok := f.token(t, f.issuer)
	f.consumers.SetEnabled("key-1", false)
	_, err := f.issuer.Authenticate(ctx, authtest.Bearer(tok))
	wantStatus(t, err, 401, engine.CodeUnauthorized)
	_, err = f.issuer.ClientCredentials(ctx, "key-1", "s3cret-1", "client_credentials", "")
	wantStatus(t, err, 401, "invalid_client")
	f.consumers.SetEnabled("key-1", true)
	if _, err := f.issuer.Authenticate(ctx, authtest.Bearer(tok)); err != nil {
		t.Fatal(err)
	}
	// The key now names another consumer: the token's sub no longer matches.
	f.consumers.Add("c-9", "key-1", "x", "u-1", true)
	_, err = f.issuer.Authenticate(ctx, authtest.Bearer(tok))
	wantStatus(t, err, 401, engine.CodeUnauthorized)
}

func TestAuthenticate(t *testing.T) {
	f := newFixture(t)
	tok := f.token(t, f.issuer)
	hdr, claims := unverified(t, tok)
	kid := hdr["kid"].(string)
	parts := strings.Split(tok, ".")

	// Same store, so the same keys, but another audience.
	otherAud := f.newIssuer(t, func(o *oauth2.Options) { o.Audience = "elsewhere" })
	wrongAud := f.token(t, otherAud)
	// Another issuer altogether.
	foreign := newFixture(t, func(o *oauth2.Options) { o.Issuer = "someone-else" })
	foreignTok := foreign.token(t, foreign.issuer)

	tamperedSig := []byte(parts[2])
	// Another base64url character in the middle: still a well-formed token.
	if tamperedSig[10] == 'A' {
		tamperedSig[10] = 'B'
	} else {
		tamperedSig[10] = 'A'
	}
	if tamperedSig[10] == parts[2][10] {
		t.Fatal("no change")
	}
	claims["uid"] = "u-2"
	forged, _ := json.Marshal(claims)
	tamperedPayload := parts[0] + "." + base64.RawURLEncoding.EncodeToString(forged) + "." + parts[2]
	delete(claims, "uid")

	ours := jwt.MapClaims{"iss": "dynapi", "aud": "dynapi-api", "sub": "c-1", "client_id": "key-1",
		"uid": "u-1", "iat": f.clock.Now().Unix(), "exp": f.clock.Now().Add(time.Minute).Unix()}
	stranger, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	none := authtest.Sign(t, jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, kid, ours)
	hsWithJWKS := authtest.Sign(t, jwt.SigningMethodHS256, f.issuer.JWKS(), kid, ours)
	unknownKID := authtest.Sign(t, jwt.SigningMethodES256, stranger, "not-a-kid", ours)
	strangerSameKID := authtest.Sign(t, jwt.SigningMethodES256, stranger, kid, ours)
	noKID := authtest.Sign(t, jwt.SigningMethodES256, stranger, "", ours)
	foreignHS := authtest.Sign(t, jwt.SigningMethodHS256, []byte("k"), "", jwt.MapClaims{"iss": "idp"})

	tests := []struct {
		name   string
		creds  authtest.Creds
		status int // 0 success, -1 ErrNoCredentials, else 401
	}{
		{name: "valid", creds: authtest.Bearer(tok)},
		{name: "scheme in any case", creds: authtest.Creds{"Authorization": "bearer " + tok}},
		{name: "no header", creds: authtest.Creds{}, status: -1},
		{name: "DirectLogin", creds: authtest.Creds{"Authorization": `DirectLogin token="x"`}, status: -1},
		{name: "Basic", creds: authtest.Creds{"Authorization": "Basic a2V5OnNlY3JldA=="}, status: -1},
		{name: "empty bearer", creds: authtest.Creds{"Authorization": "Bearer "}, status: -1},
		{name: "opaque bearer", creds: authtest.Bearer("2YotnFZFEjr1zCsicMWpAA"), status: -1},
		{name: "three garbage parts", creds: authtest.Bearer("a.b.c"), status: -1},
		{name: "other issuer", creds: authtest.Bearer(foreignTok), status: -1},
		{name: "other issuer HS256", creds: authtest.Bearer(foreignHS), status: -1},
		{name: "tampered signature", creds: authtest.Bearer(parts[0] + "." + parts[1] + "." + string(tamperedSig)), status: 401},
		{name: "tampered payload", creds: authtest.Bearer(tamperedPayload), status: 401},
		{name: "signature stripped", creds: authtest.Bearer(parts[0] + "." + parts[1] + "."), status: 401},
		{name: "wrong audience", creds: authtest.Bearer(wrongAud), status: 401},
		{name: "alg none", creds: authtest.Bearer(none), status: 401},
		{name: "HS256 keyed with the JWKS", creds: authtest.Bearer(hsWithJWKS), status: 401},
		{name: "unknown kid", creds: authtest.Bearer(unknownKID), status: 401},
		{name: "our kid, another key", creds: authtest.Bearer(strangerSameKID), status: 401},
		{name: "no kid", creds: authtest.Bearer(noKID), status: 401},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := f.issuer.Authenticate(context.Background(), tt.creds)
			switch tt.status {
			case 0:
				if err != nil {
					t.Fatal(err)
				}
				if p.UserID != "u-1" || p.ConsumerID != "c-1" || p.Method != oauth2.Method {
					t.Fatalf("principal %+v", p)
				}
			case -1:
				if !errors.Is(err, identity.ErrNoCredentials) {
					t.Fatalf("error = %v, want ErrNoCredentials", err)
				}
			default:
				wantStatus(t, err, 401, engine.CodeUnauthorized)
			}
		})
	}
	if f.issuer.Name() != "oauth2_client_credentials" {
		t.Fatal(f.issuer.Name())
	}
}

func TestExpiry(t *testing.T) {
	f := newFixture(t)
	tok := f.token(t, f.issuer)
	f.clock.Advance(oauth2.DefaultTTL)
	if _, err := f.issuer.Authenticate(context.Background(), authtest.Bearer(tok)); err != nil {
		t.Fatalf("refused within the leeway: %v", err)
	}
	f.clock.Advance(time.Minute)
	_, err := f.issuer.Authenticate(context.Background(), authtest.Bearer(tok))
	wantStatus(t, err, 401, engine.CodeUnauthorized)
}

func TestIssuedInTheFuture(t *testing.T) {
	f := newFixture(t)
	tok := f.token(t, f.issuer)
	f.clock.Advance(-time.Minute)
	_, err := f.issuer.Authenticate(context.Background(), authtest.Bearer(tok))
	wantStatus(t, err, 401, engine.CodeUnauthorized)
}

// kids returns the key ids of a JWK Set, checking every key is a public
// P-256 signing key.
func kids(t *testing.T, set []byte) []string {
	t.Helper()
	var s jwkset.JWKSMarshal
	if err := json.Unmarshal(set, &s); err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, k := range s.Keys {
		if k.KTY != jwkset.KtyEC || k.CRV != jwkset.CrvP256 || k.ALG != jwkset.AlgES256 ||
			k.USE != jwkset.UseSig || k.D != "" || k.X == "" || k.Y == "" {
			t.Fatalf("bad JWK %+v", k)
		}
		out = append(out, k.KID)
	}
	return out
}

func kidOf(t *testing.T, tok string) string {
	h, _ := unverified(t, tok)
	return h["kid"].(string)
}

func TestKeyRotation(t *testing.T) {
	f := newFixture(t, func(o *oauth2.Options) { o.TTL = time.Hour })
	ctx := context.Background()
	t0 := f.token(t, f.issuer)
	k0 := kidOf(t, t0)
	if got := kids(t, f.issuer.JWKS()); !slices.Equal(got, []string{k0}) {
		t.Fatalf("JWKS kids %v, want [%s]", got, k0)
	}
	var toks, ks []string
	toks, ks = append(toks, t0), append(ks, k0)
	for n := 1; n <= 3; n++ {
		if err := f.issuer.RotateNow(ctx); err != nil {
			t.Fatal(err)
		}
		tok := f.token(t, f.issuer)
		toks, ks = append(toks, tok), append(ks, kidOf(t, tok))
		if ks[n] == ks[n-1] {
			t.Fatal("rotation kept the kid")
		}
		// The current key and the DefaultKeep (2) before it are published,
		// newest first, and accepted.
		first := max(0, n-2)
		want := slices.Clone(ks[first:])
		slices.Reverse(want)
		if got := kids(t, f.issuer.JWKS()); !slices.Equal(got, want) {
			t.Fatalf("after rotation %d JWKS kids %v, want %v", n, got, want)
		}
		for j, tok := range toks {
			_, err := f.issuer.Authenticate(ctx, authtest.Bearer(tok))
			if j >= first && err != nil {
				t.Fatalf("after rotation %d token %d refused: %v", n, j, err)
			}
			if j < first {
				wantStatus(t, err, 401, engine.CodeUnauthorized)
			}
		}
	}
	// A restart sees the same keys.
	again := f.newIssuer(t, func(o *oauth2.Options) { o.TTL = time.Hour })
	if !bytes.Equal(again.JWKS(), f.issuer.JWKS()) {
		t.Fatal("JWKS changed across New")
	}
	if _, err := again.Authenticate(ctx, authtest.Bearer(toks[2])); err != nil {
		t.Fatal(err)
	}
	// Keep: -1 drops every previous key at start-up.
	lone := f.newIssuer(t, func(o *oauth2.Options) { o.TTL = time.Hour; o.Keys.Keep = -1 })
	if got := kids(t, lone.JWKS()); !slices.Equal(got, ks[3:]) {
		t.Fatalf("Keep -1: kids %v", got)
	}
	_, err := lone.Authenticate(ctx, authtest.Bearer(toks[2]))
	wantStatus(t, err, 401, engine.CodeUnauthorized)
}

func TestRotateWhenDue(t *testing.T) {
	day := 24 * time.Hour
	cfg := func(o *oauth2.Options) { o.TTL = 3 * day; o.Keys.RotateAfter = day; o.Keys.Keep = 1 }
	f := newFixture(t, cfg)
	ctx := context.Background()
	t0 := f.token(t, f.issuer)
	f.clock.Advance(day - time.Second)
	if rotated, err := f.issuer.Rotate(ctx); err != nil || rotated {
		t.Fatalf("Rotate before due = %v, %v", rotated, err)
	}
	f.clock.Advance(time.Second)
	if rotated, err := f.issuer.Rotate(ctx); err != nil || !rotated {
		t.Fatalf("Rotate when due = %v, %v", rotated, err)
	}
	t1 := f.token(t, f.issuer)
	if kidOf(t, t1) == kidOf(t, t0) {
		t.Fatal("Rotate kept the signing key")
	}
	if _, err := f.issuer.Authenticate(ctx, authtest.Bearer(t0)); err != nil {
		t.Fatalf("token of the kept key refused: %v", err)
	}
	// New rotates a due key at start-up.
	f.clock.Advance(day)
	restarted := f.newIssuer(t, cfg)
	t2 := f.token(t, restarted)
	if kidOf(t, t2) == kidOf(t, t1) {
		t.Fatal("New did not rotate a due key")
	}
	if got := kids(t, restarted.JWKS()); !slices.Equal(got, []string{kidOf(t, t2), kidOf(t, t1)}) {
		t.Fatalf("kids %v", got)
	}
	_, err := restarted.Authenticate(ctx, authtest.Bearer(t0))
	wantStatus(t, err, 401, engine.CodeUnauthorized)
	// Tokens of the older instance's current key still verify there: it
	// reloads the ring only on its own Rotate.
	if rotated, err := f.issuer.Rotate(ctx); err != nil || rotated {
		t.Fatalf("Rotate after a restart rotated = %v, %v", rotated, err)
	}
	if _, err := f.issuer.Authenticate(ctx, authtest.Bearer(t2)); err != nil {
		t.Fatalf("Rotate did not pick up the stored key: %v", err)
	}
}

// TestJWKSInterop verifies a token with a generic JWKS consumer.
func TestJWKSInterop(t *testing.T) {
	f := newFixture(t)
	tok := f.token(t, f.issuer)
	k, err := keyfunc.NewJWKSetJSON(f.issuer.JWKS())
	if err != nil {
		t.Fatal(err)
	}
	parsed, err := jwt.Parse(tok, k.Keyfunc, jwt.WithTimeFunc(f.clock.Now), jwt.WithAudience("dynapi-api"))
	if err != nil || !parsed.Valid {
		t.Fatalf("JWKS does not verify the token: %v", err)
	}
	j := f.issuer.JWKS()
	j[0] = 'X'
	if f.issuer.JWKS()[0] == 'X' {
		t.Fatal("JWKS returns its own buffer")
	}
}

func TestStoreNeverHoldsSecrets(t *testing.T) {
	f := newFixture(t)
	var toks []string
	for range 3 {
		toks = append(toks, f.token(t, f.issuer))
	}
	path := f.store.Path()
	if err := f.store.Close(); err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, secret := range append(toks, "s3cret-1") {
		if bytes.Contains(raw, []byte(secret)) {
			t.Fatalf("store file holds %q", secret)
		}
	}
	for _, tok := range toks {
		sig, _ := base64.RawURLEncoding.DecodeString(strings.Split(tok, ".")[2])
		if bytes.Contains(raw, sig) {
			t.Fatal("store file holds a token signature")
		}
	}
}

func TestParseBasicAuth(t *testing.T) {
	b64 := func(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }
	tests := []struct {
		header, id, secret string
		ok                 bool
	}{
		{"Basic " + b64("key:secret"), "key", "secret", true},
		{"basic " + b64("key:secret"), "key", "secret", true},
		{"Basic " + b64("k%3Ay:s%25c+r:t"), "k:y", "s%c r:t", true},
		{"Basic " + b64("key:"), "key", "", true},
		{"Basic " + b64("keysecret"), "", "", false},
		{"Basic " + b64("k%zz:s"), "", "", false},
		{"Basic not-base64!", "", "", false},
		{"Basic ", "", "", false},
		{"Bearer " + b64("key:secret"), "", "", false},
		{"", "", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.header, func(t *testing.T) {
			id, secret, ok := oauth2.ParseBasicAuth(tt.header)
			if id != tt.id || secret != tt.secret || ok != tt.ok {
				t.Fatalf("ParseBasicAuth = %q, %q, %v; want %q, %q, %v", id, secret, ok, tt.id, tt.secret, tt.ok)
			}
		})
	}
}

func TestNewValidates(t *testing.T) {
	f := newFixture(t)
	for name, o := range map[string]oauth2.Options{
		"no store":     {Consumers: f.consumers, Issuer: "x"},
		"no consumers": {Store: f.store, Issuer: "x"},
		"no issuer":    {Store: f.store, Consumers: f.consumers},
	} {
		if _, err := oauth2.New(context.Background(), o); err == nil {
			t.Errorf("%s: New succeeded", name)
		}
	}
	// A corrupt key record is an error, not a silent new key.
	if err := f.store.Update(context.Background(), func(tx engine.Tx) error {
		return tx.Put(oauth2.KeyBucket, "bad", []byte(`{"kid":"bad","alg":"ES256","pkcs8":"AAAA"}`))
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := oauth2.New(context.Background(), f.options()); err == nil {
		t.Fatal("New accepted a corrupt key")
	}
}

func BenchmarkAuthenticate(b *testing.B) {
	f := newFixture(b)
	tok := f.token(b, f.issuer)
	c := authtest.Bearer(tok)
	ctx := context.Background()
	authtest.BenchmarkAuthenticate(b, f.issuer, c)
	b.Run("first verification", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			f.issuer.ForgetVerified()
			if _, err := f.issuer.Authenticate(ctx, c); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("not mine", func(b *testing.B) {
		other := authtest.Bearer(authtest.Sign(b, jwt.SigningMethodHS256, []byte("k"), "", jwt.MapClaims{"iss": "idp"}))
		b.ReportAllocs()
		for b.Loop() {
			if _, err := f.issuer.Authenticate(ctx, other); !errors.Is(err, identity.ErrNoCredentials) {
				b.Fatal(err)
			}
		}
	})
}

// TestIssuedTokensForgotten: tokens remembered when issued, used or not,
// are forgotten once expired, so issuing without end holds no memory
// without end.
func TestIssuedTokensForgotten(t *testing.T) {
	f := newFixture(t)
	for range 50 {
		f.token(t, f.issuer)
		f.clock.Advance(oauth2.DefaultTTL / 10)
	}
	if n := f.issuer.Remembered(); n > 30 {
		t.Fatalf("%d tokens remembered, want about two lifetimes' worth (20)", n)
	}
}
