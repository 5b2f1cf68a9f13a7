package authtest

import (
	"context"
	"testing"

	"github.com/dynapi/dynapi/engine/identity"
	"github.com/golang-jwt/jwt/v5"
)

// Sign signs claims with key using method, with kid in the header when not
// empty; the test fails if signing does.
func Sign(t testing.TB, method jwt.SigningMethod, key any, kid string, claims jwt.Claims) string {
	t.Helper()
	tok := jwt.NewWithClaims(method, claims)
	if kid != "" {
		tok.Header["kid"] = kid
	}
	s, err := tok.SignedString(key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// BenchmarkAuthenticate measures a.Authenticate on c, one goroutine
// ("serial") and all of them ("parallel").
func BenchmarkAuthenticate(b *testing.B, a identity.Authenticator, c identity.Credentials) {
	ctx := context.Background()
	b.Run("serial", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := a.Authenticate(ctx, c); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("parallel", func(b *testing.B) {
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if _, err := a.Authenticate(ctx, c); err != nil {
					b.Error(err)
					return
				}
			}
		})
	})
}
