// Package banking is the built-in banking core: the data every connector
// method of the core exchanges (banks, accounts, transactions,
// counterparties, transaction requests), the methods' message docs and the
// static routes that call them. Where the data comes from is the routed
// connector's business: mapped (the local store) by default.
package banking

import "time"

// Connector method names of the banking core.
const (
	GetBanks                 = "getBanks"
	GetBank                  = "getBank"
	GetAccounts              = "getAccounts"
	GetAccount               = "getAccount"
	CreateBankAccount        = "createBankAccount"
	GetTransactions          = "getTransactions"
	GetCounterparties        = "getCounterparties"
	GetCounterparty          = "getCounterparty"
	CreateCounterparty       = "createCounterparty"
	CreateTransactionRequest = "createTransactionRequest"
	GetShareableAccounts     = "getShareableAccounts"
	GetPayableAccounts       = "getPayableAccounts"
	SendScaChallenge         = "sendScaChallenge"
)

// ScaChallenge is what sendScaChallenge delivers: a one-time code a
// customer enters to authorise a consent.
type ScaChallenge struct {
	UserID    string `json:"user_id"`
	ConsentID string `json:"consent_id"`
	// Channel is how to deliver it: "sms".
	Channel string `json:"channel"`
	Code    string `json:"code"`
	// Text is the message to send, code included.
	Text string `json:"text"`
}

// ScaDelivery is the answer of sendScaChallenge.
type ScaDelivery struct {
	Delivered bool `json:"delivered"`
}

// Amount is a sum of money: an ISO 4217 currency and a decimal string with
// at most the currency's minor digits ("10.50"); negative for debits.
type Amount struct {
	Currency string `json:"currency"`
	Amount   string `json:"amount"`
}

// Routing is a scheme and address identifying a bank or account
// (BIC, IBAN, sort code and account number, ...).
type Routing struct {
	Scheme  string `json:"scheme"`
	Address string `json:"address"`
}

// Bank is one bank.
type Bank struct {
	BankID       string    `json:"bank_id"`
	ShortName    string    `json:"short_name"`
	FullName     string    `json:"full_name"`
	Logo         string    `json:"logo,omitempty"`
	Website      string    `json:"website,omitempty"`
	BankRoutings []Routing `json:"bank_routings,omitempty"`
}

// Owner is a user who holds an account.
type Owner struct {
	UserID   string `json:"user_id"`
	Username string `json:"username,omitempty"`
}

// Account is a bank account with its balance.
type Account struct {
	AccountID       string    `json:"account_id"`
	BankID          string    `json:"bank_id"`
	Label           string    `json:"label,omitempty"`
	Number          string    `json:"number,omitempty"`
	ProductCode     string    `json:"product_code,omitempty"`
	Currency        string    `json:"currency"`
	Balance         Amount    `json:"balance"`
	Owners          []Owner   `json:"owners"`
	AccountRoutings []Routing `json:"account_routings,omitempty"`
	// Status is "active" or "closed"; only active accounts pay and are paid.
	Status    string    `json:"status"`
	CreatedAt time.Time `json:"created_at"`
}

// AccountRef points at an account.
type AccountRef struct {
	BankID    string `json:"bank_id"`
	AccountID string `json:"account_id"`
}

// Party is the other side of a transaction.
type Party struct {
	BankID         string `json:"bank_id,omitempty"`
	AccountID      string `json:"account_id,omitempty"`
	CounterpartyID string `json:"counterparty_id,omitempty"`
	Name           string `json:"name,omitempty"`
}

// Transaction is one posted entry on an account. A payment between two
// accounts is two transactions (double entry): a debit on the payer and a
// credit on the payee, written together.
type Transaction struct {
	TransactionID        string    `json:"transaction_id"`
	BankID               string    `json:"bank_id"`
	AccountID            string    `json:"account_id"`
	Type                 string    `json:"type"`
	Description          string    `json:"description,omitempty"`
	Counterparty         Party     `json:"counterparty"`
	Amount               Amount    `json:"amount"`
	BalanceAfter         Amount    `json:"balance_after"`
	Posted               time.Time `json:"posted"`
	Completed            time.Time `json:"completed"`
	TransactionRequestID string    `json:"transaction_request_id,omitempty"`
}

// TransactionQuery selects a page of an account's transactions, newest
// first: completed in [FromDate, ToDate) when set, skipping Offset and
// returning at most Limit.
type TransactionQuery struct {
	FromDate *time.Time `json:"from_date,omitempty"`
	ToDate   *time.Time `json:"to_date,omitempty"`
	Limit    int        `json:"limit"`
	Offset   int        `json:"offset"`
}

// Counterparty is a payee an account holder saved.
type Counterparty struct {
	CounterpartyID string `json:"counterparty_id"`
	BankID         string `json:"bank_id"`    // the bank of the account that saved it
	AccountID      string `json:"account_id"` // the account that saved it
	Name           string `json:"name"`
	Description    string `json:"description,omitempty"`
	// The payee's account, when it is held at a bank of this server.
	OtherBankID    string    `json:"other_bank_id,omitempty"`
	OtherAccountID string    `json:"other_account_id,omitempty"`
	OtherRoutings  []Routing `json:"other_account_routings,omitempty"`
	CreatedAt      time.Time `json:"created_at"`
}

// TransactionRequestBody is what a payer submits.
type TransactionRequestBody struct {
	// To is the payee's account; or CounterpartyID names a saved payee.
	To             *AccountRef `json:"to,omitempty"`
	CounterpartyID string      `json:"counterparty_id,omitempty"`
	Value          Amount      `json:"value"`
	Description    string      `json:"description,omitempty"`
}

// TransactionRequest is a payment order and its outcome.
type TransactionRequest struct {
	TransactionRequestID string     `json:"transaction_request_id"`
	Type                 string     `json:"type"`
	From                 AccountRef `json:"from"`
	To                   AccountRef `json:"to"`
	Value                Amount     `json:"value"`
	Description          string     `json:"description,omitempty"`
	// Status is "COMPLETED" once both sides are posted.
	Status         string    `json:"status"`
	TransactionIDs []string  `json:"transaction_ids"`
	CreatedBy      string    `json:"created_by_user_id,omitempty"`
	Created        time.Time `json:"created"`
}
