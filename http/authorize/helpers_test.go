package authorize_test

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/MicahParks/jwkset"
	"github.com/golang-jwt/jwt/v5"

	"github.com/dynapi/dynapi/internal/enginetest"
	"github.com/dynapi/dynapi/internal/testpaths"
)

// The UK Open Banking v4.0 account information document, as published.
var ukV4 = testpaths.Shared("specs", "ob-uk-v4.0", "account-info-openapi.yaml")

const (
	v4Consents  = "/open-banking/v4.0/aisp/account-access-consents"
	v4Accounts  = "/open-banking/v4.0/aisp/accounts"
	redirectURI = "https://tpp.example.com/callback"
	alicePass   = "Alice-passw0rd-long"
)

// bank is an engine serving the UK v4.0 document with a bank where alice
// holds alice-1 and bob holds bob-1, and a TPP with a registered redirect
// URI.
type bank struct {
	inst           *enginetest.Engine
	tpp            tpp
	aliceID, bobID string
}

// tpp is a consumer app: its credentials and a client-credentials token.
type tpp struct {
	id, key, secret string
	caller          enginetest.Caller
}

func newBank(t *testing.T, opts ...enginetest.Option) *bank {
	t.Helper()
	inst := enginetest.New(t, opts...)
	if r := inst.Admin().Post(t, "/admin/v1/dynamic-endpoints", enginetest.ReadFile(t, ukV4)); r.Status != http.StatusCreated {
		t.Fatalf("submit UK v4.0: %d %s", r.Status, r.Body)
	}
	_, _, aliceID, bobID := inst.BankWithAccounts(t, "uk-bank")
	return &bank{inst: inst, tpp: newTPP(t, inst, "Budget App"), aliceID: aliceID, bobID: bobID}
}

// newTPP registers a consumer with redirectURI and gets its token.
func newTPP(t *testing.T, inst *enginetest.Engine, name string) tpp {
	t.Helper()
	r := inst.Admin().PostJSON(t, "/my/consumers", map[string]any{"name": name, "redirect_uris": []string{redirectURI}})
	if r.Status != http.StatusCreated {
		t.Fatalf("consumer %s: %d %s", name, r.Status, r.Body)
	}
	app := r.JSON(t)
	p := tpp{id: app["consumer_id"].(string), key: app["consumer_key"].(string), secret: app["consumer_secret"].(string)}
	tok := p.form(t, inst, "/oauth2/token", url.Values{"grant_type": {"client_credentials"}})
	if tok.Status != http.StatusOK {
		t.Fatalf("token of %s: %d %s", name, tok.Status, tok.Body)
	}
	p.caller = inst.WithAuthorization("Bearer " + tok.JSON(t)["access_token"].(string))
	return p
}

// form posts v to path as the TPP, authenticated with client_secret_basic.
func (p tpp) form(t *testing.T, inst *enginetest.Engine, path string, v url.Values) enginetest.Response {
	t.Helper()
	basic := base64.StdEncoding.EncodeToString([]byte(url.QueryEscape(p.key) + ":" + url.QueryEscape(p.secret)))
	return inst.Anonymous().Send(t, enginetest.Request{Method: http.MethodPost, Path: path, Body: []byte(v.Encode()),
		Header: map[string]string{"Authorization": "Basic " + basic, "Content-Type": "application/x-www-form-urlencoded"}})
}

// consent creates an account-access consent as p, expiring in a day.
func (b *bank) consent(t *testing.T, p tpp, perms ...string) string {
	t.Helper()
	if len(perms) == 0 {
		perms = []string{"ReadAccountsDetail", "ReadBalances"}
	}
	r := p.caller.PostJSON(t, v4Consents, map[string]any{"Data": map[string]any{"Permissions": perms,
		"ExpirationDateTime": b.inst.Clock.Now().Add(24 * time.Hour).UTC().Format(time.RFC3339)}, "Risk": map[string]any{}})
	if r.Status != http.StatusCreated {
		t.Fatalf("create consent: %d %s", r.Status, r.Body)
	}
	return r.JSON(t)["Data"].(map[string]any)["ConsentId"].(string)
}

// pkce is a code verifier and its S256 challenge.
type pkce struct{ verifier, challenge string }

func newPKCE(seed string) pkce {
	v := base64.RawURLEncoding.EncodeToString([]byte(strings.Repeat(seed, 60)))[:64]
	h := sha256.Sum256([]byte(v))
	return pkce{verifier: v, challenge: base64.RawURLEncoding.EncodeToString(h[:])}
}

// parParams are the parameters of a valid pushed request for consentID.
func parParams(p tpp, consentID string, k pkce) url.Values {
	return url.Values{"response_type": {"code"}, "client_id": {p.key}, "redirect_uri": {redirectURI},
		"scope": {"openid accounts"}, "state": {"st-123"}, "nonce": {"n-456"}, "code_challenge": {k.challenge},
		"code_challenge_method": {"S256"},
		"claims":                {`{"id_token":{"openbanking_intent_id":{"value":"` + consentID + `","essential":true}}}`}}
}

// push pushes a valid request for consentID and returns its request_uri.
func (b *bank) push(t *testing.T, p tpp, consentID string, k pkce) string {
	t.Helper()
	r := p.form(t, b.inst, "/oauth2/par", parParams(p, consentID, k))
	if r.Status != http.StatusCreated {
		t.Fatalf("PAR: %d %s", r.Status, r.Body)
	}
	return r.JSON(t)["request_uri"].(string)
}

// redirected reads the query of a redirect to the TPP.
func redirected(t *testing.T, location string) url.Values {
	t.Helper()
	u, err := url.Parse(location)
	if err != nil || !strings.HasPrefix(location, redirectURI+"?") {
		t.Fatalf("redirect %q is not to %s", location, redirectURI)
	}
	return u.Query()
}

// exchange swaps a code at the token endpoint.
func (b *bank) exchange(t *testing.T, p tpp, code, redirect, verifier string) enginetest.Response {
	t.Helper()
	return p.form(t, b.inst, "/oauth2/token", url.Values{"grant_type": {"authorization_code"}, "code": {code},
		"redirect_uri": {redirect}, "code_verifier": {verifier}})
}

// tokens exchanges code and checks the answer: an access token, a refresh
// token and an ID token for alice naming the consent, with the nonce.
func (b *bank) tokens(t *testing.T, p tpp, code, verifier, consentID, nonce string) map[string]any {
	t.Helper()
	r := b.exchange(t, p, code, redirectURI, verifier)
	if r.Status != http.StatusOK || r.Header.Get("Cache-Control") != "no-store" {
		t.Fatalf("exchange: %d %s", r.Status, r.Body)
	}
	out := r.JSON(t)
	if out["token_type"] != "Bearer" || out["refresh_token"] == nil || out["scope"] != "openid accounts" {
		t.Errorf("token answer %v", out)
	}
	claims := b.verifyIDToken(t, out["id_token"].(string))
	for k, want := range map[string]any{"iss": "dynapi", "aud": p.key, "sub": b.aliceID, "openbanking_intent_id": consentID,
		"nonce": nonce, "acr": "urn:openbanking:psd2:sca"} {
		if claims[k] != want {
			t.Errorf("ID token %s = %v; want %v", k, claims[k], want)
		}
	}
	for _, k := range []string{"iat", "exp", "auth_time"} {
		if _, ok := claims[k].(float64); !ok {
			t.Errorf("ID token has no %s: %v", k, claims)
		}
	}
	return out
}

// verifyIDToken checks an ID token's ES256 signature against the JWK Set
// the engine publishes and returns its claims.
func (b *bank) verifyIDToken(t *testing.T, raw string) jwt.MapClaims {
	t.Helper()
	set := jwkset.NewMemoryStorage()
	var keys jwkset.JWKSMarshal
	if err := json.Unmarshal(b.inst.Anonymous().Get(t, "/.well-known/jwks.json").Body, &keys); err != nil {
		t.Fatal(err)
	}
	for _, k := range keys.Keys {
		jwk, err := jwkset.NewJWKFromMarshal(k, jwkset.JWKMarshalOptions{}, jwkset.JWKValidateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if err := set.KeyWrite(context.Background(), jwk); err != nil {
			t.Fatal(err)
		}
	}
	claims := jwt.MapClaims{}
	_, err := jwt.ParseWithClaims(raw, claims, func(tok *jwt.Token) (any, error) {
		kid, _ := tok.Header["kid"].(string)
		jwk, err := set.KeyRead(context.Background(), kid)
		if err != nil {
			return nil, err
		}
		return jwk.Key(), nil
	}, jwt.WithValidMethods([]string{"ES256"}), jwt.WithTimeFunc(b.inst.Clock.Now))
	if err != nil {
		t.Fatalf("ID token does not verify: %v", err)
	}
	return claims
}

// usable checks an access token acts for alice under the consent: a call
// its consent decides answers it (the consent check compares the token's
// customer with the consent's) and the consent reads AUTH.
func (b *bank) usable(t *testing.T, token, consentID string) {
	t.Helper()
	if r := b.underConsent(t, token); r.Status != http.StatusOK {
		t.Errorf("GET /accounts with the consent token: %d %s", r.Status, r.Body)
	}
	r := b.tpp.caller.Get(t, v4Consents+"/"+consentID)
	if st := r.JSON(t)["Data"].(map[string]any)["Status"]; r.Status != http.StatusOK || st != "AUTH" {
		t.Errorf("consent status %v: %d %s", st, r.Status, r.Body)
	}
}

// underConsent calls GET /accounts, which the consent decides, with token.
func (b *bank) underConsent(t *testing.T, token string) enginetest.Response {
	t.Helper()
	return b.inst.WithAuthorization("Bearer "+token).Get(t, v4Accounts)
}

// refresh asks a new access token for a refresh token.
func (b *bank) refresh(t *testing.T, p tpp, token string) enginetest.Response {
	t.Helper()
	return p.form(t, b.inst, "/oauth2/token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {token}})
}
