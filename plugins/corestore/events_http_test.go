package corestore_test

import (
	"net/http"
	"testing"

	"github.com/dynapi/dynapi/engine/events"
	"github.com/dynapi/dynapi/internal/enginetest"
	"github.com/dynapi/dynapi/internal/eventstest"
	"github.com/dynapi/dynapi/plugins/corestore"
)

// TestPaymentEventsOverHTTP pays over the banking API of the real engine:
// the bank's webhook receives one transaction.created per leg, under the accounts'
// subjects, and none for a payment refused for insufficient funds.
func TestPaymentEventsOverHTTP(t *testing.T) {
	e := enginetest.New(t)
	rec := eventstest.Record(t, e)
	alice, _, _, _ := e.BankWithAccounts(t, "b1")
	before := len(rec.Under(t, "banks/b1/accounts/"))
	r := e.Pay(t, alice, "b1", "alice-1", "bob-1", "250.00", "")
	if r.Status != http.StatusUnprocessableEntity || r.Problem(t).Code != corestore.CodeInsufficientFunds {
		t.Fatalf("overdraft: %d %s", r.Status, r.Body)
	}
	if got := rec.Under(t, "banks/b1/accounts/"); len(got) != before {
		t.Fatalf("a refused payment emitted %+v", got[before:])
	}
	r = e.Pay(t, alice, "b1", "alice-1", "bob-1", "25.00", "k-1")
	if r.Status != http.StatusCreated {
		t.Fatalf("pay: %d %s", r.Status, r.Body)
	}
	ids, _ := r.JSON(t)["transaction_ids"].([]any)
	if all := rec.Under(t, "banks/b1/accounts/"); len(ids) != 2 || len(all) != before+2 {
		t.Fatalf("transactions %v, %d events, want %d", ids, len(all), before+2)
	}
	for i, account := range []string{"alice-1", "bob-1"} {
		id, _ := ids[i].(string)
		got := rec.Under(t, corestore.TransactionSubject("b1", account, id))
		if len(got) != 1 || got[0].Type != events.TypeTransactionCreated || got[0].BankID != "b1" || got[0].ConsumerID != "" {
			t.Errorf("leg %d (%s): %+v", i, id, got)
		}
	}
}
