package core

import (
	"context"
	"net/http"

	"github.com/dynapi/dynapi/engine"
	"github.com/dynapi/dynapi/engine/banking"
)

// bgAccountParam is the Berlin Group path parameter naming an account.
const bgAccountParam = "account-id"

// bgAnswers are the Berlin Group account-information operations the core
// answers, by operation id.
var bgAnswers = map[string]answer{
	"getAccountList":        answerBGAccountList,
	"readAccountDetails":    answerBGAccount,
	"getBalances":           answerBGBalances,
	"getTransactionList":    answerBGTransactions,
	"getTransactionDetails": answerBGTransaction,
}

// withBalance reports whether the call asks for balances with accounts.
func (k *call) withBalance() bool { return k.query.Get("withBalance") == "true" }

func answerBGAccountList(ctx context.Context, k *call) (any, error) {
	accounts, err := k.accounts(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]bgAccountDetails, len(accounts))
	for i, acc := range accounts {
		out[i] = k.bgAccountOf(acc, k.withBalance())
	}
	return bgAccountList{Accounts: out}, nil
}

func answerBGAccount(ctx context.Context, k *call) (any, error) {
	acc, err := k.account(ctx, bgAccountParam)
	if err != nil {
		return nil, err
	}
	return bgAccountOne{Account: k.bgAccountOf(acc, k.withBalance())}, nil
}

func answerBGBalances(ctx context.Context, k *call) (any, error) {
	acc, err := k.account(ctx, bgAccountParam)
	if err != nil {
		return nil, err
	}
	return bgBalancesRead{Account: k.bgOwnReference(acc), Balances: k.bgBalancesOf(acc)}, nil
}

// answerBGTransactions answers the booked transactions in the window dateFrom
// to dateTo (inclusive dates); bookingStatus pending or information
// answers none, the core posting only booked ones.
func answerBGTransactions(ctx context.Context, k *call) (any, error) {
	q, err := k.window("dateFrom", "dateTo", true)
	if err != nil {
		return nil, err
	}
	acc, err := k.account(ctx, bgAccountParam)
	if err != nil {
		return nil, err
	}
	report := bgAccountReport{Booked: []bgTransaction{}, Pending: []bgTransaction{},
		Links: bgReportLinks{Account: bgHref{k.bgAccountPath(acc)}}}
	switch k.query.Get("bookingStatus") {
	case "pending", "information":
	case "booked", "both", "all", "":
		txs, err := k.transactions(ctx, acc, q, 0)
		if err != nil {
			return nil, err
		}
		for _, t := range txs {
			report.Booked = append(report.Booked, k.bgTransactionOf(ctx, t))
		}
	default:
		return nil, engine.NewError(http.StatusBadRequest, engine.CodeValidationFailed, "bookingStatus is not one the standard has",
			engine.Violation{Location: "query", Pointer: "/bookingStatus", Code: "enum", Message: "booked, pending, both, information or all"})
	}
	return bgTransactionsRead{Account: k.bgOwnReference(acc), Transactions: report}, nil
}

// bgTransactionDetails is the answer of getTransactionDetails.
type bgTransactionDetails struct {
	TransactionsDetails bgTransaction `json:"transactionsDetails"`
}

// answerBGTransaction answers one booked transaction of the account, by
// its id, searched among the account's newest maxSearched; a 404 when it
// is not among them.
func answerBGTransaction(ctx context.Context, k *call) (any, error) {
	acc, err := k.account(ctx, bgAccountParam)
	if err != nil {
		return nil, err
	}
	id := k.path("transactionId")
	for offset := 0; offset < maxSearched; offset += pageSize {
		txs, err := k.transactions(ctx, acc, banking.TransactionQuery{}, offset)
		if err != nil {
			return nil, err
		}
		for _, t := range txs {
			if t.TransactionID == id {
				return bgTransactionDetails{TransactionsDetails: k.bgTransactionOf(ctx, t)}, nil
			}
		}
		if len(txs) < pageSize {
			break
		}
	}
	return nil, engine.Errorf(http.StatusNotFound, engine.CodeNotFound, "no transaction %q on account %q", id, acc.AccountID)
}
