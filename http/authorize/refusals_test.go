package authorize_test

import (
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dynapi/dynapi/internal/enginetest"
)

// oauthRefusal checks an RFC 6749 error answer.
func oauthRefusal(t *testing.T, r enginetest.Response, status int, code, names string) {
	t.Helper()
	if r.Status != status {
		t.Errorf("status %d; want %d: %s", r.Status, status, r.Body)
		return
	}
	got := r.JSON(t)
	if got["error"] != code || !strings.Contains(got["error_description"].(string), names) {
		t.Errorf("error %v; want %s naming %q", got, code, names)
	}
}

// TestPushRefusals: a pushed request is refused with every fault named,
// and nothing of it can be opened.
func TestPushRefusals(t *testing.T) {
	t.Parallel()
	b := newBank(t, devCodes)
	other := newTPP(t, b.inst, "Other App")
	mine, theirs := b.consent(t, b.tpp), b.consent(t, other)
	authorised := b.consent(t, b.tpp)
	b.authorise(t, authorised)
	k := newPKCE("r")
	for _, tc := range []struct {
		name         string
		change       func(url.Values)
		status       int
		code, naming string
	}{
		{"redirect URI not registered", func(v url.Values) { v.Set("redirect_uri", "https://evil.example.com/cb") }, 400, "invalid_request", "redirect_uri"},
		{"no PKCE", func(v url.Values) { v.Del("code_challenge"); v.Del("code_challenge_method") }, 400, "invalid_request", "code_challenge"},
		{"plain PKCE", func(v url.Values) { v.Set("code_challenge_method", "plain") }, 400, "invalid_request", "code_challenge_method"},
		{"short challenge", func(v url.Values) { v.Set("code_challenge", "abc") }, 400, "invalid_request", "code_challenge"},
		{"another TPP's consent", func(v url.Values) { v.Set("claims", claims(theirs)) }, 403, "unauthorized_client", theirs},
		{"consent already authorised", func(v url.Values) { v.Set("claims", claims(authorised)) }, 400, "invalid_request", "authorised"},
		{"unknown consent", func(v url.Values) { v.Del("claims"); v.Set("consent_id", "no-such-consent") }, 400, "invalid_request", "no-such-consent"},
		{"no consent", func(v url.Values) { v.Del("claims") }, 400, "invalid_request", "consent_id"},
		{"id and claims disagree", func(v url.Values) { v.Set("consent_id", theirs) }, 400, "invalid_request", "another consent"},
		{"response type", func(v url.Values) { v.Set("response_type", "token") }, 400, "unsupported_response_type", "response_type"},
		{"unknown scope", func(v url.Values) { v.Set("scope", "openid transfers") }, 400, "invalid_scope", "transfers"},
		{"another client_id", func(v url.Values) { v.Set("client_id", other.key) }, 400, "invalid_request", "client_id"},
		{"state too long", func(v url.Values) { v.Set("state", strings.Repeat("s", 513)) }, 400, "invalid_request", "state"},
		{"request object", func(v url.Values) { v.Set("request", "eyJ.x.y") }, 400, "request_not_supported", "request"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v := parParams(b.tpp, mine, k)
			tc.change(v)
			oauthRefusal(t, b.tpp.form(t, b.inst, "/oauth2/par", v), tc.status, tc.code, tc.naming)
		})
	}
	t.Run("every fault named", func(t *testing.T) {
		v := parParams(b.tpp, mine, k)
		v.Set("redirect_uri", "https://evil.example.com/cb")
		v.Set("code_challenge_method", "plain")
		r := b.tpp.form(t, b.inst, "/oauth2/par", v)
		if got := r.JSON(t)["violations"].([]any); len(got) != 2 {
			t.Errorf("violations %v; want both faults", got)
		}
	})
	t.Run("client not authenticated", func(t *testing.T) {
		bad := b.tpp
		bad.secret = "wrong-secret-0123456789abcdef0123456789"
		oauthRefusal(t, bad.form(t, b.inst, "/oauth2/par", parParams(b.tpp, mine, k)), 401, "invalid_client", "client")
	})
}

// claims is the claims parameter naming consentID.
func claims(consentID string) string {
	return `{"id_token":{"openbanking_intent_id":{"value":"` + consentID + `","essential":true}}}`
}

// started pushes a request for a new consent, opens it through the JSON
// API as alice, picks alice-1 and returns the authorisation, its dev code
// and the PKCE pair.
func (b *bank) started(t *testing.T, consentID string) (id, code string, k pkce) {
	t.Helper()
	k = newPKCE(consentID[:1])
	id = b.jsonFlow(t, b.alice(t), b.push(t, b.tpp, consentID, k))
	code = b.sendCode(t, id)
	return id, code, k
}

// sendCode picks alice-1 for authorisation id and returns the dev code.
func (b *bank) sendCode(t *testing.T, id string) string {
	t.Helper()
	r := b.alice(t).PostJSON(t, "/my/consent-authorisations/"+id+"/accounts", map[string]any{"accounts": []string{"alice-1"}})
	if r.Status != http.StatusOK {
		t.Fatalf("accounts: %d %s", r.Status, r.Body)
	}
	return r.JSON(t)["code"].(string)
}

// alice is alice logged in.
func (b *bank) alice(t *testing.T) enginetest.Caller {
	t.Helper()
	return b.inst.As(enginetest.User{Username: "alice", Token: b.inst.Login(t, "alice", alicePass)})
}

// answer answers the one-time code of authorisation id as alice.
func (b *bank) answer(t *testing.T, alice enginetest.Caller, id, code string) enginetest.Response {
	t.Helper()
	return alice.PostJSON(t, "/my/consent-authorisations/"+id+"/sca", map[string]string{"answer": code})
}

// authorise authorises consentID for alice-1 and returns the code's
// redirect query and the PKCE pair.
func (b *bank) authorise(t *testing.T, consentID string) (url.Values, pkce) {
	t.Helper()
	id, code, k := b.started(t, consentID)
	r := b.answer(t, b.alice(t), id, code)
	if r.Status != http.StatusOK {
		t.Fatalf("answer: %d %s", r.Status, r.Body)
	}
	return redirected(t, r.JSON(t)["redirect_uri"].(string)), k
}

// status is the consent's UK status as its TPP reads it.
func (b *bank) status(t *testing.T, p tpp, consentID string) string {
	t.Helper()
	st, _ := p.caller.Get(t, v4Consents+"/"+consentID).JSON(t)["Data"].(map[string]any)["Status"].(string)
	return st
}

// TestTokenRefusals: a code is single use (a replay also revokes what it
// granted), bound to the PKCE verifier, the redirect URI and the client,
// and lives 60 seconds.
func TestTokenRefusals(t *testing.T) {
	t.Parallel()
	b := newBank(t, devCodes)
	other := newTPP(t, b.inst, "Other App")
	for _, tc := range []struct {
		name  string
		swap  func(q url.Values, k pkce) enginetest.Response
		names string
	}{
		{"wrong verifier", func(q url.Values, k pkce) enginetest.Response {
			return b.exchange(t, b.tpp, q.Get("code"), redirectURI, newPKCE("z").verifier)
		}, "code_verifier"},
		{"wrong redirect_uri", func(q url.Values, k pkce) enginetest.Response {
			return b.exchange(t, b.tpp, q.Get("code"), redirectURI+"/other", k.verifier)
		}, "redirect_uri"},
		{"another client", func(q url.Values, k pkce) enginetest.Response {
			return b.exchange(t, other, q.Get("code"), redirectURI, k.verifier)
		}, "another client"},
		{"expired", func(q url.Values, k pkce) enginetest.Response {
			b.inst.Clock.Advance(61 * time.Second)
			return b.exchange(t, b.tpp, q.Get("code"), redirectURI, k.verifier)
		}, "expired"},
		{"unknown", func(q url.Values, k pkce) enginetest.Response {
			return b.exchange(t, b.tpp, "no-such-code", redirectURI, k.verifier)
		}, "unknown"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			q, k := b.authorise(t, b.consent(t, b.tpp))
			oauthRefusal(t, tc.swap(q, k), 400, "invalid_grant", tc.names)
		})
	}
	t.Run("missing parameters", func(t *testing.T) {
		r := b.tpp.form(t, b.inst, "/oauth2/token", url.Values{"grant_type": {"authorization_code"}})
		oauthRefusal(t, r, 400, "invalid_request", "code_verifier")
	})
	t.Run("replay revokes", func(t *testing.T) {
		consentID := b.consent(t, b.tpp)
		q, k := b.authorise(t, consentID)
		first := b.tokens(t, b.tpp, q.Get("code"), k.verifier, consentID, "n-456")
		oauthRefusal(t, b.exchange(t, b.tpp, q.Get("code"), redirectURI, k.verifier), 400, "invalid_grant", "used already")
		oauthRefusal(t, b.refresh(t, b.tpp, first["refresh_token"].(string)), 400, "invalid_grant", "revoked")
	})
	t.Run("revocation endpoint", func(t *testing.T) {
		consentID := b.consent(t, b.tpp)
		q, k := b.authorise(t, consentID)
		tokens := b.tokens(t, b.tpp, q.Get("code"), k.verifier, consentID, "n-456")
		refresh := tokens["refresh_token"].(string)
		if r := other.form(t, b.inst, "/oauth2/revoke", url.Values{"token": {refresh}}); r.Status != http.StatusOK {
			t.Fatalf("revoke by another client: %d", r.Status)
		}
		if r := b.refresh(t, b.tpp, refresh); r.Status != http.StatusOK {
			t.Fatalf("another client revoked the token: %d %s", r.Status, r.Body)
		}
		if r := b.tpp.form(t, b.inst, "/oauth2/revoke", url.Values{"token": {refresh}, "token_type_hint": {"refresh_token"}}); r.Status != http.StatusOK {
			t.Fatalf("revoke: %d %s", r.Status, r.Body)
		}
		oauthRefusal(t, b.refresh(t, b.tpp, refresh), 400, "invalid_grant", "revoked")
		if r := b.inst.Anonymous().Send(t, enginetest.Request{Method: "POST", Path: "/oauth2/revoke", Body: []byte("token=" + refresh),
			Header: map[string]string{"Content-Type": "application/x-www-form-urlencoded"}}); r.Status != http.StatusUnauthorized {
			t.Errorf("revoke without client authentication: %d", r.Status)
		}

		// An access token (RFC 7009 2.1) is refused from its revocation
		// on, though it has not expired; another client cannot revoke it.
		access := tokens["access_token"].(string)
		if r := other.form(t, b.inst, "/oauth2/revoke", url.Values{"token": {access}}); r.Status != http.StatusOK {
			t.Fatalf("revoke an access token by another client: %d", r.Status)
		}
		if r := b.underConsent(t, access); r.Status != http.StatusOK {
			t.Fatalf("another client revoked the access token: %d %s", r.Status, r.Body)
		}
		if r := b.tpp.form(t, b.inst, "/oauth2/revoke", url.Values{"token": {access}, "token_type_hint": {"access_token"}}); r.Status != http.StatusOK {
			t.Fatalf("revoke the access token: %d %s", r.Status, r.Body)
		}
		if r := b.underConsent(t, access); r.Status != http.StatusUnauthorized {
			t.Errorf("the revoked access token: %d %s; want 401", r.Status, r.Body)
		}
	})
}

// TestChallenge: a one-time code is bound to its authorisation and to the
// latest challenge; three wrong answers reject the consent; two right
// answers at once authorise once.
func TestChallenge(t *testing.T) {
	t.Parallel()
	b := newBank(t, devCodes)
	alice := b.alice(t)

	t.Run("code of another authorisation", func(t *testing.T) {
		_, codeA, _ := b.started(t, b.consent(t, b.tpp))
		idB, codeB, _ := b.started(t, b.consent(t, b.tpp))
		if codeA == codeB {
			t.Skip("the two codes happen to be equal")
		}
		if r := b.answer(t, alice, idB, codeA); r.Status != http.StatusBadRequest || r.Problem(t).Code != "sca_code_wrong" {
			t.Errorf("another authorisation's code: %d %s", r.Status, r.Body)
		}
	})
	t.Run("three wrong answers reject", func(t *testing.T) {
		consentID := b.consent(t, b.tpp)
		id, code, _ := b.started(t, consentID)
		wrong := "000000"
		if code == wrong {
			wrong = "111111"
		}
		for i := range 3 {
			if r := b.answer(t, alice, id, wrong); r.Status != http.StatusBadRequest {
				t.Fatalf("wrong answer %d: %d %s", i+1, r.Status, r.Body)
			}
		}
		if st := b.status(t, b.tpp, consentID); st != "RJCT" {
			t.Errorf("consent %s after three wrong answers; want RJCT", st)
		}
		if r := b.answer(t, alice, id, code); r.Status != http.StatusConflict {
			t.Errorf("right answer after failing: %d %s; want 409", r.Status, r.Body)
		}
		got := alice.Get(t, "/my/consent-authorisations/"+id).JSON(t)
		if got["sca_status"] != "failed" || !strings.Contains(got["redirect_uri"].(string), "error=access_denied") {
			t.Errorf("failed authorisation %v", got)
		}
	})
	t.Run("old code after a new challenge", func(t *testing.T) {
		consentID := b.consent(t, b.tpp)
		id, old, _ := b.started(t, consentID)
		fresh := b.sendCode(t, id)
		if old == fresh {
			t.Skip("the two codes happen to be equal")
		}
		if r := b.answer(t, alice, id, old); r.Status != http.StatusBadRequest {
			t.Errorf("old code: %d %s", r.Status, r.Body)
		}
		if r := b.answer(t, alice, id, fresh); r.Status != http.StatusOK {
			t.Errorf("new code: %d %s", r.Status, r.Body)
		}
	})
	t.Run("expired code", func(t *testing.T) {
		id, code, _ := b.started(t, b.consent(t, b.tpp))
		b.inst.Clock.Advance(5*time.Minute + time.Second)
		if r := b.answer(t, b.alice(t), id, code); r.Status != http.StatusBadRequest || r.Problem(t).Code != "sca_code_expired" {
			t.Errorf("expired code: %d %s", r.Status, r.Body)
		}
	})
	t.Run("two right answers at once", func(t *testing.T) {
		consentID := b.consent(t, b.tpp)
		id, code, _ := b.started(t, consentID)
		const n = 8
		statuses := make([]int, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() { statuses[i] = b.answer(t, alice, id, code).Status })
		}
		wg.Wait()
		ok := 0
		for _, s := range statuses {
			if s == http.StatusOK {
				ok++
			} else if s != http.StatusConflict {
				t.Errorf("concurrent answer: %d", s)
			}
		}
		if ok != 1 {
			t.Errorf("%d answers succeeded; want 1 (%v)", ok, statuses)
		}
		if n := b.inst.Audited(t, "consent.authorise", consentID); n != 1 {
			t.Errorf("consent authorised %d times", n)
		}
	})
}
