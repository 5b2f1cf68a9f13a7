package dynapi

import (
	"context"

	"github.com/dynapi/dynapi/engine/access"
	"github.com/dynapi/dynapi/engine/audit"
	"github.com/dynapi/dynapi/engine/banking"
	"github.com/dynapi/dynapi/engine/banks"
	"github.com/dynapi/dynapi/engine/endpoints"
	"github.com/dynapi/dynapi/engine/identity"
	"github.com/dynapi/dynapi/engine/usecase"
	"github.com/dynapi/dynapi/examples"
	"github.com/dynapi/dynapi/plugins/corestore"
)

// exampleKey, under "config", records that the example was preloaded, so
// an administrator who deletes it does not see it come back.
const exampleKey = "example_preloaded"

// DemoBankID is the bank the example data lives at.
const DemoBankID = "demo-bank"

// preloadExample serves the example API and opens the demo bank once per
// data directory, on behalf of the super admin, as one use case in one
// transaction: the document, its roles, grants and audit entry, the demo
// bank with its accounts and payment, and the marker commit together, so
// a start interrupted anywhere finds all of it or none of it (and then
// preloads it).
func preloadExample(ctx context.Context, cases *usecase.Cases, adminName string) error {
	owner, err := cases.Access.Identity.UserByName(ctx, adminName)
	if err != nil {
		return err
	}
	actor := audit.Actor{UserID: owner.ID, CorrelationID: "preload"}
	// The banking core's local store, on the store every use case commits
	// to: the demo data is written in the preload's transaction.
	core := corestore.New(cases.Store, cases.Access.Banks)
	_, err = cases.PreloadDocument(ctx, actor, exampleKey,
		endpoints.CreateInput{Source: examples.BankAccounts, ContentType: "application/yaml"},
		func(tx *access.Tx) error { return demoBank(tx, core, actor, owner) })
	return err
}

// demoBank opens the demo bank in tx, with two accounts held by the super
// admin, and pays once between them, so every banking route has data to
// show.
func demoBank(tx *access.Tx, core *corestore.Connector, actor audit.Actor, owner *identity.User) error {
	if _, err := tx.CreateBank(actor, banks.Bank{ID: DemoBankID, ShortName: "Demo Bank",
		FullName: "Demo Bank (example data)", Website: "https://bank.example.com"}); err != nil {
		return err
	}
	holders := []banking.Owner{{UserID: owner.ID, Username: owner.Username}}
	for _, acc := range []banking.Account{
		{AccountID: "current-1", Label: "Current account", Number: "10000001", ProductCode: "CURRENT", Currency: "EUR",
			Balance: banking.Amount{Currency: "EUR", Amount: "2500.00"}, Owners: holders, AccountRoutings: demoRoutings("10000001", "57")},
		{AccountID: "savings-1", Label: "Savings account", Number: "10000002", ProductCode: "SAVINGS", Currency: "EUR",
			Balance: banking.Amount{Currency: "EUR", Amount: "10000.00"}, Owners: holders, AccountRoutings: demoRoutings("10000002", "30")},
	} {
		if _, err := core.CreateAccountIn(tx, DemoBankID, acc); err != nil {
			return err
		}
	}
	_, _, err := core.CreateTransactionRequestIn(tx, DemoBankID, "current-1", "demo-rent",
		banking.TransactionRequestBody{To: &banking.AccountRef{BankID: DemoBankID, AccountID: "savings-1"},
			Value: banking.Amount{Currency: "EUR", Amount: "150.00"}, Description: "Monthly saving"}, owner.ID)
	return err
}

// demoSortCode is the demo bank's sort code.
const demoSortCode = "404004"

// demoRoutings are the routings of the demo account with number: its
// sort code and account number, and its IBAN (GB, check digits check,
// bank code DEMO), so the open-banking standards can identify it.
func demoRoutings(number, check string) []banking.Routing {
	return []banking.Routing{{Scheme: "SortCodeAccountNumber", Address: demoSortCode + number},
		{Scheme: "IBAN", Address: "GB" + check + "DEMO" + demoSortCode + number}}
}
