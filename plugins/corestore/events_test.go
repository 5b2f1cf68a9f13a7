package corestore

import (
	"context"
	"encoding/json"
	"reflect"
	"testing"

	"github.com/dynapi/dynapi/engine/banking"
	"github.com/dynapi/dynapi/engine/events"
	"github.com/dynapi/dynapi/internal/outboxtest"
)

// TestPostingsEmitEvents: opening an account with a balance and each leg
// of a payment emit transaction.created, in the transaction that posts
// them, with the transaction as getTransactions answers it; a replayed
// payment emits nothing more. (TestPaymentRefused checks that refused
// payments emit nothing.)
func TestPostingsEmitEvents(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	opened := outboxtest.Read(t, f.store)
	// alice-1 (100.00), alice-2 (5): bob-1 and alice-old open at zero.
	if len(opened) != 2 || opened[0].Subject != TransactionSubject("gh.29.uk", "alice-1", f.allTransactions(t, "gh.29.uk", "alice-1")[0].TransactionID) {
		t.Fatalf("opening balances emitted %+v", opened)
	}
	tr, _, err := f.c.CreateTransactionRequest(ctx, "gh.29.uk", "alice-1", "k1", pay("bob-1", "30.5"), "alice")
	if err != nil {
		t.Fatal(err)
	}
	if _, replayed, err := f.c.CreateTransactionRequest(ctx, "gh.29.uk", "alice-1", "k1", pay("bob-1", "30.5"), "alice"); err != nil || !replayed {
		t.Fatalf("replay: %v, replayed %v", err, replayed)
	}
	got := outboxtest.Read(t, f.store)[len(opened):]
	legs := []banking.Transaction{f.allTransactions(t, "gh.29.uk", "alice-1")[0], f.allTransactions(t, "gh.29.uk", "bob-1")[0]}
	if len(got) != len(legs) {
		t.Fatalf("%d events for a payment, want one per leg: %+v", len(got), got)
	}
	for i, ev := range got {
		leg := legs[i]
		if leg.TransactionID != tr.TransactionIDs[i] {
			t.Fatalf("leg %d is %s, want %s", i, leg.TransactionID, tr.TransactionIDs[i])
		}
		var data banking.Transaction
		if err := json.Unmarshal(ev.Data, &data); err != nil {
			t.Fatal(err)
		}
		if ev.Type != events.TypeTransactionCreated || ev.Subject != TransactionSubject("gh.29.uk", leg.AccountID, leg.TransactionID) ||
			ev.Seq != 1 || ev.BankID != "gh.29.uk" || ev.ConsumerID != "" || !ev.OccurredAt.Equal(tr.Created) {
			t.Errorf("leg %d: %+v", i, ev)
		}
		if !reflect.DeepEqual(data, leg) {
			t.Errorf("leg %d data %+v, want %+v", i, data, leg)
		}
	}
}
