package consent_test

import (
	"testing"

	"github.com/dynapi/dynapi/internal/enginetest"
)

// TestBankConsents: a bank's staff, holding CanGetConsentsAtOneBank and
// CanRevokeConsentAtOneBank at their bank, list, read and revoke the
// consents created at it, and nothing of another bank's: its routes are a
// 403, its consents through their own bank's routes a 404. The bank's
// list on the system routes is ?bank_id=.
func TestBankConsents(t *testing.T) {
	t.Parallel()
	inst := enginetest.New(t)
	defer inst.Close(t)
	ids := map[string]string{}
	app := tpp(t, inst, "app")
	for _, bank := range []string{"bank-a", "bank-b"} {
		inst.CreateBank(t, bank)
		inst.GrantAdmin(t, bank, "CanCreateBankLevelDynamicEndpoint")
		inst.Admin().MustCreate(t, "/admin/v1/banks/"+bank+"/dynamic-endpoints", enginetest.ReadFile(t, ukV4))
		r := app.PostJSON(t, "/banks/"+bank+v4Consents, consentRequest(inst, "ReadAccountsBasic"))
		if r.Status != 201 {
			t.Fatalf("create at %s: %d %s", bank, r.Status, r.Body)
		}
		ids[bank] = r.JSON(t)["Data"].(map[string]any)["ConsentId"].(string)
	}
	carol := inst.CreateUser(t, "carol", "Carol-passw0rd-long")
	inst.Grant(t, carol.ID, "bank-a", "CanGetConsentsAtOneBank")
	inst.Grant(t, carol.ID, "bank-a", "CanRevokeConsentAtOneBank")
	staff := inst.As(carol)

	list := staff.Get(t, "/admin/v1/banks/bank-a/consents").JSON(t)["consents"].([]any)
	if len(list) != 1 || list[0].(map[string]any)["consent_id"] != ids["bank-a"] {
		t.Errorf("bank-a's consents: %v", list)
	}
	for _, tc := range []struct {
		name   string
		req    enginetest.Request
		status int
	}{
		{"her bank's consent", enginetest.Request{Method: "GET", Path: "/admin/v1/banks/bank-a/consents/" + ids["bank-a"]}, 200},
		{"another bank's list", enginetest.Request{Method: "GET", Path: "/admin/v1/banks/bank-b/consents"}, 403},
		{"another bank's consent", enginetest.Request{Method: "GET", Path: "/admin/v1/banks/bank-b/consents/" + ids["bank-b"]}, 403},
		{"another bank's consent through hers", enginetest.Request{Method: "GET", Path: "/admin/v1/banks/bank-a/consents/" + ids["bank-b"]}, 404},
		{"every bank's", enginetest.Request{Method: "GET", Path: "/admin/v1/consents"}, 403},
		{"revoke another bank's", enginetest.JSONRequest(t, "POST", "/admin/v1/banks/bank-b/consents/"+ids["bank-b"]+"/revoke", `{"reason": "x"}`), 403},
		{"revoke another bank's through hers", enginetest.JSONRequest(t, "POST", "/admin/v1/banks/bank-a/consents/"+ids["bank-b"]+"/revoke", `{"reason": "x"}`), 404},
		{"revoke her bank's", enginetest.JSONRequest(t, "POST", "/admin/v1/banks/bank-a/consents/"+ids["bank-a"]+"/revoke", `{"reason": "fraud"}`), 200},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if r := staff.Send(t, tc.req); r.Status != tc.status {
				t.Errorf("%d %s; want %d", r.Status, r.Body, tc.status)
			}
		})
	}
	if got := inst.Admin().Get(t, "/admin/v1/consents/"+ids["bank-b"]).JSON(t)["status"]; got != "awaiting_authorisation" {
		t.Errorf("bank-b's consent: %v", got)
	}
	byBank := inst.Admin().Get(t, "/admin/v1/consents?bank_id=bank-b").JSON(t)["consents"].([]any)
	if len(byBank) != 1 || byBank[0].(map[string]any)["consent_id"] != ids["bank-b"] {
		t.Errorf("?bank_id=bank-b: %v", byBank)
	}
	// The super admin's system role counts at every bank.
	if r := inst.Admin().Get(t, "/admin/v1/banks/bank-b/consents/"+ids["bank-b"]); r.Status != 200 {
		t.Errorf("the super admin at bank-b: %d %s", r.Status, r.Body)
	}
}
