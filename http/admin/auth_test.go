package admin_test

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

	"github.com/dynapi/dynapi/internal/enginetest"
	"github.com/dynapi/dynapi/plugins/jwtbearer"
)

func TestDirectLogin(t *testing.T) {
	t.Parallel()
	cfg := enginetest.Config(t.TempDir())
	cfg.DirectLoginTTL = time.Second
	inst := enginetest.New(t, enginetest.WithConfig(cfg))
	defer inst.Close(t)
	inst.CreateUser(t, "erin", "Erin-passw0rd")
	header := func(user, password, key string) map[string]string {
		return map[string]string{"DirectLogin": `username="` + user + `", password="` + password + `", consumer_key="` + key + `"`}
	}
	cases := []struct {
		name    string
		headers map[string]string
		status  int
	}{
		{"success", header("erin", "Erin-passw0rd", enginetest.ConsumerKey), 201},
		{"in Authorization", map[string]string{"Authorization": `DirectLogin username="erin", password="Erin-passw0rd", consumer_key="` + enginetest.ConsumerKey + `"`}, 201},
		{"wrong password", header("erin", "wrong-password", enginetest.ConsumerKey), 401},
		{"unknown user", header("nobody", "Erin-passw0rd", enginetest.ConsumerKey), 401},
		{"unknown consumer", header("erin", "Erin-passw0rd", "nope"), 401},
		{"missing parts", map[string]string{"DirectLogin": `username="erin"`}, 400},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := inst.Anonymous().Send(t, enginetest.Request{Method: "POST", Path: "/my/logins/direct", Header: tc.headers})
			if r.Status != tc.status {
				t.Fatalf("%d %s", r.Status, r.Body)
			}
		})
	}
	t.Run("one answer for every wrong credential", func(t *testing.T) {
		a := inst.Anonymous().Send(t, enginetest.Request{Method: "POST", Path: "/my/logins/direct", Header: header("erin", "wrong-password", enginetest.ConsumerKey)}).Problem(t)
		b := inst.Anonymous().Send(t, enginetest.Request{Method: "POST", Path: "/my/logins/direct", Header: header("nobody", "wrong-password", enginetest.ConsumerKey)}).Problem(t)
		if a.Message != b.Message || a.Code != b.Code {
			t.Fatalf("a wrong password and an unknown user are told apart: %q / %q", a.Message, b.Message)
		}
	})
	t.Run("revoked token", func(t *testing.T) {
		token := inst.Login(t, "erin", "Erin-passw0rd")
		if r := inst.Token(token).Get(t, "/my/user"); r.Status != 200 {
			t.Fatalf("fresh token: %d", r.Status)
		}
		if r := inst.Token(token).Delete(t, "/my/logins/direct"); r.Status != 204 {
			t.Fatalf("revoke: %d %s", r.Status, r.Body)
		}
		if r := inst.Token(token).Get(t, "/my/user"); r.Status != 401 {
			t.Fatalf("revoked token: %d", r.Status)
		}
	})
	t.Run("expired token", func(t *testing.T) {
		token := inst.Login(t, "erin", "Erin-passw0rd")
		inst.Clock.Advance(1100 * time.Millisecond)
		if r := inst.Token(token).Get(t, "/my/user"); r.Status != 401 {
			t.Fatalf("expired token: %d", r.Status)
		}
	})
}

func TestLockedUserAndThrottle(t *testing.T) {
	cfg := enginetest.Config(t.TempDir())
	cfg.Throttle.MaxFailures = 3
	inst := enginetest.New(t, enginetest.WithConfig(cfg))
	defer inst.Close(t)
	frankID := inst.CreateUser(t, "frank", "Frank-passw0rd").ID
	token := inst.Login(t, "frank", "Frank-passw0rd")
	if r := inst.Admin().Send(t, enginetest.Request{Method: "POST", Path: "/admin/v1/users/" + frankID + "/lock"}); r.Status != 200 {
		t.Fatalf("lock: %d %s", r.Status, r.Body)
	}
	if r := inst.Token(token).Get(t, "/my/user"); r.Status != 401 {
		t.Fatalf("a locked user's token still works: %d", r.Status)
	}
	if r := inst.Admin().Delete(t, "/admin/v1/users/"+frankID+"/lock"); r.Status != 200 {
		t.Fatalf("unlock: %d %s", r.Status, r.Body)
	}
	inst.Login(t, "frank", "Frank-passw0rd")

	for range 3 {
		inst.Anonymous().Send(t, enginetest.Request{Method: "POST", Path: "/my/logins/direct", Header: map[string]string{
			"DirectLogin": `username="frank", password="guess", consumer_key="` + enginetest.ConsumerKey + `"`}})
	}
	r := inst.Anonymous().Send(t, enginetest.Request{Method: "POST", Path: "/my/logins/direct", Header: map[string]string{
		"DirectLogin": `username="frank", password="Frank-passw0rd", consumer_key="` + enginetest.ConsumerKey + `"`}})
	if r.Status != 401 {
		t.Fatalf("the right password got through a lockout: %d", r.Status)
	}

	if r := inst.Admin().Delete(t, "/admin/v1/users/"+frankID); r.Status != 204 {
		t.Fatalf("delete: %d %s", r.Status, r.Body)
	}
	if r := inst.Admin().Get(t, "/admin/v1/users/"+frankID); r.Status != 404 {
		t.Fatalf("deleted user: %d", r.Status)
	}
}

func TestConsumersAndOAuth2(t *testing.T) {
	t.Parallel()
	cfg := enginetest.Config(t.TempDir())
	cfg.OAuth2.TTL = time.Second
	inst := enginetest.New(t, enginetest.WithConfig(cfg))
	defer inst.Close(t)
	inst.CreateUser(t, "gina", "Gina-passw0rd")
	gina := inst.Login(t, "gina", "Gina-passw0rd")

	r := inst.Token(gina).Send(t, enginetest.Request{Method: "POST", Path: "/my/consumers", Header: enginetest.JSONHeader(), Body: []byte(`{"name":"gina's app"}`)})
	if r.Status != 201 {
		t.Fatalf("self-registration: %d %s", r.Status, r.Body)
	}
	app := r.JSON(t)
	id, key, secret := app["consumer_id"].(string), app["consumer_key"].(string), app["consumer_secret"].(string)
	if key == "" || secret == "" {
		t.Fatalf("%v", app)
	}
	if got := inst.Admin().Get(t, "/admin/v1/consumers/"+id); strings.Contains(string(got.Body), secret) || got.Status != 200 {
		t.Fatalf("the secret is shown again: %s", got.Body)
	}

	token := func(id, secret string) enginetest.Response {
		basic := base64.StdEncoding.EncodeToString([]byte(id + ":" + secret))
		return inst.Anonymous().Send(t, enginetest.Request{Method: "POST", Path: "/oauth2/token", Body: []byte("grant_type=client_credentials"),
			Header: map[string]string{"Authorization": "Basic " + basic, "Content-Type": "application/x-www-form-urlencoded"}})
	}
	ok := token(key, secret)
	if ok.Status != 200 {
		t.Fatalf("client credentials: %d %s", ok.Status, ok.Body)
	}
	access := ok.JSON(t)["access_token"].(string)
	bearer := inst.WithAuthorization("Bearer " + access)
	if r := bearer.Get(t, "/my/user"); r.Status != 200 || !strings.Contains(string(r.Body), "gina") {
		t.Fatalf("bearer call: %d %s", r.Status, r.Body)
	}
	if r := token(key, "wrong"); r.Status != 401 || r.JSON(t)["error"] != "invalid_client" {
		t.Fatalf("wrong secret: %d %s", r.Status, r.Body)
	}
	form := inst.Anonymous().Send(t, enginetest.Request{Method: "POST", Path: "/oauth2/token", Body: []byte("grant_type=client_credentials&client_id=" + key + "&client_secret=" + secret),
		Header: map[string]string{"Content-Type": "application/x-www-form-urlencoded"}})
	if form.Status != 200 {
		t.Fatalf("credentials in the form: %d %s", form.Status, form.Body)
	}
	jwks := inst.Anonymous().Get(t, "/.well-known/jwks.json")
	if jwks.Status != 200 || !strings.Contains(string(jwks.Body), `"keys"`) {
		t.Fatalf("jwks: %d %s", jwks.Status, jwks.Body)
	}

	t.Run("disabled consumer", func(t *testing.T) {
		viaApp := inst.Anonymous().Send(t, enginetest.Request{Method: "POST", Path: "/my/logins/direct", Header: map[string]string{
			"DirectLogin": `username="gina", password="Gina-passw0rd", consumer_key="` + key + `"`}}).JSON(t)["token"].(string)
		if r := inst.Admin().Send(t, enginetest.Request{Method: "PUT", Path: "/admin/v1/consumers/" + id, Header: enginetest.JSONHeader(), Body: []byte(`{"enabled":false}`)}); r.Status != 200 {
			t.Fatalf("disable: %d %s", r.Status, r.Body)
		}
		if r := bearer.Get(t, "/my/user"); r.Status != 401 {
			t.Errorf("bearer of a disabled consumer: %d", r.Status)
		}
		if r := inst.Token(viaApp).Get(t, "/my/user"); r.Status != 401 {
			t.Errorf("DirectLogin token through a disabled consumer: %d", r.Status)
		}
		if r := token(key, secret); r.Status != 401 {
			t.Errorf("token for a disabled consumer: %d", r.Status)
		}
	})
	t.Run("expired bearer", func(t *testing.T) {
		other := token(enginetest.ConsumerKey, enginetest.ConsumerSecret).JSON(t)["access_token"].(string)
		// Expiry allows 5 s of clock skew between instances.
		inst.Clock.Advance(6200 * time.Millisecond)
		if r := inst.Anonymous().Send(t, enginetest.Request{Method: "GET", Path: "/my/user", Header: map[string]string{"Authorization": "Bearer " + other}}); r.Status != 401 {
			t.Errorf("expired bearer: %d", r.Status)
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
	if err := os.WriteFile(jwksFile, enginetest.MustJSON(t, jwks), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := enginetest.Config(filepath.Join(dir, "data"))
	cfg.ExternalJWT = jwtbearer.Options{Issuer: "https://idp.example.com", Audience: "dynapi", JWKSFile: jwksFile}
	cfg.JustInTimeEntitlements = true
	cfg.JustInTimeRoles = []string{"CanGetAnyUser"}
	inst := enginetest.New(t, enginetest.WithConfig(cfg))
	defer inst.Close(t)

	sign := func(claims jwt.MapClaims) string {
		tok := jwt.NewWithClaims(jwt.SigningMethodRS256, claims)
		tok.Header["kid"] = "idp-1"
		s, err := tok.SignedString(key)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	now := inst.Clock.Now()
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
			r := inst.Anonymous().Send(t, enginetest.Request{Method: "GET", Path: "/my/user", Header: map[string]string{"Authorization": "Bearer " + tc.token}})
			if r.Status != tc.status {
				t.Fatalf("%d %s", r.Status, r.Body)
			}
			if tc.status == 200 && !strings.Contains(string(r.Body), `"username":"hana"`) {
				t.Fatalf("user not mapped from claims: %s", r.Body)
			}
		})
	}
	t.Run("just-in-time entitlement", func(t *testing.T) {
		plain := inst.WithAuthorization("Bearer " + sign(base))
		if r := plain.Get(t, "/admin/v1/users"); r.Status != 403 {
			t.Fatalf("without the claim: %d %s", r.Status, r.Body)
		}
		claiming := inst.WithAuthorization("Bearer " + sign(with("roles", []string{"CanGetAnyUser", "CanFly"})))
		if r := claiming.Get(t, "/admin/v1/users"); r.Status != 200 {
			t.Fatalf("with the claim: %d %s", r.Status, r.Body)
		}
		// Granted for good: the plain token passes now too.
		if r := plain.Get(t, "/admin/v1/users"); r.Status != 200 {
			t.Fatalf("after the grant: %d %s", r.Status, r.Body)
		}
		if r := inst.Admin().Get(t, "/admin/v1/audit-log?limit=1000"); !strings.Contains(string(r.Body), "just_in_time") {
			t.Errorf("the grant is not audited")
		}
	})
}

// TestSecretsNeverShown runs a session through every kind of secret and
// checks that no response after the creating one, and no log line, holds a
// password, secret or token.
func TestSecretsNeverShown(t *testing.T) {
	var logs bytes.Buffer
	cfg := enginetest.Config(t.TempDir())
	cfg.Logger = slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	inst := enginetest.New(t, enginetest.WithConfig(cfg))
	defer inst.Close(t)

	var later []enginetest.Response
	record := func(r enginetest.Response) enginetest.Response { later = append(later, r); return r }
	const password = "Ivy-Secret-passw0rd"
	record(inst.Admin().Send(t, enginetest.Request{Method: "POST", Path: "/admin/v1/users", Header: enginetest.JSONHeader(),
		Body: enginetest.MustJSON(t, map[string]string{"username": "ivy", "password": password})}))
	ivy := inst.Login(t, "ivy", password)
	created := inst.Token(ivy).Send(t, enginetest.Request{Method: "POST", Path: "/my/consumers", Header: enginetest.JSONHeader(), Body: []byte(`{"name":"ivy app"}`)}).JSON(t)
	secret := created["consumer_secret"].(string)
	basic := base64.StdEncoding.EncodeToString([]byte(created["consumer_key"].(string) + ":" + secret))
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.Unmarshal(inst.Anonymous().Send(t, enginetest.Request{Method: "POST", Path: "/oauth2/token", Body: []byte("grant_type=client_credentials"),
		Header: map[string]string{"Authorization": "Basic " + basic, "Content-Type": "application/x-www-form-urlencoded"}}).Body, &tok); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{"/my/user", "/my/consumers", "/my/entitlements"} {
		record(inst.Token(ivy).Get(t, path))
	}
	for _, path := range []string{"/admin/v1/users", "/admin/v1/consumers", "/admin/v1/audit-log", "/admin/v1/roles"} {
		record(inst.Admin().Get(t, path))
	}
	record(inst.Anonymous().Send(t, enginetest.Request{Method: "GET", Path: "/my/user", Header: map[string]string{"Authorization": "Bearer " + tok.AccessToken}}))
	record(inst.Anonymous().Send(t, enginetest.Request{Method: "GET", Path: "/my/user", Header: map[string]string{"Authorization": enginetest.DirectLogin(ivy + "x")}}))

	secrets := map[string]string{"password": password, "consumer secret": secret, "DirectLogin token": ivy,
		"access token": tok.AccessToken, "admin password": enginetest.AdminPassword, "admin consumer secret": enginetest.ConsumerSecret}
	for name, s := range secrets {
		for _, r := range later {
			if bytes.Contains(r.Body, []byte(s)) {
				t.Errorf("a response holds the %s: %s", name, r.Body)
			}
		}
		if bytes.Contains(logs.Bytes(), []byte(s)) {
			t.Errorf("the log holds the %s", name)
		}
	}
	audit := inst.Admin().Get(t, "/admin/v1/audit-log?limit=2")
	var page struct {
		Entries   []map[string]any `json:"entries"`
		NextAfter uint64           `json:"next_after"`
	}
	if err := json.Unmarshal(audit.Body, &page); err != nil || len(page.Entries) != 2 || page.NextAfter == 0 {
		t.Fatalf("audit log paging: %s", audit.Body)
	}
	if !strings.Contains(string(inst.Admin().Get(t, "/admin/v1/audit-log?limit=1000").Body), "user.create") {
		t.Errorf("user creation not audited")
	}
}
