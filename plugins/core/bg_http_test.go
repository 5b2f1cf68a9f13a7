package core_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/dynapi/dynapi/internal/enginetest"
)

// TestBerlinGroupFromCore serves the Berlin Group document with host core
// and no consent profile and reads the super admin's demo accounts through
// getAccountList, readAccountDetails, getBalances, getTransactionList and
// getTransactionDetails,
// each answer valid against the document's schema.
func TestBerlinGroupFromCore(t *testing.T) {
	t.Parallel()
	inst := withDemoBank(t)
	doc := serveOnCore(t, inst, bg, "?consent_profile=none")
	paid := payDemo(t, inst)
	headers := map[string]string{"X-Request-ID": "99391c7e-ad88-49ec-a2ad-99ddcb1f7721", "Consent-ID": "none"}
	get := func(t *testing.T, id, path string) map[string]any {
		t.Helper()
		return doc.fits(t, id, inst.Admin().Send(t, enginetest.Request{Method: http.MethodGet, Path: "/psd2" + path, Header: headers}))
	}

	t.Run("accounts", func(t *testing.T) {
		accounts := at(get(t, "getAccountList", "/v1/accounts"), "accounts").([]any)
		if len(accounts) != 2 {
			t.Fatalf("accounts %v", accounts)
		}
		current := accounts[0]
		for _, c := range []struct {
			got  any
			want string
		}{
			{at(current, "resourceId"), "current-1"}, {at(current, "iban"), "GB57DEMO40400410000001"}, {at(current, "currency"), "EUR"},
			{at(current, "name"), "Current account"}, {at(current, "product"), "Current account"}, {at(current, "cashAccountType"), "CACC"},
			{at(current, "status"), "enabled"}, {at(current, "ownerName"), enginetest.AdminUsername},
			{at(current, "_links", "balances", "href"), "/psd2/v1/accounts/current-1/balances"},
			{at(current, "_links", "transactions", "href"), "/psd2/v1/accounts/current-1/transactions"},
			{at(accounts[1], "cashAccountType"), "SVGS"},
		} {
			if c.got != c.want {
				t.Errorf("account member %v; want %s", c.got, c.want)
			}
		}
		if at(current, "balances") != nil {
			t.Errorf("balances without withBalance: %v", current)
		}
		withBalance := at(get(t, "getAccountList", "/v1/accounts?withBalance=true"), "accounts", 0, "balances").([]any)
		if len(withBalance) != 2 || at(withBalance[0], "balanceAmount", "amount") != "2325.00" {
			t.Errorf("balances with the list: %v", withBalance)
		}
		one := get(t, "readAccountDetails", "/v1/accounts/savings-1")
		if at(one, "account", "resourceId") != "savings-1" || at(one, "account", "iban") != "GB30DEMO40400410000002" {
			t.Errorf("one account: %v", one)
		}
	})

	t.Run("balances", func(t *testing.T) {
		got := get(t, "getBalances", "/v1/accounts/current-1/balances")
		balances := at(got, "balances").([]any)
		if at(got, "account", "iban") != "GB57DEMO40400410000001" || len(balances) != 2 ||
			at(balances[0], "balanceType") != "closingBooked" || at(balances[1], "balanceType") != "interimAvailable" ||
			at(balances[1], "balanceAmount", "amount") != "2325.00" || at(balances[1], "balanceAmount", "currency") != "EUR" {
			t.Errorf("balances: %v", got)
		}
	})

	t.Run("transactions", func(t *testing.T) {
		got := get(t, "getTransactionList", "/v1/accounts/current-1/transactions?bookingStatus=booked")
		booked := at(got, "transactions", "booked").([]any)
		last := booked[0]
		for _, c := range []struct {
			got  any
			want string
		}{
			{at(got, "account", "iban"), "GB57DEMO40400410000001"},
			{at(got, "transactions", "_links", "account", "href"), "/psd2/v1/accounts/current-1"},
			{at(last, "transactionId"), paid}, {at(last, "transactionAmount", "amount"), "-25.00"},
			{at(last, "creditorName"), "Savings account"}, {at(last, "creditorAccount", "iban"), "GB30DEMO40400410000002"},
			{at(last, "remittanceInformationUnstructured"), "test"}, {at(last, "bookingDate"), time.Now().UTC().Format(time.DateOnly)},
			{at(last, "balanceAfterTransaction", "balanceAmount", "amount"), "2325.00"},
		} {
			if c.got != c.want {
				t.Errorf("transaction member %v; want %s", c.got, c.want)
			}
		}
		credit := at(get(t, "getTransactionList", "/v1/accounts/savings-1/transactions?bookingStatus=both"), "transactions", "booked", 0)
		if at(credit, "transactionAmount", "amount") != "25.00" || at(credit, "debtorAccount", "iban") != "GB57DEMO40400410000001" {
			t.Errorf("the payment on savings-1: %v", credit)
		}
		today, tomorrow := time.Now().UTC().Format(time.DateOnly), time.Now().UTC().AddDate(0, 0, 1).Format(time.DateOnly)
		for _, tc := range []struct {
			name, query string
			booked      int
		}{
			{"from today", "bookingStatus=booked&dateFrom=" + today, len(booked)},
			{"until today", "bookingStatus=booked&dateTo=" + today, len(booked)},
			{"from tomorrow", "bookingStatus=booked&dateFrom=" + tomorrow, 0},
			{"pending only", "bookingStatus=pending", 0},
		} {
			t.Run(tc.name, func(t *testing.T) {
				got := get(t, "getTransactionList", "/v1/accounts/current-1/transactions?"+tc.query)
				if n := len(at(got, "transactions", "booked").([]any)); n != tc.booked {
					t.Errorf("%d booked; want %d", n, tc.booked)
				}
			})
		}
	})

	t.Run("one transaction", func(t *testing.T) {
		got := at(get(t, "getTransactionDetails", "/v1/accounts/current-1/transactions/"+paid), "transactionsDetails")
		if at(got, "transactionId") != paid || at(got, "transactionAmount", "amount") != "-25.00" {
			t.Errorf("the payment: %v", got)
		}
	})

	for _, path := range []string{"/v1/accounts/no-such-account/balances", "/v1/accounts/current-1/transactions/no-such-transaction"} {
		t.Run("not found: "+path, func(t *testing.T) {
			r := inst.Admin().Send(t, enginetest.Request{Method: http.MethodGet, Path: "/psd2" + path, Header: headers})
			if r.Status != http.StatusNotFound {
				t.Errorf("%d %s", r.Status, r.Body)
			}
		})
	}
}
