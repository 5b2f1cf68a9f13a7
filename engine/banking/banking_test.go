package banking_test

import (
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/dynapi/dynapi/internal/enginetest"
)

// TestBankingCore walks the built-in banking routes on the mapped
// connector: banks, accounts by holder, guards, transactions, payments with
// funds checks and idempotency keys, counterparties, and a user's
// shareable and payable accounts.
func TestBankingCore(t *testing.T) {
	inst := enginetest.New(t)
	alice, bob, _, bobID := inst.BankWithAccounts(t, "gh.29.uk")

	t.Run("banks are public", func(t *testing.T) {
		r := inst.Anonymous().Get(t, "/banks")
		if r.Status != http.StatusOK || !strings.Contains(string(r.Body), `"bank_id":"gh.29.uk"`) {
			t.Fatalf("GET /banks: %d %s", r.Status, r.Body)
		}
		if r := inst.Anonymous().Get(t, "/banks/gh.29.uk"); r.JSON(t)["full_name"] != "Bank gh.29.uk" {
			t.Fatalf("GET /banks/gh.29.uk: %s", r.Body)
		}
		if r := inst.Anonymous().Get(t, "/banks/nope"); r.Status != http.StatusNotFound {
			t.Fatalf("unknown bank: %d %s", r.Status, r.Body)
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
				caller := inst.Anonymous()
				if c.token != "" {
					caller = inst.Token(c.token)
				}
				r := caller.Get(t, c.path)
				if r.Status != c.status {
					t.Fatalf("status %d, want %d: %s", r.Status, c.status, r.Body)
				}
				if c.status == http.StatusForbidden && !slices.Contains(r.Problem(t).MissingRoles, "CanGetAccountsHeldAtOneBank") {
					t.Fatalf("403 does not name the missing role: %s", r.Body)
				}
			})
		}
	})

	t.Run("accounts list only the caller's unless a role says otherwise", func(t *testing.T) {
		ids := func(token string) []string {
			caller := inst.Admin()
			if token != "" {
				caller = inst.Token(token)
			}
			r := caller.Get(t, "/banks/gh.29.uk/accounts")
			var out []string
			for _, a := range r.JSON(t)["accounts"].([]any) {
				out = append(out, a.(map[string]any)["account_id"].(string))
			}
			return out
		}
		if got := ids(alice); !slices.Equal(got, []string{"alice-1"}) {
			t.Fatalf("alice sees %v", got)
		}
		inst.Grant(t, bobID, "gh.29.uk", "CanGetAccountsHeldAtOneBank")
		if got := ids(bob); !slices.Equal(got, []string{"alice-1", "bob-1"}) {
			t.Fatalf("bob with CanGetAccountsHeldAtOneBank sees %v", got)
		}
	})

	t.Run("payments", func(t *testing.T) {
		first := inst.Pay(t, alice, "gh.29.uk", "alice-1", "bob-1", "30.00", "key-1")
		if first.Status != http.StatusCreated || first.JSON(t)["status"] != "COMPLETED" {
			t.Fatalf("pay: %d %s", first.Status, first.Body)
		}
		again := inst.Pay(t, alice, "gh.29.uk", "alice-1", "bob-1", "30.00", "key-1")
		if again.Status != http.StatusCreated || again.JSON(t)["transaction_request_id"] != first.JSON(t)["transaction_request_id"] {
			t.Fatalf("repeated key answered %d %s, want the first payment %s", again.Status, again.Body, first.Body)
		}
		if r := inst.Pay(t, alice, "gh.29.uk", "alice-1", "bob-1", "31.00", "key-1"); r.Status != http.StatusUnprocessableEntity ||
			r.Problem(t).Code != "idempotency_key_reused" {
			t.Fatalf("key reused with another body: %d %s", r.Status, r.Body)
		}
		if r := inst.Pay(t, alice, "gh.29.uk", "alice-1", "bob-1", "1000.00", ""); r.Status != http.StatusUnprocessableEntity ||
			r.Problem(t).Code != "insufficient_funds" {
			t.Fatalf("overdraft: %d %s", r.Status, r.Body)
		}
		if r := inst.Pay(t, bob, "gh.29.uk", "alice-1", "bob-1", "1.00", ""); r.Status != http.StatusForbidden ||
			!slices.Contains(r.Problem(t).MissingRoles, "CanCreateAnyTransactionRequest") {
			t.Fatalf("paying from someone else's account: %d %s", r.Status, r.Body)
		}
		if got := inst.BalanceOf(t, alice, "gh.29.uk", "alice-1"); got != "70.00" {
			t.Fatalf("alice's balance %s, want 70.00 (paid once)", got)
		}
		if got := inst.BalanceOf(t, bob, "gh.29.uk", "bob-1"); got != "30.00" {
			t.Fatalf("bob's balance %s, want 30.00", got)
		}
	})

	t.Run("transactions page newest first", func(t *testing.T) {
		r := inst.Token(alice).Get(t, "/banks/gh.29.uk/accounts/alice-1/transactions")
		txs := r.JSON(t)["transactions"].([]any)
		if len(txs) != 2 {
			t.Fatalf("alice has %d transactions, want 2 (opening balance, payment): %s", len(txs), r.Body)
		}
		if amt := txs[0].(map[string]any)["amount"].(map[string]any)["amount"]; amt != "-30.00" {
			t.Fatalf("newest transaction %v, want the -30.00 debit", amt)
		}
		page := inst.Token(alice).Get(t, "/banks/gh.29.uk/accounts/alice-1/transactions?limit=1&offset=1")
		got := page.JSON(t)["transactions"].([]any)
		if len(got) != 1 || got[0].(map[string]any)["type"] != "OPENING_BALANCE" {
			t.Fatalf("second page: %s", page.Body)
		}
		future := inst.Token(alice).Get(t, "/banks/gh.29.uk/accounts/alice-1/transactions?from_date=2999-01-01")
		if n := len(future.JSON(t)["transactions"].([]any)); n != 0 {
			t.Fatalf("transactions from 2999: %d", n)
		}
		if bad := inst.Token(alice).Get(t, "/banks/gh.29.uk/accounts/alice-1/transactions?from_date=yesterday"); bad.Status != http.StatusBadRequest ||
			!enginetest.HasViolation(bad.Problem(t), "query", "/from_date", "anyOf") {
			t.Fatalf("bad date: %d %s", bad.Status, bad.Body)
		}
	})

	t.Run("counterparties", func(t *testing.T) {
		r := inst.Token(alice).Send(t, enginetest.Request{Method: "POST", Path: "/banks/gh.29.uk/accounts/alice-1/counterparties", Header: enginetest.JSONHeader(),
			Body: enginetest.MustJSON(t, map[string]any{"name": "Bob", "other_bank_id": "gh.29.uk", "other_account_id": "bob-1"})})
		if r.Status != http.StatusCreated {
			t.Fatalf("create counterparty: %d %s", r.Status, r.Body)
		}
		id := r.JSON(t)["counterparty_id"].(string)
		if got := inst.Token(alice).Get(t, "/banks/gh.29.uk/accounts/alice-1/counterparties/"+id); got.JSON(t)["name"] != "Bob" {
			t.Fatalf("get counterparty: %s", got.Body)
		}
		paid := inst.Token(alice).Send(t, enginetest.Request{Method: "POST", Path: "/banks/gh.29.uk/accounts/alice-1/transaction-requests", Header: enginetest.JSONHeader(),
			Body: enginetest.MustJSON(t, map[string]any{"counterparty_id": id, "value": map[string]string{"currency": "EUR", "amount": "5.00"}})})
		if paid.Status != http.StatusCreated {
			t.Fatalf("pay a counterparty: %d %s", paid.Status, paid.Body)
		}
		if got := inst.BalanceOf(t, bob, "gh.29.uk", "bob-1"); got != "35.00" {
			t.Fatalf("bob's balance %s after the counterparty payment, want 35.00", got)
		}
	})

	t.Run("shareable and payable accounts", func(t *testing.T) {
		for _, path := range []string{"/my/accounts", "/my/payable-accounts"} {
			r := inst.Token(bob).Get(t, path)
			accounts := r.JSON(t)["accounts"].([]any)
			if len(accounts) != 1 || accounts[0].(map[string]any)["account_id"] != "bob-1" {
				t.Fatalf("%s for bob: %s", path, r.Body)
			}
		}
	})
}

// TestConcurrentPaymentsOverHTTP pays from one account concurrently: the
// funds check and both postings are one transaction, so exactly as many
// payments as the balance covers go through.
func TestConcurrentPaymentsOverHTTP(t *testing.T) {
	inst := enginetest.New(t)
	alice, bob, _, _ := inst.BankWithAccounts(t, "gh.29.uk")
	var wg sync.WaitGroup
	statuses := make(chan int, 25)
	for range 25 {
		wg.Go(func() { statuses <- inst.Pay(t, alice, "gh.29.uk", "alice-1", "bob-1", "10.00", "").Status })
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
	if got := inst.BalanceOf(t, alice, "gh.29.uk", "alice-1"); got != "0.00" {
		t.Fatalf("alice's balance %s, want 0.00", got)
	}
	if got := inst.BalanceOf(t, bob, "gh.29.uk", "bob-1"); got != "100.00" {
		t.Fatalf("bob's balance %s, want 100.00", got)
	}
}
