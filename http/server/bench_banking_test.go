package server_test

import (
	"testing"

	"github.com/dynapi/dynapi/internal/enginetest"
)

// BenchmarkBankingCore answers banking routes on the mapped connector: the
// public bank list, a holder's account list and one account (read by the
// holder rule, then answered), a page of transactions, and a payment
// refused for an unknown body member.
func BenchmarkBankingCore(b *testing.B) {
	inst := enginetest.New(b)
	alice, _, _, _ := inst.BankWithAccounts(b, "gh.29.uk")
	inst.Pay(b, alice, "gh.29.uk", "alice-1", "bob-1", "1.00", "")
	handler := inst.Server.App().Handler()
	account := "/banks/gh.29.uk/accounts/alice-1"
	holder := map[string]string{"Authorization": enginetest.DirectLogin(alice), "Content-Type": "application/json"}
	for _, tc := range []benchCase{
		{"GET banks", enginetest.Request{Method: "GET", Path: "/banks"}, 200},
		{"GET accounts as holder", enginetest.Request{Method: "GET", Path: "/banks/gh.29.uk/accounts", Header: holder}, 200},
		{"GET account as holder", enginetest.Request{Method: "GET", Path: account, Header: holder}, 200},
		{"GET transactions", enginetest.Request{Method: "GET", Path: account + "/transactions?limit=10", Header: holder}, 200},
		{"POST payment invalid", enginetest.Request{Method: "POST", Path: account + "/transaction-requests", Header: holder,
			Body: []byte(`{"to":{"bank_id":"gh.29.uk","account_id":"bob-1"},"value":{"currency":"EUR","amount":"1.00"},"colour":"red"}`)}, 400},
	} {
		runBench(b, handler, tc)
	}
}
