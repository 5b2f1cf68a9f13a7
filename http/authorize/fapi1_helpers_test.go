package authorize_test

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/MicahParks/jwkset"
	"github.com/golang-jwt/jwt/v5"

	"github.com/dynapi/dynapi"
	"github.com/dynapi/dynapi/internal/enginetest"
)

// allowUnsigned starts the engine with --allow-unsigned-request-objects.
var allowUnsigned = enginetest.Configure(func(c *dynapi.Config) { c.AllowUnsignedRequestObjects = true })

// signer is a key a TPP signs its request objects with.
type signer struct {
	kid    string
	method jwt.SigningMethod
	key    crypto.Signer
}

func rsaSigner(t *testing.T, kid string, bits int, method jwt.SigningMethod) signer {
	t.Helper()
	k, err := rsa.GenerateKey(rand.Reader, bits)
	if err != nil {
		t.Fatal(err)
	}
	return signer{kid: kid, method: method, key: k}
}

func ecSigner(t *testing.T, kid string, curve elliptic.Curve) signer {
	t.Helper()
	k, err := ecdsa.GenerateKey(curve, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return signer{kid: kid, method: jwt.SigningMethodES256, key: k}
}

// jwk is the signer's key as a JWK: public, or private too.
func (s signer) jwk(t *testing.T, private bool) jwkset.JWKMarshal {
	t.Helper()
	var key any = s.key.Public()
	if private {
		key = s.key
	}
	j, err := jwkset.NewJWKFromKey(key, jwkset.JWKOptions{Marshal: jwkset.JWKMarshalOptions{Private: private},
		Metadata: jwkset.JWKMetadataOptions{KID: s.kid}})
	if err != nil {
		t.Fatal(err)
	}
	return j.Marshal()
}

// publicSet is the JWK Set of the signers' public keys.
func publicSet(t *testing.T, keys ...signer) jwkset.JWKSMarshal {
	t.Helper()
	set := jwkset.JWKSMarshal{Keys: []jwkset.JWKMarshal{}}
	for _, k := range keys {
		set.Keys = append(set.Keys, k.jwk(t, false))
	}
	return set
}

// setPolicy sets p's authorization policy and JWK Set as its owner.
func (b *bank) setPolicy(t *testing.T, p tpp, policy string, set any) enginetest.Response {
	t.Helper()
	return b.inst.Admin().Send(t, enginetest.JSONRequest(t, http.MethodPut, "/my/consumers/"+p.id+"/authorization-policy",
		map[string]any{"authorization_policy": policy, "jwks": set}))
}

// fapiTPP registers a consumer of the fapi1_request_object policy with
// the signers' keys.
func (b *bank) fapiTPP(t *testing.T, name string, keys ...signer) tpp {
	t.Helper()
	p := newTPP(t, b.inst, name)
	if r := b.setPolicy(t, p, "fapi1_request_object", publicSet(t, keys...)); r.Status != http.StatusOK {
		t.Fatalf("policy of %s: %d %s", name, r.Status, r.Body)
	}
	return p
}

// objectClaims are the claims of a valid request object of p for
// consentID, living 10 minutes.
func (b *bank) objectClaims(p tpp, consentID, responseType string) jwt.MapClaims {
	now := b.inst.Clock.Now()
	return jwt.MapClaims{"iss": p.key, "aud": "dynapi", "client_id": p.key, "response_type": responseType,
		"redirect_uri": redirectURI, "scope": "openid accounts", "state": "st-fapi", "nonce": "n-fapi",
		"iat": now.Unix(), "nbf": now.Unix(), "exp": now.Add(10 * time.Minute).Unix(), "jti": "jti-" + consentID,
		"claims": map[string]any{"id_token": map[string]any{"openbanking_intent_id": map[string]any{"value": consentID, "essential": true}}}}
}

// sign signs claims with s, naming its kid.
func (s signer) sign(t *testing.T, claims jwt.MapClaims) string {
	t.Helper()
	tok := jwt.NewWithClaims(s.method, claims)
	tok.Header["kid"] = s.kid
	raw, err := tok.SignedString(s.key)
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

// unsigned is claims as an unsigned (alg none) request object.
func unsigned(t *testing.T, claims jwt.MapClaims) string {
	t.Helper()
	raw, err := jwt.NewWithClaims(jwt.SigningMethodNone, claims).SignedString(jwt.UnsafeAllowNoneSignatureType)
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

// authorizeQuery is the query of an authorization request of p carrying
// the request object.
func authorizeQuery(p tpp, responseType, object string) url.Values {
	return url.Values{"client_id": {p.key}, "response_type": {responseType}, "scope": {"openid accounts"},
		"redirect_uri": {redirectURI}, "state": {"st-fapi"}, "nonce": {"n-fapi"}, "request": {object}}
}

// openAuthorize follows the link of an authorization request with query.
func (br *browser) openAuthorize(t *testing.T, query url.Values) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, br.base+"/oauth2/authorize?"+query.Encode(), nil)
	br.do(t, req)
}

// back reads the parameters of a redirect to the TPP: the query for
// response type code, the fragment for code id_token.
func back(t *testing.T, location, responseType string) url.Values {
	t.Helper()
	if responseType == "code" {
		return redirected(t, location)
	}
	fragment, ok := strings.CutPrefix(location, redirectURI+"#")
	if !ok {
		t.Fatalf("redirect %q does not carry a fragment", location)
	}
	v, err := url.ParseQuery(fragment)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// leftHalf is the c_hash or s_hash of v for an ES256 ID token.
func leftHalf(v string) string {
	h := sha256.Sum256([]byte(v))
	return base64.RawURLEncoding.EncodeToString(h[:16])
}

// checkHybridIDToken verifies the ID token of a code id_token response
// against the engine's JWK Set, with its c_hash and s_hash.
func (b *bank) checkHybridIDToken(t *testing.T, p tpp, q url.Values, consentID string) {
	t.Helper()
	claims := b.verifyIDToken(t, q.Get("id_token"))
	for k, want := range map[string]any{"aud": p.key, "sub": b.aliceID, "openbanking_intent_id": consentID, "nonce": "n-fapi",
		"acr": "urn:openbanking:psd2:sca", "c_hash": leftHalf(q.Get("code")), "s_hash": leftHalf("st-fapi")} {
		if claims[k] != want {
			t.Errorf("ID token %s = %v; want %v", k, claims[k], want)
		}
	}
}

// jsonOpen opens an authorisation of a request object through the JSON
// API as alice.
func (b *bank) jsonOpen(t *testing.T, p tpp, responseType, object string) enginetest.Response {
	t.Helper()
	return b.alice(t).PostJSON(t, "/my/consent-authorisations", map[string]string{"client_id": p.key, "request": object,
		"response_type": responseType})
}
