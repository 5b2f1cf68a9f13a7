package authorize_test

import (
	"net/http"
	"testing"

	"github.com/dynapi/dynapi"
	"github.com/dynapi/dynapi/internal/enginetest"
)

// devCodes starts the engine with --sca-dev.
var devCodes = enginetest.Configure(func(c *dynapi.Config) { c.ScaDevCodes = true })

// jsonFlow opens an authorisation of a pushed request through the JSON
// API as alice and returns its id.
func (b *bank) jsonFlow(t *testing.T, alice enginetest.Caller, requestURI string) string {
	t.Helper()
	r := alice.PostJSON(t, "/my/consent-authorisations", map[string]string{"client_id": b.tpp.key, "request_uri": requestURI})
	if r.Status != http.StatusCreated || r.JSON(t)["sca_status"] != "psuAuthenticated" || len(r.JSON(t)["accounts"].([]any)) != 1 {
		t.Fatalf("open: %d %s", r.Status, r.Body)
	}
	return r.JSON(t)["authorisation_id"].(string)
}

// TestJSONAPIFlow authorises a consent through the JSON API with the dev
// flag's code, exchanges the code with PKCE, uses and refreshes the token,
// and sees the refresh refused once the bank revokes the consent.
func TestJSONAPIFlow(t *testing.T) {
	t.Parallel()
	b := newBank(t, devCodes)
	alice := b.inst.As(enginetest.User{Token: b.inst.Login(t, "alice", alicePass)})
	consentID := b.consent(t, b.tpp)
	k := newPKCE("a")
	id := b.jsonFlow(t, alice, b.push(t, b.tpp, consentID, k))

	got := alice.Get(t, "/my/consent-authorisations/"+id).JSON(t)
	if got["sca_status"] != "psuAuthenticated" || got["consent"].(map[string]any)["tpp_name"] != "Budget App" ||
		len(got["accounts"].([]any)) != 1 {
		t.Fatalf("authorisation %v", got)
	}
	perm := got["consent"].(map[string]any)["permissions"].([]any)[0].(map[string]any)
	if perm["code"] != "ReadAccountsDetail" || perm["text"] == "" {
		t.Errorf("permission %v", perm)
	}
	sent := alice.PostJSON(t, "/my/consent-authorisations/"+id+"/accounts", map[string]any{"accounts": []string{"alice-1"}})
	code, _ := sent.JSON(t)["code"].(string)
	if sent.Status != http.StatusOK || sent.JSON(t)["sca_status"] != "started" || len(code) != 6 {
		t.Fatalf("accounts: %d %s", sent.Status, sent.Body)
	}
	done := alice.PostJSON(t, "/my/consent-authorisations/"+id+"/sca", map[string]string{"answer": code})
	if done.Status != http.StatusOK || done.JSON(t)["sca_status"] != "finalised" {
		t.Fatalf("sca: %d %s", done.Status, done.Body)
	}
	q := redirected(t, done.JSON(t)["redirect_uri"].(string))
	if q.Get("state") != "st-123" || q.Get("iss") != "dynapi" || q.Get("code") == "" {
		t.Fatalf("redirect query %v", q)
	}
	tokens := b.tokens(t, b.tpp, q.Get("code"), k.verifier, consentID, "n-456")
	b.usable(t, tokens["access_token"].(string), consentID)

	refreshed := b.refresh(t, b.tpp, tokens["refresh_token"].(string))
	if refreshed.Status != http.StatusOK {
		t.Fatalf("refresh: %d %s", refreshed.Status, refreshed.Body)
	}
	b.usable(t, refreshed.JSON(t)["access_token"].(string), consentID)

	if r := b.inst.Admin().PostJSON(t, "/admin/v1/consents/"+consentID+"/revoke", map[string]string{"reason": "fraud suspected"}); r.Status != http.StatusOK {
		t.Fatalf("revoke: %d %s", r.Status, r.Body)
	}
	if r := b.refresh(t, b.tpp, tokens["refresh_token"].(string)); r.Status != http.StatusBadRequest || r.JSON(t)["error"] != "invalid_grant" {
		t.Errorf("refresh after revocation: %d %s; want 400 invalid_grant", r.Status, r.Body)
	}
}
