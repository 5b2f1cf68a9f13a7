package banking

import (
	"time"

	"github.com/dynapi/dynapi/engine/connector"
)

// Examples shown in message docs and answered by the mock connector.
var (
	exampleTime    = time.Date(2026, 1, 15, 9, 30, 0, 0, time.UTC)
	exampleBank    = Bank{BankID: "gh.29.uk", ShortName: "Demo Bank", FullName: "Demo Bank plc", Website: "https://bank.example.com"}
	exampleAccount = Account{AccountID: "8ca8a7e4-6d02-48e3-a029-0b2bf89de9f0", BankID: "gh.29.uk", Label: "Current account",
		Number: "12345678", ProductCode: "CURRENT", Currency: "GBP", Balance: Amount{Currency: "GBP", Amount: "1250.00"},
		Owners:          []Owner{{UserID: "9ca9a7e4-6d02-40e3-a129-0b2bf89de9b1", Username: "felixsmith"}},
		AccountRoutings: []Routing{{Scheme: "SortCodeAccountNumber", Address: "40400412345678"}}, Status: "active", CreatedAt: exampleTime}
	exampleTransaction = Transaction{TransactionID: "1f3c1a4e-27b4-4b0a-9c53-7d0a1f7c2b10", BankID: "gh.29.uk",
		AccountID: exampleAccount.AccountID, Type: "ACCOUNT", Description: "Rent",
		Counterparty: Party{BankID: "gh.29.uk", AccountID: "2f6d2a1c-5b8e-4f0e-8e1d-3c9b7a6f5e42", Name: "Landlord"},
		Amount:       Amount{Currency: "GBP", Amount: "-750.00"}, BalanceAfter: Amount{Currency: "GBP", Amount: "1250.00"},
		Posted: exampleTime, Completed: exampleTime, TransactionRequestID: "6b2f4d1e-8a3c-4e5f-9b7a-1c2d3e4f5a6b"}
	exampleCounterparty = Counterparty{CounterpartyID: "c0ffee00-1234-4abc-8def-0123456789ab", BankID: "gh.29.uk",
		AccountID: exampleAccount.AccountID, Name: "Landlord", Description: "Monthly rent",
		OtherBankID: "gh.29.uk", OtherAccountID: "2f6d2a1c-5b8e-4f0e-8e1d-3c9b7a6f5e42", CreatedAt: exampleTime}
	exampleRequestBody = TransactionRequestBody{To: &AccountRef{BankID: "gh.29.uk", AccountID: "2f6d2a1c-5b8e-4f0e-8e1d-3c9b7a6f5e42"},
		Value: Amount{Currency: "GBP", Amount: "750.00"}, Description: "Rent"}
	exampleTransactionRequest = TransactionRequest{TransactionRequestID: "6b2f4d1e-8a3c-4e5f-9b7a-1c2d3e4f5a6b", Type: "ACCOUNT",
		From:  AccountRef{BankID: "gh.29.uk", AccountID: exampleAccount.AccountID},
		To:    AccountRef{BankID: "gh.29.uk", AccountID: "2f6d2a1c-5b8e-4f0e-8e1d-3c9b7a6f5e42"},
		Value: Amount{Currency: "GBP", Amount: "750.00"}, Description: "Rent", Status: "COMPLETED",
		TransactionIDs: []string{exampleTransaction.TransactionID, "7c3e5f2a-9b4d-4f6a-8c1b-2d3e4f5a6b7c"},
		CreatedBy:      exampleAccount.Owners[0].UserID, Created: exampleTime}
)

// exampleChallenge is the example of sendScaChallenge's arguments.
var exampleChallenge = ScaChallenge{UserID: exampleAccount.Owners[0].UserID, ConsentID: "aac-6b2f4d1e-8a3c-4e5f-9b7a-1c2d3e4f5a6b",
	Channel: "sms", Code: "123456", Text: "123456 is your code to let Example TPP see your accounts. It expires in 5 minutes. Never share it."}

func stringArg(name, description, example string) connector.Arg {
	return connector.Arg{Name: name, Description: description, Schema: map[string]any{"type": "string"}, Example: example}
}

var (
	bankIDArg    = stringArg("bankId", "the bank's id", exampleBank.BankID)
	accountIDArg = stringArg("accountId", "the account's id", exampleAccount.AccountID)
	userIDArg    = stringArg("userId", "the user's id", exampleAccount.Owners[0].UserID)
)

// listOf is the schema of a list of the core document's component name.
func listOf(name string) map[string]any {
	return map[string]any{"type": "array", "items": component(name)}
}

// Methods describes the banking core's connector methods, in the order
// message docs list them.
func Methods() []*connector.Method {
	return []*connector.Method{
		{Name: GetBanks, Description: "Every bank.", Idempotent: true,
			Data: listOf("Bank"), DataExample: []Bank{exampleBank},
			Endpoints: []connector.EndpointRef{{Method: "GET", Path: "/banks"}}},
		{Name: GetBank, Description: "One bank.", Idempotent: true, Args: []connector.Arg{bankIDArg},
			Data: component("Bank"), DataExample: exampleBank,
			Endpoints: []connector.EndpointRef{{Method: "GET", Path: "/banks/{bank_id}"}}},
		{Name: GetAccounts, Description: "The accounts at a bank; only those userId holds when it is not empty.", Idempotent: true,
			Args: []connector.Arg{bankIDArg, stringArg("userId", "the holder whose accounts to list; empty for every account", exampleAccount.Owners[0].UserID)},
			Data: listOf("Account"), DataExample: []Account{exampleAccount},
			Endpoints: []connector.EndpointRef{{Method: "GET", Path: "/banks/{bank_id}/accounts"}}},
		{Name: GetAccount, Description: "One account with its balance.", Idempotent: true,
			Args: []connector.Arg{bankIDArg, accountIDArg}, Data: component("Account"), DataExample: exampleAccount,
			Endpoints: []connector.EndpointRef{{Method: "GET", Path: "/banks/{bank_id}/accounts/{account_id}"}}},
		{Name: CreateBankAccount, Description: "Opens an account; a non-zero opening balance is posted as its first transaction.",
			Args: []connector.Arg{bankIDArg, {Name: "account", Description: "the account to open", Schema: component("Account"), Example: exampleAccount}},
			Data: component("Account"), DataExample: exampleAccount,
			Endpoints: []connector.EndpointRef{{Method: "POST", Path: "/banks/{bank_id}/accounts"}}},
		{Name: GetTransactions, Description: "A page of an account's transactions, newest first.", Idempotent: true,
			Args: []connector.Arg{bankIDArg, accountIDArg, {Name: "query", Description: "date range (from inclusive, to exclusive) and paging",
				Schema: component("TransactionQuery"), Example: TransactionQuery{Limit: 50}}},
			Data: listOf("Transaction"), DataExample: []Transaction{exampleTransaction},
			Endpoints: []connector.EndpointRef{{Method: "GET", Path: "/banks/{bank_id}/accounts/{account_id}/transactions"}}},
		{Name: GetCounterparties, Description: "The payees an account saved.", Idempotent: true,
			Args: []connector.Arg{bankIDArg, accountIDArg}, Data: listOf("Counterparty"), DataExample: []Counterparty{exampleCounterparty},
			Endpoints: []connector.EndpointRef{{Method: "GET", Path: "/banks/{bank_id}/accounts/{account_id}/counterparties"}}},
		{Name: GetCounterparty, Description: "One saved payee.", Idempotent: true,
			Args: []connector.Arg{bankIDArg, accountIDArg, stringArg("counterpartyId", "the payee's id", exampleCounterparty.CounterpartyID)},
			Data: component("Counterparty"), DataExample: exampleCounterparty,
			Endpoints: []connector.EndpointRef{{Method: "GET", Path: "/banks/{bank_id}/accounts/{account_id}/counterparties/{counterparty_id}"}}},
		{Name: CreateCounterparty, Description: "Saves a payee for an account.",
			Args: []connector.Arg{bankIDArg, accountIDArg, {Name: "counterparty", Description: "the payee",
				Schema: component("Counterparty"), Example: exampleCounterparty}},
			Data: component("Counterparty"), DataExample: exampleCounterparty,
			Endpoints: []connector.EndpointRef{{Method: "POST", Path: "/banks/{bank_id}/accounts/{account_id}/counterparties"}}},
		{Name: CreateTransactionRequest, Description: "Pays from an account: checks funds and posts both sides at once; a repeated idempotency key answers the first payment again.",
			Args: []connector.Arg{bankIDArg, accountIDArg,
				stringArg("idempotencyKey", "the client's Idempotency-Key header; empty when not sent", "3b1f0c9e-pay-rent-2026-01"),
				{Name: "body", Description: "the payment order", Schema: component("TransactionRequestBody"), Example: exampleRequestBody}},
			Data: component("TransactionRequest"), DataExample: exampleTransactionRequest,
			Endpoints: []connector.EndpointRef{{Method: "POST", Path: "/banks/{bank_id}/accounts/{account_id}/transaction-requests"}}},
		{Name: GetShareableAccounts, Description: "Every account a user holds, at any bank: what the user may share in an account-access consent.", Idempotent: true,
			Args: []connector.Arg{userIDArg}, Data: listOf("Account"), DataExample: []Account{exampleAccount},
			Endpoints: []connector.EndpointRef{{Method: "GET", Path: "/my/accounts"}}},
		{Name: GetPayableAccounts, Description: "The active accounts a user holds, at any bank: what the user may pay from.", Idempotent: true,
			Args: []connector.Arg{userIDArg}, Data: listOf("Account"), DataExample: []Account{exampleAccount},
			Endpoints: []connector.EndpointRef{{Method: "GET", Path: "/my/payable-accounts"}}},
		{Name: SendScaChallenge, Description: "Sends a customer the one-time code that authorises a consent; by default it is only logged, a bank routes it to its SMS gateway.",
			Args: []connector.Arg{userIDArg, stringArg("consentId", "the consent the code authorises", exampleChallenge.ConsentID),
				stringArg("channel", `how to deliver it: "sms"`, exampleChallenge.Channel),
				stringArg("code", "the one-time code", exampleChallenge.Code),
				stringArg("text", "the message to send, code included", exampleChallenge.Text)},
			Data:        map[string]any{"type": "object", "properties": map[string]any{"delivered": map[string]any{"type": "boolean"}}},
			DataExample: ScaDelivery{Delivered: true}},
	}
}
