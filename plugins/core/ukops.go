package core

import (
	"context"
	"net/http"

	"github.com/dynapi/dynapi/engine"
	"github.com/dynapi/dynapi/engine/banking"
)

// ukAccountParam is the UK path parameter naming an account.
const ukAccountParam = "AccountId"

// ukAnswers are the UK account-information operations the core answers,
// by operation id (the same in v3.1.7 and v4.0). A bulk operation
// (/balances, /transactions, /beneficiaries) answers for every account
// the call may show; one under /accounts/{AccountId} for that account.
var ukAnswers = map[string]answer{
	"GetAccounts":                       ukAccountsAnswer(false),
	"GetAccountsAccountId":              ukAccountsAnswer(true),
	"GetBalances":                       ukBalancesAnswer(false),
	"GetAccountsAccountIdBalances":      ukBalancesAnswer(true),
	"GetTransactions":                   ukTransactionsAnswer(false),
	"GetAccountsAccountIdTransactions":  ukTransactionsAnswer(true),
	"GetBeneficiaries":                  ukBeneficiariesAnswer(false),
	"GetAccountsAccountIdBeneficiaries": ukBeneficiariesAnswer(true),
}

// chosen are the accounts an operation answers for: the one in the path
// when one is true, else every account the call may show.
func (k *call) chosen(ctx context.Context, one bool) ([]banking.Account, error) {
	if !one {
		return k.accounts(ctx)
	}
	acc, err := k.account(ctx, ukAccountParam)
	if err != nil {
		return nil, err
	}
	return []banking.Account{acc}, nil
}

func ukAccountsAnswer(one bool) answer {
	return func(ctx context.Context, k *call) (any, error) {
		accounts, err := k.chosen(ctx, one)
		if err != nil {
			return nil, err
		}
		out := make([]ukAccount, len(accounts))
		for i, acc := range accounts {
			out[i] = k.ukAccountOf(acc)
		}
		return ukReadOf(k, ukAccounts{Account: out}), nil
	}
}

func ukBalancesAnswer(one bool) answer {
	return func(ctx context.Context, k *call) (any, error) {
		accounts, err := k.chosen(ctx, one)
		if err != nil {
			return nil, err
		}
		if len(accounts) == 0 {
			// The standard's answer lists one balance at least.
			return nil, engine.Errorf(http.StatusNotFound, engine.CodeNotFound, "you have no account to show balances of")
		}
		at := ukTime(k.c.now())
		out := make([]ukBalance, 0, len(accounts)*len(k.uk.BalanceTypes))
		for _, acc := range accounts {
			out = append(out, k.ukBalancesOf(acc, at)...)
		}
		return ukReadOf(k, ukBalances{Balance: out}), nil
	}
}

func ukTransactionsAnswer(one bool) answer {
	return func(ctx context.Context, k *call) (any, error) {
		q, err := k.window("fromBookingDateTime", "toBookingDateTime", false)
		if err != nil {
			return nil, err
		}
		accounts, err := k.chosen(ctx, one)
		if err != nil {
			return nil, err
		}
		out := []ukTransaction{}
		for _, acc := range accounts {
			txs, err := k.transactions(ctx, acc, q, 0)
			if err != nil {
				return nil, err
			}
			for _, t := range txs {
				out = append(out, k.ukTransactionOf(ctx, t))
			}
		}
		return ukReadOf(k, ukTransactions{Transaction: out}), nil
	}
}

func ukBeneficiariesAnswer(one bool) answer {
	return func(ctx context.Context, k *call) (any, error) {
		accounts, err := k.chosen(ctx, one)
		if err != nil {
			return nil, err
		}
		out := []ukBeneficiary{}
		for _, acc := range accounts {
			payees, err := k.counterparties(ctx, acc)
			if err != nil {
				return nil, err
			}
			for _, c := range payees {
				out = append(out, k.ukBeneficiaryOf(ctx, c))
			}
		}
		return ukReadOf(k, ukBeneficiaries{Beneficiary: out}), nil
	}
}
