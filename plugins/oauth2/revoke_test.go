package oauth2_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/dynapi/dynapi/engine"
	"github.com/dynapi/dynapi/internal/authtest"
	"github.com/dynapi/dynapi/plugins/oauth2"
)

// TestRevokeAccessToken revokes access tokens before they expire: the
// client's own token is refused at once and after a restart, anything
// else is left alone, and a revocation is forgotten once its token has
// expired.
func TestRevokeAccessToken(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	mine, other := f.token(t, f.issuer), f.token(t, f.issuer)
	for _, tc := range []struct {
		name, token, client string
		revoked             bool
	}{
		{"another client's token", mine, "key-2", false},
		{"not a token", "not-a-jwt", "key-1", false},
		{"a token of another issuer", foreignToken(t), "key-1", false},
		{"the client's own token", mine, "key-1", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := f.issuer.RevokeAccessToken(ctx, tc.token, tc.client)
			if err != nil || got != tc.revoked {
				t.Fatalf("RevokeAccessToken = %v, %v; want %v", got, err, tc.revoked)
			}
		})
	}
	refused := func(i *oauth2.Issuer, tok string) bool {
		_, err := i.Authenticate(ctx, authtest.Bearer(tok))
		if err == nil {
			return false
		}
		wantStatus(t, err, http.StatusUnauthorized, engine.CodeUnauthorized)
		return true
	}
	if !refused(f.issuer, mine) || refused(f.issuer, other) {
		t.Fatal("after the revocation: the revoked token must be refused, the other one accepted")
	}
	again := f.newIssuer(t)
	if !refused(again, mine) || refused(again, other) {
		t.Fatal("after a restart: the revocation must hold")
	}

	// Once the token has expired its revocation is dropped from the store.
	f.clock.Advance(oauth2.DefaultTTL + time.Minute)
	if _, err := again.Rotate(ctx); err != nil {
		t.Fatal(err)
	}
	n := 0
	err := f.store.View(ctx, func(tx engine.Tx) error {
		return tx.ScanFrom(oauth2.RevokedBucket, "", func(string, []byte) error { n++; return nil })
	})
	if err != nil || n != 0 {
		t.Fatalf("revocations kept after their tokens expired: %d (%v)", n, err)
	}
}

// foreignToken is a token signed by another issuer's key.
func foreignToken(t *testing.T) string {
	t.Helper()
	other := newFixture(t)
	return other.token(t, other.issuer)
}
