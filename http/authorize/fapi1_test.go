package authorize_test

import (
	"crypto/elliptic"
	"html"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// TestFAPI1Flow authorises consents of a fapi1_request_object TPP from a
// signed request object, on the pages and through the JSON API, with
// response types code (query) and code id_token (fragment, its ID token
// verified against the engine's JWK Set with c_hash and s_hash), and
// exchanges the code with client_secret_basic and no code_verifier.
func TestFAPI1Flow(t *testing.T) {
	t.Parallel()
	b, logs := logged(t)
	ps, es := rsaSigner(t, "tpp-ps", 2048, jwt.SigningMethodPS256), ecSigner(t, "tpp-es", elliptic.P256())
	p := b.fapiTPP(t, "FAPI App", ps, es)
	for _, tc := range []struct {
		name, responseType string
		key                signer
		pages              bool
	}{
		{"PS256 code on the pages", "code", ps, true},
		{"ES256 code id_token on the pages", "code id_token", es, true},
		{"ES256 code through the JSON API", "code", es, false},
		{"PS256 code id_token through the JSON API", "code id_token", ps, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			consentID := b.consent(t, p)
			object := tc.key.sign(t, b.objectClaims(p, consentID, tc.responseType))
			var location string
			if tc.pages {
				br := b.browser(t)
				br.openAuthorize(t, authorizeQuery(p, tc.responseType, object))
				if br.status != http.StatusOK || !strings.Contains(br.page, "FAPI App") {
					t.Fatalf("authorize page: %d %s", br.status, br.page)
				}
				br.submit(t, "login", url.Values{"username": {"alice"}, "password": {alicePass}})
				br.submit(t, "approve", url.Values{"account": {"alice-1"}})
				br.submit(t, "confirm", url.Values{"code": {lastSMS(t, logs, consentID)["code"].(string)}})
				if br.status != http.StatusSeeOther {
					t.Fatalf("after the code: %d %s", br.status, br.page)
				}
				securityHeaders(t, br.header, "https://tpp.example.com")
				location = br.header.Get("Location")
			} else {
				opened := b.jsonOpen(t, p, tc.responseType, object)
				if opened.Status != http.StatusCreated {
					t.Fatalf("open: %d %s", opened.Status, opened.Body)
				}
				id := opened.JSON(t)["authorisation_id"].(string)
				if r := b.alice(t).PostJSON(t, "/my/consent-authorisations/"+id+"/accounts", map[string]any{"accounts": []string{"alice-1"}}); r.Status != http.StatusOK {
					t.Fatalf("accounts: %d %s", r.Status, r.Body)
				}
				done := b.answer(t, b.alice(t), id, lastSMS(t, logs, consentID)["code"].(string))
				if done.Status != http.StatusOK {
					t.Fatalf("sca: %d %s", done.Status, done.Body)
				}
				location = done.JSON(t)["redirect_uri"].(string)
			}
			q := back(t, location, tc.responseType)
			if q.Get("state") != "st-fapi" || q.Get("iss") != "dynapi" || q.Get("code") == "" {
				t.Fatalf("redirect %v", q)
			}
			if tc.responseType == "code id_token" {
				b.checkHybridIDToken(t, p, q, consentID)
			} else if q.Has("id_token") {
				t.Errorf("response type code carries an id_token")
			}
			tokens := b.tokens(t, p, q.Get("code"), "", consentID, "n-fapi")
			if r := b.underConsent(t, tokens["access_token"].(string)); r.Status != http.StatusOK {
				t.Errorf("the consent token: %d %s", r.Status, r.Body)
			}
		})
	}
}

// TestFAPI1PKCEAndPAR: a code_challenge in a request object is enforced
// at the token endpoint; a fapi1_request_object TPP may still push its
// request, with or without a request object; a consent once authorised
// cannot be asked for again.
func TestFAPI1PKCEAndPAR(t *testing.T) {
	t.Parallel()
	b := newBank(t, devCodes)
	es := ecSigner(t, "tpp-es", elliptic.P256())
	p := b.fapiTPP(t, "FAPI App", es)
	flow := func(t *testing.T, consentID string, open func() string) url.Values {
		t.Helper()
		id := open()
		code := b.sendCode(t, id)
		done := b.answer(t, b.alice(t), id, code)
		if done.Status != http.StatusOK {
			t.Fatalf("sca: %d %s", done.Status, done.Body)
		}
		return redirected(t, done.JSON(t)["redirect_uri"].(string))
	}
	openObject := func(t *testing.T, claims jwt.MapClaims) func() string {
		return func() string {
			r := b.jsonOpen(t, p, "code", es.sign(t, claims))
			if r.Status != http.StatusCreated {
				t.Fatalf("open: %d %s", r.Status, r.Body)
			}
			return r.JSON(t)["authorisation_id"].(string)
		}
	}
	openPushed := func(t *testing.T, params url.Values) func() string {
		return func() string {
			r := p.form(t, b.inst, "/oauth2/par", params)
			if r.Status != http.StatusCreated {
				t.Fatalf("PAR: %d %s", r.Status, r.Body)
			}
			o := b.alice(t).PostJSON(t, "/my/consent-authorisations", map[string]string{"client_id": p.key, "request_uri": r.JSON(t)["request_uri"].(string)})
			if o.Status != http.StatusCreated {
				t.Fatalf("open: %d %s", o.Status, o.Body)
			}
			return o.JSON(t)["authorisation_id"].(string)
		}
	}

	t.Run("challenge enforced", func(t *testing.T) {
		consentID := b.consent(t, p)
		k := newPKCE("f")
		claims := b.objectClaims(p, consentID, "code")
		claims["code_challenge"], claims["code_challenge_method"] = k.challenge, "S256"
		q := flow(t, consentID, openObject(t, claims))
		for _, verifier := range []string{newPKCE("z").verifier, ""} {
			oauthRefusal(t, b.exchange(t, p, q.Get("code"), redirectURI, verifier), 400, "invalid_grant", "code_verifier")
		}
		b.tokens(t, p, q.Get("code"), k.verifier, consentID, "n-fapi")
	})
	t.Run("PAR with a request object", func(t *testing.T) {
		consentID := b.consent(t, p)
		q := flow(t, consentID, openPushed(t, url.Values{"client_id": {p.key}, "request": {es.sign(t, b.objectClaims(p, consentID, "code"))}}))
		b.tokens(t, p, q.Get("code"), "", consentID, "n-fapi")
	})
	t.Run("PAR without a request object", func(t *testing.T) {
		consentID := b.consent(t, p)
		params := parParams(p, consentID, newPKCE("g"))
		params.Del("code_challenge")
		params.Del("code_challenge_method")
		q := flow(t, consentID, openPushed(t, params))
		b.tokens(t, p, q.Get("code"), "", consentID, "n-456")

		again := b.jsonOpen(t, p, "code", es.sign(t, b.objectClaims(p, consentID, "code")))
		if again.Status != http.StatusBadRequest || !strings.Contains(string(again.Body), "only a consent awaiting authorisation") {
			t.Errorf("a request object for an authorised consent: %d %s", again.Status, again.Body)
		}
	})
}

// TestFAPI1Refusals: a request object that does not verify, or asks for
// what the TPP may not have, is an error page, never a redirect, and
// opens nothing.
func TestFAPI1Refusals(t *testing.T) {
	t.Parallel()
	b := newBank(t)
	ps, es := rsaSigner(t, "tpp-ps", 2048, jwt.SigningMethodPS256), ecSigner(t, "tpp-es", elliptic.P256())
	p := b.fapiTPP(t, "FAPI App", ps, es)
	other := b.fapiTPP(t, "Other FAPI App", es)
	stranger := ecSigner(t, "tpp-es", elliptic.P256()) // same kid, another key
	now := b.inst.Clock.Now()
	for _, tc := range []struct {
		name   string
		client tpp
		object func(consentID string) string
		query  func(q url.Values)
		status int
		says   string
	}{
		{"unsigned without the flag", p, func(id string) string { return unsigned(t, b.objectClaims(p, id, "code")) }, nil,
			400, "signing method none is invalid"},
		{"unknown kid", p, func(id string) string {
			s := es
			s.kid = "nobody"
			return s.sign(t, b.objectClaims(p, id, "code"))
		}, nil, 400, "kid names no key"},
		{"another key under the kid", p, func(id string) string { return stranger.sign(t, b.objectClaims(p, id, "code")) }, nil,
			400, "signature is invalid"},
		{"HS256", p, func(id string) string {
			raw, _ := jwt.NewWithClaims(jwt.SigningMethodHS256, b.objectClaims(p, id, "code")).SignedString([]byte(p.secret))
			return raw
		}, nil, 400, "signing method HS256 is invalid"},
		{"RS512", p, func(id string) string {
			s := ps
			s.method = jwt.SigningMethodRS512
			return s.sign(t, b.objectClaims(p, id, "code"))
		}, nil, 400, "signing method RS512 is invalid"},
		{"expired", p, func(id string) string {
			c := b.objectClaims(p, id, "code")
			c["exp"] = now.Add(-time.Minute).Unix()
			return es.sign(t, c)
		}, nil, 400, "expired"},
		{"no exp", p, func(id string) string {
			c := b.objectClaims(p, id, "code")
			delete(c, "exp")
			return es.sign(t, c)
		}, nil, 400, "exp"},
		{"exp too far ahead", p, func(id string) string {
			c := b.objectClaims(p, id, "code")
			c["exp"] = now.Add(2 * time.Hour).Unix()
			return es.sign(t, c)
		}, nil, 400, "more than 1h0m0s ahead"},
		{"nbf in the future", p, func(id string) string {
			c := b.objectClaims(p, id, "code")
			c["nbf"] = now.Add(5 * time.Minute).Unix()
			return es.sign(t, c)
		}, nil, 400, "not valid yet"},
		{"wrong aud", p, func(id string) string {
			c := b.objectClaims(p, id, "code")
			c["aud"] = "https://another-bank.example.com"
			return es.sign(t, c)
		}, nil, 400, "audience"},
		{"iss not the client", p, func(id string) string {
			c := b.objectClaims(p, id, "code")
			c["iss"] = other.key
			return es.sign(t, c)
		}, nil, 400, "issuer"},
		{"client_id of the query not the object's", p, func(id string) string {
			c := b.objectClaims(p, id, "code")
			c["client_id"] = other.key
			return es.sign(t, c)
		}, nil, 400, "client_id: is not the one of the request object"},
		{"response_type of the query not the object's", p, func(id string) string { return es.sign(t, b.objectClaims(p, id, "code")) },
			func(q url.Values) { q.Set("response_type", "code id_token") }, 400, "response_type: is not the one of the request object"},
		{"consent of another TPP", other, func(string) string {
			return es.sign(t, b.objectClaims(other, b.consent(t, p), "code"))
		}, nil, 403, "is another client's"},
		{"redirect URI not registered", p, func(id string) string {
			c := b.objectClaims(p, id, "code")
			c["redirect_uri"] = "https://evil.example.com/cb"
			return es.sign(t, c)
		}, nil, 400, "redirect_uri: is not one of the client's registered redirect URIs"},
		{"code id_token without nonce", p, func(id string) string {
			c := b.objectClaims(p, id, "code id_token")
			delete(c, "nonce")
			return es.sign(t, c)
		}, func(q url.Values) { q.Set("response_type", "code id_token") }, 400, "nonce: is required"},
		{"par_pkce TPP sending request", b.tpp, func(id string) string { return es.sign(t, b.objectClaims(b.tpp, id, "code")) }, nil,
			400, "request objects are not enabled for this client"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			consentID := b.consent(t, tc.client)
			q := authorizeQuery(tc.client, "code", tc.object(consentID))
			if tc.query != nil {
				tc.query(q)
			}
			br := b.browser(t)
			br.openAuthorize(t, q)
			if br.status != tc.status || br.header.Get("Location") != "" || !strings.Contains(html.UnescapeString(br.page), tc.says) {
				t.Errorf("%d %q; want a %d page saying %q:\n%s", br.status, br.header.Get("Location"), tc.status, tc.says, br.page)
			}
			if st := b.status(t, tc.client, consentID); st != "AWAU" {
				t.Errorf("consent is %s after a refusal", st)
			}
		})
	}
}

// TestFAPI1Unsigned: with --allow-unsigned-request-objects a
// fapi1_request_object TPP may register no key and send unsigned request
// objects; discovery then lists "none". A TPP that registered keys, or a
// par_pkce one, still cannot.
func TestFAPI1Unsigned(t *testing.T) {
	t.Parallel()
	b := newBank(t, allowUnsigned, devCodes)
	p := b.fapiTPP(t, "Sandbox App")
	algs := b.inst.Anonymous().Get(t, "/.well-known/openid-configuration").JSON(t)["request_object_signing_alg_values_supported"]
	if got, _ := algs.([]any); len(got) != 4 || got[3] != "none" {
		t.Errorf("request_object_signing_alg_values_supported = %v", algs)
	}
	consentID := b.consent(t, p)
	r := b.jsonOpen(t, p, "code", unsigned(t, b.objectClaims(p, consentID, "code")))
	if r.Status != http.StatusCreated {
		t.Fatalf("open an unsigned request object: %d %s", r.Status, r.Body)
	}
	id := r.JSON(t)["authorisation_id"].(string)
	done := b.answer(t, b.alice(t), id, b.sendCode(t, id))
	b.tokens(t, p, redirected(t, done.JSON(t)["redirect_uri"].(string)).Get("code"), "", consentID, "n-fapi")

	keyed := b.fapiTPP(t, "Keyed App", ecSigner(t, "tpp-es", elliptic.P256()))
	for _, c := range []tpp{b.tpp, keyed} {
		consentID = b.consent(t, c)
		if r := b.jsonOpen(t, c, "code", unsigned(t, b.objectClaims(c, consentID, "code"))); r.Status != http.StatusBadRequest {
			t.Errorf("an unsigned request object of a par_pkce or keyed TPP: %d %s", r.Status, r.Body)
		}
	}
}
