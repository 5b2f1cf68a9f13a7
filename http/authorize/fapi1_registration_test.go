package authorize_test

import (
	"crypto/elliptic"
	"encoding/base64"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/MicahParks/jwkset"
	"github.com/golang-jwt/jwt/v5"

	"github.com/dynapi/dynapi/internal/enginetest"
)

// TestFAPI1Registration: the consumer's owner sets its authorization
// policy and JWK Set; every fault of a refused one is named and nothing
// changes; the keys are shown as registered, public only.
func TestFAPI1Registration(t *testing.T) {
	t.Parallel()
	b := newBank(t)
	p := b.tpp
	ps, es := rsaSigner(t, "tpp-ps", 2048, jwt.SigningMethodPS256), ecSigner(t, "tpp-es", elliptic.P256())
	weak := rsaSigner(t, "weak", 1024, jwt.SigningMethodRS256)
	p384 := ecSigner(t, "p384", elliptic.P384())
	many := make([]signer, 11)
	for i := range many {
		many[i] = ecSigner(t, fmt.Sprintf("k%d", i), elliptic.P256())
	}
	setOf := func(keys ...jwkset.JWKMarshal) jwkset.JWKSMarshal { return jwkset.JWKSMarshal{Keys: keys} }
	for _, tc := range []struct {
		name     string
		policy   string
		set      any
		pointers []string
	}{
		{"private key", "fapi1_request_object", setOf(es.jwk(t, true)), []string{"/jwks/keys/0"}},
		{"weak RSA", "fapi1_request_object", setOf(weak.jwk(t, false)), []string{"/jwks/keys/0"}},
		{"RSA over 8192 bits", "fapi1_request_object", map[string]any{"keys": []any{map[string]any{"kty": "RSA", "kid": "huge", "e": "AQAB",
			"n": base64.RawURLEncoding.EncodeToString(append([]byte{0xff}, make([]byte, 1025)...))}}}, []string{"/jwks/keys/0"}},
		{"curve P-384", "fapi1_request_object", setOf(p384.jwk(t, false)), []string{"/jwks/keys/0"}},
		{"symmetric key", "fapi1_request_object", map[string]any{"keys": []any{map[string]any{"kty": "oct", "kid": "s", "k": "c2VjcmV0LXNlY3JldC1zZWNyZXQ"}}},
			[]string{"/jwks/keys/0"}},
		{"duplicate kid", "fapi1_request_object", setOf(es.jwk(t, false), signer{kid: es.kid, key: ps.key}.jwk(t, false)),
			[]string{"/jwks/keys/1/kid"}},
		{"no kid", "fapi1_request_object", setOf(signer{key: ps.key}.jwk(t, false)), []string{"/jwks/keys/0/kid"}},
		{"too many keys", "fapi1_request_object", publicSet(t, many...), []string{"/jwks/keys"}},
		{"fapi1 without keys", "fapi1_request_object", nil, []string{"/jwks"}},
		{"not a JWK Set", "fapi1_request_object", "keys", []string{"/jwks"}},
		{"unknown policy", "fapi2", publicSet(t, es), []string{"/authorization_policy"}},
		{"every fault at once", "fapi1_request_object", setOf(es.jwk(t, true), weak.jwk(t, false), ps.jwk(t, false)),
			[]string{"/jwks/keys/0", "/jwks/keys/1"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := b.setPolicy(t, p, tc.policy, tc.set)
			if r.Status != http.StatusBadRequest {
				t.Fatalf("%d %s; want 400", r.Status, r.Body)
			}
			var got []string
			for _, v := range r.Problem(t).Violations {
				got = append(got, v.Pointer)
			}
			if !slices.Equal(got, tc.pointers) {
				t.Errorf("violations at %v; want %v: %s", got, tc.pointers, r.Body)
			}
		})
	}
	shown := b.inst.Admin().Get(t, "/admin/v1/consumers/"+p.id).JSON(t)
	if shown["authorization_policy"] != "par_pkce" || shown["jwks"] != nil {
		t.Errorf("refused changes changed the consumer: %v", shown)
	}

	set := b.setPolicy(t, p, "fapi1_request_object", publicSet(t, ps, es))
	if set.Status != http.StatusOK || set.JSON(t)["authorization_policy"] != "fapi1_request_object" {
		t.Fatalf("set: %d %s", set.Status, set.Body)
	}
	var mine map[string]any
	for _, c := range b.inst.Admin().Get(t, "/my/consumers").JSON(t)["consumers"].([]any) {
		if c := c.(map[string]any); c["consumer_id"] == p.id {
			mine = c
		}
	}
	keys := mine["jwks"].(map[string]any)["keys"].([]any)
	if len(keys) != 2 || keys[0].(map[string]any)["kid"] != "tpp-ps" || keys[1].(map[string]any)["crv"] != "P-256" ||
		strings.Contains(string(enginetest.MustJSON(t, mine)), `"d"`) {
		t.Errorf("consumer as shown: %v", mine)
	}

	var audited []any
	for _, e := range b.inst.Admin().Get(t, "/admin/v1/audit-log?limit=1000").JSON(t)["entries"].([]any) {
		if e := e.(map[string]any); e["action"] == "consumer.authorization_policy" {
			audited = append(audited, e)
		}
	}
	if len(audited) != 1 || !strings.Contains(string(enginetest.MustJSON(t, audited[0])), `"kids":["tpp-es","tpp-ps"]`) {
		t.Errorf("audit of the policy change (only the accepted one): %v", audited)
	}

	other := b.inst.CreateUser(t, "mallory", "Mallory-passw0rd-1")
	for _, path := range []string{"/my/consumers/" + p.id + "/authorization-policy", "/my/consumers/no-such/authorization-policy"} {
		if r := b.inst.As(other).Send(t, enginetest.JSONRequest(t, http.MethodPut, path,
			map[string]any{"authorization_policy": "par_pkce"})); r.Status != http.StatusNotFound {
			t.Errorf("PUT %s as another user: %d %s; want 404", path, r.Status, r.Body)
		}
	}

	back := b.setPolicy(t, p, "par_pkce", nil)
	if got := back.JSON(t); back.Status != http.StatusOK || got["authorization_policy"] != "par_pkce" || got["jwks"] != nil {
		t.Errorf("back to par_pkce: %d %s", back.Status, back.Body)
	}
	params := parParams(p, b.consent(t, p), newPKCE("h"))
	params.Set("response_type", "code id_token")
	oauthRefusal(t, p.form(t, b.inst, "/oauth2/par", params), 400, "unsupported_response_type", "fapi1_request_object")
}
