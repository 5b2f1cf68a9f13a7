package directlogin_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"net/http"
	"os"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dynapi/dynapi/engine"
	"github.com/dynapi/dynapi/engine/identity"
	"github.com/dynapi/dynapi/internal/authtest"
	"github.com/dynapi/dynapi/plugins/directlogin"
)

func wantStatus(t *testing.T, err error, status int, code string) *engine.Error {
	t.Helper()
	var e *engine.Error
	if !errors.As(err, &e) {
		t.Fatalf("error = %v (%T), want *engine.Error %d", err, err, status)
	}
	if e.Status != status || e.Code != code {
		t.Fatalf("error = %d %s %q, want %d %s", e.Status, e.Code, e.Message, status, code)
	}
	return e
}

func TestLogin(t *testing.T) {
	f := newFixture(t)
	tests := []struct {
		name       string
		creds      authtest.Creds
		status     int      // 0 for success
		violations []string // pointers of a 400
	}{
		{name: "DirectLogin header", creds: authtest.Header("DirectLogin",
			`username="alice", password="correct horse", consumer_key="key-1"`)},
		{name: "Authorization header", creds: authtest.Header("Authorization",
			`DirectLogin username="alice",password="correct horse",consumer_key="key-1"`)},
		{name: "scheme in any case, bare values, any order", creds: authtest.Header("Authorization",
			`directlogin consumer_key=key-1, password=correct horse, username=alice`)},
		{name: "wrong password", creds: authtest.Header("DirectLogin",
			`username="alice", password="wrong", consumer_key="key-1"`), status: 401},
		{name: "unknown user", creds: authtest.Header("DirectLogin",
			`username="mallory", password="correct horse", consumer_key="key-1"`), status: 401},
		{name: "unknown consumer", creds: authtest.Header("DirectLogin",
			`username="alice", password="correct horse", consumer_key="nope"`), status: 401},
		{name: "disabled consumer", creds: authtest.Header("DirectLogin",
			`username="alice", password="correct horse", consumer_key="key-off"`), status: 401},
		{name: "missing password", creds: authtest.Header("DirectLogin",
			`username="alice", consumer_key="key-1"`), status: 400,
			violations: []string{"/DirectLogin/password"}},
		{name: "empty values are missing", creds: authtest.Header("DirectLogin",
			`username="", password=, consumer_key="key-1"`), status: 400,
			violations: []string{"/DirectLogin/username", "/DirectLogin/password"}},
		{name: "no header", creds: authtest.Creds{}, status: 400, violations: []string{
			"/DirectLogin/username", "/DirectLogin/password", "/DirectLogin/consumer_key"}},
		{name: "other scheme", creds: authtest.Header("Authorization", "Bearer x"), status: 400, violations: []string{
			"/DirectLogin/username", "/DirectLogin/password", "/DirectLogin/consumer_key"}},
		{name: "malformed", creds: authtest.Header("DirectLogin", `username="alice`), status: 400,
			violations: []string{"/DirectLogin"}},
		{name: "duplicate", creds: authtest.Header("DirectLogin",
			`username=alice, username=bob, password="correct horse", consumer_key=key-1`), status: 400,
			violations: []string{"/DirectLogin"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tok, _, err := f.plugin.Login(context.Background(), tt.creds)
			switch tt.status {
			case 0:
				if err != nil {
					t.Fatal(err)
				}
				raw, err := base64.RawURLEncoding.DecodeString(tok)
				if err != nil || len(raw) != 32 {
					t.Fatalf("token %q is not 32 bytes of base64url: %v", tok, err)
				}
				p, err := f.plugin.Authenticate(context.Background(), tokenHeader(tok))
				if err != nil {
					t.Fatal(err)
				}
				want := identity.Principal{UserID: "u-1", Username: "alice", ConsumerID: "c-1", Method: "direct_login"}
				if !reflect.DeepEqual(*p, want) {
					t.Fatalf("principal = %+v, want %+v", *p, want)
				}
			case 401:
				e := wantStatus(t, err, 401, engine.CodeUnauthorized)
				if e.Message != "invalid credentials" || len(e.Violations) != 0 {
					t.Fatalf("401 says %q %v: it must not hint which part was wrong", e.Message, e.Violations)
				}
			case 400:
				e := wantStatus(t, err, 400, engine.CodeBadRequest)
				var got []string
				for _, v := range e.Violations {
					if v.Location != "header" {
						t.Errorf("violation location %q", v.Location)
					}
					got = append(got, v.Pointer)
				}
				if strings.Join(got, " ") != strings.Join(tt.violations, " ") {
					t.Fatalf("violations %v, want %v", got, tt.violations)
				}
				if strings.Contains(e.Error(), "horse") {
					t.Fatalf("error %q repeats the password", e.Error())
				}
			}
			if tt.status != 0 && tok != "" {
				t.Fatalf("failed login returned token %q", tok)
			}
		})
	}
}

func TestLoginPassesThrottling(t *testing.T) {
	f := newFixture(t)
	f.users.SetErr(engine.NewError(http.StatusTooManyRequests, "too_many_requests", "slow down"))
	_, _, err := f.plugin.Login(context.Background(), authtest.Header("DirectLogin",
		`username="alice", password="correct horse", consumer_key="key-1"`))
	wantStatus(t, err, http.StatusTooManyRequests, "too_many_requests")
}

func TestAuthenticate(t *testing.T) {
	f := newFixture(t)
	tok := f.login(t, "alice", "correct horse", "key-1")
	other := strings.Repeat("A", len(tok))
	tests := []struct {
		name   string
		creds  authtest.Creds
		status int // 0 success, -1 ErrNoCredentials
	}{
		{name: "DirectLogin header", creds: tokenHeader(tok)},
		{name: "bare token", creds: authtest.Header("DirectLogin", "token="+tok)},
		{name: "Authorization header", creds: authtest.Header("Authorization", `DirectLogin token="`+tok+`"`)},
		{name: "Authorization scheme any case", creds: authtest.Header("Authorization", `DIRECTLOGIN  token=`+tok)},
		{name: "with other parameters", creds: authtest.Header("DirectLogin", `realm="x", token="`+tok+`"`)},
		{name: "no headers", creds: authtest.Creds{}, status: -1},
		{name: "bearer", creds: authtest.Header("Authorization", "Bearer "+tok), status: -1},
		{name: "scheme prefix only", creds: authtest.Header("Authorization", "DirectLoginX token="+tok), status: -1},
		{name: "unknown token", creds: tokenHeader(other), status: 401},
		{name: "short token", creds: tokenHeader(tok[:20]), status: 401},
		{name: "long token", creds: tokenHeader(tok + "A"), status: 401},
		{name: "no token parameter", creds: authtest.Header("DirectLogin", `username="alice"`), status: 401},
		{name: "empty DirectLogin scheme", creds: authtest.Header("Authorization", "DirectLogin"), status: 401},
		{name: "malformed", creds: authtest.Header("DirectLogin", `token="`+tok), status: 401},
		{name: "duplicate token", creds: authtest.Header("DirectLogin", `token=`+tok+`, token=`+other), status: 401},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := f.plugin.Authenticate(context.Background(), tt.creds)
			switch tt.status {
			case 0:
				if err != nil {
					t.Fatal(err)
				}
				if p.UserID != "u-1" || p.Username != "alice" || p.ConsumerID != "c-1" || p.Method != "direct_login" {
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
	if f.plugin.Name() != "direct_login" {
		t.Fatalf("Name() = %q", f.plugin.Name())
	}
}

// records returns the stored token records.
func records(t *testing.T, s engine.Store) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := s.View(context.Background(), func(tx engine.Tx) error {
		return tx.Scan(directlogin.Bucket, "", func(k string, v []byte) error {
			out[k] = string(v)
			return nil
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestExpiry(t *testing.T) {
	f := newFixture(t)
	tok := f.login(t, "alice", "correct horse", "key-1")
	f.clock.Advance(time.Hour - time.Second)
	if _, err := f.plugin.Authenticate(context.Background(), tokenHeader(tok)); err != nil {
		t.Fatalf("token refused before expiry: %v", err)
	}
	f.clock.Advance(time.Second)
	_, err := f.plugin.Authenticate(context.Background(), tokenHeader(tok))
	wantStatus(t, err, 401, engine.CodeUnauthorized)
	if n := len(records(t, f.store)); n != 0 {
		t.Fatalf("expired token still stored (%d records)", n)
	}
	wantStatus(t, f.plugin.Revoke(context.Background(), tokenHeader(tok)), 401, engine.CodeUnauthorized)
}

// TestExpiryOnTheDefaultClock: without a clock of its own, the plugin
// checks each request's token against the coarse clock, which still ends
// it once its time is up.
func TestExpiryOnTheDefaultClock(t *testing.T) {
	f := newFixture(t)
	p, err := directlogin.New(context.Background(), directlogin.Options{
		Store: f.store, Users: f.users, Consumers: f.consumers, TTL: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	// The token's life starts during Login, so its earliest end is 50ms
	// after Login began (a slow password hash under load must not count).
	expires := time.Now().Add(50 * time.Millisecond)
	tok, _, err := p.Login(context.Background(), authtest.Header("DirectLogin",
		`username="alice", password="correct horse", consumer_key="key-1"`))
	if err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(5 * time.Second); ; {
		_, err := p.Authenticate(context.Background(), tokenHeader(tok))
		if err != nil {
			wantStatus(t, err, 401, engine.CodeUnauthorized)
			if time.Now().Before(expires) {
				t.Fatal("token refused before its time was up")
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("token still accepted seconds after it expired")
		}
		time.Sleep(5 * time.Millisecond) // the next request, not a wait for a result
	}
}

func TestPurge(t *testing.T) {
	f := newFixture(t)
	old := f.login(t, "alice", "correct horse", "key-1")
	f.clock.Advance(30 * time.Minute)
	young := f.login(t, "bob", "battery staple", "key-1")
	if n := len(records(t, f.store)); n != 2 {
		t.Fatalf("%d records, want 2", n)
	}
	// A record this version cannot read goes too.
	if err := f.store.Update(context.Background(), func(tx engine.Tx) error {
		return tx.Put(directlogin.Bucket, "junk", []byte("{"))
	}); err != nil {
		t.Fatal(err)
	}
	f.clock.Advance(45 * time.Minute)
	if err := f.plugin.Purge(context.Background()); err != nil {
		t.Fatal(err)
	}
	if n := len(records(t, f.store)); n != 1 {
		t.Fatalf("%d records after purge, want 1", n)
	}
	if _, err := f.plugin.Authenticate(context.Background(), tokenHeader(young)); err != nil {
		t.Fatal(err)
	}
	_, err := f.plugin.Authenticate(context.Background(), tokenHeader(old))
	wantStatus(t, err, 401, engine.CodeUnauthorized)
}

func TestRevoke(t *testing.T) {
	f := newFixture(t)
	tok := f.login(t, "alice", "correct horse", "key-1")
	keep := f.login(t, "alice", "correct horse", "key-1")
	ctx := context.Background()

	wantStatus(t, f.plugin.Revoke(ctx, authtest.Creds{}), 401, engine.CodeUnauthorized)
	wantStatus(t, f.plugin.Revoke(ctx, tokenHeader(strings.Repeat("x", len(tok)))), 401, engine.CodeUnauthorized)
	if err := f.plugin.Revoke(ctx, authtest.Header("Authorization", "DirectLogin token="+tok)); err != nil {
		t.Fatal(err)
	}
	_, err := f.plugin.Authenticate(ctx, tokenHeader(tok))
	wantStatus(t, err, 401, engine.CodeUnauthorized)
	wantStatus(t, f.plugin.Revoke(ctx, tokenHeader(tok)), 401, engine.CodeUnauthorized)
	if _, err := f.plugin.Authenticate(ctx, tokenHeader(keep)); err != nil {
		t.Fatalf("revoking one token ended another: %v", err)
	}
	// A revoked token stays revoked after a restart.
	p2 := f.newPlugin(t)
	_, err = p2.Authenticate(ctx, tokenHeader(tok))
	wantStatus(t, err, 401, engine.CodeUnauthorized)
	if _, err := p2.Authenticate(ctx, tokenHeader(keep)); err != nil {
		t.Fatal(err)
	}
}

func TestBarredAfterLogin(t *testing.T) {
	ctx := context.Background()
	t.Run("consumer disabled", func(t *testing.T) {
		f := newFixture(t)
		tok := f.login(t, "alice", "correct horse", "key-1")
		f.consumers.SetEnabled("key-1", false)
		_, err := f.plugin.Authenticate(ctx, tokenHeader(tok))
		wantStatus(t, err, 401, engine.CodeUnauthorized)
		f.consumers.SetEnabled("key-1", true)
		if _, err := f.plugin.Authenticate(ctx, tokenHeader(tok)); err != nil {
			t.Fatalf("re-enabled consumer: %v", err)
		}
	})
	t.Run("consumer deleted", func(t *testing.T) {
		f := newFixture(t)
		tok := f.login(t, "alice", "correct horse", "key-1")
		f.consumers.Remove("key-1")
		_, err := f.plugin.Authenticate(ctx, tokenHeader(tok))
		wantStatus(t, err, 401, engine.CodeUnauthorized)
	})
	t.Run("consumer key reused by another consumer", func(t *testing.T) {
		f := newFixture(t)
		tok := f.login(t, "alice", "correct horse", "key-1")
		f.consumers.Add("c-other", "key-1", "", "", true)
		_, err := f.plugin.Authenticate(ctx, tokenHeader(tok))
		wantStatus(t, err, 401, engine.CodeUnauthorized)
	})
	t.Run("user locked", func(t *testing.T) {
		f := newFixture(t)
		tok := f.login(t, "alice", "correct horse", "key-1")
		f.users.SetLocked("u-1", true)
		_, err := f.plugin.Authenticate(ctx, tokenHeader(tok))
		wantStatus(t, err, 401, engine.CodeUnauthorized)
		f.users.SetLocked("u-1", false)
		if _, err := f.plugin.Authenticate(ctx, tokenHeader(tok)); err == nil {
			t.Fatal("unlocking revived a session the lock ended")
		}
	})
	t.Run("user deleted", func(t *testing.T) {
		f := newFixture(t)
		tok := f.login(t, "alice", "correct horse", "key-1")
		f.users.Remove("u-1")
		_, err := f.plugin.Authenticate(ctx, tokenHeader(tok))
		wantStatus(t, err, 401, engine.CodeUnauthorized)
	})
	t.Run("sessions revoked", func(t *testing.T) {
		f := newFixture(t)
		old := f.login(t, "alice", "correct horse", "key-1")
		f.clock.Advance(time.Second)
		f.users.Revoke("u-1", f.clock.Now())
		_, err := f.plugin.Authenticate(ctx, tokenHeader(old))
		wantStatus(t, err, 401, engine.CodeUnauthorized)
		if _, err := f.plugin.Authenticate(ctx, tokenHeader(f.login(t, "alice", "correct horse", "key-1"))); err != nil {
			t.Fatalf("a session made after the revocation: %v", err)
		}
		if err := f.plugin.Purge(ctx); err != nil {
			t.Fatal(err)
		}
		if n := len(records(t, f.store)); n != 1 {
			t.Fatalf("%d stored tokens after purge, want the one live", n)
		}
	})
}

// TestUserLookups: a session made in this process never asks for its user;
// one restored from the store asks once, for its principal.
func TestUserLookups(t *testing.T) {
	f := newFixture(t)
	tok := f.login(t, "alice", "correct horse", "key-1")
	for range 10 {
		if _, err := f.plugin.Authenticate(context.Background(), tokenHeader(tok)); err != nil {
			t.Fatal(err)
		}
	}
	if n := f.users.Lookups(); n != 0 {
		t.Fatalf("%d user lookups, want 0", n)
	}
	f.plugin = f.newPlugin(t)
	for range 10 {
		if _, err := f.plugin.Authenticate(context.Background(), tokenHeader(tok)); err != nil {
			t.Fatal(err)
		}
	}
	if n := f.users.Lookups(); n != 1 {
		t.Fatalf("%d user lookups after a restart, want 1", n)
	}
}

func TestTokensSurviveRestart(t *testing.T) {
	f := newFixture(t)
	live := f.login(t, "alice", "correct horse", "key-1")
	f.clock.Advance(50 * time.Minute)
	young := f.login(t, "bob", "battery staple", "key-1")
	f.clock.Advance(20 * time.Minute) // live has expired, young has not

	p2 := f.newPlugin(t)
	p, err := p2.Authenticate(context.Background(), tokenHeader(young))
	if err != nil {
		t.Fatal(err)
	}
	if p.UserID != "u-2" || p.Username != "bob" || p.ConsumerID != "c-1" {
		t.Fatalf("principal %+v", p)
	}
	_, err = p2.Authenticate(context.Background(), tokenHeader(live))
	wantStatus(t, err, 401, engine.CodeUnauthorized)
	if n := len(records(t, f.store)); n != 1 {
		t.Fatalf("New left %d records, want the 1 live one", n)
	}
}

// TestStoreNeverHoldsSecrets scans the whole store file, every bucket and
// free page included, for the token and the password.
func TestStoreNeverHoldsSecrets(t *testing.T) {
	f := newFixture(t)
	var toks []string
	for range 5 {
		toks = append(toks, f.login(t, "alice", "correct horse", "key-1"))
	}
	if err := f.plugin.Revoke(context.Background(), tokenHeader(toks[0])); err != nil {
		t.Fatal(err)
	}
	path := f.store.Path()
	if err := f.store.Close(); err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(raw, []byte("correct horse")) {
		t.Fatal("store file holds the password")
	}
	for _, tok := range toks {
		dec, _ := base64.RawURLEncoding.DecodeString(tok)
		if bytes.Contains(raw, []byte(tok)) || bytes.Contains(raw, dec) {
			t.Fatalf("store file holds token %s", tok)
		}
	}
}

func TestConcurrentUse(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	shared := f.login(t, "alice", "correct horse", "key-1")
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for range 20 {
				tok, _, err := f.plugin.Login(ctx, authtest.Header("DirectLogin",
					`username=bob, password="battery staple", consumer_key=key-1`))
				if err != nil {
					t.Error(err)
					return
				}
				if _, err := f.plugin.Authenticate(ctx, tokenHeader(tok)); err != nil {
					t.Error(err)
				}
				if err := f.plugin.Revoke(ctx, tokenHeader(tok)); err != nil {
					t.Error(err)
				}
			}
		})
		wg.Go(func() {
			for range 200 {
				if _, err := f.plugin.Authenticate(ctx, tokenHeader(shared)); err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Go(func() {
		for range 10 {
			if err := f.plugin.Purge(ctx); err != nil {
				t.Error(err)
			}
		}
	})
	wg.Wait()
	if n := len(records(t, f.store)); n != 1 {
		t.Fatalf("%d records, want the shared one", n)
	}
}

func TestNewNeedsDependencies(t *testing.T) {
	if _, err := directlogin.New(context.Background(), directlogin.Options{}); err == nil {
		t.Fatal("New without a store succeeded")
	}
}

func BenchmarkAuthenticate(b *testing.B) {
	f := newFixture(b)
	tok := f.login(b, "alice", "correct horse", "key-1")
	authtest.BenchmarkAuthenticate(b, f.plugin, tokenHeader(tok))
}
