package corestore

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/dynapi/dynapi/engine"
	"github.com/dynapi/dynapi/engine/banking"
)

func TestCreateAccount(t *testing.T) {
	owners := []banking.Owner{{UserID: "alice"}}
	t.Run("defaults", func(t *testing.T) {
		e := newEnv(t)
		acc, err := e.c.CreateAccount(context.Background(), "gh.29.uk", banking.Account{Currency: "EUR", Owners: owners})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := uuid.Parse(acc.AccountID); err != nil {
			t.Fatalf("generated id %q is not a UUID", acc.AccountID)
		}
		if acc.Balance != (banking.Amount{Currency: "EUR", Amount: "0.00"}) || acc.Status != StatusActive || acc.BankID != "gh.29.uk" {
			t.Fatalf("account %+v", acc)
		}
		if acc.CreatedAt.Location().String() != "UTC" || !acc.CreatedAt.After(epoch) {
			t.Fatalf("created at %v", acc.CreatedAt)
		}
		if n := len(e.allTransactions(t, "gh.29.uk", acc.AccountID)); n != 0 {
			t.Fatalf("a zero opening balance posted %d transactions", n)
		}
		stored, err := e.c.Account(context.Background(), "gh.29.uk", acc.AccountID)
		if err != nil || stored.AccountID != acc.AccountID || !stored.CreatedAt.Equal(acc.CreatedAt) {
			t.Fatalf("stored %+v, %v", stored, err)
		}
	})
	t.Run("opening balance is a transaction", func(t *testing.T) {
		e := newEnv(t)
		acc := e.open(t, "gh.29.uk", "kw-1", "KWD", "12.5", "", "alice")
		if acc.Balance.Amount != "12.500" {
			t.Fatalf("balance %s", acc.Balance.Amount)
		}
		txs := e.allTransactions(t, "gh.29.uk", "kw-1")
		if len(txs) != 1 || txs[0].Type != TypeOpeningBalance || txs[0].Amount != acc.Balance || txs[0].BalanceAfter != acc.Balance ||
			txs[0].TransactionID == "" || !txs[0].Completed.Equal(acc.CreatedAt) {
			t.Fatalf("transactions %+v", txs)
		}
		e.checkLedger(t, "gh.29.uk", "kw-1")
	})
	t.Run("conflict", func(t *testing.T) {
		e := newEnv(t)
		e.open(t, "gh.29.uk", "a-1", "EUR", "10", "", "alice")
		_, err := e.c.CreateAccount(context.Background(), "gh.29.uk", banking.Account{AccountID: "a-1", Currency: "EUR",
			Balance: banking.Amount{Amount: "99"}, Owners: []banking.Owner{{UserID: "mallory"}}})
		wantError(t, err, http.StatusConflict, engine.CodeConflict)
		if got := e.checkLedger(t, "gh.29.uk", "a-1"); got != "10.00" {
			t.Fatalf("balance %s after a refused duplicate", got)
		}
		if got, _ := e.c.ShareableAccounts(context.Background(), "mallory"); len(got) != 0 {
			t.Fatalf("a refused duplicate indexed mallory: %v", accountIDs(got))
		}
		// The same id at another bank is another account.
		e.open(t, "other.bank", "a-1", "EUR", "1", "", "alice")
	})

	long := strings.Repeat("x", 257)
	tests := []struct {
		name     string
		acc      banking.Account
		pointers []string
		codes    []string
	}{
		{"empty", banking.Account{}, []string{"/currency", "/owners"}, []string{"required", "required"}},
		{"lower-case currency", banking.Account{Currency: "eur", Owners: owners}, []string{"/currency"}, []string{"pattern"}},
		{"long currency", banking.Account{Currency: "EURO", Owners: owners}, []string{"/currency"}, []string{"pattern"}},
		{"bad account id", banking.Account{AccountID: "-x", Currency: "EUR", Owners: owners}, []string{"/account_id"}, []string{"pattern"}},
		{"account id with a slash", banking.Account{AccountID: "a/b", Currency: "EUR", Owners: owners}, []string{"/account_id"}, []string{"pattern"}},
		{"long account id", banking.Account{AccountID: strings.Repeat("a", 129), Currency: "EUR", Owners: owners}, []string{"/account_id"}, []string{"pattern"}},
		{"other bank", banking.Account{BankID: "other.bank", Currency: "EUR", Owners: owners}, []string{"/bank_id"}, []string{"mismatch"}},
		{"owner without id", banking.Account{Currency: "EUR", Owners: []banking.Owner{{UserID: "a"}, {Username: "bob"}}},
			[]string{"/owners/1/user_id"}, []string{"required"}},
		{"owner id with NUL", banking.Account{Currency: "EUR", Owners: []banking.Owner{{UserID: "a\x00b"}}},
			[]string{"/owners/0/user_id"}, []string{"pattern"}},
		{"negative balance", banking.Account{Currency: "EUR", Owners: owners, Balance: banking.Amount{Amount: "-1.00"}},
			[]string{"/balance/amount"}, []string{"minimum"}},
		{"three decimals", banking.Account{Currency: "EUR", Owners: owners, Balance: banking.Amount{Amount: "1.005"}},
			[]string{"/balance/amount"}, []string{"precision"}},
		{"yen decimals", banking.Account{Currency: "JPY", Owners: owners, Balance: banking.Amount{Amount: "10.5"}},
			[]string{"/balance/amount"}, []string{"precision"}},
		{"not a number", banking.Account{Currency: "EUR", Owners: owners, Balance: banking.Amount{Amount: "1e3"}},
			[]string{"/balance/amount"}, []string{"format"}},
		{"too large", banking.Account{Currency: "EUR", Owners: owners, Balance: banking.Amount{Amount: "100000000000000000000"}},
			[]string{"/balance/amount"}, []string{"range"}},
		{"balance in another currency", banking.Account{Currency: "EUR", Owners: owners, Balance: banking.Amount{Currency: "GBP", Amount: "1"}},
			[]string{"/balance/currency"}, []string{"currency_mismatch"}},
		{"status", banking.Account{Currency: "EUR", Owners: owners, Status: "frozen"}, []string{"/status"}, []string{"enum"}},
		{"long label", banking.Account{Currency: "EUR", Owners: owners, Label: long}, []string{"/label"}, []string{"max_length"}},
		{"several", banking.Account{AccountID: "_", Currency: "eu", Status: "x", Number: long},
			[]string{"/account_id", "/currency", "/owners", "/number", "/status"}, []string{"pattern", "pattern", "required", "max_length", "enum"}},
	}
	e := newEnv(t)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := e.c.CreateAccount(context.Background(), "gh.29.uk", tc.acc)
			ve := wantError(t, err, http.StatusBadRequest, engine.CodeValidationFailed, tc.pointers...)
			for i, p := range tc.pointers {
				hasViolation(t, ve, "body", p, tc.codes[i])
			}
		})
	}
	if got, err := e.c.Accounts(context.Background(), "gh.29.uk", ""); err != nil || len(got) != 0 {
		t.Fatalf("refused accounts were stored: %v, %v", accountIDs(got), err)
	}
	if n := e.count(t, bucketTransactions); n != 0 {
		t.Fatalf("refused accounts posted %d transactions", n)
	}
}

func TestAccountLists(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	// Opened out of order; lists are by account id.
	e.open(t, "gh.29.uk", "c", "EUR", "0", "", "alice", "bob")
	e.open(t, "gh.29.uk", "a", "EUR", "0", StatusClosed, "alice")
	e.open(t, "gh.29.uk", "b", "EUR", "0", "", "bob")
	e.open(t, "other.bank", "z", "EUR", "0", "", "alice")
	e.open(t, "other.bank", "y", "EUR", "0", StatusClosed, "bob")

	tests := []struct {
		name string
		call func() ([]banking.Account, error)
		want []string
	}{
		{"bank", func() ([]banking.Account, error) { return e.c.Accounts(ctx, "gh.29.uk", "") },
			[]string{"gh.29.uk/a", "gh.29.uk/b", "gh.29.uk/c"}},
		{"bank, alice", func() ([]banking.Account, error) { return e.c.Accounts(ctx, "gh.29.uk", "alice") },
			[]string{"gh.29.uk/a", "gh.29.uk/c"}},
		{"other bank, alice", func() ([]banking.Account, error) { return e.c.Accounts(ctx, "other.bank", "alice") },
			[]string{"other.bank/z"}},
		{"bank, stranger", func() ([]banking.Account, error) { return e.c.Accounts(ctx, "gh.29.uk", "nobody") }, []string{}},
		{"shareable, bob", func() ([]banking.Account, error) { return e.c.ShareableAccounts(ctx, "bob") },
			[]string{"gh.29.uk/b", "gh.29.uk/c", "other.bank/y"}},
		{"payable, bob", func() ([]banking.Account, error) { return e.c.PayableAccounts(ctx, "bob") },
			[]string{"gh.29.uk/b", "gh.29.uk/c"}},
		{"payable, alice", func() ([]banking.Account, error) { return e.c.PayableAccounts(ctx, "alice") },
			[]string{"gh.29.uk/c", "other.bank/z"}},
		{"shareable, nobody", func() ([]banking.Account, error) { return e.c.ShareableAccounts(ctx, "nobody") }, []string{}},
		{"shareable, empty user", func() ([]banking.Account, error) { return e.c.ShareableAccounts(ctx, "") }, []string{}},
		// "bo" is a prefix of "bob" but another user.
		{"shareable, prefix of a user", func() ([]banking.Account, error) { return e.c.ShareableAccounts(ctx, "bo") }, []string{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e.store.reset()
			got, err := tc.call()
			if err != nil {
				t.Fatal(err)
			}
			if got == nil || !slices.Equal(accountIDs(got), tc.want) {
				t.Fatalf("got %v, want %v", accountIDs(got), tc.want)
			}
			if strings.Contains(tc.name, ",") && e.store.count(bucketAccounts) != 0 {
				t.Fatalf("listing a user's accounts scanned %d accounts instead of the owner index", e.store.count(bucketAccounts))
			}
		})
	}
}
