package consent_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/dynapi/dynapi/engine/audit"
	"github.com/dynapi/dynapi/engine/consent"
	"github.com/dynapi/dynapi/internal/enginetest"
)

// createConsent creates a consent as the TPP caller through the v4.0
// document and returns its id.
func createConsent(t *testing.T, inst *enginetest.Engine, caller enginetest.Caller, perms ...string) string {
	t.Helper()
	r := caller.PostJSON(t, v4Consents, consentRequest(inst, perms...))
	if r.Status != 201 {
		t.Fatalf("create: %d %s", r.Status, r.Body)
	}
	return r.JSON(t)["Data"].(map[string]any)["ConsentId"].(string)
}

// authorise authorises consent id for the customer userID and accounts,
// as the authorisation pages do once the customer passed them.
func authorise(t *testing.T, inst *enginetest.Engine, id, userID string, accounts ...string) {
	t.Helper()
	if _, err := inst.Consents.Authorise(t.Context(), id, userID, accounts, audit.Actor{UserID: userID}); err != nil {
		t.Fatalf("authorise %s: %v", id, err)
	}
}

// auditEntry is the last audit entry of action on target.
func auditEntry(t *testing.T, inst *enginetest.Engine, action, target string) map[string]any {
	t.Helper()
	var last map[string]any
	for _, e := range inst.Admin().Get(t, "/admin/v1/audit-log?limit=1000").JSON(t)["entries"].([]any) {
		if e := e.(map[string]any); e["action"] == action && e["target"] == target {
			last = e
		}
	}
	if last == nil {
		t.Fatalf("no audit entry %s of %s", action, target)
	}
	return last
}

// myConsent is a consent as /my/consents answers it.
type myConsent struct {
	ID  string `json:"consent_id"`
	TPP struct {
		Name string `json:"name"`
	} `json:"tpp"`
	Status      string `json:"status"`
	StatusWords string `json:"status_words"`
	Permissions []struct {
		Permission, Description string
	} `json:"permissions"`
	Accounts      []string         `json:"accounts"`
	ExpiresAt     string           `json:"expires_at"`
	History       []map[string]any `json:"history"`
	StatusReasons []map[string]any `json:"status_reasons"`
	RecentUses    []consent.Use    `json:"recent_uses"`
}

func decodeAs[T any](t *testing.T, r enginetest.Response) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(r.Body, &v); err != nil {
		t.Fatalf("%v: %s", err, r.Body)
	}
	return v
}

// TestCustomerDashboard: a customer lists the consents they authorised,
// newest first and in plain language, reads one with the TPP's recent
// uses, changes its accounts to others they may share, and revokes it;
// the TPP then sees it revoked. Another customer sees none of it.
func TestCustomerDashboard(t *testing.T) {
	t.Parallel()
	inst := enginetest.New(t)
	defer inst.Close(t)
	v4 := load(t, ukV4)
	submit(t, inst, ukV4, "")
	aliceToken, bobToken, aliceID, bobID := inst.BankWithAccounts(t, "bank-x")
	inst.OpenAccount(t, "bank-x", "alice-2", aliceID, "5.00")
	alice, bob := inst.Token(aliceToken), inst.Token(bobToken)
	app := tpp(t, inst, "Budget Buddy")

	older := createConsent(t, inst, app, "ReadAccountsBasic", "ReadBalances")
	authorise(t, inst, older, aliceID, "alice-1")
	inst.Clock.Advance(time.Minute)
	newer := createConsent(t, inst, app, "ReadAccountsDetail")
	authorise(t, inst, newer, aliceID, "alice-1", "alice-2")
	bobs := createConsent(t, inst, app, "ReadAccountsBasic")
	authorise(t, inst, bobs, bobID, "bob-1")
	awaiting := createConsent(t, inst, app, "ReadAccountsBasic")

	t.Run("list, newest first", func(t *testing.T) {
		got := decodeAs[struct{ Consents []myConsent }](t, alice.Get(t, "/my/consents")).Consents
		if len(got) != 2 || got[0].ID != newer || got[1].ID != older {
			t.Fatalf("alice's consents %+v; want %s then %s", got, newer, older)
		}
		c := got[1]
		if c.TPP.Name != "Budget Buddy" || c.Status != "authorised" || c.StatusWords == "" || c.ExpiresAt == "" ||
			strings.Join(c.Accounts, ",") != "alice-1" {
			t.Errorf("older consent %+v", c)
		}
		if len(c.Permissions) != 2 || c.Permissions[0].Description != "Your account names, numbers and currencies" ||
			c.Permissions[1].Description != "Your account balances" {
			t.Errorf("permissions in words %+v", c.Permissions)
		}
		if mine := decodeAs[struct{ Consents []myConsent }](t, bob.Get(t, "/my/consents")).Consents; len(mine) != 1 || mine[0].ID != bobs {
			t.Errorf("bob's consents %+v; want only %s", mine, bobs)
		}
	})
	t.Run("pages and filters", func(t *testing.T) {
		first := alice.Get(t, "/my/consents?limit=1").JSON(t)
		page := first["consents"].([]any)
		if len(page) != 1 || page[0].(map[string]any)["consent_id"] != newer || first["next_after"] == nil {
			t.Fatalf("first page %v", first)
		}
		second := alice.Get(t, "/my/consents?limit=1&after="+first["next_after"].(string)).JSON(t)
		if page := second["consents"].([]any); len(page) != 1 || page[0].(map[string]any)["consent_id"] != older {
			t.Errorf("second page %v", second)
		}
		if got := alice.Get(t, "/my/consents?status=revoked").JSON(t)["consents"].([]any); len(got) != 0 {
			t.Errorf("revoked, before any revocation: %v", got)
		}
		if r := alice.Get(t, "/my/consents?status=bogus"); r.Status != 400 || r.Problem(t).Violations[0].Pointer != "/status" {
			t.Errorf("an unknown status: %d %s", r.Status, r.Body)
		}
	})
	t.Run("detail with recent uses", func(t *testing.T) {
		base := inst.Clock.Now()
		for i, path := range []string{"/accounts", "/accounts/alice-1", "/accounts/alice-1/balances"} {
			inst.Consents.NoteUse(older, consent.Use{At: base.Add(time.Duration(i) * time.Second), OperationID: "op", Method: "GET",
				Path: "/open-banking/v4.0/aisp" + path, Status: 200})
		}
		got := decodeAs[myConsent](t, alice.Get(t, "/my/consents/"+older))
		if got.ID != older || len(got.History) != 2 || len(got.RecentUses) != 3 ||
			got.RecentUses[0].Path != "/open-banking/v4.0/aisp/accounts/alice-1/balances" {
			t.Errorf("detail %+v", got)
		}
		for _, tc := range []struct {
			name   string
			caller enginetest.Caller
			id     string
		}{{"another customer's", bob, older}, {"one not authorised yet", alice, awaiting}, {"unknown", alice, "no-such-consent"}} {
			if r := tc.caller.Get(t, "/my/consents/"+tc.id); r.Status != 404 {
				t.Errorf("%s: %d %s; want 404", tc.name, r.Status, r.Body)
			}
		}
	})
	t.Run("change accounts", func(t *testing.T) {
		for _, tc := range []struct {
			name     string
			caller   enginetest.Caller
			id, body string
			status   int
			pointers []string
		}{
			{"none", alice, older, `{"accounts": []}`, 400, []string{"/accounts"}},
			{"not hers", alice, older, `{"accounts": ["bob-1", "alice-2", "nowhere"]}`, 400, []string{"/accounts/0", "/accounts/2"}},
			{"another customer's consent", bob, older, `{"accounts": ["bob-1"]}`, 404, nil},
			{"an unknown member", alice, older, `{"accounts": ["alice-2"], "extra": 1}`, 400, []string{"/extra"}},
			{"hers", alice, older, `{"accounts": ["alice-2"]}`, 200, nil},
		} {
			t.Run(tc.name, func(t *testing.T) {
				r := tc.caller.Send(t, enginetest.JSONRequest(t, "PUT", "/my/consents/"+tc.id+"/accounts", tc.body))
				if r.Status != tc.status {
					t.Fatalf("%d %s; want %d", r.Status, r.Body, tc.status)
				}
				if tc.status == 400 {
					var pointers []string
					for _, v := range r.Problem(t).Violations {
						pointers = append(pointers, v.Pointer)
					}
					if strings.Join(pointers, " ") != strings.Join(tc.pointers, " ") {
						t.Errorf("violations at %v; want %v: %s", pointers, tc.pointers, r.Body)
					}
				}
			})
		}
		stored := inst.Admin().Get(t, "/admin/v1/consents/"+older).JSON(t)
		if accounts := stored["accounts"].([]any); len(accounts) != 1 || accounts[0] != "alice-2" || stored["status"] != "authorised" {
			t.Errorf("stored after the change: %v", stored)
		}
		if n := inst.Audited(t, "consent.accounts", older); n != 1 {
			t.Errorf("%d audit entries consent.accounts; want 1", n)
		}
		if who := auditEntry(t, inst, "consent.accounts", older)["user_id"]; who != aliceID {
			t.Errorf("consent.accounts by %v; want alice", who)
		}
	})
	t.Run("revoke", func(t *testing.T) {
		for _, tc := range []struct {
			name   string
			caller enginetest.Caller
			id     string
			req    enginetest.Request
			status int
		}{
			{"another customer's", bob, older, enginetest.Request{Method: "DELETE"}, 404},
			{"a reason too long", alice, older, enginetest.JSONRequest(t, "DELETE", "", map[string]string{"reason": strings.Repeat("x", 501)}), 400},
			{"with a reason", alice, older, enginetest.JSONRequest(t, "DELETE", "", map[string]string{"reason": "I stopped using it"}), 200},
			{"twice", alice, older, enginetest.Request{Method: "DELETE"}, 409},
			{"without a body", alice, newer, enginetest.Request{Method: "DELETE"}, 200},
		} {
			t.Run(tc.name, func(t *testing.T) {
				tc.req.Path = "/my/consents/" + tc.id
				if r := tc.caller.Send(t, tc.req); r.Status != tc.status {
					t.Errorf("%d %s; want %d", r.Status, r.Body, tc.status)
				}
			})
		}
		r := app.Get(t, v4Consents+"/"+older)
		data := r.JSON(t)["Data"].(map[string]any)
		reasons, _ := data["StatusReason"].([]any)
		if data["Status"] != "CANC" || len(reasons) != 1 || reasons[0].(map[string]any)["StatusReasonCode"] != "MS02" ||
			reasons[0].(map[string]any)["StatusReasonDescription"] != "I stopped using it" {
			t.Errorf("the TPP's view after the customer revoked: %s", r.Body)
		}
		v4.fits(t, "GetAccountAccessConsentsConsentId", "200", r.Body)
		e := auditEntry(t, inst, "consent.revoke", older)
		if e["user_id"] != aliceID || e["details"].(map[string]any)["reason_code"] != "revoked_by_psu" {
			t.Errorf("audit entry of the revocation %v", e)
		}
		got := decodeAs[struct{ Consents []myConsent }](t, alice.Get(t, "/my/consents?status=revoked")).Consents
		if len(got) != 2 || got[1].StatusReasons[0]["code"] != "revoked_by_psu" {
			t.Errorf("revoked consents %+v", got)
		}
		if r := alice.Send(t, enginetest.JSONRequest(t, "PUT", "/my/consents/"+older+"/accounts", `{"accounts": ["alice-1"]}`)); r.Status != 409 {
			t.Errorf("changing a revoked consent's accounts: %d %s; want 409", r.Status, r.Body)
		}
	})
}

// TestRecentUsesSurviveRestart: the uses noted under a consent are stored
// when the engine closes, so the customer still sees them after a restart.
func TestRecentUsesSurviveRestart(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	inst := enginetest.New(t, enginetest.InDir(dir))
	submit(t, inst, ukV4, "")
	_, _, aliceID, _ := inst.BankWithAccounts(t, "bank-x")
	id := createConsent(t, inst, tpp(t, inst, "app"), "ReadAccountsBasic")
	authorise(t, inst, id, aliceID, "alice-1")
	for i := range 3 {
		inst.Consents.NoteUse(id, consent.Use{At: inst.Clock.Now().Add(time.Duration(i) * time.Second), OperationID: "GetAccounts",
			Method: "GET", Path: "/open-banking/v4.0/aisp/accounts", Status: 200})
	}
	inst.Close(t)

	again := enginetest.New(t, enginetest.InDir(dir))
	defer again.Close(t)
	alice := again.Token(again.Login(t, "alice", "Alice-passw0rd-long"))
	got := decodeAs[myConsent](t, alice.Get(t, "/my/consents/"+id))
	if len(got.RecentUses) != 3 || got.RecentUses[0].OperationID != "GetAccounts" || !got.RecentUses[0].At.After(got.RecentUses[2].At) {
		t.Errorf("recent uses after a restart: %+v", got.RecentUses)
	}
}
