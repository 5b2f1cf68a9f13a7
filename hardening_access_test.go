package dynapi_test

import (
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/dynapi/dynapi"
	"github.com/dynapi/dynapi/plugins/jwtbearer"
)

// Issue 9, points 4, 9, 10, 13 and 15: access ends when it should, logins
// are throttled per address without refusing right passwords, and every
// login event is recorded. The attacks come over HTTP, some over real
// loopback connections from distinct source addresses (127.0.0.0/8 is all
// loopback), as an outsider, a customer or an admin would make them.

// peer is an HTTP client whose connections come from one loopback address.
type peer struct {
	ip     string
	client *http.Client
}

func newPeer(t testing.TB, ip string) *peer {
	t.Helper()
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}, Timeout: 5 * time.Second}
	tr := &http.Transport{DialContext: d.DialContext, MaxIdleConnsPerHost: 32}
	t.Cleanup(tr.CloseIdleConnections)
	return &peer{ip: ip, client: &http.Client{Transport: tr, Timeout: 20 * time.Second}}
}

// send makes one request to the server at addr.
func (p *peer) send(t testing.TB, addr, method, path string, headers map[string]string, body string) response {
	t.Helper()
	req, err := http.NewRequest(method, "http://"+addr+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	resp, err := p.client.Do(req)
	if err != nil {
		t.Fatalf("%s %s from %s: %v", method, path, p.ip, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return response{status: resp.StatusCode, header: resp.Header, body: b}
}

// login tries a DirectLogin through the first consumer.
func (p *peer) login(t testing.TB, addr, username, password string) response {
	t.Helper()
	return p.send(t, addr, "POST", "/my/logins/direct", map[string]string{"DirectLogin": fmt.Sprintf(
		`username="%s", password="%s", consumer_key="%s"`, username, password, consumerKey)}, "")
}

// clientToken asks for an OAuth2 client-credentials token.
func clientToken(t testing.TB, inst *dynapi.Instance, key, secret string) response {
	t.Helper()
	basic := base64.StdEncoding.EncodeToString([]byte(key + ":" + secret))
	return do(t, inst, request{method: "POST", path: "/oauth2/token", anonymous: true, body: []byte("grant_type=client_credentials"),
		headers: map[string]string{"Authorization": "Basic " + basic, "Content-Type": "application/x-www-form-urlencoded"}})
}

// ownApp registers a consumer for the user holding token and returns its
// id, key and secret.
func ownApp(t testing.TB, inst *dynapi.Instance, token string) (id, key, secret string) {
	t.Helper()
	r := do(t, inst, request{method: "POST", path: "/my/consumers", headers: as(token), body: []byte(`{"name":"own app"}`)})
	if r.status != http.StatusCreated {
		t.Fatalf("register app: %d %s", r.status, r.body)
	}
	m := r.json(t)
	return m["consumer_id"].(string), m["consumer_key"].(string), m["consumer_secret"].(string)
}

// bearerToken gets an access token for a consumer.
func bearerToken(t testing.TB, inst *dynapi.Instance, key, secret string) map[string]string {
	t.Helper()
	r := clientToken(t, inst, key, secret)
	if r.status != http.StatusOK {
		t.Fatalf("client credentials: %d %s", r.status, r.body)
	}
	return map[string]string{"Authorization": "Bearer " + r.json(t)["access_token"].(string)}
}

// identityProvider signs external identity tokens; its key set is a file
// the instance reads.
type identityProvider struct {
	key      *rsa.PrivateKey
	jwksFile string
}

const idpIssuer = "https://idp.example.com"

func newIdentityProvider(t testing.TB, dir string) *identityProvider {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	set := map[string]any{"keys": []any{map[string]any{"kty": "RSA", "kid": "idp-1", "use": "sig", "alg": "RS256",
		"n": base64.RawURLEncoding.EncodeToString(key.N.Bytes()),
		"e": base64.RawURLEncoding.EncodeToString(big.NewInt(int64(key.E)).Bytes())}}}
	file := filepath.Join(dir, "jwks.json")
	if err := os.WriteFile(file, mustJSON(t, set), 0o600); err != nil {
		t.Fatal(err)
	}
	return &identityProvider{key: key, jwksFile: file}
}

func (p *identityProvider) config() jwtbearer.Options {
	return jwtbearer.Options{Issuer: idpIssuer, Audience: "dynapi", JWKSFile: p.jwksFile}
}

// bearer returns headers with a token for subject, issued at iat, with
// extra claims.
func (p *identityProvider) bearer(t testing.TB, subject string, iat time.Time, extra jwt.MapClaims) map[string]string {
	t.Helper()
	claims := jwt.MapClaims{"iss": idpIssuer, "aud": "dynapi", "sub": subject, "preferred_username": subject,
		"iat": iat.Unix(), "exp": iat.Add(time.Hour).Unix()}
	for k, v := range extra {
		claims[k] = v
	}
	tok := jwt.NewWithClaims(jwt.SigningMethodRS256, claims)
	tok.Header["kid"] = "idp-1"
	s, err := tok.SignedString(p.key)
	if err != nil {
		t.Fatal(err)
	}
	return map[string]string{"Authorization": "Bearer " + s}
}

// loginMethod is one way a user gets credentials that the engine accepts.
type loginMethod struct {
	name string
	// before returns credentials issued before a revocation; after those
	// issued after it (or nil when they must be refused).
	before, after func() map[string]string
	userID        string
	// grant asks for a token through the user's own app (OAuth2 only).
	grant func() response
}

// loginMethods sets a user up for each login method on inst: DirectLogin,
// OAuth2 client credentials through the user's own app, and an external
// identity token.
func loginMethods(t *testing.T, inst *dynapi.Instance, idp *identityProvider, name, password string) []loginMethod {
	t.Helper()
	userID := createUser(t, inst, name, password)
	dl := func() map[string]string { return as(login(t, inst, name, password)) }
	_, key, secret := ownApp(t, inst, login(t, inst, name, password))
	oa := func() map[string]string { return bearerToken(t, inst, key, secret) }
	extBefore := idp.bearer(t, "ext-"+name, time.Now().Add(-2*time.Second), nil)
	me := do(t, inst, request{method: "GET", path: "/my/user", headers: extBefore})
	if me.status != http.StatusOK {
		t.Fatalf("external identity: %d %s", me.status, me.body)
	}
	extID := me.json(t)["user_id"].(string)
	return []loginMethod{
		{name: "DirectLogin", before: dl, after: dl, userID: userID},
		{name: "OAuth2 client credentials", before: oa, after: oa, userID: userID,
			grant: func() response { return clientToken(t, inst, key, secret) }},
		{name: "external JWT", userID: extID,
			before: func() map[string]string { return extBefore },
			// The next whole second: iat has no finer unit.
			after: func() map[string]string {
				return idp.bearer(t, "ext-"+name, time.Now().Add(1100*time.Millisecond), nil)
			}},
	}
}

func TestHardeningAccessLockEndsEveryLogin(t *testing.T) {
	dir := t.TempDir()
	idp := newIdentityProvider(t, dir)
	cfg := testConfig(filepath.Join(dir, "data"))
	cfg.ExternalJWT = idp.config()
	inst := openWith(t, cfg)
	defer closeInstance(t, inst)

	for _, m := range loginMethods(t, inst, idp, "lena", "Lena-passw0rd") {
		t.Run(m.name, func(t *testing.T) {
			creds := m.before()
			if r := do(t, inst, request{method: "GET", path: "/my/user", headers: creds}); r.status != http.StatusOK {
				t.Fatalf("before the lock: %d %s", r.status, r.body)
			}
			if r := do(t, inst, request{method: "POST", path: "/admin/v1/users/" + m.userID + "/lock"}); r.status != http.StatusOK {
				t.Fatalf("lock: %d %s", r.status, r.body)
			}
			if r := do(t, inst, request{method: "GET", path: "/my/user", headers: creds}); r.status != http.StatusUnauthorized {
				t.Fatalf("a token issued before the lock still works: %d %s", r.status, r.body)
			}
			if m.grant != nil {
				if r := m.grant(); r.status != http.StatusUnauthorized {
					t.Fatalf("a locked user's consumer got a token: %d %s", r.status, r.body)
				}
			}
			if r := do(t, inst, request{method: "DELETE", path: "/admin/v1/users/" + m.userID + "/lock"}); r.status != http.StatusOK {
				t.Fatalf("unlock: %d %s", r.status, r.body)
			}
			if r := do(t, inst, request{method: "GET", path: "/my/user", headers: creds}); r.status != http.StatusUnauthorized {
				t.Fatalf("unlocking revived a token the lock ended: %d %s", r.status, r.body)
			}
			if r := do(t, inst, request{method: "GET", path: "/my/user", headers: m.after()}); r.status != http.StatusOK {
				t.Fatalf("a token issued after the unlock: %d %s", r.status, r.body)
			}
		})
	}
}

func TestHardeningAccessDeleteEndsEveryLogin(t *testing.T) {
	dir := t.TempDir()
	idp := newIdentityProvider(t, dir)
	cfg := testConfig(filepath.Join(dir, "data"))
	cfg.ExternalJWT = idp.config()
	inst := openWith(t, cfg)
	defer closeInstance(t, inst)

	methods := loginMethods(t, inst, idp, "mia", "Mia-passw0rd")
	appID, _, _ := ownApp(t, inst, login(t, inst, "mia", "Mia-passw0rd"))
	held := make([]map[string]string, len(methods))
	for i, m := range methods {
		held[i] = m.before()
	}
	for _, id := range []string{methods[0].userID, methods[2].userID} {
		if r := do(t, inst, request{method: "DELETE", path: "/admin/v1/users/" + id}); r.status != http.StatusNoContent {
			t.Fatalf("delete: %d %s", r.status, r.body)
		}
	}
	for i, m := range methods {
		t.Run(m.name, func(t *testing.T) {
			if r := do(t, inst, request{method: "GET", path: "/my/user", headers: held[i]}); r.status != http.StatusUnauthorized {
				t.Fatalf("a deleted user's token still works: %d %s", r.status, r.body)
			}
			if m.grant != nil {
				if r := m.grant(); r.status != http.StatusUnauthorized {
					t.Fatalf("a deleted user's consumer got a token: %d %s", r.status, r.body)
				}
			}
		})
	}
	t.Run("consumers disabled", func(t *testing.T) {
		r := do(t, inst, request{method: "GET", path: "/admin/v1/consumers/" + appID})
		if r.status != http.StatusOK || r.json(t)["enabled"] != false {
			t.Fatalf("a deleted user's consumer is enabled: %d %s", r.status, r.body)
		}
	})
	t.Run("external identity back later", func(t *testing.T) {
		// The identity provider vouches for the person again: a new user,
		// without what the deleted one held.
		r := do(t, inst, request{method: "GET", path: "/my/user", headers: methods[2].after()})
		if r.status != http.StatusOK || r.json(t)["user_id"] == methods[2].userID {
			t.Fatalf("a token issued after the deletion: %d %s", r.status, r.body)
		}
	})
}

func TestHardeningAccessPasswordChangeRevokes(t *testing.T) {
	inst := open(t, "")
	const old, changed, reset = "Nora-passw0rd", "Nora-changed-1", "Nora-reset-22"
	noraID := createUser(t, inst, "nora", old)
	session := login(t, inst, "nora", old)
	_, key, secret := ownApp(t, inst, session)
	bearer := bearerToken(t, inst, key, secret)
	change := func(token, current, next string) response {
		return do(t, inst, request{method: "PUT", path: "/my/password", headers: as(token),
			body: mustJSON(t, map[string]string{"current_password": current, "new_password": next})})
	}

	t.Run("refused", func(t *testing.T) {
		cases := []struct {
			name, current, next, pointer string
		}{
			{"wrong current password", "Not-her-passw0rd", changed, "/current_password"},
			{"weak new password", old, "short", "/new_password"},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				r := change(session, tc.current, tc.next)
				if r.status != http.StatusBadRequest || !hasViolation(r.problem(t), "body", tc.pointer, "*") {
					t.Fatalf("%d %s", r.status, r.body)
				}
			})
		}
		if r := do(t, inst, request{method: "GET", path: "/my/user", headers: as(session)}); r.status != http.StatusOK {
			t.Fatalf("a refused change ended the session: %d", r.status)
		}
	})
	t.Run("by the user", func(t *testing.T) {
		if r := change(session, old, changed); r.status != http.StatusNoContent {
			t.Fatalf("change: %d %s", r.status, r.body)
		}
		for name, h := range map[string]map[string]string{"DirectLogin": as(session), "OAuth2": bearer} {
			if r := do(t, inst, request{method: "GET", path: "/my/user", headers: h}); r.status != http.StatusUnauthorized {
				t.Errorf("%s token after a password change: %d", name, r.status)
			}
		}
		if r := do(t, inst, request{method: "POST", path: "/my/logins/direct", anonymous: true, headers: map[string]string{
			"DirectLogin": `username="nora", password="` + old + `", consumer_key="` + consumerKey + `"`}}); r.status != http.StatusUnauthorized {
			t.Errorf("the old password still logs in: %d", r.status)
		}
		session = login(t, inst, "nora", changed)
	})
	t.Run("by an admin", func(t *testing.T) {
		body := mustJSON(t, map[string]string{"password": reset})
		path := "/admin/v1/users/" + noraID + "/password"
		if r := do(t, inst, request{method: "PUT", path: path, headers: as(session), body: body}); r.status != http.StatusForbidden {
			t.Fatalf("a user without the role reset a password: %d %s", r.status, r.body)
		}
		if r := do(t, inst, request{method: "PUT", path: path, headers: jsonHeaders(), body: []byte(`{"password":"x"}`)}); r.status != http.StatusBadRequest {
			t.Fatalf("a weak password: %d %s", r.status, r.body)
		}
		if r := do(t, inst, request{method: "PUT", path: path, headers: jsonHeaders(), body: body}); r.status != http.StatusNoContent {
			t.Fatalf("reset: %d %s", r.status, r.body)
		}
		if r := do(t, inst, request{method: "GET", path: "/my/user", headers: as(session)}); r.status != http.StatusUnauthorized {
			t.Errorf("a session after a password reset: %d", r.status)
		}
		login(t, inst, "nora", reset)
	})
}

func TestHardeningAccessConcurrentRightLogins(t *testing.T) {
	inst := open(t, "")
	addr := serveLoopback(t, inst)
	createUser(t, inst, "olga", "Olga-passw0rd")
	const n = 20
	statuses := make([]int, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			statuses[i] = doLoopback(t, inst, addr, request{method: "POST", path: "/my/logins/direct", anonymous: true,
				headers: map[string]string{"DirectLogin": `username="olga", password="Olga-passw0rd", consumer_key="` + consumerKey + `"`}}).status
		})
	}
	wg.Wait()
	for i, s := range statuses {
		if s != http.StatusCreated {
			t.Errorf("right login %d of %d from one address: %d", i+1, n, s)
		}
	}
}

func TestHardeningAccessAttackerCannotLockUserOut(t *testing.T) {
	cfg := testConfig(t.TempDir())
	cfg.Throttle.MaxFailures = 3
	inst := openWith(t, cfg)
	defer closeInstance(t, inst)
	addr := serveLoopback(t, inst)
	victimID := createUser(t, inst, "petra", "Petra-passw0rd")
	attacker, victim := newPeer(t, "127.0.0.2"), newPeer(t, "127.0.0.3")

	for _, user := range []string{"petra", adminUsername} {
		for i := range 5 {
			if r := attacker.login(t, addr, user, fmt.Sprintf("guess-%d", i)); r.status != http.StatusUnauthorized {
				t.Fatalf("guess: %d %s", r.status, r.body)
			}
		}
	}
	if r := attacker.login(t, addr, "petra", "Petra-passw0rd"); r.status != http.StatusUnauthorized {
		t.Fatalf("the guessing address is not locked out: %d", r.status)
	}
	for _, u := range []struct{ name, password string }{{"petra", "Petra-passw0rd"}, {adminUsername, adminPassword}} {
		if r := victim.login(t, addr, u.name, u.password); r.status != http.StatusCreated {
			t.Fatalf("%s cannot log in from another address after an attacker's guesses: %d %s", u.name, r.status, r.body)
		}
	}
	t.Run("break-glass", func(t *testing.T) {
		path := "/admin/v1/users/" + victimID + "/login-failures"
		if r := do(t, inst, request{method: "DELETE", path: path}); r.status != http.StatusNoContent {
			t.Fatalf("clear failures: %d %s", r.status, r.body)
		}
		if r := attacker.login(t, addr, "petra", "Petra-passw0rd"); r.status != http.StatusCreated {
			t.Fatalf("still locked out after the failures were cleared: %d", r.status)
		}
	})
}

func TestHardeningAccessSlowdownStaysWithAddress(t *testing.T) {
	const delay = 2 * time.Second
	cfg := testConfig(t.TempDir())
	cfg.Throttle.SlowAfter, cfg.Throttle.Delay, cfg.Throttle.MaxDelay = 2, delay, delay
	inst := openWith(t, cfg)
	defer closeInstance(t, inst)
	addr := serveLoopback(t, inst)
	createUser(t, inst, "quinn", "Quinn-passw0rd")
	createUser(t, inst, "rosa", "Rosa-passw0rd")
	shared, other := newPeer(t, "127.0.0.4"), newPeer(t, "127.0.0.5")

	for _, user := range []string{"nobody", "someone"} {
		if r := shared.login(t, addr, user, "guess"); r.status != http.StatusUnauthorized {
			t.Fatalf("guess: %d", r.status)
		}
	}
	timed := func(p *peer, user, password string) time.Duration {
		start := time.Now()
		if r := p.login(t, addr, user, password); r.status != http.StatusCreated {
			t.Fatalf("%s from %s: %d %s", user, p.ip, r.status, r.body)
		}
		return time.Since(start)
	}
	behind := timed(shared, "quinn", "Quinn-passw0rd")
	elsewhere := timed(other, "rosa", "Rosa-passw0rd")
	if behind < delay {
		t.Errorf("the guessing address was not slowed: %v", behind)
	}
	if behind > delay+5*time.Second {
		t.Errorf("a right login behind the address waited %v, beyond the bound", behind)
	}
	if elsewhere > behind-delay/2 {
		t.Errorf("another address was slowed too: %v (behind the guessing one: %v)", elsewhere, behind)
	}
}

func TestHardeningAccessSecurityEvents(t *testing.T) {
	t.Run("recorded, without secrets", func(t *testing.T) {
		inst := open(t, "")
		addr := serveLoopback(t, inst)
		const password = "Sami-passw0rd"
		samiID := createUser(t, inst, "sami", password)
		p := newPeer(t, "127.0.0.6")
		p.login(t, addr, "sami", "Wrong-guess-1")
		p.login(t, addr, "nobody-such", "Wrong-guess-2")
		token := p.login(t, addr, "sami", password).json(t)["token"].(string)
		_, key, secret := ownApp(t, inst, token)
		access := bearerToken(t, inst, key, secret)["Authorization"]
		clientToken(t, inst, key, "not-the-secret-0123456789abcdef0123")
		p.send(t, addr, "DELETE", "/my/logins/direct", map[string]string{"Authorization": directLogin(token)}, "")
		for _, step := range []struct{ method, path, body string }{
			{"POST", "/admin/v1/users/" + samiID + "/lock", ""},
			{"DELETE", "/admin/v1/users/" + samiID + "/lock", ""},
			{"PUT", "/admin/v1/users/" + samiID + "/password", `{"password":"Sami-reset-999"}`},
			{"DELETE", "/admin/v1/users/" + samiID, ""},
		} {
			if r := do(t, inst, request{method: step.method, path: step.path, headers: jsonHeaders(), body: []byte(step.body)}); r.status >= 300 {
				t.Fatalf("%s %s: %d %s", step.method, step.path, r.status, r.body)
			}
		}
		log := do(t, inst, request{method: "GET", path: "/admin/v1/audit-log?limit=1000"})
		var page struct {
			Entries []struct {
				Action  string         `json:"action"`
				UserID  string         `json:"user_id"`
				Address string         `json:"address"`
				Details map[string]any `json:"details"`
			} `json:"entries"`
		}
		if err := json.Unmarshal(log.body, &page); err != nil {
			t.Fatal(err)
		}
		type seen struct{ action, reason, address, user string }
		var got []seen
		for _, e := range page.Entries {
			reason, _ := e.Details["reason"].(string)
			got = append(got, seen{e.Action, reason, e.Address, e.UserID})
		}
		want := []seen{
			{"login.failure", "wrong_password", "127.0.0.6", samiID},
			{"login.failure", "unknown_user", "127.0.0.6", ""},
			{"token.issue", "", "127.0.0.6", samiID},
			{"login.failure", "invalid_client", "", samiID},
			{"token.revoke", "", "127.0.0.6", samiID},
			{"user.lock", "", "", ""},
			{"user.unlock", "", "", ""},
			{"user.password_reset", "", "", ""},
			{"consumer.disable", "owner deleted", "", ""},
			{"user.delete", "", "", ""},
		}
		for _, w := range want {
			found := false
			for _, g := range got {
				found = found || g.action == w.action && g.reason == w.reason &&
					(w.address == "" || g.address == w.address) && (w.user == "" || g.user == w.user)
			}
			if !found {
				t.Errorf("no %+v in the audit log", w)
			}
		}
		for name, s := range map[string]string{"password": password, "wrong password": "Wrong-guess-1",
			"unknown user's guess": "nobody-such", "DirectLogin token": token, "access token": strings.TrimPrefix(access, "Bearer "),
			"consumer secret": secret, "reset password": "Sami-reset-999"} {
			if strings.Contains(string(log.body), s) {
				t.Errorf("the audit log holds the %s", name)
			}
		}
	})
	t.Run("bounded under a flood", func(t *testing.T) {
		cfg := testConfig(t.TempDir())
		cfg.LoginEventsPerMinute = 5
		inst := openWith(t, cfg)
		defer closeInstance(t, inst)
		count := func() int {
			n := 0
			r := do(t, inst, request{method: "GET", path: "/admin/v1/audit-log?limit=1000"})
			n = strings.Count(string(r.body), `"login.failure"`)
			return n
		}
		before := count()
		for i := range 200 {
			if r := clientToken(t, inst, consumerKey, fmt.Sprintf("wrong-secret-%032d", i)); r.status != http.StatusUnauthorized {
				t.Fatalf("wrong secret: %d", r.status)
			}
		}
		if n := count() - before; n == 0 || n > 5 {
			t.Fatalf("%d failures written for 200 attempts, want 1 to 5", n)
		}
	})
}

func TestHardeningAccessJustInTimeAllowList(t *testing.T) {
	dir := t.TempDir()
	idp := newIdentityProvider(t, dir)
	claiming := func(sub string, roles ...string) map[string]string {
		return idp.bearer(t, sub, time.Now(), jwt.MapClaims{"roles": roles})
	}
	t.Run("nothing claimable by default", func(t *testing.T) {
		cfg := testConfig(filepath.Join(dir, "default"))
		cfg.ExternalJWT, cfg.JustInTimeEntitlements = idp.config(), true
		inst := openWith(t, cfg)
		defer closeInstance(t, inst)
		h := claiming("tara", "CanGetAnyUser", "CanReadAuditLog")
		if r := do(t, inst, request{method: "GET", path: "/admin/v1/users", headers: h}); r.status != http.StatusForbidden {
			t.Fatalf("a claimed role granted without an allow-list: %d %s", r.status, r.body)
		}
	})
	t.Run("only listed roles", func(t *testing.T) {
		cfg := testConfig(filepath.Join(dir, "listed"))
		cfg.ExternalJWT, cfg.JustInTimeEntitlements = idp.config(), true
		cfg.JustInTimeRoles = []string{"CanGetAnyUser"}
		inst := openWith(t, cfg)
		defer closeInstance(t, inst)
		h := claiming("uma", "CanGetAnyUser", "CanReadAuditLog")
		if r := do(t, inst, request{method: "GET", path: "/admin/v1/users", headers: h}); r.status != http.StatusOK {
			t.Fatalf("a listed role: %d %s", r.status, r.body)
		}
		if r := do(t, inst, request{method: "GET", path: "/admin/v1/audit-log", headers: h}); r.status != http.StatusForbidden {
			t.Fatalf("a role outside the allow-list was claimed: %d %s", r.status, r.body)
		}
	})
}
