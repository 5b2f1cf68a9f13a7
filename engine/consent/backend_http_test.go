package consent_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"sync"
	"testing"

	"github.com/MicahParks/keyfunc/v3"
	"github.com/golang-jwt/jwt/v5"

	"github.com/dynapi/dynapi/internal/enginetest"
)

// TestBackEndLearnsTheConsent: a call made under a consent tells the bank's
// back end which: a REST back end receives the consent in the signed
// context header, which verifies against the engine's published keys, and
// a JavaScript connector method reads it, frozen, as ctx.consent; a call
// under no consent carries none.
func TestBackEndLearnsTheConsent(t *testing.T) {
	t.Parallel()
	w := newAIS(t)
	inst, alice, psu := w.inst, w.tpp, w.psu
	submit(t, inst, ukV4, "?mount=/plain&consent_profile=none")
	perms := []string{"ReadAccountsBasic", "ReadBalances"}
	id, aisp := underConsent(t, inst, alice, psu.ID, perms, "acc-1")

	var mu sync.Mutex
	var headers []string
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		headers = append(headers, r.Header.Get("Account-Request-Information"))
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"Data":{"Balance":[{"AccountId":"acc-1","Amount":{"Amount":"1.00","Currency":"GBP"},` +
			`"CreditDebitIndicator":"Credit","Type":"CLAV","DateTime":"2026-12-07T00:00:00Z"}]},"Links":{"Self":"https://bank.example/"},"Meta":{}}`))
	}))
	t.Cleanup(backend.Close)
	inst.CreateRouting(t, map[string]any{"method_name": "GetAccountsAccountIdBalances", "connector_name": "rest",
		"parameters": []map[string]string{{"key": "url", "value": backend.URL}}})
	kf, err := keyfunc.NewJWKSetJSON(json.RawMessage(inst.Anonymous().Get(t, "/.well-known/jwks.json").Body))
	if err != nil {
		t.Fatal(err)
	}

	t.Run("the REST back end's signed context header", func(t *testing.T) {
		for _, tc := range []struct {
			name    string
			caller  enginetest.Caller
			path    string
			consent bool
		}{
			{"under the consent", aisp, v4Accounts + "/acc-1/balances", true},
			{"under none", inst.Admin(), "/plain/accounts/acc-1/balances", false},
		} {
			t.Run(tc.name, func(t *testing.T) {
				if r := tc.caller.Get(t, tc.path); r.Status != 200 {
					t.Fatalf("%d %s", r.Status, r.Body)
				}
				mu.Lock()
				token := headers[len(headers)-1]
				mu.Unlock()
				claims := jwt.MapClaims{}
				if _, err := jwt.ParseWithClaims(token, claims, kf.Keyfunc, jwt.WithValidMethods([]string{"ES256"})); err != nil {
					t.Fatalf("the context header does not verify against /.well-known/jwks.json: %v", err)
				}
				c, has := claims["consent"].(map[string]any)
				if has != tc.consent {
					t.Fatalf("consent claim %v; want one: %v", claims["consent"], tc.consent)
				}
				if !tc.consent {
					return
				}
				if c["id"] != id || c["standard"] != "uk-ob" || c["version"] != "4.0" || c["type"] != "account-access" ||
					c["status"] != "authorised" || c["psu_user_id"] != psu.ID || c["client_id"] != claims["consumer_id"] ||
					!slices.Equal(texts(c["permissions"]), perms) || !slices.Equal(texts(c["accounts"]), []string{"acc-1"}) ||
					c["expires_at"] == nil {
					t.Errorf("consent claim %v", c)
				}
			})
		}
	})

	t.Run("ctx.consent in a JavaScript connector method", func(t *testing.T) {
		inst.CreateScript(t, "GetAccounts", `"use strict";
			const c = ctx.consent;
			let seen = "null";
			if (c !== null) {
				let refused = false;
				try { c.id = "forged"; c.accounts.push("acc-2"); } catch (e) { refused = true; }
				seen = [c.id, c.permissions.join("+"), c.accounts.join("+"), c.psu_user_id, Object.isFrozen(c), Object.isFrozen(c.accounts), refused].join(",");
			}
			return {Data: {Account: [{AccountId: "acc-1"}]}, Links: {Self: "https://bank.example/?seen=" + encodeURIComponent(seen)}, Meta: {}};`, 0)
		for _, tc := range []struct {
			name   string
			caller enginetest.Caller
			path   string
			want   string
		}{
			{"under the consent", aisp, v4Accounts, id + ",ReadAccountsBasic+ReadBalances,acc-1," + psu.ID + ",true,true,true"},
			{"under none", inst.Admin(), "/plain/accounts", "null"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				r := tc.caller.Get(t, tc.path)
				if r.Status != 200 {
					t.Fatalf("%d %s", r.Status, r.Body)
				}
				self, err := url.Parse(r.JSON(t)["Links"].(map[string]any)["Self"].(string))
				if err != nil {
					t.Fatal(err)
				}
				if got := self.Query().Get("seen"); got != tc.want {
					t.Errorf("the script saw %q; want %q", got, tc.want)
				}
			})
		}
	})
}

// texts is a JSON array of strings as a slice.
func texts(v any) []string {
	var out []string
	for _, s := range asSlice(v) {
		out = append(out, str(s))
	}
	return out
}
