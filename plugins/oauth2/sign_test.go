package oauth2_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/MicahParks/keyfunc/v3"
	"github.com/golang-jwt/jwt/v5"
	"github.com/google/uuid"

	"github.com/dynapi/dynapi/internal/authtest"
	"github.com/dynapi/dynapi/plugins/oauth2"
)

// verifyContext checks a context token against the issuer's published JWK
// Set, as a back end would, and returns its header and claims.
func verifyContext(t *testing.T, f *fixture, tok, audience string) (map[string]any, jwt.MapClaims) {
	t.Helper()
	kf, err := keyfunc.NewJWKSetJSON(json.RawMessage(f.issuer.JWKS()))
	if err != nil {
		t.Fatal(err)
	}
	claims := jwt.MapClaims{}
	parsed, err := jwt.ParseWithClaims(tok, claims, kf.Keyfunc,
		jwt.WithValidMethods([]string{"ES256"}), jwt.WithIssuer("dynapi"), jwt.WithAudience(audience),
		jwt.WithExpirationRequired(), jwt.WithIssuedAt(), jwt.WithTimeFunc(f.clock.Now))
	if err != nil {
		t.Fatalf("context token does not verify against JWKS: %v", err)
	}
	return parsed.Header, claims
}

// firstKID is the kid of the current key, listed first in the JWK Set.
func firstKID(t *testing.T, i *oauth2.Issuer) string {
	t.Helper()
	var set struct {
		Keys []struct {
			KID string `json:"kid"`
		} `json:"keys"`
	}
	if err := json.Unmarshal(i.JWKS(), &set); err != nil || len(set.Keys) == 0 {
		t.Fatalf("JWKS %s: %v", i.JWKS(), err)
	}
	return set.Keys[0].KID
}

func TestSignContext(t *testing.T) {
	f := newFixture(t)
	const backend = "https://core.bank.example"

	t.Run("verifies against JWKS with the given and added claims", func(t *testing.T) {
		in := map[string]any{"aud": backend, "user_id": "u-1", "correlation_id": "corr-1",
			"iss": "someone-else", "exp": 1} // replaced by the issuer's own
		tok, err := f.issuer.SignContext(in, 5*time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		header, claims := verifyContext(t, f, tok, backend)
		if header["kid"] != firstKID(t, f.issuer) || header["alg"] != "ES256" {
			t.Fatalf("header %v, want the current kid %s", header, firstKID(t, f.issuer))
		}
		now := f.clock.Now().Unix()
		if claims["iss"] != "dynapi" || claims["user_id"] != "u-1" || claims["correlation_id"] != "corr-1" ||
			claims["aud"] != backend || claims["iat"] != float64(now) || claims["exp"] != float64(now+300) {
			t.Fatalf("claims %v (now %d)", claims, now)
		}
		if _, err := uuid.Parse(claims["jti"].(string)); err != nil {
			t.Fatalf("jti %v: %v", claims["jti"], err)
		}
		if in["iss"] != "someone-else" || in["exp"] != 1 || len(in) != 5 {
			t.Fatalf("the caller's claims were changed: %v", in)
		}
	})

	t.Run("fresh jti per token", func(t *testing.T) {
		a, err := f.issuer.SignContext(map[string]any{"aud": backend}, time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		b, err := f.issuer.SignContext(map[string]any{"aud": backend}, time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		_, ca := verifyContext(t, f, a, backend)
		_, cb := verifyContext(t, f, b, backend)
		if ca["jti"] == cb["jti"] {
			t.Fatalf("two tokens share jti %v", ca["jti"])
		}
	})

	t.Run("expires after ttl", func(t *testing.T) {
		tok, err := f.issuer.SignContext(map[string]any{"aud": backend}, time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		kf, err := keyfunc.NewJWKSetJSON(json.RawMessage(f.issuer.JWKS()))
		if err != nil {
			t.Fatal(err)
		}
		later := func() time.Time { return f.clock.Now().Add(61 * time.Second) }
		if _, err := jwt.Parse(tok, kf.Keyfunc, jwt.WithTimeFunc(later)); err == nil {
			t.Fatal("an expired context token verified")
		}
	})

	t.Run("not an access token here", func(t *testing.T) {
		tok, err := f.issuer.SignContext(map[string]any{"aud": backend, "sub": "c-1", "client_id": "key-1"}, time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		if p, err := f.issuer.Authenticate(context.Background(), authtest.Bearer(tok)); err == nil || p != nil {
			t.Fatalf("a context token authenticated as %v", p)
		}
	})

	t.Run("refused", func(t *testing.T) {
		for _, c := range []struct {
			name   string
			claims map[string]any
			ttl    time.Duration
		}{
			{"own audience", map[string]any{"aud": "dynapi-api"}, time.Minute},
			{"own audience in a list", map[string]any{"aud": []any{backend, "dynapi-api"}}, time.Minute},
			{"own audience in strings", map[string]any{"aud": []string{"dynapi-api"}}, time.Minute},
			{"zero ttl", map[string]any{"aud": backend}, 0},
			{"negative ttl", map[string]any{"aud": backend}, -time.Second},
		} {
			t.Run(c.name, func(t *testing.T) {
				if tok, err := f.issuer.SignContext(c.claims, c.ttl); err == nil {
					t.Fatalf("signed %q", tok)
				}
			})
		}
	})

	t.Run("after rotation the new key signs", func(t *testing.T) {
		before := firstKID(t, f.issuer)
		if err := f.issuer.RotateNow(context.Background()); err != nil {
			t.Fatal(err)
		}
		tok, err := f.issuer.SignContext(map[string]any{"aud": backend}, time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		header, _ := verifyContext(t, f, tok, backend)
		if header["kid"] == before || header["kid"] != firstKID(t, f.issuer) {
			t.Fatalf("kid %v after rotation (before %s)", header["kid"], before)
		}
	})
}

func TestSignEvent(t *testing.T) {
	f := newFixture(t)
	kf, err := keyfunc.NewJWKSetJSON(json.RawMessage(f.issuer.JWKS()))
	if err != nil {
		t.Fatal(err)
	}

	t.Run("a SET that verifies against JWKS, without exp", func(t *testing.T) {
		in := map[string]any{"aud": "tpp-key", "jti": "j-1", "iss": "someone-else", "events": map[string]any{"urn:x": map[string]any{}}}
		tok, err := f.issuer.SignEvent(in)
		if err != nil {
			t.Fatal(err)
		}
		claims := jwt.MapClaims{}
		parsed, err := jwt.ParseWithClaims(tok, claims, kf.Keyfunc, jwt.WithValidMethods([]string{"ES256"}),
			jwt.WithIssuer("dynapi"), jwt.WithAudience("tpp-key"), jwt.WithTimeFunc(f.clock.Now))
		if err != nil {
			t.Fatalf("SET does not verify: %v", err)
		}
		if parsed.Header["typ"] != "secevent+jwt" || parsed.Header["kid"] != firstKID(t, f.issuer) {
			t.Fatalf("header %v", parsed.Header)
		}
		if _, has := claims["exp"]; has || claims["jti"] != "j-1" || in["iss"] != "someone-else" {
			t.Fatalf("claims %v; caller's %v", claims, in)
		}
		if p, err := f.issuer.Authenticate(context.Background(), authtest.Bearer(tok)); err == nil || p != nil {
			t.Fatalf("a SET authenticated as %v", p)
		}
	})

	t.Run("refused for the audience of access tokens", func(t *testing.T) {
		if tok, err := f.issuer.SignEvent(map[string]any{"aud": "dynapi-api"}); err == nil {
			t.Fatalf("signed %q", tok)
		}
	})
}
