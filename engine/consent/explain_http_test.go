package consent_test

import (
	"net/url"
	"slices"
	"testing"

	"github.com/dynapi/dynapi/internal/enginetest"
)

// TestExplainConsent: the bank replays the decision the consent check
// would take for a consent on a call, on the routes served now, and gets
// the rule, the code and what is missing.
func TestExplainConsent(t *testing.T) {
	t.Parallel()
	w := newAIS(t)
	inst, alice, psu := w.inst, w.tpp, w.psu
	id, aisp := underConsent(t, inst, alice, psu.ID, []string{"ReadAccountsBasic", "ReadBalances"}, "acc-1")
	explain := func(t *testing.T, caller enginetest.Caller, id, method, path string) enginetest.Response {
		t.Helper()
		return caller.Get(t, "/admin/v1/consents/"+id+"/explain?method="+method+"&path="+url.QueryEscape(path))
	}
	for _, tc := range []struct {
		name, method, path string
		allowed            bool
		op, rule, code     string
		missing            []string
		account            string
	}{
		{"allowed", "GET", v4Accounts + "/acc-1/balances", true, "GetAccountsAccountIdBalances", "", "", nil, "acc-1"},
		{"allowed, v3.1.7, method in any case", "get", v31Accounts, true, "GetAccounts", "", "", nil, ""},
		{"another account", "GET", v4Accounts + "/acc-9/balances", false, "GetAccountsAccountIdBalances", "account_in_consent", "consent_account_out_of_scope", nil, "acc-9"},
		{"a permission not granted", "GET", v4Accounts + "/acc-1/transactions", false, "GetAccountsAccountIdTransactions", "permission_granted",
			"consent_permission_missing", []string{"ReadTransactionsBasic", "ReadTransactionsDetail"}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := explain(t, inst.Admin(), id, tc.method, tc.path)
			if r.Status != 200 {
				t.Fatalf("%d %s", r.Status, r.Body)
			}
			got := r.JSON(t)
			var missing []string
			for _, m := range asSlice(got["missing_permissions"]) {
				missing = append(missing, m.(string))
			}
			if got["allowed"] != tc.allowed || got["operation_id"] != tc.op || str(got["rule"]) != tc.rule || str(got["code"]) != tc.code ||
				!slices.Equal(missing, tc.missing) || str(got["account"]) != tc.account {
				t.Errorf("%s", r.Body)
			}
			c := got["consent"].(map[string]any)
			if c["consent_id"] != id || c["status"] != "authorised" || len(asSlice(c["accounts"])) != 1 {
				t.Errorf("consent %v", c)
			}
			// The call itself decides the same.
			call := aisp.Send(t, enginetest.Request{Method: "GET", Path: tc.path})
			if (call.Status == 200) != tc.allowed || !tc.allowed && call.JSON(t)["Code"] != tc.code {
				t.Errorf("the call answered %d %s", call.Status, call.Body)
			}
		})
	}
	for _, tc := range []struct {
		name, id, method, path string
		caller                 enginetest.Caller
		status                 int
	}{
		{"no path", id, "GET", "", inst.Admin(), 400},
		{"a path served by no operation", id, "GET", "/nowhere", inst.Admin(), 404},
		{"an operation not called under a consent", id, "POST", v4Consents, inst.Admin(), 400},
		{"an unknown consent", "no-such-consent", "GET", v4Accounts, inst.Admin(), 404},
		{"without the role", id, "GET", v4Accounts, inst.Token(psu.Token), 403},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if r := explain(t, tc.caller, tc.id, tc.method, tc.path); r.Status != tc.status {
				t.Errorf("%d %s; want %d", r.Status, r.Body, tc.status)
			}
		})
	}
	t.Run("revoked", func(t *testing.T) {
		inst.Admin().PostJSON(t, "/admin/v1/consents/"+id+"/revoke", `{"reason": "fraud suspected"}`)
		got := explain(t, inst.Admin(), id, "GET", v4Accounts).JSON(t)
		if got["allowed"] != false || got["rule"] != "consent_authorised" || got["code"] != "consent_revoked" || got["status"] != 401.0 {
			t.Errorf("%v", got)
		}
	})
}

func asSlice(v any) []any { s, _ := v.([]any); return s }

func str(v any) string { s, _ := v.(string); return s }
