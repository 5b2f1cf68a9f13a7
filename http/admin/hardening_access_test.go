package admin_test

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

	"github.com/dynapi/dynapi/internal/enginetest"
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
func (p *peer) send(t testing.TB, addr, method, path string, headers map[string]string, body string) enginetest.Response {
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
	return enginetest.Response{Status: resp.StatusCode, Header: resp.Header, Body: b}
}

// login tries a DirectLogin through the first consumer.
func (p *peer) login(t testing.TB, addr, username, password string) enginetest.Response {
	t.Helper()
	return p.send(t, addr, "POST", "/my/logins/direct", map[string]string{"DirectLogin": fmt.Sprintf(
		`username="%s", password="%s", consumer_key="%s"`, username, password, enginetest.ConsumerKey)}, "")
}

// clientToken asks for an OAuth2 client-credentials token.
func clientToken(t testing.TB, inst *enginetest.Engine, key, secret string) enginetest.Response {
	t.Helper()
	basic := base64.StdEncoding.EncodeToString([]byte(key + ":" + secret))
	return inst.Anonymous().Send(t, enginetest.Request{Method: "POST", Path: "/oauth2/token", Body: []byte("grant_type=client_credentials"),
		Header: map[string]string{"Authorization": "Basic " + basic, "Content-Type": "application/x-www-form-urlencoded"}})
}

// ownApp registers a consumer for the user holding token and returns its
// id, key and secret.
func ownApp(t testing.TB, inst *enginetest.Engine, token string) (id, key, secret string) {
	t.Helper()
	r := inst.Token(token).Send(t, enginetest.Request{Method: "POST", Path: "/my/consumers", Header: enginetest.JSONHeader(), Body: []byte(`{"name":"own app"}`)})
	if r.Status != http.StatusCreated {
		t.Fatalf("register app: %d %s", r.Status, r.Body)
	}
	m := r.JSON(t)
	return m["consumer_id"].(string), m["consumer_key"].(string), m["consumer_secret"].(string)
}

// bearerToken gets an access token for a consumer.
func bearerToken(t testing.TB, inst *enginetest.Engine, key, secret string) map[string]string {
	t.Helper()
	r := clientToken(t, inst, key, secret)
	if r.Status != http.StatusOK {
		t.Fatalf("client credentials: %d %s", r.Status, r.Body)
	}
	return map[string]string{"Authorization": "Bearer " + r.JSON(t)["access_token"].(string)}
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
	if err := os.WriteFile(file, enginetest.MustJSON(t, set), 0o600); err != nil {
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
	grant func() enginetest.Response
}

// loginMethods sets a user up for each login method on inst: DirectLogin,
// OAuth2 client credentials through the user's own app, and an external
// identity token.
func loginMethods(t *testing.T, inst *enginetest.Engine, idp *identityProvider, name, password string) []loginMethod {
	t.Helper()
	userID := inst.CreateUser(t, name, password).ID
	dl := func() map[string]string {
		return map[string]string{"Authorization": enginetest.DirectLogin(inst.Login(t, name, password))}
	}
	_, key, secret := ownApp(t, inst, inst.Login(t, name, password))
	oa := func() map[string]string { return bearerToken(t, inst, key, secret) }
	extBefore := idp.bearer(t, "ext-"+name, inst.Clock.Now().Add(-2*time.Second), nil)
	me := inst.WithAuthorization(extBefore["Authorization"]).Get(t, "/my/user")
	if me.Status != http.StatusOK {
		t.Fatalf("external identity: %d %s", me.Status, me.Body)
	}
	extID := me.JSON(t)["user_id"].(string)
	return []loginMethod{
		{name: "DirectLogin", before: dl, after: dl, userID: userID},
		{name: "OAuth2 client credentials", before: oa, after: oa, userID: userID,
			grant: func() enginetest.Response { return clientToken(t, inst, key, secret) }},
		{name: "external JWT", userID: extID,
			before: func() map[string]string { return extBefore },
			// The next whole second: iat has no finer unit.
			after: func() map[string]string {
				return idp.bearer(t, "ext-"+name, inst.Clock.Now().Add(1100*time.Millisecond), nil)
			}},
	}
}

func TestHardeningAccessLockEndsEveryLogin(t *testing.T) {
	dir := t.TempDir()
	idp := newIdentityProvider(t, dir)
	cfg := enginetest.Config(filepath.Join(dir, "data"))
	cfg.ExternalJWT = idp.config()
	inst := enginetest.New(t, enginetest.WithConfig(cfg))
	defer inst.Close(t)

	for _, m := range loginMethods(t, inst, idp, "lena", "Lena-passw0rd") {
		t.Run(m.name, func(t *testing.T) {
			creds := m.before()
			inst.Clock.Advance(time.Second) // the lock comes after the login
			if r := inst.WithAuthorization(creds["Authorization"]).Get(t, "/my/user"); r.Status != http.StatusOK {
				t.Fatalf("before the lock: %d %s", r.Status, r.Body)
			}
			if r := inst.Admin().Send(t, enginetest.Request{Method: "POST", Path: "/admin/v1/users/" + m.userID + "/lock"}); r.Status != http.StatusOK {
				t.Fatalf("lock: %d %s", r.Status, r.Body)
			}
			if r := inst.WithAuthorization(creds["Authorization"]).Get(t, "/my/user"); r.Status != http.StatusUnauthorized {
				t.Fatalf("a token issued before the lock still works: %d %s", r.Status, r.Body)
			}
			if m.grant != nil {
				if r := m.grant(); r.Status != http.StatusUnauthorized {
					t.Fatalf("a locked user's consumer got a token: %d %s", r.Status, r.Body)
				}
			}
			if r := inst.Admin().Delete(t, "/admin/v1/users/"+m.userID+"/lock"); r.Status != http.StatusOK {
				t.Fatalf("unlock: %d %s", r.Status, r.Body)
			}
			if r := inst.WithAuthorization(creds["Authorization"]).Get(t, "/my/user"); r.Status != http.StatusUnauthorized {
				t.Fatalf("unlocking revived a token the lock ended: %d %s", r.Status, r.Body)
			}
			if r := inst.WithAuthorization(m.after()["Authorization"]).Get(t, "/my/user"); r.Status != http.StatusOK {
				t.Fatalf("a token issued after the unlock: %d %s", r.Status, r.Body)
			}
		})
	}
}

func TestHardeningAccessDeleteEndsEveryLogin(t *testing.T) {
	dir := t.TempDir()
	idp := newIdentityProvider(t, dir)
	cfg := enginetest.Config(filepath.Join(dir, "data"))
	cfg.ExternalJWT = idp.config()
	inst := enginetest.New(t, enginetest.WithConfig(cfg))
	defer inst.Close(t)

	methods := loginMethods(t, inst, idp, "mia", "Mia-passw0rd")
	appID, _, _ := ownApp(t, inst, inst.Login(t, "mia", "Mia-passw0rd"))
	held := make([]map[string]string, len(methods))
	for i, m := range methods {
		held[i] = m.before()
	}
	for _, id := range []string{methods[0].userID, methods[2].userID} {
		if r := inst.Admin().Delete(t, "/admin/v1/users/"+id); r.Status != http.StatusNoContent {
			t.Fatalf("delete: %d %s", r.Status, r.Body)
		}
	}
	for i, m := range methods {
		t.Run(m.name, func(t *testing.T) {
			if r := inst.WithAuthorization(held[i]["Authorization"]).Get(t, "/my/user"); r.Status != http.StatusUnauthorized {
				t.Fatalf("a deleted user's token still works: %d %s", r.Status, r.Body)
			}
			if m.grant != nil {
				if r := m.grant(); r.Status != http.StatusUnauthorized {
					t.Fatalf("a deleted user's consumer got a token: %d %s", r.Status, r.Body)
				}
			}
		})
	}
	t.Run("consumers disabled", func(t *testing.T) {
		r := inst.Admin().Get(t, "/admin/v1/consumers/"+appID)
		if r.Status != http.StatusOK || r.JSON(t)["enabled"] != false {
			t.Fatalf("a deleted user's consumer is enabled: %d %s", r.Status, r.Body)
		}
	})
	t.Run("external identity back later", func(t *testing.T) {
		// The identity provider vouches for the person again: a new user,
		// without what the deleted one held.
		r := inst.WithAuthorization(methods[2].after()["Authorization"]).Get(t, "/my/user")
		if r.Status != http.StatusOK || r.JSON(t)["user_id"] == methods[2].userID {
			t.Fatalf("a token issued after the deletion: %d %s", r.Status, r.Body)
		}
	})
}

func TestHardeningAccessPasswordChangeRevokes(t *testing.T) {
	inst := enginetest.New(t)
	const old, changed, reset = "Nora-passw0rd", "Nora-changed-1", "Nora-reset-22"
	noraID := inst.CreateUser(t, "nora", old).ID
	session := inst.Login(t, "nora", old)
	_, key, secret := ownApp(t, inst, session)
	bearer := bearerToken(t, inst, key, secret)
	change := func(token, current, next string) enginetest.Response {
		return inst.Token(token).Send(t, enginetest.Request{Method: "PUT", Path: "/my/password", Header: enginetest.JSONHeader(),
			Body: enginetest.MustJSON(t, map[string]string{"current_password": current, "new_password": next})})
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
				if r.Status != http.StatusBadRequest || !enginetest.HasViolation(r.Problem(t), "body", tc.pointer, "*") {
					t.Fatalf("%d %s", r.Status, r.Body)
				}
			})
		}
		if r := inst.Token(session).Get(t, "/my/user"); r.Status != http.StatusOK {
			t.Fatalf("a refused change ended the session: %d", r.Status)
		}
	})
	t.Run("by the user", func(t *testing.T) {
		inst.Clock.Advance(time.Second) // the change comes after the logins
		if r := change(session, old, changed); r.Status != http.StatusNoContent {
			t.Fatalf("change: %d %s", r.Status, r.Body)
		}
		for name, h := range map[string]map[string]string{"DirectLogin": {"Authorization": enginetest.DirectLogin(session)}, "OAuth2": bearer} {
			if r := inst.WithAuthorization(h["Authorization"]).Get(t, "/my/user"); r.Status != http.StatusUnauthorized {
				t.Errorf("%s token after a password change: %d", name, r.Status)
			}
		}
		if r := inst.Anonymous().Send(t, enginetest.Request{Method: "POST", Path: "/my/logins/direct", Header: map[string]string{
			"DirectLogin": `username="nora", password="` + old + `", consumer_key="` + enginetest.ConsumerKey + `"`}}); r.Status != http.StatusUnauthorized {
			t.Errorf("the old password still logs in: %d", r.Status)
		}
		session = inst.Login(t, "nora", changed)
	})
	t.Run("by an admin", func(t *testing.T) {
		body := enginetest.MustJSON(t, map[string]string{"password": reset})
		path := "/admin/v1/users/" + noraID + "/password"
		if r := inst.Token(session).Send(t, enginetest.Request{Method: "PUT", Path: path, Header: enginetest.JSONHeader(), Body: body}); r.Status != http.StatusForbidden {
			t.Fatalf("a user without the role reset a password: %d %s", r.Status, r.Body)
		}
		if r := inst.Admin().Send(t, enginetest.Request{Method: "PUT", Path: path, Header: enginetest.JSONHeader(), Body: []byte(`{"password":"x"}`)}); r.Status != http.StatusBadRequest {
			t.Fatalf("a weak password: %d %s", r.Status, r.Body)
		}
		inst.Clock.Advance(time.Second) // the reset comes after the login
		if r := inst.Admin().Send(t, enginetest.Request{Method: "PUT", Path: path, Header: enginetest.JSONHeader(), Body: body}); r.Status != http.StatusNoContent {
			t.Fatalf("reset: %d %s", r.Status, r.Body)
		}
		if r := inst.Token(session).Get(t, "/my/user"); r.Status != http.StatusUnauthorized {
			t.Errorf("a session after a password reset: %d", r.Status)
		}
		inst.Login(t, "nora", reset)
	})
}

func TestHardeningAccessConcurrentRightLogins(t *testing.T) {
	inst := enginetest.New(t)
	inst.CreateUser(t, "olga", "Olga-passw0rd")
	const n = 20
	statuses := make([]int, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			statuses[i] = inst.Anonymous().Loopback().Send(t, enginetest.Request{Method: "POST", Path: "/my/logins/direct", Header: map[string]string{"DirectLogin": `username="olga", password="Olga-passw0rd", consumer_key="` + enginetest.ConsumerKey + `"`}}).Status
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
	cfg := enginetest.Config(t.TempDir())
	cfg.Throttle.MaxFailures = 3
	inst := enginetest.New(t, enginetest.WithConfig(cfg))
	defer inst.Close(t)
	addr := inst.Addr(t)
	victimID := inst.CreateUser(t, "petra", "Petra-passw0rd").ID
	attacker, victim := newPeer(t, "127.0.0.2"), newPeer(t, "127.0.0.3")

	for _, user := range []string{"petra", enginetest.AdminUsername} {
		for i := range 5 {
			if r := attacker.login(t, addr, user, fmt.Sprintf("guess-%d", i)); r.Status != http.StatusUnauthorized {
				t.Fatalf("guess: %d %s", r.Status, r.Body)
			}
		}
	}
	if r := attacker.login(t, addr, "petra", "Petra-passw0rd"); r.Status != http.StatusUnauthorized {
		t.Fatalf("the guessing address is not locked out: %d", r.Status)
	}
	for _, u := range []struct{ name, password string }{{"petra", "Petra-passw0rd"}, {enginetest.AdminUsername, enginetest.AdminPassword}} {
		if r := victim.login(t, addr, u.name, u.password); r.Status != http.StatusCreated {
			t.Fatalf("%s cannot log in from another address after an attacker's guesses: %d %s", u.name, r.Status, r.Body)
		}
	}
	t.Run("break-glass", func(t *testing.T) {
		path := "/admin/v1/users/" + victimID + "/login-failures"
		if r := inst.Admin().Delete(t, path); r.Status != http.StatusNoContent {
			t.Fatalf("clear failures: %d %s", r.Status, r.Body)
		}
		if r := attacker.login(t, addr, "petra", "Petra-passw0rd"); r.Status != http.StatusCreated {
			t.Fatalf("still locked out after the failures were cleared: %d", r.Status)
		}
	})
}

func TestHardeningAccessSlowdownStaysWithAddress(t *testing.T) {
	const delay = 2 * time.Second
	cfg := enginetest.Config(t.TempDir())
	cfg.Throttle.SlowAfter, cfg.Throttle.Delay, cfg.Throttle.MaxDelay = 2, delay, delay
	inst := enginetest.New(t, enginetest.WithConfig(cfg))
	defer inst.Close(t)
	addr := inst.Addr(t)
	inst.CreateUser(t, "quinn", "Quinn-passw0rd")
	inst.CreateUser(t, "rosa", "Rosa-passw0rd")
	shared, other := newPeer(t, "127.0.0.4"), newPeer(t, "127.0.0.5")

	for _, user := range []string{"nobody", "someone"} {
		if r := shared.login(t, addr, user, "guess"); r.Status != http.StatusUnauthorized {
			t.Fatalf("guess: %d", r.Status)
		}
	}
	timed := func(p *peer, user, password string) time.Duration {
		start := time.Now()
		if r := p.login(t, addr, user, password); r.Status != http.StatusCreated {
			t.Fatalf("%s from %s: %d %s", user, p.ip, r.Status, r.Body)
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
		inst := enginetest.New(t)
		addr := inst.Addr(t)
		const password = "Sami-passw0rd"
		samiID := inst.CreateUser(t, "sami", password).ID
		p := newPeer(t, "127.0.0.6")
		p.login(t, addr, "sami", "Wrong-guess-1")
		p.login(t, addr, "nobody-such", "Wrong-guess-2")
		token := p.login(t, addr, "sami", password).JSON(t)["token"].(string)
		_, key, secret := ownApp(t, inst, token)
		access := bearerToken(t, inst, key, secret)["Authorization"]
		clientToken(t, inst, key, "not-the-secret-0123456789abcdef0123")
		p.send(t, addr, "DELETE", "/my/logins/direct", map[string]string{"Authorization": enginetest.DirectLogin(token)}, "")
		for _, step := range []struct{ method, path, body string }{
			{"POST", "/admin/v1/users/" + samiID + "/lock", ""},
			{"DELETE", "/admin/v1/users/" + samiID + "/lock", ""},
			{"PUT", "/admin/v1/users/" + samiID + "/password", `{"password":"Sami-reset-999"}`},
			{"DELETE", "/admin/v1/users/" + samiID, ""},
		} {
			if r := inst.Admin().Send(t, enginetest.Request{Method: step.method, Path: step.path, Header: enginetest.JSONHeader(), Body: []byte(step.body)}); r.Status >= 300 {
				t.Fatalf("%s %s: %d %s", step.method, step.path, r.Status, r.Body)
			}
		}
		log := inst.Admin().Get(t, "/admin/v1/audit-log?limit=1000")
		var page struct {
			Entries []struct {
				Action  string         `json:"action"`
				UserID  string         `json:"user_id"`
				Address string         `json:"address"`
				Details map[string]any `json:"details"`
			} `json:"entries"`
		}
		if err := json.Unmarshal(log.Body, &page); err != nil {
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
			if strings.Contains(string(log.Body), s) {
				t.Errorf("the audit log holds the %s", name)
			}
		}
	})
	t.Run("bounded under a flood", func(t *testing.T) {
		cfg := enginetest.Config(t.TempDir())
		cfg.LoginEventsPerMinute = 5
		inst := enginetest.New(t, enginetest.WithConfig(cfg))
		defer inst.Close(t)
		count := func() int {
			n := 0
			r := inst.Admin().Get(t, "/admin/v1/audit-log?limit=1000")
			n = strings.Count(string(r.Body), `"login.failure"`)
			return n
		}
		before := count()
		for i := range 200 {
			if r := clientToken(t, inst, enginetest.ConsumerKey, fmt.Sprintf("wrong-secret-%032d", i)); r.Status != http.StatusUnauthorized {
				t.Fatalf("wrong secret: %d", r.Status)
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
	claiming := func(inst *enginetest.Engine, sub string, roles ...string) map[string]string {
		return idp.bearer(t, sub, inst.Clock.Now(), jwt.MapClaims{"roles": roles})
	}
	t.Run("nothing claimable by default", func(t *testing.T) {
		cfg := enginetest.Config(filepath.Join(dir, "default"))
		cfg.ExternalJWT, cfg.JustInTimeEntitlements = idp.config(), true
		inst := enginetest.New(t, enginetest.WithConfig(cfg))
		defer inst.Close(t)
		h := claiming(inst, "tara", "CanGetAnyUser", "CanReadAuditLog")
		if r := inst.WithAuthorization(h["Authorization"]).Get(t, "/admin/v1/users"); r.Status != http.StatusForbidden {
			t.Fatalf("a claimed role granted without an allow-list: %d %s", r.Status, r.Body)
		}
	})
	t.Run("only listed roles", func(t *testing.T) {
		cfg := enginetest.Config(filepath.Join(dir, "listed"))
		cfg.ExternalJWT, cfg.JustInTimeEntitlements = idp.config(), true
		cfg.JustInTimeRoles = []string{"CanGetAnyUser"}
		inst := enginetest.New(t, enginetest.WithConfig(cfg))
		defer inst.Close(t)
		h := claiming(inst, "uma", "CanGetAnyUser", "CanReadAuditLog")
		if r := inst.WithAuthorization(h["Authorization"]).Get(t, "/admin/v1/users"); r.Status != http.StatusOK {
			t.Fatalf("a listed role: %d %s", r.Status, r.Body)
		}
		if r := inst.WithAuthorization(h["Authorization"]).Get(t, "/admin/v1/audit-log"); r.Status != http.StatusForbidden {
			t.Fatalf("a role outside the allow-list was claimed: %d %s", r.Status, r.Body)
		}
	})
}
