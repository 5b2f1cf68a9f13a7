package authorize_test

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/dynapi/dynapi/internal/enginetest"
)

// TestPagesGuards: a form without the page's CSRF token or cookie is a
// 403 page; a bad link is an error page, never a redirect; a request_uri
// is single use and short-lived; rejecting sends the customer back with
// access_denied and rejects the consent.
func TestPagesGuards(t *testing.T) {
	t.Parallel()
	b, _ := logged(t)

	t.Run("CSRF", func(t *testing.T) {
		br := b.browser(t)
		br.open(t, b.tpp.key, b.push(t, b.tpp, b.consent(t, b.tpp), newPKCE("c")))
		f := br.form(t, "login")
		login := url.Values{"authorisation_id": f.values["authorisation_id"], "username": {"alice"}, "password": {alicePass}}
		for name, token := range map[string][]string{"missing": nil, "wrong": {"AAAA" + f.values.Get("csrf_token")[4:]}} {
			v := url.Values{"csrf_token": token}
			for k, vs := range login {
				v[k] = vs
			}
			br.post(t, f.action, v)
			if br.status != http.StatusForbidden || !strings.Contains(br.page, "This request cannot go on") {
				t.Errorf("%s CSRF token: %d %s", name, br.status, br.page)
			}
			securityHeaders(t, br.header, "")
		}
		stranger := b.browser(t) // the right token, without the cookie
		stranger.post(t, f.action, f.values)
		if stranger.status != http.StatusForbidden {
			t.Errorf("form without the cookie: %d", stranger.status)
		}
		login.Set("csrf_token", f.values.Get("csrf_token"))
		br.post(t, f.action, login)
		if br.status != http.StatusOK || !strings.Contains(br.page, `id="approve"`) {
			t.Errorf("the page's own form: %d %s", br.status, br.page)
		}
	})
	t.Run("bad links", func(t *testing.T) {
		requestURI := b.push(t, b.tpp, b.consent(t, b.tpp), newPKCE("l"))
		other := newTPP(t, b.inst, "Other App")
		for _, q := range [][2]string{{b.tpp.key, "urn:ietf:params:oauth:request_uri:nope"}, {"no-such-client", requestURI},
			{other.key, requestURI}, {b.tpp.key, "https://evil.example.com"}} {
			br := b.browser(t)
			br.open(t, q[0], q[1])
			if br.status != http.StatusBadRequest || br.header.Get("Location") != "" || !strings.Contains(br.page, "This request cannot go on") {
				t.Errorf("client %s, request_uri %s: %d %s", q[0], q[1], br.status, br.page)
			}
			securityHeaders(t, br.header, "")
		}
		head, _ := http.NewRequest(http.MethodHead, "http://"+b.inst.Addr(t)+"/oauth2/authorize?"+
			url.Values{"client_id": {b.tpp.key}, "request_uri": {requestURI}}.Encode(), nil)
		if resp, err := http.DefaultClient.Do(head); err != nil || resp.StatusCode != http.StatusOK {
			t.Fatalf("HEAD: %v %v", resp, err)
		}
		br := b.browser(t)
		if br.open(t, b.tpp.key, requestURI); br.status != http.StatusOK {
			t.Fatalf("first use: %d %s", br.status, br.page)
		}
		if br.open(t, b.tpp.key, requestURI); br.status != http.StatusBadRequest {
			t.Errorf("second use of a request_uri: %d", br.status)
		}
		revoked := b.consent(t, b.tpp)
		gone := b.push(t, b.tpp, revoked, newPKCE("o"))
		b.inst.Admin().PostJSON(t, "/admin/v1/consents/"+revoked+"/revoke", map[string]string{"reason": "test"})
		if br.open(t, b.tpp.key, gone); br.status != http.StatusBadRequest || !strings.Contains(br.page, "no longer awaits") {
			t.Errorf("request of a consent revoked since: %d %s", br.status, br.page)
		}
		late := b.push(t, b.tpp, b.consent(t, b.tpp), newPKCE("m"))
		b.inst.Clock.Advance(91 * time.Second)
		if br.open(t, b.tpp.key, late); br.status != http.StatusBadRequest {
			t.Errorf("request_uri past 90 s: %d", br.status)
		}
	})
	t.Run("wrong password, then reject", func(t *testing.T) {
		consentID := b.consent(t, b.tpp)
		br := b.browser(t)
		br.open(t, b.tpp.key, b.push(t, b.tpp, consentID, newPKCE("j")))
		br.submit(t, "login", url.Values{"username": {"alice"}, "password": {"not-her-password"}})
		if br.status != http.StatusUnauthorized || !strings.Contains(br.page, "invalid credentials") || !strings.Contains(br.page, `id="login"`) {
			t.Errorf("wrong password: %d %s", br.status, br.page)
		}
		br.submit(t, "login", url.Values{"username": {"alice"}, "password": {alicePass}})
		br.submit(t, "reject", nil)
		if br.status != http.StatusSeeOther {
			t.Fatalf("reject: %d %s", br.status, br.page)
		}
		q := redirected(t, br.header.Get("Location"))
		if q.Get("error") != "access_denied" || q.Get("state") != "st-123" || q.Get("iss") != "dynapi" || q.Get("code") != "" {
			t.Errorf("reject redirect %v", q)
		}
		if st := b.status(t, b.tpp, consentID); st != "RJCT" {
			t.Errorf("consent %s after the customer rejected it", st)
		}
	})
	t.Run("no account picked", func(t *testing.T) {
		br := b.browser(t)
		br.open(t, b.tpp.key, b.push(t, b.tpp, b.consent(t, b.tpp), newPKCE("n")))
		br.submit(t, "login", url.Values{"username": {"alice"}, "password": {alicePass}})
		br.submit(t, "approve", url.Values{"account": {"bob-1"}})
		if br.status != http.StatusBadRequest || !strings.Contains(br.page, "some accounts cannot be shared") || !strings.Contains(br.page, `id="approve"`) {
			t.Errorf("bob's account picked by alice: %d %s", br.status, br.page)
		}
	})
}

// TestJSONAPIGuards: only the customer who opened an authorisation uses
// it, TPP tokens open none, a session lives ten minutes, and without the
// dev flag the code is only sent (by default, logged).
func TestJSONAPIGuards(t *testing.T) {
	t.Parallel()
	b, logs := withLogs(t)
	consentID := b.consent(t, b.tpp)
	alice := b.alice(t)
	r := b.tpp.caller.PostJSON(t, "/my/consent-authorisations", map[string]string{"client_id": b.tpp.key,
		"request_uri": b.push(t, b.tpp, consentID, newPKCE("g"))})
	if r.Status != http.StatusForbidden {
		t.Errorf("a TPP's token opens an authorisation: %d %s", r.Status, r.Body)
	}
	id := b.jsonFlow(t, alice, b.push(t, b.tpp, consentID, newPKCE("g")))
	carol := b.inst.As(b.inst.CreateUser(t, "carol", "Carol-passw0rd-long"))
	for _, step := range []struct {
		method, path string
		body         any
	}{{"GET", "", nil}, {"POST", "/accounts", map[string]any{"accounts": []string{"alice-1"}}},
		{"POST", "/sca", map[string]any{"answer": "123456"}}, {"POST", "/reject", nil}} {
		req := enginetest.Request{Method: step.method, Path: "/my/consent-authorisations/" + id + step.path}
		if step.body != nil {
			req = enginetest.JSONRequest(t, step.method, req.Path, step.body)
		}
		if r := carol.Send(t, req); r.Status != http.StatusNotFound {
			t.Errorf("another customer %s %s: %d %s; want 404", step.method, step.path, r.Status, r.Body)
		}
	}
	sent := alice.PostJSON(t, "/my/consent-authorisations/"+id+"/accounts", map[string]any{"accounts": []string{"alice-1"}})
	if _, shown := sent.JSON(t)["code"]; sent.Status != http.StatusOK || shown {
		t.Errorf("without --sca-dev: %d %s", sent.Status, sent.Body)
	}
	if !strings.Contains(logs.String(), "SCA code for consent "+consentID) {
		t.Errorf("the default sendScaChallenge did not log the code")
	}
	b.inst.Clock.Advance(10*time.Minute + time.Second)
	if r := alice.Get(t, "/my/consent-authorisations/"+id); r.Status != http.StatusNotFound {
		t.Errorf("authorisation past 10 minutes: %d", r.Status)
	}
	if n, err := b.inst.Authorisations.Sweep(context.Background()); err != nil || n < 2 {
		t.Errorf("sweep removed %d (%v)", n, err)
	}
}

// TestDiscovery: the discovery document advertises exactly what is
// enabled (request objects unsigned only with the flag: TestFAPI1Unsigned).
func TestDiscovery(t *testing.T) {
	t.Parallel()
	b := newBank(t)
	r := b.inst.Anonymous().Get(t, "/.well-known/openid-configuration")
	if r.Status != http.StatusOK {
		t.Fatalf("%d %s", r.Status, r.Body)
	}
	d := r.JSON(t)
	base := "http://example.com"
	for k, want := range map[string]any{
		"issuer": "dynapi", "authorization_endpoint": base + "/oauth2/authorize", "token_endpoint": base + "/oauth2/token",
		"pushed_authorization_request_endpoint": base + "/oauth2/par", "require_pushed_authorization_requests": false,
		"jwks_uri": base + "/.well-known/jwks.json", "revocation_endpoint": base + "/oauth2/revoke",
		"authorization_response_iss_parameter_supported": true, "request_parameter_supported": true,
		"claims_parameter_supported": true,
	} {
		if d[k] != want {
			t.Errorf("%s = %v; want %v", k, d[k], want)
		}
	}
	for k, want := range map[string][]string{
		"response_types_supported":                         {"code", "code id_token"},
		"response_modes_supported":                         {"query", "fragment"},
		"request_object_signing_alg_values_supported":      {"PS256", "RS256", "ES256"},
		"dynapi_require_pushed_authorization_requests_for": {"par_pkce"},
		"acr_values_supported":                             {"urn:openbanking:psd2:sca"},
		"grant_types_supported":                            {"authorization_code", "refresh_token", "client_credentials"},
		"code_challenge_methods_supported":                 {"S256"},
		"token_endpoint_auth_methods_supported":            {"client_secret_basic", "client_secret_post"},
		"scopes_supported":                                 {"openid", "accounts", "payments", "fundsconfirmations"},
		"id_token_signing_alg_values_supported":            {"ES256"},
	} {
		var got []string
		for _, v := range d[k].([]any) {
			got = append(got, v.(string))
		}
		if !slices.Equal(got, want) {
			t.Errorf("%s = %v; want %v", k, got, want)
		}
	}
	if claims := d["claims_supported"].([]any); !slices.Contains(claims, any("openbanking_intent_id")) {
		t.Errorf("claims_supported %v", claims)
	}
}
