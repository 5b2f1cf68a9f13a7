package consent_test

import "testing"

// TestListsFilteredToTheConsent: a back end (here JavaScript connector
// methods) answering lists of three accounts' items, of which the consent
// holds one, reaches the TPP with that account's items only, through
// either version of the document; an operation reading one account is
// not filtered.
func TestListsFilteredToTheConsent(t *testing.T) {
	t.Parallel()
	w := newAIS(t)
	inst, alice, psu := w.inst, w.tpp, w.psu
	_, aisp := underConsent(t, inst, alice, psu.ID, []string{"ReadAccountsDetail", "ReadBalances", "ReadTransactionsDetail", "ReadTransactionsCredits"}, "acc-2")
	// Each method answers an item of each account, in the document's
	// schema.
	amount := `Amount: {Amount: "1.00", Currency: "GBP"}, CreditDebitIndicator: "Credit"`
	for name, list := range map[string][2]string{
		"GetAccounts":                  {"Account", ``},
		"GetBalances":                  {"Balance", amount + `, Type: "CLAV", DateTime: "2026-12-07T00:00:00Z"`},
		"GetAccountsAccountIdBalances": {"Balance", amount + `, Type: "CLAV", DateTime: "2026-12-07T00:00:00Z"`},
		"GetTransactions":              {"Transaction", amount + `, Status: "BOOK", BookingDateTime: "2026-12-07T00:00:00Z"`},
	} {
		inst.CreateScript(t, name, `const item = (id) => Object.assign({AccountId: id}, {`+list[1]+`});
			return {Data: {`+list[0]+`: ["acc-1", "acc-2", "acc-3"].map(item)}, Links: {Self: "https://bank.example/"}, Meta: {}};`, 0)
	}
	for _, tc := range []struct {
		path, list string
		want       []string // the AccountIds answered
	}{
		{v4Accounts, "Account", []string{"acc-2"}},
		{v31Accounts, "Account", []string{"acc-2"}},
		{"/open-banking/v4.0/aisp/balances", "Balance", []string{"acc-2"}},
		{"/open-banking/v4.0/aisp/transactions", "Transaction", []string{"acc-2"}},
		// One account's balances: checked against the consent, not filtered.
		{v4Accounts + "/acc-2/balances", "Balance", []string{"acc-1", "acc-2", "acc-3"}},
	} {
		t.Run(tc.path, func(t *testing.T) {
			r := aisp.Get(t, tc.path)
			if r.Status != 200 {
				t.Fatalf("%d %s", r.Status, r.Body)
			}
			body := r.JSON(t)
			var got []string
			for _, item := range body["Data"].(map[string]any)[tc.list].([]any) {
				id, _ := item.(map[string]any)["AccountId"].(string)
				got = append(got, id)
			}
			if len(got) != len(tc.want) {
				t.Fatalf("accounts %v; want %v: %s", got, tc.want, r.Body)
			}
			for i := range got {
				if got[i] != tc.want[i] {
					t.Errorf("accounts %v; want %v", got, tc.want)
				}
			}
			if body["Links"].(map[string]any)["Self"] != "https://bank.example/" {
				t.Errorf("the rest of the answer changed: %s", r.Body)
			}
		})
	}
}
