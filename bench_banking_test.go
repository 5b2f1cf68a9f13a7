package dynapi_test

import "testing"

// BenchmarkBankingCore answers banking routes on the mapped connector: the
// public bank list, a holder's account list and one account (read by the
// holder rule, then answered), a page of transactions, and a payment
// refused for an unknown body member.
func BenchmarkBankingCore(b *testing.B) {
	inst := open(b, "")
	alice, _, _, _ := bankWithAccounts(b, inst, "gh.29.uk")
	pay(b, inst, alice, "gh.29.uk", "alice-1", "bob-1", "1.00", "")
	handler := inst.Server.App().Handler()
	account := "/banks/gh.29.uk/accounts/alice-1"
	for _, tc := range []benchCase{
		{"GET banks", request{method: "GET", path: "/banks"}, 200},
		{"GET accounts as holder", request{method: "GET", path: "/banks/gh.29.uk/accounts", headers: as(alice)}, 200},
		{"GET account as holder", request{method: "GET", path: account, headers: as(alice)}, 200},
		{"GET transactions", request{method: "GET", path: account + "/transactions?limit=10", headers: as(alice)}, 200},
		{"POST payment invalid", request{method: "POST", path: account + "/transaction-requests", headers: as(alice),
			body: []byte(`{"to":{"bank_id":"gh.29.uk","account_id":"bob-1"},"value":{"currency":"EUR","amount":"1.00"},"colour":"red"}`)}, 400},
	} {
		runBench(b, handler, tc)
	}
}
