package consent

import (
	"context"

	"github.com/dynapi/dynapi/engine"
)

// Core is the banking core as payments and funds confirmations made under
// a consent reach it: through the connector dispatcher, so a bank's
// routings of the core's methods (getAccount, getAccounts,
// getPayableAccounts, createTransactionRequest) apply. engine/banking
// implements it.
type Core interface {
	// Balance is the balance of account accountID at bankID (getAccount).
	Balance(ctx context.Context, call *engine.Call, bankID, accountID string) (Money, error)
	// PayableBank is the bank of account accountID among the accounts the
	// customer userID may pay from (getPayableAccounts); ok false when it
	// is not one of them.
	PayableBank(ctx context.Context, call *engine.Call, userID, accountID string) (bankID string, ok bool, err error)
	// AccountByRouting is the account of this server whose routing is
	// scheme and address (getBanks, getAccounts), looked for at bankID
	// first; ok false when no bank holds one.
	AccountByRouting(ctx context.Context, call *engine.Call, bankID, scheme, address string) (to AccountRef, ok bool, err error)
	// Pay pays t (createTransactionRequest): funds are checked by the
	// core, both sides posted at once, and a repeated t.Key answers the
	// first payment again. It returns the transaction request's id.
	Pay(ctx context.Context, call *engine.Call, t Transfer) (string, error)
}

// Money is an amount in a currency: a decimal string ("10.50") and an
// ISO 4217 code.
type Money struct {
	Amount   string
	Currency string
}

// AccountRef is an account of a bank.
type AccountRef struct {
	BankID    string `json:"bank_id"`
	AccountID string `json:"account_id"`
}

// Transfer is a payment from account From of bank BankID to account To.
type Transfer struct {
	BankID, From string
	To           AccountRef
	// Key is the core's idempotency key of the payment.
	Key         string
	Value       Money
	Description string
}
