package consent_test

import "testing"

// TestConsentTokenOnlyWhereItsConsentDecides: a token a customer granted a
// TPP under a consent stands for the TPP acting within that consent, never
// for the customer: every route its consent does not decide refuses it,
// even those the customer may call and those a role would open (here the
// customer holds the roles of the banking core's and the consents' admin
// routes).
func TestConsentTokenOnlyWhereItsConsentDecides(t *testing.T) {
	t.Parallel()
	w := newAIS(t)
	inst, psu := w.inst, w.psu
	submit(t, inst, ukV4, "?mount=/plain&consent_profile=none")
	inst.Grant(t, psu.ID, "", "CanGetConsentsAtAnyBank")
	inst.Grant(t, psu.ID, "", "CanGetDynamicEndpoints")
	_, aisp := underConsent(t, inst, w.tpp, psu.ID, []string{"ReadAccountsDetail"}, "acc-1")
	customer := inst.Token(psu.Token)
	for _, path := range []string{"/my/consents", "/my/accounts", "/admin/v1/consents", "/admin/v1/dynamic-endpoints", "/plain/accounts"} {
		t.Run(path, func(t *testing.T) {
			r := aisp.Get(t, path)
			if r.Status != 403 || r.JSON(t)["code"] != "consent_not_accepted_here" {
				t.Errorf("the consent's token: %d %s; want 403 consent_not_accepted_here", r.Status, r.Body)
			}
			if r := customer.Get(t, path); r.Status != 200 && path != "/plain/accounts" {
				t.Errorf("the customer's own login: %d %s", r.Status, r.Body)
			}
		})
	}
	if r := aisp.Get(t, v4Accounts); r.Status != 200 {
		t.Errorf("where its consent decides: %d %s", r.Status, r.Body)
	}
}
