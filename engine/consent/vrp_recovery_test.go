package consent

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"

	"github.com/dynapi/dynapi/engine"
	"github.com/dynapi/dynapi/engine/audit"
	"github.com/dynapi/dynapi/internal/authtest"
)

// keyedCore is a banking core that pays each idempotency key once, as the
// real one does, counting the payments it makes.
type keyedCore struct {
	paid map[string]string // key -> transaction request id
}

func (k *keyedCore) Balance(context.Context, *engine.Call, string, string) (Money, error) {
	return Money{Amount: "1000", Currency: "EUR"}, nil
}

func (k *keyedCore) PayableBank(context.Context, *engine.Call, string, string) (string, bool, error) {
	return "bank", true, nil
}

func (k *keyedCore) AccountByRouting(context.Context, *engine.Call, string, string, string) (AccountRef, bool, error) {
	return AccountRef{BankID: "bank", AccountID: "to"}, true, nil
}

func (k *keyedCore) Pay(_ context.Context, _ *engine.Call, t Transfer) (string, error) {
	if id, ok := k.paid[t.Key]; ok {
		return id, nil
	}
	k.paid[t.Key] = fmt.Sprintf("tr-%d", len(k.paid)+1)
	return k.paid[t.Key], nil
}

// TestPendingVRPCompletedByRetry: a VRP left pending by a crash between
// counting it in the ledger and the core paying it is completed by the
// TPP's retry with its idempotency key, paid once and counted once; a
// further retry replays it without paying again.
func TestPendingVRPCompletedByRetry(t *testing.T) {
	ctx := t.Context()
	store := authtest.OpenStore(t, "")
	s := NewService(store, audit.New(store, nil), nil)
	defer s.Close(ctx)
	who := audit.Actor{ConsumerID: "tpp"}
	c := &Consent{Kind: KindDomesticVRP, ProfileID: "p", ConsumerID: "tpp", Request: json.RawMessage(`{}`)}
	if err := s.Create(ctx, c, who); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Authorise(ctx, c.ID, "alice", []string{"from"}, who); err != nil {
		t.Fatal(err)
	}
	var ctl controls
	if err := json.Unmarshal([]byte(`{"MaximumIndividualAmount": {"Amount": "50", "Currency": "EUR"},
		"PeriodicLimits": [{"PeriodType": "Day", "PeriodAlignment": "Calendar", "Amount": "100", "Currency": "EUR"}]}`), &ctl); err != nil {
		t.Fatal(err)
	}
	pay := &Payment{ConsentID: c.ID, ConsumerID: "tpp", Kind: KindDomesticVRP, Status: PaymentPending, BankID: "bank", From: "from",
		To: AccountRef{BankID: "bank", AccountID: "to"}, Value: Money{Amount: "40", Currency: "EUR"}}
	if prior, err := s.reserveVRP(ctx, pay, &ctl, "k1", "h1", who); err != nil || prior != nil {
		t.Fatalf("reserve: %v, %v", prior, err)
	}
	// The engine stops here: the core never heard of the payment.
	core := &keyedCore{paid: map[string]string{}}
	p := &payments{svc: s, core: core, profile: &Profile{Kind: KindDomesticVRP}, bind: Binding{Action: ActionPay}}
	call := &engine.Call{Principal: &engine.Principal{ConsumerID: "tpp", UserID: "alice"}}
	for i := range 2 {
		prior, err := s.replayed(ctx, "tpp", "k1", "h1")
		if err != nil || prior == nil {
			t.Fatalf("retry %d: replayed %v, %v", i, prior, err)
		}
		if _, err := p.replay(ctx, call, prior, "k1"); err != nil {
			t.Fatalf("retry %d: %v", i, err)
		}
	}
	got, err := s.Payment(ctx, pay.ID)
	if err != nil || got.Status != PaymentCompleted || got.TransactionRequestID != "tr-1" || len(core.paid) != 1 {
		t.Fatalf("payment %+v, %v after the retries, core paid %v; want completed once", got, err, core.paid)
	}
	var total string
	err = store.View(ctx, func(tx engine.Tx) error {
		r, err := ledgerTotal(tx, got.Ledger[0])
		total = r.RatString()
		return err
	})
	if err != nil || total != "40" {
		t.Errorf("ledger total %s, %v; want 40, counted once", total, err)
	}
}
