package corestore

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/dynapi/dynapi/engine"
	"github.com/dynapi/dynapi/engine/banking"
	"github.com/dynapi/dynapi/engine/banks"
	"github.com/dynapi/dynapi/engine/connector"
	"github.com/dynapi/dynapi/plugins/boltstore"
)

// fakeBanks is a fixed list of banks.
type fakeBanks map[string]*banks.Bank

func (f fakeBanks) List(context.Context) ([]*banks.Bank, error) {
	var out []*banks.Bank
	for _, b := range f {
		out = append(out, b)
	}
	return out, nil // unordered: the connector sorts
}

func (f fakeBanks) Get(_ context.Context, id string) (*banks.Bank, error) {
	if b, ok := f[id]; ok {
		return b, nil
	}
	return nil, engine.Errorf(http.StatusNotFound, engine.CodeNotFound, "bank %q not found", id)
}

func testBanks() fakeBanks {
	return fakeBanks{
		"gh.29.uk":   {ID: "gh.29.uk", ShortName: "Demo", FullName: "Demo Bank plc", Website: "https://bank.example.com"},
		"other.bank": {ID: "other.bank", ShortName: "Other", FullName: "Other Bank AG", Logo: "https://other.example.com/logo.png"},
	}
}

// clock is a fake clock that moves one second on every reading.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(time.Second)
	return c.t
}

func (c *clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}

var epoch = time.Date(2026, 1, 15, 9, 0, 0, 0, time.UTC)

// countingStore counts the keys scans visit per bucket.
type countingStore struct {
	engine.Store
	mu      sync.Mutex
	visited map[string]int
}

func (s *countingStore) View(ctx context.Context, fn func(engine.Tx) error) error {
	return s.Store.View(ctx, func(tx engine.Tx) error { return fn(countingTx{tx, s}) })
}

func (s *countingStore) Update(ctx context.Context, fn func(engine.Tx) error) error {
	return s.Store.Update(ctx, func(tx engine.Tx) error { return fn(countingTx{tx, s}) })
}

func (s *countingStore) reset() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.visited = map[string]int{}
}

func (s *countingStore) count(bucket string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.visited[bucket]
}

type countingTx struct {
	engine.Tx
	s *countingStore
}

func (t countingTx) wrap(bucket string, fn func(string, []byte) error) func(string, []byte) error {
	return func(k string, v []byte) error {
		t.s.mu.Lock()
		t.s.visited[bucket]++
		t.s.mu.Unlock()
		return fn(k, v)
	}
}

func (t countingTx) Scan(bucket, prefix string, fn func(string, []byte) error) error {
	return t.Tx.Scan(bucket, prefix, t.wrap(bucket, fn))
}

func (t countingTx) ScanFrom(bucket, from string, fn func(string, []byte) error) error {
	return t.Tx.ScanFrom(bucket, from, t.wrap(bucket, fn))
}

func (t countingTx) ScanReverse(bucket, from string, fn func(string, []byte) error) error {
	return t.Tx.ScanReverse(bucket, from, t.wrap(bucket, fn))
}

// env is a connector over a fresh bbolt store.
type env struct {
	c     *Connector
	store *countingStore
	clock *clock
}

func newEnv(t testing.TB) *env {
	t.Helper()
	db, err := boltstore.Open(filepath.Join(t.TempDir(), "db"), boltstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	store := &countingStore{Store: db, visited: map[string]int{}}
	clk := &clock{t: epoch}
	c := New(store, testBanks())
	c.now = clk.Now
	return &env{c: c, store: store, clock: clk}
}

// open opens an account held by userID with an opening balance.
func (e *env) open(t testing.TB, bankID, accountID, currency, balance, status string, owners ...string) banking.Account {
	t.Helper()
	acc := banking.Account{AccountID: accountID, Currency: currency, Label: "label " + accountID,
		Balance: banking.Amount{Amount: balance}, Status: status}
	for _, o := range owners {
		acc.Owners = append(acc.Owners, banking.Owner{UserID: o})
	}
	got, err := e.c.CreateAccount(context.Background(), bankID, acc)
	if err != nil {
		t.Fatalf("open %s/%s: %v", bankID, accountID, err)
	}
	return got
}

func (e *env) balance(t testing.TB, bankID, accountID string) string {
	t.Helper()
	acc, err := e.c.Account(context.Background(), bankID, accountID)
	if err != nil {
		t.Fatalf("account %s/%s: %v", bankID, accountID, err)
	}
	return acc.Balance.Amount
}

// allTransactions reads every transaction of an account, newest first,
// page by page.
func (e *env) allTransactions(t testing.TB, bankID, accountID string) []banking.Transaction {
	t.Helper()
	var out []banking.Transaction
	for offset := 0; ; offset += MaxLimit {
		page, err := e.c.Transactions(context.Background(), bankID, accountID, banking.TransactionQuery{Limit: MaxLimit, Offset: offset})
		if err != nil {
			t.Fatalf("transactions %s/%s: %v", bankID, accountID, err)
		}
		out = append(out, page...)
		if len(page) < MaxLimit {
			return out
		}
	}
}

// checkLedger asserts that an account's balance is the sum of its
// transactions and that each BalanceAfter is the running sum, and returns
// the balance.
func (e *env) checkLedger(t testing.TB, bankID, accountID string) string {
	t.Helper()
	acc, err := e.c.Account(context.Background(), bankID, accountID)
	if err != nil {
		t.Fatal(err)
	}
	digits := MinorDigits(acc.Currency)
	txs := e.allTransactions(t, bankID, accountID)
	slices.Reverse(txs) // oldest first
	var sum int64
	for i, tx := range txs {
		v, err := ParseAmount(tx.Amount.Amount, digits)
		if err != nil {
			t.Fatalf("transaction %d amount %q: %v", i, tx.Amount.Amount, err)
		}
		sum += v
		if got := FormatAmount(sum, digits); tx.BalanceAfter.Amount != got {
			t.Fatalf("%s/%s transaction %d: balance after %s, running sum %s", bankID, accountID, i, tx.BalanceAfter.Amount, got)
		}
		if tx.Amount.Currency != acc.Currency || tx.BankID != bankID || tx.AccountID != accountID {
			t.Fatalf("transaction %d does not belong to %s/%s in %s: %+v", i, bankID, accountID, acc.Currency, tx)
		}
	}
	if got := FormatAmount(sum, digits); got != acc.Balance.Amount {
		t.Fatalf("%s/%s: balance %s but transactions sum to %s", bankID, accountID, acc.Balance.Amount, got)
	}
	return acc.Balance.Amount
}

// count returns the number of keys in bucket.
func (e *env) count(t testing.TB, bucket string) int {
	t.Helper()
	n := 0
	err := e.store.Store.View(context.Background(), func(tx engine.Tx) error {
		return tx.Scan(bucket, "", func(string, []byte) error { n++; return nil })
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// invoke prepares method name on c and invokes it with args.
func invoke(t testing.TB, c *Connector, name string, call *engine.Call, args ...any) (any, error) {
	t.Helper()
	inv, err := c.Prepare(&connector.Method{Name: name}, nil)
	if err != nil {
		t.Fatalf("prepare %s: %v", name, err)
	}
	res, err := inv.Invoke(context.Background(), &connector.Request{Method: &connector.Method{Name: name}, Args: args, Call: call})
	if err != nil {
		return nil, err
	}
	if res == nil || res.Reply != nil {
		t.Fatalf("%s: result %+v, want data", name, res)
	}
	return res.Data, nil
}

// jsonish turns Go values into decoded JSON, as a script passes them.
func jsonish(t testing.TB, args []any) []any {
	t.Helper()
	out := make([]any, len(args))
	for i, a := range args {
		raw, err := json.Marshal(a)
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(raw, &out[i]); err != nil {
			t.Fatal(err)
		}
	}
	return out
}

// wantError asserts err is an *engine.Error with status and code and,
// for each pointer, a body violation there.
func wantError(t testing.TB, err error, status int, code string, pointers ...string) *engine.Error {
	t.Helper()
	var e *engine.Error
	if !errors.As(err, &e) {
		t.Fatalf("error %v (%T), want *engine.Error %d %s", err, err, status, code)
	}
	if e.Status != status || e.Code != code {
		t.Fatalf("error %d %s (%s), want %d %s", e.Status, e.Code, e.Message, status, code)
	}
	for _, p := range pointers {
		if !slices.ContainsFunc(e.Violations, func(v engine.Violation) bool { return v.Pointer == p }) {
			t.Fatalf("no violation at %s: %+v", p, e.Violations)
		}
	}
	if len(pointers) > 0 && len(e.Violations) != len(pointers) {
		t.Fatalf("violations %+v, want exactly %v", e.Violations, pointers)
	}
	return e
}

// hasViolation asserts e has a violation at pointer with code.
func hasViolation(t testing.TB, e *engine.Error, location, pointer, code string) {
	t.Helper()
	if !slices.ContainsFunc(e.Violations, func(v engine.Violation) bool {
		return v.Location == location && v.Pointer == pointer && v.Code == code && v.Message != ""
	}) {
		t.Fatalf("no %s violation %s %s: %+v", location, pointer, code, e.Violations)
	}
}

func accountIDs(accs []banking.Account) []string {
	out := []string{}
	for _, a := range accs {
		out = append(out, a.BankID+"/"+a.AccountID)
	}
	return out
}

func pay(to string, amount string) banking.TransactionRequestBody {
	return banking.TransactionRequestBody{To: &banking.AccountRef{BankID: "gh.29.uk", AccountID: to},
		Value: banking.Amount{Currency: "EUR", Amount: amount}, Description: "test"}
}
