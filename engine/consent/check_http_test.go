package consent_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/dynapi/dynapi/engine/audit"
	"github.com/dynapi/dynapi/internal/enginetest"
)

const (
	v4Accounts  = "/open-banking/v4.0/aisp/accounts"
	v31Accounts = "/open-banking/v3.1/aisp/accounts"
)

// obError is a UK OBErrorResponse1.
type obError struct {
	Code, ID, Message string
	Errors            []struct{ ErrorCode, Message, Path string }
}

// refusal reads r as an OBErrorResponse1, failing the test unless it is
// one with status.
func refusal(t *testing.T, r enginetest.Response, status int) obError {
	t.Helper()
	var e obError
	if err := json.Unmarshal(r.Body, &e); err != nil || r.Status != status || len(e.Errors) == 0 {
		t.Fatalf("%d %s; want %d in OBErrorResponse1", r.Status, r.Body, status)
	}
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("Content-Type %s", ct)
	}
	return e
}

// ais is an engine serving both UK account-information documents, with a
// TPP and a customer.
type ais struct {
	inst *enginetest.Engine
	tpp  app
	psu  enginetest.User
}

func newAIS(t *testing.T, opts ...enginetest.Option) ais {
	t.Helper()
	inst := enginetest.New(t, opts...)
	submit(t, inst, ukV4, "")
	submit(t, inst, ukV31, "")
	return ais{inst: inst, tpp: newTPP(t, inst, "alice's app"), psu: inst.CreateUser(t, "psu", "Psu-passw0rd-long")}
}

// TestConsentCheckedOnEveryCall: each operation a profile binds to use is
// answered only under a consent that exists, is authorised and not
// expired, belongs to the calling TPP and customer, grants one of the
// operation's permissions and holds the account in the path; refusals are
// in the standard's shape, name the consent, the rule and the account, and
// a revocation, a deletion or the expiry bites on the next call with the
// same token.
func TestConsentCheckedOnEveryCall(t *testing.T) {
	t.Parallel()
	cfg := enginetest.Config(t.TempDir())
	cfg.OAuth2.TTL = 48 * time.Hour // tokens outlive the consents
	w := newAIS(t, enginetest.WithConfig(cfg))
	inst, alice, psu := w.inst, w.tpp, w.psu
	bob := newTPP(t, inst, "bob's app")
	other := inst.CreateUser(t, "other", "Other-passw0rd-long")
	perms := []string{"ReadAccountsBasic", "ReadBalances"}
	id, aisp := underConsent(t, inst, alice, psu.ID, perms, "acc-1")

	for _, tc := range []struct {
		name   string
		caller enginetest.Caller
		path   string
		status int
		code   string // dynapi's, in Code; "" for an answer
		error  string // the standard's ErrorCode
		at     string // its Path
		names  []string
	}{
		{"accounts", aisp, v4Accounts, 200, "", "", "", nil},
		{"the consent's account", aisp, v4Accounts + "/acc-1/balances", 200, "", "", "", nil},
		{"through v3.1.7", aisp, v31Accounts + "/acc-1", 200, "", "", "", nil},
		{"another account", aisp, v4Accounts + "/acc-2/balances", 403, "consent_account_out_of_scope", "U002", "AccountId", []string{id, "acc-2"}},
		{"another account, v3.1.7", aisp, v31Accounts + "/acc-2", 403, "consent_account_out_of_scope", "UK.OBIE.Field.Invalid", "AccountId", []string{"acc-2"}},
		{"a permission not granted", aisp, v4Accounts + "/acc-1/transactions", 403, "consent_permission_missing", "U002", "Data.Permissions",
			[]string{id, "GetAccountsAccountIdTransactions", "ReadTransactionsBasic", "ReadTransactionsDetail", "ReadAccountsBasic, ReadBalances"}},
		{"a list not granted", aisp, "/open-banking/v4.0/aisp/beneficiaries", 403, "consent_permission_missing", "U002", "Data.Permissions", []string{"ReadBeneficiariesBasic"}},
		{"a client-credentials token", alice.Caller, v4Accounts, 403, "consent_missing", "U028", "", []string{"GetAccounts"}},
		{"the admin's DirectLogin", inst.Admin(), v4Accounts, 403, "consent_missing", "U028", "", nil},
		{"another TPP's token for the consent", inst.ConsentCaller(t, bob.key, psu.ID, id, 0), v4Accounts, 403, "consent_not_yours", "U000", "", []string{id}},
		{"another customer's token for the consent", inst.ConsentCaller(t, alice.key, other.ID, id, 0), v4Accounts, 403, "consent_not_yours", "U000", "", []string{id}},
		{"a consent that does not exist", inst.ConsentCaller(t, alice.key, psu.ID, "no-such-consent", 0), v4Accounts, 403, "consent_unknown", "U011", "Data.ConsentId", []string{"no-such-consent"}},
		{"no credentials", inst.Anonymous(), v4Accounts, 401, "unauthorized", "U000", "", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := tc.caller.Get(t, tc.path)
			if tc.code == "" {
				if r.Status != tc.status {
					t.Fatalf("%d %s; want %d", r.Status, r.Body, tc.status)
				}
				return
			}
			e := refusal(t, r, tc.status)
			if e.Code != tc.code || e.Errors[0].ErrorCode != tc.error || e.Errors[0].Path != tc.at {
				t.Errorf("Code %s, %+v; want %s, %s at %q", e.Code, e.Errors[0], tc.code, tc.error, tc.at)
			}
			for _, name := range tc.names {
				if !strings.Contains(e.Message, name) {
					t.Errorf("the refusal does not name %s: %s", name, e.Message)
				}
			}
			if e.ID == "" || e.ID != r.Header.Get("X-Correlation-Id") {
				t.Errorf("Id %q, correlation id %q", e.ID, r.Header.Get("X-Correlation-Id"))
			}
		})
	}

	t.Run("the document says which operations a consent decides", func(t *testing.T) {
		ops := map[string]bool{}
		for _, op := range inst.Admin().Get(t, "/admin/v1/dynamic-endpoints").JSON(t)["dynamic_endpoints"].([]any)[0].(map[string]any)["operations"].([]any) {
			op := op.(map[string]any)
			ops[op["operation_id"].(string)] = op["consent"] == true
		}
		if !ops["GetAccounts"] || !ops["GetAccountsAccountIdBalances"] || ops["CreateAccountAccessConsents"] || len(ops) != 29 {
			t.Errorf("consent-decided operations: %v", ops)
		}
	})

	t.Run("not authorised", func(t *testing.T) {
		for _, reject := range []bool{false, true} {
			r := alice.PostJSON(t, v4Consents, consentRequest(inst, perms...))
			id := r.JSON(t)["Data"].(map[string]any)["ConsentId"].(string)
			caller := inst.ConsentCaller(t, alice.key, psu.ID, id, 0)
			if reject {
				if _, err := inst.Consents.Reject(t.Context(), id, psu.ID, "the customer said no", auditActor(psu.ID)); err != nil {
					t.Fatal(err)
				}
			}
			e := refusal(t, caller.Get(t, v4Accounts), 403)
			if e.Code != "consent_not_authorised" || e.Errors[0].ErrorCode != "U009" || e.Errors[0].Path != "Data.Status" {
				t.Errorf("rejected %v: %+v", reject, e)
			}
		}
	})

	t.Run("a document without a profile keeps its roles", func(t *testing.T) {
		bound := map[string]bool{}
		for _, op := range submit(t, inst, ukV4, "?mount=/plain&consent_profile=none")["operations"].([]any) {
			if op := op.(map[string]any); op["consent"] == true {
				bound[op["operation_id"].(string)] = true
			}
		}
		if len(bound) != 0 {
			t.Errorf("operations said to be called under a consent: %v", bound)
		}
		if r := inst.Admin().Get(t, "/plain/accounts"); r.Status != 200 {
			t.Errorf("the admin, holding the roles: %d %s", r.Status, r.Body)
		}
		if r := aisp.Get(t, "/plain/accounts"); r.Status != 403 {
			t.Errorf("a consent, without the role: %d %s; want 403", r.Status, r.Body)
		}
	})

	// Each consent below is used once (so it is cached), changed, and used
	// again with the same token: the change bites at once. Last: the clock
	// moves.
	for _, tc := range []struct {
		name         string
		change       func(t *testing.T, id string)
		status       int
		code, errors string
	}{
		{"revoked by the bank", func(t *testing.T, id string) {
			if r := inst.Admin().PostJSON(t, "/admin/v1/consents/"+id+"/revoke", `{"reason": "fraud suspected"}`); r.Status != 200 {
				t.Fatalf("revoke: %d %s", r.Status, r.Body)
			}
		}, 401, "consent_revoked", "U009"},
		{"deleted by the TPP", func(t *testing.T, id string) {
			if r := alice.Delete(t, v4Consents+"/"+id); r.Status != 204 {
				t.Fatalf("delete: %d %s", r.Status, r.Body)
			}
		}, 403, "consent_unknown", "U011"},
		{"expired, to the second", func(t *testing.T, id string) {
			inst.Clock.Advance(24*time.Hour - time.Second)
			if r := inst.ConsentCaller(t, alice.key, psu.ID, id, 0).Get(t, v4Accounts); r.Status != 200 {
				t.Fatalf("a second before expiry: %d %s", r.Status, r.Body)
			}
			inst.Clock.Advance(time.Second)
		}, 401, "consent_expired", "U009"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			id, caller := underConsent(t, inst, alice, psu.ID, perms, "acc-1")
			if r := caller.Get(t, v4Accounts); r.Status != 200 {
				t.Fatalf("before: %d %s", r.Status, r.Body)
			}
			tc.change(t, id)
			e := refusal(t, caller.Get(t, v4Accounts), tc.status)
			if e.Code != tc.code || e.Errors[0].ErrorCode != tc.errors || !strings.Contains(e.Message, id) {
				t.Errorf("after: %+v; want %s, %s naming %s", e, tc.code, tc.errors, id)
			}
		})
	}
}

// auditActor is the customer userID as the actor of a change.
func auditActor(userID string) audit.Actor { return audit.Actor{UserID: userID} }
