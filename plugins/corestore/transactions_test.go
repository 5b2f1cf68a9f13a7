package corestore

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dynapi/dynapi/engine"
	"github.com/dynapi/dynapi/engine/banking"
	"github.com/dynapi/dynapi/internal/outboxtest"
)

// TestTransactionPages posts a known history and reads it back in pages
// and date ranges.
func TestTransactionPages(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	e.open(t, "gh.29.uk", "alice-1", "EUR", "1000", "", "alice")
	e.open(t, "gh.29.uk", "bob-1", "EUR", "0", "", "bob")
	// Another account's transactions sit next to alice's in the bucket:
	// they must never show up.
	e.open(t, "gh.29.uk", "alice-10", "EUR", "5", "", "alice")
	const n = 20
	times := make([]time.Time, n) // completion time of payment i
	for i := range n {
		e.clock.Set(epoch.Add(time.Duration(i+1) * time.Hour))
		_, _, err := e.c.CreateTransactionRequest(ctx, "gh.29.uk", "alice-1", "", pay("bob-1", fmt.Sprint(i+1)), "alice")
		if err != nil {
			t.Fatal(err)
		}
	}
	all := e.allTransactions(t, "gh.29.uk", "alice-1")
	if len(all) != n+1 {
		t.Fatalf("%d transactions, want %d", len(all), n+1)
	}
	for i := range n {
		// Newest first: all[0] is payment n-1.
		tx := all[n-1-i]
		if want := fmt.Sprintf("-%d.00", i+1); tx.Amount.Amount != want {
			t.Fatalf("transaction of payment %d: %s, want %s", i, tx.Amount.Amount, want)
		}
		times[i] = tx.Completed
	}
	if all[n].Type != TypeOpeningBalance {
		t.Fatalf("oldest transaction %+v, want the opening balance", all[n])
	}
	for i := 1; i < n; i++ {
		if !times[i].After(times[i-1]) {
			t.Fatalf("completion times not increasing: %v", times)
		}
	}
	e.checkLedger(t, "gh.29.uk", "alice-1")
	e.checkLedger(t, "gh.29.uk", "bob-1")

	ptr := func(t time.Time) *time.Time { return &t }
	// amounts lists the payments (1-based) a page holds.
	amounts := func(txs []banking.Transaction) []string {
		out := []string{}
		for _, tx := range txs {
			out = append(out, tx.Amount.Amount)
		}
		return out
	}
	neg := func(is ...int) []string {
		out := []string{}
		for _, i := range is {
			out = append(out, fmt.Sprintf("-%d.00", i))
		}
		return out
	}
	tests := []struct {
		name string
		q    banking.TransactionQuery
		want []string
	}{
		{"first page", banking.TransactionQuery{Limit: 3}, neg(20, 19, 18)},
		{"second page", banking.TransactionQuery{Limit: 3, Offset: 3}, neg(17, 16, 15)},
		{"last page", banking.TransactionQuery{Limit: 3, Offset: 19}, append(neg(1), "1000.00")},
		{"past the end", banking.TransactionQuery{Limit: 3, Offset: 21}, []string{}},
		{"default limit", banking.TransactionQuery{}, amounts(all)},
		{"from inclusive", banking.TransactionQuery{FromDate: ptr(times[17])}, neg(20, 19, 18)},
		{"to exclusive", banking.TransactionQuery{ToDate: ptr(times[2]), Limit: 10}, append(neg(2, 1), "1000.00")},
		{"range", banking.TransactionQuery{FromDate: ptr(times[3]), ToDate: ptr(times[6])}, neg(6, 5, 4)},
		{"range, paged", banking.TransactionQuery{FromDate: ptr(times[3]), ToDate: ptr(times[6]), Offset: 1, Limit: 1}, neg(5)},
		{"range between postings", banking.TransactionQuery{FromDate: ptr(times[3].Add(time.Minute)), ToDate: ptr(times[4])}, []string{}},
		{"range in another zone", banking.TransactionQuery{FromDate: ptr(times[3].In(time.FixedZone("x", 5*3600))),
			ToDate: ptr(times[5].In(time.FixedZone("y", -3*3600)))}, neg(5, 4)},
		{"empty range", banking.TransactionQuery{FromDate: ptr(times[5]), ToDate: ptr(times[5])}, []string{}},
		{"inverted range", banking.TransactionQuery{FromDate: ptr(times[6]), ToDate: ptr(times[3])}, []string{}},
		{"from the future", banking.TransactionQuery{FromDate: ptr(time.Date(2999, 1, 1, 0, 0, 0, 0, time.UTC))}, []string{}},
		{"from beyond nanoseconds", banking.TransactionQuery{FromDate: ptr(time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC))}, []string{}},
		{"to before 1970", banking.TransactionQuery{ToDate: ptr(time.Date(1900, 1, 1, 0, 0, 0, 0, time.UTC))}, []string{}},
		{"from before 1970, to far away", banking.TransactionQuery{FromDate: ptr(time.Date(1900, 1, 1, 0, 0, 0, 0, time.UTC)),
			ToDate: ptr(time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC)), Limit: 2}, neg(20, 19)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := e.c.Transactions(ctx, "gh.29.uk", "alice-1", tc.q)
			if err != nil {
				t.Fatal(err)
			}
			if got == nil || !slices.Equal(amounts(got), tc.want) {
				t.Fatalf("got %v, want %v", amounts(got), tc.want)
			}
		})
	}

	t.Run("pages read only what they show", func(t *testing.T) {
		e.store.reset()
		got, err := e.c.Transactions(ctx, "gh.29.uk", "alice-1", banking.TransactionQuery{Limit: 2, Offset: 5})
		if err != nil || len(got) != 2 {
			t.Fatalf("%v, %v", amounts(got), err)
		}
		if visited := e.store.count(bucketTransactions); visited > 7 {
			t.Fatalf("a page of 2 at offset 5 visited %d transactions", visited)
		}
		e.store.reset()
		if _, err := e.c.Transactions(ctx, "gh.29.uk", "alice-1", banking.TransactionQuery{ToDate: ptr(times[2]), Limit: 1}); err != nil {
			t.Fatal(err)
		}
		if visited := e.store.count(bucketTransactions); visited != 1 {
			t.Fatalf("a page of 1 before %v visited %d transactions: the scan should start at the date", times[2], visited)
		}
	})

	t.Run("bad queries", func(t *testing.T) {
		for _, tc := range []struct {
			name    string
			q       banking.TransactionQuery
			pointer string
			code    string
		}{
			{"limit over 500", banking.TransactionQuery{Limit: 501}, "/limit", "maximum"},
			{"negative limit", banking.TransactionQuery{Limit: -1}, "/limit", "minimum"},
			{"negative offset", banking.TransactionQuery{Offset: -1}, "/offset", "minimum"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				_, err := e.c.Transactions(ctx, "gh.29.uk", "alice-1", tc.q)
				hasViolation(t, wantError(t, err, http.StatusBadRequest, engine.CodeValidationFailed, tc.pointer), "query", tc.pointer, tc.code)
			})
		}
		if got, err := e.c.Transactions(ctx, "gh.29.uk", "alice-1", banking.TransactionQuery{Limit: 500}); err != nil || len(got) != n+1 {
			t.Fatalf("limit 500: %d, %v", len(got), err)
		}
	})
}

// TestClockSteppingBack keeps transactions in posting order when the wall
// clock goes back.
func TestClockSteppingBack(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	e.open(t, "gh.29.uk", "a", "EUR", "100", "", "alice")
	e.open(t, "gh.29.uk", "b", "EUR", "0", "", "bob")
	e.clock.Set(epoch.Add(time.Hour))
	if _, _, err := e.c.CreateTransactionRequest(ctx, "gh.29.uk", "a", "", pay("b", "1"), ""); err != nil {
		t.Fatal(err)
	}
	e.clock.Set(epoch.Add(-time.Hour))
	if _, _, err := e.c.CreateTransactionRequest(ctx, "gh.29.uk", "a", "", pay("b", "2"), ""); err != nil {
		t.Fatal(err)
	}
	txs := e.allTransactions(t, "gh.29.uk", "a")
	if len(txs) != 3 || txs[0].Amount.Amount != "-2.00" || txs[1].Amount.Amount != "-1.00" || txs[0].Completed.Before(txs[1].Completed) {
		t.Fatalf("transactions %+v", txs)
	}
	e.checkLedger(t, "gh.29.uk", "a")
}

func TestPayment(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	tr, replayed, err := f.c.CreateTransactionRequest(ctx, "gh.29.uk", "alice-1", "", pay("bob-1", "30.5"), "alice")
	if err != nil || replayed {
		t.Fatalf("pay: %v, replayed %v", err, replayed)
	}
	want := banking.TransactionRequest{TransactionRequestID: tr.TransactionRequestID, Type: TypeAccount,
		From: banking.AccountRef{BankID: "gh.29.uk", AccountID: "alice-1"}, To: banking.AccountRef{BankID: "gh.29.uk", AccountID: "bob-1"},
		Value: banking.Amount{Currency: "EUR", Amount: "30.50"}, Description: "test", Status: StatusCompleted,
		TransactionIDs: tr.TransactionIDs, CreatedBy: "alice", Created: tr.Created}
	if !reflect.DeepEqual(tr, want) || tr.TransactionRequestID == "" || len(tr.TransactionIDs) != 2 ||
		tr.TransactionIDs[0] == tr.TransactionIDs[1] || tr.Created.IsZero() {
		t.Fatalf("transaction request %+v", tr)
	}
	if a, b := f.checkLedger(t, "gh.29.uk", "alice-1"), f.checkLedger(t, "gh.29.uk", "bob-1"); a != "69.50" || b != "30.50" {
		t.Fatalf("balances %s and %s, want 69.50 and 30.50", a, b)
	}
	debit := f.allTransactions(t, "gh.29.uk", "alice-1")[0]
	credit := f.allTransactions(t, "gh.29.uk", "bob-1")[0]
	if debit.TransactionID != tr.TransactionIDs[0] || debit.Amount.Amount != "-30.50" || debit.BalanceAfter.Amount != "69.50" ||
		debit.TransactionRequestID != tr.TransactionRequestID || debit.Counterparty.AccountID != "bob-1" || debit.Type != TypeAccount ||
		!debit.Completed.Equal(tr.Created) {
		t.Fatalf("debit %+v", debit)
	}
	if credit.TransactionID != tr.TransactionIDs[1] || credit.Amount.Amount != "30.50" || credit.BalanceAfter.Amount != "30.50" ||
		credit.TransactionRequestID != tr.TransactionRequestID || credit.Counterparty.AccountID != "alice-1" || !credit.Completed.Equal(debit.Completed) {
		t.Fatalf("credit %+v", credit)
	}
	// Double entry: the payment moves money, it does not make any.
	da, _ := ParseAmount(debit.Amount.Amount, 2)
	ca, _ := ParseAmount(credit.Amount.Amount, 2)
	if da+ca != 0 {
		t.Fatalf("debit %s and credit %s do not cancel", debit.Amount.Amount, credit.Amount.Amount)
	}

	t.Run("the whole balance", func(t *testing.T) {
		if _, _, err := f.c.CreateTransactionRequest(ctx, "gh.29.uk", "alice-1", "", pay("bob-1", "69.50"), ""); err != nil {
			t.Fatal(err)
		}
		if got := f.checkLedger(t, "gh.29.uk", "alice-1"); got != "0.00" {
			t.Fatalf("balance %s", got)
		}
	})
	t.Run("to a counterparty", func(t *testing.T) {
		body := banking.TransactionRequestBody{CounterpartyID: f.cpID, Value: banking.Amount{Currency: "EUR", Amount: "0.01"}}
		// bob-1 pays back first so alice-1 has money again.
		if _, _, err := f.c.CreateTransactionRequest(ctx, "gh.29.uk", "bob-1", "", pay("alice-1", "1"), "bob"); err != nil {
			t.Fatal(err)
		}
		tr, _, err := f.c.CreateTransactionRequest(ctx, "gh.29.uk", "alice-1", "", body, "alice")
		if err != nil {
			t.Fatal(err)
		}
		debit := f.allTransactions(t, "gh.29.uk", "alice-1")[0]
		if tr.Type != TypeCounterparty || debit.Type != TypeCounterparty || debit.Counterparty.CounterpartyID != f.cpID ||
			debit.Counterparty.Name != "Bob" || debit.BalanceAfter.Amount != "0.99" {
			t.Fatalf("transaction request %+v, debit %+v", tr, debit)
		}
		f.checkLedger(t, "gh.29.uk", "alice-1")
		f.checkLedger(t, "gh.29.uk", "bob-1")
	})
	t.Run("three-digit currency", func(t *testing.T) {
		f.open(t, "gh.29.uk", "kw-a", "KWD", "1.001", "", "alice")
		f.open(t, "other.bank", "kw-b", "KWD", "0", "", "bob")
		body := banking.TransactionRequestBody{To: &banking.AccountRef{BankID: "other.bank", AccountID: "kw-b"},
			Value: banking.Amount{Currency: "KWD", Amount: "0.001"}}
		tr, _, err := f.c.CreateTransactionRequest(ctx, "gh.29.uk", "kw-a", "", body, "")
		if err != nil || tr.Value.Amount != "0.001" {
			t.Fatalf("%+v, %v", tr, err)
		}
		if a, b := f.checkLedger(t, "gh.29.uk", "kw-a"), f.checkLedger(t, "other.bank", "kw-b"); a != "1.000" || b != "0.001" {
			t.Fatalf("balances %s, %s", a, b)
		}
	})
}

// snapshot is everything a refused payment must leave as it was.
type snapshot struct {
	balances     map[string]string
	transactions int
	requests     int
	idempotency  int
	events       int
}

func (f *fixture) snapshot(t *testing.T) snapshot {
	t.Helper()
	s := snapshot{balances: map[string]string{}}
	for _, id := range []string{"alice-1", "bob-1", "alice-old"} {
		s.balances[id] = f.balance(t, "gh.29.uk", id)
	}
	s.transactions = f.count(t, bucketTransactions)
	s.requests = f.count(t, bucketRequests)
	s.idempotency = f.count(t, bucketIdempotency)
	s.events = f.count(t, outboxtest.Bucket)
	return s
}

func TestPaymentRefused(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	// A counterparty outside this server cannot be paid.
	outside, err := f.c.CreateCounterparty(ctx, "gh.29.uk", "alice-1", banking.Counterparty{Name: "Abroad",
		OtherRoutings: []banking.Routing{{Scheme: "IBAN", Address: "DE89370400440532013000"}}})
	if err != nil {
		t.Fatal(err)
	}
	eur := func(amount string) banking.Amount { return banking.Amount{Currency: "EUR", Amount: amount} }
	tests := []struct {
		name     string
		from     string
		key      string
		body     banking.TransactionRequestBody
		status   int
		code     string
		location string
		pointer  string
		vcode    string
	}{
		{"overdraft", "alice-1", "k-over", pay("bob-1", "100.01"), http.StatusUnprocessableEntity, CodeInsufficientFunds, "", "", ""},
		{"from a closed account", "alice-old", "", pay("bob-1", "1"), http.StatusUnprocessableEntity, CodeAccountNotActive, "", "", ""},
		{"to a closed account", "alice-1", "", pay("alice-old", "1"), http.StatusUnprocessableEntity, CodeAccountNotActive, "", "", ""},
		{"zero", "alice-1", "", pay("bob-1", "0.00"), http.StatusBadRequest, engine.CodeValidationFailed, "body", "/value/amount", "exclusive_minimum"},
		{"negative", "alice-1", "", pay("bob-1", "-5"), http.StatusBadRequest, engine.CodeValidationFailed, "body", "/value/amount", "exclusive_minimum"},
		{"three decimals", "alice-1", "", pay("bob-1", "1.001"), http.StatusBadRequest, engine.CodeValidationFailed, "body", "/value/amount", "precision"},
		{"not a number", "alice-1", "", pay("bob-1", "ten"), http.StatusBadRequest, engine.CodeValidationFailed, "body", "/value/amount", "format"},
		{"no amount", "alice-1", "", pay("bob-1", ""), http.StatusBadRequest, engine.CodeValidationFailed, "body", "/value/amount", "required"},
		{"overflow", "alice-1", "", pay("bob-1", "92233720368547758.08"), http.StatusBadRequest, engine.CodeValidationFailed, "body", "/value/amount", "range"},
		{"another currency", "alice-1", "", banking.TransactionRequestBody{To: &banking.AccountRef{BankID: "gh.29.uk", AccountID: "bob-1"},
			Value: banking.Amount{Currency: "USD", Amount: "1"}}, http.StatusBadRequest, engine.CodeValidationFailed, "body", "/value/currency", "currency_mismatch"},
		{"payee in another currency", "alice-1", "", banking.TransactionRequestBody{To: &banking.AccountRef{BankID: "other.bank", AccountID: "alice-2"},
			Value: eur("1")}, http.StatusBadRequest, engine.CodeValidationFailed, "body", "/value/currency", "currency_mismatch"},
		{"bad currency", "alice-1", "", banking.TransactionRequestBody{To: &banking.AccountRef{BankID: "gh.29.uk", AccountID: "bob-1"},
			Value: banking.Amount{Currency: "euro", Amount: "1"}}, http.StatusBadRequest, engine.CodeValidationFailed, "body", "/value/currency", "pattern"},
		{"to itself", "alice-1", "", pay("alice-1", "1"), http.StatusBadRequest, engine.CodeValidationFailed, "body", "/to", "same_account"},
		{"to nobody", "alice-1", "", pay("nope", "1"), http.StatusBadRequest, engine.CodeValidationFailed, "body", "/to", "not_found"},
		{"no payee", "alice-1", "", banking.TransactionRequestBody{Value: eur("1")}, http.StatusBadRequest, engine.CodeValidationFailed, "body", "/to", "required"},
		{"payee without account id", "alice-1", "", banking.TransactionRequestBody{To: &banking.AccountRef{BankID: "gh.29.uk"}, Value: eur("1")},
			http.StatusBadRequest, engine.CodeValidationFailed, "body", "/to/account_id", "required"},
		{"both payees", "alice-1", "", banking.TransactionRequestBody{To: &banking.AccountRef{BankID: "gh.29.uk", AccountID: "bob-1"},
			CounterpartyID: f.cpID, Value: eur("1")}, http.StatusBadRequest, engine.CodeValidationFailed, "body", "/counterparty_id", "exclusive"},
		{"unknown counterparty", "alice-1", "", banking.TransactionRequestBody{CounterpartyID: "nope", Value: eur("1")},
			http.StatusBadRequest, engine.CodeValidationFailed, "body", "/counterparty_id", "not_found"},
		{"another account's counterparty", "bob-1", "", banking.TransactionRequestBody{CounterpartyID: f.cpID, Value: eur("1")},
			http.StatusBadRequest, engine.CodeValidationFailed, "body", "/counterparty_id", "not_found"},
		{"counterparty outside", "alice-1", "", banking.TransactionRequestBody{CounterpartyID: outside.CounterpartyID, Value: eur("1")},
			http.StatusBadRequest, engine.CodeValidationFailed, "body", "/counterparty_id", "not_payable"},
		{"long description", "alice-1", "", banking.TransactionRequestBody{To: &banking.AccountRef{BankID: "gh.29.uk", AccountID: "bob-1"},
			Value: eur("1"), Description: strings.Repeat("x", 2049)}, http.StatusBadRequest, engine.CodeValidationFailed, "body", "/description", "max_length"},
		{"long idempotency key", "alice-1", strings.Repeat("k", 256), pay("bob-1", "1"),
			http.StatusBadRequest, engine.CodeValidationFailed, "header", "/Idempotency-Key", "pattern"},
		{"idempotency key with a newline", "alice-1", "a\nb", pay("bob-1", "1"),
			http.StatusBadRequest, engine.CodeValidationFailed, "header", "/Idempotency-Key", "pattern"},
		{"idempotency key not ASCII", "alice-1", "clé", pay("bob-1", "1"),
			http.StatusBadRequest, engine.CodeValidationFailed, "header", "/Idempotency-Key", "pattern"},
	}
	before := f.snapshot(t)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := f.c.CreateTransactionRequest(ctx, "gh.29.uk", tc.from, tc.key, tc.body, "alice")
			var pointers []string
			if tc.pointer != "" {
				pointers = []string{tc.pointer}
			}
			e := wantError(t, err, tc.status, tc.code, pointers...)
			if tc.pointer != "" {
				hasViolation(t, e, tc.location, tc.pointer, tc.vcode)
			}
			if tc.code == CodeInsufficientFunds && !strings.Contains(e.Message, "100.00 EUR") {
				t.Fatalf("message does not name the balance: %s", e.Message)
			}
			if after := f.snapshot(t); !reflect.DeepEqual(after, before) {
				t.Fatalf("a refused payment changed the store: %+v, was %+v", after, before)
			}
		})
	}
	// The refused overdraft did not burn its idempotency key.
	if _, replayed, err := f.c.CreateTransactionRequest(ctx, "gh.29.uk", "alice-1", "k-over", pay("bob-1", "100.00"), ""); err != nil || replayed {
		t.Fatalf("payment with the key of a refused one: %v, replayed %v", err, replayed)
	}
	if got := f.balance(t, "gh.29.uk", "alice-1"); got != "0.00" {
		t.Fatalf("balance %s", got)
	}
	if _, _, err := f.c.CreateTransactionRequest(ctx, "gh.29.uk", "bob-1", strings.Repeat("k", 255), pay("alice-1", "1"), ""); err != nil {
		t.Fatalf("a 255-character key: %v", err)
	}
}

func TestIdempotency(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	call := &engine.Call{Principal: &engine.Principal{UserID: "alice"}}
	first, replayed, err := f.c.CreateTransactionRequest(ctx, "gh.29.uk", "alice-1", "key-1", pay("bob-1", "30.00"), "alice")
	if err != nil || replayed {
		t.Fatalf("first: %v, replayed %v", err, replayed)
	}
	f.clock.Set(epoch.Add(24 * time.Hour))
	again, replayed, err := f.c.CreateTransactionRequest(ctx, "gh.29.uk", "alice-1", "key-1", pay("bob-1", "30.00"), "alice")
	if err != nil || !replayed {
		t.Fatalf("repeat: %v, replayed %v", err, replayed)
	}
	if !reflect.DeepEqual(again, first) {
		t.Fatalf("repeat answered %+v, want the first %+v", again, first)
	}
	// Through the invoker, with decoded JSON, the answer is the same too.
	data, err := invoke(t, f.c, banking.CreateTransactionRequest, call, jsonish(t, []any{"gh.29.uk", "alice-1", "key-1", pay("bob-1", "30.00")})...)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(data.(banking.TransactionRequest), first) {
		t.Fatalf("invoker answered %+v, want %+v", data, first)
	}
	if a, b := f.checkLedger(t, "gh.29.uk", "alice-1"), f.checkLedger(t, "gh.29.uk", "bob-1"); a != "70.00" || b != "30.00" {
		t.Fatalf("balances %s and %s: paid more than once", a, b)
	}
	if n := f.count(t, bucketRequests); n != 1 {
		t.Fatalf("%d transaction requests stored, want 1", n)
	}

	t.Run("reused with another body", func(t *testing.T) {
		before := f.snapshot(t)
		for _, body := range []banking.TransactionRequestBody{pay("bob-1", "31.00"), pay("bob-1", "30"),
			{To: &banking.AccountRef{BankID: "gh.29.uk", AccountID: "bob-1"}, Value: banking.Amount{Currency: "EUR", Amount: "30.00"}}} {
			_, _, err := f.c.CreateTransactionRequest(ctx, "gh.29.uk", "alice-1", "key-1", body, "alice")
			wantError(t, err, http.StatusUnprocessableEntity, CodeIdempotencyKeyReused)
		}
		if after := f.snapshot(t); !reflect.DeepEqual(after, before) {
			t.Fatalf("a refused payment changed the store: %+v, was %+v", after, before)
		}
	})
	t.Run("keys belong to the paying account", func(t *testing.T) {
		tr, replayed, err := f.c.CreateTransactionRequest(ctx, "gh.29.uk", "bob-1", "key-1", pay("alice-1", "5.00"), "bob")
		if err != nil || replayed || tr.TransactionRequestID == first.TransactionRequestID {
			t.Fatalf("bob's key-1: %+v, %v, replayed %v", tr, err, replayed)
		}
	})
	t.Run("another key pays again", func(t *testing.T) {
		tr, replayed, err := f.c.CreateTransactionRequest(ctx, "gh.29.uk", "alice-1", "key-2", pay("bob-1", "30.00"), "alice")
		if err != nil || replayed || tr.TransactionRequestID == first.TransactionRequestID {
			t.Fatalf("key-2: %+v, %v, replayed %v", tr, err, replayed)
		}
		if got := f.checkLedger(t, "gh.29.uk", "alice-1"); got != "45.00" {
			t.Fatalf("balance %s, want 45.00", got)
		}
	})
	t.Run("no key pays every time", func(t *testing.T) {
		for range 2 {
			if _, replayed, err := f.c.CreateTransactionRequest(ctx, "gh.29.uk", "alice-1", "", pay("bob-1", "1.00"), ""); err != nil || replayed {
				t.Fatalf("%v, replayed %v", err, replayed)
			}
		}
		if got := f.checkLedger(t, "gh.29.uk", "alice-1"); got != "43.00" {
			t.Fatalf("balance %s, want 43.00", got)
		}
	})
}

// TestConcurrentPayments pays 10.00 fifty times at once from an account
// holding 300.00: the funds check and both postings are one store
// transaction, so exactly thirty go through.
func TestConcurrentPayments(t *testing.T) {
	e := newEnv(t)
	e.open(t, "gh.29.uk", "payer", "EUR", "300.00", "", "alice")
	e.open(t, "gh.29.uk", "payee", "EUR", "0", "", "bob")
	const n = 50
	errs := make(chan error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			key := ""
			if i%2 == 0 {
				key = fmt.Sprintf("key-%d", i) // distinct keys: each is its own payment
			}
			_, _, err := e.c.CreateTransactionRequest(context.Background(), "gh.29.uk", "payer", key, pay("payee", "10.00"), "alice")
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	paid, refused := 0, 0
	for err := range errs {
		var ee *engine.Error
		switch {
		case err == nil:
			paid++
		case errors.As(err, &ee) && ee.Code == CodeInsufficientFunds && ee.Status == http.StatusUnprocessableEntity:
			refused++
		default:
			t.Errorf("unexpected error: %v", err)
		}
	}
	if paid != 30 || refused != 20 {
		t.Fatalf("%d paid and %d refused, want 30 and 20", paid, refused)
	}
	if a, b := e.checkLedger(t, "gh.29.uk", "payer"), e.checkLedger(t, "gh.29.uk", "payee"); a != "0.00" || b != "300.00" {
		t.Fatalf("balances %s and %s, want 0.00 and 300.00", a, b)
	}
	if got := len(e.allTransactions(t, "gh.29.uk", "payer")); got != 31 {
		t.Fatalf("payer has %d transactions, want 31 (opening balance and 30 debits)", got)
	}
	if got := e.count(t, bucketRequests); got != 30 {
		t.Fatalf("%d transaction requests, want 30", got)
	}
}

// TestConcurrentReplays sends one idempotency key many times at once: one
// payment, every answer the same.
func TestConcurrentReplays(t *testing.T) {
	e := newEnv(t)
	e.open(t, "gh.29.uk", "payer", "EUR", "100", "", "alice")
	e.open(t, "gh.29.uk", "payee", "EUR", "0", "", "bob")
	const n = 20
	ids := make(chan string, n)
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			tr, _, err := e.c.CreateTransactionRequest(context.Background(), "gh.29.uk", "payer", "same", pay("payee", "10.00"), "alice")
			if err != nil {
				t.Error(err)
			}
			ids <- tr.TransactionRequestID
		})
	}
	wg.Wait()
	close(ids)
	seen := map[string]int{}
	for id := range ids {
		seen[id]++
	}
	if len(seen) != 1 {
		t.Fatalf("answers name %d transaction requests, want 1: %v", len(seen), seen)
	}
	if got := e.checkLedger(t, "gh.29.uk", "payer"); got != "90.00" {
		t.Fatalf("balance %s, want 90.00", got)
	}
}
