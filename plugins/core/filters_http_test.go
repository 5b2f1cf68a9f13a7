package core_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/dynapi/dynapi/internal/enginetest"
)

// TestFiltersOverCore: the UK profile's response filters on answers the
// core gives (the "UK AIS with filters over core data"): a
// Basic-only consent sees no account identification and no transaction
// detail, a Credits-only one no debits, a windowed one only what was
// booked inside its window, and a card account's PAN only as its last
// four digits without ReadPAN. Every answer fits the document.
func TestFiltersOverCore(t *testing.T) {
	t.Parallel()
	inst := withDemoBank(t)
	doc := serveOnCore(t, inst, ukV40, "")
	admin := inst.AdminID(t)
	inst.GrantAdmin(t, demoBank, "CanCreateAccount")
	inst.Admin().PostJSON(t, "/banks/"+demoBank+"/accounts", map[string]any{
		"account_id": "card-1", "currency": "EUR", "label": "Card", "product_code": "CURRENT",
		"balance":          map[string]string{"currency": "EUR", "amount": "0"},
		"owners":           []map[string]string{{"user_id": admin}},
		"account_routings": []map[string]string{{"scheme": "PAN", "address": "5500000000000004"}}})

	// current-1 holds its opening credit and a debit (the demo seed); the
	// payment below is a debit
	// booked after the window opens (the core books at the wall clock, to
	// the second).
	opens := time.Now().UTC().Truncate(time.Second).Add(time.Second)
	time.Sleep(time.Until(opens) + 10*time.Millisecond)
	payDemo(t, inst)

	tpp := inst.WithAuthorization("Bearer " + clientToken(t, inst))
	consent := func(t *testing.T, perms []string, from string, accounts ...string) enginetest.Caller {
		t.Helper()
		data := map[string]any{"Permissions": perms, "ExpirationDateTime": inst.Clock.Now().Add(24 * time.Hour).UTC().Format(time.RFC3339)}
		if from != "" {
			data["TransactionFromDateTime"] = from
		}
		r := tpp.PostJSON(t, "/open-banking/v4.0/aisp/account-access-consents", map[string]any{"Data": data, "Risk": map[string]any{}})
		if r.Status != http.StatusCreated {
			t.Fatalf("consent: %d %s", r.Status, r.Body)
		}
		id := at(r.JSON(t), "Data", "ConsentId").(string)
		inst.AuthoriseConsent(t, id, admin, accounts...)
		return inst.ConsentCaller(t, enginetest.ConsumerKey, admin, id, 0)
	}
	directions := func(t *testing.T, c enginetest.Caller) (dirs []string, detail bool) {
		t.Helper()
		for _, tx := range at(doc.fits(t, "GetAccountsAccountIdTransactions", c.Get(t, "/open-banking/v4.0/aisp/accounts/current-1/transactions")), "Data", "Transaction").([]any) {
			dirs = append(dirs, at(tx, "CreditDebitIndicator").(string))
			detail = detail || at(tx, "Balance") != nil
		}
		return dirs, detail
	}
	all := []string{"ReadTransactionsCredits", "ReadTransactionsDebits"}

	t.Run("basic only", func(t *testing.T) {
		c := consent(t, append([]string{"ReadAccountsBasic", "ReadTransactionsBasic"}, all...), "", "current-1")
		account := at(doc.fits(t, "GetAccounts", c.Get(t, "/open-banking/v4.0/aisp/accounts")), "Data", "Account", 0).(map[string]any)
		if account["AccountId"] != "current-1" || account["Account"] != nil || account["Currency"] == nil {
			t.Errorf("a Basic account: %v", account)
		}
		if dirs, detail := directions(t, c); len(dirs) != 3 || detail {
			t.Errorf("Basic transactions: %v, detail shown %v", dirs, detail)
		}
	})
	t.Run("detail", func(t *testing.T) {
		c := consent(t, append([]string{"ReadAccountsDetail", "ReadTransactionsDetail"}, all...), "", "current-1")
		if at(doc.fits(t, "GetAccounts", c.Get(t, "/open-banking/v4.0/aisp/accounts")), "Data", "Account", 0, "Account") == nil {
			t.Error("a Detail consent does not see the account's identification")
		}
		if dirs, detail := directions(t, c); len(dirs) != 3 || !detail {
			t.Errorf("Detail transactions: %v, detail shown %v", dirs, detail)
		}
	})
	t.Run("credits only", func(t *testing.T) {
		c := consent(t, []string{"ReadAccountsBasic", "ReadTransactionsDetail", "ReadTransactionsCredits"}, "", "current-1")
		if dirs, _ := directions(t, c); len(dirs) != 1 || dirs[0] != "Credit" {
			t.Errorf("Credits-only transactions: %v", dirs)
		}
	})
	t.Run("window", func(t *testing.T) {
		c := consent(t, append([]string{"ReadAccountsBasic", "ReadTransactionsDetail"}, all...), opens.Format(time.RFC3339), "current-1")
		if dirs, _ := directions(t, c); len(dirs) != 1 || dirs[0] != "Debit" {
			t.Errorf("transactions in the window from %s: %v", opens, dirs)
		}
	})
	t.Run("PAN", func(t *testing.T) {
		for perms, want := range map[string]string{"ReadAccountsDetail": "************0004", "ReadAccountsDetail ReadPAN": "5500000000000004"} {
			c := consent(t, map[string][]string{"ReadAccountsDetail": {"ReadAccountsDetail"}, "ReadAccountsDetail ReadPAN": {"ReadAccountsDetail", "ReadPAN"}}[perms], "", "card-1")
			got := doc.fits(t, "GetAccountsAccountId", c.Get(t, "/open-banking/v4.0/aisp/accounts/card-1"))
			if at(got, "Data", "Account", 0, "Account", 0, "SchemeName") != "UK.OBIE.PAN" || at(got, "Data", "Account", 0, "Account", 0, "Identification") != want {
				t.Errorf("%s: %v; want %s", perms, got, want)
			}
		}
	})
}
