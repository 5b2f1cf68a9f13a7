package dynapi

import (
	"context"
	"errors"

	"github.com/dynapi/dynapi/engine"
	"github.com/dynapi/dynapi/engine/access"
	"github.com/dynapi/dynapi/engine/audit"
	"github.com/dynapi/dynapi/engine/banking"
	"github.com/dynapi/dynapi/engine/banks"
	"github.com/dynapi/dynapi/engine/connector"
	"github.com/dynapi/dynapi/engine/endpoints"
	"github.com/dynapi/dynapi/engine/identity"
	"github.com/dynapi/dynapi/engine/usecase"
	"github.com/dynapi/dynapi/examples"
)

// Keys under "config" recording what was preloaded, so an administrator
// who deletes the example does not see it come back.
const (
	exampleKey  = "example_preloaded"
	demoBankKey = "demo_bank_preloaded"
)

// DemoBankID is the bank the example data lives at.
const DemoBankID = "demo-bank"

// preloadExample serves the example API and opens the demo bank once per
// data directory, on behalf of the super admin. The example is one use
// case, one transaction (document, roles, grants, audit entry and marker);
// the demo bank's steps are each idempotent, so a start interrupted
// between them completes them at the next.
func preloadExample(ctx context.Context, cases *usecase.Cases, methods *connector.Dispatcher, adminName string) error {
	owner, err := cases.Access.Identity.UserByName(ctx, adminName)
	if err != nil {
		return err
	}
	actor := audit.Actor{UserID: owner.ID, CorrelationID: "preload"}
	if _, err := cases.PreloadDocument(ctx, actor, exampleKey,
		endpoints.CreateInput{Source: examples.BankAccounts, ContentType: "application/yaml"}); err != nil {
		return err
	}
	return once(ctx, cases.Store, demoBankKey, func() error { return demoBank(ctx, cases.Access, methods, owner) })
}

// once runs fn unless key is set, then sets it.
func once(ctx context.Context, store engine.Store, key string, fn func() error) error {
	var done bool
	if err := store.View(ctx, func(tx engine.Tx) error {
		_, err := tx.Get("config", key)
		done = err == nil
		if errors.Is(err, engine.ErrNotFound) {
			return nil
		}
		return err
	}); err != nil || done {
		return err
	}
	if err := fn(); err != nil {
		return err
	}
	return store.Update(ctx, func(tx engine.Tx) error { return tx.Put("config", key, []byte("1")) })
}

// demoBank opens the demo bank with two accounts held by the super admin
// and pays once between them, so every banking route has data to show.
// Each step finds what an earlier, interrupted run did: the bank and the
// accounts exist already, and the payment's idempotency key replays it.
func demoBank(ctx context.Context, svc *access.Service, methods *connector.Dispatcher, owner *identity.User) error {
	actor := audit.Actor{UserID: owner.ID, CorrelationID: "preload"}
	if _, err := svc.CreateBank(ctx, actor, banks.Bank{ID: DemoBankID, ShortName: "Demo Bank",
		FullName: "Demo Bank (example data)", Website: "https://bank.example.com"}); !tolerated(err, banks.CodeBankExists) {
		return err
	}
	call := &engine.Call{CorrelationID: "preload", Principal: &engine.Principal{UserID: owner.ID, Username: owner.Username}}
	holders := []banking.Owner{{UserID: owner.ID, Username: owner.Username}}
	for _, acc := range []banking.Account{
		{AccountID: "current-1", Label: "Current account", Number: "10000001", ProductCode: "CURRENT", Currency: "EUR",
			Balance: banking.Amount{Currency: "EUR", Amount: "2500.00"}, Owners: holders},
		{AccountID: "savings-1", Label: "Savings account", Number: "10000002", ProductCode: "SAVINGS", Currency: "EUR",
			Balance: banking.Amount{Currency: "EUR", Amount: "10000.00"}, Owners: holders},
	} {
		if _, err := methods.Call(ctx, call, banking.CreateBankAccount, DemoBankID, DemoBankID, acc); !tolerated(err, engine.CodeConflict) {
			return err
		}
	}
	_, err := methods.Call(ctx, call, banking.CreateTransactionRequest, DemoBankID, DemoBankID, "current-1", "demo-rent",
		banking.TransactionRequestBody{To: &banking.AccountRef{BankID: DemoBankID, AccountID: "savings-1"},
			Value: banking.Amount{Currency: "EUR", Amount: "150.00"}, Description: "Monthly saving"})
	return err
}

// tolerated tells whether err is nil or an *engine.Error with code: a step
// that succeeded, or found its work done.
func tolerated(err error, code string) bool {
	var e *engine.Error
	return err == nil || errors.As(err, &e) && e.Code == code
}
