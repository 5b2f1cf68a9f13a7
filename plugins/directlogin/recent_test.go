package directlogin_test

import (
	"context"
	"testing"
	"time"

	"github.com/dynapi/dynapi/engine"
	"github.com/dynapi/dynapi/internal/authtest"
)

// TestRepeatedHeaderStillChecked: a request repeating the header value of
// an earlier one skips parsing and hashing, but never keeps access after
// the token is revoked, expires, or its user or consumer is barred.
func TestRepeatedHeaderStillChecked(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name string
		bar  func(t *testing.T, f *fixture, creds authtest.Creds)
	}{
		{"token revoked", func(t *testing.T, f *fixture, creds authtest.Creds) {
			if err := f.plugin.Revoke(ctx, creds); err != nil {
				t.Fatal(err)
			}
		}},
		{"token expired", func(_ *testing.T, f *fixture, _ authtest.Creds) { f.clock.Advance(time.Hour) }},
		{"expired token purged", func(t *testing.T, f *fixture, _ authtest.Creds) {
			f.clock.Advance(time.Hour)
			if err := f.plugin.Purge(ctx); err != nil {
				t.Fatal(err)
			}
			f.clock.Advance(-time.Hour)
		}},
		{"user locked", func(_ *testing.T, f *fixture, _ authtest.Creds) { f.users.SetLocked("u-1", true) }},
		{"user deleted", func(_ *testing.T, f *fixture, _ authtest.Creds) { f.users.Remove("u-1") }},
		{"user's sessions revoked", func(_ *testing.T, f *fixture, _ authtest.Creds) {
			f.clock.Advance(time.Second)
			f.users.Revoke("u-1", f.clock.Now())
		}},
		{"consumer disabled", func(_ *testing.T, f *fixture, _ authtest.Creds) { f.consumers.SetEnabled("key-1", false) }},
	} {
		for _, form := range []struct {
			name  string
			creds func(tok string) authtest.Creds
		}{
			{"DirectLogin header", tokenHeader},
			{"Authorization header", func(tok string) authtest.Creds {
				return authtest.Header("Authorization", "DirectLogin token="+tok)
			}},
		} {
			t.Run(tc.name+"/"+form.name, func(t *testing.T) {
				f := newFixture(t)
				creds := form.creds(f.login(t, "alice", "correct horse", "key-1"))
				for range 2 {
					if _, err := f.plugin.Authenticate(ctx, creds); err != nil {
						t.Fatalf("live token refused: %v", err)
					}
				}
				tc.bar(t, f, creds)
				for range 2 {
					_, err := f.plugin.Authenticate(ctx, creds)
					wantStatus(t, err, 401, engine.CodeUnauthorized)
				}
			})
		}
	}
}
