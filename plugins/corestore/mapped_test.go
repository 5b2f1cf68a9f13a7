package corestore

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/dynapi/dynapi/engine"
	"github.com/dynapi/dynapi/engine/banking"
	"github.com/dynapi/dynapi/engine/connector"
)

func TestPrepare(t *testing.T) {
	c := New(nil, testBanks())
	t.Run("every built-in method", func(t *testing.T) {
		var names []string
		for _, m := range banking.Methods() {
			names = append(names, m.Name)
			inv, err := c.Prepare(m, nil)
			if err != nil || inv == nil {
				t.Fatalf("Prepare(%s) = %v, %v", m.Name, inv, err)
			}
			if _, err := c.Prepare(m, connector.Params{}); err != nil {
				t.Fatalf("Prepare(%s) with empty params: %v", m.Name, err)
			}
		}
		if got := c.Methods(); !slices.Equal(got, names) {
			t.Fatalf("Methods() = %v, want %v", got, names)
		}
	})
	t.Run("parameters refused", func(t *testing.T) {
		_, err := c.Prepare(&connector.Method{Name: banking.GetBank}, connector.Params{"url": "x", "b": "y"})
		e := wantError(t, err, http.StatusBadRequest, engine.CodeBadRequest, "/parameters")
		if !strings.Contains(e.Message, `"b"`) {
			t.Fatalf("message does not name the parameter: %s", e.Message)
		}
	})
	t.Run("unknown method", func(t *testing.T) {
		_, err := c.Prepare(&connector.Method{Name: "getNothing", Dynamic: true}, nil)
		e := wantError(t, err, http.StatusBadRequest, engine.CodeBadRequest, "/method_name")
		if !strings.Contains(e.Message, "mapped connector does not implement method getNothing") {
			t.Fatalf("message: %s", e.Message)
		}
	})
	t.Run("nil method", func(t *testing.T) {
		_, err := c.Prepare(nil, nil)
		wantError(t, err, http.StatusBadRequest, engine.CodeBadRequest)
	})
	t.Run("Methods is a copy", func(t *testing.T) {
		c.Methods()[0] = "x"
		if c.Methods()[0] != banking.GetBanks {
			t.Fatal("Methods shares its slice")
		}
	})
}

// fixture: alice holds gh.29.uk/alice-1 (100.00 EUR) and the closed
// gh.29.uk/alice-old, and other.bank/alice-2; bob holds gh.29.uk/bob-1
// (0 EUR); alice-1 saved bob-1 as a counterparty.
type fixture struct {
	*env
	cpID string
}

func newFixture(t *testing.T) *fixture {
	e := newEnv(t)
	e.open(t, "gh.29.uk", "alice-1", "EUR", "100.00", "", "alice")
	e.open(t, "gh.29.uk", "bob-1", "EUR", "", "", "bob")
	e.open(t, "gh.29.uk", "alice-old", "EUR", "0", StatusClosed, "alice")
	e.open(t, "other.bank", "alice-2", "GBP", "5", "", "alice")
	cp, err := e.c.CreateCounterparty(context.Background(), "gh.29.uk", "alice-1",
		banking.Counterparty{Name: "Bob", OtherBankID: "gh.29.uk", OtherAccountID: "bob-1"})
	if err != nil {
		t.Fatal(err)
	}
	return &fixture{env: e, cpID: cp.CounterpartyID}
}

// TestMethodsThroughInvokers calls every method through Prepare and
// Invoke, once with Go values as the built-in routes pass them and once
// with decoded JSON as scripts pass them.
func TestMethodsThroughInvokers(t *testing.T) {
	alice := &engine.Call{Principal: &engine.Principal{UserID: "alice"}}
	tests := []struct {
		method string
		args   func(f *fixture) []any
		check  func(t *testing.T, f *fixture, data any)
	}{
		{banking.GetBanks, func(*fixture) []any { return nil }, func(t *testing.T, _ *fixture, data any) {
			banks := data.([]banking.Bank)
			if len(banks) != 2 || banks[0].BankID != "gh.29.uk" || banks[1].BankID != "other.bank" ||
				banks[0].FullName != "Demo Bank plc" || banks[1].Logo == "" || banks[0].BankRoutings != nil {
				t.Fatalf("banks %+v", banks)
			}
		}},
		{banking.GetBank, func(*fixture) []any { return []any{"other.bank"} }, func(t *testing.T, _ *fixture, data any) {
			if b := data.(banking.Bank); b.BankID != "other.bank" || b.ShortName != "Other" {
				t.Fatalf("bank %+v", b)
			}
		}},
		{banking.GetAccounts, func(*fixture) []any { return []any{"gh.29.uk", ""} }, func(t *testing.T, _ *fixture, data any) {
			if got := accountIDs(data.([]banking.Account)); !slices.Equal(got, []string{"gh.29.uk/alice-1", "gh.29.uk/alice-old", "gh.29.uk/bob-1"}) {
				t.Fatalf("accounts %v", got)
			}
		}},
		{banking.GetAccounts, func(*fixture) []any { return []any{"gh.29.uk", "alice"} }, func(t *testing.T, _ *fixture, data any) {
			if got := accountIDs(data.([]banking.Account)); !slices.Equal(got, []string{"gh.29.uk/alice-1", "gh.29.uk/alice-old"}) {
				t.Fatalf("alice's accounts %v", got)
			}
		}},
		{banking.GetAccount, func(*fixture) []any { return []any{"gh.29.uk", "alice-1"} }, func(t *testing.T, _ *fixture, data any) {
			acc := data.(banking.Account)
			if acc.Balance != (banking.Amount{Currency: "EUR", Amount: "100.00"}) || acc.Status != StatusActive ||
				acc.Owners[0].UserID != "alice" || acc.CreatedAt.IsZero() || acc.BankID != "gh.29.uk" {
				t.Fatalf("account %+v", acc)
			}
		}},
		{banking.CreateBankAccount, func(*fixture) []any {
			return []any{"gh.29.uk", banking.Account{AccountID: "new-1", Currency: "JPY", Label: "Yen",
				Balance: banking.Amount{Currency: "JPY", Amount: "1500"}, Owners: []banking.Owner{{UserID: "carol", Username: "carol"}}}}
		}, func(t *testing.T, f *fixture, data any) {
			acc := data.(banking.Account)
			if acc.AccountID != "new-1" || acc.BankID != "gh.29.uk" || acc.Balance.Amount != "1500" || acc.Status != StatusActive {
				t.Fatalf("created %+v", acc)
			}
			if got := f.checkLedger(t, "gh.29.uk", "new-1"); got != "1500" {
				t.Fatalf("balance %s", got)
			}
		}},
		{banking.GetTransactions, func(*fixture) []any {
			return []any{"gh.29.uk", "alice-1", banking.TransactionQuery{Limit: 1}}
		}, func(t *testing.T, _ *fixture, data any) {
			txs := data.([]banking.Transaction)
			if len(txs) != 1 || txs[0].Type != TypeOpeningBalance || txs[0].Amount.Amount != "100.00" {
				t.Fatalf("transactions %+v", txs)
			}
		}},
		{banking.GetCounterparties, func(*fixture) []any { return []any{"gh.29.uk", "alice-1"} }, func(t *testing.T, f *fixture, data any) {
			cps := data.([]banking.Counterparty)
			if len(cps) != 1 || cps[0].CounterpartyID != f.cpID || cps[0].Name != "Bob" {
				t.Fatalf("counterparties %+v", cps)
			}
		}},
		{banking.GetCounterparty, func(f *fixture) []any { return []any{"gh.29.uk", "alice-1", f.cpID} }, func(t *testing.T, _ *fixture, data any) {
			if cp := data.(banking.Counterparty); cp.OtherAccountID != "bob-1" || cp.AccountID != "alice-1" {
				t.Fatalf("counterparty %+v", cp)
			}
		}},
		{banking.CreateCounterparty, func(*fixture) []any {
			return []any{"gh.29.uk", "bob-1", banking.Counterparty{Name: "Landlord", Description: "rent",
				OtherRoutings: []banking.Routing{{Scheme: "IBAN", Address: "DE89370400440532013000"}}}}
		}, func(t *testing.T, f *fixture, data any) {
			cp := data.(banking.Counterparty)
			if cp.CounterpartyID == "" || cp.BankID != "gh.29.uk" || cp.AccountID != "bob-1" || cp.Name != "Landlord" ||
				len(cp.OtherRoutings) != 1 || cp.CreatedAt.IsZero() {
				t.Fatalf("created %+v", cp)
			}
			got, err := f.c.Counterparty(context.Background(), "gh.29.uk", "bob-1", cp.CounterpartyID)
			if err != nil || got.Name != "Landlord" {
				t.Fatalf("stored %+v, %v", got, err)
			}
		}},
		{banking.CreateTransactionRequest, func(*fixture) []any {
			return []any{"gh.29.uk", "alice-1", "key-1", pay("bob-1", "10")}
		}, func(t *testing.T, f *fixture, data any) {
			tr := data.(banking.TransactionRequest)
			if tr.Status != StatusCompleted || tr.CreatedBy != "alice" || tr.Value.Amount != "10.00" || tr.Type != TypeAccount ||
				len(tr.TransactionIDs) != 2 {
				t.Fatalf("transaction request %+v", tr)
			}
			if a, b := f.checkLedger(t, "gh.29.uk", "alice-1"), f.checkLedger(t, "gh.29.uk", "bob-1"); a != "90.00" || b != "10.00" {
				t.Fatalf("balances %s, %s", a, b)
			}
		}},
		{banking.CreateTransactionRequest, func(f *fixture) []any {
			return []any{"gh.29.uk", "alice-1", "", banking.TransactionRequestBody{CounterpartyID: f.cpID,
				Value: banking.Amount{Currency: "EUR", Amount: "2.50"}}}
		}, func(t *testing.T, f *fixture, data any) {
			tr := data.(banking.TransactionRequest)
			if tr.Type != TypeCounterparty || tr.To != (banking.AccountRef{BankID: "gh.29.uk", AccountID: "bob-1"}) {
				t.Fatalf("transaction request %+v", tr)
			}
			if got := f.checkLedger(t, "gh.29.uk", "bob-1"); got != "2.50" {
				t.Fatalf("bob's balance %s", got)
			}
		}},
		{banking.GetShareableAccounts, func(*fixture) []any { return []any{"alice"} }, func(t *testing.T, _ *fixture, data any) {
			if got := accountIDs(data.([]banking.Account)); !slices.Equal(got, []string{"gh.29.uk/alice-1", "gh.29.uk/alice-old", "other.bank/alice-2"}) {
				t.Fatalf("shareable %v", got)
			}
		}},
		{banking.GetPayableAccounts, func(*fixture) []any { return []any{"alice"} }, func(t *testing.T, _ *fixture, data any) {
			if got := accountIDs(data.([]banking.Account)); !slices.Equal(got, []string{"gh.29.uk/alice-1", "other.bank/alice-2"}) {
				t.Fatalf("payable %v", got)
			}
		}},
	}
	for _, mode := range []string{"go", "json"} {
		t.Run(mode, func(t *testing.T) {
			for _, tc := range tests {
				t.Run(tc.method, func(t *testing.T) {
					f := newFixture(t)
					args := tc.args(f)
					if mode == "json" {
						args = jsonish(t, args)
					}
					data, err := invoke(t, f.c, tc.method, alice, args...)
					if err != nil {
						t.Fatalf("%s(%v): %v", tc.method, args, err)
					}
					tc.check(t, f, data)
				})
			}
		})
	}
}

// TestScriptShapedArgs passes arguments as a script writes them by hand.
func TestScriptShapedArgs(t *testing.T) {
	f := newFixture(t)
	data, err := invoke(t, f.c, banking.CreateBankAccount, nil, "gh.29.uk", map[string]any{
		"account_id": "js-1", "currency": "EUR", "balance": map[string]any{"currency": "EUR", "amount": "7.5"},
		"owners": []any{map[string]any{"user_id": "dave"}}})
	if err != nil {
		t.Fatal(err)
	}
	if acc := data.(banking.Account); acc.Balance.Amount != "7.50" || acc.Owners[0].UserID != "dave" {
		t.Fatalf("account %+v", acc)
	}
	from := f.clock.Now().Format(time.RFC3339)
	data, err = invoke(t, f.c, banking.CreateTransactionRequest, nil, "gh.29.uk", "js-1", nil, map[string]any{
		"to": map[string]any{"bank_id": "gh.29.uk", "account_id": "bob-1"}, "value": map[string]any{"currency": "EUR", "amount": "7.5"}})
	if err != nil {
		t.Fatal(err)
	}
	if tr := data.(banking.TransactionRequest); tr.CreatedBy != "" || tr.Value.Amount != "7.50" {
		t.Fatalf("transaction request %+v", tr)
	}
	data, err = invoke(t, f.c, banking.GetTransactions, nil, "gh.29.uk", "js-1", map[string]any{"from_date": from, "limit": 10.0})
	if err != nil {
		t.Fatal(err)
	}
	if txs := data.([]banking.Transaction); len(txs) != 1 || txs[0].Amount.Amount != "-7.50" || txs[0].BalanceAfter.Amount != "0.00" {
		t.Fatalf("transactions since %s: %+v", from, txs)
	}
	t.Run("bad argument types", func(t *testing.T) {
		for _, tc := range []struct {
			method string
			args   []any
		}{
			{banking.GetBank, []any{42.0}},
			{banking.GetAccounts, []any{"gh.29.uk", true}},
			{banking.CreateBankAccount, []any{"gh.29.uk", "not an account"}},
			{banking.GetTransactions, []any{"gh.29.uk", "alice-1", map[string]any{"limit": "ten"}}},
			{banking.CreateTransactionRequest, []any{"gh.29.uk", "alice-1", "", []any{1}}},
			{banking.GetPayableAccounts, []any{map[string]any{}}},
		} {
			t.Run(tc.method, func(t *testing.T) {
				_, err := invoke(t, f.c, tc.method, nil, tc.args...)
				wantError(t, err, http.StatusBadRequest, engine.CodeBadRequest)
			})
		}
	})
}

func TestNotFound(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	for _, tc := range []struct {
		name string
		call func() error
	}{
		{"bank", func() error { _, err := f.c.Bank(ctx, "nope"); return err }},
		{"bank with a bad id", func() error { _, err := f.c.Bank(ctx, "a\x00b"); return err }},
		{"accounts of a missing bank", func() error { _, err := f.c.Accounts(ctx, "nope", ""); return err }},
		{"account", func() error { _, err := f.c.Account(ctx, "gh.29.uk", "nope"); return err }},
		{"account at another bank", func() error { _, err := f.c.Account(ctx, "other.bank", "alice-1"); return err }},
		{"account with a bad id", func() error { _, err := f.c.Account(ctx, "gh.29.uk", "alice-1\x00x"); return err }},
		{"transactions", func() error {
			_, err := f.c.Transactions(ctx, "gh.29.uk", "nope", banking.TransactionQuery{})
			return err
		}},
		{"counterparties", func() error { _, err := f.c.Counterparties(ctx, "gh.29.uk", "nope"); return err }},
		{"counterparty", func() error { _, err := f.c.Counterparty(ctx, "gh.29.uk", "alice-1", "nope"); return err }},
		{"counterparty of another account", func() error { _, err := f.c.Counterparty(ctx, "gh.29.uk", "bob-1", f.cpID); return err }},
		{"create counterparty", func() error {
			_, err := f.c.CreateCounterparty(ctx, "gh.29.uk", "nope", banking.Counterparty{Name: "x"})
			return err
		}},
		{"create account at a missing bank", func() error {
			_, err := f.c.CreateAccount(ctx, "nope", banking.Account{Currency: "EUR", Owners: []banking.Owner{{UserID: "a"}}})
			return err
		}},
		{"pay from a missing account", func() error {
			_, _, err := f.c.CreateTransactionRequest(ctx, "gh.29.uk", "nope", "", pay("bob-1", "1"), "")
			return err
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			wantError(t, tc.call(), http.StatusNotFound, engine.CodeNotFound)
		})
	}
}
