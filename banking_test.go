package dynapi_test

import (
	"net/http"
	"slices"
	"sync"
	"testing"

	"github.com/dynapi/dynapi"
)

// openAccount opens an account through the banking core as the super
// admin, who is granted CanCreateAccount at the bank first.
func openAccount(t testing.TB, inst *dynapi.Instance, bankID, accountID, userID, balance string) {
	t.Helper()
	r := do(t, inst, request{method: "POST", path: "/banks/" + bankID + "/accounts", headers: jsonHeaders(),
		body: mustJSON(t, map[string]any{"account_id": accountID, "currency": "EUR", "label": accountID,
			"balance": map[string]string{"currency": "EUR", "amount": balance}, "owners": []map[string]string{{"user_id": userID}}})})
	if r.status != http.StatusCreated {
		t.Fatalf("open account %s: %d %s", accountID, r.status, r.body)
	}
}

// bankWithAccounts makes a bank where alice holds "alice-1" (100.00 EUR)
// and bob holds "bob-1" (0), and returns their tokens and ids.
func bankWithAccounts(t testing.TB, inst *dynapi.Instance, bankID string) (alice, bob, aliceID, bobID string) {
	t.Helper()
	createBank(t, inst, bankID)
	aliceID = createUser(t, inst, "alice", "Alice-passw0rd-long")
	bobID = createUser(t, inst, "bob", "Bob-passw0rd-long-1")
	grantSelf(t, inst, bankID, "CanCreateAccount")
	openAccount(t, inst, bankID, "alice-1", aliceID, "100.00")
	openAccount(t, inst, bankID, "bob-1", bobID, "0")
	return login(t, inst, "alice", "Alice-passw0rd-long"), login(t, inst, "bob", "Bob-passw0rd-long-1"), aliceID, bobID
}

// grantSelf grants the super admin a role at a bank.
func grantSelf(t testing.TB, inst *dynapi.Instance, bankID, role string) {
	t.Helper()
	me := do(t, inst, request{method: "GET", path: "/my/user"}).json(t)
	grant(t, inst, me["user_id"].(string), bankID, role)
}

func balanceOf(t testing.TB, inst *dynapi.Instance, token, bankID, accountID string) string {
	t.Helper()
	r := do(t, inst, request{method: "GET", path: "/banks/" + bankID + "/accounts/" + accountID, headers: as(token)})
	if r.status != http.StatusOK {
		t.Fatalf("get account %s: %d %s", accountID, r.status, r.body)
	}
	return r.json(t)["balance"].(map[string]any)["amount"].(string)
}

func pay(t testing.TB, inst *dynapi.Instance, token, bankID, from, to, amount, key string) response {
	t.Helper()
	h := as(token)
	if key != "" {
		h["Idempotency-Key"] = key
	}
	return do(t, inst, request{method: "POST", path: "/banks/" + bankID + "/accounts/" + from + "/transaction-requests", headers: h,
		body: mustJSON(t, map[string]any{"to": map[string]string{"bank_id": bankID, "account_id": to},
			"value": map[string]string{"currency": "EUR", "amount": amount}, "description": "test"})})
}

// TestBankingCore walks the built-in banking routes on the mapped
// connector: banks, accounts by holder, guards, transactions, payments with
// funds checks and idempotency keys, counterparties, and a user's
// shareable and payable accounts.
func TestBankingCore(t *testing.T) {
	inst := open(t, "")
	alice, bob, _, bobID := bankWithAccounts(t, inst, "gh.29.uk")

	t.Run("banks are public", func(t *testing.T) {
		r := do(t, inst, request{method: "GET", path: "/banks", anonymous: true})
		if r.status != http.StatusOK || !contains(string(r.body), `"bank_id":"gh.29.uk"`) {
			t.Fatalf("GET /banks: %d %s", r.status, r.body)
		}
		if r := do(t, inst, request{method: "GET", path: "/banks/gh.29.uk", anonymous: true}); r.json(t)["full_name"] != "Bank gh.29.uk" {
			t.Fatalf("GET /banks/gh.29.uk: %s", r.body)
		}
		if r := do(t, inst, request{method: "GET", path: "/banks/nope", anonymous: true}); r.status != http.StatusNotFound {
			t.Fatalf("unknown bank: %d %s", r.status, r.body)
		}
	})

	t.Run("guards", func(t *testing.T) {
		for _, c := range []struct {
			name, path, token string
			status            int
		}{
			{"no credentials", "/banks/gh.29.uk/accounts", "", http.StatusUnauthorized},
			{"not the holder", "/banks/gh.29.uk/accounts/alice-1", bob, http.StatusForbidden},
			{"not the holder's transactions", "/banks/gh.29.uk/accounts/alice-1/transactions", bob, http.StatusForbidden},
			{"holder", "/banks/gh.29.uk/accounts/alice-1", alice, http.StatusOK},
			{"unknown account", "/banks/gh.29.uk/accounts/nope", alice, http.StatusNotFound},
		} {
			t.Run(c.name, func(t *testing.T) {
				req := request{method: "GET", path: c.path, anonymous: c.token == ""}
				if c.token != "" {
					req.headers = as(c.token)
				}
				r := do(t, inst, req)
				if r.status != c.status {
					t.Fatalf("status %d, want %d: %s", r.status, c.status, r.body)
				}
				if c.status == http.StatusForbidden && !slices.Contains(r.problem(t).MissingRoles, "CanGetAccountsHeldAtOneBank") {
					t.Fatalf("403 does not name the missing role: %s", r.body)
				}
			})
		}
	})

	t.Run("accounts list only the caller's unless a role says otherwise", func(t *testing.T) {
		ids := func(token string) []string {
			h := map[string]string{}
			if token != "" {
				h = as(token)
			}
			r := do(t, inst, request{method: "GET", path: "/banks/gh.29.uk/accounts", headers: h})
			var out []string
			for _, a := range r.json(t)["accounts"].([]any) {
				out = append(out, a.(map[string]any)["account_id"].(string))
			}
			return out
		}
		if got := ids(alice); !slices.Equal(got, []string{"alice-1"}) {
			t.Fatalf("alice sees %v", got)
		}
		grant(t, inst, bobID, "gh.29.uk", "CanGetAccountsHeldAtOneBank")
		if got := ids(bob); !slices.Equal(got, []string{"alice-1", "bob-1"}) {
			t.Fatalf("bob with CanGetAccountsHeldAtOneBank sees %v", got)
		}
	})

	t.Run("payments", func(t *testing.T) {
		first := pay(t, inst, alice, "gh.29.uk", "alice-1", "bob-1", "30.00", "key-1")
		if first.status != http.StatusCreated || first.json(t)["status"] != "COMPLETED" {
			t.Fatalf("pay: %d %s", first.status, first.body)
		}
		again := pay(t, inst, alice, "gh.29.uk", "alice-1", "bob-1", "30.00", "key-1")
		if again.status != http.StatusCreated || again.json(t)["transaction_request_id"] != first.json(t)["transaction_request_id"] {
			t.Fatalf("repeated key answered %d %s, want the first payment %s", again.status, again.body, first.body)
		}
		if r := pay(t, inst, alice, "gh.29.uk", "alice-1", "bob-1", "31.00", "key-1"); r.status != http.StatusUnprocessableEntity ||
			r.problem(t).Code != "idempotency_key_reused" {
			t.Fatalf("key reused with another body: %d %s", r.status, r.body)
		}
		if r := pay(t, inst, alice, "gh.29.uk", "alice-1", "bob-1", "1000.00", ""); r.status != http.StatusUnprocessableEntity ||
			r.problem(t).Code != "insufficient_funds" {
			t.Fatalf("overdraft: %d %s", r.status, r.body)
		}
		if r := pay(t, inst, bob, "gh.29.uk", "alice-1", "bob-1", "1.00", ""); r.status != http.StatusForbidden ||
			!slices.Contains(r.problem(t).MissingRoles, "CanCreateAnyTransactionRequest") {
			t.Fatalf("paying from someone else's account: %d %s", r.status, r.body)
		}
		if got := balanceOf(t, inst, alice, "gh.29.uk", "alice-1"); got != "70.00" {
			t.Fatalf("alice's balance %s, want 70.00 (paid once)", got)
		}
		if got := balanceOf(t, inst, bob, "gh.29.uk", "bob-1"); got != "30.00" {
			t.Fatalf("bob's balance %s, want 30.00", got)
		}
	})

	t.Run("transactions page newest first", func(t *testing.T) {
		r := do(t, inst, request{method: "GET", path: "/banks/gh.29.uk/accounts/alice-1/transactions", headers: as(alice)})
		txs := r.json(t)["transactions"].([]any)
		if len(txs) != 2 {
			t.Fatalf("alice has %d transactions, want 2 (opening balance, payment): %s", len(txs), r.body)
		}
		if amt := txs[0].(map[string]any)["amount"].(map[string]any)["amount"]; amt != "-30.00" {
			t.Fatalf("newest transaction %v, want the -30.00 debit", amt)
		}
		page := do(t, inst, request{method: "GET", path: "/banks/gh.29.uk/accounts/alice-1/transactions?limit=1&offset=1", headers: as(alice)})
		got := page.json(t)["transactions"].([]any)
		if len(got) != 1 || got[0].(map[string]any)["type"] != "OPENING_BALANCE" {
			t.Fatalf("second page: %s", page.body)
		}
		future := do(t, inst, request{method: "GET", path: "/banks/gh.29.uk/accounts/alice-1/transactions?from_date=2999-01-01", headers: as(alice)})
		if n := len(future.json(t)["transactions"].([]any)); n != 0 {
			t.Fatalf("transactions from 2999: %d", n)
		}
		if bad := do(t, inst, request{method: "GET", path: "/banks/gh.29.uk/accounts/alice-1/transactions?from_date=yesterday", headers: as(alice)}); bad.status != http.StatusBadRequest ||
			!hasViolation(bad.problem(t), "query", "/from_date", "anyOf") {
			t.Fatalf("bad date: %d %s", bad.status, bad.body)
		}
	})

	t.Run("counterparties", func(t *testing.T) {
		r := do(t, inst, request{method: "POST", path: "/banks/gh.29.uk/accounts/alice-1/counterparties", headers: as(alice),
			body: mustJSON(t, map[string]any{"name": "Bob", "other_bank_id": "gh.29.uk", "other_account_id": "bob-1"})})
		if r.status != http.StatusCreated {
			t.Fatalf("create counterparty: %d %s", r.status, r.body)
		}
		id := r.json(t)["counterparty_id"].(string)
		if got := do(t, inst, request{method: "GET", path: "/banks/gh.29.uk/accounts/alice-1/counterparties/" + id, headers: as(alice)}); got.json(t)["name"] != "Bob" {
			t.Fatalf("get counterparty: %s", got.body)
		}
		paid := do(t, inst, request{method: "POST", path: "/banks/gh.29.uk/accounts/alice-1/transaction-requests", headers: as(alice),
			body: mustJSON(t, map[string]any{"counterparty_id": id, "value": map[string]string{"currency": "EUR", "amount": "5.00"}})})
		if paid.status != http.StatusCreated {
			t.Fatalf("pay a counterparty: %d %s", paid.status, paid.body)
		}
		if got := balanceOf(t, inst, bob, "gh.29.uk", "bob-1"); got != "35.00" {
			t.Fatalf("bob's balance %s after the counterparty payment, want 35.00", got)
		}
	})

	t.Run("shareable and payable accounts", func(t *testing.T) {
		for _, path := range []string{"/my/accounts", "/my/payable-accounts"} {
			r := do(t, inst, request{method: "GET", path: path, headers: as(bob)})
			accounts := r.json(t)["accounts"].([]any)
			if len(accounts) != 1 || accounts[0].(map[string]any)["account_id"] != "bob-1" {
				t.Fatalf("%s for bob: %s", path, r.body)
			}
		}
	})
}

// TestConcurrentPaymentsOverHTTP pays from one account concurrently: the
// funds check and both postings are one transaction, so exactly as many
// payments as the balance covers go through.
func TestConcurrentPaymentsOverHTTP(t *testing.T) {
	inst := open(t, "")
	alice, bob, _, _ := bankWithAccounts(t, inst, "gh.29.uk")
	var wg sync.WaitGroup
	statuses := make(chan int, 25)
	for range 25 {
		wg.Go(func() { statuses <- pay(t, inst, alice, "gh.29.uk", "alice-1", "bob-1", "10.00", "").status })
	}
	wg.Wait()
	close(statuses)
	count := map[int]int{}
	for s := range statuses {
		count[s]++
	}
	if count[http.StatusCreated] != 10 || count[http.StatusUnprocessableEntity] != 15 {
		t.Fatalf("statuses %v, want 10 paid and 15 refused", count)
	}
	if got := balanceOf(t, inst, alice, "gh.29.uk", "alice-1"); got != "0.00" {
		t.Fatalf("alice's balance %s, want 0.00", got)
	}
	if got := balanceOf(t, inst, bob, "gh.29.uk", "bob-1"); got != "100.00" {
		t.Fatalf("bob's balance %s, want 100.00", got)
	}
}
