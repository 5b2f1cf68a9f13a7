package dynapi_test

import (
	"bytes"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"log/slog"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/dynapi/dynapi/internal/authtest"
	"github.com/dynapi/dynapi/plugins/jwtbearer"
)

func TestDirectLogin(t *testing.T) {
	t.Parallel()
	cfg := testConfig(t.TempDir())
	cfg.DirectLoginTTL = time.Second
	clock := authtest.NewClock()
	cfg.Now = clock.Now
	inst := openWith(t, cfg)
	defer closeInstance(t, inst)
	createUser(t, inst, "erin", "Erin-passw0rd")
	header := func(user, password, key string) map[string]string {
		return map[string]string{"DirectLogin": `username="` + user + `", password="` + password + `", consumer_key="` + key + `"`}
	}
	cases := []struct {
		name    string
		headers map[string]string
		status  int
	}{
		{"success", header("erin", "Erin-passw0rd", consumerKey), 201},
		{"in Authorization", map[string]string{"Authorization": `DirectLogin username="erin", password="Erin-passw0rd", consumer_key="` + consumerKey + `"`}, 201},
		{"wrong password", header("erin", "wrong-password", consumerKey), 401},
		{"unknown user", header("nobody", "Erin-passw0rd", consumerKey), 401},
		{"unknown consumer", header("erin", "Erin-passw0rd", "nope"), 401},
		{"missing parts", map[string]string{"DirectLogin": `username="erin"`}, 400},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := do(t, inst, request{method: "POST", path: "/my/logins/direct", headers: tc.headers, anonymous: true})
			if r.status != tc.status {
				t.Fatalf("%d %s", r.status, r.body)
			}
		})
	}
	t.Run("one answer for every wrong credential", func(t *testing.T) {
		a := do(t, inst, request{method: "POST", path: "/my/logins/direct", headers: header("erin", "wrong-password", consumerKey), anonymous: true}).problem(t)
		b := do(t, inst, request{method: "POST", path: "/my/logins/direct", headers: header("nobody", "wrong-password", consumerKey), anonymous: true}).problem(t)
		if a.Message != b.Message || a.Code != b.Code {
			t.Fatalf("a wrong password and an unknown user are told apart: %q / %q", a.Message, b.Message)
		}
	})
	t.Run("revoked token", func(t *testing.T) {
		token := login(t, inst, "erin", "Erin-passw0rd")
		if r := do(t, inst, request{method: "GET", path: "/my/user", headers: as(token)}); r.status != 200 {
			t.Fatalf("fresh token: %d", r.status)
		}
		if r := do(t, inst, request{method: "DELETE", path: "/my/logins/direct", headers: as(token)}); r.status != 204 {
			t.Fatalf("revoke: %d %s", r.status, r.body)
		}
		if r := do(t, inst, request{method: "GET", path: "/my/user", headers: as(token)}); r.status != 401 {
			t.Fatalf("revoked token: %d", r.status)
		}
	})
	t.Run("expired token", func(t *testing.T) {
		token := login(t, inst, "erin", "Erin-passw0rd")
		clock.Advance(1100 * time.Millisecond)
		if r := do(t, inst, request{method: "GET", path: "/my/user", headers: as(token)}); r.status != 401 {
			t.Fatalf("expired token: %d", r.status)
		}
	})
}

func TestLockedUserAndThrottle(t *testing.T) {
	cfg := testConfig(t.TempDir())
	cfg.Throttle.MaxFailures = 3
	inst := openWith(t, cfg)
	defer closeInstance(t, inst)
	frankID := createUser(t, inst, "frank", "Frank-passw0rd")
	token := login(t, inst, "frank", "Frank-passw0rd")
	if r := do(t, inst, request{method: "POST", path: "/admin/v1/users/" + frankID + "/lock"}); r.status != 200 {
		t.Fatalf("lock: %d %s", r.status, r.body)
	}
	if r := do(t, inst, request{method: "GET", path: "/my/user", headers: as(token)}); r.status != 401 {
		t.Fatalf("a locked user's token still works: %d", r.status)
	}
	if r := do(t, inst, request{method: "DELETE", path: "/admin/v1/users/" + frankID + "/lock"}); r.status != 200 {
		t.Fatalf("unlock: %d %s", r.status, r.body)
	}
	login(t, inst, "frank", "Frank-passw0rd")

	for range 3 {
		do(t, inst, request{method: "POST", path: "/my/logins/direct", anonymous: true, headers: map[string]string{
			"DirectLogin": `username="frank", password="guess", consumer_key="` + consumerKey + `"`}})
	}
	r := do(t, inst, request{method: "POST", path: "/my/logins/direct", anonymous: true, headers: map[string]string{
		"DirectLogin": `username="frank", password="Frank-passw0rd", consumer_key="` + consumerKey + `"`}})
	if r.status != 401 {
		t.Fatalf("the right password got through a lockout: %d", r.status)
	}

	if r := do(t, inst, request{method: "DELETE", path: "/admin/v1/users/" + frankID}); r.status != 204 {
		t.Fatalf("delete: %d %s", r.status, r.body)
	}
	if r := do(t, inst, request{method: "GET", path: "/admin/v1/users/" + frankID}); r.status != 404 {
		t.Fatalf("deleted user: %d", r.status)
	}
}

func TestConsumersAndOAuth2(t *testing.T) {
	t.Parallel()
	cfg := testConfig(t.TempDir())
	cfg.OAuth2.TTL = time.Second
	clock := authtest.NewClock()
	cfg.Now = clock.Now
	inst := openWith(t, cfg)
	defer closeInstance(t, inst)
	createUser(t, inst, "gina", "Gina-passw0rd")
	gina := login(t, inst, "gina", "Gina-passw0rd")

	r := do(t, inst, request{method: "POST", path: "/my/consumers", headers: as(gina), body: []byte(`{"name":"gina's app"}`)})
	if r.status != 201 {
		t.Fatalf("self-registration: %d %s", r.status, r.body)
	}
	app := r.json(t)
	id, key, secret := app["consumer_id"].(string), app["consumer_key"].(string), app["consumer_secret"].(string)
	if key == "" || secret == "" {
		t.Fatalf("%v", app)
	}
	if got := do(t, inst, request{method: "GET", path: "/admin/v1/consumers/" + id}); strings.Contains(string(got.body), secret) || got.status != 200 {
		t.Fatalf("the secret is shown again: %s", got.body)
	}

	token := func(id, secret string) response {
		basic := base64.StdEncoding.EncodeToString([]byte(id + ":" + secret))
		return do(t, inst, request{method: "POST", path: "/oauth2/token", anonymous: true, body: []byte("grant_type=client_credentials"),
			headers: map[string]string{"Authorization": "Basic " + basic, "Content-Type": "application/x-www-form-urlencoded"}})
	}
	ok := token(key, secret)
	if ok.status != 200 {
		t.Fatalf("client credentials: %d %s", ok.status, ok.body)
	}
	access := ok.json(t)["access_token"].(string)
	bearer := map[string]string{"Authorization": "Bearer " + access}
	if r := do(t, inst, request{method: "GET", path: "/my/user", headers: bearer}); r.status != 200 || !strings.Contains(string(r.body), "gina") {
		t.Fatalf("bearer call: %d %s", r.status, r.body)
	}
	if r := token(key, "wrong"); r.status != 401 || r.json(t)["error"] != "invalid_client" {
		t.Fatalf("wrong secret: %d %s", r.status, r.body)
	}
	form := do(t, inst, request{method: "POST", path: "/oauth2/token", anonymous: true,
		body:    []byte("grant_type=client_credentials&client_id=" + key + "&client_secret=" + secret),
		headers: map[string]string{"Content-Type": "application/x-www-form-urlencoded"}})
	if form.status != 200 {
		t.Fatalf("credentials in the form: %d %s", form.status, form.body)
	}
	jwks := do(t, inst, request{method: "GET", path: "/.well-known/jwks.json", anonymous: true})
	if jwks.status != 200 || !strings.Contains(string(jwks.body), `"keys"`) {
		t.Fatalf("jwks: %d %s", jwks.status, jwks.body)
	}

	t.Run("disabled consumer", func(t *testing.T) {
		viaApp := do(t, inst, request{method: "POST", path: "/my/logins/direct", anonymous: true, headers: map[string]string{
			"DirectLogin": `username="gina", password="Gina-passw0rd", consumer_key="` + key + `"`}}).json(t)["token"].(string)
		if r := do(t, inst, request{method: "PUT", path: "/admin/v1/consumers/" + id, headers: jsonHeaders(), body: []byte(`{"enabled":false}`)}); r.status != 200 {
			t.Fatalf("disable: %d %s", r.status, r.body)
		}
		if r := do(t, inst, request{method: "GET", path: "/my/user", headers: bearer}); r.status != 401 {
			t.Errorf("bearer of a disabled consumer: %d", r.status)
		}
		if r := do(t, inst, request{method: "GET", path: "/my/user", headers: as(viaApp)}); r.status != 401 {
			t.Errorf("DirectLogin token through a disabled consumer: %d", r.status)
		}
		if r := token(key, secret); r.status != 401 {
			t.Errorf("token for a disabled consumer: %d", r.status)
		}
	})
	t.Run("expired bearer", func(t *testing.T) {
		other := token(consumerKey, consumerSecret).json(t)["access_token"].(string)
		// Expiry allows 5 s of clock skew between instances.
		clock.Advance(6200 * time.Millisecond)
		if r := do(t, inst, request{method: "GET", path: "/my/user", headers: map[string]string{"Authorization": "Bearer " + other}}); r.status != 401 {
			t.Errorf("expired bearer: %d", r.status)
		}
	})
}

// TestExternalJWT accepts tokens of a configured identity provider, whose
// key set is a file, and maps them to a user made on first sight.
func TestExternalJWT(t *testing.T) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	jwks := map[string]any{"keys": []any{map[string]any{"kty": "RSA", "kid": "idp-1", "use": "sig", "alg": "RS256",
		"n": base64.RawURLEncoding.EncodeToString(key.N.Bytes()),
		"e": base64.RawURLEncoding.EncodeToString(big.NewInt(int64(key.E)).Bytes())}}}
	dir := t.TempDir()
	jwksFile := filepath.Join(dir, "jwks.json")
	if err := os.WriteFile(jwksFile, mustJSON(t, jwks), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := testConfig(filepath.Join(dir, "data"))
	cfg.ExternalJWT = jwtbearer.Options{Issuer: "https://idp.example.com", Audience: "dynapi", JWKSFile: jwksFile}
	cfg.JustInTimeEntitlements = true
	cfg.JustInTimeRoles = []string{"CanGetAnyUser"}
	inst := openWith(t, cfg)
	defer closeInstance(t, inst)

	sign := func(claims jwt.MapClaims) string {
		tok := jwt.NewWithClaims(jwt.SigningMethodRS256, claims)
		tok.Header["kid"] = "idp-1"
		s, err := tok.SignedString(key)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	now := time.Now()
	base := jwt.MapClaims{"iss": "https://idp.example.com", "aud": "dynapi", "sub": "u-42", "preferred_username": "hana",
		"email": "hana@example.com", "iat": now.Unix(), "exp": now.Add(time.Hour).Unix()}
	with := func(k string, v any) jwt.MapClaims {
		c := jwt.MapClaims{}
		for kk, vv := range base {
			c[kk] = vv
		}
		c[k] = v
		return c
	}
	cases := []struct {
		name   string
		token  string
		status int
	}{
		{"valid", sign(base), 200},
		{"wrong audience", sign(with("aud", "someone-else")), 401},
		{"expired", sign(with("exp", now.Add(-time.Hour).Unix())), 401},
		{"another issuer", sign(with("iss", "https://evil.example.com")), 401},
		{"tampered", sign(base)[:40] + "x" + sign(base)[41:], 401},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := do(t, inst, request{method: "GET", path: "/my/user", headers: map[string]string{"Authorization": "Bearer " + tc.token}})
			if r.status != tc.status {
				t.Fatalf("%d %s", r.status, r.body)
			}
			if tc.status == 200 && !strings.Contains(string(r.body), `"username":"hana"`) {
				t.Fatalf("user not mapped from claims: %s", r.body)
			}
		})
	}
	t.Run("just-in-time entitlement", func(t *testing.T) {
		plain := map[string]string{"Authorization": "Bearer " + sign(base)}
		if r := do(t, inst, request{method: "GET", path: "/admin/v1/users", headers: plain}); r.status != 403 {
			t.Fatalf("without the claim: %d %s", r.status, r.body)
		}
		claiming := map[string]string{"Authorization": "Bearer " + sign(with("roles", []string{"CanGetAnyUser", "CanFly"}))}
		if r := do(t, inst, request{method: "GET", path: "/admin/v1/users", headers: claiming}); r.status != 200 {
			t.Fatalf("with the claim: %d %s", r.status, r.body)
		}
		// Granted for good: the plain token passes now too.
		if r := do(t, inst, request{method: "GET", path: "/admin/v1/users", headers: plain}); r.status != 200 {
			t.Fatalf("after the grant: %d %s", r.status, r.body)
		}
		if r := do(t, inst, request{method: "GET", path: "/admin/v1/audit-log?limit=1000"}); !strings.Contains(string(r.body), "just_in_time") {
			t.Errorf("the grant is not audited")
		}
	})
}

// TestSecretsNeverShown runs a session through every kind of secret and
// checks that no response after the creating one, and no log line, holds a
// password, secret or token.
func TestSecretsNeverShown(t *testing.T) {
	var logs bytes.Buffer
	cfg := testConfig(t.TempDir())
	cfg.Logger = slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	inst := openWith(t, cfg)
	defer closeInstance(t, inst)

	var later []response
	record := func(r response) response { later = append(later, r); return r }
	const password = "Ivy-Secret-passw0rd"
	record(do(t, inst, request{method: "POST", path: "/admin/v1/users", headers: jsonHeaders(),
		body: mustJSON(t, map[string]string{"username": "ivy", "password": password})}))
	ivy := login(t, inst, "ivy", password)
	created := do(t, inst, request{method: "POST", path: "/my/consumers", headers: as(ivy), body: []byte(`{"name":"ivy app"}`)}).json(t)
	secret := created["consumer_secret"].(string)
	basic := base64.StdEncoding.EncodeToString([]byte(created["consumer_key"].(string) + ":" + secret))
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.Unmarshal(do(t, inst, request{method: "POST", path: "/oauth2/token", anonymous: true, body: []byte("grant_type=client_credentials"),
		headers: map[string]string{"Authorization": "Basic " + basic, "Content-Type": "application/x-www-form-urlencoded"}}).body, &tok); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{"/my/user", "/my/consumers", "/my/entitlements"} {
		record(do(t, inst, request{method: "GET", path: path, headers: as(ivy)}))
	}
	for _, path := range []string{"/admin/v1/users", "/admin/v1/consumers", "/admin/v1/audit-log", "/admin/v1/roles"} {
		record(do(t, inst, request{method: "GET", path: path}))
	}
	record(do(t, inst, request{method: "GET", path: "/my/user", headers: map[string]string{"Authorization": "Bearer " + tok.AccessToken}}))
	record(do(t, inst, request{method: "GET", path: "/my/user", headers: map[string]string{"Authorization": directLogin(ivy + "x")}}))

	secrets := map[string]string{"password": password, "consumer secret": secret, "DirectLogin token": ivy,
		"access token": tok.AccessToken, "admin password": adminPassword, "admin consumer secret": consumerSecret}
	for name, s := range secrets {
		for _, r := range later {
			if bytes.Contains(r.body, []byte(s)) {
				t.Errorf("a response holds the %s: %s", name, r.body)
			}
		}
		if bytes.Contains(logs.Bytes(), []byte(s)) {
			t.Errorf("the log holds the %s", name)
		}
	}
	audit := do(t, inst, request{method: "GET", path: "/admin/v1/audit-log?limit=2"})
	var page struct {
		Entries   []map[string]any `json:"entries"`
		NextAfter uint64           `json:"next_after"`
	}
	if err := json.Unmarshal(audit.body, &page); err != nil || len(page.Entries) != 2 || page.NextAfter == 0 {
		t.Fatalf("audit log paging: %s", audit.body)
	}
	if !strings.Contains(string(do(t, inst, request{method: "GET", path: "/admin/v1/audit-log?limit=1000"}).body), "user.create") {
		t.Errorf("user creation not audited")
	}
}
