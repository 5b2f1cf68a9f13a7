package core_test

import (
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dynapi/dynapi"

	"github.com/dynapi/dynapi/internal/enginetest"
)

// ukVersion is what differs between the UK documents the tests serve.
type ukVersion struct {
	name, path, mount                  string
	category, currentType, savingsType string
	balanceTypes                       []any
	booked                             string
	typeMember                         string
}

var ukVersions = []ukVersion{
	{name: "v4.0", path: ukV40, mount: "/open-banking/v4.0/aisp", category: "AccountCategory", typeMember: "AccountTypeCode",
		currentType: "CACC", savingsType: "SVGS", balanceTypes: []any{"ITAV", "ITBD"}, booked: "BOOK"},
	{name: "v3.1.7", path: ukV31, mount: "/open-banking/v3.1/aisp", category: "AccountType", typeMember: "AccountSubType",
		currentType: "CurrentAccount", savingsType: "Savings", balanceTypes: []any{"InterimAvailable", "InterimBooked"}, booked: "Booked"},
}

// TestUKFromCore serves both UK account-information documents with host
// core and no consent profile, and reads the super admin's demo accounts
// through every operation the core answers, each answer valid against the
// document's schema, after a payment between the accounts and with a
// saved payee.
func TestUKFromCore(t *testing.T) {
	t.Parallel()
	inst := withDemoBank(t)
	docs := make([]served, len(ukVersions))
	for i, v := range ukVersions {
		docs[i] = serveOnCore(t, inst, v.path, "?consent_profile=none")
	}
	paid := payDemo(t, inst)
	admin := inst.Admin()
	for i, v := range ukVersions {
		doc := docs[i]
		t.Run(v.name, func(t *testing.T) {
			get := func(id, path string) map[string]any { t.Helper(); return doc.fits(t, id, admin.Get(t, v.mount+path)) }

			list := get("GetAccounts", "/accounts")
			if self, _ := at(list, "Links", "Self").(string); !strings.HasPrefix(self, "https://") || !strings.HasSuffix(self, v.mount+"/accounts") ||
				at(list, "Meta", "TotalPages") != float64(1) {
				t.Errorf("Links %v, Meta %v", list["Links"], list["Meta"])
			}
			accounts := at(list, "Data", "Account").([]any)
			if len(accounts) != 2 {
				t.Fatalf("accounts %v", accounts)
			}
			current, savings := accounts[0], accounts[1]
			for _, c := range []struct {
				got  any
				want string
			}{
				{at(current, "AccountId"), "current-1"}, {at(current, "Status"), "Enabled"}, {at(current, "Currency"), "EUR"},
				{at(current, "Nickname"), "Current account"}, {at(current, v.category), "Personal"},
				{at(current, v.typeMember), v.currentType}, {at(savings, v.typeMember), v.savingsType},
				{at(current, "Account", 0, "SchemeName"), "UK.OBIE.SortCodeAccountNumber"},
				{at(current, "Account", 0, "Identification"), "40400410000001"},
				{at(current, "Account", 0, "Name"), enginetest.AdminUsername},
				{at(current, "Account", 1, "SchemeName"), "UK.OBIE.IBAN"},
				{at(current, "Account", 1, "Identification"), "GB57DEMO40400410000001"},
			} {
				if c.got != c.want {
					t.Errorf("account member %v; want %s", c.got, c.want)
				}
			}
			if one := at(get("GetAccountsAccountId", "/accounts/savings-1"), "Data", "Account").([]any); len(one) != 1 || at(one[0], "AccountId") != "savings-1" {
				t.Errorf("one account: %v", one)
			}

			balances := at(get("GetAccountsAccountIdBalances", "/accounts/current-1/balances"), "Data", "Balance").([]any)
			if len(balances) != 2 || at(balances[0], "Type") != v.balanceTypes[0] || at(balances[1], "Type") != v.balanceTypes[1] ||
				at(balances[0], "Amount", "Amount") != "2325.00" || at(balances[0], "CreditDebitIndicator") != "Credit" {
				t.Errorf("balances of current-1: %v", balances)
			}
			if all := at(get("GetBalances", "/balances"), "Data", "Balance").([]any); len(all) != 4 || at(all[2], "AccountId") != "savings-1" ||
				at(all[2], "Amount", "Amount") != "10175.00" {
				t.Errorf("every balance: %v", all)
			}

			txs := at(get("GetAccountsAccountIdTransactions", "/accounts/current-1/transactions"), "Data", "Transaction").([]any)
			last := txs[0]
			for _, c := range []struct {
				got  any
				want string
			}{
				{at(last, "TransactionId"), paid}, {at(last, "CreditDebitIndicator"), "Debit"}, {at(last, "Status"), v.booked},
				{at(last, "Amount", "Amount"), "25.00"}, {at(last, "Amount", "Currency"), "EUR"}, {at(last, "TransactionInformation"), "test"},
				{at(last, "Balance", "Amount", "Amount"), "2325.00"}, {at(last, "Balance", "CreditDebitIndicator"), "Credit"},
				{at(last, "CreditorAccount", "Identification"), "40400410000002"}, {at(last, "CreditorAccount", "Name"), "Savings account"},
			} {
				if c.got != c.want {
					t.Errorf("the payment's member %v; want %s", c.got, c.want)
				}
			}
			// The window narrows to the payment, or to what came before it.
			oldest := at(txs[len(txs)-1], "BookingDateTime").(string)
			window := "?fromBookingDateTime=" + url.QueryEscape(at(last, "BookingDateTime").(string))
			if recent := at(get("GetAccountsAccountIdTransactions", "/accounts/current-1/transactions"+window), "Data", "Transaction").([]any); len(recent) != 1 ||
				at(recent[0], "TransactionId") != paid {
				t.Errorf("transactions from the payment on: %v", recent)
			}
			until := "?toBookingDateTime=" + url.QueryEscape(oldest)
			if older := at(get("GetAccountsAccountIdTransactions", "/accounts/current-1/transactions"+until), "Data", "Transaction").([]any); len(older) != 1 ||
				at(older[0], "BookingDateTime") != oldest || len(txs) < 2 {
				t.Errorf("transactions until the first of %d: %v", len(txs), older)
			}
			savingsTxs := at(get("GetAccountsAccountIdTransactions", "/accounts/savings-1/transactions"), "Data", "Transaction").([]any)
			if at(savingsTxs[0], "CreditDebitIndicator") != "Credit" || at(savingsTxs[0], "DebtorAccount", "Identification") != "40400410000001" {
				t.Errorf("the payment on savings-1: %v", savingsTxs[0])
			}
			if all := at(get("GetTransactions", "/transactions"), "Data", "Transaction").([]any); len(all) != len(txs)+len(savingsTxs) {
				t.Errorf("every transaction: %d; want %d", len(all), len(txs)+len(savingsTxs))
			}

			payees := at(get("GetBeneficiaries", "/beneficiaries"), "Data", "Beneficiary").([]any)
			if len(payees) != 1 || at(payees[0], "AccountId") != "current-1" || at(payees[0], "Reference") != "Savings" ||
				at(payees[0], "CreditorAccount", "Identification") != "40400410000002" || at(payees[0], "CreditorAccount", "Name") != "My savings" {
				t.Errorf("beneficiaries: %v", payees)
			}
			if none := at(get("GetAccountsAccountIdBeneficiaries", "/accounts/savings-1/beneficiaries"), "Data", "Beneficiary").([]any); len(none) != 0 {
				t.Errorf("beneficiaries of savings-1: %v", none)
			}

			// What the core has no data for is answered from the document.
			doc.fits(t, "GetAccountsAccountIdDirectDebits", admin.Get(t, v.mount+"/accounts/current-1/direct-debits"))
		})
	}

	t.Run("refusals", func(t *testing.T) {
		bob := inst.CreateUser(t, "bob", "Bob-passw0rd-long-1")
		roles := enginetest.OperationRoles(t, docs[0].view)
		for _, op := range []string{"GetAccounts", "GetAccountsAccountId", "GetAccountsAccountIdTransactions"} {
			inst.Grant(t, bob.ID, "", roles[op])
		}
		mount := ukVersions[0].mount
		for _, tc := range []struct {
			name   string
			caller enginetest.Caller
			path   string
			status int
		}{
			{"an account the customer does not hold", inst.As(bob), mount + "/accounts/current-1", http.StatusNotFound},
			{"its transactions", inst.As(bob), mount + "/accounts/current-1/transactions", http.StatusNotFound},
			{"an account that does not exist", admin, mount + "/accounts/no-such-account", http.StatusNotFound},
			{"a window that is not a date-time", admin, mount + "/accounts/current-1/transactions?fromBookingDateTime=yesterday", http.StatusBadRequest},
		} {
			t.Run(tc.name, func(t *testing.T) {
				if r := tc.caller.Get(t, tc.path); r.Status != tc.status {
					t.Errorf("%d %s; want %d", r.Status, r.Body, tc.status)
				}
			})
		}
		t.Run("a customer without accounts lists none", func(t *testing.T) {
			if got := at(docs[0].fits(t, "GetAccounts", inst.As(bob).Get(t, mount+"/accounts")), "Data", "Account").([]any); len(got) != 0 {
				t.Errorf("bob's accounts: %v", got)
			}
		})
	})
}

// payDemo pays 25.00 from current-1 to
// savings-1 as the super admin, saves savings-1 as a payee of current-1
// and returns the payment's transaction id on current-1.
func payDemo(t *testing.T, inst *enginetest.Engine) string {
	t.Helper()
	r := inst.Pay(t, inst.AdminToken(), demoBank, "current-1", "savings-1", "25.00", "")
	if r.Status != http.StatusCreated {
		t.Fatalf("pay: %d %s", r.Status, r.Body)
	}
	payee := inst.Admin().PostJSON(t, "/banks/"+demoBank+"/accounts/current-1/counterparties", map[string]string{
		"name": "My savings", "description": "Savings", "other_bank_id": demoBank, "other_account_id": "savings-1"})
	if payee.Status != http.StatusCreated {
		t.Fatalf("payee: %d %s", payee.Status, payee.Body)
	}
	ids, _ := r.JSON(t)["transaction_ids"].([]any)
	id, _ := ids[0].(string)
	return id
}

// TestBankMappings: a bank's own mapping file replaces the embedded one
// (here its current accounts read as TRAN), and one that does not check
// refuses the start, naming what is wrong.
func TestBankMappings(t *testing.T) {
	t.Parallel()
	embedded, err := os.ReadFile(filepath.Join("mappings", "uk-ob.json"))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, typeCode, refused string
	}{
		{"the bank's own", "TRAN", ""},
		{"one the standard refuses", "CURRENT", `products.CURRENT.type_code "CURRENT"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			own := strings.Replace(string(embedded), `"type_code": "CACC"`, `"type_code": "`+tc.typeCode+`"`, 1)
			if err := os.WriteFile(filepath.Join(dir, "uk-ob.json"), []byte(own), 0o600); err != nil {
				t.Fatal(err)
			}
			inst, err := enginetest.Start(t, enginetest.Configure(func(c *dynapi.Config) {
				c.PreloadExample, c.Connectors.CoreMappingsDir = true, dir
			}))
			if tc.refused != "" {
				if err == nil || !strings.Contains(err.Error(), tc.refused) {
					t.Fatalf("start: %v; want a refusal naming %s", err, tc.refused)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			doc := serveOnCore(t, inst, ukV40, "?consent_profile=none")
			got := doc.fits(t, "GetAccountsAccountId", inst.Admin().Get(t, "/open-banking/v4.0/aisp/accounts/current-1"))
			if code := at(got, "Data", "Account", 0, "AccountTypeCode"); code != tc.typeCode {
				t.Errorf("AccountTypeCode %v; want %s", code, tc.typeCode)
			}
		})
	}
}
